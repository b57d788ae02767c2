//! The JSMS service layer. The store is private to this crate: every read of protected data
//! and every change goes through a service function, and every service function goes
//! through the [`gate`] — decided by the authorization component, recorded durably in the
//! audit log (one entry per object disclosed), failing closed. The HTTP layer (`jsms-server`)
//! parses requests, calls one service function and renders what it returns; it never holds
//! the store, so it cannot read or change anything any other way.
//!
//! Time comes from an injectable [`clock::Clock`]; the rules of each area live in
//! `jsms-domain` and in the area's module here.

pub mod anomaly;
pub mod audit;
pub mod briefs;
pub mod caller;
pub mod clock;
pub mod decisions;
pub mod error;
pub mod gate;
pub mod incidents;
pub mod intel;
pub mod logbook;
pub mod meetings;
pub mod movements;
pub mod notifications;
pub mod oversight;
pub mod planning;
pub mod reeval;
pub mod registry;
pub mod runtime;
pub mod sessions;
pub mod tracking;
pub mod users;
pub mod webhooks;
pub mod zones;

pub use caller::{Caller, Origin, Who};
pub use error::{Error, Result};
pub use gate::{Change, Disclosed, Event, Gate, Permit, Protected, Refusal, Resource};

use crate::anomaly::AnomalyDetector;
use crate::audit::AuditLog;
use crate::clock::Clock;
use jsms_store::{Store, StoreError};
use std::sync::Arc;

/// How an instance is set up (defaults: the shipped rules, no road network, no webhooks).
pub struct Settings {
    /// Movement assessment rules.
    pub movement_rules: jsms_domain::movement::Rules,
    /// The imported road network, if any.
    pub network: Option<Arc<planning::RoadNetwork>>,
    /// Detector thresholds.
    pub detectors: jsms_domain::tracking::Thresholds,
    /// Alerts not acknowledged within this many seconds are escalated.
    pub alert_escalation_secs: i64,
    /// Webhook targets of alerts.
    pub webhooks: Vec<webhooks::WebhookTarget>,
    /// Break-glass rules.
    pub break_glass: oversight::BreakGlassPolicy,
    /// The witnesses whose cosignatures the log accepts.
    pub witnesses: Vec<audit::WitnessEndpoint>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            movement_rules: movements::default_rules(),
            network: None,
            detectors: jsms_domain::tracking::Thresholds::default(),
            alert_escalation_secs: 300,
            webhooks: Vec::new(),
            break_glass: oversight::BreakGlassPolicy::default(),
            witnesses: Vec::new(),
        }
    }
}

/// A Unix time as RFC 3339 (UTC), for texts the service writes (history notes, logs).
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The services of one instance.
pub struct Services {
    store: Arc<dyn Store>,
    /// The gate every disclosure and change passes.
    pub gate: Gate,
    /// The running audit log (proofs, checkpoints; appends go through the gate).
    pub audit: Arc<AuditLog>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Movement assessment rules.
    pub movement_rules: Arc<jsms_domain::movement::Rules>,
    /// The imported road network, if any.
    pub network: Option<Arc<planning::RoadNetwork>>,
    /// Incidents and route history for route risk.
    pub risk_feed: Arc<dyn planning::RiskFeed>,
    /// Planned routes re-evaluated when zones change.
    pub route_watch: Arc<reeval::RouteWatch>,
    /// Trackers of movements under way and the live channels.
    pub tracking: Arc<tracking::TrackingHub>,
    /// New and re-marked threat reports, for the streams.
    pub intel: Arc<intel::IntelHub>,
    /// Webhook targets of alerts.
    pub webhooks: Arc<Vec<webhooks::WebhookTarget>>,
    /// Break-glass rules.
    pub break_glass: oversight::BreakGlassPolicy,
    /// The witnesses whose cosignatures the log accepts.
    pub witnesses: Arc<Vec<audit::WitnessEndpoint>>,
    /// The parties, read once (they change only at `jsms init`).
    parties: std::sync::RwLock<std::collections::HashMap<jsms_domain::ids::PartyId, jsms_domain::user::Party>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Services {
    /// The services over a store, an audit log and the authorization component.
    pub fn new(
        store: Arc<dyn Store>,
        audit: Arc<AuditLog>,
        authz: Arc<jsms_authz::Authz>,
        anomalies: Arc<AnomalyDetector>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        let gate = Gate::new(
            authz,
            Arc::clone(&audit),
            anomalies,
            Arc::clone(&store),
            Arc::clone(&clock),
        );
        let risk_feed: Arc<dyn planning::RiskFeed> = Arc::new(planning::StoreFeed {
            store: Arc::clone(&store),
        });
        Self {
            store,
            gate,
            audit,
            clock,
            movement_rules: Arc::new(settings.movement_rules),
            network: settings.network,
            risk_feed,
            route_watch: Arc::new(reeval::RouteWatch::default()),
            intel: Arc::new(intel::IntelHub::default()),
            tracking: Arc::new(tracking::TrackingHub::new(
                settings.detectors,
                settings.alert_escalation_secs,
            )),
            webhooks: Arc::new(settings.webhooks),
            break_glass: settings.break_glass,
            witnesses: Arc::new(settings.witnesses),
            parties: std::sync::RwLock::default(),
        }
    }

    /// Runs a storage call on a blocking thread.
    pub(crate) async fn db<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| Error::Internal(format!("storage task failed: {e}")))?
            .map_err(Error::from)
    }

    /// Makes an allowed change (its `permit` proves the decision is durable). If the store
    /// then refuses it (a stale version, a conflict), that is recorded too (best effort: the
    /// permit already records the attempt).
    pub(crate) async fn write<T, F>(&self, caller: &Caller, change: &Change, permit: Permit, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        drop(permit);
        match self.db(f).await {
            Ok(v) => Ok(v),
            Err(e) => {
                let note = Event::info(change.log, change.resource, format!("not applied: {e}"));
                let _ = self.gate.record(&caller.who, &caller.origin, note).await;
                Err(e)
            }
        }
    }

    /// Loads one object asked for by id. A missing one is recorded like a denial (a deny
    /// entry naming the id, "no such object") before it is answered as not found: a caller
    /// probing ids gets the same answer, and the same durable write, whether the object is
    /// missing or hidden — the answer's time no longer tells them apart.
    pub(crate) async fn by_id<T, F>(&self, caller: &Caller, log: &'static str, resource: Resource, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        match self.db(f).await {
            Err(Error::NotFound) => {
                let event = Event::deny(log, Some(resource), "no such object");
                self.gate.record(&caller.who, &caller.origin, event).await?;
                Err(Error::NotFound)
            }
            other => other,
        }
    }

    /// A refusal by a rule the service enforces itself (not a policy): recorded as a deny
    /// entry naming the rule, like a policy's denial, then returned. Domain refusals that
    /// are only conflicts of state (a stale version, final minutes) are not denials.
    pub(crate) async fn refuse<T>(
        &self,
        caller: &Caller,
        action: &'static str,
        resource: Resource,
        error: Error,
    ) -> Result<T> {
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::deny(action, Some(resource), error.to_string()),
            )
            .await?;
        Err(error)
    }
}
