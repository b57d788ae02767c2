//! The store contract: Bilateral decisions, designated authorities, notifications and meetings.

use crate::*;
use jsms_domain::ids::{PartyId, UserId};
use uuid::Uuid;

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
