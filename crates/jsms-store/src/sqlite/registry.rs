//! SQLite storage of the JSMS store: Parties, organisations, users, sessions, API tokens, protected persons (personal data sealed per field) and sites.

use super::*;

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
    /// Inserts a new user in `tx`.
    fn insert_user(&self, tx: &Transaction<'_>, user: &NewUser, now: i64) -> StoreResult<User> {
        let id = UserId::generate();
        {
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
        }
    }

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

/// Replaces a user's profile if still at `version`; a change of roles, clearance or
/// compartments ends the user's sessions (it takes effect at once).
fn replace_profile(
    tx: &Transaction<'_>,
    id: UserId,
    version: i64,
    profile: &UserProfile,
    now: i64,
) -> StoreResult<User> {
    let before = user_in(tx, id)?;
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
    let access_changed = before.roles != profile.roles
        || before.clearance != profile.clearance
        || before.compartments != profile.compartments;
    if access_changed {
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", [b(id.uuid())])
            .map_err(internal)?;
    }
    user_in(tx, id)
}

const PRIVILEGE_COLS: &str = "id, party_id, change, reasons, requested_by, created_at, expires_at, state, \
                              decided_by, decided_at, note";

fn privilege_row(r: &Row<'_>) -> rusqlite::Result<PrivilegeRequest> {
    Ok(PrivilegeRequest {
        id: uuid_at(r, 0)?,
        party: PartyId::from_uuid(uuid_at(r, 1)?),
        change: json_at(r, 2)?,
        reasons: json_at(r, 3)?,
        requested_by: UserId::from_uuid(uuid_at(r, 4)?),
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        state: enum_at(r, 7)?,
        decided_by: opt_uuid_at(r, 8)?.map(UserId::from_uuid),
        decided_at: r.get(9)?,
        note: r.get(10)?,
    })
}

fn privilege_request_in(conn: &Connection, id: Uuid) -> StoreResult<PrivilegeRequest> {
    conn.query_row(
        &format!("SELECT {PRIVILEGE_COLS} FROM privilege_requests WHERE id = ?1"),
        [b(id)],
        privilege_row,
    )
    .optional()
    .map_err(internal)?
    .ok_or(StoreError::NotFound)
}

fn decide(
    tx: &Transaction<'_>,
    id: Uuid,
    state: PrivilegeState,
    by: UserId,
    note: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE privilege_requests SET state = ?1, decided_by = ?2, decided_at = ?3, note = ?4 \
         WHERE id = ?5 AND state = 'pending'",
        params![name_of(&state)?, b(by.uuid()), now, note, b(id)],
    )
    .map_err(internal)?;
    Ok(())
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
        self.tx(|tx| self.insert_user(tx, user, now))
    }

    fn create_privilege_request(&self, r: &PrivilegeRequest) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO privilege_requests (id, party_id, target_user, change, reasons, requested_by, \
                 created_at, expires_at, state, decided_by, decided_at, note) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL)",
                params![
                    b(r.id),
                    b(r.party.uuid()),
                    r.target().map(|u| b(u.uuid())),
                    json(&r.change)?,
                    json(&r.reasons)?,
                    b(r.requested_by.uuid()),
                    r.created_at,
                    r.expires_at,
                    name_of(&r.state)?
                ],
            )
            .map_err(write_err("this privilege request exists"))?;
            Ok(())
        })
    }

    fn privilege_request(&self, id: Uuid) -> StoreResult<PrivilegeRequest> {
        privilege_request_in(&*self.read()?, id)
    }

    fn privilege_requests(&self, party: PartyId, limit: usize) -> StoreResult<Vec<PrivilegeRequest>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {PRIVILEGE_COLS} FROM privilege_requests WHERE party_id = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ))
            .map_err(internal)?;
        let rows = stmt
            .query_map(
                params![b(party.uuid()), i64::try_from(limit).unwrap_or(i64::MAX)],
                privilege_row,
            )
            .map_err(internal)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(internal)
    }

    fn approve_privilege_request(&self, id: Uuid, by: UserId, now: i64) -> StoreResult<(PrivilegeRequest, User)> {
        self.tx(|tx| {
            let mut r = privilege_request_in(tx, id)?;
            if r.state != PrivilegeState::Pending {
                return Err(StoreError::Conflict(format!(
                    "the request is {} already",
                    name_of(&r.state)?
                )));
            }
            if now >= r.expires_at {
                return Err(StoreError::Conflict("the request has lapsed: ask again".into()));
            }
            let user = match &r.change {
                PrivilegeChange::CreateUser {
                    org_id,
                    username,
                    profile,
                    password_hash,
                } => {
                    let new = NewUser {
                        org_id: *org_id,
                        username: username.clone(),
                        profile: profile.clone(),
                        password_hash: password_hash.clone(),
                        enrolled_totp: None,
                    };
                    self.insert_user(tx, &new, now)?
                }
                PrivilegeChange::UpdateProfile { user, version, profile } => {
                    replace_profile(tx, *user, *version, profile, now)?
                }
            };
            decide(tx, id, PrivilegeState::Approved, by, None, now)?;
            r.state = PrivilegeState::Approved;
            r.decided_by = Some(by);
            r.decided_at = Some(now);
            Ok((r, user))
        })
    }

    fn reject_privilege_request(&self, id: Uuid, by: UserId, note: &str, now: i64) -> StoreResult<PrivilegeRequest> {
        self.tx(|tx| {
            let r = privilege_request_in(tx, id)?;
            if r.state != PrivilegeState::Pending {
                return Err(StoreError::Conflict(format!(
                    "the request is {} already",
                    name_of(&r.state)?
                )));
            }
            decide(tx, id, PrivilegeState::Rejected, by, Some(note), now)?;
            privilege_request_in(tx, id)
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
        self.tx(|tx| replace_profile(tx, id, version, profile, now))
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
