//! Generated from the route table — the OpenAPI document the router is built from — not
//! endpoint by endpoint: a route added tomorrow is checked without a line here.
//!
//! - Every read answers 200 to some demo role, and, unless it is listed in [`UNRECORDED`]
//!   with the reason it discloses nothing protected, leaves entries in the audit log (read
//!   back from the log's own database) naming the caller and, for one object, that object.
//! - While the log cannot be written, every such read answers 503 and no data.
//! - While the log cannot be written, every route that changes something answers an error
//!   (503 for the requests below that pass validation), and the database is left as it was.
//!
//! The router runs in this process over the demo scenario, with an audit sink that can be
//! broken like a full disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::inproc::InProcess;
use common::movements::{request, step, version};
use common::{Client, Resp};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Reads that disclose nothing protected, and so leave no entry; each with the reason.
const UNRECORDED: &[(&str, &str)] = &[
    ("/healthz", "liveness only"),
    ("/readyz", "readiness only"),
    ("/metrics", "counters, no objects"),
    ("/api/v1/auth/session", "the caller's own session"),
    ("/api/v1/me", "the caller's own profile"),
    ("/api/v1/parties", "the names of the two parties"),
    ("/api/v1/map/config", "tile server settings"),
    ("/api/v1/map/roads", "the public OpenStreetMap road network"),
    ("/api/v1/audit/key", "the log's public key"),
    ("/api/v1/audit/checkpoint", "a signed tree head, for witnesses"),
    ("/api/v1/audit/consistency", "hashes only"),
    ("/api/v1/audit/inclusion", "hashes only"),
    (
        "/api/v1/organisations",
        "names and kinds of organisations, read by every user of both parties",
    ),
    (
        "/api/v1/organisations/{id}",
        "an organisation's name and kind, read by every user of both parties",
    ),
    (
        "/api/v1/decisions/authorities",
        "who approves decisions for each party, known to both by the agreement",
    ),
    (
        "/api/v1/me/notifications",
        "the caller's own notices; the objects they point to are recorded when opened",
    ),
];

/// Event streams: opened, they are checked for refusal while the log is down (each event is
/// a recorded disclosure, checked in the tracking and intelligence tests).
const STREAMS: &[&str] = &[
    "/api/v1/alerts/stream",
    "/api/v1/reports/stream",
    "/api/v1/tracking/stream",
];

/// Reads that report a position: the OsmAnd protocol sends positions as GET requests.
const WRITING_GETS: &[&str] = &["/api/v1/tracking/osmand"];

/// Query strings that reads need.
const QUERIES: &[(&str, &str)] = &[
    ("/api/v1/audit/consistency", "?old=1&new=2"),
    ("/api/v1/audit/inclusion", "?index=0"),
    ("/api/v1/audit/who-knew", "?resource=person:{persons}"),
    (
        "/api/v1/tracking/osmand",
        "?id={device}&lat=24.8601&lon=67.0012&timestamp={now}",
    ),
];

/// Roles tried, in order, for each read: the first that gets 200 is the reader (`device`:
/// the escort team's tracking device, by its bearer token).
const READERS: &[&str] = &[
    "device",
    "hn.coordinator",
    "hn.analyst",
    "hn.admin",
    "hn.auditor",
    "pn.liaison",
    "hn.escort",
    "pn.officer",
];

/// Who sends each change, by the first segment after `/api/v1/`.
fn writer(path: &str) -> &'static str {
    let area = path.trim_start_matches("/api/v1/").split('/').next().unwrap_or("");
    match area {
        "persons" => "pn.officer",
        "reports" | "zones" => "hn.analyst",
        "users" | "api-tokens" | "privilege-requests" => "hn.admin",
        "audit" => "hn.auditor",
        "tracking" => "device",
        _ if path == "/api/v1/movements" => "pn.officer",
        _ if path.ends_with("/minutes/approval") => "hn.coordinator2",
        _ if path.ends_with("/sos") || path.ends_with("/check-in") => "hn.escort",
        _ => "hn.coordinator",
    }
}

