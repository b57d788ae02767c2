//! Live tracking under load (PRODUCT §5, issue 6): 1,000 movements under way, each with its
//! escort team's device reporting its drive (the simulator's track along its own route) in
//! batches over HTTP, every detector running (corridor, stops, 100 threat zones, arrival on
//! every position; overdue, silence and check-ins every second), while a host coordinator
//! follows the alert stream (SSE). Some drives carry faults (deviations, stops) that raise
//! alerts; each alert's latency is measured from the moment the batch holding the position
//! that triggered it was sent to the moment the SSE subscriber received it.
//!
//! Baseline in the same process: the same batches written straight to the store (no HTTP,
//! no detectors, no streams). Memory: the process's resident set before the load and at its
//! peak (client and server share the process; the request bodies are built before the
//! clock starts).
//!
//! Run: `cargo bench -p jsms-cli --bench tracking` (optional env: `BENCH_MOVEMENTS` (1000),
//! `BENCH_BATCH` (50 positions), `BENCH_CONNECTIONS` (32)).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_cli::simulate::{Fault, Sample, track};
use jsms_domain::access::PersonScope;
use jsms_domain::geo::Coordinate;
use jsms_domain::ids::{EscortTeamId, MovementId};
use jsms_domain::movement::{Endpoint, Leg, MovementPlan, MovementRequest, MovementState, PlannedLeg};
use jsms_domain::tracking::{Position, Thresholds};
use jsms_domain::user::PartyKind;
use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
use jsms_identity::totp::{self, TotpSecret};
use jsms_server::config::{KeySource, SessionPolicy};
use jsms_server::instance::DataDir;
use jsms_server::state::{AppState, SystemClock};
use jsms_store::{Device, EscortTeam, MovementBody, MovementEvent, MovementRecord, PageRequest, Store, ZoneRecord};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Resident set and its peak, MiB (Linux).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A route of about 6 km with turns: 60 steps of 100 m, heading drifting.
fn random_route(rng: &mut Rng) -> Vec<(f64, f64)> {
    let mut here = (24.80 + rng.unit() * 0.15, 66.95 + rng.unit() * 0.20);
    let mut heading = rng.unit() * std::f64::consts::TAU;
    let mut route = vec![here];
    for _ in 0..60 {
        heading += (rng.unit() - 0.5) * 0.8;
        here = (
            here.0 + heading.cos() * 100.0 / 111_195.0,
            here.1 + heading.sin() * 100.0 / (111_195.0 * here.0.to_radians().cos()),
        );
        route.push(here);
    }
    route
}

/// Per movement: the position times each batch covered and when it was sent.
type SentBatches = HashMap<MovementId, Vec<(i64, i64, Instant)>>;

/// One batch ready to send.
struct Batch {
    movement: MovementId,
    token: Arc<str>,
    body: Vec<u8>,
    positions: usize,
    /// Position times covered.
    from: i64,
    to: i64,
}

