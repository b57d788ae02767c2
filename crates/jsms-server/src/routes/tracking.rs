//! Live tracking over HTTP (PRODUCT §3.4): devices of escort teams report positions (JSON
//! batches, or the OsmAnd protocol of the Traccar Client app); alerts are listed,
//! acknowledged, resolved, exported as CAP 1.2 and streamed as server-sent events filtered
//! per subscriber, resumable with `Last-Event-ID`. The rules live in the service
//! (`jsms_service::tracking`); every alert, track and position shown is disclosed by it.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::state::AppState;
use crate::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use jsms_domain::ValidationError;
use jsms_domain::ids::{EscortTeamId, MovementId};
use jsms_domain::tracking::{AlertKind, Position};
use jsms_service::Disclosed;
use jsms_service::tracking::{AlertPart, MovementAlert, Rejected, StreamState};
pub use jsms_service::tracking::{STREAM_LIFETIME, TrackingHub};
use jsms_store::{AlertRecord, Device};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The tracking routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_device))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ingest_positions))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
        .routes(routes!(assignment))
        .routes(routes!(device_sos))
        .routes(routes!(osmand_get, osmand_post))
        .routes(routes!(sos))
        .routes(routes!(check_in))
        .routes(routes!(track))
        .routes(routes!(list_alerts))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
        .routes(routes!(alert_stream))
        .routes(routes!(position_stream))
        .routes(routes!(alert_cap))
        .routes(routes!(crate::webhooks::list_deliveries))
}

/// Largest body of a batch of positions: the documented 10,000 positions with every field
/// written out (about 130 bytes each) fit with room to spare.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;

/// A new device and its token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCreated {
    /// Device id.
    pub id: Uuid,
    /// The secret token: `Authorization: Bearer …` for the JSON API, or the `id` parameter of
    /// the OsmAnd protocol (Traccar Client's "device identifier"). Shown once.
    pub token: String,
}

/// A device to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceIn {
    /// Name, e.g. "lead vehicle phone".
    #[schema(min_length = 1)]
    pub name: String,
}

/// Registers a tracking device for an escort team (host coordinators).
#[utoipa::path(post, path = "/api/v1/escort-teams/{id}/devices", tag = "tracking", request_body = DeviceIn,
    params(("id" = uuid::Uuid, Path, description = "Escort team id")),
    responses((status = 201, body = DeviceCreated),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_device(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DeviceIn>,
) -> ApiResult<(StatusCode, Json<DeviceCreated>)> {
    let team = EscortTeamId::from_uuid(path_id(&id)?);
    let (device, token) = state.services.create_device(&principal, team, &input.name).await?;
    Ok((StatusCode::CREATED, Json(DeviceCreated { id: device.id, token })))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// The device presenting a bearer token.
async fn device(state: &AppState, headers: &HeaderMap) -> ApiResult<Device> {
    let token = bearer(headers).ok_or(ApiError::Unauthenticated)?;
    Ok(state.services.device(token).await?)
}

/// The schema of a position's time: an RFC 3339 string or a number of Unix seconds.
fn position_time() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
    let one_of = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .description(Some("When measured: RFC 3339, or Unix seconds"))
        .build();
    Schema::OneOf(one_of)
}

/// One reported position (JSON API).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionIn {
    /// When measured: RFC 3339, or Unix seconds.
    #[schema(schema_with = position_time)]
    pub time: serde_json::Value,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Speed, m/s.
    #[serde(default)]
    pub speed: Option<f64>,
    /// Heading, degrees.
    #[serde(default)]
    pub heading: Option<f64>,
    /// Accuracy, metres.
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Battery, percent.
    #[serde(default)]
    pub battery: Option<f64>,
}

/// A batch of positions from one device.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionBatch {
    /// Positions, any order (at most 10,000).
    pub positions: Vec<PositionIn>,
}

/// A refused position.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedView {
    /// Its index in the batch.
    pub index: usize,
    /// The field at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What became of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestReport {
    /// The movement the positions were recorded for.
    pub movement: Uuid,
    /// New positions stored.
    pub accepted: usize,
    /// Positions already received (dropped).
    pub duplicates: usize,
    /// Refused positions, each with its reason.
    pub rejected: Vec<RejectedView>,
}

fn parse_time(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(|t| if t > 100_000_000_000 { t / 1000 } else { t }),
        serde_json::Value::String(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|d| d.unix_timestamp())
            .or_else(|| {
                s.parse::<i64>()
                    .ok()
                    .map(|t| if t > 100_000_000_000 { t / 1000 } else { t })
            }),
        _ => None,
    }
}

