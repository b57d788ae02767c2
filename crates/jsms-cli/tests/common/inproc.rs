//! An instance served by the test's own process, whose audit sink can be broken like a full
//! disk, with the service layer at hand (to run the release scheduler without waiting).

use super::Client;
use jsms_audit::entry::AuditEntry;
use jsms_cli::init::Login;
use jsms_server::config::{KeySource, SessionPolicy};
use jsms_server::instance::DataDir;
use jsms_server::state::{AppState, SystemClock};
use jsms_store::audit::{AuditDb, AuditSink, NewEntry};
use jsms_store::{Store, StoreError, StoreResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// An audit sink that fails every append while its switch is on.
struct Breakable {
    inner: AuditDb,
    broken: Arc<AtomicBool>,
}

impl AuditSink for Breakable {
    fn append(&mut self, entries: &[NewEntry<'_>]) -> StoreResult<()> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError::Internal("disk I/O error (simulated)".into()));
        }
        self.inner.append(entries)
    }
}

/// The demo scenario served on 127.0.0.1:0 by this process.
pub struct InProcess {
    pub url: String,
    pub logins: Vec<Login>,
    pub store: Arc<dyn Store>,
    pub services: Arc<jsms_service::Services>,
    pub data: DataDir,
    broken: Arc<AtomicBool>,
    _tmp: tempfile::TempDir,
}

impl InProcess {
    pub async fn start() -> Self {
        Self::start_with(jsms_server::Limits::default()).await
    }

    /// With explicit connection limits (timeouts, connection cap).
    pub async fn start_with(limits: jsms_server::Limits) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::new(tmp.path().join("instance"));
        data.create(&KeySource::DataDir).unwrap();
        let store = data.create_store(&KeySource::DataDir).unwrap();
        let logins = jsms_cli::demo::seed(&store, super::now()).unwrap_or_else(|f| panic!("{f:?}"));
        jsms_cli::demo::import_demo_map(&data).unwrap_or_else(|f| panic!("{f:?}"));
        let store: Arc<dyn Store> = Arc::new(store);
        let broken = Arc::new(AtomicBool::new(false));
        let sink = Breakable {
            inner: AuditDb::open(&data.audit_database()).unwrap(),
            broken: Arc::clone(&broken),
        };
        let audit = jsms_server::audit::AuditLog::start(
            Box::new(sink),
            AuditDb::open(&data.audit_database()).unwrap(),
            data.checkpoint_signer().unwrap(),
            data.tail_key().unwrap(),
            Arc::new(SystemClock),
        )
        .unwrap();
        let services = Arc::new(jsms_service::Services::new(
            Arc::clone(&store),
            audit,
            Arc::new(jsms_authz::Authz::builtin().unwrap()),
            Arc::new(jsms_server::anomaly::AnomalyDetector::default()),
            Arc::new(SystemClock),
            jsms_service::Settings {
                network: jsms_service::planning::load_network(&data.road_graph()),
                ..jsms_service::Settings::default()
            },
        ));
        let state = AppState::new(Arc::clone(&services), SessionPolicy::default(), false);
        let url = jsms_server::spawn_on_loopback_with(jsms_server::app(state, 256 * 1024), limits)
            .await
            .unwrap();
        Self {
            url,
            logins,
            store,
            services,
            data,
            broken,
            _tmp: tmp,
        }
    }

    /// Makes every audit append fail (`true`) or succeed again (`false`).
    pub fn break_log(&self, broken: bool) {
        self.broken.store(broken, Ordering::SeqCst);
    }

    pub fn login(&self, username: &str) -> Login {
        self.logins
            .iter()
            .find(|l| l.username == username)
            .unwrap_or_else(|| panic!("no demo login {username}"))
            .clone()
    }

    /// A fresh client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client {
            base: self.url.clone(),
            http: reqwest::Client::builder().cookie_store(true).build().unwrap(),
            csrf: None,
            bearer: None,
            used_steps: Default::default(),
        }
    }

    /// A client signed in as `username` (administrators enrol TOTP first).
    pub async fn signed_in(&self, username: &str) -> Client {
        let login = self.login(username);
        if login.totp_secret.is_none() {
            return super::enrol(self.client(), &login).await;
        }
        let mut c = self.client();
        let (status, body) = c.sign_in_as(&login).await;
        assert_eq!(status, reqwest::StatusCode::OK, "sign-in of {username}: {body}");
        c
    }

    /// The number of entries in the audit log, read from its database.
    pub fn log_size(&self) -> u64 {
        let db = AuditDb::open(&self.data.audit_database()).unwrap();
        db.entries(0, u64::MAX).unwrap().last().map_or(0, |e| e.idx + 1)
    }

    /// The entries from index `from` on, decoded.
    pub fn entries_from(&self, from: u64) -> Vec<AuditEntry> {
        let db = AuditDb::open(&self.data.audit_database()).unwrap();
        db.entries(from, u64::MAX)
            .unwrap()
            .iter()
            .map(|e| AuditEntry::from_bytes(&e.data).unwrap())
            .collect()
    }
}
