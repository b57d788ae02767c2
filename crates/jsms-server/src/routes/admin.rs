//! Administration of a party's own users and API tokens over HTTP. The rules — each party
//! manages only itself, nobody changes their own privileges, privilege needs a second
//! administrator — live in the service (`jsms_service::users`).

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, expected_version, path_id};
use crate::routes::{page_request, page_view};
use crate::state::AppState;
use crate::wire::{
    ApiTokenView, IssuedApiToken, ListQuery, NewApiToken, NewUserRequest, PageOf, UserPatch, UserView, rfc3339,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jsms_domain::ValidationError;
use jsms_domain::ids::{ApiTokenId, UserId};
use jsms_domain::user::{Compartment, Role};
use jsms_service::users::{NewToken, NewUserInput, UserChanges, UserUpdate};
use jsms_store::{ApiTokenRecord, PrivilegeChange, PrivilegeRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The administration routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(reset_user_mfa))
        .routes(routes!(list_privilege_requests))
        .routes(routes!(approve_privilege_request))
        .routes(routes!(reject_privilege_request))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

fn parse_compartments(values: &[String]) -> Result<Vec<Compartment>, ValidationError> {
    values
        .iter()
        .enumerate()
        .map(|(i, c)| Compartment::parse(c).map_err(|e| ValidationError::new(format!("/compartments/{i}"), e.message)))
        .collect()
}

/// A change that grants privilege, waiting for (or decided by) a second administrator.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivilegeRequestView {
    /// Identifier.
    pub id: Uuid,
    /// `create_user` or `update_profile`.
    pub kind: &'static str,
    /// The user concerned (none yet for a new user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Uuid>,
    /// The username concerned (for a new user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The roles the change gives.
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    /// What it grants, in words.
    pub grants: Vec<String>,
    /// Who asked.
    pub requested_by: Uuid,
    /// When.
    pub requested_at: String,
    /// Lapses at.
    pub expires_at: String,
    /// `pending`, `approved`, `rejected`, or `lapsed` (pending past its time).
    pub state: String,
    /// Who decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Uuid>,
    /// A rejection's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn request_view(r: &PrivilegeRequest, now: i64) -> PrivilegeRequestView {
    let (kind, user, username, roles) = match &r.change {
        PrivilegeChange::CreateUser { username, profile, .. } => {
            ("create_user", None, Some(username.to_string()), profile.roles.clone())
        }
        PrivilegeChange::UpdateProfile { user, profile, .. } => {
            ("update_profile", Some(user.uuid()), None, profile.roles.clone())
        }
    };
    let state = match r.state {
        jsms_store::PrivilegeState::Pending if now >= r.expires_at => "lapsed",
        jsms_store::PrivilegeState::Pending => "pending",
        jsms_store::PrivilegeState::Approved => "approved",
        jsms_store::PrivilegeState::Rejected => "rejected",
    };
    PrivilegeRequestView {
        id: r.id,
        kind,
        user,
        username,
        roles,
        grants: r.reasons.clone(),
        requested_by: r.requested_by.uuid(),
        requested_at: rfc3339(r.created_at),
        expires_at: rfc3339(r.expires_at),
        state: state.to_owned(),
        decided_by: r.decided_by.map(|u| u.uuid()),
        note: r.note.clone(),
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn me(principal: Principal) -> ApiResult<Json<UserView>> {
    Ok(Json(UserView::from(principal.human()?)))
}

/// Users of the administrator's own party.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = PageOf<UserView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOf<UserView>>> {
    let page = page_request(&query)?;
    let result = state.services.users(&principal, page).await?;
    Ok(Json(page_view(result, |u| UserView::from(&*u))))
}

/// Asks for a user in the administrator's party: a new user holds a role, so it is created
/// only when a second administrator approves (202 with the request). The user enrols TOTP
/// at first sign-in.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 202, body = PrivilegeRequestView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<PrivilegeRequestView>)> {
    let input = NewUserInput {
        username: req.username,
        display_name: req.display_name,
        org_id: crate::wire::org_id(req.org_id),
        roles: req.roles.iter().copied().map(Role::from).collect(),
        clearance: req.clearance.into(),
        compartments: parse_compartments(&req.compartments)?,
        password: req.password,
    };
    let request = state.services.request_user(&principal, input).await?;
    let now = state.clock.now();
    Ok((StatusCode::ACCEPTED, Json(request_view(&request, now))))
}

/// One user of the administrator's party.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let id = UserId::from_uuid(path_id(&id)?);
    let user = state.services.user(&principal, id).await?;
    Ok(Json(UserView::from(&*user)))
}

