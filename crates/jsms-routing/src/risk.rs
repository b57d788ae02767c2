//! Edge risk: travel time plus penalties, each documented with its reason.
//!
//! - **Threat zones**: an exposure penalty for the length driven inside each active zone,
//!   scaled by severity; zones of severity ≥ 4 are avoided outright (a penalty larger than
//!   any real route) unless no route exists, which the route answer then reports.
//! - **Chokepoints** ([`StaticRisk`]): bridges, tunnels, dead ends and cut roads (whose
//!   removal disconnects part of the network) — places where a convoy can be trapped or
//!   expected.
//! - **Slow roads** ([`StaticRisk`]): exposure time where the speed is low.
//! - **Incidents** ([`Incident`]): recent incidents near an edge, decaying with age.
//! - **History** ([`history_penalties`]): segments used on the same origin and
//!   destination recently, for the unpredictable planning mode.
//!
//! Weights only ever rise above travel time, so lower bounds computed on travel time stay
//! valid.

use crate::graph::{Graph, NodeId, flags};
use jsms_domain::zone::ThreatZone;
use std::collections::HashMap;

/// Penalty per metre inside a zone, milliseconds, by severity 1–3 (about 2, 6 and 20 times
/// the time of driving that metre at 50 km/h).
const PER_METRE_MS: [u64; 4] = [0, 150, 450, 1500];
/// Penalty for any edge entering an avoided zone (≈ 11.6 days): larger than any real route.
pub const AVOID_MS: u64 = 1_000_000_000;

/// The penalty for driving `inside_m` metres in `zone`.
pub fn penalty_ms(zone: &ThreatZone, inside_m: f64) -> u64 {
    if inside_m <= 0.0 {
        return 0;
    }
    if zone.avoided() {
        return AVOID_MS;
    }
    let per_m = PER_METRE_MS
        .get(usize::from(zone.severity))
        .copied()
        .unwrap_or(AVOID_MS);
    (inside_m * per_m as f64).round() as u64
}

/// Current edge weights with the zones applied, updated zone by zone.
#[derive(Debug, Clone)]
pub struct RiskWeights {
    weights: Vec<u64>,
    /// Nodes by grid cell, to find the edges near a zone quickly.
    cells: HashMap<(i32, i32), Vec<NodeId>>,
}

const CELL: f64 = 0.01;

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    ((lat / CELL).floor() as i32, (lon / CELL).floor() as i32)
}

impl RiskWeights {
    /// Travel times, no zones.
    pub fn new(g: &Graph) -> Self {
        let mut cells: HashMap<(i32, i32), Vec<NodeId>> = HashMap::new();
        for n in 0..g.node_count() as NodeId {
            let (lat, lon) = g.coordinate(n);
            cells.entry(cell(lat, lon)).or_default().push(n);
        }
        Self {
            weights: g.time_ms.iter().map(|&t| u64::from(t)).collect(),
            cells,
        }
    }

    /// The weight of edge `e`.
    pub fn weight(&self, e: usize) -> u64 {
        self.weights.get(e).copied().unwrap_or(u64::MAX)
    }

    /// Adds one zone's penalties (zones add up); returns the edges whose weight rose.
    pub fn add_zone(&mut self, g: &Graph, zone: &ThreatZone) -> Vec<usize> {
        let (a, b, c, d) = zone.bbox();
        let (ci0, cj0) = cell(a, b);
        let (ci1, cj1) = cell(c, d);
        let mut affected = Vec::new();
        // One cell of margin: an edge may start just outside the box and cross into it.
        for i in ci0 - 1..=ci1 + 1 {
            for j in cj0 - 1..=cj1 + 1 {
                for &v in self.cells.get(&(i, j)).into_iter().flatten() {
                    let pv = g.coordinate(v);
                    for e in g.edges(v) {
                        let pw = g.coordinate(g.head[e]);
                        let p = penalty_ms(zone, zone.length_inside(pv, pw));
                        if p > 0 {
                            self.weights[e] = self.weights[e].saturating_add(p);
                            affected.push(e);
                        }
                    }
                }
            }
        }
        affected
    }

    /// Adds the chokepoint and slow-road penalties.
    pub fn add_static(&mut self, risk: &StaticRisk) {
        for (w, &p) in self.weights.iter_mut().zip(&risk.penalty_ms) {
            *w = w.saturating_add(u64::from(p));
        }
    }

    /// Adds an incident's decayed penalty to the edges near it (as of `now`, Unix seconds);
    /// returns the edges whose weight rose.
    pub fn add_incident(&mut self, g: &Graph, incident: &Incident, now: i64) -> Vec<usize> {
        let penalty = incident.penalty_ms(now);
        if penalty == 0 {
            return Vec::new();
        }
        let (ci, cj) = cell(incident.lat, incident.lon);
        let mut affected = Vec::new();
        for i in ci - 1..=ci + 1 {
            for j in cj - 1..=cj + 1 {
                for &v in self.cells.get(&(i, j)).into_iter().flatten() {
                    let pv = g.coordinate(v);
                    for e in g.edges(v) {
                        let pw = g.coordinate(g.head[e]);
                        let mid = ((pv.0 + pw.0) / 2.0, (pv.1 + pw.1) / 2.0);
                        if crate::graph::distance_m(mid, (incident.lat, incident.lon)) <= INCIDENT_RADIUS_M {
                            self.weights[e] = self.weights[e].saturating_add(penalty);
                            affected.push(e);
                        }
                    }
                }
            }
        }
        affected
    }

