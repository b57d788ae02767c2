//! The SQLite implementation of [`Store`]: one writer connection and a small pool of
//! readers over a WAL database, `synchronous=FULL` so an acknowledged write survives a crash.

use crate::{
    ApiTokenRecord, NewUser, Page, PageRequest, PersonRecord, PrivilegeChange, PrivilegeRequest, PrivilegeState,
    SessionRecord, Store, StoreError, StoreResult, UserCredentials,
};
use jsms_domain::access::PersonScope;
use jsms_domain::geo::{Coordinate, Polygon};
use jsms_domain::ids::{ApiTokenId, OrgId, PartyId, PersonId, SiteId, UserId};
use jsms_domain::registry::{PersonDraft, PersonalData, ProtectedPerson, Site, SiteDraft};
use jsms_domain::user::{Organisation, OrganisationDraft, Party, PartyCode, User, UserProfile, Username};
use jsms_identity::seal::SealingKey;
use jsms_identity::totp::TotpSecret;
use rusqlite::types::Type;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use uuid::Uuid;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_registry.sql")),
    (2, include_str!("../migrations/0002_oversight.sql")),
    (3, include_str!("../migrations/0003_zones.sql")),
    (4, include_str!("../migrations/0004_movements.sql")),
    (5, include_str!("../migrations/0005_disclosures.sql")),
    (6, include_str!("../migrations/0006_tracking.sql")),
    (7, include_str!("../migrations/0007_webhooks.sql")),
    (8, include_str!("../migrations/0008_position_events.sql")),
    (9, include_str!("../migrations/0009_tracking_durability.sql")),
    (10, include_str!("../migrations/0010_incidents.sql")),
    (11, include_str!("../migrations/0011_decisions.sql")),
    (12, include_str!("../migrations/0012_meetings.sql")),
    (13, include_str!("../migrations/0013_coordination.sql")),
    (14, include_str!("../migrations/0014_intelligence.sql")),
    (15, include_str!("../migrations/0015_privilege_requests.sql")),
];
const READERS: usize = 4;

mod coordination;
mod incidents;
mod intel;
mod movements;
mod oversight;
mod registry;
mod tracking;
mod zones;

