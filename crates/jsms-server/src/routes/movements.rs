//! Movements (PRODUCT §3.2): request, assessment, approval (four-eyes above the threshold),
//! planning on the routing engine with a CSPRNG departure, sealed plans released just in
//! time by the scheduler ([`spawn_release_scheduler`]) with need-to-know grants for the
//! escort team, per-role views, and the exposure report. Escort teams live here too.
//!
//! Every state change is one transition of [`jsms_domain::movement::Transition`], decided
//! by the authorization component (`TransitionMovement`) and audited; a transition the
//! state does not allow is a 409 naming the allowed ones.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, RequestMeta, path_id};
use crate::planning::{PlanInput, Profile, plan as plan_routes};
use crate::routes::{referenced, require};
use crate::state::{AppState, Event, Who};
use crate::wire::{GeoPoint, rfc3339};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::geo::Coordinate;
use jsms_domain::ids::{EscortTeamId, MovementId, OrgId, PersonId, SiteId, UserId};
use jsms_domain::movement::{
    AssessmentInputs, Endpoint, Leg, MovementPlan, MovementRequest, MovementState, PlannedLeg, Rules, Transition,
    assess,
};
use jsms_store::{Approval, EscortTeam, MovementBody, MovementEvent, MovementRecord};
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
    pub start: String,
    /// Latest arrival.
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
    #[schema(value_type = Object)]
    pub approvals: serde_json::Value,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// What happened, in order.
    #[schema(value_type = Object)]
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
    #[schema(value_type = Object)]
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

fn plan_resource(id: MovementId) -> String {
    format!("movement:{id}:plan")
}

pub(crate) fn read_action(m: &MovementRecord) -> Action {
    Action::ReadMovement {
        movement: m.id,
        org: m.org,
        party: m.party,
    }
}

fn plan_action(m: &MovementRecord) -> Action {
    Action::ReadMovementPlan {
        movement: m.id,
        org: m.org,
        party: m.party,
    }
}

fn transition_action(m: &MovementRecord, t: Transition) -> Action {
    Action::TransitionMovement {
        movement: m.id,
        org: m.org,
        party: m.party,
        transition: t.as_str(),
    }
}

