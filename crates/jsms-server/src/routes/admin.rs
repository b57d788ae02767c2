//! Administration of a party's own users and API tokens. Every endpoint asks
//! the authorization component for `ManageUsers`/`ManageApiTokens` of the target's party; another
//! party's user answers exactly like a missing one.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, RequestMeta, expected_version, path_id};
use crate::routes::{page_request, page_view, require};
use crate::state::{AppState, Event};
use crate::wire::{
    ApiTokenView, IssuedApiToken, ListQuery, NewApiToken, NewUserRequest, PageOf, UserPatch, UserView, rfc3339,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{ApiTokenId, UserId};
use jsms_domain::text;
use jsms_domain::user::{ApiScope, Compartment, Role, User, UserProfile, Username};
use jsms_identity::{password, token};
use jsms_store::{ApiTokenRecord, NewUser};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The administration routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(reset_user_mfa))
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

/// Loads a user the principal may administer; anything else is `NotFound` (and audited).
async fn administered_user(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    audit_action: &'static str,
    raw_id: &str,
) -> ApiResult<(User, Vec<String>)> {
    let id = UserId::from_uuid(path_id(raw_id)?);
    let user = state.db(move |s| s.user(id)).await?;
    let action = Action::ManageUsers { party: user.party_id };
    let resource = Some(format!("user:{id}"));
    let rule = require(
        state,
        principal,
        meta,
        audit_action,
        resource,
        action,
        ApiError::NotFound,
    )
    .await?;
    Ok((user, rule))
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
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOf<UserView>>> {
    let party = principal.actor.party_id;
    let forbidden = ApiError::Forbidden("only party administrators list users");
    let action = Action::ManageUsers { party };
    require(&state, &principal, &meta, "user.list", None, action, forbidden).await?;
    let page = page_request(&query)?;
    let result = state.db(move |s| s.users(Some(party), &page)).await?;
    Ok(Json(page_view(result, |u| UserView::from(&u))))
}

/// Creates a user in the administrator's party. The user enrols TOTP at first sign-in.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_user(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let party = principal.actor.party_id;
    let forbidden = ApiError::Forbidden("only party administrators create users");
    let action = Action::ManageUsers { party };
    let rule = require(&state, &principal, &meta, "user.create", None, action, forbidden).await?;
    let username = Username::parse(&req.username)?;
    let org_id = crate::wire::org_id(req.org_id);
    let org = state
        .db(move |s| s.org(org_id))
        .await
        .ok()
        .filter(|o| o.party_id == party)
        .ok_or_else(|| ApiError::Validation(ValidationError::new("/org_id", "no such organisation in your party")))?;
    let party_kind = state.party(party).await?.kind;
    let roles: Vec<Role> = req.roles.iter().copied().map(Role::from).collect();
    let profile = UserProfile::new(
        &req.display_name,
        roles,
        req.clearance.into(),
        parse_compartments(&req.compartments)?,
        party_kind,
    )?;
    password::check_policy(&req.password)
        .map_err(|e| ApiError::Validation(ValidationError::new("/password", e.to_string())))?;
    let pw = req.password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let new = NewUser {
        org_id: org.id,
        username,
        profile,
        password_hash: hash,
        enrolled_totp: None,
    };
    let mut event = Event::allow("user.create", None, rule);
    event.justification = Some(format!("username {}", new.username));
    state.audit(&principal.who, &meta, event).await?;
    let now = state.clock.now();
    let user = state.db(move |s| s.create_user(&new, now)).await?;
    tracing::info!(admin = ?principal.actor.user_id(), user = %user.username, "user created");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// One user of the administrator's party.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_user(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let (user, _) = administered_user(&state, &principal, &meta, "user.read", &id).await?;
    Ok(Json(UserView::from(&user)))
}

/// Changes a user's profile; the user's sessions end so the change takes effect at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_user(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let (user, rule) = administered_user(&state, &principal, &meta, "user.update", &id).await?;
    let version = expected_version(&headers, patch.version)?;
    let party_kind = state.party(user.party_id).await?.kind;
    let compartments = match &patch.compartments {
        Some(c) => parse_compartments(c)?,
        None => user.compartments.clone(),
    };
    let profile = UserProfile::new(
        patch.display_name.as_deref().unwrap_or(&user.display_name),
        patch
            .roles
            .map(|r| r.into_iter().map(Role::from).collect())
            .unwrap_or_else(|| user.roles.clone()),
        patch.clearance.map(Into::into).unwrap_or(user.clearance),
        compartments,
        party_kind,
    )?;
    let resource = Some(format!("user:{}", user.id));
    state
        .audit(&principal.who, &meta, Event::allow("user.update", resource, rule))
        .await?;
    let now = state.clock.now();
    let uid = user.id;
    let updated = state
        .db(move |s| s.update_user_profile(uid, version, &profile, now))
        .await?;
    Ok(Json(UserView::from(&updated)))
}

