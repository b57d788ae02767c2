//! Snapping a coordinate to the nearest graph node, with a uniform grid index.

use crate::graph::{Graph, NodeId, distance_m};
use std::collections::HashMap;

/// Grid cell size in degrees (~550 m of latitude).
const CELL: f64 = 0.005;

/// A spatial index over the graph's nodes.
#[derive(Debug, Clone, Default)]
pub struct SnapIndex {
    cells: HashMap<(i32, i32), Vec<NodeId>>,
}

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    ((lat / CELL).floor() as i32, (lon / CELL).floor() as i32)
}

impl SnapIndex {
    /// Indexes every node of `g`.
    pub fn new(g: &Graph) -> Self {
        let mut cells: HashMap<(i32, i32), Vec<NodeId>> = HashMap::new();
        for n in 0..g.node_count() as NodeId {
            let (lat, lon) = g.coordinate(n);
            cells.entry(cell(lat, lon)).or_default().push(n);
        }
        Self { cells }
    }

    /// The nearest node to `(lat, lon)` within `max_m` metres and its distance; otherwise the
    /// distance to the nearest node (`None` only for an empty graph).
    pub fn nearest(&self, g: &Graph, lat: f64, lon: f64, max_m: f64) -> Result<(NodeId, f64), Option<f64>> {
        let (ci, cj) = cell(lat, lon);
        let mut best: Option<(NodeId, f64)> = None;
        for ring in 0i32..8 {
            for di in -ring..=ring {
                for dj in -ring..=ring {
                    if di.abs() != ring && dj.abs() != ring {
                        continue;
                    }
                    for &n in self.cells.get(&(ci + di, cj + dj)).into_iter().flatten() {
                        let d = distance_m((lat, lon), g.coordinate(n));
                        if best.is_none_or(|(_, b)| d < b) {
                            best = Some((n, d));
                        }
                    }
                }
            }
            // Anything in a further ring is at least `ring` cells away.
            if let Some((_, d)) = best
                && d <= f64::from(ring) * CELL * 111_000.0 * (lat.to_radians().cos()).max(0.1)
            {
                break;
            }
        }
        if best.is_none() {
            // Nothing within a few kilometres: scan everything, for an exact distance.
            best = (0..g.node_count() as NodeId)
                .map(|n| (n, distance_m((lat, lon), g.coordinate(n))))
                .min_by(|a, b| a.1.total_cmp(&b.1));
        }
        match best {
            Some((n, d)) if d <= max_m => Ok((n, d)),
            other => Err(other.map(|(_, d)| d)),
        }
    }
}
