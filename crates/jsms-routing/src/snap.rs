//! Snapping a coordinate onto the road network: the point is projected onto the nearest
//! road segment (not the nearest node), found through a uniform grid of segments. A two-way
//! road can be driven from the snapped point in both directions; an optional heading keeps
//! only the directions within a tolerance of it (a convoy already moving on a divided road
//! starts on its own carriageway). A caller's filter can exclude segments (for instance all
//! but the connected main network).

use crate::graph::{Graph, NodeId, distance_m};
use std::collections::HashMap;

/// Grid cell size in degrees (~220 m of latitude).
const CELL: f64 = 0.002;
/// Metres per degree of latitude.
const M_PER_DEG_LAT: f64 = 110_574.0;
/// Metres per degree of longitude at the equator.
const M_PER_DEG_LON: f64 = 111_320.0;

/// A spatial index over the graph's road segments (one entry per road, whichever
/// directions it can be driven in) and nodes.
#[derive(Debug, Clone, Default)]
pub struct SnapIndex {
    segments: HashMap<(i32, i32), Vec<u32>>,
    nodes: HashMap<(i32, i32), Vec<NodeId>>,
    /// Every indexed segment, for the exhaustive fallback.
    all: Vec<u32>,
}

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    ((lat / CELL).floor() as i32, (lon / CELL).floor() as i32)
}

/// Where a point lies on the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Snap {
    /// The segment (graph edge) the point was projected on.
    pub edge: usize,
    /// Position along `edge` from its tail, 0–1.
    pub fraction: f64,
    /// The projected point `(lat, lon)`.
    pub point: (f64, f64),
    /// Metres from the requested point to the road.
    pub distance_m: f64,
    /// The directions a route may drive from (or arrive at) the point, each a segment with
    /// the position along it: the edge itself and its reverse when the road is two-way, and
    /// those of every other road as close to the point (within [`TIE_M`]: a point at a
    /// junction may leave by any of its roads).
    pub directions: Vec<(usize, f64)>,
}

/// Roads this much farther than the nearest still count as under the point, metres.
pub const TIE_M: f64 = 0.5;

/// What a snap may choose.
pub struct SnapOptions<'a> {
    /// Farthest acceptable distance, metres.
    pub max_m: f64,
    /// Direction of travel (degrees clockwise from north) and the tolerance around it.
    pub heading: Option<(f64, f64)>,
    /// Segments (graph edges) that may be chosen; `None` for all.
    pub filter: Option<&'a dyn Fn(usize) -> bool>,
}

impl Default for SnapOptions<'_> {
    fn default() -> Self {
        Self {
            max_m: 500.0,
            heading: None,
            filter: None,
        }
    }
}

/// The initial bearing from `a` to `b`, degrees clockwise from north.
pub fn bearing(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la, lb) = (a.0.to_radians(), b.0.to_radians());
    let dl = (b.1 - a.1).to_radians();
    let y = dl.sin() * lb.cos();
    let x = la.cos() * lb.sin() - la.sin() * lb.cos() * dl.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}

impl SnapIndex {
    /// Indexes every segment and node of `g`.
    pub fn new(g: &Graph) -> Self {
        let mut segments: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        let mut nodes: HashMap<(i32, i32), Vec<NodeId>> = HashMap::new();
        let mut all = Vec::new();
        for u in 0..g.node_count() as NodeId {
            let pu = g.coordinate(u);
            nodes.entry(cell(pu.0, pu.1)).or_default().push(u);
            for e in g.edges(u) {
                let v = g.head[e];
                // One entry per road: the edge from the smaller node, or the only direction.
                if v < u && g.edges(v).any(|r| g.head[r] == u) {
                    continue;
                }
                if v == u {
                    continue;
                }
                all.push(e as u32);
                let pv = g.coordinate(v);
                let (a, b) = (cell(pu.0, pu.1), cell(pv.0, pv.1));
                let (i0, i1) = (a.0.min(b.0), a.0.max(b.0));
                let (j0, j1) = (a.1.min(b.1), a.1.max(b.1));
                if (i1 - i0 + 1) * (j1 - j0 + 1) <= 9 {
                    for i in i0..=i1 {
                        for j in j0..=j1 {
                            segments.entry((i, j)).or_default().push(e as u32);
                        }
                    }
                } else {
                    // A long segment: the cells along it and their neighbours.
                    let steps = ((i1 - i0).max(j1 - j0) * 4).max(1);
                    let mut cells = std::collections::HashSet::new();
                    for s in 0..=steps {
                        let t = f64::from(s) / f64::from(steps);
                        let (ci, cj) = cell(pu.0 + (pv.0 - pu.0) * t, pu.1 + (pv.1 - pu.1) * t);
                        for di in -1..=1 {
                            for dj in -1..=1 {
                                cells.insert((ci + di, cj + dj));
                            }
                        }
                    }
                    for c in cells {
                        segments.entry(c).or_default().push(e as u32);
                    }
                }
            }
        }
        Self { segments, nodes, all }
    }

    /// The projection of `(lat, lon)` on segment `e`: (fraction, point, metres).
    fn project(g: &Graph, e: usize, lat: f64, lon: f64) -> (f64, (f64, f64), f64) {
        let a = g.coordinate(g.tail(e));
        let b = g.coordinate(g.head.get(e).copied().unwrap_or(0));
        let kx = M_PER_DEG_LON * lat.to_radians().cos();
        let (ax, ay) = ((a.1 - lon) * kx, (a.0 - lat) * M_PER_DEG_LAT);
        let (bx, by) = ((b.1 - lon) * kx, (b.0 - lat) * M_PER_DEG_LAT);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let point = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        (t, point, distance_m((lat, lon), point))
    }

