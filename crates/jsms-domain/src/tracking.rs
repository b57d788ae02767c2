//! Live tracking of a movement under way (PRODUCT §3.4): validated positions and the
//! detectors, as a pure state machine driven by positions and by the clock — no IO, so
//! every detector is tested with exact times.

use crate::ValidationError;
use crate::zone::ThreatZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Positions further in the future than this are refused, seconds.
pub const MAX_FUTURE_S: i64 = 60;
/// Positions older than this are refused, seconds.
pub const MAX_AGE_S: i64 = 7 * 86_400;

/// A reported position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// When it was measured, Unix seconds.
    pub at: i64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Speed, metres per second.
    pub speed: Option<f64>,
    /// Heading, degrees from north.
    pub heading: Option<f64>,
    /// Accuracy, metres.
    pub accuracy: Option<f64>,
    /// Battery, percent.
    pub battery: Option<f64>,
}

impl Position {
    /// Validates a position received at `now`; the error names the field.
    pub fn new(
        at: i64,
        (lat, lon): (f64, f64),
        speed: Option<f64>,
        heading: Option<f64>,
        accuracy: Option<f64>,
        battery: Option<f64>,
        now: i64,
    ) -> Result<Self, ValidationError> {
        crate::geo::Coordinate::new(lat, lon)?;
        if at > now + MAX_FUTURE_S {
            return Err(ValidationError::new("/time", "more than a minute in the future"));
        }
        if at < now - MAX_AGE_S {
            return Err(ValidationError::new("/time", "older than 7 days"));
        }
        let range = |field: &str, v: Option<f64>, lo: f64, hi: f64| match v {
            Some(x) if !x.is_finite() || x < lo || x > hi => {
                Err(ValidationError::new(field, format!("between {lo} and {hi}")))
            }
            _ => Ok(()),
        };
        range("/speed", speed, 0.0, 100.0)?;
        range("/heading", heading, 0.0, 360.0)?;
        range("/accuracy", accuracy, 0.0, 100_000.0)?;
        range("/battery", battery, 0.0, 100.0)?;
        Ok(Self {
            at,
            lat,
            lon,
            speed,
            heading,
            accuracy,
            battery,
        })
    }
}

/// What the detectors look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Off the planned corridor for too long.
    Deviation,
    /// Stopped outside a safe site for too long.
    UnplannedStop,
    /// Entered an active threat zone.
    ZoneEntry,
    /// Not arrived by the planned arrival plus grace.
    Overdue,
    /// No check-in for too long.
    MissedCheckIn,
    /// No position for too long.
    DeviceSilent,
    /// Distress signal.
    Sos,
    /// A zone created or changed crosses the remaining route.
    RouteAffected,
    /// Another alert was not acknowledged in time: raised to the host coordinators.
    Escalation,
}

impl AlertKind {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Deviation => "deviation",
            Self::UnplannedStop => "unplanned_stop",
            Self::ZoneEntry => "zone_entry",
            Self::Overdue => "overdue",
            Self::MissedCheckIn => "missed_check_in",
            Self::DeviceSilent => "device_silent",
            Self::Sos => "sos",
            Self::RouteAffected => "route_affected",
            Self::Escalation => "escalation",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Deviation,
            Self::UnplannedStop,
            Self::ZoneEntry,
            Self::Overdue,
            Self::MissedCheckIn,
            Self::DeviceSilent,
            Self::Sos,
            Self::RouteAffected,
            Self::Escalation,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Detector thresholds (defaults are PRODUCT §3.4's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Corridor half-width, metres (150).
    pub deviation_m: f64,
    /// Time outside the corridor before an alert, seconds (30).
    pub deviation_s: i64,
    /// Stop time outside a safe site before an alert, seconds (180).
    pub stop_s: i64,
    /// Moving less than this from where the stop began counts as stopped, metres (30).
    pub stop_radius_m: f64,
    /// Grace after the planned arrival, seconds (600).
    pub overdue_grace_s: i64,
    /// Check-ins are due this often, seconds (900).
    pub check_in_s: i64,
    /// A device silent this long raises an alert, seconds (120).
    pub silent_s: i64,
    /// Within this of the origin, the first position starts the movement, metres (200).
    pub start_m: f64,
    /// Within this of the destination, the movement has arrived, metres (100).
    pub arrive_m: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            deviation_m: 150.0,
            deviation_s: 30,
            stop_s: 180,
            stop_radius_m: 30.0,
            overdue_grace_s: 600,
            check_in_s: 900,
            silent_s: 120,
            start_m: 200.0,
            arrive_m: 100.0,
        }
    }
}

