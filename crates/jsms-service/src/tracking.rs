//! Live tracking (PRODUCT §3.4): devices of escort teams report positions; the detectors of
//! [`jsms_domain::tracking::Tracker`] run on every position and every tick; alerts are
//! stored (one open alert per kind and movement), acknowledged, resolved and escalated.
//!
//! A device's positions go only to the movement its team is driving: the one under way, or
//! the released one whose booked window (departure to arrival, with the rules' margins)
//! holds the present — never to another movement of the same team (planning refuses a team
//! booked twice). Alerts, tracks and positions leave this module only through the gate: an
//! alert is the movement's status (its position is the plan's), a track is the plan's.

use crate::error::{Error, Result};
use crate::gate::{Change, Disclosed, Event, Part, Protected, Refusal, Resource, StreamLedger};
use crate::movements::MovementPart;
use crate::{Caller, Origin, Services, Who};
use jsms_domain::access::Action;
use jsms_domain::ids::{EscortTeamId, MovementId, OrgId, PartyId};
use jsms_domain::movement::{MovementState, Transition};
use jsms_domain::tracking::{AlertKind, Finding, Position, Thresholds, Tracker};
use jsms_store::{AlertRecord, Device, MovementRecord, NewPositions, StoredPositions};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
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
    ) -> Result<StoredPositions> {
        let writer = self
            .writer
            .get_or_init(|| spawn_position_writer(Arc::clone(store), self.positions.clone()));
        let (reply, answer) = tokio::sync::oneshot::channel();
        writer
            .send(PendingWrite { batch, now, reply })
            .map_err(|_| Error::Internal("the position writer stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the position writer stopped".into()))?
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

    /// Subscribes to new alerts (every alert: the reader decides per subscriber).
    pub fn subscribe_alerts(&self) -> broadcast::Receiver<AlertRecord> {
        self.alerts.subscribe()
    }

    /// Subscribes to new positions (every position: the reader decides per subscriber).
    pub fn subscribe_positions(&self) -> broadcast::Receiver<(i64, MovementId, Position)> {
        self.positions.subscribe()
    }
}

/// Positions waiting for the writer.
#[derive(Debug)]
struct PendingWrite {
    batch: NewPositions,
    now: i64,
    reply: tokio::sync::oneshot::Sender<Result<StoredPositions>>,
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
                            let _ = reply.send(result.map_err(Error::from));
                        }
                    }
                    Err(e) => {
                        let message = format!("positions not stored: {e}");
                        for reply in replies {
                            let _ = reply.send(Err(Error::Internal(message.clone())));
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

/// A refused position of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its index in the batch.
    pub index: usize,
    /// The field at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What became of a batch.
#[derive(Debug, Clone)]
pub struct IngestReport {
    /// The movement the positions were recorded for.
    pub movement: MovementId,
    /// New positions stored.
    pub accepted: usize,
    /// Positions already received (dropped).
    pub duplicates: usize,
    /// Refused positions, each with its reason.
    pub rejected: Vec<Rejected>,
}

/// An alert with the owner attributes of its movement (to decide who may see it).
#[derive(Debug, Clone)]
pub struct MovementAlert {
    /// The alert.
    pub alert: AlertRecord,
    org: OrgId,
    party: PartyId,
}

/// The parts of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertPart {
    /// Kind, severity, message, state, log: whoever sees the movement's status.
    Record,
    /// The position in its evidence: whoever sees the movement's plan.
    Position,
}

impl Protected for MovementAlert {
    type Part = AlertPart;

    fn parts(&self) -> Vec<Part<AlertPart>> {
        let (movement, org, party) = (self.alert.movement, self.org, self.party);
        vec![
            Part {
                part: AlertPart::Record,
                resource: Resource::Alert(self.alert.id),
                action: Action::ReadMovement { movement, org, party },
                log: "alert.read",
                fields: &["kind", "severity", "message", "state", "log"],
            },
            Part {
                part: AlertPart::Position,
                resource: Resource::MovementPlan(movement),
                action: Action::ReadMovementPlan { movement, org, party },
                log: "movement.plan.read",
                fields: &["position"],
            },
        ]
    }

    fn redact(&mut self, allowed: &[AlertPart]) {
        if !allowed.contains(&AlertPart::Position)
            && let Some(e) = self.alert.evidence.as_object_mut()
        {
            e.remove("position");
        }
    }
}

/// A movement's positions (need to know, like its plan).
#[derive(Debug, Clone)]
pub struct Track {
    /// The movement.
    pub movement: MovementId,
    org: OrgId,
    party: PartyId,
    /// Positions, oldest first.
    pub positions: Vec<Position>,
}

/// The one part of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackPart {
    /// The positions.
    Positions,
}

