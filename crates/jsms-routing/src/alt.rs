//! A* with landmarks and the triangle inequality (ALT): exact shortest paths under any edge
//! weights that are at least the travel times the landmark distances were computed on.
//! Threat zones only raise costs, so the landmarks stay valid when zones change: nothing is
//! recomputed, the next query simply uses the new weights.

use crate::dijkstra::{Dijkstra, Path};
use crate::graph::{Graph, NodeId};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Landmark distances: from and to each landmark, on the base weights (travel time).
#[derive(Debug, Clone)]
pub struct Landmarks {
    /// Landmark nodes.
    pub nodes: Vec<NodeId>,
    /// `from[l][v]`: distance from landmark `l` to `v`.
    from: Vec<Vec<u32>>,
    /// `to[l][v]`: distance from `v` to landmark `l`.
    to: Vec<Vec<u32>>,
}

const INF: u32 = u32::MAX;

/// One-to-all Dijkstra on base weights, forward or over the reversed edges.
fn one_to_all(g: &Graph, reverse: &[(u32, u32, u32)], rev_first: &[u32], source: NodeId, backward: bool) -> Vec<u32> {
    let n = g.node_count();
    let mut dist = vec![INF; n];
    let mut heap = BinaryHeap::new();
    dist[source as usize] = 0;
    heap.push(Reverse((0u32, source)));
    while let Some(Reverse((d, v))) = heap.pop() {
        if d > dist[v as usize] {
            continue;
        }
        let mut relax = |w: NodeId, cost: u32| {
            let nd = d.saturating_add(cost);
            if nd < dist[w as usize] {
                dist[w as usize] = nd;
                heap.push(Reverse((nd, w)));
            }
        };
        if backward {
            let (a, b) = (rev_first[v as usize] as usize, rev_first[v as usize + 1] as usize);
            for &(_, tail, cost) in &reverse[a..b] {
                relax(tail, cost);
            }
        } else {
            for e in g.edges(v) {
                relax(g.head[e], g.time_ms[e]);
            }
        }
    }
    dist
}

impl Landmarks {
    /// Chooses `k` landmarks far apart (farthest-first from node 0) and computes their
    /// distances on the graph's travel times.
    pub fn new(g: &Graph, k: usize) -> Self {
        let n = g.node_count();
        // The reversed edges, grouped by head: (head, tail, time).
        let mut reverse: Vec<(u32, u32, u32)> = Vec::with_capacity(g.edge_count());
        for v in 0..n as NodeId {
            for e in g.edges(v) {
                reverse.push((g.head[e], v, g.time_ms[e]));
            }
        }
        reverse.sort_unstable_by_key(|r| r.0);
        let mut rev_first = vec![0u32; n + 1];
        for r in &reverse {
            rev_first[r.0 as usize + 1] += 1;
        }
        for i in 0..n {
            rev_first[i + 1] += rev_first[i];
        }
        let mut nodes = Vec::with_capacity(k);
        let mut from = Vec::with_capacity(k);
        let mut to = Vec::with_capacity(k);
        // Farthest-first: start from the node farthest from node 0, then repeatedly the node
        // farthest from all chosen landmarks.
        let mut closest = one_to_all(g, &reverse, &rev_first, 0, false);
        for _ in 0..k.min(n) {
            let next = closest
                .iter()
                .enumerate()
                .filter(|(_, d)| **d != INF)
                .max_by_key(|(_, d)| **d)
                .map_or(0, |(i, _)| i as NodeId);
            if nodes.contains(&next) {
                break;
            }
            let f = one_to_all(g, &reverse, &rev_first, next, false);
            let t = one_to_all(g, &reverse, &rev_first, next, true);
            for (c, d) in closest.iter_mut().zip(&f) {
                *c = (*c).min(*d);
            }
            nodes.push(next);
            from.push(f);
            to.push(t);
        }
        Self { nodes, from, to }
    }

    /// A lower bound on the base-weight distance from `v` to `t`.
    fn bound(&self, v: NodeId, t: NodeId) -> u64 {
        let (v, t) = (v as usize, t as usize);
        let mut best = 0i64;
        for (f, to) in self.from.iter().zip(&self.to) {
            // d(v,t) >= d(v,L) - d(t,L)  and  d(v,t) >= d(L,t) - d(L,v)
            if to[v] != INF && to[t] != INF {
                best = best.max(i64::from(to[v]) - i64::from(to[t]));
            }
            if f[t] != INF && f[v] != INF {
                best = best.max(i64::from(f[t]) - i64::from(f[v]));
            }
        }
        best.max(0) as u64
    }

    /// The shortest path from `s` to `t` under `weight(edge)`, which must be at least the
    /// edge's travel time for the answer to be exact.
    pub fn query(&self, g: &Graph, s: NodeId, t: NodeId, weight: impl Fn(usize) -> u64) -> Option<Path> {
        AltSearch::new(g.node_count()).run(self, g, s, t, weight)
    }
}

/// Reusable search state for ALT queries (no allocation per query once warm).
#[derive(Debug, Clone, Default)]
pub struct AltSearch {
    inner: Dijkstra,
}

impl AltSearch {
    /// State for a graph of `n` nodes.
    pub fn new(n: usize) -> Self {
        Self {
            inner: Dijkstra::new(n),
        }
    }

    /// Runs one query (see [`Landmarks::query`]): A* with the landmark bound as potential.
    pub fn run(
        &mut self,
        lm: &Landmarks,
        g: &Graph,
        s: NodeId,
        t: NodeId,
        weight: impl Fn(usize) -> u64,
    ) -> Option<Path> {
        self.inner.astar(g, s, t, weight, |v| lm.bound(v, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::graph::from_arcs as graph;

    proptest! {
        #[test]
        fn exact_under_raised_weights(
            n in 2usize..40,
            arcs in proptest::collection::vec((0u32..40, 0u32..40, 1u32..1000), 0..200),
            extra in proptest::collection::vec(0u64..5000, 200),
            k in 1usize..6,
            s in 0u32..40,
            t in 0u32..40,
        ) {
            let arcs: Vec<_> = arcs.into_iter().filter(|(a, b, _)| (*a as usize) < n && (*b as usize) < n).collect();
            let g = graph(n, &arcs);
            let lm = Landmarks::new(&g, k);
            let (s, t) = (s % n as u32, t % n as u32);
            // Zones raise some edges' costs above their travel time.
            let weight = |e: usize| u64::from(g.time_ms[e]) + extra[e % extra.len()];
            let reference = Dijkstra::new(n).run(&g, s, t, weight).map(|p| p.cost);
            let got = lm.query(&g, s, t, weight);
            prop_assert_eq!(got.as_ref().map(|p| p.cost), reference);
            if let Some(p) = got {
                let sum: u64 = p.edges.iter().map(|&e| weight(e)).sum();
                prop_assert_eq!(sum, p.cost);
                prop_assert_eq!(p.nodes.first(), Some(&s));
                prop_assert_eq!(p.nodes.last(), Some(&t));
            }
        }
    }
}
