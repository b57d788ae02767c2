//! The audit log over HTTP: the latest checkpoint with its cosignatures, consistency and
//! inclusion proofs, entries by range and "who knew" — for auditors of either party. The
//! reads are the service's (`jsms_service::logbook`), recorded like every other.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_service::Resource;
pub use jsms_service::logbook::Access;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The audit routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(log_key))
        .routes(routes!(consistency))
        .routes(routes!(inclusion))
        .routes(routes!(entries))
        .routes(routes!(who_knew))
        .routes(routes!(add_cosignature))
}

/// The checkpoint a cosignature is for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CosignatureQuery {
    /// Size of the signed checkpoint the cosignature covers.
    size: u64,
}

/// Accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct CosignatureAccepted {
    /// The witness whose cosignature was stored.
    pub witness: String,
    /// The checkpoint size.
    pub size: u64,
}

/// Stores a witness's cosignature (a `— name base64` line, as text) on a signed checkpoint;
/// for witnesses that pull (`jsms witness pull`). Only configured witness keys are accepted.
#[utoipa::path(post, path = "/api/v1/audit/cosignatures", tag = "audit", params(CosignatureQuery),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = CosignatureAccepted),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn add_cosignature(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<CosignatureQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<CosignatureAccepted>> {
    let line = std::str::from_utf8(&body)
        .map_err(|_| ApiError::MalformedBody {
            detail: "the body is not UTF-8 text".into(),
            field: None,
            status: axum::http::StatusCode::BAD_REQUEST,
        })?
        .to_owned();
    let witness = state.services.add_cosignature(&principal, q.size, line).await?;
    Ok(Json(CosignatureAccepted { witness, size: q.size }))
}

fn b64(h: &[u8; 32]) -> String {
    STANDARD.encode(h)
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note) with every cosignature
/// the witnesses returned for it.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "audit",
    responses((status = 200, description = "Signed note", content_type = "text/plain"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn checkpoint(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    let note = state
        .services
        .checkpoint_note(&principal)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// The log's identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogKey {
    /// The origin line of its checkpoints.
    pub origin: String,
    /// The checkpoint verifier key (`name+id+key`), for witnesses and `jsms audit verify`.
    pub verifier_key: String,
    /// Entries durable now.
    pub size: u64,
}

/// The log's origin and checkpoint verifier key.
#[utoipa::path(get, path = "/api/v1/audit/key", tag = "audit",
    responses((status = 200, body = LogKey),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn log_key(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<LogKey>> {
    let (origin, verifier_key, size) = state.services.log_key(&principal).await?;
    Ok(Json(LogKey {
        origin,
        verifier_key,
        size,
    }))
}

/// Sizes of a consistency proof.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    /// The smaller tree size.
    old: u64,
    /// The larger tree size.
    new: u64,
}

/// A Merkle consistency proof (RFC 9162 §2.1.4).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    /// Smaller size.
    pub old: u64,
    /// Larger size.
    pub new: u64,
    /// Hashes, base64.
    pub proof: Vec<String>,
}

/// The consistency proof between two tree sizes.
#[utoipa::path(get, path = "/api/v1/audit/consistency", tag = "audit", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn consistency(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProof>> {
    let proof = state.services.consistency_proof(&principal, q.old, q.new).await?;
    Ok(Json(ConsistencyProof {
        old: q.old,
        new: q.new,
        proof: proof.iter().map(b64).collect(),
    }))
}

/// An entry index and tree size.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct InclusionQuery {
    /// The entry's index.
    index: u64,
    /// The tree size (default: the current size).
    size: Option<u64>,
}

/// A Merkle inclusion proof (RFC 9162 §2.1.3).
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    /// Entry index.
    pub index: u64,
    /// Tree size.
    pub size: u64,
    /// The entry's leaf hash, base64.
    pub leaf_hash: String,
    /// The audit path, base64.
    pub proof: Vec<String>,
    /// The root of the tree of that size, base64.
    pub root: String,
}

