//! The turn graph: the road as a driver meets it. Its nodes are **chains** — maximal runs of
//! directed road segments between intersections (a node where roads meet, a barrier, a
//! change of one-way or access, the via node of a turn restriction) — and its arcs are the
//! **turns** allowed from the end of one chain onto the start of the next, each with its
//! cost (turn angle, U-turn, traffic signals, stop signs, gates) and flags.
//!
//! What it encodes:
//! - **Turn restrictions**: `no_*` removes the turn, `only_*` removes every other turn from
//!   the same arrival; via-node restrictions directly, via-way restrictions by copying the
//!   chains of the via way: the copy is entered only from the `from` chain and lacks the
//!   forbidden exit (or keeps only the mandatory one), so the restriction holds for exactly
//!   the paths it names and the graph stays a plain graph (Dijkstra and the customizable
//!   hierarchy need nothing special).
//! - **Barriers**: at a blocking barrier nothing passes; a car may only turn back (the
//!   barrier makes a dead end on each side). A restricted barrier (a private gate) is
//!   passable at the restricted-entry cost.
//! - **U-turns** only where there is no other way on (dead ends, barriers), at OSRM's cost.
//! - **Restricted entries**: a turn from an open road onto a restricted one (private,
//!   destination…) or through a private gate is flagged; the router makes it cost more than
//!   any real route, so such roads are used only where a trip starts or ends behind them.
//!
//! A chain's weight is the sum of its segments' weights plus the delays of the nodes inside
//! it (signals on a plain stretch of road); a turn's weight is the weight of the chain it
//! leaves plus the turn's own cost, so path costs in the turn graph are exact driving costs.

use crate::graph::{Arcs, Graph, GraphError, NodeId, Reader, flags, node_flags, put_u32s};
use crate::osm::{RestrictionKind, turn_penalty_ms};
use std::collections::HashMap;

const NONE: u32 = u32::MAX;

/// Turn flags.
pub mod turn_flags {
    /// From an open road onto a restricted one, or through a private gate.
    pub const RESTRICTED_ENTRY: u8 = 1;
    /// Turning back the way one came.
    pub const U_TURN: u8 = 2;
}

/// Chains and the turns between them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TurnGraph {
    /// The segments of chain `c` are `chain_edges[chain_first[c]..chain_first[c + 1]]`, in
    /// driving order.
    pub chain_first: Vec<u32>,
    /// Segment (graph edge) ids of the chains.
    pub chain_edges: Vec<u32>,
    /// The chain a chain was copied from for a via-way restriction (itself otherwise).
    pub origin: Vec<u32>,
    /// The turns out of chain `c` are `turn_first[c]..turn_first[c + 1]`.
    pub turn_first: Vec<u32>,
    /// The chain each turn leads onto.
    pub turn_head: Vec<u32>,
    /// Cost of each turn itself (angle, U-turn, node delays), milliseconds.
    pub turn_ms: Vec<u32>,
    /// Flags of each turn ([`turn_flags`]).
    pub turn_flags: Vec<u8>,
    /// The (original) chain of each segment.
    pub edge_chain: Vec<u32>,
    /// The position of each segment in its chain.
    pub edge_pos: Vec<u32>,
}

impl Arcs for TurnGraph {
    fn node_count(&self) -> usize {
        self.origin.len()
    }
    fn arc_count(&self) -> usize {
        self.turn_head.len()
    }
    fn arcs(&self, v: NodeId) -> std::ops::Range<usize> {
        let i = v as usize;
        let start = self.turn_first.get(i).copied().unwrap_or(0) as usize;
        let end = self.turn_first.get(i + 1).copied().unwrap_or(0) as usize;
        start..end.max(start)
    }
    fn arc_head(&self, a: usize) -> NodeId {
        self.turn_head.get(a).copied().unwrap_or(0)
    }
}

