//! The authorization matrix, driven by a table: every protected endpoint × every role of both
//! parties × resources of the same and the other party and organisation. Allowed writes are
//! sent with a stale version, so an allow answers 409 and nothing changes. Denied objects the
//! caller may not know about answer exactly like missing ones; forbidden fields are absent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Client, TestServer, enrolled_admin, without_request_id};
use reqwest::Method;
use serde_json::json;
use std::collections::HashMap;

const ROLES: [&str; 11] = [
    "hn.coordinator",
    "hn.escort",
    "hn.analyst",
    "hn.auditor",
    "hn.admin",
    "pn.liaison",
    "pn.officer",
    "pn.officer2",
    "pn.analyst",
    "pn.auditor",
    "pn.admin",
];

/// One row: method, path (with `{P_B}`-style placeholders), and the expected answer per
/// principal as `name:status` items; `*` is everyone else. A `p` suffix means personal data
/// must be present, `n` that it must be absent.
const MATRIX: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/api/v1/persons/{P_B}",
        "hn.coordinator:200p pn.officer:200p pn.liaison:200n *:404",
    ),
    (
        "GET",
        "/api/v1/persons/{P_H}",
        "hn.coordinator:200p pn.officer2:200p pn.liaison:200n *:404",
    ),
    (
        "PATCH",
        "/api/v1/persons/{P_B}",
        "hn.coordinator:409 pn.officer:409 pn.liaison:403 *:404",
    ),
    (
        "DELETE",
        "/api/v1/persons/{P_B}",
        "hn.coordinator:409 pn.officer:409 pn.liaison:403 *:404",
    ),
    ("GET", "/api/v1/users", "hn.admin:200 pn.admin:200 *:403"),
    ("GET", "/api/v1/users/{U_HN}", "hn.admin:200 *:404"),
    ("GET", "/api/v1/users/{U_PN}", "pn.admin:200 *:404"),
    ("PATCH", "/api/v1/users/{U_HN}", "hn.admin:409 *:404"),
    ("POST", "/api/v1/users/{U_PN}/enable", "pn.admin:200 *:404"),
    ("GET", "/api/v1/api-tokens", "hn.admin:200 pn.admin:200 *:403"),
    (
        "GET",
        "/api/v1/sites/{S}",
        "hn.auditor:404 pn.auditor:404 hn.admin:404 pn.admin:404 *:200",
    ),
    (
        "PATCH",
        "/api/v1/sites/{S}",
        "hn.coordinator:409 hn.auditor:404 pn.auditor:404 hn.admin:404 pn.admin:404 *:403",
    ),
    (
        "GET",
        "/api/v1/sites",
        "hn.auditor:403 pn.auditor:403 hn.admin:403 pn.admin:403 *:200",
    ),
    ("GET", "/api/v1/organisations/{O_HN}", "*:200"),
    ("PATCH", "/api/v1/organisations/{O_HN}", "hn.admin:409 *:403"),
    ("PATCH", "/api/v1/organisations/{O_PN}", "pn.admin:409 *:403"),
    ("GET", "/api/v1/audit/entries", "hn.auditor:200 pn.auditor:200 *:403"),
    (
        "GET",
        "/api/v1/audit/who-knew?resource=person:{P_B}",
        "hn.auditor:200 pn.auditor:200 *:403",
    ),
    (
        "GET",
        "/api/v1/audit/inclusion?index=0",
        "hn.auditor:200 pn.auditor:200 *:403",
    ),
    ("GET", "/api/v1/audit/alerts", "hn.auditor:200 pn.auditor:200 *:403"),
    ("GET", "/api/v1/break-glass", "hn.auditor:200 pn.auditor:200 *:403"),
    ("GET", "/api/v1/audit/key", "*:200"),
    (
        "GET",
        "/api/v1/zones",
        "hn.auditor:403 pn.auditor:403 hn.admin:403 pn.admin:403 *:200",
    ),
    // A draft movement of Bridgeworks: its officer, host coordinators and the partner's
    // liaison see it; nobody else learns it exists.
    (
        "GET",
        "/api/v1/movements/{M}",
        "hn.coordinator:200 pn.officer:200 pn.liaison:200 *:404",
    ),
    // Allowed steps answer 409 (stale version); the liaison sees but may not act.
    (
        "POST",
        "/api/v1/movements/{M}/transitions",
        "hn.coordinator:409 pn.officer:409 pn.liaison:403 *:404",
    ),
    (
        "GET",
        "/api/v1/movements/{M}/exposure",
        "hn.coordinator:200 hn.auditor:200 pn.auditor:200 *:404",
    ),
    // Who received which variant of the brief: the movement's planners only, under the plan's
    // need to know (a draft has no plan, so nobody, a host coordinator included, reaches it).
    ("GET", "/api/v1/movements/{M}/brief/recipients", "*:404"),
    // The escort teams free for its window: host coordinators plan; the movement's other
    // readers are told no; nobody else learns it exists.
    (
        "GET",
        "/api/v1/movements/{M}/escort-teams",
        "hn.coordinator:200 pn.officer:403 pn.liaison:403 *:404",
    ),
    ("GET", "/api/v1/movements", "*:200"),
    ("GET", "/api/v1/escort-teams", "hn.coordinator:200 hn.escort:200 *:403"),
    ("GET", "/api/v1/map/roads", "*:200"),
    // Decisions are joint: the staff of both parties read them; administrators do not.
    ("GET", "/api/v1/decisions", "hn.admin:403 pn.admin:403 *:200"),
    ("GET", "/api/v1/decisions/{D}", "hn.admin:403 pn.admin:403 *:200"),
    ("GET", "/api/v1/decisions/{D}/export", "hn.admin:403 pn.admin:403 *:200"),
    // Approving: only a designated authority of a party other than the proposer's own
    // person gets as far as the signature check (422: the test's signature is not valid);
    // everyone else is refused by the decision's rules (409); administrators read nothing.
    (
        "POST",
        "/api/v1/decisions/{D}/actions",
        "pn.liaison:422 hn.admin:403 pn.admin:403 *:409",
    ),
    // Proposing: coordinators, liaison officers and analysts get past the authorization to
    // the validation of the (bad) kind; everyone else is refused.
    (
        "POST",
        "/api/v1/decisions",
        "hn.coordinator:422 hn.analyst:422 pn.liaison:422 pn.analyst:422 *:403",
    ),
    // Attaching: the proposer (hn.coordinator) reaches the stale version, everyone else who
    // reads decisions is refused by the decision's rules (409); administrators read nothing.
    (
        "POST",
        "/api/v1/decisions/{D}/attachments?name=m.txt&version=999999",
        "hn.admin:403 pn.admin:403 *:409",
    ),
    (
        "GET",
        "/api/v1/decisions/{D}/attachments/0000000000000000000000000000000000000000000000000000000000000000",
        "hn.admin:403 pn.admin:403 *:404",
    ),
    ("GET", "/api/v1/decisions/authorities", "*:200"),
    // Naming authorities: a party's administrators (here an unknown user: 422), nobody else.
    (
        "PUT",
        "/api/v1/decisions/authorities",
        "hn.admin:422 pn.admin:422 *:403",
    ),
    // Every signed-in user has their own notifications; another's answers like a missing one.
    ("GET", "/api/v1/me/notifications", "*:200"),
    ("POST", "/api/v1/me/notifications/{N}/read", "*:404"),
    // Coordination: the operational staff of the parties involved. Auditors list meetings
    // (metadata: none they may open) but never read minutes; one party's meetings are
    // invisible to the other.
    ("GET", "/api/v1/meetings", "hn.admin:403 pn.admin:403 *:200"),
    (
        "GET",
        "/api/v1/meetings/{MT}",
        "hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:200",
    ),
    (
        "GET",
        "/api/v1/meetings/{MT_HOST}",
        "hn.coordinator:200 hn.escort:200 hn.analyst:200 *:404",
    ),
    ("GET", "/api/v1/dashboard", "hn.admin:403 pn.admin:403 *:200"),
    // Organising: coordinators and liaison officers reach the validation (no attendance).
    ("POST", "/api/v1/meetings", "hn.coordinator:422 pn.liaison:422 *:403"),
    // Minutes: representatives of the attending parties reach the stale version (409).
    (
        "PUT",
        "/api/v1/meetings/{MT}/minutes",
        "hn.coordinator:409 pn.liaison:409 hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:403",
    ),
    (
        "POST",
        "/api/v1/meetings/{MT}/minutes/approval",
        "hn.coordinator:409 pn.liaison:409 hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:403",
    ),
    // Corrections: representatives learn the minutes are not final yet (409).
    (
        "POST",
        "/api/v1/meetings/{MT}/corrections",
        "hn.coordinator:409 pn.liaison:409 hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:403",
    ),
    // An action item is closed by its owner (hn.escort) or a representative.
    (
        "POST",
        "/api/v1/meetings/{MT}/actions/0/done",
        "hn.coordinator:409 pn.liaison:409 hn.escort:409 hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:403",
    ),
    ("GET", "/api/v1/map/config", "*:200"),
    // Threat reports of the host's analyst, one per marking: the marking alone decides.
    // (The report stream admits every user and decides per report: tests/intel.rs.)
    ("GET", "/api/v1/reports", "*:200"),
    ("GET", "/api/v1/reports/{R_RED}", "hn.analyst:200 *:404"),
    (
        "GET",
        "/api/v1/reports/{R_AMBER}",
        "hn.coordinator:200 hn.escort:200 hn.analyst:200 *:404",
    ),
    (
        "GET",
        "/api/v1/reports/{R_SHARED}",
        "hn.coordinator:200 hn.escort:200 hn.analyst:200 pn.liaison:200 pn.analyst:200 *:404",
    ),
    (
        "GET",
        "/api/v1/reports/{R_STRICT}",
        "hn.analyst:200 pn.liaison:200 pn.analyst:200 *:404",
    ),
    // Auditors read metadata, never report bodies, whatever the marking.
    (
        "GET",
        "/api/v1/reports/{R_GREEN}",
        "hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:200",
    ),
    ("GET", "/api/v1/reports/{R_RED}/stix", "hn.analyst:200 *:404"),
    (
        "GET",
        "/api/v1/reports/{R_GREEN}/stix",
        "hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:200",
    ),
    // Administrators read no report: their export is a bundle without reports.
    ("GET", "/api/v1/reports/export", "*:200"),
    // Writing and importing: analysts, coordinators and liaison officers reach the
    // validation of their (bad) input; everyone else is refused.
    (
        "POST",
        "/api/v1/reports",
        "hn.coordinator:422 hn.analyst:422 pn.liaison:422 pn.analyst:422 *:403",
    ),
    (
        "POST",
        "/api/v1/reports/import",
        "hn.coordinator:422 hn.analyst:422 pn.liaison:422 pn.analyst:422 *:403",
    ),
    // Markings change by the owning party's analysts and coordinators (stale version: 409);
    // other readers learn they may not; administrators learn nothing.
    (
        "POST",
        "/api/v1/reports/{R_GREEN}/marking",
        "hn.coordinator:409 hn.analyst:409 hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:403",
    ),
    // Incidents of the host: one kept to the host, one released to the partner.
    ("GET", "/api/v1/incidents", "*:200"),
    (
        "GET",
        "/api/v1/incidents/{I_HOST}",
        "hn.coordinator:200 hn.escort:200 hn.analyst:200 *:404",
    ),
    // Auditors never read incident narratives.
    (
        "GET",
        "/api/v1/incidents/{I_SHARED}",
        "hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:200",
    ),
    // Investigators answer 409 (stale version); readers learn they may not; others nothing.
    (
        "POST",
        "/api/v1/incidents/{I_SHARED}/updates",
        "hn.coordinator:409 hn.analyst:409 hn.admin:404 pn.admin:404 hn.auditor:404 pn.auditor:404 *:403",
    ),
    (
        "POST",
        "/api/v1/incidents/{I_HOST}/investigation",
        "hn.coordinator:409 hn.analyst:409 hn.escort:403 *:404",
    ),
];

