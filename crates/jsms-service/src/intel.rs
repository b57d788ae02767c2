//! Threat reports (PRODUCT §3.6) behind the gate: written with a FIRST TLP 2.0 marking, a
//! releasability and an Admiralty grading; linked to zones, sites, incidents and movements;
//! read, listed, streamed, exported and exchanged over TAXII only as [`Disclosed`] reports —
//! each decided (`ReadReport`, on the stored marking) and recorded, one entry per report.
//!
//! The marking is decided on the plain marking columns before a report's sealed content is
//! opened, then again on the record opened (a marking changed meanwhile wins). A report is
//! stored with its marking in one statement, so it is never visible first and restricted
//! later. Changing a marking (downgrades included) is the owning party's, recorded in the
//! report's history and the audit log. A report may create a threat zone or raise linked
//! zones' severity, each decided and recorded as a zone change and re-evaluated.
//!
//! STIX and TAXII are wire formats: the HTTP layer converts; this module decides, records
//! and stores.

use crate::error::{Error, Result, referenced};
use crate::gate::{Change, Disclosed, Event, Part, Protected, Refusal, Resource};
use crate::zones::ZoneInput;
use crate::{Caller, Services};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{MovementId, OrgId, PartyId, SiteId};
use jsms_domain::intel::{Grading, Marking, OrgSet, Tlp};
use jsms_store::{ReportMeta, ReportRecord, ZoneRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use tokio::sync::broadcast;
use uuid::Uuid;

/// Reports considered by a list, an export or a TAXII request.
pub const INDEX_LIMIT: usize = 10_000;

/// Actors, intrusion sets, indicators and notes kept per imported report.
pub const IMPORT_CAP: usize = 200;

/// Indicator pattern languages accepted.
const PATTERN_TYPES: [&str; 6] = ["stix", "sigma", "snort", "suricata", "yara", "pcre"];

/// A numbered report event: (event number, report id).
pub type Numbered = (u64, Uuid);

/// Events kept for streams that resume with `Last-Event-ID`.
const RECENT_EVENTS: usize = 1024;

/// New and re-marked reports, by id, numbered, for the streams (each subscriber decides per
/// report); the latest are kept so that a stream resumes without loss within the server's run.
#[derive(Debug)]
pub struct IntelHub {
    changed: broadcast::Sender<Numbered>,
    recent: std::sync::Mutex<(u64, std::collections::VecDeque<Numbered>)>,
}

impl Default for IntelHub {
    fn default() -> Self {
        Self {
            changed: broadcast::channel(RECENT_EVENTS).0,
            recent: std::sync::Mutex::new((0, std::collections::VecDeque::new())),
        }
    }
}

impl IntelHub {
    /// Announces that report `id` was created or re-marked.
    pub fn publish(&self, id: Uuid) {
        // Numbered and sent under the lock: the kept events and the live ones agree on order.
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.0 += 1;
        let seq = recent.0;
        recent.1.push_back((seq, id));
        if recent.1.len() > RECENT_EVENTS {
            recent.1.pop_front();
        }
        let _ = self.changed.send((seq, id));
    }

    /// The number of the latest event.
    pub fn last(&self) -> u64 {
        self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0
    }

    /// Subscribes, and returns the kept events after `after` (subscribed first, so nothing
    /// falls between the two).
    pub fn resume(&self, after: u64) -> (broadcast::Receiver<Numbered>, Vec<Numbered>) {
        let recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let rx = self.changed.subscribe();
        let backlog = recent.1.iter().filter(|(seq, _)| *seq > after).copied().collect();
        (rx, backlog)
    }
}

/// The authorization question for reading a report with this owner and marking.
pub fn read_action(id: Uuid, party: PartyId, org: OrgId, marking: &Marking) -> Action {
    Action::ReadReport {
        report: id,
        party,
        org,
        tlp: marking.tlp,
        shared: marking.shared,
        // Stored markings were validated (at most MAX_STRICT_ORGS); an oversized one is read
        // as no organisation at all (fail closed).
        orgs: OrgSet::new(&marking.orgs).unwrap_or_default(),
    }
}

fn meta_action(m: &ReportMeta) -> Action {
    read_action(m.id, m.party, m.org, &m.marking)
}

/// An indicator as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorBody {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// The pattern.
    pub pattern: String,
    /// `stix`, `sigma`, `snort`, `suricata`, `yara`, `pcre`.
    pub pattern_type: String,
    /// Valid from (Unix seconds).
    #[serde(default)]
    #[schema(value_type = i64)]
    pub valid_from: i64,
}

