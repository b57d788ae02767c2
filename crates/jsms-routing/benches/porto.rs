//! Routing benchmark on Porto (PRODUCT §5), reading `../shared/data/osm/porto.osm.pbf`:
//! import time and peak memory, then 1,000 random origin–destination fastest-route queries
//! with plain Dijkstra (the baseline), ALT and customizable contraction hierarchies side by
//! side under 101 random zones, the time until a new zone is reflected, and k = 3
//! alternatives.
//!
//! Run: `cargo bench -p jsms-routing --bench porto` (env `PORTO_PBF` to point elsewhere).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_domain::geo::Coordinate;
use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
use jsms_routing::alternatives::{AlternativeOptions, alternatives};
use jsms_routing::cch::{Cch, CchQuery, Metric};
use jsms_routing::dijkstra::Dijkstra;
use jsms_routing::import::import;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn pct(v: &[Duration], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

fn main() {
    let path = std::env::var("PORTO_PBF")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osm/porto.osm.pbf"));
    let Ok(bytes) = std::fs::read(&path) else {
        println!(
            "porto benchmark skipped: {} is missing (it lives in ../shared/data/osm)",
            path.display()
        );
        return;
    };
    let total = bytes.len() as u64;
    let started = Instant::now();
    let (g, report) = import(std::io::Cursor::new(bytes), total, &mut |_| {}).unwrap();
    let import_s = started.elapsed().as_secs_f64();
    println!(
        "porto: {} nodes, {} edges ({} components, {} nodes dropped)",
        g.node_count(),
        g.edge_count(),
        report.components,
        report.dropped_nodes
    );
    println!(
        "  import: {import_s:.2} s, peak memory of the process {:.0} MB (goals: ≤ 10 s, ≤ 500 MB)",
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % g.node_count() as u64) as u32
    };
    let t0 = Instant::now();
    let landmarks = jsms_routing::alt::Landmarks::new(&g, 16);
    let prep_s = t0.elapsed().as_secs_f64();
    // 100 random active zones (circles of 100 m to 1 km, severity 1 to 5), applied to the weights.
    let mut risk = jsms_routing::risk::RiskWeights::new(&g);
    let zones: Vec<ThreatZone> = (0..100)
        .map(|i| {
            let (lat, lon) = g.coordinate(next());
            let r = 100.0 + f64::from(next() % 900);
            let severity = 1 + (i % 5) as u8;
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
        })
        .collect();
    let t0 = Instant::now();
    let mut affected = 0;
    for z in &zones {
        affected += risk.add_zone(&g, z).len();
    }
    let all_zones_ms = t0.elapsed().as_secs_f64() * 1e3;
    let (lat, lon) = g.coordinate(next());
    let extra = ThreatZone::new(
        ZoneShape::Circle {
            center: Coordinate::new(lat, lon).unwrap(),
            radius_m: 800.0,
        },
        3,
        ZoneKind::IedRisk,
        0,
        None,
    )
    .unwrap();
    let t0 = Instant::now();
    let order = jsms_routing::order::nested_dissection(&g);
    let order_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let cch = Cch::with_order(&g, order);
    let contract_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let mut metric = Metric::customize(&cch, |e| risk.weight(e));
    let customize_ms = t0.elapsed().as_secs_f64() * 1e3;
    println!(
        "  CCH: nested dissection order {order_s:.1} s (once per map, stored beside it), contraction {contract_s:.2} s ({} arcs, elimination tree height {}); full customization {customize_ms:.0} ms",
        cch.arc_count(),
        cch.tree_height()
    );
    let t1 = Instant::now();
    let changed = risk.add_zone(&g, &extra);
    let updated = metric.update(&cch, |e| risk.weight(e), &changed);
    let one_zone_ms = t1.elapsed().as_secs_f64() * 1e3;
    println!(
        "  100 zones applied in {all_zones_ms:.1} ms ({affected} edge penalties); one more zone (800 m, {} edges, {updated} arcs re-customized): {one_zone_ms:.2} ms until the next query reflects it (goal ≤ 50 ms)",
        changed.len()
    );
    let pairs: Vec<(u32, u32)> = (0..1000).map(|_| (next(), next())).collect();
    let mut d = Dijkstra::new(g.node_count());
    let mut search = jsms_routing::alt::AltSearch::new(g.node_count());
    let mut lat = Vec::with_capacity(1000);
    let mut alt = Vec::with_capacity(1000);
    let mut fast = Vec::with_capacity(1000);
    let mut query = CchQuery::new(&cch);
    for &(s, t) in &pairs {
        let t0 = Instant::now();
        let p = d.run(&g, s, t, |e| risk.weight(e));
        lat.push(t0.elapsed());
        let t1 = Instant::now();
        let q = search.run(&landmarks, &g, s, t, |e| risk.weight(e));
        alt.push(t1.elapsed());
        let t2 = Instant::now();
        let c = query.run(&cch, &metric, &g, s, t);
        fast.push(t2.elapsed());
        let expected = p.map(|p| p.cost);
        assert_eq!(expected, q.map(|q| q.cost), "ALT is exact");
        assert_eq!(expected, c.map(|c| c.cost), "CCH is exact");
    }
    fast.sort_unstable();
    lat.sort_unstable();
    alt.sort_unstable();
    println!(
        "  plain Dijkstra (the baseline), 1,000 random pairs, 101 zones: p50 {:.2} ms, p99 {:.2} ms",
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    println!(
        "  ALT, 16 landmarks (prepared in {prep_s:.1} s): p50 {:.2} ms, p99 {:.2} ms — {:.1}x Dijkstra at p50 (goal ≥ 50x)",
        pct(&alt, 0.5),
        pct(&alt, 0.99),
        pct(&lat, 0.5) / pct(&alt, 0.5)
    );
    println!(
        "  CCH elimination-tree query with path: p50 {:.3} ms, p99 {:.3} ms (goals ≤ 1 ms, ≤ 5 ms) — {:.0}x Dijkstra at p50 (goal ≥ 50x)",
        pct(&fast, 0.5),
        pct(&fast, 0.99),
        pct(&lat, 0.5) / pct(&fast, 0.5)
    );
    let mut alts = Vec::with_capacity(1000);
    let mut found = [0usize; 4];
    for &(s, t) in &pairs {
        let t0 = Instant::now();
        let paths = alternatives(
            &cch,
            &metric,
            &mut query,
            &g,
            (s, t),
            3,
            &|e| risk.weight(e),
            AlternativeOptions::default(),
        );
        alts.push(t0.elapsed());
        found[paths.len().min(3)] += 1;
    }
    alts.sort_unstable();
    println!(
        "  k = 3 alternatives (stretch ≤ 1.4, shared ≤ 60 %): p50 {:.2} ms, p99 {:.2} ms (goal p50 ≤ 10 ms); pairs with 3/2/1/0 found: {}/{}/{}/{}",
        pct(&alts, 0.5),
        pct(&alts, 0.99),
        found[3],
        found[2],
        found[1],
        found[0]
    );
}
