//! SQLite storage of the JSMS store: Break-glass grants, need-to-know grants and the auditors' alerts.

use super::*;

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
