//! Routing that obeys the road: a [`Router`] holds the customizable contraction hierarchy of
//! a graph's turn graph ([`crate::turns`]) and answers route requests between points
//! snapped onto road segments ([`crate::snap`]).
//!
//! Weights come per road segment (travel time plus any risk, see [`crate::risk`]); the router
//! turns them into turn-graph weights — the chain's segments, the delays of the nodes inside
//! it, the turn's cost — and a restricted entry (onto a private or destination-only road, or
//! through a private gate) costs [`RESTRICTED_ENTRY`] more, a unit larger than any real
//! route: routes make as few restricted entries as possible, so such roads are used only
//! where a trip starts or ends behind them, and a route that cannot avoid one more says so
//! ([`Route::restricted_entries`]).
//!
//! A route starts part-way along its first segment and ends part-way along its last; both
//! partial segments count in its length, time and risk. Ends in parts of the network that
//! do not connect get a [`RouteError::Disconnected`] naming both parts.

use crate::alternatives::{AlternativeOptions, PathView, alternatives_multi};
use crate::cch::{Cch, CchQuery, Metric, MetricCache};
use crate::dijkstra::Path;
use crate::graph::{Graph, NodeId, node_flags};
use crate::snap::{Snap, SnapIndex, SnapOptions};
use crate::turns::{TurnGraph, turn_flags};
use std::collections::HashMap;
use std::sync::Arc;

/// The extra cost of a restricted entry, milliseconds (2^42 ms ≈ 139 years): larger than any
/// real route, so costs compare first by the number of restricted entries.
pub const RESTRICTED_ENTRY: u64 = 1 << 42;

/// A road network prepared for queries.
#[derive(Debug)]
pub struct Router {
    cch: Cch,
    /// The chain each turn leaves.
    turn_tail: Vec<u32>,
    /// Travel time of each chain, milliseconds (to measure how much routes share).
    chain_time: Vec<u64>,
    /// Delays of the nodes inside each chain (signals, signs, gates), milliseconds.
    chain_delay: Vec<u64>,
    /// Copies of each original chain (via-way restrictions).
    copies: HashMap<u32, Vec<u32>>,
    /// Strongly connected component of each chain, and each component's size.
    component: Vec<u32>,
    component_chains: Vec<u32>,
    component_length_m: Vec<f64>,
    largest: u32,
    snap: SnapIndex,
    metrics: MetricCache,
}

/// Why no route was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    /// The ends lie in parts of the network that do not connect in that direction.
    #[error(
        "no route: the start lies on {from_road} in a part of the road network with {from_km:.1} km of road, and the destination on {to_road} in {to_part}; no drivable connection leads from the first to the second (one-way streets, turn restrictions, barriers or missing roads close the gap)"
    )]
    Disconnected {
        /// Road at the start.
        from_road: String,
        /// Kilometres of road in the start's part.
        from_km: f64,
        /// Road at the destination.
        to_road: String,
        /// The destination's part, described.
        to_part: String,
    },
}

/// One route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Cost under the weights, milliseconds, without restricted-entry units.
    pub cost: u64,
    /// Restricted entries the route makes (onto private or destination-only roads, through
    /// private gates).
    pub restricted_entries: u64,
    /// The road segments driven, in order; the first and last may be driven in part.
    pub edges: Vec<usize>,
    /// Where along the first segment the route starts (0–1).
    pub start_fraction: f64,
    /// Where along the last segment the route ends (0–1).
    pub end_fraction: f64,
    /// The chains (turn-graph nodes) driven.
    pub chains: Vec<u32>,
}

impl Route {
    /// The share of segment `i` of the route that is driven (0–1).
    pub fn share(&self, i: usize) -> f64 {
        let last = self.edges.len().saturating_sub(1);
        match (i == 0, i == last) {
            (true, true) => (self.end_fraction - self.start_fraction).max(0.0),
            (true, false) => 1.0 - self.start_fraction,
            (false, true) => self.end_fraction,
            (false, false) => 1.0,
        }
    }

    /// Metres driven.
    pub fn length_m(&self, g: &Graph) -> f64 {
        (0..self.edges.len())
            .map(|i| f64::from(g.edge_length_dm(self.edges[i])) / 10.0 * self.share(i))
            .sum()
    }

