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

async fn my_id(c: &Client) -> String {
    c.get("/api/v1/me").await.body["id"].as_str().unwrap().to_owned()
}

async fn designate(c: &Client, users: Value) -> common::Resp {
    c.send(
        reqwest::Method::PUT,
        "/api/v1/decisions/authorities",
        Some(json!({"users": users})),
    )
    .await
}

async fn upload(c: &Client, path: String, body: Vec<u8>, headers: &[(&str, &str)]) -> common::Resp {
    c.raw(reqwest::Method::POST, &path, "application/pdf", body, headers)
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

#[tokio::test]
async fn attachments_named_authorities_and_notifications() {
    let server = TestServer::start();
    let host = server.signed_in("hn.coordinator").await;
    let liaison = server.signed_in("pn.liaison").await;
    let officer = server.signed_in("pn.officer").await;
    let pn_admin = common::enrolled_admin(&server, "pn.admin").await;

    // By default the partner's authorities are its liaison officer only: a decision the
    // liaison proposes could not be approved by the partner, and is refused up front.
    let proposal = json!({"kind": "technical_assistance", "title": "Forensic support",
                          "text": "The partner sends two forensic analysts for one week."});
    let refused = liaison.post("/api/v1/decisions", proposal.clone()).await;
    assert_problem(&refused, 422, "validation");

    // The partner's administrator names its authorities: only users of its own party, with
    // an eligible role; nobody else names them.
    let org = liaison.get("/api/v1/me").await.body["org_id"].clone();
    let deputy = pn_admin
        .post(
            "/api/v1/users",
            json!({"username": "pn.deputy", "display_name": "Deputy liaison officer", "org_id": org,
                   "roles": ["liaison_officer"], "clearance": "restricted", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(deputy.status, 202, "{deputy:?}");
    let second_admin = common::enrolled_admin(&server, "pn.admin2").await;
    let privilege = second_admin
        .send(
            reqwest::Method::POST,
            &format!(
                "/api/v1/privilege-requests/{}/approval",
                deputy.body["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(privilege.status, 200, "{privilege:?}");
    let deputy = common::enrolled(
        &server,
        &jsms_cli::init::Login {
            role: "liaison_officer".into(),
            username: "pn.deputy".into(),
            password: "a long enough password".into(),
            totp_secret: None,
            shown: false,
        },
    )
    .await;
    let (liaison_id, deputy_id, admin_id, officer_id, host_id) = (
        my_id(&liaison).await,
        my_id(&deputy).await,
        my_id(&pn_admin).await,
        my_id(&officer).await,
        my_id(&host).await,
    );
    assert_problem(&designate(&liaison, json!([liaison_id])).await, 403, "forbidden");
    let foreign = designate(&pn_admin, json!([host_id])).await;
    assert_problem(&foreign, 422, "validation");
    assert_eq!(foreign.body["field"], "/users/0");
    for ineligible in [&officer_id, &admin_id] {
        let r = designate(&pn_admin, json!([liaison_id, ineligible])).await;
        assert_eq!(
            r.body["field"], "/users/1",
            "administrators and officers approve nothing: {r:?}"
        );
    }
    let twice = designate(&pn_admin, json!([liaison_id, liaison_id])).await;
    assert_eq!(twice.body["field"], "/users/1", "{twice:?}");
    let named = designate(&pn_admin, json!([liaison_id, deputy_id])).await;
    assert_eq!(named.status, 200, "{named:?}");
    let partner = named.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["named"] == true)
        .unwrap()
        .clone();
    assert_eq!(partner["users"].as_array().unwrap().len(), 2);
    let listed = host.get("/api/v1/decisions/authorities").await;
    assert_eq!(listed.body, named.body);

    // Now the liaison's proposal goes through; the deputy approves for the partner.
    let created = liaison.post("/api/v1/decisions", proposal).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();

    // Attachments: the proposer only; each is a new revision whose hash is signed.
    let (hk, ak) = (keypair(), keypair());
    register(&host, &hk).await;
    register(&deputy, &ak).await;
    let early = approve(&host, &hk, &id).await;
    assert_eq!(approved(&early.body), vec![1, 0], "{early:?}");
    let path = |q: &str| format!("/api/v1/decisions/{id}/attachments?{q}");
    let annex = b"%PDF-1.4 terms of reference".to_vec();
    let v = early.body["version"].to_string();
    let version = [("if-match", v.as_str())];
    assert_problem(
        &upload(&host, path("name=annex.pdf"), annex.clone(), &version).await,
        409,
        "conflict",
    );
    assert_problem(
        &upload(&liaison, path("name=annex.pdf"), Vec::new(), &version).await,
        422,
        "validation",
    );
    assert_problem(
        &upload(&liaison, path("name=..%2Fetc"), annex.clone(), &version).await,
        422,
        "validation",
    );
    assert_problem(
        &upload(&liaison, path("name=annex.pdf"), annex.clone(), &[]).await,
        428,
        "precondition-required",
    );
    let big = vec![b'x'; 4 * 1024 * 1024 + 1];
    assert_problem(
        &upload(&liaison, path("name=big.bin"), big, &version).await,
        413,
        "payload-too-large",
    );
    let digest_before = early.body["digest"].clone();
    let attached = upload(
        &liaison,
        path("name=Terms%20of%20reference.pdf"),
        annex.clone(),
        &version,
    )
    .await;
    assert_eq!(attached.status, 200, "{attached:?}");
    assert_eq!(attached.body["revision"], 2);
    assert_ne!(attached.body["digest"], digest_before);
    assert_eq!(approved(&attached.body), vec![0, 0], "the host approved revision 1");
    let sha = attached.body["attachments"][0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(attached.body["attachments"][0]["name"], "Terms of reference.pdf");
    assert_eq!(attached.body["attachments"][0]["size"], annex.len());
    let got = host
        .http
        .get(format!("{}/api/v1/decisions/{id}/attachments/{sha}", host.base))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "application/octet-stream");
    assert!(
        got.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(got.bytes().await.unwrap().as_ref(), annex.as_slice());
    let missing = host
        .get(&format!("/api/v1/decisions/{id}/attachments/{}", "0".repeat(64)))
        .await;
    assert_eq!(missing.status, 404);
    assert_problem(
        &host.get(&format!("/api/v1/decisions/{id}/attachments/xyz")).await,
        400,
        "invalid-parameter",
    );

    // Notifications: the authorities are told a revision awaits them; each reads and marks
    // only their own.
    let notes = host.get("/api/v1/me/notifications").await.body;
    let waiting: Vec<&Value> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "decision_to_approve" && n["link"] == format!("#/decisions/{id}"))
        .collect();
    assert_eq!(waiting.len(), 2, "revisions 1 and 2: {notes}");
    assert!(notes["unread"].as_u64().unwrap() >= 2);
    let nid = waiting[0]["id"].as_str().unwrap();
    let mark = format!("/api/v1/me/notifications/{nid}/read");
    assert_eq!(liaison.post(&mark, json!({})).await.status, 404, "not the liaison's");
    assert_eq!(host.post(&mark, json!({})).await.status, 204);
    let after = host.get("/api/v1/me/notifications").await.body;
    assert_eq!(after["unread"].as_u64().unwrap(), notes["unread"].as_u64().unwrap() - 1);

    // Both parties approve revision 2; the proposer is told it is in force; the export
    // still verifies offline (the attachment's hash is in what was signed).
    assert_eq!(approve(&host, &hk, &id).await.status, 200);
    let done = approve(&deputy, &ak, &id).await;
    assert_eq!(done.body["state"], "in_force", "{done:?}");
    let told = liaison.get("/api/v1/me/notifications").await.body;
    assert!(
        told["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "decision_outcome"),
        "{told}"
    );
    let late = upload(
        &liaison,
        path("name=late.pdf"),
        b"late".to_vec(),
        &[("if-match", &done.body["version"].to_string())],
    )
    .await;
    assert_problem(&late, 409, "conflict");
    let export = host.get(&format!("/api/v1/decisions/{id}/export")).await.body;
    assert_eq!(export["decision"]["proposal"]["attachments"][0], sha.as_str());
    let file = server.dir.path().join("decision.json");
    std::fs::write(&file, serde_json::to_vec(&export).unwrap()).unwrap();
    let (code, out, _) = server.cli(&["decision", "verify", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");

    // A named authority who loses the role is no longer one.
    let user = pn_admin.get(&format!("/api/v1/users/{deputy_id}")).await.body;
    let changed = pn_admin
        .patch(
            &format!("/api/v1/users/{deputy_id}"),
            json!({"version": user["version"], "roles": ["intelligence_analyst"]}),
        )
        .await;
    assert_eq!(
        changed.status, 202,
        "a new role waits for the second administrator: {changed:?}"
    );
    let applied = second_admin
        .send(
            reqwest::Method::POST,
            &format!(
                "/api/v1/privilege-requests/{}/approval",
                changed.body["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(applied.status, 200, "{applied:?}");
    let now_named = host.get("/api/v1/decisions/authorities").await.body;
    let partner_now = now_named["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["named"] == true)
        .unwrap()
        .clone();
    assert_eq!(
        partner_now["users"].as_array().unwrap().len(),
        1,
        "the deputy is no longer an authority: {now_named}"
    );

    // Back to the default: the liaison alone again.
    let reset = designate(&pn_admin, json!([])).await;
    assert!(
        reset.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["named"] == false)
    );
}
