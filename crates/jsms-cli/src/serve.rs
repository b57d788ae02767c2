//! `jsms serve`: run an instance.

use crate::Failure;
use crate::config::{self, Overrides};
use jsms_server::audit::AuditLog;
use jsms_server::config::ServerConfig;
use jsms_server::instance::DataDir;
use jsms_server::state::{AppState, SystemClock};
use jsms_store::{SqliteStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `jsms serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The instance's data directory (overrides JSMS_DATA_DIR and the config file).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (overrides JSMS_ADDR and the config file).
    #[arg(long)]
    addr: Option<SocketAddr>,
}

/// Runs `jsms serve`.
pub fn run(args: ServeArgs) -> Result<(), Failure> {
    let file = config::read_file(args.config.as_deref())?;
    let config = config::resolve(
        &file,
        Overrides {
            data_dir: args.data_dir,
            addr: args.addr,
        },
    )?;
    let dir = DataDir::new(&config.data_dir);
    // Policies first: a policy that does not validate stops the server before anything opens.
    config
        .authz()
        .map_err(|e| Failure::config(format!("refusing to start: {e}")))?;
    let store = dir.open_store(&config.key_source)?;
    let rt = runtime()?;
    let audit = dir.open_audit(Arc::new(SystemClock))?;
    rt.block_on(serve(config, store, audit, |url| {
        println!("JSMS is serving on {url}");
    }))
}

/// A multi-threaded Tokio runtime.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::runtime)
}

/// Serves `store` with `config` until Ctrl-C or SIGTERM; `on_ready` gets the URL once bound.
pub async fn serve(
    config: ServerConfig,
    store: SqliteStore,
    audit: Arc<AuditLog>,
    on_ready: impl FnOnce(&str),
) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(config.addr).await.map_err(|e| {
        Failure::runtime(format!(
            "cannot listen on {}: {e} (choose another with --addr)",
            config.addr
        ))
    })?;
    let local = listener.local_addr().map_err(Failure::runtime)?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    if config.tls.is_none() && !local.ip().is_loopback() {
        tracing::warn!(
            addr = %local,
            "SERVING PLAIN HTTP ON A NON-LOOPBACK ADDRESS: passwords and session cookies cross the network \
             unencrypted. Configure [tls] cert and key."
        );
    }
    let store: Arc<dyn Store> = Arc::new(store);
    if config.witnesses.is_empty() {
        tracing::warn!("{}", jsms_server::routes::ops::NO_WITNESS);
    }
    let authz = Arc::new(
        config
            .authz()
            .map_err(|e| Failure::config(format!("refusing to start: {e}")))?,
    );
    tracing::info!(policies = authz.len(), "authorization policies loaded and validated");
    let network =
        jsms_server::planning::load_network(&jsms_server::instance::DataDir::new(&config.data_dir).road_graph());
    if let Some(n) = &network {
        tracing::info!(
            nodes = n.graph.node_count(),
            edges = n.graph.edge_count(),
            "road network loaded"
        );
    }
    let settings = jsms_service::Settings {
        movement_rules: jsms_service::movements::load_rules(&config.data_dir).map_err(Failure::config)?,
        network,
        detectors: config.detectors,
        alert_escalation_secs: config.alert_escalation_secs,
        webhooks: config.webhooks.clone(),
        break_glass: config.break_glass,
        witnesses: config.witnesses.clone(),
    };
    let services = Arc::new(jsms_service::Services::new(
        store,
        audit,
        authz,
        Arc::new(jsms_server::anomaly::AnomalyDetector::new(config.anomalies)),
        Arc::new(SystemClock),
        settings,
    ));
    let mut state = AppState::new(Arc::clone(&services), config.sessions, config.tls.is_some());
    state.tile_url = config.tile_url.as_deref().map(Arc::from);
    let intervals = jsms_service::runtime::Intervals {
        checkpoint: config.checkpoint_interval,
        reminders: std::time::Duration::from_secs(config.reminder_interval_secs),
        ..Default::default()
    };
    jsms_service::runtime::start(&services, config.witnesses.clone(), intervals)
        .await
        .map_err(|e| Failure::runtime(format!("background work not started: {e}")))?;
    jsms_server::spawn_session_purger(state.clone());
    let router = jsms_server::app(state, config.max_body_bytes);
    on_ready(&format!("{scheme}://{local}"));
    tracing::info!(%local, scheme, "listening");
    jsms_server::run(listener, router, config.tls.as_ref(), shutdown_signal())
        .await
        .map_err(Failure::runtime)?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes at Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
