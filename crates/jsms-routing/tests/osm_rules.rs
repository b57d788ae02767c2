//! Routes checked by an independent reader of the OpenStreetMap data (`check_routes.py`, on
//! pyosmium; it shares no code with the router): on every extract in `data/osm` and
//! `../shared/data/osm`, random routes and routes around every barrier must break no turn
//! restriction, no one-way, no access rule and pass no blocking barrier; restricted roads
//! are entered only as the ends need. Also: an unsorted copy of an extract (written by
//! pyosmium in reverse order) imports into the identical graph.
//!
//! Needs `python3` with the `osmium` package (`cargo xtask test` installs it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_routing::Graph;
use jsms_routing::cch::CchQuery;
use jsms_routing::graph::node_flags;
use jsms_routing::import::import;
use jsms_routing::router::{Route, Router};
use jsms_routing::snap::{Snap, SnapOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The extracts to check: the repository's and the shared ones (by file name, once).
fn extracts() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in [root().join("data/osm"), root().join("../shared/data/osm")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".osm.pbf"))
            .collect();
        files.sort();
        for f in files {
            if !out.iter().any(|o| o.file_name() == f.file_name()) {
                out.push(f);
            }
        }
    }
    out
}

fn python() -> Command {
    let check = Command::new("python3")
        .args(["-c", "import osmium"])
        .output()
        .expect("python3 (run `cargo xtask test`, which installs the osmium package)");
    assert!(
        check.status.success(),
        "python3 cannot import osmium: run `cargo xtask test`, which installs it (pip install osmium)"
    );
    Command::new("python3")
}

fn load(path: &Path) -> Graph {
    let bytes = std::fs::read(path).unwrap();
    let total = bytes.len() as u64;
    import(std::io::Cursor::new(bytes), total, &mut |_| {}).unwrap().0
}

fn route_json(g: &Graph, r: &Route) -> serde_json::Value {
    let first = r.edges[0];
    let last = *r.edges.last().unwrap();
    let mut nodes = vec![g.tail(first)];
    nodes.extend(r.nodes(g));
    nodes.push(g.head[last]);
    serde_json::json!({
        "nodes": nodes.iter().map(|&v| g.osm_id[v as usize]).collect::<Vec<_>>(),
        "coords": nodes.iter().map(|&v| { let (lat, lon) = g.coordinate(v); [lat, lon] }).collect::<Vec<_>>(),
    })
}

/// Routes on `g` (random pairs and pairs around every barrier of `original`, the graph as
/// imported) checked against the extract at `path`: the checker's summary.
fn check(path: &Path, g: &Graph, original: &Graph, work: &Path) -> serde_json::Value {
    let g = g.clone();
    {
        let router = Router::new(&g, None);
        let w = router.weights(&g, g.time_ms.iter().map(|&t| u64::from(t)).collect());
        let metric = router.customize(&w);
        let mut query = CchQuery::new(router.cch());
        let mut x = 0x5eed_1234_abcd_ef01u64 ^ g.node_count() as u64;
        let mut next = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let snap = |p: (f64, f64)| router.snap(&g, p.0, p.1, &SnapOptions::default()).ok();
        let mut ends: Vec<(Snap, Snap)> = Vec::new();
        // Random pairs.
        while ends.len() < 300 {
            let a = g.coordinate(next(g.node_count()) as u32);
            let b = g.coordinate(next(g.node_count()) as u32);
            if let (Some(a), Some(b)) = (snap(a), snap(b)) {
                ends.push((a, b));
            }
        }
        // Across every barrier: from a point beside it to a point beside it on the other side.
        let mut barriers = 0;
        for v in 0..g.node_count() as u32 {
            if original.node_flags[v as usize] & (node_flags::BLOCKED | node_flags::RESTRICTED) == 0 {
                continue;
            }
            let around: Vec<u32> = g.edges(v).map(|e| g.head[e]).collect();
            for (i, &a) in around.iter().enumerate() {
                for &b in &around[i + 1..] {
                    let (pa, pb) = (g.coordinate(a), g.coordinate(b));
                    if let (Some(sa), Some(sb)) = (snap(pa), snap(pb)) {
                        ends.push((sa.clone(), sb.clone()));
                        ends.push((sb, sa));
                        barriers += 1;
                    }
                }
            }
        }
        let mut routes = Vec::new();
        for (a, b) in &ends {
            if let Ok(r) = router.shortest(&g, &w, &metric, a, b, &mut query)
                && !r.edges.is_empty()
            {
                routes.push(route_json(&g, &r));
            }
        }
        assert!(
            routes.len() > ends.len() * 8 / 10,
            "{}: most pairs connect",
            path.display()
        );
        let file = work.join("routes.json");
        std::fs::write(&file, serde_json::json!({ "routes": routes }).to_string()).unwrap();
        let out = python()
            .arg(root().join("crates/jsms-routing/tests/check_routes.py"))
            .arg(path)
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "checker failed on {}: {stderr}", path.display());
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        println!(
            "{}: {} routes ({} around {barriers} barrier passages), {}",
            path.file_name().unwrap().to_string_lossy(),
            routes.len(),
            ends.len() - 300,
            summary["counts"]
        );
        assert_eq!(summary["counts"]["routes"].as_u64(), Some(routes.len() as u64));
        summary
    }
}

