//! Customizable contraction hierarchies (Dibbelt, Strasser, Wagner): the accelerated exact
//! shortest-path query.
//!
//! Three phases:
//! 1. **Preparation** ([`Cch::new`], once per map, weight-independent): a nested dissection
//!    order ([`crate::order`]) and the chordal supergraph it induces — every node linked to
//!    its higher-ranked neighbours, closed under elimination — stored upward in rank space
//!    with its elimination tree.
//! 2. **Customization** ([`Metric::customize`], per weight set): each arc gets its shortest
//!    up/down weight by walking lower triangles bottom-up. [`Metric::update`] redoes only the
//!    arcs that depend on changed edges (a zone added, a route penalised), which takes
//!    milliseconds.
//! 3. **Query** ([`CchQuery`]): an elimination-tree search — from each end, relax the upward
//!    arcs of every ancestor; the best meeting node gives the exact optimum under the
//!    customized weights. Shortcuts are unpacked through the middle node recorded at
//!    customization into original graph edges.

use crate::dijkstra::Path;
use crate::graph::{Arcs, Graph, NodeId};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const NONE: u32 = u32::MAX;
/// An unreachable weight.
pub const INF: u64 = u64::MAX;

/// The weight-independent part: order, upward arcs, elimination tree.
#[derive(Debug, Clone)]
pub struct Cch {
    /// `rank[node]`.
    rank: Vec<u32>,
    /// `order[rank]` = node.
    order: Vec<NodeId>,
    /// Upward arcs of rank `r` are `first_up[r]..first_up[r + 1]`, sorted by head rank.
    first_up: Vec<u32>,
    /// Head rank of each arc.
    up_head: Vec<u32>,
    /// Tail rank of each arc.
    arc_tail: Vec<u32>,
    /// Elimination tree parent of each rank (its lowest upward neighbour), or `NONE`.
    parent: Vec<u32>,
    /// Arcs entering rank `r` from below: `first_down[r]..first_down[r + 1]` into
    /// `down_arc`, sorted by tail rank.
    first_down: Vec<u32>,
    down_arc: Vec<u32>,
    /// Graph edges of each arc: `first_edge[a]..first_edge[a + 1]` into `arc_edges`.
    first_edge: Vec<u32>,
    arc_edges: Vec<u32>,
    /// The arc of each graph edge (`NONE` for loops).
    edge_arc: Vec<u32>,
    /// Whether the edge runs upward (tail ranked below head).
    edge_up: Vec<bool>,
}

impl Cch {
    /// Prepares `g` with a nested dissection order.
    pub fn new(g: &Graph) -> Self {
        Self::with_order(g, crate::order::nested_dissection(g))
    }

