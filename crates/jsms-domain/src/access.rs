//! The vocabulary of access decisions: who asks ([`Actor`]) to do what to which resource
//! ([`Action`], carrying the resource's owner attributes). The decision itself is taken by
//! the authorization component (`jsms-authz`, Cedar policies); nothing here grants access.

use crate::ids::PersonId;
use crate::ids::{ApiTokenId, MovementId, OrgId, PartyId, UserId};
use crate::user::{ApiScope, Clearance, Compartment, PartyKind, Role};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The actor's party.
    pub party_id: PartyId,
    /// Host or partner.
    pub party_kind: PartyKind,
    /// The actor's organisation.
    pub org_id: OrgId,
    /// Human or machine, with what it holds.
    pub kind: ActorKind,
    /// Clearance (machines: unclassified).
    pub clearance: Clearance,
    /// Need-to-know compartments.
    pub compartments: Vec<Compartment>,
    /// Ids of resources with an active need-to-know grant (filtered by time by the caller).
    pub grants: Vec<String>,
    /// Ids of resources with an active break-glass grant (filtered by time by the caller).
    pub break_glass: Vec<String>,
}

/// A person signed in, or a machine holding an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in user with verified MFA.
    Human {
        /// The user.
        user_id: UserId,
        /// The user's roles.
        roles: Vec<Role>,
    },
    /// An API token.
    Machine {
        /// The token.
        token_id: ApiTokenId,
        /// Its scopes.
        scopes: Vec<ApiScope>,
    },
}

impl Actor {
    /// Whether the actor is a human holding `role`.
    pub fn has_role(&self, role: Role) -> bool {
        matches!(&self.kind, ActorKind::Human { roles, .. } if roles.contains(&role))
    }

    /// Whether the actor is a machine holding `scope`.
    pub fn has_scope(&self, scope: ApiScope) -> bool {
        matches!(&self.kind, ActorKind::Machine { scopes, .. } if scopes.contains(&scope))
    }

    /// The user behind a human actor.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.kind {
            ActorKind::Human { user_id, .. } => Some(*user_id),
            ActorKind::Machine { .. } => None,
        }
    }
}

