//! Incidents end to end: a report with its links, releasability to the other party, the
//! timeline, the investigation (closing needs findings), lessons with follow-up actions,
//! the "who knew" report of a linked movement attached with one action, bad input named and
//! refused, and the effect of an incident on route risk (with its decay in the router).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::movements::{released, rfc};
use common::{TestServer, assert_problem, now};
use serde_json::{Value, json};

fn report(movement: &str, shared: bool) -> Value {
    json!({
        "kind": "suspicious_activity",
        "title": "Motorcycle followed the convoy",
        "occurred_at": rfc(now() - 600),
        "place": {"type": "Point", "coordinates": [67.0, 24.86]},
        "severity": 3,
        "narrative": "Two riders followed FALCON 3 for 2 km, then turned off.",
        "movements": [movement],
        "shared": shared
    })
}

#[tokio::test]
async fn incident_lifecycle_releasability_and_who_knew() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let liaison = server.signed_in("pn.liaison").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    // The escort reads the brief: it will show in the who-knew report.
    assert_eq!(escort.get(&format!("/api/v1/movements/{id}/brief")).await.status, 200);

    // Kept to the host: the partner's liaison does not learn it exists.
    let kept = coordinator.post("/api/v1/incidents", report(&id, false)).await;
    assert_eq!(kept.status, 201, "{kept:?}");
    let kept_id = kept.body["id"].as_str().unwrap().to_owned();
    assert_eq!(kept.body["status"], "reported");
    assert_problem(
        &liaison.get(&format!("/api/v1/incidents/{kept_id}")).await,
        404,
        "not-found",
    );
    let listed = liaison.get("/api/v1/incidents").await.body;
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");
    // Released: the liaison reads it but does not investigate.
    let shared = coordinator.post("/api/v1/incidents", report(&id, true)).await;
    let sid = shared.body["id"].as_str().unwrap().to_owned();
    let seen = liaison.get(&format!("/api/v1/incidents/{sid}")).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body["may_investigate"], false);
    assert_eq!(seen.body["narrative"], report(&id, true)["narrative"]);
    assert_problem(
        &liaison
            .post(
                &format!("/api/v1/incidents/{sid}/updates"),
                json!({"version": 1, "text": "x"}),
            )
            .await,
        403,
        "forbidden",
    );

    // The investigation.
    let path = format!("/api/v1/incidents/{kept_id}");
    let v = |r: &common::Resp| r.body["version"].as_i64().unwrap();
    let updated = coordinator
        .post(
            &format!("{path}/updates"),
            json!({"version": 1, "text": "Patrol confirmed the riders' plate."}),
        )
        .await;
    assert_eq!(updated.status, 200, "{updated:?}");
    let under = coordinator
        .post(
            &format!("{path}/investigation"),
            json!({"version": v(&updated), "status": "under_investigation"}),
        )
        .await;
    assert_eq!(under.body["status"], "under_investigation");
    let unsaid = coordinator
        .post(
            &format!("{path}/investigation"),
            json!({"version": v(&under), "status": "closed"}),
        )
        .await;
    assert_problem(&unsaid, 422, "validation");
    assert_eq!(unsaid.body["field"], "/findings");
    let stale = coordinator
        .post(
            &format!("{path}/investigation"),
            json!({"version": 1, "status": "closed", "findings": "x"}),
        )
        .await;
    assert_eq!(stale.status, 409, "{stale:?}");
    let who = coordinator
        .post(&format!("{path}/who-knew"), json!({"version": v(&under)}))
        .await;
    assert_eq!(who.status, 200, "{who:?}");
    let names: Vec<String> = who.body[0]["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(names.iter().any(|n| n.contains("hn.escort")), "{names:?}");
    let current = coordinator.get(&path).await;
    let timeline = current.body["timeline"].to_string();
    assert!(timeline.contains("who-knew report attached"), "{timeline}");
    let closed = coordinator
        .post(
            &format!("{path}/investigation"),
            json!({"version": v(&current), "status": "closed", "findings": "Hostile surveillance; route pattern known."}),
        )
        .await;
    assert_eq!(closed.body["status"], "closed", "{closed:?}");
    let lesson = coordinator
        .post(
            &format!("{path}/lessons"),
            json!({"version": v(&closed), "text": "Vary the departure times more.",
                   "actions": [{"text": "Use the unpredictable mode for this route", "due": rfc(now() + 86_400)}]}),
        )
        .await;
    assert_eq!(lesson.status, 200, "{lesson:?}");
    assert_eq!(
        lesson.body["lessons"][0]["actions"][0]["text"],
        "Use the unpredictable mode for this route"
    );
    // Reopened, never back to "reported".
    assert_problem(
        &coordinator
            .post(
                &format!("{path}/investigation"),
                json!({"version": v(&lesson), "status": "reported"}),
            )
            .await,
        409,
        "conflict",
    );
}