/// A turn restriction resolved to graph nodes and way indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// `no_*` or `only_*`.
    pub kind: RestrictionKind,
    /// The way arrived on (index into the way list the edges' way indices refer to).
    pub from_way: u32,
    /// The via node, or the node path along the via way(s) (first node shared with the
    /// `from` way, last with the `to` way).
    pub via: Via,
    /// The way left on.
    pub to_way: u32,
    /// The relation it comes from (a relation with several `from` or `to` ways gives several
    /// restrictions), for the report.
    pub relation: u32,
}

/// A restriction's via.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// One node.
    Node(NodeId),
    /// A path of nodes along the via way(s).
    Path(Vec<NodeId>),
}

/// What building the turn graph did with the restrictions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TurnReport {
    /// Restriction relations that changed the allowed turns.
    pub applied: u64,
    /// Restriction relations whose ways meet as described but forbid nothing that was
    /// allowed (a U-turn ban where U-turns are not allowed anyway, …).
    pub moot: u64,
    /// Restriction relations whose ways do not meet as described (or are not drivable).
    pub unresolved: u64,
    /// Chains copied for via-way restrictions.
    pub copies: u64,
}

impl TurnGraph {
    /// Number of chains.
    pub fn chain_count(&self) -> usize {
        self.origin.len()
    }

    /// Number of turns.
    pub fn turn_count(&self) -> usize {
        self.turn_head.len()
    }

    /// The segments of chain `c`.
    pub fn chain(&self, c: u32) -> &[u32] {
        let i = c as usize;
        let start = self.chain_first.get(i).copied().unwrap_or(0) as usize;
        let end = self.chain_first.get(i + 1).copied().unwrap_or(0) as usize;
        self.chain_edges.get(start..end).unwrap_or(&[])
    }

    /// The turns out of chain `c`.
    pub fn turns(&self, c: u32) -> std::ops::Range<usize> {
        self.arcs(c)
    }

    /// The original chain of `c`.
    pub fn origin_of(&self, c: u32) -> u32 {
        self.origin.get(c as usize).copied().unwrap_or(c)
    }

    /// Builds the turn graph of `g`: `edge_way[e]` identifies the OSM way of each segment
    /// (for restrictions), `left_hand` biases turn costs for left-hand traffic.
    pub fn build(g: &Graph, edge_way: &[u32], restrictions: &[Restriction], left_hand: bool) -> (Self, TurnReport) {
        Builder::new(g, edge_way, restrictions).run(left_hand)
    }

    pub(crate) fn validate(&self, g: &Graph) -> Result<(), GraphError> {
        let c = self.origin.len();
        let m = g.edge_count();
        let bad = |what: &'static str| Err(GraphError::Inconsistent(what));
        if self.chain_first.len() != c + 1 || self.turn_first.len() != c + 1 {
            return bad("turn graph offsets differ in length");
        }
        if self.turn_ms.len() != self.turn_head.len() || self.turn_flags.len() != self.turn_head.len() {
            return bad("turn arrays differ in length");
        }
        if self.edge_chain.len() != m || self.edge_pos.len() != m {
            return bad("segment chain arrays differ in length");
        }
        for (offsets, len) in [
            (&self.chain_first, self.chain_edges.len()),
            (&self.turn_first, self.turn_head.len()),
        ] {
            if offsets.first() != Some(&0)
                || offsets.last().map(|&v| v as usize) != Some(len)
                || offsets.windows(2).any(|w| matches!(w, [a, b] if a > b))
            {
                return bad("turn graph offsets do not span their arrays");
            }
        }
        if self.chain_edges.iter().any(|&e| e as usize >= m)
            || self.turn_head.iter().any(|&h| h as usize >= c)
            || self.origin.iter().any(|&o| o as usize >= c)
            || self.edge_chain.iter().any(|&h| h as usize >= c)
        {
            return bad("a turn graph index is out of range");
        }
        for e in 0..m {
            let chain = self.chain(self.edge_chain[e]);
            if chain.get(self.edge_pos[e] as usize) != Some(&(e as u32)) {
                return bad("a segment is not where its chain says");
            }
        }
        for ch in 0..c as u32 {
            let edges = self.chain(ch);
            if edges.is_empty() {
                return bad("an empty chain");
            }
            if edges
                .windows(2)
                .any(|w| matches!(w, [a, b] if g.head[*a as usize] != g.tail(*b as usize)))
            {
                return bad("a chain is not a path");
            }
        }
        Ok(())
    }