    /// The directions of segment `e` a route may use under `heading`.
    fn directions(g: &Graph, e: usize, fraction: f64, heading: Option<(f64, f64)>) -> Vec<(usize, f64)> {
        let u = g.tail(e);
        let v = g.head.get(e).copied().unwrap_or(u);
        let reverse = g
            .edges(v)
            .filter(|&r| g.head[r] == u)
            .min_by_key(|&r| g.edge_time_ms(r));
        let fits = |edge: usize| match heading {
            None => true,
            Some((h, tolerance)) => {
                let b = bearing(
                    g.coordinate(g.tail(edge)),
                    g.coordinate(g.head.get(edge).copied().unwrap_or(0)),
                );
                let diff = (b - h).rem_euclid(360.0);
                diff.min(360.0 - diff) <= tolerance
            }
        };
        let mut out = Vec::with_capacity(2);
        if fits(e) {
            out.push((e, fraction));
        }
        if let Some(r) = reverse.filter(|&r| fits(r)) {
            out.push((r, 1.0 - fraction));
        }
        out
    }

    /// The nearest road to `(lat, lon)` within `options.max_m`; otherwise the distance to the
    /// nearest acceptable road (`None` when there is none at all).
    pub fn snap(&self, g: &Graph, lat: f64, lon: f64, options: &SnapOptions<'_>) -> Result<Snap, Option<f64>> {
        let ok = |e: usize| options.filter.is_none_or(|f| f(e));
        // Candidates: (distance, segment, fraction, point, directions), the nearest first.
        let consider = |e: usize, found: &mut Vec<Snap>| {
            if !ok(e) || found.iter().any(|f| f.edge == e) {
                return;
            }
            let (t, point, d) = Self::project(g, e, lat, lon);
            if found.first().is_some_and(|b| d > b.distance_m + TIE_M) {
                return;
            }
            let directions = Self::directions(g, e, t, options.heading);
            if directions.is_empty() {
                return;
            }
            found.push(Snap {
                edge: e,
                fraction: t,
                point,
                distance_m: d,
                directions,
            });
            found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.edge.cmp(&b.edge)));
            let best = found.first().map_or(f64::INFINITY, |b| b.distance_m);
            found.retain(|f| f.distance_m <= best + TIE_M);
        };
        let merge = |found: Vec<Snap>| {
            let mut iter = found.into_iter();
            let mut best = iter.next()?;
            for other in iter {
                best.directions.extend(other.directions);
            }
            Some(best)
        };
        let (ci, cj) = cell(lat, lon);
        let cell_m = (CELL * M_PER_DEG_LAT).min(CELL * M_PER_DEG_LON * lat.to_radians().cos().max(0.05));
        let mut found: Vec<Snap> = Vec::new();
        let mut ring = 0i32;
        loop {
            for di in -ring..=ring {
                for dj in -ring..=ring {
                    if di.abs() != ring && dj.abs() != ring {
                        continue;
                    }
                    for &e in self.segments.get(&(ci + di, cj + dj)).into_iter().flatten() {
                        consider(e as usize, &mut found);
                    }
                }
            }
            // Anything not seen yet is at least `ring` cells away.
            let unseen = f64::from(ring) * cell_m;
            if found.first().is_some_and(|b| b.distance_m + TIE_M <= unseen) || unseen > options.max_m + TIE_M {
                break;
            }
            ring += 1;
        }
        match merge(found) {
            Some(b) if b.distance_m <= options.max_m => Ok(b),
            _ => {
                // Nothing close enough: the exact distance to the nearest acceptable road.
                let mut nearest: Vec<Snap> = Vec::new();
                for &e in &self.all {
                    consider(e as usize, &mut nearest);
                }
                Err(nearest.first().map(|b| b.distance_m))
            }
        }
    }

    /// The nearest node to `(lat, lon)` within `max_m` metres and its distance; otherwise the
    /// distance to the nearest node (`None` only for an empty graph).
    pub fn nearest(&self, g: &Graph, lat: f64, lon: f64, max_m: f64) -> Result<(NodeId, f64), Option<f64>> {
        let (ci, cj) = cell(lat, lon);
        let cell_m = (CELL * M_PER_DEG_LAT).min(CELL * M_PER_DEG_LON * lat.to_radians().cos().max(0.05));
        let mut best: Option<(NodeId, f64)> = None;
        let mut ring = 0i32;
        loop {
            for di in -ring..=ring {
                for dj in -ring..=ring {
                    if di.abs() != ring && dj.abs() != ring {
                        continue;
                    }
                    for &n in self.nodes.get(&(ci + di, cj + dj)).into_iter().flatten() {
                        let d = distance_m((lat, lon), g.coordinate(n));
                        if best.is_none_or(|(_, b)| d < b) {
                            best = Some((n, d));
                        }
                    }
                }
            }
            let unseen = f64::from(ring) * cell_m;
            if best.is_some_and(|(_, d)| d <= unseen) || unseen > max_m {
                break;
            }
            ring += 1;
        }
        match best {
            Some((n, d)) if d <= max_m => Ok((n, d)),
            _ => Err((0..g.node_count() as NodeId)
                .map(|n| distance_m((lat, lon), g.coordinate(n)))
                .min_by(f64::total_cmp)),
        }
    }
}
