//! JSMS storage: the [`Store`] trait that handlers depend on, and [`SqliteStore`], its
//! embedded SQLite implementation (WAL, `synchronous=FULL`, migrations applied at open).
//!
//! The trait is synchronous and object-safe; the server calls it from blocking threads. A
//! PostgreSQL implementation slots in behind the same trait without touching handlers.
//! Personal data is sealed and opened here, with a key the store is given but never stores.

pub mod audit;
mod sqlite;

pub use sqlite::SqliteStore;

use jsms_domain::access::PersonScope;
use jsms_domain::ids::{ApiTokenId, OrgId, PartyId, PersonId, SiteId, UserId};
use jsms_domain::registry::{PersonDraft, ProtectedPerson, Site, SiteDraft};
use jsms_domain::user::{ApiScope, Organisation, OrganisationDraft, Party, User, UserProfile, Username};
use jsms_identity::totp::TotpSecret;
use uuid::Uuid;

/// Storage failures, split so the HTTP layer can tell client conflicts from faults.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record.
    #[error("not found")]
    NotFound,
    /// The record changed since the caller read it.
    #[error("stale version: the record is at version {current}")]
    Stale {
        /// The version now stored.
        current: i64,
    },
    /// A uniqueness rule was violated (e.g. a username taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record is still referenced and cannot be deleted.
    #[error("in use: {0}")]
    InUse(String),
    /// A reference points at nothing (e.g. an unknown organisation).
    #[error("unknown reference: {0}")]
    UnknownReference(String),
    /// The sealing key given is not the one this database was created with.
    #[error("the sealing key does not match this database (wrong JSMS_PII_KEY or key file?)")]
    WrongKey,
    /// The database failed or holds data this version cannot read.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page request: items after the cursor, at most `limit`, optionally matching `q`.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Return items whose id sorts after this one.
    pub after: Option<Uuid>,
    /// Page size (the store clamps to 1..=500).
    pub limit: u32,
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in id (creation) order.
    pub items: Vec<T>,
    /// The cursor for the next page, if there is one.
    pub next: Option<Uuid>,
}

/// A user with the credentials needed to sign in.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret, enrolled or pending confirmation.
    pub totp_secret: Option<TotpSecret>,
    /// The last TOTP step accepted (replay protection).
    pub totp_last_step: Option<i64>,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Organisation (its party becomes the user's party).
    pub org_id: OrgId,
    /// Sign-in name.
    pub username: Username,
    /// Profile.
    pub profile: UserProfile,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// A TOTP secret already enrolled (demo accounts), if any.
    pub enrolled_totp: Option<TotpSecret>,
}

/// A session as stored (by token hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    /// The user.
    pub user_id: UserId,
    /// Whether the second factor was verified for this session.
    pub mfa_verified: bool,
    /// The CSRF token bound to this session.
    pub csrf_token: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Last request time (Unix seconds), for the idle timeout.
    pub last_seen_at: i64,
    /// Absolute expiry (Unix seconds).
    pub expires_at: i64,
}

/// An API token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// Identifier.
    pub id: ApiTokenId,
    /// SHA-256 of the token text.
    pub token_hash: [u8; 32],
    /// Party the token acts for.
    pub party_id: PartyId,
    /// Organisation the token acts for.
    pub org_id: OrgId,
    /// Human label.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<ApiScope>,
    /// Administrator who issued it.
    pub created_by: UserId,
    /// Issue time (Unix seconds).
    pub created_at: i64,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
    /// Revocation time, if revoked.
    pub revoked_at: Option<i64>,
    /// Last use, if ever used.
    pub last_used_at: Option<i64>,
}

/// A protected person with the party of its employer (for access decisions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    /// The person.
    pub person: ProtectedPerson,
    /// Party of the employer organisation.
    pub employer_party_id: PartyId,
}

