//! Joint coordination over HTTP: a meeting with both parties attending; minutes final only
//! when a representative of each attending party approved them, immutable after that, a
//! correction as a new linked record; action items overdue on the joint dashboard until
//! done; the dashboard shows each viewer only what they may see.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::movements::rfc;
use common::{TestServer, assert_problem, now};
use serde_json::{Value, json};

#[tokio::test]
async fn minutes_are_final_when_each_party_approved_and_corrections_are_linked() {
    let server = TestServer::start_with(&[("JSMS_REMINDER_SECS", "1")]);
    let coordinator = server.signed_in("hn.coordinator").await;
    let liaison = server.signed_in("pn.liaison").await;
    let officer = server.signed_in("pn.officer").await;
    let escort = server.signed_in("hn.escort").await;
    let parties = coordinator.get("/api/v1/parties").await.body;
    let party = |kind: &str| parties.as_array().unwrap().iter().find(|p| p["kind"] == kind).unwrap()["id"].clone();
    let (hn, pn) = (party("host"), party("partner"));
    let liaison_id = liaison.get("/api/v1/me").await.body["id"].clone();

    assert_problem(
        &officer
            .post(
                "/api/v1/meetings",
                json!({"title": "x", "starts_at": rfc(now()), "place": "x", "attendance": [{"party": pn}]}),
            )
            .await,
        403,
        "forbidden",
    );
    let bad = coordinator
        .post(
            "/api/v1/meetings",
            json!({"title": "Weekly security coordination", "starts_at": rfc(now()), "place": "Room 2",
                   "attendance": [{"party": uuid::Uuid::now_v7()}]}),
        )
        .await;
    assert_problem(&bad, 422, "validation");
    assert_eq!(bad.body["field"], "/attendance/0/party");
    let created = coordinator
        .post(
            "/api/v1/meetings",
            json!({"title": "Weekly security coordination", "starts_at": rfc(now() - 3600), "place": "Secure video call",
                   "agenda": ["Convoy incidents", "Next month's movements"],
                   "attendance": [{"party": hn, "people": "two coordinators"}, {"party": pn, "people": "liaison officer"}]}),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    // A meeting of the host alone is invisible to the partner: not listed, not found.
    let host_only = coordinator
        .post(
            "/api/v1/meetings",
            json!({"title": "Host staffing", "starts_at": rfc(now()), "place": "Room 2", "attendance": [{"party": hn}]}),
        )
        .await;
    assert_eq!(host_only.status, 201, "{host_only:?}");
    let host_id = host_only.body["id"].as_str().unwrap().to_owned();
    assert_problem(
        &liaison.get(&format!("/api/v1/meetings/{host_id}")).await,
        404,
        "not-found",
    );
    let listed = liaison.get("/api/v1/meetings").await.body;
    assert!(
        !listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == host_id.as_str()),
        "{listed}"
    );
    assert_eq!(escort.get(&format!("/api/v1/meetings/{host_id}")).await.status, 200);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/meetings/{id}");
    assert_eq!(
        officer.get(&path).await.status,
        200,
        "company officers read coordination"
    );

    let minutes = json!({"version": 1, "minutes": "Incidents reviewed; departures to be varied.",
                         "decisions": ["Vary departure times on the port road"],
                         "actions": [{"text": "Send the revised schedule", "owner": liaison_id, "due": rfc(now() - 60)}]});
    assert_problem(
        &officer
            .send(reqwest::Method::PUT, &format!("{path}/minutes"), Some(minutes.clone()))
            .await,
        403,
        "forbidden",
    );
    let written = coordinator
        .send(reqwest::Method::PUT, &format!("{path}/minutes"), Some(minutes))
        .await;
    assert_eq!(written.status, 200, "{written:?}");
    let v = |r: &common::Resp| r.body["version"].clone();
    // The author of the minutes never approves them: another representative of the party does.
    assert_problem(
        &coordinator
            .post(&format!("{path}/minutes/approval"), json!({"version": v(&written)}))
            .await,
        409,
        "conflict",
    );
    let colleague = server.signed_in("hn.coordinator2").await;
    let once = colleague
        .post(&format!("{path}/minutes/approval"), json!({"version": v(&written)}))
        .await;
    assert_eq!(once.body["final"], false, "{once:?}");
    assert_eq!(once.body["awaiting"], json!([pn]));
    assert_problem(
        &escort
            .post(&format!("{path}/minutes/approval"), json!({"version": v(&once)}))
            .await,
        403,
        "forbidden",
    );
    let twice = liaison
        .post(&format!("{path}/minutes/approval"), json!({"version": v(&once)}))
        .await;
    assert_eq!(twice.body["final"], true, "{twice:?}");

    // Final: immutable; a correction is a new, linked record.
    let rewrite = coordinator
        .send(
            reqwest::Method::PUT,
            &format!("{path}/minutes"),
            Some(json!({"version": v(&twice), "minutes": "changed"})),
        )
        .await;
    assert_problem(&rewrite, 409, "conflict");
    let correction = liaison
        .post(
            &format!("{path}/corrections"),
            json!({"version": v(&twice), "minutes": "Incidents reviewed; departures to be varied by at least 30 minutes."}),
        )
        .await;
    assert_eq!(correction.status, 201, "{correction:?}");
    assert_eq!(correction.body["corrects"], json!(id));
    let original = coordinator.get(&path).await.body;
    assert_eq!(original["corrected_by"], json!([correction.body["id"]]));
    assert_eq!(
        original["minutes"], "Incidents reviewed; departures to be varied.",
        "the final minutes never change"
    );

    // The overdue action is reminded once (audited, naming its owner) and shows on the joint
    // dashboard until done.
    let auditor = server.signed_in("hn.auditor").await;
    let mut reminded = Vec::new();
    for _ in 0..50 {
        let entries = auditor.get("/api/v1/audit/entries?limit=1000").await.body;
        reminded = entries["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["entry"]["action"] == "meeting.action.overdue")
            .cloned()
            .collect();
        if !reminded.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        reminded.len(),
        1,
        "one reminder for the one overdue action: {reminded:?}"
    );
    assert!(
        reminded[0]["entry"]["reasons"]
            .to_string()
            .contains(liaison_id.as_str().unwrap())
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let again = auditor.get("/api/v1/audit/entries?limit=1000").await.body;
    let count = again["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entry"]["action"] == "meeting.action.overdue")
        .count();
    assert_eq!(count, 1, "reminded once, not at every sweep");
    let original = coordinator.get(&path).await.body;
    assert!(original["actions"][0]["reminded_at"].is_string(), "{original}");
    // The owner is notified, once; nobody else is.
    let mine = liaison.get("/api/v1/me/notifications").await.body;
    let overdue: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "action_overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "{mine}");
    assert_eq!(overdue[0]["text"], "Action item overdue: Send the revised schedule");
    assert_eq!(overdue[0]["link"], format!("#/meetings/{id}"));
    let theirs = coordinator.get("/api/v1/me/notifications").await.body;
    assert!(
        !theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "action_overdue"),
        "{theirs}"
    );
    let board = coordinator.get("/api/v1/dashboard").await;
    assert_eq!(board.status, 200, "{board:?}");
    assert_eq!(board.body["overdue_actions"][0]["text"], "Send the revised schedule");
    let done = liaison
        .post(
            &format!("{path}/actions/0/done"),
            json!({"version": original["version"]}),
        )
        .await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["final"], true);
    let board = coordinator.get("/api/v1/dashboard").await.body;
    assert!(board["overdue_actions"].as_array().unwrap().is_empty(), "{board}");
    assert_problem(
        &common::enrolled_admin(&server, "hn.admin")
            .await
            .get("/api/v1/dashboard")
            .await,
        403,
        "forbidden",
    );
}
