//! The SQLite implementation of [`Store`]: one writer connection and a small pool of
//! readers over a WAL database, `synchronous=FULL` so an acknowledged write survives a crash.

use crate::{
    ApiTokenRecord, NewUser, Page, PageRequest, PersonRecord, SessionRecord, Store, StoreError, StoreResult,
    UserCredentials,
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
    (1, include_str!("migrations/0001_registry.sql")),
    (2, include_str!("migrations/0002_oversight.sql")),
    (3, include_str!("migrations/0003_zones.sql")),
    (4, include_str!("migrations/0004_movements.sql")),
    (5, include_str!("migrations/0005_disclosures.sql")),
    (6, include_str!("migrations/0006_tracking.sql")),
    (7, include_str!("migrations/0007_webhooks.sql")),
    (8, include_str!("migrations/0008_position_events.sql")),
    (9, include_str!("migrations/0009_tracking_durability.sql")),
    (10, include_str!("migrations/0010_incidents.sql")),
    (11, include_str!("migrations/0011_decisions.sql")),
    (12, include_str!("migrations/0012_meetings.sql")),
    (13, include_str!("migrations/0013_coordination.sql")),
    (14, include_str!("migrations/0014_intelligence.sql")),
];
const READERS: usize = 4;

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
    StoreError::Internal(e.to_string())
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

const ORG_COLS: &str = "id, party_id, name, kind, version";
fn org_row(row: &Row<'_>) -> rusqlite::Result<Organisation> {
    Ok(Organisation {
        id: OrgId::from_uuid(uuid_at(row, 0)?),
        party_id: PartyId::from_uuid(uuid_at(row, 1)?),
        name: row.get(2)?,
        kind: enum_at(row, 3)?,
        version: row.get(4)?,
    })
}

const USER_COLS: &str = "u.id, u.party_id, u.org_id, u.username, u.display_name, u.roles, u.clearance, \
    u.compartments, u.disabled, u.totp_enrolled, u.version";
fn user_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let username: String = row.get(3)?;
    Ok(User {
        id: UserId::from_uuid(uuid_at(row, 0)?),
        party_id: PartyId::from_uuid(uuid_at(row, 1)?),
        org_id: OrgId::from_uuid(uuid_at(row, 2)?),
        username: Username::parse(&username).map_err(|e| conv_err(3, e))?,
        display_name: row.get(4)?,
        roles: json_at(row, 5)?,
        clearance: enum_at(row, 6)?,
        compartments: json_at(row, 7)?,
        disabled: row.get(8)?,
        mfa_enrolled: row.get(9)?,
        version: row.get(10)?,
    })
}

const SESSION_COLS: &str =
    "s.token_hash, s.user_id, s.mfa_verified, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at";
fn session_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        token_hash: hash_at(row, 0)?,
        user_id: UserId::from_uuid(uuid_at(row, 1)?),
        mfa_verified: row.get(2)?,
        csrf_token: row.get(3)?,
        created_at: row.get(4)?,
        last_seen_at: row.get(5)?,
        expires_at: row.get(6)?,
    })
}

const TOKEN_COLS: &str =
    "id, token_hash, party_id, org_id, name, scopes, created_by, created_at, expires_at, revoked_at, last_used_at";
fn token_row(row: &Row<'_>) -> rusqlite::Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: ApiTokenId::from_uuid(uuid_at(row, 0)?),
        token_hash: hash_at(row, 1)?,
        party_id: PartyId::from_uuid(uuid_at(row, 2)?),
        org_id: OrgId::from_uuid(uuid_at(row, 3)?),
        name: row.get(4)?,
        scopes: json_at(row, 5)?,
        created_by: UserId::from_uuid(uuid_at(row, 6)?),
        created_at: row.get(7)?,
        expires_at: row.get(8)?,
        revoked_at: row.get(9)?,
        last_used_at: row.get(10)?,
    })
}

const SITE_COLS: &str = "id, owner_org_id, name, kind, lat, lon, perimeter, posture, notes, version";
fn site_row(row: &Row<'_>) -> rusqlite::Result<Site> {
    let lat: f64 = row.get(4)?;
    let lon: f64 = row.get(5)?;
    let perimeter: Option<String> = row.get(6)?;
    let perimeter = perimeter
        .map(|p| {
            let positions: Vec<[f64; 2]> = serde_json::from_str(&p).map_err(|e| conv_err(6, e))?;
            Polygon::from_positions(&positions).map_err(|e| conv_err(6, e))
        })
        .transpose()?;
    Ok(Site {
        id: SiteId::from_uuid(uuid_at(row, 0)?),
        draft: SiteDraft {
            owner_org_id: OrgId::from_uuid(uuid_at(row, 1)?),
            name: row.get(2)?,
            kind: enum_at(row, 3)?,
            location: Coordinate::new(lat, lon).map_err(|e| conv_err(4, e))?,
            perimeter,
            posture: enum_at(row, 7)?,
            notes: row.get(8)?,
        },
        version: row.get(9)?,
    })
}

const PERSON_COLS: &str = "p.id, p.full_name, p.nationality, p.employer_org_id, p.assigned_site_id, \
    p.protection_level, p.status, p.passport_number, p.phone, p.date_of_birth, p.home_address, p.version, o.party_id";

/// A person row with its personal data still sealed.
struct SealedPerson {
    id: Uuid,
    full_name: String,
    nationality: Option<String>,
    employer: Uuid,
    site: Option<Uuid>,
    level: jsms_domain::registry::ProtectionLevel,
    status: jsms_domain::registry::PersonStatus,
    sealed: [Option<Vec<u8>>; 4],
    version: i64,
    party: Uuid,
}

fn person_row(row: &Row<'_>) -> rusqlite::Result<SealedPerson> {
    Ok(SealedPerson {
        id: uuid_at(row, 0)?,
        full_name: row.get(1)?,
        nationality: row.get(2)?,
        employer: uuid_at(row, 3)?,
        site: opt_uuid_at(row, 4)?,
        level: enum_at(row, 5)?,
        status: enum_at(row, 6)?,
        sealed: [row.get(7)?, row.get(8)?, row.get(9)?, row.get(10)?],
        version: row.get(11)?,
        party: uuid_at(row, 12)?,
    })
}

const PII_FIELDS: [&str; 4] = ["passport_number", "phone", "date_of_birth", "home_address"];

fn pii_place(id: Uuid, field: &str) -> String {
    format!("person:{id}:{field}")
}

impl SqliteStore {
    fn unseal_person(&self, p: SealedPerson) -> StoreResult<PersonRecord> {
        let [passport, phone, dob, address] = p.sealed;
        let dob = self
            .open_text(&pii_place(p.id, "date_of_birth"), dob)?
            .map(|d| time::Date::parse(&d, &time::format_description::well_known::Iso8601::DATE).map_err(internal))
            .transpose()?;
        Ok(PersonRecord {
            person: ProtectedPerson {
                id: PersonId::from_uuid(p.id),
                draft: PersonDraft {
                    full_name: p.full_name,
                    nationality: p.nationality,
                    employer_org_id: OrgId::from_uuid(p.employer),
                    assigned_site_id: p.site.map(SiteId::from_uuid),
                    protection_level: p.level,
                    status: p.status,
                    personal_data: PersonalData {
                        passport_number: self.open_text(&pii_place(p.id, "passport_number"), passport)?,
                        phone: self.open_text(&pii_place(p.id, "phone"), phone)?,
                        date_of_birth: dob,
                        home_address: self.open_text(&pii_place(p.id, "home_address"), address)?,
                    },
                },
                version: p.version,
            },
            employer_party_id: PartyId::from_uuid(p.party),
        })
    }

    fn seal_person(&self, id: Uuid, pd: &PersonalData) -> StoreResult<[Option<Vec<u8>>; 4]> {
        let dob = pd
            .date_of_birth
            .map(|d| {
                d.format(&time::format_description::well_known::Iso8601::DATE)
                    .map_err(internal)
            })
            .transpose()?;
        let values = [
            pd.passport_number.as_deref(),
            pd.phone.as_deref(),
            dob.as_deref(),
            pd.home_address.as_deref(),
        ];
        let mut out: [Option<Vec<u8>>; 4] = Default::default();
        for ((slot, value), field) in out.iter_mut().zip(values).zip(PII_FIELDS) {
            *slot = self.seal(&pii_place(id, field), value.map(str::as_bytes))?;
        }
        Ok(out)
    }

    fn person_in(&self, conn: &Connection, id: Uuid) -> StoreResult<PersonRecord> {
        let sql = format!(
            "SELECT {PERSON_COLS} FROM persons p JOIN organisations o ON o.id = p.employer_org_id WHERE p.id = ?1"
        );
        let sealed = conn.query_row(&sql, [b(id)], person_row).optional().map_err(internal)?;
        self.unseal_person(sealed.ok_or(StoreError::NotFound)?)
    }

    fn check_employer_is_company(tx: &Transaction<'_>, org: OrgId) -> StoreResult<()> {
        let kind: Option<String> = tx
            .query_row("SELECT kind FROM organisations WHERE id = ?1", [b(org.uuid())], |r| {
                r.get(0)
            })
            .optional()
            .map_err(internal)?;
        match kind.as_deref() {
            Some("company") => Ok(()),
            Some(_) => Err(StoreError::UnknownReference(
                "the employer must be an organisation of kind company".into(),
            )),
            None => Err(StoreError::UnknownReference("no such employer organisation".into())),
        }
    }
}

fn user_in(conn: &Connection, id: UserId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1");
    conn.query_row(&sql, [b(id.uuid())], user_row)
        .optional()
        .map_err(internal)?
        .ok_or(StoreError::NotFound)
}

fn party_row(row: &Row<'_>) -> rusqlite::Result<Party> {
    let code: String = row.get(1)?;
    Ok(Party {
        id: PartyId::from_uuid(uuid_at(row, 0)?),
        code: PartyCode::parse(&code).map_err(|e| conv_err(1, e))?,
        name: row.get(2)?,
        kind: enum_at(row, 3)?,
    })
}

impl Store for SqliteStore {
    fn ping(&self) -> StoreResult<()> {
        self.read()?.query_row("SELECT 1", [], |_| Ok(())).map_err(internal)
    }

