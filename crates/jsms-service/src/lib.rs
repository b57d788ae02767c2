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
pub mod caller;
pub mod clock;
pub mod error;
pub mod gate;
pub mod registry;

pub use caller::{Caller, Origin, Who};
pub use error::{Error, Result};
pub use gate::{Change, Disclosed, Event, Gate, Permit, Protected, Refusal, Resource};

use crate::anomaly::AnomalyDetector;
use crate::audit::AuditLog;
use crate::clock::Clock;
use jsms_store::{Store, StoreError};
use std::sync::Arc;

/// The services of one instance.
pub struct Services {
    store: Arc<dyn Store>,
    /// The gate every disclosure and change passes.
    pub gate: Gate,
    /// The running audit log (proofs, checkpoints; appends go through the gate).
    pub audit: Arc<AuditLog>,
    /// Time.
    pub clock: Arc<dyn Clock>,
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
    ) -> Self {
        let gate = Gate::new(
            authz,
            Arc::clone(&audit),
            anomalies,
            Arc::clone(&store),
            Arc::clone(&clock),
        );
        Self {
            store,
            gate,
            audit,
            clock,
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

    /// The store, for the parts of the HTTP layer not yet moved behind a service function.
    /// Migration aid: removed once every area is a service.
    pub fn legacy_store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }
}
