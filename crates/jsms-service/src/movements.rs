//! Movements (PRODUCT §3.2): request, assessment, approval (four-eyes above the threshold),
//! planning on the routing engine with a CSPRNG departure and an escort team that is not
//! booked elsewhere, the sealed plan released just in time ([`Services::release_due`]) with
//! need-to-know grants for the escort team, explicit disclosure, the exposure and
//! predictability reports, and the escort teams.
//!
//! Every step is one [`Transition`], applied by [`apply`] — the one place where a movement's
//! state changes — decided by the authorization component (`TransitionMovement`) and
//! recorded before it is stored. A movement leaves this module only as a
//! [`Disclosed`] record, redacted to the parts the caller may see: its status, its request,
//! its sealed plan.

use crate::error::{Error, Result, referenced};
use crate::gate::{Change, Disclosed, Event, Part, Protected, Refusal, Resource};
use crate::planning::{PlanInput, Profile, plan as plan_routes};
use crate::{Caller, Origin, Services, Who, rfc3339};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::geo::Coordinate;
use jsms_domain::ids::{EscortTeamId, MovementId, OrgId, PersonId, SiteId, UserId};
use jsms_domain::movement::{
    AssessmentInputs, Endpoint, Leg, MovementPlan, MovementRequest, MovementState, PlannedLeg, Rules, Transition,
    assess,
};
use jsms_domain::user::Role;
use jsms_store::{Approval, EscortTeam, MovementBody, MovementEvent, MovementRecord};
use serde::Serialize;
use uuid::Uuid;

/// The parts of a movement a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementPart {
    /// State, organisation, risk level.
    Status,
    /// Persons, legs, window, purpose, assessment, approvals, history.
    Request,
    /// The sealed plan: route, exact times, escort, release time.
    Plan,
}

impl Protected for MovementRecord {
    type Part = MovementPart;

    fn parts(&self) -> Vec<Part<MovementPart>> {
        let (movement, org, party) = (self.id, self.org, self.party);
        vec![
            Part {
                part: MovementPart::Status,
                resource: Resource::Movement(movement),
                action: Action::ReadMovement { movement, org, party },
                log: "movement.read",
                fields: &["state", "risk_level"],
            },
            Part {
                part: MovementPart::Request,
                resource: Resource::Movement(movement),
                action: Action::ReadMovementRequest { movement, org, party },
                log: "movement.read",
                fields: &["persons", "legs", "window", "purpose", "assessment", "history"],
            },
            Part {
                part: MovementPart::Plan,
                resource: Resource::MovementPlan(movement),
                action: Action::ReadMovementPlan { movement, org, party },
                log: "movement.plan.read",
                fields: &["route", "departure", "arrival", "escort"],
            },
        ]
    }

    fn redact(&mut self, allowed: &[MovementPart]) {
        if !allowed.contains(&MovementPart::Plan) {
            // The release time is the departure minus a lead: part of the plan.
            self.plan = None;
            self.release_at = None;
            self.ends_at = None;
            self.body.released_at = None;
        }
        if !allowed.contains(&MovementPart::Request) {
            let r = &mut self.body.request;
            r.persons.clear();
            r.legs.clear();
            r.purpose.clear();
            r.vehicles.clear();
            r.window_start = 0;
            r.window_end = 0;
            self.body.approvals.clear();
            self.body.rejection = None;
            self.body.planners.clear();
            self.body.disclosed_to.clear();
            self.body.history.clear();
        }
    }
}

/// The one part of an escort team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamPart {
    /// Unit, call sign, members, vehicles.
    Record,
}

impl Protected for EscortTeam {
    type Part = TeamPart;

    fn parts(&self) -> Vec<Part<TeamPart>> {
        vec![Part {
            part: TeamPart::Record,
            resource: Resource::EscortTeam(self.id),
            action: Action::ReadEscortTeams,
            log: "escort_team.read",
            fields: &["unit", "call_sign", "members", "vehicles"],
        }]
    }

    fn redact(&mut self, _allowed: &[TeamPart]) {}
}

/// A movement as shown to a caller: the disclosed record and the steps the caller may take.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The movement, redacted to what the caller may see.
    pub movement: Disclosed<MovementRecord>,
    /// Transitions the caller may take now.
    pub allowed: Vec<Transition>,
}

/// One end of a leg as requested.
#[derive(Debug, Clone, Copy)]
pub enum EndpointInput {
    /// A registered site.
    Site(SiteId),
    /// A point.
    Point(Coordinate),
}

