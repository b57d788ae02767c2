//! Intelligence sharing: the TLP marking enforced on every read path (list, search, one
//! report, the stream, STIX export, TAXII), marking changes by the owning party only and
//! recorded, reports that create or raise zones re-evaluating planned routes, the STIX 2.1
//! round trip checked by the OASIS validator, bundles made by the OASIS `stix2` library
//! imported, and TAXII 2.1 interoperability with the OASIS client `taxii2-client`
//! (`cargo xtask test` installs the three from PyPI).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::movements::released;
use common::{Client, TestServer, assert_problem, events, now, open_events, read_events};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

fn python(script: &str, args: &[&str]) -> (bool, String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = std::process::Command::new("python3")
        .arg(path)
        .args(args)
        .output()
        .expect("python3 (run `cargo xtask test`, which installs stix2, stix2-validator and taxii2-client)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Validates a bundle with the OASIS stix2-validator: valid, and no warning but the one
/// about UUIDv5 ids (deterministic ids are UUIDv5 by design; STIX recommends v4).
fn assert_valid_stix(dir: &Path, name: &str, bundle: &Value) {
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
    let (ok, out, err) = python("stix_validate.py", &[file.to_str().unwrap()]);
    assert!(ok, "stix2-validator refused {name}: {out}\n{err}");
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    let other: Vec<&Value> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| !w.as_str().unwrap().contains("{103}"))
        .collect();
    assert!(other.is_empty(), "warnings on {name}: {other:?}");
}

fn report(title: &str, tlp: &str) -> Value {
    json!({"title": title, "body": format!("{title}: kestrel sightings near the port road."),
           "observed_at": jsms_server::wire::rfc3339(now() - 3600), "tlp": tlp,
           "grading": {"reliability": "B", "credibility": 2}})
}

async fn create(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/reports", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body
}

async fn titles(c: &Client, path: &str) -> BTreeSet<String> {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {r:?}");
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn exported(c: &Client) -> BTreeSet<String> {
    let r = c.get("/api/v1/reports/export").await;
    if r.status == StatusCode::CONFLICT {
        return BTreeSet::new();
    }
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "report")
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn markings_are_enforced_on_every_read_path() {
    let server = TestServer::start();
    let analyst = server.signed_in("hn.analyst").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let escort = server.signed_in("hn.escort").await;
    let liaison = server.signed_in("pn.liaison").await;
    let partner_analyst = server.signed_in("pn.analyst").await;
    let officer = server.signed_in("pn.officer").await;
    let auditor = server.signed_in("hn.auditor").await;

    // The partner's analyst watches the stream from before anything is written.
    let watcher = server.signed_in("pn.analyst").await;
    let stream = open_events(&watcher, "/api/v1/reports/stream", None).await;
    let watching = tokio::spawn(read_events(stream, "report", 4, Duration::from_secs(20)));

    let embassy = liaison.get("/api/v1/me").await.body["org_id"].clone();
    let red = create(&analyst, report("Red source", "red")).await;
    create(&analyst, report("Amber host only", "amber")).await;
    let mut shared = report("Amber shared", "amber");
    shared["shared"] = json!(true);
    create(&analyst, shared).await;
    let mut strict = report("Amber strict embassy", "amber_strict");
    strict["releasable_orgs"] = json!([embassy]);
    create(&analyst, strict).await;
    let green = create(&analyst, report("Green community", "green")).await;

    // List, search and export give each reader exactly what the marking allows.
    let all = [
        "Red source",
        "Amber host only",
        "Amber shared",
        "Amber strict embassy",
        "Green community",
    ];
    let expected: Vec<(&Client, &str, BTreeSet<String>)> = vec![
        (&analyst, "hn.analyst", set(&all)),
        (
            &coordinator,
            "hn.coordinator",
            set(&["Amber host only", "Amber shared", "Green community"]),
        ),
        (
            &escort,
            "hn.escort",
            set(&["Amber host only", "Amber shared", "Green community"]),
        ),
        (
            &liaison,
            "pn.liaison",
            set(&["Amber shared", "Amber strict embassy", "Green community"]),
        ),
        (
            &partner_analyst,
            "pn.analyst",
            set(&["Amber shared", "Amber strict embassy", "Green community"]),
        ),
        (&officer, "pn.officer", set(&["Green community"])),
    ];
    // (The demo's own reports are left out of the comparison.)
    let ours =
        |got: BTreeSet<String>| -> BTreeSet<String> { got.into_iter().filter(|t| all.contains(&t.as_str())).collect() };
    for (c, who, want) in &expected {
        assert_eq!(&ours(titles(c, "/api/v1/reports").await), want, "{who}: list");
        assert_eq!(
            &titles(c, "/api/v1/reports?q=KESTREL%20port").await,
            want,
            "{who}: search"
        );
        assert_eq!(&ours(exported(c).await), want, "{who}: STIX export");
    }
    assert!(titles(&analyst, "/api/v1/reports?q=falcon").await.is_empty());
    assert_eq!(titles(&analyst, "/api/v1/reports?tlp=red").await, set(&["Red source"]));
    assert_problem(
        &analyst.get("/api/v1/reports?tlp=purple").await,
        400,
        "invalid-parameter",
    );
    let red_path = format!("/api/v1/reports/{}", red["id"].as_str().unwrap());
    assert_eq!(partner_analyst.get(&red_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        coordinator.get(&format!("{red_path}/stix")).await.status,
        StatusCode::NOT_FOUND
    );

    // Changing a marking is the owning party's: another party's reader is refused, and
    // one who cannot read the report learns nothing.
    let green_path = format!("/api/v1/reports/{}", green["id"].as_str().unwrap());
    let change = json!({"version": 1, "tlp": "amber", "reason": "narrower"});
    assert_problem(
        &partner_analyst
            .post(&format!("{green_path}/marking"), change.clone())
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &partner_analyst.post(&format!("{red_path}/marking"), change).await,
        404,
        "not-found",
    );
    let down = analyst
        .post(
            &format!("{red_path}/marking"),
            json!({"version": 1, "tlp": "amber", "shared": true, "reason": "source protected by rewording"}),
        )
        .await;
    assert_eq!(down.status, StatusCode::OK, "{down:?}");
    assert_eq!(down.body["history"][0]["downgrade"], true);
    assert_eq!(down.body["history"][0]["from"], "TLP:RED");
    assert_eq!(partner_analyst.get(&red_path).await.status, StatusCode::OK);
    let log = auditor.get("/api/v1/audit/entries?limit=1000").await.body;
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["entry"]["action"] == "report.marking.downgrade"),
        "the downgrade is in the audit log"
    );

    // The stream gave the partner's analyst what it may read, when it may read it.
    let streamed = watching.await.unwrap();
    let title = |e: &(String, Value)| e.1["title"].as_str().unwrap().to_owned();
    let seen: Vec<String> = streamed.iter().map(title).collect();
    assert_eq!(
        seen,
        vec!["Amber shared", "Amber strict embassy", "Green community", "Red source"],
        "never RED or host-only AMBER; the downgraded report once released"
    );
    // Reconnecting after the first event replays the rest, decided again for this reader.
    let resumed = events(
        &partner_analyst,
        "/api/v1/reports/stream",
        "report",
        Some(&streamed[0].0),
        3,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(resumed.iter().map(title).collect::<Vec<_>>(), seen[1..].to_vec());

    // Bad input is named and changes nothing.
    let before = titles(&analyst, "/api/v1/reports").await.len();
    let bad = |change: &dyn Fn(&mut Value)| {
        let mut b = report("Bad", "amber");
        change(&mut b);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (bad(&|b| b["tlp"] = json!("purple")), "/tlp"),
        (
            bad(&|b| {
                b["tlp"] = json!("red");
                b["shared"] = json!(true)
            }),
            "/shared",
        ),
        (bad(&|b| b["releasable_orgs"] = json!([embassy])), "/releasable_orgs"),
        (
            bad(&|b| b["grading"]["reliability"] = json!("G")),
            "/grading/reliability",
        ),
        (bad(&|b| b["grading"]["credibility"] = json!(7)), "/grading/credibility"),
        (bad(&|b| b["title"] = json!(" ")), "/title"),
        (bad(&|b| b["observed_at"] = json!("tomorrow")), "/observed_at"),
        (
            bad(&|b| b["indicators"] = json!([{"pattern": "ipv4 = 1"}])),
            "/indicators/0/pattern",
        ),
        (
            bad(&|b| b["zones"] = json!([{"zone": uuid::Uuid::now_v7()}])),
            "/zones/0/zone",
        ),
        (bad(&|b| b["incidents"] = json!([uuid::Uuid::now_v7()])), "/incidents/0"),
    ];
    for (body, field) in cases {
        let r = analyst.post("/api/v1/reports", body).await;
        assert_eq!(assert_problem(&r, 422, "validation")["field"], field, "{r:?}");
    }
    assert_problem(
        &officer.post("/api/v1/reports", report("No", "green")).await,
        403,
        "forbidden",
    );
    assert_eq!(titles(&analyst, "/api/v1/reports").await.len(), before);
}

#[tokio::test]
async fn a_report_that_creates_or_raises_a_zone_re_evaluates_planned_routes() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let analyst = server.signed_in("hn.analyst").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    let path = format!("/api/v1/movements/{id}");
    let plan = escort.get(&path).await.body;
    let on_route = plan["plan"]["legs"][0]["coordinates"][3].clone();

    let mut body = report("Unrest at the crossing", "amber");
    body["new_zone"] = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": on_route},
        "properties": {"severity": 4, "kind": "unrest", "valid_from": "2026-01-01T00:00:00Z",
                       "source": "threat report", "radius_m": 80.0}});
    let created = create(&analyst, body).await;
    let zone = created["zones"][0].as_str().unwrap().to_owned();
    let z = analyst.get(&format!("/api/v1/zones/{zone}")).await;
    assert_eq!(z.body["properties"]["severity"], 4, "{z:?}");
    let flagged = coordinator.get(&path).await.body["request"]["history"].clone();
    assert!(
        flagged
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["what"] == "route_affected"),
        "the movement was re-evaluated when the report created the zone: {flagged}"
    );

    // A second report raises it; lowering or naming a bad severity is refused.
    let mut lower = report("Calmer", "amber");
    lower["zones"] = json!([{"zone": zone, "raise_to": 3}]);
    assert_eq!(
        assert_problem(&analyst.post("/api/v1/reports", lower).await, 422, "validation")["field"],
        "/zones/0/raise_to"
    );
    // A raise with a bad new zone in the same report changes nothing.
    let mut half = report("Half good", "amber");
    half["zones"] = json!([{"zone": zone, "raise_to": 5}]);
    half["new_zone"] = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": on_route},
        "properties": {"severity": 9, "kind": "unrest", "valid_from": "2026-01-01T00:00:00Z", "source": "x", "radius_m": 80.0}});
    let r = analyst.post("/api/v1/reports", half).await;
    assert_eq!(
        assert_problem(&r, 422, "validation")["field"],
        "/new_zone/properties/severity",
        "{r:?}"
    );
    let z = analyst.get(&format!("/api/v1/zones/{zone}")).await;
    assert_eq!(z.body["properties"]["severity"], 4, "not raised");
    let mut raise = report("Escalation at the crossing", "amber");
    raise["zones"] = json!([{"zone": zone, "raise_to": 5}]);
    let raised = create(&analyst, raise).await;
    assert_eq!(raised["zones"], json!([zone]));
    let z = analyst.get(&format!("/api/v1/zones/{zone}")).await;
    assert_eq!(z.body["properties"]["severity"], 5);
    // The partner's liaison may write reports but not zones.
    let liaison = server.signed_in("pn.liaison").await;
    let mut theirs = report("Also escalating", "green");
    theirs["zones"] = json!([{"zone": zone, "raise_to": 5}]);
    assert_problem(&liaison.post("/api/v1/reports", theirs).await, 403, "forbidden");
}

