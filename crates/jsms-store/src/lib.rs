//! JSMS storage: the [`Store`] trait that handlers depend on, and [`SqliteStore`], its
//! embedded SQLite implementation (WAL, `synchronous=FULL`, migrations applied at open).
//!
//! The trait is synchronous and object-safe; the server calls it from blocking threads. A
//! PostgreSQL implementation slots in behind the same trait without touching handlers.
//! Personal data is sealed and opened here, with a key the store is given but never stores.

pub mod audit;
mod coordination;
mod incidents;
mod intel;
mod movements;
mod oversight;
mod registry;
mod sqlite;
mod tracking;
mod zones;

pub use coordination::*;
pub use incidents::*;
pub use intel::*;
pub use movements::*;
pub use oversight::*;
pub use registry::*;
pub use sqlite::SqliteStore;
pub use tracking::*;
pub use zones::*;

use uuid::Uuid;

/// Storage failures, split so the HTTP layer can tell client conflicts from faults.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record.
    #[error("not found")]
    NotFound,
    /// The record changed since the caller read it.
    #[error("stale version: the record is at version {current}")]
    Stale {
        /// The version now stored.
        current: i64,
    },
    /// A uniqueness rule was violated (e.g. a username taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record is still referenced and cannot be deleted.
    #[error("in use: {0}")]
    InUse(String),
    /// A reference points at nothing (e.g. an unknown organisation).
    #[error("unknown reference: {0}")]
    UnknownReference(String),
    /// The sealing key given is not the one this database was created with.
    #[error("the sealing key does not match this database (wrong JSMS_PII_KEY or key file?)")]
    WrongKey,
    /// The database cannot take the request now: the disk is full, the files are not
    /// writable, an I/O error, or locked past the busy timeout. Nothing was changed; the
    /// request may be retried once the operator has fixed the cause.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The database failed or holds data this version cannot read.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// A storage failure from its message: the conditions an operator fixes (a full disk,
/// unwritable files, I/O errors, a lock held too long — SQLite's own wording) are
/// [`StoreError::Unavailable`]; anything else is [`StoreError::Internal`].
pub fn failure(e: impl std::fmt::Display) -> StoreError {
    const UNAVAILABLE: [&str; 6] = [
        "database or disk is full",
        "attempt to write a readonly database",
        "disk I/O error",
        "unable to open database file",
        "database is locked",
        "No space left on device",
    ];
    let text = e.to_string();
    if UNAVAILABLE.iter().any(|u| text.contains(u)) {
        StoreError::Unavailable(text)
    } else {
        StoreError::Internal(text)
    }
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page request: items after the cursor, at most `limit`, optionally matching `q`.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Return items whose id sorts after this one.
    pub after: Option<Uuid>,
    /// Page size (the store clamps to 1..=500).
    pub limit: u32,
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in id (creation) order.
    pub items: Vec<T>,
    /// The cursor for the next page, if there is one.
    pub next: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_operator_fixes_is_unavailable_not_internal() {
        for text in [
            "database or disk is full",
            "attempt to write a readonly database",
            "disk I/O error",
            "unable to open database file: /var/lib/jsms/jsms.db",
            "database is locked",
        ] {
            assert!(matches!(failure(text), StoreError::Unavailable(_)), "{text}");
        }
        assert!(matches!(failure("no such column: x"), StoreError::Internal(_)));
    }
}