    fn create_party(&self, party: &Party, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO parties (id, code, name, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    b(party.id.uuid()),
                    party.code.as_str(),
                    party.name,
                    name_of(&party.kind)?,
                    now
                ],
            )
            .map_err(write_err("a party with this code exists"))?;
            Ok(())
        })
    }

    fn parties(&self) -> StoreResult<Vec<Party>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached("SELECT id, code, name, kind FROM parties ORDER BY code")
            .map_err(internal)?;
        let rows = stmt.query_map([], party_row).map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    fn party(&self, id: PartyId) -> StoreResult<Party> {
        self.read()?
            .query_row(
                "SELECT id, code, name, kind FROM parties WHERE id = ?1",
                [b(id.uuid())],
                party_row,
            )
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }

    fn create_org(&self, party: PartyId, draft: &OrganisationDraft, now: i64) -> StoreResult<Organisation> {
        let org = Organisation {
            id: OrgId::generate(),
            party_id: party,
            name: draft.name.clone(),
            kind: draft.kind,
            version: 1,
        };
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO organisations (id, party_id, name, kind, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
                params![b(org.id.uuid()), b(party.uuid()), org.name, name_of(&org.kind)?, now],
            )
            .map_err(write_err("an organisation with this name exists in the party"))?;
            Ok(())
        })?;
        Ok(org)
    }

    fn org(&self, id: OrgId) -> StoreResult<Organisation> {
        let sql = format!("SELECT {ORG_COLS} FROM organisations WHERE id = ?1");
        self.read()?
            .query_row(&sql, [b(id.uuid())], org_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }

    fn orgs(&self, party: Option<PartyId>, page: &PageRequest) -> StoreResult<Page<Organisation>> {
        let limit = limit_of(page);
        let sql = format!(
            "SELECT {ORG_COLS} FROM organisations WHERE (?1 IS NULL OR party_id = ?1) AND (?2 IS NULL OR id > ?2) \
             AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\') ORDER BY id LIMIT ?4"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt
            .query_map(
                params![
                    party.map(|p| b(p.uuid())),
                    page.after.map(b),
                    like_pattern(page.q.as_deref()),
                    limit + 1
                ],
                org_row,
            )
            .map_err(internal)?;
        let items = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
        Ok(paginate(items, limit, |o| o.id.uuid()))
    }

    fn update_org(&self, id: OrgId, version: i64, draft: &OrganisationDraft, now: i64) -> StoreResult<Organisation> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE organisations SET name = ?1, kind = ?2, version = version + 1, updated_at = ?3 \
                     WHERE id = ?4 AND version = ?5",
                    params![draft.name, name_of(&draft.kind)?, now, b(id.uuid()), version],
                )
                .map_err(write_err("an organisation with this name exists in the party"))?;
            if n == 0 {
                return Err(stale_or_missing(tx, "organisations", id.uuid()));
            }
            let sql = format!("SELECT {ORG_COLS} FROM organisations WHERE id = ?1");
            tx.query_row(&sql, [b(id.uuid())], org_row).map_err(internal)
        })
    }

    fn delete_org(&self, id: OrgId, version: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM organisations WHERE id = ?1 AND version = ?2",
                    params![b(id.uuid()), version],
                )
                .map_err(|e| match write_err("")(e) {
                    StoreError::UnknownReference(_) => {
                        StoreError::InUse("the organisation still has users, persons, sites or tokens".into())
                    }
                    other => other,
                })?;
            if n == 0 {
                return Err(stale_or_missing(tx, "organisations", id.uuid()));
            }
            Ok(())
        })
    }

    fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<User> {
        let id = UserId::generate();
        self.tx(|tx| {
            let party: Vec<u8> = tx
                .query_row(
                    "SELECT party_id FROM organisations WHERE id = ?1",
                    [b(user.org_id.uuid())],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?
                .ok_or_else(|| StoreError::UnknownReference("no such organisation".into()))?;
            let totp = self.seal(
                &format!("user:{}:totp", id.uuid()),
                user.enrolled_totp.as_ref().map(TotpSecret::as_bytes),
            )?;
            tx.execute(
                "INSERT INTO users (id, party_id, org_id, username, display_name, roles, clearance, compartments, \
                 password_hash, totp_secret, totp_enrolled, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?12)",
                params![
                    b(id.uuid()),
                    party,
                    b(user.org_id.uuid()),
                    user.username.as_str(),
                    user.profile.display_name,
                    json(&user.profile.roles)?,
                    name_of(&user.profile.clearance)?,
                    json(&user.profile.compartments)?,
                    user.password_hash,
                    totp,
                    user.enrolled_totp.is_some(),
                    now
                ],
            )
            .map_err(write_err("this username is taken"))?;
            user_in(tx, id)
        })
    }

    fn user(&self, id: UserId) -> StoreResult<User> {
        user_in(&*self.read()?, id)
    }

    fn user_credentials(&self, username: &str) -> StoreResult<Option<UserCredentials>> {
        let conn = self.read()?;
        let id: Option<Vec<u8>> = conn
            .query_row("SELECT id FROM users WHERE username = ?1", [username], |r| r.get(0))
            .optional()
            .map_err(internal)?;
        drop(conn);
        match id {
            None => Ok(None),
            Some(id) => {
                let id = Uuid::from_slice(&id).map_err(internal)?;
                self.user_credentials_by_id(UserId::from_uuid(id)).map(Some)
            }
        }
    }

    fn user_credentials_by_id(&self, id: UserId) -> StoreResult<UserCredentials> {
        let conn = self.read()?;
        let sql = format!(
            "SELECT {USER_COLS}, u.password_hash, u.totp_secret, u.totp_last_step \
             FROM users u WHERE u.id = ?1"
        );
        let row = conn
            .query_row(&sql, [b(id.uuid())], |r| {
                Ok((
                    user_row(r)?,
                    r.get::<_, String>(11)?,
                    r.get::<_, Option<Vec<u8>>>(12)?,
                    r.get::<_, Option<i64>>(13)?,
                ))
            })
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        let (user, password_hash, sealed, totp_last_step) = row;
        let totp_secret = sealed
            .map(|s| {
                let raw = self
                    .key
                    .open(&format!("user:{}:totp", id.uuid()), &s)
                    .map_err(internal)?;
                TotpSecret::from_bytes(raw.to_vec()).map_err(internal)
            })
            .transpose()?;
        Ok(UserCredentials {
            user,
            password_hash,
            totp_secret,
            totp_last_step,
        })
    }

    fn users(&self, party: Option<PartyId>, page: &PageRequest) -> StoreResult<Page<User>> {
        let limit = limit_of(page);
        let sql = format!(
            "SELECT {USER_COLS} FROM users u WHERE (?1 IS NULL OR u.party_id = ?1) AND (?2 IS NULL OR u.id > ?2) \
             AND (?3 IS NULL OR u.username LIKE ?3 ESCAPE '\\' OR u.display_name LIKE ?3 ESCAPE '\\') \
             ORDER BY u.id LIMIT ?4"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt
            .query_map(
                params![
                    party.map(|p| b(p.uuid())),
                    page.after.map(b),
                    like_pattern(page.q.as_deref()),
                    limit + 1
                ],
                user_row,
            )
            .map_err(internal)?;
        let items = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
        Ok(paginate(items, limit, |u| u.id.uuid()))
    }

    fn update_user_profile(&self, id: UserId, version: i64, profile: &UserProfile, now: i64) -> StoreResult<User> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET display_name = ?1, roles = ?2, clearance = ?3, compartments = ?4, \
                     version = version + 1, updated_at = ?5 WHERE id = ?6 AND version = ?7",
                    params![
                        profile.display_name,
                        json(&profile.roles)?,
                        name_of(&profile.clearance)?,
                        json(&profile.compartments)?,
                        now,
                        b(id.uuid()),
                        version
                    ],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "users", id.uuid()));
            }
            // A change of roles or compartments takes effect at once: sessions end.
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [b(id.uuid())])
                .map_err(internal)?;
            user_in(tx, id)
        })
    }

    fn set_user_disabled(&self, id: UserId, disabled: bool, now: i64) -> StoreResult<User> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET disabled = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3",
                    params![disabled, now, b(id.uuid())],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [b(id.uuid())])
                    .map_err(internal)?;
            }
            user_in(tx, id)
        })
    }

    fn set_password(&self, id: UserId, password_hash: &str, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET password_hash = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3",
                    params![password_hash, now, b(id.uuid())],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [b(id.uuid())])
                .map_err(internal)?;
            Ok(())
        })
    }

    fn set_pending_totp(&self, id: UserId, secret: &TotpSecret, now: i64) -> StoreResult<()> {
        let sealed = self
            .key
            .seal(&format!("user:{}:totp", id.uuid()), secret.as_bytes())
            .map_err(internal)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET totp_secret = ?1, totp_last_step = NULL, updated_at = ?2 \
                     WHERE id = ?3 AND totp_enrolled = 0",
                    params![sealed, now, b(id.uuid())],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::Conflict(
                    "TOTP is already enrolled; an administrator must reset it".into(),
                ));
            }
            Ok(())
        })
    }

    fn confirm_totp(&self, id: UserId, step: i64, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET totp_enrolled = 1, totp_last_step = ?1, version = version + 1, updated_at = ?2 \
                     WHERE id = ?3 AND totp_secret IS NOT NULL AND totp_enrolled = 0",
                    params![step, now, b(id.uuid())],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::Conflict("no TOTP enrolment is pending".into()));
            }
            Ok(())
        })
    }

    fn record_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET totp_last_step = ?1 WHERE id = ?2 AND (totp_last_step IS NULL OR totp_last_step < ?1)",
                    params![step, b(id.uuid())],
                )
                .map_err(internal)?;
            Ok(n == 1)
        })
    }

    fn reset_mfa(&self, id: UserId, now: i64) -> StoreResult<User> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET totp_secret = NULL, totp_enrolled = 0, totp_last_step = NULL, \
                     version = version + 1, updated_at = ?1 WHERE id = ?2",
                    params![now, b(id.uuid())],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [b(id.uuid())])
                .map_err(internal)?;
            user_in(tx, id)
        })
    }

    fn create_session(&self, s: &SessionRecord) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, mfa_verified, csrf_token, created_at, last_seen_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![s.token_hash, b(s.user_id.uuid()), s.mfa_verified, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<(SessionRecord, User)>> {
        let sql = format!(
            "SELECT {SESSION_COLS}, {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
        );
        let conn = self.read()?;
        conn.query_row(&sql, [token_hash], |r| {
            let session = session_row(r)?;
            // The user columns follow the seven session columns.
            let user = User {
                id: UserId::from_uuid(uuid_at(r, 7)?),
                party_id: PartyId::from_uuid(uuid_at(r, 8)?),
                org_id: OrgId::from_uuid(uuid_at(r, 9)?),
                username: Username::parse(&r.get::<_, String>(10)?).map_err(|e| conv_err(10, e))?,
                display_name: r.get(11)?,
                roles: json_at(r, 12)?,
                clearance: enum_at(r, 13)?,
                compartments: json_at(r, 14)?,
                disabled: r.get(15)?,
                mfa_enrolled: r.get(16)?,
                version: r.get(17)?,
            };
            Ok((session, user))
        })
        .optional()
        .map_err(internal)
    }

    fn touch_session(&self, token_hash: &[u8; 32], now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2",
                params![now, token_hash],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(internal)?;
            Ok(())
        })
    }

    fn purge_sessions(&self, idle_before: i64, now: i64) -> StoreResult<u64> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM sessions WHERE last_seen_at < ?1 OR expires_at <= ?2",
                    params![idle_before, now],
                )
                .map_err(internal)?;
            Ok(n as u64)
        })
    }

    fn create_api_token(&self, t: &ApiTokenRecord) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO api_tokens (id, token_hash, party_id, org_id, name, scopes, created_by, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    b(t.id.uuid()),
                    t.token_hash,
                    b(t.party_id.uuid()),
                    b(t.org_id.uuid()),
                    t.name,
                    json(&t.scopes)?,
                    b(t.created_by.uuid()),
                    t.created_at,
                    t.expires_at
                ],
            )
            .map_err(write_err("unknown organisation or user for the token"))?;
            Ok(())
        })
    }

    fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiTokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = ?1");
        self.read()?
            .query_row(&sql, [token_hash], token_row)
            .optional()
            .map_err(internal)
    }

    fn api_tokens(&self, party: PartyId) -> StoreResult<Vec<ApiTokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE party_id = ?1 ORDER BY id DESC");
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt.query_map([b(party.uuid())], token_row).map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    fn api_token(&self, id: ApiTokenId) -> StoreResult<ApiTokenRecord> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = ?1");
        self.read()?
            .query_row(&sql, [b(id.uuid())], token_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }

    fn revoke_api_token(&self, id: ApiTokenId, now: i64) -> StoreResult<ApiTokenRecord> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
                params![now, b(id.uuid())],
            )
            .map_err(internal)?;
            let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = ?1");
            tx.query_row(&sql, [b(id.uuid())], token_row)
                .optional()
                .map_err(internal)?
                .ok_or(StoreError::NotFound)
        })
    }

    fn touch_api_token(&self, id: ApiTokenId, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
                params![now, b(id.uuid())],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    fn create_person(&self, draft: &PersonDraft, now: i64) -> StoreResult<PersonRecord> {
        let id = PersonId::generate().uuid();
        let sealed = self.seal_person(id, &draft.personal_data)?;
        self.tx(|tx| {
            Self::check_employer_is_company(tx, draft.employer_org_id)?;
            let [passport, phone, dob, address] = sealed;
            tx.execute(
                "INSERT INTO persons (id, full_name, nationality, employer_org_id, assigned_site_id, protection_level, \
                 status, passport_number, phone, date_of_birth, home_address, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?12)",
                params![
                    b(id),
                    draft.full_name,
                    draft.nationality,
                    b(draft.employer_org_id.uuid()),
                    draft.assigned_site_id.map(|s| b(s.uuid())),
                    name_of(&draft.protection_level)?,
                    name_of(&draft.status)?,
                    passport,
                    phone,
                    dob,
                    address,
                    now
                ],
            )
            .map_err(write_err("unknown employer organisation or assigned site"))?;
            self.person_in(tx, id)
        })
    }

    fn person(&self, id: PersonId) -> StoreResult<PersonRecord> {
        self.person_in(&*self.read()?, id.uuid())
    }

    fn persons(&self, scope: PersonScope, page: &PageRequest) -> StoreResult<Page<PersonRecord>> {
        let limit = limit_of(page);
        let (all, party, org) = match scope {
            PersonScope::Nothing => {
                return Ok(Page {
                    items: vec![],
                    next: None,
                });
            }
            PersonScope::All => (true, None, None),
            PersonScope::Party(p) => (false, Some(b(p.uuid())), None),
            PersonScope::Organisation(o) => (false, None, Some(b(o.uuid()))),
        };
        let sql = format!(
            "SELECT {PERSON_COLS} FROM persons p JOIN organisations o ON o.id = p.employer_org_id \
             WHERE (?1 OR o.party_id = ?2 OR p.employer_org_id = ?3) AND (?4 IS NULL OR p.id > ?4) \
             AND (?5 IS NULL OR p.full_name LIKE ?5 ESCAPE '\\') ORDER BY p.id LIMIT ?6"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt
            .query_map(
                params![
                    all,
                    party,
                    org,
                    page.after.map(b),
                    like_pattern(page.q.as_deref()),
                    limit + 1
                ],
                person_row,
            )
            .map_err(internal)?;
        let sealed = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
        drop(stmt);
        drop(conn);
        let items = sealed
            .into_iter()
            .map(|p| self.unseal_person(p))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, limit, |p| p.person.id.uuid()))
    }

    fn update_person(&self, id: PersonId, version: i64, draft: &PersonDraft, now: i64) -> StoreResult<PersonRecord> {
        let sealed = self.seal_person(id.uuid(), &draft.personal_data)?;
        self.tx(|tx| {
            Self::check_employer_is_company(tx, draft.employer_org_id)?;
            let [passport, phone, dob, address] = sealed;
            let n = tx
                .execute(
                    "UPDATE persons SET full_name = ?1, nationality = ?2, employer_org_id = ?3, assigned_site_id = ?4, \
                     protection_level = ?5, status = ?6, passport_number = ?7, phone = ?8, date_of_birth = ?9, \
                     home_address = ?10, version = version + 1, updated_at = ?11 WHERE id = ?12 AND version = ?13",
                    params![
                        draft.full_name,
                        draft.nationality,
                        b(draft.employer_org_id.uuid()),
                        draft.assigned_site_id.map(|s| b(s.uuid())),
                        name_of(&draft.protection_level)?,
                        name_of(&draft.status)?,
                        passport,
                        phone,
                        dob,
                        address,
                        now,
                        b(id.uuid()),
                        version
                    ],
                )
                .map_err(write_err("unknown employer organisation or assigned site"))?;
            if n == 0 {
                return Err(stale_or_missing(tx, "persons", id.uuid()));
            }
            self.person_in(tx, id.uuid())
        })
    }

    fn delete_person(&self, id: PersonId, version: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM persons WHERE id = ?1 AND version = ?2",
                    params![b(id.uuid()), version],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "persons", id.uuid()));
            }
            Ok(())
        })
    }

    fn create_site(&self, draft: &SiteDraft, now: i64) -> StoreResult<Site> {
        let id = SiteId::generate();
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO sites (id, owner_org_id, name, kind, lat, lon, perimeter, posture, notes, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
                params![
                    b(id.uuid()),
                    b(draft.owner_org_id.uuid()),
                    draft.name,
                    name_of(&draft.kind)?,
                    draft.location.lat(),
                    draft.location.lon(),
                    draft.perimeter.as_ref().map(|p| json(&p.positions())).transpose()?,
                    name_of(&draft.posture)?,
                    draft.notes,
                    now
                ],
            )
            .map_err(write_err("unknown owner organisation"))?;
            Ok(())
        })?;
        Ok(Site {
            id,
            draft: draft.clone(),
            version: 1,
        })
    }

    fn site(&self, id: SiteId) -> StoreResult<Site> {
        let sql = format!("SELECT {SITE_COLS} FROM sites WHERE id = ?1");
        self.read()?
            .query_row(&sql, [b(id.uuid())], site_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }

    fn sites(&self, page: &PageRequest) -> StoreResult<Page<Site>> {
        let limit = limit_of(page);
        let sql = format!(
            "SELECT {SITE_COLS} FROM sites WHERE (?1 IS NULL OR id > ?1) AND (?2 IS NULL OR name LIKE ?2 ESCAPE '\\') \
             ORDER BY id LIMIT ?3"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt
            .query_map(
                params![page.after.map(b), like_pattern(page.q.as_deref()), limit + 1],
                site_row,
            )
            .map_err(internal)?;
        let items = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
        Ok(paginate(items, limit, |s| s.id.uuid()))
    }

    fn update_site(&self, id: SiteId, version: i64, draft: &SiteDraft, now: i64) -> StoreResult<Site> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE sites SET owner_org_id = ?1, name = ?2, kind = ?3, lat = ?4, lon = ?5, perimeter = ?6, \
                     posture = ?7, notes = ?8, version = version + 1, updated_at = ?9 WHERE id = ?10 AND version = ?11",
                    params![
                        b(draft.owner_org_id.uuid()),
                        draft.name,
                        name_of(&draft.kind)?,
                        draft.location.lat(),
                        draft.location.lon(),
                        draft.perimeter.as_ref().map(|p| json(&p.positions())).transpose()?,
                        name_of(&draft.posture)?,
                        draft.notes,
                        now,
                        b(id.uuid()),
                        version
                    ],
                )
                .map_err(write_err("unknown owner organisation"))?;
            if n == 0 {
                return Err(stale_or_missing(tx, "sites", id.uuid()));
            }
            Ok(Site {
                id,
                draft: draft.clone(),
                version: version + 1,
            })
        })
    }

    fn delete_site(&self, id: SiteId, version: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM sites WHERE id = ?1 AND version = ?2",
                    params![b(id.uuid()), version],
                )
                .map_err(|e| match write_err("")(e) {
                    StoreError::UnknownReference(_) => {
                        StoreError::InUse("persons are still assigned to the site".into())
                    }
                    other => other,
                })?;
            if n == 0 {
                return Err(stale_or_missing(tx, "sites", id.uuid()));
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------- oversight

const BG_COLS: &str = "id, user_id, party_id, resource, reason, created_at, expires_at, reviewed_at, reviewed_by, \
    review_verdict, review_note, escalated_at";

fn bg_row(row: &Row<'_>) -> rusqlite::Result<crate::BreakGlassRecord> {
    let reviewed_at: Option<i64> = row.get(7)?;
    let reviewed_by = opt_uuid_at(row, 8)?;
    let verdict: Option<String> = row.get(9)?;
    let note: Option<String> = row.get(10)?;
    let review = match (reviewed_at, reviewed_by, verdict) {
        (Some(at), Some(by), Some(verdict)) => Some(crate::BreakGlassReview {
            reviewed_at: at,
            reviewed_by: UserId::from_uuid(by),
            verdict,
            note: note.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(crate::BreakGlassRecord {
        id: uuid_at(row, 0)?,
        user_id: UserId::from_uuid(uuid_at(row, 1)?),
        party_id: PartyId::from_uuid(uuid_at(row, 2)?),
        resource: row.get(3)?,
        reason: row.get(4)?,
        created_at: row.get(5)?,
        expires_at: row.get(6)?,
        review,
        escalated_at: row.get(11)?,
    })
}

const ALERT_COLS: &str =
    "id, kind, severity, principal, resource, message, created_at, acknowledged_at, acknowledged_by";

fn alert_row(row: &Row<'_>) -> rusqlite::Result<crate::AuditorAlert> {
    let at: Option<i64> = row.get(7)?;
    let by = opt_uuid_at(row, 8)?;
    Ok(crate::AuditorAlert {
        id: uuid_at(row, 0)?,
        kind: row.get(1)?,
        severity: row.get(2)?,
        principal: row.get(3)?,
        resource: row.get(4)?,
        message: row.get(5)?,
        created_at: row.get(6)?,
        acknowledged: at.zip(by.map(UserId::from_uuid)),
    })
}

impl SqliteStore {
    /// Break-glass operations (part of the `Store` impl, kept together here).
    fn bg_by_id(conn: &Connection, id: Uuid) -> StoreResult<crate::BreakGlassRecord> {
        let sql = format!("SELECT {BG_COLS} FROM break_glass WHERE id = ?1");
        conn.query_row(&sql, [b(id)], bg_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }
}

impl crate::OversightStore for SqliteStore {
    fn create_break_glass(&self, r: &crate::BreakGlassRecord) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO break_glass (id, user_id, party_id, resource, reason, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    b(r.id),
                    b(r.user_id.uuid()),
                    b(r.party_id.uuid()),
                    r.resource,
                    r.reason,
                    r.created_at,
                    r.expires_at
                ],
            )
            .map_err(write_err("unknown user or party"))?;
            Ok(())
        })
    }

    fn active_access(&self, user: UserId, now: i64) -> StoreResult<(Vec<String>, Vec<String>)> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT 0, resource FROM grants WHERE user_id = ?1 AND expires_at > ?2 \
                 UNION ALL SELECT 1, resource FROM break_glass WHERE user_id = ?1 AND expires_at > ?2",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map(params![b(user.uuid()), now], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(internal)?;
        let (mut grants, mut break_glass) = (Vec::new(), Vec::new());
        for row in rows {
            let (kind, resource) = row.map_err(internal)?;
            if kind == 0 {
                grants.push(resource)
            } else {
                break_glass.push(resource)
            }
        }
        Ok((grants, break_glass))
    }

    fn break_glass_list(&self, unreviewed_only: bool) -> StoreResult<Vec<crate::BreakGlassRecord>> {
        let sql = format!(
            "SELECT {BG_COLS} FROM break_glass WHERE (?1 = 0 OR reviewed_at IS NULL) ORDER BY created_at DESC, id DESC LIMIT 500"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt.query_map([unreviewed_only], bg_row).map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    fn review_break_glass(&self, id: Uuid, review: &crate::BreakGlassReview) -> StoreResult<crate::BreakGlassRecord> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE break_glass SET reviewed_at = ?1, reviewed_by = ?2, review_verdict = ?3, review_note = ?4 \
                     WHERE id = ?5 AND reviewed_at IS NULL",
                    params![
                        review.reviewed_at,
                        b(review.reviewed_by.uuid()),
                        review.verdict,
                        review.note,
                        b(id)
                    ],
                )
                .map_err(internal)?;
            if n == 0 {
                Self::bg_by_id(tx, id)?;
                return Err(StoreError::Conflict("this break-glass use was already reviewed".into()));
            }
            Self::bg_by_id(tx, id)
        })
    }

    fn escalate_break_glass(&self, before: i64, now: i64) -> StoreResult<Vec<crate::BreakGlassRecord>> {
        self.tx(|tx| {
            let sql = format!(
                "SELECT {BG_COLS} FROM break_glass WHERE reviewed_at IS NULL AND escalated_at IS NULL AND created_at < ?1"
            );
            let due: Vec<crate::BreakGlassRecord> = {
                let mut stmt = tx.prepare(&sql).map_err(internal)?;
                let rows = stmt.query_map([before], bg_row).map_err(internal)?;
                rows.collect::<Result<_, _>>().map_err(internal)?
            };
            for r in &due {
                tx.execute("UPDATE break_glass SET escalated_at = ?1 WHERE id = ?2", params![now, b(r.id)])
                    .map_err(internal)?;
            }
            Ok(due.into_iter().map(|r| crate::BreakGlassRecord { escalated_at: Some(now), ..r }).collect())
        })
    }

    fn create_grant(&self, user: UserId, resource: &str, source: &str, now: i64, expires_at: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO grants (id, user_id, resource, source, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![b(Uuid::now_v7()), b(user.uuid()), resource, source, now, expires_at],
            )
            .map_err(write_err("unknown user"))?;
            Ok(())
        })
    }

    fn create_alert(&self, a: &crate::AuditorAlert) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO auditor_alerts (id, kind, severity, principal, resource, message, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    b(a.id),
                    a.kind,
                    a.severity,
                    a.principal,
                    a.resource,
                    a.message,
                    a.created_at
                ],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    fn alerts(&self, unacknowledged_only: bool, limit: u32) -> StoreResult<Vec<crate::AuditorAlert>> {
        let sql = format!(
            "SELECT {ALERT_COLS} FROM auditor_alerts WHERE (?1 = 0 OR acknowledged_at IS NULL) \
             ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt
            .query_map(params![unacknowledged_only, limit.clamp(1, 500)], alert_row)
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    fn acknowledge_alert(&self, id: Uuid, by: UserId, now: i64) -> StoreResult<crate::AuditorAlert> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE auditor_alerts SET acknowledged_at = ?1, acknowledged_by = ?2 WHERE id = ?3 AND acknowledged_at IS NULL",
                params![now, b(by.uuid()), b(id)],
            )
            .map_err(internal)?;
            let sql = format!("SELECT {ALERT_COLS} FROM auditor_alerts WHERE id = ?1");
            tx.query_row(&sql, [b(id)], alert_row).optional().map_err(internal)?.ok_or(StoreError::NotFound)
        })
    }
}