/// One change of marking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarkingChange {
    /// When (RFC 3339).
    pub at: String,
    /// Who (`user:<id>`).
    pub by: String,
    /// The marking before (`TLP:RED`, `TLP:AMBER (shared)`, …).
    pub from: String,
    /// The marking after.
    pub to: String,
    /// Whether more people may read it now.
    pub downgrade: bool,
    /// Why.
    pub reason: String,
}

/// A report's content (sealed at rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportBody {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// When observed (Unix seconds).
    pub observed_at: i64,
    /// When reported (Unix seconds).
    pub reported_at: i64,
    /// Admiralty grading.
    pub grading: Option<Grading>,
    /// Where (latitude, longitude).
    pub place: Option<(f64, f64)>,
    /// Linked threat zones.
    pub zones: Vec<Uuid>,
    /// Linked sites.
    pub sites: Vec<Uuid>,
    /// Linked incidents.
    pub incidents: Vec<Uuid>,
    /// Linked movements.
    pub movements: Vec<Uuid>,
    /// Threat actors.
    pub actors: Vec<String>,
    /// Intrusion sets.
    pub intrusion_sets: Vec<String>,
    /// Indicators.
    pub indicators: Vec<IndicatorBody>,
    /// Notes.
    pub notes: Vec<String>,
    /// STIX objects received with it and not mapped.
    pub raw: Vec<Value>,
    /// The source an imported bundle named.
    pub source: Option<String>,
    /// Marking changes, oldest first.
    pub history: Vec<MarkingChange>,
}

/// The content of a stored report.
pub fn decode(r: &ReportRecord) -> Result<ReportBody> {
    serde_json::from_value(r.body.clone()).map_err(|e| Error::Internal(format!("report {}: {e}", r.id)))
}

fn encode(b: &ReportBody) -> Result<Value> {
    serde_json::to_value(b).map_err(|e| Error::Internal(e.to_string()))
}

/// How a marking is written in the history (`TLP:AMBER (shared)`).
fn describe(m: &Marking) -> String {
    match m.tlp {
        Tlp::Amber if m.shared => "TLP:AMBER (released to both parties)".into(),
        Tlp::Amber => "TLP:AMBER (owning party)".into(),
        Tlp::AmberStrict => format!("TLP:AMBER+STRICT ({} more organisations)", m.orgs.len()),
        t => t.label().to_owned(),
    }
}

/// Why a report is read: each purpose is its own action in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Shown (list, one report, the stream).
    Read,
    /// Exported as STIX.
    Export,
    /// Served to a TAXII client.
    Taxii,
    /// Opened to change its marking.
    Marking,
}

impl Purpose {
    fn log(self) -> &'static str {
        match self {
            Self::Read => "report.read",
            Self::Export => "report.export",
            Self::Taxii => "report.taxii",
            Self::Marking => "report.marking",
        }
    }
}

/// The one part of a report: all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPart {
    /// Marking, title, body, grading, links, indicators.
    Content,
}

/// A report read for a purpose.
#[derive(Debug, Clone)]
pub struct ReportRead {
    /// The report.
    pub record: ReportRecord,
    purpose: Purpose,
}

impl std::ops::Deref for ReportRead {
    type Target = ReportRecord;
    fn deref(&self) -> &ReportRecord {
        &self.record
    }
}

impl Protected for ReportRead {
    type Part = ReportPart;

    fn parts(&self) -> Vec<Part<ReportPart>> {
        let r = &self.record;
        vec![Part {
            part: ReportPart::Content,
            resource: Resource::Report(r.id),
            action: read_action(r.id, r.party, r.org, &r.marking),
            log: self.purpose.log(),
            fields: &["body"],
        }]
    }

    fn redact(&mut self, _allowed: &[ReportPart]) {}
}

/// Filters of the report list and export.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Words to find in the title, body, actors, intrusion sets and notes (case-insensitive).
    pub q: Option<String>,
    /// Only this TLP label (`clear`, `green`, `amber`, `amber_strict`, `red`).
    pub tlp: Option<String>,
}

/// An indicator as sent.
#[derive(Debug, Clone)]
pub struct NewIndicator {
    /// Name.
    pub name: Option<String>,
    /// The pattern.
    pub pattern: String,
    /// Its language (default `stix`).
    pub pattern_type: Option<String>,
}

/// A zone a new report concerns, optionally raised.
#[derive(Debug, Clone, Copy)]
pub struct ZoneLink {
    /// The zone.
    pub zone: Uuid,
    /// Raise its severity to this.
    pub raise_to: Option<u8>,
}

