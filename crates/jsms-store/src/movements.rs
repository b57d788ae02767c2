//! The store contract: Movements, their plans, escort teams, grants and disclosures.

use crate::*;
use jsms_domain::ids::{OrgId, PartyId, UserId};

/// An escort team: a unit, its members (users) and vehicles, with a call sign.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EscortTeam {
    /// Identifier.
    pub id: jsms_domain::ids::EscortTeamId,
    /// The party whose unit it is.
    pub party: PartyId,
    /// Unit name.
    pub unit: String,
    /// Radio call sign.
    pub call_sign: String,
    /// Members.
    pub members: Vec<UserId>,
    /// Vehicles (e.g. "armoured SUV KHI-4471").
    pub vehicles: Vec<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// One approval of a movement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Approval {
    /// The coordinator.
    pub user: UserId,
    /// When.
    pub at: i64,
}

/// One step of a movement's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MovementEvent {
    /// When.
    pub at: i64,
    /// Who (none for the scheduler).
    pub user: Option<UserId>,
    /// What happened (a transition name, or e.g. `approval`).
    pub what: String,
    /// Note (a rejection's reason, a release delay, …).
    pub note: Option<String>,
}

/// A stored movement. The plan is sealed at rest and opened by the store on read.
#[derive(Debug, Clone, PartialEq)]
pub struct MovementRecord {
    /// Identifier.
    pub id: jsms_domain::ids::MovementId,
    /// The requesting organisation (the persons' employer).
    pub org: OrgId,
    /// That organisation's party.
    pub party: PartyId,
    /// Who created it.
    pub requester: UserId,
    /// Where it is.
    pub state: jsms_domain::movement::MovementState,
    /// Everything but the plan, stored as JSON.
    pub body: MovementBody,
    /// The plan (sealed at rest).
    pub plan: Option<jsms_domain::movement::MovementPlan>,
    /// When the plan is released.
    pub release_at: Option<i64>,
    /// When escort grants expire.
    pub ends_at: Option<i64>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// The unsealed, non-plan part of a movement.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MovementBody {
    /// The request.
    pub request: jsms_domain::movement::MovementRequest,
    /// The assessment, once made.
    pub assessment: Option<jsms_domain::movement::Assessment>,
    /// Approvals so far.
    pub approvals: Vec<Approval>,
    /// Why it was rejected.
    pub rejection: Option<String>,
    /// The coordinators who planned it (they alone see the plan before release).
    pub planners: Vec<UserId>,
    /// Users of the requesting side a host coordinator released the details to explicitly.
    pub disclosed_to: Vec<UserId>,
    /// When it was actually released.
    pub released_at: Option<i64>,
    /// What happened, in order.
    pub history: Vec<MovementEvent>,
}

/// A need-to-know grant written with a movement change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    /// Who.
    pub user: UserId,
    /// On what (`movement:<id>:plan`).
    pub resource: String,
    /// Why (`movement.plan:<id>`, …).
    pub source: String,
    /// Until when (Unix seconds).
    pub expires_at: i64,
}

/// Movements and escort teams (part of every [`Store`]).
pub trait MovementStore {
    /// Stores a new escort team.
    fn create_escort_team(&self, team: &EscortTeam, now: i64) -> StoreResult<()>;
    /// One escort team.
    fn escort_team(&self, id: jsms_domain::ids::EscortTeamId) -> StoreResult<EscortTeam>;
    /// Every escort team.
    fn escort_teams(&self) -> StoreResult<Vec<EscortTeam>>;
    /// Stores a new movement (version 1).
    fn create_movement(&self, m: &MovementRecord, now: i64) -> StoreResult<()>;
    /// One movement, plan opened.
    fn movement(&self, id: jsms_domain::ids::MovementId) -> StoreResult<MovementRecord>;
    /// Movements, newest first (at most 500), optionally of one organisation.
    fn movements(&self, org: Option<OrgId>) -> StoreResult<Vec<MovementRecord>>;
    /// Every movement in one of `states` (no limit: active states are few).
    fn movements_in_states(&self, states: &[jsms_domain::movement::MovementState]) -> StoreResult<Vec<MovementRecord>>;
    /// Replaces a movement if still at `version`; returns it at its new version.
    fn update_movement(&self, m: &MovementRecord, version: i64, now: i64) -> StoreResult<MovementRecord> {
        self.update_movement_with_grants(m, version, &[], now)
    }
    /// Replaces a movement if still at `version` and writes `grants` in the same
    /// transaction: a step and the need-to-know it opens (the planner's, the escort's, a
    /// recipient's) happen together or not at all.
    fn update_movement_with_grants(
        &self,
        m: &MovementRecord,
        version: i64,
        grants: &[NewGrant],
        now: i64,
    ) -> StoreResult<MovementRecord>;
    /// Every grant on `resource` (active or not), oldest first: (user, source, created, expires).
    fn grants_on(&self, resource: &str) -> StoreResult<Vec<(UserId, String, i64, i64)>>;
    /// Makes every grant on `resource` that is still active expire at `at` (earlier only).
    fn end_grants(&self, resource: &str, at: i64) -> StoreResult<usize>;
    /// Records a copy of a movement's brief given to `user`: the first time with
    /// `fresh_codeword`, later copies with the codeword already assigned. Returns the
    /// codeword the copy must carry.
    fn record_disclosure(
        &self,
        movement: jsms_domain::ids::MovementId,
        user: UserId,
        fresh_codeword: &str,
        now: i64,
    ) -> StoreResult<String>;
    /// Every recipient of a movement's brief: (user, codeword, first copy, copies).
    fn disclosures(&self, movement: jsms_domain::ids::MovementId) -> StoreResult<Vec<(UserId, String, i64, i64)>>;
    /// Planned movements whose release time has come.
    fn due_releases(&self, now: i64) -> StoreResult<Vec<jsms_domain::ids::MovementId>>;
}
