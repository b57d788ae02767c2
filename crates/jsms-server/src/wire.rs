//! Wire types: the JSON the API accepts and returns. Only this layer knows JSON; each request
//! type converts to a domain type with `TryFrom`/`into_draft`, each response type is built
//! from a domain type. Request types reject unknown fields.

use jsms_domain::ValidationError;
use jsms_domain::geo::{Coordinate, Polygon};
use jsms_domain::ids::{OrgId, PartyId, SiteId};
use jsms_domain::registry::{PersonStatus, ProtectionLevel, SecurityPosture, SiteKind};
use jsms_domain::user::{ApiScope, Clearance, OrgKind, PartyKind, Role};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A page of items with the cursor of the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOf<T: ToSchema> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Query parameters of list endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Case-insensitive substring of the name (at most 100 characters).
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

// ------------------------------------------------------------------ auth

/// Sign-in with password and, once enrolled, a one-time code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Current TOTP code (6 digits); required once TOTP is enrolled.
    #[serde(default)]
    pub totp_code: Option<String>,
}

/// Whether the session has passed the second factor.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MfaState {
    /// Full session.
    Verified,
    /// The user must enrol TOTP before anything else.
    EnrollmentRequired,
}

/// The current session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// The signed-in user.
    pub user: UserView,
    /// Send as `X-CSRF-Token` with every state-changing request.
    pub csrf_token: String,
    /// Second-factor state.
    pub mfa: MfaState,
    /// Absolute expiry (RFC 3339).
    pub expires_at: String,
    /// Inactivity after which the session ends, in seconds.
    pub idle_timeout_seconds: u64,
}

/// A new TOTP secret to put into an authenticator app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrollment {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI (QR code content).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document (for the web application's enrolment page).
    pub qr_svg: String,
}

/// Confirms TOTP enrolment with a first code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirmation {
    /// Current code from the app.
    pub code: String,
}

/// Changes the signed-in user's password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// Current password.
    pub current_password: String,
    /// New password (12 to 256 characters).
    pub new_password: String,
}

// ------------------------------------------------------------------ parties, organisations

/// A party.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyView {
    /// Id.
    pub id: Uuid,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Host or partner.
    #[schema(value_type = String, example = "host")]
    pub kind: PartyKind,
}

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    /// Id.
    pub id: Uuid,
    /// Owning party.
    pub party_id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    #[schema(inline)]
    pub kind: OrgKindWire,
    /// Version (send back with changes).
    pub version: i64,
}

/// Organisation kind.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKindWire {
    /// Government security agency.
    Agency,
    /// Embassy or consulate office.
    EmbassyOffice,
    /// Employer company.
    Company,
}

impl From<OrgKindWire> for OrgKind {
    fn from(k: OrgKindWire) -> Self {
        match k {
            OrgKindWire::Agency => OrgKind::Agency,
            OrgKindWire::EmbassyOffice => OrgKind::EmbassyOffice,
            OrgKindWire::Company => OrgKind::Company,
        }
    }
}

impl From<OrgKind> for OrgKindWire {
    fn from(k: OrgKind) -> Self {
        match k {
            OrgKind::Agency => OrgKindWire::Agency,
            OrgKind::EmbassyOffice => OrgKindWire::EmbassyOffice,
            OrgKind::Company => OrgKindWire::Company,
        }
    }
}

/// Creates an organisation in the administrator's party.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Name (1–200 characters).
    pub name: String,
    /// Kind.
    pub kind: OrgKindWire,
}

/// Changes an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    /// The version read (or send `If-Match`).
    pub version: Option<i64>,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<OrgKindWire>,
}

// ------------------------------------------------------------------ users

/// Role names (PRODUCT §2).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleWire {
    /// Company security officer (partner side).
    CompanySecurityOfficer,
    /// Movement coordinator (host).
    MovementCoordinator,
    /// Escort commander (host).
    EscortCommander,
    /// Liaison officer (partner).
    LiaisonOfficer,
    /// Intelligence analyst.
    IntelligenceAnalyst,
    /// Auditor / investigator.
    Auditor,
    /// Party administrator.
    PartyAdmin,
}

