//! Route planning over the imported road network, shared by `POST /api/v1/routes` and
//! `jsms route`: both ends snapped onto the nearest road segment (an end too far from any
//! road is an error naming the distance; ends in parts of the network that do not connect
//! are moved onto the main network when it is within reach, else the error names the gap);
//! routes obey one-ways, turn restrictions, barriers and access (private and
//! destination-only roads only at the ends of a trip) and count turn costs; the risk at the
//! departure time — active threat zones, chokepoints, slow roads,
//! recent incidents — turned into edge weights for the profile; exact customizable
//! contraction hierarchy queries with up to five alternatives; an unpredictable mode that
//! penalises segments driven on the same origin and destination in the last 30 days and picks
//! among the acceptable routes at random; and the answer as GeoJSON features with a
//! per-segment breakdown (road, zones, risk reasons).

use crate::error::Error;
use jsms_domain::ValidationError;
use jsms_domain::geo::Coordinate;
use jsms_routing::alternatives::AlternativeOptions;
use jsms_routing::graph::{Graph, flags, node_flags};
use jsms_routing::risk::{AVOID_MS, Incident, RiskWeights, StaticRisk, history_penalties, reason};
use jsms_routing::router::{Route, Router};
use jsms_routing::snap::{Snap, SnapOptions};
use jsms_store::ZoneRecord;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use utoipa::ToSchema;

/// Farthest an end may be from the network, metres.
pub const MAX_SNAP_M: f64 = 500.0;
/// How far a road's direction may differ from a requested heading, degrees.
pub const HEADING_TOLERANCE: f64 = 60.0;
/// Most alternatives a request may ask for.
pub const MAX_ALTERNATIVES: u8 = 5;
/// How far back the unpredictable mode looks for routes on the same origin and destination.
pub const HISTORY_S: i64 = 30 * 86_400;
/// In the unpredictable mode, routes costing up to this much more than the best are
/// acceptable picks.
pub const UNPREDICTABLE_TOLERANCE: f64 = 1.25;

/// The loaded road network with its query structures.
#[derive(Debug)]
pub struct RoadNetwork {
    /// The graph.
    pub graph: Graph,
    router: Router,
    static_risk: StaticRisk,
    /// The drawable geometry as JSON (`GET /api/v1/map/roads`), made on first use.
    pub drawing: std::sync::OnceLock<Result<String, String>>,
}

impl RoadNetwork {
    /// Prepares a graph for queries with a node order (computed when `None`; seconds on a
    /// city, so the order is stored beside the map).
    pub fn new(graph: Graph, order: Option<Vec<u32>>) -> Self {
        let router = Router::new(&graph, order);
        let static_risk = StaticRisk::new(&graph);
        Self {
            graph,
            router,
            static_risk,
            drawing: std::sync::OnceLock::new(),
        }
    }

    /// The order of the hierarchy over the turn graph (to store beside the map).
    pub fn order(&self) -> &[u32] {
        self.router.order()
    }

    /// Snaps a point onto the nearest road segment within [`MAX_SNAP_M`] (onto the main
    /// network when `main` is set); the error names `field`.
    pub fn snap(&self, field: &str, c: Coordinate, main: bool) -> Result<Snap, ValidationError> {
        self.snap_heading(field, c, None, main)
    }

    /// [`RoadNetwork::snap`] keeping only the road directions within
    /// [`HEADING_TOLERANCE`] of `heading` (degrees clockwise from north), when given.
    pub fn snap_heading(
        &self,
        field: &str,
        c: Coordinate,
        heading: Option<f64>,
        main: bool,
    ) -> Result<Snap, ValidationError> {
        let g = &self.graph;
        let in_main = |e: usize| self.router.in_main_network(g, e);
        let options = SnapOptions {
            max_m: MAX_SNAP_M,
            heading: heading.map(|h| (h, HEADING_TOLERANCE)),
            filter: if main { Some(&in_main) } else { None },
        };
        self.router.snap(g, c.lat(), c.lon(), &options).map_err(|d| {
            let how = d.map_or_else(
                || "the map is empty".to_owned(),
                |d| format!("the nearest road is {d:.0} m away"),
            );
            ValidationError::new(field, format!("farther than {MAX_SNAP_M:.0} m from any road: {how}"))
        })
    }

