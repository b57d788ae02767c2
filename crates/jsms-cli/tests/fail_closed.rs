//! Fail closed: when the audit log cannot be written durably, protected requests get 503 and
//! no data, changes are not made, and a metric counts the failures. The router runs in this
//! process over a real instance whose audit sink can be made to fail, like a full disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Client, assert_problem};
use jsms_domain::access::PersonScope;
use jsms_server::config::{KeySource, SessionPolicy};
use jsms_server::instance::DataDir;
use jsms_server::state::{AppState, SystemClock};
use jsms_store::audit::{AuditDb, AuditSink, NewEntry};
use jsms_store::{PageRequest, Store, StoreError, StoreResult};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

struct Breakable {
    inner: AuditDb,
    broken: Arc<AtomicBool>,
}

impl AuditSink for Breakable {
    fn append(&mut self, entries: &[NewEntry<'_>]) -> StoreResult<()> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError::Internal("disk I/O error (simulated)".into()));
        }
        self.inner.append(entries)
    }
}

#[tokio::test]
async fn protected_requests_fail_with_503_and_no_data_when_the_log_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::new(tmp.path().join("instance"));
    data.create(&KeySource::DataDir).unwrap();
    let store = data.create_store(&KeySource::DataDir).unwrap();
    let logins = jsms_cli::demo::seed(&store, common::now()).unwrap_or_else(|f| panic!("{f:?}"));
    let store: Arc<dyn Store> = Arc::new(store);
    let broken = Arc::new(AtomicBool::new(false));
    let sink = Breakable {
        inner: AuditDb::open(&data.audit_database()).unwrap(),
        broken: Arc::clone(&broken),
    };
    let audit = jsms_server::audit::AuditLog::start(
        Box::new(sink),
        AuditDb::open(&data.audit_database()).unwrap(),
        data.checkpoint_signer().unwrap(),
        data.tail_key().unwrap(),
        Arc::new(SystemClock),
    )
    .unwrap();
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

    let login = logins.iter().find(|l| l.username == "pn.officer").unwrap().clone();
    let mut c = Client {
        base: url.clone(),
        http: reqwest::Client::builder().cookie_store(true).build().unwrap(),
        csrf: None,
        bearer: None,
        used_steps: Default::default(),
    };
    assert_eq!(c.sign_in_as(&login).await.0, StatusCode::OK);
    let list = c.get("/api/v1/persons").await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    let employer = list.body["items"][0]["employer_org_id"].clone();
    let count = || {
        store
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
            .len()
    };
    let before = count();

    broken.store(true, Ordering::SeqCst);
    let read = c.get(&format!("/api/v1/persons/{id}")).await;
    assert_problem(&read, 503, "unavailable");
    assert!(
        !read.body.to_string().contains("PD0000"),
        "no protected data in a refused answer"
    );
    let listed = c.get("/api/v1/persons").await;
    assert_problem(&listed, 503, "unavailable");
    let create = c
        .post("/api/v1/persons", json!({"full_name": "Not Written", "employer_org_id": employer, "protection_level": "C", "status": "in_country"}))
        .await;
    assert_problem(&create, 503, "unavailable");
    assert_eq!(count(), before, "no change without a durable audit record");
    let mut again = Client {
        base: url.clone(),
        http: reqwest::Client::new(),
        csrf: None,
        bearer: None,
        used_steps: Default::default(),
    };
    let login2 = logins.iter().find(|l| l.username == "pn.liaison").unwrap().clone();
    assert_eq!(
        again.sign_in_as(&login2).await.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "no session without a sign-in record"
    );
    let metrics = c.get("/metrics").await.body.as_str().unwrap().to_owned();
    let failures: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("jsms_audit_append_failures_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(failures >= 4, "{metrics}");

    // Once the log is writable again, service resumes.
    broken.store(false, Ordering::SeqCst);
    assert_eq!(c.get(&format!("/api/v1/persons/{id}")).await.status, StatusCode::OK);
}
