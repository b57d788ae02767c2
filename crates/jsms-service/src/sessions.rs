//! Authentication behind service functions: who a session cookie or an API token is (the
//! caller's attributes, grants and audit name), sign-in with password and TOTP, enrolment,
//! password changes, sign-out — each recorded in the audit log before it takes effect
//! (no session is created, ended or upgraded while the log cannot be written).
//!
//! The HTTP layer keeps what is HTTP: cookies, the CSRF header, throttling by address, the
//! QR code. Secrets are compared and hashed here with `jsms-identity`.

use crate::Services;
use crate::caller::{Origin, Who};
use crate::error::{Error, Result};
use crate::gate::{Event, Resource};
use jsms_domain::access::{Actor, ActorKind};
use jsms_domain::ids::PartyId;
use jsms_domain::user::{Party, User};
use jsms_identity::{password, token, totp};
use jsms_store::{SessionRecord, UserCredentials};

/// A sign-in attempt.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// As typed (trimmed).
    pub username: String,
    /// The password.
    pub password: String,
    /// The one-time code, once enrolled.
    pub totp_code: Option<String>,
}

/// A new session: the cookie's secret (shown once) and the stored record.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The token to set in the cookie.
    pub token: String,
    /// The session as stored (its hash, CSRF token, times).
    pub record: SessionRecord,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionTimes {
    /// Idle timeout, seconds.
    pub idle_secs: i64,
    /// Absolute lifetime, seconds.
    pub absolute_secs: i64,
}

/// How the audit log names a user of `party`.
fn who_of(user: &User, party: &Party) -> Who {
    Who {
        principal: format!("user:{}", user.id),
        name: Some(user.username.to_string()),
        party: Some(party.code.to_string()),
    }
}

impl Services {
    /// A party (parties change only at `init`): read from the store once, then cached.
    pub async fn party(&self, id: PartyId) -> Result<Party> {
        if let Some(p) = self.parties.read().ok().and_then(|m| m.get(&id).cloned()) {
            return Ok(p);
        }
        let parties = self.db(|s| s.parties()).await?;
        let found = parties.iter().find(|p| p.id == id).cloned();
        if let Ok(mut cache) = self.parties.write() {
            *cache = parties.into_iter().map(|p| (p.id, p)).collect();
        }
        found.ok_or_else(|| Error::Internal(format!("unknown party {id}")))
    }

    /// How the audit log names a signed-in user.
    pub async fn user_who(&self, user: &User) -> Result<Who> {
        let party = self.party(user.party_id).await?;
        Ok(who_of(user, &party))
    }

    /// The live session whose token hashes to `hash`: unknown → unauthenticated; idle too
    /// long, past its end or of a disabled user → ended and expired.
    pub async fn session(&self, hash: [u8; 32], times: SessionTimes) -> Result<(SessionRecord, User)> {
        let now = self.clock.now();
        let Some((record, user)) = self.db(move |s| s.session(&hash)).await? else {
            return Err(Error::Unauthenticated);
        };
        if user.disabled || now >= record.expires_at || now - record.last_seen_at > times.idle_secs {
            self.db(move |s| s.delete_session(&hash)).await?;
            return Err(Error::SessionExpired);
        }
        Ok((record, user))
    }

    /// Marks a session as used now (its idle timeout starts again).
    pub async fn touch_session(&self, record: &SessionRecord) -> Result<()> {
        let (hash, now) = (record.token_hash, self.clock.now());
        if now > record.last_seen_at {
            self.db(move |s| s.touch_session(&hash, now)).await?;
        }
        Ok(())
    }

    /// The attributes and audit name of the holder of an API token, or unauthenticated
    /// (unknown, revoked, expired).
    pub async fn token_caller(&self, secret: &str) -> Result<(Actor, Who)> {
        let hash = token::hash(secret);
        let now = self.clock.now();
        let record = self.db(move |s| s.api_token_by_hash(&hash)).await?;
        let Some(t) = record.filter(|t| t.revoked_at.is_none() && t.expires_at > now) else {
            return Err(Error::Unauthenticated);
        };
        let party = self.party(t.party_id).await?;
        let id = t.id;
        self.db(move |s| s.touch_api_token(id, now)).await?;
        let who = Who {
            principal: format!("token:{}", t.id),
            name: Some(t.name.clone()),
            party: Some(party.code.to_string()),
        };
        let actor = Actor {
            party_id: t.party_id,
            party_kind: party.kind,
            org_id: t.org_id,
            kind: ActorKind::Machine {
                token_id: t.id,
                scopes: t.scopes,
            },
            clearance: jsms_domain::user::Clearance::Unclassified,
            compartments: vec![],
            grants: vec![],
            break_glass: vec![],
        };
        Ok((actor, who))
    }

