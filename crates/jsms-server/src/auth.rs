//! Authentication: session cookies and API tokens, the extractors that turn them into an
//! [`Actor`], CSRF checks, and the sign-in, TOTP enrolment, password and sign-out endpoints.
//!
//! Sessions are random 256-bit tokens stored as SHA-256 hashes, rotated at every sign-in
//! and at MFA completion, carried in an `HttpOnly; SameSite=Strict` cookie (`Secure` and the
//! `__Host-` prefix under TLS), ending after 30 minutes idle or 12 hours, at sign-out, and at
//! once when the account is disabled. Cookie-authenticated state changes need the session's
//! CSRF token in `X-CSRF-Token`.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::extract::RequestMeta;
use crate::state::AppState;
use crate::wire::{
    MfaState, PasswordChange, SessionInfo, SignInRequest, TotpConfirmation, TotpEnrollment, UserView, rfc3339,
};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsms_domain::user::User;
use jsms_identity::token;
use jsms_service::sessions::{SessionTimes, SignIn};
use jsms_service::{Caller, Origin};
use jsms_store::SessionRecord;
use std::sync::atomic::Ordering;
use subtle::ConstantTimeEq;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const COOKIE_PLAIN: &str = "jsms_session";
const COOKIE_SECURE: &str = "__Host-jsms_session";
/// The CSRF header name.
pub const CSRF_HEADER: &str = "x-csrf-token";

fn cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies {
        COOKIE_SECURE
    } else {
        COOKIE_PLAIN
    }
}

fn session_cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let text = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        cookie_name(state)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("jsms_session=; Max-Age=0"))
}

fn presented_cookie<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The API token presented: `Authorization: Bearer <token>`, or — on the TAXII routes only,
/// for clients that speak nothing else — HTTP Basic with the token as the password (the user
/// name is ignored). Any other or malformed `Authorization` header is refused rather than
/// ignored.
fn bearer(headers: &HeaderMap, path: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated)?;
    if let Some(t) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
        return Ok(Some(t.trim().to_owned()));
    }
    let basic = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .filter(|_| path.starts_with("/taxii2/"))
        .ok_or(ApiError::Unauthenticated)?;
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .map_err(|_| ApiError::Unauthenticated)?;
    let text = String::from_utf8(decoded).map_err(|_| ApiError::Unauthenticated)?;
    match text.split_once(':') {
        Some((_, secret)) if !secret.is_empty() => Ok(Some(secret.to_owned())),
        _ => Err(ApiError::Unauthenticated),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A live session (verified or awaiting MFA enrolment), from the cookie.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    /// The session.
    pub record: SessionRecord,
    /// Its user.
    pub user: User,
}

fn times(state: &AppState) -> SessionTimes {
    SessionTimes {
        idle_secs: i64::try_from(state.sessions.idle_timeout.as_secs()).unwrap_or(i64::MAX),
        absolute_secs: i64::try_from(state.sessions.absolute_timeout.as_secs()).unwrap_or(i64::MAX),
    }
}

/// Where a request came from, for the audit entry.
fn origin(meta: RequestMeta) -> Origin {
    Origin {
        request_id: meta.request_id,
        client: meta.client,
        channel: "api",
    }
}

async fn load_session(parts: &Parts, state: &AppState) -> ApiResult<SessionAuth> {
    let Some(cookie) = presented_cookie(state, &parts.headers) else {
        return Err(ApiError::Unauthenticated);
    };
    let (record, user) = state.services.session(token::hash(cookie), times(state)).await?;
    if !is_safe(&parts.method) {
        let presented = parts
            .headers
            .get(CSRF_HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        let ok: bool = presented.ct_eq(record.csrf_token.as_bytes()).into();
        if !ok {
            return Err(ApiError::Csrf);
        }
    }
    state.services.touch_session(&record).await?;
    Ok(SessionAuth { record, user })
}

impl FromRequestParts<AppState> for SessionAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        load_session(parts, state).await
    }
}

/// A fully authenticated caller (a user whose session passed MFA, or an API token), as the
/// service layer takes it: attributes for decisions, the user, how the audit log names it,
/// and where the request came from.
#[derive(Debug, Clone)]
pub struct Principal(pub Caller);

