//! The audit log end to end: entries for decisions, "who knew", checkpoints cosigned by a
//! real `jsms witness serve`, proofs, `jsms audit verify`, tampering at random points, and
//! failing closed when the log cannot be written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{TestServer, assert_problem, run_cli};
use jsms_audit::merkle::{Hash, verify_consistency, verify_inclusion};
use jsms_audit::note::{Checkpoint, Note, NoteVerifier};
use reqwest::StatusCode;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Witness {
    child: Child,
    url: String,
    key: String,
    state: std::path::PathBuf,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_witness(dir: &Path, log_key: &str) -> Witness {
    let key_file = dir.join("witness.key");
    let (code, out, err) = run_cli(&[
        "witness",
        "keygen",
        "--name",
        "partner.test/witness",
        "--key-file",
        key_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let key = out.trim().to_owned();
    let state = dir.join("witness-state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args([
            "witness",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--key-file",
            key_file.to_str().unwrap(),
        ])
        .args(["--state", state.to_str().unwrap(), "--log", log_key])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    Witness { child, url, key, state }
}

fn log_key(instance: &Path) -> String {
    let (code, out, err) = run_cli(&["audit", "key", "--data-dir", instance.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .find_map(|l| l.strip_prefix("verifier key: "))
        .unwrap()
        .to_owned()
}

fn hash(b64: &Value) -> Hash {
    STANDARD.decode(b64.as_str().unwrap()).unwrap().try_into().unwrap()
}

fn verify(instance: &Path, witness: &Witness) -> (i32, String, String) {
    run_cli(&[
        "audit",
        "verify",
        "--data-dir",
        instance.to_str().unwrap(),
        "--witness-state",
        witness.state.to_str().unwrap(),
        "--witness-key",
        &witness.key,
    ])
}

/// The entry index `jsms audit verify` names, from its last line.
fn first_bad(err: &str) -> u64 {
    err.rsplit("first bad entry: ")
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{err}"))
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

#[tokio::test]
async fn the_audit_log_is_witnessed_verifiable_and_tamper_evident() {
    let (dir, logins) = TestServer::create_instance();
    let instance = dir.path().join("instance");
    let key = log_key(&instance);
    let witness = start_witness(dir.path(), &key);
    let env = [
        ("JSMS_CHECKPOINT_INTERVAL_SECS", "1"),
        ("JSMS_WITNESSES", &*format!("{}={}", witness.url, witness.key)),
    ];
    let mut server = TestServer::start_instance(dir, logins, &env);

    // Decisions on a protected person: two readers, one refused.
    let coordinator = server.signed_in("hn.coordinator").await;
    let officer = server.signed_in("pn.officer").await;
    let other = server.signed_in("pn.officer2").await;
    let auditor = server.signed_in("pn.auditor").await;
    let person = officer.get("/api/v1/persons?q=Wen").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        coordinator.get(&format!("/api/v1/persons/{person}")).await.status,
        StatusCode::OK
    );
    assert_problem(&other.get(&format!("/api/v1/persons/{person}")).await, 404, "not-found");

    let report = auditor
        .get(&format!("/api/v1/audit/who-knew?resource=person:{person}"))
        .await;
    assert_eq!(report.status, StatusCode::OK, "{report:?}");
    let names: Vec<&str> = report.body["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"hn.coordinator") && names.contains(&"pn.officer"),
        "{names:?}"
    );
    assert!(!names.contains(&"pn.officer2"), "a refused access is not knowledge");
    let access = report.body["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "hn.coordinator")
        .unwrap();
    assert!(access["fields"].as_array().unwrap().contains(&"personal_data".into()));
    assert_eq!(access["channel"], "api");
    assert_eq!(report.body["principals"].as_array().unwrap().len(), 2);
    // Only auditors read the log; the refused read and the auditor's own query are in it.
    assert_problem(&coordinator.get("/api/v1/audit/entries").await, 403, "forbidden");
    let entries = auditor.get("/api/v1/audit/entries?limit=1000").await;
    let all = entries.body["entries"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = all
        .iter()
        .map(|e| {
            (
                e["entry"]["action"].as_str().unwrap(),
                e["entry"]["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(actions.contains(&("person.read", "deny")));
    assert!(actions.contains(&("auth.sign_in", "allow")));
    assert!(actions.contains(&("audit.who_knew", "allow")));
    assert!(
        !entries.body.to_string().contains("PD0000101"),
        "no protected contents in the log"
    );
    assert_problem(
        &auditor.get(&format!("/api/v1/audit/who-knew?resource={person}")).await,
        400,
        "invalid-parameter",
    );

    // A cosigned checkpoint appears within seconds.
    let log = NoteVerifier::from_text(&key).unwrap();
    let wkey = NoteVerifier::from_text(&witness.key).unwrap();
    let mut cosigned = None;
    for _ in 0..60 {
        let r = auditor.get("/api/v1/audit/checkpoint").await;
        if r.status == StatusCode::OK {
            let note = Note::parse(r.body.as_str().unwrap()).unwrap();
            // Cosigned, and covering at least half of the entries read above (a loaded
            // machine may need a few checkpoint intervals to get there).
            let covers = log
                .verify_note(&note)
                .ok()
                .and_then(|text| Checkpoint::parse(text).ok())
                .is_some_and(|cp| cp.size >= all.len() as u64 / 2);
            if wkey.verify_cosignature(&note).is_ok() && covers {
                cosigned = Some(note);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let note = cosigned.expect("a cosigned checkpoint");
    let cp = Checkpoint::parse(log.verify_note(&note).unwrap()).unwrap();
    assert!(cp.size >= all.len() as u64 / 2);

    // Proofs from the API verify against the signed root.
    let index = cp.size / 2;
    let inc = auditor
        .get(&format!("/api/v1/audit/inclusion?index={index}&size={}", cp.size))
        .await;
    let proof: Vec<Hash> = inc.body["proof"].as_array().unwrap().iter().map(hash).collect();
    verify_inclusion(&hash(&inc.body["leaf_hash"]), index, cp.size, &proof, &cp.root).unwrap();
    let old = 3u64.min(cp.size);
    let old_root = hash(
        &auditor
            .get(&format!("/api/v1/audit/inclusion?index=0&size={old}"))
            .await
            .body["root"],
    );
    let cons = auditor
        .get(&format!("/api/v1/audit/consistency?old={old}&new={}", cp.size))
        .await;
    let cproof: Vec<Hash> = cons.body["proof"].as_array().unwrap().iter().map(hash).collect();
    verify_consistency(old, cp.size, &old_root, &cp.root, &cproof).unwrap();
    assert_problem(
        &auditor.get("/api/v1/audit/inclusion?index=999999").await,
        400,
        "invalid-parameter",
    );

    // Stop, then verify offline.
    let size_before = all.len() as u64;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.stop();
    let (code, out, err) = verify(&instance, &witness);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("audit log intact") && !out.contains(" 0 cosignatures"),
        "{out}"
    );
    let witness_size = serde_json::from_slice::<Value>(&std::fs::read(&witness.state).unwrap()).unwrap()["logs"]
        [log.name()]["size"]
        .as_u64()
        .unwrap();
    assert!(witness_size >= size_before, "the witness saw the whole log");

    // Tampering at pseudo-random points, on copies: always detected, at the right place.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut next = |lo: u64, hi: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        lo + (seed >> 33) % (hi - lo)
    };
    let tampered_copy = |name: &str| {
        let copy = instance.parent().unwrap().join(name);
        copy_dir(&instance, &copy);
        let conn = rusqlite::Connection::open(copy.join("audit.db")).unwrap();
        (copy, conn)
    };
    for round in 0..3 {
        let k = next(1, witness_size - 2);
        // Edit (valid JSON, right seq): caught by the signed roots; the range holds k.
        let (copy, conn) = tampered_copy(&format!("edit{round}"));
        let n = conn
            .execute("UPDATE audit_entries SET data = CAST(replace(CAST(data AS TEXT), '\"api\"', '\"cli\"') AS BLOB) WHERE idx = ?1", [k])
            .unwrap();
        assert_eq!(n, 1);
        drop(conn);
        let (code, out, err) = verify(&copy, &witness);
        assert_eq!(code, 1, "edit at {k}: {out}");
        assert!(first_bad(&err) <= k, "edit at {k}: {out}{err}");
        // Delete.
        let (copy, conn) = tampered_copy(&format!("delete{round}"));
        conn.execute("DELETE FROM audit_entries WHERE idx = ?1", [k]).unwrap();
        drop(conn);
        let (code, out, err) = verify(&copy, &witness);
        assert_eq!((code, first_bad(&err)), (1, k), "delete at {k}: {out}");
        // Insert a copy of entry k before it, renumbering the rest.
        let (copy, conn) = tampered_copy(&format!("insert{round}"));
        conn.execute_batch(&format!(
            "UPDATE audit_entries SET idx = -idx - 1 WHERE idx >= {k}; UPDATE audit_entries SET idx = -idx WHERE idx < 0; \
             INSERT INTO audit_entries SELECT {k}, data, time_ms, principal, action, resource, outcome, tag FROM audit_entries WHERE idx = {};",
            k + 1
        ))
        .unwrap();
        drop(conn);
        let (code, out, err) = verify(&copy, &witness);
        assert_eq!(code, 1, "insert at {k}: {out}");
        assert!([k, k + 1].contains(&first_bad(&err)), "insert at {k}: {out}{err}");
        // Reorder k and k + 1.
        let (copy, conn) = tampered_copy(&format!("reorder{round}"));
        conn.execute_batch(&format!(
            "UPDATE audit_entries SET idx = -1 WHERE idx = {k}; UPDATE audit_entries SET idx = {k} WHERE idx = {}; \
             UPDATE audit_entries SET idx = {} WHERE idx = -1;",
            k + 1,
            k + 1
        ))
        .unwrap();
        drop(conn);
        let (code, out, err) = verify(&copy, &witness);
        assert_eq!((code, first_bad(&err)), (1, k), "reorder at {k}: {out}");
        // Truncate from k, removing the checkpoints and cosignatures that would betray it:
        // only the witness's cosigned view catches it.
        let (copy, conn) = tampered_copy(&format!("truncate{round}"));
        conn.execute_batch(&format!(
            "DELETE FROM audit_entries WHERE idx >= {k}; DELETE FROM audit_checkpoints WHERE size > {k}; \
             DELETE FROM audit_cosignatures WHERE size > {k};"
        ))
        .unwrap();
        drop(conn);
        let (code, out, err) = verify(&copy, &witness);
        assert_eq!((code, first_bad(&err)), (1, k), "truncate at {k}: {out}");
        let (code, _, _) = run_cli(&[
            "audit",
            "verify",
            "--data-dir",
            copy.to_str().unwrap(),
            "--witness-key",
            &witness.key,
        ]);
        assert_eq!(
            code, 0,
            "without the witness the truncated log looks whole: that is why the witness exists"
        );
    }

    // The server refuses to start on a log that does not match its own checkpoints.
    let (copy, conn) = tampered_copy("refuse");
    conn.execute("DELETE FROM audit_entries WHERE idx = ?1", [1]).unwrap();
    drop(conn);
    let out = Command::new(env!("CARGO_BIN_EXE_jsms"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not intact"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn break_glass_is_narrow_alerted_reviewed_and_escalated() {
    let server = TestServer::start_with(&[
        ("JSMS_BREAK_GLASS_REVIEW_SECS", "2"),
        ("JSMS_ANOMALY_DENIALS", "3"),
        ("JSMS_OFF_HOURS_UTC", "0-0"),
    ]);
    let coordinator = server.signed_in("hn.coordinator").await;
    let persons = coordinator.get("/api/v1/persons").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let target = persons[0]["id"].as_str().unwrap().to_owned();
    let other = persons[1]["id"].as_str().unwrap().to_owned();
    let escort = server.signed_in("hn.escort").await;
    let login = server.login("hn.escort").clone();
    let path = format!("/api/v1/persons/{target}");
    assert_problem(&escort.get(&path).await, 404, "not-found");

    let request = |reason: &str, password: &str, code: String| {
        serde_json::json!({"resource": format!("person:{target}"), "reason": reason, "password": password,
                           "totp_code": code, "minutes": 30})
    };
    let reason = "convoy ambushed near Lyari, need next-of-kin contact now";
    let short = escort
        .post(
            "/api/v1/break-glass",
            request("urgent", &login.password, "000000".into()),
        )
        .await;
    assert_eq!(assert_problem(&short, 422, "validation")["field"], "/reason");
    let wrong = escort
        .post(
            "/api/v1/break-glass",
            request(reason, "not my password", "000000".into()),
        )
        .await;
    assert_problem(&wrong, 401, "invalid-credentials");
    let mut too_long = request(reason, &login.password, "000000".into());
    too_long["minutes"] = 300.into();
    assert_eq!(
        assert_problem(&escort.post("/api/v1/break-glass", too_long).await, 422, "validation")["field"],
        "/minutes"
    );
    let opened = escort
        .post(
            "/api/v1/break-glass",
            request(reason, &login.password, server.next_code("hn.escort")),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{opened:?}");
    let grant = opened.body["id"].as_str().unwrap().to_owned();

    // Exactly one person opens, with its personal data; the grant is in the log.
    let seen = escort.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK, "{seen:?}");
    assert!(seen.body["personal_data"].is_object());
    assert_problem(&escort.get(&format!("/api/v1/persons/{other}")).await, 404, "not-found");

    // Every party's auditors see it at once, review it once, and never their own.
    for auditor_name in ["hn.auditor", "pn.auditor"] {
        let auditor = server.signed_in(auditor_name).await;
        let alerts = auditor.get("/api/v1/audit/alerts?unacknowledged=true").await;
        assert!(
            alerts
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["kind"] == "break_glass" && a["severity"] == "critical"),
            "{alerts:?}"
        );
        let queue = auditor.get("/api/v1/break-glass?unreviewed=true").await;
        assert_eq!(queue.body[0]["reason"], reason);
        let who = auditor
            .get(&format!("/api/v1/audit/who-knew?resource=person:{target}"))
            .await;
        assert!(
            who.body["accesses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["name"] == "hn.escort")
        );
    }
    let auditor = server.signed_in("pn.auditor").await;
    assert_problem(&escort.get("/api/v1/break-glass").await, 403, "forbidden");
    let bad = auditor
        .post(
            &format!("/api/v1/break-glass/{grant}/review"),
            serde_json::json!({"verdict": "fine", "note": "x"}),
        )
        .await;
    assert_eq!(assert_problem(&bad, 422, "validation")["field"], "/verdict");
    let review = serde_json::json!({"verdict": "justified", "note": "ambush confirmed by incident report"});
    let done = auditor
        .post(&format!("/api/v1/break-glass/{grant}/review"), review.clone())
        .await;
    assert_eq!(done.body["verdict"], "justified", "{done:?}");
    assert_problem(
        &auditor
            .post(&format!("/api/v1/break-glass/{grant}/review"), review)
            .await,
        409,
        "conflict",
    );

    // Another use left unreviewed is escalated after the (shortened) deadline.
    let liaison = server.signed_in("pn.liaison").await;
    let liaison_login = server.login("pn.liaison").clone();
    let pn_person = liaison.get("/api/v1/persons").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = serde_json::json!({"resource": format!("person:{pn_person}"), "reason": reason,
        "password": liaison_login.password, "totp_code": server.next_code("pn.liaison")});
    assert_eq!(
        liaison.post("/api/v1/break-glass", body).await.status,
        StatusCode::CREATED
    );
    let mut escalated = false;
    for _ in 0..40 {
        let alerts = auditor.get("/api/v1/audit/alerts").await;
        if alerts
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "break_glass_unreviewed")
        {
            escalated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(escalated, "unreviewed break-glass use escalated");

    // Anomalies: repeated denials raise an alert, which an auditor acknowledges.
    let analyst = server.signed_in("hn.analyst").await;
    for _ in 0..3 {
        assert_problem(&analyst.get(&path).await, 404, "not-found");
    }
    let alerts = auditor.get("/api/v1/audit/alerts?unacknowledged=true").await;
    let denial = alerts
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "repeated_denials")
        .expect("alert")
        .clone();
    let ack = auditor
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/audit/alerts/{}/acknowledge", denial["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(ack.body["acknowledged_at"].is_string(), "{ack:?}");
    assert_problem(&coordinator.get("/api/v1/audit/alerts").await, 403, "forbidden");
}

#[tokio::test]
async fn a_need_to_know_grant_opens_one_person_until_it_expires() {
    let server = TestServer::start();
    let coordinator = server.signed_in("hn.coordinator").await;
    let persons = coordinator.get("/api/v1/persons").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let (target, other) = (
        persons[0]["id"].as_str().unwrap().to_owned(),
        persons[1]["id"].as_str().unwrap().to_owned(),
    );
    let escort = server.signed_in("hn.escort").await;
    let path = format!("/api/v1/persons/{target}");
    assert_problem(&escort.get(&path).await, 404, "not-found");
    // A grant as movement release will create it, written into the running instance.
    let store = jsms_server::instance::DataDir::new(server.data_dir())
        .open_store(&jsms_server::config::KeySource::DataDir)
        .unwrap();
    use jsms_store::{OversightStore, Store};
    let user = store.user_credentials("hn.escort").unwrap().unwrap().user;
    let now = common::now();
    store
        .create_grant(user.id, &format!("person:{target}"), "test", now, now + 2)
        .unwrap();
    let seen = escort.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK, "{seen:?}");
    assert!(seen.body["personal_data"].is_object());
    assert_problem(&escort.get(&format!("/api/v1/persons/{other}")).await, 404, "not-found");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_problem(&escort.get(&path).await, 404, "not-found");
}

#[tokio::test]
async fn a_pulling_witness_fetches_verifies_and_posts_its_cosignature() {
    let (dir, logins) = TestServer::create_instance();
    let instance = dir.path().join("instance");
    let key = log_key(&instance);
    // The witness's key, and an API token of the instance for it.
    let key_file = dir.path().join("puller.key");
    let (code, out, _) = run_cli(&[
        "witness",
        "keygen",
        "--name",
        "partner.test/puller",
        "--key-file",
        key_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let wkey = out.trim().to_owned();
    let token = common::insert_token(&instance, "pn.admin", "witness", common::now() + 86_400);
    let env = [
        ("JSMS_CHECKPOINT_INTERVAL_SECS", "1"),
        ("JSMS_WITNESSES", wkey.as_str()),
    ];
    let server = TestServer::start_instance(dir, logins, &env);
    let auditor = server.signed_in("hn.auditor").await;
    let mut ready = false;
    for _ in 0..40 {
        if auditor.get("/api/v1/audit/checkpoint").await.status == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ready, "a checkpoint was signed");
    let state = server.dir.path().join("puller-state.json");
    let pull = || {
        Command::new(env!("CARGO_BIN_EXE_jsms"))
            .args([
                "witness",
                "pull",
                "--once",
                "--key-file",
                key_file.to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
            ])
            .args(["--log", &key, "--url", &server.url])
            .env("JSMS_WITNESS_TOKEN", &token)
            .output()
            .unwrap()
    };
    let out = pull();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("cosigned"));
    let note = Note::parse(auditor.get("/api/v1/audit/checkpoint").await.body.as_str().unwrap()).unwrap();
    NoteVerifier::from_text(&wkey)
        .unwrap()
        .verify_cosignature(&note)
        .unwrap();
    // More entries, another round: consistency from the witness's last view.
    let _ = server.signed_in("hn.coordinator").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let out = pull();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A cosignature from a key that is not a configured witness is refused.
    let stranger =
        jsms_audit::note::NoteSigner::from_seed("stranger.test/w", jsms_audit::note::TYPE_COSIGNATURE, [5; 32])
            .unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    let forged = stranger.cosign(&note.text, 1).unwrap();
    let r = common::Client::finish(
        reqwest::Client::new()
            .post(format!("{}/api/v1/audit/cosignatures?size={}", server.url, cp.size))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body(forged),
    )
    .await;
    assert_problem(&r, 422, "validation");
}
