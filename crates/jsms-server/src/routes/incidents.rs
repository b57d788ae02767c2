//! Incidents and lessons learned (PRODUCT §3.7): reports with their links, a timeline,
//! the investigation (status, findings), lessons with follow-up actions, and the "who knew"
//! report of every linked movement attached with one action. Reports are sealed at rest;
//! the reporting party reads them, the other party when they are released to it; the
//! reporting party's coordinators and analysts investigate. Incidents feed the route risk
//! (see [`crate::planning::StoreFeed`]).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, RequestMeta, path_id};
use crate::routes::{referenced, require};
use crate::state::{AppState, Event};
use crate::wire::{GeoPoint, rfc3339};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{MovementId, PersonId, SiteId};
use jsms_domain::incident::{FollowUp, IncidentKind, IncidentReport, InvestigationStatus, Lesson, TimelineEntry};
use jsms_store::IncidentRecord;
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
    pub title: String,
    /// When it happened (RFC 3339).
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
    #[schema(value_type = Object)]
    pub timeline: serde_json::Value,
    /// Findings.
    pub findings: Option<String>,
    /// Lessons with their follow-up actions.
    #[schema(value_type = Object)]
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

pub(crate) fn read_action(i: &IncidentRecord) -> Action {
    Action::ReadIncident {
        incident: i.id,
        party: i.party,
        shared: i.report.shared,
    }
}

fn investigate_action(i: &IncidentRecord) -> Action {
    Action::InvestigateIncident {
        incident: i.id,
        party: i.party,
        shared: i.report.shared,
    }
}

fn view(state: &AppState, principal: &Principal, i: &IncidentRecord) -> IncidentView {
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
        may_investigate: state.decide(&principal.actor, investigate_action(i)).is_allow(),
    }
}

const PROBLEM: &str = "application/problem+json";

/// Reports an incident for the reporter's party.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = IncidentIn,
    responses((status = 201, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn report_incident(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<IncidentIn>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let user = principal.human()?.clone();
    let party = principal.actor.party_id;
    let rules = require(
        &state,
        &principal,
        &meta,
        "incident.report",
        None,
        Action::ReportIncident { party },
        ApiError::Forbidden("operational staff report incidents"),
    )
    .await?;
    let now = state.clock.now();
    let kind = IncidentKind::parse(&input.kind).ok_or_else(|| {
        ValidationError::new(
            "/kind",
            "attack, threat, suspicious_activity, breach_of_procedure or accident",
        )
    })?;
    let occurred_at = crate::wire::parse_rfc3339("/occurred_at", &input.occurred_at)?;
    let place = input.place.to_coordinate("/place")?;
    for (i, p) in input.persons.iter().enumerate() {
        let id = PersonId::from_uuid(*p);
        referenced(
            state.db(move |s| s.person(id)).await,
            format!("/persons/{i}"),
            "protected person",
        )?;
    }
    for (i, m) in input.movements.iter().enumerate() {
        let id = MovementId::from_uuid(*m);
        referenced(
            state.db(move |s| s.movement(id)).await,
            format!("/movements/{i}"),
            "movement",
        )?;
    }
    for (i, s) in input.sites.iter().enumerate() {
        let id = SiteId::from_uuid(*s);
        referenced(state.db(move |st| st.site(id)).await, format!("/sites/{i}"), "site")?;
    }
    for (i, z) in input.zones.iter().enumerate() {
        let id = *z;
        referenced(
            state.db(move |s| s.zone(id)).await,
            format!("/zones/{i}"),
            "threat zone",
        )?;
    }
    let report = IncidentReport::new(
        kind,
        &input.title,
        occurred_at,
        place,
        input.severity,
        &input.narrative,
        (
            input.persons.into_iter().map(PersonId::from_uuid).collect(),
            input.movements.into_iter().map(MovementId::from_uuid).collect(),
            input.sites.into_iter().map(SiteId::from_uuid).collect(),
            input.zones,
        ),
        input.shared,
        now,
    )?;
    let record = IncidentRecord {
        id: Uuid::now_v7(),
        party,
        reporter: user.id,
        report,
        status: InvestigationStatus::Reported,
        timeline: vec![TimelineEntry {
            at: now,
            user: Some(user.id),
            text: "reported".into(),
        }],
        findings: None,
        lessons: Vec::new(),
        version: 1,
        created_at: now,
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("incident.report", Some(format!("incident:{}", record.id)), rules),
        )
        .await?;
    let r = record.clone();
    state.db(move |s| s.create_incident(&r, now)).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &principal, &record))))
}