/// Disables a user: sign-in refused, every session ended at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn disable_user(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let (user, rule) = administered_user(&state, &principal, &meta, "user.disable", &id).await?;
    if Some(user.id) == principal.actor.user_id() {
        return Err(ApiError::Conflict(
            "administrators cannot disable their own account".into(),
        ));
    }
    let resource = Some(format!("user:{}", user.id));
    state
        .audit(&principal.who, &meta, Event::allow("user.disable", resource, rule))
        .await?;
    let now = state.clock.now();
    let updated = state.db(move |s| s.set_user_disabled(user.id, true, now)).await?;
    tracing::info!(admin = ?principal.actor.user_id(), user = %updated.username, "user disabled");
    Ok(Json(UserView::from(&updated)))
}

/// Re-enables a user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn enable_user(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let (user, rule) = administered_user(&state, &principal, &meta, "user.enable", &id).await?;
    let resource = Some(format!("user:{}", user.id));
    state
        .audit(&principal.who, &meta, Event::allow("user.enable", resource, rule))
        .await?;
    let now = state.clock.now();
    let updated = state.db(move |s| s.set_user_disabled(user.id, false, now)).await?;
    Ok(Json(UserView::from(&updated)))
}

/// Removes a user's TOTP enrolment (lost phone); the user enrols again at next sign-in.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-mfa", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn reset_user_mfa(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let (user, rule) = administered_user(&state, &principal, &meta, "user.reset_mfa", &id).await?;
    if Some(user.id) == principal.actor.user_id() {
        return Err(ApiError::Conflict(
            "another administrator must reset your second factor".into(),
        ));
    }
    let resource = Some(format!("user:{}", user.id));
    state
        .audit(&principal.who, &meta, Event::allow("user.reset_mfa", resource, rule))
        .await?;
    let now = state.clock.now();
    let updated = state.db(move |s| s.reset_mfa(user.id, now)).await?;
    tracing::info!(admin = ?principal.actor.user_id(), user = %updated.username, "MFA reset");
    Ok(Json(UserView::from(&updated)))
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
async fn list_tokens(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<Vec<ApiTokenView>>> {
    let party = principal.actor.party_id;
    let forbidden = ApiError::Forbidden("only party administrators manage API tokens");
    let action = Action::ManageApiTokens { party };
    require(&state, &principal, &meta, "api_token.list", None, action, forbidden).await?;
    let tokens = state.db(move |s| s.api_tokens(party)).await?;
    Ok(Json(tokens.iter().map(token_view).collect()))
}

/// Issues an API token; its secret is in this response only.
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "api-tokens", request_body = NewApiToken,
    responses((status = 201, body = IssuedApiToken),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_token(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<NewApiToken>,
) -> ApiResult<(StatusCode, Json<IssuedApiToken>)> {
    let party = principal.actor.party_id;
    let forbidden = ApiError::Forbidden("only party administrators issue API tokens");
    let action = Action::ManageApiTokens { party };
    let rule = require(&state, &principal, &meta, "api_token.create", None, action, forbidden).await?;
    let admin = principal.human()?.id;
    let name = text::required("/name", &req.name, 100)?;
    if req.scopes.is_empty() {
        return Err(ValidationError::new("/scopes", "a token needs at least one scope").into());
    }
    if !(1..=365).contains(&req.expires_in_days) {
        return Err(ValidationError::new("/expires_in_days", "a token lives 1 to 365 days").into());
    }
    let org_id = crate::wire::org_id(req.org_id);
    let org = state
        .db(move |s| s.org(org_id))
        .await
        .ok()
        .filter(|o| o.party_id == party)
        .ok_or_else(|| ApiError::Validation(ValidationError::new("/org_id", "no such organisation in your party")))?;
    let mut scopes: Vec<ApiScope> = req.scopes.iter().copied().map(Into::into).collect();
    scopes.sort();
    scopes.dedup();
    let issued = token::issue("jsms_at_")?;
    let now = state.clock.now();
    let record = ApiTokenRecord {
        id: ApiTokenId::generate(),
        token_hash: issued.hash,
        party_id: party,
        org_id: org.id,
        name,
        scopes,
        created_by: admin,
        created_at: now,
        expires_at: now + i64::from(req.expires_in_days) * 86_400,
        revoked_at: None,
        last_used_at: None,
    };
    let view = token_view(&record);
    let resource = Some(format!("api_token:{}", record.id));
    state
        .audit(&principal.who, &meta, Event::allow("api_token.create", resource, rule))
        .await?;
    state.db(move |s| s.create_api_token(&record)).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedApiToken {
            token: view,
            secret: issued.text,
        }),
    ))
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "api-tokens", params(("id" = String, Path, description = "Token id")),
    responses((status = 200, body = ApiTokenView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn revoke_token(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiTokenView>> {
    let id = ApiTokenId::from_uuid(path_id(&id)?);
    let t = state.db(move |s| s.api_token(id)).await?;
    let resource = Some(format!("api_token:{id}"));
    let action = Action::ManageApiTokens { party: t.party_id };
    let rule = require(
        &state,
        &principal,
        &meta,
        "api_token.revoke",
        resource.clone(),
        action,
        ApiError::NotFound,
    )
    .await?;
    state
        .audit(&principal.who, &meta, Event::allow("api_token.revoke", resource, rule))
        .await?;
    let now = state.clock.now();
    let revoked = state.db(move |s| s.revoke_api_token(id, now)).await?;
    Ok(Json(token_view(&revoked)))
}
