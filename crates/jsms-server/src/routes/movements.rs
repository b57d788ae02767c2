//! Movements over HTTP (PRODUCT §3.2). Each handler parses, calls one service function
//! (`jsms_service::movements`: the lifecycle, planning, release, grants — decided, audited,
//! fail closed) and renders the disclosed movement in the caller's view: the status for
//! everyone entitled, the request and the plan only where the service disclosed them.

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, path_id};
use crate::state::AppState;
use crate::wire::{GeoPoint, rfc3339};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_domain::ValidationError;
use jsms_domain::ids::{EscortTeamId, MovementId, OrgId, PersonId, SiteId, UserId};
use jsms_domain::movement::{Endpoint, Transition};
use jsms_service::Disclosed;
use jsms_service::movements::{EndpointInput, MovementPart, NewMovement, NewTeam, PlanRequest, Shown};
pub use jsms_service::movements::{Predictability, RecentMovement};
use jsms_service::planning::Profile;
use jsms_store::EscortTeam;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The movement routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_movements, create_movement))
        .routes(routes!(get_movement))
        .routes(routes!(transition_movement))
        .routes(routes!(plan_movement))
        .routes(routes!(team_availability))
        .routes(routes!(exposure))
        .routes(routes!(predictability))
        .routes(routes!(disclose))
        .routes(routes!(list_teams, create_team))
}

/// One end of a leg: a site or a point, exactly one.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointWire {
    /// A registered site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Uuid>,
    /// A point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<GeoPoint>,
}

/// A leg.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegWire {
    /// Start.
    pub from: EndpointWire,
    /// End.
    pub to: EndpointWire,
}

/// The requested window (RFC 3339).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowWire {
    /// Earliest departure.
    #[schema(format = DateTime)]
    pub start: String,
    /// Latest arrival.
    #[schema(format = DateTime)]
    pub end: String,
}

/// A movement request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementIn {
    /// The requesting organisation (default: the caller's).
    #[serde(default)]
    pub org: Option<Uuid>,
    /// Protected persons moved (employees of the organisation).
    pub persons: Vec<Uuid>,
    /// Legs, each starting where the previous one ends.
    pub legs: Vec<LegWire>,
    /// Why.
    pub purpose: String,
    /// When.
    pub window: WindowWire,
    /// Company vehicles, free text.
    #[serde(default)]
    pub vehicles: Vec<String>,
}

/// A movement as the caller may see it: the status for everyone entitled, the request for
/// its organisation and the host coordinators, the plan only for those with need to know.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    /// Identifier.
    pub id: Uuid,
    /// State.
    pub state: String,
    /// Requesting organisation.
    pub org: Uuid,
    /// Risk level once assessed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<String>,
    /// Transitions the caller may take now.
    pub allowed_transitions: Vec<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// The request (not for liaison officers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestView>,
    /// The sealed plan (need to know only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanView>,
}

/// The request part of a movement.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    /// Persons.
    pub persons: Vec<Uuid>,
    /// Legs.
    pub legs: Vec<LegWire>,
    /// Purpose.
    pub purpose: String,
    /// Window.
    pub window: WindowWire,
    /// Company vehicles.
    pub vehicles: Vec<String>,
    /// Score, level, reasons, requirements.
    #[schema(value_type = Object)]
    pub assessment: Option<serde_json::Value>,
    /// Approvals so far (user ids and times).
    #[schema(value_type = Vec<Object>)]
    pub approvals: serde_json::Value,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// What happened, in order.
    #[schema(value_type = Vec<Object>)]
    pub history: serde_json::Value,
}

/// The sealed plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    /// Departure.
    pub departure: String,
    /// Planned arrival.
    pub arrival: String,
    /// When the details are (or were) released to the escort team.
    pub release_at: Option<String>,
    /// Legs: route points as `[lon, lat]`, roads, figures.
    #[schema(value_type = Vec<Object>)]
    pub legs: serde_json::Value,
    /// Escort team id.
    pub escort_team: Uuid,
    /// Call sign.
    pub call_sign: String,
    /// Escort members (user ids).
    pub escort_members: Vec<Uuid>,
    /// Escort vehicles.
    pub escort_vehicles: Vec<String>,
    /// Warnings (repeated patterns…).
    pub warnings: Vec<String>,
}

