//! Threat reports (PRODUCT §3.6): written with a FIRST TLP 2.0 marking, a releasability
//! and an Admiralty grading; linked to zones, sites, incidents and movements; exported and
//! imported as STIX 2.1 ([`jsms_stix`]); streamed as they appear.
//!
//! The marking is enforced by the authorization component (`ReadReport`) on every read
//! path — list, search, one report, the stream, STIX export and TAXII — from the plain
//! marking columns, before a report's sealed content is opened. A report is stored with its
//! marking in one statement, so it is never visible first and restricted later. Changing a
//! marking (downgrades included) is the owning party's, recorded in the report's history
//! and the audit log.
//!
//! A report may create a threat zone or raise linked zones' severity: the zone routes do
//! that (authorized as `WriteZone`), and the planned and in-progress movements are
//! re-evaluated before the request answers.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, RequestMeta, expected_version, path_id};
use crate::routes::zones::{ZoneFeature, ZoneGeometry, ZoneProperties};
use crate::routes::{referenced, require};
use crate::state::{AppState, Event};
use crate::wire::{GeoPoint, rfc3339};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{MovementId, OrgId, SiteId};
use jsms_domain::intel::{Grading, Marking, OrgSet, Tlp};
use jsms_domain::zone::ZoneShape;
use jsms_store::{ReportMeta, ReportRecord, ZoneRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

/// Largest STIX bundle imported, bytes.
pub const MAX_BUNDLE_BYTES: usize = 8 * 1024 * 1024;

/// Reports considered by a list, an export or a TAXII request.
pub const INDEX_LIMIT: usize = 10_000;

/// How long one report stream lasts before the client reconnects (and the marking is
/// decided again for everything it receives).
const STREAM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// The report routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports, create_report))
        .routes(routes!(report_stream))
        .routes(routes!(export_reports))
        .routes(routes!(get_report))
        .routes(routes!(report_stix))
        .routes(routes!(change_marking))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_reports))
                .layer(DefaultBodyLimit::max(MAX_BUNDLE_BYTES)),
        )
}

/// A numbered report event: (event number, report id).
type Numbered = (u64, Uuid);

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
pub fn read_action(id: Uuid, party: jsms_domain::ids::PartyId, org: OrgId, marking: &Marking) -> Action {
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

fn record_action(r: &ReportRecord) -> Action {
    read_action(r.id, r.party, r.org, &r.marking)
}

/// An indicator as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

fn decode(r: &ReportRecord) -> ApiResult<ReportBody> {
    serde_json::from_value(r.body.clone()).map_err(|e| ApiError::Internal(format!("report {}: {e}", r.id)))
}

fn encode(b: &ReportBody) -> ApiResult<Value> {
    serde_json::to_value(b).map_err(|e| ApiError::Internal(e.to_string()))
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

/// The Admiralty grading as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradingIn {
    /// Source reliability, `A` (completely reliable) to `F` (cannot be judged).
    pub reliability: String,
    /// Information credibility, 1 (confirmed) to 6 (cannot be judged).
    pub credibility: u8,
}

/// A zone the report concerns, optionally raised.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneLinkIn {
    /// The zone.
    pub zone: Uuid,
    /// Raise its severity to this (1–5, above its current one); the owning party only.
    #[serde(default)]
    pub raise_to: Option<u8>,
}

/// An indicator as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorIn {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// The pattern, e.g. `[ipv4-addr:value = '198.51.100.7']`.
    pub pattern: String,
    /// `stix` (default), `sigma`, `snort`, `suricata`, `yara`, `pcre`.
    #[serde(default)]
    pub pattern_type: Option<String>,
}

