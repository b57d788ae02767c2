//! Interim access rules for the registry, in one place.
//!
//! Every handler asks [`decide`] (or [`person_scope`] for lists) before touching registry
//! data; nothing else in the code base grants access. The need-to-know authorization
//! component replaces this module wholesale. Deny is the default: an action is allowed only
//! by an explicit rule below.

use crate::ids::{ApiTokenId, OrgId, PartyId, UserId};
use crate::user::{ApiScope, PartyKind, Role};

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
        /// Employer organisation.
        org: OrgId,
        /// Employer's party.
        party: PartyId,
    },
    /// Read the personal data of such a person.
    ReadPersonalData {
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
    /// Create, change or delete a site owned by `org`.
    WriteSite {
        /// Owner organisation.
        org: OrgId,
    },
    /// Read audit entries, proofs and "who knew" reports (never protected contents).
    ReadAuditLog,
    /// Read signed checkpoints and consistency proofs (hashes only).
    ReadCheckpoints,
}

/// The answer, with the rule that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed by the named rule.
    Allow(&'static str),
    /// Denied, with the reason (for logs and audit; never shown to the caller in detail).
    Deny(&'static str),
}

impl Decision {
    /// Whether this is an allow.
    pub const fn is_allow(self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

/// Which protected persons an actor may list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonScope {
    /// Every person (host coordinators).
    All,
    /// Persons employed by organisations of this party (partner liaison officers).
    Party(PartyId),
    /// Persons employed by this organisation (company security officers).
    Organisation(OrgId),
    /// None at all.
    Nothing,
}

impl PersonScope {
    /// Whether a person employed by `org` of `party` is inside the scope.
    pub fn contains(self, org: OrgId, party: PartyId) -> bool {
        match self {
            PersonScope::All => true,
            PersonScope::Party(p) => p == party,
            PersonScope::Organisation(o) => o == org,
            PersonScope::Nothing => false,
        }
    }
}

/// The persons `actor` may see.
pub fn person_scope(actor: &Actor) -> PersonScope {
    if actor.has_role(Role::MovementCoordinator) && actor.party_kind == PartyKind::Host {
        PersonScope::All
    } else if actor.has_role(Role::CompanySecurityOfficer) {
        PersonScope::Organisation(actor.org_id)
    } else if actor.has_role(Role::LiaisonOfficer) {
        PersonScope::Party(actor.party_id)
    } else {
        PersonScope::Nothing
    }
}

/// Decides whether `actor` may perform `action`.
pub fn decide(actor: &Actor, action: Action) -> Decision {
    use Decision::{Allow, Deny};
    let human_operational = [
        Role::CompanySecurityOfficer,
        Role::MovementCoordinator,
        Role::EscortCommander,
        Role::LiaisonOfficer,
        Role::IntelligenceAnalyst,
    ]
    .into_iter()
    .any(|r| actor.has_role(r));
    match action {
        Action::ReadOrganisations => {
            if matches!(actor.kind, ActorKind::Human { .. }) || actor.has_scope(ApiScope::RegistryRead) {
                Allow("any signed-in user or registry_read token may read organisations")
            } else {
                Deny("token lacks registry_read")
            }
        }
        Action::ManageOrganisation { party } | Action::ManageUsers { party } | Action::ManageApiTokens { party } => {
            if !actor.has_role(Role::PartyAdmin) {
                Deny("only party administrators manage organisations, users and tokens")
            } else if actor.party_id != party {
                Deny("administrators manage only their own party")
            } else {
                Allow("party administrator of the owning party")
            }
        }
        Action::ReadPerson { org, party } => {
            if person_scope(actor).contains(org, party) {
                Allow("person inside the actor's person scope")
            } else {
                Deny("person outside the actor's person scope")
            }
        }
        Action::ReadPersonalData { org, party } => {
            let coordinator = actor.has_role(Role::MovementCoordinator) && actor.party_kind == PartyKind::Host;
            let own_officer = actor.has_role(Role::CompanySecurityOfficer) && actor.org_id == org;
            if coordinator || own_officer {
                Allow("host coordinator or the employer's security officer")
            } else {
                let _ = party;
                Deny("personal data is for host coordinators and the employer's officers")
            }
        }
        Action::WritePerson { org } => {
            if actor.has_role(Role::CompanySecurityOfficer) && actor.org_id == org {
                Allow("security officer of the employer")
            } else if actor.has_role(Role::MovementCoordinator) && actor.party_kind == PartyKind::Host {
                Allow("host movement coordinator")
            } else {
                Deny("only the employer's security officers and host coordinators change persons")
            }
        }
        Action::ReadSites => {
            if human_operational || actor.has_scope(ApiScope::RegistryRead) {
                Allow("operational role or registry_read token")
            } else {
                Deny("sites are operational data")
            }
        }
        Action::ReadAuditLog => {
            if actor.has_role(Role::Auditor) {
                Allow("auditors of either party read the audit log")
            } else {
                Deny("only auditors read the audit log")
            }
        }
        Action::ReadCheckpoints => Allow("checkpoints and consistency proofs are hashes only"),
        Action::WriteSite { org } => {
            if actor.has_role(Role::MovementCoordinator) && actor.party_kind == PartyKind::Host {
                Allow("host movement coordinator")
            } else if actor.has_role(Role::CompanySecurityOfficer) && actor.org_id == org {
                Allow("security officer of the owning company")
            } else {
                Deny("only host coordinators and the owner's security officers change sites")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(party: PartyId, kind: PartyKind, org: OrgId, role: Role) -> Actor {
        Actor {
            party_id: party,
            party_kind: kind,
            org_id: org,
            kind: ActorKind::Human {
                user_id: UserId::generate(),
                roles: vec![role],
            },
        }
    }

    #[test]
    fn administrators_have_no_data_access() {
        let p = PartyId::generate();
        let o = OrgId::generate();
        let admin = human(p, PartyKind::Host, o, Role::PartyAdmin);
        assert!(!decide(&admin, Action::ReadPerson { org: o, party: p }).is_allow());
        assert!(!decide(&admin, Action::ReadSites).is_allow());
        assert!(!decide(&admin, Action::WritePerson { org: o }).is_allow());
        assert!(decide(&admin, Action::ManageUsers { party: p }).is_allow());
        assert!(
            !decide(
                &admin,
                Action::ManageUsers {
                    party: PartyId::generate()
                }
            )
            .is_allow()
        );
    }

    #[test]
    fn officers_see_only_their_company() {
        let p = PartyId::generate();
        let mine = OrgId::generate();
        let other = OrgId::generate();
        let cso = human(p, PartyKind::Partner, mine, Role::CompanySecurityOfficer);
        assert!(decide(&cso, Action::ReadPerson { org: mine, party: p }).is_allow());
        assert!(!decide(&cso, Action::ReadPerson { org: other, party: p }).is_allow());
        assert!(decide(&cso, Action::ReadPersonalData { org: mine, party: p }).is_allow());
        let liaison = human(p, PartyKind::Partner, OrgId::generate(), Role::LiaisonOfficer);
        assert!(decide(&liaison, Action::ReadPerson { org: other, party: p }).is_allow());
        assert!(!decide(&liaison, Action::ReadPersonalData { org: other, party: p }).is_allow());
    }
}
