//! SQLite storage of the JSMS store: Movements (the plan sealed at rest), escort teams, grants on plans and disclosures.

use super::*;

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

    fn update_movement_with_grants(
        &self,
        m: &crate::MovementRecord,
        version: i64,
        grants: &[crate::NewGrant],
        now: i64,
    ) -> StoreResult<crate::MovementRecord> {
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
            for g in grants {
                tx.execute(
                    "INSERT INTO grants (id, user_id, resource, source, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![b(Uuid::now_v7()), b(g.user.uuid()), g.resource, g.source, now, g.expires_at],
                )
                .map_err(internal)?;
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