/// The caller's view of a movement.
fn view(state: &AppState, principal: &Principal, m: &MovementRecord) -> MovementView {
    use jsms_domain::user::Role;
    let actor = &principal.actor;
    let roles = principal.user.as_ref().map(|u| u.roles.clone()).unwrap_or_default();
    // Liaison officers see status and risk only; the requesting organisation and host
    // coordinators see the request; the plan needs its own permission.
    let sees_request = roles.contains(&Role::MovementCoordinator)
        || (roles.contains(&Role::CompanySecurityOfficer) && actor.org_id == m.org)
        || actor.grants.contains(&plan_resource(m.id));
    let sees_plan = state.decide(actor, plan_action(m)).is_allow();
    let allowed_transitions = m
        .state
        .allowed()
        .into_iter()
        .filter(|t| state.decide(actor, transition_action(m, *t)).is_allow())
        .map(|t| t.as_str().to_owned())
        .collect();
    let body = &m.body;
    let request = sees_request.then(|| RequestView {
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
    let plan = m.plan.as_ref().filter(|_| sees_plan).map(|p| PlanView {
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
        allowed_transitions,
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

/// Movements the caller may see (each in the caller's view).
#[utoipa::path(get, path = "/api/v1/movements", tag = "movements",
    responses((status = 200, body = MovementList),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_movements(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<MovementList>> {
    let all = state.db(|s| s.movements(None)).await?;
    let items = all
        .iter()
        .filter(|m| state.decide(&principal.actor, read_action(m)).is_allow())
        .map(|m| view(&state, &principal, m))
        .collect();
    Ok(Json(MovementList { items }))
}

async fn resolve_endpoint(state: &AppState, field: &str, e: &EndpointWire) -> ApiResult<Endpoint> {
    match (e.site, &e.point) {
        (Some(site), None) => {
            let id = SiteId::from_uuid(site);
            referenced(state.db(move |s| s.site(id)).await, format!("{field}/site"), "site")?;
            Ok(Endpoint::Site(id))
        }
        (None, Some(p)) => Ok(Endpoint::Point(p.to_coordinate(&format!("{field}/point"))?)),
        _ => Err(ValidationError::new(field, "give exactly one of site or point").into()),
    }
}

/// Requests a movement (a draft the requester submits).
#[utoipa::path(post, path = "/api/v1/movements", tag = "movements", request_body = MovementIn,
    responses((status = 201, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_movement(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<MovementIn>,
) -> ApiResult<(StatusCode, Json<MovementView>)> {
    let user = principal.human()?.clone();
    let org = input.org.map_or(principal.actor.org_id, OrgId::from_uuid);
    let org_record = referenced(state.db(move |s| s.org(org)).await, "/org", "organisation")?;
    let party = org_record.party_id;
    let rules = require(
        &state,
        &principal,
        &meta,
        "movement.create",
        None,
        Action::CreateMovement { org, party },
        ApiError::Forbidden("you do not request movements for this organisation"),
    )
    .await?;
    let now = state.clock.now();
    let start = crate::wire::parse_rfc3339("/window/start", &input.window.start)?;
    let end = crate::wire::parse_rfc3339("/window/end", &input.window.end)?;
    let mut persons = Vec::with_capacity(input.persons.len());
    for (i, p) in input.persons.iter().enumerate() {
        let id = PersonId::from_uuid(*p);
        let person = referenced(
            state.db(move |s| s.person(id)).await,
            format!("/persons/{i}"),
            "protected person",
        )?;
        if person.person.draft.employer_org_id != org {
            return Err(ValidationError::new(
                format!("/persons/{i}"),
                "this person is not employed by the requesting organisation",
            )
            .into());
        }
        persons.push(id);
    }
    let mut legs = Vec::with_capacity(input.legs.len());
    for (i, l) in input.legs.iter().enumerate() {
        legs.push(Leg {
            from: resolve_endpoint(&state, &format!("/legs/{i}/from"), &l.from).await?,
            to: resolve_endpoint(&state, &format!("/legs/{i}/to"), &l.to).await?,
        });
    }
    let request = MovementRequest::new(persons, legs, &input.purpose, (start, end), input.vehicles, now)?;
    let record = MovementRecord {
        id: MovementId::generate(),
        org,
        party,
        requester: user.id,
        state: MovementState::Draft,
        body: MovementBody {
            request,
            assessment: None,
            approvals: Vec::new(),
            rejection: None,
            planners: Vec::new(),
            disclosed_to: Vec::new(),
            released_at: None,
            history: vec![MovementEvent {
                at: now,
                user: Some(user.id),
                what: "create".into(),
                note: None,
            }],
        },
        plan: None,
        release_at: None,
        ends_at: None,
        version: 1,
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("movement.create", Some(format!("movement:{}", record.id)), rules),
        )
        .await?;
    let r = record.clone();
    state.db(move |s| s.create_movement(&r, now)).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &principal, &record))))
}

/// Loads a movement the caller may see (404 otherwise, so ids are not confirmed).
async fn visible(state: &AppState, principal: &Principal, meta: &RequestMeta, raw: &str) -> ApiResult<MovementRecord> {
    let id = MovementId::from_uuid(path_id(raw)?);
    let m = state.db(move |s| s.movement(id)).await?;
    require(
        state,
        principal,
        meta,
        "movement.read",
        Some(format!("movement:{id}")),
        read_action(&m),
        ApiError::NotFound,
    )
    .await?;
    Ok(m)
}

/// One movement, in the caller's view.
#[utoipa::path(get, path = "/api/v1/movements/{id}", tag = "movements", params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_movement(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<MovementView>> {
    let m = visible(&state, &principal, &meta, &id).await?;
    if m.plan.is_some() && state.decide(&principal.actor, plan_action(&m)).is_allow() {
        // Every sight of the plan is an audited disclosure inside the system.
        state
            .audit(
                &principal.who,
                &meta,
                Event::allow(
                    "movement.plan.read",
                    Some(plan_resource(m.id)),
                    vec!["need-to-know".to_owned()],
                ),
            )
            .await?;
    }
    Ok(Json(view(&state, &principal, &m)))
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

fn invalid_transition(m: &MovementRecord, t: Transition) -> ApiError {
    let allowed: Vec<&str> = m.state.allowed().iter().map(|t| t.as_str()).collect();
    ApiError::Conflict(format!(
        "a movement in state {} cannot {}; allowed now: {}",
        m.state.as_str(),
        t.as_str(),
        if allowed.is_empty() {
            "none (the movement is over)".to_owned()
        } else {
            allowed.join(", ")
        }
    ))
}

/// Moves a movement along its lifecycle.
#[utoipa::path(post, path = "/api/v1/movements/{id}/transitions", tag = "movements", request_body = TransitionIn,
    params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn transition_movement(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TransitionIn>,
) -> ApiResult<Json<MovementView>> {
    let user = principal.human()?.clone();
    let mut m = visible(&state, &principal, &meta, &id).await?;
    let t = input.transition;
    if t == Transition::Plan {
        return Err(ValidationError::new("/transition", "plan with POST /api/v1/movements/{id}/plan").into());
    }
    let resource = Some(format!("movement:{}", m.id));
    let rules = require(
        &state,
        &principal,
        &meta,
        "movement.transition",
        resource.clone(),
        transition_action(&m, t),
        ApiError::Forbidden("your role does not take this step"),
    )
    .await?;
    if !t.sources().contains(&m.state) {
        return Err(invalid_transition(&m, t));
    }
    if input.version != m.version {
        return Err(ApiError::Stale { current: m.version });
    }
    let now = state.clock.now();
    let reason = input
        .reason
        .as_deref()
        .map(|r| jsms_domain::text::required("/reason", r, 500))
        .transpose()?;
    if matches!(t, Transition::Reject | Transition::Abort | Transition::Cancel) && reason.is_none() {
        return Err(ValidationError::new("/reason", format!("a reason is required to {}", t.as_str())).into());
    }
    let mut what = t.as_str().to_owned();
    match t {
        Transition::Assess => {
            let assessment = assess_movement(&state, &m).await?;
            m.body.assessment = Some(assessment);
            m.state = MovementState::Assessed;
        }
        Transition::Approve => {
            if m.requester == user.id {
                return Err(ApiError::Conflict(
                    "the requester cannot approve their own movement".into(),
                ));
            }
            if m.body.approvals.iter().any(|a| a.user == user.id) {
                return Err(ApiError::Conflict("you have already approved this movement".into()));
            }
            m.body.approvals.push(Approval { user: user.id, at: now });
            let needed = m.body.assessment.as_ref().map_or(2, |a| a.requirements.approvals);
            if m.body.approvals.len() >= usize::from(needed) {
                m.state = MovementState::Approved;
            } else {
                what = format!("approval {} of {needed}", m.body.approvals.len());
            }
        }
        Transition::Reject => {
            m.body.rejection = reason.clone();
            m.state = MovementState::Rejected;
        }
        Transition::Release => {
            release(&mut m, now);
        }
        Transition::Complete | Transition::Abort | Transition::Cancel => {
            m.state = t.target();
            state.route_watch.unwatch(m.id.uuid());
            let end = now + rules_of(&state).grant_grace_s;
            let resource = plan_resource(m.id);
            state.db(move |s| s.end_grants(&resource, end)).await?;
            m.ends_at = Some(end);
        }
        _ => m.state = t.target(),
    }
    m.body.history.push(MovementEvent {
        at: now,
        user: Some(user.id),
        what,
        note: reason,
    });
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(transition_event(t), resource, rules),
        )
        .await?;
    let version = m.version;
    let released = t == Transition::Release;
    let updated = state.save_movement(m, version, now).await?;
    if released {
        grant_escort(&state, &updated, now).await?;
    }
    Ok(Json(view(&state, &principal, &updated)))
}

fn transition_event(t: Transition) -> &'static str {
    match t {
        Transition::Submit => "movement.submit",
        Transition::Assess => "movement.assess",
        Transition::Approve => "movement.approve",
        Transition::Reject => "movement.reject",
        Transition::Plan => "movement.plan",
        Transition::Release => "movement.release",
        Transition::Start => "movement.start",
        Transition::Complete => "movement.complete",
        Transition::Abort => "movement.abort",
        Transition::Cancel => "movement.cancel",
    }
}

fn rules_of(state: &AppState) -> &Rules {
    &state.movement_rules
}

/// Parses and validates assessment rules (TOML); errors name the problem.
pub fn parse_rules(text: &str) -> Result<Rules, String> {
    let rules: Rules = toml::from_str(text).map_err(|e| e.to_string())?;
    rules.validate().map_err(|e| format!("{}: {}", e.field, e.message))
}

/// The rules shipped with the product.
pub fn default_rules() -> Rules {
    // The shipped file is checked by a test; should it ever fail to parse, the strictest
    // single band is the safe fallback (everything needs two approvals and two vehicles).
    parse_rules(jsms_domain::movement::DEFAULT_RULES_TOML).unwrap_or_else(|_| Rules {
        bands: vec![jsms_domain::movement::RiskBand {
            name: "unrated".into(),
            min_score: 0,
            escort_vehicles: 2,
            approvals: 2,
        }],
        level_a_approvals: 2,
        release_lead_s: 7200,
        min_release_lead_s: 600,
        max_release_lead_s: 86_400,
        grant_grace_s: 1800,
    })
}

/// The rules of a data directory: `movement-rules.toml` there, or the shipped defaults.
pub fn load_rules(data_dir: &std::path::Path) -> Result<Rules, String> {
    let path = data_dir.join("movement-rules.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_rules(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => parse_rules(jsms_domain::movement::DEFAULT_RULES_TOML),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Incidents this recent count in a movement's assessment…
const RECENT_INCIDENTS_S: i64 = 30 * 86_400;
/// … when this close to its route, metres.
const RECENT_INCIDENT_M: f64 = 500.0;

/// The coordinates of an endpoint.
async fn locate(state: &AppState, e: Endpoint) -> ApiResult<Coordinate> {
    match e {
        Endpoint::Point(c) => Ok(c),
        Endpoint::Site(id) => Ok(state.db(move |s| s.site(id)).await?.draft.location),
    }
}

/// Assesses a movement: protection levels, and the balanced route of each leg (zones,
/// exposure, unavoidable severe zones), night hours.
async fn assess_movement(state: &AppState, m: &MovementRecord) -> ApiResult<jsms_domain::movement::Assessment> {
    let mut inputs = AssessmentInputs::default();
    for &p in &m.body.request.persons {
        let person = state.db(move |s| s.person(p)).await?;
        inputs.protection.push(person.person.draft.protection_level);
    }
    let w = &m.body.request;
    inputs.night = overlaps_night(w.window_start, w.window_end);
    let mut notes = Vec::new();
    if let Some(network) = state.network.clone() {
        let zones = state.db(|s| s.zones()).await?;
        let (mut risk, mut duration) = (0.0, 0.0);
        let mut driven: Vec<(f64, f64)> = Vec::new();
        for leg in &w.legs {
            let (from, to) = (locate(state, leg.from).await?, locate(state, leg.to).await?);
            let input = PlanInput {
                from,
                to,
                profile: Profile::Balanced,
                risk_weight: 1.0,
                depart: w.window_start,
                alternatives: 1,
                unpredictable: false,
            };
            let (net, zs, feed) = (network.clone(), zones.clone(), state.risk_feed.clone());
            let routes = tokio::task::spawn_blocking(move || plan_routes(&net, &zs, feed.as_ref(), &input))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            match routes {
                Ok(r) => {
                    if let Some(best) = r.features.first() {
                        if let Some(points) = best.geometry.get("coordinates").and_then(|c| c.as_array()) {
                            driven.extend(
                                points
                                    .iter()
                                    .filter_map(|c| Some((c.get(1)?.as_f64()?, c.get(0)?.as_f64()?))),
                            );
                        }
                        let p = &best.properties;
                        risk += p.risk.min(3600.0);
                        duration += p.duration_s;
                        inputs.crosses_avoided_zone |= p.crosses_avoided_zone;
                        let ids: std::collections::HashSet<&String> =
                            p.segments.iter().flat_map(|s| s.zones.iter()).collect();
                        for z in zones.iter().filter(|z| ids.contains(&z.id.to_string())) {
                            inputs.max_zone_severity = inputs.max_zone_severity.max(z.zone.severity);
                        }
                    }
                }
                Err(e) => notes.push(format!("a leg could not be routed: {e}")),
            }
        }
        if duration > 0.0 {
            inputs.route_risk_ratio = risk / duration;
        }
        // Incidents of the last 30 days within 500 m of the route.
        let since = state.clock.now() - RECENT_INCIDENTS_S;
        let points = state.db(move |s| s.incident_points(since)).await?;
        inputs.recent_incidents = points
            .iter()
            .filter(|(lat, lon, _, _)| {
                jsms_domain::tracking::distance_to_route((*lat, *lon), &driven) <= RECENT_INCIDENT_M
            })
            .count();
    } else {
        notes.push("no road network is imported: route factors not assessed".to_owned());
    }
    let mut a = assess(&inputs, rules_of(state));
    a.reasons.extend(notes);
    Ok(a)
}

/// Whether [start, end) includes any hour from 19:00 to 05:00 UTC.
fn overlaps_night(start: i64, end: i64) -> bool {
    let mut t = start - start.rem_euclid(3600);
    while t < end {
        let hour = t.rem_euclid(86_400) / 3600;
        if !(5..19).contains(&hour) {
            return true;
        }
        t += 3600;
    }
    false
}

/// Marks a planned movement released at `now`, noting a late release.
fn release(m: &mut MovementRecord, now: i64) {
    m.state = MovementState::Released;
    m.body.released_at = Some(now);
}

/// Need-to-know grants on the plan for the escort team, until the movement ends.
async fn grant_escort(state: &AppState, m: &MovementRecord, now: i64) -> ApiResult<()> {
    let Some(plan) = &m.plan else { return Ok(()) };
    let until = m.ends_at.unwrap_or(plan.arrival);
    let resource = plan_resource(m.id);
    let source = format!("movement.release:{}", m.id);
    let members = plan.escort_members.clone();
    state
        .db(move |s| {
            for u in members {
                s.create_grant(u, &resource, &source, now, until)?;
            }
            Ok(())
        })
        .await
}

/// Watches a planned movement's route for zone changes ([`crate::reeval`]).
fn watch(state: &AppState, m: &MovementRecord) {
    if let Some(p) = &m.plan {
        state.route_watch.watch(crate::reeval::WatchedRoute {
            owner: m.id.uuid(),
            points: p.legs.iter().flat_map(|l| l.points.iter().copied()).collect(),
            from: p.departure,
            until: p.arrival,
        });
    }
}

/// Watches the routes of every planned, released or in-progress movement (at start).
pub async fn watch_active(state: &AppState) -> ApiResult<usize> {
    let all = state
        .db(|s| {
            s.movements_in_states(&[
                MovementState::Planned,
                MovementState::Released,
                MovementState::InProgress,
            ])
        })
        .await?;
    let mut n = 0;
    for m in all.iter().filter(|m| {
        matches!(
            m.state,
            MovementState::Planned | MovementState::Released | MovementState::InProgress
        )
    }) {
        watch(state, m);
        n += 1;
    }
    Ok(n)
}

/// Records on each movement that a changed zone now crosses its route (the re-evaluation
/// event), audited.
pub async fn flag_affected(state: &AppState, events: &[crate::reeval::RouteAffected]) -> ApiResult<()> {
    let (who, meta) = (
        Who::system("re-evaluation", "route re-evaluation"),
        RequestMeta::internal(),
    );
    for e in events {
        let id = MovementId::from_uuid(e.owner);
        let note = format!(
            "threat zone {} (version {}, severity {}) crosses the planned route for {:.0} m{}",
            e.zone_id,
            e.zone_version,
            e.severity,
            e.inside_m,
            if e.avoided {
                "; the zone must be avoided: re-plan"
            } else {
                ""
            }
        );
        // A concurrent change wins; the flag is then retried on the fresh version.
        for _ in 0..3 {
            let mut m = match state.db(move |s| s.movement(id)).await {
                Ok(m) => m,
                Err(ApiError::NotFound) => break,
                Err(err) => return Err(err),
            };
            m.body.history.push(MovementEvent {
                at: e.detected_at,
                user: None,
                what: "route_affected".into(),
                note: Some(note.clone()),
            });
            let version = m.version;
            let now = e.detected_at;
            match state.save_movement(m, version, now).await {
                Ok(_) => break,
                Err(ApiError::Stale { .. }) => continue,
                Err(err) => return Err(err),
            }
        }
        state
            .audit(
                &who,
                &meta,
                Event::info("movement.route_affected", Some(format!("movement:{id}")), vec![note]),
            )
            .await?;
    }
    Ok(())
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
/// the same origin–destination's departures (± 15 min) of the last 30 days, the escort.
/// The plan is sealed; the planner gets a need-to-know grant on it.
#[utoipa::path(post, path = "/api/v1/movements/{id}/plan", tag = "movements", request_body = PlanIn,
    params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn plan_movement(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PlanIn>,
) -> ApiResult<Json<MovementView>> {
    let user = principal.human()?.clone();
    let mut m = visible(&state, &principal, &meta, &id).await?;
    let resource = Some(format!("movement:{}", m.id));
    let rules = require(
        &state,
        &principal,
        &meta,
        "movement.plan",
        resource.clone(),
        transition_action(&m, Transition::Plan),
        ApiError::Forbidden("only host coordinators plan movements"),
    )
    .await?;
    if !Transition::Plan.sources().contains(&m.state) {
        return Err(invalid_transition(&m, Transition::Plan));
    }
    if input.version != m.version {
        return Err(ApiError::Stale { current: m.version });
    }
    let cfg = rules_of(&state).clone();
    let lead = input.release_lead_s.unwrap_or(cfg.release_lead_s);
    if !(cfg.min_release_lead_s..=cfg.max_release_lead_s).contains(&lead) {
        return Err(ValidationError::new(
            "/release_lead_s",
            format!(
                "between {} and {} seconds",
                cfg.min_release_lead_s, cfg.max_release_lead_s
            ),
        )
        .into());
    }
    let team_id = EscortTeamId::from_uuid(input.escort_team);
    let team = referenced(
        state.db(move |s| s.escort_team(team_id)).await,
        "/escort_team",
        "escort team",
    )?;
    let needed = m.body.assessment.as_ref().map_or(1, |a| a.requirements.escort_vehicles);
    if team.vehicles.len() < usize::from(needed) {
        return Err(ValidationError::new(
            "/escort_team",
            format!(
                "the assessment requires at least {needed} escort vehicle(s); this team has {}",
                team.vehicles.len()
            ),
        )
        .into());
    }
    let network = state
        .network
        .clone()
        .ok_or_else(|| ApiError::Conflict("no road network is imported: run `jsms map import FILE.osm.pbf`".into()))?;
    let zones = state.db(|s| s.zones()).await?;
    let request = m.body.request.clone();
    let profile = input.profile.unwrap_or(Profile::Safest);
    let mut legs = Vec::new();
    for (i, leg) in request.legs.iter().enumerate() {
        let (from, to) = (locate(&state, leg.from).await?, locate(&state, leg.to).await?);
        let choice = input.alternatives.get(i).copied().unwrap_or(0);
        if choice >= usize::from(crate::planning::MAX_ALTERNATIVES) {
            return Err(ValidationError::new(format!("/alternatives/{i}"), "0 to 4").into());
        }
        let plan_input = PlanInput {
            from,
            to,
            profile,
            risk_weight: 1.0,
            depart: request.window_start,
            alternatives: (choice + 1) as u8,
            unpredictable: false,
        };
        let (net, zs, feed) = (network.clone(), zones.clone(), state.risk_feed.clone());
        let routes = tokio::task::spawn_blocking(move || plan_routes(&net, &zs, feed.as_ref(), &plan_input))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| match e {
                ApiError::Validation(v) => {
                    ApiError::Validation(ValidationError::new(format!("/legs/{i}{}", v.field), v.message))
                }
                other => other,
            })?;
        let Some(route) = routes.features.get(choice) else {
            return Err(ValidationError::new(
                format!("/alternatives/{i}"),
                format!("leg {i} has only {} alternative(s)", routes.features.len()),
            )
            .into());
        };
        let points = route
            .geometry
            .get("coordinates")
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| Coordinate::new(p.get(1)?.as_f64()?, p.get(0)?.as_f64()?).ok())
                    .collect()
            })
            .unwrap_or_default();
        let mut roads: Vec<String> = Vec::new();
        for s in &route.properties.segments {
            if !s.road.is_empty() && roads.last() != Some(&s.road) {
                roads.push(s.road.clone());
            }
        }
        legs.push(PlannedLeg {
            points,
            roads,
            distance_m: route.properties.distance_m,
            duration_s: route.properties.duration_s,
            risk: route.properties.risk,
        });
    }
    let driving: i64 = legs.iter().map(|l| l.duration_s.ceil() as i64).sum();
    let latest = request.window_end - driving;
    if latest < request.window_start {
        return Err(ValidationError::new(
            "/window",
            format!("the route takes {driving} s, longer than the requested window"),
        )
        .into());
    }
    // The same origin–destination's movements in the last 30 days: departure times and routes.
    let now = state.clock.now();
    let others = state.db(|s| s.movements(None)).await?;
    let recent = same_od_recent(&others, &m, now);
    let mut warnings = Vec::new();
    let times: Vec<i64> = recent.iter().map(|r| r.departure).collect();
    let departure = draw_departure(request.window_start, latest, &times).unwrap_or_else(|fallback| {
        warnings.push(format!(
            "no departure in the window avoids ± 15 min of the {} recent departure(s) on this origin and destination",
            recent.len()
        ));
        fallback
    });
    let roads: Vec<String> = legs.iter().flat_map(|l| l.roads.iter().cloned()).collect();
    for r in &recent {
        let (a, b) = (departure.rem_euclid(86_400), r.departure.rem_euclid(86_400));
        let diff = (a - b).abs().min(86_400 - (a - b).abs());
        if diff <= 15 * 60 {
            warnings.push(format!(
                "departure time of day within 15 min of movement {} on {}",
                r.movement,
                rfc3339(r.departure)
            ));
        }
        let shared = shared_roads(&roads, &r.roads);
        if shared >= 0.6 {
            warnings.push(format!(
                "route repeats movement {} of {}: {:.0} % of its roads are the same",
                r.movement,
                rfc3339(r.departure),
                shared * 100.0
            ));
        }
    }
    let arrival = departure + driving;
    let grace = cfg.grant_grace_s;
    m.plan = Some(MovementPlan {
        departure,
        arrival,
        legs,
        escort_team: team.id,
        call_sign: team.call_sign.clone(),
        escort_members: team.members.clone(),
        escort_vehicles: team.vehicles.clone(),
        release_lead_s: lead,
        warnings,
        disclosure_key: Some(crate::routes::briefs::fresh_movement_key()?),
    });
    m.release_at = Some(departure - lead);
    m.ends_at = Some(arrival + grace);
    m.state = MovementState::Planned;
    if !m.body.planners.contains(&user.id) {
        m.body.planners.push(user.id);
    }
    m.body.history.push(MovementEvent {
        at: now,
        user: Some(user.id),
        what: "plan".into(),
        note: None,
    });
    state
        .audit(&principal.who, &meta, Event::allow("movement.plan", resource, rules))
        .await?;
    let version = m.version;
    let until = arrival + grace;
    let updated = state.save_movement(m, version, now).await?;
    watch(&state, &updated);
    let (planner, plan_res, source) = (
        user.id,
        plan_resource(updated.id),
        format!("movement.plan:{}", updated.id),
    );
    state
        .db(move |s| s.create_grant(planner, &plan_res, &source, now, until))
        .await?;
    // The planner's own grant is new: decide on fresh attributes.
    let mut fresh = principal;
    fresh.actor.grants.push(plan_resource(updated.id));
    Ok(Json(view(&state, &fresh, &updated)))
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
    params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = MovementView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn disclose(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DiscloseIn>,
) -> ApiResult<Json<MovementView>> {
    use jsms_domain::user::Role;
    let by = principal.human()?.clone();
    let mut m = visible(&state, &principal, &meta, &id).await?;
    let resource = Some(format!("movement:{}", m.id));
    let rules = require(
        &state,
        &principal,
        &meta,
        "movement.disclose",
        resource.clone(),
        transition_action(&m, Transition::Release),
        ApiError::Forbidden("only host coordinators release details"),
    )
    .await?;
    let (Some(plan), false) = (m.plan.as_ref(), m.state.is_final()) else {
        return Err(ApiError::Conflict(format!(
            "a movement in state {} has no details to release",
            m.state.as_str()
        )));
    };
    let until = m.ends_at.unwrap_or(plan.arrival);
    let uid = UserId::from_uuid(input.user);
    let target = referenced(state.db(move |s| s.user(uid)).await, "/user", "user")?;
    if target.org_id != m.org || !target.roles.contains(&Role::CompanySecurityOfficer) || target.disabled {
        return Err(ValidationError::new(
            "/user",
            "details are released explicitly only to an active security officer of the requesting company",
        )
        .into());
    }
    let now = state.clock.now();
    if !m.body.disclosed_to.contains(&uid) {
        m.body.disclosed_to.push(uid);
    }
    m.body.history.push(MovementEvent {
        at: now,
        user: Some(by.id),
        what: "disclose".into(),
        note: Some(format!("details released to {}", target.username.as_str())),
    });
    let mut reasons = rules;
    reasons.push(format!("recipient:user:{uid}"));
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("movement.disclose", resource, reasons),
        )
        .await?;
    let version = m.version;
    let updated = state.save_movement(m, version, now).await?;
    let (res, source) = (plan_resource(updated.id), format!("movement.disclose:{}", updated.id));
    state
        .db(move |s| s.create_grant(uid, &res, &source, now, until))
        .await?;
    Ok(Json(view(&state, &principal, &updated)))
}

/// A recent movement on the same origin and destination.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecentMovement {
    /// The movement.
    #[schema(value_type = String)]
    pub movement: Uuid,
    /// Its departure (Unix seconds).
    pub departure: i64,
    /// Its roads in order.
    pub roads: Vec<String>,
}

/// Planned movements other than `m` with the same first origin and last destination that
/// departed (or depart) in the 30 days before `now` or later.
fn same_od_recent(all: &[MovementRecord], m: &MovementRecord, now: i64) -> Vec<RecentMovement> {
    let ends = |x: &MovementRecord| {
        (
            x.body.request.legs.first().map(|l| l.from),
            x.body.request.legs.last().map(|l| l.to),
        )
    };
    let key = ends(m);
    all.iter()
        .filter(|o| o.id != m.id && ends(o) == key)
        .filter_map(|o| {
            let p = o.plan.as_ref()?;
            (p.departure >= now - 30 * 86_400).then(|| RecentMovement {
                movement: o.id.uuid(),
                departure: p.departure,
                roads: p.legs.iter().flat_map(|l| l.roads.iter().cloned()).collect(),
            })
        })
        .collect()
}

/// The fraction of `a`'s distinct roads that `b` also uses.
fn shared_roads(a: &[String], b: &[String]) -> f64 {
    let a: std::collections::HashSet<&String> = a.iter().collect();
    let b: std::collections::HashSet<&String> = b.iter().collect();
    if a.is_empty() {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / a.len() as f64
}

/// The predictability picture of a movement's origin and destination.
#[derive(Debug, Serialize, ToSchema)]
pub struct Predictability {
    /// The movement.
    pub movement: Uuid,
    /// Movements on the same origin and destination in the last 30 days (and planned ahead).
    pub same_route: Vec<RecentMovement>,
    /// Departure times of day (UTC, HH:MM) used by them.
    pub departure_times: Vec<String>,
    /// Movements from or to the same sites in the last 30 days.
    pub same_sites: usize,
    /// The warnings of the current plan.
    pub warnings: Vec<String>,
}

/// The routes and departure times used on this movement's origin and destination in the
/// last 30 days, and the current plan's warnings (host coordinators).
#[utoipa::path(get, path = "/api/v1/movements/{id}/predictability", tag = "movements", params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = Predictability),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn predictability(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Predictability>> {
    let m = visible(&state, &principal, &meta, &id).await?;
    require(
        &state,
        &principal,
        &meta,
        "movement.predictability",
        Some(format!("movement:{}", m.id)),
        transition_action(&m, Transition::Assess),
        ApiError::Forbidden("host coordinators see route patterns"),
    )
    .await?;
    let now = state.clock.now();
    let all = state.db(|s| s.movements(None)).await?;
    let same_route = same_od_recent(&all, &m, now);
    let sites: std::collections::HashSet<SiteId> = m
        .body
        .request
        .legs
        .iter()
        .flat_map(|l| [l.from, l.to])
        .filter_map(|e| match e {
            Endpoint::Site(s) => Some(s),
            Endpoint::Point(_) => None,
        })
        .collect();
    let same_sites = all
        .iter()
        .filter(|o| o.id != m.id && o.plan.as_ref().is_some_and(|p| p.departure >= now - 30 * 86_400))
        .filter(|o| {
            o.body.request.legs.iter().any(|l| {
                [l.from, l.to]
                    .iter()
                    .any(|e| matches!(e, Endpoint::Site(s) if sites.contains(s)))
            })
        })
        .count();
    let departure_times = same_route
        .iter()
        .map(|r| {
            let t = r.departure.rem_euclid(86_400);
            format!("{:02}:{:02}", t / 3600, t % 3600 / 60)
        })
        .collect();
    let warnings = if state.decide(&principal.actor, plan_action(&m)).is_allow() {
        m.plan.as_ref().map(|p| p.warnings.clone()).unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Json(Predictability {
        movement: m.id.uuid(),
        same_route,
        departure_times,
        same_sites,
        warnings,
    }))
}

/// A departure drawn uniformly by the OS CSPRNG in `[earliest, latest]` whose time of day is
/// more than 15 minutes from every recent departure; after 64 draws, `Err(a draw)` to use
/// with a warning.
fn draw_departure(earliest: i64, latest: i64, recent: &[i64]) -> Result<i64, i64> {
    let span = (latest - earliest).max(0) as u64 + 1;
    let mut last = earliest;
    for _ in 0..64 {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            return Err(earliest);
        }
        let t = earliest + (u64::from_le_bytes(bytes) % span) as i64;
        last = t;
        let clear = recent.iter().all(|&d| {
            let diff = (t.rem_euclid(86_400) - d.rem_euclid(86_400)).abs();
            diff.min(86_400 - diff) > 15 * 60
        });
        if clear {
            return Ok(t);
        }
    }
    Err(last)
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
#[utoipa::path(get, path = "/api/v1/movements/{id}/exposure", tag = "movements", params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = Exposure),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn exposure(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Exposure>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let m = state.db(move |s| s.movement(id)).await?;
    // Host coordinators (who run the lifecycle) and auditors may see who had access.
    let coordinator = state
        .decide(&principal.actor, transition_action(&m, Transition::Assess))
        .is_allow();
    if !coordinator {
        require(
            &state,
            &principal,
            &meta,
            "movement.exposure",
            Some(format!("movement:{id}")),
            Action::ReadAuditLog,
            ApiError::NotFound,
        )
        .await?;
    }
    let now = state.clock.now();
    let resource = plan_resource(id);
    let grants = state.db(move |s| s.grants_on(&resource)).await?;
    let periods: Vec<ExposureEntry> = grants
        .into_iter()
        .map(|(user, source, from, until)| ExposureEntry {
            user: user.uuid(),
            source,
            from: rfc3339(from),
            until: rfc3339(until),
            active: from <= now && now < until,
        })
        .collect();
    let mut active: Vec<Uuid> = periods.iter().filter(|p| p.active).map(|p| p.user).collect();
    active.sort_unstable();
    active.dedup();
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "movement.exposure",
                Some(format!("movement:{id}")),
                Vec::<String>::new(),
            ),
        )
        .await?;
    Ok(Json(Exposure {
        movement: id.uuid(),
        now: active.len(),
        periods,
    }))
}

