//! The witness service of `c2sp.org/tlog-witness`, run by the other party with its own key
//! and state (`jsms witness serve`): `POST /add-checkpoint` verifies the log's signature and
//! the consistency proof from the witness's latest view, persists the new view atomically
//! (temporary file, fsync, rename, fsync of the directory) before answering, and returns a
//! timestamped cosignature. Requests are serialised, so concurrent submissions can never roll
//! the witness back.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_audit::note::NoteSigner;
use jsms_audit::witness::{AddCheckpoint, LogView, WitnessError, WitnessedLog, check};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The witness's persistent state: its latest cosigned view of each log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessState {
    /// Per origin.
    pub logs: BTreeMap<String, StoredView>,
}

/// One stored view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredView {
    /// Tree size.
    pub size: u64,
    /// Root hash, base64.
    pub root: String,
}

impl WitnessState {
    /// Reads the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// The view of `origin`, decoded.
    pub fn view(&self, origin: &str) -> Option<LogView> {
        let v = self.logs.get(origin)?;
        let root = STANDARD.decode(&v.root).ok()?.try_into().ok()?;
        Some(LogView {
            origin: origin.to_owned(),
            size: v.size,
            root,
        })
    }

    /// Writes the state durably and atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

/// A witness: key, followed logs, and its persisted state. Shared by the HTTP service
/// (logs push) and `jsms witness pull` (the witness fetches).
pub struct Witness {
    signer: NoteSigner,
    logs: Vec<WitnessedLog>,
    state_path: PathBuf,
    state: tokio::sync::Mutex<WitnessState>,
    clock: Arc<dyn crate::state::Clock>,
}

/// Why a checkpoint was not cosigned.
#[derive(Debug)]
pub enum AddError {
    /// Refused by the protocol's rules.
    Refused(WitnessError),
    /// The new view could not be persisted; nothing was cosigned.
    NotPersisted(String),
}

impl Witness {
    /// A witness over `state_path` (created when missing).
    pub fn new(
        signer: NoteSigner,
        logs: Vec<WitnessedLog>,
        state_path: PathBuf,
        clock: Arc<dyn crate::state::Clock>,
    ) -> std::io::Result<Self> {
        let state = WitnessState::load(&state_path)?;
        Ok(Self {
            signer,
            logs,
            state_path,
            state: tokio::sync::Mutex::new(state),
            clock,
        })
    }

    /// The latest view of `origin`.
    pub async fn view(&self, origin: &str) -> Option<LogView> {
        self.state.lock().await.view(origin)
    }

    /// Checks a submission, persists the new view atomically, and returns the cosignature
    /// line. Submissions are serialised: the check and the write happen under one lock.
    pub async fn add(&self, req: &AddCheckpoint) -> Result<String, AddError> {
        let mut state = self.state.lock().await;
        let current = state.view(&req.checkpoint.origin);
        let view = check(&self.logs, current.as_ref(), req).map_err(AddError::Refused)?;
        let mut next = state.clone();
        next.logs.insert(
            view.origin.clone(),
            StoredView {
                size: view.size,
                root: STANDARD.encode(view.root),
            },
        );
        let path = self.state_path.clone();
        let to_save = next.clone();
        match tokio::task::spawn_blocking(move || to_save.save(&path)).await {
            Ok(Ok(())) => *state = next,
            Ok(Err(e)) => return Err(AddError::NotPersisted(e.to_string())),
            Err(e) => return Err(AddError::NotPersisted(e.to_string())),
        }
        drop(state);
        let now = u64::try_from(self.clock.now()).unwrap_or(0);
        self.signer
            .cosign(&req.checkpoint.to_text(), now)
            .map_err(|e| AddError::NotPersisted(e.to_string()))
    }
}

/// The witness's HTTP router.
pub fn router(
    signer: NoteSigner,
    logs: Vec<WitnessedLog>,
    state_path: PathBuf,
    clock: Arc<dyn crate::state::Clock>,
) -> std::io::Result<Router> {
    let state = WitnessState::load(&state_path)?;
    let witness = Arc::new(Witness {
        signer,
        logs,
        state_path,
        state: tokio::sync::Mutex::new(state),
        clock,
    });
    Ok(Router::new()
        .route("/add-checkpoint", axum::routing::post(add_checkpoint))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(witness))
}

fn refusal(e: &WitnessError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    match e {
        WitnessError::Conflict { latest } => (
            status,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{latest}\n"),
        )
            .into_response(),
        other => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{other}\n"),
        )
            .into_response(),
    }
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return refusal(&WitnessError::BadRequest("the body is not UTF-8".into()));
    };
    let req = match AddCheckpoint::parse(text) {
        Ok(r) => r,
        Err(e) => return refusal(&e),
    };
    match w.add(&req).await {
        Ok(line) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            line,
        )
            .into_response(),
        Err(AddError::Refused(e)) => {
            tracing::warn!(origin = %req.checkpoint.origin, error = %e, "checkpoint refused");
            refusal(&e)
        }
        Err(AddError::NotPersisted(e)) => {
            tracing::error!(error = %e, "witness state not persisted; refusing to cosign");
            (StatusCode::SERVICE_UNAVAILABLE, "state not persisted\n").into_response()
        }
    }
}