/// Requests that pass validation, so that only the log stands between them and a change.
fn valid_body(method: &str, template: &str, ids: &Ids) -> Option<Value> {
    let soon = common::now() + 3600;
    let rfc = jsms_server::wire::rfc3339;
    Some(match (method, template) {
        ("POST", "/api/v1/persons") => json!({"full_name": "Not Written", "employer_org_id": ids.get("employer"),
            "protection_level": "C", "status": "in_country"}),
        ("PATCH", "/api/v1/persons/{id}" | "/api/v1/sites/{id}" | "/api/v1/organisations/{id}") => {
            json!({"version": 1})
        }
        ("POST", "/api/v1/zones") => json!({"type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[[66.995, 24.855], [67.0, 24.855], [67.0, 24.86], [66.995, 24.855]]]},
            "properties": {"severity": 3, "kind": "ied_risk", "valid_from": "2026-01-01T00:00:00Z", "source": "route table"}}),
        ("POST", "/api/v1/movements") => ids.movement_request.clone(),
        ("POST", "/api/v1/movements/{id}/transitions") => {
            json!({"transition": "cancel", "version": ids.get("movement_version").parse::<i64>().unwrap(), "reason": "route table"})
        }
        ("POST", "/api/v1/routes") => json!({"from": {"type": "Point", "coordinates": [66.9958, 24.8548]},
            "to": {"type": "Point", "coordinates": [67.0105, 24.8668]}}),
        ("POST", "/api/v1/tracking/positions") => {
            json!({"positions": [{"time": common::now(), "lat": 24.8601, "lon": 67.0012}]})
        }
        ("POST", "/api/v1/tracking/sos" | "/api/v1/tracking/osmand") => json!({}),
        ("POST", "/api/v1/api-tokens") => {
            json!({"name": "route table", "org_id": ids.get("host_org"), "scopes": ["registry_read"], "expires_in_days": 30})
        }
        ("POST", "/api/v1/movements/{id}/sos" | "/api/v1/movements/{id}/check-in") => json!({}),
        ("POST", "/api/v1/meetings") => json!({"title": "route table", "starts_at": rfc(soon), "place": "here",
            "attendance": [{"party": ids.get("host")}]}),
        ("PUT", "/api/v1/meetings/{id}/minutes") => json!({"version": 999_999, "minutes": "route table"}),
        ("POST", "/api/v1/meetings/{id}/minutes/approval" | "/api/v1/meetings/{id}/actions/{n}/done") => {
            json!({"version": 999_999})
        }
        ("POST", "/api/v1/decisions") => json!({"kind": "other", "title": "route table", "text": "route table"}),
        ("POST", "/api/v1/incidents") => json!({"kind": "suspicious_activity", "title": "route table", "severity": 2,
            "occurred_at": rfc(soon - 7200), "place": {"type": "Point", "coordinates": [67.0, 24.86]},
            "narrative": "route table", "shared": true}),
        ("POST", "/api/v1/incidents/{id}/updates") => json!({"text": "route table", "version": 999_999}),
        ("POST", "/api/v1/incidents/{id}/investigation") => {
            json!({"status": "under_investigation", "version": 999_999})
        }
        ("POST", "/api/v1/reports") => {
            json!({"title": "route table", "body": "route table", "tlp": "amber", "shared": true,
            "observed_at": rfc(soon - 7200), "grading": {"reliability": "C", "credibility": 3}})
        }
        ("POST", "/api/v1/reports/{id}/marking") => json!({"version": 999_999, "tlp": "red", "reason": "route table"}),
        ("POST", "/api/v1/alerts/{id}/acknowledge" | "/api/v1/alerts/{id}/resolve") => json!({"note": "route table"}),
        ("POST", "/api/v1/users/{id}/disable" | "/api/v1/users/{id}/enable" | "/api/v1/users/{id}/reset-mfa") => {
            json!({})
        }
        ("POST", "/api/v1/privilege-requests/{id}/rejection") => json!({"note": "route table"}),
        _ => return None,
    })
}

/// Identifiers of the scenario's objects, by collection.
struct Ids {
    by_area: HashMap<String, String>,
    movement_request: Value,
}

impl Ids {
    fn get(&self, key: &str) -> String {
        self.by_area
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in the scenario"))
    }

    /// `template` with its parameters filled: `{id}` by the object of its collection (a
    /// fresh id where the scenario has none), `{n}` by 0, `{sha256}` by the attachment's.
    fn fill(&self, template: &str) -> String {
        let area = template
            .trim_start_matches("/api/v1/")
            .split("/{")
            .next()
            .unwrap_or("")
            .to_owned();
        let id = self
            .by_area
            .get(&area)
            .cloned()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let mut path = template
            .replace("{id}", &id)
            .replace("{n}", "0")
            .replace("{sha256}", &self.by_area.get("sha256").cloned().unwrap_or_default());
        if let Some((_, q)) = QUERIES.iter().find(|(t, _)| *t == template) {
            path.push_str(
                &q.replace("{persons}", &self.get("persons"))
                    .replace("{device}", &self.get("device"))
                    .replace("{now}", &common::now().to_string()),
            );
        }
        path
    }
}