    pub(crate) fn write(&self, body: &mut Vec<u8>) {
        put_u32s(body, &self.chain_first);
        put_u32s(body, &self.chain_edges);
        put_u32s(body, &self.origin);
        put_u32s(body, &self.turn_first);
        put_u32s(body, &self.turn_head);
        put_u32s(body, &self.turn_ms);
        body.extend_from_slice(&(self.turn_flags.len() as u64).to_le_bytes());
        body.extend_from_slice(&self.turn_flags);
        put_u32s(body, &self.edge_chain);
        put_u32s(body, &self.edge_pos);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, GraphError> {
        Ok(Self {
            chain_first: r.u32s()?,
            chain_edges: r.u32s()?,
            origin: r.u32s()?,
            turn_first: r.u32s()?,
            turn_head: r.u32s()?,
            turn_ms: r.u32s()?,
            turn_flags: r.bytes_vec()?,
            edge_chain: r.u32s()?,
            edge_pos: r.u32s()?,
        })
    }
}

/// A turn while building: onto chain `head`, cost, flags.
#[derive(Debug, Clone, Copy)]
struct Turn {
    head: u32,
    ms: u32,
    flags: u8,
}

/// A via-way restriction on one group of copied chains: kind, target chains, its index.
type ViaWayRule = (RestrictionKind, Vec<u32>, usize);

struct Builder<'a> {
    g: &'a Graph,
    edge_way: &'a [u32],
    restrictions: &'a [Restriction],
    tail: Vec<NodeId>,
    /// Edges entering each node: `in_edges[in_first[v]..in_first[v + 1]]`.
    in_first: Vec<u32>,
    in_edges: Vec<u32>,
    /// Distinct neighbours of each node (roads meeting there).
    roads: Vec<u32>,
}

impl<'a> Builder<'a> {
    fn new(g: &'a Graph, edge_way: &'a [u32], restrictions: &'a [Restriction]) -> Self {
        let n = g.node_count();
        let m = g.edge_count();
        let mut tail = vec![0u32; m];
        for v in 0..n as NodeId {
            for e in g.edges(v) {
                tail[e] = v;
            }
        }
        let mut in_first = vec![0u32; n + 1];
        for &h in &g.head {
            in_first[h as usize + 1] += 1;
        }
        for i in 0..n {
            in_first[i + 1] += in_first[i];
        }
        let mut fill = in_first.clone();
        let mut in_edges = vec![0u32; m];
        for (e, &h) in g.head.iter().enumerate() {
            in_edges[fill[h as usize] as usize] = e as u32;
            fill[h as usize] += 1;
        }
        let (first, _) = crate::order::undirected(g);
        let roads = first.windows(2).map(|w| w[1] - w[0]).collect();
        Self {
            g,
            edge_way,
            restrictions,
            tail,
            in_first,
            in_edges,
            roads,
        }
    }

    fn ins(&self, v: NodeId) -> &[u32] {
        &self.in_edges[self.in_first[v as usize] as usize..self.in_first[v as usize + 1] as usize]
    }

    fn way(&self, e: u32) -> u32 {
        self.edge_way.get(e as usize).copied().unwrap_or(NONE)
    }