// ---------------------------------------------------------------- zones

fn shape_json(shape: &jsms_domain::zone::ZoneShape) -> StoreResult<String> {
    use jsms_domain::zone::ZoneShape;
    let v = match shape {
        ZoneShape::Polygon(p) => serde_json::json!({ "polygon": p.positions() }),
        ZoneShape::Circle { center, radius_m } => {
            serde_json::json!({ "circle": { "center": [center.lon(), center.lat()], "radius_m": radius_m } })
        }
    };
    json(&v)
}

fn shape_from(text: &str) -> Result<jsms_domain::zone::ZoneShape, String> {
    use jsms_domain::zone::ZoneShape;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if let Some(ring) = v.get("polygon") {
        let positions: Vec<[f64; 2]> = serde_json::from_value(ring.clone()).map_err(|e| e.to_string())?;
        return Polygon::from_positions(&positions)
            .map(ZoneShape::Polygon)
            .map_err(|e| e.to_string());
    }
    let c = v.get("circle").ok_or("unknown zone shape")?;
    let [lon, lat]: [f64; 2] =
        serde_json::from_value(c.get("center").cloned().unwrap_or_default()).map_err(|e| e.to_string())?;
    let radius_m = c
        .get("radius_m")
        .and_then(serde_json::Value::as_f64)
        .ok_or("no radius")?;
    Ok(ZoneShape::Circle {
        center: Coordinate::new(lat, lon).map_err(|e| e.to_string())?,
        radius_m,
    })
}

