//! The audit log over HTTP: the latest checkpoint with its cosignatures, consistency and
//! inclusion proofs, entries by range and "who knew" — for auditors of either party. Reads
//! of the log are themselves audited.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, RequestMeta};
use crate::routes::require;
use crate::state::{AppState, Event};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_audit::entry::AuditEntry;
use jsms_domain::access::Action;
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
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(q): ApiQuery<CosignatureQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<CosignatureAccepted>> {
    let rules = require(
        &state,
        &principal,
        &meta,
        "audit.cosignature",
        None,
        Action::ReadCheckpoints,
        ApiError::NotFound,
    )
    .await?;
    let line = std::str::from_utf8(&body)
        .map_err(|_| ApiError::MalformedBody {
            detail: "the body is not UTF-8 text".into(),
            field: None,
            status: axum::http::StatusCode::BAD_REQUEST,
        })?
        .to_owned();
    let (audit, witnesses, size) = (
        std::sync::Arc::clone(&state.audit),
        std::sync::Arc::clone(&state.witnesses),
        q.size,
    );
    let accepted = tokio::task::spawn_blocking(move || audit.accept_cosignature(size, &line, &witnesses))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Validation(jsms_domain::ValidationError::new("", e)))?;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("audit.cosignature", Some(format!("checkpoint:{size}")), rules),
        )
        .await?;
    Ok(Json(CosignatureAccepted {
        witness: accepted,
        size,
    }))
}

fn b64(h: &[u8; 32]) -> String {
    STANDARD.encode(h)
}