    /// Prepares `g` (the segment graph or the turn graph) with a given order (`order[rank]`
    /// = node, a permutation).
    pub fn with_order(g: &impl Arcs, order: Vec<NodeId>) -> Self {
        let n = g.node_count();
        let mut rank = vec![0u32; n];
        for (r, &v) in order.iter().enumerate() {
            rank[v as usize] = r as u32;
        }
        let mut up: Vec<Vec<u32>> = vec![Vec::new(); n];
        for v in 0..n as NodeId {
            for e in g.arcs(v) {
                let w = g.arc_head(e);
                if w != v {
                    let (a, b) = (rank[v as usize], rank[w as usize]);
                    up[a.min(b) as usize].push(a.max(b));
                }
            }
        }
        // Elimination: each node's higher neighbours become neighbours of the lowest of them.
        let mut parent = vec![NONE; n];
        for r in 0..n {
            let mut list = std::mem::take(&mut up[r]);
            list.sort_unstable();
            list.dedup();
            if let Some((&p, rest)) = list.split_first() {
                parent[r] = p;
                up[p as usize].extend_from_slice(rest);
            }
            up[r] = list;
        }
        let mut first_up = Vec::with_capacity(n + 1);
        first_up.push(0u32);
        let mut up_head = Vec::new();
        let mut arc_tail = Vec::new();
        for (r, list) in up.iter().enumerate() {
            up_head.extend_from_slice(list);
            arc_tail.extend(std::iter::repeat_n(r as u32, list.len()));
            first_up.push(up_head.len() as u32);
        }
        drop(up);
        let m = up_head.len();
        let mut first_down = vec![0u32; n + 1];
        for &h in &up_head {
            first_down[h as usize + 1] += 1;
        }
        for i in 0..n {
            first_down[i + 1] += first_down[i];
        }
        let mut fill = first_down.clone();
        let mut down_arc = vec![0u32; m];
        // Arcs in index order are sorted by tail rank, so each down list comes out sorted.
        for (a, &h) in up_head.iter().enumerate() {
            down_arc[fill[h as usize] as usize] = a as u32;
            fill[h as usize] += 1;
        }
        let mut cch = Self {
            rank,
            order,
            first_up,
            up_head,
            arc_tail,
            parent,
            first_down,
            down_arc,
            first_edge: Vec::new(),
            arc_edges: Vec::new(),
            edge_arc: vec![NONE; g.arc_count()],
            edge_up: vec![false; g.arc_count()],
        };
        let mut per_arc: Vec<(u32, u32)> = Vec::with_capacity(g.arc_count());
        for v in 0..n as NodeId {
            for e in g.arcs(v) {
                let w = g.arc_head(e);
                if w == v {
                    continue;
                }
                let (a, b) = (cch.rank[v as usize], cch.rank[w as usize]);
                if let Some(arc) = cch.arc(a.min(b), a.max(b)) {
                    cch.edge_arc[e] = arc as u32;
                    cch.edge_up[e] = a < b;
                    per_arc.push((arc as u32, e as u32));
                }
            }
        }
        per_arc.sort_unstable();
        cch.first_edge = vec![0u32; m + 1];
        for &(a, _) in &per_arc {
            cch.first_edge[a as usize + 1] += 1;
        }
        for i in 0..m {
            cch.first_edge[i + 1] += cch.first_edge[i];
        }
        cch.arc_edges = per_arc.into_iter().map(|p| p.1).collect();
        cch
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.rank.len()
    }

    /// Number of arcs of the chordal supergraph (original edges merged, plus shortcuts).
    pub fn arc_count(&self) -> usize {
        self.up_head.len()
    }

    /// Height of the elimination tree (the longest chain a query walks).
    pub fn tree_height(&self) -> usize {
        let n = self.node_count();
        let mut depth = vec![0u32; n];
        let mut best = 0;
        for r in (0..n).rev() {
            let p = self.parent[r];
            if p != NONE {
                depth[r] = depth[p as usize] + 1;
            }
            best = best.max(depth[r] as usize + 1);
        }
        best
    }

    fn ups(&self, r: u32) -> std::ops::Range<usize> {
        self.first_up[r as usize] as usize..self.first_up[r as usize + 1] as usize
    }

    fn downs(&self, r: u32) -> &[u32] {
        &self.down_arc[self.first_down[r as usize] as usize..self.first_down[r as usize + 1] as usize]
    }

    /// The arc between ranks `lo < hi`, if any.
    fn arc(&self, lo: u32, hi: u32) -> Option<usize> {
        let range = self.ups(lo);
        let start = range.start;
        let list = &self.up_head[range];
        list.binary_search(&hi).ok().map(|i| start + i)
    }

    /// The order: `order()[rank]` is the node of that rank (store it to skip preparation).
    pub fn order(&self) -> &[NodeId] {
        &self.order
    }

    /// The rank of node `v`.
    pub fn rank(&self, v: NodeId) -> u32 {
        self.rank[v as usize]
    }
}

/// Arc weights of one customization, with how each was obtained (for unpacking).
#[derive(Debug, Clone)]
pub struct Metric {
    /// Upward weight (tail → head) of each arc.
    up: Vec<u64>,
    /// Downward weight (head → tail).
    down: Vec<u64>,
    /// How the upward/downward weight was obtained: [`VIA`] | the middle rank of a shortcut,
    /// or the original edge (graphs have fewer than 2^31 nodes and arcs), or `NONE`.
    up_src: Vec<u32>,
    down_src: Vec<u32>,
}