/// A new threat report, as the HTTP layer parsed it (times and places converted; the rest
/// is checked here, each error naming its field).
#[derive(Debug, Clone)]
pub struct NewReport {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// When observed (Unix seconds).
    pub observed_at: i64,
    /// TLP label.
    pub tlp: String,
    /// AMBER: released to the other party too.
    pub shared: bool,
    /// AMBER+STRICT: organisations besides the author's.
    pub releasable_orgs: Vec<Uuid>,
    /// Admiralty reliability letter and credibility digit.
    pub grading: (String, u8),
    /// Where (latitude, longitude).
    pub place: Option<(f64, f64)>,
    /// Zones concerned.
    pub zones: Vec<ZoneLink>,
    /// A zone the report creates (or why its feature is invalid, reported after the caller
    /// is known to be allowed to create zones).
    pub new_zone: Option<std::result::Result<ZoneInput, ValidationError>>,
    /// Sites concerned.
    pub sites: Vec<Uuid>,
    /// Incidents concerned.
    pub incidents: Vec<Uuid>,
    /// Movements concerned.
    pub movements: Vec<Uuid>,
    /// Threat actors.
    pub actors: Vec<String>,
    /// Intrusion sets.
    pub intrusion_sets: Vec<String>,
    /// Indicators.
    pub indicators: Vec<NewIndicator>,
    /// Notes.
    pub notes: Vec<String>,
}

/// A new marking.
#[derive(Debug, Clone)]
pub struct NewMarking {
    /// TLP label.
    pub tlp: String,
    /// AMBER: released to the other party too.
    pub shared: bool,
    /// AMBER+STRICT: organisations besides the author's.
    pub releasable_orgs: Vec<Uuid>,
    /// Why.
    pub reason: String,
}

/// A report received as STIX, with its zones converted by the HTTP layer (a zone whose
/// geometry it could not use comes with the reason).
#[derive(Debug)]
pub struct ImportedReport {
    /// The report as mapped from STIX.
    pub report: jsms_stix::Report,
    /// Its located zones: name and the zone, or why it cannot be one.
    pub zones: Vec<(String, std::result::Result<ZoneInput, String>)>,
}

/// The outcome of an import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    /// Reports created.
    pub created: Vec<Uuid>,
    /// Reports already present (same STIX id): unchanged.
    pub existing: Vec<Uuid>,
    /// Threat zones created.
    pub zones: Vec<Uuid>,
    /// What was not taken as it came.
    pub notices: Vec<String>,
}

/// Per STIX report id: when it was stored (ms), or why not.
pub type ImportOutcomes = Vec<(String, std::result::Result<i64, String>)>;

