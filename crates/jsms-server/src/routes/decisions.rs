//! Bilateral decisions over HTTP (PRODUCT §3.5): proposals, signed approvals (Ed25519 on
//! the approver's device; the server holds no private key), attachments whose hashes are
//! signed, each party's designated authorities, and the export `jsms decision verify`
//! checks offline. The rules live in the service (`jsms_service::decisions`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, body_error, expected_version, path_id};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_decision::Export;
use jsms_domain::ValidationError;
pub use jsms_service::decisions::{
    ApprovalView, AttachmentView, AuthoritiesList, AuthorityView, DecisionView, PartyAuthorities, RuleView, ToSign,
};
use jsms_service::decisions::{DecisionAct, NewAttachment, NewProposal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

/// The decision routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_key))
        .routes(routes!(list_decisions, propose))
        .routes(routes!(get_decision))
        .routes(routes!(act))
        .routes(routes!(export))
        .routes(routes!(list_authorities, designate))
        .routes(routes!(attachment))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(attach))
                .layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES)),
        )
}

/// Largest attachment, bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 4 * 1024 * 1024;

/// A public key to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyIn {
    /// The Ed25519 public key: 32 bytes, base64.
    #[schema(pattern = "^[A-Za-z0-9+/]{43}=$")]
    pub public_key: String,
}

