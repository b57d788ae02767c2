//! Plain Dijkstra with a binary heap: the reference every accelerated query is tested
//! against, and the baseline of the routing benchmark. Runs on any [`Arcs`] graph — the
//! segment graph or the turn graph — from several sources to several targets, each with an
//! initial cost (a route starts part-way along a road and ends part-way along another).

use crate::graph::{Arcs, NodeId};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A shortest path: total weight and the node sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// Sum of the edge weights.
    pub cost: u64,
    /// Nodes from source to target.
    pub nodes: Vec<NodeId>,
    /// Edge indices along the path.
    pub edges: Vec<usize>,
}

/// Reusable search state, so repeated queries do not reallocate.
#[derive(Debug, Clone, Default)]
pub struct Dijkstra {
    dist: Vec<u64>,
    parent_edge: Vec<u32>,
    parent_node: Vec<u32>,
    touched: Vec<NodeId>,
    heap: BinaryHeap<Reverse<(u64, NodeId)>>,
}

const NONE: u32 = u32::MAX;

impl Dijkstra {
    /// State for a graph of `n` nodes.
    pub fn new(n: usize) -> Self {
        Self {
            dist: vec![u64::MAX; n],
            parent_edge: vec![NONE; n],
            parent_node: vec![NONE; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    fn reset(&mut self) {
        for &t in &self.touched {
            self.dist[t as usize] = u64::MAX;
            self.parent_edge[t as usize] = NONE;
            self.parent_node[t as usize] = NONE;
        }
        self.touched.clear();
        self.heap.clear();
    }

    /// The shortest path from `s` to `t` under `weight(edge index)`; `None` if unreachable.
    pub fn run(&mut self, g: &impl Arcs, s: NodeId, t: NodeId, weight: impl Fn(usize) -> u64) -> Option<Path> {
        self.astar(g, s, t, weight, |_| 0)
    }

    /// A* from `s` to `t`: Dijkstra ordered by distance plus `potential(v)`, a lower bound on
    /// the remaining cost from `v` to `t` (zero gives plain Dijkstra). Exact for any
    /// admissible, consistent potential.
    pub fn astar(
        &mut self,
        g: &impl Arcs,
        s: NodeId,
        t: NodeId,
        weight: impl Fn(usize) -> u64,
        potential: impl Fn(NodeId) -> u64,
    ) -> Option<Path> {
        self.search(g, &[(s, 0)], &[(t, 0)], weight, potential)
    }

    /// The cheapest path from any source `(node, initial cost)` to any target `(node, cost
    /// to add on arrival)`; `None` if none is reachable. The path's `cost` includes both.
    pub fn run_multi(
        &mut self,
        g: &impl Arcs,
        sources: &[(NodeId, u64)],
        targets: &[(NodeId, u64)],
        weight: impl Fn(usize) -> u64,
    ) -> Option<Path> {
        self.search(g, sources, targets, weight, |_| 0)
    }

    fn search(
        &mut self,
        g: &impl Arcs,
        sources: &[(NodeId, u64)],
        targets: &[(NodeId, u64)],
        weight: impl Fn(usize) -> u64,
        potential: impl Fn(NodeId) -> u64,
    ) -> Option<Path> {
        if self.dist.len() != g.node_count() {
            *self = Self::new(g.node_count());
        }
        self.reset();
        for &(s, c) in sources {
            if c < self.dist[s as usize] {
                if self.dist[s as usize] == u64::MAX {
                    self.touched.push(s);
                }
                self.dist[s as usize] = c;
                self.heap.push(Reverse((c.saturating_add(potential(s)), s)));
            }
        }
        let mut best: Option<(u64, NodeId)> = None;
        while let Some(Reverse((key, v))) = self.heap.pop() {
            let d = self.dist[v as usize];
            if key > d.saturating_add(potential(v)) {
                continue;
            }
            if best.is_some_and(|(b, _)| key >= b) {
                break;
            }
            for &(t, extra) in targets.iter().filter(|(t, _)| *t == v) {
                let total = d.saturating_add(extra);
                if best.is_none_or(|(b, _)| total < b) {
                    best = Some((total, t));
                }
            }
            for e in g.arcs(v) {
                let w = g.arc_head(e);
                let nd = d.saturating_add(weight(e));
                if nd < self.dist[w as usize] {
                    if self.dist[w as usize] == u64::MAX {
                        self.touched.push(w);
                    }
                    self.dist[w as usize] = nd;
                    self.parent_edge[w as usize] = e as u32;
                    self.parent_node[w as usize] = v;
                    self.heap.push(Reverse((nd.saturating_add(potential(w)), w)));
                }
            }
        }
        let (cost, t) = best?;
        let mut edges = Vec::new();
        let mut v = t;
        while self.parent_edge[v as usize] != NONE {
            edges.push(self.parent_edge[v as usize] as usize);
            v = self.parent_node[v as usize];
        }
        edges.reverse();
        let mut nodes = vec![v];
        nodes.extend(edges.iter().map(|&e| g.arc_head(e)));
        Some(Path { cost, nodes, edges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::graph::Graph;
    use crate::graph::from_arcs as graph;

    /// Bellman-Ford: the obviously correct reference.
    fn bellman_ford(g: &Graph, s: u32) -> Vec<u64> {
        let n = g.node_count();
        let mut d = vec![u64::MAX; n];
        d[s as usize] = 0;
        for _ in 0..n {
            for v in 0..n {
                if d[v] == u64::MAX {
                    continue;
                }
                for e in g.edges(v as u32) {
                    let nd = d[v] + u64::from(g.time_ms[e]);
                    let w = g.head[e] as usize;
                    d[w] = d[w].min(nd);
                }
            }
        }
        d
    }

    proptest! {
        #[test]
        fn matches_bellman_ford(n in 2usize..40, arcs in proptest::collection::vec((0u32..40, 0u32..40, 1u32..1000), 0..200), s in 0u32..40, t in 0u32..40) {
            let arcs: Vec<_> = arcs.into_iter().filter(|(a, b, _)| (*a as usize) < n && (*b as usize) < n).collect();
            let g = graph(n, &arcs);
            prop_assert!(g.validate().is_ok());
            let (s, t) = (s % n as u32, t % n as u32);
            let reference = bellman_ford(&g, s)[t as usize];
            let mut d = Dijkstra::new(n);
            match d.run(&g, s, t, |e| u64::from(g.time_ms[e])) {
                None => prop_assert_eq!(reference, u64::MAX),
                Some(p) => {
                    prop_assert_eq!(p.cost, reference);
                    prop_assert_eq!(p.nodes.first(), Some(&s));
                    prop_assert_eq!(p.nodes.last(), Some(&t));
                    let sum: u64 = p.edges.iter().map(|&e| u64::from(g.time_ms[e])).sum();
                    prop_assert_eq!(sum, p.cost);
                }
            }
        }
    }
}