impl Protected for Track {
    type Part = TrackPart;

    fn parts(&self) -> Vec<Part<TrackPart>> {
        let (movement, org, party) = (self.movement, self.org, self.party);
        vec![Part {
            part: TrackPart::Positions,
            resource: Resource::MovementPlan(movement),
            action: Action::ReadMovementPlan { movement, org, party },
            log: "movement.track",
            fields: &["route", "positions"],
        }]
    }

    fn redact(&mut self, _allowed: &[TrackPart]) {}
}

/// What a device of the escort team needs: the movement it reports for and its route.
#[derive(Debug, Clone)]
pub struct DeviceAssignment {
    /// The movement.
    pub movement: MovementId,
    /// Its state.
    pub state: MovementState,
    /// The planned route.
    pub route: Vec<jsms_domain::geo::Coordinate>,
    /// Planned departure.
    pub departure: i64,
    /// Planned arrival.
    pub arrival: i64,
}

fn device_who(device: &Device) -> Who {
    Who {
        principal: format!("device:{}", device.id),
        name: Some(device.name.clone()),
        party: None,
    }
}

fn system() -> Who {
    Who::system("tracking", "tracking detectors")
}

/// What one event stream connection remembers: the disclosures it recorded and the owners
/// of the movements it has seen.
#[derive(Debug, Default)]
pub struct StreamState {
    ledger: StreamLedger,
    owners: HashMap<MovementId, Option<(OrgId, PartyId)>>,
}

impl StreamState {
    /// A fresh state for a new connection.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A stream ends after this long; the client reconnects with `Last-Event-ID` (losing
/// nothing), so every connection decides on the caller's current session and grants.
pub const STREAM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

impl Services {
    /// The device holding `token`, or unauthenticated.
    pub async fn device(&self, token: &str) -> Result<Device> {
        let hash = jsms_identity::token::hash(token);
        self.db(move |s| s.device_by_token(&hash))
            .await?
            .ok_or(Error::Unauthenticated)
    }

