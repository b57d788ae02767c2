//! An escort team is never on two movements whose trips overlap, so a device's positions
//! always belong to one movement: planning refuses the second booking (and the planner is
//! shown the team as busy beforehand), a later trip is accepted, and the team's phone reports
//! land on the released movement only — never on the other one planned for the same team.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::inproc::InProcess;
use common::movements::{request, rfc, step, version};
use common::{Client, assert_problem, now};
use serde_json::{Value, json};

/// Requests a movement with `window` (start, end), and takes it to approved; returns its id
/// and version.
async fn approved(officer: &Client, coord: &Client, coord2: &Client, window: (i64, i64)) -> (String, i64) {
    let mut body: Value = request(officer).await;
    body["window"] = json!({"start": rfc(window.0), "end": rfc(window.1)});
    let created = officer.post("/api/v1/movements", body).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let s = step(officer, &id, "submit", version(&created), None).await;
    let a = step(coord, &id, "assess", version(&s), None).await;
    let once = step(coord, &id, "approve", version(&a), None).await;
    let done = step(coord2, &id, "approve", version(&once), None).await;
    assert_eq!(done.body["state"], "approved", "{done:?}");
    (id, version(&done))
}

async fn plan(coord: &Client, id: &str, version: i64, team: &Value) -> common::Resp {
    coord
        .post(
            &format!("/api/v1/movements/{id}/plan"),
            json!({"version": version, "escort_team": team, "release_lead_s": 36000}),
        )
        .await
}

/// The requesting officer, the two coordinators and the demo's escort team.
async fn staff(s: &InProcess) -> (Client, Client, Client, Value) {
    let officer = s.signed_in("pn.officer").await;
    let coord = s.signed_in("hn.coordinator").await;
    let coord2 = s.signed_in("hn.coordinator2").await;
    let team = coord.get("/api/v1/escort-teams").await.body[0]["id"].clone();
    (officer, coord, coord2, team)
}

/// A device of `team`, as the phone holding its token.
async fn phone_of(s: &InProcess, coord: &Client, team: &Value, name: &str) -> Client {
    let device = coord
        .post(
            &format!("/api/v1/escort-teams/{}/devices", team.as_str().unwrap()),
            json!({"name": name}),
        )
        .await;
    assert_eq!(device.status, 201, "{device:?}");
    let mut phone = s.client();
    phone.bearer = Some(device.body["token"].as_str().unwrap().to_owned());
    phone
}

#[tokio::test]
async fn a_team_is_booked_once_per_trip_and_its_positions_reach_only_that_trip() {
    let s = InProcess::start().await;
    let (officer, coord, coord2, team) = staff(&s).await;

    let (a, va) = approved(&officer, &coord, &coord2, (now() + 1800, now() + 4 * 3600)).await;
    let planned = plan(&coord, &a, va, &team).await;
    assert_eq!(planned.body["state"], "planned", "{planned:?}");

    // A second movement in the same hours: the planner sees the team busy, and planning it
    // with that team is refused, naming the other movement; nothing changes.
    let (b, vb) = approved(&officer, &coord, &coord2, (now() + 1800, now() + 4 * 3600)).await;
    let offered = coord.get(&format!("/api/v1/movements/{b}/escort-teams")).await;
    let row = offered
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["team"]["id"] == team)
        .unwrap()
        .clone();
    assert_eq!(row["available"], false, "{row}");
    assert_eq!(row["busy_with"], json!([a]), "{row}");
    let refused = plan(&coord, &b, vb, &team).await;
    let problem = assert_problem(&refused, 409, "conflict");
    assert!(problem["detail"].as_str().unwrap().contains(&a), "{problem}");
    assert_eq!(
        coord.get(&format!("/api/v1/movements/{b}")).await.body["state"],
        "approved"
    );

    // The same team two days later is free.
    let (c, vc) = approved(&officer, &coord, &coord2, (now() + 48 * 3600, now() + 52 * 3600)).await;
    let later = plan(&coord, &c, vc, &team).await;
    assert_eq!(later.body["state"], "planned", "{later:?}");

    // Only the first trip is due for release; the team's phone reports for it alone.
    assert_eq!(s.services.release_due().await.unwrap(), 1);
    let phone = phone_of(&s, &coord, &team, "FALCON phone").await;
    let assignment = phone.get("/api/v1/tracking/assignment").await;
    assert_eq!(assignment.body["movement"], json!(a), "{assignment:?}");
    let reported = phone
        .post(
            "/api/v1/tracking/positions",
            json!({"positions": [
                {"time": now() - 20, "lat": 24.8601, "lon": 67.0012},
                {"time": now() - 10, "lat": 24.8603, "lon": 67.0015}
            ]}),
        )
        .await;
    assert_eq!(reported.status, 200, "{reported:?}");
    assert_eq!(reported.body["movement"], json!(a));
    assert_eq!(reported.body["accepted"], 2);
    let track = |id: &str| {
        let coord = &coord;
        let path = format!("/api/v1/movements/{id}/track");
        async move {
            let r = coord.get(&path).await;
            assert_eq!(r.status, 200, "{r:?}");
            r.body["positions"].as_array().unwrap().len()
        }
    };
    assert_eq!(track(&a).await, 2, "the released trip has the positions");
    assert_eq!(track(&c).await, 0, "the later trip of the same team has none");
}

#[tokio::test]
async fn the_documented_batch_of_ten_thousand_positions_is_taken_and_one_more_is_refused() {
    let s = InProcess::start().await;
    let (officer, coord, coord2, team) = staff(&s).await;
    let (a, va) = approved(&officer, &coord, &coord2, (now() + 1800, now() + 4 * 3600)).await;
    assert_eq!(plan(&coord, &a, va, &team).await.body["state"], "planned");
    assert_eq!(s.services.release_due().await.unwrap(), 1);
    let phone = phone_of(&s, &coord, &team, "batch phone").await;
    let batch = |n: i64| {
        let start = now() - n;
        json!({"positions": (0..n).map(|i| json!({
            "time": start + i, "lat": 24.860_000 + i as f64 * 1e-7, "lon": 67.001_000,
            "speed": 8.5, "heading": 90.0, "accuracy": 5.0, "battery": 80.0
        })).collect::<Vec<_>>()})
    };
    let full = batch(10_000);
    assert!(
        full.to_string().len() > 256 * 1024,
        "larger than the default body limit"
    );
    let taken = phone.post("/api/v1/tracking/positions", full).await;
    assert_eq!(taken.status, 200, "{taken:?}");
    assert_eq!(taken.body["accepted"], 10_000);
    let refused = phone.post("/api/v1/tracking/positions", batch(10_001)).await;
    assert_eq!(refused.status, 422, "{refused:?}");
}
