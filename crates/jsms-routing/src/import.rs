//! Import of an OpenStreetMap PBF extract into a [`Graph`] with its turn graph: drivable
//! ways under the car rules of [`crate::osm`] (access hierarchy, one-ways, speeds), nodes
//! with barriers, signals and signs, and `type=restriction` relations (via node and via
//! way). Tolerates what real extracts contain — unsorted files (ways are taken in id order,
//! so a file and its sorted form give the same graph), ways referencing nodes missing from
//! the file, junk tag values — and keeps every part of the network (the router names the
//! gap when two ends do not connect).
//!
//! Bad input is an error that names the problem and never a partial graph: an empty file,
//! XML, gzip or bzip2 instead of PBF, a truncated or corrupt block. A file cut exactly at a
//! block boundary still parses; the import then warns ([`ImportReport::warnings`]) when a
//! sorted file ends before its relations or the data covers much less than the header's
//! bounding box, and `jsms map import` refuses to replace a larger map with it unless told.

use crate::graph::{Graph, NodeId, distance_m, flags, node_flags};
use crate::osm::{self, Access, Barrier, RestrictionKind, RestrictionTags};
use crate::turns::{Restriction, TurnGraph, Via};
use osmpbf::{BlobDecode, BlobReader, Element, RelMemberType};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

pub use crate::osm::{CLASSES, parse_maxspeed};

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is empty.
    #[error("the file is empty: expected an OpenStreetMap PBF extract (.osm.pbf)")]
    Empty,
    /// OSM XML, not PBF.
    #[error("the file is OpenStreetMap XML, not PBF: convert it first (e.g. `osmium cat FILE.osm -o FILE.osm.pbf`)")]
    Xml,
    /// Compressed.
    #[error("the file is {0}-compressed: decompress it first (a .osm.pbf file is compressed inside already)")]
    Compressed(&'static str),
    /// The file cannot be read or is not a valid PBF (truncated, corrupt, not OSM).
    #[error("not a readable OpenStreetMap PBF file: {0}")]
    Pbf(String),
    /// The file holds no drivable road network.
    #[error("the extract holds no drivable roads (highway=motorway … service)")]
    NoRoads,
}

/// What the import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// OSM nodes read.
    pub osm_nodes: u64,
    /// OSM ways read.
    pub osm_ways: u64,
    /// OSM relations read.
    pub osm_relations: u64,
    /// Drivable ways kept.
    pub drivable_ways: u64,
    /// Drivable-class ways left out for cars (access no, reversible, impassable, areas…).
    pub excluded_ways: u64,
    /// Ways with restricted access (private, destination, delivery…) kept for trip ends.
    pub restricted_ways: u64,
    /// Way node references missing from the file (segments dropped).
    pub missing_nodes: u64,
    /// Barriers a car cannot pass, on the network.
    pub blocking_barriers: u64,
    /// Barriers passable only at trip ends (private gates), on the network.
    pub restricted_barriers: u64,
    /// Turn restrictions for cars read.
    pub restrictions: u64,
    /// Turn restrictions applied to the turn graph.
    pub restrictions_applied: u64,
    /// Turn restrictions that forbid nothing that was allowed anyway.
    pub restrictions_moot: u64,
    /// Turn restrictions whose members are missing, not drivable, or do not meet.
    pub restrictions_unresolved: u64,
    /// Conditional turn restrictions, ignored.
    pub restrictions_conditional: u64,
    /// Road chains (turn-graph nodes) and turns.
    pub chains: u64,
    /// Turns allowed.
    pub turns: u64,
    /// Whether turn costs assume left-hand traffic.
    pub left_hand_traffic: bool,
    /// Things that look wrong with the file (cut short, …).
    pub warnings: Vec<String>,
}

/// Progress of an import: bytes of the file processed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes processed.
    pub done: u64,
    /// File size.
    pub total: u64,
}

/// A drivable way as read.
#[derive(Debug, Clone)]
struct RawWay {
    id: i64,
    nodes: Vec<i64>,
    class: u8,
    speed_kmh: (f64, f64),
    forward: bool,
    backward: bool,
    restricted: (bool, bool),
    name: String,
    flags: u8,
}

