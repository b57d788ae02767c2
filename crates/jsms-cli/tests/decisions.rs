//! Bilateral decisions over HTTP: proposing with the default rules, keys registered once,
//! approvals signed by each approver's own Ed25519 key (here, in the test, as a browser or
//! a CLI would), self-approval refused, bad signatures refused and audited, a revised text
//! invalidating approvals, both parties bringing a decision into force, and the export
//! verified offline by `jsms decision verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Client, TestServer, assert_problem};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

fn keypair() -> Ed25519KeyPair {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

async fn register(c: &Client, key: &Ed25519KeyPair) {
    let r = c
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/signing-key",
            Some(json!({"public_key": STANDARD.encode(key.public_key().as_ref())})),
        )
        .await;
    assert_eq!(r.status, 204, "{r:?}");
}

/// Signs what the server asks this approver to sign and sends it.
async fn approve(c: &Client, key: &Ed25519KeyPair, id: &str) -> common::Resp {
    let d = c.get(&format!("/api/v1/decisions/{id}")).await.body;
    let to_sign = &d["to_sign"];
    let message = STANDARD.decode(to_sign["message"].as_str().unwrap()).unwrap();
    // What is signed carries the exact text shown.
    assert!(String::from_utf8_lossy(&message).contains(d["text"].as_str().unwrap()));
    c.post(
        &format!("/api/v1/decisions/{id}/actions"),
        json!({"version": d["version"], "action": "approve", "at": to_sign["at"],
               "signature": STANDARD.encode(key.sign(&message).as_ref())}),
    )
    .await
}

fn approved(d: &Value) -> Vec<i64> {
    d["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["approved"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn both_parties_sign_a_decision_into_force() {
    let server = TestServer::start();
    let proposer = server.signed_in("hn.coordinator").await;
    let host = server.signed_in("hn.coordinator2").await;
    let partner = server.signed_in("pn.liaison").await;
    let officer = server.signed_in("pn.officer").await;
    let auditor = server.signed_in("hn.auditor").await;

    let proposal = json!({"kind": "joint_operation", "title": "Joint patrol on the port road",
                          "text": "Both parties patrol the port road on Fridays for four weeks."});
    assert_problem(
        &auditor.post("/api/v1/decisions", proposal.clone()).await,
        403,
        "forbidden",
    );
    assert_problem(
        &officer.post("/api/v1/decisions", proposal.clone()).await,
        403,
        "forbidden",
    );
    let bad = proposer
        .post("/api/v1/decisions", json!({"kind": "coup", "title": "x", "text": "y"}))
        .await;
    assert_problem(&bad, 422, "validation");
    // Rules other than the defaults: every party still approves, M within its authorities
    // (the proposer, a host coordinator, does not count as one).
    let parties = proposer.get("/api/v1/parties").await.body;
    let id_of = |kind: &str| {
        parties.as_array().unwrap().iter().find(|p| p["kind"] == kind).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (hn, pn) = (id_of("host"), id_of("partner"));
    for required in [json!({hn.clone(): 2}), json!({pn.clone(): 2}), json!({hn.clone(): 0})] {
        let mut p = proposal.clone();
        p["required"] = required.clone();
        let r = proposer.post("/api/v1/decisions", p).await;
        assert_problem(&r, 422, "validation");
        assert_eq!(r.body["field"], "/required", "{required}: {r:?}");
    }
    let mut p = proposal.clone();
    p["required"] = json!({uuid::Uuid::now_v7().to_string(): 1});
    assert_problem(&proposer.post("/api/v1/decisions", p).await, 422, "validation");
    let mut explicit = proposal.clone();
    explicit["required"] = json!({hn.clone(): 1, pn.clone(): 1});
    assert_eq!(proposer.post("/api/v1/decisions", explicit).await.status, 201);
    let created = proposer.post("/api/v1/decisions", proposal).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["state"], "proposed");
    assert_eq!(approved(&created.body), vec![0, 0]);
    assert_eq!(created.body["allowed"], json!(["withdraw", "revise"]));
    assert_eq!(auditor.get(&format!("/api/v1/decisions/{id}")).await.status, 200);

    let (hk, pk, own) = (keypair(), keypair(), keypair());
    register(&host, &hk).await;
    register(&partner, &pk).await;
    register(&proposer, &own).await;
    let again = host
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/signing-key",
            Some(json!({"public_key": STANDARD.encode(keypair().public_key().as_ref())})),
        )
        .await;
    assert_problem(&again, 409, "conflict");

    // The proposer cannot approve; nor can someone who is not a designated authority.
    let d = proposer.get(&format!("/api/v1/decisions/{id}")).await.body;
    assert!(d.get("to_sign").is_none());
    let own_try = proposer
        .post(
            &format!("/api/v1/decisions/{id}/actions"),
            json!({"version": d["version"], "action": "approve", "at": 0, "signature": "AA=="}),
        )
        .await;
    assert_problem(&own_try, 409, "conflict");
    // A signature by another key is refused and changes nothing.
    let d = host.get(&format!("/api/v1/decisions/{id}")).await.body;
    let message = STANDARD.decode(d["to_sign"]["message"].as_str().unwrap()).unwrap();
    let forged = host
        .post(
            &format!("/api/v1/decisions/{id}/actions"),
            json!({"version": d["version"], "action": "approve", "at": d["to_sign"]["at"],
                   "signature": STANDARD.encode(pk.sign(&message).as_ref())}),
        )
        .await;
    assert_problem(&forged, 422, "validation");
    assert_eq!(forged.body["field"], "/signature");

    let one = approve(&host, &hk, &id).await;
    assert_eq!(one.status, 200, "{one:?}");
    assert_eq!(one.body["state"], "proposed", "one party is not enough");
    let two = approve(&partner, &pk, &id).await;
    assert_eq!(two.body["state"], "in_force", "{two:?}");
    assert_eq!(approved(&two.body), vec![1, 1]);

    // Offline verification of the export.
    let export = auditor.get(&format!("/api/v1/decisions/{id}/export")).await.body;
    let file = server.dir.path().join("decision.json");
    std::fs::write(&file, serde_json::to_vec(&export).unwrap()).unwrap();
    let (code, out, _) = server.cli(&["decision", "verify", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("IN FORCE"), "{out}");

    // A revised text invalidates the approvals given so far.
    let second = proposer
        .post(
            "/api/v1/decisions",
            json!({"kind": "procedure_change", "title": "Check-in interval", "text": "Check-ins every 10 minutes."}),
        )
        .await;
    let sid = second.body["id"].as_str().unwrap().to_owned();
    let first = approve(&host, &hk, &sid).await;
    assert_eq!(approved(&first.body), vec![1, 0]);
    let revised = proposer
        .post(
            &format!("/api/v1/decisions/{sid}/actions"),
            json!({"version": first.body["version"], "action": "revise", "text": "Check-ins every 5 minutes."}),
        )
        .await;
    assert_eq!(revised.body["revision"], 2, "{revised:?}");
    assert_eq!(approved(&revised.body), vec![0, 0], "the old approval signs revision 1");
    let rejected = partner
        .post(
            &format!("/api/v1/decisions/{sid}/actions"),
            json!({"version": revised.body["version"], "action": "reject", "reason": "Too frequent for our teams."}),
        )
        .await;
    assert_eq!(rejected.body["state"], "rejected", "{rejected:?}");
    assert_eq!(rejected.body["rejection"], "Too frequent for our teams.");
}
