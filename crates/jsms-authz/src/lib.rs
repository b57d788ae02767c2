//! JSMS need-to-know authorization: one component decides every access to protected data.
//!
//! The rules are Cedar policies in `policies/` (`jsms.cedarschema`, `jsms.cedar`), validated
//! against the schema when [`Authz`] is built; a policy that does not validate stops the
//! server with the validator's message. Deny is the default and `forbid` wins (Cedar's
//! semantics). A [`Decision`] names the policies that decided (their `@id`), for the audit
//! log. This crate does no IO beyond reading a policy directory when asked to.

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, PolicyId, PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use jsms_domain::access::{Action, Actor, ActorKind};
use jsms_domain::user::{ApiScope, Clearance, PartyKind};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

/// The schema shipped with this version.
pub const SCHEMA: &str = include_str!("../policies/jsms.cedarschema");
/// The policies shipped with this version.
pub const POLICIES: &str = include_str!("../policies/jsms.cedar");

/// Every action of the schema (policies are grouped by the actions they can apply to).
const ACTIONS: [&str; 14] = [
    "ReadZones",
    "WriteZone",
    "ReadOrganisations",
    "ReadSites",
    "ManageOrganisation",
    "ManageUsers",
    "ManageApiTokens",
    "ReadPerson",
    "ReadPersonalData",
    "WritePerson",
    "BreakGlass",
    "WriteSite",
    "ReadAuditLog",
    "ReadCheckpoints",
];

/// Why the policies could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    /// The schema does not parse.
    #[error("authorization schema: {0}")]
    Schema(String),
    /// The policies do not parse.
    #[error("authorization policies do not parse: {0}")]
    Parse(String),
    /// The policies do not validate against the schema.
    #[error("authorization policies do not validate against the schema:\n{0}")]
    Invalid(String),
    /// A policy lacks its `@id` annotation.
    #[error("every policy needs an @id(\"...\") annotation; {0} has none")]
    Unnamed(String),
    /// A policy file could not be read.
    #[error("{0}")]
    Io(String),
}

/// The decision, with the `@id`s of the policies that determined it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed by these permits.
    Allow(Vec<String>),
    /// Denied: by these forbids, or by default when empty.
    Deny(Vec<String>),
}

impl Decision {
    /// Whether access is allowed.
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// The reasons, for the audit log (`default-deny` when nothing matched).
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Decision::Allow(p) => p.clone(),
            Decision::Deny(p) if p.is_empty() => vec!["default-deny".into()],
            Decision::Deny(p) => p.clone(),
        }
    }
}

/// Facts about the request beyond principal and resource.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext {
    /// Now, Unix seconds.
    pub now: i64,
    /// The channel: `api`, `taxii`, `cli`…
    pub channel: &'static str,
}

/// The authorization component: schema, validated policies and the Cedar authorizer.
pub struct Authz {
    schema: Schema,
    policies: PolicySet,
    /// Per action, only the policies whose action scope can match it (Cedar evaluates every
    /// policy of the set it is given; this keeps each request to the relevant ones).
    by_action: HashMap<String, PolicySet>,
    names: HashMap<PolicyId, String>,
    authorizer: Authorizer,
    /// Decisions already taken, keyed by every input the policies can see. Cedar is
    /// deterministic, so a decision is a pure function of principal attributes, action,
    /// resource attributes and — when a policy reads it — the context; any change of those
    /// is a different key. Bounded: cleared when full.
    cache: std::sync::RwLock<HashMap<String, Decision>>,
    /// Whether any policy reads the context (then the context is part of the key).
    uses_context: bool,
}

/// Most decisions kept in the cache.
const CACHE_CAPACITY: usize = 65_536;

impl std::fmt::Debug for Authz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authz")
            .field("policies", &self.names.len())
            .finish_non_exhaustive()
    }
}

fn uid(kind: &str, id: &str) -> EntityUid {
    // PANIC SAFETY: the type names are constants of this module, valid Cedar names.
    let name = EntityTypeName::from_str(kind).unwrap_or_else(|_| unreachable_name());
    EntityUid::from_type_name_and_id(name, EntityId::new(id))
}