const ZONE_COLS: &str = "id, owner_party, shape, severity, kind, valid_from, valid_until, source, notes, version";

fn zone_row(row: &Row<'_>) -> rusqlite::Result<crate::ZoneRecord> {
    let shape: String = row.get(2)?;
    let kind: String = row.get(4)?;
    let severity: i64 = row.get(3)?;
    let zone = jsms_domain::zone::ThreatZone::new(
        shape_from(&shape).map_err(|e| conv_err(2, std::io::Error::other(e)))?,
        u8::try_from(severity).unwrap_or(0),
        jsms_domain::zone::ZoneKind::parse(&kind).map_err(|e| conv_err(4, e))?,
        row.get(5)?,
        row.get(6)?,
    )
    .map_err(|e| conv_err(3, e))?;
    Ok(crate::ZoneRecord {
        id: uuid_at(row, 0)?,
        owner_party: PartyId::from_uuid(uuid_at(row, 1)?),
        zone,
        source: row.get(7)?,
        notes: row.get(8)?,
        version: row.get(9)?,
    })
}

impl crate::ZoneStore for SqliteStore {
    fn create_zone(&self, z: &crate::ZoneRecord, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO zones (id, owner_party, shape, severity, kind, valid_from, valid_until, source, notes, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
                params![
                    b(z.id),
                    b(z.owner_party.uuid()),
                    shape_json(&z.zone.shape)?,
                    z.zone.severity,
                    z.zone.kind.as_str(),
                    z.zone.valid_from,
                    z.zone.valid_until,
                    z.source,
                    z.notes,
                    now
                ],
            )
            .map_err(write_err("unknown party"))?;
            Ok(())
        })
    }

    fn zone(&self, id: Uuid) -> StoreResult<crate::ZoneRecord> {
        let sql = format!("SELECT {ZONE_COLS} FROM zones WHERE id = ?1");
        self.read()?
            .query_row(&sql, [b(id)], zone_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }

    fn zones(&self) -> StoreResult<Vec<crate::ZoneRecord>> {
        let sql = format!("SELECT {ZONE_COLS} FROM zones ORDER BY id");
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt.query_map([], zone_row).map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    fn update_zone(&self, z: &crate::ZoneRecord, version: i64, now: i64) -> StoreResult<crate::ZoneRecord> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE zones SET shape = ?1, severity = ?2, kind = ?3, valid_from = ?4, valid_until = ?5, source = ?6, \
                     notes = ?7, version = version + 1, updated_at = ?8 WHERE id = ?9 AND version = ?10",
                    params![
                        shape_json(&z.zone.shape)?,
                        z.zone.severity,
                        z.zone.kind.as_str(),
                        z.zone.valid_from,
                        z.zone.valid_until,
                        z.source,
                        z.notes,
                        now,
                        b(z.id),
                        version
                    ],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "zones", z.id));
            }
            let sql = format!("SELECT {ZONE_COLS} FROM zones WHERE id = ?1");
            tx.query_row(&sql, [b(z.id)], zone_row).map_err(internal)
        })
    }

    fn delete_zone(&self, id: Uuid, version: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM zones WHERE id = ?1 AND version = ?2",
                    params![b(id), version],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "zones", id));
            }
            Ok(())
        })
    }
}

const MOVEMENT_COLS: &str = "id, org_id, party_id, requester, state, release_at, ends_at, body, plan, version";

/// A movement row with its plan still sealed.
type SealedMovement = (crate::MovementRecord, Option<Vec<u8>>);

/// A movement row as read: id, org, party, requester, state, release_at, ends_at, body, plan, version.
type MovementRow = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    String,
    Option<i64>,
    Option<i64>,
    String,
    Option<Vec<u8>>,
    i64,
);

/// An escort team row as read: id, party, unit, call sign, members, vehicles, version.
type TeamRow = (Vec<u8>, Vec<u8>, String, String, String, String, i64);

fn movement_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MovementRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn plan_place(id: jsms_domain::ids::MovementId) -> String {
    format!("movement:{id}:plan")
}

