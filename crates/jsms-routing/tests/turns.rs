//! The road as OpenStreetMap describes it, on small networks built by hand: turn
//! restrictions (via node and via way, `no_*` and `only_*`, `except`), barriers, the access
//! hierarchy (private roads and gates only at the ends of a trip), excluded ways, U-turns
//! only at dead ends, turn and signal costs, snapping onto segments with partial ends, the
//! heading, and disconnected ends; and, on random networks, the hierarchy equal to Dijkstra
//! on the same turn graph.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_routing::Graph;
use jsms_routing::cch::CchQuery;
use jsms_routing::dijkstra::Dijkstra;
use jsms_routing::import::OsmData;
use jsms_routing::router::{Route, RouteError, Router};
use jsms_routing::snap::SnapOptions;
use osmpbf::RelMemberType;
use proptest::prelude::*;

/// A grid of nodes `(row, col)`, 0.001° apart (about 111 m north–south, 84 m east–west),
/// row 0 to the north; node id = 1 + 100 × row + col.
fn id(r: i64, c: i64) -> i64 {
    1 + 100 * r + c
}

fn at(r: f64, c: f64) -> (f64, f64) {
    (41.0 - r * 0.001, -8.6 + c * 0.001)
}

/// Way ids by the grid nodes they join, in both orders.
type Ways = std::collections::HashMap<((i64, i64), (i64, i64)), i64>;

struct Net {
    data: OsmData,
    way: i64,
}

impl Net {
    /// Nodes for a `rows` × `cols` grid.
    fn grid(rows: i64, cols: i64) -> Self {
        let mut data = OsmData::new();
        for r in 0..rows {
            for c in 0..cols {
                let (lat, lon) = at(r as f64, c as f64);
                data.add_node(id(r, c), (lat * 1e7).round() as i32, (lon * 1e7).round() as i32, &[]);
            }
        }
        Self { data, way: 1000 }
    }

    /// Re-adds node `(r, c)` with tags.
    fn tag_node(&mut self, r: i64, c: i64, tags: &[(&str, &str)]) {
        let (lat, lon) = at(r as f64, c as f64);
        self.data
            .add_node(id(r, c), (lat * 1e7).round() as i32, (lon * 1e7).round() as i32, tags);
    }

    /// A way through grid nodes; returns its id.
    fn road(&mut self, nodes: &[(i64, i64)], tags: &[(&str, &str)]) -> i64 {
        self.way += 1;
        let mut all = vec![("highway", "residential")];
        all.extend_from_slice(tags);
        if tags.iter().any(|(k, _)| *k == "highway") {
            all.remove(0);
        }
        self.data
            .add_way(self.way, nodes.iter().map(|&(r, c)| id(r, c)).collect(), &all);
        self.way
    }

    /// Every grid edge as its own two-way road; returns the way ids by (from, to) node.
    fn all_roads(&mut self, rows: i64, cols: i64) -> Ways {
        let mut ways = std::collections::HashMap::new();
        for r in 0..rows {
            for c in 0..cols {
                if c + 1 < cols {
                    let w = self.road(&[(r, c), (r, c + 1)], &[]);
                    ways.insert(((r, c), (r, c + 1)), w);
                    ways.insert(((r, c + 1), (r, c)), w);
                }
                if r + 1 < rows {
                    let w = self.road(&[(r, c), (r + 1, c)], &[]);
                    ways.insert(((r, c), (r + 1, c)), w);
                    ways.insert(((r + 1, c), (r, c)), w);
                }
            }
        }
        ways
    }

    fn restriction(&mut self, value: &str, from: i64, via: &[(RelMemberType, i64)], to: i64, extra: &[(&str, &str)]) {
        let mut members = vec![("from", RelMemberType::Way, from)];
        members.extend(via.iter().map(|(t, i)| ("via", t.clone(), *i)));
        members.push(("to", RelMemberType::Way, to));
        let mut tags = vec![("type", "restriction"), ("restriction", value)];
        tags.extend_from_slice(extra);
        self.data.add_relation(&members, &tags);
    }

    fn build(self) -> (Graph, Router) {
        let (g, _) = self.data.build(Some(false)).unwrap();
        let router = Router::new(&g, None);
        (g, router)
    }
}