    /// The edges along a driven route given as points (each within 5 m of a node); points
    /// off the network or steps that are not one edge are skipped.
    pub fn edges_along(&self, points: &[Coordinate]) -> Vec<usize> {
        let g = &self.graph;
        let nodes: Vec<Option<u32>> = points
            .iter()
            .map(|p| {
                self.router
                    .snap_index()
                    .nearest(g, p.lat(), p.lon(), 5.0)
                    .ok()
                    .map(|(n, _)| n)
            })
            .collect();
        nodes
            .windows(2)
            .filter_map(|w| match w {
                [Some(a), Some(b)] => g.edges(*a).find(|&e| g.head.get(e) == Some(b)),
                _ => None,
            })
            .collect()
    }
}

/// The order file stored beside a map file.
pub fn order_path(graph: &FsPath) -> PathBuf {
    graph.with_extension("order")
}

/// Loads the imported network of a data directory, if there is one, with its stored order
/// (computing and storing the order when it is missing or belongs to another map).
pub fn load_network(path: &FsPath) -> Option<Arc<RoadNetwork>> {
    let bytes = std::fs::read(path).ok()?;
    let graph = match Graph::from_bytes(&bytes) {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "road network not loaded");
            return None;
        }
    };
    let digest = graph_digest(&bytes);
    let order_file = order_path(path);
    let order = std::fs::read(&order_file)
        .ok()
        .and_then(|b| jsms_routing::order::decode(&b, &digest, graph.turns.chain_count()));
    let stored = order.is_some();
    let network = RoadNetwork::new(graph, order);
    if !stored {
        let encoded = jsms_routing::order::encode(network.order(), &digest);
        if let Err(e) = write_atomically(&order_file, &encoded) {
            tracing::warn!(path = %order_file.display(), error = %e, "node order not stored; it will be computed at the next start");
        }
    }
    Some(Arc::new(network))
}

/// SHA-256 of a map file, binding a stored order to it.
pub fn graph_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// Writes a file through a temporary and a rename, synced.
pub fn write_atomically(target: &FsPath, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = target.with_extension("tmp");
    let mut out = std::fs::File::create(&tmp)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    std::fs::rename(&tmp, target)?;
    if let Some(parent) = target.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// What route risk needs from the rest of the system: incidents near roads, and the routes
/// driven recently between the same places. Incident reports and movements feed it.
pub trait RiskFeed: Send + Sync + std::fmt::Debug {
    /// Incidents that may raise route risk at time `now` (Unix seconds).
    fn incidents(&self, now: i64) -> Vec<Incident>;
    /// Routes driven since `since` from near `from` to near `to`, as point sequences.
    fn history(&self, from: Coordinate, to: Coordinate, since: i64) -> Vec<Vec<Coordinate>>;
}

/// A feed with nothing in it: what the router sees before incidents and movements are
/// recorded.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyFeed;

impl RiskFeed for EmptyFeed {
    fn incidents(&self, _now: i64) -> Vec<Incident> {
        Vec::new()
    }
    fn history(&self, _from: Coordinate, _to: Coordinate, _since: i64) -> Vec<Vec<Coordinate>> {
        Vec::new()
    }
}

/// The risk feed of a running server: incidents from the incident register (place, time
/// and severity; their penalty decays with age) and route history from the movements' plans
/// (the movement's first and last points within 300 m of the request's ends).
pub struct StoreFeed {
    /// The store.
    pub store: Arc<dyn jsms_store::Store>,
}

impl std::fmt::Debug for StoreFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreFeed").finish_non_exhaustive()
    }
}

