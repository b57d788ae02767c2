//! Every detector fires exactly when it should and not otherwise: drives made by the
//! simulator (`jsms simulate`'s [`track`], with its faults) are fed to the detectors of
//! [`Tracker`] under a virtual clock that advances one second at a time — each position is
//! observed when its time comes, then the time-driven detectors tick. The expected instants
//! are derived from the drive itself and the thresholds, so a detector that fires a second
//! early or late, twice, or without cause fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_cli::simulate::{Fault, Sample, track};
use jsms_domain::geo::Coordinate;
use jsms_domain::tracking::{AlertKind, Finding, Position, Thresholds, Tracker, distance_m, distance_to_route};
use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
use uuid::Uuid;

/// A drive of about 6.6 km with turns, in lat/lon: east, north, east again.
fn route() -> Vec<(f64, f64)> {
    let mut r: Vec<(f64, f64)> = (0..=30).map(|i| (24.850, 67.000 + f64::from(i) * 0.001)).collect();
    r.extend((1..=20).map(|i| (24.850 + f64::from(i) * 0.001, 67.030)));
    r.extend((1..=15).map(|i| (24.870, 67.030 + f64::from(i) * 0.001)));
    r
}

/// The virtual start time.
const T0: i64 = 1_900_000_000;
/// 12 m/s, one position every second.
const SPEED: f64 = 12.0;

/// What happened, at which virtual second.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Started,
    Arrived,
    Alert(AlertKind, Option<Uuid>),
    Sos,
}

struct Run {
    samples: Vec<Sample>,
    seen: Vec<(i64, Seen)>,
}

impl Run {
    fn at(&self, what: &Seen) -> Vec<i64> {
        self.seen.iter().filter(|(_, s)| s == what).map(|(t, _)| *t).collect()
    }

    fn alerts(&self) -> Vec<(i64, AlertKind)> {
        self.seen
            .iter()
            .filter_map(|(t, s)| match s {
                Seen::Alert(k, _) => Some((*t, *k)),
                _ => None,
            })
            .collect()
    }

    /// Positions in order: (virtual time, point, speed).
    fn positions(&self) -> Vec<(i64, (f64, f64), f64)> {
        self.samples
            .iter()
            .filter_map(|s| match *s {
                Sample::Position { at, lat, lon, speed } => Some((T0 + at, (lat, lon), speed)),
                Sample::Sos { .. } => None,
            })
            .collect()
    }
}

struct Drive {
    faults: Vec<Fault>,
    thresholds: Thresholds,
    /// Planned arrival, seconds after the start.
    eta: i64,
    /// Check-ins, seconds after the start.
    check_ins: Vec<i64>,
    zones: Vec<(Uuid, ThreatZone)>,
    /// Seconds to keep the clock running after the last sample.
    after: i64,
}

impl Default for Drive {
    fn default() -> Self {
        Self {
            faults: Vec::new(),
            thresholds: Thresholds::default(),
            eta: 3600,
            check_ins: (1..10).map(|i| i * 600).collect(),
            zones: Vec::new(),
            after: 60,
        }
    }
}

/// Runs the drive under the virtual clock.
fn run(d: Drive) -> Run {
    let route = route();
    let samples = track(&route, SPEED, 1, &d.faults);
    let origin = route[0];
    let destination = *route.last().unwrap();
    let mut tracker = Tracker::new(
        route.clone(),
        vec![(origin, 150.0), (destination, 150.0)],
        d.zones,
        T0 + d.eta,
        d.thresholds,
    );
    let end = samples
        .iter()
        .map(|s| match *s {
            Sample::Position { at, .. } | Sample::Sos { at } => at,
        })
        .max()
        .unwrap();
    let mut seen = Vec::new();
    let mut next = 0;
    for t in 0..=end + d.after {
        let now = T0 + t;
        if d.check_ins.contains(&t) {
            tracker.check_in(now);
        }
        let mut found = Vec::new();
        while let Some(s) = samples.get(next) {
            match *s {
                Sample::Position { at, lat, lon, speed } if at == t => {
                    let p = Position::new(now, (lat, lon), Some(speed), None, None, None, now).unwrap();
                    found.extend(tracker.observe(p));
                }
                Sample::Sos { at } if at == t => seen.push((now, Seen::Sos)),
                _ => break,
            }
            next += 1;
        }
        found.extend(tracker.tick(now));
        for f in found {
            seen.push(match f {
                Finding::Started { at } => (at, Seen::Started),
                Finding::Arrived { at } => (at, Seen::Arrived),
                Finding::Alert { kind, at, zone, .. } => {
                    assert!(at <= now, "an alert dated after the clock");
                    (now, Seen::Alert(kind, zone))
                }
            });
        }
    }
    assert_eq!(next, samples.len(), "every sample was delivered");
    Run { samples, seen }
}

