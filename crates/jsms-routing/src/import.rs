//! Import of an OpenStreetMap PBF extract into a [`Graph`]: drivable ways only, one-ways
//! (including `oneway=-1`, roundabouts, motorways), speeds from the highway class and
//! `maxspeed`, names, bridges and tunnels. Tolerates what real extracts contain (unsorted
//! files, ways referencing nodes missing from the file, junk tag values) and keeps the
//! largest strongly connected component, reporting what it dropped. A broken or truncated
//! file is an error, never a partial graph.

use crate::graph::{Graph, NodeId, distance_m, flags};
use osmpbf::{BlobDecode, BlobReader, Element};
use std::collections::HashMap;
use std::io::{Read, Seek};

/// Highway classes that are drivable, in the order of the `class` byte of an edge, with their
/// default speeds (km/h).
pub const CLASSES: [(&str, f64); 14] = [
    ("motorway", 100.0),
    ("motorway_link", 60.0),
    ("trunk", 80.0),
    ("trunk_link", 50.0),
    ("primary", 60.0),
    ("primary_link", 45.0),
    ("secondary", 50.0),
    ("secondary_link", 40.0),
    ("tertiary", 40.0),
    ("tertiary_link", 35.0),
    ("unclassified", 30.0),
    ("residential", 25.0),
    ("living_street", 10.0),
    ("service", 15.0),
];

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read or is not a valid PBF (truncated, corrupt, not OSM).
    #[error("not a readable OpenStreetMap PBF file: {0}")]
    Pbf(String),
    /// The file holds no drivable road network.
    #[error("the extract holds no drivable roads (highway=motorway … service)")]
    NoRoads,
}

/// What the import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// OSM nodes read.
    pub osm_nodes: u64,
    /// OSM ways read.
    pub osm_ways: u64,
    /// Drivable ways kept.
    pub drivable_ways: u64,
    /// Way node references missing from the file (segments dropped).
    pub missing_nodes: u64,
    /// Strongly connected components found.
    pub components: u64,
    /// Nodes dropped outside the largest component.
    pub dropped_nodes: u64,
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
struct RawWay {
    nodes: Vec<i64>,
    class: u8,
    speed_kmh: f64,
    forward: bool,
    backward: bool,
    name: u32,
    flags: u8,
}

/// Parses a `maxspeed` value: `50`, `50 mph`, `30;50` (the first); anything else is `None`.
pub fn parse_maxspeed(value: &str) -> Option<f64> {
    let first = value.split(';').next()?.trim();
    let (number, mph) = match first.strip_suffix("mph") {
        Some(n) => (n.trim(), true),
        None => (first.strip_suffix("km/h").unwrap_or(first).trim(), false),
    };
    let v: f64 = number.parse().ok()?;
    let kmh = if mph { v * 1.609_344 } else { v };
    (5.0..=200.0).contains(&kmh).then_some(kmh)
}

/// Directions allowed by the tags: `(forward, backward)`.
fn directions(class: &str, oneway: Option<&str>, junction: Option<&str>) -> (bool, bool) {
    match oneway.map(str::trim) {
        Some("yes" | "true" | "1") => (true, false),
        Some("-1" | "reverse") => (false, true),
        Some("no" | "false" | "0") => (true, true),
        _ => {
            let implied = matches!(junction, Some("roundabout" | "circular")) || matches!(class, "motorway");
            if implied { (true, false) } else { (true, true) }
        }
    }
}

