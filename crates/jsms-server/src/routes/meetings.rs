//! Joint coordination (PRODUCT §3.5): meetings with agenda, attendance by party and
//! organisation, minutes, decisions taken and action items; minutes become final when a
//! representative (coordinator or liaison officer) of each attending party has approved
//! them, and are immutable after that — a correction is a new meeting record linked to the
//! one it corrects. Action items are followed after the minutes are final (done, overdue).
//! The joint dashboard gathers, for each viewer, only what that viewer may see.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, RequestMeta, path_id};
use crate::routes::{referenced, require};
use crate::state::{AppState, Event};
use crate::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{OrgId, UserId};
use jsms_domain::user::Role;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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

/// Who attended for a party.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    /// The party.
    pub party: Uuid,
    /// The organisation, if one.
    #[serde(default)]
    pub org: Option<Uuid>,
    /// Names or functions of the people present.
    #[serde(default)]
    pub people: String,
}

/// An action item.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ActionItem {
    /// What is to be done.
    pub text: String,
    /// Who owns it (a user id).
    #[serde(default)]
    pub owner: Option<Uuid>,
    /// Due (RFC 3339).
    #[serde(default)]
    pub due: Option<String>,
    /// Done.
    #[serde(default)]
    pub done: bool,
    /// When the reminder for being overdue was sent (set by the server).
    #[serde(default)]
    pub reminded_at: Option<String>,
}

/// One party's approval of the minutes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct MinutesApproval {
    /// The party.
    pub party: Uuid,
    /// Its representative.
    pub user: Uuid,
    /// When.
    pub at: String,
}

/// A meeting (stored as JSON).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Meeting {
    /// Title.
    pub title: String,
    /// When (RFC 3339).
    pub starts_at: String,
    /// Location or channel.
    pub place: String,
    /// Agenda items.
    pub agenda: Vec<String>,
    /// Attendance by party and organisation.
    pub attendance: Vec<Attendance>,
    /// The minutes.
    pub minutes: Option<String>,
    /// Decisions taken (text, or references to bilateral decisions).
    pub decisions: Vec<String>,
    /// Action items.
    pub actions: Vec<ActionItem>,
    /// Approvals of the current minutes.
    pub approvals: Vec<MinutesApproval>,
    /// The meeting whose final minutes this record corrects.
    pub corrects: Option<Uuid>,
    /// Who organised it.
    pub organiser: Uuid,
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
    pub title: String,
    /// When (RFC 3339).
    pub starts_at: String,
    /// Location or channel.
    pub place: String,
    /// Agenda items.
    #[serde(default)]
    pub agenda: Vec<String>,
    /// Attendance by party and organisation (at least one party).
    pub attendance: Vec<Attendance>,
}

fn attending(m: &Meeting) -> BTreeSet<Uuid> {
    m.attendance.iter().map(|a| a.party).collect()
}

fn awaiting(m: &Meeting) -> Vec<Uuid> {
    let approved: BTreeSet<Uuid> = m.approvals.iter().map(|a| a.party).collect();
    attending(m).into_iter().filter(|p| !approved.contains(p)).collect()
}

fn decode(body: serde_json::Value) -> ApiResult<Meeting> {
    serde_json::from_value(body).map_err(|e| ApiError::Internal(format!("meeting: {e}")))
}

fn encode(m: &Meeting) -> ApiResult<serde_json::Value> {
    serde_json::to_value(m).map_err(|e| ApiError::Internal(e.to_string()))
}

