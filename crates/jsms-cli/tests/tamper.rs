//! Tampering with the audit log of a running demo, against the demo's own witness: every
//! category — entry data, the index columns that answer "who knew", deleted, swapped and
//! renumbered rows, forged rows after the last checkpoint, truncation together with its
//! checkpoints, deleted checkpoints — at pseudo-random points, on copies of the data
//! directory; each is found by `jsms audit verify` (at its place where one exists) and the
//! server refuses to start on those it can see alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::run_cli;
use jsms_audit::entry::AuditEntry;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Demo {
    child: Child,
    url: String,
    coordinator: jsms_cli::init::Login,
    instance: PathBuf,
    witness_state: PathBuf,
    witness_key: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `jsms demo` on a loopback port, keeping its instance in `dir`; reads its banner.
fn start_demo(dir: &Path) -> Demo {
    let instance = dir.join("instance");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args(["demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&instance)
        .env("JSMS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut witness_state, mut witness_key, mut url, mut coordinator) = (None, None, None, None);
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "the demo ended early: {banner}");
        banner.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("jsms audit verify ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let after = |flag: &str| words[words.iter().position(|w| *w == flag).unwrap() + 1].to_owned();
            witness_state = Some(PathBuf::from(after("--witness-state")));
            witness_key = Some(after("--witness-key"));
        }
        if let Some(u) = line.trim().strip_prefix("URL:") {
            url = Some(u.trim().to_owned());
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [.., username, password, secret] = words.as_slice()
            && *username == "hn.coordinator"
        {
            coordinator = Some(jsms_cli::init::Login {
                role: "movement coordinator".into(),
                username: (*username).to_owned(),
                password: (*password).to_owned(),
                totp_secret: Some((*secret).to_owned()),
                shown: true,
            });
        }
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    // Keep draining the banner's pipe so the demo never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Demo {
        child,
        url: url.unwrap_or_else(|| panic!("no URL in the banner: {banner}")),
        coordinator: coordinator.unwrap_or_else(|| panic!("no coordinator login in the banner: {banner}")),
        instance,
        witness_state: witness_state.unwrap_or_else(|| panic!("no verify line in the banner: {banner}")),
        witness_key: witness_key.unwrap(),
    }
}

/// The size the witness has cosigned, from its state file.
fn witnessed(state: &Path) -> u64 {
    let Ok(bytes) = std::fs::read(state) else { return 0 };
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    v["logs"]
        .as_object()
        .and_then(|logs| logs.values().next())
        .and_then(|l| l["size"].as_u64())
        .unwrap_or(0)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::metadata(from).unwrap().permissions()).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// `jsms audit verify` on `instance` with the demo's witness: (exit code, all output).
fn verify(demo: &Demo, instance: &Path) -> (i32, String) {
    let (code, out, err) = run_cli(&[
        "audit",
        "verify",
        "--data-dir",
        instance.to_str().unwrap(),
        "--witness-state",
        demo.witness_state.to_str().unwrap(),
        "--witness-key",
        &demo.witness_key,
    ]);
    (code, format!("{out}{err}"))
}

fn first_bad(out: &str) -> Option<u64> {
    out.rsplit("first bad entry: ").next()?.trim().parse().ok()
}

/// `jsms serve` on a tampered copy must refuse to start (exit 3) and say why.
fn assert_refused_at_start(instance: &Path, what: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            instance.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{what}: the server started on it: {err}");
    assert!(err.contains("not intact"), "{what}: {err}");
}

#[tokio::test]
async fn every_kind_of_tampering_is_detected_against_the_demos_witness() {
    let tmp = tempfile::tempdir().unwrap();
    let mut demo = start_demo(tmp.path());
    // A coordinator reads protected persons: entries beside the demo convoy's own.
    let mut c = common::Client {
        base: demo.url.clone(),
        http: reqwest::Client::builder().cookie_store(true).build().unwrap(),
        csrf: None,
        bearer: None,
        used_steps: Default::default(),
    };
    let ready = c.get("/readyz").await;
    assert!(
        ready.body.get("warnings").is_none(),
        "the demo runs a witness: {ready:?}"
    );
    let (status, body) = c.sign_in_as(&demo.coordinator).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..5 {
        assert_eq!(c.get("/api/v1/persons").await.status, 200);
    }
    // Wait until the witness has cosigned them.
    let started = Instant::now();
    while witnessed(&demo.witness_state) < 40 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the demo's witness cosigned only {} entries",
            witnessed(&demo.witness_state)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &demo.child.id().to_string()])
        .status();
    let _ = demo.child.wait();
    let (code, out) = verify(&demo, &demo.instance);
    assert_eq!(code, 0, "the untouched log verifies: {out}");
    assert!(
        out.contains("audit log intact") && out.contains("authenticated"),
        "{out}"
    );
    let size = witnessed(&demo.witness_state);

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut next = |lo: u64, hi: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        lo + (seed >> 33) % (hi - lo)
    };
    let mut copies = 0;
    let mut tampered = |sql: &str| {
        copies += 1;
        let copy = tmp.path().join(format!("copy{copies}"));
        copy_dir(&demo.instance, &copy);
        let conn = rusqlite::Connection::open(copy.join("audit.db")).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        copy
    };
    let entries = {
        let conn = rusqlite::Connection::open(demo.instance.join("audit.db")).unwrap();
        conn.query_row("SELECT COUNT(*) FROM audit_entries", [], |r| r.get::<_, i64>(0))
            .unwrap() as u64
    };
    for round in 0..3 {
        let k = next(1, size - 2);
        let check = |name: &str, copy: &Path, at: &[u64]| {
            let (code, out) = verify(&demo, copy);
            assert_eq!(code, 1, "round {round}, {name} at {k}: not detected: {out}");
            if !at.is_empty() {
                let bad = first_bad(&out).unwrap_or_else(|| panic!("{name} at {k}: {out}"));
                assert!(at.contains(&bad), "round {round}, {name} at {k}: named {bad}: {out}");
            }
        };
        // The entry's data, still valid JSON with the right seq.
        let copy = tampered(&format!(
            "UPDATE audit_entries SET data = CAST(replace(CAST(data AS TEXT), '\"channel\":\"', '\"channel\":\"x') AS BLOB) WHERE idx = {k}"
        ));
        check("data edit", &copy, &[]);
        // The index columns behind "who knew": resource, principal, time.
        for (column, value) in [
            ("resource", "'movement:00000000-0000-0000-0000-000000000000'"),
            ("principal", "'user:someone-else'"),
            ("time_ms", "time_ms + 3600000"),
        ] {
            let copy = tampered(&format!("UPDATE audit_entries SET {column} = {value} WHERE idx = {k}"));
            check(&format!("{column} column edit"), &copy, &[k]);
            if round == 0 {
                assert_refused_at_start(&copy, &format!("{column} column edit"));
            }
        }
        // A deleted row.
        let copy = tampered(&format!("DELETE FROM audit_entries WHERE idx = {k}"));
        check("delete", &copy, &[k]);
        // Two rows swapped.
        let copy = tampered(&format!(
            "UPDATE audit_entries SET idx = -1 WHERE idx = {k}; UPDATE audit_entries SET idx = {k} WHERE idx = {k1}; \
             UPDATE audit_entries SET idx = {k1} WHERE idx = -1;",
            k1 = k + 1
        ));
        check("swap", &copy, &[k]);
        // A row inserted, the rest renumbered.
        let copy = tampered(&format!(
            "UPDATE audit_entries SET idx = -idx - 1 WHERE idx >= {k}; UPDATE audit_entries SET idx = -idx WHERE idx < 0; \
             INSERT INTO audit_entries SELECT {k}, data, time_ms, principal, action, resource, outcome, tag \
             FROM audit_entries WHERE idx = {k1};",
            k1 = k + 1
        ));
        check("insert and renumber", &copy, &[k, k + 1]);
        // Truncation together with the checkpoints and cosignatures that would betray it.
        let copy = tampered(&format!(
            "DELETE FROM audit_entries WHERE idx >= {k}; DELETE FROM audit_checkpoints WHERE size > {k}; \
             DELETE FROM audit_cosignatures WHERE size > {k};"
        ));
        check("truncation with its checkpoints", &copy, &[k]);
        // Every checkpoint deleted, then an entry edited: no signed root covers it any more,
        // but its tag does not verify (and the witness holds the old root).
        let copy = tampered(&format!(
            "DELETE FROM audit_checkpoints; DELETE FROM audit_cosignatures; \
             UPDATE audit_entries SET data = CAST(replace(CAST(data AS TEXT), '\"channel\":\"', '\"channel\":\"x') AS BLOB) WHERE idx = {k}"
        ));
        check("checkpoints deleted and an entry edited", &copy, &[k]);
        if round == 0 {
            assert_refused_at_start(&copy, "checkpoints deleted and an entry edited");
        }
        // Checkpoints deleted alone: the witness cosigned one the log no longer holds.
        let copy = tampered("DELETE FROM audit_checkpoints; DELETE FROM audit_cosignatures;");
        let (code, out) = verify(&demo, &copy);
        assert_eq!(code, 1, "deleted checkpoints: {out}");
        assert!(out.contains("checkpoints deleted"), "{out}");
        // A forged row after the last checkpoint: a well-formed entry in its place, with
        // matching columns, but no valid tag (the key is not in the database).
        let conn = rusqlite::Connection::open(demo.instance.join("audit.db")).unwrap();
        let last: Vec<u8> = conn
            .query_row("SELECT data FROM audit_entries WHERE idx = ?1", [entries - 1], |r| {
                r.get(0)
            })
            .unwrap();
        drop(conn);
        let mut forged = AuditEntry::from_bytes(&last).unwrap();
        forged.seq = entries;
        forged.principal = format!("user:forged-{round}");
        let c = forged.index_columns();
        for tag in ["NULL", "randomblob(32)"] {
            let copy = tampered(&format!(
                "INSERT INTO audit_entries (idx, data, time_ms, principal, action, resource, outcome, tag) \
                 VALUES ({entries}, CAST('{}' AS BLOB), {}, '{}', '{}', {}, '{}', {tag})",
                String::from_utf8(forged.to_bytes()).unwrap().replace('\'', "''"),
                c.time_ms,
                c.principal,
                c.action,
                c.resource.as_ref().map_or("NULL".to_owned(), |r| format!("'{r}'")),
                c.outcome
            ));
            check("forged tail row", &copy, &[entries]);
            if round == 0 {
                assert_refused_at_start(&copy, "forged tail row");
            }
        }
    }
}
