//! `GET /api/v1/map/roads`: the imported road network as compact geometry for the web
//! application's map (drawn offline, without tiles). The network is public OpenStreetMap
//! data; the endpoint still needs a signed-in caller, like every other.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The map routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(roads)).routes(routes!(map_config))
}

/// The road network as drawable geometry.
#[derive(Debug, Serialize, ToSchema)]
pub struct Roads {
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: [f64; 4],
    /// Node coordinates, flat: `lon, lat, lon, lat, …` (6 decimals).
    pub nodes: Vec<f64>,
    /// Road segments, flat: `from node, to node, name index, …` (one per road, whichever
    /// directions it can be driven in).
    pub segments: Vec<u32>,
    /// Road names (index 0 is the unnamed road).
    pub names: Vec<String>,
    /// Data licence and attribution to show.
    pub attribution: &'static str,
}

/// What the web map draws under the roads.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapConfig {
    /// Raster tile URL template (`{z}`, `{x}`, `{y}`), when an operator configured one.
    pub tile_url: Option<String>,
}

/// The web map's settings (any signed-in user).
#[utoipa::path(get, path = "/api/v1/map/config", tag = "routing",
    responses((status = 200, body = MapConfig),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn map_config(State(state): State<AppState>, _principal: Principal) -> axum::Json<MapConfig> {
    axum::Json(MapConfig {
        tile_url: state.tile_url.as_deref().map(str::to_owned),
    })
}

/// The geometry of the loaded network, built once (the JSON body is cached).
fn geometry(net: &crate::planning::RoadNetwork) -> Roads {
    let g = &net.graph;
    let (min_lat, min_lon, max_lat, max_lon) = g.bbox();
    let round = |v: f64| (v * 1e6).round() / 1e6;
    let mut nodes = Vec::with_capacity(g.node_count() * 2);
    for n in 0..g.node_count() {
        let (lat, lon) = g.coordinate(u32::try_from(n).unwrap_or(u32::MAX));
        nodes.push(round(lon));
        nodes.push(round(lat));
    }
    let mut names: Vec<String> = vec![String::new()];
    let mut index: HashMap<String, u32> = HashMap::from([(String::new(), 0)]);
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let mut segments = Vec::new();
    for n in 0..g.node_count() {
        let a = u32::try_from(n).unwrap_or(u32::MAX);
        for e in g.edges(a) {
            let b = g.head.get(e).copied().unwrap_or(a);
            if !seen.insert((a.min(b), a.max(b))) {
                continue;
            }
            let name = g.edge_name(e);
            let next = u32::try_from(names.len()).unwrap_or(u32::MAX);
            let i = *index.entry(name.to_owned()).or_insert_with(|| {
                names.push(name.to_owned());
                next
            });
            segments.extend([a, b, i]);
        }
    }
    Roads {
        bbox: [round(min_lon), round(min_lat), round(max_lon), round(max_lat)],
        nodes,
        segments,
        names,
        attribution: "© OpenStreetMap contributors, ODbL",
    }
}

/// The imported road network (any signed-in user), for drawing the map.
#[utoipa::path(get, path = "/api/v1/map/roads", tag = "routing",
    responses((status = 200, body = Roads),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn roads(State(state): State<AppState>, _principal: Principal) -> ApiResult<Response> {
    let net = state
        .services
        .network
        .clone()
        .ok_or_else(|| ApiError::Conflict("no road network imported (jsms map import)".into()))?;
    let body = tokio::task::spawn_blocking(move || {
        net.drawing
            .get_or_init(|| serde_json::to_string(&geometry(&net)).map_err(|e| e.to_string()))
            .clone()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::Internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