    /// Whether a path uses an edge penalised as avoided.
    pub fn crosses_avoided(&self, g: &Graph, edges: &[usize]) -> bool {
        edges
            .iter()
            .any(|&e| self.weight(e) >= AVOID_MS + u64::from(g.edge_time_ms(e)))
    }
}

/// The history penalty of the unpredictable mode: each use of an edge by an earlier route on
/// the same origin and destination (as edge lists) adds half its travel time, up to three
/// uses. Returns the extra milliseconds per edge.
pub fn history_penalties(g: &Graph, routes: &[Vec<usize>]) -> HashMap<usize, u64> {
    let mut uses: HashMap<usize, u64> = HashMap::new();
    for &e in routes.iter().flatten() {
        *uses.entry(e).or_default() += 1;
    }
    uses.into_iter()
        .map(|(e, n)| (e, u64::from(g.edge_time_ms(e)) * n.min(3) / 2))
        .collect()
}

/// Incidents within this distance of an edge's midpoint raise its risk, metres.
pub const INCIDENT_RADIUS_M: f64 = 300.0;
/// An incident's penalty halves every 14 days.
pub const INCIDENT_HALF_LIFE_S: f64 = 14.0 * 86_400.0;
/// Incidents older than 90 days no longer count.
pub const INCIDENT_HORIZON_S: i64 = 90 * 86_400;

/// An incident as route risk sees it: where, when, how serious (1–5). The incident register
/// feeds these; the router knows nothing else about incidents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incident {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// When it happened, Unix seconds.
    pub at: i64,
    /// Severity 1–5.
    pub severity: u8,
}

impl Incident {
    /// The penalty for passing near it at `now`: one minute per severity level, halving
    /// every [`INCIDENT_HALF_LIFE_S`]; zero before it happened or past the horizon.
    pub fn penalty_ms(&self, now: i64) -> u64 {
        let age = now - self.at;
        if !(0..=INCIDENT_HORIZON_S).contains(&age) {
            return 0;
        }
        let full = 60_000.0 * f64::from(self.severity.clamp(1, 5));
        (full * 0.5f64.powf(age as f64 / INCIDENT_HALF_LIFE_S)).round() as u64
    }
}

/// Why an edge carries static risk (bit flags of [`StaticRisk::reasons`]).
pub mod reason {
    /// A bridge.
    pub const BRIDGE: u8 = 1;
    /// A tunnel.
    pub const TUNNEL: u8 = 2;
    /// Into or out of a dead end.
    pub const DEAD_END: u8 = 4;
    /// A cut road: removing it disconnects part of the network.
    pub const CUT: u8 = 8;
    /// Slow: below [`super::SLOW_KMH`].
    pub const SLOW: u8 = 16;

    /// The reasons as words.
    pub fn describe(bits: u8) -> Vec<&'static str> {
        [
            (BRIDGE, "bridge"),
            (TUNNEL, "tunnel"),
            (DEAD_END, "dead end"),
            (CUT, "only road in or out"),
            (SLOW, "slow road exposure"),
        ]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|&(_, w)| w)
        .collect()
    }
}

/// Penalty for a bridge or tunnel edge, milliseconds.
pub const CHOKEPOINT_MS: u32 = 20_000;
/// Penalty for a dead-end edge.
pub const DEAD_END_MS: u32 = 30_000;
/// Penalty for a cut road.
pub const CUT_MS: u32 = 10_000;
/// Roads slower than this expose a convoy: half their travel time again as penalty.
pub const SLOW_KMH: f64 = 20.0;

/// Weight-independent risk of each edge: chokepoints and slow-road exposure.
#[derive(Debug, Clone)]
pub struct StaticRisk {
    /// Penalty of each edge, milliseconds.
    pub penalty_ms: Vec<u32>,
    /// Reasons of each edge ([`reason`] bits).
    pub reasons: Vec<u8>,
}