/// A new threat report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// Title (1–200 characters).
    pub title: String,
    /// The report (1–50,000 characters).
    pub body: String,
    /// When the threat was observed (RFC 3339).
    pub observed_at: String,
    /// `clear`, `green`, `amber`, `amber_strict`, `red`.
    pub tlp: String,
    /// TLP:AMBER only: released to the other party as well.
    #[serde(default)]
    pub shared: bool,
    /// TLP:AMBER+STRICT only: organisations it is released to besides yours (at most 8).
    #[serde(default)]
    pub releasable_orgs: Vec<Uuid>,
    /// Admiralty grading.
    pub grading: GradingIn,
    /// Where it was observed.
    #[serde(default)]
    pub place: Option<GeoPoint>,
    /// Threat zones concerned (and raised).
    #[serde(default)]
    pub zones: Vec<ZoneLinkIn>,
    /// A threat zone this report creates.
    #[serde(default)]
    pub new_zone: Option<ZoneFeature>,
    /// Sites concerned.
    #[serde(default)]
    pub sites: Vec<Uuid>,
    /// Incidents concerned (ones you may read).
    #[serde(default)]
    pub incidents: Vec<Uuid>,
    /// Movements concerned (ones you may read).
    #[serde(default)]
    pub movements: Vec<Uuid>,
    /// Threat actors (names).
    #[serde(default)]
    pub actors: Vec<String>,
    /// Intrusion sets (names).
    #[serde(default)]
    pub intrusion_sets: Vec<String>,
    /// Indicators.
    #[serde(default)]
    pub indicators: Vec<IndicatorIn>,
    /// Notes.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A report as its reader sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    /// Identifier.
    pub id: Uuid,
    /// Its STIX id.
    pub stix_id: String,
    /// Title.
    pub title: String,
    /// The report.
    pub body: String,
    /// `clear`, `green`, `amber`, `amber_strict`, `red`.
    pub tlp: String,
    /// `TLP:AMBER+STRICT`.
    pub tlp_label: String,
    /// Released to both parties.
    pub shared: bool,
    /// TLP:AMBER+STRICT: the organisations it is released to besides the author's.
    pub releasable_orgs: Vec<Uuid>,
    /// Admiralty grading, e.g. `B2`.
    pub grading: Option<String>,
    /// Observed.
    pub observed_at: String,
    /// Reported.
    pub reported_at: String,
    /// Owning party.
    pub party: Uuid,
    /// Its name.
    pub party_name: String,
    /// The author's organisation.
    pub org: Uuid,
    /// Its name.
    pub org_name: String,
    /// The source named by an imported bundle.
    pub source: Option<String>,
    /// Where.
    pub place: Option<GeoPoint>,
    /// Linked zones.
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
    /// STIX objects kept as received (not mapped).
    pub raw_objects: usize,
    /// Marking changes.
    pub history: Vec<MarkingChange>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// What the caller may do: `change_marking`.
    pub allowed: Vec<String>,
}

/// Reports, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    /// Reports the caller may read.
    pub items: Vec<ReportView>,
}

/// The names of organisations, each read once.
pub async fn org_names(state: &AppState, mut orgs: Vec<OrgId>) -> std::collections::HashMap<OrgId, String> {
    orgs.sort_unstable();
    orgs.dedup();
    let mut names = std::collections::HashMap::new();
    for id in orgs {
        let name = state.db(move |s| s.org(id)).await.map(|o| o.name).unwrap_or_default();
        names.insert(id, name);
    }
    names
}

async fn view(state: &AppState, principal: &Principal, r: &ReportRecord) -> ApiResult<ReportView> {
    let name = org_names(state, vec![r.org]).await.remove(&r.org).unwrap_or_default();
    view_named(state, principal, r, name).await
}

/// A report as its reader sees it, the author organisation's name given.
async fn view_named(
    state: &AppState,
    principal: &Principal,
    r: &ReportRecord,
    org_name: String,
) -> ApiResult<ReportView> {
    let b = decode(r)?;
    let party_name = state.party(r.party).await.map(|p| p.name).unwrap_or_default();
    let mut allowed = Vec::new();
    if state
        .decide(
            &principal.actor,
            Action::ChangeReportMarking {
                report: r.id,
                party: r.party,
            },
        )
        .is_allow()
    {
        allowed.push("change_marking".to_owned());
    }
    Ok(ReportView {
        id: r.id,
        stix_id: r.stix_id.clone(),
        title: b.title,
        body: b.body,
        tlp: r.marking.tlp.as_str().to_owned(),
        tlp_label: r.marking.tlp.label().to_owned(),
        shared: r.marking.shared,
        releasable_orgs: r.marking.orgs.iter().map(|o| o.uuid()).collect(),
        grading: b.grading.map(Grading::code),
        observed_at: rfc3339(b.observed_at),
        reported_at: rfc3339(b.reported_at),
        party: r.party.uuid(),
        party_name,
        org: r.org.uuid(),
        org_name,
        source: b.source,
        place: b.place.map(|(lat, lon)| GeoPoint {
            kind: crate::wire::PointTag::Point,
            coordinates: [lon, lat],
        }),
        zones: b.zones,
        sites: b.sites,
        incidents: b.incidents,
        movements: b.movements,
        actors: b.actors,
        intrusion_sets: b.intrusion_sets,
        indicators: b.indicators,
        notes: b.notes,
        raw_objects: b.raw.len(),
        history: b.history,
        version: r.version,
        allowed,
    })
}

/// Filters of the report list and export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Words to find in the title, body, actors and notes (case-insensitive).
    pub q: Option<String>,
    /// Only this TLP label.
    pub tlp: Option<String>,
}