impl From<RoleWire> for Role {
    fn from(r: RoleWire) -> Self {
        match r {
            RoleWire::CompanySecurityOfficer => Role::CompanySecurityOfficer,
            RoleWire::MovementCoordinator => Role::MovementCoordinator,
            RoleWire::EscortCommander => Role::EscortCommander,
            RoleWire::LiaisonOfficer => Role::LiaisonOfficer,
            RoleWire::IntelligenceAnalyst => Role::IntelligenceAnalyst,
            RoleWire::Auditor => Role::Auditor,
            RoleWire::PartyAdmin => Role::PartyAdmin,
        }
    }
}

impl From<Role> for RoleWire {
    fn from(r: Role) -> Self {
        match r {
            Role::CompanySecurityOfficer => RoleWire::CompanySecurityOfficer,
            Role::MovementCoordinator => RoleWire::MovementCoordinator,
            Role::EscortCommander => RoleWire::EscortCommander,
            Role::LiaisonOfficer => RoleWire::LiaisonOfficer,
            Role::IntelligenceAnalyst => RoleWire::IntelligenceAnalyst,
            Role::Auditor => RoleWire::Auditor,
            Role::PartyAdmin => RoleWire::PartyAdmin,
        }
    }
}

/// Clearance levels, lowest first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClearanceWire {
    /// No clearance.
    Unclassified,
    /// Restricted.
    Restricted,
    /// Confidential.
    Confidential,
    /// Secret.
    Secret,
}

impl From<ClearanceWire> for Clearance {
    fn from(c: ClearanceWire) -> Self {
        match c {
            ClearanceWire::Unclassified => Clearance::Unclassified,
            ClearanceWire::Restricted => Clearance::Restricted,
            ClearanceWire::Confidential => Clearance::Confidential,
            ClearanceWire::Secret => Clearance::Secret,
        }
    }
}

impl From<Clearance> for ClearanceWire {
    fn from(c: Clearance) -> Self {
        match c {
            Clearance::Unclassified => ClearanceWire::Unclassified,
            Clearance::Restricted => ClearanceWire::Restricted,
            Clearance::Confidential => ClearanceWire::Confidential,
            Clearance::Secret => ClearanceWire::Secret,
        }
    }
}

/// A user as administrators and the user see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Party.
    pub party_id: Uuid,
    /// Organisation.
    pub org_id: Uuid,
    /// Roles.
    pub roles: Vec<RoleWire>,
    /// Clearance.
    pub clearance: ClearanceWire,
    /// Compartments.
    pub compartments: Vec<String>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// Whether TOTP is enrolled.
    pub mfa_enrolled: bool,
    /// Version (send back with changes).
    pub version: i64,
}

impl From<&jsms_domain::user::User> for UserView {
    fn from(u: &jsms_domain::user::User) -> Self {
        Self {
            id: u.id.uuid(),
            username: u.username.to_string(),
            display_name: u.display_name.clone(),
            party_id: u.party_id.uuid(),
            org_id: u.org_id.uuid(),
            roles: u.roles.iter().copied().map(RoleWire::from).collect(),
            clearance: u.clearance.into(),
            compartments: u.compartments.iter().map(|c| c.as_str().to_owned()).collect(),
            disabled: u.disabled,
            mfa_enrolled: u.mfa_enrolled,
            version: u.version,
        }
    }
}

/// Creates a user in the administrator's party.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Username: 3–64 of a-z, 0-9, '.', '_', '-'.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Organisation (of the administrator's party).
    pub org_id: Uuid,
    /// Roles.
    pub roles: Vec<RoleWire>,
    /// Clearance.
    pub clearance: ClearanceWire,
    /// Compartments.
    #[serde(default)]
    pub compartments: Vec<String>,
    /// Initial password (12–256 characters); the user enrols TOTP at first sign-in.
    pub password: String,
}

/// Changes a user's profile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// The version read (or send `If-Match`).
    pub version: Option<i64>,
    /// Display name.
    pub display_name: Option<String>,
    /// Roles.
    pub roles: Option<Vec<RoleWire>>,
    /// Clearance.
    pub clearance: Option<ClearanceWire>,
    /// Compartments.
    pub compartments: Option<Vec<String>>,
}