    /// Whether `v` must end chains.
    fn is_junction(&self, v: NodeId) -> bool {
        let g = self.g;
        if self.roads[v as usize] != 2 || g.node_flag(v) & (node_flags::BLOCKED | node_flags::RESTRICTED) != 0 {
            return true;
        }
        let outs: Vec<usize> = g.edges(v).collect();
        let ins = self.ins(v);
        if outs.len() > 2 || ins.len() > 2 {
            return true;
        }
        // Each arrival must continue onto exactly one segment to the other neighbour, with
        // the same access and roundabout flags.
        let mask = flags::RESTRICTED | flags::ROUNDABOUT;
        let continues = |e_in: u32| {
            let from = self.tail[e_in as usize];
            let next: Vec<&usize> = outs.iter().filter(|&&o| g.head[o] != from).collect();
            matches!(next.as_slice(), [o] if g.edge_flag(**o) & mask == g.edge_flag(e_in as usize) & mask)
        };
        if !ins.iter().all(|&e| continues(e)) {
            return true;
        }
        // And each departure must be reached from the other neighbour.
        !outs
            .iter()
            .all(|&o| ins.iter().filter(|&&i| self.tail[i as usize] != g.head[o]).count() == 1)
    }

    fn run(self, left_hand: bool) -> (TurnGraph, TurnReport) {
        let g = self.g;
        let n = g.node_count();
        let m = g.edge_count();
        let mut report = TurnReport::default();
        let mut junction: Vec<bool> = (0..n as NodeId).map(|v| self.is_junction(v)).collect();
        for r in self.restrictions {
            match &r.via {
                Via::Node(v) => junction[*v as usize] = true,
                Via::Path(p) => {
                    for v in p.first().into_iter().chain(p.last()) {
                        junction[*v as usize] = true;
                    }
                }
            }
        }
        // Chains: walk from every junction; what is left are closed loops without one.
        let mut edge_chain = vec![NONE; m];
        let mut edge_pos = vec![0u32; m];
        let mut chains: Vec<Vec<u32>> = Vec::new();
        let walk = |start: usize,
                    junction: &[bool],
                    edge_chain: &mut Vec<u32>,
                    edge_pos: &mut Vec<u32>,
                    chains: &mut Vec<Vec<u32>>| {
            let id = chains.len() as u32;
            let mut chain = vec![start as u32];
            edge_chain[start] = id;
            edge_pos[start] = 0;
            let mut cur = start;
            while !junction[g.head[cur] as usize] {
                let v = g.head[cur];
                let back = self.tail[cur];
                let Some(next) = g.edges(v).find(|&o| g.head[o] != back) else {
                    break;
                };
                if edge_chain[next] != NONE {
                    break;
                }
                edge_chain[next] = id;
                edge_pos[next] = chain.len() as u32;
                chain.push(next as u32);
                cur = next;
            }
            chains.push(chain);
        };
        for v in 0..n as NodeId {
            if junction[v as usize] {
                for e in g.edges(v) {
                    walk(e, &junction, &mut edge_chain, &mut edge_pos, &mut chains);
                }
            }
        }
        for e in 0..m {
            if edge_chain[e] == NONE {
                let v = self.tail[e];
                junction[v as usize] = true;
                for o in g.edges(v) {
                    if edge_chain[o] == NONE {
                        walk(o, &junction, &mut edge_chain, &mut edge_pos, &mut chains);
                    }
                }
            }
        }
        let base = chains.len();
        // Chains by the node they end at and start from.
        let first_edge = |c: &Vec<u32>| c.first().copied().unwrap_or(0);
        let last_edge = |c: &Vec<u32>| c.last().copied().unwrap_or(0);
        let mut into: HashMap<NodeId, Vec<u32>> = HashMap::new();
        let mut out_of: HashMap<NodeId, Vec<u32>> = HashMap::new();
        for (c, chain) in chains.iter().enumerate() {
            into.entry(g.head[last_edge(chain) as usize])
                .or_default()
                .push(c as u32);
            out_of
                .entry(self.tail[first_edge(chain) as usize])
                .or_default()
                .push(c as u32);
        }
        let mut by_via: HashMap<NodeId, Vec<&Restriction>> = HashMap::new();
        for r in self.restrictions {
            if let Via::Node(v) = r.via {
                by_via.entry(v).or_default().push(r);
            }
        }
        let bearing = |a: NodeId, b: NodeId| {
            let (la, lo) = g.coordinate(a);
            let (lb, lob) = g.coordinate(b);
            let y = (lob - lo).to_radians().sin() * lb.to_radians().cos();
            let x = la.to_radians().cos() * lb.to_radians().sin()
                - la.to_radians().sin() * lb.to_radians().cos() * (lob - lo).to_radians().cos();
            y.atan2(x).to_degrees()
        };
        let mut turns: Vec<Vec<Turn>> = vec![Vec::new(); base];
        // Per restriction: 0 unresolved, 1 resolved but moot, 2 applied.
        let mut state = vec![0u8; self.restrictions.len()];
        let index_of = |r: &Restriction| {
            self.restrictions
                .iter()
                .position(|x| std::ptr::eq(x, r))
                .unwrap_or(usize::MAX)
        };
        for (v, arrivals) in &into {
            let v = *v;
            let departures = out_of.get(&v).map_or(&[][..], Vec::as_slice);
            let blocked = g.node_flag(v) & node_flags::BLOCKED != 0;
            let private_gate = g.node_flag(v) & node_flags::RESTRICTED != 0;
            let delay = node_flags::delay_ms(g.node_flag(v));
            let roads = self.roads[v as usize] as usize;
            for &c in arrivals {
                let e_in = last_edge(&chains[c as usize]);
                let p = self.tail[e_in as usize];
                let mut list: Vec<(Turn, u32)> = Vec::new();
                for &d in departures {
                    let e_out = first_edge(&chains[d as usize]);
                    let q = g.head[e_out as usize];
                    let u_turn = q == p;
                    let mut angle = bearing(v, q) - bearing(p, v);
                    while angle > 180.0 {
                        angle -= 360.0;
                    }
                    while angle <= -180.0 {
                        angle += 360.0;
                    }
                    let roundabout =
                        (g.edge_flag(e_in as usize) | g.edge_flag(e_out as usize)) & flags::ROUNDABOUT != 0;
                    let ms = turn_penalty_ms(if u_turn { 180.0 } else { angle }, roads, u_turn, left_hand, roundabout)
                        .saturating_add(if u_turn { 0 } else { delay });
                    let into_restricted = g.edge_flag(e_in as usize) & flags::RESTRICTED == 0
                        && g.edge_flag(e_out as usize) & flags::RESTRICTED != 0;
                    let mut f = 0;
                    if u_turn {
                        f |= turn_flags::U_TURN;
                    }
                    if into_restricted || (private_gate && !u_turn) {
                        f |= turn_flags::RESTRICTED_ENTRY;
                    }
                    list.push((Turn { head: d, ms, flags: f }, e_out));
                }
                // Through a blocking barrier nothing passes; U-turns only where nothing else does.
                if blocked {
                    list.retain(|(t, _)| t.flags & turn_flags::U_TURN != 0);
                }
                let other = list.iter().any(|(t, _)| t.flags & turn_flags::U_TURN == 0);
                if other {
                    list.retain(|(t, _)| t.flags & turn_flags::U_TURN == 0);
                }
                for r in by_via.get(&v).into_iter().flatten() {
                    if self.way(e_in) != r.from_way {
                        continue;
                    }
                    let i = index_of(r);
                    let meets = departures
                        .iter()
                        .any(|&d| self.way(first_edge(&chains[d as usize])) == r.to_way);
                    if meets && let Some(st) = state.get_mut(i) {
                        *st = (*st).max(1);
                    }
                    let before = list.len();
                    match r.kind {
                        RestrictionKind::No => list.retain(|(_, e_out)| self.way(*e_out) != r.to_way),
                        RestrictionKind::Only => list.retain(|(_, e_out)| self.way(*e_out) == r.to_way),
                    }
                    if list.len() != before
                        && let Some(st) = state.get_mut(i)
                    {
                        *st = 2;
                    }
                }
                turns[c as usize] = list.into_iter().map(|(t, _)| t).collect();
            }
        }
        let mut origin: Vec<u32> = (0..base as u32).collect();
        // Via-way restrictions: the via chains, grouped by (from chain, via chains).
        let mut groups: HashMap<(u32, Vec<u32>), Vec<ViaWayRule>> = HashMap::new();
        for (i, r) in self.restrictions.iter().enumerate() {
            let Via::Path(path) = &r.via else { continue };
            let Some(via) = self.path_chains(path, &edge_chain, &edge_pos, &chains) else {
                continue;
            };
            let (Some(&x), Some(&y)) = (path.first(), path.last()) else {
                continue;
            };
            let froms: Vec<u32> = into
                .get(&x)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&c| self.way(last_edge(&chains[c as usize])) == r.from_way)
                .collect();
            let tos: Vec<u32> = out_of
                .get(&y)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&c| self.way(first_edge(&chains[c as usize])) == r.to_way)
                .collect();
            if tos.is_empty() {
                continue;
            }
            for cf in froms {
                groups
                    .entry((cf, via.clone()))
                    .or_default()
                    .push((r.kind, tos.clone(), i));
            }
        }
        let mut keys: Vec<(u32, Vec<u32>)> = groups.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let Some(rules) = groups.get(&key) else { continue };
            let (cf, via) = key;
            let only = rules.iter().any(|r| r.0 == RestrictionKind::Only);
            let mut current = cf;
            let mut ok = true;
            for (i, &ci) in via.iter().enumerate() {
                let Some(slot) = turns[current as usize]
                    .iter()
                    .position(|t| origin[t.head as usize] == ci)
                else {
                    ok = false;
                    break;
                };
                let copied_from = turns[current as usize][slot].head;
                let id = chains.len() as u32;
                chains.push(chains[copied_from as usize].clone());
                origin.push(ci);
                let mut out = turns[copied_from as usize].clone();
                if only && let Some(&next) = via.get(i + 1) {
                    out.retain(|t| origin[t.head as usize] == next);
                }
                turns.push(out);
                turns[current as usize][slot].head = id;
                report.copies += 1;
                current = id;
            }
            if !ok {
                continue;
            }
            let exits = &mut turns[current as usize];
            let before = exits.len();
            for (kind, tos, _) in rules.iter().filter(|r| r.0 == RestrictionKind::Only) {
                let _ = kind;
                exits.retain(|t| tos.contains(&origin[t.head as usize]));
            }
            for (_, tos, _) in rules.iter().filter(|r| r.0 == RestrictionKind::No) {
                exits.retain(|t| !tos.contains(&origin[t.head as usize]));
            }
            if exits.len() != before || only {
                for (_, _, i) in rules {
                    if let Some(st) = state.get_mut(*i) {
                        *st = 2;
                    }
                }
            }
        }
        // By relation: applied if any of its restrictions is, moot if one resolved.
        let mut by_relation: HashMap<u32, u8> = HashMap::new();
        for (r, &st) in self.restrictions.iter().zip(&state) {
            let e = by_relation.entry(r.relation).or_default();
            *e = (*e).max(st);
        }
        report.applied = by_relation.values().filter(|&&s| s == 2).count() as u64;
        report.moot = by_relation.values().filter(|&&s| s == 1).count() as u64;
        report.unresolved = by_relation.values().filter(|&&s| s == 0).count() as u64;
        // Flatten.
        let mut chain_first = Vec::with_capacity(chains.len() + 1);
        chain_first.push(0u32);
        let mut chain_edges = Vec::with_capacity(m);
        for c in &chains {
            chain_edges.extend_from_slice(c);
            chain_first.push(chain_edges.len() as u32);
        }
        let mut turn_first = Vec::with_capacity(turns.len() + 1);
        turn_first.push(0u32);
        let (mut turn_head, mut turn_ms, mut turn_flag) = (Vec::new(), Vec::new(), Vec::new());
        for list in &turns {
            for t in list {
                turn_head.push(t.head);
                turn_ms.push(t.ms);
                turn_flag.push(t.flags);
            }
            turn_first.push(turn_head.len() as u32);
        }
        (
            TurnGraph {
                chain_first,
                chain_edges,
                origin,
                turn_first,
                turn_head,
                turn_ms,
                turn_flags: turn_flag,
                edge_chain,
                edge_pos,
            },
            report,
        )
    }

    /// The chains that exactly cover the node path `path` (each starting where the previous
    /// ends), or `None` when the path is not drivable or does not follow chain boundaries.
    fn path_chains(
        &self,
        path: &[NodeId],
        edge_chain: &[u32],
        edge_pos: &[u32],
        chains: &[Vec<u32>],
    ) -> Option<Vec<u32>> {
        let g = self.g;
        let mut edges = Vec::with_capacity(path.len());
        for w in path.windows(2) {
            let [a, b] = w else { return None };
            edges.push(g.edges(*a).find(|&e| g.head[e] == *b)?);
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < edges.len() {
            let e = edges[i];
            if edge_pos[e] != 0 {
                return None;
            }
            let c = edge_chain[e];
            let chain = chains.get(c as usize)?;
            let end = i + chain.len();
            if edges.get(i..end)?.iter().zip(chain).any(|(&a, &b)| a as u32 != b) {
                return None;
            }
            out.push(c);
            i = end;
        }
        (!out.is_empty()).then_some(out)
    }
}