/// A restriction relation as read.
#[derive(Debug, Clone)]
struct RawRestriction {
    kind: RestrictionKind,
    from: Vec<i64>,
    via_node: Option<i64>,
    via_ways: Vec<i64>,
    to: Vec<i64>,
}

/// OpenStreetMap elements collected for the graph, each interpreted as it is added: the
/// PBF reader feeds it, and tests can build a network by hand.
#[derive(Debug, Default)]
pub struct OsmData {
    coords: HashMap<i64, (i32, i32)>,
    node_bits: HashMap<i64, u8>,
    ways: Vec<RawWay>,
    restrictions: Vec<RawRestriction>,
    report: ImportReport,
    saw_relation: bool,
    saw_way: bool,
    header_bbox: Option<(f64, f64, f64, f64)>,
    sorted: bool,
}

fn lookup<'a>(tags: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
    move |k: &str| tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
}

impl OsmData {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node (coordinates in 1e-7 degrees).
    pub fn add_node(&mut self, id: i64, lat: i32, lon: i32, tags: &[(&str, &str)]) {
        self.report.osm_nodes += 1;
        self.coords.insert(id, (lat, lon));
        if tags.is_empty() {
            return;
        }
        let tag = lookup(tags);
        let mut bits = match osm::barrier(&tag) {
            Barrier::Open => 0,
            Barrier::Restricted => node_flags::RESTRICTED,
            Barrier::Blocked => node_flags::BLOCKED,
        };
        match tag("highway") {
            Some("traffic_signals") => bits |= node_flags::SIGNALS,
            Some("stop") => bits |= node_flags::STOP,
            Some("give_way") => bits |= node_flags::GIVE_WAY,
            _ => {}
        }
        if osm::node_delay_ms(&tag) >= osm::GATE_MS {
            bits |= node_flags::GATE;
        }
        if bits != 0 {
            self.node_bits.insert(id, bits);
        }
    }

    /// Adds a way: kept when it is drivable by car in at least one direction.
    pub fn add_way(&mut self, id: i64, nodes: Vec<i64>, tags: &[(&str, &str)]) {
        self.report.osm_ways += 1;
        self.saw_way = true;
        let tag = lookup(tags);
        let Some(highway) = tag("highway") else { return };
        let Some(class) = CLASSES.iter().position(|(c, _)| *c == highway) else {
            return;
        };
        if nodes.len() < 2 {
            return;
        }
        let excluded = |report: &mut ImportReport| report.excluded_ways += 1;
        if osm::excluded(&tag) {
            return excluded(&mut self.report);
        }
        let Some((dir_f, dir_b)) = osm::directions(highway, &tag) else {
            return excluded(&mut self.report);
        };
        let (acc_f, acc_b) = osm::way_access(&tag);
        let (acc_f, acc_b) = (acc_f.unwrap_or(Access::Yes), acc_b.unwrap_or(Access::Yes));
        let forward = dir_f && acc_f != Access::No;
        let backward = dir_b && acc_b != Access::No;
        let Some(speed_kmh) = osm::speeds(class, &tag) else {
            return excluded(&mut self.report);
        };
        if !forward && !backward {
            return excluded(&mut self.report);
        }
        let restricted = (acc_f == Access::Restricted, acc_b == Access::Restricted);
        if (forward && restricted.0) || (backward && restricted.1) {
            self.report.restricted_ways += 1;
        }
        let name = tag("name").or_else(|| tag("ref")).unwrap_or("").to_owned();
        let yes = |k: &str| tag(k).is_some_and(|v| v != "no");
        let mut f = 0;
        if yes("bridge") {
            f |= flags::BRIDGE;
        }
        if yes("tunnel") {
            f |= flags::TUNNEL;
        }
        if matches!(tag("junction"), Some("roundabout" | "circular")) {
            f |= flags::ROUNDABOUT;
        }
        self.ways.push(RawWay {
            id,
            nodes,
            class: u8::try_from(class).unwrap_or(0),
            speed_kmh,
            forward,
            backward,
            restricted,
            name,
            flags: f,
        });
        self.report.drivable_ways += 1;
    }