/// The fastest route between two points, snapped (optionally with the start's heading).
fn route(
    g: &Graph,
    router: &Router,
    from: (f64, f64),
    to: (f64, f64),
    heading: Option<f64>,
) -> Result<Route, RouteError> {
    let a = router
        .snap(
            g,
            from.0,
            from.1,
            &SnapOptions {
                heading: heading.map(|h| (h, 45.0)),
                ..SnapOptions::default()
            },
        )
        .unwrap();
    let b = router.snap(g, to.0, to.1, &SnapOptions::default()).unwrap();
    let w = router.weights(g, g.time_ms.iter().map(|&t| u64::from(t)).collect());
    let metric = router.customize(&w);
    let got = router.shortest(g, &w, &metric, &a, &b, &mut CchQuery::new(router.cch()));
    let reference = router.shortest_by_dijkstra(g, &w, &a, &b, &mut Dijkstra::default());
    assert_eq!(
        got.as_ref().ok().map(|r| (r.restricted_entries, r.cost)),
        reference.as_ref().ok().map(|r| (r.restricted_entries, r.cost)),
        "the hierarchy agrees with Dijkstra"
    );
    got
}

/// The grid cells a route passes through, from the tail of its first segment to the head
/// of its last.
fn cells(g: &Graph, r: &Route) -> Vec<(i64, i64)> {
    let mut nodes = vec![g.tail(r.edges[0])];
    nodes.extend(r.nodes(g));
    nodes.push(g.head[*r.edges.last().unwrap()]);
    nodes
        .iter()
        .map(|&v| {
            let o = g.osm_id[v as usize] - 1;
            (o / 100, o % 100)
        })
        .collect()
}

/// The grid cells of the nodes a route passes (not the ends of its partial segments).
fn passed(g: &Graph, r: &Route) -> Vec<(i64, i64)> {
    r.nodes(g)
        .iter()
        .map(|&v| {
            let o = g.osm_id[v as usize] - 1;
            (o / 100, o % 100)
        })
        .collect()
}

fn passes(path: &[(i64, i64)], seq: &[(i64, i64)]) -> bool {
    path.windows(seq.len()).any(|w| w == seq)
}

/// Midpoint of the grid edge between two nodes.
fn mid(a: (i64, i64), b: (i64, i64)) -> (f64, f64) {
    at((a.0 + b.0) as f64 / 2.0, (a.1 + b.1) as f64 / 2.0)
}

#[test]
fn a_no_left_turn_via_a_node_is_obeyed_and_except_lifts_it() {
    for (extra, obeyed) in [(&[][..], true), (&[("except", "motorcar;bicycle")][..], false)] {
        let mut net = Net::grid(3, 3);
        let ways = net.all_roads(3, 3);
        // Arriving at the centre from the south, turning west (left) is forbidden.
        let from = ways[&((2, 1), (1, 1))];
        let to = ways[&((1, 1), (1, 0))];
        net.restriction("no_left_turn", from, &[(RelMemberType::Node, id(1, 1))], to, extra);
        let (g, router) = net.build();
        let r = route(&g, &router, mid((2, 1), (1, 1)), mid((1, 1), (1, 0)), None).unwrap();
        let path = cells(&g, &r);
        assert_eq!(!passes(&path, &[(2, 1), (1, 1), (1, 0)]), obeyed, "{extra:?}: {path:?}");
    }
}

#[test]
fn the_import_says_what_became_of_each_restriction() {
    let mut net = Net::grid(3, 3);
    let ways = net.all_roads(3, 3);
    let (south, west, north) = (
        ways[&((2, 1), (1, 1))],
        ways[&((1, 1), (1, 0))],
        ways[&((1, 1), (0, 1))],
    );
    let far = ways[&((0, 0), (0, 1))];
    let centre = [(RelMemberType::Node, id(1, 1))];
    net.restriction("no_left_turn", south, &centre, west, &[]); // applied
    net.restriction("no_u_turn", south, &centre, south, &[]); // moot: no U-turns at a junction
    net.restriction("no_right_turn", south, &centre, far, &[]); // unresolved: does not meet there
    net.restriction("no_straight_on", south, &centre, north, &[("except", "motorcar")]); // not for cars
    let mut members = vec![
        ("from", RelMemberType::Way, south),
        ("via", RelMemberType::Node, id(1, 1)),
    ];
    members.push(("to", RelMemberType::Way, north));
    net.data.add_relation(
        &members,
        &[
            ("type", "restriction"),
            ("restriction:conditional", "no_straight_on @ (Mo-Fr 07:00-09:00)"),
        ],
    );
    let (_, report) = net.data.build(Some(false)).unwrap();
    assert_eq!(
        (
            report.restrictions,
            report.restrictions_applied,
            report.restrictions_moot,
            report.restrictions_unresolved,
            report.restrictions_conditional
        ),
        (3, 1, 1, 1, 1),
        "{report:?}"
    );
}