fn endpoint_wire(e: &Endpoint) -> EndpointWire {
    match e {
        Endpoint::Site(s) => EndpointWire {
            site: Some(s.uuid()),
            point: None,
        },
        Endpoint::Point(c) => EndpointWire {
            site: None,
            point: Some(GeoPoint::from_coordinate(*c)),
        },
    }
}

/// The caller's view of a disclosed movement.
fn view(shown: &Shown) -> MovementView {
    let m: &Disclosed<_> = &shown.movement;
    let body = &m.body;
    let request = m.sees(MovementPart::Request).then(|| RequestView {
        persons: body.request.persons.iter().map(|p| p.uuid()).collect(),
        legs: body
            .request
            .legs
            .iter()
            .map(|l| LegWire {
                from: endpoint_wire(&l.from),
                to: endpoint_wire(&l.to),
            })
            .collect(),
        purpose: body.request.purpose.clone(),
        window: WindowWire {
            start: rfc3339(body.request.window_start),
            end: rfc3339(body.request.window_end),
        },
        vehicles: body.request.vehicles.clone(),
        assessment: body.assessment.as_ref().and_then(|a| serde_json::to_value(a).ok()),
        approvals: serde_json::json!(
            body.approvals
                .iter()
                .map(|a| serde_json::json!({"user": a.user.uuid(), "at": rfc3339(a.at)}))
                .collect::<Vec<_>>()
        ),
        rejection: body.rejection.clone(),
        history: serde_json::json!(
            body.history
                .iter()
                .map(|h| serde_json::json!({"at": rfc3339(h.at), "user": h.user.map(|u| u.uuid()), "what": h.what, "note": h.note}))
                .collect::<Vec<_>>()
        ),
    });
    let plan = m
        .plan
        .as_ref()
        .filter(|_| m.sees(MovementPart::Plan))
        .map(|p| PlanView {
            departure: rfc3339(p.departure),
            arrival: rfc3339(p.arrival),
            release_at: m.release_at.map(rfc3339),
            legs: serde_json::json!(
                p.legs
                    .iter()
                    .map(|l| serde_json::json!({
                        "coordinates": l.points.iter().map(|c| [c.lon(), c.lat()]).collect::<Vec<_>>(),
                        "roads": l.roads,
                        "distance_m": l.distance_m,
                        "duration_s": l.duration_s,
                        "risk": l.risk,
                    }))
                    .collect::<Vec<_>>()
            ),
            escort_team: p.escort_team.uuid(),
            call_sign: p.call_sign.clone(),
            escort_members: p.escort_members.iter().map(|u| u.uuid()).collect(),
            escort_vehicles: p.escort_vehicles.clone(),
            warnings: p.warnings.clone(),
        });
    MovementView {
        id: m.id.uuid(),
        state: m.state.as_str().to_owned(),
        org: m.org.uuid(),
        risk_level: body.assessment.as_ref().map(|a| a.level.clone()),
        allowed_transitions: shown.allowed.iter().map(|t| t.as_str().to_owned()).collect(),
        version: m.version,
        request,
        plan,
    }
}

/// The list of movements.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementList {
    /// Movements the caller may see, newest first.
    pub items: Vec<MovementView>,
}

