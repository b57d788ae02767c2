//! Operational endpoints: liveness, readiness, metrics.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The operational routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// A probe result.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// What an operator should fix although the instance serves (e.g. no witness).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The warning while the audit log cannot be written.
pub const LOG_DOWN: &str =
    "the audit log's last append failed (disk full or unwritable?): protected requests are refused until it succeeds";

/// The warning while no witness cosigns the audit log's checkpoints.
pub const NO_WITNESS: &str = "no witness is configured: the other party does not cosign the audit log's checkpoints, \
     so a truncation that also removed checkpoints would go unnoticed; configure [[witnesses]] (see `jsms init`)";

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        warnings: vec![],
    })
}

/// Readiness: the database answers. Warnings name what weakens the instance although it
/// serves (no witness).
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn readyz(State(state): State<AppState>) -> Response {
    let warnings: Vec<String> = state
        .services
        .witnesses
        .is_empty()
        .then(|| NO_WITNESS.to_owned())
        .into_iter()
        .collect();
    if !state.services.log_writable().await {
        tracing::error!("readiness: the audit log's last append failed");
        let mut warnings = warnings;
        warnings.push(LOG_DOWN.to_owned());
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
                warnings,
            }),
        )
            .into_response();
    }
    match state.services.ping().await {
        Ok(()) => Json(Health { status: "ok", warnings }).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    warnings,
                }),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    let failures = state.services.audit.failures.load(std::sync::atomic::Ordering::Relaxed);
    for (name, kind, help, value) in [
        (
            "jsms_audit_append_failures_total",
            "counter",
            "Audit appends that could not be made durable (their requests were refused).",
            failures,
        ),
        (
            "jsms_audit_entries",
            "gauge",
            "Entries in the audit log.",
            state.services.audit.size(),
        ),
        (
            "jsms_access_denied_total",
            "counter",
            "Requests denied by the access rules (each recorded in the audit log).",
            state.services.gate.denied.load(std::sync::atomic::Ordering::Relaxed),
        ),
    ] {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
