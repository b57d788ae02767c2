//! Nested dissection node order for customizable contraction hierarchies ([`crate::cch`]),
//! by inertial flow: a cell's nodes are projected on a few directions, the first and last
//! quarter along each become source and sink, and a unit-capacity maximum flow between them
//! gives a small balanced vertex separator; the direction with the smallest separator wins.
//! The two sides are ordered recursively and the separator is ranked above both, so that
//! contraction adds few shortcuts and searches only climb through separators.
//!
//! The order depends only on the road layout, never on weights: it is computed once per map.

use crate::graph::{Arcs, Graph, NodeId};

const NONE: u32 = u32::MAX;
/// Cells this small are ordered as they come.
const LEAF: usize = 8;

/// A simple undirected graph in CSR form, with each arc's twin (the same edge seen from the
/// other end).
struct Cell {
    /// Global node id of each local node.
    nodes: Vec<NodeId>,
    first: Vec<u32>,
    adj: Vec<u32>,
    twin: Vec<u32>,
}

impl Cell {
    fn len(&self) -> usize {
        self.nodes.len()
    }

    fn arcs(&self, v: usize) -> std::ops::Range<usize> {
        self.first[v] as usize..self.first[v + 1] as usize
    }

    /// The cell induced by `nodes` in the undirected simple graph `(first, adj)`; `local`
    /// is scratch space of the graph's size, all `NONE`, and is left that way.
    fn induced(nodes: Vec<NodeId>, first: &[u32], adj: &[u32], local: &mut [u32]) -> Self {
        for (i, &v) in nodes.iter().enumerate() {
            local[v as usize] = i as u32;
        }
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (i, &v) in nodes.iter().enumerate() {
            for &w in &adj[first[v as usize] as usize..first[v as usize + 1] as usize] {
                let j = local[w as usize];
                if j != NONE {
                    pairs.push((i as u32, j));
                }
            }
        }
        for &v in &nodes {
            local[v as usize] = NONE;
        }
        // `pairs` is symmetric and sorted by source; sort fully so twins can be found.
        pairs.sort_unstable();
        let n = nodes.len();
        let mut cell_first = vec![0u32; n + 1];
        for &(a, _) in &pairs {
            cell_first[a as usize + 1] += 1;
        }
        for i in 0..n {
            cell_first[i + 1] += cell_first[i];
        }
        let cell_adj: Vec<u32> = pairs.iter().map(|p| p.1).collect();
        let twin = pairs
            .iter()
            .map(|&(a, b)| {
                let range = &pairs[cell_first[b as usize] as usize..cell_first[b as usize + 1] as usize];
                cell_first[b as usize] + range.partition_point(|p| p.1 < a) as u32
            })
            .collect();
        Self {
            nodes,
            first: cell_first,
            adj: cell_adj,
            twin,
        }
    }
}