/// A break-glass grant: emergency access by one user to one resource, for a short time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassRecord {
    /// Identifier.
    pub id: Uuid,
    /// Who broke the glass.
    pub user_id: UserId,
    /// Their party.
    pub party_id: PartyId,
    /// The one resource opened (`person:<id>`).
    pub resource: String,
    /// The mandatory reason.
    pub reason: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Expiry (Unix seconds; at most 4 hours later).
    pub expires_at: i64,
    /// Review, once done.
    pub review: Option<BreakGlassReview>,
    /// When it was escalated for lack of review.
    pub escalated_at: Option<i64>,
}

/// An auditor's review of a break-glass use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassReview {
    /// When.
    pub reviewed_at: i64,
    /// By whom.
    pub reviewed_by: UserId,
    /// `justified` or `unjustified`.
    pub verdict: String,
    /// Notes.
    pub note: String,
}

/// An alert for the auditors of every party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditorAlert {
    /// Identifier.
    pub id: Uuid,
    /// `break_glass`, `break_glass_unreviewed`, `read_burst`, `repeated_denials`, `off_hours`.
    pub kind: String,
    /// `info`, `warning`, `critical`.
    pub severity: String,
    /// Who it is about.
    pub principal: Option<String>,
    /// What it is about.
    pub resource: Option<String>,
    /// Human explanation.
    pub message: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Acknowledgement: when and by whom.
    pub acknowledged: Option<(i64, UserId)>,
}