/// An action on the registry, with the owner attributes of its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// List or read organisations and parties.
    ReadOrganisations,
    /// Create, change or delete an organisation of `party`.
    ManageOrganisation {
        /// Owner party.
        party: PartyId,
    },
    /// Read, create, change, disable users of `party`.
    ManageUsers {
        /// The users' party.
        party: PartyId,
    },
    /// Issue, list and revoke API tokens of `party`.
    ManageApiTokens {
        /// The tokens' party.
        party: PartyId,
    },
    /// Read a protected person employed by `org` of `party` (not the personal data).
    ReadPerson {
        /// The person.
        person: PersonId,
        /// Employer organisation.
        org: OrgId,
        /// Employer's party.
        party: PartyId,
    },
    /// Read the personal data of such a person.
    ReadPersonalData {
        /// The person.
        person: PersonId,
        /// Employer organisation.
        org: OrgId,
        /// Employer's party.
        party: PartyId,
    },
    /// Create, change or delete a protected person employed by `org`.
    WritePerson {
        /// Employer organisation.
        org: OrgId,
    },
    /// List or read sites.
    ReadSites,
    /// Create, change or delete a site owned by `org` (the site's id, or `None` when creating).
    WriteSite {
        /// Owner organisation.
        org: OrgId,
    },
    /// Open emergency (break-glass) access to one person.
    BreakGlass {
        /// The person.
        person: PersonId,
        /// Employer organisation.
        org: OrgId,
        /// Employer's party.
        party: PartyId,
    },
    /// List or read threat zones.
    ReadZones,
    /// Create, change or delete a threat zone owned by `party`.
    WriteZone {
        /// The owning party (the creator's, for a new zone).
        party: PartyId,
    },
    /// Read audit entries, proofs and "who knew" reports (never protected contents), the
    /// break-glass review queue and the auditors' alerts.
    ReadAuditLog,
    /// Read signed checkpoints and consistency proofs (hashes only).
    ReadCheckpoints,
    /// Read the bilateral decisions.
    ReadDecisions,
    /// Read coordination meetings and the joint dashboard.
    ReadMeetings,
    /// Read one coordination meeting (agenda, attendance, minutes, actions): the organising
    /// party's staff and those of the parties attending.
    ReadMeeting {
        /// The meeting.
        meeting: uuid::Uuid,
        /// The organising party.
        party: PartyId,
        /// The parties attending.
        parties: PartySet,
    },
    /// Organise a coordination meeting for `party` (the organiser's own).
    OrganiseMeeting {
        /// The organising party.
        party: PartyId,
    },
    /// Propose a bilateral decision on behalf of `party` (the proposer's own).
    ProposeDecision {
        /// The proposing party.
        party: PartyId,
    },
    /// Write or import a threat report on behalf of `party` (the author's own).
    CreateReport {
        /// The author's party.
        party: PartyId,
    },
    /// Read a threat report, decided on its marking.
    ReadReport {
        /// The report.
        report: uuid::Uuid,
        /// The owning (author's) party.
        party: PartyId,
        /// The author's organisation.
        org: OrgId,
        /// Its TLP label.
        tlp: crate::intel::Tlp,
        /// AMBER: released to the other party too.
        shared: bool,
        /// AMBER+STRICT: the organisations it is released to.
        orgs: crate::intel::OrgSet,
    },
    /// Change a report's marking (downgrades included): the owning party only.
    ChangeReportMarking {
        /// The report.
        report: uuid::Uuid,
        /// The owning party.
        party: PartyId,
    },
    /// Report an incident on behalf of `party` (the reporter's own).
    ReportIncident {
        /// The reporting party.
        party: PartyId,
    },
    /// Read an incident (report, timeline, findings, lessons).
    ReadIncident {
        /// The incident.
        incident: uuid::Uuid,
        /// The reporting party.
        party: PartyId,
        /// Releasable to the other party.
        shared: bool,
    },
    /// Investigate an incident: timeline, status, findings, lessons.
    InvestigateIncident {
        /// The incident.
        incident: uuid::Uuid,
        /// The reporting party.
        party: PartyId,
        /// Releasable to the other party.
        shared: bool,
    },
    /// Request a movement for persons of `org`.
    CreateMovement {
        /// The requesting organisation.
        org: OrgId,
        /// Its party.
        party: PartyId,
    },
    /// See a movement's status view (state, window, persons, risk level; never the plan).
    ReadMovement {
        /// The movement.
        movement: MovementId,
        /// The requesting organisation.
        org: OrgId,
        /// Its party.
        party: PartyId,
    },
    /// See a movement's request: persons, legs, window, purpose, assessment, approvals and
    /// history (not the sealed plan).
    ReadMovementRequest {
        /// The movement.
        movement: MovementId,
        /// The requesting organisation.
        org: OrgId,
        /// Its party.
        party: PartyId,
    },
    /// See a movement's sealed plan (route, exact times, escort).
    ReadMovementPlan {
        /// The movement.
        movement: MovementId,
        /// The requesting organisation.
        org: OrgId,
        /// Its party.
        party: PartyId,
    },
    /// Move a movement along its lifecycle.
    TransitionMovement {
        /// The movement.
        movement: MovementId,
        /// The requesting organisation.
        org: OrgId,
        /// Its party.
        party: PartyId,
        /// The transition's wire name.
        transition: &'static str,
    },
    /// Read escort teams.
    ReadEscortTeams,
    /// Create or change escort teams of `party`.
    ManageEscortTeams {
        /// The teams' party.
        party: PartyId,
    },
}

/// Most parties in a deployment that one request can name.
pub const MAX_PARTIES: usize = 8;

/// A small fixed-capacity set of parties (a meeting's attendance), so that an authorization
/// request stays a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PartySet {
    parties: [Option<PartyId>; MAX_PARTIES],
}

impl PartySet {
    /// The set of these parties (duplicates kept once; more than [`MAX_PARTIES`] distinct
    /// ones are refused).
    pub fn new(parties: impl IntoIterator<Item = PartyId>) -> Result<Self, crate::ValidationError> {
        let mut set = Self::default();
        let mut n = 0;
        for p in parties {
            if set.contains(p) {
                continue;
            }
            let slot = set
                .parties
                .get_mut(n)
                .ok_or_else(|| crate::ValidationError::new("", format!("at most {MAX_PARTIES} parties")))?;
            *slot = Some(p);
            n += 1;
        }
        Ok(set)
    }

    /// The parties.
    pub fn iter(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.parties.iter().flatten().copied()
    }

    /// Whether `party` is in the set.
    pub fn contains(&self, party: PartyId) -> bool {
        self.iter().any(|p| p == party)
    }
}

/// Which protected persons a storage query may return before the authorization component
/// filters them (a pre-filter for efficiency, never a grant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonScope {
    /// Every person.
    All,
    /// Persons employed by organisations of this party.
    Party(PartyId),
    /// Persons employed by this organisation.
    Organisation(OrgId),
    /// None at all.
    Nothing,
}
