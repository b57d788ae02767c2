//! Movements end to end over HTTP with the demo roles: request by a company officer,
//! assessment, four-eyes approval, planning on the road network with a sealed plan, release
//! by the scheduler, escort grants and their expiry, what each role sees at each state, the
//! exposure report, bad input, and a release missed while the server was down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::movements::{released, released_after, request, rfc, step, version};
use common::{TestServer, assert_problem, now};
use jsms_server::config::KeySource;
use jsms_server::instance::DataDir;
use jsms_store::MovementStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn the_whole_lifecycle_with_four_eyes_sealing_release_and_views() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let other_officer = server.signed_in("pn.officer2").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let liaison = server.signed_in("pn.liaison").await;
    let auditor = server.signed_in("hn.auditor").await;

    let body = request(&officer).await;
    let created = officer.post("/api/v1/movements", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["state"], "draft");
    assert_eq!(created.body["allowed_transitions"], json!(["submit", "cancel"]));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/movements/{id}");

    // Other companies, auditors and the escort see nothing of it yet.
    for c in [&other_officer, &auditor, &escort] {
        assert_problem(&c.get(&path).await, 404, "not-found");
    }
    // A wrong role cannot take a step; a step the state does not allow is 409 with the list.
    let v = version(&created);
    assert_problem(&step(&officer, &id, "assess", v, None).await, 403, "forbidden");
    let p = assert_problem(&step(&coordinator, &id, "approve", v, None).await, 409, "conflict");
    assert!(
        p["detail"].as_str().unwrap().contains("allowed now: submit, cancel"),
        "{p}"
    );

    let submitted = step(&officer, &id, "submit", v, None).await;
    assert_eq!(submitted.body["state"], "submitted", "{submitted:?}");
    let assessed = step(&coordinator, &id, "assess", version(&submitted), None).await;
    assert_eq!(assessed.body["state"], "assessed", "{assessed:?}");
    let assessment = &assessed.body["request"]["assessment"];
    assert!(assessment["score"].as_u64().unwrap() >= 30, "{assessment}");
    assert!(
        assessment["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("level A"))
    );
    assert_eq!(assessment["requirements"]["approvals"], 2, "level A: four eyes");

    // The liaison officer sees state and risk level only.
    let seen = liaison.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK, "{seen:?}");
    assert_eq!(seen.body["state"], "assessed");
    assert!(seen.body["risk_level"].is_string());
    assert!(
        seen.body.get("request").is_none() && seen.body.get("plan").is_none(),
        "{}",
        seen.body
    );

    // Four eyes: one approval is not enough, the same coordinator twice is refused.
    let once = step(&coordinator, &id, "approve", version(&assessed), None).await;
    assert_eq!(once.body["state"], "assessed", "{once:?}");
    assert_problem(
        &step(&coordinator, &id, "approve", version(&once), None).await,
        409,
        "conflict",
    );
    let twice = step(&coordinator2, &id, "approve", version(&once), None).await;
    assert_eq!(twice.body["state"], "approved", "{twice:?}");

    // Planning: an escort team with too few vehicles is refused; then a real plan.
    let teams = coordinator.get("/api/v1/escort-teams").await;
    assert_eq!(teams.status, StatusCode::OK, "{teams:?}");
    let team = teams.body[0]["id"].as_str().unwrap().to_owned();
    assert_problem(&liaison.get("/api/v1/escort-teams").await, 403, "forbidden");
    let bad_lead = coordinator
        .post(
            &format!("{path}/plan"),
            json!({"version": version(&twice), "escort_team": team, "release_lead_s": 5}),
        )
        .await;
    assert_eq!(assert_problem(&bad_lead, 422, "validation")["field"], "/release_lead_s");
    // Release lead of 10 h: the release time has already passed, so the scheduler releases
    // within a second of planning.
    let planned = coordinator
        .post(
            &format!("{path}/plan"),
            json!({"version": version(&twice), "escort_team": team, "release_lead_s": 36000}),
        )
        .await;
    assert_eq!(planned.status, StatusCode::OK, "{planned:?}");
    assert_eq!(planned.body["state"], "planned");
    let plan = &planned.body["plan"];
    assert!(plan["legs"][0]["roads"].as_array().unwrap().len() >= 2, "{plan}");
    assert_eq!(plan["call_sign"], "FALCON 3");
    let departure = time::OffsetDateTime::parse(
        plan["departure"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert!(
        departure >= now() + 1700 && departure <= now() + 4 * 3600,
        "departure inside the window"
    );

    // The plan is sealed: not in the database in clear.
    let db = std::fs::read(server.data_dir().join("jsms.db")).unwrap_or_default();
    let wal = std::fs::read(server.data_dir().join("jsms.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !String::from_utf8_lossy(bytes).contains("FALCON 3\""),
            "the plan is encrypted at rest"
        );
    }

    // Released by the scheduler; the escort now sees the plan, the second coordinator (not a
    // planner) and the requester never do.
    let mut released = Value::Null;
    for _ in 0..60 {
        let r = escort.get(&path).await;
        if r.status == StatusCode::OK && r.body["state"] == "released" {
            released = r.body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(released["state"], "released", "the scheduler released it");
    assert_eq!(released["plan"]["call_sign"], "FALCON 3");
    assert_eq!(released["allowed_transitions"], json!(["start"]));
    let history = coordinator.get(&path).await.body["request"]["history"].clone();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["what"] == "release" && h["user"].is_null()),
        "{history}"
    );
    assert!(
        coordinator2.get(&path).await.body.get("plan").is_none(),
        "not a planner"
    );
    let requester_view = officer.get(&path).await;
    assert!(
        requester_view.body.get("plan").is_none(),
        "the company never sees the plan"
    );
    assert_eq!(requester_view.body["state"], "released");
    assert!(liaison.get(&path).await.body.get("plan").is_none());
    // A host coordinator may release the details explicitly to the requesting company's
    // officer (and to nobody else that way).
    let officer_id = officer.get("/api/v1/me").await.body["id"].clone();
    let liaison_id = liaison.get("/api/v1/me").await.body["id"].clone();
    assert_eq!(
        assert_problem(
            &coordinator2
                .post(&format!("{path}/disclose"), json!({"user": liaison_id}))
                .await,
            422,
            "validation"
        )["field"],
        "/user"
    );
    assert_problem(
        &officer
            .post(&format!("{path}/disclose"), json!({"user": officer_id}))
            .await,
        403,
        "forbidden",
    );
    let disclosed = coordinator2
        .post(&format!("{path}/disclose"), json!({"user": officer_id}))
        .await;
    assert_eq!(disclosed.status, StatusCode::OK, "{disclosed:?}");
    assert_eq!(
        officer.get(&path).await.body["plan"]["call_sign"],
        "FALCON 3",
        "released to the officer"
    );

    // A severe zone drawn on the planned route flags the movement within the request.
    let analyst = server.signed_in("hn.analyst").await;
    let on_route = released["plan"]["legs"][0]["coordinates"][3].clone();
    let zone = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": on_route},
        "properties": {"severity": 4, "kind": "unrest", "valid_from": "2026-01-01T00:00:00Z", "source": "test", "radius_m": 80.0}});
    assert_eq!(analyst.post("/api/v1/zones", zone).await.status, StatusCode::CREATED);
    let flagged = coordinator.get(&path).await.body["request"]["history"].clone();
    let flag = flagged
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["what"] == "route_affected")
        .cloned();
    assert!(
        flag.as_ref()
            .is_some_and(|f| f["note"].as_str().unwrap().contains("re-plan")),
        "{flagged}"
    );
    let released = escort.get(&path).await.body;

    // Exposure: the planner and the escort commander, both active.
    let exposure = coordinator.get(&format!("{path}/exposure")).await;
    assert_eq!(exposure.status, StatusCode::OK, "{exposure:?}");
    assert_eq!(
        exposure.body["now"], 3,
        "planner, escort, disclosed officer: {}",
        exposure.body
    );
    assert_eq!(auditor.get(&format!("{path}/exposure")).await.status, StatusCode::OK);
    assert_problem(&officer.get(&format!("{path}/exposure")).await, 404, "not-found");

    // The escort drives it; completion ends every grant after the grace period.
    let v = released["version"].as_i64().unwrap();
    let started = step(&escort, &id, "start", v, None).await;
    assert_eq!(started.body["state"], "in_progress", "{started:?}");
    let late = assert_problem(
        &step(&officer, &id, "cancel", version(&started), Some("too late")).await,
        409,
        "conflict",
    );
    assert!(
        late["detail"]
            .as_str()
            .unwrap()
            .contains("allowed now: complete, abort"),
        "{late}"
    );
    let done = step(&escort, &id, "complete", version(&started), None).await;
    assert_eq!(done.body["state"], "completed", "{done:?}");
    let periods = coordinator.get(&format!("{path}/exposure")).await.body["periods"].clone();
    for p in periods.as_array().unwrap() {
        let until = time::OffsetDateTime::parse(
            p["until"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp();
        assert!(until <= now() + 1800 + 5, "grants end 30 min after completion: {p}");
    }
    // When the grace period is over, the escort's access is gone (time advanced in the store).
    let data = DataDir::new(server.data_dir());
    let store = data.open_store(&KeySource::DataDir).unwrap();
    store.end_grants(&format!("movement:{id}:plan"), now() - 1).unwrap();
    assert_problem(&escort.get(&path).await, 404, "not-found");
    assert_problem(
        &step(&coordinator, &id, "cancel", version(&done), Some("x")).await,
        409,
        "conflict",
    );
}

#[tokio::test]
async fn bad_requests_are_named_and_change_nothing() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let other = server.signed_in("pn.officer2").await;
    let good = request(&officer).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut b = good.clone();
                b["window"]["start"] = json!(rfc(now() - 60));
                b
            },
            "/window/start",
        ),
        (
            {
                let mut b = good.clone();
                b["window"]["end"] = json!(rfc(now() + 60));
                b
            },
            "/window/end",
        ),
        (
            {
                let mut b = good.clone();
                b["window"]["start"] = json!("tomorrow");
                b
            },
            "/window/start",
        ),
        (
            {
                let mut b = good.clone();
                b["persons"] = json!([uuid::Uuid::now_v7()]);
                b
            },
            "/persons/0",
        ),
        (
            {
                let mut b = good.clone();
                b["legs"][0]["to"] = json!({"point": {"type": "Point", "coordinates": [67.0, 95.0]}});
                b
            },
            "/legs/0/to/point/coordinates",
        ),
        (
            {
                let mut b = good.clone();
                b["legs"][0]["to"] = json!({});
                b
            },
            "/legs/0/to",
        ),
        (
            {
                let mut b = good.clone();
                let leg = b["legs"][0].clone();
                b["legs"] = json!([leg.clone(), leg]);
                b
            },
            "/legs/1/from",
        ),
        (
            {
                let mut b = good.clone();
                b["purpose"] = json!("");
                b
            },
            "/purpose",
        ),
    ];
    for (body, field) in cases {
        let r = officer.post("/api/v1/movements", body).await;
        let p = assert_problem(&r, 422, "validation");
        assert!(p["field"].as_str().unwrap().starts_with(field), "{field}: {p}");
    }
    // Another company's officer cannot request for this company's persons.
    let r = other.post("/api/v1/movements", good.clone()).await;
    assert_eq!(assert_problem(&r, 422, "validation")["field"], "/persons/0");
    assert_eq!(
        officer.get("/api/v1/movements").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing was created"
    );
    // Rejection needs a reason and a coordinator who is not the requester.
    let created = officer.post("/api/v1/movements", good).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let coordinator = server.signed_in("hn.coordinator").await;
    let s = step(&officer, &id, "submit", version(&created), None).await;
    let a = step(&coordinator, &id, "assess", version(&s), None).await;
    assert_eq!(
        assert_problem(
            &step(&coordinator, &id, "reject", version(&a), None).await,
            422,
            "validation"
        )["field"],
        "/reason"
    );
    assert_problem(
        &step(&coordinator, &id, "assess", version(&a) - 1, None).await,
        409,
        "conflict",
    );
    let r = step(
        &coordinator,
        &id,
        "reject",
        version(&a),
        Some("route through an active protest"),
    )
    .await;
    assert_eq!(r.body["state"], "rejected", "{r:?}");
    assert_eq!(r.body["request"]["rejection"], "route through an active protest");
}

