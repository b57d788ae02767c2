//! SQLite storage of the JSMS store: Threat reports (content sealed, marking plain), the report index and TAXII statuses.

use super::*;

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
