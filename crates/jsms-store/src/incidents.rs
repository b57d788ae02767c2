//! The store contract: Incidents and their points for route risk.

use crate::*;
use jsms_domain::ids::{PartyId, UserId};
use uuid::Uuid;

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
