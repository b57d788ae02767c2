//! Import of the real extracts shipped in `data/osm` (Karachi old city, Monaco): counts,
//! tag handling, the turn graph, the binary round trip, clear errors for broken files and
//! warnings for files cut at a block boundary; exactness of the turn-aware hierarchy against
//! Dijkstra on the same turn graph under random zones and partial re-customization.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_routing::dijkstra::Dijkstra;
use jsms_routing::graph::{Graph, GraphError};
use jsms_routing::import::{ImportError, ImportReport, import};
use jsms_routing::router::Router;
use jsms_routing::snap::{SnapIndex, SnapOptions};
use std::io::Cursor;
use std::path::PathBuf;

fn extract(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/osm")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str) -> (Graph, ImportReport) {
    let bytes = extract(name);
    let total = bytes.len() as u64;
    let mut last = 0;
    let result = import(Cursor::new(bytes), total, &mut |p| {
        assert!(p.done >= last && p.done <= p.total, "progress moves forward");
        last = p.done;
    })
    .unwrap();
    assert_eq!(last, total, "progress ends at 100 %");
    result
}

#[test]
fn karachi_old_city_imports_with_its_turn_graph() {
    let (g, report) = load("karachi-old-city.osm.pbf");
    assert_eq!(report.osm_ways, 1277);
    assert!(report.drivable_ways > 1000, "{report:?}");
    assert!(report.left_hand_traffic, "Pakistan keeps left");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(g.node_count() > 3000 && g.node_count() <= 5314, "{}", g.node_count());
    assert!(report.chains > 0 && report.turns > report.chains / 2, "{report:?}");
    assert_eq!(g.osm_id.len(), g.node_count());
    assert!(g.edge_count() > g.node_count());
    let (min_lat, min_lon, max_lat, max_lon) = g.bbox();
    assert!(
        min_lat > 24.84 && max_lat < 24.89 && min_lon > 66.97 && max_lon < 67.03,
        "{:?}",
        g.bbox()
    );
    assert!(g.names.iter().any(|n| n.contains("Jinnah")), "road names kept");
    // Every part of the network is kept; the main one holds nearly all roads.
    let (parts, main) = jsms_routing::turns::component_summary(&g);
    assert!(parts >= 1 && main > 0.9, "{parts} parts, main {main}");
    // Round trip through the binary form.
    let bytes = g.to_bytes();
    assert_eq!(Graph::from_bytes(&bytes).unwrap(), g);
}

#[test]
fn monaco_filters_non_roads_and_respects_one_ways() {
    let (g, report) = load("monaco.osm.pbf");
    assert_eq!(report.osm_nodes, 180_118);
    assert!(
        report.drivable_ways < 2000,
        "buildings, footways etc. dropped: {report:?}"
    );
    assert!(g.node_count() < 16_366);
    let one_way = (0..g.node_count() as u32).any(|v| {
        g.edges(v).any(|e| {
            let w = g.head[e];
            !g.edges(w).any(|back| g.head[back] == v)
        })
    });
    assert!(one_way, "some edges have no reverse");
    assert!(report.restrictions > 0 && report.restrictions_applied > 0, "{report:?}");
    assert!(report.blocking_barriers > 0, "{report:?}");
    // A route across the principality between points snapped onto roads.
    let router = Router::new(&g, None);
    let opts = SnapOptions::default();
    let a = router.snap(&g, 43.7310, 7.4150, &opts).unwrap();
    let b = router.snap(&g, 43.7460, 7.4320, &opts).unwrap();
    assert!(a.distance_m < 200.0 && b.distance_m < 200.0);
    let w = router.weights(&g, g.time_ms.iter().map(|&t| u64::from(t)).collect());
    let metric = router.customize(&w);
    let mut q = jsms_routing::cch::CchQuery::new(router.cch());
    let route = router.shortest(&g, &w, &metric, &a, &b, &mut q).unwrap();
    let minutes = route.duration_ms(&g) / 60_000.0;
    assert!((1.0..30.0).contains(&minutes), "{minutes} min");
    let points = route.points(&g);
    assert_eq!(points.first(), Some(&a.point), "the route starts at the snapped point");
    assert_eq!(points.last(), Some(&b.point));
    // Far from any road: the error names the distance.
    let err = router.snap(&g, 43.60, 7.30, &opts).unwrap_err();
    assert!(err.is_some_and(|d| d > 10_000.0));
    let index = SnapIndex::new(&g);
    assert!(index.nearest(&g, 43.60, 7.30, 500.0).is_err());
}