// ------------------------------------------------------------------ API tokens

/// Scopes of machine tokens.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeWire {
    /// Read sites and organisations.
    RegistryRead,
    /// Report positions from a tracking device.
    TrackingIngest,
    /// Pull and push intelligence.
    IntelExchange,
}

impl From<ScopeWire> for ApiScope {
    fn from(s: ScopeWire) -> Self {
        match s {
            ScopeWire::RegistryRead => ApiScope::RegistryRead,
            ScopeWire::TrackingIngest => ApiScope::TrackingIngest,
            ScopeWire::IntelExchange => ApiScope::IntelExchange,
        }
    }
}

impl From<ApiScope> for ScopeWire {
    fn from(s: ApiScope) -> Self {
        match s {
            ApiScope::RegistryRead => ScopeWire::RegistryRead,
            ApiScope::TrackingIngest => ScopeWire::TrackingIngest,
            ApiScope::IntelExchange => ScopeWire::IntelExchange,
        }
    }
}

/// Issues an API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// Label (1–100 characters).
    pub name: String,
    /// Organisation the token acts for (of the administrator's party).
    pub org_id: Uuid,
    /// Scopes (at least one).
    pub scopes: Vec<ScopeWire>,
    /// Lifetime in days, 1 to 365.
    pub expires_in_days: u32,
}

/// An API token (never its secret, except once at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenView {
    /// Id.
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// Organisation.
    pub org_id: Uuid,
    /// Scopes.
    pub scopes: Vec<ScopeWire>,
    /// Issue time (RFC 3339).
    pub created_at: String,
    /// Expiry (RFC 3339).
    pub expires_at: String,
    /// Revocation time, if revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Last use, if used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

/// A newly issued token: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedApiToken {
    /// The token.
    pub token: ApiTokenView,
    /// Present as `Authorization: Bearer <secret>`. Not retrievable later.
    pub secret: String,
}

// ------------------------------------------------------------------ geometry

/// A GeoJSON Point (RFC 7946): `coordinates` is `[longitude, latitude]`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    /// Always `Point`.
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: PointTag,
    /// `[longitude, latitude]`.
    #[schema(min_items = 2, max_items = 2)]
    pub coordinates: [f64; 2],
}

/// The GeoJSON type tag of a point.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum PointTag {
    /// Point.
    Point,
}

/// A GeoJSON Polygon (RFC 7946) with one closed exterior ring and no holes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPolygon {
    /// Always `Polygon`.
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: PolygonTag,
    /// One ring of `[longitude, latitude]` positions, first equal to last.
    #[schema(value_type = Vec<Vec<Vec<f64>>>, min_items = 1, max_items = 1)]
    pub coordinates: Vec<Vec<[f64; 2]>>,
}

/// The GeoJSON type tag of a polygon.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum PolygonTag {
    /// Polygon.
    Polygon,
}

impl GeoPoint {
    /// From a coordinate.
    pub fn from_coordinate(c: Coordinate) -> Self {
        Self {
            kind: PointTag::Point,
            coordinates: [c.lon(), c.lat()],
        }
    }

    /// Parses into a coordinate; errors point into `coordinates` under `field`.
    pub fn to_coordinate(&self, field: &str) -> Result<Coordinate, ValidationError> {
        let [lon, lat] = self.coordinates;
        Coordinate::new(lat, lon).map_err(|e| {
            let axis = if e.field == "/lat" { 1 } else { 0 };
            ValidationError::new(format!("{field}/coordinates/{axis}"), e.message)
        })
    }
}

impl GeoPolygon {
    /// From a polygon.
    pub fn from_polygon(p: &Polygon) -> Self {
        Self {
            kind: PolygonTag::Polygon,
            coordinates: vec![p.positions()],
        }
    }