    /// Driving time on the segments, milliseconds (without turns and node delays).
    pub fn segment_ms(&self, g: &Graph) -> f64 {
        (0..self.edges.len())
            .map(|i| f64::from(g.edge_time_ms(self.edges[i])) * self.share(i))
            .sum()
    }

    /// The turns and node delays (signals, signs, gates) along the route, one per node
    /// passed: `(index of the segment after the node, milliseconds)`.
    pub fn delays(&self, g: &Graph) -> Vec<(usize, u32)> {
        let t = &g.turns;
        let mut out = Vec::new();
        let mut k = 0;
        for i in 1..self.edges.len() {
            let prev = self.edges[i - 1];
            let at_end = t.edge_pos.get(prev).map(|&p| p as usize + 1) == self.chains.get(k).map(|&c| t.chain(c).len());
            if at_end {
                let (from, to) = (self.chains.get(k).copied(), self.chains.get(k + 1).copied());
                let ms = match (from, to) {
                    (Some(a), Some(b)) => t
                        .turns(a)
                        .find(|&x| t.turn_head.get(x) == Some(&b))
                        .and_then(|x| t.turn_ms.get(x).copied())
                        .unwrap_or(0),
                    _ => 0,
                };
                out.push((i, ms));
                k += 1;
            } else {
                let v = g.head.get(prev).copied().unwrap_or(0);
                out.push((i, node_flags::delay_ms(g.node_flag(v))));
            }
        }
        out
    }

    /// Driving time including turns and node delays, milliseconds.
    pub fn duration_ms(&self, g: &Graph) -> f64 {
        self.segment_ms(g) + self.delays(g).iter().map(|d| f64::from(d.1)).sum::<f64>()
    }

    /// The nodes passed, in order (the ends lie on segments, not at nodes).
    pub fn nodes(&self, g: &Graph) -> Vec<NodeId> {
        let n = self.edges.len().saturating_sub(1);
        self.edges
            .iter()
            .take(n)
            .map(|&e| g.head.get(e).copied().unwrap_or(0))
            .collect()
    }

    /// The geometry `(lat, lon)`: the snapped start, the nodes passed, the snapped end.
    pub fn points(&self, g: &Graph) -> Vec<(f64, f64)> {
        let at = |e: usize, f: f64| {
            let a = g.coordinate(g.tail(e));
            let b = g.coordinate(g.head.get(e).copied().unwrap_or(0));
            (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
        };
        let mut out = Vec::with_capacity(self.edges.len() + 1);
        if let (Some(&first), Some(&last)) = (self.edges.first(), self.edges.last()) {
            out.push(at(first, self.start_fraction));
            out.extend(self.nodes(g).into_iter().map(|v| g.coordinate(v)));
            out.push(at(last, self.end_fraction));
        }
        out
    }

    /// The fraction of this route's driving time on segments `other` also drives.
    pub fn shared_fraction(&self, g: &Graph, other: &Route) -> f64 {
        let theirs: std::collections::HashSet<usize> = other.edges.iter().copied().collect();
        let time = |i: usize| f64::from(g.edge_time_ms(self.edges[i])) * self.share(i);
        let total: f64 = (0..self.edges.len()).map(time).sum();
        if total <= 0.0 {
            return 1.0;
        }
        let shared: f64 = (0..self.edges.len())
            .filter(|&i| theirs.contains(&self.edges[i]))
            .map(time)
            .sum();
        shared / total
    }
}

/// Weights of a request: per road segment, and the turn weights they make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    /// Per segment (graph edge), milliseconds.
    pub seg: Vec<u64>,
    /// Per turn.
    pub turn: Vec<u64>,
}

/// A route end on a chain: the chain, the segment's position in it, the fraction along it.
#[derive(Debug, Clone, Copy)]
struct End {
    chain: u32,
    pos: usize,
    fraction: f64,
    /// Cost from the chain's start to the point.
    offset: u64,
}

