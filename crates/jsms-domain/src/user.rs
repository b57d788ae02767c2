//! Parties, organisations, users, roles, clearances and machine scopes (PRODUCT §2).

use crate::ids::{OrgId, PartyId, UserId};
use crate::{ValidationError, text};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Whether a party commands on the ground (host) or sits in (partner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// The host nation: keeps command of security arrangements on the ground.
    Host,
    /// A partner nation: sits in on coordination, no operational command.
    Partner,
}

/// A short party code: 2 to 8 upper-case ASCII letters or digits (`HN`, `PN`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartyCode(String);

impl PartyCode {
    /// Parses a code.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok = (2..=8).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                "/code",
                format!("party code {value:?} must be 2 to 8 upper-case letters or digits"),
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PartyCode {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PartyCode> for String {
    fn from(code: PartyCode) -> Self {
        code.0
    }
}

impl fmt::Display for PartyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A sovereign participant of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Identifier.
    pub id: PartyId,
    /// Short code.
    pub code: PartyCode,
    /// Display name.
    pub name: String,
    /// Host or partner.
    pub kind: PartyKind,
}

/// What kind of organisation this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A government security agency.
    Agency,
    /// An embassy or consulate office.
    EmbassyOffice,
    /// An employer company of protected persons.
    Company,
}

/// An organisation; belongs to exactly one party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Identifier.
    pub id: OrgId,
    /// Owning party.
    pub party_id: PartyId,
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Optimistic-concurrency version, starting at 1.
    pub version: i64,
}

/// The validated content of an organisation, for creation and update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationDraft {
    /// Display name (1–200 characters).
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
}

impl OrganisationDraft {
    /// Validates the fields.
    pub fn new(name: &str, kind: OrgKind) -> Result<Self, ValidationError> {
        Ok(Self {
            name: text::required("/name", name, 200)?,
            kind,
        })
    }
}

/// A role from PRODUCT §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Company security officer (employer side).
    CompanySecurityOfficer,
    /// Host movement coordinator.
    MovementCoordinator,
    /// Host escort commander.
    EscortCommander,
    /// Partner liaison officer.
    LiaisonOfficer,
    /// Intelligence analyst (either party).
    IntelligenceAnalyst,
    /// Auditor / investigator (either party).
    Auditor,
    /// Party administrator: manages its own party's users and organisations only.
    PartyAdmin,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 7] = [
        Role::CompanySecurityOfficer,
        Role::MovementCoordinator,
        Role::EscortCommander,
        Role::LiaisonOfficer,
        Role::IntelligenceAnalyst,
        Role::Auditor,
        Role::PartyAdmin,
    ];

    /// The wire name (`movement_coordinator`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::CompanySecurityOfficer => "company_security_officer",
            Role::MovementCoordinator => "movement_coordinator",
            Role::EscortCommander => "escort_commander",
            Role::LiaisonOfficer => "liaison_officer",
            Role::IntelligenceAnalyst => "intelligence_analyst",
            Role::Auditor => "auditor",
            Role::PartyAdmin => "party_admin",
        }
    }

    /// Which party kind may hold this role, if restricted (PRODUCT §2's "party" column).
    pub const fn required_party(self) -> Option<PartyKind> {
        match self {
            Role::MovementCoordinator | Role::EscortCommander => Some(PartyKind::Host),
            Role::LiaisonOfficer | Role::CompanySecurityOfficer => Some(PartyKind::Partner),
            Role::IntelligenceAnalyst | Role::Auditor | Role::PartyAdmin => None,
        }
    }
}

impl FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            ValidationError::new("/roles", format!("unknown role {s:?}; known: {}", names.join(", ")))
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Security clearance, ordered from lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clearance {
    /// No clearance.
    Unclassified,
    /// Restricted.
    Restricted,
    /// Confidential.
    Confidential,
    /// Secret.
    Secret,
}

