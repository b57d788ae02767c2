//! Routing benchmark on Porto (PRODUCT §5), reading `../shared/data/osm/porto.osm.pbf`:
//! import with the turn graph (restrictions, barriers, access, turn costs) and the
//! hierarchy's order, time and peak memory; then 1,000 random origin–destination pairs,
//! snapped onto road segments, answered with plain Dijkstra on the turn graph (the
//! baseline) and the customizable contraction hierarchy side by side under 101 random
//! zones (equal costs asserted); the time until a new zone is reflected; k = 3
//! alternatives; and, on travel time alone, the same pairs beside OSRM's car profile (CH
//! and MLD, the PyPI package `osrm-bindings`, run from this benchmark by
//! `benches/osrm_compare.py`): query times and durations pair by pair.
//!
//! Run: `cargo bench -p jsms-routing --bench porto` (env `PORTO_PBF` to point elsewhere,
//! `OSRM_PYTHON` to a Python ≥ 3.12 with `osrm-bindings`; by default
//! `target/osrm-venv/bin/python`, then `python3`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_domain::geo::Coordinate;
use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
use jsms_routing::alternatives::AlternativeOptions;
use jsms_routing::cch::CchQuery;
use jsms_routing::dijkstra::Dijkstra;
use jsms_routing::import::import;
use jsms_routing::router::{Router, Weights};
use jsms_routing::snap::{Snap, SnapOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
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

fn pctf(v: &[f64], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = std::env::var("PORTO_PBF")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("../shared/data/osm/porto.osm.pbf"));
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
    let t0 = Instant::now();
    let order = jsms_routing::order::turn_order(&g);
    let order_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let router = Router::new(&g, Some(order));
    let contract_s = t0.elapsed().as_secs_f64();
    let (parts, main_share) = router.components();
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    println!(
        "{name}: {} nodes, {} segments; turn graph {} chains, {} turns; {} turn restrictions for cars ({} applied, {} moot, {} unresolved, {} conditional ignored); {} blocking and {} private barriers; {} restricted-access ways; {} strongly connected parts, the largest holding {:.1} % of the road length",
        g.node_count(),
        g.edge_count(),
        report.chains,
        report.turns,
        report.restrictions,
        report.restrictions_applied,
        report.restrictions_moot,
        report.restrictions_unresolved,
        report.restrictions_conditional,
        report.blocking_barriers,
        report.restricted_barriers,
        report.restricted_ways,
        parts,
        main_share * 100.0
    );
    println!(
        "  import {import_s:.2} s + hierarchy order {order_s:.2} s + contraction {contract_s:.2} s = {:.2} s; peak memory of the process {:.0} MB (goals: ≤ 10 s, ≤ 500 MB)",
        import_s + order_s + contract_s,
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    println!(
        "  CCH on the turn graph: {} arcs, elimination tree height {}",
        router.cch().arc_count(),
        router.cch().tree_height()
    );
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // 1,000 pairs of random points on the network (random nodes, snapped onto segments);
    // as planning does, an end on a small part of the network that cannot reach the other
    // is moved onto the main network.
    let mut pairs: Vec<(Snap, Snap)> = Vec::new();
    let mut coords: Vec<[f64; 4]> = Vec::new();
    let mut moved = 0;
    {
        let w = router.weights(&g, g.time_ms.iter().map(|&t| u64::from(t)).collect());
        let metric = router.customize(&w);
        let mut query = CchQuery::new(router.cch());
        let in_main = |e: usize| router.in_main_network(&g, e);
        let main = SnapOptions {
            filter: Some(&in_main),
            ..SnapOptions::default()
        };
        while pairs.len() < 1000 {
            let a = g.coordinate((next() % g.node_count() as u64) as u32);
            let b = g.coordinate((next() % g.node_count() as u64) as u32);
            let opts = SnapOptions::default();
            let (Ok(mut sa), Ok(mut sb)) = (router.snap(&g, a.0, a.1, &opts), router.snap(&g, b.0, b.1, &opts)) else {
                continue;
            };
            if router.shortest(&g, &w, &metric, &sa, &sb, &mut query).is_err() {
                moved += 1;
                if !router.in_main_network(&g, sa.edge) {
                    sa = router.snap(&g, a.0, a.1, &main).unwrap_or(sa);
                }
                if !router.in_main_network(&g, sb.edge) {
                    sb = router.snap(&g, b.0, b.1, &main).unwrap_or(sb);
                }
            }
            pairs.push((sa, sb));
            coords.push([a.0, a.1, b.0, b.1]);
        }
    }
    println!("  1,000 random pairs snapped onto segments; {moved} had an end moved onto the main network");
    // 100 random active zones (circles of 100 m to 1 km, severity 1 to 5).
    let mut risk = jsms_routing::risk::RiskWeights::new(&g);
    let t0 = Instant::now();
    let mut affected = 0;
    for i in 0..100u64 {
        let (lat, lon) = g.coordinate((next() % g.node_count() as u64) as u32);
        let zone = ThreatZone::new(
            ZoneShape::Circle {
                center: Coordinate::new(lat, lon).unwrap(),
                radius_m: 100.0 + (next() % 900) as f64,
            },
            1 + (i % 5) as u8,
            ZoneKind::Unrest,
            0,
            None,
        )
        .unwrap();
        affected += risk.add_zone(&g, &zone).len();
    }
    let all_zones_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t0 = Instant::now();
    let mut w = router.weights(&g, (0..g.edge_count()).map(|e| risk.weight(e)).collect());
    let mut metric = router.customize(&w);
    let customize_ms = t0.elapsed().as_secs_f64() * 1e3;
    let (lat, lon) = g.coordinate((next() % g.node_count() as u64) as u32);
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
    let t1 = Instant::now();
    let changed = risk.add_zone(&g, &extra);
    for &e in &changed {
        w.seg[e] = risk.weight(e);
    }
    let updated = router.update(&g, &mut w, &mut metric, &changed);
    let one_zone_ms = t1.elapsed().as_secs_f64() * 1e3;
    // The planner's path for the same change: turn weights from the segment weights, then
    // the metric cache (which holds the customization without the zone): compare, copy the
    // closest, update the turns that differ.
    let before = router.weights(
        &g,
        w.seg
            .iter()
            .enumerate()
            .map(|(e, &x)| {
                if changed.contains(&e) {
                    x.min(u64::from(g.time_ms[e]))
                } else {
                    x
                }
            })
            .collect(),
    );
    let _ = router.metric(&before);
    let t2 = Instant::now();
    let again = router.weights(&g, w.seg.clone());
    let _ = router.metric(&again);
    let planner_ms = t2.elapsed().as_secs_f64() * 1e3;
    // Once the cache is full (a running server), an evicted customization's arrays are
    // reused for the copy.
    for k in 0..6u64 {
        let _ = router.metric(&router.weights(&g, w.seg.iter().map(|&x| x + k + 1).collect()));
    }
    let _ = router.metric(&before);
    let t2 = Instant::now();
    let again = router.weights(&g, w.seg.clone());
    let _ = router.metric(&again);
    let planner_warm_ms = t2.elapsed().as_secs_f64() * 1e3;
    println!(
        "  100 zones applied in {all_zones_ms:.1} ms ({affected} segment penalties); turn weights and full customization {customize_ms:.0} ms; one more zone (800 m, {} segments, {updated} arcs re-customized): {one_zone_ms:.2} ms until the next query reflects it (goal ≤ 50 ms); through the planner's metric cache (turn weights, compare, copy, update): {planner_ms:.1} ms, {planner_warm_ms:.1} ms once the cache is full",
        changed.len()
    );
    // Each method over all pairs in its own loop (neither runs on the other's cache), then
    // the answers compared.
    let mut d = Dijkstra::new(g.turns.chain_count());
    let mut query = CchQuery::new(router.cch());
    let key = |r: &Result<jsms_routing::router::Route, _>| r.as_ref().ok().map(|r| (r.restricted_entries, r.cost));
    let (mut slow, mut fast) = (Vec::new(), Vec::new());
    let mut expected = Vec::with_capacity(pairs.len());
    for (a, b) in &pairs {
        let t0 = Instant::now();
        let reference = router.shortest_by_dijkstra(&g, &w, a, b, &mut d);
        slow.push(t0.elapsed());
        expected.push(key(&reference));
    }
    let mut unreachable = 0;
    for ((a, b), expected) in pairs.iter().zip(&expected) {
        let t1 = Instant::now();
        let got = router.shortest(&g, &w, &metric, a, b, &mut query);
        fast.push(t1.elapsed());
        assert_eq!(*expected, key(&got), "CCH is exact");
        unreachable += usize::from(got.is_err());
    }
    slow.sort_unstable();
    fast.sort_unstable();
    println!(
        "  plain Dijkstra on the turn graph (the baseline), 1,000 random pairs, 101 zones: p50 {:.2} ms, p99 {:.2} ms ({unreachable} pairs without a route)",
        pct(&slow, 0.5),
        pct(&slow, 0.99)
    );
    println!(
        "  CCH query with the route (segments, partial ends): p50 {:.3} ms, p99 {:.3} ms (goals ≤ 1 ms, ≤ 5 ms) — {:.0}x Dijkstra at p50 (goal ≥ 50x)",
        pct(&fast, 0.5),
        pct(&fast, 0.99),
        pct(&slow, 0.5) / pct(&fast, 0.5)
    );
    let mut alts = Vec::with_capacity(1000);
    let mut found = [0usize; 4];
    for (a, b) in &pairs {
        let t0 = Instant::now();
        let routes = router.routes(&g, &w, &metric, a, b, 3, AlternativeOptions::default());
        alts.push(t0.elapsed());
        found[routes.map_or(0, |r| r.len()).min(3)] += 1;
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
    compare_with_osrm(&root, &path, &g, &router, &pairs, &coords);
}

/// Travel time only, the same pairs, beside OSRM.
fn compare_with_osrm(
    root: &Path,
    pbf: &Path,
    g: &jsms_routing::Graph,
    router: &Router,
    pairs: &[(Snap, Snap)],
    coords: &[[f64; 4]],
) {
    let w: Weights = router.weights(g, g.time_ms.iter().map(|&t| u64::from(t)).collect());
    let metric = router.customize(&w);
    let mut query = CchQuery::new(router.cch());
    let mut ours: Vec<Option<f64>> = Vec::new();
    let mut times = Vec::new();
    for (a, b) in pairs {
        let t0 = Instant::now();
        let r = router.shortest(g, &w, &metric, a, b, &mut query);
        times.push(t0.elapsed());
        ours.push(r.ok().map(|r| r.duration_ms(g) / 1000.0));
    }
    times.sort_unstable();
    let our_p50 = pct(&times, 0.5);
    println!(
        "  travel time only (no zones): JSMS p50 {our_p50:.3} ms, p99 {:.3} ms",
        pct(&times, 0.99)
    );
    let candidates: Vec<PathBuf> = std::env::var_os("OSRM_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join("target/osrm-venv/bin/python"), PathBuf::from("python3")])
        .collect();
    let python = candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import osrm"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(python) = python else {
        println!(
            "  OSRM comparison skipped: no Python with the osrm-bindings package (set OSRM_PYTHON; `python3.12 -m venv target/osrm-venv && target/osrm-venv/bin/pip install osrm-bindings`)"
        );
        return;
    };
    let work = root.join("target/osrm-bench");
    std::fs::create_dir_all(&work).unwrap();
    let pairs_file = work.join("pairs.json");
    let out_file = work.join("answers.json");
    std::fs::write(&pairs_file, serde_json::to_string(coords).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/osrm_compare.py");
    let status = Command::new(&python)
        .arg(&script)
        .arg(pbf)
        .arg(&work)
        .arg(&pairs_file)
        .arg(&out_file)
        .status()
        .unwrap();
    if !status.success() {
        println!("  OSRM comparison failed: {} exited with {status}", script.display());
        return;
    }
    let answers: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let version = answers["version"].as_str().unwrap_or("?");
    let prepare_s = answers["prepare_s"].as_f64().unwrap_or(0.0);
    println!(
        "  OSRM {version} (osrm-bindings, car.lua, run from this benchmark; preparation {}):",
        if prepare_s > 0.0 {
            format!("{prepare_s:.1} s")
        } else {
            "reused from target/osrm-bench".to_owned()
        }
    );
    println!("    | engine | query p50 | query p99 | JSMS faster at p50 | routes found |");
    println!("    |---|---|---|---|---|");
    println!(
        "    | JSMS turn-aware CCH | {our_p50:.3} ms | {:.3} ms | 1.0 | {} |",
        pct(&times, 0.99),
        ours.iter().flatten().count()
    );
    for algorithm in ["ch", "mld"] {
        let list = answers[algorithm].as_array().unwrap();
        let mut ms: Vec<f64> = list.iter().filter_map(|a| a["ms"].as_f64()).collect();
        ms.sort_by(f64::total_cmp);
        if ms.is_empty() {
            continue;
        }
        println!(
            "    | OSRM {} | {:.3} ms | {:.3} ms | {:.2}x | {} |",
            algorithm.to_uppercase(),
            pctf(&ms, 0.5),
            pctf(&ms, 0.99),
            pctf(&ms, 0.5) / our_p50,
            ms.len()
        );
    }
    let ch = answers["ch"].as_array().unwrap();
    let mut ratios = Vec::new();
    let (mut ours_total, mut theirs_total) = (Vec::new(), Vec::new());
    let mut longer = Vec::new();
    for (i, (mine, theirs)) in ours.iter().zip(ch).enumerate() {
        let (Some(mine), Some(theirs)) = (mine, theirs["duration_s"].as_f64()) else {
            continue;
        };
        if theirs < 1.0 {
            continue;
        }
        ratios.push(mine / theirs);
        ours_total.push(*mine);
        theirs_total.push(theirs);
        if *mine > theirs * 1.3 {
            // OSRM moves an end lying on a small part of its network onto a big one, far
            // from the point asked; JSMS routes from the nearest road.
            let snap = |k: usize| ch[i]["snap_m"][k].as_f64().unwrap_or(0.0);
            let (a, b) = (&pairs[i].0, &pairs[i].1);
            let moved = (snap(0) - a.distance_m).max(snap(1) - b.distance_m);
            longer.push((i, *mine, theirs, moved));
        }
    }
    ratios.sort_by(f64::total_cmp);
    ours_total.sort_by(f64::total_cmp);
    theirs_total.sort_by(f64::total_cmp);
    if ratios.is_empty() {
        return;
    }
    let explained = longer.iter().filter(|l| l.3 > 10.0).count();
    println!(
        "  durations on {} pairs both answered: median JSMS {:.0} s, OSRM {:.0} s ({:+.1} %, goal ± 5 %); per pair JSMS ÷ OSRM: p5 {:.2}, median {:.3}, p95 {:.2}; {} pairs more than 30 % longer than OSRM's route ({explained} of them because OSRM moved an end more than 10 m farther than JSMS, off a small part of its network)",
        ratios.len(),
        pctf(&ours_total, 0.5),
        pctf(&theirs_total, 0.5),
        (pctf(&ours_total, 0.5) / pctf(&theirs_total, 0.5) - 1.0) * 100.0,
        pctf(&ratios, 0.05),
        pctf(&ratios, 0.5),
        pctf(&ratios, 0.95),
        longer.len()
    );
    for (i, mine, theirs, moved) in longer.iter().take(8) {
        let c = coords[*i];
        println!(
            "    pair {i}: {:.7},{:.7} → {:.7},{:.7}: JSMS {mine:.0} s, OSRM {theirs:.0} s; OSRM's ends {moved:.0} m farther from the points",
            c[0], c[1], c[2], c[3]
        );
    }
}