/// The reports the caller may read, opened, oldest first; each read audited as one entry.
async fn readable_reports(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    query: &ReportQuery,
    audit_action: &'static str,
) -> ApiResult<Vec<ReportRecord>> {
    let tlp = match query.tlp.as_deref() {
        None | Some("") => None,
        Some(t) => Some(Tlp::parse(t).ok_or_else(|| ApiError::InvalidParameter {
            field: "tlp".into(),
            detail: "clear, green, amber, amber_strict or red".into(),
        })?),
    };
    let words: Vec<String> = query
        .q
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let index = state.db(|s| s.report_index(INDEX_LIMIT)).await?;
    let mut out = Vec::new();
    for m in index {
        if tlp.is_some_and(|t| t != m.marking.tlp) || !state.decide(&principal.actor, meta_action(&m)).is_allow() {
            continue;
        }
        let Some(r) = open_readable(state, principal, m.id).await? else {
            continue;
        };
        if !words.is_empty() {
            let b = decode(&r)?;
            let hay = format!(
                "{} {} {} {} {}",
                b.title,
                b.body,
                b.actors.join(" "),
                b.intrusion_sets.join(" "),
                b.notes.join(" ")
            )
            .to_lowercase();
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                continue;
            }
        }
        out.push(r);
    }
    let entries = out
        .iter()
        .map(|r| {
            let event = Event::allow(audit_action, Some(format!("report:{}", r.id)), r.marking.tlp.label());
            state.entry(&principal.who, meta, event.fields(&["body"]))
        })
        .collect();
    state.audit_all(entries).await?;
    Ok(out)
}

