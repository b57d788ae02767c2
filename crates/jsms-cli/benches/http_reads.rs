//! Protected reads over HTTP through the real router and middleware, from concurrent
//! keep-alive connections: (1) a signed-in host coordinator reads random protected persons
//! (personal data opened); (2) a company security officer lists its 200 movements, every
//! movement in the answer a disclosed object. Each object disclosed has its own durable
//! audit entry; the benchmark counts the log's entries and refuses to report a rate if
//! there are fewer entries than objects. Baseline: the same person reads straight from the
//! store, in the same process. Prints objects per second, latency percentiles and the ratio.
//!
//! Run: `cargo bench -p jsms-cli --bench http_reads` (optional env: `BENCH_SECONDS`,
//! `BENCH_CONNECTIONS`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_domain::access::PersonScope;
use jsms_identity::totp::{self, TotpSecret};
use jsms_server::config::{KeySource, SessionPolicy};
use jsms_server::instance::DataDir;
use jsms_server::state::{AppState, SystemClock};
use jsms_store::{PageRequest, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let seconds = env_or("BENCH_SECONDS", 5);
    let connections = env_or("BENCH_CONNECTIONS", 16) as usize;
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::new(tmp.path().join("instance"));
    data.create(&KeySource::DataDir).unwrap();
    let store = data.create_store(&KeySource::DataDir).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let logins = jsms_cli::demo::seed(&store, now).unwrap_or_else(|f| panic!("{f:?}"));
    let store: Arc<dyn Store> = Arc::new(store);
    let ids: Vec<_> = store
        .persons(
            PersonScope::All,
            &PageRequest {
                after: None,
                limit: 500,
                q: None,
            },
        )
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.person.id)
        .collect();

    // Baseline: the store alone, on one blocking thread.
    let base_store = Arc::clone(&store);
    let base_ids = ids.clone();
    let baseline = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(2) {
            let id = base_ids[(n as usize) % base_ids.len()];
            base_store.person(id).unwrap();
            n += 1;
        }
        n as f64 / started.elapsed().as_secs_f64()
    })
    .await
    .unwrap();

    let audit = data.open_audit(Arc::new(SystemClock)).unwrap();
    let services = Arc::new(jsms_service::Services::new(
        Arc::clone(&store),
        audit,
        Arc::new(jsms_authz::Authz::builtin().unwrap()),
        Arc::new(jsms_server::anomaly::AnomalyDetector::default()),
        Arc::new(SystemClock),
        jsms_service::Settings::default(),
    ));
    let state = AppState::new(services, SessionPolicy::default(), false);
    let url = jsms_server::spawn_on_loopback(jsms_server::app(state, 256 * 1024))
        .await
        .unwrap();

    let (client, _) = signed_in(&url, &logins, "hn.coordinator", connections).await;

    let log_before = log_size(&data);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let client = client.clone();
        let url = url.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = worker;
            while Instant::now() < deadline {
                let id = ids[i % ids.len()];
                i += connections;
                let t = Instant::now();
                let resp = client.get(format!("{url}/api/v1/persons/{id}")).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                let body = resp.bytes().await.unwrap();
                assert!(body.len() > 100);
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    all.sort_unstable();
    let rate = all.len() as f64 / elapsed;
    let person_entries = log_size(&data) - log_before;
    assert!(
        person_entries >= all.len() as u64,
        "{person_entries} audit entries for {} reads",
        all.len()
    );
    println!(
        "http_reads: {connections} connections, {seconds} s, client and server in one process on {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!(
        "  HTTP GET /api/v1/persons/{{id}} (session, access rule, durable audit entry, personal data opened): {rate:.0} reads/s, p50 {:.2} ms, p99 {:.2} ms",
        percentile(&all, 0.50).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "  audit entries written: {person_entries} for {} persons disclosed",
        all.len()
    );
    println!("  baseline Store::person (no HTTP, one thread): {baseline:.0} reads/s");
    println!("  ratio baseline / HTTP: {:.1}x", baseline / rate);

    // (2) A list: the officer's 200 movement requests, each a disclosed object.
    let (officer, csrf) = signed_in(&url, &logins, "pn.officer", connections).await;
    let persons: serde_json::Value = officer
        .get(format!("{url}/api/v1/persons"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person = persons["items"][0]["id"].clone();
    let start = time::OffsetDateTime::now_utc().unix_timestamp() + 86_400;
    for i in 0..MOVEMENTS {
        let at = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        let r = officer
            .post(format!("{url}/api/v1/movements"))
            .header("x-csrf-token", &csrf)
            .json(&json!({
                "persons": [person],
                "legs": [{"from": {"point": {"type": "Point", "coordinates": [66.9958, 24.8548]}},
                          "to": {"point": {"type": "Point", "coordinates": [67.0105, 24.8668]}}}],
                "purpose": format!("benchmark {i}"),
                "window": {"start": at(start + i as i64 * 60), "end": at(start + i as i64 * 60 + 7200)}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let log_before = log_size(&data);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = officer.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut objects = 0usize;
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = client.get(format!("{url}/api/v1/movements")).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                let body: serde_json::Value = resp.json().await.unwrap();
                objects += body["items"].as_array().unwrap().len();
                latencies.push(t.elapsed());
            }
            (latencies, objects)
        }));
    }
    let started = Instant::now();
    let (mut lists, mut objects) = (Vec::new(), 0usize);
    for t in tasks {
        let (l, n) = t.await.unwrap();
        lists.extend(l);
        objects += n;
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    lists.sort_unstable();
    let list_entries = log_size(&data) - log_before;
    assert!(
        list_entries >= objects as u64,
        "{list_entries} audit entries for {objects} movements disclosed"
    );
    assert_eq!(objects, lists.len() * MOVEMENTS, "every list holds every movement");
    println!(
        "  HTTP GET /api/v1/movements ({MOVEMENTS} movements per answer, one durable entry each): {:.0} movements/s in {:.0} lists/s, p50 {:.2} ms, p99 {:.2} ms",
        objects as f64 / elapsed,
        lists.len() as f64 / elapsed,
        percentile(&lists, 0.50).as_secs_f64() * 1e3,
        percentile(&lists, 0.99).as_secs_f64() * 1e3
    );
    println!("  audit entries written: {list_entries} for {objects} movements disclosed");
}

/// Movement requests the officer lists.
const MOVEMENTS: usize = 200;

/// The audit log's number of entries.
fn log_size(data: &DataDir) -> u64 {
    let db = jsms_store::audit::AuditDb::open(&data.audit_database()).unwrap();
    db.entries(0, u64::MAX).unwrap().last().map_or(0, |e| e.idx + 1)
}

/// A client signed in as `username` (password and TOTP), and its session's CSRF token.
async fn signed_in(
    url: &str,
    logins: &[jsms_cli::init::Login],
    username: &str,
    connections: usize,
) -> (reqwest::Client, String) {
    let login = logins.iter().find(|l| l.username == username).unwrap();
    let secret = TotpSecret::from_base32(login.totp_secret.as_deref().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let r = client
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"username": login.username, "password": login.password,
                      "totp_code": totp::code_at(&secret, time::OffsetDateTime::now_utc().unix_timestamp())}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in of {username}");
    let session: serde_json::Value = r.json().await.unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    (client, csrf)
}
