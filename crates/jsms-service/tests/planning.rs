//! The route planner on the Karachi old-city network with a risk feed: incidents raise the
//! risk of the roads near them and are named in the breakdown; the unpredictable mode
//! penalises the routes driven recently on the same origin and destination and draws among
//! the acceptable routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_domain::geo::Coordinate;
use jsms_routing::risk::Incident;
use jsms_service::planning::{PlanInput, Profile, RiskFeed, RoadNetwork, plan};
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct Feed {
    incidents: Vec<Incident>,
    history: Vec<Vec<Coordinate>>,
    asked: Mutex<Vec<i64>>,
}

impl RiskFeed for Feed {
    fn incidents(&self, _now: i64) -> Vec<Incident> {
        self.incidents.clone()
    }
    fn history(&self, _from: Coordinate, _to: Coordinate, since: i64) -> Vec<Vec<Coordinate>> {
        self.asked.lock().unwrap().push(since);
        self.history.clone()
    }
}

fn network() -> RoadNetwork {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/osm/karachi-old-city.osm.pbf");
    let bytes = std::fs::read(&path).unwrap();
    let total = bytes.len() as u64;
    let (g, _) = jsms_routing::import::import(std::io::Cursor::new(bytes), total, &mut |_| {}).unwrap();
    RoadNetwork::new(g, None)
}

const NOW: i64 = 1_795_000_000;

fn input(unpredictable: bool) -> PlanInput {
    PlanInput {
        from: Coordinate::new(24.8548, 66.9958).unwrap(),
        to: Coordinate::new(24.8668, 67.0105).unwrap(),
        profile: Profile::Balanced,
        risk_weight: 1.0,
        depart: NOW,
        alternatives: 1,
        unpredictable,
    }
}

fn points(geometry: &serde_json::Value) -> Vec<Coordinate> {
    geometry["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Coordinate::new(p[1].as_f64().unwrap(), p[0].as_f64().unwrap()).unwrap())
        .collect()
}

#[test]
fn incidents_raise_the_risk_of_nearby_roads_and_are_explained() {
    let net = network();
    let quiet = plan(&net, &[], &Feed::default(), &input(false)).unwrap();
    let best = &quiet.features[0];
    let route = points(&best.geometry);
    let mid = route[route.len() / 2];
    let feed = Feed {
        incidents: vec![Incident {
            lat: mid.lat(),
            lon: mid.lon(),
            at: NOW - 86_400,
            severity: 5,
        }],
        ..Feed::default()
    };
    let tense = plan(&net, &[], &feed, &input(false)).unwrap();
    let after = &tense.features[0];
    let mentions = after
        .properties
        .segments
        .iter()
        .any(|s| s.risk_reason.as_deref().is_some_and(|r| r.contains("recent incident")));
    // Either the route now avoids the incident, or it still passes and says why it is riskier.
    assert!(
        after.geometry != best.geometry || (mentions && after.properties.risk > best.properties.risk),
        "{:?}",
        after.properties
    );
    assert!(after.properties.cost_s >= best.properties.cost_s);
    // An incident from long ago no longer counts.
    let old = Feed {
        incidents: vec![Incident {
            at: NOW - 200 * 86_400,
            ..feed.incidents[0]
        }],
        ..Feed::default()
    };
    let forgotten = plan(&net, &[], &old, &input(false)).unwrap();
    assert_eq!(forgotten.features[0].geometry, best.geometry);
}

#[test]
fn the_unpredictable_mode_penalises_recent_routes_and_draws_among_acceptable_ones() {
    let net = network();
    let usual = plan(&net, &[], &Feed::default(), &input(false)).unwrap();
    let usual_route = points(&usual.features[0].geometry);
    let feed = Feed {
        history: vec![usual_route.clone(), usual_route.clone(), usual_route],
        ..Feed::default()
    };
    let mut drawn = std::collections::BTreeSet::new();
    for _ in 0..24 {
        let r = plan(&net, &[], &feed, &input(true)).unwrap();
        let how = r.unpredictable.clone().unwrap();
        assert_eq!(how.recent_routes, 3);
        assert!(how.candidates >= 1 && how.drawn < how.candidates);
        assert_eq!(r.features.len(), 1);
        drawn.insert(r.features[0].geometry.to_string());
    }
    assert_eq!(
        *feed.asked.lock().unwrap().first().unwrap(),
        NOW - 30 * 86_400,
        "30 days of history"
    );
    // With the usual route penalised and a random draw, the old city offers more than one.
    assert!(drawn.len() >= 2, "24 draws gave {} distinct routes", drawn.len());
}

#[test]
fn ends_far_from_roads_are_errors_naming_the_distance() {
    let net = network();
    let mut far = input(false);
    far.from = Coordinate::new(24.70, 66.90).unwrap();
    let err = plan(&net, &[], &Feed::default(), &far).unwrap_err();
    assert!(err.to_string().contains(" m away"), "{err}");
}

#[test]
fn a_start_under_way_leaves_in_its_heading_and_ends_are_on_the_roads() {
    use jsms_service::planning::plan_heading;
    let net = network();
    let bearing = |a: Coordinate, b: Coordinate| jsms_routing::snap::bearing((a.lat(), a.lon()), (b.lat(), b.lon()));
    let within = |a: f64, b: f64, tolerance: f64| {
        let d = (a - b).rem_euclid(360.0);
        d.min(360.0 - d) <= tolerance
    };
    let free = plan(&net, &[], &Feed::default(), &input(false)).unwrap();
    let route = points(&free.features[0].geometry);
    let leaving = bearing(route[0], route[1]);
    // Either way along the start's road, the route leaves in the heading asked for.
    for heading in [leaving, (leaving + 180.0) % 360.0] {
        let r = plan_heading(&net, &[], &Feed::default(), &input(false), Some(heading)).unwrap();
        let p = points(&r.features[0].geometry);
        assert!(
            within(bearing(p[0], p[1]), heading, 60.0),
            "heading {heading}: {:?}",
            &p[..2]
        );
        let props = &r.features[0].properties;
        assert!(props.snap_from_m < 100.0 && props.snap_to_m < 100.0, "{props:?}");
        let total: f64 = props.segments.iter().map(|s| s.duration_s).sum();
        assert!(
            (total - props.duration_s).abs() < 0.01,
            "segments add up to the route: {total} vs {}",
            props.duration_s
        );
    }
}
