//! Movement helpers shared by the tests: a request, lifecycle steps, a released movement.

use super::{Client, Resp, now};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub fn rfc(t: i64) -> String {
    jsms_server::wire::rfc3339(t)
}

pub async fn find(c: &Client, path: &str, key: &str, value: &str) -> Value {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i[key].as_str().is_some_and(|v| v.contains(value)))
        .cloned()
        .unwrap_or_else(|| panic!("no {value} in {path}: {:?}", r.body))
}

/// A request for Wen Lianhe (protection level A: four eyes) from the Kharadar works to the
/// staff residence, departing in 30 min to 4 h.
pub async fn request(officer: &Client) -> Value {
    let person = find(officer, "/api/v1/persons", "full_name", "Wen Lianhe").await;
    let works = find(officer, "/api/v1/sites", "name", "Kharadar").await;
    let residence = find(officer, "/api/v1/sites", "name", "Staff Residence").await;
    json!({
        "persons": [person["id"]],
        "legs": [{"from": {"site": works["id"]}, "to": {"site": residence["id"]}}],
        "purpose": "Weekly coordination meeting",
        "window": {"start": rfc(now() + 1800), "end": rfc(now() + 4 * 3600)},
        "vehicles": ["Company van"]
    })
}

pub async fn step(c: &Client, id: &str, transition: &str, version: i64, reason: Option<&str>) -> Resp {
    let mut body = json!({"transition": transition, "version": version});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    c.post(&format!("/api/v1/movements/{id}/transitions"), body).await
}

pub fn version(r: &Resp) -> i64 {
    r.body["version"].as_i64().unwrap()
}

/// Runs a fresh movement of Bridgeworks through to `released`; returns its id.
pub async fn released(officer: &Client, coordinator: &Client, coordinator2: &Client, escort: &Client) -> String {
    released_after(officer, coordinator, coordinator2, escort, 0).await
}

/// [`released`] with the request's window `hours` later: a second trip of the same escort
/// team must not overlap the first (planning refuses a double booking).
pub async fn released_after(
    officer: &Client,
    coordinator: &Client,
    coordinator2: &Client,
    escort: &Client,
    hours: i64,
) -> String {
    let mut body = request(officer).await;
    body["window"] = json!({"start": rfc(now() + 1800 + hours * 3600), "end": rfc(now() + (4 + hours) * 3600)});
    let created = officer.post("/api/v1/movements", body).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let s = step(officer, &id, "submit", version(&created), None).await;
    let a = step(coordinator, &id, "assess", version(&s), None).await;
    let once = step(coordinator, &id, "approve", version(&a), None).await;
    let approved = step(coordinator2, &id, "approve", version(&once), None).await;
    let team = coordinator.get("/api/v1/escort-teams").await.body[0]["id"].clone();
    let planned = coordinator
        .post(
            &format!("/api/v1/movements/{id}/plan"),
            json!({"version": version(&approved), "escort_team": team, "release_lead_s": 36000}),
        )
        .await;
    assert_eq!(planned.body["state"], "planned", "{planned:?}");
    for _ in 0..60 {
        if escort.get(&format!("/api/v1/movements/{id}")).await.body["state"] == "released" {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never released");
}
