//! Oversight over HTTP: break-glass (emergency access to one person, with a reason,
//! re-entered credentials, a short expiry, an immediate alert to every party's auditors and
//! a review queue) and the auditors' alert queue. The rules live in the service
//! (`jsms_service::oversight`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::state::AppState;
use crate::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_domain::ValidationError;
use jsms_domain::ids::PersonId;
use jsms_service::oversight::BreakGlassInput;
use jsms_store::{AuditorAlert, BreakGlassRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The oversight routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_break_glass, list_break_glass))
        .routes(routes!(review_break_glass))
        .routes(routes!(list_alerts))
        .routes(routes!(acknowledge_alert))
}

/// A break-glass request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    /// The one resource to open, `person:<id>`.
    #[schema(pattern = "^person:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    pub resource: String,
    /// Why (20 to 1000 characters); recorded, shown to every party's auditors.
    #[schema(min_length = 20, max_length = 1000)]
    pub reason: String,
    /// The requester's password, re-entered.
    pub password: String,
    /// A fresh one-time code.
    pub totp_code: String,
    /// Minutes of access, 1 to 240 (default 60).
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// A break-glass use.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassView {
    /// Id.
    pub id: String,
    /// Who (`user:<id>`).
    pub principal: String,
    /// The resource opened.
    pub resource: String,
    /// The reason given.
    pub reason: String,
    /// Opened (RFC 3339).
    pub created_at: String,
    /// Expires (RFC 3339).
    pub expires_at: String,
    /// `justified`, `unjustified`, or absent while unreviewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// The reviewer's notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_note: Option<String>,
    /// When it was escalated for lack of review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<String>,
}

fn view(r: BreakGlassRecord) -> BreakGlassView {
    BreakGlassView {
        id: r.id.to_string(),
        principal: format!("user:{}", r.user_id),
        resource: r.resource,
        reason: r.reason,
        created_at: rfc3339(r.created_at),
        expires_at: rfc3339(r.expires_at),
        verdict: r.review.as_ref().map(|v| v.verdict.clone()),
        review_note: r.review.map(|v| v.note),
        escalated_at: r.escalated_at.map(rfc3339),
    }
}

/// Opens emergency access to one person for a short time. Needs a reason and the
/// requester's password and a fresh one-time code; every party's auditors are alerted at once.
#[utoipa::path(post, path = "/api/v1/break-glass", tag = "oversight", request_body = BreakGlassRequest,
    responses((status = 201, body = BreakGlassView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn open_break_glass(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<BreakGlassRequest>,
) -> ApiResult<(StatusCode, Json<BreakGlassView>)> {
    let person = req
        .resource
        .strip_prefix("person:")
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .map(PersonId::from_uuid)
        .ok_or_else(|| {
            ApiError::Validation(ValidationError::new(
                "/resource",
                "break-glass opens one person: person:<uuid>",
            ))
        })?;
    let input = BreakGlassInput {
        person,
        reason: req.reason,
        password: req.password,
        totp_code: req.totp_code,
        minutes: req.minutes,
    };
    let grant = state.services.open_break_glass(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(view(grant))))
}

/// Filter of the review queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct QueueQuery {
    /// Only uses not yet reviewed.
    unreviewed: Option<bool>,
}

/// The break-glass review queue (auditors of either party).
#[utoipa::path(get, path = "/api/v1/break-glass", tag = "oversight", params(QueueQuery),
    responses((status = 200, body = Vec<BreakGlassView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_break_glass(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Vec<BreakGlassView>>> {
    let list = state
        .services
        .break_glass_uses(&principal, q.unreviewed.unwrap_or(false))
        .await?;
    Ok(Json(list.into_iter().map(view).collect()))
}

/// A review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `justified` or `unjustified`.
    pub verdict: String,
    /// Notes (1 to 2000 characters).
    #[schema(min_length = 1)]
    pub note: String,
}

/// Reviews a break-glass use (auditors; never the user who broke the glass).
#[utoipa::path(post, path = "/api/v1/break-glass/{id}/review", tag = "oversight", request_body = ReviewRequest,
    params(("id" = uuid::Uuid, Path, description = "Break-glass id")),
    responses((status = 200, body = BreakGlassView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn review_break_glass(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> ApiResult<Json<BreakGlassView>> {
    let reviewed = state
        .services
        .review_break_glass(&principal, path_id(&id)?, &req.verdict, &req.note)
        .await?;
    Ok(Json(view(reviewed)))
}

/// An alert for auditors.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// About whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// About what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Explanation.
    pub message: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Acknowledged when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
}

fn alert_view(a: AuditorAlert) -> AlertView {
    AlertView {
        id: a.id.to_string(),
        kind: a.kind,
        severity: a.severity,
        principal: a.principal,
        resource: a.resource,
        message: a.message,
        created_at: rfc3339(a.created_at),
        acknowledged_at: a.acknowledged.map(|(t, _)| rfc3339(t)),
    }
}

/// Filter of the alert list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AlertQuery {
    /// Only alerts not yet acknowledged.
    unacknowledged: Option<bool>,
}

/// Alerts for the auditors of every party, newest first.
#[utoipa::path(get, path = "/api/v1/audit/alerts", tag = "oversight", operation_id = "list_audit_alerts", params(AlertQuery),
    responses((status = 200, body = Vec<AlertView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_alerts(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<Json<Vec<AlertView>>> {
    let alerts = state
        .services
        .auditor_alerts(&principal, q.unacknowledged.unwrap_or(false))
        .await?;
    Ok(Json(alerts.into_iter().map(alert_view).collect()))
}

/// Acknowledges an alert.
#[utoipa::path(post, path = "/api/v1/audit/alerts/{id}/acknowledge", tag = "oversight",
    params(("id" = uuid::Uuid, Path, description = "Alert id")),
    responses((status = 200, body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn acknowledge_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertView>> {
    let a = state
        .services
        .acknowledge_auditor_alert(&principal, path_id(&id)?)
        .await?;
    Ok(Json(alert_view(a)))
}