/// SQLite-backed store.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    key: SealingKey,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    crate::failure(e)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies pending migrations, and
    /// uses `key` to seal and open personal data.
    pub fn open(path: &Path, key: SealingKey) -> StoreResult<Self> {
        let mut writer = Connection::open(path).map_err(internal)?;
        configure(&writer).map_err(internal)?;
        migrate(&mut writer)?;
        check_key(&writer, &key)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(internal)?;
            configure(&conn).map_err(internal)?;
            readers.push(Mutex::new(conn));
        }
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            key,
        })
    }

    fn write(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        self.writer
            .lock()
            .map_err(|_| StoreError::Internal("writer lock poisoned".into()))
    }

    fn read(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Some(m) = self.readers.get((start + i) % self.readers.len())
                && let Ok(guard) = m.try_lock()
            {
                return Ok(guard);
            }
        }
        self.readers
            .get(start % self.readers.len())
            .ok_or_else(|| StoreError::Internal("no reader connections".into()))?
            .lock()
            .map_err(|_| StoreError::Internal("reader lock poisoned".into()))
    }

    fn tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.write()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(internal)?;
        let out = f(&tx)?;
        tx.commit().map_err(internal)?;
        Ok(out)
    }

    fn seal(&self, place: &str, value: Option<&[u8]>) -> StoreResult<Option<Vec<u8>>> {
        value.map(|v| self.key.seal(place, v).map_err(internal)).transpose()
    }

    fn open_text(&self, place: &str, value: Option<Vec<u8>>) -> StoreResult<Option<String>> {
        value
            .map(|v| {
                let plain = self.key.open(place, &v).map_err(internal)?;
                String::from_utf8(plain.to_vec()).map_err(internal)
            })
            .transpose()
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
    )
    .map_err(internal)?;
    let current: i64 = conn
        .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .map_err(internal)?;
    let newest = MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0);
    if current > newest {
        return Err(StoreError::Internal(format!(
            "the database is at schema version {current}, newer than this binary's {newest}; upgrade jsms"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction().map_err(internal)?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Internal(format!("migration {version} failed: {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%s','now'))",
            [version],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)?;
    }
    Ok(())
}

const KEY_CHECK: &[u8] = b"jsms sealing key check";

/// Seals a known value at first open and opens it at every later one, so a wrong key stops
/// the instance at start-up instead of failing on the first person read.
fn check_key(conn: &Connection, key: &SealingKey) -> StoreResult<()> {
    let stored: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM instance_meta WHERE name = 'key_check'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(internal)?;
    match stored {
        Some(sealed) => match key.open("instance:key_check", &sealed) {
            Ok(plain) if plain.as_slice() == KEY_CHECK => Ok(()),
            _ => Err(StoreError::WrongKey),
        },
        None => {
            let sealed = key.seal("instance:key_check", KEY_CHECK).map_err(internal)?;
            conn.execute(
                "INSERT INTO instance_meta (name, value) VALUES ('key_check', ?1)",
                [sealed],
            )
            .map_err(internal)?;
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- column helpers

fn conv_err(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
}

fn uuid_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let bytes: Vec<u8> = row.get(idx)?;
    Uuid::from_slice(&bytes).map_err(|e| conv_err(idx, e))
}

fn opt_uuid_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    let bytes: Option<Vec<u8>> = row.get(idx)?;
    bytes
        .map(|b| Uuid::from_slice(&b).map_err(|e| conv_err(idx, e)))
        .transpose()
}

fn hash_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<[u8; 32]> {
    let bytes: Vec<u8> = row.get(idx)?;
    bytes.try_into().map_err(|_| conv_err(idx, std::fmt::Error))
}

/// Enum to its serde name (`"embassy_office"`).
fn name_of<T: Serialize>(value: &T) -> StoreResult<String> {
    match serde_json::to_value(value).map_err(internal)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Internal(format!("expected a string name, got {other}"))),
    }
}

fn enum_at<T: DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_value(serde_json::Value::String(text)).map_err(|e| conv_err(idx, e))
}

fn json_at<T: DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|e| conv_err(idx, e))
}

fn json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(internal)
}

fn b(id: Uuid) -> [u8; 16] {
    *id.as_bytes()
}

/// Maps constraint violations to client errors; everything else is internal.
fn write_err(context: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => {
            let msg = e.to_string();
            if msg.contains("FOREIGN KEY") {
                StoreError::UnknownReference(context.to_owned())
            } else if msg.contains("UNIQUE") {
                StoreError::Conflict(context.to_owned())
            } else {
                StoreError::Internal(msg)
            }
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

fn limit_of(page: &PageRequest) -> i64 {
    i64::from(page.limit.clamp(1, 500))
}

fn like_pattern(q: Option<&str>) -> Option<String> {
    q.map(|q| {
        let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    })
}

fn paginate<T>(mut items: Vec<T>, limit: i64, id: impl Fn(&T) -> Uuid) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&id)
    } else {
        None
    };
    Page { items, next }
}

/// Checks optimistic concurrency after an `UPDATE ... WHERE id = ? AND version = ?` that
/// changed no row: either the record is gone or its version moved.
fn stale_or_missing(tx: &Transaction<'_>, table: &str, id: Uuid) -> StoreError {
    let sql = format!("SELECT version FROM {table} WHERE id = ?1");
    match tx.query_row(&sql, [b(id)], |r| r.get::<_, i64>(0)).optional() {
        Ok(Some(current)) => StoreError::Stale { current },
        Ok(None) => StoreError::NotFound,
        Err(e) => internal(e),
    }
}

// ---------------------------------------------------------------- row mappers