/// Imports from a seekable reader of `total` bytes, calling `progress` after each block.
pub fn import<R: Read + Seek + Send>(
    reader: R,
    total: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Graph, ImportReport), ImportError> {
    let blobs = BlobReader::new_seekable(reader).map_err(|e| ImportError::Pbf(e.to_string()))?;
    let mut report = ImportReport::default();
    let mut coords: HashMap<i64, (i32, i32)> = HashMap::new();
    let mut ways: Vec<RawWay> = Vec::new();
    let mut names: Vec<String> = vec![String::new()];
    let mut name_ids: HashMap<String, u32> = HashMap::new();
    let mut saw_header = false;
    for blob in blobs {
        let blob = blob.map_err(|e| ImportError::Pbf(e.to_string()))?;
        let offset = blob.offset().map_or(0, |o| o.0);
        match blob.decode().map_err(|e| ImportError::Pbf(e.to_string()))? {
            BlobDecode::OsmHeader(_) => saw_header = true,
            BlobDecode::OsmData(block) => {
                block.for_each_element(|element| match element {
                    Element::Node(n) => {
                        report.osm_nodes += 1;
                        coords.insert(n.id(), (n.decimicro_lat(), n.decimicro_lon()));
                    }
                    Element::DenseNode(n) => {
                        report.osm_nodes += 1;
                        coords.insert(n.id(), (n.decimicro_lat(), n.decimicro_lon()));
                    }
                    Element::Way(w) => {
                        report.osm_ways += 1;
                        let mut highway = None;
                        let (mut maxspeed, mut oneway, mut junction, mut name, mut reference) =
                            (None, None, None, None, None);
                        let (mut bridge, mut tunnel, mut blocked) = (false, false, false);
                        for (k, v) in w.tags() {
                            match k {
                                "highway" => highway = Some(v),
                                "maxspeed" => maxspeed = parse_maxspeed(v),
                                "oneway" => oneway = Some(v),
                                "junction" => junction = Some(v),
                                "name" => name = Some(v),
                                "ref" => reference = Some(v),
                                "bridge" => bridge = v != "no",
                                "tunnel" => tunnel = v != "no",
                                "access" | "motor_vehicle" | "motorcar" => blocked |= matches!(v, "no" | "private"),
                                "area" => blocked |= v == "yes",
                                _ => {}
                            }
                        }
                        let Some(highway) = highway else { return };
                        let Some(class) = CLASSES.iter().position(|(c, _)| *c == highway) else {
                            return;
                        };
                        if blocked {
                            return;
                        }
                        let refs: Vec<i64> = w.refs().collect();
                        if refs.len() < 2 {
                            return;
                        }
                        let (forward, backward) = directions(highway, oneway, junction);
                        let label = name.or(reference).unwrap_or("");
                        let name_id = if label.is_empty() {
                            0
                        } else if let Some(id) = name_ids.get(label) {
                            *id
                        } else {
                            let id = u32::try_from(names.len()).unwrap_or(0);
                            names.push(label.to_owned());
                            name_ids.insert(label.to_owned(), id);
                            id
                        };
                        let default_speed = CLASSES.get(class).map_or(30.0, |(_, s)| *s);
                        ways.push(RawWay {
                            nodes: refs,
                            class: u8::try_from(class).unwrap_or(0),
                            speed_kmh: maxspeed.map_or(default_speed, |m: f64| m.min(default_speed * 1.5)),
                            forward,
                            backward,
                            name: name_id,
                            flags: if bridge { flags::BRIDGE } else { 0 } | if tunnel { flags::TUNNEL } else { 0 },
                        });
                        report.drivable_ways += 1;
                    }
                    Element::Relation(_) => {}
                });
            }
            BlobDecode::Unknown(_) => {}
        }
        progress(Progress {
            done: offset.min(total),
            total,
        });
    }
    if !saw_header {
        return Err(ImportError::Pbf("no OSMHeader block".into()));
    }
    progress(Progress { done: total, total });
    build(&coords, &ways, names, &mut report)
}

struct RawEdge {
    from: u32,
    to: u32,
    time_ms: u32,
    length_dm: u32,
    name: u32,
    class: u8,
    flags: u8,
}

fn build(
    coords: &HashMap<i64, (i32, i32)>,
    ways: &[RawWay],
    names: Vec<String>,
    report: &mut ImportReport,
) -> Result<(Graph, ImportReport), ImportError> {
    let mut index: HashMap<i64, u32> = HashMap::new();
    let mut lat = Vec::new();
    let mut lon = Vec::new();
    let mut edges = Vec::new();
    let mut node = |id: i64, lat: &mut Vec<i32>, lon: &mut Vec<i32>| -> Option<u32> {
        if let Some(i) = index.get(&id) {
            return Some(*i);
        }
        let (la, lo) = *coords.get(&id)?;
        let i = u32::try_from(lat.len()).ok()?;
        lat.push(la);
        lon.push(lo);
        index.insert(id, i);
        Some(i)
    };
    for w in ways {
        for pair in w.nodes.windows(2) {
            let [a, b] = pair else { continue };
            let (Some(ia), Some(ib)) = (node(*a, &mut lat, &mut lon), node(*b, &mut lat, &mut lon)) else {
                report.missing_nodes += 1;
                continue;
            };
            if ia == ib {
                continue;
            }
            let pa = (f64::from(lat[ia as usize]) / 1e7, f64::from(lon[ia as usize]) / 1e7);
            let pb = (f64::from(lat[ib as usize]) / 1e7, f64::from(lon[ib as usize]) / 1e7);
            let meters = distance_m(pa, pb);
            let time_ms = (meters / (w.speed_kmh / 3.6) * 1000.0).round().max(1.0) as u32;
            let length_dm = (meters * 10.0).round() as u32;
            let e = |from, to| RawEdge {
                from,
                to,
                time_ms,
                length_dm,
                name: w.name,
                class: w.class,
                flags: w.flags,
            };
            if w.forward {
                edges.push(e(ia, ib));
            }
            if w.backward {
                edges.push(e(ib, ia));
            }
        }
    }
    if lat.is_empty() || edges.is_empty() {
        return Err(ImportError::NoRoads);
    }
    let keep = largest_scc(lat.len(), &edges, report);
    // Renumber the kept nodes densely.
    let mut new_id = vec![u32::MAX; lat.len()];
    let mut glat = Vec::new();
    let mut glon = Vec::new();
    for (old, k) in keep.iter().enumerate() {
        if *k {
            new_id[old] = u32::try_from(glat.len()).unwrap_or(u32::MAX);
            glat.push(lat[old]);
            glon.push(lon[old]);
        }
    }
    let mut kept: Vec<RawEdge> = edges
        .into_iter()
        .filter(|e| keep[e.from as usize] && keep[e.to as usize])
        .map(|e| RawEdge {
            from: new_id[e.from as usize],
            to: new_id[e.to as usize],
            ..e
        })
        .collect();
    kept.sort_by_key(|e| (e.from, e.to, e.time_ms));
    let n = glat.len();
    let mut first_out = vec![0u32; n + 1];
    for e in &kept {
        first_out[e.from as usize + 1] += 1;
    }
    for i in 0..n {
        first_out[i + 1] += first_out[i];
    }
    let graph = Graph {
        lat: glat,
        lon: glon,
        first_out,
        head: kept.iter().map(|e| e.to).collect(),
        time_ms: kept.iter().map(|e| e.time_ms).collect(),
        length_dm: kept.iter().map(|e| e.length_dm).collect(),
        name: kept.iter().map(|e| e.name).collect(),
        class: kept.iter().map(|e| e.class).collect(),
        flags: kept.iter().map(|e| e.flags).collect(),
        names,
    };
    graph.validate().map_err(|e| ImportError::Pbf(e.to_string()))?;
    Ok((graph, report.clone()))
}