fn validate(index: usize, p: &PositionIn, now: i64) -> Result<Position, Rejected> {
    let reject = |e: ValidationError| Rejected {
        index,
        field: e.field,
        reason: e.message,
    };
    let at = parse_time(&p.time).ok_or_else(|| Rejected {
        index,
        field: "/time".into(),
        reason: "RFC 3339 or Unix seconds".into(),
    })?;
    Position::new(at, (p.lat, p.lon), p.speed, p.heading, p.accuracy, p.battery, now).map_err(reject)
}

fn report_view(r: jsms_service::tracking::IngestReport) -> IngestReport {
    IngestReport {
        movement: r.movement.uuid(),
        accepted: r.accepted,
        duplicates: r.duplicates,
        rejected: r
            .rejected
            .into_iter()
            .map(|x| RejectedView {
                index: x.index,
                field: x.field,
                reason: x.reason,
            })
            .collect(),
    }
}

/// Positions from a device of an escort team (`Authorization: Bearer <device token>`).
/// Good positions are kept even when others in the batch are refused.
#[utoipa::path(post, path = "/api/v1/tracking/positions", tag = "tracking", request_body = PositionBatch,
    responses((status = 200, body = IngestReport),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn ingest_positions(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(batch): ApiJson<PositionBatch>,
) -> ApiResult<Json<IngestReport>> {
    let device = device(&state, &headers).await?;
    if batch.positions.len() > 10_000 {
        return Err(ValidationError::new("/positions", "at most 10000 positions per batch").into());
    }
    let now = state.services.clock.now();
    let items = batch
        .positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            validate(i, p, now).map_err(|mut r| {
                r.field = format!("/positions/{i}{}", r.field);
                r
            })
        })
        .collect();
    Ok(Json(report_view(state.services.ingest(&device, items).await?)))
}

/// What a device of the escort team needs: the movement it reports for and its route.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignment {
    /// The movement.
    pub movement: Uuid,
    /// Its state.
    pub state: String,
    /// The planned route, `[lon, lat]` in order.
    #[schema(value_type = Vec<Vec<f64>>)]
    pub route: Vec<[f64; 2]>,
    /// Planned departure.
    pub departure: String,
    /// Planned arrival.
    pub arrival: String,
}

