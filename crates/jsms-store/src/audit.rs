//! The audit log's storage: its own SQLite file (`audit.db`, WAL, `synchronous=FULL`), so
//! an append is durable when its transaction commits and registry traffic never waits on it.
//! Entries are stored as the exact leaf bytes; the columns beside them are an index for
//! "who knew" queries and are never trusted by verification.

use crate::{StoreError, StoreResult};
use jsms_audit::entry::{AuditEntry, Outcome};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_entries (
    idx        INTEGER PRIMARY KEY,   -- leaf index, from 0
    data       BLOB NOT NULL,         -- the leaf bytes (JSON of AuditEntry)
    time_ms    INTEGER NOT NULL,
    principal  TEXT NOT NULL,
    action     TEXT NOT NULL,
    resource   TEXT,
    outcome    TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS audit_by_resource ON audit_entries (resource, time_ms);
CREATE INDEX IF NOT EXISTS audit_by_principal ON audit_entries (principal, time_ms);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    size        INTEGER PRIMARY KEY,
    note        TEXT NOT NULL,        -- the signed checkpoint note
    created_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit_cosignatures (
    size        INTEGER NOT NULL,
    witness     TEXT NOT NULL,        -- the witness key name
    line        TEXT NOT NULL,        -- the cosignature line
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (size, witness)
) STRICT;
";

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Leaf index.
    pub idx: u64,
    /// Leaf bytes.
    pub data: Vec<u8>,
}

/// A stored signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Signed note.
    pub note: String,
}

/// A stored cosignature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCosignature {
    /// Tree size of the cosigned checkpoint.
    pub size: u64,
    /// Witness key name.
    pub witness: String,
    /// The signature line.
    pub line: String,
}

/// Where appends go. A trait so the fail-closed path can be tested with a sink that fails.
pub trait AuditSink: Send + 'static {
    /// Appends entries (seq already assigned) in one durable transaction.
    fn append(&mut self, entries: &[(u64, &AuditEntry, &[u8])]) -> StoreResult<()>;
}

/// The SQLite audit database.
#[derive(Debug)]
pub struct AuditDb {
    conn: Connection,
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Allow => "allow",
        Outcome::Deny => "deny",
        Outcome::Info => "info",
    }
}

impl AuditDb {
    /// Opens (creating) the audit database at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path).map_err(internal)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(internal)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(internal)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(internal)?;
        conn.execute_batch(SCHEMA).map_err(internal)?;
        Ok(Self { conn })
    }

    /// Entries with `from <= idx < to`, in order.
    pub fn entries(&self, from: u64, to: u64) -> StoreResult<Vec<StoredEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT idx, data FROM audit_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")
            .map_err(internal)?;
        let rows = stmt
            .query_map(
                params![
                    i64::try_from(from).unwrap_or(i64::MAX),
                    i64::try_from(to).unwrap_or(i64::MAX)
                ],
                |r| {
                    Ok(StoredEntry {
                        idx: r.get::<_, i64>(0)? as u64,
                        data: r.get(1)?,
                    })
                },
            )
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    /// Calls `f` with every entry in index order (streaming, for verification and start-up).
    pub fn for_each_entry(&self, mut f: impl FnMut(u64, &[u8]) -> StoreResult<()>) -> StoreResult<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT idx, data FROM audit_entries ORDER BY idx")
            .map_err(internal)?;
        let mut rows = stmt.query([]).map_err(internal)?;
        while let Some(row) = rows.next().map_err(internal)? {
            let idx: i64 = row.get(0).map_err(internal)?;
            let data = row.get_ref(1).map_err(internal)?.as_blob().map_err(internal)?;
            f(idx as u64, data)?;
        }
        Ok(())
    }

    /// Entries about `resource` between two times (inclusive), oldest first.
    pub fn entries_about(&self, resource: &str, from_ms: i64, to_ms: i64) -> StoreResult<Vec<StoredEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT idx, data FROM audit_entries WHERE resource = ?1 AND time_ms BETWEEN ?2 AND ?3 ORDER BY idx",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map(params![resource, from_ms, to_ms], |r| {
                Ok(StoredEntry {
                    idx: r.get::<_, i64>(0)? as u64,
                    data: r.get(1)?,
                })
            })
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    /// Stores a signed checkpoint (idempotent per size).
    pub fn save_checkpoint(&self, size: u64, note: &str, now: i64) -> StoreResult<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO audit_checkpoints (size, note, created_at) VALUES (?1, ?2, ?3)",
                params![size as i64, note, now],
            )
            .map_err(internal)?;
        Ok(())
    }

    /// The largest signed checkpoint.
    pub fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        self.conn
            .query_row(
                "SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| {
                    Ok(StoredCheckpoint {
                        size: r.get::<_, i64>(0)? as u64,
                        note: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(internal)
    }

    /// Every signed checkpoint, smallest first.
    pub fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, note FROM audit_checkpoints ORDER BY size")
            .map_err(internal)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredCheckpoint {
                    size: r.get::<_, i64>(0)? as u64,
                    note: r.get(1)?,
                })
            })
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    /// Stores a cosignature (replacing an earlier one of the same witness for that size).
    pub fn save_cosignature(&self, size: u64, witness: &str, line: &str, now: i64) -> StoreResult<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO audit_cosignatures (size, witness, line, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![size as i64, witness, line, now],
            )
            .map_err(internal)?;
        Ok(())
    }

    /// Cosignatures, optionally of one size.
    pub fn cosignatures(&self, size: Option<u64>) -> StoreResult<Vec<StoredCosignature>> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, witness, line FROM audit_cosignatures WHERE ?1 IS NULL OR size = ?1 ORDER BY size, witness")
            .map_err(internal)?;
        let rows = stmt
            .query_map(params![size.map(|s| s as i64)], |r| {
                Ok(StoredCosignature {
                    size: r.get::<_, i64>(0)? as u64,
                    witness: r.get(1)?,
                    line: r.get(2)?,
                })
            })
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }
}

impl AuditSink for AuditDb {
    fn append(&mut self, entries: &[(u64, &AuditEntry, &[u8])]) -> StoreResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(internal)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO audit_entries (idx, data, time_ms, principal, action, resource, outcome) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(internal)?;
            for (seq, e, data) in entries {
                stmt.execute(params![
                    *seq as i64,
                    data,
                    e.time_ms,
                    e.principal,
                    e.action,
                    e.resource,
                    outcome_name(e.outcome)
                ])
                .map_err(internal)?;
            }
        }
        tx.commit().map_err(internal)
    }
}
