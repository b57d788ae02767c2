//! Live tracking (PRODUCT §3.4): devices of escort teams report positions (JSON batches, or
//! the OsmAnd protocol of the Traccar Client app); the detectors of
//! [`jsms_domain::tracking::Tracker`] run on every position and every second; alerts are
//! stored (one open alert per kind and movement), acknowledged and resolved, and streamed as
//! server-sent events filtered per subscriber, resumable with `Last-Event-ID`.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, RequestMeta, path_id};
use crate::routes::require;
use crate::state::{AppState, Event, Who};
use crate::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{EscortTeamId, MovementId};
use jsms_domain::movement::{MovementState, Transition};
use jsms_domain::tracking::{AlertKind, Finding, Position, Thresholds, Tracker};
use jsms_store::{AlertRecord, Device, MovementEvent, MovementRecord, NewPositions, StoredPositions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Released and in-progress movements by escort team.
type Assignments = HashMap<EscortTeamId, Vec<Arc<MovementRecord>>>;

/// The trackers of movements under way, the devices' assignments and the live channels.
#[derive(Debug)]
pub struct TrackingHub {
    trackers: Mutex<HashMap<MovementId, Tracker>>,
    /// Released and in-progress movements by escort team (plans opened once, not per
    /// position batch), valid while `generation` has not moved since it was filled.
    assignments: Mutex<Option<(u64, Arc<Assignments>)>>,
    generation: AtomicU64,
    /// Notified when an alert is queued for the webhooks.
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// The position writer (group commit), started on first use.
    writer: std::sync::OnceLock<std::sync::mpsc::Sender<PendingWrite>>,
    /// Held from storing an alert to broadcasting it, so that the stream sees alerts in
    /// sequence order (a subscriber skips what it has seen by sequence number).
    alert_order: tokio::sync::Mutex<()>,
    alerts: broadcast::Sender<AlertRecord>,
    positions: broadcast::Sender<(i64, MovementId, Position)>,
    /// Detector thresholds.
    pub thresholds: Thresholds,
    /// Alerts not acknowledged within this many seconds are escalated.
    pub escalate_after_s: i64,
}

impl Default for TrackingHub {
    fn default() -> Self {
        Self::new(Thresholds::default(), 300)
    }
}

impl TrackingHub {
    /// A hub with these thresholds and escalation delay.
    pub fn new(thresholds: Thresholds, escalate_after_s: i64) -> Self {
        Self {
            trackers: Mutex::new(HashMap::new()),
            assignments: Mutex::new(None),
            generation: AtomicU64::new(0),
            webhook_wake: Arc::default(),
            writer: std::sync::OnceLock::new(),
            alert_order: tokio::sync::Mutex::new(()),
            alerts: broadcast::channel(4096).0,
            positions: broadcast::channel(16_384).0,
            thresholds,
            escalate_after_s,
        }
    }

    /// Gives every running tracker the current zones (after a zone is created, changed or
    /// deleted).
    pub fn refresh_zones(&self, zones: &[jsms_store::ZoneRecord]) {
        for t in self.lock().values_mut() {
            t.set_zones(zones.iter().map(|z| (z.id, z.zone.clone())).collect());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MovementId, Tracker>> {
        self.trackers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A movement changed (state, plan or escort team): its entry in the devices'
    /// assignments is replaced by `now` (its stored record), or the cache is dropped when
    /// the change is unknown (`None`: a failed or conflicting update). Called after every
    /// stored movement update.
    pub fn movement_changed(&self, id: MovementId, now: Option<&MovementRecord>) {
        let mut guard = self
            .assignments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        let (Some(m), Some((_, map))) = (now, guard.take()) else {
            return;
        };
        let mut map = Arc::unwrap_or_clone(map);
        for list in map.values_mut() {
            list.retain(|x| x.id != id);
        }
        map.retain(|_, list| !list.is_empty());
        if matches!(m.state, MovementState::Released | MovementState::InProgress)
            && let Some(plan) = &m.plan
        {
            map.entry(plan.escort_team).or_default().push(Arc::new(m.clone()));
        }
        *guard = Some((self.generation.load(Ordering::SeqCst), Arc::new(map)));
    }

    /// Stores a device's positions through the group-committing writer: batches arriving
    /// while a transaction commits go together into the next one (one sync for many).
    async fn write_positions(
        &self,
        store: &Arc<dyn jsms_store::Store>,
        batch: NewPositions,
        now: i64,
    ) -> ApiResult<StoredPositions> {
        let writer = self
            .writer
            .get_or_init(|| spawn_position_writer(Arc::clone(store), self.positions.clone()));
        let (reply, answer) = tokio::sync::oneshot::channel();
        writer
            .send(PendingWrite { batch, now, reply })
            .map_err(|_| ApiError::Internal("the position writer stopped".into()))?;
        answer
            .await
            .map_err(|_| ApiError::Internal("the position writer stopped".into()))?
    }

    fn cached_assignments(&self) -> Option<Arc<Assignments>> {
        let guard = self
            .assignments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*guard {
            Some((g, map)) if *g == self.generation.load(Ordering::SeqCst) => Some(Arc::clone(map)),
            _ => None,
        }
    }
}

/// Positions waiting for the writer.
#[derive(Debug)]
struct PendingWrite {
    batch: NewPositions,
    now: i64,
    reply: tokio::sync::oneshot::Sender<ApiResult<StoredPositions>>,
}

/// Most batches per transaction.
const GROUP_COMMIT_MAX: usize = 256;

/// The writer thread: takes what is waiting (up to [`GROUP_COMMIT_MAX`] batches), stores it
/// in one transaction, streams the new positions in sequence order, answers each batch.
fn spawn_position_writer(
    store: Arc<dyn jsms_store::Store>,
    live: broadcast::Sender<(i64, MovementId, Position)>,
) -> std::sync::mpsc::Sender<PendingWrite> {
    let (tx, rx) = std::sync::mpsc::channel::<PendingWrite>();
    let spawned = std::thread::Builder::new()
        .name("jsms-positions".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut pending = vec![first];
                while pending.len() < GROUP_COMMIT_MAX {
                    match rx.try_recv() {
                        Ok(p) => pending.push(p),
                        Err(_) => break,
                    }
                }
                let now = pending.iter().map(|p| p.now).max().unwrap_or(0);
                let (batches, replies): (Vec<NewPositions>, Vec<_>) =
                    pending.into_iter().map(|p| (p.batch, p.reply)).unzip();
                match store.insert_positions(&batches, now) {
                    Ok(results) => {
                        for (batch, result) in batches.iter().zip(&results) {
                            for (seq, p) in result.iter().flatten() {
                                // No subscriber is fine: positions are replayed on connect.
                                let _ = live.send((*seq, batch.movement, *p));
                            }
                        }
                        for (reply, result) in replies.into_iter().zip(results) {
                            // The request may have gone (client disconnected): nothing to answer.
                            let _ = reply.send(result.map_err(ApiError::from));
                        }
                    }
                    Err(e) => {
                        let message = format!("positions not stored: {e}");
                        for reply in replies {
                            let _ = reply.send(Err(ApiError::Internal(message.clone())));
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        // The receiver is gone with the closure: every write answers "stopped".
        tracing::error!(error = %e, "position writer not started");
    }
    tx
}

/// The released and in-progress movements by escort team, from the cache or the store.
async fn assignments(state: &AppState) -> ApiResult<Arc<Assignments>> {
    let hub = &state.tracking;
    if let Some(map) = hub.cached_assignments() {
        return Ok(map);
    }
    // Read the generation before the store: a change made meanwhile leaves this fill stale.
    let generation = hub.generation.load(Ordering::SeqCst);
    let all = state
        .db(|s| s.movements_in_states(&[MovementState::Released, MovementState::InProgress]))
        .await?;
    let mut map: Assignments = HashMap::new();
    for m in all {
        if let Some(team) = m.plan.as_ref().map(|p| p.escort_team) {
            map.entry(team).or_default().push(Arc::new(m));
        }
    }
    let map = Arc::new(map);
    let mut guard = hub
        .assignments
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if hub.generation.load(Ordering::SeqCst) == generation {
        *guard = Some((generation, Arc::clone(&map)));
    }
    Ok(map)
}

/// The tracking routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_device))
        .routes(routes!(ingest_positions))
        .routes(routes!(assignment))
        .routes(routes!(device_sos))
        .routes(routes!(osmand_get, osmand_post))
        .routes(routes!(sos))
        .routes(routes!(check_in))
        .routes(routes!(track))
        .routes(routes!(list_alerts))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
        .routes(routes!(alert_stream))
        .routes(routes!(position_stream))
        .routes(routes!(alert_cap))
        .routes(routes!(crate::webhooks::list_deliveries))
}

fn system() -> (Who, RequestMeta) {
    (Who::system("tracking", "tracking detectors"), RequestMeta::internal())
}

/// A new device and its token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCreated {
    /// Device id.
    pub id: Uuid,
    /// The secret token: `Authorization: Bearer …` for the JSON API, or the `id` parameter of
    /// the OsmAnd protocol (Traccar Client's "device identifier"). Shown once.
    pub token: String,
}

/// A device to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceIn {
    /// Name, e.g. "lead vehicle phone".
    pub name: String,
}

/// Registers a tracking device for an escort team (host coordinators).
#[utoipa::path(post, path = "/api/v1/escort-teams/{id}/devices", tag = "tracking", request_body = DeviceIn,
    params(("id" = String, Path, description = "Escort team id")),
    responses((status = 201, body = DeviceCreated),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_device(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DeviceIn>,
) -> ApiResult<(StatusCode, Json<DeviceCreated>)> {
    let team_id = EscortTeamId::from_uuid(path_id(&id)?);
    let team = state.db(move |s| s.escort_team(team_id)).await?;
    let rules = require(
        &state,
        &principal,
        &meta,
        "device.create",
        Some(format!("escort_team:{team_id}")),
        Action::ManageEscortTeams { party: team.party },
        ApiError::Forbidden("host coordinators register devices"),
    )
    .await?;
    let name = jsms_domain::text::required("/name", &input.name, 100)?;
    let secret = jsms_identity::token::issue("jsmsd_").map_err(|e| ApiError::Internal(e.to_string()))?;
    let device = Device {
        id: Uuid::now_v7(),
        team: team_id,
        name,
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("device.create", Some(format!("device:{}", device.id)), rules),
        )
        .await?;
    let now = state.clock.now();
    let (d, hash) = (device.clone(), secret.hash);
    state.db(move |s| s.create_device(&d, &hash, now)).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceCreated {
            id: device.id,
            token: secret.text,
        }),
    ))
}

async fn device(state: &AppState, token: &str) -> ApiResult<Device> {
    let hash = jsms_identity::token::hash(token);
    state
        .db(move |s| s.device_by_token(&hash))
        .await?
        .ok_or(ApiError::Unauthenticated)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// One reported position (JSON API).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionIn {
    /// When measured: RFC 3339, or Unix seconds.
    #[schema(value_type = Object)]
    pub time: serde_json::Value,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Speed, m/s.
    #[serde(default)]
    pub speed: Option<f64>,
    /// Heading, degrees.
    #[serde(default)]
    pub heading: Option<f64>,
    /// Accuracy, metres.
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Battery, percent.
    #[serde(default)]
    pub battery: Option<f64>,
}

/// A batch of positions from one device.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionBatch {
    /// Positions, any order (at most 10,000).
    pub positions: Vec<PositionIn>,
}

/// A refused position.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rejected {
    /// Its index in the batch.
    pub index: usize,
    /// The field at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What became of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestReport {
    /// The movement the positions were recorded for.
    pub movement: Uuid,
    /// New positions stored.
    pub accepted: usize,
    /// Positions already received (dropped).
    pub duplicates: usize,
    /// Refused positions, each with its reason.
    pub rejected: Vec<Rejected>,
}

