//! Route planning over the imported road network (`POST /api/v1/routes`): both ends snapped
//! (an end too far from any road is an error naming the distance), the active threat zones
//! at the departure time turned into edge costs for the profile, an exact ALT query, and the
//! answer as a GeoJSON Feature with a per-segment breakdown (road, zones crossed, reason).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, RequestMeta};
use crate::routes::require;
use crate::state::AppState;
use crate::wire::GeoPoint;
use axum::Json;
use axum::extract::State;
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_routing::alt::{AltSearch, Landmarks};
use jsms_routing::graph::Graph;
use jsms_routing::risk::{AVOID_MS, RiskWeights, penalty_ms};
use jsms_routing::snap::SnapIndex;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Farthest an end may be from the network, metres.
pub const MAX_SNAP_M: f64 = 500.0;

/// The loaded road network with its query structures.
#[derive(Debug)]
pub struct RoadNetwork {
    /// The graph.
    pub graph: Graph,
    snap: SnapIndex,
    landmarks: Landmarks,
}

impl RoadNetwork {
    /// Prepares a graph for queries (landmarks take about a second on a city).
    pub fn new(graph: Graph) -> Self {
        let snap = SnapIndex::new(&graph);
        let landmarks = Landmarks::new(&graph, 16);
        Self { graph, snap, landmarks }
    }
}

/// The routing routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(plan_route))
}

/// What to optimise.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Least travel time; zones of severity ≥ 4 are still avoided.
    Fastest,
    /// Least exposure: zone penalties weigh three times.
    Safest,
    /// Travel time plus zone penalties.
    Balanced,
}

/// A route request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    /// Start.
    pub from: GeoPoint,
    /// Destination.
    pub to: GeoPoint,
    /// Profile (default balanced).
    #[serde(default)]
    pub profile: Option<Profile>,
    /// Departure (RFC 3339; default now): zones active then count.
    #[serde(default)]
    pub depart_at: Option<String>,
}

/// One stretch of the route on one road.
#[derive(Debug, Serialize, ToSchema)]
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

/// The route's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteProperties {
    /// Profile used.
    pub profile: Profile,
    /// Seconds of driving.
    pub duration_s: f64,
    /// Metres.
    pub distance_m: f64,
    /// Exposure: seconds of zone penalty along the route (0 = no zone crossed).
    pub risk: f64,
    /// True when no route exists that avoids every zone of severity ≥ 4.
    pub crosses_avoided_zone: bool,
    /// Metres from the requested start to the network.
    pub snap_from_m: f64,
    /// Metres from the requested destination to the network.
    pub snap_to_m: f64,
    /// The stretches, in order.
    pub segments: Vec<Segment>,
}

/// A route as a GeoJSON Feature with a LineString geometry.
#[derive(Debug, Serialize, ToSchema)]
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

/// Plans a route between two points (operational roles).
#[utoipa::path(post, path = "/api/v1/routes", tag = "routing", request_body = RouteRequest,
    responses((status = 200, body = RouteFeature),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn plan_route(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<RouteRequest>,
) -> ApiResult<Json<RouteFeature>> {
    let forbidden = ApiError::Forbidden("your role does not plan routes");
    require(
        &state,
        &principal,
        &meta,
        "route.plan",
        None,
        Action::ReadZones,
        forbidden,
    )
    .await?;
    let from = req.from.to_coordinate("/from")?;
    let to = req.to.to_coordinate("/to")?;
    let depart = match &req.depart_at {
        None => state.clock.now(),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|d| d.unix_timestamp())
            .map_err(|_| ValidationError::new("/depart_at", "times are RFC 3339, e.g. 2026-12-01T08:00:00Z"))?,
    };
    let profile = req.profile.unwrap_or(Profile::Balanced);
    let network = state
        .network
        .clone()
        .ok_or_else(|| ApiError::Conflict("no road network is imported: run `jsms map import FILE.osm.pbf`".into()))?;
    let zones = state.db(|s| s.zones()).await?;
    tokio::task::spawn_blocking(move || plan(&network, &zones, from, to, depart, profile))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map(Json)
}