#[test]
fn a_clean_drive_starts_arrives_and_raises_nothing() {
    let r = run(Drive::default());
    let positions = r.positions();
    assert_eq!(r.at(&Seen::Started), vec![T0], "started at the first position");
    assert_eq!(r.at(&Seen::Arrived).len(), 1);
    let arrived = r.at(&Seen::Arrived)[0];
    let destination = *route().last().unwrap();
    let first_near = positions
        .iter()
        .find(|(_, p, _)| distance_m(*p, destination) <= Thresholds::default().arrive_m)
        .unwrap()
        .0;
    assert_eq!(arrived, first_near, "arrived at the first position within arrive_m");
    assert!(r.alerts().is_empty(), "{:?}", r.alerts());
    // A realistic drive: about 6.6 km at 12 m/s.
    let duration = positions.last().unwrap().0 - T0;
    assert!((500..=600).contains(&duration), "{duration} s");
}

#[test]
fn a_deviation_fires_once_after_the_corridor_is_left_for_the_threshold() {
    let th = Thresholds::default();
    let r = run(Drive {
        faults: vec![Fault::Deviation(0.4)],
        ..Drive::default()
    });
    let route = route();
    let off: Vec<i64> = r
        .positions()
        .iter()
        .filter(|(_, p, _)| distance_to_route(*p, &route) > th.deviation_m)
        .map(|(t, _, _)| *t)
        .collect();
    let first_off = off[0];
    assert!(off.windows(2).all(|w| w[1] == w[0] + 1), "one continuous excursion");
    assert!(off.last().unwrap() - first_off >= th.deviation_s);
    assert_eq!(r.alerts(), vec![(first_off + th.deviation_s, AlertKind::Deviation)]);
    // The same excursion under a threshold longer than it lasts: nothing.
    let longer = off.last().unwrap() - first_off + 1;
    let quiet = run(Drive {
        faults: vec![Fault::Deviation(0.4)],
        thresholds: Thresholds {
            deviation_s: longer,
            ..th
        },
        ..Drive::default()
    });
    assert!(quiet.alerts().is_empty(), "{:?}", quiet.alerts());
}

#[test]
fn an_unplanned_stop_fires_after_the_threshold_and_not_at_a_safe_site() {
    let th = Thresholds::default();
    let r = run(Drive {
        faults: vec![Fault::Stop(0.5)],
        ..Drive::default()
    });
    let stopped: Vec<i64> = r
        .positions()
        .iter()
        .filter(|(_, _, v)| *v < 1.0)
        .map(|(t, _, _)| *t)
        .collect();
    // The stop (the arrival's own zero-speed position excluded).
    let first = stopped[0];
    assert_eq!(r.alerts(), vec![(first + th.stop_s, AlertKind::UnplannedStop)]);
    // A stop at the origin (a safe site) is not unplanned.
    let at_origin = run(Drive {
        faults: vec![Fault::Stop(0.0)],
        ..Drive::default()
    });
    assert!(at_origin.alerts().is_empty(), "{:?}", at_origin.alerts());
    // A stop shorter than the threshold: nothing.
    let patient = run(Drive {
        faults: vec![Fault::Stop(0.5)],
        thresholds: Thresholds { stop_s: 241, ..th },
        ..Drive::default()
    });
    assert!(patient.alerts().is_empty(), "{:?}", patient.alerts());
}

#[test]
fn a_silent_device_fires_once_when_the_silence_exceeds_the_threshold() {
    let th = Thresholds::default();
    let r = run(Drive {
        faults: vec![Fault::Silence(0.5)],
        ..Drive::default()
    });
    let times: Vec<i64> = r.positions().iter().map(|p| p.0).collect();
    let gap = times.windows(2).find(|w| w[1] - w[0] > 1).unwrap();
    assert!(gap[1] - gap[0] > th.silent_s);
    assert_eq!(r.alerts(), vec![(gap[0] + th.silent_s + 1, AlertKind::DeviceSilent)]);
    // Silence shorter than the threshold: nothing.
    let tolerant = run(Drive {
        faults: vec![Fault::Silence(0.5)],
        thresholds: Thresholds {
            silent_s: gap[1] - gap[0],
            ..th
        },
        ..Drive::default()
    });
    assert!(tolerant.alerts().is_empty(), "{:?}", tolerant.alerts());
}

