//! The store contract: Break-glass grants, need-to-know grants and the auditors' alert queue.

use crate::*;
use jsms_domain::ids::{PartyId, UserId};
use uuid::Uuid;

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