    /// Parses into a polygon; errors point into `coordinates` under `field`.
    pub fn to_polygon(&self, field: &str) -> Result<Polygon, ValidationError> {
        match self.coordinates.as_slice() {
            [ring] => Polygon::from_positions(ring).map_err(|e| e.under(&format!("{field}/coordinates/0"))),
            [] => Err(ValidationError::new(
                format!("{field}/coordinates"),
                "a polygon needs one ring",
            )),
            _ => Err(ValidationError::new(
                format!("{field}/coordinates/1"),
                "site perimeters are simple polygons: holes are not supported",
            )),
        }
    }
}

// ------------------------------------------------------------------ persons

/// Protection level: A is the highest.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum LevelWire {
    /// Highest.
    A,
    /// Elevated.
    B,
    /// Standard.
    C,
}

impl From<LevelWire> for ProtectionLevel {
    fn from(l: LevelWire) -> Self {
        match l {
            LevelWire::A => ProtectionLevel::A,
            LevelWire::B => ProtectionLevel::B,
            LevelWire::C => ProtectionLevel::C,
        }
    }
}

impl From<ProtectionLevel> for LevelWire {
    fn from(l: ProtectionLevel) -> Self {
        match l {
            ProtectionLevel::A => LevelWire::A,
            ProtectionLevel::B => LevelWire::B,
            ProtectionLevel::C => LevelWire::C,
        }
    }
}

/// Where a protected person is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusWire {
    /// In the host country.
    InCountry,
    /// On leave abroad.
    OnLeave,
    /// Left the project.
    Departed,
}

impl From<StatusWire> for PersonStatus {
    fn from(s: StatusWire) -> Self {
        match s {
            StatusWire::InCountry => PersonStatus::InCountry,
            StatusWire::OnLeave => PersonStatus::OnLeave,
            StatusWire::Departed => PersonStatus::Departed,
        }
    }
}

impl From<PersonStatus> for StatusWire {
    fn from(s: PersonStatus) -> Self {
        match s {
            PersonStatus::InCountry => StatusWire::InCountry,
            PersonStatus::OnLeave => StatusWire::OnLeave,
            PersonStatus::Departed => StatusWire::Departed,
        }
    }
}

/// Personal data (encrypted at rest). All fields optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonalDataWire {
    /// Passport number (letters and digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passport_number: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub date_of_birth: Option<String>,
    /// Home address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_address: Option<String>,
}

/// A protected person. `personal_data` is present only for those allowed to see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub full_name: String,
    /// Nationality.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// Employer (a company).
    pub employer_org_id: Uuid,
    /// Assigned site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_site_id: Option<Uuid>,
    /// Protection level.
    pub protection_level: LevelWire,
    /// Status.
    pub status: StatusWire,
    /// Personal data (only for host coordinators and the employer's officers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_data: Option<PersonalDataWire>,
    /// Version (send back with changes).
    pub version: i64,
}

/// Registers a protected person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Full name (1–200 characters).
    pub full_name: String,
    /// Nationality.
    #[serde(default)]
    pub nationality: Option<String>,
    /// Employer (a company organisation).
    pub employer_org_id: Uuid,
    /// Assigned site.
    #[serde(default)]
    pub assigned_site_id: Option<Uuid>,
    /// Protection level.
    pub protection_level: LevelWire,
    /// Status.
    pub status: StatusWire,
    /// Personal data.
    #[serde(default)]
    pub personal_data: Option<PersonalDataWire>,
}

/// Changes a protected person. `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    /// The version read (or send `If-Match`).
    pub version: Option<i64>,
    /// Full name.
    pub full_name: Option<String>,
    /// Nationality (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub nationality: Option<Option<String>>,
    /// Employer.
    pub employer_org_id: Option<Uuid>,
    /// Assigned site (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub assigned_site_id: Option<Option<Uuid>>,
    /// Protection level.
    pub protection_level: Option<LevelWire>,
    /// Status.
    pub status: Option<StatusWire>,
    /// Replaces the personal data as a whole (`null` or `{}` clears it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<PersonalDataWire>)]
    pub personal_data: Option<Option<PersonalDataWire>>,
}

// ------------------------------------------------------------------ sites