impl SqliteStore {
    fn decode_movement(&self, row: MovementRow) -> StoreResult<SealedMovement> {
        let (id, org, party, requester, state, release_at, ends_at, body, plan, version) = row;
        let uuid = |v: &[u8]| Uuid::from_slice(v).map_err(internal);
        let state = jsms_domain::movement::MovementState::parse(&state)
            .ok_or_else(|| StoreError::Internal(format!("unknown movement state {state}")))?;
        let body: crate::MovementBody = serde_json::from_str(&body).map_err(internal)?;
        Ok((
            crate::MovementRecord {
                id: jsms_domain::ids::MovementId::from_uuid(uuid(&id)?),
                org: OrgId::from_uuid(uuid(&org)?),
                party: PartyId::from_uuid(uuid(&party)?),
                requester: UserId::from_uuid(uuid(&requester)?),
                state,
                body,
                plan: None,
                release_at,
                ends_at,
                version,
            },
            plan,
        ))
    }

    fn open_movement(&self, (mut m, sealed): SealedMovement) -> StoreResult<crate::MovementRecord> {
        if let Some(sealed) = sealed {
            let plain = self.key.open(&plan_place(m.id), &sealed).map_err(internal)?;
            m.plan = Some(serde_json::from_slice(&plain).map_err(internal)?);
        }
        Ok(m)
    }

    fn seal_plan(&self, m: &crate::MovementRecord) -> StoreResult<Option<Vec<u8>>> {
        m.plan
            .as_ref()
            .map(|p| {
                let plain = serde_json::to_vec(p).map_err(internal)?;
                self.key.seal(&plan_place(m.id), &plain).map_err(internal)
            })
            .transpose()
    }
}

fn team_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TeamRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn decode_team(row: TeamRow) -> StoreResult<crate::EscortTeam> {
    let (id, party, unit, call_sign, members, vehicles, version) = row;
    let uuid = |v: &[u8]| Uuid::from_slice(v).map_err(internal);
    Ok(crate::EscortTeam {
        id: jsms_domain::ids::EscortTeamId::from_uuid(uuid(&id)?),
        party: PartyId::from_uuid(uuid(&party)?),
        unit,
        call_sign,
        members: serde_json::from_str(&members).map_err(internal)?,
        vehicles: serde_json::from_str(&vehicles).map_err(internal)?,
        version,
    })
}

const TEAM_COLS: &str = "id, party_id, unit, call_sign, members, vehicles, version";

impl crate::MovementStore for SqliteStore {
    fn create_escort_team(&self, t: &crate::EscortTeam, now: i64) -> StoreResult<()> {
        let members = serde_json::to_string(&t.members).map_err(internal)?;
        let vehicles = serde_json::to_string(&t.vehicles).map_err(internal)?;
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO escort_teams (id, party_id, unit, call_sign, members, vehicles, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
                params![b(t.id.uuid()), b(t.party.uuid()), t.unit, t.call_sign, members, vehicles, now],
            )
            .map_err(write_err("unknown party"))?;
            Ok(())
        })
    }

    fn escort_team(&self, id: jsms_domain::ids::EscortTeamId) -> StoreResult<crate::EscortTeam> {
        let sql = format!("SELECT {TEAM_COLS} FROM escort_teams WHERE id = ?1");
        let row = self
            .read()?
            .query_row(&sql, [b(id.uuid())], team_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        decode_team(row)
    }

    fn escort_teams(&self) -> StoreResult<Vec<crate::EscortTeam>> {
        let sql = format!("SELECT {TEAM_COLS} FROM escort_teams ORDER BY call_sign, id");
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt.query_map([], team_row).map_err(internal)?;
        rows.map(|r| decode_team(r.map_err(internal)?)).collect()
    }

    fn create_movement(&self, m: &crate::MovementRecord, now: i64) -> StoreResult<()> {
        let body = serde_json::to_string(&m.body).map_err(internal)?;
        let plan = self.seal_plan(m)?;
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO movements (id, org_id, party_id, requester, state, window_start, window_end, release_at, ends_at, body, plan, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?12)",
                params![
                    b(m.id.uuid()),
                    b(m.org.uuid()),
                    b(m.party.uuid()),
                    b(m.requester.uuid()),
                    m.state.as_str(),
                    m.body.request.window_start,
                    m.body.request.window_end,
                    m.release_at,
                    m.ends_at,
                    body,
                    plan,
                    now
                ],
            )
            .map_err(write_err("unknown organisation, party or user"))?;
            Ok(())
        })
    }

    fn movement(&self, id: jsms_domain::ids::MovementId) -> StoreResult<crate::MovementRecord> {
        let sql = format!("SELECT {MOVEMENT_COLS} FROM movements WHERE id = ?1");
        let row = self
            .read()?
            .query_row(&sql, [b(id.uuid())], movement_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        let sealed = self.decode_movement(row)?;
        self.open_movement(sealed)
    }

    fn movements(&self, org: Option<OrgId>) -> StoreResult<Vec<crate::MovementRecord>> {
        let sql = format!(
            "SELECT {MOVEMENT_COLS} FROM movements WHERE (?1 IS NULL OR org_id = ?1) ORDER BY created_at DESC, id DESC LIMIT 500"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt
            .query_map([org.map(|o| b(o.uuid()))], movement_row)
            .map_err(internal)?;
        let sealed: Vec<SealedMovement> = rows
            .map(|r| self.decode_movement(r.map_err(internal)?))
            .collect::<StoreResult<_>>()?;
        drop(stmt);
        drop(conn);
        sealed.into_iter().map(|m| self.open_movement(m)).collect()
    }

    fn movements_in_states(
        &self,
        states: &[jsms_domain::movement::MovementState],
    ) -> StoreResult<Vec<crate::MovementRecord>> {
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        let list = serde_json::to_string(&names).map_err(internal)?;
        let sql = format!(
            "SELECT {MOVEMENT_COLS} FROM movements WHERE state IN (SELECT value FROM json_each(?1)) ORDER BY created_at, id"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt.query_map([list], movement_row).map_err(internal)?;
        let sealed: Vec<SealedMovement> = rows
            .map(|r| self.decode_movement(r.map_err(internal)?))
            .collect::<StoreResult<_>>()?;
        drop(stmt);
        drop(conn);
        sealed.into_iter().map(|m| self.open_movement(m)).collect()
    }

    fn update_movement(&self, m: &crate::MovementRecord, version: i64, now: i64) -> StoreResult<crate::MovementRecord> {
        let body = serde_json::to_string(&m.body).map_err(internal)?;
        let plan = self.seal_plan(m)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE movements SET state = ?2, release_at = ?3, ends_at = ?4, body = ?5, plan = ?6, \
                     version = version + 1, updated_at = ?7 WHERE id = ?1 AND version = ?8",
                    params![
                        b(m.id.uuid()),
                        m.state.as_str(),
                        m.release_at,
                        m.ends_at,
                        body,
                        plan,
                        now,
                        version
                    ],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "movements", m.id.uuid()));
            }
            Ok(())
        })?;
        let mut updated = m.clone();
        updated.version = version + 1;
        Ok(updated)
    }

    fn grants_on(&self, resource: &str) -> StoreResult<Vec<(UserId, String, i64, i64)>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT user_id, source, created_at, expires_at FROM grants WHERE resource = ?1 ORDER BY created_at, id",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map([resource], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(internal)?;
        rows.map(|r| {
            let (u, source, created, expires) = r.map_err(internal)?;
            Ok((
                UserId::from_uuid(Uuid::from_slice(&u).map_err(internal)?),
                source,
                created,
                expires,
            ))
        })
        .collect()
    }

    fn end_grants(&self, resource: &str, at: i64) -> StoreResult<usize> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE grants SET expires_at = ?2 WHERE resource = ?1 AND expires_at > ?2",
                params![resource, at],
            )
            .map_err(internal)
        })
    }

    fn record_disclosure(
        &self,
        movement: jsms_domain::ids::MovementId,
        user: UserId,
        fresh_codeword: &str,
        now: i64,
    ) -> StoreResult<String> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO disclosures (movement_id, user_id, codeword, first_at, last_at, copies) VALUES (?1, ?2, ?3, ?4, ?4, 1) \
                 ON CONFLICT (movement_id, user_id) DO UPDATE SET last_at = ?4, copies = copies + 1",
                params![b(movement.uuid()), b(user.uuid()), fresh_codeword, now],
            )
            .map_err(write_err("unknown movement or user"))?;
            tx.query_row(
                "SELECT codeword FROM disclosures WHERE movement_id = ?1 AND user_id = ?2",
                params![b(movement.uuid()), b(user.uuid())],
                |r| r.get::<_, String>(0),
            )
            .map_err(internal)
        })
    }

    fn disclosures(&self, movement: jsms_domain::ids::MovementId) -> StoreResult<Vec<(UserId, String, i64, i64)>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT user_id, codeword, first_at, copies FROM disclosures WHERE movement_id = ?1 ORDER BY first_at",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map([b(movement.uuid())], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(internal)?;
        rows.map(|r| {
            let (u, cw, first, copies) = r.map_err(internal)?;
            Ok((
                UserId::from_uuid(Uuid::from_slice(&u).map_err(internal)?),
                cw,
                first,
                copies,
            ))
        })
        .collect()
    }

    fn due_releases(&self, now: i64) -> StoreResult<Vec<jsms_domain::ids::MovementId>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached("SELECT id FROM movements WHERE state = 'planned' AND release_at <= ?1 ORDER BY release_at")
            .map_err(internal)?;
        let rows = stmt.query_map([now], |r| r.get::<_, Vec<u8>>(0)).map_err(internal)?;
        rows.map(|r| {
            let v = r.map_err(internal)?;
            Ok(jsms_domain::ids::MovementId::from_uuid(
                Uuid::from_slice(&v).map_err(internal)?,
            ))
        })
        .collect()
    }
}

const MOVEMENT_ALERT_COLS: &str = "seq, id, movement_id, kind, severity, message, at, evidence, state, log";

fn movement_alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

type AlertRow = (
    i64,
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
);

fn decode_alert(row: AlertRow) -> StoreResult<crate::AlertRecord> {
    let (seq, id, movement, kind, severity, message, at, evidence, state, log) = row;
    Ok(crate::AlertRecord {
        seq,
        id: Uuid::from_slice(&id).map_err(internal)?,
        movement: jsms_domain::ids::MovementId::from_uuid(Uuid::from_slice(&movement).map_err(internal)?),
        kind,
        severity,
        message,
        at,
        evidence: serde_json::from_str(&evidence).map_err(internal)?,
        state,
        log: serde_json::from_str(&log).map_err(internal)?,
    })
}

