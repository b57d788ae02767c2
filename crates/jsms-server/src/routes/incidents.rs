//! Incidents and lessons learned over HTTP (PRODUCT §3.7). The rules — who reads, who
//! investigates, the "who knew" report of linked movements — live in the service
//! (`jsms_service::incidents`); every incident shown is disclosed by it.

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, path_id};
use crate::state::AppState;
use crate::wire::{GeoPoint, rfc3339};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_domain::ids::UserId;
use jsms_service::incidents::{NewFollowUp, NewIncident, ShownIncident};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The incident routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_incidents, report_incident))
        .routes(routes!(get_incident))
        .routes(routes!(add_update))
        .routes(routes!(investigate))
        .routes(routes!(add_lesson))
        .routes(routes!(attach_who_knew))
}

/// An incident report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentIn {
    /// `attack`, `threat`, `suspicious_activity`, `breach_of_procedure` or `accident`.
    pub kind: String,
    /// Short title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// When it happened (RFC 3339).
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// Where.
    pub place: GeoPoint,
    /// 1 (minor) to 5 (grave).
    pub severity: u8,
    /// What happened.
    pub narrative: String,
    /// Protected persons involved.
    #[serde(default)]
    pub persons: Vec<Uuid>,
    /// Movements involved.
    #[serde(default)]
    pub movements: Vec<Uuid>,
    /// Sites involved.
    #[serde(default)]
    pub sites: Vec<Uuid>,
    /// Threat zones involved.
    #[serde(default)]
    pub zones: Vec<Uuid>,
    /// Release it to the other party (default: the reporting party alone).
    #[serde(default)]
    pub shared: bool,
}

/// An incident as its reader sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentView {
    /// Identifier.
    pub id: Uuid,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// When it happened.
    pub occurred_at: String,
    /// Where.
    pub place: GeoPoint,
    /// Severity 1–5.
    pub severity: u8,
    /// What happened.
    pub narrative: String,
    /// Linked persons.
    pub persons: Vec<Uuid>,
    /// Linked movements.
    pub movements: Vec<Uuid>,
    /// Linked sites.
    pub sites: Vec<Uuid>,
    /// Linked zones.
    pub zones: Vec<Uuid>,
    /// Released to the other party.
    pub shared: bool,
    /// The reporting party.
    pub party: Uuid,
    /// Who reported it.
    pub reporter: Uuid,
    /// `reported`, `under_investigation` or `closed`.
    pub status: String,
    /// Updates, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub timeline: serde_json::Value,
    /// Findings.
    pub findings: Option<String>,
    /// Lessons with their follow-up actions.
    #[schema(value_type = Vec<Object>)]
    pub lessons: serde_json::Value,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Whether the caller may investigate (update, close, add lessons).
    pub may_investigate: bool,
}

/// Incidents the caller may read.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    /// Newest first.
    pub items: Vec<IncidentView>,
}

fn view(shown: &ShownIncident) -> IncidentView {
    let i = &shown.incident;
    let r = &i.report;
    IncidentView {
        id: i.id,
        kind: r.kind.as_str().to_owned(),
        title: r.title.clone(),
        occurred_at: rfc3339(r.occurred_at),
        place: GeoPoint::from_coordinate(r.place),
        severity: r.severity,
        narrative: r.narrative.clone(),
        persons: r.persons.iter().map(|p| p.uuid()).collect(),
        movements: r.movements.iter().map(|m| m.uuid()).collect(),
        sites: r.sites.iter().map(|s| s.uuid()).collect(),
        zones: r.zones.clone(),
        shared: r.shared,
        party: i.party.uuid(),
        reporter: i.reporter.uuid(),
        status: i.status.as_str().to_owned(),
        timeline: serde_json::json!(
            i.timeline
                .iter()
                .map(|t| serde_json::json!({"at": rfc3339(t.at), "user": t.user.map(|u| u.uuid()), "text": t.text}))
                .collect::<Vec<_>>()
        ),
        findings: i.findings.clone(),
        lessons: serde_json::json!(
            i.lessons
                .iter()
                .map(|l| serde_json::json!({
                    "text": l.text,
                    "actions": l.actions.iter().map(|a| serde_json::json!({
                        "text": a.text, "owner": a.owner.map(|u| u.uuid()), "due": a.due.map(rfc3339), "done": a.done
                    })).collect::<Vec<_>>()
                }))
                .collect::<Vec<_>>()
        ),
        version: i.version,
        may_investigate: shown.may_investigate,
    }
}

const PROBLEM: &str = "application/problem+json";