fn parse_time(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(|t| if t > 100_000_000_000 { t / 1000 } else { t }),
        serde_json::Value::String(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|d| d.unix_timestamp())
            .or_else(|| {
                s.parse::<i64>()
                    .ok()
                    .map(|t| if t > 100_000_000_000 { t / 1000 } else { t })
            }),
        _ => None,
    }
}

/// The movement a device reports for: its team's released or in-progress movement whose
/// departure is nearest (one under way first).
async fn movement_of(state: &AppState, device: &Device) -> ApiResult<Arc<MovementRecord>> {
    let map = assignments(state).await?;
    let now = state.clock.now();
    map.get(&device.team)
        .and_then(|list| {
            list.iter()
                .min_by_key(|m| {
                    let away = m.plan.as_ref().map_or(i64::MAX, |p| (p.departure - now).abs());
                    (m.state != MovementState::InProgress, away)
                })
                .cloned()
        })
        .ok_or_else(|| ApiError::Conflict("no released or in-progress movement for this device's escort team".into()))
}

/// A tracker for `m` in the state its stored track left it: the positions received so far
/// are replayed (their alerts were raised when they came), the start and the last check-in
/// come from the record. Also says whether the replay reached the destination.
async fn restored_tracker(
    state: &AppState,
    m: &MovementRecord,
    zones: &[jsms_store::ZoneRecord],
) -> ApiResult<Option<(Tracker, bool)>> {
    let Some(plan) = m.plan.as_ref() else { return Ok(None) };
    let route: Vec<(f64, f64)> = plan
        .legs
        .iter()
        .flat_map(|l| l.points.iter().map(|c| (c.lat(), c.lon())))
        .collect();
    let ends: Vec<((f64, f64), f64)> = plan
        .legs
        .iter()
        .flat_map(|l| [l.points.first(), l.points.last()])
        .flatten()
        .map(|c| ((c.lat(), c.lon()), 150.0))
        .collect();
    let zones = zones.iter().map(|z| (z.id, z.zone.clone())).collect();
    let mut t = Tracker::new(route, ends, zones, plan.arrival, state.tracking.thresholds);
    let id = m.id;
    let (track, check_in) = state.db(move |s| Ok((s.track(id)?, s.last_check_in(id)?))).await?;
    if m.state == MovementState::InProgress {
        let started = m
            .body
            .history
            .iter()
            .rev()
            .find(|e| e.what == Transition::Start.as_str())
            .map_or(plan.departure, |e| e.at);
        t.resume(started, check_in);
    }
    let mut arrived = false;
    for p in track {
        arrived |= t.observe(p).iter().any(|f| matches!(f, Finding::Arrived { .. }));
    }
    Ok(Some((t, arrived)))
}