/// Ends of a recent route within this distance of a request's ends count as the same
/// origin and destination, metres.
pub const SAME_PLACE_M: f64 = 300.0;

impl RiskFeed for StoreFeed {
    fn incidents(&self, now: i64) -> Vec<Incident> {
        match self.store.incident_points(now - jsms_routing::risk::INCIDENT_HORIZON_S) {
            Ok(points) => points
                .into_iter()
                .map(|(lat, lon, at, severity)| Incident { lat, lon, at, severity })
                .collect(),
            Err(e) => {
                // Fail visible, not closed: routes are still planned, without incidents.
                tracing::error!(error = %e, "incidents not read for the route risk");
                Vec::new()
            }
        }
    }

    fn history(&self, from: Coordinate, to: Coordinate, since: i64) -> Vec<Vec<Coordinate>> {
        let near = |a: &Coordinate, b: &Coordinate| {
            jsms_routing::graph::distance_m((a.lat(), a.lon()), (b.lat(), b.lon())) <= SAME_PLACE_M
        };
        let movements = match self.store.movements(None) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "route history unavailable");
                return Vec::new();
            }
        };
        movements
            .iter()
            .filter_map(|m| m.plan.as_ref())
            .filter(|p| p.departure >= since)
            .map(|p| p.legs.iter().flat_map(|l| l.points.iter().copied()).collect::<Vec<_>>())
            .filter(|points| match (points.first(), points.last()) {
                (Some(a), Some(b)) => near(a, &from) && near(b, &to),
                _ => false,
            })
            .collect()
    }
}

/// What to optimise.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Least travel time; zones of severity ≥ 4 are still avoided.
    Fastest,
    /// Least exposure: risk penalties weigh three times.
    Safest,
    /// Travel time plus risk penalties times `risk_weight` (default 1).
    Balanced,
}

impl Profile {
    /// Parses a profile name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fastest" => Some(Self::Fastest),
            "safest" => Some(Self::Safest),
            "balanced" => Some(Self::Balanced),
            _ => None,
        }
    }
}

/// A planning request, validated.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// Start.
    pub from: Coordinate,
    /// Destination.
    pub to: Coordinate,
    /// Profile.
    pub profile: Profile,
    /// Trade-off for the balanced profile (0–10; risk seconds per second of driving).
    pub risk_weight: f64,
    /// Departure, Unix seconds: zones active then count.
    pub depart: i64,
    /// How many routes to return (1–5).
    pub alternatives: u8,
    /// Penalise recent routes and pick at random among the acceptable ones.
    pub unpredictable: bool,
}

/// One stretch of a route on one road with the same risk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Segment {
    /// Road name (empty when unnamed).
    pub road: String,
    /// Metres.
    pub distance_m: f64,
    /// Seconds of driving.
    pub duration_s: f64,
    /// Ids of the threat zones this stretch crosses.
    pub zones: Vec<String>,
    /// Why it carries risk, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_reason: Option<String>,
}

/// A route's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RouteProperties {
    /// 1 for the recommended route, then by cost.
    pub rank: usize,
    /// Profile used.
    pub profile: Profile,
    /// Seconds of driving.
    pub duration_s: f64,
    /// Metres.
    pub distance_m: f64,
    /// Risk: seconds of penalty along the route (zones, chokepoints, slow roads, incidents).
    pub risk: f64,
    /// Cost under the profile, seconds.
    pub cost_s: f64,
    /// True when no route exists that avoids every zone of severity ≥ 4.
    pub crosses_avoided_zone: bool,
    /// Entries onto roads or through gates open only at the ends of a trip (private,
    /// destination, delivery…): one where the start or destination lies behind one, more
    /// only when no route avoids them.
    pub restricted_entries: u64,
    /// Fraction of this route's driving time shared with the recommended route.
    pub shared_with_first: f64,
    /// Metres from the requested start to the road it was snapped onto.
    pub snap_from_m: f64,
    /// Metres from the requested destination to the network.
    pub snap_to_m: f64,
    /// The stretches, in order.
    pub segments: Vec<Segment>,
}