/// Incidents the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    responses((status = 200, body = IncidentList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_incidents(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<IncidentList>> {
    let all = state.db(|s| s.incidents()).await?;
    let visible: Vec<&IncidentRecord> = all
        .iter()
        .filter(|i| state.decide(&principal.actor, read_action(i)).is_allow())
        .collect();
    let entries = visible
        .iter()
        .map(|i| {
            let event = Event::allow(
                "incident.read",
                Some(format!("incident:{}", i.id)),
                "listed: allowed to read the incident",
            );
            state.entry(&principal.who, &meta, event.fields(&["narrative"]))
        })
        .collect();
    state.audit_all(entries).await?;
    Ok(Json(IncidentList {
        items: visible.into_iter().map(|i| view(&state, &principal, i)).collect(),
    }))
}

/// The incident, for the caller; 404 when it is not theirs to read.
async fn readable(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    raw: &str,
    what: &'static str,
    investigate: bool,
) -> ApiResult<IncidentRecord> {
    let id = path_id(raw)?;
    let i = state.db(move |s| s.incident(id)).await?;
    let resource = Some(format!("incident:{id}"));
    if investigate {
        // Those who may only read it learn that they may not investigate; others learn nothing.
        let otherwise = if state.decide(&principal.actor, read_action(&i)).is_allow() {
            ApiError::Forbidden("the reporting party's coordinators and analysts investigate")
        } else {
            ApiError::NotFound
        };
        require(
            state,
            principal,
            meta,
            what,
            resource,
            investigate_action(&i),
            otherwise,
        )
        .await?;
    } else {
        require(
            state,
            principal,
            meta,
            what,
            resource,
            read_action(&i),
            ApiError::NotFound,
        )
        .await?;
    }
    Ok(i)
}

/// One incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_incident(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentView>> {
    let i = readable(&state, &principal, &meta, &id, "incident.read", false).await?;
    let event =
        Event::allow("incident.read", Some(format!("incident:{}", i.id)), "need to know").fields(&["narrative"]);
    state.audit(&principal.who, &meta, event).await?;
    Ok(Json(view(&state, &principal, &i)))
}

