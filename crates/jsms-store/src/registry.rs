//! The store contract: Parties, organisations, users, sessions, API tokens, protected persons and sites: the records and the [`Store`] trait itself.

use crate::*;
use jsms_domain::access::PersonScope;
use jsms_domain::ids::{ApiTokenId, OrgId, PartyId, PersonId, SiteId, UserId};
use jsms_domain::registry::{PersonDraft, ProtectedPerson, Site, SiteDraft};
use jsms_domain::user::{ApiScope, Organisation, OrganisationDraft, Party, User, UserProfile, Username};
use jsms_identity::totp::TotpSecret;

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

/// A change that grants privilege, waiting for a second administrator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PrivilegeChange {
    /// A new user.
    CreateUser {
        /// Organisation.
        org_id: OrgId,
        /// Sign-in name.
        username: Username,
        /// Profile.
        profile: UserProfile,
        /// Argon2id PHC string of the initial password.
        password_hash: String,
    },
    /// A user's new profile, requested against `version`.
    UpdateProfile {
        /// The user.
        user: UserId,
        /// The version the requester saw.
        version: i64,
        /// The new profile.
        profile: UserProfile,
    },
}

/// Where a privilege request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivilegeState {
    /// Waiting for a second administrator.
    Pending,
    /// Approved and applied.
    Approved,
    /// Refused by a second administrator.
    Rejected,
}

/// A request for a change that grants privilege.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegeRequest {
    /// Identifier.
    pub id: Uuid,
    /// The party whose administrators decide.
    pub party: PartyId,
    /// The change.
    pub change: PrivilegeChange,
    /// What it grants, in words.
    pub reasons: Vec<String>,
    /// Who asked.
    pub requested_by: UserId,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Pending requests lapse at this time.
    pub expires_at: i64,
    /// Where it stands.
    pub state: PrivilegeState,
    /// Who decided.
    pub decided_by: Option<UserId>,
    /// When.
    pub decided_at: Option<i64>,
    /// Why (a rejection's note).
    pub note: Option<String>,
}

impl PrivilegeRequest {
    /// The user the change is about, once it exists.
    pub fn target(&self) -> Option<UserId> {
        match &self.change {
            PrivilegeChange::UpdateProfile { user, .. } => Some(*user),
            PrivilegeChange::CreateUser { .. } => None,
        }
    }
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
    /// Stores a pending privilege request.
    fn create_privilege_request(&self, request: &PrivilegeRequest) -> StoreResult<()>;
    /// One privilege request.
    fn privilege_request(&self, id: Uuid) -> StoreResult<PrivilegeRequest>;
    /// A party's privilege requests, newest first, at most `limit`.
    fn privilege_requests(&self, party: PartyId, limit: usize) -> StoreResult<Vec<PrivilegeRequest>>;
    /// Approves a pending, unexpired request by `by` at `now` and applies its change — the
    /// new user created, or the profile replaced if the user is still at the requested
    /// version (sessions end) — in one transaction. `Conflict` when it is not pending or has
    /// lapsed, `Stale` when the user changed since, `Conflict` when the username is taken.
    fn approve_privilege_request(&self, id: Uuid, by: UserId, now: i64) -> StoreResult<(PrivilegeRequest, User)>;
    /// Rejects a pending request.
    fn reject_privilege_request(&self, id: Uuid, by: UserId, note: &str, now: i64) -> StoreResult<PrivilegeRequest>;
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