    /// Adds a relation: members are `(role, type, id)`; only car turn restrictions are used.
    pub fn add_relation(&mut self, members: &[(&str, RelMemberType, i64)], tags: &[(&str, &str)]) {
        self.report.osm_relations += 1;
        self.saw_relation = true;
        let tag = lookup(tags);
        let kind = match osm::restriction(&tag) {
            RestrictionTags::Applies(kind) => kind,
            RestrictionTags::Conditional => {
                self.report.restrictions_conditional += 1;
                return;
            }
            RestrictionTags::NotForCars => return,
        };
        self.report.restrictions += 1;
        let mut r = RawRestriction {
            kind,
            from: Vec::new(),
            via_node: None,
            via_ways: Vec::new(),
            to: Vec::new(),
        };
        for (role, kind, id) in members {
            let (role, id) = (*role, *id);
            match (role, kind) {
                ("from", RelMemberType::Way) => r.from.push(id),
                ("to", RelMemberType::Way) => r.to.push(id),
                ("via", RelMemberType::Node) => r.via_node = Some(id),
                ("via", RelMemberType::Way) => r.via_ways.push(id),
                _ => {}
            }
        }
        self.restrictions.push(r);
    }

    /// Builds the graph, with left-hand traffic decided by the network's location unless
    /// `left_hand` says.
    pub fn build(self, left_hand: Option<bool>) -> Result<(Graph, ImportReport), ImportError> {
        build(self, left_hand)
    }
}

/// What the first bytes say the file is, when it is clearly not PBF.
fn sniff(head: &[u8]) -> Option<ImportError> {
    if head.is_empty() {
        return Some(ImportError::Empty);
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let trimmed: &[u8] = {
        let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
        &text[start..]
    };
    if trimmed.starts_with(b"<?xml") || trimmed.starts_with(b"<osm") {
        return Some(ImportError::Xml);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(ImportError::Compressed("gzip"));
    }
    if head.starts_with(b"BZh") {
        return Some(ImportError::Compressed("bzip2"));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Some(ImportError::Compressed("zstd"));
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some(ImportError::Compressed("zip"));
    }
    None
}

/// Imports from a seekable reader of `total` bytes, calling `progress` after each block.
pub fn import<R: Read + Seek + Send>(
    reader: R,
    total: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Graph, ImportReport), ImportError> {
    import_with(reader, total, None, progress)
}

/// [`import`] with the traffic side given (`None`: decided by the network's location).
pub fn import_with<R: Read + Seek + Send>(
    mut reader: R,
    total: u64,
    left_hand: Option<bool>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Graph, ImportReport), ImportError> {
    let mut head = [0u8; 16];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(ImportError::Pbf(e.to_string())),
        }
    }
    if let Some(e) = sniff(&head[..got]) {
        return Err(e);
    }
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| ImportError::Pbf(e.to_string()))?;
    let describe = |e: osmpbf::Error| {
        let text = e.to_string();
        if text.contains("too big") || text.contains("header size") {
            format!(
                "{text} — the file does not start like a PBF extract (first bytes {})",
                head[..got.min(8)]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        } else if ["eof", "end of file", "unexpected end"]
            .iter()
            .any(|w| text.to_lowercase().contains(w))
        {
            format!("{text} — the file is truncated")
        } else {
            text
        }
    };
    let blobs = BlobReader::new_seekable(reader).map_err(|e| ImportError::Pbf(describe(e)))?;
    let mut data = OsmData::new();
    let mut saw_header = false;
    // Elements per data block: the largest, the last, how many blocks.
    let (mut fullest, mut last_block, mut blocks) = (0usize, 0usize, 0usize);
    for blob in blobs {
        let blob = blob.map_err(|e| ImportError::Pbf(describe(e)))?;
        let offset = blob.offset().map_or(0, |o| o.0);
        match blob.decode().map_err(|e| ImportError::Pbf(describe(e)))? {
            BlobDecode::OsmHeader(header) => {
                saw_header = true;
                data.sorted = header
                    .optional_features()
                    .iter()
                    .chain(header.required_features())
                    .any(|f| f == "Sort.Type_then_ID");
                data.header_bbox = header.bbox().map(|b| (b.bottom, b.left, b.top, b.right));
            }
            BlobDecode::OsmData(block) => {
                if !saw_header {
                    return Err(ImportError::Pbf(
                        "a data block comes before the OSMHeader block: not an OpenStreetMap PBF file".into(),
                    ));
                }
                let mut count = 0usize;
                block.for_each_element(|element| {
                    count += 1;
                    match element {
                        Element::Node(n) => {
                            let tags: Vec<(&str, &str)> = n.tags().collect();
                            data.add_node(n.id(), n.decimicro_lat(), n.decimicro_lon(), &tags);
                        }
                        Element::DenseNode(n) => {
                            let tags: Vec<(&str, &str)> = n.tags().collect();
                            data.add_node(n.id(), n.decimicro_lat(), n.decimicro_lon(), &tags);
                        }
                        Element::Way(w) => {
                            let tags: Vec<(&str, &str)> = w.tags().collect();
                            data.add_way(w.id(), w.refs().collect(), &tags);
                        }
                        Element::Relation(r) => {
                            let tags: Vec<(&str, &str)> = r.tags().collect();
                            let members: Vec<(&str, RelMemberType, i64)> = r
                                .members()
                                .filter_map(|m| Some((m.role().ok()?, m.member_type, m.member_id)))
                                .collect();
                            data.add_relation(&members, &tags);
                        }
                    }
                });
                fullest = fullest.max(count);
                last_block = count;
                blocks += 1;
            }
            BlobDecode::Unknown(kind) => {
                if !saw_header {
                    return Err(ImportError::Pbf(format!(
                        "the first block is {kind:?}, not OSMHeader: not an OpenStreetMap PBF file"
                    )));
                }
            }
        }
        progress(Progress {
            done: offset.min(total),
            total,
        });
    }
    if !saw_header {
        return Err(ImportError::Pbf(
            "no OSMHeader block: not an OpenStreetMap PBF file".into(),
        ));
    }
    progress(Progress { done: total, total });
    let (graph, mut report) = build(data, left_hand)?;
    // Writers fill blocks up to a fixed size (8,000 elements); a file's last block holds
    // what is left, so a full last block means the file probably ends at a block boundary
    // rather than where its data ends.
    if blocks >= 2 && last_block == fullest && fullest >= 1_000 {
        report.warnings.push(format!(
            "the file's last block is full ({fullest} elements, like the largest before it): the file may be cut short at a block boundary"
        ));
    }
    Ok((graph, report))
}