#[tokio::test]
async fn stix_round_trip_and_bundles_of_the_oasis_library() {
    let server = TestServer::start();
    let analyst = server.signed_in("hn.analyst").await;
    let mut body = report("Surveillance of the port gate", "amber");
    body["shared"] = json!(true);
    body["place"] = json!({"type": "Point", "coordinates": [66.9958, 24.8548]});
    body["new_zone"] = json!({"type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[66.99, 24.85], [67.0, 24.85], [67.0, 24.86], [66.99, 24.86], [66.99, 24.85]]]},
        "properties": {"severity": 3, "kind": "hostile_surveillance", "valid_from": "2026-01-01T00:00:00Z",
                       "valid_until": "2027-01-01T00:00:00Z", "source": "threat report"}});
    body["actors"] = json!(["Fictional Cell Nine"]);
    body["intrusion_sets"] = json!(["Gatewatch"]);
    body["indicators"] = json!([{"name": "Scout phone", "pattern": "[ipv4-addr:value = '198.51.100.7']"}]);
    body["notes"] = json!(["Seen again on Friday."]);
    let created = create(&analyst, body).await;
    let id = created["id"].as_str().unwrap().to_owned();

    // Export: valid STIX 2.1 (OASIS validator), and stable.
    let one = analyst.get(&format!("/api/v1/reports/{id}/stix")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(
        one.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/stix+json")
    );
    assert_valid_stix(server.dir.path(), "one.json", &one.body);
    let again = analyst.get(&format!("/api/v1/reports/{id}/stix")).await;
    assert_eq!(one.body, again.body, "re-export is stable");
    let all = analyst.get("/api/v1/reports/export").await;
    assert_valid_stix(server.dir.path(), "all.json", &all.body);
    let zone_in = |b: &Value| {
        b["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o.get("x_jsms_zone").is_some())
    };
    assert!(zone_in(&one.body));
    // Auditors read metadata and who knew, never report bodies: not even as STIX.
    let auditor = server.signed_in("hn.auditor").await;
    let audited = auditor.get(&format!("/api/v1/reports/{id}/stix")).await;
    assert_eq!(audited.status, StatusCode::NOT_FOUND, "{}", audited.body);

    // Re-import here: the same report, unchanged.
    let same = analyst
        .raw(
            reqwest::Method::POST,
            "/api/v1/reports/import",
            "application/stix+json;version=2.1",
            serde_json::to_vec(&one.body).unwrap(),
            &[],
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{same:?}");
    assert_eq!(same.body["existing"], json!([id]));
    assert_eq!(same.body["created"], json!([]));

    // Import into another instance: the same report.
    let other = TestServer::start();
    let their_analyst = other.signed_in("hn.analyst").await;
    let imported = import(&their_analyst, serde_json::to_vec(&one.body).unwrap()).await;
    assert_eq!(imported.status, StatusCode::OK, "{imported:?}");
    assert_eq!(imported.body["zones"].as_array().unwrap().len(), 1);
    let new_id = imported.body["created"][0].as_str().unwrap();
    let copy = their_analyst.get(&format!("/api/v1/reports/{new_id}")).await.body;
    for key in [
        "stix_id",
        "title",
        "body",
        "tlp",
        "shared",
        "grading",
        "observed_at",
        "reported_at",
        "place",
        "actors",
        "intrusion_sets",
        "indicators",
        "notes",
    ] {
        assert_eq!(copy[key], created[key], "{key} survives the round trip");
    }
    let zone = their_analyst
        .get(&format!("/api/v1/zones/{}", copy["zones"][0].as_str().unwrap()))
        .await
        .body;
    assert_eq!(zone["properties"]["severity"], 3);
    assert_eq!(zone["properties"]["kind"], "hostile_surveillance");
    assert_eq!(zone["geometry"]["type"], "Polygon");
    let twice = import(&their_analyst, serde_json::to_vec(&one.body).unwrap()).await;
    assert_eq!(twice.body["existing"], json!([new_id]), "idempotent");
    // The owner receiving it again more strictly marked takes the stricter marking; another
    // party that cannot read it learns nothing of it.
    let mut stricter = one.body.clone();
    for o in stricter["objects"].as_array_mut().unwrap() {
        if o.get("object_marking_refs").is_some() {
            o["object_marking_refs"] = json!(["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]);
        }
    }
    let r = import(&their_analyst, serde_json::to_vec(&stricter).unwrap()).await;
    assert_eq!(r.body["existing"], json!([new_id]), "{r:?}");
    let now_red = their_analyst.get(&format!("/api/v1/reports/{new_id}")).await.body;
    assert_eq!(now_red["tlp"], "red");
    assert_eq!(
        now_red["history"][0]["reason"],
        "imported again with a stricter marking"
    );
    let their_partner = other.signed_in("pn.analyst").await;
    let r = import(&their_partner, serde_json::to_vec(&stricter).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["existing"], json!([]));
    assert_eq!(r.body["created"], json!([]));
    assert!(!format!("{r:?}").contains(new_id), "the id of a report it may not read");

    // A bundle made by the OASIS stix2 library.
    let made = server.dir.path().join("made.json");
    let (ok, out, err) = python("stix_make.py", &[made.to_str().unwrap()]);
    assert!(ok, "{out}\n{err}");
    let stix_id = out.trim().to_owned();
    let partner = server.signed_in("pn.analyst").await;
    let r = import(&partner, std::fs::read(&made).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let got = partner
        .get(&format!("/api/v1/reports/{}", r.body["created"][0].as_str().unwrap()))
        .await
        .body;
    assert_eq!(got["stix_id"], stix_id.as_str());
    assert_eq!(got["tlp"], "green");
    assert_eq!(got["title"], "Scouting of convoy routes near the market");
    assert_eq!(got["actors"], json!(["Fictional Cell Seven"]));
    assert_eq!(got["indicators"][0]["pattern"], "[ipv4-addr:value = '203.0.113.9']");
    assert_eq!(got["notes"], json!(["Corroborated by a second source."]));
    assert_eq!(got["source"], "Regional Security Forum (fictional)");
    assert_eq!(got["grading"], "F2", "confidence 70 read on the Admiralty scale");
    assert_eq!(got["raw_objects"], 1, "the attack pattern no report references is kept");
    assert_eq!(
        r.body["zones"].as_array().unwrap().len(),
        1,
        "the located threat: a zone"
    );
    assert_eq!(
        analyst
            .get(&format!("/api/v1/reports/{}", got["id"].as_str().unwrap()))
            .await
            .status,
        200
    );

    // Bad bundles: the path of the error, nothing stored.
    let count = titles(&partner, "/api/v1/reports").await.len();
    let mut broken: Value = serde_json::from_slice(&std::fs::read(&made).unwrap()).unwrap();
    let at = broken["objects"]
        .as_array()
        .unwrap()
        .iter()
        .position(|o| o["type"] == "report")
        .unwrap();
    broken["objects"][at]["published"] = json!("last week");
    broken["objects"][at]["id"] = json!(format!("report--{}", uuid::Uuid::new_v4()));
    let r = import(&partner, serde_json::to_vec(&broken).unwrap()).await;
    assert_eq!(
        assert_problem(&r, 422, "validation")["field"],
        format!("/objects/{at}/published")
    );
    assert_problem(&import(&partner, b"{not json".to_vec()).await, 400, "malformed-body");
    let wrong_type = partner
        .raw(
            reqwest::Method::POST,
            "/api/v1/reports/import",
            "text/plain",
            b"{}".to_vec(),
            &[],
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let officer = server.signed_in("pn.officer").await;
    assert_problem(&import(&officer, std::fs::read(&made).unwrap()).await, 403, "forbidden");
    assert_eq!(titles(&partner, "/api/v1/reports").await.len(), count);
}

async fn import(c: &Client, bundle: Vec<u8>) -> common::Resp {
    c.raw(
        reqwest::Method::POST,
        "/api/v1/reports/import?shared=true",
        "application/json",
        bundle,
        &[],
    )
    .await
}

async fn intel_token(admin: &Client, org: &Value, scopes: Value) -> String {
    let created = admin
        .post(
            "/api/v1/api-tokens",
            json!({"name": "taxii", "org_id": org, "scopes": scopes, "expires_in_days": 30}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    created.body["secret"].as_str().unwrap().to_owned()
}

async fn taxii(base: &str, token: &str, path: &str) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("accept", "application/taxii+json;version=2.1")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn taxii_interoperates_with_the_oasis_client() {
    let server = TestServer::start();
    let analyst = server.signed_in("hn.analyst").await;
    let host_org = analyst.get("/api/v1/me").await.body["org_id"].clone();
    let embassy = server.signed_in("pn.liaison").await.get("/api/v1/me").await.body["org_id"].clone();
    let green = create(&analyst, report("Green for all", "green")).await;
    let own = create(&analyst, report("Amber kept", "amber")).await;
    let mut s = report("Amber released", "amber");
    s["shared"] = json!(true);
    let shared = create(&analyst, s).await;
    let red = create(&analyst, report("Red kept", "red")).await;
    let (hn_admin, pn_admin) = (
        common::enrolled_admin(&server, "hn.admin").await,
        common::enrolled_admin(&server, "pn.admin").await,
    );
    let host = intel_token(&hn_admin, &host_org, json!(["intel_exchange"])).await;
    let partner = intel_token(&pn_admin, &embassy, json!(["intel_exchange"])).await;
    let registry_only = intel_token(&pn_admin, &embassy, json!(["registry_read"])).await;
    let base = server.client().base.clone();

    // The OASIS client, with the host's token, pushing a bundle made by the stix2 library.
    let made = server.dir.path().join("push.json");
    let (ok, out, err) = python("stix_make.py", &[made.to_str().unwrap()]);
    assert!(ok, "{out}\n{err}");
    let pushed = out.trim().to_owned();
    let (ok, out, err) = python("taxii_interop.py", &[&base, &host, made.to_str().unwrap()]);
    assert!(ok, "taxii2-client failed:\n{out}\n{err}");
    let seen: Value = serde_json::from_str(out.trim()).unwrap();
    let titles: BTreeSet<&str> = seen["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, BTreeSet::from(["Joint", "Host Nation"]), "{seen}");
    assert!(
        seen["collections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["can_write"] == true)
    );
    assert_eq!(seen["api_root_versions"], json!(["application/taxii+json;version=2.1"]));
    let before: BTreeSet<&str> = seen["before"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // The joint collection: what both parties may read (the demo's shared reports too).
    assert!(before.contains(green["stix_id"].as_str().unwrap()), "{seen}");
    assert!(before.contains(shared["stix_id"].as_str().unwrap()), "{seen}");
    assert!(!before.contains(own["stix_id"].as_str().unwrap()));
    assert!(!before.contains(red["stix_id"].as_str().unwrap()));
    assert!(seen["pages"].as_u64().unwrap() > 1, "{seen}");
    assert_eq!(seen["paged_objects"], seen["all_objects"], "paging loses nothing");
    assert_eq!(seen["status"]["status"], "complete");
    assert_eq!(seen["status"]["failure_count"], 0, "{seen}");
    assert_eq!(seen["status"]["success_count"], seen["status"]["total_count"]);
    assert_eq!(seen["status_again"], "complete");
    assert_eq!(
        seen["after"],
        json!([pushed]),
        "added_after gives only what was added since"
    );
    assert_eq!(seen["report_types_only"], json!(["report"]));
    assert_eq!(seen["one"], json!([pushed]));
    assert_eq!(seen["versions"].as_array().unwrap().len(), 1);
    assert!(
        seen["manifest"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == pushed.as_str() && m["media_type"] == "application/stix+json;version=2.1")
    );

    // The partner's token: the joint collection and its own; never the host's kept reports.
    let (status, body, _) = taxii(&base, &partner, "/taxii2/api/collections/").await;
    assert_eq!(status, StatusCode::OK);
    let cols = body["collections"].as_array().unwrap().clone();
    let id_of = |cols: &[Value], t: &str| {
        cols.iter().find(|c| c["title"] == t).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(cols.iter().any(|c| c["title"] == "Partner Nation"));
    let joint = id_of(&cols, "Joint");
    let (_, host_cols, _) = taxii(&base, &host, "/taxii2/api/collections/").await;
    let host_col = id_of(host_cols["collections"].as_array().unwrap(), "Host Nation");
    let (status, _, _) = taxii(&base, &partner, &format!("/taxii2/api/collections/{host_col}/objects/")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, objs, headers) = taxii(
        &base,
        &partner,
        &format!("/taxii2/api/collections/{joint}/objects/?match[type]=report"),
    )
    .await;
    let ids: BTreeSet<&str> = objs["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    for want in [
        green["stix_id"].as_str().unwrap(),
        shared["stix_id"].as_str().unwrap(),
        pushed.as_str(),
    ] {
        assert!(ids.contains(want), "{want} missing from {ids:?}");
    }
    for kept_by_host in [own["stix_id"].as_str().unwrap(), red["stix_id"].as_str().unwrap()] {
        assert!(!ids.contains(kept_by_host));
    }
    assert!(headers.contains_key("x-taxii-date-added-first"));
    // The host's own collection: its AMBER report; RED never reaches a machine.
    let (_, kept, _) = taxii(
        &base,
        &host,
        &format!("/taxii2/api/collections/{host_col}/objects/?match[type]=report"),
    )
    .await;
    let kept: BTreeSet<&str> = kept["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(kept.contains(own["stix_id"].as_str().unwrap()));
    assert!(!kept.contains(red["stix_id"].as_str().unwrap()));
    assert!(
        !kept.contains(green["stix_id"].as_str().unwrap()),
        "shared reports are in the joint collection"
    );

    // Bad requests get TAXII error messages.
    let client = reqwest::Client::new();
    let get = |path: &str, accept: Option<&str>, token: Option<&str>| {
        let mut req = client.get(format!("{base}{path}"));
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let objects = format!("/taxii2/api/collections/{joint}/objects/");
    let taxii_type = "application/taxii+json;version=2.1";
    for (path, accept, token, want) in [
        ("/taxii2/".to_owned(), None, Some(partner.as_str()), 406),
        ("/taxii2/".to_owned(), Some(taxii_type), None, 401),
        ("/taxii2/".to_owned(), Some(taxii_type), Some("jsms_at_wrong"), 401),
        (
            "/taxii2/api/collections/".to_owned(),
            Some(taxii_type),
            Some(registry_only.as_str()),
            403,
        ),
        (
            format!("{objects}?added_after=yesterday"),
            Some(taxii_type),
            Some(partner.as_str()),
            400,
        ),
        (
            format!("{objects}?limit=0"),
            Some(taxii_type),
            Some(partner.as_str()),
            400,
        ),
        (
            format!("{objects}?match[color]=red"),
            Some(taxii_type),
            Some(partner.as_str()),
            400,
        ),
        (
            format!("{objects}?next=abc"),
            Some(taxii_type),
            Some(partner.as_str()),
            400,
        ),
        (
            "/taxii2/api/collections/nope/".to_owned(),
            Some(taxii_type),
            Some(partner.as_str()),
            404,
        ),
        (
            format!("/taxii2/api/status/{}/", uuid::Uuid::now_v7()),
            Some(taxii_type),
            Some(partner.as_str()),
            404,
        ),
    ] {
        let r = get(&path, accept, token).await.unwrap();
        assert_eq!(r.status().as_u16(), want, "{path}");
        assert_eq!(r.headers()["content-type"], taxii_type, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["http_status"], want.to_string(), "{path}: {body}");
        assert!(body["title"].is_string());
    }
    let post = |body: &'static str, kind: &'static str| {
        client
            .post(format!("{base}{objects}"))
            .header("accept", taxii_type)
            .header("content-type", kind)
            .bearer_auth(&partner)
            .body(body)
            .send()
    };
    assert_eq!(post("{}", "application/json").await.unwrap().status().as_u16(), 415);
    assert_eq!(
        post("{\"objects\": 3}", taxii_type).await.unwrap().status().as_u16(),
        400
    );
    let invalid = post(
        "{\"objects\": [{\"type\": \"report\", \"id\": \"report--1\", \"spec_version\": \"2.1\"}]}",
        taxii_type,
    )
    .await
    .unwrap();
    assert_eq!(invalid.status().as_u16(), 422);
    let body: Value = invalid.json().await.unwrap();
    assert!(
        body["description"].as_str().unwrap().contains("/objects/0/id"),
        "{body}"
    );
    let none = client
        .post(format!("{base}{objects}"))
        .header("accept", taxii_type)
        .header("content-type", taxii_type)
        .bearer_auth(&registry_only)
        .body("{\"objects\": []}")
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 403);
    // A status is its party's only.
    let status = seen_status(&base, &host, &joint).await;
    let (code, _, _) = taxii(&base, &partner, &format!("/taxii2/api/status/{status}/")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    // HTTP Basic is for TAXII only; elsewhere it is refused, never ignored.
    let rest = client
        .get(format!("{base}/api/v1/reports"))
        .basic_auth("anyone", Some(&partner))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status().as_u16(), 401);
    // HTTP Basic with the token as the password works on TAXII.
    let basic = client
        .get(format!("{base}/taxii2/api/"))
        .header("accept", taxii_type)
        .basic_auth("anyone", Some(&partner))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 200);
}

/// Pushes one more bundle with the host's token and returns its status id.
async fn seen_status(base: &str, token: &str, joint: &str) -> String {
    let id = uuid::Uuid::new_v4();
    let envelope = json!({"objects": [{
        "type": "report", "spec_version": "2.1", "id": format!("report--{id}"),
        "created": "2026-11-20T09:30:00.000Z", "modified": "2026-11-20T09:30:00.000Z",
        "name": "Status check", "published": "2026-11-20T09:30:00.000Z",
        "object_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}]});
    let r = reqwest::Client::new()
        .post(format!("{base}/taxii2/api/collections/{joint}/objects/"))
        .header("accept", "application/taxii+json;version=2.1")
        .header("content-type", "application/taxii+json;version=2.1")
        .bearer_auth(token)
        .body(envelope.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "complete");
    body["id"].as_str().unwrap().to_owned()
}