/// Changes a user's profile. A change that grants nothing applies at once (200; the user's
/// sessions end); one that grants a role, a clearance or a compartment waits for a second
/// administrator (202 with the request). Nobody changes their own roles, clearance or
/// compartments (409).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 202, body = PrivilegeRequestView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Response> {
    let id = UserId::from_uuid(path_id(&id)?);
    let version = expected_version(&headers, patch.version)?;
    let changes = UserChanges {
        display_name: patch.display_name,
        roles: patch.roles.map(|r| r.into_iter().map(Role::from).collect()),
        clearance: patch.clearance.map(Into::into),
        compartments: patch.compartments.as_deref().map(parse_compartments).transpose()?,
    };
    Ok(
        match state.services.update_user(&principal, id, version, changes).await? {
            UserUpdate::Applied(user) => Json(UserView::from(&*user)).into_response(),
            UserUpdate::Requested(r) => {
                (StatusCode::ACCEPTED, Json(request_view(&r, state.clock.now()))).into_response()
            }
        },
    )
}

/// Disables a user: sign-in refused, every session ended at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn disable_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let id = UserId::from_uuid(path_id(&id)?);
    let user = state.services.set_user_disabled(&principal, id, true).await?;
    Ok(Json(UserView::from(&*user)))
}

/// Re-enables a user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn enable_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let id = UserId::from_uuid(path_id(&id)?);
    let user = state.services.set_user_disabled(&principal, id, false).await?;
    Ok(Json(UserView::from(&*user)))
}

/// Removes a user's TOTP enrolment (lost phone); the user enrols again at next sign-in.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-mfa", tag = "users", params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn reset_user_mfa(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let id = UserId::from_uuid(path_id(&id)?);
    let user = state.services.reset_user_mfa(&principal, id).await?;
    Ok(Json(UserView::from(&*user)))
}

/// The party's privilege requests, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/privilege-requests", tag = "users",
    responses((status = 200, body = [PrivilegeRequestView]),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_privilege_requests(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<PrivilegeRequestView>>> {
    let list = state.services.privilege_requests(&principal).await?;
    let now = state.clock.now();
    Ok(Json(list.iter().map(|r| request_view(r, now)).collect()))
}

/// A decided privilege request and the user it created or changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivilegeApproval {
    /// The request, approved.
    pub request: PrivilegeRequestView,
    /// The user as it is now.
    pub user: UserView,
}

/// Approves a privilege request (a second administrator of the party: neither the
/// requester nor the user concerned) and applies it.
#[utoipa::path(post, path = "/api/v1/privilege-requests/{id}/approval", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses((status = 200, body = PrivilegeApproval),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn approve_privilege_request(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<PrivilegeApproval>> {
    let (request, user) = state.services.approve_privilege(&principal, path_id(&id)?).await?;
    Ok(Json(PrivilegeApproval {
        request: request_view(&request, state.clock.now()),
        user: UserView::from(&*user),
    }))
}

/// Why a privilege request is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectionIn {
    /// The reason (1–500 characters).
    #[schema(min_length = 1)]
    pub note: String,
}

/// Rejects a privilege request (a second administrator of the party).
#[utoipa::path(post, path = "/api/v1/privilege-requests/{id}/rejection", tag = "users", request_body = RejectionIn,
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses((status = 200, body = PrivilegeRequestView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn reject_privilege_request(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RejectionIn>,
) -> ApiResult<Json<PrivilegeRequestView>> {
    let r = state
        .services
        .reject_privilege(&principal, path_id(&id)?, &input.note)
        .await?;
    Ok(Json(request_view(&r, state.clock.now())))
}

fn token_view(t: &ApiTokenRecord) -> ApiTokenView {
    ApiTokenView {
        id: t.id.uuid(),
        name: t.name.clone(),
        org_id: t.org_id.uuid(),
        scopes: t.scopes.iter().copied().map(Into::into).collect(),
        created_at: rfc3339(t.created_at),
        expires_at: rfc3339(t.expires_at),
        revoked_at: t.revoked_at.map(rfc3339),
        last_used_at: t.last_used_at.map(rfc3339),
    }
}

/// API tokens of the administrator's party.
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "api-tokens",
    responses((status = 200, body = Vec<ApiTokenView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_tokens(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<ApiTokenView>>> {
    let tokens = state.services.api_tokens(&principal).await?;
    Ok(Json(tokens.iter().map(token_view).collect()))
}

/// Issues an API token; its secret is in this response only.
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "api-tokens", request_body = NewApiToken,
    responses((status = 201, body = IssuedApiToken),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<NewApiToken>,
) -> ApiResult<(StatusCode, Json<IssuedApiToken>)> {
    let input = NewToken {
        name: req.name,
        org_id: crate::wire::org_id(req.org_id),
        scopes: req.scopes.iter().copied().map(Into::into).collect(),
        expires_in_days: req.expires_in_days,
    };
    let (record, secret) = state.services.create_api_token(&principal, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedApiToken {
            token: token_view(&record),
            secret,
        }),
    ))
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "api-tokens", params(("id" = uuid::Uuid, Path, description = "Token id")),
    responses((status = 200, body = ApiTokenView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiTokenView>> {
    let id = ApiTokenId::from_uuid(path_id(&id)?);
    let revoked = state.services.revoke_api_token(&principal, id).await?;
    Ok(Json(token_view(&revoked)))
}