/// Marks the nodes of the largest strongly connected component (iterative Tarjan).
fn largest_scc(n: usize, edges: &[RawEdge], report: &mut ImportReport) -> Vec<bool> {
    let mut adj_start = vec![0usize; n + 1];
    for e in edges {
        adj_start[e.from as usize + 1] += 1;
    }
    for i in 0..n {
        adj_start[i + 1] += adj_start[i];
    }
    let mut adj = vec![0u32; edges.len()];
    let mut fill = adj_start.clone();
    for e in edges {
        adj[fill[e.from as usize]] = e.to;
        fill[e.from as usize] += 1;
    }
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp = vec![u32::MAX; n];
    let mut comp_sizes: Vec<usize> = Vec::new();
    let mut counter = 0u32;
    let mut call: Vec<(u32, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        call.push((root as u32, adj_start[root]));
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut next)) = call.last_mut() {
            let vu = v as usize;
            if *next < adj_start[vu + 1] {
                let w = adj[*next] as usize;
                *next += 1;
                if index[w] == UNSEEN {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    call.push((w as u32, adj_start[w]));
                } else if on_stack[w] {
                    low[vu] = low[vu].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent as usize] = low[parent as usize].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    let id = comp_sizes.len() as u32;
                    let mut size = 0;
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = id;
                        size += 1;
                        if w == v {
                            break;
                        }
                    }
                    comp_sizes.push(size);
                }
            }
        }
    }
    let largest = comp_sizes
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| **s)
        .map_or(0, |(i, _)| i as u32);
    report.components = comp_sizes.len() as u64;
    let keep: Vec<bool> = comp.iter().map(|&c| c == largest).collect();
    report.dropped_nodes = keep.iter().filter(|k| !**k).count() as u64;
    keep
}

/// Exposed for tests: the SCC filter over plain edges `(from, to)`.
pub fn largest_component(n: usize, edges: &[(NodeId, NodeId)]) -> Vec<bool> {
    let raw: Vec<RawEdge> = edges
        .iter()
        .map(|&(from, to)| RawEdge {
            from,
            to,
            time_ms: 1,
            length_dm: 1,
            name: 0,
            class: 0,
            flags: 0,
        })
        .collect();
    largest_scc(n, &raw, &mut ImportReport::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values() {
        assert_eq!(parse_maxspeed("50"), Some(50.0));
        assert_eq!(parse_maxspeed("30 mph").map(|v| v.round()), Some(48.0));
        assert_eq!(parse_maxspeed("30;50"), Some(30.0));
        assert_eq!(parse_maxspeed("fast"), None);
        assert_eq!(parse_maxspeed("RU:urban"), None);
        assert_eq!(parse_maxspeed("2000"), None);
        assert_eq!(directions("residential", Some("-1"), None), (false, true));
        assert_eq!(directions("residential", Some("yes"), None), (true, false));
        assert_eq!(directions("residential", None, Some("roundabout")), (true, false));
        assert_eq!(directions("motorway", None, None), (true, false));
        assert_eq!(directions("motorway", Some("no"), None), (true, true));
        assert_eq!(directions("residential", Some("maybe"), None), (true, true));
    }

    #[test]
    fn the_largest_strongly_connected_component_is_kept() {
        // 0 <-> 1 <-> 2 form a component; 3 -> 0 is a dead end in; 4 <-> 5 a smaller island.
        let keep = largest_component(6, &[(0, 1), (1, 0), (1, 2), (2, 1), (3, 0), (4, 5), (5, 4)]);
        assert_eq!(keep, vec![true, true, true, false, false, false]);
    }
}