#[tokio::test]
async fn a_release_missed_while_the_server_was_down_happens_at_start_and_is_logged() {
    let mut server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let created = officer.post("/api/v1/movements", request(&officer).await).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let s = step(&officer, &id, "submit", version(&created), None).await;
    let a = step(&coordinator, &id, "assess", version(&s), None).await;
    let once = step(&coordinator, &id, "approve", version(&a), None).await;
    let approved = step(&coordinator2, &id, "approve", version(&once), None).await;
    let team = coordinator.get("/api/v1/escort-teams").await.body[0]["id"].clone();
    // The shortest lead: released 10 min before departure, which is at least 30 min away.
    let planned = coordinator
        .post(
            &format!("/api/v1/movements/{id}/plan"),
            json!({"version": version(&approved), "escort_team": team, "release_lead_s": 600}),
        )
        .await;
    assert_eq!(planned.body["state"], "planned", "{planned:?}");
    // The server goes down; while it is down, the release time passes (moved back an hour
    // in the store, as if the clock had run on).
    server.stop();
    let data = DataDir::new(server.data_dir());
    let store = data.open_store(&KeySource::DataDir).unwrap();
    let mid = jsms_domain::ids::MovementId::from_uuid(id.parse().unwrap());
    let mut m = store.movement(mid).unwrap();
    let v = m.version;
    m.release_at = Some(now() - 3600);
    store.update_movement(&m, v, now()).unwrap();
    drop(store);
    let logins = server.logins.clone();
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    drop(server);
    let server = TestServer::start_instance(dir, logins, &[]);
    // The escort commander (whose one-time code was not used yet) holds a grant once released.
    let escort = server.signed_in("hn.escort").await;
    let mut body = Value::Null;
    for _ in 0..50 {
        body = escort.get(&format!("/api/v1/movements/{id}")).await.body;
        if body["state"] == "released" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(body["state"], "released", "released at start");
    let note = body["request"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["what"] == "release")
        .unwrap()["note"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(note.contains("late"), "{note}");
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(log.contains("late"), "the delay is logged");
}

#[tokio::test]
async fn briefs_differ_per_recipient_and_leaks_are_traced_to_them() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let auditor = server.signed_in("hn.auditor").await;
    let liaison = server.signed_in("pn.liaison").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    let path = format!("/api/v1/movements/{id}/brief");

    let text = |r: &common::Resp| r.body.as_str().map(str::to_owned).unwrap_or_else(|| r.body.to_string());
    let escort_copy = escort.get(&path).await;
    assert_eq!(escort_copy.status, StatusCode::OK, "{escort_copy:?}");
    let escort_text = text(&escort_copy);
    assert!(
        escort_text.contains("FALCON 3") && escort_text.contains("EMERGENCY PROCEDURE"),
        "{escort_text}"
    );
    assert!(escort_text.contains("Wen Lianhe"));
    let planner_text = text(&coordinator.get(&path).await);
    assert_ne!(escort_text, planner_text, "each recipient's copy is worded differently");
    assert_eq!(
        text(&escort.get(&path).await),
        escort_text,
        "the same recipient gets the same copy"
    );
    for outsider in [&officer, &liaison, &coordinator2] {
        assert_problem(&outsider.get(&path).await, 404, "not-found");
    }
    let html = escort.get(&format!("{path}?format=html")).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(text(&html).contains("<pre>") && !text(&html).contains("<script"));
    assert_problem(
        &escort.get(&format!("{path}?format=pdf")).await,
        400,
        "invalid-parameter",
    );

    // A leaked excerpt, lower-cased and reflowed: traced to the escort commander.
    let words: Vec<&str> = escort_text.split_whitespace().collect();
    let leaked = words[words.len() / 3..words.len() / 3 + words.len() * 2 / 5]
        .join(" ")
        .to_lowercase();
    let traced = auditor
        .post(&format!("/api/v1/movements/{id}/leak-trace"), json!({"text": leaked}))
        .await;
    assert_eq!(traced.status, StatusCode::OK, "{traced:?}");
    assert_eq!(traced.body["verdict"]["username"], "hn.escort", "{}", traced.body);
    assert!(traced.body["confidence"].as_f64().unwrap() > 0.999);
    assert_eq!(traced.body["recipients"], 2);
    let unrelated = auditor
        .post(
            &format!("/api/v1/movements/{id}/leak-trace"),
            json!({"text": "the convoy leaves at dawn by the coast road"}),
        )
        .await;
    assert!(unrelated.body["verdict"].is_null(), "{}", unrelated.body);
    assert_problem(
        &coordinator
            .post(&format!("/api/v1/movements/{id}/leak-trace"), json!({"text": leaked}))
            .await,
        403,
        "forbidden",
    );
    assert_eq!(
        assert_problem(
            &auditor
                .post(&format!("/api/v1/movements/{id}/leak-trace"), json!({"text": " "}))
                .await,
            422,
            "validation"
        )["field"],
        "/text"
    );
    // The planners see which variants each recipient received; nobody else does.
    let variants = coordinator.get(&format!("{path}/recipients")).await;
    assert_eq!(variants.status, StatusCode::OK, "{variants:?}");
    let recipients = variants.body["recipients"].as_array().unwrap().clone();
    assert_eq!(recipients.len(), 2, "{}", variants.body);
    let fact = |r: &serde_json::Value, name: &str| {
        r["facts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["fact"] == name)
            .map(|f| f["text"].as_str().unwrap().to_owned())
            .unwrap()
    };
    // The escort and the planner share the operative facts, word for word in their copies.
    let code = fact(&recipients[0], "staging_code");
    assert_eq!(code, fact(&recipients[1], "staging_code"));
    assert_eq!(fact(&recipients[0], "radio_check"), fact(&recipients[1], "radio_check"));
    assert!(escort_text.contains(&code) && planner_text.contains(&code), "{code}");
    assert_problem(&escort.get(&format!("{path}/recipients")).await, 403, "forbidden");
    assert_problem(&liaison.get(&format!("{path}/recipients")).await, 404, "not-found");
    // Tracing from facts: structured or free text; who else knew comes from the audit log.
    let from_facts = auditor
        .post(
            &format!("/api/v1/movements/{id}/leak-trace"),
            json!({"facts": [{"fact": "code_name", "value": code.to_lowercase()}]}),
        )
        .await;
    assert_eq!(from_facts.status, StatusCode::OK, "{from_facts:?}");
    assert_eq!(
        from_facts.body["observations"][0]["fact"], "staging_code",
        "{}",
        from_facts.body
    );
    assert!(from_facts.body["knew_without_copy"].is_array());
    let from_text = auditor
        .post(
            &format!("/api/v1/movements/{id}/leak-trace"),
            json!({"facts_text": format!("the informant said they meet at point {code}")}),
        )
        .await;
    assert_eq!(from_text.status, StatusCode::OK, "{from_text:?}");
    assert_eq!(from_text.body["observed"], 1, "{}", from_text.body);
    assert_eq!(
        assert_problem(
            &auditor
                .post(
                    &format!("/api/v1/movements/{id}/leak-trace"),
                    json!({"facts": [{"fact": "favourite_colour", "value": "blue"}]}),
                )
                .await,
            422,
            "validation"
        )["field"],
        "/facts/0/fact"
    );
    assert_problem(
        &auditor
            .post(
                &format!("/api/v1/movements/{id}/leak-trace"),
                json!({"text": leaked, "facts_text": "x"}),
            )
            .await,
        422,
        "validation",
    );
    // A second movement on the same origin and destination (later, when the escort team is
    // free): the plan warns that it repeats the first one's route, and the predictability
    // report shows the first.
    let second = released_after(&officer, &coordinator, &coordinator2, &escort, 5).await;
    let report = coordinator
        .get(&format!("/api/v1/movements/{second}/predictability"))
        .await;
    assert_eq!(report.status, StatusCode::OK, "{report:?}");
    assert_eq!(
        report.body["same_route"].as_array().unwrap().len(),
        1,
        "{}",
        report.body
    );
    assert_eq!(report.body["same_route"][0]["movement"], json!(id));
    assert!(
        report.body["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("route repeats")),
        "{}",
        report.body
    );
    assert_problem(
        &officer.get(&format!("/api/v1/movements/{second}/predictability")).await,
        403,
        "forbidden",
    );
    // The same from the command line.
    let file = server.dir.path().join("leak.txt");
    std::fs::write(&file, &leaked).unwrap();
    let data = server.data_dir();
    let (code, out, err) = server.cli(&[
        "leak",
        "trace",
        "--movement",
        &id,
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("verdict: hn.escort"), "{out}");
}