#[test]
fn overdue_fires_once_after_the_planned_arrival_and_grace() {
    let th = Thresholds::default();
    // Planned to arrive after 100 s; the drive takes longer than 100 + 600 s with a stop.
    let r = run(Drive {
        faults: vec![Fault::Stop(0.9)],
        thresholds: Thresholds { stop_s: 3600, ..th },
        eta: 100,
        ..Drive::default()
    });
    let arrived = r.at(&Seen::Arrived)[0];
    assert!(arrived > T0 + 100 + th.overdue_grace_s);
    assert_eq!(
        r.alerts(),
        vec![(T0 + 100 + th.overdue_grace_s + 1, AlertKind::Overdue)]
    );
    // Arrival in time: nothing, even with the clock running on.
    let punctual = run(Drive {
        eta: arrived - T0,
        after: 3 * th.overdue_grace_s,
        ..Drive::default()
    });
    assert!(punctual.alerts().is_empty(), "{:?}", punctual.alerts());
}

#[test]
fn a_missed_check_in_fires_once_the_interval_passes_without_one() {
    let th = Thresholds::default();
    // Check-ins every 5 minutes, the last at 300 s; a 10-minute wait before the arrival.
    let slow = Thresholds {
        check_in_s: 400,
        stop_s: 3600,
        ..th
    };
    let r = run(Drive {
        faults: vec![Fault::Stop(0.9)],
        thresholds: slow,
        check_ins: vec![300],
        ..Drive::default()
    });
    assert_eq!(r.alerts(), vec![(T0 + 300 + 400 + 1, AlertKind::MissedCheckIn)]);
    // Checking in in time: nothing.
    let diligent = run(Drive {
        faults: vec![Fault::Stop(0.9)],
        thresholds: slow,
        check_ins: vec![300, 650],
        ..Drive::default()
    });
    assert!(diligent.alerts().is_empty(), "{:?}", diligent.alerts());
}

#[test]
fn entering_an_active_zone_fires_at_the_first_position_inside() {
    let route = route();
    let centre = route[40];
    let circle = |radius_m: f64, c: (f64, f64)| ZoneShape::Circle {
        center: Coordinate::new(c.0, c.1).unwrap(),
        radius_m,
    };
    let zone = ThreatZone::new(circle(300.0, centre), 4, ZoneKind::Unrest, T0 - 3600, None).unwrap();
    let expired = ThreatZone::new(circle(300.0, centre), 5, ZoneKind::IedRisk, T0 - 7200, Some(T0 - 3600)).unwrap();
    let elsewhere = ThreatZone::new(circle(300.0, (24.80, 66.90)), 5, ZoneKind::IedRisk, T0 - 3600, None).unwrap();
    let (id, expired_id, elsewhere_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let r = run(Drive {
        zones: vec![(id, zone.clone()), (expired_id, expired), (elsewhere_id, elsewhere)],
        ..Drive::default()
    });
    let first_inside = r
        .positions()
        .iter()
        .find(|(_, p, _)| zone.contains(p.0, p.1))
        .unwrap()
        .0;
    assert_eq!(
        r.seen
            .iter()
            .filter(|(_, s)| matches!(s, Seen::Alert(..)))
            .cloned()
            .collect::<Vec<_>>(),
        vec![(first_inside, Seen::Alert(AlertKind::ZoneEntry, Some(id)))]
    );
}

#[test]
fn sos_comes_when_pressed_and_faults_combine_without_interfering() {
    let th = Thresholds::default();
    let r = run(Drive {
        faults: vec![
            Fault::Sos(0.2),
            Fault::Deviation(0.3),
            Fault::Stop(0.6),
            Fault::Silence(0.7),
        ],
        ..Drive::default()
    });
    assert_eq!(r.at(&Seen::Sos).len(), 1);
    let kinds: Vec<AlertKind> = r.alerts().iter().map(|a| a.1).collect();
    assert_eq!(
        kinds,
        vec![AlertKind::Deviation, AlertKind::UnplannedStop, AlertKind::DeviceSilent],
        "each fault once, in order ({th:?})"
    );
    assert_eq!(r.at(&Seen::Arrived).len(), 1);
}
