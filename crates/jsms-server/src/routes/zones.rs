//! Threat zones over the API, as GeoJSON (RFC 7946) features: a Polygon, or a Point with a
//! `radius_m` property for a circle. Validated here with errors that name the offending
//! position; decided, recorded and re-evaluated by the service (`jsms_service::zones`).

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, expected_version, path_id};
use crate::state::AppState;
use crate::wire::{GeoPoint, GeoPolygon, PointTag, PolygonTag, rfc3339};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use jsms_domain::ValidationError;
use jsms_domain::text;
use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
use jsms_service::Disclosed;
use jsms_service::zones::ZoneInput;
use jsms_store::ZoneRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The zone routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_zones, create_zone))
        .routes(routes!(get_zone, replace_zone, delete_zone))
}

/// A zone's geometry: a GeoJSON Polygon, or a Point (the centre of a circle).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ZoneGeometry {
    /// A polygon (one closed ring, no holes).
    Polygon(GeoPolygon),
    /// The centre of a circle (with `properties.radius_m`).
    Point(GeoPoint),
}

/// The properties of a zone feature.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneProperties {
    /// 1 (low) to 5 (extreme); 4 and 5 are avoided by routes.
    pub severity: u8,
    /// `hostile_surveillance`, `ied_risk`, `unrest`, `checkpoint`, `other`.
    pub kind: String,
    /// Active from (RFC 3339).
    #[schema(format = DateTime)]
    pub valid_from: String,
    /// Active until (RFC 3339), if bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub valid_until: Option<String>,
    /// Where the information comes from (1–200 characters).
    pub source: String,
    /// Notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Radius in metres, for a Point geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
    /// Version (read only; send it back, or `If-Match`, to replace or delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Owning party (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_party_id: Option<String>,
}

/// A zone as a GeoJSON Feature.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: FeatureTag,
    /// The zone id (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Geometry.
    pub geometry: ZoneGeometry,
    /// Properties.
    pub properties: ZoneProperties,
}

/// The GeoJSON Feature tag.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum FeatureTag {
    /// Feature.
    Feature,
}

/// A GeoJSON FeatureCollection of zones.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The zones.
    pub features: Vec<ZoneFeature>,
}

/// Converts a feature into a validated zone with its source and notes.
fn to_zone(f: &ZoneFeature) -> Result<ZoneInput, ValidationError> {
    let p = &f.properties;
    let shape = match &f.geometry {
        ZoneGeometry::Polygon(poly) => {
            if p.radius_m.is_some() {
                return Err(ValidationError::new(
                    "/properties/radius_m",
                    "only a Point (circle) has a radius",
                ));
            }
            ZoneShape::Polygon(poly.to_polygon("/geometry")?)
        }
        ZoneGeometry::Point(pt) => {
            let radius_m = p.radius_m.ok_or_else(|| {
                ValidationError::new("/properties/radius_m", "a Point zone is a circle: give radius_m")
            })?;
            ZoneShape::Circle {
                center: pt.to_coordinate("/geometry")?,
                radius_m,
            }
        }
    };
    let valid_from = crate::wire::parse_rfc3339("/properties/valid_from", &p.valid_from)?;
    let valid_until = p
        .valid_until
        .as_deref()
        .map(|u| crate::wire::parse_rfc3339("/properties/valid_until", u))
        .transpose()?;
    let zone = ThreatZone::new(shape, p.severity, ZoneKind::parse(&p.kind)?, valid_from, valid_until)
        .map_err(|e| ValidationError::new(format!("/properties{}", e.field), e.message))?;
    let source = text::required("/properties/source", &p.source, 200)?;
    let notes = p
        .notes
        .as_deref()
        .map(|n| text::optional("/properties/notes", n, 2000))
        .transpose()?
        .flatten();
    Ok(ZoneInput { zone, source, notes })
}

