//! The demo's live convoy: once the demo server is up, the escort team FALCON 3 drives Wen
//! Lianhe between the Kharadar works and the staff residence, trip after trip, each one
//! requested, approved by two coordinators, planned and released over the real API, then
//! driven by the simulator in real time — so the operations room sees a convoy move, and
//! on every third trip an unplanned stop raises an alert.
//!
//! The automation signs in with the previous 30-second one-time code of each user it acts
//! as (the next ones only if that was used), so the current code stays free for the person
//! trying the demo.

use crate::Failure;
use crate::init::Login;
use crate::simulate::{SimulateArgs, drive};
use jsms_identity::totp::{self, TotpSecret};
use serde_json::{Value, json};
use std::time::Duration;

/// Trips driven before the convoy stops (about five minutes each).
pub const TRIPS: usize = 12;

/// A signed-in API client.
struct Api {
    http: reqwest::Client,
    base: String,
    csrf: Option<String>,
}

impl Api {
    async fn sign_in(base: &str, login: &Login) -> Result<Self, Failure> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(Failure::runtime)?;
        let secret = login
            .totp_secret
            .as_deref()
            .and_then(|s| TotpSecret::from_base32(s).ok())
            .ok_or_else(|| Failure::runtime(format!("{} has no TOTP secret", login.username)))?;
        let mut api = Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            csrf: None,
        };
        // The previous code first; the current and the next one if it was used already.
        let now = totp::step_at(time::OffsetDateTime::now_utc().unix_timestamp());
        let mut refused = None;
        for step in now - 1..=now + 1 {
            let code = totp::code_for_step(&secret, step, totp::DIGITS);
            let answer = api
                .call(
                    reqwest::Method::POST,
                    "/api/v1/auth/sign-in",
                    Some(json!({"username": login.username, "password": login.password, "totp_code": code})),
                )
                .await;
            match answer {
                Ok(body) => {
                    api.csrf = body.get("csrf_token").and_then(Value::as_str).map(str::to_owned);
                    return Ok(api);
                }
                Err(e) => refused = Some(e),
            }
        }
        Err(refused.unwrap_or_else(|| Failure::runtime("sign-in refused")))
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, Failure> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(Failure::runtime)?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(Failure::runtime(format!(
                "{path}: {status}: {}",
                body.get("detail").and_then(Value::as_str).unwrap_or("no detail")
            )))
        }
    }

    async fn get(&self, path: &str) -> Result<Value, Failure> {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, Failure> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// The id of the first item of a list whose `key` contains `text`.
    async fn find(&self, path: &str, key: &str, text: &str) -> Result<Value, Failure> {
        let list = self.get(path).await?;
        list.get("items")
            .and_then(Value::as_array)
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i.get(key).and_then(Value::as_str).is_some_and(|v| v.contains(text)))
            })
            .and_then(|i| i.get("id").cloned())
            .ok_or_else(|| Failure::runtime(format!("{path}: no {text}")))
    }
}

fn login<'a>(logins: &'a [Login], username: &str) -> Result<&'a Login, Failure> {
    logins
        .iter()
        .find(|l| l.username == username)
        .ok_or_else(|| Failure::runtime(format!("no demo login {username}")))
}

fn version(v: &Value) -> Value {
    v.get("version").cloned().unwrap_or(Value::Null)
}

/// A lifecycle transition from the version in `last`.
async fn step(api: &Api, id: &str, transition: &str, last: &Value) -> Result<Value, Failure> {
    api.post(
        &format!("/api/v1/movements/{id}/transitions"),
        json!({"transition": transition, "version": version(last)}),
    )
    .await
}

/// Drives `trips` trips of the demo convoy in real time (or, `replay`, each drive stamped in
/// the recent past and sent at once, as the tests do); returns the movements driven, when
/// done, or what failed.
pub async fn run(base: String, logins: Vec<Login>, trips: usize, replay: bool) -> Result<Vec<String>, Failure> {
    let officer = Api::sign_in(&base, login(&logins, "pn.officer")?).await?;
    let coordinator = Api::sign_in(&base, login(&logins, "hn.coordinator")?).await?;
    let second = Api::sign_in(&base, login(&logins, "hn.coordinator2")?).await?;
    let person = officer.find("/api/v1/persons", "full_name", "Wen Lianhe").await?;
    let works = officer.find("/api/v1/sites", "name", "Kharadar").await?;
    let residence = officer.find("/api/v1/sites", "name", "Staff Residence").await?;
    let team = coordinator
        .get("/api/v1/escort-teams")
        .await?
        .as_array()
        .and_then(|t| t.first())
        .and_then(|t| t.get("id").cloned())
        .ok_or_else(|| Failure::runtime("no escort team"))?;
    let device = coordinator
        .post(
            &format!("/api/v1/escort-teams/{}/devices", team.as_str().unwrap_or_default()),
            json!({"name": "FALCON 3 lead vehicle phone (simulated)"}),
        )
        .await?;
    let token = device
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::runtime("no device token"))?
        .to_owned();
    let mut driven = Vec::new();
    for trip in 0..trips {
        let (from, to) = if trip % 2 == 0 {
            (&works, &residence)
        } else {
            (&residence, &works)
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let created = officer
            .post(
                "/api/v1/movements",
                json!({
                    "persons": [person],
                    "legs": [{"from": {"site": from}, "to": {"site": to}}],
                    "purpose": format!("Site visit, trip {}", trip + 1),
                    "window": {"start": jsms_server::wire::rfc3339(now + 1800), "end": jsms_server::wire::rfc3339(now + 4 * 3600)},
                    "vehicles": ["Company van"]
                }),
            )
            .await?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::runtime("no movement id"))?
            .to_owned();
        let s = step(&officer, &id, "submit", &created).await?;
        let a = step(&coordinator, &id, "assess", &s).await?;
        let once = step(&coordinator, &id, "approve", &a).await?;
        let twice = step(&second, &id, "approve", &once).await?;
        let planned = coordinator
            .post(
                &format!("/api/v1/movements/{id}/plan"),
                json!({"version": version(&twice), "escort_team": team, "release_lead_s": 600}),
            )
            .await?;
        // Released by hand now rather than by the scheduler before the drawn departure: the
        // convoy leaves at once.
        step(&coordinator, &id, "release", &planned).await?;
        let args = SimulateArgs {
            url: base.clone(),
            token: token.clone(),
            speed_kmh: 30.0,
            step_secs: 5,
            speedup: 1.0,
            replay,
            faults: if trip % 3 == 1 {
                vec!["stop@0.5".to_owned()]
            } else {
                Vec::new()
            },
        };
        tracing::info!(movement = %id, trip = trip + 1, "demo convoy under way");
        drive(&args).await?;
        driven.push(id);
    }
    tracing::info!("demo convoy: all {trips} trips driven");
    Ok(driven)
}
