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
use crate::graph::Arcs;
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

/// A source or target: a node with the cost of starting (or ending) there.
pub type Endpoint = (u32, u64);

/// What alternatives need to know of a graph beyond its arcs.
pub struct PathView<'a> {
    /// The travel time an arc stands for (its share in the overlap of two paths).
    pub arc_time: &'a dyn Fn(usize) -> u64,
    /// The identity of an arc for the overlap (copies of a road count as the road).
    pub arc_key: &'a dyn Fn(usize) -> u64,
    /// The identity of a node for loop detection.
    pub node_key: &'a dyn Fn(u32) -> u32,
    /// Costs are compared as (count of this unit, remainder): an alternative must have as
    /// few units as the optimum (restricted entries), and the stretch applies to the
    /// remainder. `u64::MAX` for plain costs.
    pub unit: u64,
}

/// Whether a path visits no node twice.
pub fn is_simple(p: &Path, view: &PathView<'_>) -> bool {
    let mut seen = HashSet::with_capacity(p.nodes.len());
    p.nodes.iter().all(|n| seen.insert((view.node_key)(*n)))
}

/// The fraction of `p`'s travel time on arcs `q` also uses.
pub fn shared_fraction(p: &Path, q: &Path, view: &PathView<'_>) -> f64 {
    let other: HashSet<u64> = q.edges.iter().map(|&e| (view.arc_key)(e)).collect();
    let total: u64 = p.edges.iter().map(|&e| (view.arc_time)(e)).sum();
    if total == 0 {
        return 1.0;
    }
    let shared: u64 = p
        .edges
        .iter()
        .filter(|&&e| other.contains(&(view.arc_key)(e)))
        .map(|&e| (view.arc_time)(e))
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
    g: &impl Arcs,
    (s, t): (u32, u32),
    k: usize,
    weight: &dyn Fn(usize) -> u64,
    options: AlternativeOptions,
) -> Vec<Path> {
    let view = PathView {
        arc_time: weight,
        arc_key: &|e| e as u64,
        node_key: &|n| n,
        unit: u64::MAX,
    };
    alternatives_multi(cch, metric, query, g, (&[(s, 0)], &[(t, 0)]), k, weight, &view, options)
}

/// Up to `k` alternatives between sources and targets with initial costs (see
/// [`CchQuery::run_multi`]), best first.
#[allow(clippy::too_many_arguments)]
pub fn alternatives_multi(
    cch: &Cch,
    metric: &Metric,
    query: &mut CchQuery,
    g: &impl Arcs,
    (sources, targets): (&[Endpoint], &[Endpoint]),
    k: usize,
    weight: &dyn Fn(usize) -> u64,
    view: &PathView<'_>,
    options: AlternativeOptions,
) -> Vec<Path> {
    let mut chosen: Vec<Path> = Vec::new();
    if k == 0 {
        return chosen;
    }
    let unit = view.unit.max(1);
    let within = |cost: u64, best: u64| {
        cost / unit == best / unit && (cost % unit) as f64 <= (best % unit) as f64 * options.max_stretch
    };
    let accept = |p: &Path, chosen: &[Path]| {
        is_simple(p, view) && chosen.iter().all(|c| shared_fraction(p, c, view) <= options.max_shared)
    };
    let bound = |best: u64| {
        (best / unit)
            .saturating_mul(unit)
            .saturating_add(((best % unit) as f64 * options.max_stretch) as u64)
    };
    for p in query.via_paths_multi(cch, metric, g, sources, targets, &bound) {
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
    if chosen.len() == k {
        return chosen;
    }
    let start_cost = |p: &Path| {
        let first = p.nodes.first().copied();
        sources
            .iter()
            .filter(|(v, _)| Some(*v) == first)
            .map(|(_, c)| *c)
            .min()
            .unwrap_or(0)
    };
    let end_cost = |p: &Path| {
        let last = p.nodes.last().copied();
        targets
            .iter()
            .filter(|(v, _)| Some(*v) == last)
            .map(|(_, c)| *c)
            .min()
            .unwrap_or(0)
    };
    // Penalty method on a private copy: each use of an arc by a found route adds half its weight.
    let mut penalised = metric.clone();
    let mut uses: HashMap<usize, u64> = HashMap::new();
    let mut last: Vec<usize> = chosen.iter().flat_map(|p| p.edges.iter().copied()).collect();
    for _ in 0..options.penalty_rounds {
        if last.is_empty() {
            break;
        }
        for &e in &last {
            *uses.entry(e).or_default() += 1;
        }
        let extra = |e: usize| {
            let w = weight(e) % unit;
            weight(e).saturating_add(w / 2 * uses.get(&e).copied().unwrap_or(0))
        };
        penalised.update(cch, extra, &last);
        let Some(mut p) = query.run_multi(cch, &penalised, g, sources, targets) else {
            break;
        };
        p.cost = p
            .edges
            .iter()
            .map(|&e| weight(e))
            .fold(start_cost(&p).saturating_add(end_cost(&p)), u64::saturating_add);
        if !within(p.cost, best) {
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
    use crate::graph::{Graph, from_arcs};

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
        let view = PathView {
            arc_time: &w,
            arc_key: &|e| e as u64,
            node_key: &|n| n,
            unit: u64::MAX,
        };
        for (i, p) in paths.iter().enumerate() {
            assert!(is_simple(p, &view));
            for q in &paths[..i] {
                assert!(shared_fraction(p, q, &view) <= 0.6);
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