#[tokio::main]
async fn main() {
    let movements = env_or("BENCH_MOVEMENTS", 1000) as usize;
    let batch_size = env_or("BENCH_BATCH", 50) as usize;
    let connections = env_or("BENCH_CONNECTIONS", 32) as usize;
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::new(tmp.path().join("instance"));
    data.create(&KeySource::DataDir).unwrap();
    let store = data.create_store(&KeySource::DataDir).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let logins = jsms_cli::demo::seed(&store, now).unwrap_or_else(|f| panic!("{f:?}"));
    let store: Arc<dyn Store> = Arc::new(store);

    // The fixture: 1,000 escort teams, each with a device and a movement under way along its
    // own route; 100 threat zones over the area.
    let page = PageRequest {
        after: None,
        limit: 500,
        q: None,
    };
    let person = store.persons(PersonScope::All, &page).unwrap().items.remove(0);
    let host = store
        .parties()
        .unwrap()
        .into_iter()
        .find(|p| p.kind == PartyKind::Host)
        .unwrap();
    let requester = store
        .users(None, &page)
        .unwrap()
        .items
        .into_iter()
        .find(|u| u.username.as_str() == "pn.officer")
        .unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..100 {
        let centre = Coordinate::new(24.80 + rng.unit() * 0.2, 66.95 + rng.unit() * 0.25).unwrap();
        let zone = ThreatZone::new(
            ZoneShape::Circle {
                center: centre,
                radius_m: 200.0 + rng.unit() * 600.0,
            },
            1 + (rng.next() % 3) as u8,
            ZoneKind::Unrest,
            now - 86_400,
            None,
        )
        .unwrap();
        let record = ZoneRecord {
            id: uuid::Uuid::now_v7(),
            owner_party: host.id,
            zone,
            source: "benchmark".into(),
            notes: None,
            version: 1,
        };
        store.create_zone(&record, now).unwrap();
    }
    let started_at = now - 900;
    let mut drives = Vec::new();
    for i in 0..=movements {
        let route = random_route(&mut rng);
        let team = EscortTeam {
            id: EscortTeamId::generate(),
            party: host.id,
            unit: format!("Benchmark unit {i}"),
            call_sign: format!("BENCH {i}"),
            members: Vec::new(),
            vehicles: vec!["SUV".into()],
            version: 1,
        };
        store.create_escort_team(&team, now).unwrap();
        let coord = |p: (f64, f64)| Coordinate::new(p.0, p.1).unwrap();
        let (origin, destination) = (coord(route[0]), coord(*route.last().unwrap()));
        let request = MovementRequest::new(
            vec![person.person.id],
            vec![Leg {
                from: Endpoint::Point(origin),
                to: Endpoint::Point(destination),
            }],
            "benchmark",
            (now + 3600, now + 7200),
            Vec::new(),
            now,
        )
        .unwrap();
        let id = MovementId::generate();
        let record = MovementRecord {
            id,
            org: person.person.draft.employer_org_id,
            party: person.employer_party_id,
            requester: requester.id,
            state: MovementState::InProgress,
            body: MovementBody {
                request,
                assessment: None,
                approvals: Vec::new(),
                rejection: None,
                planners: Vec::new(),
                disclosed_to: Vec::new(),
                released_at: Some(started_at - 600),
                history: vec![MovementEvent {
                    at: started_at,
                    user: None,
                    what: "start".into(),
                    note: None,
                }],
            },
            plan: Some(MovementPlan {
                departure: started_at,
                arrival: started_at + 900,
                legs: vec![PlannedLeg {
                    points: route.iter().map(|p| coord(*p)).collect(),
                    roads: Vec::new(),
                    distance_m: 6000.0,
                    duration_s: 600.0,
                    risk: 0.0,
                }],
                escort_team: team.id,
                call_sign: team.call_sign.clone(),
                escort_members: Vec::new(),
                escort_vehicles: team.vehicles.clone(),
                release_lead_s: 600,
                warnings: Vec::new(),
                disclosure_key: None,
            }),
            release_at: Some(started_at - 600),
            ends_at: None,
            version: 1,
        };
        store.create_movement(&record, now).unwrap();
        let secret = jsms_identity::token::issue("jsmsd_").unwrap();
        let device = Device {
            id: uuid::Uuid::now_v7(),
            team: team.id,
            name: format!("BENCH {i} phone"),
        };
        store.create_device(&device, &secret.hash, now).unwrap();
        // One drive in five deviates, one in ten stops; the rest drive clean.
        let faults = match i % 10 {
            0 => vec![Fault::Deviation(0.3), Fault::Stop(0.7)],
            5 => vec![Fault::Deviation(0.5)],
            _ => Vec::new(),
        };
        drives.push((
            id,
            Arc::<str>::from(secret.text),
            track(&route, 12.0, 1, &faults),
            device.id,
        ));
    }
    // The last movement is the baseline's (no device reports for it over HTTP).
    let (baseline_movement, _, baseline_samples, baseline_device) = drives.pop().unwrap();

    // Every batch, built before the clock starts; round-robin over the devices so that all
    // convoys advance together.
    let to_position = |at: i64, lat: f64, lon: f64, speed: f64| {
        Position::new(started_at + at, (lat, lon), Some(speed), None, None, None, now).unwrap()
    };
    let mut per_device: Vec<Vec<Batch>> = Vec::new();
    for (movement, token, samples, _) in &drives {
        let mut positions: Vec<Position> = samples
            .iter()
            .filter_map(|s| match *s {
                Sample::Position { at, lat, lon, speed } => Some(to_position(at, lat, lon, speed)),
                Sample::Sos { .. } => None,
            })
            .collect();
        // The device stops reporting at the arrival (which completes the movement).
        let destination = positions.last().map(|p| (p.lat, p.lon)).unwrap();
        if let Some(arrival) = positions
            .iter()
            .position(|p| jsms_domain::tracking::distance_m((p.lat, p.lon), destination) <= 100.0)
        {
            positions.truncate(arrival + 1);
        }
        per_device.push(
            positions
                .chunks(batch_size)
                .map(|chunk| Batch {
                    movement: *movement,
                    token: Arc::clone(token),
                    body: serde_json::to_vec(&json!({"positions": chunk.iter().map(|p| json!({
                        "time": p.at, "lat": p.lat, "lon": p.lon, "speed": p.speed, "accuracy": 5.0, "battery": 80.0
                    })).collect::<Vec<_>>()}))
                    .unwrap(),
                    positions: chunk.len(),
                    from: chunk[0].at,
                    to: chunk[chunk.len() - 1].at,
                })
                .collect(),
        );
    }
    let rounds = per_device.iter().map(Vec::len).max().unwrap_or(0);
    let mut queues: Vec<Vec<Batch>> = (0..connections).map(|_| Vec::new()).collect();
    let mut iters: Vec<_> = per_device.into_iter().map(Vec::into_iter).collect();
    // A device's batches go in order over one connection, as a phone sends them.
    for _ in 0..rounds {
        for (d, it) in iters.iter_mut().enumerate() {
            if let Some(b) = it.next() {
                queues[d % connections].push(b);
            }
        }
    }
    let total_positions: usize = queues.iter().flatten().map(|b| b.positions).sum();
    let total_batches: usize = queues.iter().map(Vec::len).sum();

    // Baseline: the store alone, the baseline movement's drive in the same batch size,
    // repeated (shifted in time) until 100,000 positions were written.
    let base_store = Arc::clone(&store);
    let base_positions: Vec<Position> = baseline_samples
        .iter()
        .filter_map(|s| match *s {
            Sample::Position { at, lat, lon, speed } => Some(to_position(at, lat, lon, speed)),
            Sample::Sos { .. } => None,
        })
        .collect();
    let baseline = tokio::task::spawn_blocking(move || {
        let device = baseline_device;
        let started = Instant::now();
        let mut n = 0usize;
        let mut shift = 0;
        while n < 100_000 {
            for chunk in base_positions.chunks(batch_size) {
                let shifted: Vec<Position> = chunk.iter().map(|p| Position { at: p.at - shift, ..*p }).collect();
                let batch = jsms_store::NewPositions {
                    movement: baseline_movement,
                    device,
                    positions: shifted,
                };
                n += base_store
                    .insert_positions(&[batch], now)
                    .unwrap()
                    .remove(0)
                    .unwrap()
                    .len();
            }
            shift += 1000;
        }
        n as f64 / started.elapsed().as_secs_f64()
    })
    .await
    .unwrap();

    let audit = data.open_audit(Arc::new(SystemClock)).unwrap();
    // Default thresholds, except the clock-driven ones: the drives are replayed 50× faster
    // than they happened (stamped in the last 15 minutes), so silence, lateness and missed
    // check-ins would be artefacts of the replay, not of the convoys.
    let thresholds = Thresholds {
        silent_s: 3600,
        overdue_grace_s: 3600,
        check_in_s: 3600,
        ..Thresholds::default()
    };
    let services = Arc::new(jsms_service::Services::new(
        Arc::clone(&store),
        audit,
        Arc::new(jsms_authz::Authz::builtin().unwrap()),
        Arc::new(jsms_server::anomaly::AnomalyDetector::default()),
        Arc::new(SystemClock),
        jsms_service::Settings {
            detectors: thresholds,
            alert_escalation_secs: 3600,
            ..Default::default()
        },
    ));
    let restored = services.restore_trackers().await.unwrap();
    assert_eq!(restored, movements + 1);
    jsms_service::runtime::every(&services, Duration::from_secs(1), "detector tick", |s| async move {
        s.detector_tick().await
    });
    let state = AppState::new(services, SessionPolicy::default(), false);
    let url = jsms_server::spawn_on_loopback(jsms_server::app(state, 4 * 1024 * 1024))
        .await
        .unwrap();

    // The subscriber: a host coordinator on the alert stream.
    let login = logins.iter().find(|l| l.username == "hn.coordinator").unwrap();
    let secret = TotpSecret::from_base32(login.totp_secret.as_deref().unwrap()).unwrap();
    let subscriber = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r = subscriber
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"username": login.username, "password": login.password,
                      "totp_code": totp::code_at(&secret, time::OffsetDateTime::now_utc().unix_timestamp())}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in");
    let mut sse = subscriber
        .get(format!("{url}/api/v1/alerts/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    let received: Arc<Mutex<Vec<(Instant, Value)>>> = Arc::default();
    let sink = Arc::clone(&received);
    let reader = tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = sse.chunk().await {
            let at = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:"))
                    && let Ok(v) = serde_json::from_str::<Value>(data.trim())
                {
                    sink.lock().unwrap().push((at, v));
                }
            }
        }
    });

    let (rss_before, _) = memory();
    let sent: Arc<Mutex<SentBatches>> = Arc::default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for queue in queues {
        let (client, url, sent) = (client.clone(), url.clone(), Arc::clone(&sent));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(queue.len());
            let mut accepted = 0u64;
            for b in queue {
                let t = Instant::now();
                sent.lock()
                    .unwrap()
                    .entry(b.movement)
                    .or_default()
                    .push((b.from, b.to, t));
                let resp = client
                    .post(format!("{url}/api/v1/tracking/positions"))
                    .bearer_auth(&*b.token)
                    .header("content-type", "application/json")
                    .body(b.body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();

                let report: Value = resp.json().await.unwrap();
                assert_eq!(status, 200, "{report}");
                accepted += report["accepted"].as_u64().unwrap();
                latencies.push(t.elapsed());
            }
            (latencies, accepted)
        }));
    }
    let mut latencies = Vec::new();
    let mut accepted = 0u64;
    for t in tasks {
        let (l, a) = t.await.unwrap();
        latencies.extend(l);
        accepted += a;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (rss_after, peak) = memory();
    // Let the last alerts arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    reader.abort();
    latencies.sort_unstable();

    // Alert latency: from sending the batch that held the triggering position to receipt.
    let sent = sent.lock().unwrap();
    let mut alert_latencies = Vec::new();
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for (at, v) in received.lock().unwrap().iter() {
        let kind = v["kind"].as_str().unwrap_or("?").to_owned();
        *kinds.entry(kind).or_default() += 1;
        let movement = MovementId::from_uuid(v["movement"].as_str().unwrap().parse().unwrap());
        let when = time::OffsetDateTime::parse(
            v["at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp();
        if let Some((_, _, t)) = sent
            .get(&movement)
            .and_then(|batches| batches.iter().find(|(from, to, _)| (*from..=*to).contains(&when)))
        {
            alert_latencies.push(at.duration_since(*t));
        }
    }
    alert_latencies.sort_unstable();
    let stored = store.alerts_after(0, 1_000_000).unwrap().len();
    let streamed = received.lock().unwrap().len();
    let rate = accepted as f64 / elapsed;
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    println!(
        "tracking: {movements} movements under way, {total_batches} batches of up to {batch_size} positions from {connections} connections, {} cores, client and server in one process",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!(
        "  ingest over HTTP (device token, validation, store, live stream, all detectors, 100 zones): {accepted} of {total_positions} positions in {elapsed:.2} s = {rate:.0} positions/s (goal ≥ 50,000); batch p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "  alerts on the SSE stream: {} ({}); latency from the batch sent to the event received p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal p99 ≤ 500 ms)",
        alert_latencies.len(),
        kinds
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        percentile(&alert_latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&alert_latencies, 0.99).as_secs_f64() * 1e3,
        alert_latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!("  alerts stored {stored}, received on the stream {streamed}");
    assert_eq!(stored, streamed, "the stream lost alerts");
    println!(
        "  memory: resident {rss_before:.0} MiB before the load, {rss_after:.0} MiB after, peak {peak:.0} MiB (process: server, client and the prepared request bodies)"
    );
    println!(
        "  baseline Store::insert_positions alone (one thread, same batches, one transaction each): {baseline:.0} positions/s"
    );
    println!("  ratio baseline / HTTP: {:.1}x", baseline / rate);
}
