//! Alternative routes: up to k paths that are really different (each shares at most a
//! bounded fraction of its travel time with every path before it) and each reasonable (its
//! cost at most a bounded stretch of the optimum, no loops).
//!
//! Candidates come first from the elimination-tree search itself — the path through each
//! common ancestor of the two ends, i.e. through each separator vertex both searches reach
//! (via-node alternatives, no extra search). When those are not enough, the penalty method
//! takes over: the edges of the routes found so far are made dearer on a private copy of the
//! metric, re-customized partially, and searched again; each new path is judged on the real
//! weights.

use crate::cch::{Cch, CchQuery, Metric};
use crate::dijkstra::Path;
use crate::graph::Graph;
use std::collections::{HashMap, HashSet};

/// How different and how reasonable alternatives must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlternativeOptions {
    /// Largest cost of an alternative relative to the optimum (1.4 = 40 % dearer).
    pub max_stretch: f64,
    /// Largest fraction of an alternative's travel time shared with any earlier route.
    pub max_shared: f64,
    /// Penalty rounds allowed when via-node candidates run out.
    pub penalty_rounds: usize,
}

impl Default for AlternativeOptions {
    fn default() -> Self {
        Self {
            max_stretch: 1.4,
            max_shared: 0.6,
            penalty_rounds: 6,
        }
    }
}

/// Whether a path visits no node twice.
pub fn is_simple(p: &Path) -> bool {
    let mut seen = HashSet::with_capacity(p.nodes.len());
    p.nodes.iter().all(|n| seen.insert(*n))
}

/// The fraction of `p`'s travel time on edges `q` also uses.
pub fn shared_fraction(g: &Graph, p: &Path, q: &Path) -> f64 {
    let other: HashSet<usize> = q.edges.iter().copied().collect();
    let total: u64 = p.edges.iter().map(|&e| u64::from(g.edge_time_ms(e))).sum();
    if total == 0 {
        return 1.0;
    }
    let shared: u64 = p
        .edges
        .iter()
        .filter(|e| other.contains(e))
        .map(|&e| u64::from(g.edge_time_ms(e)))
        .sum();
    shared as f64 / total as f64
}

/// Up to `k` alternatives from `s` to `t` under `weight` (which `metric` is customized for),
/// best first; the first is the optimum. Empty when `t` cannot be reached.
#[allow(clippy::too_many_arguments)] // the CCH triple plus the query: splitting them hides nothing
pub fn alternatives(
    cch: &Cch,
    metric: &Metric,
    query: &mut CchQuery,
    g: &Graph,
    (s, t): (u32, u32),
    k: usize,
    weight: &dyn Fn(usize) -> u64,
    options: AlternativeOptions,
) -> Vec<Path> {
    let mut chosen: Vec<Path> = Vec::new();
    if k == 0 {
        return chosen;
    }
    let accept = |p: &Path, chosen: &[Path]| {
        is_simple(p) && chosen.iter().all(|c| shared_fraction(g, p, c) <= options.max_shared)
    };
    for p in query.via_paths(cch, metric, g, s, t, options.max_stretch) {
        if chosen.len() == k {
            return chosen;
        }
        if chosen.is_empty() || accept(&p, &chosen) {
            chosen.push(p);
        }
    }
    let Some(best) = chosen.first().map(|p| p.cost) else {
        return chosen;
    };
    if chosen.len() == k || s == t {
        return chosen;
    }
    let bound = best as f64 * options.max_stretch;
    // Penalty method on a private copy: each use of an edge by a found route adds half its weight.
    let mut penalised = metric.clone();
    let mut uses: HashMap<usize, u64> = HashMap::new();
    let mut last: Vec<usize> = chosen.iter().flat_map(|p| p.edges.iter().copied()).collect();
    for _ in 0..options.penalty_rounds {
        for &e in &last {
            *uses.entry(e).or_default() += 1;
        }
        let extra = |e: usize| weight(e).saturating_add(weight(e) / 2 * uses.get(&e).copied().unwrap_or(0));
        penalised.update(cch, extra, &last);
        let Some(mut p) = query.run(cch, &penalised, g, s, t) else {
            break;
        };
        p.cost = p.edges.iter().map(|&e| weight(e)).fold(0u64, u64::saturating_add);
        if p.cost as f64 > bound {
            break;
        }
        if accept(&p, &chosen) {
            chosen.push(p.clone());
            if chosen.len() == k {
                break;
            }
        }
        last = p.edges;
    }
    chosen.sort_by_key(|p| p.cost);
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::from_arcs;

    /// Three disjoint roads from 0 to 1 through 2, 3 and 4 (costs 10, 12, 13), and a road
    /// through 5 costing 30.
    fn ladder() -> Graph {
        let mut arcs = Vec::new();
        for (via, cost) in [(2u32, 5u32), (3, 6), (4, 7), (5, 15)] {
            let c = if via == 4 { [6, 7] } else { [cost, cost] };
            arcs.extend([(0, via, c[0]), (via, 0, c[0]), (via, 1, c[1]), (1, via, c[1])]);
        }
        from_arcs(6, &arcs)
    }

    #[test]
    fn finds_distinct_reasonable_alternatives_best_first() {
        let g = ladder();
        let cch = Cch::new(&g);
        let w = |e: usize| u64::from(g.time_ms[e]);
        let metric = Metric::customize(&cch, w);
        let mut q = CchQuery::new(&cch);
        let paths = alternatives(&cch, &metric, &mut q, &g, (0, 1), 5, &w, AlternativeOptions::default());
        let costs: Vec<u64> = paths.iter().map(|p| p.cost).collect();
        // The road through 5 (30) is beyond the 1.4 stretch of 10.
        assert_eq!(costs, vec![10, 12, 13]);
        for (i, p) in paths.iter().enumerate() {
            assert!(is_simple(p));
            for q in &paths[..i] {
                assert!(shared_fraction(&g, p, q) <= 0.6);
            }
        }
        assert_eq!(
            alternatives(&cch, &metric, &mut q, &g, (0, 1), 1, &w, AlternativeOptions::default()).len(),
            1
        );
    }

    #[test]
    fn unreachable_gives_nothing() {
        let g = from_arcs(3, &[(0, 1, 5)]);
        let cch = Cch::new(&g);
        let w = |e: usize| u64::from(g.time_ms[e]);
        let metric = Metric::customize(&cch, w);
        let mut q = CchQuery::new(&cch);
        assert!(alternatives(&cch, &metric, &mut q, &g, (0, 2), 3, &w, AlternativeOptions::default()).is_empty());
    }
}