/// A movement request as entered.
#[derive(Debug, Clone)]
pub struct NewMovement {
    /// The requesting organisation (default: the caller's).
    pub org: Option<OrgId>,
    /// Protected persons moved.
    pub persons: Vec<PersonId>,
    /// Legs (from, to).
    pub legs: Vec<(EndpointInput, EndpointInput)>,
    /// Why.
    pub purpose: String,
    /// Earliest departure and latest arrival.
    pub window: (i64, i64),
    /// Company vehicles.
    pub vehicles: Vec<String>,
}

/// How to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The version the caller saw.
    pub version: i64,
    /// The escort team.
    pub escort_team: EscortTeamId,
    /// Which alternative per leg (0 = recommended).
    pub alternatives: Vec<usize>,
    /// The route profile (default safest).
    pub profile: Option<Profile>,
    /// Release this long before departure (default from the rules).
    pub release_lead_s: Option<i64>,
}

/// A recent movement on the same origin and destination.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecentMovement {
    /// The movement.
    #[schema(value_type = String)]
    pub movement: Uuid,
    /// Its departure (Unix seconds).
    pub departure: i64,
    /// Its roads in order.
    pub roads: Vec<String>,
}

/// The predictability picture of a movement's origin and destination.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// One person's access period to a movement's details.
#[derive(Debug, Clone)]
pub struct ExposurePeriod {
    /// The user.
    pub user: UserId,
    /// What created the grant.
    pub source: String,
    /// From (Unix seconds).
    pub from: i64,
    /// Until (Unix seconds).
    pub until: i64,
    /// Whether it is active now.
    pub active: bool,
}

/// Who can see a movement's details now, and who could when.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// The movement.
    pub movement: MovementId,
    /// People with access now.
    pub now: usize,
    /// Every access period, oldest first.
    pub periods: Vec<ExposurePeriod>,
}

/// An escort team and whether it is free for a movement.
#[derive(Debug, Clone)]
pub struct TeamAvailability {
    /// The team.
    pub team: Disclosed<EscortTeam>,
    /// Whether it has enough vehicles for the movement's assessment.
    pub enough_vehicles: bool,
    /// Movements it is booked on in an overlapping window (with the rules' margins).
    pub busy_with: Vec<MovementId>,
}

/// An escort team to create.
#[derive(Debug, Clone)]
pub struct NewTeam {
    /// Unit name.
    pub unit: String,
    /// Radio call sign.
    pub call_sign: String,
    /// Members (users of the caller's party).
    pub members: Vec<UserId>,
    /// Vehicles.
    pub vehicles: Vec<String>,
}

/// Who takes a step: a user, or the system (scheduler, tracking) with why.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in user.
    User(UserId),
    /// The server itself.
    System(&'a str),
}

/// Applies transition `t` to `m` at `now`: the one place where a movement's state changes.
/// Checks the state machine and the domain's rules (the requester never approves, nobody
/// approves twice, reasons where required); returns what the history records. Grants and
/// storage are the caller's.
pub fn apply(
    m: &mut MovementRecord,
    t: Transition,
    by: Actor<'_>,
    now: i64,
    reason: Option<String>,
    rules: &Rules,
) -> Result<()> {
    if !t.sources().contains(&m.state) {
        return Err(invalid_transition(m, t));
    }
    if matches!(t, Transition::Reject | Transition::Abort | Transition::Cancel)
        && reason.is_none()
        && matches!(by, Actor::User(_))
    {
        return Err(ValidationError::new("/reason", format!("a reason is required to {}", t.as_str())).into());
    }
    let mut what = t.as_str().to_owned();
    match t {
        Transition::Approve => {
            let Actor::User(user) = by else {
                return Err(Error::Conflict("only a coordinator approves".into()));
            };
            if m.requester == user {
                return Err(Error::Conflict(
                    "the requester cannot approve their own movement".into(),
                ));
            }
            if m.body.approvals.iter().any(|a| a.user == user) {
                return Err(Error::Conflict("you have already approved this movement".into()));
            }
            m.body.approvals.push(Approval { user, at: now });
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
            m.state = MovementState::Released;
            m.body.released_at = Some(now);
        }
        Transition::Complete | Transition::Abort | Transition::Cancel => {
            m.state = t.target();
            m.ends_at = Some(now + rules.grant_grace_s);
        }
        _ => m.state = t.target(),
    }
    let (user, note) = match by {
        Actor::User(u) => (Some(u), reason),
        Actor::System(why) => (None, reason.or_else(|| Some(why.to_owned()))),
    };
    m.body.history.push(MovementEvent {
        at: now,
        user,
        what,
        note,
    });
    Ok(())
}