fn plan(
    net: &RoadNetwork,
    zones: &[jsms_store::ZoneRecord],
    from: jsms_domain::geo::Coordinate,
    to: jsms_domain::geo::Coordinate,
    depart: i64,
    profile: Profile,
) -> ApiResult<RouteFeature> {
    let g = &net.graph;
    let snap = |field: &str, c: jsms_domain::geo::Coordinate| {
        net.snap.nearest(g, c.lat(), c.lon(), MAX_SNAP_M).map_err(|d| {
            let how = d.map_or_else(
                || "the map is empty".to_owned(),
                |d| format!("the nearest road is {d:.0} m away"),
            );
            ApiError::Validation(ValidationError::new(
                field,
                format!("farther than {MAX_SNAP_M:.0} m from any road: {how}"),
            ))
        })
    };
    let (s, ds) = snap("/from", from)?;
    let (t, dt) = snap("/to", to)?;
    let active: Vec<&jsms_store::ZoneRecord> = zones.iter().filter(|z| z.zone.active_at(depart)).collect();
    let mut risk = RiskWeights::new(g);
    for z in &active {
        risk.add_zone(g, &z.zone);
    }
    let factor = match profile {
        Profile::Fastest => 0,
        Profile::Balanced => 1,
        Profile::Safest => 3,
    };
    let weight = |e: usize| {
        let base = u64::from(g.edge_time_ms(e));
        let extra = risk.weight(e).saturating_sub(base);
        if extra >= AVOID_MS {
            base + extra
        } else {
            base + extra * factor
        }
    };
    let path = AltSearch::new(g.node_count())
        .run(&net.landmarks, g, s, t, weight)
        .ok_or_else(|| ApiError::Conflict("no route connects the two points".into()))?;
    // Segments: consecutive edges on the same road with the same zones.
    let mut segments: Vec<Segment> = Vec::new();
    let mut total_risk_ms = 0u64;
    for (&e, pair) in path.edges.iter().zip(path.nodes.windows(2)) {
        let &[tail, head] = pair else { continue };
        let (pa, pb) = (g.coordinate(tail), g.coordinate(head));
        let mut crossed = Vec::new();
        let mut worst = 0u8;
        for z in &active {
            let inside = z.zone.length_inside(pa, pb);
            if inside > 0.0 {
                crossed.push(z.id.to_string());
                worst = worst.max(z.zone.severity);
                total_risk_ms = total_risk_ms.saturating_add(penalty_ms(&z.zone, inside).min(AVOID_MS));
            }
        }
        let road = g.edge_name(e).to_owned();
        let (dm, ms) = (
            f64::from(g.edge_length_dm(e)) / 10.0,
            f64::from(g.edge_time_ms(e)) / 1000.0,
        );
        match segments.last_mut() {
            Some(last) if last.road == road && last.zones == crossed => {
                last.distance_m += dm;
                last.duration_s += ms;
            }
            _ => segments.push(Segment {
                road,
                distance_m: dm,
                duration_s: ms,
                risk_reason: (worst > 0)
                    .then(|| format!("inside {} threat zone(s), severity up to {worst}", crossed.len())),
                zones: crossed,
            }),
        }
    }
    let coordinates: Vec<[f64; 2]> = path
        .nodes
        .iter()
        .map(|&n| {
            let (lat, lon) = g.coordinate(n);
            [lon, lat]
        })
        .collect();
    let duration_s = path.edges.iter().map(|&e| f64::from(g.edge_time_ms(e))).sum::<f64>() / 1000.0;
    let distance_m = path.edges.iter().map(|&e| f64::from(g.edge_length_dm(e))).sum::<f64>() / 10.0;
    Ok(RouteFeature {
        kind: "Feature",
        geometry: serde_json::json!({"type": "LineString", "coordinates": coordinates}),
        properties: RouteProperties {
            profile,
            duration_s,
            distance_m,
            risk: total_risk_ms as f64 / 1000.0,
            crosses_avoided_zone: risk.crosses_avoided(g, &path.edges),
            snap_from_m: ds,
            snap_to_m: dt,
            segments,
        },
    })
}

/// Loads the imported network of a data directory, if there is one.
pub fn load_network(path: &std::path::Path) -> Option<Arc<RoadNetwork>> {
    let bytes = std::fs::read(path).ok()?;
    match Graph::from_bytes(&bytes) {
        Ok(g) => Some(Arc::new(RoadNetwork::new(g))),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "road network not loaded");
            None
        }
    }
}