#[test]
fn an_only_straight_on_restriction_forbids_every_other_turn() {
    let mut net = Net::grid(3, 3);
    let ways = net.all_roads(3, 3);
    let from = ways[&((2, 1), (1, 1))];
    let to = ways[&((1, 1), (0, 1))];
    net.restriction("only_straight_on", from, &[(RelMemberType::Node, id(1, 1))], to, &[]);
    let (g, router) = net.build();
    let r = route(&g, &router, mid((2, 1), (1, 1)), mid((1, 1), (1, 2)), None).unwrap();
    let path = cells(&g, &r);
    assert!(!passes(&path, &[(2, 1), (1, 1), (1, 2)]), "{path:?}");
    // Straight on is still the way north.
    let r = route(&g, &router, mid((2, 1), (1, 1)), mid((1, 1), (0, 1)), None).unwrap();
    assert!(passes(&cells(&g, &r), &[(2, 1), (1, 1), (0, 1)]));
}

#[test]
fn a_restriction_via_a_way_forbids_exactly_that_sequence() {
    let mut net = Net::grid(3, 3);
    let ways = net.all_roads(3, 3);
    // From the south arm, through the northern arm of the centre, then west along the top:
    // forbidden as a whole; each turn alone stays allowed.
    let from = ways[&((2, 1), (1, 1))];
    let via = ways[&((1, 1), (0, 1))];
    let to = ways[&((0, 1), (0, 0))];
    net.restriction("no_left_turn", from, &[(RelMemberType::Way, via)], to, &[]);
    let (g, router) = net.build();
    let r = route(&g, &router, mid((2, 1), (1, 1)), mid((0, 1), (0, 0)), None).unwrap();
    let path = cells(&g, &r);
    assert!(!passes(&path, &[(2, 1), (1, 1), (0, 1), (0, 0)]), "{path:?}");
    // The via way itself may be driven from the south, and the last turn from the east.
    let r = route(&g, &router, mid((2, 1), (1, 1)), mid((1, 1), (0, 1)), None).unwrap();
    assert!(passes(&cells(&g, &r), &[(2, 1), (1, 1), (0, 1)]));
    let r = route(&g, &router, mid((1, 2), (1, 1)), mid((0, 1), (0, 0)), None).unwrap();
    assert!(
        passes(&cells(&g, &r), &[(1, 2), (1, 1), (0, 1), (0, 0)]),
        "{:?}",
        cells(&g, &r)
    );
    assert!(
        g.turns.chain_count()
            > g.turns
                .origin
                .iter()
                .enumerate()
                .filter(|(c, o)| *c as u32 == **o)
                .count()
    );
}

#[test]
fn blocking_barriers_are_never_passed_and_gates_are() {
    for (tags, blocked) in [
        (&[("barrier", "bollard")][..], true),
        (&[("barrier", "cycle_barrier")][..], true),
        (&[("barrier", "gate"), ("access", "no")][..], true),
        (&[("barrier", "bollard"), ("motor_vehicle", "yes")][..], false),
        (&[("barrier", "gate")][..], false),
        (&[("barrier", "lift_gate")][..], false),
    ] {
        // A straight road 0-1-2 with the barrier at 1, and a side road at 0.
        let mut net = Net::grid(2, 3);
        net.tag_node(0, 1, tags);
        net.road(&[(0, 0), (0, 1), (0, 2)], &[]);
        net.road(&[(0, 0), (1, 0)], &[]);
        let (g, router) = net.build();
        match route(&g, &router, at(0.0, 0.3), at(0.0, 1.7), None) {
            Ok(r) => {
                assert!(!blocked, "{tags:?} crossed: {:?}", cells(&g, &r));
                assert!(passed(&g, &r).contains(&(0, 1)));
                if tags.contains(&("barrier", "gate")) {
                    let delay: u32 = r.delays(&g).iter().map(|d| d.1).sum();
                    assert!(delay >= 60_000, "a gate costs a minute: {delay} ms");
                }
            }
            Err(e) => {
                assert!(blocked, "{tags:?}: {e}");
                assert!(e.to_string().contains("barriers"), "{e}");
            }
        }
        // From the far side, the side road is out of reach; from this side, it is not.
        assert_eq!(route(&g, &router, at(0.0, 1.7), at(0.5, 0.0), None).is_err(), blocked);
    }
}