/// The road length segment `e` stands for, metres: half its length when the road is
/// two-way (each direction is a segment), so that sums over segments are road lengths.
pub fn road_length_m(g: &Graph, e: usize) -> f64 {
    let (u, v) = (g.tail(e), g.head.get(e).copied().unwrap_or(0));
    let two_way = g.edges(v).any(|r| g.head.get(r) == Some(&u));
    f64::from(g.edge_length_dm(e)) / 10.0 / if two_way { 2.0 } else { 1.0 }
}

/// How many strongly connected parts the turn graph of `g` has, and the share of the road
/// length in the largest.
pub fn component_summary(g: &Graph) -> (usize, f64) {
    let t = &g.turns;
    let comp = components(t);
    let mut length: HashMap<u32, f64> = HashMap::new();
    for (c, &k) in comp.iter().enumerate() {
        if t.origin_of(c as u32) as usize == c {
            *length.entry(k).or_default() += t
                .chain(c as u32)
                .iter()
                .map(|&e| road_length_m(g, e as usize))
                .sum::<f64>();
        }
    }
    let total: f64 = length.values().sum();
    let largest = length.values().copied().fold(0.0, f64::max);
    (length.len(), if total > 0.0 { largest / total } else { 0.0 })
}

/// Strongly connected components of the turn graph (iterative Tarjan): the component of
/// each chain.
pub fn components(t: &TurnGraph) -> Vec<u32> {
    let n = t.chain_count();
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp = vec![UNSEEN; n];
    let mut next_comp = 0u32;
    let mut counter = 0u32;
    let mut call: Vec<(u32, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        call.push((root as u32, t.turns(root as u32).start));
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut next)) = call.last_mut() {
            let vu = v as usize;
            if *next < t.turns(v).end {
                let w = t.turn_head[*next] as usize;
                *next += 1;
                if index[w] == UNSEEN {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    call.push((w as u32, t.turns(w as u32).start));
                } else if on_stack[w] {
                    low[vu] = low[vu].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent as usize] = low[parent as usize].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
    }
    comp
}
