//! Plain Dijkstra with a binary heap: the reference every accelerated query is tested
//! against, and the baseline of the routing benchmark.

use crate::graph::{Graph, NodeId};
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
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    fn reset(&mut self) {
        for &t in &self.touched {
            self.dist[t as usize] = u64::MAX;
            self.parent_edge[t as usize] = NONE;
        }
        self.touched.clear();
        self.heap.clear();
    }

    /// The shortest path from `s` to `t` under `weight(edge index)`; `None` if unreachable.
    pub fn run(&mut self, g: &Graph, s: NodeId, t: NodeId, weight: impl Fn(usize) -> u64) -> Option<Path> {
        self.astar(g, s, t, weight, |_| 0)
    }

    /// A* from `s` to `t`: Dijkstra ordered by distance plus `potential(v)`, a lower bound on
    /// the remaining cost from `v` to `t` (zero gives plain Dijkstra). Exact for any
    /// admissible, consistent potential.
    pub fn astar(
        &mut self,
        g: &Graph,
        s: NodeId,
        t: NodeId,
        weight: impl Fn(usize) -> u64,
        potential: impl Fn(NodeId) -> u64,
    ) -> Option<Path> {
        if self.dist.len() != g.node_count() {
            *self = Self::new(g.node_count());
        }
        self.reset();
        self.dist[s as usize] = 0;
        self.touched.push(s);
        self.heap.push(Reverse((potential(s), s)));
        while let Some(Reverse((key, v))) = self.heap.pop() {
            let d = self.dist[v as usize];
            if key > d.saturating_add(potential(v)) {
                continue;
            }
            if v == t {
                break;
            }
            for e in g.edges(v) {
                let w = g.head[e];
                let nd = d.saturating_add(weight(e));
                if nd < self.dist[w as usize] {
                    if self.dist[w as usize] == u64::MAX {
                        self.touched.push(w);
                    }
                    self.dist[w as usize] = nd;
                    self.parent_edge[w as usize] = e as u32;
                    self.heap.push(Reverse((nd.saturating_add(potential(w)), w)));
                }
            }
        }
        let cost = self.dist[t as usize];
        if cost == u64::MAX {
            return None;
        }
        let mut edges = Vec::new();
        let mut v = t;
        while v != s {
            let e = self.parent_edge[v as usize] as usize;
            edges.push(e);
            // The tail of edge e: the node whose edge range holds e.
            v = g.first_out.partition_point(|&o| o as usize <= e) as NodeId - 1;
        }
        edges.reverse();
        let mut nodes = vec![s];
        nodes.extend(edges.iter().map(|&e| g.head[e]));
        Some(Path { cost, nodes, edges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