#[allow(clippy::panic)]
fn unreachable_name() -> EntityTypeName {
    // PANIC SAFETY: only reached if a constant type name in this file is not valid Cedar.
    panic!("invalid constant Cedar type name")
}

fn string(s: impl Into<String>) -> RestrictedExpression {
    RestrictedExpression::new_string(s.into())
}

fn strings<I: IntoIterator<Item = String>>(items: I) -> RestrictedExpression {
    RestrictedExpression::new_set(items.into_iter().map(RestrictedExpression::new_string))
}

fn clearance_level(c: Clearance) -> i64 {
    match c {
        Clearance::Unclassified => 0,
        Clearance::Restricted => 1,
        Clearance::Confidential => 2,
        Clearance::Secret => 3,
    }
}

impl Authz {
    /// The schema and policies shipped with this version.
    pub fn builtin() -> Result<Self, AuthzError> {
        Self::new(SCHEMA, POLICIES)
    }

    /// Loads `jsms.cedarschema` and every `*.cedar` file of `dir` (an operator's policies).
    pub fn from_dir(dir: &Path) -> Result<Self, AuthzError> {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| AuthzError::Io(format!("{}: {e}", p.display())));
        let schema = read(&dir.join("jsms.cedarschema"))?;
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| AuthzError::Io(format!("{}: {e}", dir.display())))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
            .collect();
        files.sort();
        let mut policies = String::new();
        for f in files {
            policies.push_str(&read(&f)?);
            policies.push('\n');
        }
        Self::new(&schema, &policies)
    }

    /// Parses and validates (strict mode) schema and policies.
    pub fn new(schema_src: &str, policy_src: &str) -> Result<Self, AuthzError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(schema_src).map_err(|e| AuthzError::Schema(e.to_string()))?;
        let policies = PolicySet::from_str(policy_src).map_err(|e| AuthzError::Parse(e.to_string()))?;
        let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let errors: Vec<String> = result.validation_errors().map(|e| format!("  - {e}")).collect();
            return Err(AuthzError::Invalid(errors.join("\n")));
        }
        let mut names = HashMap::new();
        for p in policies.policies() {
            let name = p
                .annotation("id")
                .ok_or_else(|| AuthzError::Unnamed(p.id().to_string()))?;
            names.insert(p.id().clone(), name.to_owned());
        }
        let mut by_action: HashMap<String, PolicySet> = HashMap::new();
        for action in ACTIONS {
            let action_uid = uid("Jsms::Action", action);
            let mut subset = PolicySet::new();
            for p in policies.policies() {
                let applies = match p.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(a) => a == action_uid,
                    ActionConstraint::In(list) => list.contains(&action_uid),
                };
                if applies {
                    subset.add(p.clone()).map_err(|e| AuthzError::Parse(e.to_string()))?;
                }
            }
            by_action.insert((*action).to_owned(), subset);
        }
        let uses_context = policy_src.contains("context");
        Ok(Self {
            schema,
            policies,
            by_action,
            names,
            authorizer: Authorizer::new(),
            cache: std::sync::RwLock::new(HashMap::new()),
            uses_context,
        })
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no policies (then everything is denied).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn principal(actor: &Actor) -> (EntityUid, Entity, bool) {
        let (kind, id, roles, scopes, mfa) = match &actor.kind {
            ActorKind::Human { user_id, roles } => (
                "human",
                format!("user:{user_id}"),
                roles.iter().map(|r| r.as_str().to_owned()).collect(),
                vec![],
                true,
            ),
            ActorKind::Machine { token_id, scopes } => (
                "machine",
                format!("token:{token_id}"),
                vec![],
                scopes.iter().map(|s: &ApiScope| s.as_str().to_owned()).collect(),
                false,
            ),
        };
        let uid = uid("Jsms::Principal", &id);
        let attrs = HashMap::from([
            ("kind".to_owned(), string(kind)),
            ("party".to_owned(), string(actor.party_id.to_string())),
            (
                "party_kind".to_owned(),
                string(match actor.party_kind {
                    PartyKind::Host => "host",
                    PartyKind::Partner => "partner",
                }),
            ),
            ("org".to_owned(), string(actor.org_id.to_string())),
            ("roles".to_owned(), strings(roles)),
            ("scopes".to_owned(), strings(scopes)),
            (
                "clearance".to_owned(),
                RestrictedExpression::new_long(clearance_level(actor.clearance)),
            ),
            (
                "compartments".to_owned(),
                strings(actor.compartments.iter().map(|c| c.as_str().to_owned())),
            ),
            ("mfa".to_owned(), RestrictedExpression::new_bool(mfa)),
            ("grants".to_owned(), strings(actor.grants.iter().cloned())),
            ("break_glass".to_owned(), strings(actor.break_glass.iter().cloned())),
        ]);
        match Entity::new(uid.clone(), attrs, HashSet::new()) {
            Ok(e) => (uid, e, true),
            Err(_) => (uid.clone(), Entity::new_no_attrs(uid, HashSet::new()), false),
        }
    }

    fn resource(action: &Action) -> (&'static str, EntityUid, Option<Entity>) {
        let with = |kind: &str, id: &str, attrs: Vec<(&str, RestrictedExpression)>| {
            let u = uid(kind, id);
            let map = attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            (u.clone(), Entity::new(u, map, HashSet::new()).ok())
        };
        let (name, (u, e)) = match action {
            Action::ReadOrganisations => (
                "ReadOrganisations",
                (
                    uid("Jsms::Registry", "registry"),
                    Some(Entity::new_no_attrs(uid("Jsms::Registry", "registry"), HashSet::new())),
                ),
            ),
            Action::ReadSites => (
                "ReadSites",
                (
                    uid("Jsms::Registry", "registry"),
                    Some(Entity::new_no_attrs(uid("Jsms::Registry", "registry"), HashSet::new())),
                ),
            ),
            Action::ManageOrganisation { party } => (
                "ManageOrganisation",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::ManageUsers { party } => (
                "ManageUsers",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::ManageApiTokens { party } => (
                "ManageApiTokens",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::ReadPerson { person, org, party }
            | Action::ReadPersonalData { person, org, party }
            | Action::BreakGlass { person, org, party } => {
                let name = match action {
                    Action::ReadPerson { .. } => "ReadPerson",
                    Action::ReadPersonalData { .. } => "ReadPersonalData",
                    _ => "BreakGlass",
                };
                let attrs = vec![
                    ("id", string(format!("person:{person}"))),
                    ("employer_org", string(org.to_string())),
                    ("employer_party", string(party.to_string())),
                ];
                (name, with("Jsms::Person", &person.to_string(), attrs))
            }
            Action::WritePerson { org } => (
                "WritePerson",
                with(
                    "Jsms::Person",
                    "new",
                    vec![("id", string("person:new")), ("employer_org", string(org.to_string()))],
                ),
            ),
            Action::WriteSite { org } => (
                "WriteSite",
                with(
                    "Jsms::Site",
                    "site",
                    vec![("id", string("site")), ("owner_org", string(org.to_string()))],
                ),
            ),
            Action::ReadZones => (
                "ReadZones",
                (
                    uid("Jsms::Registry", "registry"),
                    Some(Entity::new_no_attrs(uid("Jsms::Registry", "registry"), HashSet::new())),
                ),
            ),
            Action::WriteZone { party } => (
                "WriteZone",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::CreateMovement { org, party } => (
                "CreateMovement",
                with(
                    "Jsms::Movement",
                    "new",
                    vec![
                        ("id", string("movement:new")),
                        ("plan", string("movement:new:plan")),
                        ("org", string(org.to_string())),
                        ("party", string(party.to_string())),
                        ("transition", string("")),
                    ],
                ),
            ),
            Action::ReadMovement { movement, org, party }
            | Action::ReadMovementRequest { movement, org, party }
            | Action::ReadMovementPlan { movement, org, party }
            | Action::TransitionMovement {
                movement, org, party, ..
            } => {
                let (name, transition) = match action {
                    Action::ReadMovement { .. } => ("ReadMovement", ""),
                    Action::ReadMovementRequest { .. } => ("ReadMovementRequest", ""),
                    Action::ReadMovementPlan { .. } => ("ReadMovementPlan", ""),
                    Action::TransitionMovement { transition, .. } => ("TransitionMovement", *transition),
                    _ => ("ReadMovement", ""),
                };
                let attrs = vec![
                    ("id", string(format!("movement:{movement}"))),
                    ("plan", string(format!("movement:{movement}:plan"))),
                    ("org", string(org.to_string())),
                    ("party", string(party.to_string())),
                    ("transition", string(transition)),
                ];
                (name, with("Jsms::Movement", &movement.to_string(), attrs))
            }
            Action::ReadMeetings => (
                "ReadMeetings",
                (
                    uid("Jsms::Registry", "registry"),
                    Some(Entity::new_no_attrs(uid("Jsms::Registry", "registry"), HashSet::new())),
                ),
            ),
            Action::ReadMeeting {
                meeting,
                party,
                parties,
            } => {
                let attrs = vec![
                    ("id", string(format!("meeting:{meeting}"))),
                    ("party", string(party.to_string())),
                    ("parties", strings(parties.iter().map(|p| p.to_string()))),
                ];
                ("ReadMeeting", with("Jsms::Meeting", &meeting.to_string(), attrs))
            }
            Action::OrganiseMeeting { party } => (
                "OrganiseMeeting",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::ReadDecisions => (
                "ReadDecisions",
                (
                    uid("Jsms::Registry", "registry"),
                    Some(Entity::new_no_attrs(uid("Jsms::Registry", "registry"), HashSet::new())),
                ),
            ),
            Action::ProposeDecision { party } => (
                "ProposeDecision",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::CreateReport { party } | Action::ChangeReportMarking { party, .. } => (
                if matches!(action, Action::CreateReport { .. }) {
                    "CreateReport"
                } else {
                    "ChangeReportMarking"
                },
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::ReadReport {
                report,
                party,
                org,
                tlp,
                shared,
                orgs,
            } => {
                let attrs = vec![
                    ("id", string(format!("report:{report}"))),
                    ("party", string(party.to_string())),
                    ("org", string(org.to_string())),
                    ("tlp", string(tlp.as_str())),
                    ("shared", RestrictedExpression::new_bool(*shared)),
                    ("orgs", strings(orgs.iter().map(|o| o.to_string()))),
                ];
                ("ReadReport", with("Jsms::Report", &report.to_string(), attrs))
            }
            Action::ReportIncident { party } => (
                "ReportIncident",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::ReadIncident {
                incident,
                party,
                shared,
            }
            | Action::InvestigateIncident {
                incident,
                party,
                shared,
            } => {
                let name = if matches!(action, Action::ReadIncident { .. }) {
                    "ReadIncident"
                } else {
                    "InvestigateIncident"
                };
                let attrs = vec![
                    ("id", string(format!("incident:{incident}"))),
                    ("party", string(party.to_string())),
                    ("shared", RestrictedExpression::new_bool(*shared)),
                ];
                (name, with("Jsms::Incident", &incident.to_string(), attrs))
            }
            Action::ReadEscortTeams => (
                "ReadEscortTeams",
                (
                    uid("Jsms::Registry", "registry"),
                    Some(Entity::new_no_attrs(uid("Jsms::Registry", "registry"), HashSet::new())),
                ),
            ),
            Action::ManageEscortTeams { party } => (
                "ManageEscortTeams",
                with(
                    "Jsms::Account",
                    &party.to_string(),
                    vec![("party", string(party.to_string()))],
                ),
            ),
            Action::ReadAuditLog => (
                "ReadAuditLog",
                (
                    uid("Jsms::AuditLog", "log"),
                    Some(Entity::new_no_attrs(uid("Jsms::AuditLog", "log"), HashSet::new())),
                ),
            ),
            Action::ReadCheckpoints => (
                "ReadCheckpoints",
                (
                    uid("Jsms::AuditLog", "log"),
                    Some(Entity::new_no_attrs(uid("Jsms::AuditLog", "log"), HashSet::new())),
                ),
            ),
        };
        (name, u, e)
    }

    /// Decides whether `actor` may perform `action`. Any failure to build or evaluate the
    /// request is a denial (fail closed), named `authorization-error`. Repeated identical
    /// questions are answered from a bounded cache (see [`Authz::decide_uncached`]).
    pub fn decide(&self, actor: &Actor, action: Action, ctx: RequestContext) -> Decision {
        let context = if self.uses_context {
            format!("{}|{}", ctx.now, ctx.channel)
        } else {
            String::new()
        };
        let key = format!(
            "{:?}|{}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{context}",
            actor.kind,
            actor.party_id,
            actor.party_kind,
            actor.org_id,
            actor.clearance,
            actor.compartments,
            actor.grants,
            actor.break_glass,
            action
        );
        if let Some(d) = self.cache.read().ok().and_then(|c| c.get(&key).cloned()) {
            return d;
        }
        let decision = self.decide_uncached(actor, action, ctx);
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(key, decision.clone());
        }
        decision
    }

    /// Decides without the cache: builds the Cedar request and evaluates the policies.
    pub fn decide_uncached(&self, actor: &Actor, action: Action, ctx: RequestContext) -> Decision {
        let error = || Decision::Deny(vec!["authorization-error".into()]);
        let (principal_uid, principal, ok) = Self::principal(actor);
        let (action_name, resource_uid, resource) = Self::resource(&action);
        let Some(resource) = resource else { return error() };
        if !ok {
            return error();
        }
        let action_uid = uid("Jsms::Action", action_name);
        let Ok(context) = Context::from_pairs([
            ("now".to_owned(), RestrictedExpression::new_long(ctx.now)),
            ("channel".to_owned(), string(ctx.channel)),
        ]) else {
            return error();
        };
        // The entities and the request are built here from typed values that conform to the
        // schema by construction (the tests check them against it), so they are not checked
        // again on every request: that would double the cost of a decision.
        let schema = if cfg!(debug_assertions) {
            Some(&self.schema)
        } else {
            None
        };
        let Ok(request) = Request::new(principal_uid, action_uid, resource_uid, context, schema) else {
            return error();
        };
        let Ok(entities) = Entities::from_entities([principal, resource], schema) else {
            return error();
        };
        let policies = self.by_action.get(action_name).unwrap_or(&self.policies);
        let response = self.authorizer.is_authorized(&request, policies, &entities);
        if response.diagnostics().errors().next().is_some() {
            return error();
        }
        let reasons: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| self.names.get(id).cloned().unwrap_or_else(|| id.to_string()))
            .collect();
        match response.decision() {
            CedarDecision::Allow => Decision::Allow(reasons),
            CedarDecision::Deny => Decision::Deny(reasons),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsms_domain::ids::{ApiTokenId, OrgId, PartyId, PersonId, UserId};
    use jsms_domain::user::Role;

    fn ctx() -> RequestContext {
        RequestContext {
            now: 1_800_000_000,
            channel: "api",
        }
    }

    fn human(party: PartyId, kind: PartyKind, org: OrgId, roles: &[Role]) -> Actor {
        Actor {
            party_id: party,
            party_kind: kind,
            org_id: org,
            kind: ActorKind::Human {
                user_id: UserId::generate(),
                roles: roles.to_vec(),
            },
            clearance: Clearance::Secret,
            compartments: vec![],
            grants: vec![],
            break_glass: vec![],
        }
    }

    #[test]
    fn cached_decisions_equal_fresh_ones_and_follow_attribute_changes() {
        let authz = Authz::builtin().unwrap();
        let (host, partner) = (PartyId::generate(), PartyId::generate());
        let org = OrgId::generate();
        let person = PersonId::generate();
        let action = Action::ReadPersonalData {
            person,
            org,
            party: partner,
        };
        let mut escort = human(host, PartyKind::Host, org, &[Role::EscortCommander]);
        for _ in 0..3 {
            assert_eq!(
                authz.decide(&escort, action, ctx()),
                authz.decide_uncached(&escort, action, ctx())
            );
        }
        assert!(!authz.decide(&escort, action, ctx()).is_allow());
        escort.grants = vec![format!("person:{person}")];
        assert!(
            authz.decide(&escort, action, ctx()).is_allow(),
            "a new grant is a new key"
        );
        escort.grants.clear();
        assert!(!authz.decide(&escort, action, ctx()).is_allow(), "and its expiry too");
    }

    #[test]
    fn the_shipped_policies_validate_and_are_named() {
        let authz = Authz::builtin().unwrap();
        assert!(authz.len() >= 15);
    }

    #[test]
    fn invalid_or_unnamed_policies_are_refused_with_a_clear_message() {
        let bad_attr = "@id(\"x\") permit(principal, action == Jsms::Action::\"ReadSites\", resource) when { principal.salary > 3 };";
        let err = Authz::new(SCHEMA, bad_attr).unwrap_err().to_string();
        assert!(err.contains("do not validate") && err.contains("salary"), "{err}");
        let unnamed = "permit(principal, action == Jsms::Action::\"ReadSites\", resource);";
        assert!(matches!(Authz::new(SCHEMA, unnamed), Err(AuthzError::Unnamed(_))));
        assert!(matches!(
            Authz::new(SCHEMA, "permit(principal"),
            Err(AuthzError::Parse(_))
        ));
    }

    #[test]
    fn decisions_name_their_policies_and_forbid_wins() {
        let authz = Authz::builtin().unwrap();
        let (host, partner) = (PartyId::generate(), PartyId::generate());
        let (agency, company, other_company) = (OrgId::generate(), OrgId::generate(), OrgId::generate());
        let person = PersonId::generate();
        let read = |org, party| Action::ReadPersonalData { person, org, party };
        let coordinator = human(host, PartyKind::Host, agency, &[Role::MovementCoordinator]);
        let d = authz.decide(&coordinator, read(company, partner), ctx());
        assert_eq!(d, Decision::Allow(vec!["host-coordinators-handle-every-person".into()]));
        // An auditor who is also a coordinator still reads no protected contents.
        let both = human(
            host,
            PartyKind::Host,
            agency,
            &[Role::MovementCoordinator, Role::Auditor],
        );
        let d = authz.decide(&both, read(company, partner), ctx());
        assert_eq!(d, Decision::Deny(vec!["auditors-never-read-protected-contents".into()]));
        let officer = human(partner, PartyKind::Partner, company, &[Role::CompanySecurityOfficer]);
        assert!(authz.decide(&officer, read(company, partner), ctx()).is_allow());
        assert!(!authz.decide(&officer, read(other_company, partner), ctx()).is_allow());
        assert_eq!(
            authz.decide(&officer, read(other_company, partner), ctx()).reasons(),
            ["default-deny"]
        );
        let liaison = human(partner, PartyKind::Partner, OrgId::generate(), &[Role::LiaisonOfficer]);
        assert!(
            authz
                .decide(
                    &liaison,
                    Action::ReadPerson {
                        person,
                        org: company,
                        party: partner
                    },
                    ctx()
                )
                .is_allow()
        );
        assert!(!authz.decide(&liaison, read(company, partner), ctx()).is_allow());
        // A grant opens exactly one person.
        let mut escort = human(host, PartyKind::Host, agency, &[Role::EscortCommander]);
        assert!(!authz.decide(&escort, read(company, partner), ctx()).is_allow());
        escort.break_glass = vec![format!("person:{person}")];
        assert_eq!(
            authz.decide(&escort, read(company, partner), ctx()).reasons(),
            ["break-glass"]
        );
        let other = Action::ReadPersonalData {
            person: PersonId::generate(),
            org: company,
            party: partner,
        };
        assert!(!authz.decide(&escort, other, ctx()).is_allow());
        // Administrators: their own party's accounts only, nothing operational.
        let admin = human(host, PartyKind::Host, agency, &[Role::PartyAdmin]);
        assert!(
            authz
                .decide(&admin, Action::ManageUsers { party: host }, ctx())
                .is_allow()
        );
        assert!(
            !authz
                .decide(&admin, Action::ManageUsers { party: partner }, ctx())
                .is_allow()
        );
        assert!(!authz.decide(&admin, Action::ReadSites, ctx()).is_allow());
        // Machines: only within scope.
        let token = Actor {
            kind: ActorKind::Machine {
                token_id: ApiTokenId::generate(),
                scopes: vec![ApiScope::RegistryRead],
            },
            ..human(host, PartyKind::Host, agency, &[])
        };
        assert!(authz.decide(&token, Action::ReadSites, ctx()).is_allow());
        assert!(
            !authz
                .decide(&token, Action::WriteSite { org: agency }, ctx())
                .is_allow()
        );
        assert!(!authz.decide(&token, read(company, partner), ctx()).is_allow());
    }
}
