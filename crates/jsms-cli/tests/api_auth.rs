//! End-to-end tests of identity: sign-in with TOTP, enrolment, sessions, CSRF, throttling,
//! account disable, API tokens. Each test runs a real `jsms serve` on 127.0.0.1:0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{TestServer, assert_problem, enrolled_admin, without_request_id};
use jsms_identity::totp::{self, TotpSecret};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn sign_in_needs_password_and_a_fresh_totp_code() {
    let server = TestServer::start();
    let login = server.login("hn.coordinator").clone();

    // Correct credentials: a verified session with a CSRF token and the user's view.
    let mut c = server.client();
    let (status, body) = c.sign_in_as(&login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mfa"], "verified");
    assert_eq!(body["user"]["username"], "hn.coordinator");
    assert!(body["csrf_token"].as_str().unwrap().len() >= 22);
    assert!(body.get("password_hash").is_none() && body["user"].get("password_hash").is_none());
    assert_eq!(c.get("/api/v1/me").await.body["username"], "hn.coordinator");

    let try_sign_in = |user: &str, pw: &str, code: Option<String>| {
        let c = server.client();
        let body = json!({"username": user, "password": pw, "totp_code": code});
        async move { c.post("/api/v1/auth/sign-in", body).await }
    };
    // Wrong password, unknown user, missing code, wrong code, replayed code: one answer.
    let wrong_pw = try_sign_in(
        "hn.coordinator",
        "not the password at all",
        Some(server.next_code("hn.coordinator")),
    )
    .await;
    let reference = without_request_id(assert_problem(&wrong_pw, 401, "invalid-credentials"));
    let unknown = try_sign_in("hn.nobody", "not the password at all", Some("123456".into())).await;
    assert_eq!(
        without_request_id(assert_problem(&unknown, 401, "invalid-credentials")),
        reference
    );
    let no_code = try_sign_in("hn.coordinator", &login.password, None).await;
    assert_eq!(
        without_request_id(assert_problem(&no_code, 401, "invalid-credentials")),
        reference
    );
    let wrong_code = try_sign_in("hn.coordinator", &login.password, Some("000000".into())).await;
    assert_eq!(
        without_request_id(assert_problem(&wrong_code, 401, "invalid-credentials")),
        reference
    );

    let secret = TotpSecret::from_base32(login.totp_secret.as_deref().unwrap()).unwrap();
    let fresh = server.next_code("hn.coordinator");
    let first = try_sign_in("hn.coordinator", &login.password, Some(fresh.clone())).await;
    assert_eq!(first.status, StatusCode::OK);
    let replay = try_sign_in("hn.coordinator", &login.password, Some(fresh)).await;
    assert_problem(&replay, 401, "invalid-credentials");
    // A code far outside the window is refused too.
    let old = totp::code_at(&secret, common::now() - 3600);
    let stale = try_sign_in("hn.coordinator", &login.password, Some(old)).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_sign_out_ends_it() {
    let server = TestServer::start();
    let mut c = server.signed_in("pn.liaison").await;
    let cookie_jar_before = c.get("/api/v1/auth/session").await;
    assert_eq!(cookie_jar_before.status, StatusCode::OK);
    let set_cookie = {
        let login = server.login("pn.liaison").clone();
        let code = server.next_code("pn.liaison");
        let r = c
            .post(
                "/api/v1/auth/sign-in",
                json!({"username": login.username, "password": login.password, "totp_code": code}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        c.csrf = r.body["csrf_token"].as_str().map(str::to_owned);
        r.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned()
    };
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    let token = set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    assert!(token.len() >= 43, "at least 256 bits of base64: {token}");

    // Sign-out ends the session; the old cookie value is dead even if replayed by hand.
    let out = c.send(Method::POST, "/api/v1/auth/sign-out", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let replayed = server.client();
    let r = common::Client::finish(
        replayed
            .http
            .get(format!("{}/api/v1/me", server.url))
            .header("cookie", format!("jsms_session={token}")),
    )
    .await;
    assert_problem(&r, 401, "unauthenticated");
}

#[tokio::test]
async fn first_sign_in_enrols_totp_before_anything_else() {
    let server = TestServer::start();
    let admin = server.login("pn.admin").clone();
    assert!(admin.totp_secret.is_none());
    let mut c = server.client();
    let (status, body) = c.sign_in_as(&admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mfa"], "enrollment_required");
    assert_problem(&c.get("/api/v1/users").await, 403, "mfa-required");

    let enrol = c.send(Method::POST, "/api/v1/auth/totp/enrollment", None).await;
    assert_eq!(enrol.status, StatusCode::OK, "{enrol:?}");
    let secret = TotpSecret::from_base32(enrol.body["secret"].as_str().unwrap()).unwrap();
    assert!(
        enrol.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/JSMS:pn.admin?secret=")
    );

    let bad = c
        .post("/api/v1/auth/totp/confirmation", json!({"code": "000000"}))
        .await;
    assert_problem(&bad, 422, "validation");
    let code = totp::code_at(&secret, common::now());
    let ok = c.post("/api/v1/auth/totp/confirmation", json!({"code": code})).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_eq!(ok.body["mfa"], "verified");
    c.csrf = ok.body["csrf_token"].as_str().map(str::to_owned);
    let users = c.get("/api/v1/users").await;
    assert_eq!(users.status, StatusCode::OK, "{users:?}");

    // A second enrolment is refused: only an administrator reset allows it.
    assert_problem(
        &c.send(Method::POST, "/api/v1/auth/totp/enrollment", None).await,
        409,
        "conflict",
    );
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_timeouts() {
    let server = TestServer::start_with(&[
        ("JSMS_SESSION_IDLE_TIMEOUT_SECS", "2"),
        ("JSMS_SESSION_ABSOLUTE_TIMEOUT_SECS", "5"),
    ]);
    // Idle: no request for longer than 2 s ends the session.
    let idle = server.signed_in("hn.analyst").await;
    assert_eq!(idle.get("/api/v1/me").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_problem(&idle.get("/api/v1/me").await, 401, "session-expired");
    assert_problem(&idle.get("/api/v1/me").await, 401, "unauthenticated");

    // Absolute: activity every second keeps it alive only until 5 s after sign-in. The
    // cookie is sent by hand so that the server, not the client's cookie jar, decides.
    let login = server.login("hn.escort").clone();
    let signin = server
        .client()
        .post(
            "/api/v1/auth/sign-in",
            json!({"username": login.username, "password": login.password,
                                             "totp_code": server.next_code("hn.escort")}),
        )
        .await;
    let cookie = signin
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let plain = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut expired_after = None;
    while started.elapsed() < Duration::from_secs(9) {
        let r = common::Client::finish(plain.get(format!("{}/api/v1/me", server.url)).header("cookie", &cookie)).await;
        if r.status != StatusCode::OK {
            assert_problem(&r, 401, "session-expired");
            expired_after = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    let after = expired_after.expect("the absolute timeout ended the session");
    assert!(after >= Duration::from_secs(3), "ended too early: {after:?}");
}

#[tokio::test]
async fn csrf_token_is_required_for_cookie_state_changes() {
    let server = TestServer::start();
    let mut c = server.signed_in("hn.coordinator").await;
    let orgs = c.get("/api/v1/organisations?limit=200").await;
    let owner = orgs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "agency")
        .unwrap()["id"]
        .clone();
    let site = json!({"owner_org_id": owner, "name": "Checkpoint Alpha", "kind": "office",
                      "location": {"type": "Point", "coordinates": [67.0, 24.86]}});
    let token = c.csrf.take();
    assert_problem(&c.post("/api/v1/sites", site.clone()).await, 403, "csrf");
    c.csrf = Some("forged".into());
    assert_problem(&c.post("/api/v1/sites", site.clone()).await, 403, "csrf");
    c.csrf = token;
    assert_eq!(c.post("/api/v1/sites", site).await.status, StatusCode::CREATED);
    // Nothing was created by the refused attempts.
    let sites = c.get("/api/v1/sites?q=Checkpoint").await;
    assert_eq!(sites.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_without_revealing_existence() {
    let server = TestServer::start();
    let attempt = |user: &'static str| {
        let c = server.client();
        async move {
            c.post(
                "/api/v1/auth/sign-in",
                json!({"username": user, "password": "wrong password 1"}),
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_problem(&attempt("pn.officer").await, 401, "invalid-credentials");
        assert_problem(&attempt("pn.ghost").await, 401, "invalid-credentials");
    }
    let real = attempt("pn.officer").await;
    let ghost = attempt("pn.ghost").await;
    assert_problem(&real, 429, "too-many-attempts");
    assert_problem(&ghost, 429, "too-many-attempts");
    assert!(real.headers.get("retry-after").is_some());
    let secs = |r: &common::Resp| -> i64 { r.headers["retry-after"].to_str().unwrap().parse().unwrap() };
    assert!(
        (secs(&real) - secs(&ghost)).abs() <= 1,
        "same backoff for existing and unknown names"
    );
    // While locked even the right password is refused; other accounts are unaffected.
    let mut c = server.client();
    let (status, _) = c.sign_in_as(&server.login("pn.officer").clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let mut other = server.client();
    assert_eq!(
        other.sign_in_as(&server.login("pn.liaison").clone()).await.0,
        StatusCode::OK
    );
    let metrics = server.client().get("/metrics").await;
    let text = metrics.body.as_str().unwrap().to_owned();
    assert!(text.contains("jsms_sign_in_throttled_total 3"), "{text}");
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_at_once() {
    let server = TestServer::start();
    let victim = server.signed_in("pn.officer").await;
    assert_eq!(victim.get("/api/v1/me").await.status, StatusCode::OK);
    let user_id = victim.get("/api/v1/me").await.body["id"].as_str().unwrap().to_owned();

    // Through the API, by the party's administrator (after TOTP enrolment).
    let admin = enrolled_admin(&server, "pn.admin").await;
    let r = admin
        .send(Method::POST, &format!("/api/v1/users/{user_id}/disable"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["disabled"], true);
    assert_problem(&victim.get("/api/v1/me").await, 401, "unauthenticated");
    let mut again = server.client();
    assert_eq!(
        again.sign_in_as(&server.login("pn.officer").clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let r = admin
        .send(Method::POST, &format!("/api/v1/users/{user_id}/enable"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        again.sign_in_as(&server.login("pn.officer").clone()).await.0,
        StatusCode::OK
    );

    // Through the CLI, against the running server's data directory.
    let dir = server.data_dir();
    let (code, out, err) = server.cli(&["user", "disable", "--data-dir", dir.to_str().unwrap(), "pn.officer"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_problem(&again.get("/api/v1/me").await, 401, "unauthenticated");
}

#[tokio::test]
async fn api_tokens_are_shown_once_scoped_and_revocable() {
    let server = TestServer::start();
    let admin = enrolled_admin(&server, "hn.admin").await;
    let me = admin.get("/api/v1/me").await;
    let org = me.body["org_id"].clone();
    let created = admin
        .post(
            "/api/v1/api-tokens",
            json!({"name": "tracker 7", "org_id": org, "scopes": ["registry_read"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("jsms_at_"));
    let id = created.body["token"]["id"].as_str().unwrap().to_owned();
    let listed = admin.get("/api/v1/api-tokens").await;
    assert!(
        !listed.body.to_string().contains(&secret),
        "the secret is never shown again"
    );

    let mut machine = server.client();
    machine.bearer = Some(secret.clone());
    assert_eq!(machine.get("/api/v1/sites").await.status, StatusCode::OK);
    assert_eq!(machine.get("/api/v1/organisations").await.status, StatusCode::OK);
    // Scoped: no writes, no user administration, no persons.
    let site = json!({"owner_org_id": org, "name": "X", "kind": "office", "location": {"type": "Point", "coordinates": [67.0, 24.86]}});
    assert_problem(&machine.post("/api/v1/sites", site).await, 403, "forbidden");
    assert_problem(&machine.get("/api/v1/users").await, 403, "forbidden");
    assert_eq!(machine.get("/api/v1/persons").await.body["items"], json!([]));
    assert_problem(&machine.get("/api/v1/me").await, 403, "forbidden");

    let revoked = admin.delete(&format!("/api/v1/api-tokens/{id}"), 0).await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");
    assert!(revoked.body["revoked_at"].is_string());
    assert_problem(&machine.get("/api/v1/sites").await, 401, "unauthenticated");
    machine.bearer = Some("jsms_at_made_up".into());
    assert_problem(&machine.get("/api/v1/sites").await, 401, "unauthenticated");

    // Bad token requests change nothing.
    let bad = admin
        .post(
            "/api/v1/api-tokens",
            json!({"name": "x", "org_id": org, "scopes": [], "expires_in_days": 30}),
        )
        .await;
    assert_problem(&bad, 422, "validation");
    let bad = admin
        .post(
            "/api/v1/api-tokens",
            json!({"name": "x", "org_id": org, "scopes": ["registry_read"], "expires_in_days": 0}),
        )
        .await;
    assert_eq!(bad.body["field"], "/expires_in_days");
    assert_eq!(admin.get("/api/v1/api-tokens").await.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn expired_tokens_are_refused_and_address_throttling_applies_across_names() {
    let server = TestServer::start();
    // An expired token, written straight into the running instance's database.
    let secret = common::insert_token(&server.data_dir(), "hn.admin", "expired", common::now() - 60);
    let mut machine = server.client();
    machine.bearer = Some(secret);
    assert_problem(&machine.get("/api/v1/sites").await, 401, "unauthenticated");

    // Ten different names failed from one address (password spraying) lock the address,
    // while one user's repeated mistakes lock only that user there (see above).
    for i in 0..10 {
        let r = server
            .client()
            .post(
                "/api/v1/auth/sign-in",
                json!({"username": format!("guess{i}"), "password": "wrong password 1"}),
            )
            .await;
        assert_problem(&r, 401, "invalid-credentials");
    }
    let mut c = server.client();
    assert_eq!(
        c.sign_in_as(&server.login("hn.auditor").clone()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn password_change_and_profile_changes_end_sessions() {
    let server = TestServer::start();
    let login = server.login("pn.liaison").clone();
    let c = server.signed_in("pn.liaison").await;
    let other_device = server.signed_in("pn.liaison").await;
    let wrong = c
        .post(
            "/api/v1/auth/password",
            json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(assert_problem(&wrong, 422, "validation")["field"], "/current_password");
    let weak = c
        .post(
            "/api/v1/auth/password",
            json!({"current_password": login.password, "new_password": "short"}),
        )
        .await;
    assert_eq!(assert_problem(&weak, 422, "validation")["field"], "/new_password");
    let ok = c
        .post(
            "/api/v1/auth/password",
            json!({"current_password": login.password, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{ok:?}");
    assert_eq!(
        other_device.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED,
        "every session ended"
    );
    let old = server
        .client()
        .post(
            "/api/v1/auth/sign-in",
            json!({"username": login.username, "password": login.password}),
        )
        .await;
    assert_problem(&old, 401, "invalid-credentials");
    let mut renewed = login.clone();
    renewed.password = "a brand new passphrase".into();
    let mut fresh = server.client();
    assert_eq!(fresh.sign_in_as(&renewed).await.0, StatusCode::OK);

    // A role change by the administrator ends the user's sessions; so does an MFA reset,
    // after which the user must enrol again. (Another user: TOTP allows 3 sign-ins a window.)
    let admin = enrolled_admin(&server, "pn.admin").await;
    let officer = server.signed_in("pn.officer2").await;
    let me = officer.get("/api/v1/me").await.body;
    let path = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
    // Raising a clearance waits for a second administrator; once approved it applies.
    let requested = admin
        .patch(
            &path,
            json!({"version": me["version"], "clearance": "secret", "compartments": ["karachi-ops"]}),
        )
        .await;
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{requested:?}");
    assert_eq!(
        officer.get("/api/v1/me").await.body["clearance"],
        me["clearance"],
        "not yet"
    );
    let second = enrolled_admin(&server, "pn.admin2").await;
    let approved = second
        .send(
            Method::POST,
            &format!(
                "/api/v1/privilege-requests/{}/approval",
                requested.body["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{approved:?}");
    let changed = approved.body["user"].clone();
    assert_eq!(changed["clearance"], "secret");
    assert_problem(&officer.get("/api/v1/me").await, 401, "unauthenticated");
    let stale = admin
        .patch(&path, json!({"version": me["version"], "display_name": "X"}))
        .await;
    assert_problem(&stale, 409, "stale-version");
    let bad = admin
        .patch(
            &path,
            json!({"version": changed["version"], "compartments": ["Not Valid"]}),
        )
        .await;
    assert_eq!(assert_problem(&bad, 422, "validation")["field"], "/compartments/0");

    let again = server.signed_in("pn.officer2").await;
    let reset = admin.send(Method::POST, &format!("{path}/reset-mfa"), None).await;
    assert_eq!(reset.body["mfa_enrolled"], false, "{reset:?}");
    assert_eq!(again.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let mut no_mfa = server.login("pn.officer2").clone();
    no_mfa.totp_secret = None;
    let mut enrol = server.client();
    let (status, body) = enrol.sign_in_as(&no_mfa).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["mfa"], "enrollment_required");
    // Administrators cannot reset or disable themselves.
    let admin_id = admin.get("/api/v1/me").await.body["id"].as_str().unwrap().to_owned();
    assert_problem(
        &admin
            .send(Method::POST, &format!("/api/v1/users/{admin_id}/disable"), None)
            .await,
        409,
        "conflict",
    );
    assert_problem(
        &admin
            .send(Method::POST, &format!("/api/v1/users/{admin_id}/reset-mfa"), None)
            .await,
        409,
        "conflict",
    );
}

#[tokio::test]
async fn the_password_change_is_no_oracle_and_refuses_common_passwords() {
    let server = TestServer::start();
    let login = server.login("pn.analyst").clone();
    let c = server.signed_in("pn.analyst").await;
    for weak in [
        "Password1234",
        "iloveyou1234",
        "qwertyuiopas",
        "123456789012",
        "pn.analyst-2026",
    ] {
        let r = c
            .post(
                "/api/v1/auth/password",
                json!({"current_password": login.password, "new_password": weak}),
            )
            .await;
        assert_eq!(
            assert_problem(&r, 422, "validation")["field"],
            "/new_password",
            "{weak}"
        );
    }
    // Guessing the current password: five tries, then the backoff (like sign-in).
    let guess = |n: usize| {
        let c = &c;
        async move {
            c.post(
                "/api/v1/auth/password",
                json!({"current_password": format!("guess number {n}"), "new_password": "kettle orbit window 42"}),
            )
            .await
        }
    };
    for n in 0..5 {
        assert_eq!(
            assert_problem(&guess(n).await, 422, "validation")["field"],
            "/current_password"
        );
    }
    let locked = guess(5).await;
    assert_problem(&locked, 429, "too-many-attempts");
    assert!(locked.headers.get("retry-after").is_some());
}