    /// Registers a tracking device for an escort team (host coordinators); returns the
    /// device and its secret token (shown once).
    pub async fn create_device(&self, caller: &Caller, team: EscortTeamId, name: &str) -> Result<(Device, String)> {
        let record = self.db(move |s| s.escort_team(team)).await?;
        let change = Change::new(
            "device.create",
            Some(Resource::EscortTeam(team)),
            Action::ManageEscortTeams { party: record.party },
            Refusal::Forbidden("host coordinators register devices"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let name = jsms_domain::text::required("/name", name, 100)?;
        let secret = jsms_identity::token::issue("jsmsd_")?;
        let device = Device {
            id: Uuid::now_v7(),
            team,
            name,
        };
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        let (d, hash) = (device.clone(), secret.hash);
        self.write(caller, &change, permit, move |s| s.create_device(&d, &hash, now))
            .await?;
        Ok((device, secret.text))
    }

    /// The released and in-progress movements by escort team, from the cache or the store.
    async fn assignments(&self) -> Result<Arc<Assignments>> {
        let hub = &self.tracking;
        if let Some(map) = hub.cached_assignments() {
            return Ok(map);
        }
        // Read the generation before the store: a change made meanwhile leaves this fill stale.
        let generation = hub.generation.load(Ordering::SeqCst);
        let all = self
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

    /// The movement a device's team is driving now: the one under way; else the released one
    /// whose booked window (departure to arrival, ± the rules' grace) holds the present; else
    /// the team's only released movement. When that is ambiguous the positions are refused:
    /// they must never land on a movement the team is not driving (planning never books a
    /// team on overlapping windows).
    async fn movement_of(&self, device: &Device) -> Result<Arc<MovementRecord>> {
        let map = self.assignments().await?;
        let now = self.clock.now();
        let grace = self.movement_rules.grant_grace_s;
        let list = map.get(&device.team).map(Vec::as_slice).unwrap_or_default();
        let under_way: Vec<&Arc<MovementRecord>> =
            list.iter().filter(|m| m.state == MovementState::InProgress).collect();
        if let [one] = under_way.as_slice() {
            return Ok(Arc::clone(one));
        }
        if under_way.len() > 1 {
            return Err(Error::Conflict(
                "this device's escort team has more than one movement under way: end one before reporting".into(),
            ));
        }
        let due: Vec<&Arc<MovementRecord>> = list
            .iter()
            .filter(|m| {
                m.plan
                    .as_ref()
                    .is_some_and(|p| p.departure - grace <= now && now <= p.arrival + grace)
            })
            .collect();
        match (due.as_slice(), list) {
            ([one], _) => Ok(Arc::clone(one)),
            ([], [one]) => Ok(Arc::clone(one)),
            ([], []) => Err(Error::Conflict(
                "no released or in-progress movement for this device's escort team".into(),
            )),
            ([], _) => Err(Error::Conflict(
                "this device's escort team is released on several movements and none is due now: \
                 positions are refused rather than recorded on the wrong one"
                    .into(),
            )),
            _ => Err(Error::Conflict(
                "this device's escort team is released on more than one movement now: start one first".into(),
            )),
        }
    }

    /// A tracker for `m` in the state its stored track left it: the positions received so
    /// far are replayed (their alerts were raised when they came), the start and the last
    /// check-in come from the record. Also says whether the replay reached the destination.
    async fn restored_tracker(
        &self,
        m: &MovementRecord,
        zones: &[jsms_store::ZoneRecord],
    ) -> Result<Option<(Tracker, bool)>> {
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
        let mut t = Tracker::new(route, ends, zones, plan.arrival, self.tracking.thresholds);
        let id = m.id;
        let (track, check_in) = self.db(move |s| Ok((s.track(id)?, s.last_check_in(id)?))).await?;
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

    /// Rebuilds the trackers of every movement under way from their stored tracks (at
    /// start), so the time-driven detectors watch them even before their devices report.
    pub async fn restore_trackers(&self) -> Result<usize> {
        let under_way = self.db(|s| s.movements_in_states(&[MovementState::InProgress])).await?;
        let zones = self.db(|s| s.zones()).await?;
        let mut n = 0;
        for m in under_way {
            if let Some((t, arrived)) = self.restored_tracker(&m, &zones).await? {
                self.tracking.lock().insert(m.id, t);
                n += 1;
                if arrived {
                    // The arrival was received but not acted on before the stop.
                    self.handle_findings(m.id, vec![Finding::Arrived { at: self.clock.now() }])
                        .await?;
                }
            }
        }
        Ok(n)
    }

    /// Stores and evaluates positions from a device; returns the report. Good positions are
    /// kept even when others in the batch were refused.
    pub async fn ingest(
        &self,
        device: &Device,
        items: Vec<std::result::Result<Position, Rejected>>,
    ) -> Result<IngestReport> {
        let m = self.movement_of(device).await?;
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
        if !self.tracking.lock().contains_key(&m.id) {
            let zones = self.db(|s| s.zones()).await?;
            if let Some((t, _)) = self.restored_tracker(&m, &zones).await? {
                self.tracking.lock().entry(m.id).or_insert(t);
            }
        }
        let now = self.clock.now();
        let received = good.len();
        // The report is recorded (durably, one entry per batch) before it is stored: while the
        // log cannot be written the device is refused and keeps its positions to resend.
        self.gate
            .record(
                &device_who(device),
                &Origin::device(),
                Event::allow(
                    "tracking.positions",
                    Some(Resource::Movement(m.id)),
                    format!("{received} positions, {} refused", rejected.len()),
                ),
            )
            .await?;
        let batch = NewPositions {
            movement: m.id,
            device: device.id,
            positions: good,
        };
        let new = self.tracking.write_positions(&self.store, batch, now).await?;
        let accepted = new.len();
        let findings: Vec<Finding> = {
            let mut trackers = self.tracking.lock();
            match trackers.get_mut(&m.id) {
                Some(t) => new.iter().flat_map(|(_, p)| t.observe(*p)).collect(),
                None => Vec::new(),
            }
        };
        self.handle_findings(m.id, findings).await?;
        Ok(IngestReport {
            movement: m.id,
            accepted,
            duplicates: received - accepted,
            rejected,
        })
    }

    /// Acts on what the detectors found: start and arrival move the movement; alerts are
    /// opened (duplicates of an open alert suppressed) and streamed.
    async fn handle_findings(&self, id: MovementId, findings: Vec<Finding>) -> Result<()> {
        for f in findings {
            match f {
                Finding::Started { .. } => {
                    self.system_step(id, Transition::Start, "first position near the origin")
                        .await?
                }
                Finding::Arrived { .. } => {
                    self.system_step(id, Transition::Complete, "position at the destination")
                        .await?;
                    self.tracking.lock().remove(&id);
                }
                Finding::Alert {
                    kind,
                    severity,
                    message,
                    at,
                    position,
                    zone,
                } => {
                    self.raise(
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
    pub(crate) async fn raise(
        &self,
        movement: MovementId,
        kind: AlertKind,
        severity: &str,
        message: String,
        at: i64,
        evidence: serde_json::Value,
    ) -> Result<Option<AlertRecord>> {
        let now = self.clock.now();
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
        let webhooks: Vec<String> = self.webhooks.iter().map(|t| t.url.clone()).collect();
        let order = self.tracking.alert_order.lock().await;
        let created = self.db(move |s| s.open_alert(&record, &webhooks, now)).await?;
        if let Some(a) = &created {
            // No subscriber is fine: the alert is stored and replayed on connect.
            let _ = self.tracking.alerts.send(a.clone());
        }
        drop(order);
        if let Some(a) = &created {
            self.gate
                .record(
                    &system(),
                    &Origin::internal(),
                    Event::info(
                        "alert.open",
                        Some(Resource::Movement(movement)),
                        format!("{}:{}", a.kind, a.id),
                    ),
                )
                .await?;
            tracing::warn!(movement = %movement, kind = %a.kind, severity = %a.severity, "{}", a.message);
            self.tracking.webhook_wake.notify_one();
        }
        Ok(created)
    }

    /// The device's current assignment: the movement it reports for and its route
    /// (released to its team; recorded as a disclosure of the plan to the device).
    pub async fn device_assignment(&self, device: &Device) -> Result<DeviceAssignment> {
        let m = self.movement_of(device).await?;
        let plan = m.plan.as_ref().ok_or(Error::NotFound)?;
        self.gate
            .record(
                &device_who(device),
                &Origin::internal(),
                Event::allow(
                    "movement.assignment",
                    Some(Resource::MovementPlan(m.id)),
                    "escort-device",
                )
                .fields(&["route", "departure", "arrival"]),
            )
            .await?;
        Ok(DeviceAssignment {
            movement: m.id,
            state: m.state,
            route: plan.legs.iter().flat_map(|l| l.points.iter().copied()).collect(),
            departure: plan.departure,
            arrival: plan.arrival,
        })
    }

    /// SOS from a device (the app's panic button): a critical alert on its movement.
    pub async fn device_sos(&self, device: &Device) -> Result<()> {
        let m = self.movement_of(device).await?;
        let now = self.clock.now();
        // Recorded first, like every change: while the log is down nobody could read the
        // alert anyway (reads fail closed), so the device is told to retry.
        self.gate
            .record(
                &device_who(device),
                &Origin::device(),
                Event::allow("tracking.sos", Some(Resource::Movement(m.id)), "SOS from the device"),
            )
            .await?;
        self.raise(
            m.id,
            AlertKind::Sos,
            "critical",
            format!("SOS from device {}", device.name),
            now,
            serde_json::json!({"device": device.id}),
        )
        .await?;
        Ok(())
    }

    /// A movement whose plan the caller may see (need to know), or not found (the denial
    /// recorded as `log`).
    async fn operable(&self, caller: &Caller, id: MovementId, log: &'static str) -> Result<MovementRecord> {
        let m = self
            .by_id(caller, log, Resource::Movement(id), move |s| s.movement(id))
            .await?;
        let check = Change::new(
            log,
            Some(Resource::MovementPlan(id)),
            Action::ReadMovementPlan {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
            Refusal::Hidden,
        );
        self.gate.check(caller, &check).await?;
        Ok(m)
    }

    /// Distress from a signed-in member of the escort or a planner: a critical SOS alert.
    /// Returns the alert and whether it is new (an open SOS is returned as it is).
    pub async fn sos(&self, caller: &Caller, id: MovementId) -> Result<(Disclosed<MovementAlert>, bool)> {
        let m = self.operable(caller, id, "movement.sos").await?;
        let now = self.clock.now();
        let by = caller
            .user
            .as_ref()
            .map_or_else(|| "a device".to_owned(), |u| u.username.as_str().to_owned());
        let note = Change::new(
            "movement.sos",
            Some(Resource::Movement(id)),
            Action::ReadMovementPlan {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
            Refusal::Hidden,
        );
        self.gate.permit(caller, note).await.map(drop)?;
        let (alert, new) = match self
            .raise(
                m.id,
                AlertKind::Sos,
                "critical",
                format!("SOS from {by}"),
                now,
                serde_json::json!({"by": by}),
            )
            .await?
        {
            Some(a) => (a, true),
            None => {
                let open = self
                    .db(|s| s.alerts_after(0, 100_000))
                    .await?
                    .into_iter()
                    .rev()
                    .find(|a| a.movement == m.id && a.kind == "sos" && a.state == "open")
                    .ok_or(Error::NotFound)?;
                (open, false)
            }
        };
        let shown = MovementAlert {
            alert,
            org: m.org,
            party: m.party,
        };
        Ok((self.gate.disclose(caller, shown).await?, new))
    }

    /// A check-in by the escort: resets the missed-check-in detector.
    pub async fn check_in(&self, caller: &Caller, id: MovementId) -> Result<()> {
        let m = self.operable(caller, id, "movement.check_in").await?;
        let change = Change::new(
            "movement.check_in",
            Some(Resource::Movement(id)),
            Action::ReadMovementPlan {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
            Refusal::Hidden,
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let now = self.clock.now();
        let user = caller.user.as_ref().map(|u| u.id);
        self.write(caller, &change, permit, move |s| s.record_check_in(id, user, now))
            .await?;
        if let Some(t) = self.tracking.lock().get_mut(&id) {
            t.check_in(now);
        }
        Ok(())
    }

    /// The positions of a movement (need to know).
    pub async fn track(&self, caller: &Caller, id: MovementId) -> Result<Disclosed<Track>> {
        let m = self.operable(caller, id, "movement.track").await?;
        let positions = self.db(move |s| s.track(id)).await?;
        let track = Track {
            movement: id,
            org: m.org,
            party: m.party,
            positions,
        };
        self.gate.disclose(caller, track).await
    }

    /// An alert with its movement's owner attributes (`None` when the movement is gone).
    async fn with_movement(
        &self,
        a: AlertRecord,
        cache: &mut HashMap<MovementId, Option<(OrgId, PartyId)>>,
    ) -> Result<Option<MovementAlert>> {
        let id = a.movement;
        let owner = match cache.get(&id) {
            Some(o) => *o,
            None => {
                let o = match self.db(move |s| s.movement(id)).await {
                    Ok(m) => Some((m.org, m.party)),
                    Err(Error::NotFound) => None,
                    Err(e) => return Err(e),
                };
                cache.insert(id, o);
                o
            }
        };
        Ok(owner.map(|(org, party)| MovementAlert { alert: a, org, party }))
    }

    /// The alerts after sequence `after` on movements the caller may see, oldest first,
    /// each disclosed (positions only to those who may see the plan).
    pub async fn alerts(&self, caller: &Caller, after: i64) -> Result<Vec<Disclosed<MovementAlert>>> {
        let all = self.db(move |s| s.alerts_after(after, 10_000)).await?;
        let mut cache = HashMap::new();
        let mut visible = Vec::new();
        for a in all {
            if let Some(ma) = self.with_movement(a, &mut cache).await?
                && self.gate.may_see(&caller.actor, &ma)
            {
                visible.push(ma);
            }
        }
        self.gate.disclose_all(caller, visible).await
    }

    /// One alert for an event stream: decided again for the reader (grants change while a
    /// stream is open), recorded once per stream.
    pub async fn alert_for_stream(
        &self,
        caller: &Caller,
        stream: &mut StreamState,
        a: AlertRecord,
    ) -> Result<Option<Disclosed<MovementAlert>>> {
        let Some(ma) = self.with_movement(a, &mut stream.owners).await? else {
            return Ok(None);
        };
        self.gate.disclose_to_stream(caller, &mut stream.ledger, ma).await
    }

    /// Acknowledges (`to` = acknowledged) or resolves an alert, with a note (required to
    /// resolve): host coordinators and the escort.
    pub async fn move_alert(
        &self,
        caller: &Caller,
        id: Uuid,
        note: Option<String>,
        from: &'static [&'static str],
        to: &'static str,
    ) -> Result<Disclosed<MovementAlert>> {
        let user = caller.human()?.clone();
        let a = self.db(move |s| s.alert(id)).await?;
        let mid = a.movement;
        let m = self.db(move |s| s.movement(mid)).await?;
        let see = Change::new(
            "alert.update",
            Some(Resource::Alert(id)),
            Action::ReadMovement {
                movement: m.id,
                org: m.org,
                party: m.party,
            },
            Refusal::Hidden,
        );
        self.gate.check(caller, &see).await?;
        let change = Change::new(
            "alert.update",
            Some(Resource::Alert(id)),
            Action::TransitionMovement {
                movement: m.id,
                org: m.org,
                party: m.party,
                transition: "abort",
            },
            Refusal::Forbidden("host coordinators and the escort handle alerts"),
        );
        let mut reasons = self.gate.check(caller, &change).await?;
        let note = note
            .as_deref()
            .map(|n| jsms_domain::text::required("/note", n, 1000))
            .transpose()?;
        if to == "resolved" && note.is_none() {
            return Err(jsms_domain::ValidationError::new("/note", "say how it was resolved").into());
        }
        reasons.push(to.to_owned());
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        let entry =
            serde_json::json!({"at": crate::rfc3339(now), "user": user.username.as_str(), "action": to, "note": note});
        let updated = self
            .write(caller, &change, permit, move |s| {
                s.update_alert(id, from, to, entry, now)
            })
            .await?;
        let shown = MovementAlert {
            alert: updated,
            org: m.org,
            party: m.party,
        };
        self.gate.disclose(caller, shown).await
    }

    /// One alert (for its CAP export), disclosed to the caller.
    pub async fn alert(&self, caller: &Caller, id: Uuid) -> Result<Disclosed<MovementAlert>> {
        let a = self
            .by_id(caller, "alert.read", Resource::Alert(id), move |s| s.alert(id))
            .await?;
        let mut cache = HashMap::new();
        let ma = self.with_movement(a, &mut cache).await?.ok_or(Error::NotFound)?;
        self.gate.disclose(caller, ma).await
    }

    /// Stored positions after sequence `after` of movements whose plan the caller may see,
    /// each movement recorded once for the stream; and the owner attributes it used.
    pub async fn positions_for_stream(
        &self,
        caller: &Caller,
        stream: &mut StreamState,
        after: i64,
    ) -> Result<Vec<(i64, MovementId, Position)>> {
        let stored = self.db(move |s| s.position_events_after(after, 10_000)).await?;
        let mut out = Vec::new();
        for (seq, m, p) in stored {
            if self.position_for_stream(caller, stream, m).await? {
                out.push((seq, m, p));
            }
        }
        Ok(out)
    }

    /// Whether a stream's reader may see positions of movement `id` (its plan): decided
    /// every time, recorded once per stream.
    pub async fn position_for_stream(&self, caller: &Caller, stream: &mut StreamState, id: MovementId) -> Result<bool> {
        let owner = match stream.owners.get(&id) {
            Some(o) => *o,
            None => {
                let o = match self.db(move |s| s.movement(id)).await {
                    Ok(m) => Some((m.org, m.party)),
                    Err(Error::NotFound) => None,
                    Err(e) => return Err(e),
                };
                stream.owners.insert(id, o);
                o
            }
        };
        let Some((org, party)) = owner else { return Ok(false) };
        let track = Track {
            movement: id,
            org,
            party,
            positions: vec![],
        };
        Ok(self
            .gate
            .disclose_to_stream(caller, &mut stream.ledger, track)
            .await?
            .is_some())
    }

    /// Runs the time-driven detectors of every movement under way, then escalates what
    /// nobody acknowledged in time (one tick of the runtime's detector loop).
    pub async fn detector_tick(&self) -> Result<()> {
        let now = self.clock.now();
        let findings: Vec<(MovementId, Vec<Finding>)> = self
            .tracking
            .lock()
            .iter_mut()
            .map(|(id, t)| (*id, t.tick(now)))
            .filter(|(_, f)| !f.is_empty())
            .collect();
        for (id, f) in findings {
            if let Err(e) = self.handle_findings(id, f).await {
                tracing::error!(error = %e, "detector alert not stored");
            }
        }
        self.escalate(now).await.map(drop)
    }

    /// Escalates open alerts nobody acknowledged within the configured delay: the alert's
    /// log says so, and a critical `escalation` alert goes to the host coordinators.
    pub async fn escalate(&self, now: i64) -> Result<usize> {
        let before = now - self.tracking.escalate_after_s;
        let due = self.db(move |s| s.unescalated_open(before)).await?;
        let mut n = 0;
        for a in due {
            let note = format!(
                "not acknowledged within {} s: escalated to the host movement coordinators",
                self.tracking.escalate_after_s
            );
            let entry =
                serde_json::json!({"at": crate::rfc3339(now), "user": null, "action": "escalated", "note": note});
            let id = a.id;
            match self
                .db(move |s| s.update_alert(id, &["open"], "open", entry, now))
                .await
            {
                Ok(_) => {}
                // Acknowledged meanwhile: nothing to escalate.
                Err(Error::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
            self.raise(
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

    /// Raises a route-affected alert on movements under way whose route a changed zone
    /// crosses.
    pub(crate) async fn route_affected_alerts(&self, events: &[crate::reeval::RouteAffected]) -> Result<()> {
        for e in events {
            let id = MovementId::from_uuid(e.owner);
            let m = match self.db(move |s| s.movement(id)).await {
                Ok(m) => m,
                Err(Error::NotFound) => continue,
                Err(err) => return Err(err),
            };
            if m.state != MovementState::InProgress {
                continue;
            }
            self.raise(
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
}

/// Whether a disclosed movement's plan parts were disclosed (helper for views).
pub fn sees_plan(m: &Disclosed<MovementRecord>) -> bool {
    m.sees(MovementPart::Plan)
}