/// A route as a GeoJSON Feature with a LineString geometry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RouteFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The LineString.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    /// Figures and breakdown.
    pub properties: RouteProperties,
}

/// How the unpredictable mode chose.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unpredictability {
    /// Routes driven on this origin and destination in the last 30 days that were penalised.
    pub recent_routes: usize,
    /// Acceptable routes the pick was drawn from (cost within 25 % of the best).
    pub candidates: usize,
    /// Which candidate (0-based, by cost) was drawn.
    pub drawn: usize,
}

/// The answer: routes as a GeoJSON FeatureCollection, recommended first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RouteCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Routes, the recommended one first.
    pub features: Vec<RouteFeature>,
    /// How the unpredictable mode chose, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpredictable: Option<Unpredictability>,
}

/// Plans routes. `zones` are all zones (filtered here by the departure time).
pub fn plan(
    net: &RoadNetwork,
    zones: &[ZoneRecord],
    feed: &dyn RiskFeed,
    input: &PlanInput,
) -> Result<RouteCollection, Error> {
    plan_heading(net, zones, feed, input, None)
}

/// [`plan`] for a start already under way in direction `heading` (degrees clockwise from
/// north): the route leaves along a road direction within [`HEADING_TOLERANCE`] of it
/// (the convoy's own carriageway of a divided road; turning back only where it can).
pub fn plan_heading(
    net: &RoadNetwork,
    zones: &[ZoneRecord],
    feed: &dyn RiskFeed,
    input: &PlanInput,
    heading: Option<f64>,
) -> Result<RouteCollection, Error> {
    let g = &net.graph;
    let mut from = net
        .snap_heading("/from", input.from, heading, false)
        .map_err(Error::Validation)?;
    let mut to = net.snap("/to", input.to, false).map_err(Error::Validation)?;
    let active: Vec<&ZoneRecord> = zones.iter().filter(|z| z.zone.active_at(input.depart)).collect();
    let mut risk = RiskWeights::new(g);
    risk.add_static(&net.static_risk);
    for z in &active {
        risk.add_zone(g, &z.zone);
    }
    let mut near_incident: HashSet<usize> = HashSet::new();
    for incident in feed.incidents(input.depart) {
        near_incident.extend(risk.add_incident(g, &incident, input.depart));
    }
    let factor = match input.profile {
        Profile::Fastest => 0.0,
        Profile::Balanced => input.risk_weight,
        Profile::Safest => 3.0,
    };
    let mut weights: Vec<u64> = (0..g.edge_count())
        .map(|e| {
            let base = u64::from(g.edge_time_ms(e));
            let extra = risk.weight(e).saturating_sub(base);
            if extra >= AVOID_MS {
                base.saturating_add(extra)
            } else {
                base.saturating_add((extra as f64 * factor).round() as u64)
            }
        })
        .collect();
    let mut recent_routes = 0;
    if input.unpredictable {
        let history = feed.history(input.from, input.to, input.depart - HISTORY_S);
        recent_routes = history.len();
        let driven: Vec<Vec<usize>> = history.iter().map(|r| net.edges_along(r)).collect();
        for (e, extra) in history_penalties(g, &driven) {
            if let Some(w) = weights.get_mut(e) {
                *w = w.saturating_add(extra);
            }
        }
    }
    let weights = net.router.weights(g, weights);
    let metric = net.router.metric(&weights);
    let want = usize::from(if input.unpredictable {
        MAX_ALTERNATIVES
    } else {
        input.alternatives.clamp(1, MAX_ALTERNATIVES)
    });
    let options = AlternativeOptions::default();
    let mut paths = match net.router.routes(g, &weights, &metric, &from, &to, want, options) {
        Ok(paths) => paths,
        Err(gap) => {
            // An end on a small part of the network (a one-way trap, an island behind a
            // barrier): try again from the main network when it is within reach.
            let outside = |s: &Snap| !net.router.in_main_network(g, s.edge);
            if !outside(&from) && !outside(&to) {
                return Err(Error::Conflict(gap.to_string()));
            }
            if outside(&from) {
                from = net
                    .snap("/from", input.from, true)
                    .map_err(|_| Error::Conflict(gap.to_string()))?;
            }
            if outside(&to) {
                to = net
                    .snap("/to", input.to, true)
                    .map_err(|_| Error::Conflict(gap.to_string()))?;
            }
            net.router
                .routes(g, &weights, &metric, &from, &to, want, options)
                .map_err(|e| Error::Conflict(e.to_string()))?
        }
    };
    let (ds, dt) = (from.distance_m, to.distance_m);
    let mut unpredictable = None;
    if input.unpredictable {
        let best = paths.first().map_or(0, |p| p.cost);
        let candidates = paths
            .iter()
            .take_while(|p| p.cost as f64 <= best as f64 * UNPREDICTABLE_TOLERANCE)
            .count()
            .max(1);
        let drawn = random_below(candidates);
        let pick = paths.remove(drawn);
        paths.insert(0, pick);
        paths.truncate(usize::from(input.alternatives.clamp(1, MAX_ALTERNATIVES)));
        unpredictable = Some(Unpredictability {
            recent_routes,
            candidates,
            drawn,
        });
    }
    let first = paths.first().cloned();
    let features = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let shared = first.as_ref().map_or(1.0, |f| p.shared_fraction(g, f));
            feature(
                net,
                &risk,
                &active,
                &near_incident,
                p,
                i + 1,
                shared,
                (ds, dt),
                input.profile,
            )
        })
        .collect();
    Ok(RouteCollection {
        kind: "FeatureCollection",
        features,
        unpredictable,
    })
}

