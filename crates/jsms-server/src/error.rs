//! The one mapping from failures to HTTP responses: RFC 9457 `application/problem+json`
//! with a stable `type`, a human `detail`, the offending field's path and the request id.
//!
//! Client errors carry a precise message. Internal errors are logged once, with the request
//! id, and answered with a generic message that leaks nothing.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsms_domain::ValidationError;
use jsms_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Stable problem type, `urn:jsms:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong in this request and what to do.
    pub detail: String,
    /// JSON pointer to the offending field or parameter, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request id (also in the `x-request-id` header and the server's logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Every failure a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A value failed validation (422).
    #[error("{0}")]
    Validation(ValidationError),
    /// The body is not JSON or does not have the expected shape (400 or 422).
    #[error("malformed body: {detail}")]
    MalformedBody {
        /// What was wrong.
        detail: String,
        /// Where.
        field: Option<String>,
        /// 400 for syntax, 422 for shape.
        status: StatusCode,
    },
    /// A query or path parameter is invalid (400).
    #[error("invalid parameter {field}: {detail}")]
    InvalidParameter {
        /// Which parameter.
        field: String,
        /// What was wrong.
        detail: String,
    },
    /// Wrong content type (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Body too large (413).
    #[error("payload too large")]
    PayloadTooLarge,
    /// No valid credentials were presented (401).
    #[error("unauthenticated")]
    Unauthenticated,
    /// Sign-in failed; the message never says which part (401).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The session ended through inactivity or age (401).
    #[error("session expired")]
    SessionExpired,
    /// The session has not completed the second factor (403).
    #[error("second factor required")]
    MfaRequired,
    /// Missing or wrong CSRF token (403).
    #[error("csrf token missing or wrong")]
    Csrf,
    /// Authenticated but not allowed (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// No such resource, or one the caller may not know about (404, identical either way).
    #[error("not found")]
    NotFound,
    /// Method not allowed (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A uniqueness or state conflict (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Optimistic concurrency failure (409).
    #[error("stale version; current is {current}")]
    Stale {
        /// The version now stored.
        current: i64,
    },
    /// Still referenced (409).
    #[error("in use: {0}")]
    InUse(String),
    /// A precondition (`If-Match` or `version`) is required (428).
    #[error("precondition required")]
    PreconditionRequired,
    /// Too many failed attempts; retry later (429).
    #[error("too many attempts")]
    TooManyAttempts {
        /// Seconds until the next attempt is accepted.
        retry_after: u64,
    },
    /// An internal fault (500); details go to the log only.
    #[error("internal error: {0}")]
    Internal(String),
    /// A dependency is unavailable (503).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl ApiError {
    /// The status, slug, title and client-facing detail of this error.
    fn parts(&self) -> (StatusCode, &'static str, &'static str, String, Option<String>) {
        use ApiError as E;
        match self {
            E::Validation(v) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "A field is invalid",
                v.message.clone(),
                Some(v.field.clone()),
            ),
            E::MalformedBody { detail, field, status } => (
                *status,
                "malformed-body",
                "The request body is malformed",
                detail.clone(),
                field.clone(),
            ),
            E::InvalidParameter { field, detail } => (
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "A parameter is invalid",
                detail.clone(),
                Some(field.clone()),
            ),
            E::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json".into(),
                None,
            ),
            E::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                "the request body exceeds the size limit".into(),
                None,
            ),
            E::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign-in required",
                "sign in, or present a valid API token".into(),
                None,
            ),
            E::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Sign-in failed",
                "the username, password or one-time code is not correct".into(),
                None,
            ),
            E::SessionExpired => (
                StatusCode::UNAUTHORIZED,
                "session-expired",
                "Session expired",
                "the session ended; sign in again".into(),
                None,
            ),
            E::MfaRequired => (
                StatusCode::FORBIDDEN,
                "mfa-required",
                "Second factor required",
                "complete the one-time code enrolment before using this endpoint".into(),
                None,
            ),
            E::Csrf => (
                StatusCode::FORBIDDEN,
                "csrf",
                "CSRF check failed",
                "state-changing requests with a session cookie need the X-CSRF-Token header from the session".into(),
                None,
            ),
            E::Forbidden(why) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden", (*why).to_owned(), None),
            E::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "no such resource".into(),
                None,
            ),
            E::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this path does not accept this method".into(),
                None,
            ),
            E::Conflict(d) => (StatusCode::CONFLICT, "conflict", "Conflict", d.clone(), None),
            E::Stale { current } => (
                StatusCode::CONFLICT,
                "stale-version",
                "The resource changed",
                format!("the resource is now at version {current}; read it again and reapply the change"),
                Some("/version".into()),
            ),
            E::InUse(d) => (
                StatusCode::CONFLICT,
                "in-use",
                "The resource is in use",
                d.clone(),
                None,
            ),
            E::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "Version required",
                "send the version you read, as an If-Match header (\"v3\" or 3) or a version field".into(),
                Some("/version".into()),
            ),
            E::TooManyAttempts { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
                format!("too many failed attempts; try again in {retry_after} seconds"),
                None,
            ),
            E::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the server failed; the request id identifies the failure in the server's logs".into(),
                None,
            ),
            E::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "the service cannot answer safely right now; retry later".into(),
                None,
            ),
        }
    }
}

/// Marker put in the response extensions so the problem middleware can add the request id
/// and log internal errors once.
#[derive(Debug, Clone)]
pub struct ProblemLog(pub Option<String>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title, detail, field) = self.parts();
        let problem = Problem {
            kind: format!("urn:jsms:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            field,
            request_id: None,
        };
        let internal = match &self {
            ApiError::Internal(d) | ApiError::Unavailable(d) => Some(d.clone()),
            _ => None,
        };
        let mut response = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            )],
        )
            .into_response();
        if let ApiError::TooManyAttempts { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response.extensions_mut().insert(problem);
        response.extensions_mut().insert(ProblemLog(internal));
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Validation(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Stale { current } => ApiError::Stale { current },
            StoreError::Conflict(d) => ApiError::Conflict(d),
            StoreError::InUse(d) => ApiError::InUse(d),
            StoreError::UnknownReference(d) => ApiError::Validation(ValidationError::new("", d)),
            StoreError::Internal(d) => ApiError::Internal(d),
            StoreError::Unavailable(d) => ApiError::Unavailable(d),
            StoreError::WrongKey => ApiError::Internal("wrong sealing key".into()),
        }
    }
}

impl From<jsms_identity::IdentityError> for ApiError {
    fn from(e: jsms_identity::IdentityError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<jsms_service::Error> for ApiError {
    fn from(e: jsms_service::Error) -> Self {
        use jsms_service::Error as E;
        match e {
            E::Validation(v) => ApiError::Validation(v),
            E::InvalidParameter { field, detail } => ApiError::InvalidParameter { field, detail },
            E::Unauthenticated => ApiError::Unauthenticated,
            E::InvalidCredentials => ApiError::InvalidCredentials,
            E::SessionExpired => ApiError::SessionExpired,
            E::MfaRequired => ApiError::MfaRequired,
            E::Forbidden(why) => ApiError::Forbidden(why),
            E::NotFound => ApiError::NotFound,
            E::Conflict(d) => ApiError::Conflict(d),
            E::Stale { current } => ApiError::Stale { current },
            E::InUse(d) => ApiError::InUse(d),
            E::PreconditionRequired => ApiError::PreconditionRequired,
            E::TooManyAttempts { retry_after } => ApiError::TooManyAttempts { retry_after },
            E::Internal(d) => ApiError::Internal(d),
            E::Unavailable(d) => ApiError::Unavailable(d),
        }
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