fn expected<'a>(row: &'a str, who: &str) -> &'a str {
    let mut default = "";
    for item in row.split_whitespace() {
        let (name, exp) = item.split_once(':').unwrap();
        if name == who {
            return exp;
        }
        if name == "*" {
            default = exp;
        }
    }
    default
}

#[tokio::test]
async fn every_endpoint_role_and_resource_is_decided_as_the_table_says() {
    let server = TestServer::start();
    let mut clients: HashMap<&str, Client> = HashMap::new();
    for who in ROLES {
        let c = if who.ends_with(".admin") {
            enrolled_admin(&server, who).await
        } else {
            server.signed_in(who).await
        };
        clients.insert(who, c);
    }
    // The resources: a person of each company, a user of each party, a host site, an
    // organisation of each party.
    let coord = &clients["hn.coordinator"];
    let persons = coord.get("/api/v1/persons?limit=200").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let orgs = coord.get("/api/v1/organisations?limit=200").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let org = |part: &str| {
        orgs.iter()
            .find(|o| o["name"].as_str().unwrap().contains(part))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (bridgeworks, harbour) = (org("Bridgeworks"), org("Harbour"));
    let person_of = |employer: &str| {
        persons.iter().find(|p| p["employer_org_id"] == employer).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let sites = coord.get("/api/v1/sites?q=Port").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let hn_users = clients["hn.admin"].get("/api/v1/users?limit=200").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let pn_users = clients["pn.admin"].get("/api/v1/users?limit=200").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let user_id = |users: &[serde_json::Value], name: &str| {
        users.iter().find(|u| u["username"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let officer = &clients["pn.officer"];
    let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let movement = officer
        .post(
            "/api/v1/movements",
            json!({
                "persons": [person_of(&bridgeworks)],
                "legs": [{"from": {"point": {"type": "Point", "coordinates": [66.9958, 24.8548]}},
                          "to": {"point": {"type": "Point", "coordinates": [67.0105, 24.8668]}}}],
                "purpose": "matrix",
                "window": {"start": jsms_server::wire::rfc3339(soon), "end": jsms_server::wire::rfc3339(soon + 7200)}
            }),
        )
        .await;
    assert_eq!(movement.status.as_u16(), 201, "{movement:?}");
    let incident = |shared: bool| {
        json!({
            "kind": "suspicious_activity", "title": "matrix", "severity": 2,
            "occurred_at": jsms_server::wire::rfc3339(soon - 7200),
            "place": {"type": "Point", "coordinates": [67.0, 24.86]},
            "narrative": "matrix", "shared": shared
        })
    };
    let host_only = coord.post("/api/v1/incidents", incident(false)).await;
    let shared = coord.post("/api/v1/incidents", incident(true)).await;
    assert_eq!(shared.status.as_u16(), 201, "{shared:?}");
    let decision = coord
        .post(
            "/api/v1/decisions",
            json!({"kind": "other", "title": "matrix", "text": "matrix"}),
        )
        .await;
    assert_eq!(decision.status.as_u16(), 201, "{decision:?}");
    let parties = coord.get("/api/v1/parties").await.body;
    let meeting = coord
        .post(
            "/api/v1/meetings",
            json!({"title": "matrix", "starts_at": jsms_server::wire::rfc3339(soon), "place": "matrix",
                   "attendance": [{"party": parties[0]["id"]}, {"party": parties[1]["id"]}]}),
        )
        .await;
    assert_eq!(meeting.status.as_u16(), 201, "{meeting:?}");
    let minutes = coord
        .send(
            Method::PUT,
            &format!("/api/v1/meetings/{}/minutes", meeting.body["id"].as_str().unwrap()),
            Some(json!({"version": meeting.body["version"], "minutes": "matrix",
                        "actions": [{"text": "matrix", "owner": user_id(&hn_users, "hn.escort")}]})),
        )
        .await;
    assert_eq!(minutes.status.as_u16(), 200, "{minutes:?}");
    let host_meeting = coord
        .post(
            "/api/v1/meetings",
            json!({"title": "host only", "starts_at": jsms_server::wire::rfc3339(soon), "place": "matrix",
                   "attendance": [{"party": parties[0]["id"]}]}),
        )
        .await;
    assert_eq!(host_meeting.status.as_u16(), 201, "{host_meeting:?}");
    let analyst = &clients["hn.analyst"];
    let embassy = org("Embassy");
    let mut reports = HashMap::new();
    for (key, tlp, shared, orgs) in [
        ("{R_RED}", "red", false, json!([])),
        ("{R_AMBER}", "amber", false, json!([])),
        ("{R_SHARED}", "amber", true, json!([])),
        ("{R_STRICT}", "amber_strict", false, json!([embassy])),
        ("{R_GREEN}", "green", false, json!([])),
    ] {
        let r = analyst
            .post(
                "/api/v1/reports",
                json!({"title": format!("matrix {tlp}"), "body": "matrix", "tlp": tlp, "shared": shared,
                       "releasable_orgs": orgs, "observed_at": jsms_server::wire::rfc3339(soon - 7200),
                       "grading": {"reliability": "C", "credibility": 3}}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{r:?}");
        reports.insert(key, r.body["id"].as_str().unwrap().to_owned());
    }
    let mut ids: HashMap<&str, String> = HashMap::from([
        ("{M}", movement.body["id"].as_str().unwrap().to_owned()),
        ("{P_B}", person_of(&bridgeworks)),
        ("{P_H}", person_of(&harbour)),
        ("{U_HN}", user_id(&hn_users, "hn.coordinator")),
        ("{U_PN}", user_id(&pn_users, "pn.analyst")),
        ("{S}", sites[0]["id"].as_str().unwrap().to_owned()),
        ("{O_HN}", org("Provincial")),
        ("{O_PN}", org("Embassy")),
        ("{I_HOST}", host_only.body["id"].as_str().unwrap().to_owned()),
        ("{I_SHARED}", shared.body["id"].as_str().unwrap().to_owned()),
        ("{D}", decision.body["id"].as_str().unwrap().to_owned()),
        ("{MT}", meeting.body["id"].as_str().unwrap().to_owned()),
        ("{MT_HOST}", host_meeting.body["id"].as_str().unwrap().to_owned()),
        ("{N}", uuid::Uuid::now_v7().to_string()),
    ]);
    ids.extend(reports);

    let log =
        jsms_store::audit::AuditDb::open(&jsms_server::instance::DataDir::new(server.data_dir()).audit_database())
            .unwrap();
    let log_size = || log.entries(0, u64::MAX).unwrap().last().map_or(0, |e| e.idx + 1);
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut audited = 0;
    for (method, template, row) in MATRIX {
        let mut path = (*template).to_owned();
        for (k, v) in &ids {
            path = path.replace(k, v);
        }
        for who in ROLES {
            let exp = expected(row, who);
            let (status, fields) = exp.split_at(3);
            let status: u16 = status.parse().unwrap();
            let c = &clients[who];
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let before = log_size();
            let r = match *method {
                "PATCH" => c.send(m, &path, Some(json!({"version": 999_999}))).await,
                "PUT" => {
                    let body = if template.ends_with("/minutes") {
                        json!({"version": 999_999, "minutes": "matrix"})
                    } else {
                        json!({"users": [uuid::Uuid::now_v7()]})
                    };
                    c.send(m, &path, Some(body)).await
                }
                "POST" => {
                    let body = if template.ends_with("/actions") {
                        json!({"action": "approve", "at": time::OffsetDateTime::now_utc().unix_timestamp(),
                               "signature": "AAAA", "version": 999_999})
                    } else if template.ends_with("/updates") {
                        json!({"text": "matrix", "version": 999_999})
                    } else if template.ends_with("/investigation") {
                        json!({"status": "under_investigation", "version": 999_999})
                    } else if template.ends_with("/reports") {
                        json!({"title": "matrix", "body": "matrix", "tlp": "purple", "observed_at": "2026-01-01T00:00:00Z",
                               "grading": {"reliability": "A", "credibility": 1}})
                    } else if template.ends_with("/import") {
                        json!({"type": "bundle"})
                    } else if template.ends_with("/marking") {
                        json!({"version": 999_999, "tlp": "amber", "reason": "matrix"})
                    } else if template.ends_with("/decisions") {
                        json!({"kind": "coup", "title": "matrix", "text": "matrix"})
                    } else if template.ends_with("/meetings") {
                        json!({"title": "matrix", "starts_at": "2030-01-01T00:00:00Z", "place": "matrix", "attendance": []})
                    } else if template.ends_with("/corrections") {
                        json!({"version": 999_999, "minutes": "matrix"})
                    } else if template.ends_with("/read") {
                        json!({})
                    } else if template.ends_with("/approval")
                        || template.ends_with("/done")
                        || template.contains("/attachments")
                    {
                        json!({"version": 999_999})
                    } else {
                        json!({"transition": "submit", "version": 999_999})
                    };
                    c.send(m, &path, Some(body)).await
                }
                "DELETE" => {
                    common::Client::finish(
                        c.http
                            .delete(format!("{}{path}", c.base))
                            .header("if-match", "\"v999999\"")
                            .header("x-csrf-token", c.csrf.clone().unwrap()),
                    )
                    .await
                }
                _ => c.send(m, &path, None).await,
            };
            checked += 1;
            if r.status.as_u16() != status {
                failures.push(format!("{who} {method} {template}: expected {status}, got {r:?}"));
                continue;
            }
            // The log says the same as the status: an object read is an allow entry naming
            // the reader and the object; a refusal of an object is a deny entry.
            let object = template
                .split('?')
                .next()
                .unwrap()
                .split('/')
                .find(|seg| seg.starts_with('{'))
                .and_then(|k| ids.get(k));
            // Organisations are not protected; `{N}` and an attachment's zero digest name
            // objects that do not exist (nothing to decide, nothing to record).
            let unprotected = template.starts_with("/api/v1/organisations/")
                || template.contains("{N}")
                || template.contains("/attachments/");
            if let Some(id) = object.filter(|_| !unprotected) {
                let entries: Vec<_> = log
                    .entries(before, u64::MAX)
                    .unwrap()
                    .iter()
                    .map(|e| jsms_audit::entry::AuditEntry::from_bytes(&e.data).unwrap())
                    .filter(|e| e.principal_name.as_deref() == Some(who))
                    .collect();
                let wanted = match (status, *method) {
                    (200, "GET") => Some(jsms_audit::entry::Outcome::Allow),
                    (403 | 404, _) => Some(jsms_audit::entry::Outcome::Deny),
                    _ => None,
                };
                if let Some(outcome) = wanted {
                    audited += 1;
                    if !entries
                        .iter()
                        .any(|e| e.outcome == outcome && e.resource.as_deref().is_some_and(|r| r.contains(id.as_str())))
                    {
                        failures.push(format!(
                            "{who} {method} {template} ({status}): no {outcome:?} entry naming {id}: {:?}",
                            entries
                                .iter()
                                .map(|e| (&e.action, &e.resource, e.outcome))
                                .collect::<Vec<_>>()
                        ));
                    }
                }
            }
            match fields {
                "p" if !r.body["personal_data"].is_object() => {
                    failures.push(format!("{who} {template}: personal data missing"))
                }
                "n" if r.body.get("personal_data").is_some() => {
                    failures.push(format!("{who} {template}: personal data leaked"))
                }
                _ => {}
            }
            // A hidden object answers exactly like a missing one.
            if status == 404 && *method == "GET" && template.contains('{') {
                let missing_path = ids.iter().fold((*template).to_owned(), |p, (k, _)| {
                    p.replace(k, &uuid::Uuid::now_v7().to_string())
                });
                let before_missing = log_size();
                let missing = c.get(&missing_path).await;
                // A missing object is recorded like a hidden one (the same durable write, so
                // the answer's time does not tell them apart either).
                let recorded = log
                    .entries(before_missing, u64::MAX)
                    .unwrap()
                    .iter()
                    .map(|e| jsms_audit::entry::AuditEntry::from_bytes(&e.data).unwrap())
                    .any(|e| e.principal_name.as_deref() == Some(who) && e.outcome == jsms_audit::entry::Outcome::Deny);
                if !recorded && !unprotected {
                    failures.push(format!("{who} {template}: a missing object left no deny entry"));
                }
                if without_request_id(missing.body.clone()) != without_request_id(r.body.clone())
                    || missing.status != r.status
                {
                    failures.push(format!(
                        "{who} {template}: the denial differs from a missing object: {r:?} vs {missing:?}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, MATRIX.len() * ROLES.len());
    assert!(audited > 300, "{audited} cases checked against the log");

    // No list ever returns a person outside the caller's view, nor personal data to a liaison.
    for who in ROLES {
        let listed = clients[who].get("/api/v1/persons?limit=200").await;
        let items = listed.body["items"].as_array().cloned().unwrap_or_default();
        for p in &items {
            let single = clients[who]
                .get(&format!("/api/v1/persons/{}", p["id"].as_str().unwrap()))
                .await;
            assert_eq!(single.status.as_u16(), 200, "{who} listed a person it cannot read");
            assert_eq!(
                p.get("personal_data").is_some(),
                single.body.get("personal_data").is_some(),
                "{who}: list and item views differ"
            );
        }
        if who == "pn.liaison" {
            assert!(!items.is_empty() && items.iter().all(|p| p.get("personal_data").is_none()));
        }
    }
}
