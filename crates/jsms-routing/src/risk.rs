//! Edge weights under threat zones: travel time plus an exposure penalty for the length
//! driven inside each active zone, scaled by severity; zones of severity ≥ 4 are avoided
//! outright (a penalty larger than any real route) unless no route exists, which the route
//! answer then reports. Weights only ever rise above travel time, so ALT stays exact.

use crate::graph::{Graph, NodeId};
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

    /// Whether a path uses an edge penalised as avoided.
    pub fn crosses_avoided(&self, g: &Graph, edges: &[usize]) -> bool {
        edges
            .iter()
            .any(|&e| self.weight(e) >= AVOID_MS + u64::from(g.edge_time_ms(e)))
    }
}
