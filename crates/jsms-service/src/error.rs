//! What a service call can fail with. The HTTP layer maps each variant to one problem
//! type; nothing here knows about status codes.

use jsms_domain::ValidationError;
use jsms_store::StoreError;

/// Every failure of a service call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value failed validation; the message names the field.
    #[error("{0}")]
    Validation(ValidationError),
    /// A query or path parameter is invalid.
    #[error("invalid parameter {field}: {detail}")]
    InvalidParameter {
        /// Which parameter (a JSON pointer).
        field: String,
        /// What was wrong.
        detail: String,
    },
    /// No valid credentials were presented.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Sign-in failed; never says which part.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The session ended through inactivity, age or a disabled account.
    #[error("session expired")]
    SessionExpired,
    /// The session has not completed the second factor.
    #[error("second factor required")]
    MfaRequired,
    /// Authenticated but not allowed (the caller may know the object exists).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// No such object, or one the caller may not know about (identical either way).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict, explained.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Optimistic concurrency failure.
    #[error("stale version; current is {current}")]
    Stale {
        /// The version now stored.
        current: i64,
    },
    /// Still referenced.
    #[error("in use: {0}")]
    InUse(String),
    /// A version precondition is required.
    #[error("precondition required")]
    PreconditionRequired,
    /// Too many failed attempts.
    #[error("too many attempts")]
    TooManyAttempts {
        /// Seconds until the next attempt is accepted.
        retry_after: u64,
    },
    /// An internal fault; the detail is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
    /// A dependency (the audit log, the database) is unavailable: nothing was disclosed or
    /// changed.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Result of a service call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Validation(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Stale { current } => Error::Stale { current },
            StoreError::Conflict(d) => Error::Conflict(d),
            StoreError::InUse(d) => Error::InUse(d),
            StoreError::UnknownReference(d) => Error::Validation(ValidationError::new("", d)),
            StoreError::Internal(d) => Error::Internal(d),
            StoreError::Unavailable(d) => Error::Unavailable(d),
            StoreError::WrongKey => Error::Internal("wrong sealing key".into()),
        }
    }
}

impl From<jsms_identity::IdentityError> for Error {
    fn from(e: jsms_identity::IdentityError) -> Self {
        Error::Internal(e.to_string())
    }
}

/// A record referenced from a request: a missing one is a validation error naming `field`
/// ("no such `what`"); other failures pass through unchanged.
pub fn referenced<T>(found: Result<T>, field: impl Into<String>, what: &str) -> Result<T> {
    match found {
        Err(Error::NotFound) => Err(ValidationError::new(field, format!("no such {what}")).into()),
        other => other,
    }
}
