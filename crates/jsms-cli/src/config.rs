//! Configuration loading for `jsms serve` and `jsms init`: `jsms.toml`, then `JSMS_*`
//! environment variables, then command-line flags, each overriding the one before.
//!
//! ```toml
//! data_dir = "/var/lib/jsms"
//! addr = "0.0.0.0:8443"
//! max_body_bytes = 262144
//! [tls]
//! cert = "/etc/jsms/cert.pem"
//! key = "/etc/jsms/key.pem"
//! [sessions]
//! idle_timeout_secs = 1800
//! absolute_timeout_secs = 43200
//! [keys]
//! pii_key_file = "/run/secrets/jsms-pii.key"
//! [authz]
//! policy_dir = "/etc/jsms/policies"   # jsms.cedarschema + *.cedar; default: the shipped ones
//! [oversight]
//! break_glass_review_secs = 259200   # escalate unreviewed break-glass after 72 h
//! burst_reads = 50                   # more protected reads than this …
//! burst_window_secs = 60             # … within this many seconds: alert
//! denials = 5                        # this many denials …
//! denial_window_secs = 300           # … within this many seconds: alert
//! off_hours_utc = "17-1"             # protected reads between these UTC hours: alert
//! [tracking]
//! alert_escalation_secs = 300        # alerts not acknowledged within 5 min are escalated
//! [tracking.detectors]     # defaults shown (PRODUCT §3.4)
//! deviation_m = 150.0       # corridor half-width …
//! deviation_s = 30          # … left for this long: alert
//! stop_s = 180              # stopped this long outside a safe site: alert
//! stop_radius_m = 30.0      # moving less than this counts as stopped
//! overdue_grace_s = 600     # not arrived this long after the planned arrival: alert
//! check_in_s = 900          # check-ins due this often
//! silent_s = 120            # no position for this long: alert
//! start_m = 200.0           # first position this near the origin starts the movement
//! arrive_m = 100.0          # a position this near the destination completes it
//! [web]
//! tile_url = "https://tiles.example.org/{z}/{x}/{y}.png"   # optional raster map background
//! [[webhooks]]              # alerts are posted here, signed (X-JSMS-Signature)
//! url = "https://ops.example/jsms-alerts"
//! secret = "at least 16 characters"
//! [audit]
//! checkpoint_interval_secs = 2
//! [[witnesses]]             # the other party's witness (`jsms witness serve`, or without
//! url = "https://witness.partner.example"   # url: `jsms witness pull`)
//! key = "partner.example/witness+0a1b2c3d+BA…"
//! [[parties]]               # used by `jsms init`
//! code = "HN"
//! name = "Host Nation"
//! kind = "host"
//! ```
//!
//! Environment: `JSMS_DATA_DIR`, `JSMS_ADDR`, `JSMS_TLS_CERT`, `JSMS_TLS_KEY`,
//! `JSMS_SESSION_IDLE_TIMEOUT_SECS`, `JSMS_SESSION_ABSOLUTE_TIMEOUT_SECS`, `JSMS_MAX_BODY_BYTES`,
//! `JSMS_PII_KEY` (base64) or `JSMS_PII_KEY_FILE`, `JSMS_CHECKPOINT_INTERVAL_SECS`,
//! `JSMS_WITNESSES` (`URL=KEY` for a witness the log pushes to, or `KEY` for one that pulls;
//! comma-separated), `JSMS_POLICY_DIR`,
//! `JSMS_BREAK_GLASS_REVIEW_SECS`, `JSMS_ANOMALY_BURST_READS`, `JSMS_ANOMALY_BURST_WINDOW_SECS`,
//! `JSMS_ANOMALY_DENIALS`, `JSMS_ANOMALY_DENIAL_WINDOW_SECS`, `JSMS_OFF_HOURS_UTC`, `JSMS_ALERT_ESCALATION_SECS`,
//! `JSMS_DETECTORS` (`silent_s=60,deviation_m=200`: detector thresholds by name), `JSMS_TILE_URL`, `JSMS_REMINDER_SECS`
//! (how often overdue meeting actions are looked for; 60), `JSMS_WEBHOOKS`
//! (`URL|SECRET`, comma-separated).