    /// The attributes of a signed-in user, with their active need-to-know and break-glass
    /// grants, and their audit name.
    pub async fn user_caller(&self, user: &User) -> Result<(Actor, Who)> {
        let party = self.party(user.party_id).await?;
        let (uid, now) = (user.id, self.clock.now());
        let (grants, break_glass) = self.db(move |s| s.active_access(uid, now)).await?;
        let who = who_of(user, &party);
        let actor = Actor {
            party_id: user.party_id,
            party_kind: party.kind,
            org_id: user.org_id,
            kind: ActorKind::Human {
                user_id: user.id,
                roles: user.roles.clone(),
            },
            clearance: user.clearance,
            compartments: user.compartments.clone(),
            grants,
            break_glass,
        };
        Ok((actor, who))
    }

    /// Records a refused sign-in that never reached the credentials (e.g. throttled).
    pub async fn sign_in_refused(&self, username: &str, origin: &Origin, why: &str) -> Result<()> {
        let claimed = Who::anonymous(Some(username).filter(|u| u.len() <= 64));
        self.gate
            .record(&claimed, origin, Event::deny("auth.sign_in", None, why))
            .await
    }

    /// Checks a sign-in: password (Argon2id, on a blocking thread; an unknown user costs the
    /// same) and, once enrolled, an unused one-time code. A failure never says which part
    /// was wrong; it is recorded with the reason. Returns the user and whether the second
    /// factor was verified (a user not yet enrolled may only enrol).
    pub async fn sign_in(&self, attempt: SignIn, origin: &Origin) -> Result<(User, bool)> {
        let now = self.clock.now();
        let lookup = attempt.username.clone();
        let creds = self.db(move |s| s.user_credentials(&lookup)).await?;
        let password_text = attempt.password;
        let outcome = tokio::task::spawn_blocking(move || -> Result<Option<UserCredentials>> {
            let Some(creds) = creds else {
                password::verify_dummy(&password_text);
                return Ok(None);
            };
            let ok = password::verify(&creds.password_hash, &password_text)
                .map_err(|e| Error::Internal(format!("password check: {e}")))?;
            Ok((ok && !creds.user.disabled).then_some(creds))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        let failure = match &outcome {
            None => Some("unknown user, wrong password or disabled account"),
            Some(creds) if creds.user.mfa_enrolled => {
                let secret = creds
                    .totp_secret
                    .as_ref()
                    .ok_or_else(|| Error::Internal("enrolled user has no TOTP secret".into()))?;
                match attempt
                    .totp_code
                    .as_deref()
                    .and_then(|c| totp::verify(secret, c, now, creds.totp_last_step))
                {
                    None => Some("missing, wrong or replayed one-time code"),
                    Some(step) => {
                        let id = creds.user.id;
                        if self.db(move |s| s.record_totp_step(id, step)).await? {
                            None
                        } else {
                            Some("replayed one-time code")
                        }
                    }
                }
            }
            Some(_) => None,
        };
        let creds = match (failure, outcome) {
            (None, Some(creds)) => creds,
            (reason, _) => {
                self.sign_in_refused(&attempt.username, origin, reason.unwrap_or("sign-in failed"))
                    .await?;
                return Err(Error::InvalidCredentials);
            }
        };
        let mfa_verified = creds.user.mfa_enrolled;
        let stage = if mfa_verified {
            "password and one-time code"
        } else {
            "password; TOTP enrolment pending"
        };
        let who = self.user_who(&creds.user).await?;
        self.gate
            .record(
                &who,
                origin,
                Event::allow("auth.sign_in", Some(Resource::User(creds.user.id)), stage),
            )
            .await?;
        Ok((creds.user, mfa_verified))
    }

    /// Starts a session for `user` (a new random token; only its hash is stored).
    pub async fn start_session(&self, user: &User, mfa_verified: bool, times: SessionTimes) -> Result<NewSession> {
        let issued = token::issue("jsms_s_").map_err(|e| Error::Internal(e.to_string()))?;
        let csrf = token::issue("").map_err(|e| Error::Internal(e.to_string()))?.text;
        let now = self.clock.now();
        let record = SessionRecord {
            token_hash: issued.hash,
            user_id: user.id,
            mfa_verified,
            csrf_token: csrf,
            created_at: now,
            last_seen_at: now,
            expires_at: now.saturating_add(times.absolute_secs),
        };
        let r = record.clone();
        self.db(move |s| s.create_session(&r)).await?;
        Ok(NewSession {
            token: issued.text,
            record,
        })
    }

    /// Ends the session whose token hashes to `hash` (rotation at sign-in; no entry).
    pub async fn drop_session(&self, hash: [u8; 32]) -> Result<()> {
        self.db(move |s| s.delete_session(&hash)).await
    }

    /// Signs out: recorded, then the session ends.
    pub async fn sign_out(&self, user: &User, record: &SessionRecord, origin: &Origin) -> Result<()> {
        let who = self.user_who(user).await?;
        self.gate
            .record(
                &who,
                origin,
                Event::info("auth.sign_out", Some(Resource::User(user.id)), "sign-out"),
            )
            .await?;
        self.drop_session(record.token_hash).await
    }

    /// Starts TOTP enrolment for a user who has none (an administrator resets a lost one):
    /// recorded, and the new secret kept pending until a first code confirms it.
    pub async fn begin_totp(&self, user: &User, origin: &Origin) -> Result<totp::TotpSecret> {
        if user.mfa_enrolled {
            return Err(Error::Conflict(
                "TOTP is already enrolled; an administrator must reset it".into(),
            ));
        }
        let who = self.user_who(user).await?;
        self.gate
            .record(
                &who,
                origin,
                Event::allow("auth.totp_enrol", Some(Resource::User(user.id)), "enrolment started"),
            )
            .await?;
        let secret = totp::TotpSecret::generate().map_err(|e| Error::Internal(e.to_string()))?;
        let (id, now, pending) = (user.id, self.clock.now(), secret.clone());
        self.db(move |s| s.set_pending_totp(id, &pending, now)).await?;
        Ok(secret)
    }

    /// Completes TOTP enrolment with a first code: recorded; the unverified session ends and
    /// the user (now enrolled) is returned for a verified one.
    pub async fn confirm_totp(&self, user: &User, record: &SessionRecord, code: &str, origin: &Origin) -> Result<User> {
        let id = user.id;
        let creds = self.db(move |s| s.user_credentials_by_id(id)).await?;
        if creds.user.mfa_enrolled {
            return Err(Error::Conflict("TOTP is already enrolled".into()));
        }
        let secret = creds
            .totp_secret
            .ok_or_else(|| Error::Conflict("no enrolment is pending; start one first".into()))?;
        let now = self.clock.now();
        let step = totp::verify(&secret, code, now, None).ok_or_else(|| {
            Error::Validation(jsms_domain::ValidationError::new(
                "/code",
                "the code does not match; check the app's clock",
            ))
        })?;
        let who = self.user_who(user).await?;
        self.gate
            .record(
                &who,
                origin,
                Event::allow("auth.totp_confirm", Some(Resource::User(id)), "enrolment confirmed"),
            )
            .await?;
        self.db(move |s| s.confirm_totp(id, step, now)).await?;
        self.drop_session(record.token_hash).await?;
        self.db(move |s| s.user(id)).await
    }

    /// Changes the caller's own password (the current one checked; the new one must meet the
    /// policy); recorded either way. Every session of the user ends.
    pub async fn change_password(&self, caller: &crate::Caller, current: String, new: String) -> Result<()> {
        let user = caller.human()?.clone();
        password::check_policy_for(&new, &[user.username.as_str(), &user.display_name])
            .map_err(|e| Error::Validation(jsms_domain::ValidationError::new("/new_password", e.to_string())))?;
        let id = user.id;
        let creds = self.db(move |s| s.user_credentials_by_id(id)).await?;
        let hash = tokio::task::spawn_blocking(move || -> Result<Option<String>> {
            let ok = password::verify(&creds.password_hash, &current)
                .map_err(|e| Error::Internal(format!("password check: {e}")))?;
            if !ok {
                return Ok(None);
            }
            password::hash(&new)
                .map(Some)
                .map_err(|e| Error::Internal(format!("password hash: {e}")))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        let resource = Some(Resource::User(id));
        let Some(hash) = hash else {
            self.gate
                .record(
                    &caller.who,
                    &caller.origin,
                    Event::deny("auth.password_change", resource, "wrong current password"),
                )
                .await?;
            return Err(Error::Validation(jsms_domain::ValidationError::new(
                "/current_password",
                "the current password is not correct",
            )));
        };
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow("auth.password_change", resource, "own password"),
            )
            .await?;
        let now = self.clock.now();
        self.db(move |s| s.set_password(id, &hash, now)).await
    }

    /// Ends sessions idle since before `idle_before` or past their end at `now`.
    pub async fn purge_sessions(&self, idle_before: i64, now: i64) -> Result<u64> {
        self.db(move |s| s.purge_sessions(idle_before, now)).await
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.db(|s| s.ping()).await
    }

    /// Whether the audit log takes entries: known from the last append, and tried again
    /// with a probe entry after a failure (so readiness returns once the disk is fixed,
    /// without waiting for a user's request).
    pub async fn log_writable(&self) -> bool {
        if self.audit.writable.load(std::sync::atomic::Ordering::Relaxed) {
            return true;
        }
        let probe = Event::info("ops.readiness_probe", None, "the last append had failed");
        self.gate
            .record(&Who::system("readiness", "readiness probe"), &Origin::internal(), probe)
            .await
            .is_ok()
    }
}