impl crate::TrackingStore for SqliteStore {
    fn create_device(&self, d: &crate::Device, token_hash: &[u8], now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO devices (id, team_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![b(d.id), b(d.team.uuid()), d.name, token_hash, now],
            )
            .map_err(write_err("unknown escort team"))?;
            Ok(())
        })
    }

    fn device_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<crate::Device>> {
        let row = self
            .read()?
            .query_row(
                "SELECT id, team_id, name FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL",
                [token_hash],
                |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?)),
            )
            .optional()
            .map_err(internal)?;
        row.map(|(id, team, name)| {
            Ok(crate::Device {
                id: Uuid::from_slice(&id).map_err(internal)?,
                team: jsms_domain::ids::EscortTeamId::from_uuid(Uuid::from_slice(&team).map_err(internal)?),
                name,
            })
        })
        .transpose()
    }

    fn insert_positions(
        &self,
        batches: &[crate::NewPositions],
        now: i64,
    ) -> StoreResult<Vec<StoreResult<crate::StoredPositions>>> {
        self.tx(|tx| {
            let mut events = tx
                .prepare_cached(
                    "INSERT INTO position_events (movement_id, at, lat, lon, speed) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(internal)?;
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO positions (movement_id, device_id, at, lat, lon, speed, heading, accuracy, battery, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(internal)?;
            let mut out = Vec::with_capacity(batches.len());
            for batch in batches {
                // Each batch in its own savepoint: one refused batch leaves the others.
                tx.execute_batch("SAVEPOINT batch").map_err(internal)?;
                let mut one = || -> StoreResult<crate::StoredPositions> {
                    let movement = b(batch.movement.uuid());
                    let mut new = Vec::new();
                    for p in &batch.positions {
                        let inserted = stmt
                            .execute(params![
                                movement,
                                b(batch.device),
                                p.at,
                                p.lat,
                                p.lon,
                                p.speed,
                                p.heading,
                                p.accuracy,
                                p.battery,
                                now
                            ])
                            .map_err(write_err("unknown movement or device"))?;
                        if inserted == 1 {
                            events
                                .execute(params![movement, p.at, p.lat, p.lon, p.speed])
                                .map_err(internal)?;
                            new.push((tx.last_insert_rowid(), *p));
                        }
                    }
                    Ok(new)
                };
                let result = one();
                let end = if result.is_ok() {
                    "RELEASE batch"
                } else {
                    "ROLLBACK TO batch; RELEASE batch"
                };
                tx.execute_batch(end).map_err(internal)?;
                out.push(result);
            }
            Ok(out)
        })
    }

    fn position_events_after(
        &self,
        seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, jsms_domain::ids::MovementId, jsms_domain::tracking::Position)>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, movement_id, at, lat, lon, speed FROM position_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map(params![seq, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    jsms_domain::tracking::Position {
                        at: r.get(2)?,
                        lat: r.get(3)?,
                        lon: r.get(4)?,
                        speed: r.get(5)?,
                        heading: None,
                        accuracy: None,
                        battery: None,
                    },
                ))
            })
            .map_err(internal)?;
        rows.map(|r| {
            let (seq, m, p) = r.map_err(internal)?;
            Ok((
                seq,
                jsms_domain::ids::MovementId::from_uuid(Uuid::from_slice(&m).map_err(internal)?),
                p,
            ))
        })
        .collect()
    }

    fn track(&self, movement: jsms_domain::ids::MovementId) -> StoreResult<Vec<jsms_domain::tracking::Position>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT at, lat, lon, speed, heading, accuracy, battery FROM positions WHERE movement_id = ?1 ORDER BY at LIMIT 100000",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map([b(movement.uuid())], |r| {
                Ok(jsms_domain::tracking::Position {
                    at: r.get(0)?,
                    lat: r.get(1)?,
                    lon: r.get(2)?,
                    speed: r.get(3)?,
                    heading: r.get(4)?,
                    accuracy: r.get(5)?,
                    battery: r.get(6)?,
                })
            })
            .map_err(internal)?;
        rows.map(|r| r.map_err(internal)).collect()
    }

    fn open_alert(
        &self,
        a: &crate::AlertRecord,
        webhooks: &[String],
        now: i64,
    ) -> StoreResult<Option<crate::AlertRecord>> {
        let evidence = serde_json::to_string(&a.evidence).map_err(internal)?;
        let log = serde_json::to_string(&a.log).map_err(internal)?;
        let created =
            self.tx(|tx| {
                let open: Option<i64> = tx
                    .query_row(
                        "SELECT seq FROM alerts WHERE movement_id = ?1 AND kind = ?2 AND state = 'open'",
                        params![b(a.movement.uuid()), a.kind],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(internal)?;
                if open.is_some() {
                    return Ok(false);
                }
                tx.execute(
                "INSERT INTO alerts (id, movement_id, kind, severity, message, at, evidence, state, log, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9)",
                params![b(a.id), b(a.movement.uuid()), a.kind, a.severity, a.message, a.at, evidence, log, now],
            )
            .map_err(write_err("unknown movement"))?;
                for url in webhooks {
                    tx.execute(
                        "INSERT INTO webhook_outbox (delivery, alert_id, url, attempts, next_at) VALUES (?1, ?2, ?3, 0, ?4)",
                        params![b(Uuid::now_v7()), b(a.id), url, now],
                    )
                    .map_err(internal)?;
                }
                Ok(true)
            })?;
        if created { self.alert(a.id).map(Some) } else { Ok(None) }
    }

    fn record_check_in(
        &self,
        movement: jsms_domain::ids::MovementId,
        user: Option<UserId>,
        at: i64,
    ) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO check_ins (movement_id, at, user_id) VALUES (?1, ?2, ?3)",
                params![b(movement.uuid()), at, user.map(|u| b(u.uuid()))],
            )
            .map_err(write_err("unknown movement"))?;
            Ok(())
        })
    }

    fn last_check_in(&self, movement: jsms_domain::ids::MovementId) -> StoreResult<Option<i64>> {
        self.read()?
            .query_row(
                "SELECT MAX(at) FROM check_ins WHERE movement_id = ?1",
                [b(movement.uuid())],
                |r| r.get(0),
            )
            .map_err(internal)
    }

    fn due_deliveries(&self, now: i64, limit: usize) -> StoreResult<Vec<crate::OutboxItem>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT delivery, alert_id, url, attempts, next_at FROM webhook_outbox WHERE next_at <= ?1 \
                 ORDER BY next_at, delivery LIMIT ?2",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map(params![now, limit as i64], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(internal)?;
        rows.map(|r| {
            let (delivery, alert, url, attempts, next_at) = r.map_err(internal)?;
            Ok(crate::OutboxItem {
                delivery: Uuid::from_slice(&delivery).map_err(internal)?,
                alert: Uuid::from_slice(&alert).map_err(internal)?,
                url,
                attempts,
                next_at,
            })
        })
        .collect()
    }

    fn next_delivery_at(&self) -> StoreResult<Option<i64>> {
        self.read()?
            .query_row("SELECT MIN(next_at) FROM webhook_outbox", [], |r| r.get(0))
            .map_err(internal)
    }

    fn delivery_attempted(&self, d: &crate::DeliveryAttempt, next_at: Option<i64>) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO webhook_deliveries (id, delivery, alert_id, url, attempt, status, error, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![b(Uuid::now_v7()), b(d.delivery), b(d.alert), d.url, d.attempt, d.status, d.error, d.at],
            )
            .map_err(internal)?;
            match next_at {
                Some(at) => tx.execute(
                    "UPDATE webhook_outbox SET attempts = ?2, next_at = ?3 WHERE delivery = ?1",
                    params![b(d.delivery), d.attempt, at],
                ),
                None => tx.execute("DELETE FROM webhook_outbox WHERE delivery = ?1", [b(d.delivery)]),
            }
            .map_err(internal)?;
            Ok(())
        })
    }

    fn alerts_after(&self, seq: i64, limit: usize) -> StoreResult<Vec<crate::AlertRecord>> {
        let sql = format!("SELECT {MOVEMENT_ALERT_COLS} FROM alerts WHERE seq > ?1 ORDER BY seq LIMIT ?2");
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt
            .query_map(params![seq, limit as i64], movement_alert_row)
            .map_err(internal)?;
        rows.map(|r| decode_alert(r.map_err(internal)?)).collect()
    }

    fn alert(&self, id: Uuid) -> StoreResult<crate::AlertRecord> {
        let sql = format!("SELECT {MOVEMENT_ALERT_COLS} FROM alerts WHERE id = ?1");
        let row = self
            .read()?
            .query_row(&sql, [b(id)], movement_alert_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        decode_alert(row)
    }

    fn unescalated_open(&self, before: i64) -> StoreResult<Vec<crate::AlertRecord>> {
        let sql = format!(
            "SELECT {MOVEMENT_ALERT_COLS} FROM alerts WHERE state = 'open' AND at < ?1 AND kind != 'escalation' \
             AND log NOT LIKE '%\"escalated\"%' ORDER BY seq LIMIT 1000"
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt.query_map([before], movement_alert_row).map_err(internal)?;
        rows.map(|r| decode_alert(r.map_err(internal)?)).collect()
    }

    fn deliveries(&self, limit: usize) -> StoreResult<Vec<crate::DeliveryAttempt>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT delivery, alert_id, url, attempt, status, error, at FROM webhook_deliveries ORDER BY at DESC, id DESC LIMIT ?1",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Option<u16>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .map_err(internal)?;
        rows.map(|r| {
            let (delivery, alert, url, attempt, status, error, at) = r.map_err(internal)?;
            Ok(crate::DeliveryAttempt {
                delivery: Uuid::from_slice(&delivery).map_err(internal)?,
                alert: Uuid::from_slice(&alert).map_err(internal)?,
                url,
                attempt,
                status,
                error,
                at,
            })
        })
        .collect()
    }

    fn update_alert(
        &self,
        id: Uuid,
        from: &[&str],
        state: &str,
        entry: serde_json::Value,
        now: i64,
    ) -> StoreResult<crate::AlertRecord> {
        let current = self.alert(id)?;
        if !from.contains(&current.state.as_str()) {
            return Err(StoreError::Conflict(format!(
                "the alert is {}; this needs it {}",
                current.state,
                from.join(" or ")
            )));
        }
        let mut log = match current.log {
            serde_json::Value::Array(v) => v,
            _ => Vec::new(),
        };
        log.push(entry);
        let log = serde_json::to_string(&log).map_err(internal)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE alerts SET state = ?2, log = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?5",
                    params![b(id), state, log, now, current.state],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::Conflict("the alert changed meanwhile".into()));
            }
            Ok(())
        })?;
        self.alert(id)
    }
}

/// The sealed part of an incident.
#[derive(serde::Serialize, serde::Deserialize)]
struct IncidentBody {
    report: jsms_domain::incident::IncidentReport,
    timeline: Vec<jsms_domain::incident::TimelineEntry>,
    findings: Option<String>,
    lessons: Vec<jsms_domain::incident::Lesson>,
}

const INCIDENT_COLS: &str = "id, party_id, reporter, status, body, version, created_at";

type IncidentRow = (Vec<u8>, Vec<u8>, Vec<u8>, String, Vec<u8>, i64, i64);

fn incident_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

