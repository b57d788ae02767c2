//! Threat zones over the API, as GeoJSON (RFC 7946) features: a Polygon, or a Point with a
//! `radius_m` property for a circle. Validated with errors that name the offending position;
//! decided by the authorization component (each party changes only the zones it created).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, RequestMeta, expected_version, path_id};
use crate::routes::require;
use crate::state::AppState;
use crate::wire::{GeoPoint, GeoPolygon, PointTag, PolygonTag, rfc3339};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::text;
use jsms_domain::zone::{ThreatZone, ZoneKind, ZoneShape};
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
    pub valid_from: String,
    /// Active until (RFC 3339), if bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// Converts a feature into a validated zone, its source and notes.
fn to_zone(f: &ZoneFeature) -> Result<(ThreatZone, String, Option<String>), ValidationError> {
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
    Ok((zone, source, notes))
}

pub(crate) fn to_feature(r: ZoneRecord) -> ZoneFeature {
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
            source: r.source,
            notes: r.notes,
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
async fn list_zones(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<ZoneCollection>> {
    let forbidden = ApiError::Forbidden("your role does not read threat zones");
    require(
        &state,
        &principal,
        &meta,
        "zone.list",
        None,
        Action::ReadZones,
        forbidden,
    )
    .await?;
    let zones = state.db(|s| s.zones()).await?;
    Ok(Json(ZoneCollection {
        kind: "FeatureCollection",
        features: zones.into_iter().map(to_feature).collect(),
    }))
}

/// Creates a threat zone (analysts; host coordinators).
#[utoipa::path(post, path = "/api/v1/zones", tag = "zones", request_body = ZoneFeature,
    responses((status = 201, body = ZoneFeature),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_zone(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(f): ApiJson<ZoneFeature>,
) -> ApiResult<(StatusCode, Json<ZoneFeature>)> {
    let record = create_from(&state, &principal, &meta, &f, "").await?;
    Ok((StatusCode::CREATED, Json(to_feature(record))))
}

/// Creates a zone from a feature (the zone routes, and a threat report that creates one):
/// authorized, audited, stored, and the watched routes re-evaluated before it returns.
/// Validation errors name their field under `prefix` (e.g. `/new_zone`).
pub(crate) async fn create_from(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    f: &ZoneFeature,
    prefix: &str,
) -> ApiResult<ZoneRecord> {
    let party = principal.actor.party_id;
    let forbidden = ApiError::Forbidden("only analysts and host coordinators create threat zones");
    let rules = require(
        state,
        principal,
        meta,
        "zone.create",
        None,
        Action::WriteZone { party },
        forbidden,
    )
    .await?;
    let (zone, source, notes) =
        to_zone(f).map_err(|e| ValidationError::new(format!("{prefix}{}", e.field), e.message))?;
    let record = ZoneRecord {
        id: uuid::Uuid::now_v7(),
        owner_party: party,
        zone,
        source,
        notes,
        version: 1,
    };
    let resource = Some(format!("zone:{}", record.id));
    state
        .audit(
            &principal.who,
            meta,
            crate::state::Event::allow("zone.create", resource, rules),
        )
        .await?;
    let now = state.clock.now();
    let r = record.clone();
    state.db(move |s| s.create_zone(&r, now)).await?;
    reevaluate(state, &record, now).await?;
    Ok(record)
}

/// Checks a zone feature without storing it (errors name their field under `prefix`).
pub(crate) fn check_feature(f: &ZoneFeature, prefix: &str) -> Result<(), ValidationError> {
    to_zone(f)
        .map(|_| ())
        .map_err(|e| ValidationError::new(format!("{prefix}{}", e.field), e.message))
}

/// Raises a zone's severity to `severity` (never lowers it): the owning party only,
/// audited with `why`, and the watched routes re-evaluated. Errors name `field`.
pub(crate) async fn raise(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    id: uuid::Uuid,
    severity: u8,
    field: &str,
    why: &str,
) -> ApiResult<ZoneRecord> {
    let (current, rules) = check_raise(state, principal, meta, id, severity, field).await?;
    let resource = Some(format!("zone:{id}"));
    state
        .audit(
            &principal.who,
            meta,
            crate::state::Event::allow(
                "zone.update",
                resource,
                [
                    rules,
                    vec![format!("severity {} → {severity}: {why}", current.zone.severity)],
                ]
                .concat(),
            ),
        )
        .await?;
    let mut record = current.clone();
    record.zone.severity = severity;
    let (now, version) = (state.clock.now(), current.version);
    let updated = state.db(move |s| s.update_zone(&record, version, now)).await?;
    reevaluate(state, &updated, now).await?;
    Ok(updated)
}

/// Checks that the principal may raise zone `id` to `severity` (authorized, above its
/// current severity) without changing anything; returns the zone and the allowing policies.
pub(crate) async fn check_raise(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    id: uuid::Uuid,
    severity: u8,
    field: &str,
) -> ApiResult<(ZoneRecord, Vec<String>)> {
    let current = crate::routes::referenced(state.db(move |s| s.zone(id)).await, field, "threat zone")?;
    let resource = Some(format!("zone:{id}"));
    let rules = require(
        state,
        principal,
        meta,
        "zone.update",
        resource.clone(),
        Action::WriteZone {
            party: current.owner_party,
        },
        ApiError::Forbidden("only the party that created a zone changes it"),
    )
    .await?;
    if !(1..=5).contains(&severity) {
        return Err(ValidationError::new(format!("{field}/raise_to"), "severity is 1 (low) to 5 (extreme)").into());
    }
    if severity <= current.zone.severity {
        return Err(ValidationError::new(
            format!("{field}/raise_to"),
            format!(
                "the zone is at severity {} already: raise it above",
                current.zone.severity
            ),
        )
        .into());
    }
    Ok((current, rules))
}

/// Hands the current zones to the trackers of movements under way.
async fn refresh_trackers(state: &AppState) -> ApiResult<()> {
    let zones = state.db(|s| s.zones()).await?;
    state.tracking.refresh_zones(&zones);
    Ok(())
}

/// Flags the watched routes a stored zone now crosses ([`crate::reeval`]), on the
/// movements themselves, before the request answers.
async fn reevaluate(state: &AppState, record: &ZoneRecord, now: i64) -> ApiResult<()> {
    refresh_trackers(state).await?;
    let affected = state
        .route_watch
        .zone_changed(record.id, record.version, &record.zone, now);
    for a in &affected {
        tracing::warn!(owner = %a.owner, zone = %a.zone_id, severity = a.severity, inside_m = a.inside_m, "a planned route crosses a changed threat zone");
    }
    crate::routes::movements::flag_affected(state, &affected).await?;
    crate::routes::tracking::route_affected_alerts(state, &affected).await
}

async fn readable_zone(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    raw: &str,
) -> ApiResult<ZoneRecord> {
    let id = path_id(raw)?;
    require(
        state,
        principal,
        meta,
        "zone.read",
        Some(format!("zone:{id}")),
        Action::ReadZones,
        ApiError::NotFound,
    )
    .await?;
    state.db(move |s| s.zone(id)).await
}

/// One threat zone.
#[utoipa::path(get, path = "/api/v1/zones/{id}", tag = "zones", params(("id" = String, Path, description = "Zone id")),
    responses((status = 200, body = ZoneFeature),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_zone(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ZoneFeature>> {
    Ok(Json(to_feature(readable_zone(&state, &principal, &meta, &id).await?)))
}

/// Replaces a threat zone (its owning party only); send the version read.
#[utoipa::path(put, path = "/api/v1/zones/{id}", tag = "zones", request_body = ZoneFeature,
    params(("id" = String, Path, description = "Zone id")),
    responses((status = 200, body = ZoneFeature),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn replace_zone(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<ZoneFeature>,
) -> ApiResult<Json<ZoneFeature>> {
    let current = readable_zone(&state, &principal, &meta, &id).await?;
    let resource = Some(format!("zone:{}", current.id));
    let forbidden = ApiError::Forbidden("only the party that created a zone changes it");
    let action = Action::WriteZone {
        party: current.owner_party,
    };
    let rules = require(
        &state,
        &principal,
        &meta,
        "zone.update",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let version = expected_version(&headers, f.properties.version)?;
    let (zone, source, notes) = to_zone(&f)?;
    state
        .audit(
            &principal.who,
            &meta,
            crate::state::Event::allow("zone.update", resource, rules),
        )
        .await?;
    let record = ZoneRecord {
        zone,
        source,
        notes,
        ..current
    };
    let now = state.clock.now();
    let updated = state.db(move |s| s.update_zone(&record, version, now)).await?;
    reevaluate(&state, &updated, now).await?;
    Ok(Json(to_feature(updated)))
}

/// Deletes a threat zone (its owning party only).
#[utoipa::path(delete, path = "/api/v1/zones/{id}", tag = "zones",
    params(("id" = String, Path, description = "Zone id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_zone(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let current = readable_zone(&state, &principal, &meta, &id).await?;
    let resource = Some(format!("zone:{}", current.id));
    let forbidden = ApiError::Forbidden("only the party that created a zone deletes it");
    let action = Action::WriteZone {
        party: current.owner_party,
    };
    let rules = require(
        &state,
        &principal,
        &meta,
        "zone.delete",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let version = expected_version(&headers, None)?;
    state
        .audit(
            &principal.who,
            &meta,
            crate::state::Event::allow("zone.delete", resource, rules),
        )
        .await?;
    let zid = current.id;
    state.db(move |s| s.delete_zone(zid, version)).await?;
    refresh_trackers(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}
