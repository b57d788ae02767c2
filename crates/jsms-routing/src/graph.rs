//! The routable graph in compressed sparse row form: nodes with coordinates, OpenStreetMap
//! ids and flags (signals, barriers), directed road segments (edges) with travel time,
//! length, road name and flags, and the turn graph over them ([`crate::turns`]: which
//! segment may follow which, at what cost). Serialised as a versioned, checksummed
//! little-endian file that loads in one pass.

use sha2::{Digest, Sha256};

/// A node index.
pub type NodeId = u32;

/// Edge flags.
pub mod flags {
    /// On a bridge.
    pub const BRIDGE: u8 = 1;
    /// In a tunnel.
    pub const TUNNEL: u8 = 2;
    /// Access only at the ends of a trip (private, destination, delivery…).
    pub const RESTRICTED: u8 = 4;
    /// Part of a roundabout.
    pub const ROUNDABOUT: u8 = 8;
}

/// Node flags.
pub mod node_flags {
    /// Traffic signals.
    pub const SIGNALS: u8 = 1;
    /// A stop sign.
    pub const STOP: u8 = 2;
    /// A give-way sign.
    pub const GIVE_WAY: u8 = 4;
    /// A gate a car passes (opened for it).
    pub const GATE: u8 = 8;
    /// A barrier passable only at the ends of a trip (a private gate).
    pub const RESTRICTED: u8 = 16;
    /// A barrier a car cannot pass (bollard, block, locked gate…).
    pub const BLOCKED: u8 = 32;

    /// The delay of passing a node with these flags, milliseconds.
    pub fn delay_ms(bits: u8) -> u32 {
        use crate::osm::{GATE_MS, GIVE_WAY_MS, SIGNAL_MS, STOP_MS};
        [
            (SIGNALS, SIGNAL_MS),
            (STOP, STOP_MS),
            (GIVE_WAY, GIVE_WAY_MS),
            (GATE, GATE_MS),
        ]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, ms)| ms)
        .sum()
    }

    /// The flags as words.
    pub fn describe(bits: u8) -> Vec<&'static str> {
        [
            (SIGNALS, "traffic signals"),
            (STOP, "stop sign"),
            (GIVE_WAY, "give way"),
            (GATE, "gate"),
            (RESTRICTED, "private gate"),
            (BLOCKED, "barrier"),
        ]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|&(_, w)| w)
        .collect()
    }
}

/// A directed graph seen as nodes and arcs, for the algorithms that run on the segment
/// graph ([`Graph`]) and on the turn graph ([`crate::turns::TurnGraph`]) alike.
pub trait Arcs {
    /// Number of nodes.
    fn node_count(&self) -> usize;
    /// Number of arcs.
    fn arc_count(&self) -> usize;
    /// The arcs leaving `v`.
    fn arcs(&self, v: NodeId) -> std::ops::Range<usize>;
    /// The head of arc `a`.
    fn arc_head(&self, a: usize) -> NodeId;
}

impl Arcs for Graph {
    fn node_count(&self) -> usize {
        self.lat.len()
    }
    fn arc_count(&self) -> usize {
        self.head.len()
    }
    fn arcs(&self, v: NodeId) -> std::ops::Range<usize> {
        self.edges(v)
    }
    fn arc_head(&self, a: usize) -> NodeId {
        self.head.get(a).copied().unwrap_or(0)
    }
}

/// A directed road graph.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Graph {
    /// Latitude of each node, in 1e-7 degrees.
    pub lat: Vec<i32>,
    /// Longitude of each node, in 1e-7 degrees.
    pub lon: Vec<i32>,
    /// OpenStreetMap id of each node.
    pub osm_id: Vec<i64>,
    /// Flags of each node ([`node_flags`]).
    pub node_flags: Vec<u8>,
    /// Edges of node `n` are `first_out[n]..first_out[n + 1]`.
    pub first_out: Vec<u32>,
    /// Target node of each edge.
    pub head: Vec<NodeId>,
    /// Travel time of each edge, milliseconds.
    pub time_ms: Vec<u32>,
    /// Length of each edge, decimetres.
    pub length_dm: Vec<u32>,
    /// Road name of each edge, index into `names` (0 = unnamed).
    pub name: Vec<u32>,
    /// Highway class of each edge (index into [`crate::import::CLASSES`]).
    pub class: Vec<u8>,
    /// Flags of each edge ([`flags`]).
    pub flags: Vec<u8>,
    /// Road names; `names[0]` is the empty name.
    pub names: Vec<String>,
    /// Which segment may follow which: the turn graph.
    pub turns: crate::turns::TurnGraph,
}

