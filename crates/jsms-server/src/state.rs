//! Shared state of the running server.

use crate::config::SessionPolicy;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::throttle::Throttle;
use jsms_domain::ids::PartyId;
use jsms_domain::user::Party;
use jsms_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The source of the current time, so tests and replays can drive it.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
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
    /// Builds the state.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        sessions: SessionPolicy,
        secure_cookies: bool,
    ) -> Self {
        Self {
            store,
            clock,
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