fn first_id(r: &Resp) -> String {
    let items = r.body.get("items").unwrap_or(&r.body);
    items[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no items: {r:?}"))
        .to_owned()
}

/// Every row of every table of the instance's database, in one string.
fn database_contents(s: &InProcess) -> BTreeMap<String, Vec<String>> {
    let conn =
        rusqlite::Connection::open_with_flags(s.data.database(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut row = String::new();
                for i in 0..n {
                    row.push_str(&format!("{:?}|", r.get_ref(i)?));
                }
                Ok(row)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.insert(t, rows);
    }
    out
}

/// Opens an event stream; returns its status (the stream itself is dropped).
async fn open_stream(c: &Client, path: &str) -> u16 {
    let resp = c
        .http
        .get(format!("{}{path}", c.base))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

async fn scenario(s: &InProcess, clients: &HashMap<&str, Client>) -> Ids {
    let mut by_area: HashMap<String, String> = HashMap::new();
    let (coord, officer, analyst, admin) = (
        &clients["hn.coordinator"],
        &clients["pn.officer"],
        &clients["hn.analyst"],
        &clients["hn.admin"],
    );
    for (area, c) in [
        ("persons", coord),
        ("sites", coord),
        ("organisations", coord),
        ("escort-teams", coord),
        ("reports", analyst),
        ("users", admin),
    ] {
        let r = c.get(&format!("/api/v1/{area}")).await;
        by_area.insert(area.to_owned(), first_id(&r));
    }
    let persons = officer.get("/api/v1/persons").await;
    by_area.insert(
        "employer".into(),
        persons.body["items"][0]["employer_org_id"].as_str().unwrap().to_owned(),
    );
    let parties = coord.get("/api/v1/parties").await.body;
    by_area.insert("host".into(), parties[0]["id"].as_str().unwrap().to_owned());
    let host_orgs = coord
        .get(&format!("/api/v1/organisations?party_id={}", by_area["host"]))
        .await;
    by_area.insert("host_org".into(), first_id(&host_orgs));

    // A zone, a released movement with an SOS alert, a meeting, a decision with an
    // attachment, an incident, a pending privilege request.
    let zone_body = valid_body(
        "POST",
        "/api/v1/zones",
        &Ids {
            by_area: by_area.clone(),
            movement_request: Value::Null,
        },
    );
    let zone = analyst.post("/api/v1/zones", zone_body.unwrap()).await;
    assert_eq!(zone.status, 201, "{zone:?}");
    by_area.insert("zones".into(), zone.body["id"].as_str().unwrap().to_owned());

    let movement_request = request(officer).await;
    let created = officer.post("/api/v1/movements", movement_request.clone()).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let submitted = step(officer, &id, "submit", version(&created), None).await;
    let assessed = step(coord, &id, "assess", version(&submitted), None).await;
    let once = step(coord, &id, "approve", version(&assessed), None).await;
    let approved = step(&clients["hn.coordinator2"], &id, "approve", version(&once), None).await;
    let planned = coord
        .post(
            &format!("/api/v1/movements/{id}/plan"),
            json!({"version": version(&approved), "escort_team": by_area["escort-teams"], "release_lead_s": 36000}),
        )
        .await;
    assert_eq!(planned.body["state"], "planned", "{planned:?}");
    assert_eq!(s.services.release_due().await.unwrap(), 1);
    let sos = clients["hn.escort"]
        .post(&format!("/api/v1/movements/{id}/sos"), json!({}))
        .await;
    assert_eq!(sos.status, 201, "{sos:?}");
    by_area.insert("movements".into(), id);
    by_area.insert("alerts".into(), first_id(&coord.get("/api/v1/alerts").await));

    let ids = Ids {
        by_area: by_area.clone(),
        movement_request: movement_request.clone(),
    };
    let meeting = coord
        .post(
            "/api/v1/meetings",
            valid_body("POST", "/api/v1/meetings", &ids).unwrap(),
        )
        .await;
    assert_eq!(meeting.status, 201, "{meeting:?}");
    let mid = meeting.body["id"].as_str().unwrap().to_owned();
    let minutes = coord
        .send(
            Method::PUT,
            &format!("/api/v1/meetings/{mid}/minutes"),
            Some(json!({"version": meeting.body["version"], "minutes": "route table", "actions": [{"text": "route table"}]})),
        )
        .await;
    assert_eq!(minutes.status, 200, "{minutes:?}");
    by_area.insert("meetings".into(), mid);

    let decision = coord
        .post(
            "/api/v1/decisions",
            valid_body("POST", "/api/v1/decisions", &ids).unwrap(),
        )
        .await;
    assert_eq!(decision.status, 201, "{decision:?}");
    let did = decision.body["id"].as_str().unwrap().to_owned();
    let v = decision.body["version"].to_string();
    let attached = coord
        .raw(
            Method::POST,
            &format!("/api/v1/decisions/{did}/attachments?name=annex.txt"),
            "application/octet-stream",
            b"an annex".to_vec(),
            &[("if-match", v.as_str())],
        )
        .await;
    assert_eq!(attached.status, 200, "{attached:?}");
    by_area.insert(
        "sha256".into(),
        attached.body["attachments"][0]["sha256"].as_str().unwrap().to_owned(),
    );
    by_area.insert("decisions".into(), did);

    let incident = coord
        .post(
            "/api/v1/incidents",
            valid_body("POST", "/api/v1/incidents", &ids).unwrap(),
        )
        .await;
    assert_eq!(incident.status, 201, "{incident:?}");
    by_area.insert("incidents".into(), incident.body["id"].as_str().unwrap().to_owned());

    let users = admin.get("/api/v1/users?limit=200").await;
    let me = &users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "hn.escort")
        .unwrap();
    let raise = admin
        .patch(
            &format!("/api/v1/users/{}", me["id"].as_str().unwrap()),
            json!({"version": me["version"], "clearance": "secret"}),
        )
        .await;
    assert!(raise.status.is_success(), "{raise:?}");
    by_area.insert(
        "privilege-requests".into(),
        first_id(&admin.get("/api/v1/privilege-requests").await),
    );
    by_area.insert("users".into(), me["id"].as_str().unwrap().to_owned());

    let token = admin
        .post(
            "/api/v1/api-tokens",
            valid_body("POST", "/api/v1/api-tokens", &ids).unwrap(),
        )
        .await;
    assert_eq!(token.status, 201, "{token:?}");
    by_area.insert(
        "api-tokens".into(),
        token.body["token"]["id"].as_str().unwrap().to_owned(),
    );
    let device = coord
        .post(
            &format!("/api/v1/escort-teams/{}/devices", by_area["escort-teams"]),
            json!({"name": "route table phone"}),
        )
        .await;
    assert_eq!(device.status, 201, "{device:?}");
    by_area.insert("device".into(), device.body["token"].as_str().unwrap().to_owned());
    let movement = coord.get(&format!("/api/v1/movements/{}", by_area["movements"])).await;
    by_area.insert("movement_version".into(), movement.body["version"].to_string());
    // A signed checkpoint, as the checkpointer of a running server makes.
    s.services.audit.sign_checkpoint().unwrap();
    Ids {
        by_area,
        movement_request,
    }
}

#[tokio::test]
async fn every_route_records_what_it_discloses_and_fails_closed_without_the_log() {
    let s = InProcess::start().await;
    let mut clients: HashMap<&str, Client> = HashMap::new();
    for who in READERS.iter().chain(&["hn.coordinator2", "hn.admin2"]) {
        if *who != "device" {
            clients.insert(who, s.signed_in(who).await);
        }
    }
    let ids = scenario(&s, &clients).await;
    let mut device = s.client();
    device.bearer = Some(ids.get("device"));
    clients.insert("device", device);

    let (_, spec) = jsms_server::api();
    let spec = serde_json::to_value(&spec).unwrap();
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    for (template, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            if method == "GET" && !WRITING_GETS.contains(&template.as_str()) {
                reads.push(template.clone());
            } else {
                writes.push((method, template.clone()));
            }
        }
    }
    assert!(
        reads.len() > 40 && writes.len() > 60,
        "{} reads, {} writes",
        reads.len(),
        writes.len()
    );
    for (listed, _) in UNRECORDED {
        assert!(reads.contains(&(*listed).to_owned()), "{listed} is not a route");
    }

    let mut failures = Vec::new();
    let mut recorded_reads = 0;
    for template in &reads {
        let path = ids.fill(template);
        if STREAMS.contains(&template.as_str()) {
            let open = open_stream(&clients["hn.coordinator"], &path).await;
            s.break_log(true);
            let closed = open_stream(&clients["hn.coordinator"], &path).await;
            s.break_log(false);
            if open != 200 || closed != 503 {
                failures.push(format!("stream {template}: {open} with the log, {closed} without"));
            }
            continue;
        }
        let mut reader = None;
        for who in READERS {
            let before = s.log_size();
            let r = clients[who].get(&path).await;
            if r.status == 200 {
                reader = Some((*who, r, s.entries_from(before)));
                break;
            }
        }
        let Some((who, answer, entries)) = reader else {
            failures.push(format!("GET {template}: no role reads it"));
            continue;
        };
        if UNRECORDED.iter().any(|(t, _)| t == template) {
            continue;
        }
        recorded_reads += 1;
        let allowed: Vec<_> = entries
            .iter()
            .filter(|e| {
                e.outcome == jsms_audit::entry::Outcome::Allow
                    && (who == "device" && e.principal.starts_with("device:")
                        || e.principal_name.as_deref() == Some(who))
            })
            .collect();
        if allowed.is_empty() {
            failures.push(format!("GET {template} as {who}: 200 and no entry in the log"));
            continue;
        }
        if template.contains("{id}") {
            let id = path.split('/').nth(4).unwrap();
            if !allowed
                .iter()
                .any(|e| e.resource.as_deref().is_some_and(|r| r.contains(id)))
            {
                failures.push(format!(
                    "GET {template} as {who}: no entry names {id}: {:?}",
                    allowed.iter().map(|e| (&e.action, &e.resource)).collect::<Vec<_>>()
                ));
            }
        }
        s.break_log(true);
        let refused = clients[who].get(&path).await;
        s.break_log(false);
        if refused.status != 503 || refused.body["type"] != "urn:jsms:problem:unavailable" {
            failures.push(format!("GET {template} as {who} without the log: {refused:?}"));
        }
        if let Some(id) = answer.body.get("id").and_then(Value::as_str)
            && refused.body.to_string().contains(id)
        {
            failures.push(format!("GET {template} as {who} without the log: data in the refusal"));
        }
    }

    // Changes, while the log cannot be written: none succeeds, nothing changes.
    let before = database_contents(&s);
    let mut refused_valid = 0;
    s.break_log(true);
    for (method, template) in &writes {
        if template.ends_with("/sign-out") {
            continue;
        }
        let path = ids.fill(template);
        let who = writer(template);
        let c = &clients[who];
        let body = valid_body(method, template, &ids);
        let r = match method.as_str() {
            "DELETE" => {
                Client::finish(
                    c.http
                        .delete(format!("{}{path}", c.base))
                        .header("if-match", "\"v1\"")
                        .header("x-csrf-token", c.csrf.clone().unwrap()),
                )
                .await
            }
            "GET" => c.get(&path).await,
            m => {
                c.send(
                    Method::from_bytes(m.as_bytes()).unwrap(),
                    &path,
                    Some(body.clone().unwrap_or(json!({}))),
                )
                .await
            }
        };
        if r.status.is_success() {
            failures.push(format!("{method} {template} as {who} succeeded without the log: {r:?}"));
        } else if body.is_some() || method == "DELETE" {
            if r.status == 503 {
                refused_valid += 1;
            } else {
                failures.push(format!("{method} {template} as {who} without the log: {r:?}, not 503"));
            }
        }
    }
    // Signing out needs the log too: the session stays.
    let out = clients["pn.liaison"].post("/api/v1/auth/sign-out", json!({})).await;
    s.break_log(false);
    if out.status.is_success() {
        failures.push(format!("sign-out without the log: {out:?}"));
    }
    let after = database_contents(&s);
    for (table, rows) in &before {
        // A refused request still counts as activity of its session (the idle timeout).
        if table == "sessions" {
            continue;
        }
        if after.get(table) != Some(rows) {
            failures.push(format!("table {table} changed while the log was down"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(recorded_reads >= 30, "{recorded_reads} recorded reads");
    assert!(refused_valid >= 20, "{refused_valid} valid changes refused");
}
