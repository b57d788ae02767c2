//! The store contract: Threat zones.

use crate::*;
use jsms_domain::ids::PartyId;
use uuid::Uuid;

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