/// Marks a source that is a shortcut's middle rank rather than an original edge.
const VIA: u32 = 1 << 31;

impl Metric {
    /// Customizes `cch` for edge weights `weight(edge)`.
    pub fn customize(cch: &Cch, weight: impl Fn(usize) -> u64) -> Self {
        let m = cch.arc_count();
        let mut metric = Self {
            up: vec![INF; m],
            down: vec![INF; m],
            up_src: vec![NONE; m],
            down_src: vec![NONE; m],
        };
        for a in 0..m {
            metric.init_arc(cch, a, &weight);
        }
        for v in 0..cch.node_count() as u32 {
            let range = cch.ups(v);
            for i in range.clone() {
                let u = cch.up_head[i];
                let targets = cch.ups(u);
                let mut k = targets.start;
                for j in i + 1..range.end {
                    let w = cch.up_head[j];
                    // Chordality: w is an upward neighbour of u; scan forward to it.
                    while k < targets.end && cch.up_head[k] != w {
                        k += 1;
                    }
                    if k == targets.end {
                        break;
                    }
                    metric.relax_triangle(k, i, j, v);
                }
            }
        }
        metric
    }

    /// Becomes a copy of `other`, reusing this metric's arrays.
    pub fn copy_from(&mut self, other: &Metric) {
        self.up.clone_from(&other.up);
        self.down.clone_from(&other.down);
        self.up_src.clone_from(&other.up_src);
        self.down_src.clone_from(&other.down_src);
    }

    /// Arc `b` = (u, w) through its lower triangle with `v` (arcs `x` = (v, u), `y` = (v, w)).
    #[inline]
    fn relax_triangle(&mut self, b: usize, x: usize, y: usize, v: u32) {
        let up = self.down[x].saturating_add(self.up[y]);
        if up < self.up[b] {
            self.up[b] = up;
            self.up_src[b] = v | VIA;
        }
        let down = self.down[y].saturating_add(self.up[x]);
        if down < self.down[b] {
            self.down[b] = down;
            self.down_src[b] = v | VIA;
        }
    }

    /// Resets arc `a` to its best original edge in each direction.
    fn init_arc(&mut self, cch: &Cch, a: usize, weight: &impl Fn(usize) -> u64) {
        self.up[a] = INF;
        self.down[a] = INF;
        self.up_src[a] = NONE;
        self.down_src[a] = NONE;
        for &e in &cch.arc_edges[cch.first_edge[a] as usize..cch.first_edge[a + 1] as usize] {
            let w = weight(e as usize);
            if cch.edge_up[e as usize] {
                if w < self.up[a] {
                    self.up[a] = w;
                    self.up_src[a] = e;
                }
            } else if w < self.down[a] {
                self.down[a] = w;
                self.down_src[a] = e;
            }
        }
    }

    /// Re-customizes after the weights of `changed` edges changed (up or down): only the
    /// arcs that depend on them are recomputed, bottom-up. Returns how many arcs changed.
    pub fn update(&mut self, cch: &Cch, weight: impl Fn(usize) -> u64, changed: &[usize]) -> usize {
        let mut queued = vec![false; cch.arc_count()];
        let mut heap = BinaryHeap::new();
        for &e in changed {
            if let Some(&a) = cch.edge_arc.get(e)
                && a != NONE
                && !queued[a as usize]
            {
                queued[a as usize] = true;
                heap.push(Reverse(a));
            }
        }
        let mut updated = 0;
        // Arcs are numbered by tail rank, so popping in index order is bottom-up.
        while let Some(Reverse(a)) = heap.pop() {
            let a = a as usize;
            queued[a] = false;
            let before = (self.up[a], self.down[a]);
            self.init_arc(cch, a, &weight);
            let (u, w) = (cch.arc_tail[a], cch.up_head[a]);
            // Lower triangles: common lower neighbours of u and w.
            let (du, dw) = (cch.downs(u), cch.downs(w));
            let (mut i, mut j) = (0, 0);
            while i < du.len() && j < dw.len() {
                let (x, y) = (du[i] as usize, dw[j] as usize);
                let (vx, vy) = (cch.arc_tail[x], cch.arc_tail[y]);
                if vx < vy {
                    i += 1;
                } else if vy < vx {
                    j += 1;
                } else {
                    self.relax_triangle(a, x, y, vx);
                    i += 1;
                    j += 1;
                }
            }
            if (self.up[a], self.down[a]) == before {
                continue;
            }
            updated += 1;
            // Arcs with a lower triangle through `a`: (w, x) for every other upper neighbour x of u.
            for k in cch.ups(u) {
                let x = cch.up_head[k];
                if x == w {
                    continue;
                }
                if let Some(b) = cch.arc(x.min(w), x.max(w))
                    && !queued[b]
                {
                    queued[b] = true;
                    heap.push(Reverse(b as u32));
                }
            }
        }
        updated
    }

