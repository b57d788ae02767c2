//! The audit log's storage: its own SQLite file (`audit.db`, WAL, `synchronous=FULL`), so
//! an append is durable when its transaction commits and registry traffic never waits on it.
//! Entries are stored as the exact leaf bytes with their tail tag (HMAC under a key outside
//! the database, [`jsms_audit::tail`]); the columns beside them are an index for "who knew"
//! queries: every row a query finds is re-checked against its own data, and verification
//! and start-up compare the columns with the entries.

use crate::{StoreError, StoreResult};
use jsms_audit::entry::{AuditEntry, IndexColumns};
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
    outcome    TEXT NOT NULL,
    tag        BLOB                   -- HMAC-SHA256 of (idx, leaf hash) under keys/audit.key
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
    crate::failure(e)
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

/// One entry to append: its index (= `entry.seq`), the entry, its leaf bytes and tail tag.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// Leaf index.
    pub index: u64,
    /// The entry (for the index columns).
    pub entry: &'a AuditEntry,
    /// The leaf bytes.
    pub data: &'a [u8],
    /// The tail tag of `data` at `index`.
    pub tag: &'a [u8; 32],
}

/// One stored row as read for verification: the entry, its index columns and its tag.
#[derive(Debug, Clone, Copy)]
pub struct StoredRow<'a> {
    /// Leaf index.
    pub index: u64,
    /// Leaf bytes.
    pub data: &'a [u8],
    /// The index columns stored beside it.
    pub columns: &'a IndexColumns,
    /// The tail tag, if any.
    pub tag: Option<&'a [u8]>,
}

/// Where appends go. A trait so the fail-closed path can be tested with a sink that fails.
pub trait AuditSink: Send + 'static {
    /// Appends entries (seq already assigned) in one durable transaction.
    fn append(&mut self, entries: &[NewEntry<'_>]) -> StoreResult<()>;
}

/// The SQLite audit database.
#[derive(Debug)]
pub struct AuditDb {
    conn: Connection,
}

/// Whether the stored data of a row found by an index query really is about `resource`
/// within the time range: an edited index column cannot add a row to an answer.
fn really_about(data: &[u8], resource: &str, from_ms: i64, to_ms: i64) -> bool {
    AuditEntry::from_bytes(data)
        .is_ok_and(|e| e.resource.as_deref() == Some(resource) && (from_ms..=to_ms).contains(&e.time_ms))
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
        // Logs created before tail tags existed gain the column (their rows stay untagged
        // and must be under a checkpoint).
        let has_tag: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('audit_entries') WHERE name = 'tag'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(internal)?
            > 0;
        if !has_tag {
            conn.execute_batch("ALTER TABLE audit_entries ADD COLUMN tag BLOB")
                .map_err(internal)?;
        }
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
        self.for_each_row(0, |row| f(row.index, row.data))
    }

    /// Calls `f` with every stored row from index `from` on, in index order, with its index
    /// columns and tag (streaming, for verification and start-up).
    pub fn for_each_row(&self, from: u64, mut f: impl FnMut(StoredRow<'_>) -> StoreResult<()>) -> StoreResult<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT idx, data, time_ms, principal, action, resource, outcome, tag FROM audit_entries \
                 WHERE idx >= ?1 ORDER BY idx",
            )
            .map_err(internal)?;
        let mut rows = stmt
            .query(params![i64::try_from(from).unwrap_or(i64::MAX)])
            .map_err(internal)?;
        while let Some(row) = rows.next().map_err(internal)? {
            let idx: i64 = row.get(0).map_err(internal)?;
            let data = row.get_ref(1).map_err(internal)?.as_blob().map_err(internal)?;
            let columns = IndexColumns {
                time_ms: row.get(2).map_err(internal)?,
                principal: row.get(3).map_err(internal)?,
                action: row.get(4).map_err(internal)?,
                resource: row.get(5).map_err(internal)?,
                outcome: row.get(6).map_err(internal)?,
            };
            let tag = row.get_ref(7).map_err(internal)?.as_blob_or_null().map_err(internal)?;
            f(StoredRow {
                index: idx as u64,
                data,
                columns: &columns,
                tag,
            })?;
        }
        Ok(())
    }

    /// Entries about `resource` between two times (inclusive), oldest first. Found through
    /// the index columns, kept only if the entry itself says so.
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
        let rows: Vec<StoredEntry> = rows.collect::<Result<_, _>>().map_err(internal)?;
        Ok(rows
            .into_iter()
            .filter(|e| really_about(&e.data, resource, from_ms, to_ms))
            .collect())
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
    fn append(&mut self, entries: &[NewEntry<'_>]) -> StoreResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(internal)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO audit_entries (idx, data, time_ms, principal, action, resource, outcome, tag) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(internal)?;
            for n in entries {
                let e = n.entry;
                stmt.execute(params![
                    n.index as i64,
                    n.data,
                    e.time_ms,
                    e.principal,
                    e.action,
                    e.resource,
                    e.outcome.as_str(),
                    n.tag.as_slice()
                ])
                .map_err(internal)?;
            }
        }
        tx.commit().map_err(internal)
    }
}