impl Thresholds {
    /// Checks every threshold is positive and within a sensible range; names the first that
    /// is not.
    pub fn validate(&self) -> Result<(), String> {
        let metres = [
            ("deviation_m", self.deviation_m),
            ("stop_radius_m", self.stop_radius_m),
            ("start_m", self.start_m),
            ("arrive_m", self.arrive_m),
        ];
        for (name, v) in metres {
            if !(v.is_finite() && (1.0..=10_000.0).contains(&v)) {
                return Err(format!("{name} must be 1 to 10000 metres"));
            }
        }
        let seconds = [
            ("deviation_s", self.deviation_s),
            ("stop_s", self.stop_s),
            ("overdue_grace_s", self.overdue_grace_s),
            ("check_in_s", self.check_in_s),
            ("silent_s", self.silent_s),
        ];
        for (name, v) in seconds {
            if !(1..=86_400).contains(&v) {
                return Err(format!("{name} must be 1 to 86400 seconds"));
            }
        }
        Ok(())
    }
}

/// What the tracker saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// The first position near the origin: the movement is under way.
    Started {
        /// When.
        at: i64,
    },
    /// A position near the destination: arrived.
    Arrived {
        /// When.
        at: i64,
    },
    /// Something is wrong.
    Alert {
        /// What.
        kind: AlertKind,
        /// `warning` or `critical`.
        severity: &'static str,
        /// Plain words.
        message: String,
        /// When.
        at: i64,
        /// The position that showed it, if any.
        position: Option<Position>,
        /// The zone, for zone entries.
        zone: Option<Uuid>,
    },
}

/// Metres between two points (equirectangular; exact enough at city scale).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let lat0 = ((a.0 + b.0) / 2.0).to_radians();
    let dx = (b.1 - a.1) * 111_195.0 * lat0.cos();
    let dy = (b.0 - a.0) * 111_195.0;
    (dx * dx + dy * dy).sqrt()
}

/// Metres from `p` to the polyline.
pub fn distance_to_route(p: (f64, f64), route: &[(f64, f64)]) -> f64 {
    let lat0 = p.0.to_radians();
    let project = |q: (f64, f64)| ((q.1 - p.1) * 111_195.0 * lat0.cos(), (q.0 - p.0) * 111_195.0);
    match route {
        [] => f64::INFINITY,
        [only] => distance_m(p, *only),
        _ => route
            .windows(2)
            .filter_map(|w| match w {
                [a, b] => {
                    let (a, b) = (project(*a), project(*b));
                    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                    let len2 = dx * dx + dy * dy;
                    let t = if len2 == 0.0 {
                        0.0
                    } else {
                        ((-a.0 * dx - a.1 * dy) / len2).clamp(0.0, 1.0)
                    };
                    let (x, y) = (a.0 + t * dx, a.1 + t * dy);
                    Some((x * x + y * y).sqrt())
                }
                _ => None,
            })
            .fold(f64::INFINITY, f64::min),
    }
}

/// The detectors of one movement.
#[derive(Debug, Clone)]
pub struct Tracker {
    route: Vec<(f64, f64)>,
    safe_sites: Vec<((f64, f64), f64)>,
    zones: Vec<(Uuid, ThreatZone)>,
    eta: i64,
    thresholds: Thresholds,
    started: Option<i64>,
    arrived: bool,
    last: Option<Position>,
    off_since: Option<i64>,
    deviation_raised: bool,
    stop: Option<(i64, (f64, f64))>,
    stop_raised: bool,
    inside: Vec<Uuid>,
    overdue_raised: bool,
    silent_raised: bool,
    last_check_in: Option<i64>,
    check_in_raised: bool,
}

impl Tracker {
    /// A tracker for a planned route (points in order, lat/lon), the safe sites (centre and
    /// radius), the active zones and the planned arrival.
    pub fn new(
        route: Vec<(f64, f64)>,
        safe_sites: Vec<((f64, f64), f64)>,
        zones: Vec<(Uuid, ThreatZone)>,
        eta: i64,
        thresholds: Thresholds,
    ) -> Self {
        Self {
            route,
            safe_sites,
            zones,
            eta,
            thresholds,
            started: None,
            arrived: false,
            last: None,
            off_since: None,
            deviation_raised: false,
            stop: None,
            stop_raised: false,
            inside: Vec::new(),
            overdue_raised: false,
            silent_raised: false,
            last_check_in: None,
            check_in_raised: false,
        }
    }