/// A uniformly random index below `n` (n ≥ 1) from the operating system's CSPRNG; falls back
/// to 0 (the best route) if the generator fails.
fn random_below(n: usize) -> usize {
    let mut bytes = [0u8; 8];
    if n <= 1 || getrandom::fill(&mut bytes).is_err() {
        return 0;
    }
    // Rejection sampling keeps the draw uniform.
    let n = n as u64;
    let zone = u64::MAX - u64::MAX % n;
    loop {
        let x = u64::from_le_bytes(bytes);
        if x < zone {
            return (x % n) as usize;
        }
        if getrandom::fill(&mut bytes).is_err() {
            return 0;
        }
    }
}

#[allow(clippy::too_many_arguments)] // one route's inputs; a struct would only rename them
fn feature(
    net: &RoadNetwork,
    risk: &RiskWeights,
    active: &[&ZoneRecord],
    near_incident: &HashSet<usize>,
    path: &Route,
    rank: usize,
    shared_with_first: f64,
    (snap_from_m, snap_to_m): (f64, f64),
    profile: Profile,
) -> RouteFeature {
    let g = &net.graph;
    let mut segments: Vec<Segment> = Vec::new();
    let mut total_risk_ms = 0.0f64;
    let mut last_key: Option<(Vec<String>, u8, bool, bool)> = None;
    let points = path.points(g);
    let delays: Vec<u32> = std::iter::once(0)
        .chain(path.delays(g).into_iter().map(|(_, ms)| ms))
        .collect();
    let nodes = path.nodes(g);
    for (i, &e) in path.edges.iter().enumerate() {
        let (Some(&pa), Some(&pb)) = (points.get(i), points.get(i + 1)) else {
            continue;
        };
        let share = path.share(i);
        let mut crossed = Vec::new();
        let mut worst = 0u8;
        for z in active {
            if z.zone.length_inside(pa, pb) > 0.0 {
                crossed.push(z.id.to_string());
                worst = worst.max(z.zone.severity);
            }
        }
        let bits = net.static_risk.reasons(e);
        let incident = near_incident.contains(&e);
        let restricted = g.edge_flag(e) & flags::RESTRICTED != 0;
        let base = u64::from(g.edge_time_ms(e));
        // Everything beyond travel time: zones, chokepoints, slow roads, incidents.
        total_risk_ms += risk.weight(e).saturating_sub(base) as f64 * share;
        let road = g.edge_name(e).to_owned();
        let delay = f64::from(delays.get(i).copied().unwrap_or(0)) / 1000.0;
        let (dm, ms) = (
            f64::from(g.edge_length_dm(e)) / 10.0 * share,
            base as f64 / 1000.0 * share + delay,
        );
        // A gate or a barrier passed at the start of this stretch.
        let passed = i
            .checked_sub(1)
            .and_then(|j| nodes.get(j))
            .map_or(0, |&v| g.node_flag(v) & (node_flags::GATE | node_flags::RESTRICTED));
        let key = (crossed.clone(), bits, incident, restricted);
        match segments.last_mut() {
            Some(last) if last.road == road && last_key.as_ref() == Some(&key) && passed == 0 => {
                last.distance_m += dm;
                last.duration_s += ms;
            }
            _ => {
                let mut reasons: Vec<String> = Vec::new();
                if worst > 0 {
                    reasons.push(format!(
                        "inside {} threat zone(s), severity up to {worst}",
                        crossed.len()
                    ));
                }
                reasons.extend(reason::describe(bits).into_iter().map(str::to_owned));
                if incident {
                    reasons.push("recent incident nearby".to_owned());
                }
                if restricted {
                    reasons.push("access only at the ends of a trip (private or destination road)".to_owned());
                }
                reasons.extend(
                    node_flags::describe(passed)
                        .into_iter()
                        .map(|w| format!("passes a {w}")),
                );
                segments.push(Segment {
                    road,
                    distance_m: dm,
                    duration_s: ms,
                    risk_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
                    zones: crossed,
                });
                last_key = Some(key);
            }
        }
    }
    let coordinates: Vec<[f64; 2]> = points.iter().map(|&(lat, lon)| [lon, lat]).collect();
    RouteFeature {
        kind: "Feature",
        geometry: serde_json::json!({"type": "LineString", "coordinates": coordinates}),
        properties: RouteProperties {
            rank,
            profile,
            duration_s: path.duration_ms(g) / 1000.0,
            distance_m: path.length_m(g),
            risk: total_risk_ms / 1000.0,
            cost_s: path.cost as f64 / 1000.0,
            crosses_avoided_zone: risk.crosses_avoided(g, &path.edges),
            restricted_entries: path.restricted_entries,
            shared_with_first,
            snap_from_m,
            snap_to_m,
            segments,
        },
    }
}

impl crate::Services {
    /// Plans routes between two points for an operational role (`POST /api/v1/routes`):
    /// decided as a read of the threat zones and recorded before they are read — the answer
    /// names the zones each route crosses.
    pub async fn plan_route(
        &self,
        caller: &crate::Caller,
        input: PlanInput,
        heading: Option<f64>,
    ) -> Result<RouteCollection, Error> {
        let network = self
            .network
            .clone()
            .ok_or_else(|| Error::Conflict("no road network is imported: run `jsms map import FILE.osm.pbf`".into()))?;
        let change = crate::Change::new(
            "route.plan",
            None,
            jsms_domain::access::Action::ReadZones,
            crate::Refusal::Forbidden("your role does not plan routes"),
        );
        drop(self.gate.permit(caller, change).await?);
        let zones = self.db(|s| s.zones()).await?;
        let feed = Arc::clone(&self.risk_feed);
        tokio::task::spawn_blocking(move || plan_heading(&network, &zones, feed.as_ref(), &input, heading))
            .await
            .map_err(|e| Error::Internal(format!("route planning failed: {e}")))?
    }
}
