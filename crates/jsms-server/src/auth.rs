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
use crate::state::{AppState, Event, Who};
use crate::wire::{
    MfaState, PasswordChange, SessionInfo, SignInRequest, TotpConfirmation, TotpEnrollment, UserView, rfc3339,
};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsms_domain::access::{Actor, ActorKind};
use jsms_domain::user::User;
use jsms_identity::{password, token, totp};
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

async fn load_session(parts: &Parts, state: &AppState) -> ApiResult<SessionAuth> {
    let Some(cookie) = presented_cookie(state, &parts.headers) else {
        return Err(ApiError::Unauthenticated);
    };
    let hash = token::hash(cookie);
    let now = state.clock.now();
    let found = state.db(move |s| s.session(&hash)).await?;
    let Some((record, user)) = found else {
        return Err(ApiError::Unauthenticated);
    };
    let idle = i64::try_from(state.sessions.idle_timeout.as_secs()).unwrap_or(i64::MAX);
    if user.disabled || now >= record.expires_at || now - record.last_seen_at > idle {
        state.db(move |s| s.delete_session(&hash)).await?;
        return Err(ApiError::SessionExpired);
    }
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
    if now > record.last_seen_at {
        state.db(move |s| s.touch_session(&hash, now)).await?;
    }
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
        let origin = Origin {
            request_id: meta.request_id,
            client: meta.client,
            channel: "api",
        };
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
async fn authenticate(parts: &Parts, state: &AppState) -> ApiResult<(Actor, Option<User>, Who)> {
    {
        if let Some(secret) = bearer(&parts.headers, parts.uri.path())? {
            let hash = token::hash(&secret);
            let now = state.clock.now();
            let record = state.db(move |s| s.api_token_by_hash(&hash)).await?;
            let Some(t) = record.filter(|t| t.revoked_at.is_none() && t.expires_at > now) else {
                return Err(ApiError::Unauthenticated);
            };
            let party = state.party(t.party_id).await?;
            let id = t.id;
            state.db(move |s| s.touch_api_token(id, now)).await?;
            let who = Who {
                principal: format!("token:{}", t.id),
                name: Some(t.name.clone()),
                party: Some(party.code.to_string()),
            };
            return Ok((
                Actor {
                    party_id: t.party_id,
                    party_kind: party.kind,
                    org_id: t.org_id,
                    kind: ActorKind::Machine {
                        token_id: t.id,
                        scopes: t.scopes,
                    },
                    clearance: jsms_domain::user::Clearance::Unclassified,
                    compartments: vec![],
                    grants: vec![],
                    break_glass: vec![],
                },
                None,
                who,
            ));
        }
        let session = load_session(parts, state).await?;
        if !session.record.mfa_verified {
            return Err(ApiError::MfaRequired);
        }
        let party = state.party(session.user.party_id).await?;
        let user = session.user;
        let (uid, now) = (user.id, state.clock.now());
        let (grants, break_glass) = state.db(move |s| s.active_access(uid, now)).await?;
        let who = Who {
            principal: format!("user:{}", user.id),
            name: Some(user.username.to_string()),
            party: Some(party.code.to_string()),
        };
        Ok((
            Actor {
                party_id: user.party_id,
                party_kind: party.kind,
                org_id: user.org_id,
                kind: ActorKind::Human {
                    user_id: user.id,
                    roles: user.roles.clone(),
                },
                clearance: user.clearance,
                compartments: user.compartments.clone(),
                grants,
                break_glass,
            },
            Some(user),
            who,
        ))
    }
}

async fn session_who(state: &AppState, user: &User) -> ApiResult<Who> {
    let party = state.party(user.party_id).await?;
    Ok(Who {
        principal: format!("user:{}", user.id),
        name: Some(user.username.to_string()),
        party: Some(party.code.to_string()),
    })
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
    let issued = token::issue("jsms_s_")?;
    let csrf = token::issue("")?.text;
    let now = state.clock.now();
    let absolute = i64::try_from(state.sessions.absolute_timeout.as_secs()).unwrap_or(i64::MAX);
    let record = SessionRecord {
        token_hash: issued.hash,
        user_id: user.id,
        mfa_verified,
        csrf_token: csrf,
        created_at: now,
        last_seen_at: now,
        expires_at: now.saturating_add(absolute),
    };
    let info = session_info(state, &record, user);
    state.db(move |s| s.create_session(&record)).await?;
    Ok((
        session_cookie(state, &issued.text, state.sessions.absolute_timeout.as_secs()),
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
        let hash = token::hash(old);
        state.db(move |s| s.delete_session(&hash)).await?;
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
    let now = state.clock.now();
    let addr = meta.client.clone();
    let username = req.username.trim().to_owned();
    let claimed = Who::anonymous(Some(username.as_str()).filter(|u| u.len() <= 64));
    let now_ms = state.throttle.now_ms();
    if let Some(retry_after) = state.throttle.retry_after(&username, &addr, now_ms) {
        state.metrics.sign_in_throttled.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%addr, "sign-in throttled");
        state
            .audit(&claimed, &meta, Event::deny("auth.sign_in", None, "throttled"))
            .await?;
        return Err(ApiError::TooManyAttempts { retry_after });
    }
    let lookup = username.clone();
    let creds = state.db(move |s| s.user_credentials(&lookup)).await?;
    let password_text = req.password;
    let code = req.totp_code;
    // Verify on a blocking thread: Argon2id is deliberately slow.
    let outcome = tokio::task::spawn_blocking(move || -> ApiResult<Option<jsms_store::UserCredentials>> {
        let Some(creds) = creds else {
            password::verify_dummy(&password_text);
            return Ok(None);
        };
        let ok = password::verify(&creds.password_hash, &password_text)?;
        Ok((ok && !creds.user.disabled).then_some(creds))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;

    let failure = match &outcome {
        None => Some("unknown user, wrong password or disabled account"),
        Some(creds) if creds.user.mfa_enrolled => {
            let secret = creds
                .totp_secret
                .as_ref()
                .ok_or_else(|| ApiError::Internal("enrolled user has no TOTP secret".into()))?;
            match code
                .as_deref()
                .and_then(|c| totp::verify(secret, c, now, creds.totp_last_step))
            {
                None => Some("missing, wrong or replayed one-time code"),
                Some(step) => {
                    let id = creds.user.id;
                    if state.db(move |s| s.record_totp_step(id, step)).await? {
                        None
                    } else {
                        Some("replayed one-time code")
                    }
                }
            }
        }
        Some(_) => None,
    };
    let creds = match (failure, outcome) {
        (None, Some(creds)) => creds,
        (reason, _) => {
            state.throttle.fail(&username, &addr, state.throttle.now_ms());
            state.metrics.sign_in_failure.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%addr, "sign-in failed");
            let reason = reason.unwrap_or("sign-in failed");
            state
                .audit(&claimed, &meta, Event::deny("auth.sign_in", None, reason))
                .await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    let mfa_verified = creds.user.mfa_enrolled;
    let who = session_who(&state, &creds.user).await?;
    let stage = if mfa_verified {
        "password and one-time code"
    } else {
        "password; TOTP enrolment pending"
    };
    let resource = Some(format!("user:{}", creds.user.id));
    state
        .audit(&who, &meta, Event::allow("auth.sign_in", resource, stage))
        .await?;
    state.throttle.succeed(&username);
    state.metrics.sign_in_success.fetch_add(1, Ordering::Relaxed);
    end_presented_session(&state, &headers).await?;
    let (cookie, info) = start_session(&state, &creds.user, mfa_verified).await?;
    tracing::info!(user = %creds.user.username, mfa_verified, "signed in");
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth",
    responses((status = 204, description = "Signed out; the cookie is cleared"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn sign_out(State(state): State<AppState>, meta: RequestMeta, session: SessionAuth) -> ApiResult<Response> {
    let who = session_who(&state, &session.user).await?;
    state
        .audit(
            &who,
            &meta,
            Event::info("auth.sign_out", Some(format!("user:{}", session.user.id)), "sign-out"),
        )
        .await?;
    let hash = session.record.token_hash;
    state.db(move |s| s.delete_session(&hash)).await?;
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
    if session.user.mfa_enrolled {
        return Err(ApiError::Conflict(
            "TOTP is already enrolled; an administrator must reset it".into(),
        ));
    }
    let who = session_who(&state, &session.user).await?;
    let resource = Some(format!("user:{}", session.user.id));
    state
        .audit(
            &who,
            &meta,
            Event::allow("auth.totp_enrol", resource, "enrolment started"),
        )
        .await?;
    let secret = totp::TotpSecret::generate()?;
    let otpauth_uri = secret.otpauth_uri("JSMS", session.user.username.as_str());
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    let out = TotpEnrollment {
        secret: secret.to_base32(),
        otpauth_uri,
        qr_svg,
    };
    let id = session.user.id;
    let now = state.clock.now();
    state.db(move |s| s.set_pending_totp(id, &secret, now)).await?;
    Ok(Json(out))
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
    let id = session.user.id;
    let creds = state.db(move |s| s.user_credentials_by_id(id)).await?;
    if creds.user.mfa_enrolled {
        return Err(ApiError::Conflict("TOTP is already enrolled".into()));
    }
    let secret = creds
        .totp_secret
        .ok_or_else(|| ApiError::Conflict("no enrolment is pending; start one first".into()))?;
    let now = state.clock.now();
    let step = totp::verify(&secret, &req.code, now, None).ok_or_else(|| {
        ApiError::Validation(jsms_domain::ValidationError::new(
            "/code",
            "the code does not match; check the app's clock",
        ))
    })?;
    let who = session_who(&state, &session.user).await?;
    state
        .audit(
            &who,
            &meta,
            Event::allow("auth.totp_confirm", Some(format!("user:{id}")), "enrolment confirmed"),
        )
        .await?;
    state.db(move |s| s.confirm_totp(id, step, now)).await?;
    let hash = session.record.token_hash;
    state.db(move |s| s.delete_session(&hash)).await?;
    let user = state.db(move |s| s.user(id)).await?;
    let (cookie, info) = start_session(&state, &user, true).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Changes the signed-in user's password. Every session of the user ends; sign in again.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed; every session ended"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn change_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<Response> {
    let user = principal.human()?.clone();
    password::check_policy(&req.new_password)
        .map_err(|e| ApiError::Validation(jsms_domain::ValidationError::new("/new_password", e.to_string())))?;
    let id = user.id;
    let creds = state.db(move |s| s.user_credentials_by_id(id)).await?;
    let hash = tokio::task::spawn_blocking(move || -> ApiResult<Option<String>> {
        if !password::verify(&creds.password_hash, &req.current_password)? {
            return Ok(None);
        }
        Ok(Some(password::hash(&req.new_password)?))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let resource = Some(format!("user:{id}"));
    let Some(hash) = hash else {
        state
            .audit(
                &principal.who,
                &meta,
                Event::deny("auth.password_change", resource, "wrong current password"),
            )
            .await?;
        return Err(ApiError::Validation(jsms_domain::ValidationError::new(
            "/current_password",
            "the current password is not correct",
        )));
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("auth.password_change", resource, "own password"),
        )
        .await?;
    let now = state.clock.now();
    state.db(move |s| s.set_password(id, &hash, now)).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
    )
        .into_response())
}