/// Registers the caller's Ed25519 public key for approving decisions (once).
#[utoipa::path(put, path = "/api/v1/me/signing-key", tag = "decisions", request_body = SigningKeyIn,
    responses((status = 204, description = "Registered"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn register_key(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<SigningKeyIn>,
) -> ApiResult<StatusCode> {
    let key = STANDARD
        .decode(input.public_key.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| ValidationError::new("/public_key", "an Ed25519 public key: 32 bytes in base64"))?;
    state.services.register_signing_key(&principal, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A proposal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalIn {
    /// `technical_assistance`, `joint_operation`, `deployment`, `procedure_change`, `other`.
    pub kind: String,
    /// Title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The exact text to approve.
    pub text: String,
    /// Approvals required per party (party id → M), instead of the defaults (1 each, 2 for
    /// deployments). Every party still approves; M is 1 to the number of its authorities.
    #[serde(default)]
    pub required: std::collections::BTreeMap<Uuid, u8>,
}

/// Decisions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    /// Decisions.
    pub items: Vec<DecisionView>,
}

/// Decisions, newest first.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "decisions",
    responses((status = 200, body = DecisionList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_decisions(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<DecisionList>> {
    Ok(Json(DecisionList {
        items: state.services.decisions(&principal).await?,
    }))
}

/// Proposes a decision with the default rules (every party; one approval each, two for
/// deployments) and each party's designated authorities.
#[utoipa::path(post, path = "/api/v1/decisions", tag = "decisions", request_body = ProposalIn,
    responses((status = 201, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn propose(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<ProposalIn>,
) -> ApiResult<(StatusCode, Json<DecisionView>)> {
    let new = NewProposal {
        kind: input.kind,
        title: input.title,
        text: input.text,
        required: input.required,
    };
    let view = state.services.propose_decision(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One decision.
#[utoipa::path(get, path = "/api/v1/decisions/{id}", tag = "decisions", params(("id" = uuid::Uuid, Path, description = "Decision id")),
    responses((status = 200, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_decision(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DecisionView>> {
    Ok(Json(state.services.decision(&principal, path_id(&id)?).await?))
}

/// An action on a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActIn {
    /// The version the caller saw.
    pub version: i64,
    /// `approve` (with `at` and `signature`), `reject` (with `reason`), `withdraw`, `revise`
    /// (with `text`).
    pub action: String,
    /// For `approve`: the time that was signed (Unix seconds, from `to_sign`).
    #[serde(default)]
    pub at: Option<i64>,
    /// For `approve`: the Ed25519 signature of `to_sign.message`, base64.
    #[serde(default)]
    pub signature: Option<String>,
    /// For `reject`.
    #[serde(default)]
    pub reason: Option<String>,
    /// For `revise`: the new text.
    #[serde(default)]
    pub text: Option<String>,
}

/// Approves (with a signature), rejects, withdraws or revises a decision.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/actions", tag = "decisions", request_body = ActIn,
    params(("id" = uuid::Uuid, Path, description = "Decision id")),
    responses((status = 200, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn act(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ActIn>,
) -> ApiResult<Json<DecisionView>> {
    let act = DecisionAct {
        version: input.version,
        action: input.action,
        at: input.at,
        signature: input.signature,
        reason: input.reason,
        text: input.text,
    };
    Ok(Json(
        state.services.act_on_decision(&principal, path_id(&id)?, act).await?,
    ))
}

/// The decision with its approvals and the approvers' public keys, for `jsms decision
/// verify`.
#[utoipa::path(get, path = "/api/v1/decisions/{id}/export", tag = "decisions", params(("id" = uuid::Uuid, Path, description = "Decision id")),
    responses((status = 200, description = "The export (JSON)"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn export(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Export>> {
    Ok(Json(state.services.export_decision(&principal, path_id(&id)?).await?))
}

/// Where to attach a file.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttachQuery {
    /// The file name (no path).
    pub name: String,
    /// The version read (or `If-Match`).
    pub version: Option<i64>,
}

/// A media type as `type/subtype` (parameters dropped); none given is
/// `application/octet-stream`.
fn media_type(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return Ok("application/octet-stream".to_owned());
    };
    let essence = v
        .to_str()
        .ok()
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let ok = essence.len() <= 100
        && essence.split_once('/').is_some_and(|(a, b)| {
            let token = |x: &str| {
                !x.is_empty()
                    && x.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&c))
            };
            token(a) && token(b)
        });
    if !ok {
        return Err(ApiError::InvalidParameter {
            field: "/Content-Type".into(),
            detail: "a media type like application/pdf".into(),
        });
    }
    Ok(essence)
}

/// Adds an attachment (the request body, at most 4 MiB) to a proposed decision: the
/// proposer only; a new revision, so earlier approvals no longer count.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/attachments", tag = "decisions",
    params(("id" = uuid::Uuid, Path, description = "Decision id"), AttachQuery),
    request_body(content = Vec<u8>, description = "The file", content_type = "application/octet-stream"),
    responses((status = 200, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn attach(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AttachQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<DecisionView>> {
    let id = path_id(&id)?;
    let version = expected_version(&headers, query.version)?;
    let media_type = media_type(&headers)?;
    let content = body.map_err(body_error)?;
    let file = NewAttachment {
        version,
        name: query.name,
        media_type,
        content: content.to_vec(),
    };
    Ok(Json(state.services.attach_to_decision(&principal, id, file).await?))
}

/// One attachment's content, as a download (never rendered by the browser).
#[utoipa::path(get, path = "/api/v1/decisions/{id}/attachments/{sha256}", tag = "decisions",
    params(("id" = uuid::Uuid, Path, description = "Decision id"), ("sha256" = String, Path, description = "SHA-256, hex", pattern = "^[0-9a-f]{64}$")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn attachment(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, sha256)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = path_id(&id)?;
    if sha256.len() != 64 || !sha256.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::InvalidParameter {
            field: "sha256".into(),
            detail: "the attachment's SHA-256, 64 hex digits".into(),
        });
    }
    let a = state.services.decision_attachment(&principal, id, &sha256).await?;
    // The stored name goes into the header percent-encoded (RFC 6266 / 8187).
    let encoded: String = a
        .info
        .name
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"attachment\"; filename*=UTF-8''{encoded}"),
            ),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff".to_owned(),
            ),
        ],
        a.content.clone(),
    )
        .into_response())
}

/// Who approves decisions for each party now (new proposals take these); for the staff who
/// read decisions and for the parties' administrators.
#[utoipa::path(get, path = "/api/v1/decisions/authorities", tag = "decisions",
    responses((status = 200, body = AuthoritiesList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_authorities(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<AuthoritiesList>> {
    Ok(Json(state.services.decision_authorities(&principal).await?))
}

/// A party's authorities to name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignateIn {
    /// Users of the caller's party holding the movement coordinator or liaison officer role
    /// (administrators approve nothing); empty returns to the default.
    pub users: Vec<Uuid>,
}

/// Names the caller's party's authorities for decisions proposed from now on (the party's
/// administrators only; decisions already proposed keep theirs).
#[utoipa::path(put, path = "/api/v1/decisions/authorities", tag = "decisions", request_body = DesignateIn,
    responses((status = 200, body = AuthoritiesList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn designate(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<DesignateIn>,
) -> ApiResult<Json<AuthoritiesList>> {
    Ok(Json(
        state.services.designate_authorities(&principal, &input.users).await?,
    ))
}
