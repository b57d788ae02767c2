//! SQLite storage of the JSMS store: Bilateral decisions with attachments, designated authorities, notifications, meetings.

use super::*;

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