#[test]
fn private_roads_and_gates_serve_only_the_ends_of_a_trip() {
    for private in [
        &[("access", "private")][..],
        &[("motor_vehicle", "destination")],
        &[("vehicle", "delivery")],
    ] {
        // A fast private shortcut 0-1-2 along the top, and a slow public road round it.
        let mut net = Net::grid(2, 3);
        net.road(&[(0, 0), (0, 1), (0, 2)], private);
        net.road(&[(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)], &[("highway", "service")]);
        let (g, router) = net.build();
        // Between two public points: round the private road.
        let r = route(&g, &router, mid((1, 0), (1, 1)), mid((1, 1), (1, 2)), None).unwrap();
        assert!(!passed(&g, &r).contains(&(0, 1)), "{private:?}");
        assert_eq!(r.restricted_entries, 0);
        // Through it, from outside to outside: round.
        let r = route(&g, &router, mid((0, 0), (1, 0)), mid((1, 2), (0, 2)), None).unwrap();
        assert!(!passed(&g, &r).contains(&(0, 1)), "{private:?}: {:?}", cells(&g, &r));
        // To a point on it: allowed, one restricted entry.
        let r = route(&g, &router, mid((1, 0), (1, 1)), mid((0, 1), (0, 2)), None).unwrap();
        assert_eq!(r.restricted_entries, 1);
        // From a point on it: leaving is free.
        let r = route(&g, &router, mid((0, 1), (0, 2)), mid((1, 0), (1, 1)), None).unwrap();
        assert_eq!(r.restricted_entries, 0);
    }
    // A private gate at a compound's entrance: passed only to go in or out.
    let mut net = Net::grid(3, 3);
    net.tag_node(1, 1, &[("barrier", "gate"), ("access", "private")]);
    net.road(&[(1, 0), (1, 1), (1, 2)], &[]);
    net.road(&[(1, 0), (2, 0), (2, 1), (2, 2), (1, 2)], &[]);
    net.road(&[(1, 1), (0, 1)], &[("highway", "service")]); // the compound behind the gate
    let (g, router) = net.build();
    let r = route(&g, &router, mid((1, 0), (2, 0)), mid((2, 2), (1, 2)), None).unwrap();
    assert!(
        !passed(&g, &r).contains(&(1, 1)),
        "not through the gate: {:?}",
        cells(&g, &r)
    );
    let r = route(&g, &router, mid((1, 0), (2, 0)), mid((1, 1), (0, 1)), None).unwrap();
    assert_eq!(r.restricted_entries, 1, "into the compound");
}

#[test]
fn closed_and_reversible_ways_are_left_out() {
    for tags in [
        &[("access", "no")][..],
        &[("vehicle", "no")],
        &[("motor_vehicle", "agricultural")],
        &[("oneway", "reversible")],
        &[("area", "yes")],
        &[("highway", "footway")],
        &[("highway", "construction")],
    ] {
        let mut net = Net::grid(2, 3);
        net.road(&[(0, 0), (0, 1), (0, 2)], tags);
        net.road(&[(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)], &[]);
        let (g, router) = net.build();
        let r = route(&g, &router, at(0.5, 0.0), at(0.5, 2.0), None).unwrap();
        assert!(!passed(&g, &r).contains(&(0, 1)), "{tags:?}");
    }
}