fn invalid_transition(m: &MovementRecord, t: Transition) -> Error {
    let allowed: Vec<&str> = m.state.allowed().iter().map(|t| t.as_str()).collect();
    Error::Conflict(format!(
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

fn transition_action(m: &MovementRecord, t: Transition) -> Action {
    Action::TransitionMovement {
        movement: m.id,
        org: m.org,
        party: m.party,
        transition: t.as_str(),
    }
}

fn plan_action(m: &MovementRecord) -> Action {
    Action::ReadMovementPlan {
        movement: m.id,
        org: m.org,
        party: m.party,
    }
}

/// The audit action of a transition.
pub fn transition_event(t: Transition) -> &'static str {
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

/// Parses and validates assessment rules (TOML); errors name the problem.
pub fn parse_rules(text: &str) -> std::result::Result<Rules, String> {
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
pub fn load_rules(data_dir: &std::path::Path) -> std::result::Result<Rules, String> {
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

/// The window during which a planned movement's escort team is booked: departure to
/// arrival, widened by the rules' grace on both sides.
fn booked(m: &MovementRecord, rules: &Rules) -> Option<(EscortTeamId, i64, i64)> {
    let p = m.plan.as_ref()?;
    Some((
        p.escort_team,
        p.departure - rules.grant_grace_s,
        p.arrival + rules.grant_grace_s,
    ))
}

/// Need-to-know grants on the plan for the escort team, until the movement ends (written
/// with the release).
fn escort_grants(m: &MovementRecord) -> Vec<jsms_store::NewGrant> {
    let Some(plan) = &m.plan else { return Vec::new() };
    let until = m.ends_at.unwrap_or(plan.arrival);
    plan.escort_members
        .iter()
        .map(|u| jsms_store::NewGrant {
            user: *u,
            resource: Resource::MovementPlan(m.id).to_string(),
            source: format!("movement.release:{}", m.id),
            expires_at: until,
        })
        .collect()
}

/// Movements whose escort team is booked: planned, released or under way.
const BOOKING_STATES: [MovementState; 3] = [
    MovementState::Planned,
    MovementState::Released,
    MovementState::InProgress,
];

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

/// A departure drawn uniformly by the OS CSPRNG in `[earliest, latest]` whose time of day is
/// more than 15 minutes from every recent departure; after 64 draws, `Err(a draw)` to use
/// with a warning.
fn draw_departure(earliest: i64, latest: i64, recent: &[i64]) -> std::result::Result<i64, i64> {
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

impl Services {
    /// Stores a changed movement (optimistic concurrency on `version`) and tells the parts
    /// that cache movements (the devices' assignments) that it changed.
    pub(crate) async fn save_movement(&self, m: MovementRecord, version: i64, now: i64) -> Result<MovementRecord> {
        self.save_movement_granting(m, version, Vec::new(), now).await
    }

    /// [`Services::save_movement`] with the grants the change opens, in one transaction.
    pub(crate) async fn save_movement_granting(
        &self,
        m: MovementRecord,
        version: i64,
        grants: Vec<jsms_store::NewGrant>,
        now: i64,
    ) -> Result<MovementRecord> {
        let id = m.id;
        let result = self
            .db(move |s| s.update_movement_with_grants(&m, version, &grants, now))
            .await;
        self.tracking.movement_changed(id, result.as_ref().ok());
        result
    }

    /// The transitions `caller` may take on `m` now.
    fn allowed_transitions(&self, caller: &Caller, m: &MovementRecord) -> Vec<Transition> {
        m.state
            .allowed()
            .into_iter()
            .filter(|t| self.gate.allows(&caller.actor, transition_action(m, *t)))
            .collect()
    }

    async fn show(&self, caller: &Caller, m: MovementRecord) -> Result<Shown> {
        let allowed = self.allowed_transitions(caller, &m);
        Ok(Shown {
            movement: self.gate.disclose(caller, m).await?,
            allowed,
        })
    }

    /// A movement the caller may see, or not found (the denial recorded as `log`).
    async fn visible_movement(&self, caller: &Caller, id: MovementId, log: &'static str) -> Result<MovementRecord> {
        let m = self
            .by_id(caller, log, Resource::Movement(id), move |s| s.movement(id))
            .await?;
        let read = Change::new(
            log,
            Some(Resource::Movement(id)),
            Action::ReadMovement {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
            Refusal::Hidden,
        );
        self.gate.check(caller, &read).await?;
        Ok(m)
    }

    /// The movements the caller may see, newest first, each disclosed (one entry per
    /// movement, one more for each plan the caller may see).
    pub async fn movements(&self, caller: &Caller) -> Result<Vec<Shown>> {
        let all = self.db(|s| s.movements(None)).await?;
        let visible: Vec<MovementRecord> = all
            .into_iter()
            .filter(|m| self.gate.may_see(&caller.actor, m))
            .collect();
        let allowed: Vec<Vec<Transition>> = visible.iter().map(|m| self.allowed_transitions(caller, m)).collect();
        let disclosed = self.gate.disclose_all(caller, visible).await?;
        Ok(disclosed
            .into_iter()
            .zip(allowed)
            .map(|(movement, allowed)| Shown { movement, allowed })
            .collect())
    }

    /// One movement, disclosed to the caller.
    pub async fn movement(&self, caller: &Caller, id: MovementId) -> Result<Shown> {
        let m = self
            .by_id(caller, "movement.read", Resource::Movement(id), move |s| s.movement(id))
            .await?;
        self.show(caller, m).await
    }

    async fn resolve_endpoint(&self, field: &str, e: EndpointInput) -> Result<Endpoint> {
        match e {
            EndpointInput::Site(id) => {
                referenced(self.db(move |s| s.site(id)).await, format!("{field}/site"), "site")?;
                Ok(Endpoint::Site(id))
            }
            EndpointInput::Point(c) => Ok(Endpoint::Point(c)),
        }
    }

    /// Requests a movement (a draft the requester submits).
    pub async fn create_movement(&self, caller: &Caller, input: NewMovement) -> Result<Shown> {
        let user = caller.human()?.clone();
        let org = input.org.unwrap_or(caller.actor.org_id);
        let org_record = referenced(self.db(move |s| s.org(org)).await, "/org", "organisation")?;
        let party = org_record.party_id;
        let id = MovementId::generate();
        let change = Change::new(
            "movement.create",
            Some(Resource::Movement(id)),
            Action::CreateMovement { org, party },
            Refusal::Forbidden("you do not request movements for this organisation"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let now = self.clock.now();
        let mut persons = Vec::with_capacity(input.persons.len());
        for (i, p) in input.persons.iter().enumerate() {
            let pid = *p;
            let person = referenced(
                self.db(move |s| s.person(pid)).await,
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
            persons.push(pid);
        }
        let mut legs = Vec::with_capacity(input.legs.len());
        for (i, (from, to)) in input.legs.iter().enumerate() {
            legs.push(Leg {
                from: self.resolve_endpoint(&format!("/legs/{i}/from"), *from).await?,
                to: self.resolve_endpoint(&format!("/legs/{i}/to"), *to).await?,
            });
        }
        let request = MovementRequest::new(persons, legs, &input.purpose, input.window, input.vehicles, now)?;
        let record = MovementRecord {
            id,
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
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let r = record.clone();
        self.write(caller, &change, permit, move |s| s.create_movement(&r, now))
            .await?;
        self.show(caller, record).await
    }

    /// Moves a movement along its lifecycle (every step but planning).
    pub async fn transition(
        &self,
        caller: &Caller,
        id: MovementId,
        t: Transition,
        version: i64,
        reason: Option<String>,
    ) -> Result<Shown> {
        let user = caller.human()?.clone();
        let mut m = self.visible_movement(caller, id, "movement.read").await?;
        if t == Transition::Plan {
            return Err(ValidationError::new("/transition", "plan with POST /api/v1/movements/{id}/plan").into());
        }
        let change = Change::new(
            transition_event(t),
            Some(Resource::Movement(id)),
            transition_action(&m, t),
            Refusal::Forbidden("your role does not take this step"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        if !t.sources().contains(&m.state) {
            return Err(invalid_transition(&m, t));
        }
        if version != m.version {
            return Err(Error::Stale { current: m.version });
        }
        let reason = reason
            .as_deref()
            .map(|r| jsms_domain::text::required("/reason", r, 500))
            .transpose()?;
        let now = self.clock.now();
        if t == Transition::Assess {
            let assessment = self.assess_movement(&m).await?;
            m.body.assessment = Some(assessment);
        }
        apply(&mut m, t, Actor::User(user.id), now, reason, &self.movement_rules)?;
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        drop(permit);
        let version = m.version;
        let grants = if t == Transition::Release {
            escort_grants(&m)
        } else {
            Vec::new()
        };
        let updated = self.save_movement_granting(m, version, grants, now).await?;
        self.after_step(&updated, t, now).await?;
        self.show(caller, updated).await
    }

    /// What follows a stored step: grants for the escort at release, grants ended and the
    /// route unwatched at the end.
    async fn after_step(&self, m: &MovementRecord, t: Transition, now: i64) -> Result<()> {
        match t {
            // The escort's grants were written with the release itself.
            Transition::Release => Ok(()),
            Transition::Complete | Transition::Abort | Transition::Cancel => {
                self.route_watch.unwatch(m.id.uuid());
                let end = m.ends_at.unwrap_or(now);
                let resource = Resource::MovementPlan(m.id).to_string();
                self.db(move |s| s.end_grants(&resource, end)).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A lifecycle step taken by the server itself (start at the origin, completion at
    /// arrival): the same state machine, recorded as the system's. A step the state no
    /// longer allows, or a concurrent change, is left alone.
    pub(crate) async fn system_step(&self, id: MovementId, t: Transition, why: &str) -> Result<()> {
        let mut m = self.db(move |s| s.movement(id)).await?;
        let now = self.clock.now();
        if apply(&mut m, t, Actor::System(why), now, None, &self.movement_rules).is_err() {
            return Ok(());
        }
        let who = Who::system("tracking", "tracking detectors");
        self.gate
            .record(
                &who,
                &Origin::internal(),
                Event::info(transition_event(t), Some(Resource::Movement(id)), why),
            )
            .await?;
        let version = m.version;
        match self.save_movement(m, version, now).await {
            Ok(updated) => self.after_step(&updated, t, now).await,
            Err(Error::Stale { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The coordinates of an endpoint.
    async fn locate(&self, e: Endpoint) -> Result<Coordinate> {
        match e {
            Endpoint::Point(c) => Ok(c),
            Endpoint::Site(id) => Ok(self.db(move |s| s.site(id)).await?.draft.location),
        }
    }

    /// Assesses a movement: protection levels, the balanced route of each leg (zones,
    /// exposure, unavoidable severe zones), night hours, recent incidents near the route.
    async fn assess_movement(&self, m: &MovementRecord) -> Result<jsms_domain::movement::Assessment> {
        let mut inputs = AssessmentInputs::default();
        for &p in &m.body.request.persons {
            let person = self.db(move |s| s.person(p)).await?;
            inputs.protection.push(person.person.draft.protection_level);
        }
        let w = &m.body.request;
        inputs.night = overlaps_night(w.window_start, w.window_end);
        let mut notes = Vec::new();
        if let Some(network) = self.network.clone() {
            let zones = self.db(|s| s.zones()).await?;
            let (mut risk, mut duration) = (0.0, 0.0);
            let mut driven: Vec<(f64, f64)> = Vec::new();
            for leg in &w.legs {
                let (from, to) = (self.locate(leg.from).await?, self.locate(leg.to).await?);
                let input = PlanInput {
                    from,
                    to,
                    profile: Profile::Balanced,
                    risk_weight: 1.0,
                    depart: w.window_start,
                    alternatives: 1,
                    unpredictable: false,
                };
                let (net, zs, feed) = (network.clone(), zones.clone(), self.risk_feed.clone());
                let routes = tokio::task::spawn_blocking(move || plan_routes(&net, &zs, feed.as_ref(), &input))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))?;
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
            let since = self.clock.now() - RECENT_INCIDENTS_S;
            let points = self.db(move |s| s.incident_points(since)).await?;
            inputs.recent_incidents = points
                .iter()
                .filter(|(lat, lon, _, _)| {
                    jsms_domain::tracking::distance_to_route((*lat, *lon), &driven) <= RECENT_INCIDENT_M
                })
                .count();
        } else {
            notes.push("no road network is imported: route factors not assessed".to_owned());
        }
        let mut a = assess(&inputs, &self.movement_rules);
        a.reasons.extend(notes);
        Ok(a)
    }

    /// Watches a planned movement's route for zone changes ([`crate::reeval`]).
    fn watch(&self, m: &MovementRecord) {
        if let Some(p) = &m.plan {
            self.route_watch.watch(crate::reeval::WatchedRoute {
                owner: m.id.uuid(),
                points: p.legs.iter().flat_map(|l| l.points.iter().copied()).collect(),
                from: p.departure,
                until: p.arrival,
            });
        }
    }

    /// Watches the routes of every planned, released or in-progress movement (at start).
    pub async fn watch_active(&self) -> Result<usize> {
        let all = self.db(|s| s.movements_in_states(&BOOKING_STATES)).await?;
        let mut n = 0;
        for m in all.iter().filter(|m| BOOKING_STATES.contains(&m.state)) {
            self.watch(m);
            n += 1;
        }
        Ok(n)
    }

    /// Records on each movement that a changed zone now crosses its route (the
    /// re-evaluation event), audited.
    pub(crate) async fn flag_affected(&self, events: &[crate::reeval::RouteAffected]) -> Result<()> {
        let who = Who::system("re-evaluation", "route re-evaluation");
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
                let mut m = match self.db(move |s| s.movement(id)).await {
                    Ok(m) => m,
                    Err(Error::NotFound) => break,
                    Err(err) => return Err(err),
                };
                m.body.history.push(MovementEvent {
                    at: e.detected_at,
                    user: None,
                    what: "route_affected".into(),
                    note: Some(note.clone()),
                });
                let version = m.version;
                match self.save_movement(m, version, e.detected_at).await {
                    Ok(_) => break,
                    Err(Error::Stale { .. }) => continue,
                    Err(err) => return Err(err),
                }
            }
            self.gate
                .record(
                    &who,
                    &Origin::internal(),
                    Event::info("movement.route_affected", Some(Resource::Movement(id)), note),
                )
                .await?;
        }
        Ok(())
    }

    /// The other movements `team` is booked on, overlapping `[from, until]`.
    async fn bookings(&self, team: EscortTeamId, except: MovementId, from: i64, until: i64) -> Result<Vec<MovementId>> {
        let active = self.db(|s| s.movements_in_states(&BOOKING_STATES)).await?;
        let rules = &self.movement_rules;
        Ok(active
            .iter()
            .filter(|o| o.id != except && BOOKING_STATES.contains(&o.state))
            .filter_map(|o| booked(o, rules).map(|b| (o.id, b)))
            .filter(|(_, (t, a, b))| *t == team && *a < until && from < *b)
            .map(|(id, _)| id)
            .collect())
    }

    /// The escort teams and whether each is free for a movement's window (host
    /// coordinators, before planning it).
    pub async fn team_availability(&self, caller: &Caller, id: MovementId) -> Result<Vec<TeamAvailability>> {
        let m = self
            .by_id(caller, "movement.read", Resource::Movement(id), move |s| s.movement(id))
            .await?;
        // The movement's window decides the availability shown: a disclosure of its request.
        let m = self
            .gate
            .disclose_only(caller, m, &[MovementPart::Status, MovementPart::Request])
            .await?;
        let plan_step = Change::new(
            "movement.plan",
            Some(Resource::Movement(id)),
            transition_action(&m, Transition::Plan),
            Refusal::Forbidden("only host coordinators plan movements"),
        );
        self.gate.check(caller, &plan_step).await?;
        let needed = m.body.assessment.as_ref().map_or(1, |a| a.requirements.escort_vehicles);
        let (from, until) = (
            m.body.request.window_start - self.movement_rules.grant_grace_s,
            m.body.request.window_end + self.movement_rules.grant_grace_s,
        );
        let teams = self.db(|s| s.escort_teams()).await?;
        let mut out = Vec::new();
        for t in self.gate.disclose_all(caller, teams).await? {
            let busy_with = self.bookings(t.id, m.id, from, until).await?;
            out.push(TeamAvailability {
                enough_vehicles: t.vehicles.len() >= usize::from(needed),
                busy_with,
                team: t,
            });
        }
        Ok(out)
    }

    /// Plans an approved movement: routes, a CSPRNG departure inside the window that avoids
    /// the same origin–destination's departures (± 15 min) of the last 30 days, an escort
    /// team not booked in an overlapping window. The plan is sealed; the planner gets a
    /// need-to-know grant on it.
    pub async fn plan(&self, caller: &Caller, id: MovementId, input: PlanRequest) -> Result<Shown> {
        let user = caller.human()?.clone();
        let mut m = self.visible_movement(caller, id, "movement.read").await?;
        let change = Change::new(
            "movement.plan",
            Some(Resource::Movement(id)),
            transition_action(&m, Transition::Plan),
            Refusal::Forbidden("only host coordinators plan movements"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        if !Transition::Plan.sources().contains(&m.state) {
            return Err(invalid_transition(&m, Transition::Plan));
        }
        if input.version != m.version {
            return Err(Error::Stale { current: m.version });
        }
        let cfg = self.movement_rules.as_ref().clone();
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
        let team_id = input.escort_team;
        let team = referenced(
            self.db(move |s| s.escort_team(team_id)).await,
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
        let network = self
            .network
            .clone()
            .ok_or_else(|| Error::Conflict("no road network is imported: run `jsms map import FILE.osm.pbf`".into()))?;
        let zones = self.db(|s| s.zones()).await?;
        let request = m.body.request.clone();
        let profile = input.profile.unwrap_or(Profile::Safest);
        let mut legs = Vec::new();
        for (i, leg) in request.legs.iter().enumerate() {
            let (from, to) = (self.locate(leg.from).await?, self.locate(leg.to).await?);
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
            let (net, zs, feed) = (network.clone(), zones.clone(), self.risk_feed.clone());
            let routes = tokio::task::spawn_blocking(move || plan_routes(&net, &zs, feed.as_ref(), &plan_input))
                .await
                .map_err(|e| Error::Internal(e.to_string()))?
                .map_err(|e| match e {
                    Error::Validation(v) => {
                        Error::Validation(ValidationError::new(format!("/legs/{i}{}", v.field), v.message))
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
        let now = self.clock.now();
        let others = self.db(|s| s.movements(None)).await?;
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
        let arrival = departure + driving;
        let grace = cfg.grant_grace_s;
        // The team must not be booked on another movement during this one's window (with
        // the rules' margins): the same test as the availability the planner was shown, so
        // a team shown busy is never planned, whatever departure the draw picks.
        let (window_start, window_end) = (m.body.request.window_start, m.body.request.window_end);
        let busy = self
            .bookings(team.id, m.id, window_start - grace, window_end.max(arrival) + grace)
            .await?;
        if let Some(other) = busy.first() {
            return Err(Error::Conflict(format!(
                "escort team {} is booked on movement {other} during this movement's window (± {} min); \
                 choose another team or another window",
                team.call_sign,
                grace / 60
            )));
        }
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
            disclosure_key: Some(crate::briefs::fresh_movement_key()?),
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
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        drop(permit);
        let version = m.version;
        let planner = jsms_store::NewGrant {
            user: user.id,
            resource: Resource::MovementPlan(m.id).to_string(),
            source: format!("movement.plan:{}", m.id),
            expires_at: arrival + grace,
        };
        let updated = self.save_movement_granting(m, version, vec![planner], now).await?;
        self.watch(&updated);
        // The planner's own grant is new: decide on fresh attributes.
        let mut fresh = caller.clone();
        fresh.actor.grants.push(Resource::MovementPlan(updated.id).to_string());
        self.show(&fresh, updated).await
    }

    /// Releases a planned movement's details explicitly to a company security officer of
    /// its organisation (host coordinators), until the movement ends.
    pub async fn disclose_to(&self, caller: &Caller, id: MovementId, recipient: UserId) -> Result<Shown> {
        let by = caller.human()?.clone();
        let mut m = self.visible_movement(caller, id, "movement.read").await?;
        let change = Change::new(
            "movement.disclose",
            Some(Resource::Movement(id)),
            transition_action(&m, Transition::Release),
            Refusal::Forbidden("only host coordinators release details"),
        );
        let mut reasons = self.gate.check(caller, &change).await?;
        let (Some(plan), false) = (m.plan.as_ref(), m.state.is_final()) else {
            return Err(Error::Conflict(format!(
                "a movement in state {} has no details to release",
                m.state.as_str()
            )));
        };
        let until = m.ends_at.unwrap_or(plan.arrival);
        let target = referenced(self.db(move |s| s.user(recipient)).await, "/user", "user")?;
        if target.org_id != m.org || !target.roles.contains(&Role::CompanySecurityOfficer) || target.disabled {
            return Err(ValidationError::new(
                "/user",
                "details are released explicitly only to an active security officer of the requesting company",
            )
            .into());
        }
        let now = self.clock.now();
        if !m.body.disclosed_to.contains(&recipient) {
            m.body.disclosed_to.push(recipient);
        }
        m.body.history.push(MovementEvent {
            at: now,
            user: Some(by.id),
            what: "disclose".into(),
            note: Some(format!("details released to {}", target.username.as_str())),
        });
        reasons.push(format!("recipient:user:{recipient}"));
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        drop(permit);
        let version = m.version;
        let grant = jsms_store::NewGrant {
            user: recipient,
            resource: Resource::MovementPlan(m.id).to_string(),
            source: format!("movement.disclose:{}", m.id),
            expires_at: until,
        };
        let updated = self.save_movement_granting(m, version, vec![grant], now).await?;
        self.show(caller, updated).await
    }

    /// The routes and departure times used on a movement's origin and destination in the
    /// last 30 days, and the current plan's warnings (host coordinators).
    pub async fn predictability(&self, caller: &Caller, id: MovementId) -> Result<Predictability> {
        let m = self.visible_movement(caller, id, "movement.read").await?;
        let change = Change::new(
            "movement.predictability",
            Some(Resource::Movement(id)),
            transition_action(&m, Transition::Assess),
            Refusal::Forbidden("host coordinators see route patterns"),
        );
        self.gate.permit(caller, change).await.map(drop)?;
        let now = self.clock.now();
        let all = self.db(|s| s.movements(None)).await?;
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
        let warnings = if self.gate.allows(&caller.actor, plan_action(&m)) {
            m.plan.as_ref().map(|p| p.warnings.clone()).unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Predictability {
            movement: m.id.uuid(),
            same_route,
            departure_times,
            same_sites,
            warnings,
        })
    }

    /// The exposure report of a movement: who could see its details, when (host
    /// coordinators, and auditors — it is metadata).
    pub async fn exposure(&self, caller: &Caller, id: MovementId) -> Result<Exposure> {
        let m = self
            .by_id(caller, "movement.exposure", Resource::Movement(id), move |s| {
                s.movement(id)
            })
            .await?;
        let action = if self
            .gate
            .allows(&caller.actor, transition_action(&m, Transition::Assess))
        {
            transition_action(&m, Transition::Assess)
        } else {
            Action::ReadAuditLog
        };
        let change = Change::new(
            "movement.exposure",
            Some(Resource::Movement(id)),
            action,
            Refusal::Hidden,
        );
        self.gate.permit(caller, change).await.map(drop)?;
        let now = self.clock.now();
        let resource = Resource::MovementPlan(id).to_string();
        let grants = self.db(move |s| s.grants_on(&resource)).await?;
        let periods: Vec<ExposurePeriod> = grants
            .into_iter()
            .map(|(user, source, from, until)| ExposurePeriod {
                user,
                source,
                from,
                until,
                active: from <= now && now < until,
            })
            .collect();
        let mut active: Vec<UserId> = periods.iter().filter(|p| p.active).map(|p| p.user).collect();
        active.sort_unstable_by_key(|u| u.uuid());
        active.dedup();
        Ok(Exposure {
            movement: id,
            now: active.len(),
            periods,
        })
    }

    /// Releases the movements due at the clock's now (the release scheduler; at start it
    /// catches up on releases missed while the server was down, recording the delay).
    pub async fn release_due(&self) -> Result<usize> {
        let now = self.clock.now();
        let due = self.db(move |s| s.due_releases(now)).await?;
        let who = Who::system("release-scheduler", "release scheduler");
        let mut released = 0;
        for id in due {
            let mut m = self.db(move |s| s.movement(id)).await?;
            if m.state != MovementState::Planned {
                continue;
            }
            let late = now - m.release_at.unwrap_or(now);
            let note =
                (late > 60).then(|| format!("released {late} s late (the server was not running at release time)"));
            if let Some(n) = &note {
                tracing::warn!(movement = %id, late_s = late, "{n}");
            }
            apply(
                &mut m,
                Transition::Release,
                Actor::System("release time reached"),
                now,
                note.clone(),
                &self.movement_rules,
            )?;
            let event = Event::info(
                "movement.release",
                Some(Resource::Movement(id)),
                note.unwrap_or_else(|| "release time reached".into()),
            );
            self.gate.record(&who, &Origin::internal(), event).await?;
            let version = m.version;
            let grants = escort_grants(&m);
            match self.save_movement_granting(m, version, grants, now).await {
                Ok(_) => {}
                // Someone changed it meanwhile (a manual release, a cancellation): next tick decides.
                Err(Error::Stale { .. }) => continue,
                Err(e) => return Err(e),
            }
            released += 1;
        }
        Ok(released)
    }

    /// The escort teams (host operations), each disclosed.
    pub async fn escort_teams(&self, caller: &Caller) -> Result<Vec<Disclosed<EscortTeam>>> {
        let list = Change::new(
            "escort_team.list",
            None,
            Action::ReadEscortTeams,
            Refusal::Forbidden("escort teams are for host operations"),
        );
        self.gate.check(caller, &list).await?;
        let teams = self.db(|s| s.escort_teams()).await?;
        self.gate.disclose_all(caller, teams).await
    }

    /// Creates an escort team of the caller's party.
    pub async fn create_team(&self, caller: &Caller, input: NewTeam) -> Result<Disclosed<EscortTeam>> {
        let party = caller.actor.party_id;
        let id = EscortTeamId::generate();
        let change = Change::new(
            "escort_team.create",
            Some(Resource::EscortTeam(id)),
            Action::ManageEscortTeams { party },
            Refusal::Forbidden("host coordinators manage escort teams"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let unit = jsms_domain::text::required("/unit", &input.unit, 200)?;
        let call_sign = jsms_domain::text::required("/call_sign", &input.call_sign, 50)?;
        if input.members.is_empty() || input.members.len() > 30 {
            return Err(ValidationError::new("/members", "1 to 30 members").into());
        }
        let mut members = Vec::new();
        for (i, u) in input.members.iter().enumerate() {
            let uid = *u;
            let found = referenced(self.db(move |s| s.user(uid)).await, format!("/members/{i}"), "user")?;
            if found.party_id != party {
                return Err(
                    ValidationError::new(format!("/members/{i}"), "members are users of your own party").into(),
                );
            }
            if members.contains(&uid) {
                return Err(ValidationError::new(format!("/members/{i}"), "listed twice").into());
            }
            members.push(uid);
        }
        if input.vehicles.len() > 20 {
            return Err(ValidationError::new("/vehicles", "at most 20 vehicles").into());
        }
        let vehicles = input
            .vehicles
            .iter()
            .enumerate()
            .map(|(i, v)| jsms_domain::text::required(&format!("/vehicles/{i}"), v, 200))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let team = EscortTeam {
            id,
            party,
            unit,
            call_sign,
            members,
            vehicles,
            version: 1,
        };
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        let t = team.clone();
        self.write(caller, &change, permit, move |s| s.create_escort_team(&t, now))
            .await?;
        self.gate.disclose(caller, team).await
    }
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