fn import_bytes(bytes: Vec<u8>) -> Result<(Graph, ImportReport), ImportError> {
    let n = bytes.len() as u64;
    import(Cursor::new(bytes), n, &mut |_| {})
}

#[test]
fn broken_files_are_refused_with_a_clear_error() {
    let bytes = extract("karachi-old-city.osm.pbf");
    let check = |input: Vec<u8>, needle: &str| {
        let err = import_bytes(input).unwrap_err().to_string();
        assert!(err.contains(needle), "{err:?} should say {needle:?}");
    };
    check(bytes[..bytes.len() / 2].to_vec(), "truncated");
    check(
        b"this is not a pbf file at all, just text".to_vec(),
        "does not start like a PBF",
    );
    check(Vec::new(), "empty");
    check(
        b"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\"></osm>".to_vec(),
        "XML",
    );
    check(vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], "gzip");
    check(b"BZh91AY&SY".to_vec(), "bzip2");
    // Graph files: header, truncation, checksum.
    let (g, _) = load("karachi-old-city.osm.pbf");
    let mut file = g.to_bytes();
    assert_eq!(
        Graph::from_bytes(&file[..file.len() - 1]).unwrap_err(),
        GraphError::Truncated
    );
    let last = file.len() - 1;
    file[last] ^= 1;
    assert_eq!(Graph::from_bytes(&file).unwrap_err(), GraphError::Checksum);
    assert_eq!(Graph::from_bytes(b"NOTAGRAPH").unwrap_err(), GraphError::Header);
}

#[test]
fn alt_is_exact_on_monaco_with_random_zone_penalties() {
    let (g, _) = load("monaco.osm.pbf");
    let landmarks = jsms_routing::alt::Landmarks::new(&g, 8);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for round in 0..5 {
        // A "zone": a random box whose edges cost extra time (zones only ever raise costs).
        let (clat, clon) = g.coordinate(next(g.node_count() as u64) as u32);
        let penalty = 1 + next(120_000);
        let inside: Vec<bool> = (0..g.edge_count())
            .map(|e| {
                let (lat, lon) = g.coordinate(g.head[e]);
                (lat - clat).abs() < 0.003 && (lon - clon).abs() < 0.004
            })
            .collect();
        let weight = |e: usize| u64::from(g.time_ms[e]) + if inside[e] { penalty } else { 0 };
        let mut d = Dijkstra::new(g.node_count());
        let mut search = jsms_routing::alt::AltSearch::new(g.node_count());
        for _ in 0..40 {
            let (s, t) = (next(g.node_count() as u64) as u32, next(g.node_count() as u64) as u32);
            let reference = d.run(&g, s, t, weight).map(|p| p.cost);
            let got = search.run(&landmarks, &g, s, t, weight).map(|p| p.cost);
            assert_eq!(got, reference, "round {round}: {s} -> {t}");
        }
    }
}