/// Releases every planned movement whose release time has come, every `interval`, and once
/// at start (catching up on releases missed while the server was down; the delay is logged
/// and recorded).
pub fn spawn_release_scheduler(state: AppState, interval: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            if let Err(e) = release_due(&state).await {
                tracing::error!(error = %e, "release scheduler failed");
            }
        }
    });
}

/// Releases the movements due at the clock's now; returns how many.
pub async fn release_due(state: &AppState) -> ApiResult<usize> {
    let now = state.clock.now();
    let due = state.db(move |s| s.due_releases(now)).await?;
    let (who, meta) = (
        Who::system("release-scheduler", "release scheduler"),
        RequestMeta::internal(),
    );
    let mut released = 0;
    for id in due {
        let mut m = state.db(move |s| s.movement(id)).await?;
        if m.state != MovementState::Planned {
            continue;
        }
        let late = now - m.release_at.unwrap_or(now);
        release(&mut m, now);
        let note = (late > 60).then(|| format!("released {late} s late (the server was not running at release time)"));
        if let Some(n) = &note {
            tracing::warn!(movement = %id, late_s = late, "{n}");
        }
        m.body.history.push(MovementEvent {
            at: now,
            user: None,
            what: "release".into(),
            note: note.clone(),
        });
        state
            .audit(
                &who,
                &meta,
                Event::info(
                    "movement.release",
                    Some(format!("movement:{id}")),
                    note.into_iter().collect::<Vec<_>>(),
                ),
            )
            .await?;
        let version = m.version;
        let updated = match state.save_movement(m, version, now).await {
            Ok(u) => u,
            // Someone changed it meanwhile (a manual release, a cancellation): next tick decides.
            Err(ApiError::Stale { .. }) => continue,
            Err(e) => return Err(e),
        };
        grant_escort(state, &updated, now).await?;
        released += 1;
    }
    Ok(released)
}

