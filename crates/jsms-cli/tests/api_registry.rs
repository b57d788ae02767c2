//! End-to-end tests of the registry (organisations, persons, sites), its access rules, its
//! answers to bad input, encryption of personal data at rest, and the operational endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Client, TestServer, assert_problem, enrolled_admin, files_under, without_request_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn org_id(c: &Client, name_part: &str) -> String {
    let r = c
        .get(&format!("/api/v1/organisations?q={}", urlencode(name_part)))
        .await;
    r.body["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no org {name_part}: {r:?}"))
        .to_owned()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn all_items(c: &Client, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(cur) => format!("{path}{sep}limit=2&cursor={cur}"),
            None => format!("{path}{sep}limit=2"),
        };
        let r = c.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        out.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn sites_crud_with_every_kind_of_bad_input_changing_nothing() {
    let server = TestServer::start();
    let c = server.signed_in("hn.coordinator").await;
    let owner = org_id(&c, "Provincial").await;
    let good = json!({
        "owner_org_id": owner, "name": "Forward Base", "kind": "office",
        "location": {"type": "Point", "coordinates": [67.001, 24.861]},
        "perimeter": {"type": "Polygon", "coordinates": [[[67.0, 24.86], [67.002, 24.86], [67.002, 24.862], [67.0, 24.86]]]},
        "posture": "elevated", "notes": "gate on the east side"
    });
    let created = c.post("/api/v1/sites", good.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["perimeter"]["coordinates"][0].as_array().unwrap().len(), 4);
    let path = format!("/api/v1/sites/{id}");
    let got = c.get(&path).await;
    assert_eq!(got.headers.get("etag").unwrap(), "\"v1\"");
    assert_eq!(got.body, created.body);

    // Bad creations: each names its problem and field.
    let check = |body: Value, status: u16, slug: &'static str, field: Option<&'static str>| {
        let c = &c;
        async move {
            let r = c.post("/api/v1/sites", body).await;
            let p = assert_problem(&r, status, slug);
            if let Some(f) = field {
                assert_eq!(p["field"], f, "{r:?}");
            }
        }
    };
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    check(
        with("location", json!({"type": "Point", "coordinates": [67.0, 95.0]})),
        422,
        "validation",
        Some("/location/coordinates/1"),
    )
    .await;
    check(
        with("location", json!({"type": "Point", "coordinates": [181.0, 24.0]})),
        422,
        "validation",
        Some("/location/coordinates/0"),
    )
    .await;
    check(with("name", json!(42)), 422, "malformed-body", Some("/name")).await;
    check(with("name", json!("   ")), 422, "validation", Some("/name")).await;
    check(with("kind", json!("castle")), 422, "malformed-body", Some("/kind")).await;
    check(with("colour", json!("red")), 422, "malformed-body", Some("/colour")).await;
    check(
        with("perimeter", json!({"type": "Polygon", "coordinates": [[[67.0, 24.86], [67.002, 24.862], [67.002, 24.86], [67.0, 24.862], [67.0, 24.86]]]})),
        422,
        "validation",
        Some("/perimeter/coordinates/0/2"),
    )
    .await;
    check(
        with("perimeter", json!({"type": "Polygon", "coordinates": [[[67.0, 24.86], [67.002, 24.86], [67.002, 24.862], [67.0, 24.861]]]})),
        422,
        "validation",
        Some("/perimeter/coordinates/0/3"),
    )
    .await;
    check(
        with("owner_org_id", json!("not-a-uuid")),
        422,
        "malformed-body",
        Some("/owner_org_id"),
    )
    .await;
    check(
        with("owner_org_id", json!(uuid::Uuid::now_v7())),
        422,
        "validation",
        Some("/owner_org_id"),
    )
    .await;
    let syntax = c
        .raw(
            Method::POST,
            "/api/v1/sites",
            "application/json",
            b"{\"name\": ".to_vec(),
            &[],
        )
        .await;
    assert_problem(&syntax, 400, "malformed-body");
    let media = c
        .raw(
            Method::POST,
            "/api/v1/sites",
            "text/plain",
            good.to_string().into_bytes(),
            &[],
        )
        .await;
    assert_problem(&media, 415, "unsupported-media-type");
    let mut huge = good.clone();
    huge["notes"] = json!("x".repeat(300 * 1024));
    assert_problem(&c.post("/api/v1/sites", huge).await, 413, "payload-too-large");
    // Still exactly one site named like that.
    assert_eq!(
        c.get("/api/v1/sites?q=Forward").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Updates: version required, stale refused, bad fields refused, nothing changed.
    assert_problem(
        &c.patch(&path, json!({"name": "Renamed"})).await,
        428,
        "precondition-required",
    );
    assert_problem(
        &c.patch(&path, json!({"version": 7, "name": "Renamed"})).await,
        409,
        "stale-version",
    );
    let p = assert_problem(
        &c.patch(
            &path,
            json!({"version": 1, "location": {"type": "Point", "coordinates": [67.0, -91.0]}}),
        )
        .await,
        422,
        "validation",
    );
    assert_eq!(p["field"], "/location/coordinates/1");
    assert_problem(
        &c.patch(&path, json!({"version": 1, "rank": 3})).await,
        422,
        "malformed-body",
    );
    assert_eq!(c.get(&path).await.body, created.body, "refused updates changed nothing");
    let updated = c
        .patch(
            &path,
            json!({"version": 1, "name": "Renamed", "perimeter": null, "notes": null}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.body["version"], 2);
    assert!(updated.body.get("perimeter").is_none() && updated.body.get("notes").is_none());
    assert_eq!(updated.headers.get("etag").unwrap(), "\"v2\"");
    let if_match = c
        .raw(
            Method::PATCH,
            &path,
            "application/json",
            br#"{"posture":"high"}"#.to_vec(),
            &[("if-match", "\"v2\"")],
        )
        .await;
    assert_eq!(if_match.body["version"], 3, "{if_match:?}");

    // Delete: stale refused, current accepted, then gone.
    assert_problem(&c.delete(&path, 2).await, 409, "stale-version");
    assert_eq!(c.delete(&path, 3).await.status, StatusCode::NO_CONTENT);
    assert_problem(&c.get(&path).await, 404, "not-found");
    assert_problem(&c.get("/api/v1/sites/nope").await, 400, "invalid-parameter");
}

#[tokio::test]
async fn lists_paginate_with_cursors_and_search() {
    let server = TestServer::start();
    let c = server.signed_in("hn.coordinator").await;
    let owner = org_id(&c, "Provincial").await;
    for i in 0..5 {
        let r = c
            .post(
                "/api/v1/sites",
                json!({"owner_org_id": owner, "name": format!("Relay {i}"), "kind": "office",
                                          "location": {"type": "Point", "coordinates": [67.0, 24.86]}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let all = all_items(&c, "/api/v1/sites").await;
    assert_eq!(all.len(), 10, "5 demo sites + 5 new");
    let mut ids: Vec<&str> = all.iter().map(|s| s["id"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 10, "no duplicates across pages");
    let relays = all_items(&c, "/api/v1/sites?q=relay").await;
    assert_eq!(relays.len(), 5);
    assert_problem(&c.get("/api/v1/sites?limit=0").await, 400, "invalid-parameter");
    assert_problem(&c.get("/api/v1/sites?limit=abc").await, 400, "invalid-parameter");
    assert_problem(&c.get("/api/v1/sites?cursor=zzz").await, 400, "invalid-parameter");
    let unknown = assert_problem(&c.get("/api/v1/sites?colour=red").await, 400, "invalid-parameter");
    assert_eq!(unknown["field"], "/colour");
    // Percent and underscore are literal in searches.
    assert_eq!(c.get("/api/v1/sites?q=%25").await.body["items"], json!([]));
}

#[tokio::test]
async fn persons_are_visible_by_need_and_personal_data_only_to_the_entitled() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await; // Indus Bridgeworks
    let other_officer = server.signed_in("pn.officer2").await; // Harbour Power
    let liaison = server.signed_in("pn.liaison").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let analyst = server.signed_in("hn.analyst").await;
    let employer = org_id(&officer, "Bridgeworks").await;
    let harbour = org_id(&officer, "Harbour").await;

    let body = json!({"full_name": "Yan Siqi", "employer_org_id": employer, "protection_level": "A", "status": "in_country",
                      "personal_data": {"passport_number": "ZX9876543", "phone": "+92 300 5550101", "date_of_birth": "1985-04-12"}});
    let created = officer.post("/api/v1/persons", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let path = format!("/api/v1/persons/{}", created.body["id"].as_str().unwrap());
    assert_eq!(created.body["personal_data"]["passport_number"], "ZX9876543");

    // Another company's officer cannot register persons for this company.
    assert_problem(
        &other_officer.post("/api/v1/persons", body.clone()).await,
        403,
        "forbidden",
    );

    // Visibility: the other company's officer gets exactly the answer for a missing person.
    let hidden = other_officer.get(&path).await;
    let missing = other_officer
        .get(&format!("/api/v1/persons/{}", uuid::Uuid::now_v7()))
        .await;
    assert_problem(&hidden, 404, "not-found");
    assert_eq!(
        without_request_id(hidden.body.clone()),
        without_request_id(missing.body.clone())
    );
    assert_eq!(hidden.headers.get("content-type"), missing.headers.get("content-type"));
    assert_problem(
        &other_officer
            .patch(&path, json!({"version": 1, "full_name": "X"}))
            .await,
        404,
        "not-found",
    );
    assert_problem(&other_officer.delete(&path, 1).await, 404, "not-found");
    let theirs = all_items(&other_officer, "/api/v1/persons").await;
    assert!(
        theirs.iter().all(|p| p["employer_org_id"] == harbour),
        "only their own company's persons"
    );
    assert!(!theirs.is_empty());

    // The liaison officer sees the person, never the personal data (not even as null).
    let seen = liaison.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.get("personal_data").is_none(), "{seen:?}");
    assert!(!seen.body.to_string().contains("ZX9876543"));
    // The host coordinator sees everything; an analyst sees no persons at all.
    assert_eq!(
        coordinator.get(&path).await.body["personal_data"]["passport_number"],
        "ZX9876543"
    );
    assert_eq!(all_items(&coordinator, "/api/v1/persons").await.len(), 6);
    assert_problem(&analyst.get(&path).await, 404, "not-found");
    assert!(all_items(&analyst, "/api/v1/persons").await.is_empty());

    // Bad input changes nothing.
    let bad = officer
        .patch(
            &path,
            json!({"version": 1, "personal_data": {"phone": "call me maybe"}}),
        )
        .await;
    assert_eq!(assert_problem(&bad, 422, "validation")["field"], "/personal_data/phone");
    let bad = officer
        .patch(
            &path,
            json!({"version": 1, "personal_data": {"date_of_birth": "12/04/1985"}}),
        )
        .await;
    assert_eq!(
        assert_problem(&bad, 422, "validation")["field"],
        "/personal_data/date_of_birth"
    );
    let bad = officer
        .patch(&path, json!({"version": 1, "protection_level": "Z"}))
        .await;
    assert_eq!(
        assert_problem(&bad, 422, "malformed-body")["field"],
        "/protection_level"
    );
    let bad = officer
        .patch(&path, json!({"version": 1, "employer_org_id": harbour}))
        .await;
    assert_problem(&bad, 403, "forbidden");
    let now = officer.get(&path).await;
    assert_eq!(now.body, created.body);

    // Clearing personal data, then deleting.
    let cleared = officer
        .patch(
            &path,
            json!({"version": 1, "personal_data": null, "status": "on_leave"}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{cleared:?}");
    assert_eq!(cleared.body["personal_data"], json!({}));
    assert_eq!(cleared.body["status"], "on_leave");
    assert_problem(&officer.delete(&path, 1).await, 409, "stale-version");
    assert_eq!(officer.delete(&path, 2).await.status, StatusCode::NO_CONTENT);
    assert_problem(&coordinator.get(&path).await, 404, "not-found");
}

#[tokio::test]
async fn administrators_manage_only_their_own_party_and_see_no_operational_data() {
    let server = TestServer::start();
    let pn_admin = enrolled_admin(&server, "pn.admin").await;
    let hn_admin = enrolled_admin(&server, "hn.admin").await;
    let hn_users = hn_admin.get("/api/v1/users?limit=200").await;
    assert_eq!(hn_users.status, StatusCode::OK);
    let hn_coordinator = hn_users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "hn.coordinator")
        .unwrap()
        .clone();
    let hn_id = hn_coordinator["id"].as_str().unwrap();

    let pn_users = pn_admin.get("/api/v1/users?limit=200").await;
    assert!(
        pn_users.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["username"].as_str().unwrap().starts_with("pn."))
    );

    let foreign = pn_admin.get(&format!("/api/v1/users/{hn_id}")).await;
    let missing = pn_admin.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7())).await;
    assert_problem(&foreign, 404, "not-found");
    assert_eq!(without_request_id(foreign.body), without_request_id(missing.body));
    for action in ["disable", "enable", "reset-mfa"] {
        assert_problem(
            &pn_admin
                .send(Method::POST, &format!("/api/v1/users/{hn_id}/{action}"), None)
                .await,
            404,
            "not-found",
        );
    }
    assert_problem(
        &pn_admin
            .patch(
                &format!("/api/v1/users/{hn_id}"),
                json!({"version": 1, "roles": ["auditor"]}),
            )
            .await,
        404,
        "not-found",
    );
    assert_eq!(
        hn_admin.get(&format!("/api/v1/users/{hn_id}")).await.body,
        hn_coordinator,
        "unchanged"
    );

    // Organisations of the other party: readable (shared names), not changeable.
    let hn_org = org_id(&pn_admin, "Provincial").await;
    assert_problem(
        &pn_admin
            .patch(
                &format!("/api/v1/organisations/{hn_org}"),
                json!({"version": 1, "name": "Taken over"}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &pn_admin.delete(&format!("/api/v1/organisations/{hn_org}"), 1).await,
        403,
        "forbidden",
    );

    // An administrator creates users only in organisations of its own party.
    let new_user = |org: &str| {
        json!({"username": "pn.newcomer", "display_name": "Newcomer", "org_id": org,
                                       "roles": ["liaison_officer"], "clearance": "restricted", "password": "a long enough password"})
    };
    let bad = pn_admin.post("/api/v1/users", new_user(&hn_org)).await;
    assert_eq!(assert_problem(&bad, 422, "validation")["field"], "/org_id");
    let embassy = org_id(&pn_admin, "Embassy").await;
    let short_pw = pn_admin
        .post(
            "/api/v1/users",
            json!({"username": "pn.newcomer", "display_name": "N", "org_id": embassy,
        "roles": ["liaison_officer"], "clearance": "restricted", "password": "short"}),
        )
        .await;
    assert_eq!(assert_problem(&short_pw, 422, "validation")["field"], "/password");
    let wrong_party_role = pn_admin
        .post(
            "/api/v1/users",
            json!({"username": "pn.newcomer", "display_name": "N", "org_id": embassy,
        "roles": ["movement_coordinator"], "clearance": "restricted", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(
        assert_problem(&wrong_party_role, 422, "validation")["field"],
        "/roles/0"
    );
    let requested = pn_admin.post("/api/v1/users", new_user(&embassy)).await;
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{requested:?}");
    let second = enrolled_admin(&server, "pn.admin2").await;
    let created = second
        .send(
            Method::POST,
            &format!(
                "/api/v1/privilege-requests/{}/approval",
                requested.body["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{created:?}");
    assert_eq!(created.body["user"]["mfa_enrolled"], false);
    assert_problem(
        &pn_admin.post("/api/v1/users", new_user(&embassy)).await,
        409,
        "conflict",
    );

    // No operational data by virtue of the role.
    assert!(all_items(&pn_admin, "/api/v1/persons").await.is_empty());
    assert_problem(&pn_admin.get("/api/v1/sites").await, 403, "forbidden");
    // Other roles cannot administer users at all.
    let coordinator = server.signed_in("hn.coordinator").await;
    assert_problem(&coordinator.get("/api/v1/users").await, 403, "forbidden");
    assert_problem(
        &coordinator.get(&format!("/api/v1/users/{hn_id}")).await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn organisations_crud_by_the_party_administrator() {
    let server = TestServer::start();
    let admin = enrolled_admin(&server, "pn.admin").await;
    let created = admin
        .post(
            "/api/v1/organisations",
            json!({"name": "Delta Rail Works (fictional)", "kind": "company"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let path = format!("/api/v1/organisations/{}", created.body["id"].as_str().unwrap());
    assert_problem(
        &admin
            .post(
                "/api/v1/organisations",
                json!({"name": "Delta Rail Works (fictional)", "kind": "company"}),
            )
            .await,
        409,
        "conflict",
    );
    assert_problem(
        &admin
            .post("/api/v1/organisations", json!({"name": "X", "kind": "guild"}))
            .await,
        422,
        "malformed-body",
    );
    assert_problem(
        &admin.post("/api/v1/organisations", json!({"name": "X"})).await,
        422,
        "malformed-body",
    );
    let renamed = admin
        .patch(&path, json!({"version": 1, "name": "Delta Rail Works Ltd (fictional)"}))
        .await;
    assert_eq!(renamed.body["version"], 2, "{renamed:?}");
    // In use: an organisation with persons cannot be deleted.
    let used = org_id(&admin, "Bridgeworks").await;
    let used_org = admin.get(&format!("/api/v1/organisations/{used}")).await;
    let v = used_org.body["version"].as_i64().unwrap();
    assert_problem(
        &admin.delete(&format!("/api/v1/organisations/{used}"), v).await,
        409,
        "in-use",
    );
    assert_eq!(admin.delete(&path, 2).await.status, StatusCode::NO_CONTENT);
    let coordinator = server.signed_in("hn.coordinator").await;
    assert_problem(
        &coordinator
            .post("/api/v1/organisations", json!({"name": "Y", "kind": "agency"}))
            .await,
        403,
        "forbidden",
    );
}

#[tokio::test]
async fn personal_data_is_nowhere_in_plaintext_on_disk_or_in_logs() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let employer = org_id(&officer, "Bridgeworks").await;
    let passport = "QK7316254";
    let r = officer
        .post(
            "/api/v1/persons",
            json!({"full_name": "Fang Yirou", "employer_org_id": employer, "protection_level": "B",
            "status": "in_country", "personal_data": {"passport_number": passport, "phone": "+92 321 7776655",
            "home_address": "House 17, Lane 4, Clifton Block 9"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        officer
            .get(&format!("/api/v1/persons/{}", r.body["id"].as_str().unwrap()))
            .await
            .body["personal_data"]["passport_number"],
        passport
    );

    let needles: [&[u8]; 5] = [
        passport.as_bytes(),
        b"PD0000101",
        b"+92 321 7776655",
        b"Clifton Block 9",
        b"+92 300 0000101",
    ];
    let mut files = files_under(&server.data_dir());
    files.push(server.log_path());
    assert!(
        files.iter().any(|f| f.ends_with("jsms.db-wal")),
        "the WAL is checked too: {files:?}"
    );
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} contains {:?} in plaintext",
                f.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    // The names (not personal data under PRODUCT §3.1) are stored, so the search above is real.
    let db = std::fs::read(server.data_dir().join("jsms.db-wal")).unwrap();
    assert!(db.windows(10).any(|w| w == b"Fang Yirou"));
}

#[tokio::test]
async fn operational_endpoints_and_the_openapi_document_match_the_router() {
    let server = TestServer::start();
    let c = server.client();
    assert_eq!(c.get("/healthz").await.body["status"], "ok");
    let ready = c.get("/readyz").await;
    assert_eq!(ready.body["status"], "ok");
    assert!(
        ready.body["warnings"][0].as_str().unwrap().contains("no witness"),
        "an instance without a witness says so: {ready:?}"
    );
    let metrics = c.get("/metrics").await;
    assert!(
        metrics
            .body
            .as_str()
            .unwrap()
            .contains("jsms_http_responses_total{class=\"2xx\"}")
    );
    let r = c.get("/nowhere").await;
    assert_problem(&r, 404, "not-found");
    assert!(r.headers.get("x-request-id").is_some());
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    assert_problem(
        &c.send(Method::PUT, "/api/v1/sites", None).await,
        405,
        "method-not-allowed",
    );

    let spec = c.get("/api/v1/openapi.json").await.body;
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{}", paths.len());
    // Every documented operation exists in the router: unauthenticated calls get an answer
    // from the operation (401, 200…), never the 404/405 of a missing route.
    for (path, ops) in paths {
        let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = c.raw(m, &concrete, "application/json", b"{}".to_vec(), &[]).await;
            assert!(
                ![404, 405].contains(&r.status.as_u16())
                    || r.body["type"] == "urn:jsms:problem:not-found" && path.contains("{id}"),
                "{method} {path} answered {r:?}"
            );
            assert_ne!(r.status.as_u16(), 405, "{method} {path}");
        }
    }
    // Request bodies reject unknown fields in the document too.
    assert_eq!(spec["components"]["schemas"]["NewSite"]["additionalProperties"], false);

    // The document is valid OpenAPI, by the independent validator (PyPI
    // `openapi-spec-validator`, installed by `cargo xtask test`): query parameters declared
    // in the query, operation ids unique, every schema well-formed.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), spec.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\n\
from openapi_spec_validator import OpenAPIV31SpecValidator\n\
errors = list(OpenAPIV31SpecValidator(json.load(open(sys.argv[1]))).iter_errors())\n\
for e in errors: print(e.message[:300], list(e.absolute_path))\n\
print('valid' if not errors else f'{len(errors)} errors')",
        ])
        .arg(file.path())
        .output()
        .expect("python3");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("valid"),
        "openapi-spec-validator (run `cargo xtask test` to install it): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn threat_zones_are_geojson_validated_and_owned_by_their_party() {
    let server = TestServer::start();
    let analyst = server.signed_in("hn.analyst").await;
    let polygon = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[66.995, 24.855], [67.0, 24.855], [67.0, 24.86], [66.995, 24.855]]]},
        "properties": {"severity": 4, "kind": "ied_risk", "valid_from": "2026-01-01T00:00:00Z", "source": "patrol report 17"}});
    let created = analyst.post("/api/v1/zones", polygon.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["properties"]["version"], 1);
    let circle = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [67.005, 24.865]},
        "properties": {"severity": 2, "kind": "unrest", "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z",
                       "source": "liaison", "radius_m": 250.0}});
    assert_eq!(
        analyst.post("/api/v1/zones", circle.clone()).await.status,
        StatusCode::CREATED
    );

    // Bad input names the field and creates nothing.
    let with = |mut f: serde_json::Value, path: &[&str], v: serde_json::Value| {
        let mut cur = &mut f;
        for k in &path[..path.len() - 1] {
            cur = &mut cur[*k];
        }
        cur[path[path.len() - 1]] = v;
        f
    };
    for (body, field) in [
        (
            with(polygon.clone(), &["properties", "severity"], json!(9)),
            "/properties/severity",
        ),
        (
            with(polygon.clone(), &["properties", "kind"], json!("dragons")),
            "/properties/kind",
        ),
        (
            with(polygon.clone(), &["properties", "valid_from"], json!("yesterday")),
            "/properties/valid_from",
        ),
        (
            with(
                circle.clone(),
                &["properties", "valid_until"],
                json!("2025-01-01T00:00:00Z"),
            ),
            "/properties/valid_until",
        ),
        (
            with(circle.clone(), &["properties", "radius_m"], json!(0)),
            "/properties/radius_m",
        ),
        (
            with(
                polygon.clone(),
                &["geometry", "coordinates"],
                json!([[
                    [66.995, 24.855],
                    [67.0, 24.86],
                    [67.0, 24.855],
                    [66.995, 24.86],
                    [66.995, 24.855]
                ]]),
            ),
            "/geometry/coordinates/0/2",
        ),
        (
            with(
                polygon.clone(),
                &["geometry", "coordinates"],
                json!([[[66.995, 24.855], [67.0, 24.855], [67.0, 95.0], [66.995, 24.855]]]),
            ),
            "/geometry/coordinates/0/2/1",
        ),
    ] {
        let r = analyst.post("/api/v1/zones", body).await;
        assert_eq!(assert_problem(&r, 422, "validation")["field"], field, "{r:?}");
    }
    let geometry = analyst
        .post(
            "/api/v1/zones",
            with(
                polygon.clone(),
                &["geometry"],
                json!({"type": "LineString", "coordinates": []}),
            ),
        )
        .await;
    assert_eq!(assert_problem(&geometry, 422, "malformed-body")["field"], "/geometry");
    assert_eq!(
        analyst.get("/api/v1/zones").await.body["features"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Who may do what: the partner's analyst reads but does not change the host's zone;
    // a liaison officer reads; an administrator reads nothing.
    let partner = server.signed_in("pn.analyst").await;
    let path = format!("/api/v1/zones/{id}");
    assert_eq!(partner.get(&path).await.body["properties"]["kind"], "ied_risk");
    let mut changed = created.body.clone();
    changed["properties"]["severity"] = json!(5);
    assert_problem(
        &partner.send(Method::PUT, &path, Some(changed.clone())).await,
        403,
        "forbidden",
    );
    assert_problem(&partner.delete(&path, 1).await, 403, "forbidden");
    let liaison = server.signed_in("pn.liaison").await;
    assert_eq!(liaison.get("/api/v1/zones").await.status, StatusCode::OK);
    assert_problem(&liaison.post("/api/v1/zones", polygon.clone()).await, 403, "forbidden");
    let admin = enrolled_admin(&server, "hn.admin").await;
    assert_problem(&admin.get("/api/v1/zones").await, 403, "forbidden");

    // The owner replaces (versioned) and deletes.
    let replaced = analyst.send(Method::PUT, &path, Some(changed.clone())).await;
    assert_eq!(replaced.body["properties"]["severity"], 5, "{replaced:?}");
    assert_eq!(replaced.body["properties"]["version"], 2);
    assert_problem(
        &analyst.send(Method::PUT, &path, Some(changed)).await,
        409,
        "stale-version",
    );
    assert_eq!(analyst.delete(&path, 2).await.status, StatusCode::NO_CONTENT);
    assert_problem(&analyst.get(&path).await, 404, "not-found");
}

#[tokio::test]
async fn routes_avoid_severe_zones_and_explain_their_risk() {
    let server = TestServer::start();
    let coordinator = server.signed_in("hn.coordinator").await;
    let analyst = server.signed_in("hn.analyst").await;
    let point = |lat: f64, lon: f64| json!({"type": "Point", "coordinates": [lon, lat]});
    let request =
        |profile: &str| json!({"from": point(24.8548, 66.9958), "to": point(24.8668, 67.0105), "profile": profile});
    let fastest = coordinator.post("/api/v1/routes", request("fastest")).await;
    assert_eq!(fastest.status, StatusCode::OK, "{fastest:?}");
    assert_eq!(fastest.body["type"], "FeatureCollection");
    assert_eq!(
        fastest.body["features"].as_array().unwrap().len(),
        1,
        "one route unless asked"
    );
    let first = |r: &common::Resp| r.body["features"][0].clone();
    let best = first(&fastest);
    assert_eq!(best["geometry"]["type"], "LineString");
    let props = &best["properties"];
    assert_eq!(props["rank"], 1);
    assert!(props["duration_s"].as_f64().unwrap() > 60.0 && props["distance_m"].as_f64().unwrap() > 500.0);
    assert_eq!(props["crosses_avoided_zone"], false);
    let segments = props["segments"].as_array().unwrap();
    assert!(segments.iter().any(|s| s["road"] != ""));
    assert!(
        segments.iter().all(|s| s["zones"].as_array().unwrap().is_empty()),
        "no zones yet"
    );

    // Alternatives: really different, each reasonable, best first.
    let mut three = request("balanced");
    three["alternatives"] = json!(3);
    let alts = coordinator.post("/api/v1/routes", three).await;
    assert_eq!(alts.status, StatusCode::OK, "{alts:?}");
    let features = alts.body["features"].as_array().unwrap();
    assert!(
        features.len() >= 2,
        "the old city has more than one way across: {}",
        features.len()
    );
    let cost0 = features[0]["properties"]["cost_s"].as_f64().unwrap();
    for (i, f) in features.iter().enumerate().skip(1) {
        let p = &f["properties"];
        assert_eq!(p["rank"], i + 1);
        assert!(p["shared_with_first"].as_f64().unwrap() <= 0.6, "{p}");
        assert!(p["cost_s"].as_f64().unwrap() <= cost0 * 1.4 + 1e-6, "{p}");
        assert_ne!(f["geometry"], features[0]["geometry"]);
    }
    // The unpredictable mode draws among acceptable routes and says how.
    let mut random = request("balanced");
    random["unpredictable"] = json!(true);
    let drawn = coordinator.post("/api/v1/routes", random).await;
    assert_eq!(drawn.status, StatusCode::OK, "{drawn:?}");
    let how = &drawn.body["unpredictable"];
    assert!(
        how["candidates"].as_u64().unwrap() >= 1
            && how["drawn"].as_u64().unwrap() < how["candidates"].as_u64().unwrap()
    );
    assert_eq!(how["recent_routes"], 0);

    // A severe zone on the middle of that route: the next route goes around it.
    let coords = best["geometry"]["coordinates"].as_array().unwrap();
    let mid = &coords[coords.len() / 2];
    let zone = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": mid},
        "properties": {"severity": 5, "kind": "ied_risk", "valid_from": "2026-01-01T00:00:00Z", "source": "test", "radius_m": 60.0}});
    assert_eq!(analyst.post("/api/v1/zones", zone).await.status, StatusCode::CREATED);
    let around = first(&coordinator.post("/api/v1/routes", request("fastest")).await);
    assert_eq!(around["properties"]["crosses_avoided_zone"], false, "{around:?}");
    assert_ne!(around["geometry"], best["geometry"], "the route changed");
    assert!(around["properties"]["duration_s"].as_f64().unwrap() >= props["duration_s"].as_f64().unwrap());

    // A mild zone is crossed by the fastest profile and explained segment by segment.
    let mild = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [67.0105, 24.8668]},
        "properties": {"severity": 2, "kind": "unrest", "valid_from": "2026-01-01T00:00:00Z", "source": "test", "radius_m": 150.0}});
    assert_eq!(analyst.post("/api/v1/zones", mild).await.status, StatusCode::CREATED);
    let through = first(&coordinator.post("/api/v1/routes", request("fastest")).await);
    let zoned: Vec<&Value> = through["properties"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["zones"].as_array().unwrap().is_empty())
        .collect();
    assert!(!zoned.is_empty(), "{through:?}");
    assert!(
        zoned
            .iter()
            .all(|s| s["risk_reason"].as_str().unwrap().contains("threat zone"))
    );
    assert!(through["properties"]["risk"].as_f64().unwrap() > 0.0);
    // Departure before the zones are valid: no zone on any segment.
    let mut early = request("balanced");
    early["depart_at"] = json!("2025-06-01T08:00:00Z");
    let before = first(&coordinator.post("/api/v1/routes", early).await);
    assert!(
        before["properties"]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["zones"].as_array().unwrap().is_empty())
    );
    // The balanced trade-off is tunable: weighting risk more never makes the route riskier.
    let mut careless = request("balanced");
    careless["risk_weight"] = json!(0.0);
    let mut careful = request("balanced");
    careful["risk_weight"] = json!(10.0);
    let (careless, careful) = (
        first(&coordinator.post("/api/v1/routes", careless).await),
        first(&coordinator.post("/api/v1/routes", careful).await),
    );
    assert!(careful["properties"]["risk"].as_f64().unwrap() <= careless["properties"]["risk"].as_f64().unwrap());
    assert!(
        careful["properties"]["duration_s"].as_f64().unwrap() >= careless["properties"]["duration_s"].as_f64().unwrap()
    );
    let mut wrong = request("fastest");
    wrong["risk_weight"] = json!(2.0);
    assert_eq!(
        assert_problem(&coordinator.post("/api/v1/routes", wrong).await, 422, "validation")["field"],
        "/risk_weight"
    );
    let mut too_many = request("fastest");
    too_many["alternatives"] = json!(6);
    assert_eq!(
        assert_problem(&coordinator.post("/api/v1/routes", too_many).await, 422, "validation")["field"],
        "/alternatives"
    );

    // Bad input and roles.
    let far = json!({"from": point(24.70, 66.90), "to": point(24.8668, 67.0105)});
    let r = coordinator.post("/api/v1/routes", far).await;
    let p = assert_problem(&r, 422, "validation");
    assert_eq!(p["field"], "/from");
    assert!(p["detail"].as_str().unwrap().contains(" m away"), "{p}");
    assert_problem(
        &coordinator.post("/api/v1/routes", request("scenic")).await,
        422,
        "malformed-body",
    );
    let bad_time = json!({"from": point(24.8548, 66.9958), "to": point(24.8668, 67.0105), "depart_at": "soon"});
    assert_eq!(
        assert_problem(&coordinator.post("/api/v1/routes", bad_time).await, 422, "validation")["field"],
        "/depart_at"
    );
    let auditor = server.signed_in("hn.auditor").await;
    assert_problem(
        &auditor.post("/api/v1/routes", request("fastest")).await,
        403,
        "forbidden",
    );
}