use crate::Failure;
use jsms_audit::note::NoteVerifier;
use jsms_server::audit::WitnessEndpoint;
use jsms_server::config::{KeySource, ServerConfig, SessionPolicy, TlsConfig};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    data_dir: Option<PathBuf>,
    addr: Option<SocketAddr>,
    max_body_bytes: Option<usize>,
    tls: Option<TlsConfig>,
    #[serde(default)]
    sessions: SessionsFile,
    #[serde(default)]
    keys: KeysFile,
    #[serde(default)]
    audit: AuditFile,
    #[serde(default)]
    authz: AuthzFile,
    #[serde(default)]
    oversight: OversightFile,
    #[serde(default)]
    tracking: TrackingFile,
    #[serde(default)]
    webhooks: Vec<WebhookFile>,
    #[serde(default)]
    web: WebFile,
    #[serde(default)]
    witnesses: Vec<WitnessFile>,
    /// Parties for `jsms init`.
    #[serde(default)]
    pub parties: Vec<PartyFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsFile {
    idle_timeout_secs: Option<u64>,
    absolute_timeout_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookFile {
    url: String,
    secret: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebFile {
    tile_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackingFile {
    alert_escalation_secs: Option<i64>,
    detectors: Option<jsms_domain::tracking::Thresholds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OversightFile {
    break_glass_review_secs: Option<i64>,
    burst_reads: Option<usize>,
    burst_window_secs: Option<i64>,
    denials: Option<usize>,
    denial_window_secs: Option<i64>,
    off_hours_utc: Option<String>,
}

fn hours(text: &str) -> Result<(u8, u8), Failure> {
    let bad = || {
        Failure::config(format!(
            "off hours {text:?}: expected START-END in UTC hours, e.g. 17-1"
        ))
    };
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let (a, b): (u8, u8) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a > 23 || b > 23 {
        return Err(bad());
    }
    Ok((a, b))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthzFile {
    policy_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    checkpoint_interval_secs: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessFile {
    /// Absent for a witness that pulls (`jsms witness pull`).
    url: Option<String>,
    key: String,
}

fn witness(url: Option<&str>, key: &str) -> Result<WitnessEndpoint, Failure> {
    let verifier = NoteVerifier::from_text(key).map_err(|e| Failure::config(format!("witness key {key:?}: {e}")))?;
    if let Some(url) = url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(Failure::config(format!(
            "witness url {url:?} must start with http:// or https://"
        )));
    }
    Ok(WitnessEndpoint {
        url: url.map(str::to_owned),
        verifier,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    pii_key_file: Option<PathBuf>,
}

/// A party in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyFile {
    /// Code (`HN`).
    pub code: String,
    /// Name.
    pub name: String,
    /// `host` or `partner`.
    pub kind: String,
}

/// Reads the config file, if given.
pub fn read_file(path: Option<&Path>) -> Result<FileConfig, Failure> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| Failure::config(format!("{}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| Failure::config(format!("{}: {e}", path.display())))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Result<Option<T>, Failure>
where
    T::Err: std::fmt::Display,
{
    env(name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| Failure::config(format!("{name}={v:?}: {e}")))
        })
        .transpose()
}

/// Flags that override configuration.
#[derive(Debug, Default)]
pub struct Overrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--addr`.
    pub addr: Option<SocketAddr>,
}

/// Resolves the server configuration: file < environment < flags.
pub fn resolve(file: &FileConfig, flags: Overrides) -> Result<ServerConfig, Failure> {
    let data_dir = flags
        .data_dir
        .or_else(|| env("JSMS_DATA_DIR").map(PathBuf::from))
        .or_else(|| file.data_dir.clone())
        .ok_or_else(|| {
            Failure::config("no data directory: pass --data-dir, set JSMS_DATA_DIR, or set data_dir in the config file")
        })?;
    let mut config = ServerConfig::for_data_dir(data_dir);
    if let Some(addr) = flags.addr.or(env_parse("JSMS_ADDR")?).or(file.addr) {
        config.addr = addr;
    }
    if let Some(max) = env_parse("JSMS_MAX_BODY_BYTES")?.or(file.max_body_bytes) {
        if !(1024..=64 * 1024 * 1024).contains(&max) {
            return Err(Failure::config("max_body_bytes must be between 1 KiB and 64 MiB"));
        }
        config.max_body_bytes = max;
    }
    config.tls = match (env("JSMS_TLS_CERT"), env("JSMS_TLS_KEY")) {
        (Some(cert), Some(key)) => Some(TlsConfig {
            cert: cert.into(),
            key: key.into(),
        }),
        (None, None) => file.tls.clone(),
        _ => {
            return Err(Failure::config("set both JSMS_TLS_CERT and JSMS_TLS_KEY, or neither"));
        }
    };
    let idle = env_parse("JSMS_SESSION_IDLE_TIMEOUT_SECS")?.or(file.sessions.idle_timeout_secs);
    let absolute = env_parse("JSMS_SESSION_ABSOLUTE_TIMEOUT_SECS")?.or(file.sessions.absolute_timeout_secs);
    let defaults = SessionPolicy::default();
    config.sessions = SessionPolicy {
        idle_timeout: idle.map(Duration::from_secs).unwrap_or(defaults.idle_timeout),
        absolute_timeout: absolute.map(Duration::from_secs).unwrap_or(defaults.absolute_timeout),
    };
    if config.sessions.idle_timeout.is_zero()
        || config.sessions.idle_timeout > config.sessions.absolute_timeout
        || config.sessions.absolute_timeout > Duration::from_secs(7 * 24 * 3600)
    {
        return Err(Failure::config(
            "session timeouts: 0 < idle_timeout_secs <= absolute_timeout_secs <= 7 days",
        ));
    }
    if let Some(secs) = env_parse::<u64>("JSMS_CHECKPOINT_INTERVAL_SECS")?.or(file.audit.checkpoint_interval_secs) {
        if !(1..=3600).contains(&secs) {
            return Err(Failure::config("checkpoint_interval_secs must be 1 to 3600"));
        }
        config.checkpoint_interval = Duration::from_secs(secs);
    }
    if let Some(secs) = env_parse::<i64>("JSMS_ALERT_ESCALATION_SECS")?.or(file.tracking.alert_escalation_secs) {
        if !(1..=86_400).contains(&secs) {
            return Err(Failure::config("alert_escalation_secs must be 1 to 86400"));
        }
        config.alert_escalation_secs = secs;
    }
    if let Some(d) = file.tracking.detectors {
        config.detectors = d;
    }
    if let Some(list) = env("JSMS_DETECTORS") {
        // `name=value` pairs, comma-separated, over the file's (or the default) thresholds.
        let mut table = toml::Table::try_from(config.detectors)
            .map_err(|e| Failure::config(format!("detector thresholds: {e}")))?;
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| Failure::config(format!("JSMS_DETECTORS: {item:?} is not NAME=VALUE")))?;
            let value: toml::Value = value
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .or_else(|_| value.trim().parse::<f64>().map(toml::Value::Float))
                .map_err(|_| Failure::config(format!("JSMS_DETECTORS: {item:?}: the value is a number")))?;
            table.insert(name.trim().to_owned(), value);
        }
        config.detectors = table
            .try_into()
            .map_err(|e| Failure::config(format!("JSMS_DETECTORS: {e}")))?;
    }
    config
        .detectors
        .validate()
        .map_err(|e| Failure::config(format!("tracking detectors: {e}")))?;
    if let Some(secs) = env_parse::<u64>("JSMS_REMINDER_SECS")? {
        if !(1..=86_400).contains(&secs) {
            return Err(Failure::config("JSMS_REMINDER_SECS must be 1 to 86400"));
        }
        config.reminder_interval_secs = secs;
    }
    if let Some(url) = env("JSMS_TILE_URL").or_else(|| file.web.tile_url.clone()) {
        config.tile_url = Some(jsms_server::web::validate_tile_url(&url).map_err(Failure::config)?);
    }
    config.webhooks = match env("JSMS_WEBHOOKS") {
        Some(list) => list
            .split(',')
            .map(|item| {
                let (url, secret) = item
                    .trim()
                    .split_once('|')
                    .ok_or_else(|| Failure::config("JSMS_WEBHOOKS: URL|SECRET items, comma-separated"))?;
                jsms_server::webhooks::WebhookTarget::new(url, secret).map_err(Failure::config)
            })
            .collect::<Result<_, _>>()?,
        None => file
            .webhooks
            .iter()
            .map(|w| jsms_server::webhooks::WebhookTarget::new(&w.url, &w.secret).map_err(Failure::config))
            .collect::<Result<_, _>>()?,
    };
    let o = &file.oversight;
    if let Some(secs) = env_parse::<i64>("JSMS_BREAK_GLASS_REVIEW_SECS")?.or(o.break_glass_review_secs) {
        if secs < 1 {
            return Err(Failure::config("break_glass_review_secs must be positive"));
        }
        config.break_glass.review_deadline_secs = secs;
    }
    let a = &mut config.anomalies;
    a.burst_reads = env_parse("JSMS_ANOMALY_BURST_READS")?
        .or(o.burst_reads)
        .unwrap_or(a.burst_reads);
    a.burst_window_secs = env_parse("JSMS_ANOMALY_BURST_WINDOW_SECS")?
        .or(o.burst_window_secs)
        .unwrap_or(a.burst_window_secs);
    a.denials = env_parse("JSMS_ANOMALY_DENIALS")?.or(o.denials).unwrap_or(a.denials);
    a.denial_window_secs = env_parse("JSMS_ANOMALY_DENIAL_WINDOW_SECS")?
        .or(o.denial_window_secs)
        .unwrap_or(a.denial_window_secs);
    if let Some(text) = env("JSMS_OFF_HOURS_UTC").or_else(|| o.off_hours_utc.clone()) {
        (a.off_hours_start_utc, a.off_hours_end_utc) = hours(&text)?;
    }
    if a.burst_reads == 0 || a.denials == 0 || a.burst_window_secs < 1 || a.denial_window_secs < 1 {
        return Err(Failure::config("anomaly thresholds and windows must be positive"));
    }
    config.policy_dir = env("JSMS_POLICY_DIR")
        .map(PathBuf::from)
        .or_else(|| file.authz.policy_dir.clone());
    config.witnesses = match env("JSMS_WITNESSES") {
        Some(list) => list
            .split(',')
            .map(|item| {
                let item = item.trim();
                match item.split_once('=') {
                    Some((url, key)) if item.starts_with("http://") || item.starts_with("https://") => {
                        witness(Some(url), key)
                    }
                    _ => witness(None, item),
                }
            })
            .collect::<Result<_, _>>()?,
        None => file
            .witnesses
            .iter()
            .map(|w| witness(w.url.as_deref(), &w.key))
            .collect::<Result<_, _>>()?,
    };
    config.key_source = if let Some(b64) = env("JSMS_PII_KEY") {
        KeySource::Base64(b64)
    } else if let Some(f) = env("JSMS_PII_KEY_FILE")
        .map(PathBuf::from)
        .or_else(|| file.keys.pii_key_file.clone())
    {
        KeySource::File(f)
    } else {
        KeySource::DataDir
    };
    Ok(config)
}