/// Movements the caller may see, each in the caller's view (every movement listed is a
/// recorded disclosure, and so is every plan shown).
#[utoipa::path(get, path = "/api/v1/movements", tag = "movements",
    responses((status = 200, body = MovementList),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_movements(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<MovementList>> {
    let all = state.services.movements(&principal).await?;
    Ok(Json(MovementList {
        items: all.iter().map(view).collect(),
    }))
}

fn endpoint_input(field: &str, e: &EndpointWire) -> ApiResult<EndpointInput> {
    match (e.site, &e.point) {
        (Some(site), None) => Ok(EndpointInput::Site(SiteId::from_uuid(site))),
        (None, Some(p)) => Ok(EndpointInput::Point(p.to_coordinate(&format!("{field}/point"))?)),
        _ => Err(ValidationError::new(field, "give exactly one of site or point").into()),
    }
}

/// Requests a movement (a draft the requester submits).
#[utoipa::path(post, path = "/api/v1/movements", tag = "movements", request_body = MovementIn,
    responses((status = 201, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_movement(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<MovementIn>,
) -> ApiResult<(StatusCode, Json<MovementView>)> {
    let start = crate::wire::parse_rfc3339("/window/start", &input.window.start)?;
    let end = crate::wire::parse_rfc3339("/window/end", &input.window.end)?;
    let mut legs = Vec::with_capacity(input.legs.len());
    for (i, l) in input.legs.iter().enumerate() {
        legs.push((
            endpoint_input(&format!("/legs/{i}/from"), &l.from)?,
            endpoint_input(&format!("/legs/{i}/to"), &l.to)?,
        ));
    }
    let new = NewMovement {
        org: input.org.map(OrgId::from_uuid),
        persons: input.persons.iter().map(|p| PersonId::from_uuid(*p)).collect(),
        legs,
        purpose: input.purpose,
        window: (start, end),
        vehicles: input.vehicles,
    };
    let shown = state.services.create_movement(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(view(&shown))))
}

/// One movement, in the caller's view.
#[utoipa::path(get, path = "/api/v1/movements/{id}", tag = "movements", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_movement(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<MovementView>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    Ok(Json(view(&state.services.movement(&principal, id).await?)))
}

/// A transition request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// `submit`, `assess`, `approve`, `reject`, `release`, `start`, `complete`, `abort` or
    /// `cancel` (planning has its own endpoint).
    #[schema(value_type = String)]
    pub transition: Transition,
    /// The version the caller saw.
    pub version: i64,
    /// Required to reject, abort or cancel.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Moves a movement along its lifecycle.
#[utoipa::path(post, path = "/api/v1/movements/{id}/transitions", tag = "movements", request_body = TransitionIn,
    params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn transition_movement(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TransitionIn>,
) -> ApiResult<Json<MovementView>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let shown = state
        .services
        .transition(&principal, id, input.transition, input.version, input.reason)
        .await?;
    Ok(Json(view(&shown)))
}

/// Planning input.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// The version the caller saw.
    pub version: i64,
    /// The escort team.
    pub escort_team: Uuid,
    /// Which route alternative (0 = recommended) per leg; default 0 for every leg.
    #[serde(default)]
    pub alternatives: Vec<usize>,
    /// Route profile (default safest).
    #[serde(default)]
    pub profile: Option<Profile>,
    /// Release the details this long before departure (default from the rules).
    #[serde(default)]
    pub release_lead_s: Option<i64>,
}

/// Plans an approved movement: routes, a CSPRNG departure inside the window that avoids
/// the same origin–destination's departures (± 15 min) of the last 30 days, an escort team
/// not booked in an overlapping window. The plan is sealed; the planner gets a need-to-know
/// grant on it.
#[utoipa::path(post, path = "/api/v1/movements/{id}/plan", tag = "movements", request_body = PlanIn,
    params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn plan_movement(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PlanIn>,
) -> ApiResult<Json<MovementView>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let request = PlanRequest {
        version: input.version,
        escort_team: EscortTeamId::from_uuid(input.escort_team),
        alternatives: input.alternatives,
        profile: input.profile,
        release_lead_s: input.release_lead_s,
    };
    Ok(Json(view(&state.services.plan(&principal, id, request).await?)))
}

/// An escort team and whether it is free for a movement.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamAvailabilityView {
    /// The team.
    pub team: TeamView,
    /// Whether it has the escort vehicles the assessment requires.
    pub enough_vehicles: bool,
    /// Movements it is booked on in an overlapping window (with the rules' margins).
    pub busy_with: Vec<Uuid>,
    /// Whether it can be planned on this movement.
    pub available: bool,
}

/// The escort teams and whether each is free for this movement's window (host
/// coordinators, before planning).
#[utoipa::path(get, path = "/api/v1/movements/{id}/escort-teams", tag = "movements", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = [TeamAvailabilityView]),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn team_availability(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TeamAvailabilityView>>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let list = state.services.team_availability(&principal, id).await?;
    Ok(Json(
        list.iter()
            .map(|a| TeamAvailabilityView {
                team: team_view(&a.team),
                enough_vehicles: a.enough_vehicles,
                busy_with: a.busy_with.iter().map(|m| m.uuid()).collect(),
                available: a.enough_vehicles && a.busy_with.is_empty(),
            })
            .collect(),
    ))
}

