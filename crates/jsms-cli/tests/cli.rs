//! The `jsms` command line: help, init, user management, configuration, exit codes, the demo
//! and TLS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::run_cli;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn init(dir: &Path) -> (i32, String, String) {
    run_cli(&[
        "init",
        "--data-dir",
        dir.to_str().unwrap(),
        "--party",
        "HN:host:Host Nation",
        "--party",
        "PN:partner:Partner Nation",
    ])
}

/// The password printed for `username` by `init` or `user add`.
fn printed_password(out: &str, username: &str) -> String {
    out.lines()
        .find_map(|l| {
            let mut words = l.split_whitespace().skip_while(|w| *w != username);
            words.next().and_then(|_| words.next()).map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no password for {username} in {out}"))
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["serve", "--help"],
        vec!["init", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "enable", "--help"],
        vec!["user", "reset-mfa", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["audit", "key", "--help"],
        vec!["audit", "who-knew", "--help"],
        vec!["witness", "keygen", "--help"],
        vec!["witness", "serve", "--help"],
        vec!["witness", "pull", "--help"],
        vec!["map", "import", "--help"],
        vec!["route", "--help"],
    ] {
        let (code, out, err) = run_cli(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
    let (code, _, err) = run_cli(&["frobnicate"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn init_creates_an_instance_once_with_valid_parties() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let (code, out, err) = init(&dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("hn.admin") && out.contains("pn.admin"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("keys")), 0o700);
        assert_eq!(mode(&dir.join("keys/pii.key")), 0o600);
        assert_eq!(mode(&dir.join("keys/audit.key")), 0o600);
    }
    assert!(
        out.contains("Attach the other party's witness") && out.contains("[[witnesses]]"),
        "init explains how to attach a witness: {out}"
    );
    // Not twice into the same directory.
    let (code, _, err) = init(&dir);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("already holds an instance"), "{err}");

    let other = tmp.path().join("other");
    let d = other.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["init", "--data-dir", d, "--party", "HN:host:Host"],
            "at least two parties",
        ),
        (
            vec!["init", "--data-dir", d, "--party", "HN:host:A", "--party", "PN:host:B"],
            "exactly one party must be the host",
        ),
        (
            vec![
                "init",
                "--data-dir",
                d,
                "--party",
                "HN:host:A",
                "--party",
                "HN:partner:B",
            ],
            "distinct",
        ),
        (
            vec![
                "init",
                "--data-dir",
                d,
                "--party",
                "HN:host:A",
                "--party",
                "pn:partner:B",
            ],
            "upper-case",
        ),
        (
            vec![
                "init",
                "--data-dir",
                d,
                "--party",
                "HN-host-A",
                "--party",
                "PN:partner:B",
            ],
            "CODE:KIND:NAME",
        ),
        (
            vec![
                "init",
                "--data-dir",
                d,
                "--party",
                "HN:ally:A",
                "--party",
                "PN:partner:B",
            ],
            "host or partner",
        ),
    ] {
        let (code, _, err) = run_cli(&args);
        assert_eq!(code, 3, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!other.join("jsms.db").exists(), "nothing was created for {args:?}");
    }
}

#[test]
fn users_are_managed_from_the_command_line_with_stable_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    assert_eq!(init(&dir).0, 0);
    let d = dir.to_str().unwrap();
    let org = "Partner Nation — JSMS administration";
    let (code, out, err) = run_cli(&[
        "user",
        "add",
        "--data-dir",
        d,
        "--username",
        "pn.liaison",
        "--display-name",
        "Liaison",
        "--org",
        org,
        "--role",
        "liaison_officer",
        "--clearance",
        "confidential",
        "--compartment",
        "karachi-ops",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Initial password: "), "{out}");
    let (code, out, _) = run_cli(&["user", "list", "--data-dir", d, "--party", "PN"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("pn.liaison") && out.contains("liaison_officer") && !out.contains("hn.admin"),
        "{out}"
    );

    // Mistakes: usage (2), configuration (3), unknown objects (4); nothing is created.
    let add = |username: &str, org: &str, role: &str| {
        run_cli(&[
            "user",
            "add",
            "--data-dir",
            d,
            "--username",
            username,
            "--display-name",
            "X",
            "--org",
            org,
            "--role",
            role,
        ])
    };
    assert_eq!(add("pn.x", "No Such Org", "auditor").0, 4);
    assert_eq!(add("pn.x", org, "emperor").0, 3);
    assert_eq!(
        add("pn.x", org, "movement_coordinator").0,
        3,
        "a host-only role in the partner party"
    );
    assert_eq!(add("Bad Name", org, "auditor").0, 3);
    assert_eq!(add("pn.liaison", org, "auditor").0, 1, "a taken username");
    assert_eq!(run_cli(&["user", "add", "--data-dir", d]).0, 2);
    assert_eq!(run_cli(&["user", "disable", "--data-dir", d, "nobody"]).0, 4);
    assert_eq!(run_cli(&["user", "list", "--data-dir", d, "--party", "XX"]).0, 4);
    let (_, out, _) = run_cli(&["user", "list", "--data-dir", d]);
    assert!(!out.contains("pn.x"), "{out}");

    assert_eq!(run_cli(&["user", "disable", "--data-dir", d, "pn.liaison"]).0, 0);
    let (_, out, _) = run_cli(&["user", "list", "--data-dir", d]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("pn.liaison") && l.contains("disabled")),
        "{out}"
    );
    assert_eq!(run_cli(&["user", "enable", "--data-dir", d, "pn.liaison"]).0, 0);
    assert_eq!(run_cli(&["user", "reset-mfa", "--data-dir", d, "pn.liaison"]).0, 0);
    let (code, out, _) = run_cli(&["user", "reset-password", "--data-dir", d, "pn.liaison"]);
    assert_eq!(code, 0);
    assert!(out.contains("New password for pn.liaison: "), "{out}");
    assert_eq!(run_cli(&["user", "reset-password", "--data-dir", d, "nobody"]).0, 4);

    // Instance problems are configuration errors (3) with a hint.
    let (code, _, err) = run_cli(&[
        "user",
        "list",
        "--data-dir",
        tmp.path().join("missing").to_str().unwrap(),
    ]);
    assert_eq!(code, 3);
    assert!(err.contains("jsms init"), "{err}");
    let (code, _, err) = run_cli(&["user", "list"]);
    assert_eq!(code, 3, "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.join("keys/pii.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (code, _, err) = run_cli(&["user", "list", "--data-dir", d]);
        assert_eq!(code, 3);
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // A wrong key is caught at open, before any data is read.
    let out = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args(["user", "list", "--data-dir", d])
        .env("JSMS_PII_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match"));
}

#[test]
fn configuration_comes_from_file_then_environment_then_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    assert_eq!(init(&dir).0, 0);
    let cfg = tmp.path().join("jsms.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = {:?}\n[sessions]\nidle_timeout_secs = 600\n", dir),
    )
    .unwrap();
    let (code, out, err) = run_cli(&["user", "list", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("hn.admin"));
    // The environment overrides the file; a flag overrides both.
    let out = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args(["user", "list", "--config", cfg.to_str().unwrap()])
        .env("JSMS_DATA_DIR", tmp.path().join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args([
            "user",
            "list",
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .env("JSMS_DATA_DIR", tmp.path().join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Bad files and values are configuration errors naming the problem.
    std::fs::write(&cfg, "data_dir = 3\n").unwrap();
    let (code, _, err) = run_cli(&["user", "list", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("data_dir"), "{err}");
    std::fs::write(&cfg, format!("data_dir = {dir:?}\nport = 80\n")).unwrap();
    let (code, _, err) = run_cli(&["user", "list", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("port"), "{err}");
    std::fs::write(&cfg, format!("data_dir = {dir:?}\n[sessions]\nidle_timeout_secs = 0\n")).unwrap();
    let (code, _, err) = run_cli(&["serve", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
}

/// Reads lines from the child's stdout until `pred` matches one.
fn read_until(reader: &mut impl BufRead, pred: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "output ended: {lines:?}");
        let done = pred(&line);
        lines.push(line);
        if done {
            return lines;
        }
    }
}

#[tokio::test]
async fn the_demo_serves_signs_in_and_stops_cleanly_twice() {
    for _ in 0..2 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jsms"))
            .args(["demo", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let lines = read_until(&mut out, |l| l.contains("Ctrl-C"));
        let text = lines.concat();
        let url = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("URL:"))
            .unwrap()
            .trim()
            .to_owned();
        let data = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Data:"))
            .unwrap()
            .trim()
            .split(" (")
            .next()
            .unwrap()
            .to_owned();
        for role in [
            "movement_coordinator",
            "escort_commander",
            "liaison_officer",
            "company_security_officer",
            "intelligence_analyst",
            "auditor",
            "party_admin",
        ] {
            assert!(text.contains(role), "{role} missing from {text}");
        }
        let line = text.lines().find(|l| l.contains("hn.coordinator")).unwrap();
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (password, secret) = (cols[2], cols[3]);
        let secret = jsms_identity::totp::TotpSecret::from_base32(secret).unwrap();
        let code = jsms_identity::totp::code_at(&secret, common::now());
        let client = reqwest::Client::new();
        let r = client
            .post(format!("{url}/api/v1/auth/sign-in"))
            .json(&json!({"username": "hn.coordinator", "password": password, "totp_code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(Path::new(&data).exists());

        assert!(
            Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        assert!(
            !Path::new(&data).exists(),
            "the temporary data directory is removed at exit"
        );
    }
}

#[test]
fn serve_speaks_tls_with_secure_cookies_when_a_certificate_is_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let (code, init_out, _) = init(&dir);
    assert_eq!(code, 0);
    let password = printed_password(&init_out, "hn.admin");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(tmp.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(tmp.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
        .env("JSMS_TLS_CERT", tmp.path().join("cert.pem"))
        .env("JSMS_TLS_KEY", tmp.path().join("key.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let line = read_until(&mut out, |l| l.contains("serving on")).concat();
    let url = line.trim().strip_prefix("JSMS is serving on ").unwrap().to_owned();
    assert!(url.starts_with("https://"), "{url}");
    let addr = url.strip_prefix("https://").unwrap().to_owned();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let https = |request: String| -> String {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut conn = rustls::ClientConnection::new(std::sync::Arc::new(config.clone()), name).unwrap();
        let mut sock = std::net::TcpStream::connect(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        tls.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        let _ = tls.read_to_string(&mut response);
        response
    };
    let health = https(format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    ));
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000; includesubdomains"),
        "{health}"
    );
    let body = json!({"username": "hn.admin", "password": password}).to_string();
    let signin = https(format!(
        "POST /api/v1/auth/sign-in HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(signin.starts_with("HTTP/1.1 200"), "{signin}");
    let cookie = signin
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap();
    assert!(
        cookie.contains("__Host-jsms_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = std::net::TcpStream::connect(&addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_policy_that_does_not_validate_stops_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    assert_eq!(init(&dir).0, 0);
    let policies = tmp.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(policies.join("jsms.cedarschema"), jsms_authz::SCHEMA).unwrap();
    std::fs::write(
        policies.join("extra.cedar"),
        format!("{}\n@id(\"typo\")\npermit (principal, action == Jsms::Action::\"ReadSites\", resource) when {{ principal.rank > 2 }};\n", jsms_authz::POLICIES),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
        .env("JSMS_POLICY_DIR", &policies)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("do not validate") && err.contains("rank"), "{err}");
    // The shipped policies, copied as they are, are accepted.
    std::fs::write(policies.join("extra.cedar"), jsms_authz::POLICIES).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
        .env("JSMS_POLICY_DIR", &policies)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    assert!(
        read_until(&mut out, |l| l.contains("serving on"))
            .concat()
            .contains("http://")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn map_import_and_route_with_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    assert_eq!(init(&dir).0, 0);
    let d = dir.to_str().unwrap();
    let extract = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/osm").join(name);
    let (code, out, err) = run_cli(&[
        "map",
        "import",
        extract("monaco.osm.pbf").to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("graph:") && out.contains("strongly connected components"),
        "{out}"
    );
    assert!(err.contains("100%"), "a progress bar: {err}");
    let (code, out, err) = run_cli(&[
        "route",
        "--data-dir",
        d,
        "--from",
        "43.7310,7.4150",
        "--to",
        "43.7460,7.4320",
    ]);
    assert_eq!(code, 0, "{err}");
    let routes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(routes["type"], "FeatureCollection");
    let feature = &routes["features"][0];
    assert_eq!(feature["geometry"]["type"], "LineString");
    assert_eq!(feature["properties"]["profile"], "balanced");
    assert!(feature["properties"]["duration_s"].as_f64().unwrap() > 30.0);
    assert!(
        feature["properties"]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["road"] != "")
    );
    assert!(
        dir.join("map/graph.order").is_file(),
        "the hierarchy order is stored with the map"
    );
    // Profiles, alternatives and the departure time.
    let (code, out, err) = run_cli(&[
        "route",
        "--data-dir",
        d,
        "--from",
        "43.7310,7.4150",
        "--to",
        "43.7460,7.4320",
        "--profile",
        "safest",
        "--alternatives",
        "3",
        "--depart-at",
        "2026-12-01T08:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    let routes: serde_json::Value = serde_json::from_str(&out).unwrap();
    let features = routes["features"].as_array().unwrap();
    assert!((2..=3).contains(&features.len()), "{}", features.len());
    assert!(features.iter().all(|f| f["properties"]["profile"] == "safest"));
    for bad in [
        &["--profile", "scenic"][..],
        &["--alternatives", "9"],
        &["--depart-at", "tomorrow"],
        &["--profile", "fastest", "--risk-weight", "2"],
    ] {
        let mut argv = vec![
            "route",
            "--data-dir",
            d,
            "--from",
            "43.7310,7.4150",
            "--to",
            "43.7460,7.4320",
        ];
        argv.extend_from_slice(bad);
        let (code, _, err) = run_cli(&argv);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.contains(bad[0]), "the error names {}: {err}", bad[0]);
    }
    // Too far from any road: the error names the distance. Bad coordinates: usage error.
    let (code, _, err) = run_cli(&[
        "route",
        "--data-dir",
        d,
        "--from",
        "43.60,7.30",
        "--to",
        "43.7460,7.4320",
    ]);
    assert_eq!(code, 3);
    assert!(err.contains("farther than 500 m") && err.contains(" m away"), "{err}");
    assert_eq!(
        run_cli(&["route", "--data-dir", d, "--from", "95,7", "--to", "43.7,7.4"]).0,
        2
    );
    assert_eq!(
        run_cli(&["route", "--data-dir", d, "--from", "here", "--to", "43.7,7.4"]).0,
        2
    );
    // A broken file is refused and the previous map stays.
    let before = std::fs::read(dir.join("map/graph.bin")).unwrap();
    let broken = tmp.path().join("broken.osm.pbf");
    std::fs::write(
        &broken,
        &std::fs::read(extract("karachi-old-city.osm.pbf")).unwrap()[..5000],
    )
    .unwrap();
    let (code, _, err) = run_cli(&["map", "import", broken.to_str().unwrap(), "--data-dir", d]);
    assert_eq!(code, 3);
    assert!(err.contains("not a readable OpenStreetMap PBF file"), "{err}");
    assert_eq!(
        std::fs::read(dir.join("map/graph.bin")).unwrap(),
        before,
        "previous map intact"
    );
    assert_eq!(
        run_cli(&["map", "import", "/nonexistent.osm.pbf", "--data-dir", d]).0,
        3
    );
    // Without a map, route says what to do.
    let other = tmp.path().join("other");
    assert_eq!(init(&other).0, 0);
    let (code, _, err) = run_cli(&[
        "route",
        "--data-dir",
        other.to_str().unwrap(),
        "--from",
        "43.73,7.41",
        "--to",
        "43.74,7.43",
    ]);
    assert_eq!(code, 3);
    assert!(err.contains("jsms map import"), "{err}");
}
