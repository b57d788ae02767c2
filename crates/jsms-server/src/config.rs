//! Server configuration: what `jsms serve` reads from `jsms.toml` and `JSMS_*` variables.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// The instance's data directory (database and, by default, keys).
    pub data_dir: PathBuf,
    /// Serve HTTPS with this certificate and key when set.
    pub tls: Option<TlsConfig>,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Where the personal-data sealing key comes from.
    pub key_source: KeySource,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Witnesses that cosign the audit log's checkpoints.
    pub witnesses: Vec<crate::audit::WitnessEndpoint>,
    /// How often a new checkpoint is signed while entries arrive.
    pub checkpoint_interval: Duration,
    /// Authorization policies from this directory instead of the shipped ones.
    pub policy_dir: Option<PathBuf>,
    /// Anomaly thresholds.
    pub anomalies: crate::anomaly::AnomalyConfig,
    /// Break-glass limits and review deadline.
    pub break_glass: crate::state::BreakGlassPolicy,
    /// Alerts not acknowledged within this many seconds are escalated.
    pub alert_escalation_secs: i64,
    /// Thresholds of the tracking detectors.
    pub detectors: jsms_domain::tracking::Thresholds,
    /// How often overdue meeting action items are looked for (and reminded once), seconds.
    pub reminder_interval_secs: u64,
    /// Where alerts are posted (signed with HMAC-SHA256).
    pub webhooks: Vec<crate::webhooks::WebhookTarget>,
    /// A raster tile URL template for the web map's background (`{z}`, `{x}`, `{y}`).
    pub tile_url: Option<String>,
}

/// PEM files for TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// Session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in whatever its use.
    pub absolute_timeout: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
        }
    }
}

/// Where the 32-byte sealing key for personal data comes from. It is never in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `DATA_DIR/keys/pii.key` (created by `jsms init`, mode 0600).
    DataDir,
    /// A file elsewhere (e.g. a mounted secret).
    File(PathBuf),
    /// Base64 in the environment (`JSMS_PII_KEY`).
    Base64(String),
}

impl ServerConfig {
    /// Defaults for a data directory: loopback on port 8080, no TLS, default sessions.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir,
            tls: None,
            sessions: SessionPolicy::default(),
            key_source: KeySource::DataDir,
            max_body_bytes: 256 * 1024,
            witnesses: Vec::new(),
            checkpoint_interval: Duration::from_secs(2),
            policy_dir: None,
            anomalies: crate::anomaly::AnomalyConfig::default(),
            break_glass: crate::state::BreakGlassPolicy::default(),
            alert_escalation_secs: 300,
            detectors: jsms_domain::tracking::Thresholds::default(),
            reminder_interval_secs: 60,
            webhooks: Vec::new(),
            tile_url: None,
        }
    }
}

impl ServerConfig {
    /// Loads and validates the authorization policies (shipped, or from `policy_dir`).
    pub fn authz(&self) -> Result<jsms_authz::Authz, jsms_authz::AuthzError> {
        match &self.policy_dir {
            Some(dir) => jsms_authz::Authz::from_dir(dir),
            None => jsms_authz::Authz::builtin(),
        }
    }
}