async fn validate_attendance(state: &AppState, list: &[Attendance]) -> ApiResult<()> {
    if list.is_empty() || list.len() > 50 {
        return Err(ValidationError::new("/attendance", "1 to 50 attending parties or organisations").into());
    }
    let parties = state.db(|s| s.parties()).await?;
    for (i, a) in list.iter().enumerate() {
        if !parties.iter().any(|p| p.id.uuid() == a.party) {
            return Err(ValidationError::new(format!("/attendance/{i}/party"), "no such party").into());
        }
        if let Some(o) = a.org {
            let id = OrgId::from_uuid(o);
            let org = referenced(
                state.db(move |s| s.org(id)).await,
                format!("/attendance/{i}/org"),
                "organisation",
            )?;
            if org.party_id.uuid() != a.party {
                return Err(ValidationError::new(
                    format!("/attendance/{i}/org"),
                    "the organisation is of another party",
                )
                .into());
            }
        }
        if a.people.chars().count() > 500 {
            return Err(ValidationError::new(format!("/attendance/{i}/people"), "at most 500 characters").into());
        }
    }
    Ok(())
}

fn texts(field: &str, list: &[String], max: usize) -> Result<Vec<String>, ValidationError> {
    if list.len() > 50 {
        return Err(ValidationError::new(field, "at most 50 items"));
    }
    list.iter()
        .enumerate()
        .map(|(i, t)| jsms_domain::text::required(&format!("{field}/{i}"), t, max))
        .collect()
}

async fn check_actions(state: &AppState, list: &[ActionItem]) -> ApiResult<()> {
    if list.len() > 50 {
        return Err(ValidationError::new("/actions", "at most 50 action items").into());
    }
    for (i, a) in list.iter().enumerate() {
        jsms_domain::text::required(&format!("/actions/{i}/text"), &a.text, 1000)?;
        if let Some(d) = &a.due {
            crate::wire::parse_rfc3339(&format!("/actions/{i}/due"), d)?;
        }
        if let Some(o) = a.owner {
            let id = UserId::from_uuid(o);
            referenced(
                state.db(move |s| s.user(id)).await,
                format!("/actions/{i}/owner"),
                "user",
            )?;
        }
    }
    Ok(())
}

async fn reader(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    what: &'static str,
    id: Option<Uuid>,
) -> ApiResult<()> {
    require(
        state,
        principal,
        meta,
        what,
        id.map(|i| format!("meeting:{i}")),
        Action::ReadMeetings,
        ApiError::Forbidden("coordination is for the operational staff of both parties"),
    )
    .await
    .map(|_| ())
}

/// The records that correct meeting `id`, among `all`.
fn corrections(all: &[jsms_store::MeetingRow], id: Uuid) -> Vec<Uuid> {
    let id = id.to_string();
    all.iter()
        .filter(|(_, _, b, _, _)| b.get("corrects").and_then(|c| c.as_str()) == Some(id.as_str()))
        .map(|(i, _, _, _, _)| *i)
        .collect()
}

/// One meeting as shown; reads the meetings once to find its corrections.
async fn view_of(
    state: &AppState,
    id: Uuid,
    body: serde_json::Value,
    is_final: bool,
    version: i64,
) -> ApiResult<MeetingView> {
    let all = state.db(|s| s.meetings()).await?;
    shown(id, body, is_final, version, corrections(&all, id))
}

fn shown(
    id: Uuid,
    body: serde_json::Value,
    is_final: bool,
    version: i64,
    corrected_by: Vec<Uuid>,
) -> ApiResult<MeetingView> {
    let meeting = decode(body)?;
    Ok(MeetingView {
        id,
        awaiting: awaiting(&meeting),
        meeting,
        is_final,
        corrected_by,
        version,
    })
}

/// Meetings, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingList {
    /// Meetings.
    pub items: Vec<MeetingView>,
}

