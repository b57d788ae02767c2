//! The web application in a real browser: runs `tests/browser/e2e.mjs` (playwright-core
//! driving Debian's headless Chromium) against a fresh demo instance. `cargo xtask test`
//! installs Chromium and the npm packages when they are missing. Screenshots of the main
//! pages are saved in `target/screenshots/` (ignored by git).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::TestServer;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_operations_scenario_runs_in_a_real_browser() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tests = root.join("tests/browser");
    assert!(
        tests.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed in tests/browser: run `cargo xtask test` (it runs npm ci there)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: run `cargo xtask test` (it installs Debian's chromium)"
    );
    // A raster tile server for the map's background, served by the browser script on a port
    // reserved here.
    let tile_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tile_url = format!("http://127.0.0.1:{tile_port}/{{z}}/{{x}}/{{y}}.png");
    let server = TestServer::start_with(&[("JSMS_TILE_URL", &tile_url)]);
    let logins: Vec<serde_json::Value> = server
        .logins
        .iter()
        .map(|l| serde_json::json!({"username": l.username, "password": l.password, "totp_secret": l.totp_secret}))
        .collect();
    let file = server.dir.path().join("logins.json");
    std::fs::write(&file, serde_json::to_vec(&logins).unwrap()).unwrap();
    let shots = root.join("target/screenshots");
    let out = Command::new("node")
        .arg(tests.join("e2e.mjs"))
        .current_dir(&tests)
        .env("JSMS_URL", &server.url)
        .env("JSMS_LOGINS", &file)
        .env("JSMS_SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .env("JSMS_TILE_PORT", tile_port.to_string())
        .output()
        .expect("node (Node.js) is needed for the browser tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser scenario failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log (tail)\n{}",
        std::fs::read_to_string(server.log_path())
            .unwrap_or_default()
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(stdout.contains("browser scenario passed"), "{stdout}");
    for shot in [
        "04-planning-alternatives",
        "09-operations-alert",
        "12-incident",
        "13-decision-in-force",
        "17-totp-enrolment",
    ] {
        assert!(shots.join(format!("{shot}.png")).exists(), "screenshot {shot} saved");
    }
}
