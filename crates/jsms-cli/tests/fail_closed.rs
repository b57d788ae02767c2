//! Fail closed: when the audit log cannot be written durably, protected requests get 503 and
//! no data, changes are not made, and a metric counts the failures. The router runs in this
//! process over a real instance whose audit sink can be made to fail, like a full disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::assert_problem;
use common::inproc::InProcess;
use jsms_domain::access::PersonScope;
use jsms_store::PageRequest;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn protected_requests_fail_with_503_and_no_data_when_the_log_cannot_be_written() {
    let s = InProcess::start().await;
    let store = std::sync::Arc::clone(&s.store);
    let c = s.signed_in("pn.officer").await;
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

    s.break_log(true);
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
    let mut again = s.client();
    let login2 = s.login("pn.liaison");
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

    // Not ready while the log cannot be written, so a load balancer stops sending requests.
    let ready = c.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{ready:?}");
    assert!(ready.body["warnings"].to_string().contains("audit log"), "{ready:?}");

    // Once the log is writable again, service resumes, and so does readiness.
    s.break_log(false);
    assert_eq!(c.get(&format!("/api/v1/persons/{id}")).await.status, StatusCode::OK);
    assert_eq!(c.get("/readyz").await.status, StatusCode::OK);
}
