//! Two persons for privilege: nobody changes their own roles, clearance or compartments;
//! a change that grants privilege — a new user, a role, a raised clearance — waits for a
//! second administrator of the same party who is neither the requester nor the user
//! concerned; the other party's administrators cannot decide it; everything is recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{TestServer, assert_problem, enrolled_admin};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn privilege_needs_a_second_administrator_and_never_ones_own() {
    let server = TestServer::start();
    let admin = enrolled_admin(&server, "hn.admin").await;
    let second = enrolled_admin(&server, "hn.admin2").await;
    let foreign = enrolled_admin(&server, "pn.admin").await;
    let me = admin.get("/api/v1/me").await.body;
    let own = format!("/api/v1/users/{}", id(&me));

    // Self-escalation: refused whatever the role, even with no other change.
    for change in [
        json!({"version": me["version"], "roles": ["movement_coordinator"]}),
        json!({"version": me["version"], "clearance": "secret"}),
        json!({"version": me["version"], "compartments": ["karachi-ops"]}),
        json!({"version": me["version"], "roles": ["party_admin"]}),
    ] {
        assert_problem(&admin.patch(&own, change).await, 409, "conflict");
    }
    // Renaming oneself grants nothing.
    let renamed = admin
        .patch(
            &own,
            json!({"version": me["version"], "display_name": "HN administrator (duty)"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{renamed:?}");
    // Administrators never hold operational roles, on any path.
    let coordinator = admin.get("/api/v1/users?q=hn.coordinator").await.body["items"][0].clone();
    let mixed = admin
        .patch(
            &format!("/api/v1/users/{}", id(&coordinator)),
            json!({"version": coordinator["version"], "roles": ["party_admin", "movement_coordinator"]}),
        )
        .await;
    assert_problem(&mixed, 422, "validation");

    // One administrator makes another a coordinator: a request, not a change.
    let target = second.get("/api/v1/me").await.body;
    let path = format!("/api/v1/users/{}", id(&target));
    let requested = admin
        .patch(
            &path,
            json!({"version": target["version"], "roles": ["movement_coordinator"]}),
        )
        .await;
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{requested:?}");
    assert_eq!(requested.body["state"], "pending");
    assert_eq!(requested.body["grants"], json!(["role movement_coordinator"]));
    let approval = format!("/api/v1/privilege-requests/{}/approval", id(&requested.body));
    assert_eq!(
        admin.get(&path).await.body["roles"],
        json!(["party_admin"]),
        "nothing changes before approval"
    );
    // Neither the requester nor the user concerned approves it; the other party cannot
    // even see it.
    assert_problem(&admin.send(Method::POST, &approval, None).await, 409, "conflict");
    assert_problem(&second.send(Method::POST, &approval, None).await, 409, "conflict");
    assert_problem(&foreign.send(Method::POST, &approval, None).await, 404, "not-found");
    assert!(
        !foreign
            .get("/api/v1/privilege-requests")
            .await
            .body
            .to_string()
            .contains(&id(&requested.body)),
        "another party's requests are invisible"
    );
    // Without a third administrator it stays pending; the second one rejects it instead.
    let rejection = format!("/api/v1/privilege-requests/{}/rejection", id(&requested.body));
    assert_problem(&second.post(&rejection, json!({"note": "no"})).await, 409, "conflict");
    assert_eq!(
        admin.get("/api/v1/privilege-requests").await.body[0]["state"],
        "pending"
    );

    // A new user: created only when the second administrator approves.
    let org = admin.get("/api/v1/me").await.body["org_id"].clone();
    let asked = admin
        .post(
            "/api/v1/users",
            json!({"username": "hn.newanalyst", "display_name": "New analyst", "org_id": org,
                   "roles": ["intelligence_analyst"], "clearance": "confidential",
                   "password": "a long enough password"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{asked:?}");
    assert!(
        admin.get("/api/v1/users?q=hn.newanalyst").await.body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "no user before approval"
    );
    // The second administrator was told.
    let told = second.get("/api/v1/me/notifications").await.body;
    assert!(
        told["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "privilege_request"),
        "{told}"
    );
    let approved = second
        .send(
            Method::POST,
            &format!("/api/v1/privilege-requests/{}/approval", id(&asked.body)),
            None,
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{approved:?}");
    assert_eq!(approved.body["request"]["state"], "approved");
    assert_eq!(approved.body["user"]["roles"], json!(["intelligence_analyst"]));
    // Decided once.
    assert_problem(
        &second
            .send(
                Method::POST,
                &format!("/api/v1/privilege-requests/{}/approval", id(&asked.body)),
                None,
            )
            .await,
        409,
        "conflict",
    );
    // Taking privilege away needs no second person.
    let analyst = approved.body["user"].clone();
    let lowered = admin
        .patch(
            &format!("/api/v1/users/{}", id(&analyst)),
            json!({"version": analyst["version"], "clearance": "restricted"}),
        )
        .await;
    assert_eq!(lowered.status, StatusCode::OK, "{lowered:?}");
    // The pending request to make the second administrator a coordinator is decided by
    // nobody with a stake in it; a rejection by another administrator would close it.
    let pending = admin.get("/api/v1/privilege-requests").await.body;
    assert!(
        pending
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == requested.body["id"] && r["state"] == "pending")
    );

    // Everything is in the audit log.
    let auditor = server.signed_in("hn.auditor").await;
    let entries = auditor.get("/api/v1/audit/entries?limit=1000").await.body;
    let actions: Vec<(String, String)> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["entry"]["action"].as_str().unwrap().to_owned(),
                e["entry"]["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("user.update", "deny"),
        ("user.privilege.request", "allow"),
        ("user.privilege.approve", "deny"),
        ("user.privilege.approve", "allow"),
        ("user.create", "allow"),
    ] {
        assert!(
            actions.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {actions:?}"
        );
    }
}
