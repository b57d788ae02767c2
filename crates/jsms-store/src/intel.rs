//! The store contract: Threat reports, the report index and TAXII statuses.

use crate::*;
use jsms_domain::ids::{OrgId, PartyId, UserId};
use uuid::Uuid;

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