impl std::ops::Deref for Principal {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl std::ops::DerefMut for Principal {
    fn deref_mut(&mut self) -> &mut Caller {
        &mut self.0
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let meta = RequestMeta::from_request_parts(parts, state).await?;
        let origin = origin(meta);
        let (actor, user, who) = authenticate(parts, state).await?;
        Ok(Principal(Caller {
            actor,
            user,
            who,
            origin,
        }))
    }
}

/// The caller's attributes, user and audit name, from the API token or the session cookie.
async fn authenticate(
    parts: &Parts,
    state: &AppState,
) -> ApiResult<(jsms_domain::access::Actor, Option<User>, jsms_service::Who)> {
    if let Some(secret) = bearer(&parts.headers, parts.uri.path())? {
        let (actor, who) = state.services.token_caller(&secret).await?;
        return Ok((actor, None, who));
    }
    let session = load_session(parts, state).await?;
    if !session.record.mfa_verified {
        return Err(ApiError::MfaRequired);
    }
    let (actor, who) = state.services.user_caller(&session.user).await?;
    Ok((actor, Some(session.user), who))
}

/// The auth routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(current_session))
        .routes(routes!(enroll_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(change_password))
}

async fn start_session(state: &AppState, user: &User, mfa_verified: bool) -> ApiResult<(HeaderValue, SessionInfo)> {
    let new = state.services.start_session(user, mfa_verified, times(state)).await?;
    let info = session_info(state, &new.record, user);
    Ok((
        session_cookie(state, &new.token, state.sessions.absolute_timeout.as_secs()),
        info,
    ))
}

fn session_info(state: &AppState, record: &SessionRecord, user: &User) -> SessionInfo {
    SessionInfo {
        user: UserView::from(user),
        csrf_token: record.csrf_token.clone(),
        mfa: if record.mfa_verified {
            MfaState::Verified
        } else {
            MfaState::EnrollmentRequired
        },
        expires_at: rfc3339(record.expires_at),
        idle_timeout_seconds: state.sessions.idle_timeout.as_secs(),
    }
}

/// Ends the session presented with the request, if any (rotation at sign-in).
async fn end_presented_session(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    if let Some(old) = presented_cookie(state, headers) {
        state.services.drop_session(token::hash(old)).await?;
    }
    Ok(())
}

/// Signs in with username, password and (once enrolled) a TOTP code. A user without TOTP
/// gets a session that can only enrol it. Failures never say which part was wrong.
#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "auth", request_body = SignInRequest,
    responses((status = 200, description = "Signed in; the session cookie is set", body = SessionInfo),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn sign_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignInRequest>,
) -> ApiResult<Response> {
    let addr = meta.client.clone();
    let username = req.username.trim().to_owned();
    let origin = origin(meta);
    let now_ms = state.throttle.now_ms();
    if let Some(retry_after) = state.throttle.retry_after(&username, &addr, now_ms) {
        state.metrics.sign_in_throttled.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%addr, "sign-in throttled");
        state.services.sign_in_refused(&username, &origin, "throttled").await?;
        return Err(ApiError::TooManyAttempts { retry_after });
    }
    let attempt = SignIn {
        username: username.clone(),
        password: req.password,
        totp_code: req.totp_code,
    };
    let (user, mfa_verified) = match state.services.sign_in(attempt, &origin).await {
        Ok(ok) => ok,
        Err(jsms_service::Error::InvalidCredentials) => {
            state.throttle.fail(&username, &addr, state.throttle.now_ms());
            state.metrics.sign_in_failure.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%addr, "sign-in failed");
            return Err(ApiError::InvalidCredentials);
        }
        Err(e) => return Err(e.into()),
    };
    state.throttle.succeed(&username, &addr);
    state.metrics.sign_in_success.fetch_add(1, Ordering::Relaxed);
    end_presented_session(&state, &headers).await?;
    let (cookie, info) = start_session(&state, &user, mfa_verified).await?;
    tracing::info!(user = %user.username, mfa_verified, "signed in");
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth",
    responses((status = 204, description = "Signed out; the cookie is cleared"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn sign_out(State(state): State<AppState>, meta: RequestMeta, session: SessionAuth) -> ApiResult<Response> {
    state
        .services
        .sign_out(&session.user, &session.record, &origin(meta))
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
    )
        .into_response())
}

/// The current session, its CSRF token and MFA state.
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = SessionInfo),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn current_session(State(state): State<AppState>, session: SessionAuth) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(session_info(&state, &session.record, &session.user)))
}

/// Starts TOTP enrolment: a new secret for the authenticator app. Only for users who have
/// not enrolled (an administrator resets a lost enrolment).
#[utoipa::path(post, path = "/api/v1/auth/totp/enrollment", tag = "auth",
    responses((status = 200, body = TotpEnrollment),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn enroll_totp(
    State(state): State<AppState>,
    meta: RequestMeta,
    session: SessionAuth,
) -> ApiResult<Json<TotpEnrollment>> {
    let secret = state.services.begin_totp(&session.user, &origin(meta)).await?;
    let otpauth_uri = secret.otpauth_uri("JSMS", session.user.username.as_str());
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(Json(TotpEnrollment {
        secret: secret.to_base32(),
        otpauth_uri,
        qr_svg,
    }))
}

/// Completes TOTP enrolment with a first code; the session is replaced by a verified one.
#[utoipa::path(post, path = "/api/v1/auth/totp/confirmation", tag = "auth", request_body = TotpConfirmation,
    responses((status = 200, description = "Enrolled; a new session cookie is set", body = SessionInfo),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn confirm_totp(
    State(state): State<AppState>,
    meta: RequestMeta,
    session: SessionAuth,
    ApiJson(req): ApiJson<TotpConfirmation>,
) -> ApiResult<Response> {
    let user = state
        .services
        .confirm_totp(&session.user, &session.record, &req.code, &origin(meta))
        .await?;
    let (cookie, info) = start_session(&state, &user, true).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Changes the signed-in user's password. Every session of the user ends; sign in again.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed; every session ended"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<Response> {
    // Guessing the current password through this endpoint is throttled like sign-in (a
    // stolen session must not become a password oracle).
    let key = format!("password-change:{}", principal.who.principal);
    let addr = principal.origin.client.clone();
    let now_ms = state.throttle.now_ms();
    if let Some(retry_after) = state.throttle.retry_after(&key, &addr, now_ms) {
        state.metrics.sign_in_throttled.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::TooManyAttempts { retry_after });
    }
    match state
        .services
        .change_password(&principal, req.current_password, req.new_password)
        .await
    {
        Ok(()) => state.throttle.succeed(&key, &addr),
        Err(jsms_service::Error::Validation(v)) if v.field == "/current_password" => {
            state.throttle.fail(&key, &addr, state.throttle.now_ms());
            return Err(ApiError::Validation(v));
        }
        Err(e) => return Err(e.into()),
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
    )
        .into_response())
}