#[test]
fn routes_obey_restrictions_one_ways_access_and_barriers_on_every_extract() {
    let maps = extracts();
    assert!(maps.len() >= 2, "extracts found: {maps:?}");
    let work = tempfile::tempdir().unwrap();
    for path in &maps {
        let g = load(path);
        let summary = check(path, &g, &g, work.path());
        let violations = summary["violations"].as_array().unwrap();
        assert!(
            violations.is_empty(),
            "{}: {} violations, e.g. {:?}",
            path.display(),
            violations.len(),
            &violations[..violations.len().min(5)]
        );
    }
}

#[test]
fn the_checker_catches_a_router_that_ignores_the_rules() {
    let path = root().join("data/osm/monaco.osm.pbf");
    let original = load(&path);
    let mut g = original.clone();
    // No restrictions, no barriers, no access classes: the road as a naive router sees it.
    g.node_flags.iter_mut().for_each(|f| *f = 0);
    g.flags
        .iter_mut()
        .for_each(|f| *f &= !jsms_routing::graph::flags::RESTRICTED);
    g.turns = jsms_routing::turns::TurnGraph::build(&g, &vec![0; g.edge_count()], &[], false).0;
    let work = tempfile::tempdir().unwrap();
    let summary = check(&path, &g, &original, work.path());
    let kinds: std::collections::BTreeSet<&str> = summary["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    for kind in ["restriction", "barrier", "restricted_access"] {
        assert!(kinds.contains(kind), "{kind} violations caught: {kinds:?}");
    }
    // Hand-made wrong routes: a one-way driven backwards, a node where it is not.
    let one_way = (0..original.edge_count())
        .find(|&e| {
            let (u, v) = (original.tail(e), original.head[e]);
            !original.edges(v).any(|r| original.head[r] == u)
        })
        .unwrap();
    let (u, v) = (original.tail(one_way), original.head[one_way]);
    let node = |x: u32| {
        let (lat, lon) = original.coordinate(x);
        (original.osm_id[x as usize], [lat, lon])
    };
    let (a, b) = (node(v), node(u));
    let wrong = serde_json::json!({ "routes": [
        { "nodes": [a.0, b.0], "coords": [a.1, b.1] },
        { "nodes": [b.0, a.0], "coords": [[b.1[0] + 0.001, b.1[1]], a.1] },
    ]});
    let file = work.path().join("wrong.json");
    std::fs::write(&file, wrong.to_string()).unwrap();
    let out = python()
        .arg(root().join("crates/jsms-routing/tests/check_routes.py"))
        .arg(&path)
        .arg(&file)
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let caught: Vec<(u64, &str)> = summary["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["route"].as_u64().unwrap(), v["kind"].as_str().unwrap()))
        .collect();
    assert!(caught.contains(&(0, "oneway")), "{caught:?}");
    assert!(caught.contains(&(1, "coordinates")), "{caught:?}");
}

#[test]
fn an_unsorted_extract_imports_into_the_identical_graph() {
    let sorted = root().join("data/osm/monaco.osm.pbf");
    let work = tempfile::tempdir().unwrap();
    let unsorted = work.path().join("monaco-unsorted.osm.pbf");
    // Relations first, then ways and nodes, each in descending id order.
    let script = r#"
import sys, osmium
src, dst = sys.argv[1], sys.argv[2]
nodes, ways, rels = [], [], []
for o in osmium.FileProcessor(src):
    if o.is_node():
        nodes.append(osmium.osm.mutable.Node(o, location=(o.location.lon, o.location.lat), tags=dict(o.tags)))
    elif o.is_way():
        ways.append(osmium.osm.mutable.Way(o, nodes=[n.ref for n in o.nodes], tags=dict(o.tags)))
    elif o.is_relation():
        rels.append(osmium.osm.mutable.Relation(o, members=[(m.type, m.ref, m.role) for m in o.members], tags=dict(o.tags)))
with osmium.SimpleWriter(dst) as w:
    for r in reversed(rels): w.add_relation(r)
    for x in reversed(ways): w.add_way(x)
    for n in reversed(nodes): w.add_node(n)
"#;
    let out = python()
        .args(["-c", script])
        .arg(&sorted)
        .arg(&unsorted)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a = load(&sorted);
    let b = load(&unsorted);
    assert_eq!(a.to_bytes(), b.to_bytes(), "the same graph, turn graph included");
    assert!(a.turns.turn_count() > 0);
}