/// An escort team to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamIn {
    /// Unit name.
    pub unit: String,
    /// Radio call sign.
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

fn team_view(t: &EscortTeam) -> TeamView {
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
async fn list_teams(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<Vec<TeamView>>> {
    require(
        &state,
        &principal,
        &meta,
        "escort_team.list",
        None,
        Action::ReadEscortTeams,
        ApiError::Forbidden("escort teams are for host operations"),
    )
    .await?;
    let teams = state.db(|s| s.escort_teams()).await?;
    Ok(Json(teams.iter().map(team_view).collect()))
}

/// Creates an escort team of the caller's party.
#[utoipa::path(post, path = "/api/v1/escort-teams", tag = "movements", request_body = TeamIn,
    responses((status = 201, body = TeamView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_team(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<TeamIn>,
) -> ApiResult<(StatusCode, Json<TeamView>)> {
    let party = principal.actor.party_id;
    let rules = require(
        &state,
        &principal,
        &meta,
        "escort_team.create",
        None,
        Action::ManageEscortTeams { party },
        ApiError::Forbidden("host coordinators manage escort teams"),
    )
    .await?;
    let unit = jsms_domain::text::required("/unit", &input.unit, 200)?;
    let call_sign = jsms_domain::text::required("/call_sign", &input.call_sign, 50)?;
    if input.members.is_empty() || input.members.len() > 30 {
        return Err(ValidationError::new("/members", "1 to 30 members").into());
    }
    let mut members = Vec::new();
    for (i, u) in input.members.iter().enumerate() {
        let id = UserId::from_uuid(*u);
        let found = referenced(state.db(move |s| s.user(id)).await, format!("/members/{i}"), "user")?;
        if found.party_id != party {
            return Err(ValidationError::new(format!("/members/{i}"), "members are users of your own party").into());
        }
        if members.contains(&id) {
            return Err(ValidationError::new(format!("/members/{i}"), "listed twice").into());
        }
        members.push(id);
    }
    if input.vehicles.len() > 20 {
        return Err(ValidationError::new("/vehicles", "at most 20 vehicles").into());
    }
    let vehicles = input
        .vehicles
        .iter()
        .enumerate()
        .map(|(i, v)| jsms_domain::text::required(&format!("/vehicles/{i}"), v, 200))
        .collect::<Result<Vec<_>, _>>()?;
    let team = EscortTeam {
        id: EscortTeamId::generate(),
        party,
        unit,
        call_sign,
        members,
        vehicles,
        version: 1,
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("escort_team.create", Some(format!("escort_team:{}", team.id)), rules),
        )
        .await?;
    let now = state.clock.now();
    let t = team.clone();
    state.db(move |s| s.create_escort_team(&t, now)).await?;
    Ok((StatusCode::CREATED, Json(team_view(&team))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departures_avoid_recent_times_of_day() {
        let day = 86_400;
        // Window of 2 h; a recent departure at the window's first hour (any day).
        let start = 10 * day + 8 * 3600;
        let recent = [3 * day + 8 * 3600 + 1800];
        for _ in 0..200 {
            let d = draw_departure(start, start + 7200, &recent).unwrap();
            assert!((start..=start + 7200).contains(&d));
            let diff = (d.rem_euclid(day) - recent[0].rem_euclid(day)).abs();
            assert!(diff > 900, "{d} is within 15 min of {}", recent[0]);
        }
        // A window entirely inside the forbidden band: a draw, with the caller warned.
        assert!(draw_departure(start + 1700, start + 1900, &recent).is_err());
    }

    #[test]
    fn the_shipped_rules_parse_and_bad_ones_are_named() {
        let rules = parse_rules(jsms_domain::movement::DEFAULT_RULES_TOML).unwrap();
        assert_eq!(rules.bands.len(), 4);
        assert_eq!(default_rules(), rules);
        let err = parse_rules("level_a_approvals = 9").unwrap_err();
        assert!(err.contains("missing field"), "{err}");
        let bad = jsms_domain::movement::DEFAULT_RULES_TOML.replace("level_a_approvals = 2", "level_a_approvals = 0");
        assert!(parse_rules(&bad).unwrap_err().contains("/level_a_approvals"));
    }

    #[test]
    fn night_hours_are_seen() {
        let day = 86_400;
        assert!(!overlaps_night(day + 9 * 3600, day + 12 * 3600));
        assert!(overlaps_night(day + 17 * 3600, day + 20 * 3600));
        assert!(overlaps_night(day + 3 * 3600, day + 4 * 3600));
    }
}