/// Whom to show a planned movement's details.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscloseIn {
    /// A company security officer of the movement's organisation.
    pub user: Uuid,
}

/// Releases a planned movement's details explicitly to a company security officer of its
/// organisation (host coordinators), until the movement ends.
#[utoipa::path(post, path = "/api/v1/movements/{id}/disclose", tag = "movements", request_body = DiscloseIn,
    params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn disclose(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DiscloseIn>,
) -> ApiResult<Json<MovementView>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let shown = state
        .services
        .disclose_to(&principal, id, UserId::from_uuid(input.user))
        .await?;
    Ok(Json(view(&shown)))
}

/// The routes and departure times used on this movement's origin and destination in the
/// last 30 days, and the current plan's warnings (host coordinators).
#[utoipa::path(get, path = "/api/v1/movements/{id}/predictability", tag = "movements", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = Predictability),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn predictability(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Predictability>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    Ok(Json(state.services.predictability(&principal, id).await?))
}

/// One person's access to a movement's details.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureEntry {
    /// The user.
    pub user: Uuid,
    /// Why (what created the grant).
    pub source: String,
    /// From.
    pub from: String,
    /// Until.
    pub until: String,
    /// Whether it is active now.
    pub active: bool,
}

/// Who can see a movement's details now, and who could when.
#[derive(Debug, Serialize, ToSchema)]
pub struct Exposure {
    /// The movement.
    pub movement: Uuid,
    /// People with access now.
    pub now: usize,
    /// Every access period, oldest first.
    pub periods: Vec<ExposureEntry>,
}

/// The exposure report of a movement (host coordinators and auditors).
#[utoipa::path(get, path = "/api/v1/movements/{id}/exposure", tag = "movements", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = Exposure),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn exposure(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Exposure>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let e = state.services.exposure(&principal, id).await?;
    Ok(Json(Exposure {
        movement: e.movement.uuid(),
        now: e.now,
        periods: e
            .periods
            .iter()
            .map(|p| ExposureEntry {
                user: p.user.uuid(),
                source: p.source.clone(),
                from: rfc3339(p.from),
                until: rfc3339(p.until),
                active: p.active,
            })
            .collect(),
    }))
}

/// An escort team to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamIn {
    /// Unit name.
    #[schema(min_length = 1)]
    pub unit: String,
    /// Radio call sign.
    #[schema(min_length = 1)]
    pub call_sign: String,
    /// Members (user ids of the caller's party).
    pub members: Vec<Uuid>,
    /// Vehicles.
    #[serde(default)]
    pub vehicles: Vec<String>,
}

/// An escort team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    /// Identifier.
    pub id: Uuid,
    /// Unit.
    pub unit: String,
    /// Call sign.
    pub call_sign: String,
    /// Members.
    pub members: Vec<Uuid>,
    /// Vehicles.
    pub vehicles: Vec<String>,
}

fn team_view(t: &Disclosed<EscortTeam>) -> TeamView {
    TeamView {
        id: t.id.uuid(),
        unit: t.unit.clone(),
        call_sign: t.call_sign.clone(),
        members: t.members.iter().map(|u| u.uuid()).collect(),
        vehicles: t.vehicles.clone(),
    }
}

/// Escort teams (host operations).
#[utoipa::path(get, path = "/api/v1/escort-teams", tag = "movements",
    responses((status = 200, body = [TeamView]),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_teams(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<TeamView>>> {
    let teams = state.services.escort_teams(&principal).await?;
    Ok(Json(teams.iter().map(team_view).collect()))
}

/// Creates an escort team of the caller's party.
#[utoipa::path(post, path = "/api/v1/escort-teams", tag = "movements", request_body = TeamIn,
    responses((status = 201, body = TeamView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_team(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<TeamIn>,
) -> ApiResult<(StatusCode, Json<TeamView>)> {
    let new = NewTeam {
        unit: input.unit,
        call_sign: input.call_sign,
        members: input.members.iter().map(|u| UserId::from_uuid(*u)).collect(),
        vehicles: input.vehicles,
    };
    let team = state.services.create_team(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(team_view(&team))))
}