/// Everything JSMS stores, behind one object-safe trait. Every method is one transaction.
/// `now` arguments are Unix seconds supplied by the caller's clock.
pub trait Store:
    OversightStore
    + ZoneStore
    + MovementStore
    + TrackingStore
    + IncidentStore
    + DecisionStore
    + IntelStore
    + Send
    + Sync
    + 'static
{
    /// Checks the database answers (readiness probe).
    fn ping(&self) -> StoreResult<()>;

    // --- parties and organisations ---
    /// Creates a party.
    fn create_party(&self, party: &Party, now: i64) -> StoreResult<()>;
    /// Every party.
    fn parties(&self) -> StoreResult<Vec<Party>>;
    /// One party.
    fn party(&self, id: PartyId) -> StoreResult<Party>;
    /// Creates an organisation.
    fn create_org(&self, party: PartyId, draft: &OrganisationDraft, now: i64) -> StoreResult<Organisation>;
    /// One organisation.
    fn org(&self, id: OrgId) -> StoreResult<Organisation>;
    /// Organisations, optionally of one party.
    fn orgs(&self, party: Option<PartyId>, page: &PageRequest) -> StoreResult<Page<Organisation>>;
    /// Replaces an organisation's content if it is still at `version`.
    fn update_org(&self, id: OrgId, version: i64, draft: &OrganisationDraft, now: i64) -> StoreResult<Organisation>;
    /// Deletes an unreferenced organisation still at `version`.
    fn delete_org(&self, id: OrgId, version: i64) -> StoreResult<()>;

    // --- users and credentials ---
    /// Creates a user.
    fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<User>;
    /// One user.
    fn user(&self, id: UserId) -> StoreResult<User>;
    /// A user by name with credentials, for sign-in.
    fn user_credentials(&self, username: &str) -> StoreResult<Option<UserCredentials>>;
    /// The credentials of a user by id.
    fn user_credentials_by_id(&self, id: UserId) -> StoreResult<UserCredentials>;
    /// Users, optionally of one party.
    fn users(&self, party: Option<PartyId>, page: &PageRequest) -> StoreResult<Page<User>>;
    /// Replaces a user's profile if it is still at `version`.
    fn update_user_profile(&self, id: UserId, version: i64, profile: &UserProfile, now: i64) -> StoreResult<User>;
    /// Disables (ending every session at once) or re-enables a user.
    fn set_user_disabled(&self, id: UserId, disabled: bool, now: i64) -> StoreResult<User>;
    /// Sets a new password hash; ends every session of the user.
    fn set_password(&self, id: UserId, password_hash: &str, now: i64) -> StoreResult<()>;
    /// Stores a TOTP secret awaiting confirmation (replacing any unconfirmed one).
    fn set_pending_totp(&self, id: UserId, secret: &TotpSecret, now: i64) -> StoreResult<()>;
    /// Marks the pending TOTP secret as enrolled, recording the step used to confirm it.
    fn confirm_totp(&self, id: UserId, step: i64, now: i64) -> StoreResult<()>;
    /// Records that TOTP `step` was used; returns false if that step (or a later one) was
    /// already used, which means a replay.
    fn record_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool>;
    /// Removes the TOTP enrolment and ends every session of the user.
    fn reset_mfa(&self, id: UserId, now: i64) -> StoreResult<User>;

    // --- sessions ---
    /// Stores a new session.
    fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// A session and its user, by token hash.
    fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<(SessionRecord, User)>>;
    /// Updates the last-seen time.
    fn touch_session(&self, token_hash: &[u8; 32], now: i64) -> StoreResult<()>;
    /// Ends one session.
    fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<()>;
    /// Removes sessions idle since `idle_before` or past their absolute expiry.
    fn purge_sessions(&self, idle_before: i64, now: i64) -> StoreResult<u64>;

    // --- API tokens ---
    /// Stores a token.
    fn create_api_token(&self, token: &ApiTokenRecord) -> StoreResult<()>;
    /// A token by hash.
    fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiTokenRecord>>;
    /// A party's tokens, newest first.
    fn api_tokens(&self, party: PartyId) -> StoreResult<Vec<ApiTokenRecord>>;
    /// One token.
    fn api_token(&self, id: ApiTokenId) -> StoreResult<ApiTokenRecord>;
    /// Revokes a token (idempotent: the first revocation time is kept).
    fn revoke_api_token(&self, id: ApiTokenId, now: i64) -> StoreResult<ApiTokenRecord>;
    /// Records a use.
    fn touch_api_token(&self, id: ApiTokenId, now: i64) -> StoreResult<()>;

    // --- protected persons ---
    /// Creates a person.
    fn create_person(&self, draft: &PersonDraft, now: i64) -> StoreResult<PersonRecord>;
    /// One person.
    fn person(&self, id: PersonId) -> StoreResult<PersonRecord>;
    /// Persons inside `scope`.
    fn persons(&self, scope: PersonScope, page: &PageRequest) -> StoreResult<Page<PersonRecord>>;
    /// Replaces a person's content if still at `version`.
    fn update_person(&self, id: PersonId, version: i64, draft: &PersonDraft, now: i64) -> StoreResult<PersonRecord>;
    /// Deletes a person still at `version`.
    fn delete_person(&self, id: PersonId, version: i64) -> StoreResult<()>;

    // --- sites ---
    /// Creates a site.
    fn create_site(&self, draft: &SiteDraft, now: i64) -> StoreResult<Site>;
    /// One site.
    fn site(&self, id: SiteId) -> StoreResult<Site>;
    /// Sites.
    fn sites(&self, page: &PageRequest) -> StoreResult<Page<Site>>;
    /// Replaces a site's content if still at `version`.
    fn update_site(&self, id: SiteId, version: i64, draft: &SiteDraft, now: i64) -> StoreResult<Site>;
    /// Deletes an unreferenced site still at `version`.
    fn delete_site(&self, id: SiteId, version: i64) -> StoreResult<()>;
}