/// Why a graph file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Not a JSMS graph file, or another version.
    #[error("not a JSMS road graph of this version (bad header): import the map again with `jsms map import`")]
    Header,
    /// Shorter than it says.
    #[error("the graph file is truncated")]
    Truncated,
    /// The checksum does not match.
    #[error("the graph file is corrupt (checksum mismatch)")]
    Checksum,
    /// Internally inconsistent.
    #[error("the graph file is inconsistent: {0}")]
    Inconsistent(&'static str),
}

const MAGIC: &[u8; 8] = b"JSMSRG02";

impl Graph {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.lat.len()
    }

    /// Number of directed edges.
    pub fn edge_count(&self) -> usize {
        self.head.len()
    }

    /// The edge indices leaving `n`.
    pub fn edges(&self, n: NodeId) -> std::ops::Range<usize> {
        let i = n as usize;
        let start = self.first_out.get(i).copied().unwrap_or(0) as usize;
        let end = self.first_out.get(i + 1).copied().unwrap_or(0) as usize;
        start..end.max(start)
    }

    /// Travel time of edge `e`, milliseconds (`u32::MAX` for an unknown edge).
    pub fn edge_time_ms(&self, e: usize) -> u32 {
        self.time_ms.get(e).copied().unwrap_or(u32::MAX)
    }

    /// Length of edge `e`, decimetres.
    pub fn edge_length_dm(&self, e: usize) -> u32 {
        self.length_dm.get(e).copied().unwrap_or(0)
    }

    /// The tail node of edge `e`.
    pub fn tail(&self, e: usize) -> NodeId {
        (self.first_out.partition_point(|&o| o as usize <= e) as NodeId).saturating_sub(1)
    }

    /// Flags of node `n`.
    pub fn node_flag(&self, n: NodeId) -> u8 {
        self.node_flags.get(n as usize).copied().unwrap_or(0)
    }

    /// Flags of edge `e`.
    pub fn edge_flag(&self, e: usize) -> u8 {
        self.flags.get(e).copied().unwrap_or(0)
    }

    /// Road name of edge `e` (empty when unnamed).
    pub fn edge_name(&self, e: usize) -> &str {
        self.name
            .get(e)
            .and_then(|&i| self.names.get(i as usize))
            .map_or("", String::as_str)
    }

    /// Latitude and longitude of `n`, degrees.
    pub fn coordinate(&self, n: NodeId) -> (f64, f64) {
        let i = n as usize;
        let lat = self.lat.get(i).copied().unwrap_or(0);
        let lon = self.lon.get(i).copied().unwrap_or(0);
        (f64::from(lat) / 1e7, f64::from(lon) / 1e7)
    }

    /// The bounding box `(min_lat, min_lon, max_lat, max_lon)`, degrees.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        let f = |v: Option<&i32>| f64::from(v.copied().unwrap_or(0)) / 1e7;
        (
            f(self.lat.iter().min()),
            f(self.lon.iter().min()),
            f(self.lat.iter().max()),
            f(self.lon.iter().max()),
        )
    }

    /// Checks the structural invariants.
    pub fn validate(&self) -> Result<(), GraphError> {
        let n = self.node_count();
        let m = self.edge_count();
        if self.lon.len() != n || self.osm_id.len() != n || self.node_flags.len() != n || self.first_out.len() != n + 1
        {
            return Err(GraphError::Inconsistent("node arrays differ in length"));
        }
        if [
            self.time_ms.len(),
            self.length_dm.len(),
            self.name.len(),
            self.class.len(),
            self.flags.len(),
        ]
        .iter()
        .any(|&l| l != m)
        {
            return Err(GraphError::Inconsistent("edge arrays differ in length"));
        }
        if self.first_out.first() != Some(&0) || self.first_out.last().map(|&v| v as usize) != Some(m) {
            return Err(GraphError::Inconsistent("edge offsets do not span the edges"));
        }
        if self.first_out.windows(2).any(|w| matches!(w, [a, b] if a > b)) {
            return Err(GraphError::Inconsistent("edge offsets decrease"));
        }
        if self.head.iter().any(|&h| h as usize >= n) {
            return Err(GraphError::Inconsistent("an edge points outside the graph"));
        }
        if self.names.is_empty() || self.name.iter().any(|&i| i as usize >= self.names.len()) {
            return Err(GraphError::Inconsistent("a road name index is out of range"));
        }
        self.turns.validate(self)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(16 + self.node_count() * 12 + self.edge_count() * 18);
        let put_u32s = |body: &mut Vec<u8>, v: &[u32]| {
            body.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for x in v {
                body.extend_from_slice(&x.to_le_bytes());
            }
        };
        let put_i32s = |body: &mut Vec<u8>, v: &[i32]| {
            body.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for x in v {
                body.extend_from_slice(&x.to_le_bytes());
            }
        };
        put_i32s(&mut body, &self.lat);
        put_i32s(&mut body, &self.lon);
        body.extend_from_slice(&(self.osm_id.len() as u64).to_le_bytes());
        for x in &self.osm_id {
            body.extend_from_slice(&x.to_le_bytes());
        }
        body.extend_from_slice(&(self.node_flags.len() as u64).to_le_bytes());
        body.extend_from_slice(&self.node_flags);
        put_u32s(&mut body, &self.first_out);
        put_u32s(&mut body, &self.head);
        put_u32s(&mut body, &self.time_ms);
        put_u32s(&mut body, &self.length_dm);
        put_u32s(&mut body, &self.name);
        body.extend_from_slice(&(self.class.len() as u64).to_le_bytes());
        body.extend_from_slice(&self.class);
        body.extend_from_slice(&(self.flags.len() as u64).to_le_bytes());
        body.extend_from_slice(&self.flags);
        body.extend_from_slice(&(self.names.len() as u64).to_le_bytes());
        for name in &self.names {
            body.extend_from_slice(&(name.len() as u32).to_le_bytes());
            body.extend_from_slice(name.as_bytes());
        }
        self.turns.write(&mut body);
        let mut out = Vec::with_capacity(body.len() + 48);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&body));
        out.extend_from_slice(&body);
        out
    }

    /// Reads the binary form, checking header, length, checksum and invariants.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GraphError> {
        let (magic, rest) = bytes.split_at_checked(8).ok_or(GraphError::Header)?;
        if magic != MAGIC {
            return Err(GraphError::Header);
        }
        let (len, rest) = rest.split_at_checked(8).ok_or(GraphError::Truncated)?;
        let len = u64::from_le_bytes(len.try_into().map_err(|_| GraphError::Truncated)?) as usize;
        let (sum, body) = rest.split_at_checked(32).ok_or(GraphError::Truncated)?;
        if body.len() != len {
            return Err(GraphError::Truncated);
        }
        if Sha256::digest(body).as_slice() != sum {
            return Err(GraphError::Checksum);
        }
        let mut r = Reader { bytes: body };
        let g = Graph {
            lat: r.i32s()?,
            lon: r.i32s()?,
            osm_id: r.i64s()?,
            node_flags: r.bytes_vec()?,
            first_out: r.u32s()?,
            head: r.u32s()?,
            time_ms: r.u32s()?,
            length_dm: r.u32s()?,
            name: r.u32s()?,
            class: r.bytes_vec()?,
            flags: r.bytes_vec()?,
            names: r.strings()?,
            turns: crate::turns::TurnGraph::read(&mut r)?,
        };
        if !r.bytes.is_empty() {
            return Err(GraphError::Inconsistent("trailing bytes after the turn graph"));
        }
        g.validate()?;
        Ok(g)
    }
}

