//! Shared state of the running server.

use crate::config::SessionPolicy;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::throttle::Throttle;
use jsms_domain::ids::PartyId;
use jsms_domain::user::Party;
use std::sync::Arc;

pub use jsms_service::Who;
pub use jsms_service::clock::{Clock, ManualClock, SystemClock};

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// The service layer: the gate, the audit log and every area's rules.
    pub services: Arc<jsms_service::Services>,
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
            clock: Arc::clone(&services.clock),
            services,
            taxii_cache: Arc::new(crate::routes::taxii::TaxiiCache::default()),
            tile_url: None,
            sessions,
            secure_cookies,
            throttle: Arc::new(Throttle::default()),
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// A party by id (cached by the service layer; parties change only at `init`).
    pub async fn party(&self, id: PartyId) -> Result<Party, ApiError> {
        Ok(self.services.party(id).await?)
    }
}

pub use jsms_service::oversight::BreakGlassPolicy;