/// Site kinds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteKindWire {
    /// Project site.
    ProjectSite,
    /// Residence.
    Residence,
    /// Office.
    Office,
    /// Airport.
    Airport,
    /// Sea port.
    Port,
}

impl From<SiteKindWire> for SiteKind {
    fn from(k: SiteKindWire) -> Self {
        match k {
            SiteKindWire::ProjectSite => SiteKind::ProjectSite,
            SiteKindWire::Residence => SiteKind::Residence,
            SiteKindWire::Office => SiteKind::Office,
            SiteKindWire::Airport => SiteKind::Airport,
            SiteKindWire::Port => SiteKind::Port,
        }
    }
}

impl From<SiteKind> for SiteKindWire {
    fn from(k: SiteKind) -> Self {
        match k {
            SiteKind::ProjectSite => SiteKindWire::ProjectSite,
            SiteKind::Residence => SiteKindWire::Residence,
            SiteKind::Office => SiteKindWire::Office,
            SiteKind::Airport => SiteKindWire::Airport,
            SiteKind::Port => SiteKindWire::Port,
        }
    }
}

/// Site security posture.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostureWire {
    /// Normal.
    Normal,
    /// Elevated.
    Elevated,
    /// High.
    High,
    /// Lockdown.
    Lockdown,
}

impl From<PostureWire> for SecurityPosture {
    fn from(p: PostureWire) -> Self {
        match p {
            PostureWire::Normal => SecurityPosture::Normal,
            PostureWire::Elevated => SecurityPosture::Elevated,
            PostureWire::High => SecurityPosture::High,
            PostureWire::Lockdown => SecurityPosture::Lockdown,
        }
    }
}

impl From<SecurityPosture> for PostureWire {
    fn from(p: SecurityPosture) -> Self {
        match p {
            SecurityPosture::Normal => PostureWire::Normal,
            SecurityPosture::Elevated => PostureWire::Elevated,
            SecurityPosture::High => PostureWire::High,
            SecurityPosture::Lockdown => PostureWire::Lockdown,
        }
    }
}

/// A site.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    /// Id.
    pub id: Uuid,
    /// Owner organisation.
    pub owner_org_id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: SiteKindWire,
    /// Reference point.
    pub location: GeoPoint,
    /// Perimeter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perimeter: Option<GeoPolygon>,
    /// Security posture.
    pub posture: PostureWire,
    /// Notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Version (send back with changes).
    pub version: i64,
}

/// Creates a site.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// Owner organisation.
    pub owner_org_id: Uuid,
    /// Name (1–200 characters).
    pub name: String,
    /// Kind.
    pub kind: SiteKindWire,
    /// Reference point.
    pub location: GeoPoint,
    /// Perimeter.
    #[serde(default)]
    pub perimeter: Option<GeoPolygon>,
    /// Posture (default normal).
    #[serde(default)]
    pub posture: Option<PostureWire>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// Changes a site. `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    /// The version read (or send `If-Match`).
    pub version: Option<i64>,
    /// Owner organisation.
    pub owner_org_id: Option<Uuid>,
    /// Name.
    pub name: Option<String>,
    /// Kind.
    pub kind: Option<SiteKindWire>,
    /// Reference point.
    pub location: Option<GeoPoint>,
    /// Perimeter (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<GeoPolygon>)]
    pub perimeter: Option<Option<GeoPolygon>>,
    /// Posture.
    pub posture: Option<PostureWire>,
    /// Notes (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// Converts ids from the wire.
pub fn org_id(u: Uuid) -> OrgId {
    OrgId::from_uuid(u)
}

/// Converts ids from the wire.
pub fn site_id(u: Uuid) -> SiteId {
    SiteId::from_uuid(u)
}

/// Converts ids from the wire.
pub fn party_id(u: Uuid) -> PartyId {
    PartyId::from_uuid(u)
}

/// Formats Unix seconds as RFC 3339.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 time at `field` into Unix seconds; the error names the field.
pub fn parse_rfc3339(field: &str, text: &str) -> Result<i64, jsms_domain::ValidationError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| jsms_domain::ValidationError::new(field, "times are RFC 3339, e.g. 2026-12-01T08:00:00Z"))
}
