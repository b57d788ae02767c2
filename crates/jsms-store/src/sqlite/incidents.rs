//! SQLite storage of the JSMS store: Incidents (the report, timeline, findings and lessons sealed) and their points for route risk.

use super::*;

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