    /// Marks the movement as already under way since `started` (after a restart), with
    /// its last check-in, if any: check-ins are due from the later of the two.
    pub fn resume(&mut self, started: i64, last_check_in: Option<i64>) {
        self.started = Some(started);
        self.last_check_in = Some(last_check_in.map_or(started, |c| c.max(started)));
    }

    /// Whether it has started.
    pub fn started(&self) -> bool {
        self.started.is_some()
    }

    /// The last position used (the live position).
    pub fn last(&self) -> Option<Position> {
        self.last
    }

    /// Replaces the active zones (a zone added while under way).
    pub fn set_zones(&mut self, zones: Vec<(Uuid, ThreatZone)>) {
        self.zones = zones;
    }

    /// Feeds one position. Positions older than the last one are history only: they never
    /// move the live position back and trigger nothing.
    pub fn observe(&mut self, p: Position) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.last.is_some_and(|l| p.at <= l.at) {
            return out;
        }
        let here = (p.lat, p.lon);
        let th = self.thresholds;
        if self.started.is_none() {
            match self.route.first() {
                Some(&origin) if distance_m(here, origin) <= th.start_m => {
                    self.started = Some(p.at);
                    self.last_check_in = Some(p.at);
                    out.push(Finding::Started { at: p.at });
                }
                _ => {
                    self.last = Some(p);
                    return out;
                }
            }
        }
        self.silent_raised = false;
        // Corridor.
        if distance_to_route(here, &self.route) > th.deviation_m {
            let since = *self.off_since.get_or_insert(p.at);
            if !self.deviation_raised && p.at - since >= th.deviation_s {
                self.deviation_raised = true;
                out.push(alert(
                    AlertKind::Deviation,
                    "warning",
                    format!(
                        "{:.0} m off the planned route for {} s",
                        distance_to_route(here, &self.route),
                        p.at - since
                    ),
                    p,
                    None,
                ));
            }
        } else {
            self.off_since = None;
            self.deviation_raised = false;
        }
        // Stops.
        let slow = p.speed.is_none_or(|s| s < 1.0);
        match self.stop {
            Some((_, anchor)) if slow && distance_m(here, anchor) <= th.stop_radius_m => {}
            _ if slow => {
                self.stop = Some((p.at, here));
                self.stop_raised = false;
            }
            _ => {
                self.stop = None;
                self.stop_raised = false;
            }
        }
        if let Some((since, anchor)) = self.stop {
            let safe = self.safe_sites.iter().any(|(c, r)| distance_m(anchor, *c) <= *r);
            if !safe && !self.stop_raised && p.at - since >= th.stop_s {
                self.stop_raised = true;
                out.push(alert(
                    AlertKind::UnplannedStop,
                    "warning",
                    format!("stopped for {} s outside any safe site", p.at - since),
                    p,
                    None,
                ));
            }
        }
        // Zones.
        let mut now_inside = Vec::new();
        for (id, z) in &self.zones {
            if z.active_at(p.at) && z.contains(p.lat, p.lon) {
                now_inside.push(*id);
                if !self.inside.contains(id) {
                    out.push(alert(
                        AlertKind::ZoneEntry,
                        if z.severity >= 4 { "critical" } else { "warning" },
                        format!("entered a threat zone of severity {}", z.severity),
                        p,
                        Some(*id),
                    ));
                }
            }
        }
        self.inside = now_inside;
        // Arrival.
        if !self.arrived && self.route.last().is_some_and(|&d| distance_m(here, d) <= th.arrive_m) {
            self.arrived = true;
            out.push(Finding::Arrived { at: p.at });
        }
        self.last = Some(p);
        out
    }

    /// A check-in by the escort.
    pub fn check_in(&mut self, at: i64) {
        self.last_check_in = Some(at);
        self.check_in_raised = false;
    }

    /// Time-driven detectors at `now`: overdue, device silent, missed check-in.
    pub fn tick(&mut self, now: i64) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.started.is_none() || self.arrived {
            return out;
        }
        let th = self.thresholds;
        let nowhere = |at| Position {
            at,
            lat: 0.0,
            lon: 0.0,
            speed: None,
            heading: None,
            accuracy: None,
            battery: None,
        };
        let last = self.last.unwrap_or_else(|| nowhere(now));
        if !self.overdue_raised && now > self.eta + th.overdue_grace_s {
            self.overdue_raised = true;
            out.push(alert(
                AlertKind::Overdue,
                "warning",
                format!("not arrived {} s after the planned arrival", now - self.eta),
                last,
                None,
            ));
        }
        if let Some(l) = self.last
            && !self.silent_raised
            && now - l.at > th.silent_s
        {
            self.silent_raised = true;
            out.push(alert(
                AlertKind::DeviceSilent,
                "warning",
                format!("no position for {} s", now - l.at),
                l,
                None,
            ));
        }
        if let Some(c) = self.last_check_in
            && !self.check_in_raised
            && now - c > th.check_in_s
        {
            self.check_in_raised = true;
            out.push(alert(
                AlertKind::MissedCheckIn,
                "warning",
                format!("no check-in for {} s", now - c),
                last,
                None,
            ));
        }
        out
    }
}