/// The inclusion proof of an entry (auditors).
#[utoipa::path(get, path = "/api/v1/audit/inclusion", tag = "audit", params(InclusionQuery),
    responses((status = 200, body = InclusionProof),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn inclusion(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> ApiResult<Json<InclusionProof>> {
    let (size, leaf, proof, root) = state.services.inclusion_proof(&principal, q.index, q.size).await?;
    Ok(Json(InclusionProof {
        index: q.index,
        size,
        leaf_hash: b64(&leaf),
        proof: proof.iter().map(b64).collect(),
        root: b64(&root),
    }))
}

/// A range of entries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EntriesQuery {
    /// First index (default 0).
    from: Option<u64>,
    /// How many, 1 to 1000 (default 100).
    limit: Option<u64>,
}

/// One audit entry with its index.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    /// Leaf index.
    pub index: u64,
    /// The entry as stored.
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
}

/// A page of entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesPage {
    /// The entries.
    pub entries: Vec<EntryView>,
    /// Entries durable now.
    pub size: u64,
    /// The `from` of the next page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

fn entry_views(stored: Vec<jsms_store::audit::StoredEntry>) -> ApiResult<Vec<EntryView>> {
    stored
        .into_iter()
        .map(|e| {
            let entry = serde_json::from_slice(&e.data)
                .map_err(|err| ApiError::Internal(format!("audit entry {}: {err}", e.idx)))?;
            Ok(EntryView { index: e.idx, entry })
        })
        .collect()
}

/// Entries by index range (auditors).
#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "audit", params(EntriesQuery),
    responses((status = 200, body = EntriesPage),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn entries(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> ApiResult<Json<EntriesPage>> {
    let from = q.from.unwrap_or(0);
    let (stored, size) = state
        .services
        .log_entries(&principal, from, q.limit.unwrap_or(100))
        .await?;
    let to = stored.last().map_or(from, |e| e.idx + 1);
    Ok(Json(EntriesPage {
        entries: entry_views(stored)?,
        size,
        next: (to < size).then_some(to),
    }))
}

/// Who knew about a resource.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct WhoKnewQuery {
    /// The resource, e.g. `person:<id>`.
    resource: String,
    /// From (RFC 3339; default: the beginning).
    from: Option<String>,
    /// To (RFC 3339; default: now).
    to: Option<String>,
}

/// The "who knew" report.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoKnew {
    /// The resource.
    pub resource: String,
    /// Every allowed access, oldest first.
    pub accesses: Vec<Access>,
    /// The distinct principals among them.
    pub principals: Vec<String>,
}

fn parse_time(field: &str, text: Option<&str>, default: i64) -> ApiResult<i64> {
    match text {
        None => Ok(default),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|d| (d.unix_timestamp_nanos() / 1_000_000) as i64)
            .map_err(|_| ApiError::InvalidParameter {
                field: field.into(),
                detail: "times are RFC 3339, e.g. 2026-11-29T08:00:00Z".into(),
            }),
    }
}

/// Every principal who accessed a resource's fields, through which channel and when
/// (auditors of either party), from the entries' own data.
#[utoipa::path(get, path = "/api/v1/audit/who-knew", tag = "audit", params(WhoKnewQuery),
    responses((status = 200, body = WhoKnew),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn who_knew(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<WhoKnewQuery>,
) -> ApiResult<Json<WhoKnew>> {
    let resource: Resource = q.resource.parse().map_err(|e: String| ApiError::InvalidParameter {
        field: "/resource".into(),
        detail: e,
    })?;
    let from = parse_time("/from", q.from.as_deref(), 0)?;
    let to = parse_time(
        "/to",
        q.to.as_deref(),
        state.clock.now().saturating_add(1).saturating_mul(1000),
    )?;
    let accesses = state.services.who_knew(&principal, resource, from, to).await?;
    let mut principals: Vec<String> = accesses.iter().map(|a| a.principal.clone()).collect();
    principals.sort();
    principals.dedup();
    Ok(Json(WhoKnew {
        resource: q.resource,
        accesses,
        principals,
    }))
}
