//! Oversight: break-glass (emergency access to one resource, with a reason, re-entered
//! credentials, a short expiry, an immediate alert to every party's auditors and a review
//! queue) and the auditors' alert queue (break-glass uses, unreviewed escalations,
//! anomalies).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, RequestMeta, path_id};
use crate::routes::require;
use crate::state::{AppState, Event};
use crate::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::PersonId;
use jsms_identity::{password, totp};
use jsms_store::{AuditorAlert, BreakGlassRecord, BreakGlassReview};
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
    pub resource: String,
    /// Why (20 to 1000 characters); recorded, shown to every party's auditors.
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

fn alert(
    state: &AppState,
    kind: &str,
    severity: &str,
    principal: Option<String>,
    resource: Option<String>,
    message: String,
) -> AuditorAlert {
    AuditorAlert {
        id: uuid::Uuid::now_v7(),
        kind: kind.to_owned(),
        severity: severity.to_owned(),
        principal,
        resource,
        message,
        created_at: state.clock.now(),
        acknowledged: None,
    }
}

/// Opens emergency access to one person for a short time. Needs a reason and the
/// requester's password and a fresh one-time code; every party's auditors are alerted at once.
#[utoipa::path(post, path = "/api/v1/break-glass", tag = "oversight", request_body = BreakGlassRequest,
    responses((status = 201, body = BreakGlassView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn open_break_glass(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<BreakGlassRequest>,
) -> ApiResult<(StatusCode, Json<BreakGlassView>)> {
    let user = principal.human()?.clone();
    let reason = req.reason.trim().to_owned();
    if !(20..=1000).contains(&reason.chars().count()) {
        return Err(ValidationError::new("/reason", "explain the emergency in 20 to 1000 characters").into());
    }
    let minutes = i64::from(req.minutes.unwrap_or(60));
    if minutes < 1 || minutes * 60 > state.break_glass.max_secs {
        let max = state.break_glass.max_secs / 60;
        return Err(ValidationError::new("/minutes", format!("break-glass access lasts 1 to {max} minutes")).into());
    }
    let id = req
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
    let resource = Some(format!("person:{id}"));
    // Credentials again: the password and a fresh, never-used code.
    let uid = user.id;
    let creds = state.db(move |s| s.user_credentials_by_id(uid)).await?;
    let now = state.clock.now();
    let pw = req.password;
    let stored = creds.password_hash.clone();
    let password_ok = tokio::task::spawn_blocking(move || password::verify(&stored, &pw))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let step = creds
        .totp_secret
        .as_ref()
        .and_then(|s| totp::verify(s, &req.totp_code, now, creds.totp_last_step));
    let fresh = match step {
        Some(step) if password_ok => state.db(move |s| s.record_totp_step(uid, step)).await?,
        _ => false,
    };
    if !fresh {
        state
            .audit(
                &principal.who,
                &meta,
                Event::deny("break_glass.open", resource, "credentials not confirmed"),
            )
            .await?;
        return Err(ApiError::InvalidCredentials);
    }
    let record = state.db(move |s| s.person(id)).await?;
    let action = Action::BreakGlass {
        person: id,
        org: record.person.draft.employer_org_id,
        party: record.employer_party_id,
    };
    let forbidden = ApiError::Forbidden("your role may not break glass");
    let rules = require(
        &state,
        &principal,
        &meta,
        "break_glass.open",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let grant = BreakGlassRecord {
        id: uuid::Uuid::now_v7(),
        user_id: user.id,
        party_id: user.party_id,
        resource: format!("person:{id}"),
        reason: reason.clone(),
        created_at: now,
        expires_at: now + minutes * 60,
        review: None,
        escalated_at: None,
    };
    let mut event = Event::allow("break_glass.open", resource.clone(), rules);
    event.justification = Some(reason.clone());
    state.audit(&principal.who, &meta, event).await?;
    let g = grant.clone();
    state.db(move |s| s.create_break_glass(&g)).await?;
    let message = format!(
        "{} broke glass on {} for {minutes} min: {reason}",
        principal.who.name.as_deref().unwrap_or("a user"),
        grant.resource
    );
    let a = alert(
        &state,
        "break_glass",
        "critical",
        Some(principal.who.principal.clone()),
        resource,
        message,
    );
    state.db(move |s| s.create_alert(&a)).await?;
    tracing::warn!(user = %user.username, resource = %grant.resource, "BREAK-GLASS access opened; auditors alerted");
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
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Vec<BreakGlassView>>> {
    let forbidden = ApiError::Forbidden("only auditors review break-glass use");
    require(
        &state,
        &principal,
        &meta,
        "break_glass.list",
        None,
        Action::ReadAuditLog,
        forbidden,
    )
    .await?;
    let unreviewed = q.unreviewed.unwrap_or(false);
    let list = state.db(move |s| s.break_glass_list(unreviewed)).await?;
    Ok(Json(list.into_iter().map(view).collect()))
}

/// A review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `justified` or `unjustified`.
    pub verdict: String,
    /// Notes (1 to 2000 characters).
    pub note: String,
}

/// Reviews a break-glass use (auditors; never the user who broke the glass).
#[utoipa::path(post, path = "/api/v1/break-glass/{id}/review", tag = "oversight", request_body = ReviewRequest,
    params(("id" = String, Path, description = "Break-glass id")),
    responses((status = 200, body = BreakGlassView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn review_break_glass(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> ApiResult<Json<BreakGlassView>> {
    let id = path_id(&id)?;
    let forbidden = ApiError::Forbidden("only auditors review break-glass use");
    let resource = Some(format!("break_glass:{id}"));
    let rules = require(
        &state,
        &principal,
        &meta,
        "break_glass.review",
        resource.clone(),
        Action::ReadAuditLog,
        forbidden,
    )
    .await?;
    let reviewer = principal.human()?.id;
    if !["justified", "unjustified"].contains(&req.verdict.as_str()) {
        return Err(ValidationError::new("/verdict", "the verdict is justified or unjustified").into());
    }
    let note = jsms_domain::text::required("/note", &req.note, 2000)?;
    let list = state.db(|s| s.break_glass_list(false)).await?;
    let target = list.into_iter().find(|r| r.id == id).ok_or(ApiError::NotFound)?;
    if target.user_id == reviewer {
        return Err(ApiError::Forbidden("nobody reviews their own break-glass use"));
    }
    let mut event = Event::allow("break_glass.review", resource, rules);
    event.justification = Some(format!("{}: {note}", req.verdict));
    state.audit(&principal.who, &meta, event).await?;
    let review = BreakGlassReview {
        reviewed_at: state.clock.now(),
        reviewed_by: reviewer,
        verdict: req.verdict,
        note,
    };
    let reviewed = state.db(move |s| s.review_break_glass(id, &review)).await?;
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
#[utoipa::path(get, path = "/api/v1/audit/alerts", tag = "oversight", params(AlertQuery),
    responses((status = 200, body = Vec<AlertView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_alerts(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<Json<Vec<AlertView>>> {
    let forbidden = ApiError::Forbidden("only auditors read auditor alerts");
    require(
        &state,
        &principal,
        &meta,
        "audit.alerts",
        None,
        Action::ReadAuditLog,
        forbidden,
    )
    .await?;
    let only = q.unacknowledged.unwrap_or(false);
    let alerts = state.db(move |s| s.alerts(only, 200)).await?;
    Ok(Json(alerts.into_iter().map(alert_view).collect()))
}

/// Acknowledges an alert.
#[utoipa::path(post, path = "/api/v1/audit/alerts/{id}/acknowledge", tag = "oversight",
    params(("id" = String, Path, description = "Alert id")),
    responses((status = 200, body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn acknowledge_alert(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertView>> {
    let id = path_id(&id)?;
    let forbidden = ApiError::Forbidden("only auditors acknowledge auditor alerts");
    let resource = Some(format!("alert:{id}"));
    let rules = require(
        &state,
        &principal,
        &meta,
        "audit.alert_ack",
        resource.clone(),
        Action::ReadAuditLog,
        forbidden,
    )
    .await?;
    let by = principal.human()?.id;
    state
        .audit(&principal.who, &meta, Event::allow("audit.alert_ack", resource, rules))
        .await?;
    let now = state.clock.now();
    let a = state.db(move |s| s.acknowledge_alert(id, by, now)).await?;
    Ok(Json(alert_view(a)))
}

/// Escalates break-glass uses left unreviewed past the deadline, every `interval`.
pub fn spawn_escalation(state: AppState, interval: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            let now = state.clock.now();
            let before = now - state.break_glass.review_deadline_secs;
            let due = match state.db(move |s| s.escalate_break_glass(before, now)).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "break-glass escalation failed");
                    continue;
                }
            };
            for r in due {
                let message = format!("break-glass use {} on {} is still unreviewed", r.id, r.resource);
                let a = alert(
                    &state,
                    "break_glass_unreviewed",
                    "critical",
                    Some(format!("user:{}", r.user_id)),
                    Some(r.resource),
                    message,
                );
                tracing::warn!(id = %r.id, "unreviewed break-glass use escalated");
                if let Err(e) = state.db(move |s| s.create_alert(&a)).await {
                    tracing::error!(error = %e, "escalation alert not stored");
                }
            }
        }
    });
}