#[test]
fn one_ways_and_u_turns_only_at_dead_ends() {
    // A two-way dead-end street 0-1-2 off a junction at 0 with a side road 0-3.
    let mut net = Net::grid(2, 3);
    net.road(&[(0, 0), (0, 1), (0, 2)], &[]);
    net.road(&[(0, 0), (1, 0)], &[]);
    let (g, router) = net.build();
    // Heading east (towards the dead end) and going west: round the dead end, a U-turn.
    let r = route(&g, &router, at(0.0, 1.5), at(0.5, 0.0), Some(90.0)).unwrap();
    let path = passed(&g, &r);
    assert!(path.contains(&(0, 2)), "turns back at the end: {path:?}");
    let delay: u32 = r.delays(&g).iter().map(|d| d.1).sum();
    assert!(delay >= 20_000, "a U-turn costs 20 s and more: {delay}");
    // Heading west: straight there.
    let r = route(&g, &router, at(0.0, 1.5), at(0.5, 0.0), Some(270.0)).unwrap();
    assert!(!passed(&g, &r).contains(&(0, 2)));
    // One-way east: a route west is impossible.
    let mut net = Net::grid(1, 3);
    net.road(&[(0, 0), (0, 1), (0, 2)], &[("oneway", "yes")]);
    let (g, router) = net.build();
    assert!(route(&g, &router, at(0.0, 0.5), at(0.0, 1.5), None).is_ok());
    let err = route(&g, &router, at(0.0, 1.5), at(0.0, 0.5), None).unwrap_err();
    assert!(err.to_string().contains("no route"), "{err}");
}

#[test]
fn left_turns_cost_more_than_right_turns_and_signals_add_delay() {
    let mut net = Net::grid(3, 3);
    net.tag_node(1, 1, &[("highway", "traffic_signals")]);
    net.all_roads(3, 3);
    let (g, router) = net.build();
    // From the south arm: right is east, left is west (right-hand traffic).
    let right = route(&g, &router, mid((2, 1), (1, 1)), mid((1, 1), (1, 2)), None).unwrap();
    let left = route(&g, &router, mid((2, 1), (1, 1)), mid((1, 1), (1, 0)), None).unwrap();
    let straight = route(&g, &router, mid((2, 1), (1, 1)), mid((1, 1), (0, 1)), None).unwrap();
    let turn = |r: &Route| r.delays(&g).iter().map(|d| d.1).sum::<u32>();
    assert!(turn(&left) > turn(&right), "{} vs {}", turn(&left), turn(&right));
    assert!(turn(&right) > turn(&straight));
    assert!(turn(&straight) >= 2_000, "the signal: {}", turn(&straight));
}

#[test]
fn points_snap_onto_segments_and_partial_segments_count() {
    let mut net = Net::grid(1, 2);
    net.road(&[(0, 0), (0, 1)], &[("maxspeed", "50")]);
    let (g, router) = net.build();
    // 20 m north of the middle of the road.
    let (lat, lon) = at(0.0, 0.5);
    let s = router
        .snap(&g, lat + 20.0 / 111_000.0, lon, &SnapOptions::default())
        .unwrap();
    assert!((s.distance_m - 20.0).abs() < 1.0, "{}", s.distance_m);
    assert!((s.fraction - 0.5).abs() < 0.01, "{}", s.fraction);
    assert_eq!(s.directions.len(), 2, "a two-way road");
    // From a quarter to three quarters: half the road's length and time.
    let r = route(&g, &router, at(0.0, 0.25), at(0.0, 0.75), None).unwrap();
    let full = f64::from(g.length_dm[0]) / 10.0;
    assert!(
        (r.length_m(&g) - full / 2.0).abs() < 1.0,
        "{} of {full}",
        r.length_m(&g)
    );
    assert!((r.duration_ms(&g) - f64::from(g.time_ms[0]) / 2.0).abs() < 50.0);
    // A heading against the only direction of a one-way finds no road.
    let mut net = Net::grid(1, 2);
    net.road(&[(0, 0), (0, 1)], &[("oneway", "yes")]);
    let (g, router) = net.build();
    let west = SnapOptions {
        heading: Some((270.0, 30.0)),
        max_m: 50.0,
        ..SnapOptions::default()
    };
    assert!(router.snap(&g, lat, lon, &west).is_err());
}

#[test]
fn ends_in_disconnected_parts_get_a_message_naming_the_gap() {
    let mut net = Net::grid(1, 6);
    net.road(&[(0, 0), (0, 1), (0, 2)], &[("name", "Rua A")]);
    net.road(&[(0, 3), (0, 4), (0, 5)], &[("name", "Rua B")]);
    let (g, router) = net.build();
    let err = route(&g, &router, at(0.0, 0.5), at(0.0, 4.5), None).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Rua A") && text.contains("Rua B") && text.contains("km of road"),
        "{text}"
    );
    assert_eq!(router.components().0, 2, "both parts kept");
}