fn text_list(field: &str, items: &[String], max: usize) -> std::result::Result<Vec<String>, ValidationError> {
    if items.len() > 50 {
        return Err(ValidationError::new(field, "at most 50"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, t)| jsms_domain::text::required(&format!("{field}/{i}"), t, max))
        .collect()
}

fn importer() -> Change {
    Change::new(
        "report.import",
        None,
        Action::CreateReport {
            party: PartyId::from_uuid(Uuid::nil()),
        },
        Refusal::Forbidden("analysts, coordinators, liaison officers and intelligence tokens import reports"),
    )
}

impl Services {
    /// The names of organisations (not protected), each read once.
    pub async fn organisation_names(&self, mut orgs: Vec<OrgId>) -> HashMap<OrgId, String> {
        orgs.sort_unstable();
        orgs.dedup();
        let mut names = HashMap::new();
        for id in orgs {
            let name = self.db(move |s| s.org(id)).await.map(|o| o.name).unwrap_or_default();
            names.insert(id, name);
        }
        names
    }

    /// Whether the caller may change this report's marking (for the actions it is shown).
    pub fn may_change_marking(&self, caller: &Caller, r: &ReportRecord) -> bool {
        self.gate.allows(
            &caller.actor,
            Action::ChangeReportMarking {
                report: r.id,
                party: r.party,
            },
        )
    }

    /// The report index entries the caller may read, by their stored marking (nothing is
    /// opened or disclosed yet).
    async fn readable_index(&self, caller: &Caller, keep: impl Fn(&ReportMeta) -> bool) -> Result<Vec<ReportMeta>> {
        let index = self.db(|s| s.report_index(INDEX_LIMIT)).await?;
        Ok(index
            .into_iter()
            .filter(|m| keep(m) && self.gate.allows(&caller.actor, meta_action(m)))
            .collect())
    }

    /// Opens the reports of `index` and discloses those the caller may still read (the
    /// marking decided again on the record opened), one entry each.
    async fn open_all(
        &self,
        caller: &Caller,
        index: Vec<ReportMeta>,
        purpose: Purpose,
        keep: impl Fn(&ReportRecord) -> Result<bool>,
    ) -> Result<Vec<Disclosed<ReportRead>>> {
        let mut out = Vec::new();
        for m in index {
            let id = m.id;
            let record = self.db(move |s| s.report(id)).await?;
            let read = ReportRead { record, purpose };
            if self.gate.may_see(&caller.actor, &read) && keep(&read.record)? {
                out.push(read);
            }
        }
        self.gate.disclose_all(caller, out).await
    }

    /// The reports the caller may read, oldest first, filtered; each disclosed (one entry
    /// per report) for `purpose`.
    pub async fn reports(
        &self,
        caller: &Caller,
        filter: &ReportFilter,
        purpose: Purpose,
    ) -> Result<Vec<Disclosed<ReportRead>>> {
        let tlp = match filter.tlp.as_deref() {
            None | Some("") => None,
            Some(t) => Some(Tlp::parse(t).ok_or_else(|| Error::InvalidParameter {
                field: "tlp".into(),
                detail: "clear, green, amber, amber_strict or red".into(),
            })?),
        };
        let words: Vec<String> = filter
            .q
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let index = self
            .readable_index(caller, |m| tlp.is_none_or(|t| t == m.marking.tlp))
            .await?;
        self.open_all(caller, index, purpose, |r| {
            if words.is_empty() {
                return Ok(true);
            }
            let b = decode(r)?;
            let hay = format!(
                "{} {} {} {} {}",
                b.title,
                b.body,
                b.actors.join(" "),
                b.intrusion_sets.join(" "),
                b.notes.join(" ")
            )
            .to_lowercase();
            Ok(words.iter().all(|w| hay.contains(w.as_str())))
        })
        .await
    }

    /// The reports the caller may read whose index entry `keep` selects, in the order they
    /// were added (created, or re-marked into view): what a TAXII collection holds.
    pub async fn reports_where(
        &self,
        caller: &Caller,
        keep: impl Fn(&ReportMeta) -> bool,
        purpose: Purpose,
    ) -> Result<Vec<Disclosed<ReportRead>>> {
        let mut index = self.readable_index(caller, keep).await?;
        index.sort_by_key(|m| (m.updated_at.max(m.created_at), m.id));
        self.open_all(caller, index, purpose, |_| Ok(true)).await
    }

    /// One report, decided on its stored marking before it is opened; a caller who may not
    /// read it gets [`Error::NotFound`], exactly as for a missing one (the denial recorded).
    pub async fn report(&self, caller: &Caller, id: Uuid, purpose: Purpose) -> Result<Disclosed<ReportRead>> {
        let m = self
            .by_id(caller, purpose.log(), Resource::Report(id), move |s| s.report_meta(id))
            .await?;
        let read = Change::new(
            purpose.log(),
            Some(Resource::Report(id)),
            meta_action(&m),
            Refusal::Hidden,
        );
        self.gate.check(caller, &read).await?;
        let record = self.db(move |s| s.report(id)).await?;
        self.gate.disclose(caller, ReportRead { record, purpose }).await
    }

    /// Report `id` for a stream: disclosed (and recorded) if the caller may read it now.
    pub async fn report_for_stream(&self, caller: &Caller, id: Uuid) -> Result<Option<Disclosed<ReportRead>>> {
        let record = self.db(move |s| s.report(id)).await?;
        let read = ReportRead {
            record,
            purpose: Purpose::Read,
        };
        if !self.gate.may_see(&caller.actor, &read) {
            return Ok(None);
        }
        self.gate.disclose(caller, read).await.map(Some)
    }

    /// The threat zones a report links to that the caller may read, each disclosed: what
    /// its STIX form carries.
    pub async fn report_zones(&self, caller: &Caller, r: &ReportRecord) -> Result<Vec<Disclosed<ZoneRecord>>> {
        if !self.gate.allows(&caller.actor, Action::ReadZones) {
            return Ok(Vec::new());
        }
        let mut zones = Vec::new();
        for z in decode(r)?.zones {
            if let Ok(rec) = self.db(move |s| s.zone(z)).await {
                zones.push(rec);
            }
        }
        self.gate.disclose_all(caller, zones).await
    }

    /// Checks the marking sent against the organisations that exist.
    async fn marking_of(&self, tlp: &str, shared: bool, orgs: &[Uuid], own_org: OrgId) -> Result<Marking> {
        let tlp = Tlp::parse(tlp)
            .ok_or_else(|| ValidationError::new("/tlp", "clear, green, amber, amber_strict or red (FIRST TLP 2.0)"))?;
        let mut ids = Vec::new();
        for (i, o) in orgs.iter().enumerate() {
            let id = OrgId::from_uuid(*o);
            let field = format!("/releasable_orgs/{i}");
            referenced(self.db(move |s| s.org(id)).await, field.clone(), "organisation")?;
            if id == own_org {
                return Err(ValidationError::new(field, "your own organisation always reads it").into());
            }
            ids.push(id);
        }
        Ok(Marking::new(tlp, shared, ids)?)
    }

    /// Checks a new report's content; returns the body to store (zones not yet linked).
    async fn checked_body(&self, caller: &Caller, input: &NewReport) -> Result<ReportBody> {
        let title = jsms_domain::text::required("/title", &input.title, 200)?;
        let body = jsms_domain::text::required("/body", &input.body, 50_000)?;
        let now = self.clock.now();
        if input.observed_at > now + 300 {
            return Err(ValidationError::new("/observed_at", "cannot be in the future").into());
        }
        let mut reliability = input.grading.0.chars();
        let grading = match (reliability.next(), reliability.next()) {
            (Some(r), None) => Grading::new(r, input.grading.1)?,
            _ => {
                return Err(ValidationError::new(
                    "/grading/reliability",
                    "one letter, A (completely reliable) to F (cannot be judged)",
                )
                .into());
            }
        };
        let actors = text_list("/actors", &input.actors, 200)?;
        let intrusion_sets = text_list("/intrusion_sets", &input.intrusion_sets, 200)?;
        let notes = text_list("/notes", &input.notes, 5000)?;
        if input.indicators.len() > 50 {
            return Err(ValidationError::new("/indicators", "at most 50").into());
        }
        let mut indicators = Vec::new();
        for (i, ind) in input.indicators.iter().enumerate() {
            let pattern = jsms_domain::text::required(&format!("/indicators/{i}/pattern"), &ind.pattern, 5000)?;
            let pattern_type = ind.pattern_type.clone().unwrap_or_else(|| "stix".into());
            if !PATTERN_TYPES.contains(&pattern_type.as_str()) {
                return Err(ValidationError::new(
                    format!("/indicators/{i}/pattern_type"),
                    "stix, sigma, snort, suricata, yara or pcre",
                )
                .into());
            }
            if pattern_type == "stix" && !(pattern.starts_with('[') && pattern.ends_with(']') && pattern.contains(':'))
            {
                return Err(ValidationError::new(
                    format!("/indicators/{i}/pattern"),
                    "a STIX pattern, e.g. [ipv4-addr:value = '198.51.100.7']",
                )
                .into());
            }
            let name = ind
                .name
                .as_deref()
                .map(|n| jsms_domain::text::required(&format!("/indicators/{i}/name"), n, 200))
                .transpose()?;
            indicators.push(IndicatorBody {
                name,
                pattern,
                pattern_type,
                valid_from: input.observed_at,
            });
        }
        for (field, n) in [
            ("/sites", input.sites.len()),
            ("/incidents", input.incidents.len()),
            ("/movements", input.movements.len()),
            ("/zones", input.zones.len()),
        ] {
            if n > 50 {
                return Err(ValidationError::new(field, "at most 50").into());
            }
        }
        for (i, s) in input.sites.iter().enumerate() {
            let id = SiteId::from_uuid(*s);
            referenced(self.db(move |st| st.site(id)).await, format!("/sites/{i}"), "site")?;
        }
        // Links to incidents and movements only the caller may read (unreadable ones are
        // reported exactly like missing ones).
        for (i, inc) in input.incidents.iter().enumerate() {
            let id = *inc;
            let found = self.db(move |s| s.incident(id)).await.and_then(|r| {
                let action = Action::ReadIncident {
                    incident: r.id,
                    party: r.party,
                    shared: r.report.shared,
                };
                if self.gate.allows(&caller.actor, action) {
                    Ok(r)
                } else {
                    Err(Error::NotFound)
                }
            });
            referenced(found, format!("/incidents/{i}"), "incident")?;
        }
        for (i, m) in input.movements.iter().enumerate() {
            let id = MovementId::from_uuid(*m);
            let found = self.db(move |s| s.movement(id)).await.and_then(|r| {
                let action = Action::ReadMovement {
                    movement: r.id,
                    org: r.org,
                    party: r.party,
                };
                if self.gate.allows(&caller.actor, action) {
                    Ok(r)
                } else {
                    Err(Error::NotFound)
                }
            });
            referenced(found, format!("/movements/{i}"), "movement")?;
        }
        Ok(ReportBody {
            title,
            body,
            observed_at: input.observed_at,
            reported_at: now,
            grading: Some(grading),
            place: input.place,
            zones: Vec::new(),
            sites: input.sites.clone(),
            incidents: input.incidents.clone(),
            movements: input.movements.clone(),
            actors,
            intrusion_sets,
            indicators,
            notes,
            raw: Vec::new(),
            source: None,
            history: Vec::new(),
        })
    }

    /// Writes a threat report. Linked zones raised and a new zone are each decided and
    /// recorded as zone changes and re-evaluated before the answer; every check comes before
    /// any change, so bad input changes nothing.
    pub async fn create_report(&self, caller: &Caller, input: NewReport) -> Result<Disclosed<ReportRead>> {
        let user = caller.human()?.clone();
        let create = Change::new(
            "report.create",
            None,
            Action::CreateReport { party: user.party_id },
            Refusal::Forbidden("analysts, coordinators and liaison officers write threat reports"),
        );
        let reasons = self.gate.check(caller, &create).await?;
        let mut body = self.checked_body(caller, &input).await?;
        let marking = self
            .marking_of(&input.tlp, input.shared, &input.releasable_orgs, user.org_id)
            .await?;
        let mut zones = Vec::new();
        for (i, z) in input.zones.iter().enumerate() {
            let id = z.zone;
            referenced(
                self.db(move |s| s.zone(id)).await,
                format!("/zones/{i}/zone"),
                "threat zone",
            )?;
            if zones.contains(&id) {
                return Err(ValidationError::new(format!("/zones/{i}/zone"), "named twice").into());
            }
            zones.push(id);
        }
        for (i, z) in input.zones.iter().enumerate() {
            if let Some(severity) = z.raise_to {
                self.check_raise(caller, z.zone, severity, &format!("/zones/{i}"))
                    .await?;
            }
        }
        let new_zone = match input.new_zone {
            Some(checked) => {
                self.check_zone_write(caller).await?;
                Some(checked?)
            }
            None => None,
        };
        let id = Uuid::now_v7();
        for (i, z) in input.zones.iter().enumerate() {
            if let Some(severity) = z.raise_to {
                let why = format!("raised by threat report {id}");
                self.raise_zone(caller, z.zone, severity, &format!("/zones/{i}"), &why)
                    .await?;
            }
        }
        if let Some(z) = new_zone {
            zones.push(self.store_new_zone(caller, z).await?.id);
        }
        body.zones = zones;
        let now_ms = self.clock.now_ms();
        let record = ReportRecord {
            id,
            stix_id: jsms_stix::report_id(id),
            party: user.party_id,
            org: user.org_id,
            author: Some(user.id),
            marking,
            body: encode(&body)?,
            version: 1,
            created_at: now_ms,
            updated_at: now_ms,
        };
        let change = Change {
            resource: Some(Resource::Report(id)),
            ..create
        };
        let permit = self
            .gate
            .record_permit(
                caller,
                &change,
                [reasons, vec![record.marking.tlp.label().to_owned()]].concat(),
            )
            .await?;
        let r = record.clone();
        self.write(caller, &change, permit, move |s| s.create_report(&r))
            .await?;
        self.intel.publish(id);
        self.gate
            .disclose(
                caller,
                ReportRead {
                    record,
                    purpose: Purpose::Read,
                },
            )
            .await
    }

    /// Changes a report's marking (the owning party's analysts and coordinators); recorded
    /// in the report's history and the audit log, downgrades named as such.
    pub async fn change_marking(
        &self,
        caller: &Caller,
        id: Uuid,
        version: i64,
        input: NewMarking,
    ) -> Result<Disclosed<ReportRead>> {
        let (r, mut change, reasons) = self.marking_permitted(caller, id).await?;
        let reason = jsms_domain::text::required("/reason", &input.reason, 2000)?;
        let marking = self
            .marking_of(&input.tlp, input.shared, &input.releasable_orgs, r.org)
            .await?;
        if marking == r.marking {
            return Err(ValidationError::new("/tlp", "this is the report's marking already").into());
        }
        // The parties of the organisations named, for telling a widening from a narrowing.
        let mut parties = HashMap::new();
        for o in r.marking.orgs.iter().chain(&marking.orgs) {
            let id = *o;
            if let Ok(org) = self.db(move |s| s.org(id)).await {
                parties.insert(id, org.party_id);
            }
        }
        let party_of = |o: OrgId| parties.get(&o).copied();
        let downgrade = r.marking.is_downgrade(&marking, r.org, r.party, &party_of);
        let mut b = decode(&r)?;
        let entry = MarkingChange {
            at: crate::rfc3339(self.clock.now()),
            by: caller.who.principal.clone(),
            from: describe(&r.marking),
            to: describe(&marking),
            downgrade,
            reason,
        };
        if downgrade {
            change.log = "report.marking.downgrade";
        }
        let permit = self
            .gate
            .record_permit(
                caller,
                &change,
                [
                    reasons,
                    vec![format!("{} → {}: {}", entry.from, entry.to, entry.reason)],
                ]
                .concat(),
            )
            .await?;
        b.history.push(entry);
        let updated = ReportRecord {
            marking,
            body: encode(&b)?,
            ..r
        };
        let now_ms = self.clock.now_ms();
        let saved = self
            .write(caller, &change, permit, move |s| {
                s.update_report(&updated, version, now_ms)
            })
            .await?;
        self.intel.publish(saved.id);
        self.gate
            .disclose(
                caller,
                ReportRead {
                    record: saved,
                    purpose: Purpose::Read,
                },
            )
            .await
    }

    /// Opens report `id` to change its marking and decides whether the caller may: the
    /// report, the change to record, and the allowing policies.
    async fn marking_permitted(&self, caller: &Caller, id: Uuid) -> Result<(ReportRecord, Change, Vec<String>)> {
        let r = self.report(caller, id, Purpose::Marking).await?.record.clone();
        let change = Change::new(
            "report.marking",
            Some(Resource::Report(r.id)),
            Action::ChangeReportMarking {
                report: r.id,
                party: r.party,
            },
            Refusal::Forbidden("only the owning party's analysts and coordinators change a marking"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        Ok((r, change, reasons))
    }

    /// Whether the caller may change report `id`'s marking (hidden reports are not found).
    pub async fn check_marking(&self, caller: &Caller, id: Uuid) -> Result<()> {
        self.marking_permitted(caller, id).await.map(drop)
    }

    /// Whether the caller may add reports (a TAXII collection's `can_write`; no entry).
    pub fn may_import(&self, caller: &Caller) -> bool {
        self.gate.allows(
            &caller.actor,
            Action::CreateReport {
                party: caller.actor.party_id,
            },
        )
    }

    /// Decides whether the caller may import reports (before its input is read).
    pub async fn check_import(&self, caller: &Caller) -> Result<Vec<String>> {
        let change = Change {
            action: Action::CreateReport {
                party: caller.actor.party_id,
            },
            ..importer()
        };
        self.gate.check(caller, &change).await
    }

    /// Imports reports received as STIX as reports of the caller's party and organisation:
    /// idempotent by STIX id; zones created when the caller may write zones; each report
    /// recorded before it is stored. Used by the import endpoint and TAXII.
    pub async fn import_reports(
        &self,
        caller: &Caller,
        reports: Vec<ImportedReport>,
        mut notices: Vec<String>,
        shared: bool,
    ) -> Result<(ImportResult, ImportOutcomes)> {
        let reasons = self.check_import(caller).await?;
        let mut result = ImportResult {
            created: Vec::new(),
            existing: Vec::new(),
            zones: Vec::new(),
            notices: Vec::new(),
        };
        result.notices.append(&mut notices);
        let mut outcomes = Vec::new();
        let may_write_zones = self.gate.allows(
            &caller.actor,
            Action::WriteZone {
                party: caller.actor.party_id,
            },
        );
        for ImportedReport {
            report: rep,
            zones: zone_inputs,
        } in reports
        {
            let stix_id = rep.stix_id.clone();
            let sid = stix_id.clone();
            if let Some(known) = self.db(move |s| s.report_by_stix_id(&sid)).await? {
                // Known only to those who may read it; to anyone else it is a refusal that
                // says nothing of the report.
                if !self.gate.allows(
                    &caller.actor,
                    read_action(known.id, known.party, known.org, &known.marking),
                ) {
                    result
                        .notices
                        .push(format!("{stix_id}: not imported: this STIX id is taken"));
                    outcomes.push((stix_id, Err("this STIX id is taken".into())));
                    continue;
                }
                // The owning party receiving it again with a stricter marking: the stricter applies.
                if known.party == caller.actor.party_id && rep.tlp > known.marking.tlp {
                    self.tighten(caller, &known, rep.tlp).await?;
                    result
                        .notices
                        .push(format!("{stix_id}: already here; now marked {}", rep.tlp.label()));
                }
                result.existing.push(known.id);
                outcomes.push((stix_id, Ok(known.updated_at.max(known.created_at))));
                continue;
            }
            let id = Uuid::now_v7();
            let mut zones = Vec::new();
            for (name, zone) in zone_inputs {
                if !may_write_zones {
                    result.notices.push(format!(
                        "{stix_id}: zone “{name}” not created: you may not write threat zones"
                    ));
                    continue;
                }
                match zone {
                    Err(why) => result.notices.push(format!("{stix_id}: zone “{name}” {why}")),
                    Ok(input) => {
                        let created = self.store_new_zone(caller, input).await?;
                        zones.push(created.id);
                        result.zones.push(created.id);
                    }
                }
            }
            let marking = match rep.tlp {
                Tlp::Amber => Marking::new(Tlp::Amber, shared, Vec::new()),
                t => Marking::new(t, false, Vec::new()),
            }?;
            let now_ms = self.clock.now_ms();
            if [
                rep.actors.len(),
                rep.intrusion_sets.len(),
                rep.indicators.len(),
                rep.notes.len(),
            ]
            .iter()
            .any(|n| *n > IMPORT_CAP)
            {
                result.notices.push(format!(
                    "{stix_id}: only the first {IMPORT_CAP} actors, intrusion sets, indicators and notes kept"
                ));
            }
            let record = ReportRecord {
                id,
                stix_id: stix_id.clone(),
                party: caller.actor.party_id,
                org: caller.actor.org_id,
                author: caller.user.as_ref().map(|u| u.id),
                marking,
                body: encode(&ReportBody {
                    title: rep.title.chars().take(200).collect(),
                    body: rep.body.chars().take(50_000).collect(),
                    observed_at: rep.observed_at,
                    reported_at: rep.reported_at,
                    grading: rep.grading,
                    place: rep.place,
                    zones,
                    sites: Vec::new(),
                    incidents: Vec::new(),
                    movements: Vec::new(),
                    actors: rep.actors.into_iter().take(IMPORT_CAP).collect(),
                    intrusion_sets: rep.intrusion_sets.into_iter().take(IMPORT_CAP).collect(),
                    indicators: rep
                        .indicators
                        .into_iter()
                        .take(IMPORT_CAP)
                        .map(|i| IndicatorBody {
                            name: i.name,
                            pattern: i.pattern,
                            pattern_type: i.pattern_type,
                            valid_from: i.valid_from,
                        })
                        .collect(),
                    notes: rep.notes.into_iter().take(IMPORT_CAP).collect(),
                    raw: rep.raw,
                    source: rep.source,
                    history: Vec::new(),
                })?,
                version: 1,
                created_at: now_ms,
                updated_at: now_ms,
            };
            let change = Change {
                resource: Some(Resource::Report(id)),
                action: Action::CreateReport {
                    party: caller.actor.party_id,
                },
                ..importer()
            };
            let permit = self
                .gate
                .record_permit(
                    caller,
                    &change,
                    [
                        reasons.clone(),
                        vec![stix_id.clone(), record.marking.tlp.label().to_owned()],
                    ]
                    .concat(),
                )
                .await?;
            let r = record.clone();
            match self.write(caller, &change, permit, move |s| s.create_report(&r)).await {
                Ok(()) => {
                    self.intel.publish(id);
                    result.created.push(id);
                    outcomes.push((stix_id, Ok(now_ms)));
                }
                Err(Error::Conflict(m)) => outcomes.push((stix_id, Err(m))),
                Err(e) => return Err(e),
            }
        }
        Ok((result, outcomes))
    }

    /// Marks a report the caller's party owns with the stricter `tlp` it was received with
    /// again (recorded; history kept).
    async fn tighten(&self, caller: &Caller, known: &ReportRecord, tlp: Tlp) -> Result<()> {
        let mut b = decode(known)?;
        let to = Marking::new(tlp, false, Vec::new())?;
        b.history.push(MarkingChange {
            at: crate::rfc3339(self.clock.now()),
            by: caller.who.principal.clone(),
            from: describe(&known.marking),
            to: describe(&to),
            downgrade: false,
            reason: "imported again with a stricter marking".into(),
        });
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow(
                    "report.marking",
                    Some(Resource::Report(known.id)),
                    format!("{} → {}: imported again", known.marking.tlp.label(), tlp.label()),
                ),
            )
            .await?;
        let (version, now_ms) = (known.version, self.clock.now_ms());
        let updated = ReportRecord {
            marking: to,
            body: encode(&b)?,
            ..known.clone()
        };
        self.db(move |s| s.update_report(&updated, version, now_ms)).await?;
        self.intel.publish(known.id);
        Ok(())
    }

    /// Stores the status of a TAXII add request, the caller's party's.
    pub async fn save_taxii_status(&self, caller: &Caller, id: Uuid, status: Value) -> Result<()> {
        let (party, now) = (caller.actor.party_id, self.clock.now());
        self.db(move |s| s.save_taxii_status(id, party, &status, now)).await
    }

    /// A TAXII status of the caller's party; any other is not found.
    pub async fn taxii_status(&self, caller: &Caller, id: Uuid) -> Result<Value> {
        let (party, body) = self.db(move |s| s.taxii_status(id)).await?;
        if party != caller.actor.party_id {
            return Err(Error::NotFound);
        }
        Ok(body)
    }
}