/// The undirected simple graph underlying `g` (no loops, no parallel edges).
pub fn undirected(g: &impl Arcs) -> (Vec<u32>, Vec<u32>) {
    let n = g.node_count();
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(2 * g.arc_count());
    for v in 0..n as NodeId {
        for e in g.arcs(v) {
            let w = g.arc_head(e);
            if w != v {
                pairs.push((v, w));
                pairs.push((w, v));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut first = vec![0u32; n + 1];
    for &(a, _) in &pairs {
        first[a as usize + 1] += 1;
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    (first, pairs.into_iter().map(|p| p.1).collect())
}

/// The nested dissection order of the segment graph `g`: `order[rank]` is the node of that
/// rank.
pub fn nested_dissection(g: &Graph) -> Vec<NodeId> {
    let points: Vec<(i32, i32)> = g.lat.iter().copied().zip(g.lon.iter().copied()).collect();
    nested_dissection_of(g, &points)
}

/// The nested dissection order of the turn graph of `g` (its chains placed at the middle
/// of their middle segment).
pub fn turn_order(g: &Graph) -> Vec<NodeId> {
    let t = &g.turns;
    let points: Vec<(i32, i32)> = (0..t.chain_count() as u32)
        .map(|c| {
            let edges = t.chain(c);
            let e = edges.get(edges.len() / 2).copied().unwrap_or(0) as usize;
            let (a, b) = (g.tail(e) as usize, g.head.get(e).copied().unwrap_or(0) as usize);
            let mid = |v: &[i32]| {
                ((i64::from(v.get(a).copied().unwrap_or(0)) + i64::from(v.get(b).copied().unwrap_or(0))) / 2) as i32
            };
            (mid(&g.lat), mid(&g.lon))
        })
        .collect();
    nested_dissection_of(t, &points)
}

/// The nested dissection order of any graph whose nodes lie at `points` (latitude,
/// longitude in 1e-7 degrees).
pub fn nested_dissection_of(g: &impl Arcs, points: &[(i32, i32)]) -> Vec<NodeId> {
    let n = g.node_count();
    let (first, adj) = undirected(g);
    // Plane coordinates: longitude shrunk by the cosine of the latitude.
    let mid_lat = if n == 0 {
        0.0
    } else {
        points.iter().map(|p| f64::from(p.0)).sum::<f64>() / n as f64 / 1e7
    };
    let shrink = mid_lat.to_radians().cos();
    let xy: Vec<(f64, f64)> = (0..n)
        .map(|v| {
            let (lat, lon) = points.get(v).copied().unwrap_or((0, 0));
            (f64::from(lon) * shrink, f64::from(lat))
        })
        .collect();
    let mut local = vec![NONE; n];
    let mut order = Vec::with_capacity(n);
    // An explicit stack: (cell nodes, separator to emit after the cell's parts).
    enum Task {
        Dissect(Vec<NodeId>),
        Emit(Vec<NodeId>),
    }
    let mut stack = vec![Task::Dissect((0..n as NodeId).collect())];
    while let Some(task) = stack.pop() {
        match task {
            Task::Emit(separator) => order.extend(separator),
            Task::Dissect(nodes) if nodes.len() <= LEAF => order.extend(nodes),
            Task::Dissect(nodes) => {
                let cell = Cell::induced(nodes, &first, &adj, &mut local);
                let (a, b, separator) = bisect(&cell, &xy);
                drop(cell);
                // Popped in reverse: A, then B, then the separator.
                stack.push(Task::Emit(separator));
                stack.push(Task::Dissect(b));
                stack.push(Task::Dissect(a));
            }
        }
    }
    order
}

const MAGIC: &[u8; 8] = b"JSMSOR02";

/// The order as bytes, bound to the graph it was computed for by the graph's digest.
pub fn encode(order: &[NodeId], graph_digest: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + order.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(graph_digest);
    out.extend_from_slice(&(order.len() as u64).to_le_bytes());
    for &v in order {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The order stored by [`encode`], if it is one for a graph with this digest and `n` nodes
/// and a permutation; `None` means compute it again.
pub fn decode(bytes: &[u8], graph_digest: &[u8; 32], n: usize) -> Option<Vec<NodeId>> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())?
        .strip_prefix(graph_digest.as_slice())?;
    let (len, body) = rest.split_first_chunk::<8>()?;
    if u64::from_le_bytes(*len) != n as u64 || body.len() != n * 4 {
        return None;
    }
    let order: Vec<NodeId> = body
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut seen = vec![false; n];
    for &v in &order {
        let slot = seen.get_mut(v as usize)?;
        if *slot {
            return None;
        }
        *slot = true;
    }
    Some(order)
}

/// Splits a cell into two sides and a separator (global node ids), the smallest separator
/// over four projection directions.
fn bisect(cell: &Cell, xy: &[(f64, f64)]) -> (Vec<NodeId>, Vec<NodeId>, Vec<NodeId>) {
    let n = cell.len();
    let directions = [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, -1.0)];
    let mut best: Option<Vec<u8>> = None;
    let mut best_cut = usize::MAX;
    let mut by_projection: Vec<u32> = (0..n as u32).collect();
    for (dx, dy) in directions {
        let key = |i: u32| {
            let (x, y) = xy[cell.nodes[i as usize] as usize];
            x * dx + y * dy
        };
        by_projection.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
        let k = (n / 4).max(1);
        let mut role = vec![0u8; n];
        for &i in &by_projection[..k] {
            role[i as usize] = SOURCE;
        }
        for &i in &by_projection[n - k..] {
            role[i as usize] = SINK;
        }
        if let Some(side) = min_cut(cell, &role, best_cut) {
            let cut = side.iter().filter(|&&s| s == SEPARATOR).count();
            if cut < best_cut {
                best_cut = cut;
                best = Some(side);
            }
        }
    }
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut separator = Vec::new();
    match best {
        Some(side) => {
            for (i, s) in side.into_iter().enumerate() {
                let v = cell.nodes[i];
                match s {
                    SIDE_A => a.push(v),
                    SEPARATOR => separator.push(v),
                    _ => b.push(v),
                }
            }
        }
        // Unreachable (the first direction always finishes), but halving is a safe answer.
        None => {
            let (x, y) = cell.nodes.split_at(n / 2);
            a = x.to_vec();
            b = y.to_vec();
        }
    }
    (a, b, separator)
}

const SOURCE: u8 = 1;
const SINK: u8 = 2;
const SIDE_A: u8 = 1;
const SIDE_B: u8 = 2;
const SEPARATOR: u8 = 3;

/// A minimum vertex cut between the source and sink nodes (every node, sources and sinks
/// included, has capacity one, so adjacent sources and sinks are cut too) by augmenting paths; `None` if it would exceed `limit`.
/// Returns each node's side: [`SIDE_A`] (with the sources), [`SIDE_B`] or [`SEPARATOR`].
fn min_cut(cell: &Cell, role: &[u8], limit: usize) -> Option<Vec<u8>> {
    let n = cell.len();
    // Node-split graph: state 2v is v's "in", 2v+1 its "out". Flow on v's internal arc, and
    // on each arc u_out → w_in.
    let mut through = vec![false; n];
    let mut flow = vec![0u32; cell.adj.len()];
    // BFS predecessor of each state: (previous state, how) with how = arc index, or
    // INTERNAL for the node's own arc.
    const INTERNAL: u32 = u32::MAX - 1;
    const INTERNAL_BACK: u32 = u32::MAX - 2;
    let mut pred: Vec<(u32, u32)> = vec![(NONE, NONE); 2 * n];
    let mut queue: Vec<u32> = Vec::with_capacity(2 * n);
    let mut cut = 0usize;
    loop {
        pred.iter_mut().for_each(|p| *p = (NONE, NONE));
        queue.clear();
        for v in 0..n {
            if role[v] == SOURCE {
                pred[2 * v] = (NONE, INTERNAL);
                queue.push(2 * v as u32);
            }
        }
        let mut head = 0;
        let mut reached = None;
        'bfs: while head < queue.len() {
            let state = queue[head];
            head += 1;
            let v = (state / 2) as usize;
            let visit = |next: u32, how: u32, queue: &mut Vec<u32>, pred: &mut Vec<(u32, u32)>| {
                if pred[next as usize].1 == NONE {
                    pred[next as usize] = (state, how);
                    queue.push(next);
                }
            };
            if state.is_multiple_of(2) {
                // v_in: through v if its capacity is free; back along arcs that carry flow into v.
                if !through[v] {
                    visit(state + 1, INTERNAL, &mut queue, &mut pred);
                }
                for i in cell.arcs(v) {
                    let j = cell.twin[i] as usize;
                    if flow[j] > 0 {
                        visit(2 * cell.adj[i] + 1, j as u32 | BACK, &mut queue, &mut pred);
                    }
                }
            } else {
                // v_out: a sink ends the path; else to every neighbour's in, or back through
                // v when v carries flow.
                if role[v] == SINK {
                    reached = Some(state);
                    break 'bfs;
                }
                for i in cell.arcs(v) {
                    visit(2 * cell.adj[i], i as u32, &mut queue, &mut pred);
                }
                if through[v] {
                    visit(state - 1, INTERNAL_BACK, &mut queue, &mut pred);
                }
            }
        }
        let Some(mut state) = reached else { break };
        cut += 1;
        if cut >= limit {
            return None;
        }
        // Augment along the predecessors.
        loop {
            let (prev, how) = pred[state as usize];
            if prev == NONE {
                break;
            }
            let v = (state / 2) as usize;
            if how == INTERNAL {
                through[v] = true;
            } else if how == INTERNAL_BACK {
                through[v] = false;
            } else if how & BACK != 0 {
                flow[(how & !BACK) as usize] -= 1;
            } else {
                flow[how as usize] += 1;
            }
            state = prev;
        }
    }
    // The states reached by the last search: v_out reached → A; only v_in → separator.
    let mut side = vec![SIDE_B; n];
    for v in 0..n {
        let reached_in = pred[2 * v].1 != NONE;
        let reached_out = pred[2 * v + 1].1 != NONE;
        if reached_out {
            side[v] = SIDE_A;
        } else if reached_in {
            side[v] = SEPARATOR;
        }
    }
    Some(side)
}

/// Marks an arc taken backwards in a predecessor (arc indices stay below 2^31).
const BACK: u32 = 1 << 31;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::from_arcs;

    #[test]
    fn stored_orders_round_trip_and_reject_other_graphs() {
        let digest = [7u8; 32];
        let bytes = encode(&[2, 0, 1], &digest);
        assert_eq!(decode(&bytes, &digest, 3), Some(vec![2, 0, 1]));
        assert_eq!(decode(&bytes, &[8u8; 32], 3), None, "another graph");
        assert_eq!(decode(&bytes, &digest, 4), None, "another size");
        assert_eq!(decode(&bytes[..bytes.len() - 1], &digest, 3), None, "truncated");
        assert_eq!(
            decode(&encode(&[0, 0, 1], &digest), &digest, 3),
            None,
            "not a permutation"
        );
        assert_eq!(decode(&encode(&[0, 5, 1], &digest), &digest, 3), None, "out of range");
    }

    #[test]
    fn the_order_is_a_permutation_and_separates_a_grid() {
        // A 20 × 20 grid, both directions.
        let side = 20u32;
        let mut arcs = Vec::new();
        for y in 0..side {
            for x in 0..side {
                let v = y * side + x;
                if x + 1 < side {
                    arcs.push((v, v + 1, 1));
                    arcs.push((v + 1, v, 1));
                }
                if y + 1 < side {
                    arcs.push((v, v + side, 1));
                    arcs.push((v + side, v, 1));
                }
            }
        }
        let mut g = from_arcs((side * side) as usize, &arcs);
        for v in 0..side * side {
            g.lat[v as usize] = (v / side) as i32 * 1000;
            g.lon[v as usize] = (v % side) as i32 * 1000;
        }
        let order = nested_dissection(&g);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..side * side).collect::<Vec<_>>());
        // The top separator is small and splits the grid into balanced parts.
        let cch = crate::cch::Cch::with_order(&g, order.clone());
        let height = cch.tree_height();
        assert!(height < 120, "elimination tree height {height} on a 400-node grid");
        let separator: std::collections::BTreeSet<u32> = order[order.len() - 21..].iter().copied().collect();
        let mut seen = vec![false; (side * side) as usize];
        let mut sizes = Vec::new();
        for start in 0..side * side {
            if seen[start as usize] || separator.contains(&start) {
                continue;
            }
            let mut stack = vec![start];
            seen[start as usize] = true;
            let mut size = 0;
            while let Some(v) = stack.pop() {
                size += 1;
                for e in g.edges(v) {
                    let w = g.head[e];
                    if !seen[w as usize] && !separator.contains(&w) {
                        seen[w as usize] = true;
                        stack.push(w);
                    }
                }
            }
            sizes.push(size);
        }
        assert!(sizes.len() >= 2, "the last 21 ranks separate the grid: {sizes:?}");
        assert!(sizes.iter().all(|&s| s <= 300), "balanced: {sizes:?}");
    }
}
