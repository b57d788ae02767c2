//! Shared state of the running server.

use crate::audit::AuditLog;
use crate::config::SessionPolicy;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::throttle::Throttle;
use jsms_domain::ids::PartyId;
use jsms_domain::user::Party;
use jsms_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub use jsms_service::Who;
pub use jsms_service::clock::{Clock, ManualClock, SystemClock};

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// Storage (legacy: the areas not yet behind a service function; removed with them).
    pub store: Arc<dyn Store>,
    /// The audit log.
    pub audit: Arc<AuditLog>,
    /// The service layer: the gate, the audit log and every area's rules.
    pub services: Arc<jsms_service::Services>,
    /// New and re-marked threat reports, for the report streams.
    /// TAXII collection contents being paged through.
    pub taxii_cache: Arc<crate::routes::taxii::TaxiiCache>,
    /// The web map's raster tile URL template, if an operator configured one.
    pub tile_url: Option<Arc<str>>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Whether cookies get the `Secure` flag (served over TLS).
    pub secure_cookies: bool,
    /// Sign-in throttling.
    pub throttle: Arc<Throttle>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    parties: Arc<RwLock<HashMap<PartyId, Party>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// The state of the HTTP layer around the services of an instance.
    pub fn new(services: Arc<jsms_service::Services>, sessions: SessionPolicy, secure_cookies: bool) -> Self {
        Self {
            store: services.legacy_store(),
            audit: Arc::clone(&services.audit),
            clock: Arc::clone(&services.clock),
            services,
            taxii_cache: Arc::new(crate::routes::taxii::TaxiiCache::default()),
            tile_url: None,
            sessions,
            secure_cookies,
            throttle: Arc::new(Throttle::default()),
            metrics: Arc::new(Metrics::default()),
            parties: Arc::new(RwLock::new(HashMap::new())),
        }
    }

    /// Runs a storage call on a blocking thread.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::Internal(format!("storage task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// A party by id, from a cache filled from storage (parties change only at `init`).
    pub async fn party(&self, id: PartyId) -> Result<Party, ApiError> {
        if let Some(p) = self.parties.read().ok().and_then(|m| m.get(&id).cloned()) {
            return Ok(p);
        }
        let parties = self.db(|s| s.parties()).await?;
        let found = parties.iter().find(|p| p.id == id).cloned();
        if let Ok(mut cache) = self.parties.write() {
            *cache = parties.into_iter().map(|p| (p.id, p)).collect();
        }
        found.ok_or_else(|| ApiError::Internal(format!("user refers to unknown party {id}")))
    }
}

/// One event to audit.
#[derive(Debug, Clone)]
pub struct Event {
    /// `person.read`, `auth.sign_in`, …
    pub action: &'static str,
    /// `person:<id>`, …
    pub resource: Option<String>,
    /// The decision.
    pub outcome: jsms_audit::entry::Outcome,
    /// Rules or policies that decided; other reasons.
    pub reasons: Vec<String>,
    /// Fields disclosed.
    pub fields: Vec<String>,
    /// A justification given by the principal.
    pub justification: Option<String>,
}

/// Reasons recorded with an event: one text or the policies of a decision.
pub trait IntoReasons {
    /// The reasons.
    fn into_reasons(self) -> Vec<String>;
}

impl IntoReasons for &str {
    fn into_reasons(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl IntoReasons for String {
    fn into_reasons(self) -> Vec<String> {
        vec![self]
    }
}

impl IntoReasons for Vec<String> {
    fn into_reasons(self) -> Vec<String> {
        self
    }
}

impl Event {
    /// An allowed action.
    pub fn allow(action: &'static str, resource: Option<String>, reasons: impl IntoReasons) -> Self {
        Self {
            action,
            resource,
            outcome: jsms_audit::entry::Outcome::Allow,
            reasons: reasons.into_reasons(),
            fields: vec![],
            justification: None,
        }
    }

    /// A denied action.
    pub fn deny(action: &'static str, resource: Option<String>, reasons: impl IntoReasons) -> Self {
        Self {
            outcome: jsms_audit::entry::Outcome::Deny,
            ..Self::allow(action, resource, reasons)
        }
    }

    /// An event without a decision.
    pub fn info(action: &'static str, resource: Option<String>, reasons: impl IntoReasons) -> Self {
        Self {
            outcome: jsms_audit::entry::Outcome::Info,
            ..Self::allow(action, resource, reasons)
        }
    }

    /// With the fields disclosed.
    #[must_use]
    pub fn fields(mut self, fields: &[&str]) -> Self {
        self.fields = fields.iter().map(|f| (*f).to_owned()).collect();
        self
    }
}

impl AppState {
    /// Asks the authorization component.
    pub fn decide(
        &self,
        actor: &jsms_domain::access::Actor,
        action: jsms_domain::access::Action,
    ) -> jsms_authz::Decision {
        self.services.gate.decide(actor, action)
    }

    /// Builds the audit entry for `event` by `who` in the request `meta`.
    pub fn entry(&self, who: &Who, meta: &crate::extract::RequestMeta, event: Event) -> jsms_audit::entry::AuditEntry {
        jsms_audit::entry::AuditEntry {
            seq: 0,
            time_ms: self.clock.now().saturating_mul(1000),
            principal: who.principal.clone(),
            principal_name: who.name.clone(),
            party: who.party.clone(),
            action: event.action.to_owned(),
            resource: event.resource,
            outcome: event.outcome,
            reasons: event.reasons,
            fields: event.fields,
            request_id: meta.request_id.clone(),
            client: Some(meta.client.clone()),
            channel: "api".into(),
            justification: event.justification,
        }
    }

    /// Appends one event durably; an error means the request must fail (503).
    pub async fn audit(&self, who: &Who, meta: &crate::extract::RequestMeta, event: Event) -> Result<(), ApiError> {
        self.audit_all(vec![self.entry(who, meta, event)]).await
    }

    /// Appends entries durably, then feeds them to the anomaly detector.
    pub async fn audit_all(&self, entries: Vec<jsms_audit::entry::AuditEntry>) -> Result<(), ApiError> {
        Ok(self.services.gate.legacy_append(entries).await?)
    }
}

pub use jsms_service::oversight::BreakGlassPolicy;