/// Threat reports the caller may read, newest first; `q` searches them.
#[utoipa::path(get, path = "/api/v1/reports", tag = "intelligence", params(ReportQuery),
    responses((status = 200, body = ReportList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_reports(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Json<ReportList>> {
    let records = readable_reports(&state, &principal, &meta, &query, "report.read").await?;
    let names = org_names(&state, records.iter().map(|r| r.org).collect()).await;
    let mut items = Vec::new();
    for r in records.iter().rev() {
        let name = names.get(&r.org).cloned().unwrap_or_default();
        items.push(view_named(&state, &principal, r, name).await?);
    }
    Ok(Json(ReportList { items }))
}

/// Opens a report whose stored marking was found readable, and decides again on the record
/// opened, in case its marking changed meanwhile: `None` when it may no longer be read.
pub async fn open_readable(state: &AppState, principal: &Principal, id: Uuid) -> ApiResult<Option<ReportRecord>> {
    let r = state.db(move |s| s.report(id)).await?;
    Ok(state
        .decide(&principal.actor, record_action(&r))
        .is_allow()
        .then_some(r))
}

/// One report; 404 when the caller may not read it (exactly like a missing one).
async fn readable(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    raw: &str,
    what: &'static str,
) -> ApiResult<ReportRecord> {
    let id = path_id(raw)?;
    // Decided on the stored marking before the report is opened.
    let m = state.db(move |s| s.report_meta(id)).await?;
    let rules = require(
        state,
        principal,
        meta,
        what,
        Some(format!("report:{id}")),
        meta_action(&m),
        ApiError::NotFound,
    )
    .await?;
    let r = open_readable(state, principal, id).await?.ok_or(ApiError::NotFound)?;
    state
        .audit(
            &principal.who,
            meta,
            Event::allow(what, Some(format!("report:{id}")), rules).fields(&["body"]),
        )
        .await?;
    Ok(r)
}

/// One threat report.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "intelligence", params(("id" = String, Path, description = "Report id")),
    responses((status = 200, body = ReportView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_report(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    let r = readable(&state, &principal, &meta, &id, "report.read").await?;
    Ok(Json(view(&state, &principal, &r).await?))
}

fn text_list(field: &str, items: &[String], max: usize) -> Result<Vec<String>, ValidationError> {
    if items.len() > 50 {
        return Err(ValidationError::new(field, "at most 50"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, t)| jsms_domain::text::required(&format!("{field}/{i}"), t, max))
        .collect()
}

const PATTERN_TYPES: [&str; 6] = ["stix", "sigma", "snort", "suricata", "yara", "pcre"];

/// Checks the marking sent against the organisations that exist.
async fn marking_of(state: &AppState, tlp: &str, shared: bool, orgs: &[Uuid], own_org: OrgId) -> ApiResult<Marking> {
    let tlp = Tlp::parse(tlp)
        .ok_or_else(|| ValidationError::new("/tlp", "clear, green, amber, amber_strict or red (FIRST TLP 2.0)"))?;
    let mut ids = Vec::new();
    for (i, o) in orgs.iter().enumerate() {
        let id = OrgId::from_uuid(*o);
        let field = format!("/releasable_orgs/{i}");
        referenced(state.db(move |s| s.org(id)).await, field.clone(), "organisation")?;
        if id == own_org {
            return Err(ValidationError::new(field, "your own organisation always reads it").into());
        }
        ids.push(id);
    }
    Ok(Marking::new(tlp, shared, ids)?)
}

/// Writes a threat report. With `new_zone` it creates a threat zone; with `raise_to` on a
/// linked zone it raises that zone's severity: either re-evaluates the planned and
/// in-progress movements before the answer.
#[utoipa::path(post, path = "/api/v1/reports", tag = "intelligence", request_body = ReportIn,
    responses((status = 201, body = ReportView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn create_report(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<ReportIn>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    let user = principal.human()?.clone();
    let rules = require(
        &state,
        &principal,
        &meta,
        "report.create",
        None,
        Action::CreateReport { party: user.party_id },
        ApiError::Forbidden("analysts, coordinators and liaison officers write threat reports"),
    )
    .await?;
    let title = jsms_domain::text::required("/title", &input.title, 200)?;
    let body = jsms_domain::text::required("/body", &input.body, 50_000)?;
    let observed_at = crate::wire::parse_rfc3339("/observed_at", &input.observed_at)?;
    let now = state.clock.now();
    if observed_at > now + 300 {
        return Err(ValidationError::new("/observed_at", "cannot be in the future").into());
    }
    let marking = marking_of(&state, &input.tlp, input.shared, &input.releasable_orgs, user.org_id).await?;
    let mut reliability = input.grading.reliability.chars();
    let grading = match (reliability.next(), reliability.next()) {
        (Some(r), None) => Grading::new(r, input.grading.credibility)?,
        _ => {
            return Err(ValidationError::new(
                "/grading/reliability",
                "one letter, A (completely reliable) to F (cannot be judged)",
            )
            .into());
        }
    };
    let place = input
        .place
        .as_ref()
        .map(|p| p.to_coordinate("/place").map(|c| (c.lat(), c.lon())))
        .transpose()?;
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
        if pattern_type == "stix" && !(pattern.starts_with('[') && pattern.ends_with(']') && pattern.contains(':')) {
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
            valid_from: observed_at,
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
        referenced(state.db(move |st| st.site(id)).await, format!("/sites/{i}"), "site")?;
    }
    for (i, inc) in input.incidents.iter().enumerate() {
        let id = *inc;
        let found = state.db(move |s| s.incident(id)).await.and_then(|r| {
            if state
                .decide(
                    &principal.actor,
                    jsms_domain::access::Action::ReadIncident {
                        incident: r.id,
                        party: r.party,
                        shared: r.report.shared,
                    },
                )
                .is_allow()
            {
                Ok(r)
            } else {
                Err(ApiError::NotFound)
            }
        });
        referenced(found, format!("/incidents/{i}"), "incident")?;
    }
    for (i, m) in input.movements.iter().enumerate() {
        let id = MovementId::from_uuid(*m);
        let found = state.db(move |s| s.movement(id)).await.and_then(|r| {
            if state
                .decide(
                    &principal.actor,
                    jsms_domain::access::Action::ReadMovement {
                        movement: r.id,
                        org: r.org,
                        party: r.party,
                    },
                )
                .is_allow()
            {
                Ok(r)
            } else {
                Err(ApiError::NotFound)
            }
        });
        referenced(found, format!("/movements/{i}"), "movement")?;
    }
    let mut zones = Vec::new();
    for (i, z) in input.zones.iter().enumerate() {
        let id = z.zone;
        referenced(
            state.db(move |s| s.zone(id)).await,
            format!("/zones/{i}/zone"),
            "threat zone",
        )?;
        if zones.contains(&id) {
            return Err(ValidationError::new(format!("/zones/{i}/zone"), "named twice").into());
        }
        zones.push(id);
    }
    // Every zone change is checked before any is made: bad input changes nothing.
    for (i, z) in input.zones.iter().enumerate() {
        if let Some(severity) = z.raise_to {
            crate::routes::zones::check_raise(&state, &principal, &meta, z.zone, severity, &format!("/zones/{i}"))
                .await?;
        }
    }
    if let Some(f) = &input.new_zone {
        require(
            &state,
            &principal,
            &meta,
            "zone.create",
            None,
            Action::WriteZone { party: user.party_id },
            ApiError::Forbidden("only analysts and host coordinators create threat zones"),
        )
        .await?;
        crate::routes::zones::check_feature(f, "/new_zone")?;
    }
    let id = Uuid::now_v7();
    // Zones first (each authorized, audited and re-evaluated on its own); the report then
    // names them.
    for (i, z) in input.zones.iter().enumerate() {
        if let Some(severity) = z.raise_to {
            let why = format!("raised by threat report {id}");
            crate::routes::zones::raise(
                &state,
                &principal,
                &meta,
                z.zone,
                severity,
                &format!("/zones/{i}"),
                &why,
            )
            .await?;
        }
    }
    if let Some(f) = &input.new_zone {
        let created = crate::routes::zones::create_from(&state, &principal, &meta, f, "/new_zone").await?;
        zones.push(created.id);
    }
    let record = ReportRecord {
        id,
        stix_id: jsms_stix::report_id(id),
        party: user.party_id,
        org: user.org_id,
        author: Some(user.id),
        marking,
        body: encode(&ReportBody {
            title,
            body,
            observed_at,
            reported_at: now,
            grading: Some(grading),
            place,
            zones,
            sites: input.sites,
            incidents: input.incidents,
            movements: input.movements,
            actors,
            intrusion_sets,
            indicators,
            notes,
            raw: Vec::new(),
            source: None,
            history: Vec::new(),
        })?,
        version: 1,
        created_at: state.clock.now_ms(),
        updated_at: state.clock.now_ms(),
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "report.create",
                Some(format!("report:{id}")),
                [rules, vec![record.marking.tlp.label().to_owned()]].concat(),
            ),
        )
        .await?;
    let r = record.clone();
    state.db(move |s| s.create_report(&r)).await?;
    state.intel.publish(id);
    Ok((StatusCode::CREATED, Json(view(&state, &principal, &record).await?)))
}

/// A new marking.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkingIn {
    /// The version read.
    pub version: Option<i64>,
    /// `clear`, `green`, `amber`, `amber_strict`, `red`.
    pub tlp: String,
    /// TLP:AMBER only: released to the other party too.
    #[serde(default)]
    pub shared: bool,
    /// TLP:AMBER+STRICT only: organisations besides the author's.
    #[serde(default)]
    pub releasable_orgs: Vec<Uuid>,
    /// Why (recorded).
    pub reason: String,
}

/// Changes a report's marking (the owning party's analysts and coordinators); recorded in
/// the report's history and the audit log, downgrades named as such.
#[utoipa::path(post, path = "/api/v1/reports/{id}/marking", tag = "intelligence", request_body = MarkingIn,
    params(("id" = String, Path, description = "Report id")),
    responses((status = 200, body = ReportView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn change_marking(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<MarkingIn>,
) -> ApiResult<Json<ReportView>> {
    let r = readable(&state, &principal, &meta, &id, "report.marking").await?;
    let rules = require(
        &state,
        &principal,
        &meta,
        "report.marking",
        Some(format!("report:{}", r.id)),
        Action::ChangeReportMarking {
            report: r.id,
            party: r.party,
        },
        ApiError::Forbidden("only the owning party's analysts and coordinators change a marking"),
    )
    .await?;
    let version = expected_version(&headers, input.version)?;
    let reason = jsms_domain::text::required("/reason", &input.reason, 2000)?;
    let marking = marking_of(&state, &input.tlp, input.shared, &input.releasable_orgs, r.org).await?;
    if marking == r.marking {
        return Err(ValidationError::new("/tlp", "this is the report's marking already").into());
    }
    // The parties of the organisations named, for telling a widening from a narrowing.
    let mut parties = std::collections::HashMap::new();
    for o in r.marking.orgs.iter().chain(&marking.orgs) {
        let id = *o;
        if let Ok(org) = state.db(move |s| s.org(id)).await {
            parties.insert(id, org.party_id);
        }
    }
    let party_of = |o: OrgId| parties.get(&o).copied();
    let downgrade = r.marking.is_downgrade(&marking, r.org, r.party, &party_of);
    let mut b = decode(&r)?;
    let now = state.clock.now();
    let change = MarkingChange {
        at: rfc3339(now),
        by: principal.who.principal.clone(),
        from: describe(&r.marking),
        to: describe(&marking),
        downgrade,
        reason,
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                if downgrade {
                    "report.marking.downgrade"
                } else {
                    "report.marking"
                },
                Some(format!("report:{}", r.id)),
                [
                    rules,
                    vec![format!("{} → {}: {}", change.from, change.to, change.reason)],
                ]
                .concat(),
            ),
        )
        .await?;
    b.history.push(change);
    let updated = ReportRecord {
        marking,
        body: encode(&b)?,
        ..r
    };
    let now_ms = state.clock.now_ms();
    let saved = state.db(move |s| s.update_report(&updated, version, now_ms)).await?;
    state.intel.publish(saved.id);
    Ok(Json(view(&state, &principal, &saved).await?))
}

/// A summary sent on the stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportEvent {
    /// Report id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// TLP label.
    pub tlp_label: String,
    /// Grading.
    pub grading: Option<String>,
    /// When reported.
    pub reported_at: String,
}

/// New reports (and reports whose marking changed) as server-sent events, each only when
/// the caller may read it at that moment; `id` is the event number: reconnect with
/// `Last-Event-ID` to get what was missed (the latest 1,024 events of the server's run). The
/// stream ends after five minutes.
#[utoipa::path(get, path = "/api/v1/reports/stream", tag = "intelligence",
    responses((status = 200, description = "text/event-stream of reports"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn report_stream(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    // An event number this run never gave (an earlier run's, or garbage) starts afresh.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n <= state.intel.last())
        .unwrap_or(u64::MAX);
    state.services.gate.open_stream(&principal, "stream.reports").await?;
    let (rx, backlog) = state.intel.resume(after);
    let last = backlog.last().map_or(after, |(seq, _)| *seq);
    let deadline = tokio::time::Instant::now() + STREAM_LIFETIME;
    let follow = futures_util::stream::unfold(
        (rx, backlog.into_iter(), state, principal, meta, last),
        move |(mut rx, mut backlog, state, principal, meta, last)| async move {
            loop {
                let (seq, id) = if let Some(next) = backlog.next() {
                    next
                } else {
                    let Ok(received) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                        return None;
                    };
                    match received {
                        Ok((seq, _)) if last != u64::MAX && seq <= last => continue,
                        Ok(event) => event,
                        // Lagging: the client reconnects with Last-Event-ID and loses nothing.
                        Err(_) => return None,
                    }
                };
                let Some(e) = report_event(&state, &principal, &meta, id).await else {
                    continue;
                };
                let sse = SseEvent::default()
                    .id(seq.to_string())
                    .event("report")
                    .json_data(&e)
                    .unwrap_or_else(|_| SseEvent::default().comment("unserialisable report"));
                return Some((Ok(sse), (rx, backlog, state, principal, meta, seq)));
            }
        },
    );
    Ok(Sse::new(follow).keep_alive(KeepAlive::default()))
}

/// The event for report `id` if the caller may read it now (the read audited).
async fn report_event(state: &AppState, principal: &Principal, meta: &RequestMeta, id: Uuid) -> Option<ReportEvent> {
    let r = open_readable(state, principal, id).await.ok()??;
    let b = decode(&r).ok()?;
    let event = Event::allow("report.read", Some(format!("report:{id}")), "streamed");
    state.audit(&principal.who, meta, event).await.ok()?;
    Some(ReportEvent {
        id,
        title: b.title,
        tlp_label: r.marking.tlp.label().to_owned(),
        grading: b.grading.map(Grading::code),
        reported_at: rfc3339(b.reported_at),
    })
}

fn stix_zone(z: &ZoneRecord) -> jsms_stix::Zone {
    let feature = crate::routes::zones::to_feature(z);
    let geometry = serde_json::to_value(&feature.geometry).unwrap_or(Value::Null);
    let (centre, extent) = match &z.zone.shape {
        ZoneShape::Circle { center, radius_m } => ((center.lat(), center.lon()), *radius_m),
        ZoneShape::Polygon(p) => {
            let ring = p.ring();
            let n = ring.len().max(1) as f64;
            let c = (
                ring.iter().map(|c| c.lat()).sum::<f64>() / n,
                ring.iter().map(|c| c.lon()).sum::<f64>() / n,
            );
            let far = ring
                .iter()
                .map(|p| jsms_domain::tracking::distance_m(c, (p.lat(), p.lon())))
                .fold(0.0, f64::max);
            (c, far)
        }
    };
    jsms_stix::Zone {
        id: Some(z.id),
        name: format!("Threat zone ({})", z.zone.kind.as_str().replace('_', " ")),
        geometry,
        radius_m: feature.properties.radius_m,
        centre,
        extent_m: extent,
        severity: z.zone.severity,
        kind: z.zone.kind.as_str().to_owned(),
        valid_from: z.zone.valid_from,
        valid_until: z.zone.valid_until,
    }
}

/// A report in the terms of STIX, for `principal` (linked zones only when it may read
/// zones), its author organisation's name given.
pub async fn to_stix(
    state: &AppState,
    principal: &Principal,
    r: &ReportRecord,
    org_name: String,
) -> ApiResult<jsms_stix::Report> {
    let b = decode(r)?;
    let mut zones = Vec::new();
    let zones_readable = state.decide(&principal.actor, Action::ReadZones).is_allow();
    for z in b.zones.iter().filter(|_| zones_readable) {
        let id = *z;
        if let Ok(rec) = state.db(move |s| s.zone(id)).await {
            zones.push(stix_zone(&rec));
        }
    }
    Ok(jsms_stix::Report {
        stix_id: r.stix_id.clone(),
        title: b.title,
        body: b.body,
        observed_at: b.observed_at,
        reported_at: b.reported_at,
        created: r.created_at,
        modified: r.updated_at.max(r.created_at),
        tlp: r.marking.tlp,
        grading: b.grading,
        author: Some(jsms_stix::Author {
            id: r.org.uuid(),
            name: org_name,
        }),
        source: b.source,
        place: b.place,
        zones,
        actors: b.actors,
        intrusion_sets: b.intrusion_sets,
        indicators: b
            .indicators
            .into_iter()
            .map(|i| jsms_stix::Indicator {
                name: i.name,
                pattern: i.pattern,
                pattern_type: i.pattern_type,
                valid_from: i.valid_from,
            })
            .collect(),
        notes: b.notes,
        raw: b.raw,
    })
}

const STIX_JSON: &str = "application/stix+json;version=2.1";

fn stix_response(bundle: &Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, STIX_JSON)],
        serde_json::to_vec(bundle).unwrap_or_default(),
    )
        .into_response()
}

/// One report as a STIX 2.1 bundle.
#[utoipa::path(get, path = "/api/v1/reports/{id}/stix", tag = "intelligence", params(("id" = String, Path, description = "Report id")),
    responses((status = 200, description = "A STIX 2.1 bundle", content_type = "application/stix+json;version=2.1"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn report_stix(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let r = readable(&state, &principal, &meta, &id, "report.export").await?;
    let name = org_names(&state, vec![r.org]).await.remove(&r.org).unwrap_or_default();
    let report = to_stix(&state, &principal, &r, name).await?;
    Ok(stix_response(&jsms_stix::export(&[report])))
}

/// The reports the caller may read (filtered like the list) as one STIX 2.1 bundle.
#[utoipa::path(get, path = "/api/v1/reports/export", tag = "intelligence", params(ReportQuery),
    responses((status = 200, description = "A STIX 2.1 bundle", content_type = "application/stix+json;version=2.1"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn export_reports(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<axum::response::Response> {
    let records = readable_reports(&state, &principal, &meta, &query, "report.export").await?;
    let names = org_names(&state, records.iter().map(|r| r.org).collect()).await;
    let mut reports = Vec::new();
    for r in &records {
        let name = names.get(&r.org).cloned().unwrap_or_default();
        reports.push(to_stix(&state, &principal, r, name).await?);
    }
    Ok(stix_response(&jsms_stix::export(&reports)))
}

/// Actors, intrusion sets, indicators and notes kept per imported report.
const IMPORT_CAP: usize = 200;

/// Where imported reports go.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// TLP:AMBER reports: release them to the other party as well (default: your party only).
    pub shared: Option<bool>,
}

/// The outcome of an import.
#[derive(Debug, Serialize, ToSchema)]
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

/// Imports checked STIX objects as reports of the principal's party and organisation:
/// idempotent by STIX id; zones are created when the principal may write zones. Used by
/// the import endpoint and TAXII.
pub async fn import_objects(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    objects: &[Value],
    shared: bool,
) -> ApiResult<(ImportResult, Vec<(String, Result<i64, String>)>)> {
    let imported = jsms_stix::import(objects).map_err(|e| ValidationError::new(e.path, e.message))?;
    let mut result = ImportResult {
        created: Vec::new(),
        existing: Vec::new(),
        zones: Vec::new(),
        notices: imported.notices,
    };
    let mut outcomes = Vec::new();
    let may_write_zones = state
        .decide(
            &principal.actor,
            Action::WriteZone {
                party: principal.actor.party_id,
            },
        )
        .is_allow();
    for rep in imported.reports {
        let stix_id = rep.stix_id.clone();
        let sid = stix_id.clone();
        if let Some(known) = state.db(move |s| s.report_by_stix_id(&sid)).await? {
            // Known only to those who may read it; to anyone else it is a refusal that says
            // nothing of the report.
            if !state.decide(&principal.actor, record_action(&known)).is_allow() {
                result
                    .notices
                    .push(format!("{stix_id}: not imported: this STIX id is taken"));
                outcomes.push((stix_id, Err("this STIX id is taken".into())));
                continue;
            }
            // The owning party receiving it again with a stricter marking: the stricter applies.
            if known.party == principal.actor.party_id && rep.tlp > known.marking.tlp {
                let mut b = decode(&known)?;
                let to = Marking::new(rep.tlp, false, Vec::new())?;
                b.history.push(MarkingChange {
                    at: rfc3339(state.clock.now()),
                    by: principal.who.principal.clone(),
                    from: describe(&known.marking),
                    to: describe(&to),
                    downgrade: false,
                    reason: "imported again with a stricter marking".into(),
                });
                state
                    .audit(
                        &principal.who,
                        meta,
                        Event::allow(
                            "report.marking",
                            Some(format!("report:{}", known.id)),
                            format!("{} → {}: imported again", known.marking.tlp.label(), rep.tlp.label()),
                        ),
                    )
                    .await?;
                let (version, now_ms) = (known.version, state.clock.now_ms());
                let updated = ReportRecord {
                    marking: to,
                    body: encode(&b)?,
                    ..known.clone()
                };
                state.db(move |s| s.update_report(&updated, version, now_ms)).await?;
                state.intel.publish(known.id);
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
        for z in &rep.zones {
            if !may_write_zones {
                result.notices.push(format!(
                    "{stix_id}: zone “{}” not created: you may not write threat zones",
                    z.name
                ));
                continue;
            }
            let feature = ZoneFeature {
                kind: crate::routes::zones::FeatureTag::Feature,
                id: None,
                geometry: match serde_json::from_value::<ZoneGeometry>(z.geometry.clone()) {
                    Ok(g) => g,
                    Err(_) => {
                        result
                            .notices
                            .push(format!("{stix_id}: zone “{}” has no usable geometry", z.name));
                        continue;
                    }
                },
                properties: ZoneProperties {
                    severity: z.severity,
                    kind: z.kind.clone(),
                    valid_from: rfc3339(z.valid_from),
                    valid_until: z.valid_until.map(rfc3339),
                    source: format!("STIX import {stix_id}").chars().take(200).collect(),
                    notes: Some(z.name.clone()),
                    radius_m: z.radius_m,
                    version: None,
                    owner_party_id: None,
                },
            };
            match crate::routes::zones::create_from(state, principal, meta, &feature, "/zone").await {
                Ok(created) => {
                    zones.push(created.id);
                    result.zones.push(created.id);
                }
                Err(ApiError::Validation(e)) => {
                    result.notices.push(format!(
                        "{stix_id}: zone “{}” refused: {}: {}",
                        z.name, e.field, e.message
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        let marking = match rep.tlp {
            Tlp::Amber => Marking::new(Tlp::Amber, shared, Vec::new()),
            t => Marking::new(t, false, Vec::new()),
        }?;
        let now_ms = state.clock.now_ms();
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
        let title: String = rep.title.chars().take(200).collect();
        let record = ReportRecord {
            id,
            stix_id: stix_id.clone(),
            party: principal.actor.party_id,
            org: principal.actor.org_id,
            author: principal.user.as_ref().map(|u| u.id),
            marking,
            body: encode(&ReportBody {
                title,
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
        state
            .audit(
                &principal.who,
                meta,
                Event::allow(
                    "report.import",
                    Some(format!("report:{id}")),
                    vec![stix_id.clone(), record.marking.tlp.label().to_owned()],
                ),
            )
            .await?;
        let r = record.clone();
        match state.db(move |s| s.create_report(&r)).await {
            Ok(()) => {
                state.intel.publish(id);
                result.created.push(id);
                outcomes.push((stix_id, Ok(now_ms)));
            }
            Err(ApiError::Conflict(m)) => outcomes.push((stix_id, Err(m))),
            Err(e) => return Err(e),
        }
    }
    Ok((result, outcomes))
}

/// Imports a STIX 2.1 bundle (the request body): each `report` with what it references
/// becomes a report of your party (TLP from its marking; none is taken as AMBER+STRICT),
/// located zones become threat zones, the rest is kept as raw objects. A report already
/// present (same STIX id) is left as it is. An invalid bundle is refused with the path of
/// the first error and nothing is stored.
#[utoipa::path(post, path = "/api/v1/reports/import", tag = "intelligence", params(ImportQuery),
    request_body(content = Value, description = "A STIX 2.1 bundle", content_type = "application/json"),
    responses((status = 200, body = ImportResult),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn import_reports(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(query): ApiQuery<ImportQuery>,
    ApiJson(bundle): ApiJson<Value>,
) -> ApiResult<Json<ImportResult>> {
    let rules = require(
        &state,
        &principal,
        &meta,
        "report.import",
        None,
        Action::CreateReport {
            party: principal.actor.party_id,
        },
        ApiError::Forbidden("analysts, coordinators, liaison officers and intelligence tokens import reports"),
    )
    .await?;
    let objects = jsms_stix::bundle_objects(&bundle).map_err(|e| ValidationError::new(e.path, e.message))?;
    let (result, _) = import_objects(&state, &principal, &meta, objects, query.shared.unwrap_or(false)).await?;
    tracing::info!(created = result.created.len(), existing = result.existing.len(), rules = ?rules, "STIX import");
    Ok(Json(result))
}