#[tokio::test]
async fn bad_reports_are_refused_with_the_field_and_change_nothing() {
    let server = TestServer::start();
    let coordinator = server.signed_in("hn.coordinator").await;
    let auditor = server.signed_in("hn.auditor").await;
    let good = json!({
        "kind": "threat", "title": "Phone threat", "occurred_at": rfc(now() - 60),
        "place": {"type": "Point", "coordinates": [67.0, 24.86]}, "severity": 2, "narrative": "A call."
    });
    let cases = [
        ("kind", json!("riot"), "/kind"),
        ("severity", json!(9), "/severity"),
        ("occurred_at", json!(rfc(now() + 86_400)), "/occurred_at"),
        ("occurred_at", json!("yesterday"), "/occurred_at"),
        ("persons", json!([uuid::Uuid::now_v7()]), "/persons/0"),
        ("movements", json!([uuid::Uuid::now_v7()]), "/movements/0"),
        ("title", json!(""), "/title"),
    ];
    for (key, value, field) in cases {
        let mut body = good.clone();
        body[key] = value;
        let r = coordinator.post("/api/v1/incidents", body).await;
        assert_eq!(r.status, 422, "{key}: {r:?}");
        assert_eq!(r.body["field"], field, "{key}: {r:?}");
    }
    assert_problem(&auditor.post("/api/v1/incidents", good.clone()).await, 403, "forbidden");
    let list = coordinator.get("/api/v1/incidents").await.body;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing stored: {list}");
    assert_eq!(coordinator.post("/api/v1/incidents", good).await.status, 201);
}

#[tokio::test]
async fn an_incident_raises_the_risk_of_routes_near_it() {
    let server = TestServer::start();
    let coordinator = server.signed_in("hn.coordinator").await;
    let request = json!({
        "from": {"type": "Point", "coordinates": [66.9958, 24.8548]},
        "to": {"type": "Point", "coordinates": [67.0105, 24.8668]},
        "profile": "fastest"
    });
    let before = coordinator.post("/api/v1/routes", request.clone()).await;
    assert_eq!(before.status, 200, "{before:?}");
    let route = before.body["features"][0].clone();
    let coords = route["geometry"]["coordinates"].as_array().unwrap();
    let mid = coords[coords.len() / 2].clone();
    let risk_before = route["properties"]["risk"].as_f64().unwrap();
    let reported = coordinator
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "attack", "title": "IED found", "occurred_at": rfc(now() - 3600),
                "place": {"type": "Point", "coordinates": mid}, "severity": 5,
                "narrative": "A device was found by the road and made safe."
            }),
        )
        .await;
    assert_eq!(reported.status, 201, "{reported:?}");
    let after = coordinator.post("/api/v1/routes", request).await;
    let same = after.body["features"][0].clone();
    assert_eq!(same["geometry"], route["geometry"], "the fastest route does not change");
    let risk_after = same["properties"]["risk"].as_f64().unwrap();
    assert!(
        risk_after > risk_before,
        "the incident adds risk to the route: {risk_before} → {risk_after}"
    );
    let reasons = same["properties"]["segments"].to_string();
    assert!(reasons.contains("incident"), "{reasons}");
}