impl SqliteStore {
    fn seal_incident(&self, i: &crate::IncidentRecord) -> StoreResult<Vec<u8>> {
        let body = IncidentBody {
            report: i.report.clone(),
            timeline: i.timeline.clone(),
            findings: i.findings.clone(),
            lessons: i.lessons.clone(),
        };
        let plain = serde_json::to_vec(&body).map_err(internal)?;
        self.key.seal(&format!("incident:{}", i.id), &plain).map_err(internal)
    }

    fn open_incident(&self, row: IncidentRow) -> StoreResult<crate::IncidentRecord> {
        let (id, party, reporter, status, sealed, version, created_at) = row;
        let id = Uuid::from_slice(&id).map_err(internal)?;
        let plain = self.key.open(&format!("incident:{id}"), &sealed).map_err(internal)?;
        let body: IncidentBody = serde_json::from_slice(&plain).map_err(internal)?;
        Ok(crate::IncidentRecord {
            id,
            party: PartyId::from_uuid(Uuid::from_slice(&party).map_err(internal)?),
            reporter: UserId::from_uuid(Uuid::from_slice(&reporter).map_err(internal)?),
            report: body.report,
            status: jsms_domain::incident::InvestigationStatus::parse(&status)
                .ok_or_else(|| internal(format!("unknown incident status {status}")))?,
            timeline: body.timeline,
            findings: body.findings,
            lessons: body.lessons,
            version,
            created_at,
        })
    }
}

impl crate::IncidentStore for SqliteStore {
    fn create_incident(&self, i: &crate::IncidentRecord, now: i64) -> StoreResult<()> {
        let body = self.seal_incident(i)?;
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO incidents (id, party_id, reporter, kind, severity, occurred_at, lat, lon, shared, status, body, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?12)",
                params![
                    b(i.id),
                    b(i.party.uuid()),
                    b(i.reporter.uuid()),
                    i.report.kind.as_str(),
                    i.report.severity,
                    i.report.occurred_at,
                    i.report.place.lat(),
                    i.report.place.lon(),
                    i.report.shared,
                    i.status.as_str(),
                    body,
                    now
                ],
            )
            .map_err(write_err("unknown party or user"))?;
            Ok(())
        })
    }

    fn incident(&self, id: Uuid) -> StoreResult<crate::IncidentRecord> {
        let sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1");
        let row = self
            .read()?
            .query_row(&sql, [b(id)], incident_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        self.open_incident(row)
    }

    fn incidents(&self) -> StoreResult<Vec<crate::IncidentRecord>> {
        let sql = format!("SELECT {INCIDENT_COLS} FROM incidents ORDER BY occurred_at DESC, id DESC LIMIT 500");
        let rows: Vec<IncidentRow> = {
            let conn = self.read()?;
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let rows = stmt.query_map([], incident_row).map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)?
        };
        rows.into_iter().map(|r| self.open_incident(r)).collect()
    }

    fn update_incident(&self, i: &crate::IncidentRecord, version: i64, now: i64) -> StoreResult<crate::IncidentRecord> {
        let body = self.seal_incident(i)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE incidents SET kind = ?2, severity = ?3, occurred_at = ?4, lat = ?5, lon = ?6, shared = ?7, status = ?8, \
                     body = ?9, version = version + 1, updated_at = ?10 WHERE id = ?1 AND version = ?11",
                    params![
                        b(i.id),
                        i.report.kind.as_str(),
                        i.report.severity,
                        i.report.occurred_at,
                        i.report.place.lat(),
                        i.report.place.lon(),
                        i.report.shared,
                        i.status.as_str(),
                        body,
                        now,
                        version
                    ],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "incidents", i.id));
            }
            Ok(())
        })?;
        let mut updated = i.clone();
        updated.version = version + 1;
        Ok(updated)
    }

    fn incident_points(&self, since: i64) -> StoreResult<Vec<(f64, f64, i64, u8)>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached("SELECT lat, lon, occurred_at, severity FROM incidents WHERE occurred_at >= ?1")
            .map_err(internal)?;
        let rows = stmt
            .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }
}

type DecisionRow = (Vec<u8>, Vec<u8>, String, String, i64);

fn decision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn decode_decision((id, party, state, body, version): DecisionRow) -> StoreResult<crate::DecisionRecord> {
    Ok(crate::DecisionRecord {
        id: Uuid::from_slice(&id).map_err(internal)?,
        party: PartyId::from_uuid(Uuid::from_slice(&party).map_err(internal)?),
        body: serde_json::from_str(&body).map_err(internal)?,
        state,
        version,
    })
}

/// Replaces a decision at `version` within `tx` (stale or missing otherwise).
fn replace_decision(
    tx: &rusqlite::Transaction<'_>,
    d: &crate::DecisionRecord,
    body: &str,
    version: i64,
    now: i64,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE decisions SET state = ?2, body = ?3, version = version + 1, updated_at = ?4 WHERE id = ?1 AND version = ?5",
            params![b(d.id), d.state, body, now, version],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(stale_or_missing(tx, "decisions", d.id));
    }
    Ok(())
}

impl crate::DecisionStore for SqliteStore {
    fn register_signing_key(&self, user: UserId, key: &[u8], now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO signing_keys (user_id, public_key, created_at) VALUES (?1, ?2, ?3)",
                    params![b(user.uuid()), key, now],
                )
                .map_err(write_err("unknown user"))?;
            if n == 0 {
                return Err(StoreError::Conflict(
                    "a signing key is already registered for this user".into(),
                ));
            }
            Ok(())
        })
    }

    fn signing_key(&self, user: UserId) -> StoreResult<Option<Vec<u8>>> {
        self.read()?
            .query_row(
                "SELECT public_key FROM signing_keys WHERE user_id = ?1",
                [b(user.uuid())],
                |r| r.get(0),
            )
            .optional()
            .map_err(internal)
    }

    fn create_decision(&self, d: &crate::DecisionRecord, proposer: UserId, now: i64) -> StoreResult<()> {
        let body = serde_json::to_string(&d.body).map_err(internal)?;
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO decisions (id, party_id, proposer, state, body, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
                params![b(d.id), b(d.party.uuid()), b(proposer.uuid()), d.state, body, now],
            )
            .map_err(write_err("unknown party or user"))?;
            Ok(())
        })
    }

    fn decision(&self, id: Uuid) -> StoreResult<crate::DecisionRecord> {
        let row = self
            .read()?
            .query_row(
                "SELECT id, party_id, state, body, version FROM decisions WHERE id = ?1",
                [b(id)],
                decision_row,
            )
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        decode_decision(row)
    }

    fn decisions(&self) -> StoreResult<Vec<crate::DecisionRecord>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, party_id, state, body, version FROM decisions ORDER BY created_at DESC, id DESC LIMIT 500",
            )
            .map_err(internal)?;
        let rows = stmt.query_map([], decision_row).map_err(internal)?;
        rows.map(|r| decode_decision(r.map_err(internal)?)).collect()
    }

    fn create_meeting(&self, id: Uuid, party: PartyId, body: &serde_json::Value, now: i64) -> StoreResult<()> {
        let body = serde_json::to_string(body).map_err(internal)?;
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO meetings (id, party_id, final, body, version, created_at, updated_at) VALUES (?1, ?2, 0, ?3, 1, ?4, ?4)",
                params![b(id), b(party.uuid()), body, now],
            )
            .map_err(write_err("unknown party"))?;
            Ok(())
        })
    }

    fn meeting(&self, id: Uuid) -> StoreResult<(PartyId, serde_json::Value, bool, i64)> {
        let (party, body, fin, version): (Vec<u8>, String, bool, i64) = self
            .read()?
            .query_row(
                "SELECT party_id, body, final, version FROM meetings WHERE id = ?1",
                [b(id)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        Ok((
            PartyId::from_uuid(Uuid::from_slice(&party).map_err(internal)?),
            serde_json::from_str(&body).map_err(internal)?,
            fin,
            version,
        ))
    }

    fn meetings(&self) -> StoreResult<Vec<crate::MeetingRow>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, party_id, body, final, version FROM meetings ORDER BY created_at DESC, id DESC LIMIT 500",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(internal)?;
        rows.map(|r| {
            let (id, party, body, fin, version) = r.map_err(internal)?;
            Ok((
                Uuid::from_slice(&id).map_err(internal)?,
                PartyId::from_uuid(Uuid::from_slice(&party).map_err(internal)?),
                serde_json::from_str(&body).map_err(internal)?,
                fin,
                version,
            ))
        })
        .collect()
    }

    fn update_meeting(
        &self,
        id: Uuid,
        body: &serde_json::Value,
        final_now: bool,
        version: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let body = serde_json::to_string(body).map_err(internal)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE meetings SET body = ?2, final = ?3, version = version + 1, updated_at = ?4 \
                     WHERE id = ?1 AND version = ?5 AND final = 0",
                    params![b(id), body, final_now, now, version],
                )
                .map_err(internal)?;
            if n == 0 {
                let fin: Option<bool> = tx
                    .query_row("SELECT final FROM meetings WHERE id = ?1", [b(id)], |r| r.get(0))
                    .optional()
                    .map_err(internal)?;
                if fin == Some(true) {
                    return Err(StoreError::Conflict(
                        "the minutes are final: record a correction instead".into(),
                    ));
                }
                return Err(stale_or_missing(tx, "meetings", id));
            }
            Ok(())
        })?;
        Ok(version + 1)
    }

    fn update_meeting_actions(
        &self,
        id: Uuid,
        actions: &serde_json::Value,
        version: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let actions = serde_json::to_string(actions).map_err(internal)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE meetings SET body = json_set(body, '$.actions', json(?2)), version = version + 1, updated_at = ?3 \
                     WHERE id = ?1 AND version = ?4",
                    params![b(id), actions, now, version],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "meetings", id));
            }
            Ok(())
        })?;
        Ok(version + 1)
    }

    fn update_decision(&self, d: &crate::DecisionRecord, version: i64, now: i64) -> StoreResult<crate::DecisionRecord> {
        let body = serde_json::to_string(&d.body).map_err(internal)?;
        self.tx(|tx| replace_decision(tx, d, &body, version, now))?;
        let mut updated = d.clone();
        updated.version = version + 1;
        Ok(updated)
    }

    fn attach_to_decision(
        &self,
        d: &crate::DecisionRecord,
        version: i64,
        info: &crate::AttachmentInfo,
        content: &[u8],
        by: UserId,
        now: i64,
    ) -> StoreResult<crate::DecisionRecord> {
        let body = serde_json::to_string(&d.body).map_err(internal)?;
        self.tx(|tx| {
            replace_decision(tx, d, &body, version, now)?;
            tx.execute(
                "INSERT INTO decision_attachments (decision_id, sha256, name, media_type, content, added_by, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![b(d.id), info.sha256, info.name, info.media_type, content, b(by.uuid()), now],
            )
            .map_err(write_err("this attachment is already part of the decision"))?;
            Ok(())
        })?;
        let mut updated = d.clone();
        updated.version = version + 1;
        Ok(updated)
    }

    fn decision_attachments(&self, decision: Uuid) -> StoreResult<Vec<crate::AttachmentInfo>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT sha256, name, media_type, length(content) FROM decision_attachments \
                 WHERE decision_id = ?1 ORDER BY created_at, rowid",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map([b(decision)], |r| {
                Ok(crate::AttachmentInfo {
                    sha256: r.get(0)?,
                    name: r.get(1)?,
                    media_type: r.get(2)?,
                    size: r.get(3)?,
                })
            })
            .map_err(internal)?;
        rows.map(|r| r.map_err(internal)).collect()
    }

    fn decision_attachment(&self, decision: Uuid, sha256: &str) -> StoreResult<(crate::AttachmentInfo, Vec<u8>)> {
        self.read()?
            .query_row(
                "SELECT sha256, name, media_type, length(content), content FROM decision_attachments \
                 WHERE decision_id = ?1 AND sha256 = ?2",
                params![b(decision), sha256],
                |r| {
                    Ok((
                        crate::AttachmentInfo {
                            sha256: r.get(0)?,
                            name: r.get(1)?,
                            media_type: r.get(2)?,
                            size: r.get(3)?,
                        },
                        r.get(4)?,
                    ))
                },
            )
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }

    fn designated_authorities(&self, party: PartyId) -> StoreResult<Vec<UserId>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached("SELECT user_id FROM decision_authorities WHERE party_id = ?1 ORDER BY created_at, user_id")
            .map_err(internal)?;
        let rows = stmt
            .query_map([b(party.uuid())], |r| r.get::<_, Vec<u8>>(0))
            .map_err(internal)?;
        rows.map(|r| {
            Ok(UserId::from_uuid(
                Uuid::from_slice(&r.map_err(internal)?).map_err(internal)?,
            ))
        })
        .collect()
    }

    fn designate_authorities(&self, party: PartyId, users: &[UserId], by: UserId, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute("DELETE FROM decision_authorities WHERE party_id = ?1", [b(party.uuid())])
                .map_err(internal)?;
            for u in users {
                tx.execute(
                    "INSERT INTO decision_authorities (party_id, user_id, designated_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![b(party.uuid()), b(u.uuid()), b(by.uuid()), now],
                )
                .map_err(write_err("unknown user, or named twice"))?;
            }
            Ok(())
        })
    }

    fn notify(&self, notes: &[crate::Notification]) -> StoreResult<()> {
        self.tx(|tx| {
            for n in notes {
                tx.execute(
                    "INSERT INTO notifications (id, user_id, kind, text, link, created_at, read_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![b(n.id), b(n.user.uuid()), n.kind, n.text, n.link, n.created_at, n.read_at],
                )
                .map_err(write_err("unknown user"))?;
            }
            Ok(())
        })
    }

    fn notifications(&self, user: UserId, limit: usize) -> StoreResult<Vec<crate::Notification>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, kind, text, link, created_at, read_at FROM notifications WHERE user_id = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2",
            )
            .map_err(internal)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![b(user.uuid()), limit], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .map_err(internal)?;
        rows.map(|r| {
            let (id, kind, text, link, created_at, read_at) = r.map_err(internal)?;
            Ok(crate::Notification {
                id: Uuid::from_slice(&id).map_err(internal)?,
                user,
                kind,
                text,
                link,
                created_at,
                read_at,
            })
        })
        .collect()
    }

    fn mark_notification_read(&self, user: UserId, id: Uuid, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE notifications SET read_at = coalesce(read_at, ?3) WHERE id = ?1 AND user_id = ?2",
                    params![b(id), b(user.uuid()), now],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }
}