/// Break-glass grants and the auditors' alert queue (part of every [`Store`]).
pub trait OversightStore {
    /// Stores a break-glass grant.
    fn create_break_glass(&self, record: &BreakGlassRecord) -> StoreResult<()>;
    /// The resources a user holds unexpired grants for: `(need-to-know, break-glass)`, in one
    /// query (it runs on every authenticated request).
    fn active_access(&self, user: UserId, now: i64) -> StoreResult<(Vec<String>, Vec<String>)>;
    /// Break-glass grants, newest first, optionally only those not reviewed.
    fn break_glass_list(&self, unreviewed_only: bool) -> StoreResult<Vec<BreakGlassRecord>>;
    /// Records a review; a grant is reviewed once (a second review is a conflict).
    fn review_break_glass(&self, id: Uuid, review: &BreakGlassReview) -> StoreResult<BreakGlassRecord>;
    /// Marks unreviewed grants created before `before` as escalated; returns the newly
    /// escalated ones.
    fn escalate_break_glass(&self, before: i64, now: i64) -> StoreResult<Vec<BreakGlassRecord>>;
    /// Stores a time-limited need-to-know grant of `resource` to `user`.
    fn create_grant(&self, user: UserId, resource: &str, source: &str, now: i64, expires_at: i64) -> StoreResult<()>;
    /// Stores an auditor alert.
    fn create_alert(&self, alert: &AuditorAlert) -> StoreResult<()>;
    /// Alerts, newest first.
    fn alerts(&self, unacknowledged_only: bool, limit: u32) -> StoreResult<Vec<AuditorAlert>>;
    /// Acknowledges an alert (idempotent: the first acknowledgement is kept).
    fn acknowledge_alert(&self, id: Uuid, by: UserId, now: i64) -> StoreResult<AuditorAlert>;
}

/// A stored threat zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneRecord {
    /// Identifier.
    pub id: Uuid,
    /// The party that created it (and alone may change it).
    pub owner_party: PartyId,
    /// The zone.
    pub zone: jsms_domain::zone::ThreatZone,
    /// Where the information comes from.
    pub source: String,
    /// Notes.
    pub notes: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Threat zones (part of every [`Store`]).
pub trait ZoneStore {
    /// Stores a new zone (version 1).
    fn create_zone(&self, zone: &ZoneRecord, now: i64) -> StoreResult<()>;
    /// One zone.
    fn zone(&self, id: Uuid) -> StoreResult<ZoneRecord>;
    /// Every zone, oldest first.
    fn zones(&self) -> StoreResult<Vec<ZoneRecord>>;
    /// Replaces a zone's content if still at `version`.
    fn update_zone(&self, zone: &ZoneRecord, version: i64, now: i64) -> StoreResult<ZoneRecord>;
    /// Deletes a zone still at `version`.
    fn delete_zone(&self, id: Uuid, version: i64) -> StoreResult<()>;
}

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
    fn update_movement(&self, m: &MovementRecord, version: i64, now: i64) -> StoreResult<MovementRecord>;
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

/// A tracking device of an escort team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Identifier.
    pub id: Uuid,
    /// Its team.
    pub team: jsms_domain::ids::EscortTeamId,
    /// Name (e.g. "FALCON 3 lead vehicle phone").
    pub name: String,
}

/// An alert on a movement.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertRecord {
    /// Order of creation (the SSE event id).
    pub seq: i64,
    /// Identifier.
    pub id: Uuid,
    /// The movement.
    pub movement: jsms_domain::ids::MovementId,
    /// What.
    pub kind: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// Plain words.
    pub message: String,
    /// When it happened.
    pub at: i64,
    /// Evidence (position, zone), JSON.
    pub evidence: serde_json::Value,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// Who did what, JSON list of `{at, user, action, note}`.
    pub log: serde_json::Value,
}

/// One attempt to deliver an alert to a webhook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryAttempt {
    /// The delivery (alert × target) it belongs to.
    pub delivery: Uuid,
    /// The alert.
    pub alert: Uuid,
    /// The target.
    pub url: String,
    /// 1 for the first try.
    pub attempt: u32,
    /// The answer's HTTP status.
    pub status: Option<u16>,
    /// Why no answer came.
    pub error: Option<String>,
    /// When, Unix seconds.
    pub at: i64,
}

/// An incident with its investigation.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    /// Identifier.
    pub id: Uuid,
    /// The reporting party.
    pub party: PartyId,
    /// Who reported it.
    pub reporter: UserId,
    /// The report.
    pub report: jsms_domain::incident::IncidentReport,
    /// Where the investigation is.
    pub status: jsms_domain::incident::InvestigationStatus,
    /// Updates, oldest first.
    pub timeline: Vec<jsms_domain::incident::TimelineEntry>,
    /// What the investigation found.
    pub findings: Option<String>,
    /// Lessons learned.
    pub lessons: Vec<jsms_domain::incident::Lesson>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When reported, Unix seconds.
    pub created_at: i64,
}

