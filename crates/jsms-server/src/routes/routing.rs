//! `POST /api/v1/routes`: the HTTP face of [`crate::planning`] — validation of the request,
//! authorization, and the planning itself on a blocking thread.

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::planning::{MAX_ALTERNATIVES, PlanInput, Profile, RouteCollection};
use crate::state::AppState;
use crate::wire::GeoPoint;
use axum::Json;
use axum::extract::State;
use jsms_domain::ValidationError;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routing routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(plan_route))
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
    #[schema(format = DateTime)]
    pub depart_at: Option<String>,
    /// How many routes (1–5, default 1): alternatives that share at most 60 % of their
    /// driving time with each other and cost at most 40 % more than the best.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5)]
    pub alternatives: Option<u8>,
    /// For the balanced profile: seconds of risk penalty per second of driving (0–10,
    /// default 1).
    #[serde(default)]
    pub risk_weight: Option<f64>,
    /// Penalise segments driven on this origin and destination in the last 30 days and pick
    /// the recommended route at random among the acceptable ones.
    #[serde(default)]
    pub unpredictable: bool,
    /// Direction of travel at the start, degrees clockwise from north (0–360): the route
    /// leaves along a road direction within 60° of it (a convoy already moving).
    #[serde(default)]
    pub heading: Option<f64>,
}

/// Plans a route between two points (operational roles).
#[utoipa::path(post, path = "/api/v1/routes", tag = "routing", request_body = RouteRequest,
    responses((status = 200, body = RouteCollection),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn plan_route(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<RouteRequest>,
) -> ApiResult<Json<RouteCollection>> {
    let from = req.from.to_coordinate("/from")?;
    let to = req.to.to_coordinate("/to")?;
    let depart = match &req.depart_at {
        None => state.clock.now(),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|d| d.unix_timestamp())
            .map_err(|_| ValidationError::new("/depart_at", "times are RFC 3339, e.g. 2026-12-01T08:00:00Z"))?,
    };
    let profile = req.profile.unwrap_or(Profile::Balanced);
    let alternatives = req.alternatives.unwrap_or(1);
    if !(1..=MAX_ALTERNATIVES).contains(&alternatives) {
        return Err(ValidationError::new("/alternatives", format!("between 1 and {MAX_ALTERNATIVES}")).into());
    }
    let risk_weight = match (req.risk_weight, profile) {
        (None, _) => 1.0,
        (Some(w), Profile::Balanced) if (0.0..=10.0).contains(&w) => w,
        (Some(_), Profile::Balanced) => {
            return Err(ValidationError::new("/risk_weight", "between 0 and 10").into());
        }
        (Some(_), _) => {
            return Err(ValidationError::new("/risk_weight", "only the balanced profile takes a risk weight").into());
        }
    };
    if req.heading.is_some_and(|h| !(0.0..=360.0).contains(&h)) {
        return Err(ValidationError::new("/heading", "degrees clockwise from north, 0 to 360").into());
    }
    let heading = req.heading;
    let input = PlanInput {
        from,
        to,
        profile,
        risk_weight,
        depart,
        alternatives,
        unpredictable: req.unpredictable,
    };
    Ok(Json(state.services.plan_route(&principal, input, heading).await?))
}
