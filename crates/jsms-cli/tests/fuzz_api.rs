//! Fuzzing the API with schemathesis against our own OpenAPI document, as a signed-in host
//! coordinator: no generated request, however malformed, may get a 5xx. `cargo xtask test`
//! installs schemathesis (PyPI) when it is missing. Every answer must also match the
//! document: its schema, a documented status code and content type. `SCHEMATHESIS_CHECKS`
//! and `SCHEMATHESIS_EXAMPLES` (default 15) widen a run by hand, e.g.
//! `SCHEMATHESIS_CHECKS=all` (which also reports the schema-valid requests the server
//! still rejects: the document is looser than the server in places).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::TestServer;
use std::process::Command;

#[tokio::test]
async fn no_generated_request_gets_a_server_error() {
    let schemathesis = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let version = Command::new(&schemathesis).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "schemathesis is not installed: run `cargo xtask test` (it installs it) or `pip install schemathesis`"
    );
    let server = TestServer::start();
    let login = server.login("hn.coordinator").clone();
    let signed = server
        .client()
        .post(
            "/api/v1/auth/sign-in",
            serde_json::json!({"username": login.username, "password": login.password,
                               "totp_code": server.next_code("hn.coordinator")}),
        )
        .await;
    assert_eq!(signed.status, 200, "{signed:?}");
    let cookie = signed.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = signed.body["csrf_token"].as_str().unwrap().to_owned();
    let out = Command::new(&schemathesis)
        .args(["run", &format!("{}/api/v1/openapi.json", server.url)])
        .args([
            "-H",
            &format!("Cookie: {cookie}"),
            "-H",
            &format!("X-CSRF-Token: {csrf}"),
        ])
        .args([
            "--checks",
            &std::env::var("SCHEMATHESIS_CHECKS").unwrap_or_else(|_| {
                "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance".into()
            }),
            "--max-examples",
            &std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "15".into()),
            "--seed",
            "20261129",
        ])
        .args([
            "--exclude-path",
            "/api/v1/auth/sign-out",
            "--exclude-path",
            "/api/v1/auth/password",
            // An event stream never ends by design; tests/tracking.rs covers it.
            "--exclude-path",
            "/api/v1/alerts/stream",
            "--exclude-path",
            "/api/v1/tracking/stream",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("passed"), "{text}");
}