impl Clearance {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Clearance::Unclassified => "unclassified",
            Clearance::Restricted => "restricted",
            Clearance::Confidential => "confidential",
            Clearance::Secret => "secret",
        }
    }
}

impl FromStr for Clearance {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Clearance::Unclassified,
            Clearance::Restricted,
            Clearance::Confidential,
            Clearance::Secret,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
        .ok_or_else(|| {
            ValidationError::new(
                "/clearance",
                format!("unknown clearance {s:?}; known: unclassified, restricted, confidential, secret"),
            )
        })
    }
}

/// A need-to-know compartment name: 1–32 of `a-z`, `0-9`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Compartment(String);

impl Compartment {
    /// Parses a compartment name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok = (1..=32).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                "/compartments",
                format!("compartment {value:?} must be 1 to 32 of a-z, 0-9 and '-'"),
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Compartment {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Compartment> for String {
    fn from(c: Compartment) -> Self {
        c.0
    }
}

/// A username: 3–64 of lower-case letters, digits, `.`, `_`, `-`; compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Parses a username.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok = (3..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                "/username",
                "a username is 3 to 64 of a-z, 0-9, '.', '_' and '-'",
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> Self {
        u.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user account (human). Credentials live apart, in the identity layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// Party of the user's organisation.
    pub party_id: PartyId,
    /// Organisation.
    pub org_id: OrgId,
    /// Sign-in name.
    pub username: Username,
    /// Name shown to others.
    pub display_name: String,
    /// Roles (at least one).
    pub roles: Vec<Role>,
    /// Clearance.
    pub clearance: Clearance,
    /// Need-to-know compartments.
    pub compartments: Vec<Compartment>,
    /// A disabled user cannot sign in and has no sessions.
    pub disabled: bool,
    /// Whether TOTP is enrolled and confirmed.
    pub mfa_enrolled: bool,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl User {
    /// Whether the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The validated profile of a user, for creation and update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    /// Name shown to others.
    pub display_name: String,
    /// Roles: at least one, no duplicates, sorted.
    pub roles: Vec<Role>,
    /// Clearance.
    pub clearance: Clearance,
    /// Compartments: no duplicates, sorted.
    pub compartments: Vec<Compartment>,
}

/// What `after` grants that `before` did not (for a user that does not exist yet,
/// everything): each role added, a raised clearance, each compartment added. A change that
/// grants nothing (a new display name, roles or compartments taken away, a lowered
/// clearance) is empty. Privilege needs a second administrator; taking it away does not.
pub fn privileges_gained(before: Option<&UserProfile>, after: &UserProfile) -> Vec<String> {
    let mut gained = Vec::new();
    for r in &after.roles {
        if before.is_none_or(|b| !b.roles.contains(r)) {
            gained.push(format!("role {r}"));
        }
    }
    match before {
        Some(b) if after.clearance > b.clearance => {
            gained.push(format!(
                "clearance raised from {} to {}",
                b.clearance.as_str(),
                after.clearance.as_str()
            ));
        }
        None if after.clearance > Clearance::Unclassified => {
            gained.push(format!("clearance {}", after.clearance.as_str()));
        }
        _ => {}
    }
    for c in &after.compartments {
        if before.is_none_or(|b| !b.compartments.contains(c)) {
            gained.push(format!("compartment {}", c.as_str()));
        }
    }
    gained
}

impl UserProfile {
    /// Validates a profile for a user of a party of kind `party`: every role must be allowed
    /// for that party kind, and the administrator role is not combined with operational roles
    /// (an administrator has no data access by virtue of the role, so it must not gain it by
    /// holding two).
    pub fn new(
        display_name: &str,
        roles: Vec<Role>,
        clearance: Clearance,
        compartments: Vec<Compartment>,
        party: PartyKind,
    ) -> Result<Self, ValidationError> {
        let display_name = text::required("/display_name", display_name, 120)?;
        let mut roles = roles;
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(ValidationError::new("/roles", "a user needs at least one role"));
        }
        for (i, role) in roles.iter().enumerate() {
            if let Some(required) = role.required_party()
                && required != party
            {
                return Err(ValidationError::new(
                    format!("/roles/{i}"),
                    format!(
                        "role {role} belongs to the {} party",
                        match required {
                            PartyKind::Host => "host",
                            PartyKind::Partner => "partner",
                        }
                    ),
                ));
            }
        }
        if roles.contains(&Role::PartyAdmin) && roles.len() > 1 {
            return Err(ValidationError::new(
                "/roles",
                "party_admin cannot be combined with other roles: administrators have no operational access",
            ));
        }
        let mut compartments = compartments;
        compartments.sort();
        compartments.dedup();
        if compartments.len() > 32 {
            return Err(ValidationError::new("/compartments", "at most 32 compartments"));
        }
        Ok(Self {
            display_name,
            roles,
            clearance,
            compartments,
        })
    }
}

/// What a machine token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Read the registry (sites, organisations) for integrations.
    RegistryRead,
    /// Report positions from a tracking device.
    TrackingIngest,
    /// Pull and push intelligence (TAXII).
    IntelExchange,
}

impl ApiScope {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiScope::RegistryRead => "registry_read",
            ApiScope::TrackingIngest => "tracking_ingest",
            ApiScope::IntelExchange => "intel_exchange",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_rules() {
        let ok = UserProfile::new(
            "A",
            vec![Role::MovementCoordinator],
            Clearance::Secret,
            vec![],
            PartyKind::Host,
        );
        assert!(ok.is_ok());
        let wrong_party = UserProfile::new(
            "A",
            vec![Role::MovementCoordinator],
            Clearance::Secret,
            vec![],
            PartyKind::Partner,
        );
        assert_eq!(wrong_party.map_err(|e| e.field), Err("/roles/0".to_owned()));
        let admin_plus = UserProfile::new(
            "A",
            vec![Role::PartyAdmin, Role::Auditor],
            Clearance::Secret,
            vec![],
            PartyKind::Host,
        );
        assert!(admin_plus.is_err());
        assert!(UserProfile::new("A", vec![], Clearance::Secret, vec![], PartyKind::Host).is_err());
    }