    /// Appends the original edges of arc `a` traversed upward (`up`) or downward.
    fn unpack(&self, cch: &Cch, a: usize, up: bool, out: &mut Vec<usize>) {
        let mut stack = vec![(a, up)];
        while let Some((a, up)) = stack.pop() {
            let src = if up { self.up_src[a] } else { self.down_src[a] };
            if src == NONE {
                continue;
            }
            if src & VIA == 0 {
                out.push(src as usize);
                continue;
            }
            let via = src & !VIA;
            let (u, w) = (cch.arc_tail[a], cch.up_head[a]);
            let (Some(x), Some(y)) = (cch.arc(via, u), cch.arc(via, w)) else {
                continue;
            };
            if up {
                // u → v (x downward), then v → w (y upward).
                stack.push((y, true));
                stack.push((x, false));
            } else {
                // w → v (y downward), then v → u (x upward).
                stack.push((x, true));
                stack.push((y, false));
            }
        }
    }
}

/// The customizations of the last few weight sets: a request whose weights match one is
/// served at once; otherwise the closest one is copied and updated partially on the edges
/// that differ (zones added or removed, another profile), which takes milliseconds.
#[derive(Debug, Default)]
pub struct MetricCache {
    slots: std::sync::Mutex<Vec<CacheSlot>>,
    /// The arrays of the last evicted customization, reused for the next copy (a fresh copy
    /// of a city's metric spends most of its time faulting in new pages).
    spare: std::sync::Mutex<Option<Metric>>,
}

/// Weights and their customization.
type CacheSlot = (std::sync::Arc<Vec<u64>>, std::sync::Arc<Metric>);

/// Customizations kept.
const CACHE_SLOTS: usize = 6;

impl MetricCache {
    /// The customization for `weights` (indexed by edge).
    pub fn get(&self, cch: &Cch, weights: Vec<u64>) -> std::sync::Arc<Metric> {
        use std::sync::Arc;
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = slots.iter().position(|(w, _)| **w == weights) {
            let slot = slots.remove(i);
            let metric = slot.1.clone();
            slots.push(slot);
            return metric;
        }
        let closest = slots
            .iter()
            .map(|(w, m)| {
                let changed: Vec<usize> = (0..weights.len()).filter(|&e| w.get(e) != weights.get(e)).collect();
                (changed, m)
            })
            .min_by_key(|(changed, _)| changed.len());
        let metric = match closest {
            // A partial update touches a few arcs per changed edge; past a tenth of the
            // edges a full customization is as fast.
            Some((changed, m)) if changed.len() < weights.len() / 10 => {
                let spare = self
                    .spare
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let mut metric = match spare {
                    Some(mut spare) => {
                        spare.copy_from(m);
                        spare
                    }
                    None => Metric::clone(m),
                };
                metric.update(cch, |e| weights.get(e).copied().unwrap_or(INF), &changed);
                metric
            }
            _ => Metric::customize(cch, |e| weights.get(e).copied().unwrap_or(INF)),
        };
        let metric = Arc::new(metric);
        if slots.len() == CACHE_SLOTS {
            let (_, evicted) = slots.remove(0);
            // Kept for reuse when no request holds it any more.
            if let Ok(evicted) = Arc::try_unwrap(evicted) {
                *self.spare.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(evicted);
            }
        }
        slots.push((Arc::new(weights), metric.clone()));
        metric
    }
}