fn proof_error(e: jsms_audit::ProofError) -> ApiError {
    ApiError::InvalidParameter {
        field: "/size".into(),
        detail: e.to_string(),
    }
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note) with every cosignature
/// the witnesses returned for it.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "audit",
    responses((status = 200, description = "Signed note", content_type = "text/plain"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn checkpoint(State(state): State<AppState>, meta: RequestMeta, principal: Principal) -> ApiResult<Response> {
    require(
        &state,
        &principal,
        &meta,
        "audit.checkpoint",
        None,
        Action::ReadCheckpoints,
        ApiError::NotFound,
    )
    .await?;
    let audit = std::sync::Arc::clone(&state.audit);
    let note = tokio::task::spawn_blocking(move || audit.checkpoint_with_cosignatures())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let note = note.ok_or(ApiError::NotFound)?;
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
async fn log_key(State(state): State<AppState>, meta: RequestMeta, principal: Principal) -> ApiResult<Json<LogKey>> {
    require(
        &state,
        &principal,
        &meta,
        "audit.key",
        None,
        Action::ReadCheckpoints,
        ApiError::NotFound,
    )
    .await?;
    Ok(Json(LogKey {
        origin: state.audit.origin().to_owned(),
        verifier_key: state.audit.verifier_text(),
        size: state.audit.size(),
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
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProof>> {
    require(
        &state,
        &principal,
        &meta,
        "audit.consistency",
        None,
        Action::ReadCheckpoints,
        ApiError::NotFound,
    )
    .await?;
    let proof = state.audit.consistency_proof(q.old, q.new).map_err(proof_error)?;
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
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> ApiResult<Json<InclusionProof>> {
    let forbidden = ApiError::Forbidden("only auditors read the audit log");
    require(
        &state,
        &principal,
        &meta,
        "audit.inclusion",
        None,
        Action::ReadAuditLog,
        forbidden,
    )
    .await?;
    let size = q.size.unwrap_or_else(|| state.audit.size());
    let (leaf, proof, root) = state.audit.inclusion_proof(q.index, size).map_err(proof_error)?;
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
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> ApiResult<Json<EntriesPage>> {
    let forbidden = ApiError::Forbidden("only auditors read the audit log");
    let rule = require(
        &state,
        &principal,
        &meta,
        "audit.entries",
        None,
        Action::ReadAuditLog,
        forbidden,
    )
    .await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::InvalidParameter {
            field: "/limit".into(),
            detail: "limit must be 1 to 1000".into(),
        });
    }
    let from = q.from.unwrap_or(0);
    let size = state.audit.size();
    let to = from.saturating_add(limit).min(size);
    state
        .audit(&principal.who, &meta, Event::allow("audit.entries", None, rule))
        .await?;
    let audit = std::sync::Arc::clone(&state.audit);
    let stored = tokio::task::spawn_blocking(move || audit.with_reader(|db| db.entries(from, to)))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
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

/// One access to a resource's protected fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct Access {
    /// Who (`user:<id>`, `token:<id>`).
    pub principal: String,
    /// Their name at the time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their party.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// When (RFC 3339).
    pub time: String,
    /// What (`person.read`, …).
    pub action: String,
    /// Channel (`api`, `cli`, …).
    pub channel: String,
    /// Fields disclosed.
    pub fields: Vec<String>,
    /// The audit entry, for an inclusion proof.
    pub index: u64,
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
/// (auditors of either party).
#[utoipa::path(get, path = "/api/v1/audit/who-knew", tag = "audit", params(WhoKnewQuery),
    responses((status = 200, body = WhoKnew),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn who_knew(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(q): ApiQuery<WhoKnewQuery>,
) -> ApiResult<Json<WhoKnew>> {
    let forbidden = ApiError::Forbidden("only auditors read the audit log");
    let rule = require(
        &state,
        &principal,
        &meta,
        "audit.who_knew",
        Some(q.resource.clone()),
        Action::ReadAuditLog,
        forbidden,
    )
    .await?;
    // `<kind>:<uuid>`, or `<kind>:<uuid>:plan` for a movement's sealed plan alone.
    let parts: Vec<&str> = q.resource.split(':').collect();
    let valid = match parts.as_slice() {
        [kind, id] => !kind.is_empty() && uuid::Uuid::parse_str(id).is_ok(),
        ["movement", id, "plan"] => uuid::Uuid::parse_str(id).is_ok(),
        _ => false,
    };
    if !valid {
        return Err(ApiError::InvalidParameter {
            field: "/resource".into(),
            detail: "a resource is <kind>:<uuid> (or movement:<uuid>:plan), e.g. person:0193…".into(),
        });
    }
    // A movement's details are its sealed plan: who knew the movement is who read either.
    let mut resources = vec![q.resource.clone()];
    if parts.first() == Some(&"movement") && parts.len() == 2 {
        resources.push(format!("{}:plan", q.resource));
    }
    let from = parse_time("/from", q.from.as_deref(), 0)?;
    let to = parse_time(
        "/to",
        q.to.as_deref(),
        state.clock.now().saturating_add(1).saturating_mul(1000),
    )?;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("audit.who_knew", Some(q.resource.clone()), rule),
        )
        .await?;
    let accesses = accesses(&state, resources, from, to).await?;
    let mut principals: Vec<String> = accesses.iter().map(|a| a.principal.clone()).collect();
    principals.sort();
    principals.dedup();
    Ok(Json(WhoKnew {
        resource: q.resource,
        accesses,
        principals,
    }))
}

/// The accesses to `resources` (protected fields disclosed, or a movement's sealed plan
/// opened) between `from` and `to` (Unix milliseconds), in log order.
pub async fn accesses(state: &AppState, resources: Vec<String>, from: i64, to: i64) -> ApiResult<Vec<Access>> {
    let audit = std::sync::Arc::clone(&state.audit);
    let stored = tokio::task::spawn_blocking(move || {
        audit.with_reader(|db| {
            let mut all = Vec::new();
            for r in &resources {
                all.extend(db.entries_about(r, from, to)?);
            }
            all.sort_by_key(|e| e.idx);
            Ok(all)
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let mut accesses = Vec::new();
    for s in stored {
        let e = AuditEntry::from_bytes(&s.data)
            .map_err(|err| ApiError::Internal(format!("audit entry {}: {err}", s.idx)))?;
        let plan = e.resource.as_deref().is_some_and(|r| r.ends_with(":plan"));
        if e.outcome != jsms_audit::entry::Outcome::Allow || (e.fields.is_empty() && !plan) {
            continue;
        }
        let fields = if e.fields.is_empty() {
            vec!["plan".to_owned()]
        } else {
            e.fields
        };
        accesses.push(Access {
            principal: e.principal,
            name: e.principal_name,
            party: e.party,
            time: crate::wire::rfc3339(e.time_ms.div_euclid(1000)),
            action: e.action,
            channel: e.channel,
            fields,
            index: s.idx,
        });
    }
    Ok(accesses)
}
