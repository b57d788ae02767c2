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
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, expected_version, path_id};
use crate::routes::zones::{ZoneFeature, ZoneGeometry, ZoneProperties};
use crate::state::AppState;
use crate::wire::{GeoPoint, rfc3339};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use jsms_domain::ValidationError;
use jsms_domain::intel::Grading;
use jsms_domain::zone::ZoneShape;
use jsms_service::Disclosed;
use jsms_service::intel::{
    ImportOutcomes, ImportedReport, NewIndicator, NewMarking, NewReport, Purpose, ReportFilter, ReportRead, ZoneLink,
    decode,
};
pub use jsms_service::intel::{ImportResult, IndicatorBody, MarkingChange};
use jsms_store::ZoneRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

/// Largest STIX bundle imported, bytes.
pub const MAX_BUNDLE_BYTES: usize = 8 * 1024 * 1024;

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
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The report (1–50,000 characters).
    pub body: String,
    /// When the threat was observed (RFC 3339).
    #[schema(format = DateTime)]
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

/// A report as its reader sees it, the author organisation's name given.
async fn view_named(
    state: &AppState,
    principal: &Principal,
    r: &Disclosed<ReportRead>,
    org_name: String,
) -> ApiResult<ReportView> {
    let b = decode(r)?;
    let party_name = state.party(r.party).await.map(|p| p.name).unwrap_or_default();
    let mut allowed = Vec::new();
    if state.services.may_change_marking(principal, r) {
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

/// One report as its reader sees it.
async fn view(state: &AppState, principal: &Principal, r: &Disclosed<ReportRead>) -> ApiResult<ReportView> {
    let name = state
        .services
        .organisation_names(vec![r.org])
        .await
        .remove(&r.org)
        .unwrap_or_default();
    view_named(state, principal, r, name).await
}

/// Filters of the report list and export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Words to find in the title, body, actors and notes (case-insensitive).
    pub q: Option<String>,
    /// Only this TLP label.
    pub tlp: Option<String>,
}

fn filter(query: ReportQuery) -> ReportFilter {
    ReportFilter {
        q: query.q,
        tlp: query.tlp,
    }
}

/// Threat reports the caller may read, newest first; `q` searches them.
#[utoipa::path(get, path = "/api/v1/reports", tag = "intelligence", params(ReportQuery),
    responses((status = 200, body = ReportList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_reports(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Json<ReportList>> {
    let records = state
        .services
        .reports(&principal, &filter(query), Purpose::Read)
        .await?;
    let names = state
        .services
        .organisation_names(records.iter().map(|r| r.org).collect())
        .await;
    let mut items = Vec::new();
    for r in records.iter().rev() {
        let name = names.get(&r.org).cloned().unwrap_or_default();
        items.push(view_named(&state, &principal, r, name).await?);
    }
    Ok(Json(ReportList { items }))
}

/// One threat report.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "intelligence", params(("id" = uuid::Uuid, Path, description = "Report id")),
    responses((status = 200, body = ReportView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_report(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    let r = state.services.report(&principal, path_id(&id)?, Purpose::Read).await?;
    Ok(Json(view(&state, &principal, &r).await?))
}

/// Writes a threat report. With `new_zone` it creates a threat zone; with `raise_to` on a
/// linked zone it raises that zone's severity: either re-evaluates the planned and
/// in-progress movements before the answer.
#[utoipa::path(post, path = "/api/v1/reports", tag = "intelligence", request_body = ReportIn,
    responses((status = 201, body = ReportView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn create_report(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<ReportIn>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    let observed_at = crate::wire::parse_rfc3339("/observed_at", &input.observed_at)?;
    let place = input
        .place
        .as_ref()
        .map(|p| p.to_coordinate("/place").map(|c| (c.lat(), c.lon())))
        .transpose()?;
    let new = NewReport {
        title: input.title,
        body: input.body,
        observed_at,
        tlp: input.tlp,
        shared: input.shared,
        releasable_orgs: input.releasable_orgs,
        grading: (input.grading.reliability, input.grading.credibility),
        place,
        zones: input
            .zones
            .iter()
            .map(|z| ZoneLink {
                zone: z.zone,
                raise_to: z.raise_to,
            })
            .collect(),
        new_zone: input
            .new_zone
            .as_ref()
            .map(|f| crate::routes::zones::zone_input(f, "/new_zone")),
        sites: input.sites,
        incidents: input.incidents,
        movements: input.movements,
        actors: input.actors,
        intrusion_sets: input.intrusion_sets,
        indicators: input
            .indicators
            .into_iter()
            .map(|i| NewIndicator {
                name: i.name,
                pattern: i.pattern,
                pattern_type: i.pattern_type,
            })
            .collect(),
        notes: input.notes,
    };
    let r = state.services.create_report(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &principal, &r).await?)))
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
    params(("id" = uuid::Uuid, Path, description = "Report id")),
    responses((status = 200, body = ReportView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn change_marking(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<MarkingIn>,
) -> ApiResult<Json<ReportView>> {
    let id = path_id(&id)?;
    let version = expected_version(&headers, input.version);
    let marking = NewMarking {
        tlp: input.tlp,
        shared: input.shared,
        releasable_orgs: input.releasable_orgs,
        reason: input.reason,
    };
    // The version is asked for after the caller is known to be allowed: a report the caller
    // may not read answers 404 whatever was sent.
    let saved = match version {
        Ok(v) => state.services.change_marking(&principal, id, v, marking).await?,
        Err(e) => {
            state.services.check_marking(&principal, id).await?;
            return Err(e);
        }
    };
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
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    // An event number this run never gave (an earlier run's, or garbage) starts afresh.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n <= state.services.intel.last())
        .unwrap_or(u64::MAX);
    state.services.gate.open_stream(&principal, "stream.reports").await?;
    let (rx, backlog) = state.services.intel.resume(after);
    let last = backlog.last().map_or(after, |(seq, _)| *seq);
    let deadline = tokio::time::Instant::now() + STREAM_LIFETIME;
    let follow = futures_util::stream::unfold(
        (rx, backlog.into_iter(), state, principal, last),
        move |(mut rx, mut backlog, state, principal, last)| async move {
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
                let Some(e) = report_event(&state, &principal, id).await else {
                    continue;
                };
                let sse = SseEvent::default()
                    .id(seq.to_string())
                    .event("report")
                    .json_data(&e)
                    .unwrap_or_else(|_| SseEvent::default().comment("unserialisable report"));
                return Some((Ok(sse), (rx, backlog, state, principal, seq)));
            }
        },
    );
    Ok(Sse::new(follow).keep_alive(KeepAlive::default()))
}

/// The event for report `id` if the caller may read it now (the read recorded). A report
/// the log cannot record is not sent (the stream then ends at the next failure).
async fn report_event(state: &AppState, principal: &Principal, id: Uuid) -> Option<ReportEvent> {
    let r = state.services.report_for_stream(principal, id).await.ok()??;
    let b = decode(&r).ok()?;
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

/// A disclosed report in the terms of STIX, with the linked zones the caller may read
/// (disclosed and recorded too), its author organisation's name given.
pub async fn to_stix(
    state: &AppState,
    principal: &Principal,
    r: &Disclosed<ReportRead>,
    org_name: String,
) -> ApiResult<jsms_stix::Report> {
    let b = decode(r)?;
    let zones = state
        .services
        .report_zones(principal, r)
        .await?
        .iter()
        .map(|z| stix_zone(z))
        .collect();
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
#[utoipa::path(get, path = "/api/v1/reports/{id}/stix", tag = "intelligence", params(("id" = uuid::Uuid, Path, description = "Report id")),
    responses((status = 200, description = "A STIX 2.1 bundle", content_type = "application/stix+json;version=2.1"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn report_stix(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let r = state
        .services
        .report(&principal, path_id(&id)?, Purpose::Export)
        .await?;
    let name = state
        .services
        .organisation_names(vec![r.org])
        .await
        .remove(&r.org)
        .unwrap_or_default();
    let report = to_stix(&state, &principal, &r, name).await?;
    Ok(stix_response(&jsms_stix::export(&[report])))
}

/// The reports the caller may read (filtered like the list) as one STIX 2.1 bundle.
#[utoipa::path(get, path = "/api/v1/reports/export", tag = "intelligence", params(ReportQuery),
    responses((status = 200, description = "A STIX 2.1 bundle", content_type = "application/stix+json;version=2.1"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn export_reports(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<axum::response::Response> {
    let records = state
        .services
        .reports(&principal, &filter(query), Purpose::Export)
        .await?;
    let names = state
        .services
        .organisation_names(records.iter().map(|r| r.org).collect())
        .await;
    let mut reports = Vec::new();
    for r in &records {
        let name = names.get(&r.org).cloned().unwrap_or_default();
        reports.push(to_stix(&state, &principal, r, name).await?);
    }
    Ok(stix_response(&jsms_stix::export(&reports)))
}

/// Where imported reports go.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// TLP:AMBER reports: release them to the other party as well (default: your party only).
    pub shared: Option<bool>,
}

/// Imports checked STIX objects as reports of the principal's party and organisation (the
/// service decides, records and stores; located zones are converted here, GeoJSON being a
/// wire format). Used by the import endpoint and TAXII.
pub async fn import_objects(
    state: &AppState,
    principal: &Principal,
    objects: &[Value],
    shared: bool,
) -> ApiResult<(ImportResult, ImportOutcomes)> {
    state.services.check_import(principal).await?;
    let imported = jsms_stix::import(objects).map_err(|e| ValidationError::new(e.path, e.message))?;
    let reports = imported
        .reports
        .into_iter()
        .map(|report| {
            let zones = report
                .zones
                .iter()
                .map(|z| (z.name.clone(), stix_zone_input(&report.stix_id, z)))
                .collect();
            ImportedReport { report, zones }
        })
        .collect();
    Ok(state
        .services
        .import_reports(principal, reports, imported.notices, shared)
        .await?)
}

/// A located STIX zone as a threat zone, or why it cannot be one.
fn stix_zone_input(stix_id: &str, z: &jsms_stix::Zone) -> Result<jsms_service::zones::ZoneInput, String> {
    let geometry =
        serde_json::from_value::<ZoneGeometry>(z.geometry.clone()).map_err(|_| "has no usable geometry".to_owned())?;
    let feature = ZoneFeature {
        kind: crate::routes::zones::FeatureTag::Feature,
        id: None,
        geometry,
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
    crate::routes::zones::zone_input(&feature, "/zone").map_err(|e| format!("refused: {}: {}", e.field, e.message))
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
    principal: Principal,
    ApiQuery(query): ApiQuery<ImportQuery>,
    ApiJson(bundle): ApiJson<Value>,
) -> ApiResult<Json<ImportResult>> {
    state.services.check_import(&principal).await?;
    let objects = jsms_stix::bundle_objects(&bundle).map_err(|e| ValidationError::new(e.path, e.message))?;
    let (result, _) = import_objects(&state, &principal, objects, query.shared.unwrap_or(false)).await?;
    tracing::info!(
        created = result.created.len(),
        existing = result.existing.len(),
        "STIX import"
    );
    Ok(Json(result))
}
