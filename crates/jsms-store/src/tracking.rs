//! The store contract: Devices, positions, check-ins, alerts and their webhook deliveries.

use crate::*;
use jsms_domain::ids::UserId;
use uuid::Uuid;

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