/// The device's current assignment (device token): released to its team, so the vehicle
/// knows its route.
#[utoipa::path(get, path = "/api/v1/tracking/assignment", tag = "tracking",
    responses((status = 200, body = Assignment),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn assignment(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Assignment>> {
    let device = device(&state, &headers).await?;
    let a = state.services.device_assignment(&device).await?;
    Ok(Json(Assignment {
        movement: a.movement.uuid(),
        state: a.state.as_str().to_owned(),
        route: a.route.iter().map(|c| [c.lon(), c.lat()]).collect(),
        departure: rfc3339(a.departure),
        arrival: rfc3339(a.arrival),
    }))
}

/// SOS from a device (the app's panic button): a critical alert on its movement.
#[utoipa::path(post, path = "/api/v1/tracking/sos", tag = "tracking",
    responses((status = 204, description = "Raised (or already open)"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn device_sos(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let device = device(&state, &headers).await?;
    state.services.device_sos(&device).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The OsmAnd protocol as the Traccar Client sends it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OsmAnd {
    /// The device token (Traccar Client: "Device identifier").
    pub id: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Unix seconds (or milliseconds), or RFC 3339.
    pub timestamp: String,
    /// Speed in knots (OsmAnd convention).
    #[serde(default)]
    pub speed: Option<f64>,
    /// Bearing, degrees.
    #[serde(default)]
    pub bearing: Option<f64>,
    /// Altitude, metres (not used).
    #[serde(default)]
    pub altitude: Option<f64>,
    /// Accuracy, metres.
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Battery, percent.
    #[serde(default)]
    pub batt: Option<f64>,
}

async fn osmand(state: AppState, q: OsmAnd) -> ApiResult<axum::response::Response> {
    let device = state.services.device(&q.id).await?;
    let now = state.services.clock.now();
    let input = PositionIn {
        time: serde_json::Value::String(q.timestamp),
        lat: q.lat,
        lon: q.lon,
        speed: q.speed.map(|knots| knots * 0.514_444),
        heading: q.bearing,
        accuracy: q.accuracy,
        battery: q.batt,
    };
    let report = state.services.ingest(&device, vec![validate(0, &input, now)]).await?;
    if let Some(r) = report.rejected.first() {
        return Err(ValidationError::new(r.field.clone(), r.reason.clone()).into());
    }
    Ok((StatusCode::OK, "OK").into_response())
}

/// A position in the OsmAnd protocol (query string), for the Traccar Client app.
#[utoipa::path(get, path = "/api/v1/tracking/osmand", tag = "tracking", params(OsmAnd),
    responses((status = 200, description = "OK"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn osmand_get(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OsmAnd>,
) -> ApiResult<axum::response::Response> {
    osmand(state, q).await
}

/// A position in the OsmAnd protocol (query string or form body), for the Traccar Client app.
#[utoipa::path(post, path = "/api/v1/tracking/osmand", tag = "tracking", params(OsmAnd),
    responses((status = 200, description = "OK"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn osmand_post(
    State(state): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    body: String,
) -> ApiResult<axum::response::Response> {
    // Traccar Client sends the fields in the query string, other OsmAnd clients in a form body.
    let text = match &query {
        Some(q) if !q.is_empty() => q.as_str(),
        _ => body.as_str(),
    };
    let q = serde_urlencoded::from_str::<OsmAnd>(text).map_err(|e| ApiError::InvalidParameter {
        field: "query".into(),
        detail: e.to_string(),
    })?;
    osmand(state, q).await
}

/// Distress: raises a critical SOS alert on the movement (escort and planners).
#[utoipa::path(post, path = "/api/v1/movements/{id}/sos", tag = "tracking", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 201, body = AlertView), (status = 200, description = "An SOS is already open", body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn sos(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<AlertView>)> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let (alert, new) = state.services.sos(&principal, id).await?;
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(alert_view(&alert))))
}

/// A check-in by the escort: resets the missed-check-in detector.
#[utoipa::path(post, path = "/api/v1/movements/{id}/check-in", tag = "tracking", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 204, description = "Checked in"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn check_in(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = MovementId::from_uuid(path_id(&id)?);
    state.services.check_in(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A movement's track (need to know, like the plan).
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackView {
    /// Positions, oldest first: `[lon, lat]` with time.
    #[schema(value_type = Vec<Object>)]
    pub positions: serde_json::Value,
}

/// The positions of a movement (need to know).
#[utoipa::path(get, path = "/api/v1/movements/{id}/track", tag = "tracking", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = TrackView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn track(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<TrackView>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let track = state.services.track(&principal, id).await?;
    Ok(Json(TrackView {
        positions: serde_json::json!(
            track
                .positions
                .iter()
                .map(|p| serde_json::json!({"time": rfc3339(p.at), "coordinates": [p.lon, p.lat], "speed": p.speed, "battery": p.battery}))
                .collect::<Vec<_>>()
        ),
    }))
}

/// An alert.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertView {
    /// Identifier.
    pub id: Uuid,
    /// Stream sequence number.
    pub seq: i64,
    /// Movement.
    pub movement: Uuid,
    /// Kind.
    pub kind: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// Plain words.
    pub message: String,
    /// When.
    pub at: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// Evidence.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    /// Who did what.
    #[schema(value_type = Vec<Object>)]
    pub log: serde_json::Value,
}

fn record_view(a: &AlertRecord) -> AlertView {
    AlertView {
        id: a.id,
        seq: a.seq,
        movement: a.movement.uuid(),
        kind: a.kind.clone(),
        severity: a.severity.clone(),
        message: a.message.clone(),
        at: rfc3339(a.at),
        state: a.state.clone(),
        evidence: a.evidence.clone(),
        log: a.log.clone(),
    }
}

/// The wire view of a disclosed alert (its position only if the service disclosed it).
fn alert_view(a: &Disclosed<MovementAlert>) -> AlertView {
    let mut v = record_view(&a.alert);
    if !a.sees(AlertPart::Position)
        && let Some(e) = v.evidence.as_object_mut()
    {
        e.remove("position");
    }
    v
}

/// Alerts on movements the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "tracking",
    responses((status = 200, body = [AlertView]),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_alerts(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<AlertView>>> {
    let alerts = state.services.alerts(&principal, 0).await?;
    Ok(Json(alerts.iter().map(alert_view).collect()))
}

/// A note on an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    /// What was done (required to resolve).
    #[serde(default)]
    pub note: Option<String>,
}

/// Acknowledges an open alert.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "tracking", request_body = AlertNote,
    params(("id" = uuid::Uuid, Path, description = "Alert id")),
    responses((status = 200, body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn acknowledge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<AlertNote>,
) -> ApiResult<Json<AlertView>> {
    let id = path_id(&id)?;
    let a = state
        .services
        .move_alert(&principal, id, n.note, &["open"], "acknowledged")
        .await?;
    Ok(Json(alert_view(&a)))
}

/// Resolves an alert, with a note.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "tracking", request_body = AlertNote,
    params(("id" = uuid::Uuid, Path, description = "Alert id")),
    responses((status = 200, body = AlertView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn resolve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<AlertNote>,
) -> ApiResult<Json<AlertView>> {
    let id = path_id(&id)?;
    let a = state
        .services
        .move_alert(&principal, id, n.note, &["open", "acknowledged"], "resolved")
        .await?;
    Ok(Json(alert_view(&a)))
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// CAP's dateTime: seconds precision with an explicit offset (never `Z`).
fn cap_time(t: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        Err(_) => "1970-01-01T00:00:00+00:00".into(),
    }
}

/// An alert as an OASIS CAP 1.2 message. The last known position is included only for
/// callers who may see the movement's plan.
pub fn to_cap(a: &AlertRecord, sender: &str, with_position: bool) -> String {
    let (severity, urgency) = match (a.severity.as_str(), a.kind.as_str()) {
        (_, "sos") => ("Extreme", "Immediate"),
        ("critical", _) => ("Severe", "Immediate"),
        _ => ("Moderate", "Expected"),
    };
    let msg_type = match a.state.as_str() {
        "open" => "Alert",
        "resolved" => "Cancel",
        _ => "Update",
    };
    let event = match AlertKind::parse(&a.kind) {
        Some(AlertKind::Deviation) => "Deviation from the planned route",
        Some(AlertKind::UnplannedStop) => "Unplanned stop",
        Some(AlertKind::ZoneEntry) => "Entry into a threat zone",
        Some(AlertKind::Overdue) => "Movement overdue",
        Some(AlertKind::MissedCheckIn) => "Missed check-in",
        Some(AlertKind::DeviceSilent) => "Tracking device silent",
        Some(AlertKind::Sos) => "SOS",
        Some(AlertKind::RouteAffected) => "Threat zone on the remaining route",
        Some(AlertKind::Escalation) => "Unacknowledged alert escalated",
        None => "Movement alert",
    };
    let area = a
        .evidence
        .get("position")
        .filter(|_| with_position)
        .and_then(|p| Some((p.get("lat")?.as_f64()?, p.get("lon")?.as_f64()?)))
        .map(|(lat, lon)| {
            format!(
                "    <area>\n      <areaDesc>Last known position</areaDesc>\n      <circle>{lat:.6},{lon:.6} 0.2</circle>\n    </area>\n"
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n\
  <identifier>urn:uuid:{id}</identifier>\n\
  <sender>{sender}</sender>\n\
  <sent>{sent}</sent>\n\
  <status>Actual</status>\n\
  <msgType>{msg_type}</msgType>\n\
  <scope>Restricted</scope>\n\
  <restriction>JSMS need to know: movement {movement} participants only</restriction>\n\
  <info>\n\
    <category>Security</category>\n\
    <event>{event}</event>\n\
    <urgency>{urgency}</urgency>\n\
    <severity>{severity}</severity>\n\
    <certainty>Observed</certainty>\n\
    <senderName>JSMS operations</senderName>\n\
    <headline>{headline}</headline>\n\
    <description>{description}</description>\n\
    <parameter>\n      <valueName>jsms-alert-state</valueName>\n      <value>{state}</value>\n    </parameter>\n\
{area}  </info>\n\
</alert>\n",
        id = a.id,
        sender = xml(sender),
        sent = cap_time(a.at),
        movement = a.movement,
        headline = xml(&format!("{event} (movement {})", a.movement)),
        description = xml(&a.message),
        state = xml(&a.state),
    )
}

/// One alert as OASIS CAP 1.2 XML (its position only for those who may see the plan).
#[utoipa::path(get, path = "/api/v1/alerts/{id}/cap", tag = "tracking", params(("id" = uuid::Uuid, Path, description = "Alert id")),
    responses((status = 200, description = "CAP 1.2", content_type = "application/cap+xml", body = String),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn alert_cap(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let id = path_id(&id)?;
    let a = state.services.alert(&principal, id).await?;
    let body = to_cap(&a.alert, "jsms@operations.invalid", a.sees(AlertPart::Position));
    Ok(([(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")], body).into_response())
}

/// Where to resume a stream.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this event id (the `Last-Event-ID` header wins).
    #[serde(default)]
    pub after: Option<i64>,
}

/// Where a stream resumes: the `Last-Event-ID` header, else `?after=`, else the start.
fn resume_after(headers: &HeaderMap, q: &StreamQuery) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.after)
        .unwrap_or(0)
}

/// Alerts as server-sent events (`id` = sequence number), filtered for the caller and
/// recorded once per movement alert and stream; resume with `Last-Event-ID` and nothing is
/// lost. The stream ends if the audit log cannot record a disclosure.
#[utoipa::path(get, path = "/api/v1/alerts/stream", tag = "tracking", params(StreamQuery),
    responses((status = 200, description = "text/event-stream of alerts"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn alert_stream(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    let after = resume_after(&headers, &q);
    state.services.gate.open_stream(&principal, "stream.alerts").await?;
    // Subscribe first, then replay: nothing falls between the two.
    let live = state.services.tracking.subscribe_alerts();
    let backlog = state.services.alerts(&principal, after).await?;
    let last = backlog.last().map_or(after, |a| a.alert.seq);
    let event = |v: &AlertView| {
        SseEvent::default()
            .id(v.seq.to_string())
            .event("alert")
            .json_data(v)
            .unwrap_or_else(|_| SseEvent::default().comment("unserialisable alert"))
    };
    let replay = futures_util::stream::iter(
        backlog
            .iter()
            .map(|a| event(&alert_view(a)))
            .map(Ok)
            .collect::<Vec<_>>(),
    );
    let follow = futures_util::stream::unfold(
        (
            live,
            state,
            principal,
            last,
            StreamState::new(),
            tokio::time::Instant::now() + STREAM_LIFETIME,
        ),
        move |(mut rx, state, principal, last, mut ledger, deadline)| async move {
            loop {
                let Ok(received) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                    return None;
                };
                match received {
                    Ok(a) if a.seq > last => {
                        let seq = a.seq;
                        match state.services.alert_for_stream(&principal, &mut ledger, a).await {
                            Ok(Some(d)) => {
                                let e = event(&alert_view(&d));
                                return Some((Ok(e), (rx, state, principal, seq, ledger, deadline)));
                            }
                            Ok(None) => {}
                            // Not recorded: nothing more is disclosed on this stream.
                            Err(_) => return None,
                        }
                    }
                    Ok(_) => {}
                    // Lagging: the client reconnects with Last-Event-ID and loses nothing.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => {
                        return None;
                    }
                }
            }
        },
    );
    use futures_util::StreamExt;
    Ok(Sse::new(replay.chain(follow)).keep_alive(KeepAlive::default()))
}

fn position_event((seq, m, p): &(i64, MovementId, Position)) -> SseEvent {
    SseEvent::default()
        .id(seq.to_string())
        .event("position")
        .json_data(serde_json::json!({
            "movement": m.uuid(),
            "time": rfc3339(p.at),
            "coordinates": [p.lon, p.lat],
            "speed": p.speed,
        }))
        .unwrap_or_else(|_| SseEvent::default().comment("unserialisable position"))
}

/// Live positions as server-sent events (`id` = stream sequence), only of movements whose
/// details the caller may see (need to know), each movement recorded once per stream;
/// resume with `Last-Event-ID`.
#[utoipa::path(get, path = "/api/v1/tracking/stream", tag = "tracking", params(StreamQuery),
    responses((status = 200, description = "text/event-stream of positions"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn position_stream(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    let after = resume_after(&headers, &q);
    state.services.gate.open_stream(&principal, "stream.positions").await?;
    let live = state.services.tracking.subscribe_positions();
    let mut ledger = StreamState::new();
    let backlog = state
        .services
        .positions_for_stream(&principal, &mut ledger, after)
        .await?;
    let last = backlog.last().map_or(after, |b| b.0);
    let replay = futures_util::stream::iter(backlog.iter().map(position_event).map(Ok).collect::<Vec<_>>());
    let follow = futures_util::stream::unfold(
        (
            live,
            state,
            principal,
            last,
            ledger,
            tokio::time::Instant::now() + STREAM_LIFETIME,
        ),
        move |(mut rx, state, principal, last, mut ledger, deadline)| async move {
            loop {
                let Ok(received) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                    return None;
                };
                match received {
                    Ok(item) if item.0 > last => {
                        match state
                            .services
                            .position_for_stream(&principal, &mut ledger, item.1)
                            .await
                        {
                            Ok(true) => {
                                let e = position_event(&item);
                                return Some((Ok(e), (rx, state, principal, item.0, ledger, deadline)));
                            }
                            Ok(false) => {}
                            Err(_) => return None,
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => {
                        return None;
                    }
                }
            }
        },
    );
    use futures_util::StreamExt;
    Ok(Sse::new(replay.chain(follow)).keep_alive(KeepAlive::default()))
}