/// Rebuilds the trackers of every movement under way from their stored tracks (at start),
/// so the time-driven detectors watch them even before their devices report again.
pub async fn restore_trackers(state: &AppState) -> ApiResult<usize> {
    let under_way = state
        .db(|s| s.movements_in_states(&[MovementState::InProgress]))
        .await?;
    let zones = state.db(|s| s.zones()).await?;
    let mut n = 0;
    for m in under_way {
        if let Some((t, arrived)) = restored_tracker(state, &m, &zones).await? {
            state.tracking.lock().insert(m.id, t);
            n += 1;
            if arrived {
                // The arrival was received but not acted on before the stop.
                handle_findings(state, m.id, vec![Finding::Arrived { at: state.clock.now() }]).await?;
            }
        }
    }
    Ok(n)
}

/// Stores and evaluates positions for a device; returns the report.
pub async fn ingest(
    state: &AppState,
    device: &Device,
    items: Vec<Result<Position, Rejected>>,
) -> ApiResult<IngestReport> {
    let m = movement_of(state, device).await?;
    let mut good: Vec<Position> = Vec::new();
    let mut rejected = Vec::new();
    for item in items {
        match item {
            Ok(p) => good.push(p),
            Err(r) => rejected.push(r),
        }
    }
    good.sort_by_key(|p| p.at);
    // A tracker the first time this process sees the movement, from its stored track
    // (before this batch is stored). Zone changes reach running trackers through
    // `TrackingHub::refresh_zones`.
    if !state.tracking.lock().contains_key(&m.id) {
        let zones = state.db(|s| s.zones()).await?;
        if let Some((t, _)) = restored_tracker(state, &m, &zones).await? {
            state.tracking.lock().entry(m.id).or_insert(t);
        }
    }
    let now = state.clock.now();
    let received = good.len();
    let batch = NewPositions {
        movement: m.id,
        device: device.id,
        positions: good,
    };
    let new = state.tracking.write_positions(&state.store, batch, now).await?;
    let accepted = new.len();
    let findings: Vec<Finding> = {
        let mut trackers = state.tracking.lock();
        match trackers.get_mut(&m.id) {
            Some(t) => new.iter().flat_map(|(_, p)| t.observe(*p)).collect(),
            None => Vec::new(),
        }
    };
    handle_findings(state, m.id, findings).await?;
    Ok(IngestReport {
        movement: m.id.uuid(),
        accepted,
        duplicates: received - accepted,
        rejected,
    })
}