fn alert(kind: AlertKind, severity: &'static str, message: String, p: Position, zone: Option<Uuid>) -> Finding {
    Finding::Alert {
        kind,
        severity,
        message,
        at: p.at,
        position: Some(p),
        zone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Coordinate;
    use crate::zone::{ZoneKind, ZoneShape};

    /// A straight route east along latitude 24.85, about 2 km.
    fn route() -> Vec<(f64, f64)> {
        (0..=20).map(|i| (24.85, 67.0 + f64::from(i) * 0.001)).collect()
    }

    fn at(t: i64, lat: f64, lon: f64, speed: f64) -> Position {
        Position::new(t, (lat, lon), Some(speed), None, None, None, t).unwrap()
    }

    fn kinds(f: &[Finding]) -> Vec<AlertKind> {
        f.iter()
            .filter_map(|x| match x {
                Finding::Alert { kind, .. } => Some(*kind),
                _ => None,
            })
            .collect()
    }

    fn tracker() -> Tracker {
        Tracker::new(
            route(),
            vec![((24.85, 67.0), 100.0)],
            vec![],
            10_000,
            Thresholds::default(),
        )
    }

    #[test]
    fn positions_are_validated() {
        assert_eq!(
            Position::new(100, (95.0, 0.0), None, None, None, None, 100)
                .unwrap_err()
                .field,
            "/lat"
        );
        assert_eq!(
            Position::new(200, (0.0, 0.0), None, None, None, None, 100)
                .unwrap_err()
                .field,
            "/time"
        );
        assert_eq!(
            Position::new(100, (0.0, 0.0), Some(-1.0), None, None, None, 100)
                .unwrap_err()
                .field,
            "/speed"
        );
        assert_eq!(
            Position::new(100, (0.0, 0.0), None, None, None, Some(101.0), 100)
                .unwrap_err()
                .field,
            "/battery"
        );
        assert!(Position::new(100, (0.0, 0.0), Some(10.0), Some(90.0), Some(5.0), Some(50.0), 100).is_ok());
    }

    #[test]
    fn starts_near_the_origin_and_arrives_near_the_destination() {
        let mut t = tracker();
        assert!(t.observe(at(0, 24.86, 67.0, 10.0)).is_empty(), "1 km away: not started");
        assert!(!t.started());
        assert_eq!(
            t.observe(at(10, 24.85, 67.0005, 10.0)),
            vec![Finding::Started { at: 10 }]
        );
        assert!(t.observe(at(100, 24.85, 67.01, 10.0)).is_empty());
        assert_eq!(
            t.observe(at(200, 24.85, 67.0195, 10.0)),
            vec![Finding::Arrived { at: 200 }]
        );
    }

    #[test]
    fn deviation_fires_after_30_s_beyond_150_m_once_per_episode() {
        let mut t = tracker();
        t.observe(at(0, 24.85, 67.0, 10.0));
        // 140 m north of the route: inside the corridor.
        assert!(t.observe(at(10, 24.85126, 67.005, 10.0)).is_empty());
        // 200 m north: outside, but not yet 30 s.
        assert!(t.observe(at(20, 24.8518, 67.006, 10.0)).is_empty());
        assert!(t.observe(at(49, 24.8518, 67.007, 10.0)).is_empty(), "29 s");
        assert_eq!(
            kinds(&t.observe(at(50, 24.8518, 67.008, 10.0))),
            vec![AlertKind::Deviation]
        );
        assert!(t.observe(at(60, 24.8518, 67.009, 10.0)).is_empty(), "once per episode");
        // Back on the route, then off again: a new episode.
        assert!(t.observe(at(70, 24.85, 67.010, 10.0)).is_empty());
        assert!(t.observe(at(80, 24.8518, 67.011, 10.0)).is_empty());
        assert_eq!(
            kinds(&t.observe(at(110, 24.8518, 67.012, 10.0))),
            vec![AlertKind::Deviation]
        );
    }

    #[test]
    fn stops_count_only_outside_safe_sites_and_after_3_min() {
        let mut t = tracker();
        // Stopped at the origin (a safe site) for 10 min: nothing.
        for s in 0..=60 {
            assert!(kinds(&t.observe(at(s * 10, 24.85, 67.0, 0.0))).is_empty());
        }
        // Drives on, stops mid-route.
        t.observe(at(700, 24.85, 67.01, 12.0));
        assert!(kinds(&t.observe(at(710, 24.85, 67.0101, 0.2))).is_empty());
        assert!(kinds(&t.observe(at(889, 24.85, 67.0102, 0.0))).is_empty(), "179 s");
        assert_eq!(
            kinds(&t.observe(at(890, 24.85, 67.0102, 0.0))),
            vec![AlertKind::UnplannedStop]
        );
        assert!(kinds(&t.observe(at(950, 24.85, 67.0102, 0.0))).is_empty(), "once");
    }

    #[test]
    fn zone_entry_fires_on_entering_an_active_zone() {
        let zone = ThreatZone::new(
            ZoneShape::Circle {
                center: Coordinate::new(24.85, 67.01).unwrap(),
                radius_m: 100.0,
            },
            4,
            ZoneKind::Unrest,
            0,
            None,
        )
        .unwrap();
        let id = Uuid::now_v7();
        let mut t = tracker();
        t.set_zones(vec![(id, zone)]);
        t.observe(at(0, 24.85, 67.0, 10.0));
        assert!(kinds(&t.observe(at(50, 24.85, 67.008, 10.0))).is_empty(), "200 m short");
        let f = t.observe(at(60, 24.85, 67.0095, 10.0));
        assert_eq!(kinds(&f), vec![AlertKind::ZoneEntry]);
        assert!(matches!(&f[0], Finding::Alert { severity: "critical", zone: Some(z), .. } if *z == id));
        assert!(
            kinds(&t.observe(at(70, 24.85, 67.0102, 10.0))).is_empty(),
            "still inside"
        );
    }

    #[test]
    fn time_detectors_fire_exactly_at_their_thresholds() {
        let mut t = tracker();
        assert!(t.tick(100_000).is_empty(), "nothing before the start");
        t.observe(at(1000, 24.85, 67.0, 10.0));
        assert!(t.tick(1120).is_empty(), "120 s silent is allowed");
        assert_eq!(kinds(&t.tick(1121)), vec![AlertKind::DeviceSilent]);
        assert!(t.tick(1200).is_empty(), "once per silence");
        t.observe(at(1300, 24.85, 67.001, 10.0));
        assert!(t.tick(1400).is_empty());
        t.check_in(1800);
        // 1,400 s without a position; exactly 900 s since the check-in is still on time.
        assert_eq!(kinds(&t.tick(2700)), vec![AlertKind::DeviceSilent]);
        assert_eq!(kinds(&t.tick(2701)), vec![AlertKind::MissedCheckIn]);
        assert_eq!(kinds(&t.tick(10_601)), vec![AlertKind::Overdue]);
        assert!(t.tick(20_000).is_empty());
    }

    #[test]
    fn out_of_order_positions_never_move_the_live_position_back() {
        let mut t = tracker();
        t.observe(at(100, 24.85, 67.0, 10.0));
        t.observe(at(200, 24.85, 67.01, 10.0));
        assert!(t.observe(at(150, 24.86, 67.005, 10.0)).is_empty());
        assert_eq!(t.last().map(|p| p.at), Some(200));
    }
}