pub(crate) fn to_feature(r: &ZoneRecord) -> ZoneFeature {
    let (geometry, radius_m) = match &r.zone.shape {
        ZoneShape::Polygon(p) => (ZoneGeometry::Polygon(GeoPolygon::from_polygon(p)), None),
        ZoneShape::Circle { center, radius_m } => {
            (ZoneGeometry::Point(GeoPoint::from_coordinate(*center)), Some(*radius_m))
        }
    };
    let _ = (PointTag::Point, PolygonTag::Polygon);
    ZoneFeature {
        kind: FeatureTag::Feature,
        id: Some(r.id.to_string()),
        geometry,
        properties: ZoneProperties {
            severity: r.zone.severity,
            kind: r.zone.kind.as_str().to_owned(),
            valid_from: rfc3339(r.zone.valid_from),
            valid_until: r.zone.valid_until.map(rfc3339),
            source: r.source.clone(),
            notes: r.notes.clone(),
            radius_m,
            version: Some(r.version),
            owner_party_id: Some(r.owner_party.to_string()),
        },
    }
}

/// Every threat zone, as a GeoJSON FeatureCollection.
#[utoipa::path(get, path = "/api/v1/zones", tag = "zones",
    responses((status = 200, body = ZoneCollection),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_zones(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<ZoneCollection>> {
    let zones = state.services.zones(&principal).await?;
    Ok(Json(ZoneCollection {
        kind: "FeatureCollection",
        features: zones.iter().map(|z| to_feature(z)).collect(),
    }))
}

/// Creates a threat zone (analysts; host coordinators).
#[utoipa::path(post, path = "/api/v1/zones", tag = "zones", request_body = ZoneFeature,
    responses((status = 201, body = ZoneFeature),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_zone(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(f): ApiJson<ZoneFeature>,
) -> ApiResult<(StatusCode, Json<ZoneFeature>)> {
    state.services.check_zone_write(&principal).await?;
    let input = to_zone(&f)?;
    let record: Disclosed<ZoneRecord> = state.services.create_zone(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(to_feature(&record))))
}

/// A zone from a feature (a threat report that creates one, a STIX import), errors naming
/// their field under `prefix` (e.g. `/new_zone`).
pub(crate) fn zone_input(f: &ZoneFeature, prefix: &str) -> Result<ZoneInput, ValidationError> {
    to_zone(f).map_err(|e| ValidationError::new(format!("{prefix}{}", e.field), e.message))
}

/// One threat zone.
#[utoipa::path(get, path = "/api/v1/zones/{id}", tag = "zones", params(("id" = uuid::Uuid, Path, description = "Zone id")),
    responses((status = 200, body = ZoneFeature),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_zone(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ZoneFeature>> {
    let zone = state.services.zone(&principal, path_id(&id)?).await?;
    Ok(Json(to_feature(&zone)))
}

/// Replaces a threat zone (its owning party only); send the version read.
#[utoipa::path(put, path = "/api/v1/zones/{id}", tag = "zones", request_body = ZoneFeature,
    params(("id" = uuid::Uuid, Path, description = "Zone id")),
    responses((status = 200, body = ZoneFeature),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn replace_zone(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<ZoneFeature>,
) -> ApiResult<Json<ZoneFeature>> {
    let id = path_id(&id)?;
    let version = expected_version(&headers, f.properties.version)?;
    let input = to_zone(&f)?;
    let updated = state.services.replace_zone(&principal, id, version, input).await?;
    Ok(Json(to_feature(&updated)))
}

/// Deletes a threat zone (its owning party only).
#[utoipa::path(delete, path = "/api/v1/zones/{id}", tag = "zones",
    params(("id" = uuid::Uuid, Path, description = "Zone id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"", pattern = "^(W/)?\"v?[0-9]{1,18}\"$|^[0-9]{1,18}$")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_zone(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = path_id(&id)?;
    let version = expected_version(&headers, None)?;
    state.services.delete_zone(&principal, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