/// A random grid network: random one-ways, closed roads, barriers and restrictions.
fn random_network(seed: u64) -> (Graph, Router) {
    let mut x = seed | 1;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let (rows, cols) = (5, 5);
    let mut net = Net::grid(rows, cols);
    for r in 0..rows {
        for c in 0..cols {
            if next(12) == 0 {
                net.tag_node(r, c, &[("barrier", "bollard")]);
            } else if next(12) == 0 {
                net.tag_node(r, c, &[("barrier", "gate"), ("access", "private")]);
            }
        }
    }
    let mut ways = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            for (dr, dc) in [(0, 1), (1, 0)] {
                if r + dr >= rows || c + dc >= cols || next(8) == 0 {
                    continue;
                }
                let tags: &[(&str, &str)] = match next(10) {
                    0 => &[("oneway", "yes")],
                    1 => &[("oneway", "-1")],
                    2 => &[("access", "private")],
                    3 => &[("highway", "primary")],
                    _ => &[],
                };
                let w = net.road(&[(r, c), (r + dr, c + dc)], tags);
                ways.push((w, (r, c), (r + dr, c + dc)));
            }
        }
    }
    for _ in 0..12 {
        let (a, b) = (
            ways[next(ways.len() as u64) as usize],
            ways[next(ways.len() as u64) as usize],
        );
        let shared = [a.1, a.2].into_iter().find(|p| *p == b.1 || *p == b.2);
        let kind = if next(3) == 0 {
            "only_straight_on"
        } else {
            "no_left_turn"
        };
        if let Some(p) = shared {
            net.restriction(kind, a.0, &[(RelMemberType::Node, id(p.0, p.1))], b.0, &[]);
        } else {
            let v = ways[next(ways.len() as u64) as usize];
            net.restriction(kind, a.0, &[(RelMemberType::Way, v.0)], b.0, &[]);
        }
    }
    net.build()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn the_hierarchy_equals_dijkstra_on_random_turn_graphs(seed in any::<u64>(), ends in proptest::collection::vec((0.0f64..4.0, 0.0f64..4.0, 0.0f64..4.0, 0.0f64..4.0), 12)) {
        let (g, router) = random_network(seed);
        let w = router.weights(&g, g.time_ms.iter().map(|&t| u64::from(t) * 3).collect());
        let metric = router.customize(&w);
        let mut q = CchQuery::new(router.cch());
        let mut d = Dijkstra::default();
        for (r1, c1, r2, c2) in ends {
            let (a, b) = (at(r1, c1), at(r2, c2));
            let opts = SnapOptions { max_m: 1000.0, ..SnapOptions::default() };
            let (Ok(a), Ok(b)) = (router.snap(&g, a.0, a.1, &opts), router.snap(&g, b.0, b.1, &opts)) else { continue };
            let got = router.shortest(&g, &w, &metric, &a, &b, &mut q);
            let reference = router.shortest_by_dijkstra(&g, &w, &a, &b, &mut d);
            prop_assert_eq!(got.as_ref().ok().map(|r| (r.restricted_entries, r.cost)), reference.as_ref().ok().map(|r| (r.restricted_entries, r.cost)));
            if let Ok(r) = got {
                for pair in r.edges.windows(2) {
                    prop_assert_eq!(g.head[pair[0]], g.tail(pair[1]));
                }
                // A bollard is never crossed: at most turned back at (a U-turn in front of it).
                let nodes = r.nodes(&g);
                for (i, &v) in nodes.iter().enumerate() {
                    if g.node_flags[v as usize] & jsms_routing::graph::node_flags::BLOCKED != 0 {
                        let before = if i == 0 { g.tail(r.edges[0]) } else { nodes[i - 1] };
                        let after = nodes.get(i + 1).copied().unwrap_or(g.head[*r.edges.last().unwrap()]);
                        prop_assert_eq!(before, after, "crosses a bollard at step {}", i);
                    }
                }
                let alts = router.routes(&g, &w, &metric, &a, &b, 3, Default::default()).unwrap();
                prop_assert_eq!(alts[0].cost, r.cost);
                prop_assert!(alts.windows(2).all(|p| (p[0].restricted_entries, p[0].cost) <= (p[1].restricted_entries, p[1].cost)));
            }
        }
    }
}
