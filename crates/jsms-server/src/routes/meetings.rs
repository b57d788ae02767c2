//! Coordination over HTTP (PRODUCT §3.5): meetings with agenda, attendance by party,
//! minutes approved by each attending party, decisions and action items, and the joint
//! dashboard. The rules (visibility by party, minutes never finalised by their author,
//! final minutes immutable) live in the service (`jsms_service::meetings`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, path_id};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_service::Disclosed;
pub use jsms_service::meetings::{ActionItem, Attendance, Dashboard, Meeting, MinutesApproval};
use jsms_service::meetings::{Minutes, NewMeeting, StoredMeeting};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

/// The coordination routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting))
        .routes(routes!(write_minutes))
        .routes(routes!(approve_minutes))
        .routes(routes!(correct))
        .routes(routes!(action_done))
        .routes(routes!(dashboard))
}

/// A meeting as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    /// Identifier.
    pub id: Uuid,
    /// The meeting.
    #[serde(flatten)]
    pub meeting: Meeting,
    /// Final (every attending party approved the minutes): immutable.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Parties that still have to approve the minutes.
    pub awaiting: Vec<Uuid>,
    /// Corrections of this meeting's minutes (newer records).
    pub corrected_by: Vec<Uuid>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A new meeting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingIn {
    /// Title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// When (RFC 3339).
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// Location or channel.
    pub place: String,
    /// Agenda items.
    #[serde(default)]
    pub agenda: Vec<String>,
    /// Attendance by party and organisation (at least one party).
    pub attendance: Vec<Attendance>,
}

fn shown(m: &Disclosed<StoredMeeting>) -> MeetingView {
    MeetingView {
        id: m.id,
        awaiting: m.meeting.awaiting(),
        meeting: m.meeting.clone(),
        is_final: m.is_final,
        corrected_by: m.corrected_by.clone(),
        version: m.version,
    }
}

/// Meetings, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingList {
    /// Meetings.
    pub items: Vec<MeetingView>,
}

/// Meetings the caller may read (their party's, or attended by it), newest first.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "coordination",
    responses((status = 200, body = MeetingList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_meetings(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<MeetingList>> {
    let all = state.services.meetings(&principal).await?;
    Ok(Json(MeetingList {
        items: all.iter().map(shown).collect(),
    }))
}

/// Schedules a meeting (coordinators and liaison officers, for their party).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "coordination", request_body = MeetingIn,
    responses((status = 201, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn create_meeting(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<MeetingIn>,
) -> ApiResult<(StatusCode, Json<MeetingView>)> {
    let starts_at = crate::wire::parse_rfc3339("/starts_at", &input.starts_at)?;
    let new = NewMeeting {
        title: input.title,
        starts_at,
        place: input.place,
        agenda: input.agenda,
        attendance: input.attendance,
    };
    let m = state.services.create_meeting(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(shown(&m))))
}

/// One meeting.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "coordination", params(("id" = uuid::Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_meeting(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<MeetingView>> {
    let m = state.services.meeting(&principal, path_id(&id)?).await?;
    Ok(Json(shown(&m)))
}

/// Minutes, decisions and action items.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesIn {
    /// The version the caller saw.
    pub version: i64,
    /// The minutes.
    pub minutes: String,
    /// Decisions taken.
    #[serde(default)]
    pub decisions: Vec<String>,
    /// Action items.
    #[serde(default)]
    pub actions: Vec<ActionItem>,
}

fn minutes(input: MinutesIn) -> Minutes {
    Minutes {
        version: input.version,
        minutes: input.minutes,
        decisions: input.decisions,
        actions: input.actions,
    }
}

/// Writes (or rewrites) the minutes of a meeting that is not final; earlier approvals of
/// the minutes are void, and the writer becomes their author.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/minutes", tag = "coordination", request_body = MinutesIn,
    params(("id" = uuid::Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn write_minutes(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MinutesIn>,
) -> ApiResult<Json<MeetingView>> {
    let m = state
        .services
        .write_minutes(&principal, path_id(&id)?, minutes(input))
        .await?;
    Ok(Json(shown(&m)))
}

/// The version the caller saw.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    /// The version.
    pub version: i64,
}

/// Approves the minutes for the caller's party (a representative of an attending party
/// other than the minutes' author); when every attending party has approved, the minutes
/// are final.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/approval", tag = "coordination", request_body = VersionIn,
    params(("id" = uuid::Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn approve_minutes(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VersionIn>,
) -> ApiResult<Json<MeetingView>> {
    let m = state
        .services
        .approve_minutes(&principal, path_id(&id)?, input.version)
        .await?;
    Ok(Json(shown(&m)))
}

/// Records a correction of final minutes: a new meeting record linked to the corrected one,
/// with the corrected minutes, to be approved again.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/corrections", tag = "coordination", request_body = MinutesIn,
    params(("id" = uuid::Uuid, Path, description = "The meeting whose final minutes are corrected")),
    responses((status = 201, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn correct(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MinutesIn>,
) -> ApiResult<(StatusCode, Json<MeetingView>)> {
    let m = state
        .services
        .correct_minutes(&principal, path_id(&id)?, minutes(input))
        .await?;
    Ok((StatusCode::CREATED, Json(shown(&m))))
}

/// Marks an action item done (its owner, or a representative of an attending party).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/actions/{n}/done", tag = "coordination", request_body = VersionIn,
    params(("id" = uuid::Uuid, Path, description = "Meeting id"), ("n" = usize, Path, description = "Action item index, from 0")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn action_done(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, n)): Path<(String, String)>,
    ApiJson(input): ApiJson<VersionIn>,
) -> ApiResult<Json<MeetingView>> {
    let id = path_id(&id)?;
    let n: usize = n.parse().map_err(|_| ApiError::InvalidParameter {
        field: "n".into(),
        detail: "the action item's index, from 0".into(),
    })?;
    let m = state.services.action_done(&principal, id, n, input.version).await?;
    Ok(Json(shown(&m)))
}

/// The joint dashboard for liaison officers and coordinators (and whoever may read
/// coordination), filtered per viewer.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "coordination",
    responses((status = 200, body = Dashboard),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn dashboard(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Dashboard>> {
    let d = state.services.dashboard(&principal).await?;
    Ok(Json((*d).clone()))
}