/// Meetings, newest first.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "coordination",
    responses((status = 200, body = MeetingList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_meetings(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<MeetingList>> {
    reader(&state, &principal, &meta, "meeting.list", None).await?;
    let all = state.db(|s| s.meetings()).await?;
    let items = all
        .iter()
        .map(|(id, _, body, fin, version)| shown(*id, body.clone(), *fin, *version, corrections(&all, *id)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(MeetingList { items }))
}

/// Schedules a meeting (coordinators and liaison officers, for their party).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "coordination", request_body = MeetingIn,
    responses((status = 201, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn create_meeting(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<MeetingIn>,
) -> ApiResult<(StatusCode, Json<MeetingView>)> {
    let user = principal.human()?.clone();
    let rules = require(
        &state,
        &principal,
        &meta,
        "meeting.create",
        None,
        Action::OrganiseMeeting { party: user.party_id },
        ApiError::Forbidden("coordinators and liaison officers organise meetings"),
    )
    .await?;
    let title = jsms_domain::text::required("/title", &input.title, 200)?;
    let place = jsms_domain::text::required("/place", &input.place, 200)?;
    let starts = crate::wire::parse_rfc3339("/starts_at", &input.starts_at)?;
    let agenda = texts("/agenda", &input.agenda, 500)?;
    validate_attendance(&state, &input.attendance).await?;
    let meeting = Meeting {
        title,
        starts_at: rfc3339(starts),
        place,
        agenda,
        attendance: input.attendance,
        minutes: None,
        decisions: Vec::new(),
        actions: Vec::new(),
        approvals: Vec::new(),
        corrects: None,
        organiser: user.id.uuid(),
    };
    let id = Uuid::now_v7();
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("meeting.create", Some(format!("meeting:{id}")), rules),
        )
        .await?;
    let body = encode(&meeting)?;
    let now = state.clock.now();
    let (b, party) = (body.clone(), user.party_id);
    state.db(move |s| s.create_meeting(id, party, &b, now)).await?;
    Ok((StatusCode::CREATED, Json(view_of(&state, id, body, false, 1).await?)))
}

/// One meeting.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "coordination", params(("id" = String, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_meeting(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<MeetingView>> {
    let id = path_id(&id)?;
    reader(&state, &principal, &meta, "meeting.read", Some(id)).await?;
    let (_, body, fin, version) = state.db(move |s| s.meeting(id)).await?;
    Ok(Json(view_of(&state, id, body, fin, version).await?))
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

/// Whether `user` represents `party` for minutes: a coordinator or liaison officer of it.
fn representative(user: &jsms_domain::user::User, party: Uuid) -> bool {
    user.party_id.uuid() == party
        && user
            .roles
            .iter()
            .any(|r| matches!(r, Role::MovementCoordinator | Role::LiaisonOfficer))
}

/// Writes (or rewrites) the minutes of a meeting that is not final; earlier approvals of
/// the minutes are void.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/minutes", tag = "coordination", request_body = MinutesIn,
    params(("id" = String, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn write_minutes(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MinutesIn>,
) -> ApiResult<Json<MeetingView>> {
    let user = principal.human()?.clone();
    let id = path_id(&id)?;
    reader(&state, &principal, &meta, "meeting.minutes", Some(id)).await?;
    let (_, body, fin, _) = state.db(move |s| s.meeting(id)).await?;
    let mut m = decode(body)?;
    if fin {
        return Err(ApiError::Conflict(
            "the minutes are final: record a correction instead".into(),
        ));
    }
    if !attending(&m).iter().any(|p| representative(&user, *p)) {
        return Err(ApiError::Forbidden(
            "a coordinator or liaison officer of an attending party writes the minutes",
        ));
    }
    m.minutes = Some(jsms_domain::text::required("/minutes", &input.minutes, 50_000)?);
    m.decisions = texts("/decisions", &input.decisions, 2000)?;
    check_actions(&state, &input.actions).await?;
    m.actions = input.actions;
    for a in &mut m.actions {
        a.reminded_at = None;
    }
    m.approvals.clear();
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("meeting.minutes", Some(format!("meeting:{id}")), "minutes written"),
        )
        .await?;
    let body = encode(&m)?;
    let now = state.clock.now();
    let (b, v) = (body.clone(), input.version);
    let version = state.db(move |s| s.update_meeting(id, &b, false, v, now)).await?;
    Ok(Json(view_of(&state, id, body, false, version).await?))
}

/// The version the caller saw.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    /// The version.
    pub version: i64,
}

/// Approves the minutes for the caller's party (a representative of an attending party);
/// when every attending party has approved, the minutes are final.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/approval", tag = "coordination", request_body = VersionIn,
    params(("id" = String, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn approve_minutes(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VersionIn>,
) -> ApiResult<Json<MeetingView>> {
    let user = principal.human()?.clone();
    let id = path_id(&id)?;
    reader(&state, &principal, &meta, "meeting.approve", Some(id)).await?;
    let (_, body, fin, _) = state.db(move |s| s.meeting(id)).await?;
    let mut m = decode(body)?;
    if fin {
        return Err(ApiError::Conflict("the minutes are already final".into()));
    }
    if m.minutes.is_none() {
        return Err(ApiError::Conflict("there are no minutes to approve yet".into()));
    }
    let party = user.party_id.uuid();
    if !attending(&m).contains(&party) || !representative(&user, party) {
        return Err(ApiError::Forbidden(
            "a coordinator or liaison officer of an attending party approves its minutes",
        ));
    }
    m.approvals.retain(|a| a.party != party);
    let now = state.clock.now();
    m.approvals.push(MinutesApproval {
        party,
        user: user.id.uuid(),
        at: rfc3339(now),
    });
    let final_now = awaiting(&m).is_empty();
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "meeting.approve",
                Some(format!("meeting:{id}")),
                if final_now {
                    "minutes approved: final"
                } else {
                    "minutes approved"
                },
            ),
        )
        .await?;
    let body = encode(&m)?;
    let (b, v) = (body.clone(), input.version);
    let version = state.db(move |s| s.update_meeting(id, &b, final_now, v, now)).await?;
    Ok(Json(view_of(&state, id, body, final_now, version).await?))
}

/// Records a correction of final minutes: a new meeting record linked to the corrected one,
/// with the corrected minutes, to be approved again.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/corrections", tag = "coordination", request_body = MinutesIn,
    params(("id" = String, Path, description = "The meeting whose final minutes are corrected")),
    responses((status = 201, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn correct(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MinutesIn>,
) -> ApiResult<(StatusCode, Json<MeetingView>)> {
    let user = principal.human()?.clone();
    let id = path_id(&id)?;
    reader(&state, &principal, &meta, "meeting.correct", Some(id)).await?;
    let (party, body, fin, _) = state.db(move |s| s.meeting(id)).await?;
    let original = decode(body)?;
    if !attending(&original).iter().any(|p| representative(&user, *p)) {
        return Err(ApiError::Forbidden(
            "a coordinator or liaison officer of an attending party corrects the minutes",
        ));
    }
    if !fin {
        return Err(ApiError::Conflict(
            "the minutes are not final: change them instead".into(),
        ));
    }
    check_actions(&state, &input.actions).await?;
    let correction = Meeting {
        minutes: Some(jsms_domain::text::required("/minutes", &input.minutes, 50_000)?),
        decisions: texts("/decisions", &input.decisions, 2000)?,
        actions: input.actions,
        approvals: Vec::new(),
        corrects: Some(id),
        organiser: user.id.uuid(),
        ..original
    };
    let new_id = Uuid::now_v7();
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "meeting.correct",
                Some(format!("meeting:{new_id}")),
                format!("corrects meeting:{id}"),
            ),
        )
        .await?;
    let body = encode(&correction)?;
    let now = state.clock.now();
    let b = body.clone();
    state.db(move |s| s.create_meeting(new_id, party, &b, now)).await?;
    Ok((
        StatusCode::CREATED,
        Json(view_of(&state, new_id, body, false, 1).await?),
    ))
}

/// Marks an action item done (its owner, or a representative of an attending party).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/actions/{n}/done", tag = "coordination", request_body = VersionIn,
    params(("id" = String, Path, description = "Meeting id"), ("n" = usize, Path, description = "Action item index, from 0")),
    responses((status = 200, body = MeetingView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn action_done(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path((id, n)): Path<(String, String)>,
    ApiJson(input): ApiJson<VersionIn>,
) -> ApiResult<Json<MeetingView>> {
    let user = principal.human()?.clone();
    let id = path_id(&id)?;
    let n: usize = n.parse().map_err(|_| ApiError::InvalidParameter {
        field: "n".into(),
        detail: "the action item's index, from 0".into(),
    })?;
    reader(&state, &principal, &meta, "meeting.action", Some(id)).await?;
    let (_, body, fin, _) = state.db(move |s| s.meeting(id)).await?;
    let mut m = decode(body)?;
    let item = m.actions.get_mut(n).ok_or(ApiError::NotFound)?;
    let owner = item.owner == Some(user.id.uuid());
    let rep = m.attendance.iter().any(|a| representative(&user, a.party));
    if !owner && !rep {
        return Err(ApiError::Forbidden(
            "the owner or a representative of an attending party closes an action",
        ));
    }
    item.done = true;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "meeting.action",
                Some(format!("meeting:{id}")),
                format!("action {n} done"),
            ),
        )
        .await?;
    let now = state.clock.now();
    let actions = serde_json::to_value(&m.actions).map_err(|e| ApiError::Internal(e.to_string()))?;
    let v = input.version;
    let version = state
        .db(move |s| s.update_meeting_actions(id, &actions, v, now))
        .await?;
    Ok(Json(view_of(&state, id, encode(&m)?, fin, version).await?))
}

/// Sends the reminders of action items that became overdue: once per item, a notification
/// to its owner, an audit entry (`meeting.action.overdue`, naming the owner) and a warning in
/// the log; the item records when. Returns how many were sent.
pub async fn remind_overdue(state: &AppState) -> ApiResult<usize> {
    let now = state.clock.now();
    let mut sent = 0;
    for (id, _, body, _, version) in state.db(|s| s.meetings()).await? {
        let Ok(mut m) = decode(body) else { continue };
        let mut due_now = Vec::new();
        for (n, a) in m.actions.iter_mut().enumerate() {
            let due = a
                .due
                .as_deref()
                .and_then(|d| crate::wire::parse_rfc3339("/due", d).ok());
            if !a.done && a.reminded_at.is_none() && due.is_some_and(|d| d < now) {
                a.reminded_at = Some(rfc3339(now));
                due_now.push((n, a.text.clone(), a.owner));
            }
        }
        if due_now.is_empty() {
            continue;
        }
        let who = crate::state::Who::system("coordination", "action item reminders");
        for (n, text, owner) in &due_now {
            tracing::warn!(meeting = %id, action = n, owner = ?owner, "action item overdue: {text}");
            let reasons = vec![
                format!("action {n} overdue: {text}"),
                owner.map_or_else(|| "no owner".to_owned(), |o| format!("owner user:{o}")),
            ];
            state
                .audit(
                    &who,
                    &RequestMeta::internal(),
                    Event::info("meeting.action.overdue", Some(format!("meeting:{id}")), reasons),
                )
                .await?;
        }
        let actions = serde_json::to_value(&m.actions).map_err(|e| ApiError::Internal(e.to_string()))?;
        match state
            .db(move |s| s.update_meeting_actions(id, &actions, version, now))
            .await
        {
            Ok(_) => {
                sent += due_now.len();
                let link = format!("#/meetings/{id}");
                for (_, text, owner) in &due_now {
                    if let Some(owner) = owner {
                        let owner = [UserId::from_uuid(*owner)];
                        let text = format!("Action item overdue: {text}");
                        crate::routes::notifications::notify(state, &owner, "action_overdue", &text, &link).await;
                    }
                }
            }
            // Changed meanwhile: the next sweep sees it again.
            Err(ApiError::Stale { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Sweeps for overdue action items every `interval`.
pub fn spawn_reminders(state: AppState, interval: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            if let Err(e) = remind_overdue(&state).await {
                tracing::error!(error = %e, "action item reminders failed");
            }
        }
    });
}

/// The joint dashboard: only what the viewer may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    /// Decisions waiting for approvals: id, title, approvals per party.
    #[schema(value_type = Object)]
    pub open_decisions: serde_json::Value,
    /// Action items past their due date and not done: meeting, text, due.
    #[schema(value_type = Object)]
    pub overdue_actions: serde_json::Value,
    /// Movements the viewer may see, by state.
    pub movements_by_state: BTreeMap<String, usize>,
    /// Movements the viewer may see, by assessed risk level.
    pub movements_by_risk: BTreeMap<String, usize>,
    /// Open alerts on movements the viewer may see.
    pub open_alerts: usize,
    /// Incidents the viewer may read whose investigation is not closed.
    pub open_incidents: usize,
}

/// The joint dashboard for liaison officers and coordinators (and whoever may read
/// coordination), filtered per viewer.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "coordination",
    responses((status = 200, body = Dashboard),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn dashboard(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<Dashboard>> {
    reader(&state, &principal, &meta, "dashboard.read", None).await?;
    let now = state.clock.now();
    // Decisions: both parties' staff read them.
    let mut open_decisions = Vec::new();
    if state.decide(&principal.actor, Action::ReadDecisions).is_allow() {
        for r in state.db(|s| s.decisions()).await? {
            if r.state == "proposed" {
                let title = r.body.pointer("/proposal/title").cloned().unwrap_or_default();
                open_decisions.push(serde_json::json!({"id": r.id, "title": title}));
            }
        }
    }
    let mut overdue = Vec::new();
    for (id, _, body, _, _) in state.db(|s| s.meetings()).await? {
        let Ok(m) = decode(body) else { continue };
        for a in m.actions.iter().filter(|a| !a.done) {
            let due = a
                .due
                .as_deref()
                .and_then(|d| crate::wire::parse_rfc3339("/due", d).ok());
            if due.is_some_and(|d| d < now) {
                overdue.push(serde_json::json!({"meeting": id, "title": m.title, "text": a.text, "due": a.due, "owner": a.owner}));
            }
        }
    }
    let movements = state.db(|s| s.movements(None)).await?;
    let visible: Vec<_> = movements
        .iter()
        .filter(|m| {
            state
                .decide(
                    &principal.actor,
                    Action::ReadMovement {
                        movement: m.id,
                        org: m.org,
                        party: m.party,
                    },
                )
                .is_allow()
        })
        .collect();
    let mut by_state = BTreeMap::new();
    let mut by_risk = BTreeMap::new();
    for m in &visible {
        *by_state.entry(m.state.as_str().to_owned()).or_insert(0) += 1;
        let level = m
            .body
            .assessment
            .as_ref()
            .map_or_else(|| "not assessed".to_owned(), |a| a.level.clone());
        *by_risk.entry(level).or_insert(0) += 1;
    }
    let ids: BTreeSet<_> = visible.iter().map(|m| m.id).collect();
    let open_alerts = state
        .db(|s| s.alerts_after(0, 100_000))
        .await?
        .iter()
        .filter(|a| a.state == "open" && ids.contains(&a.movement))
        .count();
    let open_incidents = state
        .db(|s| s.incidents())
        .await?
        .iter()
        .filter(|i| i.status != jsms_domain::incident::InvestigationStatus::Closed)
        .filter(|i| {
            state
                .decide(
                    &principal.actor,
                    Action::ReadIncident {
                        incident: i.id,
                        party: i.party,
                        shared: i.report.shared,
                    },
                )
                .is_allow()
        })
        .count();
    Ok(Json(Dashboard {
        open_decisions: serde_json::Value::Array(open_decisions),
        overdue_actions: serde_json::Value::Array(overdue),
        movements_by_state: by_state,
        movements_by_risk: by_risk,
        open_alerts,
        open_incidents,
    }))
}
