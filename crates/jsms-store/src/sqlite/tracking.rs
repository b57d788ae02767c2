//! SQLite storage of the JSMS store: Devices, positions (group-committed), check-ins, alerts with their webhook outbox.

use super::*;

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
            "SELECT {MOVEMENT_ALERT_COLS} FROM alerts WHERE state = 'open' AND updated_at < ?1 AND kind != 'escalation' \
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
