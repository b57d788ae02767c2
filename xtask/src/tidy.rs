//! Repository checks that run as tests (rust-analyzer's "tidy"): documentation on every
//! crate and module, workspace conventions, no stubs, formatting, and the README's promises.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target" && n != "node_modules") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask"), &mut files);
    files
}

#[test]
fn every_source_file_starts_with_a_doc_comment() {
    let missing: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! doc comment: {missing:#?}");
}

#[test]
fn no_stubs_or_ignored_tests() {
    let banned = [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("#[", "ignore"),
        concat!("dbg", "!("),
    ];
    let mut hits = Vec::new();
    for p in all_rust_files() {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if banned.iter().any(|b| line.contains(b)) {
                hits.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(hits.is_empty(), "stubs in the tree: {hits:#?}");
}

#[test]
fn crates_follow_the_workspace_conventions() {
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).into_iter().flatten().flatten() {
        let dir = entry.path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if !manifest.contains(&format!("name = \"{folder}\"")) {
            problems.push(format!("{folder}: the package name must equal the folder name"));
        }
        for needle in [
            "version.workspace = true",
            "[lints]\nworkspace = true",
            "description = ",
        ] {
            if !manifest.contains(needle) {
                problems.push(format!("{folder}: Cargo.toml lacks `{needle}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn formatting_is_clean() {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["fmt", "--all", "--", "--check"])
        .current_dir(root())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("cannot run cargo fmt: {e}"),
    };
    assert!(
        out.status.success(),
        "cargo fmt --check:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn readme_gives_the_two_commands_and_ci_runs_the_suite() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_default();
    assert!(
        readme.contains("cargo run --release -- demo"),
        "README lacks the demo command"
    );
    assert!(readme.contains("cargo xtask test"), "README lacks the test command");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap_or_default();
    assert!(
        ci.contains("cargo xtask test"),
        ".ci/run must call the README's test command"
    );
    for doc in ["ARCHITECTURE.md", "BENCHMARKS.md"] {
        assert!(root().join(doc).exists(), "{doc} is missing");
    }
}
