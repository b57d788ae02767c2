//! JSMS HTTP server: the axum router ([`app`]), its middleware (request ids, problem
//! documents, metrics, security headers, body limits), and [`run`], which serves it over
//! HTTP or TLS until shut down.
//!
//! Only this crate knows HTTP and JSON. Handlers are thin: extract, parse into domain
//! types, ask `jsms_domain::access`, call the store, convert to wire types.

pub use jsms_service::{anomaly, audit, planning, reeval};
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod instance;
pub mod metrics;
pub mod routes;
pub mod state;
pub mod throttle;
mod tls;
pub mod web;
pub mod webhooks;
pub mod wire;
pub mod witness;

use crate::error::{ApiError, Problem, ProblemLog};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(title = "JSMS — Joint Security Management System", version = "0.0.0",
         description = "JSON API. Errors are RFC 9457 problem documents (application/problem+json) with a stable `type`."),
    modifiers(&SecuritySchemes),
    tags((name = "auth", description = "Sign-in, sessions, TOTP"),
         (name = "users", description = "A party's own users"),
         (name = "api-tokens", description = "Machine tokens"),
         (name = "registry", description = "Parties, organisations, protected persons, sites"),
         (name = "audit", description = "Tamper-evident audit log: checkpoints, proofs, entries, who knew"),
         (name = "oversight", description = "Break-glass and the auditors' alert queue"),
         (name = "zones", description = "Threat zones as GeoJSON features"),
         (name = "routing", description = "Risk-aware route planning"),
         (name = "intelligence", description = "Threat reports with TLP 2.0 markings; STIX 2.1 export and import (TAXII 2.1 is served at /taxii2/)"),
         (name = "decisions", description = "Bilateral decisions signed by each party's authorities"),
         (name = "coordination", description = "Meetings, minutes, action items, the joint dashboard"),
         (name = "notifications", description = "Each user's own notifications"),
         (name = "ops", description = "Health, readiness, metrics"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("jsms_session"))),
        );
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The router with every API route, and the OpenAPI document generated from the same routes.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::ops::routes())
        .merge(auth::routes())
        .merge(routes::admin::routes())
        .merge(routes::registry::routes())
        .merge(routes::audit::routes())
        .merge(routes::oversight::routes())
        .merge(routes::zones::routes())
        .merge(routes::movements::routes())
        .merge(routes::briefs::routes())
        .merge(routes::tracking::routes())
        .merge(routes::routing::routes())
        .merge(routes::map::routes())
        .merge(routes::incidents::routes())
        .merge(routes::decisions::routes())
        .merge(routes::meetings::routes())
        .merge(routes::notifications::routes())
        .merge(routes::reports::routes())
        .split_for_parts()
}

/// The complete application: routes, OpenAPI document, middleware.
pub fn app(state: AppState, max_body_bytes: usize) -> Router {
    let (router, mut openapi) = api();
    openapi.openapi = utoipa::openapi::OpenApiVersion::Version31;
    let spec = std::sync::Arc::new(openapi.to_json().unwrap_or_else(|_| "{}".into()));
    // The tile URL was validated at start; should the policy still not be a valid header
    // value, the one without tiles is used.
    let csp = HeaderValue::from_str(&web::content_security_policy(state.tile_url.as_deref()))
        .or_else(|_| HeaderValue::from_str(&web::content_security_policy(None)))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    // Over TLS, browsers are told to use nothing else for a year (RFC 6797).
    let hsts = state
        .secure_cookies
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let router = router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let spec = std::sync::Arc::clone(&spec);
                async move { ([(header::CONTENT_TYPE, "application/json")], spec.as_str().to_owned()).into_response() }
            }),
        )
        .merge(web::routes())
        .merge(routes::taxii::routes())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), finish))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state);
    match hsts {
        Some(value) => router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            value,
        )),
        None => router,
    }
}

/// Renders problem documents with the request id, logs internal errors once, and counts
/// responses.
async fn finish(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(req).await;
    if let Some(mut problem) = response.extensions_mut().remove::<Problem>() {
        if let Some(ProblemLog(Some(detail))) = response.extensions_mut().remove::<ProblemLog>() {
            tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), error = %detail, "request failed");
        }
        problem.request_id = request_id;
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        response = Response::from_parts(parts, Body::from(body));
    }
    state
        .metrics
        .observe(response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The client's socket address, recorded for every connection (plain or TLS).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// What one client may hold of the server: slow or stalled clients are cut off, and the
/// number of connections is capped below the process's file limit, so that a few hundred
/// half-sent requests cannot make the server unreachable.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's headers must arrive within this time (of its first byte, or of the
    /// connection being idle), else the connection is closed.
    pub header_read: std::time::Duration,
    /// A request body may pause this long between two pieces, else it is refused.
    pub body_read: std::time::Duration,
    /// Open connections at most; more are closed at once (keep this below `ulimit -n`).
    pub max_connections: usize,
}

impl Default for Limits {
    /// 20 s for headers (and for an idle kept-alive connection), 15 s between pieces of a
    /// body, and at most 1,024 connections or the process's open-file limit less 64 (for
    /// the databases, logs and outgoing connections), whichever is lower.
    fn default() -> Self {
        Self {
            header_read: std::time::Duration::from_secs(20),
            body_read: std::time::Duration::from_secs(15),
            max_connections: open_file_limit().map_or(1024, |n| n.saturating_sub(64).clamp(16, 1024)),
        }
    }
}

/// The soft limit on open files of this process (`Max open files` in /proc/self/limits).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `router` on `listener` (TLS when `tls` is given) until `shutdown` completes.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<&config::TlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_with(listener, router, tls, Limits::default(), shutdown).await
}

/// [`run`] with explicit [`Limits`].
pub async fn run_with(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<&config::TlsConfig>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        None => serve(listener, router, limits, shutdown).await,
        Some(tls) => {
            let acceptor = tls::acceptor(tls)?;
            serve(tls::TlsListener::new(listener, acceptor), router, limits, shutdown).await
        }
    }
}

/// The accept loop: HTTP/1.1 connections with a header-read timeout, a body-read timeout
/// and a connection cap; on shutdown, open connections finish their request (10 s at most).
async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    use tower::ServiceExt;
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_read));
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Ok(slot) = std::sync::Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%addr, max = limits.max_connections, "connection closed: too many open connections");
            drop(io);
            continue;
        };
        let service = router
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(PeerAddr(addr))))
            .map_request(|req: axum::http::Request<hyper::body::Incoming>| req.map(Body::new));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .serve_connection(
                hyper_util::rt::TokioIo::new(io),
                hyper_util::service::TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%addr, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("shutdown: connections still open after 10 s are dropped");
        }
    }
    Ok(())
}

/// Serves `router` on a fresh 127.0.0.1 port in the background and returns its base URL
/// (benchmarks and in-process tests).
pub async fn spawn_on_loopback(router: Router) -> std::io::Result<String> {
    spawn_on_loopback_with(router, Limits::default()).await
}

/// [`spawn_on_loopback`] with explicit [`Limits`].
pub async fn spawn_on_loopback_with(router: Router, limits: Limits) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { run_with(listener, router, None, limits, std::future::pending()).await });
    Ok(url)
}

/// Removes expired sessions every few minutes, until the process ends.
pub fn spawn_session_purger(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            let now = state.clock.now();
            let idle = i64::try_from(state.sessions.idle_timeout.as_secs()).unwrap_or(i64::MAX);
            match state.services.purge_sessions(now.saturating_sub(idle), now).await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
        }
    });
}