/// Reusable state of elimination-tree queries.
#[derive(Debug, Clone, Default)]
pub struct CchQuery {
    forward: Vec<u64>,
    backward: Vec<u64>,
    forward_arc: Vec<u32>,
    backward_arc: Vec<u32>,
    /// Bit 1: on the forward side's ancestor list; bit 2: on the backward side's.
    mark: Vec<u8>,
    /// Ranks touched, to reset.
    touched: Vec<u32>,
    /// Ancestors of the sources and of the targets, ascending.
    up_forward: Vec<u32>,
    up_backward: Vec<u32>,
    /// Meeting candidates of the last query: (cost through the node, rank).
    meetings: Vec<(u64, u32)>,
}

impl CchQuery {
    /// State for `cch`.
    pub fn new(cch: &Cch) -> Self {
        let n = cch.node_count();
        Self {
            forward: vec![INF; n],
            backward: vec![INF; n],
            forward_arc: vec![NONE; n],
            backward_arc: vec![NONE; n],
            mark: vec![0; n],
            touched: Vec::new(),
            up_forward: Vec::new(),
            up_backward: Vec::new(),
            meetings: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for &r in &self.touched {
            self.forward[r as usize] = INF;
            self.backward[r as usize] = INF;
            self.forward_arc[r as usize] = NONE;
            self.backward_arc[r as usize] = NONE;
            self.mark[r as usize] = 0;
        }
        self.touched.clear();
        self.meetings.clear();
        self.up_forward.clear();
        self.up_backward.clear();
    }

    /// Marks the ancestors of `ends` with `bit`, sets their initial costs, and lists them in
    /// ascending rank.
    fn climb(&mut self, cch: &Cch, ends: &[(NodeId, u64)], forward: bool) {
        let bit = if forward { 1 } else { 2 };
        let mut list = std::mem::take(if forward {
            &mut self.up_forward
        } else {
            &mut self.up_backward
        });
        for &(v, cost) in ends {
            let Some(&r) = cch.rank.get(v as usize) else { continue };
            let dist = if forward { &mut self.forward } else { &mut self.backward };
            if cost < dist[r as usize] {
                dist[r as usize] = cost;
            }
            let mut x = r;
            while x != NONE && self.mark[x as usize] & bit == 0 {
                if self.mark[x as usize] == 0 {
                    self.touched.push(x);
                }
                self.mark[x as usize] |= bit;
                list.push(x);
                x = cch.parent[x as usize];
            }
        }
        list.sort_unstable();
        if forward {
            self.up_forward = list;
        } else {
            self.up_backward = list;
        }
    }

    /// Searches from the sources and the targets up the elimination tree; fills `meetings`
    /// with every common ancestor reached from both sides (pruned when `prune`) and returns
    /// the best cost.
    fn search(
        &mut self,
        cch: &Cch,
        metric: &Metric,
        sources: &[(NodeId, u64)],
        targets: &[(NodeId, u64)],
        prune: bool,
    ) -> u64 {
        if self.forward.len() != cch.node_count() {
            *self = Self::new(cch);
        }
        self.reset();
        self.climb(cch, sources, true);
        self.climb(cch, targets, false);
        let up_forward = std::mem::take(&mut self.up_forward);
        let up_backward = std::mem::take(&mut self.up_backward);
        let mut best = INF;
        let (mut i, mut j) = (0, 0);
        while i < up_forward.len() || j < up_backward.len() {
            let x = up_forward.get(i).copied().unwrap_or(NONE);
            let y = up_backward.get(j).copied().unwrap_or(NONE);
            let node = x.min(y);
            let (fx, fy) = (x == node, y == node);
            if fx && fy {
                let through = self.forward[node as usize].saturating_add(self.backward[node as usize]);
                if through < INF {
                    self.meetings.push((through, node));
                }
                best = best.min(through);
            }
            if fx {
                let d = self.forward[node as usize];
                if d < INF && (!prune || d < best) {
                    for a in cch.ups(node) {
                        let h = cch.up_head[a] as usize;
                        let nd = d.saturating_add(metric.up[a]);
                        if nd < self.forward[h] {
                            self.forward[h] = nd;
                            self.forward_arc[h] = a as u32;
                        }
                    }
                }
                i += 1;
            }
            if fy {
                let d = self.backward[node as usize];
                if d < INF && (!prune || d < best) {
                    for a in cch.ups(node) {
                        let h = cch.up_head[a] as usize;
                        let nd = d.saturating_add(metric.down[a]);
                        if nd < self.backward[h] {
                            self.backward[h] = nd;
                            self.backward_arc[h] = a as u32;
                        }
                    }
                }
                j += 1;
            }
        }
        self.up_forward = up_forward;
        self.up_backward = up_backward;
        best
    }

    /// The path through meeting rank `m` as arcs of the prepared graph `g`.
    fn path_through(&self, cch: &Cch, metric: &Metric, g: &impl Arcs, m: u32) -> Path {
        let mut up_arcs = Vec::new();
        let mut r = m;
        while self.forward_arc[r as usize] != NONE {
            let a = self.forward_arc[r as usize] as usize;
            up_arcs.push(a);
            r = cch.arc_tail[a];
        }
        let start = cch.order.get(r as usize).copied().unwrap_or(0);
        let mut edges = Vec::new();
        for &a in up_arcs.iter().rev() {
            metric.unpack(cch, a, true, &mut edges);
        }
        let mut r = m;
        while self.backward_arc[r as usize] != NONE {
            let a = self.backward_arc[r as usize] as usize;
            metric.unpack(cch, a, false, &mut edges);
            r = cch.arc_tail[a];
        }
        let mut nodes = Vec::with_capacity(edges.len() + 1);
        nodes.push(start);
        nodes.extend(edges.iter().map(|&e| g.arc_head(e)));
        Path {
            cost: self.forward[m as usize].saturating_add(self.backward[m as usize]),
            nodes,
            edges,
        }
    }

    /// The exact shortest path from `s` to `t` under `metric`; `None` if unreachable.
    pub fn run(&mut self, cch: &Cch, metric: &Metric, g: &impl Arcs, s: NodeId, t: NodeId) -> Option<Path> {
        self.run_multi(cch, metric, g, &[(s, 0)], &[(t, 0)])
    }

    /// The exact cheapest path from any source `(node, initial cost)` to any target `(node,
    /// cost added on arrival)`; `None` if none is reachable. The cost includes both.
    pub fn run_multi(
        &mut self,
        cch: &Cch,
        metric: &Metric,
        g: &impl Arcs,
        sources: &[(NodeId, u64)],
        targets: &[(NodeId, u64)],
    ) -> Option<Path> {
        let best = self.search(cch, metric, sources, targets, true);
        if best == INF {
            return None;
        }
        let &(_, m) = self.meetings.iter().min()?;
        Some(self.path_through(cch, metric, g, m))
    }

    /// The shortest distance only.
    pub fn distance(&mut self, cch: &Cch, metric: &Metric, s: NodeId, t: NodeId) -> Option<u64> {
        let best = self.search(cch, metric, &[(s, 0)], &[(t, 0)], true);
        (best < INF).then_some(best)
    }

    /// Candidate paths from `s` to `t` through each common ancestor of the two ends
    /// (via-node alternatives), cheapest first, each costing at most `max_stretch` times the
    /// optimum. The first is the shortest path.
    pub fn via_paths(
        &mut self,
        cch: &Cch,
        metric: &Metric,
        g: &impl Arcs,
        s: NodeId,
        t: NodeId,
        max_stretch: f64,
    ) -> Vec<Path> {
        self.via_paths_multi(cch, metric, g, &[(s, 0)], &[(t, 0)], &|best| {
            (best as f64 * max_stretch).min(INF as f64) as u64
        })
    }

    /// Candidate paths between the sources and targets through each common ancestor,
    /// cheapest first, each costing at most `bound(optimum)`.
    pub fn via_paths_multi(
        &mut self,
        cch: &Cch,
        metric: &Metric,
        g: &impl Arcs,
        sources: &[(NodeId, u64)],
        targets: &[(NodeId, u64)],
        bound: &dyn Fn(u64) -> u64,
    ) -> Vec<Path> {
        let best = self.search(cch, metric, sources, targets, false);
        if best == INF {
            return Vec::new();
        }
        let bound = bound(best);
        let mut meetings: Vec<(u64, u32)> = self.meetings.iter().copied().filter(|m| m.0 <= bound).collect();
        meetings.sort_unstable();
        meetings
            .into_iter()
            .map(|(_, m)| self.path_through(cch, metric, g, m))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dijkstra::Dijkstra;
    use crate::graph::from_arcs;
    use proptest::prelude::*;

    fn arcs_strategy() -> impl Strategy<Value = (usize, Vec<(u32, u32, u32)>)> {
        (2usize..60).prop_flat_map(|n| {
            (
                Just(n),
                proptest::collection::vec((0..n as u32, 0..n as u32, 1u32..1000), 0..240),
            )
        })
    }

    fn check_path(g: &Graph, p: &Path, s: u32, t: u32, weight: &dyn Fn(usize) -> u64) {
        assert_eq!(p.nodes.first(), Some(&s));
        assert_eq!(p.nodes.last(), Some(&t));
        let mut at = s;
        for &e in &p.edges {
            assert!(g.edges(at).contains(&e), "edge {e} leaves {at}");
            at = g.head[e];
        }
        assert_eq!(p.edges.iter().map(|&e| weight(e)).sum::<u64>(), p.cost);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn equals_dijkstra_on_random_graphs((n, arcs) in arcs_strategy(), pairs in proptest::collection::vec((0u32..60, 0u32..60), 1..10), coords in proptest::collection::vec((0i32..1000, 0i32..1000), 60)) {
            let mut g = from_arcs(n, &arcs);
            for (v, &(lat, lon)) in coords.iter().enumerate().take(n) {
                g.lat[v] = lat;
                g.lon[v] = lon;
            }
            let cch = Cch::new(&g);
            let weight = |e: usize| u64::from(g.time_ms[e]);
            let metric = Metric::customize(&cch, weight);
            let mut q = CchQuery::new(&cch);
            let mut d = Dijkstra::new(n);
            for (s, t) in pairs {
                let (s, t) = (s % n as u32, t % n as u32);
                let expected = d.run(&g, s, t, weight).map(|p| p.cost);
                let got = q.run(&cch, &metric, &g, s, t);
                prop_assert_eq!(got.as_ref().map(|p| p.cost), expected);
                if let Some(p) = got {
                    check_path(&g, &p, s, t, &weight);
                }
                prop_assert_eq!(q.distance(&cch, &metric, s, t), expected);
            }
        }

        #[test]
        fn partial_update_equals_full_customization((n, arcs) in arcs_strategy(), raised in proptest::collection::vec((0usize..240, 0u64..5000), 1..20), pairs in proptest::collection::vec((0u32..60, 0u32..60), 1..10)) {
            let g = from_arcs(n, &arcs);
            let cch = Cch::new(&g);
            let mut weights: Vec<u64> = g.time_ms.iter().map(|&t| u64::from(t)).collect();
            let mut metric = Metric::customize(&cch, |e| weights[e]);
            let mut changed = Vec::new();
            for (e, w) in raised {
                if e < weights.len() {
                    // Raise or lower: both directions must be handled.
                    weights[e] = w;
                    changed.push(e);
                }
            }
            metric.update(&cch, |e| weights[e], &changed);
            let fresh = Metric::customize(&cch, |e| weights[e]);
            prop_assert_eq!(&metric.up, &fresh.up);
            prop_assert_eq!(&metric.down, &fresh.down);
            let mut q = CchQuery::new(&cch);
            let mut d = Dijkstra::new(n);
            for (s, t) in pairs {
                let (s, t) = (s % n as u32, t % n as u32);
                let expected = d.run(&g, s, t, |e| weights[e]).map(|p| p.cost);
                let got = q.run(&cch, &metric, &g, s, t);
                prop_assert_eq!(got.as_ref().map(|p| p.cost), expected);
                if let Some(p) = got {
                    check_path(&g, &p, s, t, &|e| weights[e]);
                }
            }
        }
    }

    #[test]
    fn the_metric_cache_serves_changed_weights_exactly() {
        let arcs: Vec<(u32, u32, u32)> = (0..30u32)
            .flat_map(|i| [(i, (i + 1) % 30, 10 + i), ((i + 1) % 30, i, 7), (i, (i * 7) % 30, 50)])
            .collect();
        let g = from_arcs(30, &arcs);
        let cch = Cch::new(&g);
        let cache = MetricCache::default();
        let base: Vec<u64> = g.time_ms.iter().map(|&t| u64::from(t)).collect();
        let mut raised = base.clone();
        raised[3] += 1000;
        raised[40] += 500;
        let mut q = CchQuery::new(&cch);
        let mut d = Dijkstra::new(30);
        for weights in [&base, &raised, &base, &raised] {
            let metric = cache.get(&cch, weights.clone());
            for s in 0..30 {
                let t = (s * 11 + 5) % 30;
                assert_eq!(
                    q.distance(&cch, &metric, s, t),
                    d.run(&g, s, t, |e| weights[e]).map(|p| p.cost)
                );
            }
        }
    }

    #[test]
    fn the_metric_cache_stays_exact_when_it_evicts_and_reuses_arrays() {
        let arcs: Vec<(u32, u32, u32)> = (0..40u32)
            .flat_map(|i| [(i, (i + 1) % 40, 10 + i), ((i + 1) % 40, i, 7), (i, (i * 7) % 40, 50)])
            .collect();
        let g = from_arcs(40, &arcs);
        let cch = Cch::new(&g);
        let cache = MetricCache::default();
        let mut q = CchQuery::new(&cch);
        let mut d = Dijkstra::new(40);
        // Twice as many weight sets as slots, each a few edges off the base, in turn.
        for round in 0..(2 * CACHE_SLOTS as u64 + 3) {
            let mut weights: Vec<u64> = g.time_ms.iter().map(|&t| u64::from(t)).collect();
            for k in 0..3 {
                let e = ((round * 7 + k * 13) % weights.len() as u64) as usize;
                weights[e] += 100 * (round + 1);
            }
            let metric = cache.get(&cch, weights.clone());
            for s in 0..40 {
                let t = (s * 17 + round as u32) % 40;
                assert_eq!(
                    q.distance(&cch, &metric, s, t),
                    d.run(&g, s, t, |e| weights[e]).map(|p| p.cost),
                    "round {round}: {s} -> {t}"
                );
            }
        }
        assert!(
            cache.spare.lock().unwrap().is_some(),
            "an evicted customization is kept for reuse"
        );
    }

    #[test]
    fn via_paths_start_with_the_shortest_and_are_real_paths() {
        // Two parallel roads between 0 and 3: 0-1-3 (cost 2) and 0-2-3 (cost 3).
        let arcs = [
            (0, 1, 1),
            (1, 3, 1),
            (0, 2, 1),
            (2, 3, 2),
            (1, 0, 1),
            (3, 1, 1),
            (2, 0, 1),
            (3, 2, 2),
        ];
        let g = from_arcs(4, &arcs);
        // Node 2 ranked on top, so it is a common ancestor of both ends.
        let cch = Cch::with_order(&g, vec![1, 0, 3, 2]);
        let metric = Metric::customize(&cch, |e| u64::from(g.time_ms[e]));
        let mut q = CchQuery::new(&cch);
        let paths = q.via_paths(&cch, &metric, &g, 0, 3, 2.0);
        assert_eq!(paths.first().map(|p| p.cost), Some(2));
        assert!(paths.iter().any(|p| p.nodes == vec![0, 2, 3]), "{paths:?}");
        for p in &paths {
            check_path(&g, p, 0, 3, &|e| u64::from(g.time_ms[e]));
        }
    }
}
