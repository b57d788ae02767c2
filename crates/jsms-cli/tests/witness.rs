//! The witness over HTTP: forks and rollbacks refused with the protocol's status codes, and
//! concurrent submissions never roll its persisted view back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_audit::merkle::{MerkleTree, leaf_hash};
use jsms_audit::note::{Checkpoint, Note, NoteSigner, SignatureLine, TYPE_COSIGNATURE, TYPE_ED25519};
use jsms_audit::witness::{AddCheckpoint, WitnessedLog};
use jsms_server::state::SystemClock;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const ORIGIN: &str = "jsms.test/audit";

fn tree(n: u32, salt: u32) -> MerkleTree {
    let mut t = MerkleTree::new();
    for i in 0..n {
        t.push(leaf_hash(&(i ^ salt).to_be_bytes()));
    }
    t
}

fn body(log: &NoteSigner, t: &MerkleTree, old: u64, size: u64) -> String {
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: t.root_at(size).unwrap(),
        extensions: vec![],
    };
    let proof = if old <= size {
        t.consistency_proof(old, size).unwrap_or_default()
    } else {
        vec![]
    };
    AddCheckpoint::format(old, &proof, &log.sign_note(&cp.to_text()).unwrap())
}

async fn start(state: &std::path::Path, log: &NoteSigner, witness: NoteSigner) -> String {
    let logs = vec![WitnessedLog {
        origin: ORIGIN.into(),
        verifier: log.verifier(),
    }];
    let router = jsms_server::witness::router(witness, logs, state.to_owned(), Arc::new(SystemClock)).unwrap();
    format!(
        "{}/add-checkpoint",
        jsms_server::spawn_on_loopback(router).await.unwrap()
    )
}

async fn post(client: &reqwest::Client, url: &str, body: String) -> (u16, String, Option<String>) {
    let r = client.post(url).body(body).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, r.text().await.unwrap(), ct)
}

#[tokio::test]
async fn forks_rollbacks_and_strangers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = NoteSigner::from_seed(ORIGIN, TYPE_ED25519, [1; 32]).unwrap();
    let witness = NoteSigner::from_seed("partner.test/witness", TYPE_COSIGNATURE, [2; 32]).unwrap();
    let wkey = witness.verifier();
    let url = start(&dir.path().join("state.json"), &log, witness).await;
    let c = reqwest::Client::new();
    let good = tree(100, 0);

    let (status, text, _) = post(&c, &url, body(&log, &good, 0, 40)).await;
    assert_eq!(status, 200, "{text}");
    let note = Note::parse(
        &(log
            .sign_note(
                &Checkpoint {
                    origin: ORIGIN.into(),
                    size: 40,
                    root: good.root_at(40).unwrap(),
                    extensions: vec![],
                }
                .to_text(),
            )
            .unwrap()
            + &text),
    )
    .unwrap();
    wkey.verify_cosignature(&note).unwrap();
    // Rollback: an old size that is not the witness's latest.
    let (status, text, ct) = post(&c, &url, body(&log, &good, 0, 30)).await;
    assert_eq!(
        (status, text.as_str(), ct.as_deref()),
        (409, "40\n", Some("text/x.tlog.size"))
    );
    let (status, _, _) = post(&c, &url, body(&log, &good, 40, 30)).await;
    assert_eq!(status, 400, "old above the new size");
    // Fork at the same size, and a fork that grows from another history.
    let forked = tree(100, 0xdead);
    assert_eq!(post(&c, &url, body(&log, &forked, 40, 40)).await.0, 409);
    let mut fork_body = body(&log, &forked, 40, 60);
    assert_eq!(post(&c, &url, fork_body.clone()).await.0, 422);
    // A proof that does not verify for the right history either.
    fork_body =
        body(&log, &good, 40, 60).replacen("old 40\n", "old 40\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 1);
    assert_eq!(post(&c, &url, fork_body).await.0, 422);
    // A checkpoint not signed by the log's key, and an unknown log.
    let stranger = NoteSigner::from_seed(ORIGIN, TYPE_ED25519, [9; 32]).unwrap();
    assert_eq!(post(&c, &url, body(&stranger, &good, 40, 50)).await.0, 403);
    let elsewhere = NoteSigner::from_seed("elsewhere.test/log", TYPE_ED25519, [1; 32]).unwrap();
    let cp = Checkpoint {
        origin: "elsewhere.test/log".into(),
        size: 1,
        root: good.root_at(1).unwrap(),
        extensions: vec![],
    };
    assert_eq!(
        post(
            &c,
            &url,
            AddCheckpoint::format(0, &[], &elsewhere.sign_note(&cp.to_text()).unwrap())
        )
        .await
        .0,
        404
    );
    assert_eq!(post(&c, &url, "garbage".into()).await.0, 400);
    // After all that, the witness still holds size 40 and accepts honest growth.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(state["logs"][ORIGIN]["size"], 40);
    assert_eq!(post(&c, &url, body(&log, &good, 40, 100)).await.0, 200);
}

#[tokio::test]
async fn concurrent_submissions_never_roll_the_witness_back() {
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("state.json");
    let log = Arc::new(NoteSigner::from_seed(ORIGIN, TYPE_ED25519, [1; 32]).unwrap());
    let witness = NoteSigner::from_seed("partner.test/witness", TYPE_COSIGNATURE, [2; 32]).unwrap();
    let wkey = witness.verifier();
    let url = start(&state_path, &log, witness).await;
    let t = Arc::new(tree(400, 0));

    // A watcher asserts the persisted size never decreases.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, path) = (Arc::clone(&stop), state_path.clone());
        tokio::spawn(async move {
            let mut last = 0u64;
            let mut reads = 0u32;
            while !stop.load(Ordering::SeqCst) {
                if let Ok(bytes) = std::fs::read(&path) {
                    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    let size = v["logs"][ORIGIN]["size"].as_u64().unwrap();
                    assert!(size >= last, "rolled back from {last} to {size}");
                    last = size;
                    reads += 1;
                }
                tokio::task::yield_now().await;
            }
            reads
        })
    };
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let (log, t, url, wkey) = (Arc::clone(&log), Arc::clone(&t), url.clone(), wkey.clone());
        tasks.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut known = 0u64;
            let mut cosigned = Vec::new();
            for step in 1..=25u64 {
                let target = (step * 16 - worker * 2).min(400);
                loop {
                    if known >= target {
                        break;
                    }
                    let (status, text, _) = post(&c, &url, body(&log, &t, known, target)).await;
                    match status {
                        200 => {
                            let cp = Checkpoint {
                                origin: ORIGIN.into(),
                                size: target,
                                root: t.root_at(target).unwrap(),
                                extensions: vec![],
                            };
                            let sig = SignatureLine::parse(text.trim_end()).unwrap();
                            wkey.verify_cosignature_line(&cp.to_text(), &sig).unwrap();
                            cosigned.push(target);
                            known = target;
                        }
                        409 => known = text.trim().parse().unwrap(),
                        other => panic!("unexpected {other}: {text}"),
                    }
                }
            }
            cosigned
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    stop.store(true, Ordering::SeqCst);
    assert!(watcher.await.unwrap() > 0);
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["logs"][ORIGIN]["size"], 400);
    assert!(all.len() >= 25, "many cosignatures were issued: {}", all.len());
}