/// A stored meeting: (id, organising party, body, final, version).
pub type MeetingRow = (Uuid, PartyId, serde_json::Value, bool, i64);

/// A stored decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// Identifier (the proposal's).
    pub id: Uuid,
    /// The proposing party.
    pub party: PartyId,
    /// The decision (proposal, approvals, state), as JSON.
    pub body: serde_json::Value,
    /// Its state's wire name.
    pub state: String,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A decision attachment's description (its content is read on its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// File name given at upload.
    pub name: String,
    /// Media type given at upload.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
}

/// A notification to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Identifier.
    pub id: Uuid,
    /// Its recipient.
    pub user: UserId,
    /// `action_overdue`, `decision_to_approve`, …
    pub kind: String,
    /// What to tell (no sealed data).
    pub text: String,
    /// Where in the web application, e.g. `#/decisions/<id>`.
    pub link: String,
    /// When, Unix seconds.
    pub created_at: i64,
    /// When read.
    pub read_at: Option<i64>,
}

/// Decisions and approvers' public keys (part of every [`Store`]).
pub trait DecisionStore {
    /// Registers a user's Ed25519 public key (once: a key cannot be replaced, so earlier
    /// approvals keep verifying).
    fn register_signing_key(&self, user: UserId, key: &[u8], now: i64) -> StoreResult<()>;
    /// A user's public key.
    fn signing_key(&self, user: UserId) -> StoreResult<Option<Vec<u8>>>;
    /// Stores a new decision (version 1).
    fn create_decision(&self, d: &DecisionRecord, proposer: UserId, now: i64) -> StoreResult<()>;
    /// One decision.
    fn decision(&self, id: Uuid) -> StoreResult<DecisionRecord>;
    /// Decisions, newest first, at most 500.
    fn decisions(&self) -> StoreResult<Vec<DecisionRecord>>;
    /// Replaces a decision at `version`.
    fn update_decision(&self, d: &DecisionRecord, version: i64, now: i64) -> StoreResult<DecisionRecord>;
    /// Replaces a decision at `version` and stores the attachment it now names, in one
    /// transaction.
    fn attach_to_decision(
        &self,
        d: &DecisionRecord,
        version: i64,
        info: &AttachmentInfo,
        content: &[u8],
        by: UserId,
        now: i64,
    ) -> StoreResult<DecisionRecord>;
    /// A decision's attachments, in the order they were added.
    fn decision_attachments(&self, decision: Uuid) -> StoreResult<Vec<AttachmentInfo>>;
    /// One attachment's description and content.
    fn decision_attachment(&self, decision: Uuid, sha256: &str) -> StoreResult<(AttachmentInfo, Vec<u8>)>;
    /// The users a party designated to approve decisions (empty: none designated).
    fn designated_authorities(&self, party: PartyId) -> StoreResult<Vec<UserId>>;
    /// Replaces a party's designated authorities.
    fn designate_authorities(&self, party: PartyId, users: &[UserId], by: UserId, now: i64) -> StoreResult<()>;
    /// Adds notifications.
    fn notify(&self, notes: &[Notification]) -> StoreResult<()>;
    /// A user's latest notifications, newest first, at most `limit`.
    fn notifications(&self, user: UserId, limit: usize) -> StoreResult<Vec<Notification>>;
    /// Marks a user's notification read (`NotFound` when it is not theirs).
    fn mark_notification_read(&self, user: UserId, id: Uuid, now: i64) -> StoreResult<()>;
    /// Stores a new meeting (version 1): its organising party and its body (JSON).
    fn create_meeting(&self, id: Uuid, party: PartyId, body: &serde_json::Value, now: i64) -> StoreResult<()>;
    /// One meeting: (organising party, body, final, version).
    fn meeting(&self, id: Uuid) -> StoreResult<(PartyId, serde_json::Value, bool, i64)>;
    /// Meetings, newest first, at most 500: (id, organising party, body, final, version).
    fn meetings(&self) -> StoreResult<Vec<crate::MeetingRow>>;
    /// Replaces a meeting that is not final at `version`; `final_now` makes it final (and
    /// immutable: a final meeting is never updated again).
    fn update_meeting(
        &self,
        id: Uuid,
        body: &serde_json::Value,
        final_now: bool,
        version: i64,
        now: i64,
    ) -> StoreResult<i64>;
    /// Replaces only the action items of a meeting (their status is followed after the
    /// minutes are final; nothing else of a final meeting changes).
    fn update_meeting_actions(&self, id: Uuid, actions: &serde_json::Value, version: i64, now: i64)
    -> StoreResult<i64>;
}