impl StaticRisk {
    /// Computes the chokepoints and slow roads of `g`.
    pub fn new(g: &Graph) -> Self {
        let m = g.edge_count();
        let (first, adj) = crate::order::undirected(g);
        let cut = cut_edges(&first, &adj);
        let degree = |v: NodeId| first[v as usize + 1] - first[v as usize];
        let mut penalty_ms = vec![0u32; m];
        let mut reasons = vec![0u8; m];
        for v in 0..g.node_count() as NodeId {
            for e in g.edges(v) {
                let w = g.head[e];
                let mut bits = 0;
                let mut p = 0u32;
                let f = g.flags.get(e).copied().unwrap_or(0);
                if f & flags::BRIDGE != 0 {
                    bits |= reason::BRIDGE;
                    p += CHOKEPOINT_MS;
                }
                if f & flags::TUNNEL != 0 {
                    bits |= reason::TUNNEL;
                    p += CHOKEPOINT_MS;
                }
                if degree(v) == 1 || degree(w) == 1 {
                    bits |= reason::DEAD_END;
                    p += DEAD_END_MS;
                } else if cut.contains(&(v.min(w), v.max(w))) {
                    bits |= reason::CUT;
                    p += CUT_MS;
                }
                let (ms, dm) = (g.edge_time_ms(e), g.edge_length_dm(e));
                if ms > 0 && f64::from(dm) / 10.0 / (f64::from(ms) / 1000.0) * 3.6 < SLOW_KMH {
                    bits |= reason::SLOW;
                    p += ms / 2;
                }
                penalty_ms[e] = p;
                reasons[e] = bits;
            }
        }
        Self { penalty_ms, reasons }
    }

    /// The reasons of edge `e`.
    pub fn reasons(&self, e: usize) -> u8 {
        self.reasons.get(e).copied().unwrap_or(0)
    }
}

/// The cut edges (bridges in the graph-theory sense) of an undirected simple graph, as
/// (smaller, larger) node pairs; iterative Tarjan.
fn cut_edges(first: &[u32], adj: &[u32]) -> std::collections::HashSet<(u32, u32)> {
    let n = first.len().saturating_sub(1);
    const UNSEEN: u32 = u32::MAX;
    let mut disc = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut cut = std::collections::HashSet::new();
    let mut time = 0u32;
    // Stack of (node, parent, next arc index).
    let mut stack: Vec<(u32, u32, u32)> = Vec::new();
    for root in 0..n as u32 {
        if disc[root as usize] != UNSEEN {
            continue;
        }
        disc[root as usize] = time;
        low[root as usize] = time;
        time += 1;
        stack.push((root, UNSEEN, first[root as usize]));
        while let Some(&mut (v, parent, ref mut next)) = stack.last_mut() {
            if *next < first[v as usize + 1] {
                let w = adj[*next as usize];
                *next += 1;
                if w == parent {
                    continue;
                }
                if disc[w as usize] == UNSEEN {
                    disc[w as usize] = time;
                    low[w as usize] = time;
                    time += 1;
                    stack.push((w, v, first[w as usize]));
                } else {
                    low[v as usize] = low[v as usize].min(disc[w as usize]);
                }
            } else {
                stack.pop();
                if parent != UNSEEN {
                    low[parent as usize] = low[parent as usize].min(low[v as usize]);
                    if low[v as usize] > disc[parent as usize] {
                        cut.insert((v.min(parent), v.max(parent)));
                    }
                }
            }
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::from_arcs;

    fn both(pairs: &[(u32, u32)]) -> Vec<(u32, u32, u32)> {
        pairs.iter().flat_map(|&(a, b)| [(a, b, 1000), (b, a, 1000)]).collect()
    }

    #[test]
    fn chokepoints_are_found() {
        // A triangle 0-1-2, a cut road 2-3 to a second triangle 3-4-5, and a dead end 5-6.
        let g = from_arcs(
            7,
            &both(&[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3), (5, 6)]),
        );
        let risk = StaticRisk::new(&g);
        let reasons_of = |a: u32, b: u32| {
            let e = g.edges(a).find(|&e| g.head[e] == b).unwrap();
            risk.reasons(e)
        };
        assert_eq!(reasons_of(2, 3) & reason::CUT, reason::CUT);
        assert_eq!(reasons_of(3, 2) & reason::CUT, reason::CUT);
        assert_eq!(reasons_of(5, 6) & reason::DEAD_END, reason::DEAD_END);
        assert_eq!(reasons_of(0, 1) & (reason::CUT | reason::DEAD_END), 0);
        assert_eq!(reasons_of(4, 5) & (reason::CUT | reason::DEAD_END), 0);
        // from_arcs roads: 1 dm in 1 s, far below 20 km/h.
        assert_eq!(reasons_of(0, 1) & reason::SLOW, reason::SLOW);
        assert_eq!(
            reason::describe(reason::BRIDGE | reason::CUT),
            vec!["bridge", "only road in or out"]
        );
    }

    #[test]
    fn incidents_decay_and_expire() {
        let i = Incident {
            lat: 0.0,
            lon: 0.0,
            at: 1_000_000,
            severity: 3,
        };
        assert_eq!(i.penalty_ms(999_999), 0, "not yet happened");
        assert_eq!(i.penalty_ms(1_000_000), 180_000);
        let two_weeks = i.penalty_ms(1_000_000 + INCIDENT_HALF_LIFE_S as i64);
        assert_eq!(two_weeks, 90_000);
        assert_eq!(i.penalty_ms(1_000_000 + INCIDENT_HORIZON_S + 1), 0);
    }
}