async fn save(
    state: &AppState,
    mut i: IncidentRecord,
    version: i64,
    entry: String,
    user: jsms_domain::ids::UserId,
) -> ApiResult<IncidentRecord> {
    let now = state.clock.now();
    i.timeline.push(TimelineEntry {
        at: now,
        user: Some(user),
        text: entry,
    });
    state.db(move |s| s.update_incident(&i, version, now)).await
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
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn add_update(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateIn>,
) -> ApiResult<Json<IncidentView>> {
    let user = principal.human()?.clone();
    let i = readable(&state, &principal, &meta, &id, "incident.update", true).await?;
    let text = jsms_domain::text::required("/text", &input.text, 5000)?;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("incident.update", Some(format!("incident:{}", i.id)), "timeline"),
        )
        .await?;
    let saved = save(&state, i, input.version, text, user.id).await?;
    Ok(Json(view(&state, &principal, &saved)))
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
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn investigate(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<InvestigationIn>,
) -> ApiResult<Json<IncidentView>> {
    let user = principal.human()?.clone();
    let mut i = readable(&state, &principal, &meta, &id, "incident.investigate", true).await?;
    let to = InvestigationStatus::parse(&input.status)
        .ok_or_else(|| ValidationError::new("/status", "under_investigation or closed"))?;
    if !i.status.may_become(to) {
        return Err(ApiError::Conflict(format!(
            "the investigation is {}; it cannot become {}",
            i.status.as_str(),
            to.as_str()
        )));
    }
    let findings = input
        .findings
        .as_deref()
        .map(|f| jsms_domain::text::required("/findings", f, 10_000))
        .transpose()?;
    if to == InvestigationStatus::Closed && findings.is_none() && i.findings.is_none() {
        return Err(ValidationError::new("/findings", "say what the investigation found to close it").into());
    }
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("incident.investigate", Some(format!("incident:{}", i.id)), to.as_str()),
        )
        .await?;
    i.status = to;
    if findings.is_some() {
        i.findings = findings;
    }
    let saved = save(
        &state,
        i,
        input.version,
        format!("investigation: {}", to.as_str().replace('_', " ")),
        user.id,
    )
    .await?;
    Ok(Json(view(&state, &principal, &saved)))
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
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn add_lesson(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LessonIn>,
) -> ApiResult<Json<IncidentView>> {
    let user = principal.human()?.clone();
    let mut i = readable(&state, &principal, &meta, &id, "incident.lesson", true).await?;
    let text = jsms_domain::text::required("/text", &input.text, 5000)?;
    if input.actions.len() > 20 {
        return Err(ValidationError::new("/actions", "at most 20 follow-up actions").into());
    }
    let mut actions = Vec::with_capacity(input.actions.len());
    for (k, a) in input.actions.iter().enumerate() {
        let owner = match a.owner {
            Some(u) => {
                let uid = jsms_domain::ids::UserId::from_uuid(u);
                referenced(
                    state.db(move |s| s.user(uid)).await,
                    format!("/actions/{k}/owner"),
                    "user",
                )?;
                Some(uid)
            }
            None => None,
        };
        actions.push(FollowUp {
            text: jsms_domain::text::required(&format!("/actions/{k}/text"), &a.text, 1000)?,
            owner,
            due: a
                .due
                .as_deref()
                .map(|d| crate::wire::parse_rfc3339(&format!("/actions/{k}/due"), d))
                .transpose()?,
            done: false,
        });
    }
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("incident.lesson", Some(format!("incident:{}", i.id)), "lesson learned"),
        )
        .await?;
    i.lessons.push(Lesson { text, actions });
    let saved = save(&state, i, input.version, "lesson learned added".into(), user.id).await?;
    Ok(Json(view(&state, &principal, &saved)))
}

/// Who knew a linked movement.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementKnowers {
    /// The movement.
    pub movement: Uuid,
    /// Everyone who read its details (sealed plan or brief), with when.
    pub accesses: Vec<crate::routes::audit::Access>,
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
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, body = [MovementKnowers]),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn attach_who_knew(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VersionIn>,
) -> ApiResult<Json<Vec<MovementKnowers>>> {
    let user = principal.human()?.clone();
    let i = readable(&state, &principal, &meta, &id, "incident.who_knew", true).await?;
    let mut out = Vec::new();
    let mut summary = Vec::new();
    for m in &i.report.movements {
        let accesses = crate::routes::audit::accesses(&state, vec![format!("movement:{m}:plan")], 0, i64::MAX).await?;
        let names: std::collections::BTreeSet<String> = accesses
            .iter()
            .map(|a| a.name.clone().unwrap_or_else(|| a.principal.clone()))
            .collect();
        summary.push(format!(
            "movement {m}: {} ({})",
            names.len(),
            names.into_iter().collect::<Vec<_>>().join(", ")
        ));
        out.push(MovementKnowers {
            movement: m.uuid(),
            accesses,
        });
    }
    if out.is_empty() {
        return Err(ApiError::Conflict("no movement is linked to this incident".into()));
    }
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "incident.who_knew",
                Some(format!("incident:{}", i.id)),
                "who knew the linked movements",
            ),
        )
        .await?;
    save(
        &state,
        i,
        input.version,
        format!("who-knew report attached: {}", summary.join("; ")),
        user.id,
    )
    .await?;
    Ok(Json(out))
}