    #[test]
    fn names() {
        assert!(Username::parse("hn.coordinator").is_ok());
        assert!(Username::parse("Admin").is_err());
        assert!(Username::parse("ab").is_err());
        assert!(PartyCode::parse("HN").is_ok());
        assert!(PartyCode::parse("h").is_err());
        assert!(Compartment::parse("port-ops").is_ok());
        assert!(Compartment::parse("Port").is_err());
        assert_eq!("auditor".parse::<Role>(), Ok(Role::Auditor));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn privilege_is_what_a_change_adds() {
        let p = |roles: Vec<Role>, clearance: Clearance| {
            UserProfile::new("X", roles, clearance, vec![], PartyKind::Host).unwrap()
        };
        let coordinator = p(vec![Role::MovementCoordinator], Clearance::Confidential);
        assert_eq!(
            privileges_gained(None, &coordinator),
            ["role movement_coordinator", "clearance confidential"]
        );
        assert!(privileges_gained(Some(&coordinator), &coordinator).is_empty());
        let renamed = UserProfile {
            display_name: "Y".into(),
            ..coordinator.clone()
        };
        assert!(
            privileges_gained(Some(&coordinator), &renamed).is_empty(),
            "a name is no privilege"
        );
        let lower = p(vec![Role::MovementCoordinator], Clearance::Restricted);
        assert!(
            privileges_gained(Some(&coordinator), &lower).is_empty(),
            "less is no privilege"
        );
        let raised = p(vec![Role::MovementCoordinator], Clearance::Secret);
        assert_eq!(
            privileges_gained(Some(&coordinator), &raised),
            ["clearance raised from confidential to secret"]
        );
        let admin = p(vec![Role::PartyAdmin], Clearance::Confidential);
        assert_eq!(privileges_gained(Some(&coordinator), &admin), ["role party_admin"]);
    }
}