/// Reports an incident for the reporter's party.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = IncidentIn,
    responses((status = 201, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn report_incident(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<IncidentIn>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let new = NewIncident {
        kind: input.kind,
        title: input.title,
        occurred_at: crate::wire::parse_rfc3339("/occurred_at", &input.occurred_at)?,
        place: input.place.to_coordinate("/place")?,
        severity: input.severity,
        narrative: input.narrative,
        persons: input.persons,
        movements: input.movements,
        sites: input.sites,
        zones: input.zones,
        shared: input.shared,
    };
    let shown = state.services.report_incident(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(view(&shown))))
}

/// Incidents the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    responses((status = 200, body = IncidentList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_incidents(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<IncidentList>> {
    let all = state.services.incidents(&principal).await?;
    Ok(Json(IncidentList {
        items: all.iter().map(view).collect(),
    }))
}

/// One incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = uuid::Uuid, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_incident(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentView>> {
    Ok(Json(view(&state.services.incident(&principal, path_id(&id)?).await?)))
}

/// An update on the timeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIn {
    /// The version the caller saw.
    pub version: i64,
    /// What happened since.
    pub text: String,
}

/// Adds an update to the timeline (investigators).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "incidents", request_body = UpdateIn,
    params(("id" = uuid::Uuid, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn add_update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateIn>,
) -> ApiResult<Json<IncidentView>> {
    let shown = state
        .services
        .add_incident_update(&principal, path_id(&id)?, input.version, &input.text)
        .await?;
    Ok(Json(view(&shown)))
}

/// A step of the investigation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvestigationIn {
    /// The version the caller saw.
    pub version: i64,
    /// `under_investigation` or `closed` (closing needs findings).
    pub status: String,
    /// What the investigation found.
    #[serde(default)]
    pub findings: Option<String>,
}

/// Moves the investigation on: under investigation, closed with findings, reopened.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/investigation", tag = "incidents", request_body = InvestigationIn,
    params(("id" = uuid::Uuid, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn investigate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<InvestigationIn>,
) -> ApiResult<Json<IncidentView>> {
    let shown = state
        .services
        .investigate(
            &principal,
            path_id(&id)?,
            input.version,
            &input.status,
            input.findings.as_deref(),
        )
        .await?;
    Ok(Json(view(&shown)))
}

/// A follow-up action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpIn {
    /// What is to be done.
    pub text: String,
    /// Who owns it (a user id).
    #[serde(default)]
    pub owner: Option<Uuid>,
    /// Due (RFC 3339).
    #[serde(default)]
    #[schema(format = DateTime)]
    pub due: Option<String>,
}

/// A lesson learned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonIn {
    /// The version the caller saw.
    pub version: i64,
    /// The lesson.
    pub text: String,
    /// Follow-up actions (at most 20).
    #[serde(default)]
    pub actions: Vec<FollowUpIn>,
}

/// Adds a lesson learned with its follow-up actions.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/lessons", tag = "incidents", request_body = LessonIn,
    params(("id" = uuid::Uuid, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn add_lesson(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LessonIn>,
) -> ApiResult<Json<IncidentView>> {
    let mut follow_ups = Vec::with_capacity(input.actions.len());
    for (k, a) in input.actions.into_iter().enumerate() {
        follow_ups.push(NewFollowUp {
            text: a.text,
            owner: a.owner.map(UserId::from_uuid),
            due: a
                .due
                .as_deref()
                .map(|d| crate::wire::parse_rfc3339(&format!("/actions/{k}/due"), d))
                .transpose()?,
        });
    }
    let shown = state
        .services
        .add_lesson(&principal, path_id(&id)?, input.version, &input.text, follow_ups)
        .await?;
    Ok(Json(view(&shown)))
}

/// Who knew a linked movement.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementKnowers {
    /// The movement.
    pub movement: Uuid,
    /// Everyone who read its details (sealed plan or brief), with when.
    pub accesses: Vec<jsms_service::logbook::Access>,
}

/// Version the caller saw.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    /// The version the caller saw.
    pub version: i64,
}

/// Computes the "who knew" report of every linked movement from the audit log and attaches
/// it to the incident's timeline (investigators).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/who-knew", tag = "incidents", request_body = VersionIn,
    params(("id" = uuid::Uuid, Path, description = "Incident id")),
    responses((status = 200, body = [MovementKnowers]),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn attach_who_knew(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VersionIn>,
) -> ApiResult<Json<Vec<MovementKnowers>>> {
    let list = state
        .services
        .incident_who_knew(&principal, path_id(&id)?, input.version)
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|k| MovementKnowers {
                movement: k.movement.uuid(),
                accesses: k.accesses,
            })
            .collect(),
    ))
}