/// A report row: id, stix id, party, org, author, tlp, shared, orgs, sealed body, version,
/// created, updated.
type ReportRow = (
    Vec<u8>,
    String,
    Vec<u8>,
    Vec<u8>,
    Option<Vec<u8>>,
    String,
    bool,
    String,
    Vec<u8>,
    i64,
    i64,
    i64,
);

/// A marking from its columns: the TLP wire name, `shared`, the organisations as JSON.
fn stored_marking(tlp: &str, shared: bool, orgs: &str) -> StoreResult<jsms_domain::intel::Marking> {
    let orgs: Vec<Uuid> = serde_json::from_str(orgs).map_err(internal)?;
    Ok(jsms_domain::intel::Marking {
        tlp: jsms_domain::intel::Tlp::parse(tlp).ok_or_else(|| internal(format!("unknown TLP {tlp}")))?,
        shared,
        orgs: orgs.into_iter().map(OrgId::from_uuid).collect(),
    })
}

/// A marking's organisations as stored (a JSON array of ids).
fn orgs_json(m: &jsms_domain::intel::Marking) -> StoreResult<String> {
    serde_json::to_string(&m.orgs.iter().map(|o| o.uuid()).collect::<Vec<_>>()).map_err(internal)
}

const REPORT_COLS: &str =
    "id, stix_id, party_id, org_id, author, tlp, shared, orgs, body, version, created_at, updated_at";

fn report_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReportRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

impl SqliteStore {
    fn seal_report(&self, r: &crate::ReportRecord) -> StoreResult<Vec<u8>> {
        let plain = serde_json::to_vec(&r.body).map_err(internal)?;
        self.key.seal(&format!("report:{}", r.id), &plain).map_err(internal)
    }

    fn open_report(&self, row: ReportRow) -> StoreResult<crate::ReportRecord> {
        let (id, stix_id, party, org, author, tlp, shared, orgs, sealed, version, created_at, updated_at) = row;
        let id = Uuid::from_slice(&id).map_err(internal)?;
        let plain = self.key.open(&format!("report:{id}"), &sealed).map_err(internal)?;
        Ok(crate::ReportRecord {
            id,
            stix_id,
            party: PartyId::from_uuid(Uuid::from_slice(&party).map_err(internal)?),
            org: OrgId::from_uuid(Uuid::from_slice(&org).map_err(internal)?),
            author: match author {
                Some(a) => Some(UserId::from_uuid(Uuid::from_slice(&a).map_err(internal)?)),
                None => None,
            },
            marking: stored_marking(&tlp, shared, &orgs)?,
            body: serde_json::from_slice(&plain).map_err(internal)?,
            version,
            created_at,
            updated_at,
        })
    }

    fn reports_where(&self, clause: &str, param: &dyn rusqlite::ToSql) -> StoreResult<Vec<crate::ReportRecord>> {
        let sql = format!("SELECT {REPORT_COLS} FROM reports {clause}");
        let rows: Vec<ReportRow> = {
            let conn = self.read()?;
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let rows = stmt.query_map([param], report_row).map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)?
        };
        rows.into_iter().map(|r| self.open_report(r)).collect()
    }
}

impl SqliteStore {
    fn report_metas(&self, sql: &str, param: &dyn rusqlite::ToSql) -> StoreResult<Vec<crate::ReportMeta>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(sql).map_err(internal)?;
        let rows = stmt
            .query_map([param], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                ))
            })
            .map_err(internal)?;
        rows.map(|row| {
            let (id, stix_id, party, org, tlp, shared, orgs, created_at, updated_at) = row.map_err(internal)?;
            Ok(crate::ReportMeta {
                id: Uuid::from_slice(&id).map_err(internal)?,
                stix_id,
                party: PartyId::from_uuid(Uuid::from_slice(&party).map_err(internal)?),
                org: OrgId::from_uuid(Uuid::from_slice(&org).map_err(internal)?),
                marking: stored_marking(&tlp, shared, &orgs)?,
                created_at,
                updated_at,
            })
        })
        .collect()
    }
}

impl crate::IntelStore for SqliteStore {
    fn create_report(&self, r: &crate::ReportRecord) -> StoreResult<()> {
        let body = self.seal_report(r)?;
        let orgs = orgs_json(&r.marking)?;
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO reports (id, stix_id, party_id, org_id, author, tlp, shared, orgs, body, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?11)",
                params![
                    b(r.id),
                    r.stix_id,
                    b(r.party.uuid()),
                    b(r.org.uuid()),
                    r.author.map(|a| b(a.uuid())),
                    r.marking.tlp.as_str(),
                    r.marking.shared,
                    orgs,
                    body,
                    r.created_at,
                    r.updated_at
                ],
            )
            .map_err(write_err("a report with this STIX id exists already, or an unknown party, organisation or author"))?;
            Ok(())
        })
    }

    fn report(&self, id: Uuid) -> StoreResult<crate::ReportRecord> {
        self.reports_where("WHERE id = ?1", &b(id))?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    fn report_by_stix_id(&self, stix_id: &str) -> StoreResult<Option<crate::ReportRecord>> {
        Ok(self.reports_where("WHERE stix_id = ?1", &stix_id)?.into_iter().next())
    }

    fn report_index(&self, limit: usize) -> StoreResult<Vec<crate::ReportMeta>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.report_metas(
            "SELECT * FROM (SELECT id, stix_id, party_id, org_id, tlp, shared, orgs, created_at, updated_at \
             FROM reports ORDER BY created_at DESC, id DESC LIMIT ?1) ORDER BY created_at, id",
            &limit,
        )
    }

    fn report_meta(&self, id: Uuid) -> StoreResult<crate::ReportMeta> {
        self.report_metas(
            "SELECT id, stix_id, party_id, org_id, tlp, shared, orgs, created_at, updated_at FROM reports WHERE id = ?1",
            &b(id),
        )?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
    }

    fn update_report(&self, r: &crate::ReportRecord, version: i64, now: i64) -> StoreResult<crate::ReportRecord> {
        let body = self.seal_report(r)?;
        let orgs = orgs_json(&r.marking)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE reports SET tlp = ?2, shared = ?3, orgs = ?4, body = ?5, version = version + 1, updated_at = ?6 \
                     WHERE id = ?1 AND version = ?7",
                    params![b(r.id), r.marking.tlp.as_str(), r.marking.shared, orgs, body, now, version],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "reports", r.id));
            }
            Ok(())
        })?;
        let mut updated = r.clone();
        updated.version = version + 1;
        updated.updated_at = now;
        Ok(updated)
    }

    fn save_taxii_status(&self, id: Uuid, party: PartyId, body: &serde_json::Value, now: i64) -> StoreResult<()> {
        let body = serde_json::to_string(body).map_err(internal)?;
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO taxii_status (id, party_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![b(id), b(party.uuid()), body, now],
            )
            .map_err(write_err("unknown party"))?;
            Ok(())
        })
    }

    fn taxii_status(&self, id: Uuid) -> StoreResult<(PartyId, serde_json::Value)> {
        let (party, body): (Vec<u8>, String) = self
            .read()?
            .query_row("SELECT party_id, body FROM taxii_status WHERE id = ?1", [b(id)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        Ok((
            PartyId::from_uuid(Uuid::from_slice(&party).map_err(internal)?),
            serde_json::from_str(&body).map_err(internal)?,
        ))
    }
}