/// A stored threat report: the marking and owner stay plain (every read path filters on
/// them), the content is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    /// Identifier.
    pub id: Uuid,
    /// Its STIX id (ours derived, or the one it was imported with).
    pub stix_id: String,
    /// The owning party.
    pub party: PartyId,
    /// The author's organisation.
    pub org: OrgId,
    /// The author (none for an import by an API token).
    pub author: Option<UserId>,
    /// The marking.
    pub marking: jsms_domain::intel::Marking,
    /// The content (JSON, sealed at rest).
    pub body: serde_json::Value,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When it was added (TAXII date added), Unix milliseconds.
    pub created_at: i64,
    /// When it last changed, Unix milliseconds.
    pub updated_at: i64,
}

/// What a read path decides on: a report's owner, marking and times (not its content).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportMeta {
    /// Identifier.
    pub id: Uuid,
    /// Its STIX id.
    pub stix_id: String,
    /// The owning party.
    pub party: PartyId,
    /// The author's organisation.
    pub org: OrgId,
    /// The marking.
    pub marking: jsms_domain::intel::Marking,
    /// When added, Unix milliseconds.
    pub created_at: i64,
    /// When last changed, Unix milliseconds.
    pub updated_at: i64,
}

/// Threat reports and TAXII status resources (part of every [`Store`]).
pub trait IntelStore {
    /// Stores a new report (version 1); a known STIX id is a conflict.
    fn create_report(&self, report: &ReportRecord) -> StoreResult<()>;
    /// One report, opened.
    fn report(&self, id: Uuid) -> StoreResult<ReportRecord>;
    /// One report's owner and marking, not opened.
    fn report_meta(&self, id: Uuid) -> StoreResult<ReportMeta>;
    /// The report with this STIX id.
    fn report_by_stix_id(&self, stix_id: &str) -> StoreResult<Option<ReportRecord>>;
    /// The owners and markings (nothing opened) of the latest `limit` reports, in the order
    /// they were added: read paths decide on these before opening a report.
    fn report_index(&self, limit: usize) -> StoreResult<Vec<ReportMeta>>;
    /// Replaces a report's marking and content at `version`; `now` in milliseconds.
    fn update_report(&self, report: &ReportRecord, version: i64, now: i64) -> StoreResult<ReportRecord>;
    /// Stores a TAXII status resource of `party`.
    fn save_taxii_status(&self, id: Uuid, party: PartyId, body: &serde_json::Value, now: i64) -> StoreResult<()>;
    /// A TAXII status resource and the party that owns it.
    fn taxii_status(&self, id: Uuid) -> StoreResult<(PartyId, serde_json::Value)>;
}

/// Incidents (part of every [`Store`]).
pub trait IncidentStore {
    /// Stores a new incident (version 1).
    fn create_incident(&self, incident: &IncidentRecord, now: i64) -> StoreResult<()>;
    /// One incident, opened.
    fn incident(&self, id: Uuid) -> StoreResult<IncidentRecord>;
    /// Incidents, newest first by time of occurrence, at most 500.
    fn incidents(&self) -> StoreResult<Vec<IncidentRecord>>;
    /// Replaces an incident at `version` (stale otherwise); returns it at its new version.
    fn update_incident(&self, incident: &IncidentRecord, version: i64, now: i64) -> StoreResult<IncidentRecord>;
    /// Place, time and severity of the incidents that happened since `since` (for the route
    /// risk; nothing sealed is opened).
    fn incident_points(&self, since: i64) -> StoreResult<Vec<(f64, f64, i64, u8)>>;
}