/// Reads the little-endian arrays of the binary form.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
}

/// Appends a length-prefixed `u32` array.
pub(crate) fn put_u32s(body: &mut Vec<u8>, v: &[u32]) {
    body.extend_from_slice(&(v.len() as u64).to_le_bytes());
    for x in v {
        body.extend_from_slice(&x.to_le_bytes());
    }
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], GraphError> {
        let (head, rest) = self.bytes.split_at_checked(n).ok_or(GraphError::Truncated)?;
        self.bytes = rest;
        Ok(head)
    }

    fn len(&mut self) -> Result<usize, GraphError> {
        let b = self.take(8)?;
        let n = u64::from_le_bytes(b.try_into().map_err(|_| GraphError::Truncated)?);
        usize::try_from(n).map_err(|_| GraphError::Truncated)
    }

    pub(crate) fn i64s(&mut self) -> Result<Vec<i64>, GraphError> {
        let n = self.len()?;
        let raw = self.take(n.checked_mul(8).ok_or(GraphError::Truncated)?)?;
        Ok(raw
            .chunks_exact(8)
            .filter_map(|c| c.try_into().ok())
            .map(i64::from_le_bytes)
            .collect())
    }

    pub(crate) fn u32s(&mut self) -> Result<Vec<u32>, GraphError> {
        let n = self.len()?;
        let raw = self.take(n.checked_mul(4).ok_or(GraphError::Truncated)?)?;
        Ok(raw
            .chunks_exact(4)
            .filter_map(|c| c.try_into().ok())
            .map(u32::from_le_bytes)
            .collect())
    }

    fn i32s(&mut self) -> Result<Vec<i32>, GraphError> {
        let n = self.len()?;
        let raw = self.take(n.checked_mul(4).ok_or(GraphError::Truncated)?)?;
        Ok(raw
            .chunks_exact(4)
            .filter_map(|c| c.try_into().ok())
            .map(i32::from_le_bytes)
            .collect())
    }

    pub(crate) fn bytes_vec(&mut self) -> Result<Vec<u8>, GraphError> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }

    fn strings(&mut self) -> Result<Vec<String>, GraphError> {
        let n = self.len()?;
        let mut out = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            let l = self.take(4)?;
            let l = u32::from_le_bytes(l.try_into().map_err(|_| GraphError::Truncated)?) as usize;
            let s = self.take(l)?;
            out.push(String::from_utf8(s.to_vec()).map_err(|_| GraphError::Inconsistent("a road name is not UTF-8"))?);
        }
        Ok(out)
    }
}

/// Great-circle distance in metres (haversine).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().min(1.0).asin()
}

/// A graph from `(tail, head, time_ms)` arcs, for tests.
#[cfg(test)]
pub(crate) fn from_arcs(n: usize, arcs: &[(u32, u32, u32)]) -> Graph {
    let mut arcs = arcs.to_vec();
    arcs.sort();
    let mut first_out = vec![0u32; n + 1];
    for (a, _, _) in &arcs {
        first_out[*a as usize + 1] += 1;
    }
    for i in 0..n {
        first_out[i + 1] += first_out[i];
    }
    let mut g = Graph {
        lat: vec![0; n],
        lon: vec![0; n],
        osm_id: (0..n as i64).collect(),
        node_flags: vec![0; n],
        first_out,
        head: arcs.iter().map(|a| a.1).collect(),
        time_ms: arcs.iter().map(|a| a.2).collect(),
        length_dm: vec![1; arcs.len()],
        name: vec![0; arcs.len()],
        class: vec![0; arcs.len()],
        flags: vec![0; arcs.len()],
        names: vec![String::new()],
        turns: crate::turns::TurnGraph::default(),
    };
    g.turns = crate::turns::TurnGraph::build(&g, &vec![0; g.edge_count()], &[], false).0;
    g
}