/// Acts on what the detectors found: start and arrival move the movement; alerts are
/// opened (duplicates of an open alert suppressed) and streamed.
async fn handle_findings(state: &AppState, id: MovementId, findings: Vec<Finding>) -> ApiResult<()> {
    for f in findings {
        match f {
            Finding::Started { .. } => {
                system_step(state, id, Transition::Start, "first position near the origin").await?
            }
            Finding::Arrived { .. } => {
                system_step(state, id, Transition::Complete, "position at the destination").await?;
                state.tracking.lock().remove(&id);
            }
            Finding::Alert {
                kind,
                severity,
                message,
                at,
                position,
                zone,
            } => {
                raise(
                    state,
                    id,
                    kind,
                    severity,
                    message,
                    at,
                    serde_json::json!({"position": position, "zone": zone}),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Opens an alert unless one of the kind is open; streams it.
pub async fn raise(
    state: &AppState,
    movement: MovementId,
    kind: AlertKind,
    severity: &str,
    message: String,
    at: i64,
    evidence: serde_json::Value,
) -> ApiResult<Option<AlertRecord>> {
    let now = state.clock.now();
    let record = AlertRecord {
        seq: 0,
        id: Uuid::now_v7(),
        movement,
        kind: kind.as_str().to_owned(),
        severity: severity.to_owned(),
        message,
        at,
        evidence,
        state: "open".into(),
        log: serde_json::json!([]),
    };
    let webhooks: Vec<String> = state.webhooks.iter().map(|t| t.url.clone()).collect();
    let order = state.tracking.alert_order.lock().await;
    let created = state.db(move |s| s.open_alert(&record, &webhooks, now)).await?;
    if let Some(a) = &created {
        // No subscriber is fine: the alert is stored and replayed on connect.
        let _ = state.tracking.alerts.send(a.clone());
    }
    drop(order);
    if let Some(a) = &created {
        let (who, meta) = system();
        state
            .audit(
                &who,
                &meta,
                Event::info(
                    "alert.open",
                    Some(format!("movement:{movement}")),
                    vec![format!("{}:{}", a.kind, a.id)],
                ),
            )
            .await?;
        tracing::warn!(movement = %movement, kind = %a.kind, severity = %a.severity, "{}", a.message);
        state.tracking.webhook_wake.notify_one();
    }
    Ok(created)
}

/// A lifecycle step taken by the system (start at the origin, completion at arrival).
async fn system_step(state: &AppState, id: MovementId, t: Transition, why: &str) -> ApiResult<()> {
    let mut m = state.db(move |s| s.movement(id)).await?;
    if !t.sources().contains(&m.state) {
        return Ok(());
    }
    let now = state.clock.now();
    m.state = t.target();
    m.body.history.push(MovementEvent {
        at: now,
        user: None,
        what: t.as_str().into(),
        note: Some(why.into()),
    });
    if t == Transition::Complete {
        let end = now + state.movement_rules.grant_grace_s;
        let resource = format!("movement:{id}:plan");
        state.db(move |s| s.end_grants(&resource, end)).await?;
        m.ends_at = Some(end);
        state.route_watch.unwatch(id.uuid());
    }
    let (who, meta) = system();
    state
        .audit(
            &who,
            &meta,
            Event::info(
                if t == Transition::Start {
                    "movement.start"
                } else {
                    "movement.complete"
                },
                Some(format!("movement:{id}")),
                vec![why.to_owned()],
            ),
        )
        .await?;
    let version = m.version;
    match state.save_movement(m, version, now).await {
        Ok(_) | Err(ApiError::Stale { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn validate(index: usize, p: &PositionIn, now: i64) -> Result<Position, Rejected> {
    let reject = |e: ValidationError| Rejected {
        index,
        field: e.field,
        reason: e.message,
    };
    let at = parse_time(&p.time).ok_or_else(|| Rejected {
        index,
        field: "/time".into(),
        reason: "RFC 3339 or Unix seconds".into(),
    })?;
    Position::new(at, (p.lat, p.lon), p.speed, p.heading, p.accuracy, p.battery, now).map_err(reject)
}

/// Positions from a device of an escort team (`Authorization: Bearer <device token>`).
/// Good positions are kept even when others in the batch are refused.
#[utoipa::path(post, path = "/api/v1/tracking/positions", tag = "tracking", request_body = PositionBatch,
    responses((status = 200, body = IngestReport),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn ingest_positions(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(batch): ApiJson<PositionBatch>,
) -> ApiResult<Json<IngestReport>> {
    let token = bearer(&headers).ok_or(ApiError::Unauthenticated)?;
    let device = device(&state, token).await?;
    if batch.positions.len() > 10_000 {
        return Err(ValidationError::new("/positions", "at most 10000 positions per batch").into());
    }
    let now = state.clock.now();
    let items = batch
        .positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            validate(i, p, now).map_err(|mut r| {
                r.field = format!("/positions/{i}{}", r.field);
                r
            })
        })
        .collect();
    Ok(Json(ingest(&state, &device, items).await?))
}

/// What a device of the escort team needs: the movement it reports for and its route.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignment {
    /// The movement.
    pub movement: Uuid,
    /// Its state.
    pub state: String,
    /// The planned route, `[lon, lat]` in order.
    #[schema(value_type = Object)]
    pub route: Vec<[f64; 2]>,
    /// Planned departure.
    pub departure: String,
    /// Planned arrival.
    pub arrival: String,
}

/// The device's current assignment (device token): released to its team, so the vehicle
/// knows its route.
#[utoipa::path(get, path = "/api/v1/tracking/assignment", tag = "tracking",
    responses((status = 200, body = Assignment),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn assignment(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Assignment>> {
    let token = bearer(&headers).ok_or(ApiError::Unauthenticated)?;
    let device = device(&state, token).await?;
    let m = movement_of(&state, &device).await?;
    let plan = m.plan.as_ref().ok_or(ApiError::NotFound)?;
    let who = Who {
        principal: format!("device:{}", device.id),
        name: Some(device.name.clone()),
        party: None,
    };
    state
        .audit(
            &who,
            &RequestMeta::internal(),
            Event::allow(
                "movement.assignment",
                Some(format!("movement:{}:plan", m.id)),
                vec!["escort-device".to_owned()],
            ),
        )
        .await?;
    Ok(Json(Assignment {
        movement: m.id.uuid(),
        state: m.state.as_str().to_owned(),
        route: plan
            .legs
            .iter()
            .flat_map(|l| l.points.iter().map(|c| [c.lon(), c.lat()]))
            .collect(),
        departure: rfc3339(plan.departure),
        arrival: rfc3339(plan.arrival),
    }))
}

/// SOS from a device (the app's panic button): a critical alert on its movement.
#[utoipa::path(post, path = "/api/v1/tracking/sos", tag = "tracking",
    responses((status = 204, description = "Raised (or already open)"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn device_sos(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let token = bearer(&headers).ok_or(ApiError::Unauthenticated)?;
    let device = device(&state, token).await?;
    let m = movement_of(&state, &device).await?;
    let now = state.clock.now();
    raise(
        &state,
        m.id,
        AlertKind::Sos,
        "critical",
        format!("SOS from device {}", device.name),
        now,
        serde_json::json!({"device": device.id}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The OsmAnd protocol as the Traccar Client sends it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OsmAnd {
    /// The device token (Traccar Client: "Device identifier").
    pub id: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Unix seconds (or milliseconds), or RFC 3339.
    pub timestamp: String,
    /// Speed in knots (OsmAnd convention).
    #[serde(default)]
    pub speed: Option<f64>,
    /// Bearing, degrees.
    #[serde(default)]
    pub bearing: Option<f64>,
    /// Altitude, metres (not used).
    #[serde(default)]
    pub altitude: Option<f64>,
    /// Accuracy, metres.
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Battery, percent.
    #[serde(default)]
    pub batt: Option<f64>,
}

async fn osmand(state: AppState, q: OsmAnd) -> ApiResult<axum::response::Response> {
    let device = device(&state, &q.id).await?;
    let now = state.clock.now();
    let input = PositionIn {
        time: serde_json::Value::String(q.timestamp),
        lat: q.lat,
        lon: q.lon,
        speed: q.speed.map(|knots| knots * 0.514_444),
        heading: q.bearing,
        accuracy: q.accuracy,
        battery: q.batt,
    };
    let report = ingest(&state, &device, vec![validate(0, &input, now)]).await?;
    if let Some(r) = report.rejected.first() {
        return Err(ValidationError::new(r.field.clone(), r.reason.clone()).into());
    }
    Ok((StatusCode::OK, "OK").into_response())
}

/// A position in the OsmAnd protocol (query string), for the Traccar Client app.
#[utoipa::path(get, path = "/api/v1/tracking/osmand", tag = "tracking", params(OsmAnd),
    responses((status = 200, description = "OK"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn osmand_get(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OsmAnd>,
) -> ApiResult<axum::response::Response> {
    osmand(state, q).await
}

/// A position in the OsmAnd protocol (query string or form body), for the Traccar Client app.
#[utoipa::path(post, path = "/api/v1/tracking/osmand", tag = "tracking", params(OsmAnd),
    responses((status = 200, description = "OK"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn osmand_post(
    State(state): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    body: String,
) -> ApiResult<axum::response::Response> {
    // Traccar Client sends the fields in the query string, other OsmAnd clients in a form body.
    let text = match &query {
        Some(q) if !q.is_empty() => q.as_str(),
        _ => body.as_str(),
    };
    let q = serde_urlencoded::from_str::<OsmAnd>(text).map_err(|e| ApiError::InvalidParameter {
        field: "query".into(),
        detail: e.to_string(),
    })?;
    osmand(state, q).await
}

async fn operable(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    raw: &str,
    what: &'static str,
) -> ApiResult<MovementRecord> {
    let id = MovementId::from_uuid(path_id(raw)?);
    let m = state.db(move |s| s.movement(id)).await?;
    require(
        state,
        principal,
        meta,
        what,
        Some(format!("movement:{id}")),
        Action::ReadMovementPlan {
            movement: m.id,
            org: m.org,
            party: m.party,
        },
        ApiError::NotFound,
    )
    .await?;
    Ok(m)
}

/// Distress: raises a critical SOS alert on the movement (escort and planners).
#[utoipa::path(post, path = "/api/v1/movements/{id}/sos", tag = "tracking", params(("id" = String, Path, description = "Movement id")),
    responses((status = 201, body = AlertView), (status = 200, description = "An SOS is already open", body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn sos(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<AlertView>)> {
    let m = operable(&state, &principal, &meta, &id, "movement.sos").await?;
    let now = state.clock.now();
    let who = principal
        .user
        .as_ref()
        .map_or_else(|| "a device".to_owned(), |u| u.username.as_str().to_owned());
    match raise(
        &state,
        m.id,
        AlertKind::Sos,
        "critical",
        format!("SOS from {who}"),
        now,
        serde_json::json!({"by": who}),
    )
    .await?
    {
        Some(a) => Ok((StatusCode::CREATED, Json(alert_view(&a)))),
        None => {
            let open = state
                .db(|s| s.alerts_after(0, 100_000))
                .await?
                .into_iter()
                .rev()
                .find(|a| a.movement == m.id && a.kind == "sos" && a.state == "open")
                .ok_or(ApiError::NotFound)?;
            Ok((StatusCode::OK, Json(alert_view(&open))))
        }
    }
}

/// A check-in by the escort: resets the missed-check-in detector.
#[utoipa::path(post, path = "/api/v1/movements/{id}/check-in", tag = "tracking", params(("id" = String, Path, description = "Movement id")),
    responses((status = 204, description = "Checked in"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn check_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let m = operable(&state, &principal, &meta, &id, "movement.check_in").await?;
    let now = state.clock.now();
    let (mid, user) = (m.id, principal.user.as_ref().map(|u| u.id));
    state.db(move |s| s.record_check_in(mid, user, now)).await?;
    if let Some(t) = state.tracking.lock().get_mut(&m.id) {
        t.check_in(now);
    }
    state
        .audit(
            &principal.who,
            &meta,
            Event::info(
                "movement.check_in",
                Some(format!("movement:{}", m.id)),
                Vec::<String>::new(),
            ),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A movement's track (need to know, like the plan).
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackView {
    /// Positions, oldest first: `[lon, lat]` with time.
    #[schema(value_type = Object)]
    pub positions: serde_json::Value,
}

/// The positions of a movement (need to know).
#[utoipa::path(get, path = "/api/v1/movements/{id}/track", tag = "tracking", params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = TrackView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn track(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<TrackView>> {
    let m = operable(&state, &principal, &meta, &id, "movement.track").await?;
    let id = m.id;
    let positions = state.db(move |s| s.track(id)).await?;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "movement.track",
                Some(format!("movement:{id}:plan")),
                vec!["need-to-know".to_owned()],
            ),
        )
        .await?;
    Ok(Json(TrackView {
        positions: serde_json::json!(
            positions
                .iter()
                .map(|p| serde_json::json!({"time": rfc3339(p.at), "coordinates": [p.lon, p.lat], "speed": p.speed, "battery": p.battery}))
                .collect::<Vec<_>>()
        ),
    }))
}

/// An alert.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertView {
    /// Identifier.
    pub id: Uuid,
    /// Stream sequence number.
    pub seq: i64,
    /// Movement.
    pub movement: Uuid,
    /// Kind.
    pub kind: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// Plain words.
    pub message: String,
    /// When.
    pub at: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// Evidence.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    /// Who did what.
    #[schema(value_type = Object)]
    pub log: serde_json::Value,
}

fn alert_view(a: &AlertRecord) -> AlertView {
    AlertView {
        id: a.id,
        seq: a.seq,
        movement: a.movement.uuid(),
        kind: a.kind.clone(),
        severity: a.severity.clone(),
        message: a.message.clone(),
        at: rfc3339(a.at),
        state: a.state.clone(),
        evidence: a.evidence.clone(),
        log: a.log.clone(),
    }
}

/// Whether `principal` may see alerts of `m` (whoever may see the movement's status).
fn sees(state: &AppState, principal: &Principal, m: &MovementRecord) -> bool {
    state
        .decide(
            &principal.actor,
            Action::ReadMovement {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
        )
        .is_allow()
}

/// What `principal` may see of `m`'s alerts: (the alerts at all, the positions in them).
/// Positions are protected like itineraries: only those with need to know see them.
fn access(state: &AppState, principal: &Principal, m: &MovementRecord) -> (bool, bool) {
    let plan = state
        .decide(
            &principal.actor,
            Action::ReadMovementPlan {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
        )
        .is_allow();
    (sees(state, principal, m), plan)
}

/// The alert as `principal` may see it (`None` if not at all).
async fn view_for(state: &AppState, principal: &Principal, a: &AlertRecord) -> ApiResult<Option<AlertView>> {
    let id = a.movement;
    let m = match state.db(move |s| s.movement(id)).await {
        Ok(m) => m,
        Err(ApiError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let (sees, positions) = access(state, principal, &m);
    Ok(sees.then(|| redacted(a, positions)))
}

fn redacted(a: &AlertRecord, positions: bool) -> AlertView {
    let mut v = alert_view(a);
    if !positions && let Some(e) = v.evidence.as_object_mut() {
        e.remove("position");
    }
    v
}

async fn visible_alerts(state: &AppState, principal: &Principal, after: i64) -> ApiResult<Vec<AlertView>> {
    let all = state.db(move |s| s.alerts_after(after, 10_000)).await?;
    let mut cache: HashMap<MovementId, (bool, bool)> = HashMap::new();
    let mut out = Vec::new();
    for a in all {
        let (sees, positions) = match cache.get(&a.movement) {
            Some(x) => *x,
            None => {
                let id = a.movement;
                let x = match state.db(move |s| s.movement(id)).await {
                    Ok(m) => access(state, principal, &m),
                    Err(ApiError::NotFound) => (false, false),
                    Err(e) => return Err(e),
                };
                cache.insert(id, x);
                x
            }
        };
        if sees {
            out.push(redacted(&a, positions));
        }
    }
    Ok(out)
}

/// Alerts on movements the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "tracking",
    responses((status = 200, body = [AlertView]),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_alerts(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<AlertView>>> {
    Ok(Json(visible_alerts(&state, &principal, 0).await?))
}

/// A note on an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    /// What was done (required to resolve).
    #[serde(default)]
    pub note: Option<String>,
}

async fn move_alert(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
    raw: &str,
    note: Option<String>,
    from: &'static [&'static str],
    to: &'static str,
) -> ApiResult<AlertView> {
    let user = principal.human()?.clone();
    let id = path_id(raw)?;
    let a = state.db(move |s| s.alert(id)).await?;
    let mid = a.movement;
    let m = state.db(move |s| s.movement(mid)).await?;
    if !sees(state, principal, &m) {
        return Err(ApiError::NotFound);
    }
    require(
        state,
        principal,
        meta,
        "alert.update",
        Some(format!("alert:{id}")),
        Action::TransitionMovement {
            movement: m.id,
            org: m.org,
            party: m.party,
            transition: "abort",
        },
        ApiError::Forbidden("host coordinators and the escort handle alerts"),
    )
    .await?;
    let note = note
        .as_deref()
        .map(|n| jsms_domain::text::required("/note", n, 1000))
        .transpose()?;
    if to == "resolved" && note.is_none() {
        return Err(ValidationError::new("/note", "say how it was resolved").into());
    }
    let now = state.clock.now();
    let entry = serde_json::json!({"at": rfc3339(now), "user": user.username.as_str(), "action": to, "note": note});
    let updated = state.db(move |s| s.update_alert(id, from, to, entry, now)).await?;
    state
        .audit(
            &principal.who,
            meta,
            Event::allow("alert.update", Some(format!("alert:{id}")), vec![to.to_owned()]),
        )
        .await?;
    Ok(alert_view(&updated))
}

/// Acknowledges an open alert.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "tracking", request_body = AlertNote,
    params(("id" = String, Path, description = "Alert id")),
    responses((status = 200, body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn acknowledge(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<AlertNote>,
) -> ApiResult<Json<AlertView>> {
    Ok(Json(
        move_alert(&state, &meta, &principal, &id, n.note, &["open"], "acknowledged").await?,
    ))
}

/// Resolves an alert, with a note.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "tracking", request_body = AlertNote,
    params(("id" = String, Path, description = "Alert id")),
    responses((status = 200, body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn resolve(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<AlertNote>,
) -> ApiResult<Json<AlertView>> {
    Ok(Json(
        move_alert(
            &state,
            &meta,
            &principal,
            &id,
            n.note,
            &["open", "acknowledged"],
            "resolved",
        )
        .await?,
    ))
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// CAP's dateTime: seconds precision with an explicit offset (never `Z`).
fn cap_time(t: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        Err(_) => "1970-01-01T00:00:00+00:00".into(),
    }
}

/// An alert as an OASIS CAP 1.2 message. The last known position is included only for
/// callers who may see the movement's plan.
pub fn to_cap(a: &AlertRecord, sender: &str, with_position: bool) -> String {
    let (severity, urgency) = match (a.severity.as_str(), a.kind.as_str()) {
        (_, "sos") => ("Extreme", "Immediate"),
        ("critical", _) => ("Severe", "Immediate"),
        _ => ("Moderate", "Expected"),
    };
    let msg_type = match a.state.as_str() {
        "open" => "Alert",
        "resolved" => "Cancel",
        _ => "Update",
    };
    let event = match AlertKind::parse(&a.kind) {
        Some(AlertKind::Deviation) => "Deviation from the planned route",
        Some(AlertKind::UnplannedStop) => "Unplanned stop",
        Some(AlertKind::ZoneEntry) => "Entry into a threat zone",
        Some(AlertKind::Overdue) => "Movement overdue",
        Some(AlertKind::MissedCheckIn) => "Missed check-in",
        Some(AlertKind::DeviceSilent) => "Tracking device silent",
        Some(AlertKind::Sos) => "SOS",
        Some(AlertKind::RouteAffected) => "Threat zone on the remaining route",
        Some(AlertKind::Escalation) => "Unacknowledged alert escalated",
        None => "Movement alert",
    };
    let area = a
        .evidence
        .get("position")
        .filter(|_| with_position)
        .and_then(|p| Some((p.get("lat")?.as_f64()?, p.get("lon")?.as_f64()?)))
        .map(|(lat, lon)| {
            format!(
                "    <area>\n      <areaDesc>Last known position</areaDesc>\n      <circle>{lat:.6},{lon:.6} 0.2</circle>\n    </area>\n"
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n\
  <identifier>urn:uuid:{id}</identifier>\n\
  <sender>{sender}</sender>\n\
  <sent>{sent}</sent>\n\
  <status>Actual</status>\n\
  <msgType>{msg_type}</msgType>\n\
  <scope>Restricted</scope>\n\
  <restriction>JSMS need to know: movement {movement} participants only</restriction>\n\
  <info>\n\
    <category>Security</category>\n\
    <event>{event}</event>\n\
    <urgency>{urgency}</urgency>\n\
    <severity>{severity}</severity>\n\
    <certainty>Observed</certainty>\n\
    <senderName>JSMS operations</senderName>\n\
    <headline>{headline}</headline>\n\
    <description>{description}</description>\n\
    <parameter>\n      <valueName>jsms-alert-state</valueName>\n      <value>{state}</value>\n    </parameter>\n\
{area}  </info>\n\
</alert>\n",
        id = a.id,
        sender = xml(sender),
        sent = cap_time(a.at),
        movement = a.movement,
        headline = xml(&format!("{event} (movement {})", a.movement)),
        description = xml(&a.message),
        state = xml(&a.state),
    )
}

/// One alert as OASIS CAP 1.2 XML.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/cap", tag = "tracking", params(("id" = String, Path, description = "Alert id")),
    responses((status = 200, description = "CAP 1.2", content_type = "application/cap+xml", body = String),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn alert_cap(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let id = path_id(&id)?;
    let a = state.db(move |s| s.alert(id)).await?;
    let mid = a.movement;
    let m = state.db(move |s| s.movement(mid)).await?;
    if !sees(&state, &principal, &m) {
        return Err(ApiError::NotFound);
    }
    let with_position = state
        .decide(
            &principal.actor,
            Action::ReadMovementPlan {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
        )
        .is_allow();
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("alert.export", Some(format!("alert:{id}")), vec!["cap-1.2".to_owned()]),
        )
        .await?;
    let body = to_cap(&a, "jsms@operations.invalid", with_position);
    Ok(([(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")], body).into_response())
}

/// A stream ends after this long; the client reconnects with `Last-Event-ID` (losing
/// nothing), so every connection decides on the caller's current session and grants.
pub const STREAM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// Where to resume a stream.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StreamQuery {
    /// Resume after this event id (the `Last-Event-ID` header wins).
    #[serde(default)]
    pub after: Option<i64>,
}

/// Where a stream resumes: the `Last-Event-ID` header, else `?after=`, else the start.
fn resume_after(headers: &HeaderMap, q: &StreamQuery) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.after)
        .unwrap_or(0)
}

/// Alerts as server-sent events (`id` = sequence number), filtered for the caller; resume
/// with `Last-Event-ID` and nothing is lost.
#[utoipa::path(get, path = "/api/v1/alerts/stream", tag = "tracking", params(StreamQuery),
    responses((status = 200, description = "text/event-stream of alerts"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn alert_stream(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    let after = resume_after(&headers, &q);
    // Subscribe first, then replay: nothing falls between the two.
    let live = state.tracking.alerts.subscribe();
    let backlog = visible_alerts(&state, &principal, after).await?;
    let last = backlog.last().map_or(after, |a| a.seq);
    let event = |a: &AlertView| {
        SseEvent::default()
            .id(a.seq.to_string())
            .event("alert")
            .json_data(a)
            .unwrap_or_else(|_| SseEvent::default().comment("unserialisable alert"))
    };
    let replay = futures_util::stream::iter(backlog.iter().map(event).map(Ok).collect::<Vec<_>>());
    let follow = futures_util::stream::unfold(
        (
            live,
            state,
            principal,
            last,
            tokio::time::Instant::now() + STREAM_LIFETIME,
        ),
        move |(mut rx, state, principal, last, deadline)| async move {
            loop {
                let Ok(received) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                    return None;
                };
                match received {
                    Ok(a) if a.seq > last => {
                        if let Ok(Some(v)) = view_for(&state, &principal, &a).await {
                            let e = event(&v);
                            return Some((Ok(e), (rx, state, principal, a.seq, deadline)));
                        }
                    }
                    Ok(_) => {}
                    // Lagging: the client reconnects with Last-Event-ID and loses nothing.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => {
                        return None;
                    }
                }
            }
        },
    );
    use futures_util::StreamExt;
    Ok(Sse::new(replay.chain(follow)).keep_alive(KeepAlive::default()))
}

/// Live positions as server-sent events (`id` = stream sequence), only of movements whose
/// details the caller may see (need to know); resume with `Last-Event-ID`.
#[utoipa::path(get, path = "/api/v1/tracking/stream", tag = "tracking", params(StreamQuery),
    responses((status = 200, description = "text/event-stream of positions"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn position_stream(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    let after = resume_after(&headers, &q);
    let live = state.tracking.positions.subscribe();
    let stored = state.db(move |s| s.position_events_after(after, 10_000)).await?;
    let mut cache: HashMap<MovementId, bool> = HashMap::new();
    let mut backlog = Vec::new();
    for (seq, m, p) in stored {
        let ok = match cache.get(&m) {
            Some(ok) => *ok,
            None => {
                let ok = may_see_positions(&state, &principal, m).await;
                cache.insert(m, ok);
                ok
            }
        };
        if ok {
            backlog.push((seq, m, p));
        }
    }
    let last = backlog.last().map_or(after, |b| b.0);
    let event = |(seq, m, p): &(i64, MovementId, Position)| {
        SseEvent::default()
            .id(seq.to_string())
            .event("position")
            .json_data(serde_json::json!({
                "movement": m.uuid(),
                "time": rfc3339(p.at),
                "coordinates": [p.lon, p.lat],
                "speed": p.speed,
            }))
            .unwrap_or_else(|_| SseEvent::default().comment("unserialisable position"))
    };
    let replay = futures_util::stream::iter(backlog.iter().map(event).map(Ok).collect::<Vec<_>>());
    let follow = futures_util::stream::unfold(
        (
            live,
            state,
            principal,
            last,
            cache,
            tokio::time::Instant::now() + STREAM_LIFETIME,
        ),
        move |(mut rx, state, principal, last, mut cache, deadline)| async move {
            loop {
                let Ok(received) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                    return None;
                };
                match received {
                    Ok(item) if item.0 > last => {
                        let ok = match cache.get(&item.1) {
                            Some(ok) => *ok,
                            None => {
                                let ok = may_see_positions(&state, &principal, item.1).await;
                                cache.insert(item.1, ok);
                                ok
                            }
                        };
                        if ok {
                            let e = event(&item);
                            return Some((Ok(e), (rx, state, principal, item.0, cache, deadline)));
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => {
                        return None;
                    }
                }
            }
        },
    );
    use futures_util::StreamExt;
    Ok(Sse::new(replay.chain(follow)).keep_alive(KeepAlive::default()))
}

/// Whether the caller may see a movement's positions (need to know, like its plan).
async fn may_see_positions(state: &AppState, principal: &Principal, id: MovementId) -> bool {
    match state.db(move |s| s.movement(id)).await {
        Ok(m) => access(state, principal, &m).1,
        Err(_) => false,
    }
}

/// Runs the time-driven detectors of every movement under way, every `interval`.
pub fn spawn_detector_ticks(state: AppState, interval: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            let now = state.clock.now();
            let findings: Vec<(MovementId, Vec<Finding>)> = state
                .tracking
                .lock()
                .iter_mut()
                .map(|(id, t)| (*id, t.tick(now)))
                .filter(|(_, f)| !f.is_empty())
                .collect();
            for (id, f) in findings {
                if let Err(e) = handle_findings(&state, id, f).await {
                    tracing::error!(error = %e, "detector alert not stored");
                }
            }
            if let Err(e) = escalate(&state, now).await {
                tracing::error!(error = %e, "alert escalation failed");
            }
        }
    });
}

/// Escalates open alerts nobody acknowledged within the configured delay: the alert's log
/// says so, and a critical `escalation` alert goes to the host coordinators (who see every
/// movement's alerts).
pub async fn escalate(state: &AppState, now: i64) -> ApiResult<usize> {
    let before = now - state.tracking.escalate_after_s;
    let due = state.db(move |s| s.unescalated_open(before)).await?;
    let mut n = 0;
    for a in due {
        let note = format!(
            "not acknowledged within {} s: escalated to the host movement coordinators",
            state.tracking.escalate_after_s
        );
        let entry = serde_json::json!({"at": rfc3339(now), "user": null, "action": "escalated", "note": note});
        let id = a.id;
        match state
            .db(move |s| s.update_alert(id, &["open"], "open", entry, now))
            .await
        {
            Ok(_) => {}
            // Acknowledged meanwhile: nothing to escalate.
            Err(ApiError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
        raise(
            state,
            a.movement,
            AlertKind::Escalation,
            "critical",
            format!("{} alert not acknowledged: {}", a.kind, a.message),
            now,
            serde_json::json!({"alert": a.id, "kind": a.kind, "escalated_to": "movement_coordinator"}),
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Raises a route-affected alert on movements under way whose route a changed zone crosses.
pub async fn route_affected_alerts(state: &AppState, events: &[crate::reeval::RouteAffected]) -> ApiResult<()> {
    for e in events {
        let id = MovementId::from_uuid(e.owner);
        let m = match state.db(move |s| s.movement(id)).await {
            Ok(m) => m,
            Err(ApiError::NotFound) => continue,
            Err(err) => return Err(err),
        };
        if m.state != MovementState::InProgress {
            continue;
        }
        raise(
            state,
            id,
            AlertKind::RouteAffected,
            if e.avoided { "critical" } else { "warning" },
            format!(
                "a threat zone of severity {} now crosses the route for {:.0} m",
                e.severity, e.inside_m
            ),
            e.detected_at,
            serde_json::json!({"zone": e.zone_id, "zone_version": e.zone_version}),
        )
        .await?;
    }
    Ok(())
}