impl Router {
    /// Prepares `g` with a stored order of its turn graph (computed when `None` or not a
    /// permutation of its chains; seconds on a city, so callers store it).
    pub fn new(g: &Graph, order: Option<Vec<u32>>) -> Self {
        let t = &g.turns;
        let order = order
            .filter(|o| o.len() == t.chain_count())
            .unwrap_or_else(|| crate::order::turn_order(g));
        let cch = Cch::with_order(t, order);
        let mut turn_tail = vec![0u32; t.turn_count()];
        for c in 0..t.chain_count() as u32 {
            for x in t.turns(c) {
                turn_tail[x] = c;
            }
        }
        let chain_time = (0..t.chain_count() as u32)
            .map(|c| t.chain(c).iter().map(|&e| u64::from(g.edge_time_ms(e as usize))).sum())
            .collect();
        let chain_delay = (0..t.chain_count() as u32)
            .map(|c| {
                let edges = t.chain(c);
                edges
                    .iter()
                    .take(edges.len().saturating_sub(1))
                    .map(|&e| {
                        u64::from(node_flags::delay_ms(
                            g.node_flag(g.head.get(e as usize).copied().unwrap_or(0)),
                        ))
                    })
                    .sum()
            })
            .collect();
        let mut copies: HashMap<u32, Vec<u32>> = HashMap::new();
        for (c, &o) in t.origin.iter().enumerate() {
            if o as usize != c {
                copies.entry(o).or_default().push(c as u32);
            }
        }
        let component = crate::turns::components(t);
        let count = component.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        let mut component_chains = vec![0u32; count];
        let mut component_length_m = vec![0.0f64; count];
        for (c, &k) in component.iter().enumerate() {
            component_chains[k as usize] += 1;
            if t.origin_of(c as u32) as usize == c {
                component_length_m[k as usize] += t
                    .chain(c as u32)
                    .iter()
                    .map(|&e| crate::turns::road_length_m(g, e as usize))
                    .sum::<f64>();
            }
        }
        let largest = component_length_m
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i as u32);
        Self {
            cch,
            turn_tail,
            chain_time,
            chain_delay,
            copies,
            component,
            component_chains,
            component_length_m,
            largest,
            snap: SnapIndex::new(g),
            metrics: MetricCache::default(),
        }
    }

    /// The hierarchy's order of the turn graph (to store beside the map).
    pub fn order(&self) -> &[u32] {
        self.cch.order()
    }

    /// The hierarchy.
    pub fn cch(&self) -> &Cch {
        &self.cch
    }

    /// The spatial index.
    pub fn snap_index(&self) -> &SnapIndex {
        &self.snap
    }

    /// The number of strongly connected parts of the network and the share of road length
    /// in the largest.
    pub fn components(&self) -> (usize, f64) {
        let total: f64 = self.component_length_m.iter().sum();
        let largest = self
            .component_length_m
            .get(self.largest as usize)
            .copied()
            .unwrap_or(0.0);
        (
            self.component_chains.len(),
            if total > 0.0 { largest / total } else { 0.0 },
        )
    }

    /// Whether segment `e` lies in the largest strongly connected part of the network.
    pub fn in_main_network(&self, g: &Graph, e: usize) -> bool {
        g.turns.edge_chain.get(e).and_then(|&c| self.component.get(c as usize)) == Some(&self.largest)
    }

    /// Snaps a point onto the network (see [`SnapIndex::snap`]).
    pub fn snap(&self, g: &Graph, lat: f64, lon: f64, options: &SnapOptions<'_>) -> Result<Snap, Option<f64>> {
        self.snap.snap(g, lat, lon, options)
    }

    /// The weight of each turn for segment weights `seg` (indexed by graph edge): the
    /// segments of the chain it leaves, the delays inside that chain, its own cost, and
    /// [`RESTRICTED_ENTRY`] for a restricted entry.
    pub fn turn_weights(&self, g: &Graph, seg: &[u64]) -> Vec<u64> {
        let t = &g.turns;
        let chain_weight: Vec<u64> = (0..t.chain_count() as u32)
            .map(|c| self.chain_weight(t, c, seg))
            .collect();
        (0..t.turn_count())
            .map(|x| {
                let base = chain_weight
                    .get(self.turn_tail[x] as usize)
                    .copied()
                    .unwrap_or(u64::MAX);
                let own = u64::from(t.turn_ms.get(x).copied().unwrap_or(0));
                let restricted = t
                    .turn_flags
                    .get(x)
                    .is_some_and(|f| f & turn_flags::RESTRICTED_ENTRY != 0);
                base.saturating_add(own)
                    .saturating_add(if restricted { RESTRICTED_ENTRY } else { 0 })
            })
            .collect()
    }

    /// The turns whose weight depends on segments `changed` (to re-customize partially).
    pub fn turns_of_segments(&self, g: &Graph, changed: &[usize]) -> Vec<usize> {
        let t = &g.turns;
        let mut out = Vec::new();
        for &e in changed {
            let Some(&c) = t.edge_chain.get(e) else { continue };
            for ch in std::iter::once(c).chain(self.copies.get(&c).into_iter().flatten().copied()) {
                out.extend(t.turns(ch));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Segment weights with the turn weights they make.
    pub fn weights(&self, g: &Graph, seg: Vec<u64>) -> Weights {
        let turn = self.turn_weights(g, &seg);
        Weights { seg, turn }
    }

    /// The customization for `weights`, from the cache of recent ones (a hit, or the closest
    /// one updated on the turns that differ).
    pub fn metric(&self, weights: &Weights) -> Arc<Metric> {
        self.metrics.get(&self.cch, weights.turn.clone())
    }

    /// A full customization for `weights` (no cache).
    pub fn customize(&self, weights: &Weights) -> Metric {
        Metric::customize(&self.cch, |x| weights.turn.get(x).copied().unwrap_or(u64::MAX))
    }

    /// Applies changed segment weights (`changed` segments now weigh `seg[e]`) to `weights`
    /// and re-customizes `metric` on the turns they affect; returns how many hierarchy
    /// arcs changed.
    pub fn update(&self, g: &Graph, weights: &mut Weights, metric: &mut Metric, changed: &[usize]) -> usize {
        let turns = self.turns_of_segments(g, changed);
        let t = &g.turns;
        let mut chain_cache: HashMap<u32, u64> = HashMap::new();
        for &x in &turns {
            let tail = self.turn_tail.get(x).copied().unwrap_or(0);
            let base = *chain_cache
                .entry(tail)
                .or_insert_with(|| self.chain_weight(t, tail, &weights.seg));
            let own = u64::from(t.turn_ms.get(x).copied().unwrap_or(0));
            let restricted = t
                .turn_flags
                .get(x)
                .is_some_and(|f| f & turn_flags::RESTRICTED_ENTRY != 0);
            if let Some(w) = weights.turn.get_mut(x) {
                *w = base
                    .saturating_add(own)
                    .saturating_add(if restricted { RESTRICTED_ENTRY } else { 0 });
            }
        }
        metric.update(&self.cch, |x| weights.turn.get(x).copied().unwrap_or(u64::MAX), &turns)
    }

    /// The weight of chain `c`: its segments and the delays of the nodes inside it.
    fn chain_weight(&self, t: &TurnGraph, c: u32, seg: &[u64]) -> u64 {
        t.chain(c)
            .iter()
            .map(|&e| seg.get(e as usize).copied().unwrap_or(u64::MAX))
            .fold(
                self.chain_delay.get(c as usize).copied().unwrap_or(0),
                u64::saturating_add,
            )
    }

    /// The ends of a snap as chain positions.
    fn ends(&self, g: &Graph, seg: &[u64], snap: &Snap) -> Vec<End> {
        let t = &g.turns;
        snap.directions
            .iter()
            .filter_map(|&(e, fraction)| {
                let chain = *t.edge_chain.get(e)?;
                let pos = *t.edge_pos.get(e)? as usize;
                let edges = t.chain(chain);
                let mut offset = 0u64;
                for &x in edges.get(..pos)? {
                    offset = offset
                        .saturating_add(seg.get(x as usize).copied().unwrap_or(0))
                        .saturating_add(u64::from(node_flags::delay_ms(
                            g.node_flag(g.head.get(x as usize).copied().unwrap_or(0)),
                        )));
                }
                let w = seg.get(e).copied().unwrap_or(0) as f64;
                offset = offset.saturating_add((w * fraction).round() as u64);
                Some(End {
                    chain,
                    pos,
                    fraction,
                    offset,
                })
            })
            .collect()
    }

    /// The sources, targets and direct routes of a request.
    fn prepare(&self, g: &Graph, w: &Weights, from: &Snap, to: &Snap) -> Request {
        let t = &g.turns;
        let starts = self.ends(g, &w.seg, from);
        let stops = self.ends(g, &w.seg, to);
        // Sources: the turns out of each start chain, less what lies behind the start.
        let mut sources: Vec<(u32, u64, usize)> = Vec::new();
        for (i, s) in starts.iter().enumerate() {
            for x in t.turns(s.chain) {
                let head = t.turn_head[x];
                let cost = w.turn.get(x).copied().unwrap_or(u64::MAX).saturating_sub(s.offset);
                match sources.iter_mut().find(|(h, _, _)| *h == head) {
                    Some(entry) if entry.1 <= cost => {}
                    Some(entry) => *entry = (head, cost, i),
                    None => sources.push((head, cost, i)),
                }
            }
        }
        let mut targets: Vec<(u32, u64)> = Vec::new();
        for s in &stops {
            targets.push((s.chain, s.offset));
            for &c in self.copies.get(&s.chain).into_iter().flatten() {
                targets.push((c, s.offset));
            }
        }
        let mut direct = Vec::new();
        // Straight along one chain, when the destination lies ahead of the start.
        for s in &starts {
            for d in stops.iter().filter(|d| d.chain == s.chain) {
                if (d.pos, d.fraction) >= (s.pos, s.fraction) {
                    direct.push(Route {
                        cost: d.offset.saturating_sub(s.offset),
                        restricted_entries: 0,
                        edges: t
                            .chain(s.chain)
                            .get(s.pos..=d.pos)
                            .unwrap_or(&[])
                            .iter()
                            .map(|&e| e as usize)
                            .collect(),
                        start_fraction: s.fraction,
                        end_fraction: d.fraction,
                        chains: vec![s.chain],
                    });
                }
            }
        }
        let plain_sources = sources.iter().map(|&(h, c, _)| (h, c)).collect();
        Request {
            sources,
            plain_sources,
            targets,
            starts,
            stops,
            direct,
        }
    }

    /// The best route from `from` to `to` under `w` (which `metric` was customized for),
    /// reusing `query`'s state.
    pub fn shortest(
        &self,
        g: &Graph,
        w: &Weights,
        metric: &Metric,
        from: &Snap,
        to: &Snap,
        query: &mut CchQuery,
    ) -> Result<Route, RouteError> {
        let req = self.prepare(g, w, from, to);
        let found = query
            .run_multi(&self.cch, metric, &g.turns, &req.plain_sources, &req.targets)
            .and_then(|p| self.route_of(g, &p, &req));
        best_of(found, req.direct).ok_or_else(|| self.gap(g, from, to))
    }

    /// The same answer by plain Dijkstra on the turn graph: the reference and the baseline.
    pub fn shortest_by_dijkstra(
        &self,
        g: &Graph,
        w: &Weights,
        from: &Snap,
        to: &Snap,
        search: &mut crate::dijkstra::Dijkstra,
    ) -> Result<Route, RouteError> {
        let req = self.prepare(g, w, from, to);
        let found = search
            .run_multi(&g.turns, &req.plain_sources, &req.targets, |x| {
                w.turn.get(x).copied().unwrap_or(u64::MAX)
            })
            .and_then(|p| self.route_of(g, &p, &req));
        best_of(found, req.direct).ok_or_else(|| self.gap(g, from, to))
    }

    /// Up to `k` routes from `from` to `to` under `w` (which `metric` was customized for,
    /// see [`Router::metric`]), best first: the optimum, then alternatives as `options`
    /// define them.
    #[allow(clippy::too_many_arguments)] // a request: graph, weights, metric, ends, count, options
    pub fn routes(
        &self,
        g: &Graph,
        w: &Weights,
        metric: &Metric,
        from: &Snap,
        to: &Snap,
        k: usize,
        options: AlternativeOptions,
    ) -> Result<Vec<Route>, RouteError> {
        let t = &g.turns;
        let req = self.prepare(g, w, from, to);
        let weights = &w.turn;
        let view = PathView {
            arc_time: &|x| {
                let tail = self.turn_tail.get(x).copied().unwrap_or(0);
                self.chain_time.get(tail as usize).copied().unwrap_or(0)
            },
            arc_key: &|x| {
                let tail = self.turn_tail.get(x).copied().unwrap_or(0);
                let head = t.turn_head.get(x).copied().unwrap_or(0);
                (u64::from(t.origin_of(tail)) << 32) | u64::from(t.origin_of(head))
            },
            node_key: &|c| t.origin_of(c),
            unit: RESTRICTED_ENTRY,
        };
        let weight = |x: usize| weights.get(x).copied().unwrap_or(u64::MAX);
        let mut query = CchQuery::new(&self.cch);
        let paths = alternatives_multi(
            &self.cch,
            metric,
            &mut query,
            t,
            (&req.plain_sources, &req.targets),
            k.max(1),
            &weight,
            &view,
            options,
        );
        let mut routes: Vec<Route> = paths.iter().filter_map(|p| self.route_of(g, p, &req)).collect();
        routes.extend(req.direct);
        if routes.is_empty() {
            return Err(self.gap(g, from, to));
        }
        routes.sort_by_key(|r| (r.restricted_entries, r.cost));
        routes.dedup_by(|a, b| a.edges == b.edges);
        routes.truncate(k.max(1));
        Ok(routes)
    }

    /// A turn-graph path as a route.
    fn route_of(&self, g: &Graph, p: &Path, req: &Request) -> Option<Route> {
        let t = &g.turns;
        let first = *p.nodes.first()?;
        let last = *p.nodes.last()?;
        let start = req.starts.get(req.sources.iter().find(|s| s.0 == first)?.2)?;
        let stop = req.stops.iter().find(|d| d.chain == t.origin_of(last))?;
        let mut chains = vec![start.chain];
        chains.extend_from_slice(&p.nodes);
        let mut edges: Vec<usize> = t
            .chain(start.chain)
            .get(start.pos..)?
            .iter()
            .map(|&e| e as usize)
            .collect();
        if let Some(middle) = p.nodes.get(..p.nodes.len().saturating_sub(1)) {
            for &c in middle {
                edges.extend(t.chain(c).iter().map(|&e| e as usize));
            }
        }
        edges.extend(t.chain(last).get(..=stop.pos)?.iter().map(|&e| e as usize));
        Some(Route {
            cost: p.cost % RESTRICTED_ENTRY,
            restricted_entries: p.cost / RESTRICTED_ENTRY,
            edges,
            start_fraction: start.fraction,
            end_fraction: stop.fraction,
            chains,
        })
    }

    /// The error for ends that do not connect.
    fn gap(&self, g: &Graph, from: &Snap, to: &Snap) -> RouteError {
        let part = |s: &Snap| {
            let c = g.turns.edge_chain.get(s.edge).copied().unwrap_or(0);
            self.component.get(c as usize).copied().unwrap_or(0)
        };
        let road = |s: &Snap| {
            let name = g.edge_name(s.edge);
            if name.is_empty() {
                format!("an unnamed road at {:.5},{:.5}", s.point.0, s.point.1)
            } else {
                format!("{name} ({:.5},{:.5})", s.point.0, s.point.1)
            }
        };
        let km = |k: u32| self.component_length_m.get(k as usize).copied().unwrap_or(0.0) / 1000.0;
        let (a, b) = (part(from), part(to));
        let to_part = if a == b {
            "the same part (reachable only against a one-way street or a restriction)".to_owned()
        } else if b == self.largest {
            format!("the main network ({:.1} km)", km(b))
        } else {
            format!("another part with {:.1} km of road", km(b))
        };
        RouteError::Disconnected {
            from_road: road(from),
            from_km: km(a),
            to_road: road(to),
            to_part,
        }
    }
}

/// The cheaper of a routed and the direct answers.
fn best_of(found: Option<Route>, direct: Vec<Route>) -> Option<Route> {
    found
        .into_iter()
        .chain(direct)
        .min_by_key(|r| (r.restricted_entries, r.cost))
}

/// A request's ends in the turn graph.
struct Request {
    /// (chain, initial cost, index of the start it comes from).
    sources: Vec<(u32, u64, usize)>,
    plain_sources: Vec<(u32, u64)>,
    targets: Vec<(u32, u64)>,
    starts: Vec<End>,
    stops: Vec<End>,
    /// Routes along a single chain.
    direct: Vec<Route>,
}
