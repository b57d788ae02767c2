//! Import of the real extracts shipped in `data/osm` (Karachi old city, Monaco): counts,
//! tag handling, the largest component, the binary round trip, and clear errors for broken
//! files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_routing::dijkstra::Dijkstra;
use jsms_routing::graph::{Graph, GraphError};
use jsms_routing::import::{ImportError, import};
use jsms_routing::snap::SnapIndex;
use std::io::Cursor;
use std::path::PathBuf;

fn extract(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/osm")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str) -> (Graph, jsms_routing::import::ImportReport) {
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
fn karachi_old_city_imports_into_one_strongly_connected_network() {
    let (g, report) = load("karachi-old-city.osm.pbf");
    assert_eq!(report.osm_ways, 1277);
    assert!(report.drivable_ways > 1000, "{report:?}");
    assert!(g.node_count() > 3000 && g.node_count() <= 5314, "{}", g.node_count());
    assert!(g.edge_count() > g.node_count());
    let (min_lat, min_lon, max_lat, max_lon) = g.bbox();
    assert!(
        min_lat > 24.84 && max_lat < 24.89 && min_lon > 66.97 && max_lon < 67.03,
        "{:?}",
        g.bbox()
    );
    assert!(g.names.iter().any(|n| n.contains("Jinnah")), "road names kept");
    // Every node reaches every other: the component was kept whole.
    let mut d = Dijkstra::new(g.node_count());
    let far = (g.node_count() - 1) as u32;
    assert!(d.run(&g, 0, far, |e| u64::from(g.time_ms[e])).is_some());
    assert!(d.run(&g, far, 0, |e| u64::from(g.time_ms[e])).is_some());
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
    // A route across the principality, snapped from coordinates.
    let index = SnapIndex::new(&g);
    let (a, da) = index.nearest(&g, 43.7310, 7.4150, 200.0).unwrap();
    let (b, db) = index.nearest(&g, 43.7460, 7.4320, 200.0).unwrap();
    assert!(da < 200.0 && db < 200.0);
    let path = Dijkstra::new(g.node_count())
        .run(&g, a, b, |e| u64::from(g.time_ms[e]))
        .unwrap();
    let minutes = path.cost as f64 / 60_000.0;
    assert!((1.0..30.0).contains(&minutes), "{minutes} min");
    // Far from any road: the error names the distance.
    let err = index.nearest(&g, 43.60, 7.30, 500.0).unwrap_err();
    assert!(err.is_some_and(|d| d > 10_000.0));
}

#[test]
fn broken_files_are_refused_with_a_clear_error() {
    let bytes = extract("karachi-old-city.osm.pbf");
    let truncated = bytes[..bytes.len() / 2].to_vec();
    let n = truncated.len() as u64;
    assert!(matches!(
        import(Cursor::new(truncated), n, &mut |_| {}),
        Err(ImportError::Pbf(_))
    ));
    let garbage = b"this is not a pbf file at all, just text".to_vec();
    assert!(matches!(
        import(Cursor::new(garbage), 40, &mut |_| {}),
        Err(ImportError::Pbf(_))
    ));
    assert!(matches!(
        import(Cursor::new(Vec::new()), 0, &mut |_| {}),
        Err(ImportError::Pbf(_))
    ));
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

#[test]
fn cch_is_exact_on_monaco_with_random_zones_and_after_partial_updates() {
    use jsms_domain::geo::Coordinate;
    use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
    use jsms_routing::cch::{Cch, CchQuery, Metric};
    use jsms_routing::risk::RiskWeights;
    let (g, _) = load("monaco.osm.pbf");
    let cch = Cch::new(&g);
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
    let mut metric = Metric::customize(&cch, |e| risk.weight(e));
    let mut q = CchQuery::new(&cch);
    let mut d = Dijkstra::new(g.node_count());
    let mut compare = |metric: &Metric, risk: &RiskWeights, next: &mut dyn FnMut(u64) -> u64| {
        for _ in 0..150 {
            let (s, t) = (next(g.node_count() as u64) as u32, next(g.node_count() as u64) as u32);
            let reference = d.run(&g, s, t, |e| risk.weight(e));
            let got = q.run(&cch, metric, &g, s, t);
            assert_eq!(got.as_ref().map(|p| p.cost), reference.map(|p| p.cost), "{s} → {t}");
            if let Some(p) = got {
                assert_eq!(p.edges.iter().map(|&e| risk.weight(e)).sum::<u64>(), p.cost);
                assert_eq!(p.nodes.last(), Some(&t));
            }
        }
    };
    compare(&metric, &risk, &mut next);
    // Zones added one by one, each applied by a partial re-customization.
    for _ in 0..5 {
        let (lat, lon) = g.coordinate(next(g.node_count() as u64) as u32);
        let changed = risk.add_zone(&g, &circle(lat, lon, 100.0 + next(200) as f64, 1 + next(5) as u8));
        metric.update(&cch, |e| risk.weight(e), &changed);
    }
    compare(&metric, &risk, &mut next);
}