#[test]
fn zones_raise_costs_avoid_severe_areas_and_keep_alt_exact() {
    use jsms_domain::geo::Coordinate;
    use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
    use jsms_routing::risk::RiskWeights;
    let (g, _) = load("monaco.osm.pbf");
    let index = SnapIndex::new(&g);
    let (s, _) = index.nearest(&g, 43.7310, 7.4150, 200.0).unwrap();
    let (t, _) = index.nearest(&g, 43.7460, 7.4320, 200.0).unwrap();
    let mut risk = RiskWeights::new(&g);
    let fastest = Dijkstra::new(g.node_count()).run(&g, s, t, |e| risk.weight(e)).unwrap();
    // An avoided zone on the middle of the fastest route.
    let (mlat, mlon) = g.coordinate(fastest.nodes[fastest.nodes.len() / 2]);
    let circle = |lat, lon, r, severity| {
        ThreatZone::new(
            ZoneShape::Circle {
                center: Coordinate::new(lat, lon).unwrap(),
                radius_m: r,
            },
            severity,
            ZoneKind::IedRisk,
            0,
            None,
        )
        .unwrap()
    };
    assert!(!risk.add_zone(&g, &circle(mlat, mlon, 60.0, 5)).is_empty());
    let detour = Dijkstra::new(g.node_count()).run(&g, s, t, |e| risk.weight(e)).unwrap();
    assert!(!risk.crosses_avoided(&g, &detour.edges), "the severe zone is avoided");
    let detour_time: u64 = detour.edges.iter().map(|&e| u64::from(g.time_ms[e])).sum();
    assert!(detour_time >= fastest.cost);
    // A destination inside an avoided zone is still reached, and the answer says so.
    let (tlat, tlon) = g.coordinate(t);
    let mut trapped = RiskWeights::new(&g);
    trapped.add_zone(&g, &circle(tlat, tlon, 80.0, 4));
    let forced = Dijkstra::new(g.node_count())
        .run(&g, s, t, |e| trapped.weight(e))
        .unwrap();
    assert!(trapped.crosses_avoided(&g, &forced.edges));
    // Random milder zones: ALT stays exact.
    let landmarks = jsms_routing::alt::Landmarks::new(&g, 8);
    let mut x = 0x1234_5678_9abc_def1u64;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut mild = RiskWeights::new(&g);
    for _ in 0..20 {
        let (lat, lon) = g.coordinate(next(g.node_count() as u64) as u32);
        mild.add_zone(&g, &circle(lat, lon, 50.0 + next(400) as f64, 1 + next(3) as u8));
    }
    let mut d = Dijkstra::new(g.node_count());
    let mut a = jsms_routing::alt::AltSearch::new(g.node_count());
    for _ in 0..100 {
        let (s, t) = (next(g.node_count() as u64) as u32, next(g.node_count() as u64) as u32);
        let reference = d.run(&g, s, t, |e| mild.weight(e)).map(|p| p.cost);
        assert_eq!(
            a.run(&landmarks, &g, s, t, |e| mild.weight(e)).map(|p| p.cost),
            reference
        );
    }
}

/// The offsets of the data blocks of a PBF file (read with the PBF library, not the router).
fn block_offsets(bytes: &[u8]) -> Vec<usize> {
    osmpbf::BlobReader::new_seekable(Cursor::new(bytes.to_vec()))
        .unwrap()
        .map(|b| b.unwrap().offset().unwrap().0 as usize)
        .collect()
}

#[test]
fn a_file_cut_at_a_block_boundary_is_flagged() {
    // Monaco (osmconvert: a few large blocks, the header says it is sorted) and, when the
    // shared extracts are beside the repository, Porto (osmium: blocks of 8,000 elements).
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osm/porto.osm.pbf");
    let mut files = vec![extract("monaco.osm.pbf")];
    files.extend(std::fs::read(shared).ok());
    for bytes in files {
        let offsets = block_offsets(&bytes);
        assert!(offsets.len() > 2, "{offsets:?}");
        let (_, whole) = import_bytes(bytes.clone()).unwrap();
        assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
        // Cut at data-block boundaries, from the last one back.
        let cuts: Vec<usize> = (2..offsets.len()).rev().step_by((offsets.len() / 6).max(1)).collect();
        let mut flagged = 0;
        for &keep in &cuts {
            match import_bytes(bytes[..offsets[keep]].to_vec()) {
                Ok((_, report)) => {
                    assert!(
                        !report.warnings.is_empty(),
                        "cut after {keep} of {} blocks: {report:?}",
                        offsets.len()
                    );
                    flagged += 1;
                }
                Err(e) => assert!(matches!(e, ImportError::NoRoads), "{e}"),
            }
        }
        assert!(flagged > 0, "some cuts leave roads to import: {cuts:?}");
    }
}