fn build(mut data: OsmData, left_hand: Option<bool>) -> Result<(Graph, ImportReport), ImportError> {
    let mut report = std::mem::take(&mut data.report);
    // Ways in id order: the graph does not depend on the order of the file.
    data.ways.sort_by_key(|w| w.id);
    data.ways.dedup_by_key(|w| w.id);
    let mut index: HashMap<i64, u32> = HashMap::new();
    let mut osm_id: Vec<i64> = Vec::new();
    let mut lat = Vec::new();
    let mut lon = Vec::new();
    let mut way_nodes: Vec<Vec<Option<u32>>> = Vec::with_capacity(data.ways.len());
    for w in &data.ways {
        let mut list = Vec::with_capacity(w.nodes.len());
        for id in &w.nodes {
            let i = match index.get(id) {
                Some(&i) => Some(i),
                None => match data.coords.get(id) {
                    Some(&(la, lo)) => {
                        let i = u32::try_from(lat.len()).map_err(|_| ImportError::Pbf("too many nodes".into()))?;
                        lat.push(la);
                        lon.push(lo);
                        osm_id.push(*id);
                        index.insert(*id, i);
                        Some(i)
                    }
                    None => None,
                },
            };
            list.push(i);
        }
        way_nodes.push(list);
    }
    drop(std::mem::take(&mut data.coords));
    // Segments: (from, to, way, time, length, flags).
    let mut segs: Vec<(u32, u32, u32, u32, u32, u8)> = Vec::new();
    for (wi, (w, nodes)) in data.ways.iter().zip(&way_nodes).enumerate() {
        for pair in nodes.windows(2) {
            let [a, b] = pair else { continue };
            let (Some(ia), Some(ib)) = (*a, *b) else {
                report.missing_nodes += 1;
                continue;
            };
            if ia == ib {
                continue;
            }
            let p = |i: u32| (f64::from(lat[i as usize]) / 1e7, f64::from(lon[i as usize]) / 1e7);
            let meters = distance_m(p(ia), p(ib));
            let length_dm = (meters * 10.0).round() as u32;
            let time = |kmh: f64| (meters / (kmh / 3.6) * 1000.0).round().max(1.0) as u32;
            if w.forward {
                let f = w.flags | if w.restricted.0 { flags::RESTRICTED } else { 0 };
                segs.push((ia, ib, wi as u32, time(w.speed_kmh.0), length_dm, f));
            }
            if w.backward {
                let f = w.flags | if w.restricted.1 { flags::RESTRICTED } else { 0 };
                segs.push((ib, ia, wi as u32, time(w.speed_kmh.1), length_dm, f));
            }
        }
    }
    if lat.is_empty() || segs.is_empty() {
        return Err(ImportError::NoRoads);
    }
    segs.sort_unstable_by_key(|s| (s.0, s.1, s.2));
    let n = lat.len();
    let mut first_out = vec![0u32; n + 1];
    for s in &segs {
        first_out[s.0 as usize + 1] += 1;
    }
    for i in 0..n {
        first_out[i + 1] += first_out[i];
    }
    let mut names: Vec<String> = vec![String::new()];
    let mut name_ids: HashMap<&str, u32> = HashMap::from([("", 0)]);
    let way_name: Vec<u32> = data
        .ways
        .iter()
        .map(|w| {
            let next = u32::try_from(names.len()).unwrap_or(0);
            *name_ids.entry(w.name.as_str()).or_insert_with(|| {
                names.push(w.name.clone());
                next
            })
        })
        .collect();
    let node_bits: Vec<u8> = osm_id
        .iter()
        .map(|id| data.node_bits.get(id).copied().unwrap_or(0))
        .collect();
    report.blocking_barriers = node_bits.iter().filter(|b| **b & node_flags::BLOCKED != 0).count() as u64;
    report.restricted_barriers = node_bits.iter().filter(|b| **b & node_flags::RESTRICTED != 0).count() as u64;
    let edge_way: Vec<u32> = segs.iter().map(|s| s.2).collect();
    let mut graph = Graph {
        lat,
        lon,
        osm_id,
        node_flags: node_bits,
        first_out,
        head: segs.iter().map(|s| s.1).collect(),
        time_ms: segs.iter().map(|s| s.3).collect(),
        length_dm: segs.iter().map(|s| s.4).collect(),
        name: segs
            .iter()
            .map(|s| way_name.get(s.2 as usize).copied().unwrap_or(0))
            .collect(),
        class: segs
            .iter()
            .map(|s| data.ways.get(s.2 as usize).map_or(0, |w| w.class))
            .collect(),
        flags: segs.iter().map(|s| s.5).collect(),
        names,
        turns: TurnGraph::default(),
    };
    drop(segs);
    // Restrictions, resolved to way indices and graph nodes.
    let way_index: HashMap<i64, u32> = data.ways.iter().enumerate().map(|(i, w)| (w.id, i as u32)).collect();
    let mut resolved = Vec::new();
    let mut unresolvable = 0u64;
    for (ri, r) in data.restrictions.iter().enumerate() {
        let mut any = false;
        for &from in &r.from {
            for &to in &r.to {
                let (Some(&fw), Some(&tw)) = (way_index.get(&from), way_index.get(&to)) else {
                    continue;
                };
                let via = match (r.via_node, r.via_ways.as_slice()) {
                    (Some(v), []) => index.get(&v).map(|&i| Via::Node(i)),
                    (None, ways) if !ways.is_empty() => via_path(fw, ways, tw, &way_index, &way_nodes).map(Via::Path),
                    _ => None,
                };
                if let Some(via) = via {
                    resolved.push(Restriction {
                        kind: r.kind,
                        from_way: fw,
                        via,
                        to_way: tw,
                        relation: u32::try_from(ri).unwrap_or(u32::MAX),
                    });
                    any = true;
                }
            }
        }
        if !any {
            unresolvable += 1;
        }
    }
    let (min_lat, min_lon, max_lat, max_lon) = graph.bbox();
    let left = left_hand.unwrap_or_else(|| osm::keeps_left((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0));
    let (turns, turn_report) = TurnGraph::build(&graph, &edge_way, &resolved, left);
    graph.turns = turns;
    report.restrictions_applied = turn_report.applied;
    report.restrictions_moot = turn_report.moot;
    report.restrictions_unresolved = unresolvable + turn_report.unresolved;
    report.chains = graph.turns.chain_count() as u64;
    report.turns = graph.turns.turn_count() as u64;
    report.left_hand_traffic = left;
    // Signs of a file cut short.
    // Extracts end with their relations; a city's worth of ways without a single relation
    // (no boundary, no route, no restriction) is a file that stopped before them.
    if data.saw_way && !data.saw_relation && (data.sorted || report.osm_ways >= 5_000) {
        report.warnings.push(format!(
            "the file holds {} ways but no relation: it may be cut short before its relations (turn restrictions are relations)",
            report.osm_ways
        ));
    }
    if let Some((b, l, t, r)) = data.header_bbox {
        let header_area = (t - b).max(0.0) * (r - l).max(0.0);
        let data_area = (max_lat - min_lat).max(0.0) * (max_lon - min_lon).max(0.0);
        if header_area > 0.0 && data_area < header_area * 0.25 && header_area < 100.0 {
            report.warnings.push(format!(
                "the roads cover {:.0} % of the bounding box the file declares: it may be cut short",
                data_area / header_area * 100.0
            ));
        }
    }
    if report.drivable_ways > 0 && report.missing_nodes > report.drivable_ways {
        report.warnings.push(format!(
            "{} way segments reference nodes missing from the file: it may be cut short",
            report.missing_nodes
        ));
    }
    graph.validate().map_err(|e| ImportError::Pbf(e.to_string()))?;
    Ok((graph, report))
}

/// The node path of a via-way restriction: from the node the `from` way shares with the
/// first via way, along the via ways, to the node the last shares with the `to` way.
fn via_path(
    from: u32,
    via: &[i64],
    to: u32,
    way_index: &HashMap<i64, u32>,
    way_nodes: &[Vec<Option<u32>>],
) -> Option<Vec<NodeId>> {
    let nodes = |w: u32| -> Option<Vec<u32>> { way_nodes.get(w as usize)?.iter().copied().collect() };
    let via: Vec<u32> = via.iter().map(|id| way_index.get(id).copied()).collect::<Option<_>>()?;
    let ways: Vec<Vec<u32>> = via.iter().map(|&w| nodes(w)).collect::<Option<_>>()?;
    let from_nodes = nodes(from)?;
    let to_nodes = nodes(to)?;
    let ends = |w: &[u32]| [w.first().copied(), w.last().copied()];
    let shared = |a: &[u32], b: &[u32]| -> Option<u32> {
        // Prefer a node at an end of either way (restriction members meet at their ends).
        let ends_a = ends(a);
        let ends_b = ends(b);
        ends_a
            .iter()
            .flatten()
            .find(|v| b.contains(v))
            .or_else(|| ends_b.iter().flatten().find(|v| a.contains(v)))
            .copied()
    };
    let mut path: Vec<u32> = Vec::new();
    let mut current = shared(&from_nodes, ways.first()?)?;
    for (i, w) in ways.iter().enumerate() {
        let next_way: &[u32] = match ways.get(i + 1) {
            Some(n) => n,
            None => &to_nodes,
        };
        let exit = shared(w, next_way)
            .filter(|&x| x != current)
            .or_else(|| w.iter().copied().find(|v| *v != current && next_way.contains(v)))?;
        let a = w.iter().position(|&v| v == current)?;
        let b = w.iter().position(|&v| v == exit)?;
        let piece: Vec<u32> = if a <= b {
            w.get(a..=b)?.to_vec()
        } else {
            w.get(b..=a)?.iter().rev().copied().collect()
        };
        if path.last() == piece.first() {
            path.extend_from_slice(piece.get(1..)?);
        } else {
            path.extend_from_slice(&piece);
        }
        current = exit;
    }
    (path.len() >= 2).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_formats_are_named() {
        assert!(matches!(sniff(b""), Some(ImportError::Empty)));
        assert!(matches!(sniff(b"<?xml version='1.0'?><osm>"), Some(ImportError::Xml)));
        assert!(matches!(sniff(b"\n  <osm version=\"0.6\">"), Some(ImportError::Xml)));
        assert!(matches!(
            sniff(&[0x1f, 0x8b, 8, 0]),
            Some(ImportError::Compressed("gzip"))
        ));
        assert!(matches!(sniff(b"BZh91AY"), Some(ImportError::Compressed("bzip2"))));
        assert!(sniff(&[0, 0, 0, 0x0d, 0x0a, 0x09]).is_none());
    }
}