/// Positions that were new, each with its position stream sequence.
pub type StoredPositions = Vec<(i64, jsms_domain::tracking::Position)>;

/// Positions of one device for one movement, to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPositions {
    /// The movement.
    pub movement: jsms_domain::ids::MovementId,
    /// The device.
    pub device: Uuid,
    /// The positions, in time order.
    pub positions: Vec<jsms_domain::tracking::Position>,
}

/// A webhook delivery waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The delivery (alert × target).
    pub delivery: Uuid,
    /// The alert.
    pub alert: Uuid,
    /// The target.
    pub url: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is due, Unix seconds.
    pub next_at: i64,
}

/// Devices, positions and alerts (part of every [`Store`]).
pub trait TrackingStore {
    /// Registers a device; `token_hash` is the SHA-256 of its secret token.
    fn create_device(&self, device: &Device, token_hash: &[u8], now: i64) -> StoreResult<()>;
    /// The active device with this token hash.
    fn device_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<Device>>;
    /// Stores batches of positions in one transaction (group commit); duplicates (same
    /// device and time) are dropped. Per batch: the positions that were new, each with its
    /// position stream sequence, or why the batch was refused (the others are kept).
    fn insert_positions(&self, batches: &[NewPositions], now: i64) -> StoreResult<Vec<StoreResult<StoredPositions>>>;
    /// Positions stored after stream sequence `seq`, oldest first, at most `limit`.
    fn position_events_after(
        &self,
        seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, jsms_domain::ids::MovementId, jsms_domain::tracking::Position)>>;
    /// A movement's track, oldest first.
    fn track(&self, movement: jsms_domain::ids::MovementId) -> StoreResult<Vec<jsms_domain::tracking::Position>>;
    /// Opens an alert unless one of the same kind is already open on the movement
    /// (duplicates suppressed); returns it when created. In the same transaction, queues a
    /// delivery to each of `webhooks` (URLs) in the outbox, due at `now`.
    fn open_alert(&self, alert: &AlertRecord, webhooks: &[String], now: i64) -> StoreResult<Option<AlertRecord>>;
    /// Records a check-in by the escort.
    fn record_check_in(&self, movement: jsms_domain::ids::MovementId, user: Option<UserId>, at: i64)
    -> StoreResult<()>;
    /// The last check-in on a movement.
    fn last_check_in(&self, movement: jsms_domain::ids::MovementId) -> StoreResult<Option<i64>>;
    /// Outbox deliveries due at `now`, oldest first, at most `limit`.
    fn due_deliveries(&self, now: i64, limit: usize) -> StoreResult<Vec<OutboxItem>>;
    /// When the next outbox delivery is due.
    fn next_delivery_at(&self) -> StoreResult<Option<i64>>;
    /// Logs an attempt and either takes the delivery out of the outbox (`next_at: None`:
    /// delivered, or no attempt left) or schedules the next attempt.
    fn delivery_attempted(&self, attempt: &DeliveryAttempt, next_at: Option<i64>) -> StoreResult<()>;
    /// Alerts created after `seq`, oldest first, at most `limit`.
    fn alerts_after(&self, seq: i64, limit: usize) -> StoreResult<Vec<AlertRecord>>;
    /// One alert.
    fn alert(&self, id: Uuid) -> StoreResult<AlertRecord>;
    /// Open alerts raised before `before` that were never escalated (escalations excluded).
    fn unescalated_open(&self, before: i64) -> StoreResult<Vec<AlertRecord>>;
    /// The latest delivery attempts, newest first.
    fn deliveries(&self, limit: usize) -> StoreResult<Vec<DeliveryAttempt>>;
    /// Moves an alert to `state` (from an allowed state), logging who and why.
    fn update_alert(
        &self,
        id: Uuid,
        from: &[&str],
        state: &str,
        entry: serde_json::Value,
        now: i64,
    ) -> StoreResult<AlertRecord>;
}