#[test]
fn cch_is_exact_on_monaco_with_random_zones_and_after_partial_updates() {
    use jsms_domain::geo::Coordinate;
    use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
    use jsms_routing::cch::CchQuery;
    use jsms_routing::risk::RiskWeights;
    let (g, _) = load("monaco.osm.pbf");
    let router = Router::new(&g, None);
    let mut x = 0x0bad_cafe_f00d_1234u64;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let circle = |lat, lon, r, severity| {
        ThreatZone::new(
            ZoneShape::Circle {
                center: Coordinate::new(lat, lon).unwrap(),
                radius_m: r,
            },
            severity,
            ZoneKind::Unrest,
            0,
            None,
        )
        .unwrap()
    };
    let mut risk = RiskWeights::new(&g);
    for _ in 0..15 {
        let (lat, lon) = g.coordinate(next(g.node_count() as u64) as u32);
        risk.add_zone(&g, &circle(lat, lon, 50.0 + next(300) as f64, 1 + next(5) as u8));
    }
    let mut w = router.weights(&g, (0..g.edge_count()).map(|e| risk.weight(e)).collect());
    let mut metric = router.customize(&w);
    let mut q = CchQuery::new(router.cch());
    let mut d = Dijkstra::new(g.turns.chain_count());
    let opts = SnapOptions::default();
    let mut compare = |w: &jsms_routing::router::Weights,
                       metric: &jsms_routing::cch::Metric,
                       next: &mut dyn FnMut(u64) -> u64| {
        let mut routed = 0;
        for _ in 0..150 {
            let pick = |next: &mut dyn FnMut(u64) -> u64| g.coordinate(next(g.node_count() as u64) as u32);
            let (a, b) = (pick(next), pick(next));
            let (Ok(a), Ok(b)) = (router.snap(&g, a.0, a.1, &opts), router.snap(&g, b.0, b.1, &opts)) else {
                continue;
            };
            let reference = router.shortest_by_dijkstra(&g, w, &a, &b, &mut d);
            let got = router.shortest(&g, w, metric, &a, &b, &mut q);
            let key =
                |r: &Result<jsms_routing::router::Route, _>| r.as_ref().ok().map(|r| (r.restricted_entries, r.cost));
            assert_eq!(key(&got), key(&reference));
            if let Ok(r) = got {
                routed += 1;
                // The route is a drivable sequence of segments.
                for pair in r.edges.windows(2) {
                    assert_eq!(g.head[pair[0]], g.tail(pair[1]));
                }
                assert!(r.length_m(&g) > 0.0 || r.edges.len() == 1);
            }
        }
        assert!(routed > 100, "{routed} of 150 pairs routed");
    };
    compare(&w, &metric, &mut next);
    // Zones added one by one, each applied by a partial re-customization.
    for _ in 0..5 {
        let (lat, lon) = g.coordinate(next(g.node_count() as u64) as u32);
        let changed = risk.add_zone(&g, &circle(lat, lon, 100.0 + next(200) as f64, 1 + next(5) as u8));
        for &e in &changed {
            w.seg[e] = risk.weight(e);
        }
        router.update(&g, &mut w, &mut metric, &changed);
    }
    assert_eq!(
        w,
        router.weights(&g, w.seg.clone()),
        "partial update of the turn weights"
    );
    compare(&w, &metric, &mut next);
}
