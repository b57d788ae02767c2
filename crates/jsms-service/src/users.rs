//! Administration of a party's own users and API tokens, with two persons for privilege.
//!
//! Rules (PRODUCT §3.8): each party's administrators manage only their own party; no one
//! changes their own roles, clearance or compartments; a change that grants privilege — a
//! new user, a role added (the administrator role included), a clearance raised, a
//! compartment added — is not applied but waits as a [`PrivilegeRequest`] until a second
//! administrator of the same party, neither the requester nor the user concerned, approves
//! it (recorded, notified). Administrators never hold operational roles (the domain's
//! profile rule, checked again when the change is applied).

use crate::error::{Error, Result};
use crate::gate::{Change, Disclosed, Event, Part, Protected, Refusal, Resource};
use crate::{Caller, Services};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{ApiTokenId, OrgId, UserId};
use jsms_domain::user::{ApiScope, Clearance, Compartment, Role, User, UserProfile, Username, privileges_gained};
use jsms_identity::{password, token};
use jsms_store::{ApiTokenRecord, Page, PageRequest, PrivilegeChange, PrivilegeRequest, PrivilegeState};
use uuid::Uuid;

/// Pending privilege requests lapse after this long.
pub const PRIVILEGE_REQUEST_TTL_S: i64 = 72 * 3600;

/// The one part of a user record (administrators only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserPart {
    /// Name, organisation, roles, clearance, compartments, state.
    Record,
}

impl Protected for User {
    type Part = UserPart;

    fn parts(&self) -> Vec<Part<UserPart>> {
        vec![Part {
            part: UserPart::Record,
            resource: Resource::User(self.id),
            action: Action::ManageUsers { party: self.party_id },
            log: "user.read",
            fields: &[
                "username",
                "display_name",
                "roles",
                "clearance",
                "compartments",
                "disabled",
            ],
        }]
    }

    fn redact(&mut self, _allowed: &[UserPart]) {}
}

/// A new user as an administrator enters it.
#[derive(Debug, Clone)]
pub struct NewUserInput {
    /// Sign-in name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Organisation (of the administrator's party).
    pub org_id: OrgId,
    /// Roles.
    pub roles: Vec<Role>,
    /// Clearance.
    pub clearance: Clearance,
    /// Compartments (validated names).
    pub compartments: Vec<Compartment>,
    /// Initial password.
    pub password: String,
}

/// Changes to a user; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// Name shown to others.
    pub display_name: Option<String>,
    /// Roles.
    pub roles: Option<Vec<Role>>,
    /// Clearance.
    pub clearance: Option<Clearance>,
    /// Compartments.
    pub compartments: Option<Vec<Compartment>>,
}

/// What became of a change to a user.
#[derive(Debug, Clone)]
pub enum UserUpdate {
    /// Applied at once: it grants nothing.
    Applied(Disclosed<User>),
    /// It grants privilege: waiting for a second administrator.
    Requested(PrivilegeRequest),
}

/// A new API token as an administrator asks for it.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Name.
    pub name: String,
    /// Organisation (of the administrator's party).
    pub org_id: OrgId,
    /// Scopes.
    pub scopes: Vec<ApiScope>,
    /// Lifetime in days (1–365).
    pub expires_in_days: u32,
}

fn manage(caller: &Caller, log: &'static str, resource: Option<Resource>, refusal: Refusal) -> Change {
    Change::new(
        log,
        resource,
        Action::ManageUsers {
            party: caller.actor.party_id,
        },
        refusal,
    )
}

impl Services {
    /// A user the caller administers (their party's), or not found (the denial recorded).
    async fn administered(&self, caller: &Caller, id: UserId, log: &'static str) -> Result<User> {
        let user = self.by_id(caller, log, Resource::User(id), move |s| s.user(id)).await?;
        let check = Change::new(
            log,
            Some(Resource::User(id)),
            Action::ManageUsers { party: user.party_id },
            Refusal::Hidden,
        );
        self.gate.check(caller, &check).await?;
        Ok(user)
    }

    /// The users of the caller's party, one page.
    pub async fn users(&self, caller: &Caller, page: PageRequest) -> Result<Page<Disclosed<User>>> {
        let list = manage(
            caller,
            "user.list",
            None,
            Refusal::Forbidden("only party administrators list users"),
        );
        self.gate.check(caller, &list).await?;
        let party = caller.actor.party_id;
        let result = self.db(move |s| s.users(Some(party), &page)).await?;
        Ok(Page {
            items: self.gate.disclose_all(caller, result.items).await?,
            next: result.next,
        })
    }

    /// One user of the caller's party.
    pub async fn user(&self, caller: &Caller, id: UserId) -> Result<Disclosed<User>> {
        let user = self.administered(caller, id, "user.read").await?;
        self.gate.disclose(caller, user).await
    }

    /// The other administrators of a party (who may approve a request of `except`).
    async fn other_admins(&self, party: jsms_domain::ids::PartyId, except: &[UserId]) -> Result<Vec<UserId>> {
        let page = PageRequest {
            after: None,
            limit: 500,
            q: None,
        };
        let users = self.db(move |s| s.users(Some(party), &page)).await?;
        Ok(users
            .items
            .into_iter()
            .filter(|u| u.roles.contains(&Role::PartyAdmin) && !u.disabled && !except.contains(&u.id))
            .map(|u| u.id)
            .collect())
    }

    /// Stores a privilege request, recorded and notified to the other administrators.
    async fn request_privilege(
        &self,
        caller: &Caller,
        change: PrivilegeChange,
        reasons: Vec<String>,
        decision: Vec<String>,
    ) -> Result<PrivilegeRequest> {
        let admin = caller.human()?.id;
        let now = self.clock.now();
        let request = PrivilegeRequest {
            id: Uuid::now_v7(),
            party: caller.actor.party_id,
            change,
            reasons,
            requested_by: admin,
            created_at: now,
            expires_at: now + PRIVILEGE_REQUEST_TTL_S,
            state: PrivilegeState::Pending,
            decided_by: None,
            decided_at: None,
            note: None,
        };
        let mut event = Event::allow(
            "user.privilege.request",
            Some(Resource::PrivilegeRequest(request.id)),
            "awaits a second administrator",
        );
        event.reasons.extend(decision);
        event
            .reasons
            .extend(request.reasons.iter().map(|r| format!("grants {r}")));
        if let Some(target) = request.target() {
            event.reasons.push(format!("user:{target}"));
        }
        self.gate.record(&caller.who, &caller.origin, event).await?;
        let r = request.clone();
        self.db(move |s| s.create_privilege_request(&r)).await?;
        let mut except = vec![admin];
        except.extend(request.target());
        let approvers = self.other_admins(request.party, &except).await?;
        let text = format!(
            "A privilege change awaits your approval: {}",
            request.reasons.join(", ")
        );
        self.notify(&approvers, "privilege_request", &text, "#/admin").await;
        Ok(request)
    }

    /// Asks for a new user of the caller's party: every new user holds a role, so the user
    /// is created only when a second administrator approves.
    pub async fn request_user(&self, caller: &Caller, input: NewUserInput) -> Result<PrivilegeRequest> {
        let change = manage(
            caller,
            "user.create",
            None,
            Refusal::Forbidden("only party administrators create users"),
        );
        let decision = self.gate.check(caller, &change).await?;
        let username = Username::parse(&input.username)?;
        let party = caller.actor.party_id;
        let org_id = input.org_id;
        let org = self
            .db(move |s| s.org(org_id))
            .await
            .ok()
            .filter(|o| o.party_id == party)
            .ok_or_else(|| ValidationError::new("/org_id", "no such organisation in your party"))?;
        let party_kind = self.db(move |s| s.party(party)).await?.kind;
        let profile = UserProfile::new(
            &input.display_name,
            input.roles,
            input.clearance,
            input.compartments,
            party_kind,
        )?;
        password::check_policy_for(&input.password, &[username.as_str(), &input.display_name])
            .map_err(|e| ValidationError::new("/password", e.to_string()))?;
        let name = username.as_str().to_owned();
        if self.db(move |s| s.user_credentials(&name)).await?.is_some() {
            return Err(Error::Conflict("this username is taken".into()));
        }
        let pw = input.password;
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
        let reasons = privileges_gained(None, &profile);
        let change = PrivilegeChange::CreateUser {
            org_id: org.id,
            username,
            profile,
            password_hash: hash,
        };
        self.request_privilege(caller, change, reasons, decision).await
    }

    /// Changes a user of the caller's party: applied at once if it grants nothing (the
    /// user's sessions end), else a privilege request. Nobody changes their own roles,
    /// clearance or compartments.
    pub async fn update_user(
        &self,
        caller: &Caller,
        id: UserId,
        version: i64,
        changes: UserChanges,
    ) -> Result<UserUpdate> {
        let user = self.administered(caller, id, "user.update").await?;
        let privileged = changes.roles.is_some() || changes.clearance.is_some() || changes.compartments.is_some();
        if Some(id) == caller.actor.user_id() && privileged {
            let refusal = Event::deny(
                "user.update",
                Some(Resource::User(id)),
                "no one changes their own roles, clearance or compartments",
            );
            self.gate.record(&caller.who, &caller.origin, refusal).await?;
            return Err(Error::Conflict(
                "no one changes their own roles, clearance or compartments: another administrator must".into(),
            ));
        }
        if version != user.version {
            return Err(Error::Stale { current: user.version });
        }
        let party_kind = self.db(move |s| s.party(user.party_id)).await?.kind;
        let current = UserProfile {
            display_name: user.display_name.clone(),
            roles: user.roles.clone(),
            clearance: user.clearance,
            compartments: user.compartments.clone(),
        };
        let profile = UserProfile::new(
            changes.display_name.as_deref().unwrap_or(&user.display_name),
            changes.roles.unwrap_or_else(|| user.roles.clone()),
            changes.clearance.unwrap_or(user.clearance),
            changes.compartments.unwrap_or_else(|| user.compartments.clone()),
            party_kind,
        )?;
        let gained = privileges_gained(Some(&current), &profile);
        let change = Change::new(
            "user.update",
            Some(Resource::User(id)),
            Action::ManageUsers { party: user.party_id },
            Refusal::Hidden,
        );
        let decision = self.gate.check(caller, &change).await?;
        if !gained.is_empty() {
            let request = PrivilegeChange::UpdateProfile {
                user: id,
                version,
                profile,
            };
            return Ok(UserUpdate::Requested(
                self.request_privilege(caller, request, gained, decision).await?,
            ));
        }
        let permit = self.gate.record_permit(caller, &change, decision).await?;
        let now = self.clock.now();
        let updated = self
            .write(caller, &change, permit, move |s| {
                s.update_user_profile(id, version, &profile, now)
            })
            .await?;
        Ok(UserUpdate::Applied(self.gate.disclose(caller, updated).await?))
    }

    /// The caller's party's privilege requests, newest first (administrators).
    pub async fn privilege_requests(&self, caller: &Caller) -> Result<Vec<PrivilegeRequest>> {
        let list = manage(
            caller,
            "user.privilege.list",
            None,
            Refusal::Forbidden("only party administrators see privilege requests"),
        );
        self.gate.permit(caller, list).await.map(drop)?;
        let party = caller.actor.party_id;
        self.db(move |s| s.privilege_requests(party, 200)).await
    }

    /// A privilege request the caller's party decides, refused (with the reason recorded)
    /// to the requester and to the user it is about.
    async fn decidable(&self, caller: &Caller, id: Uuid, log: &'static str) -> Result<(PrivilegeRequest, Vec<String>)> {
        let admin = caller.human()?.id;
        let request = self.db(move |s| s.privilege_request(id)).await?;
        let change = Change::new(
            log,
            Some(Resource::PrivilegeRequest(id)),
            Action::ManageUsers { party: request.party },
            Refusal::Hidden,
        );
        let decision = self.gate.check(caller, &change).await?;
        let own = request.requested_by == admin || request.target() == Some(admin);
        if own {
            let refusal = Event::deny(
                log,
                Some(Resource::PrivilegeRequest(id)),
                "a second administrator, neither the requester nor the user concerned, decides",
            );
            self.gate.record(&caller.who, &caller.origin, refusal).await?;
            return Err(Error::Conflict(
                "a second administrator, neither the requester nor the user concerned, decides this request".into(),
            ));
        }
        Ok((request, decision))
    }

    /// Approves a privilege request and applies its change in one step.
    pub async fn approve_privilege(&self, caller: &Caller, id: Uuid) -> Result<(PrivilegeRequest, Disclosed<User>)> {
        let admin = caller.human()?.id;
        let (request, mut reasons) = self.decidable(caller, id, "user.privilege.approve").await?;
        reasons.extend(request.reasons.iter().map(|r| format!("grants {r}")));
        reasons.push(format!("requested by user:{}", request.requested_by));
        let applied = match request.change {
            PrivilegeChange::CreateUser { .. } => "user.create",
            PrivilegeChange::UpdateProfile { .. } => "user.update",
        };
        let mut events = vec![Event::allow(
            "user.privilege.approve",
            Some(Resource::PrivilegeRequest(id)),
            "second administrator",
        )];
        if let Some(first) = events.first_mut() {
            first.reasons.extend(reasons);
        }
        let target = request.target();
        events.push(Event::allow(
            applied,
            target.map(Resource::User),
            format!("privilege request {id}"),
        ));
        self.gate.record_all(&caller.who, &caller.origin, events).await?;
        let now = self.clock.now();
        let (decided, user) = self.db(move |s| s.approve_privilege_request(id, admin, now)).await?;
        self.notify(
            &[decided.requested_by],
            "privilege_decided",
            &format!("Your privilege request for {} was approved", user.username),
            "#/admin",
        )
        .await;
        tracing::info!(admin = %admin, user = %user.username, "privilege request approved");
        Ok((decided, self.gate.disclose(caller, user).await?))
    }

    /// Rejects a privilege request, with a note.
    pub async fn reject_privilege(&self, caller: &Caller, id: Uuid, note: &str) -> Result<PrivilegeRequest> {
        let admin = caller.human()?.id;
        let note = jsms_domain::text::required("/note", note, 500)?;
        let (request, mut reasons) = self.decidable(caller, id, "user.privilege.reject").await?;
        reasons.push(note.clone());
        let mut event = Event::deny(
            "user.privilege.reject",
            Some(Resource::PrivilegeRequest(id)),
            "rejected",
        );
        event.reasons.extend(reasons);
        self.gate.record(&caller.who, &caller.origin, event).await?;
        let now = self.clock.now();
        let decided = self
            .db(move |s| s.reject_privilege_request(id, admin, &note, now))
            .await?;
        self.notify(
            &[request.requested_by],
            "privilege_decided",
            "Your privilege request was rejected",
            "#/admin",
        )
        .await;
        Ok(decided)
    }

    /// Disables (or re-enables) a user: sign-in refused, every session ended at once.
    /// Administrators never disable themselves.
    pub async fn set_user_disabled(&self, caller: &Caller, id: UserId, disabled: bool) -> Result<Disclosed<User>> {
        let log = if disabled { "user.disable" } else { "user.enable" };
        let user = self.administered(caller, id, log).await?;
        if disabled && Some(user.id) == caller.actor.user_id() {
            return Err(Error::Conflict(
                "administrators cannot disable their own account".into(),
            ));
        }
        let change = Change::new(
            log,
            Some(Resource::User(id)),
            Action::ManageUsers { party: user.party_id },
            Refusal::Hidden,
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let now = self.clock.now();
        let updated = self
            .write(caller, &change, permit, move |s| s.set_user_disabled(id, disabled, now))
            .await?;
        tracing::info!(admin = ?caller.actor.user_id(), user = %updated.username, disabled, "user state changed");
        self.gate.disclose(caller, updated).await
    }

    /// Removes a user's TOTP enrolment (lost phone); never one's own.
    pub async fn reset_user_mfa(&self, caller: &Caller, id: UserId) -> Result<Disclosed<User>> {
        let user = self.administered(caller, id, "user.reset_mfa").await?;
        if Some(user.id) == caller.actor.user_id() {
            return Err(Error::Conflict(
                "another administrator must reset your second factor".into(),
            ));
        }
        let change = Change::new(
            "user.reset_mfa",
            Some(Resource::User(id)),
            Action::ManageUsers { party: user.party_id },
            Refusal::Hidden,
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let now = self.clock.now();
        let updated = self
            .write(caller, &change, permit, move |s| s.reset_mfa(id, now))
            .await?;
        tracing::info!(admin = ?caller.actor.user_id(), user = %updated.username, "MFA reset");
        self.gate.disclose(caller, updated).await
    }

    /// The API tokens of the caller's party (metadata; never the secrets).
    pub async fn api_tokens(&self, caller: &Caller) -> Result<Vec<ApiTokenRecord>> {
        let party = caller.actor.party_id;
        let list = Change::new(
            "api_token.list",
            None,
            Action::ManageApiTokens { party },
            Refusal::Forbidden("only party administrators manage API tokens"),
        );
        // Who holds which machine credential is recorded like any other disclosure.
        drop(self.gate.permit(caller, list).await?);
        self.db(move |s| s.api_tokens(party)).await
    }

    /// Issues an API token of the caller's party; returns it and its secret (shown once).
    pub async fn create_api_token(&self, caller: &Caller, input: NewToken) -> Result<(ApiTokenRecord, String)> {
        let party = caller.actor.party_id;
        let id = ApiTokenId::generate();
        let change = Change::new(
            "api_token.create",
            Some(Resource::ApiToken(id)),
            Action::ManageApiTokens { party },
            Refusal::Forbidden("only party administrators issue API tokens"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let admin = caller.human()?.id;
        let name = jsms_domain::text::required("/name", &input.name, 100)?;
        if input.scopes.is_empty() {
            return Err(ValidationError::new("/scopes", "a token needs at least one scope").into());
        }
        if !(1..=365).contains(&input.expires_in_days) {
            return Err(ValidationError::new("/expires_in_days", "a token lives 1 to 365 days").into());
        }
        let org_id = input.org_id;
        let org = self
            .db(move |s| s.org(org_id))
            .await
            .ok()
            .filter(|o| o.party_id == party)
            .ok_or_else(|| ValidationError::new("/org_id", "no such organisation in your party"))?;
        let mut scopes = input.scopes;
        scopes.sort();
        scopes.dedup();
        let issued = token::issue("jsms_at_")?;
        let now = self.clock.now();
        let record = ApiTokenRecord {
            id,
            token_hash: issued.hash,
            party_id: party,
            org_id: org.id,
            name,
            scopes,
            created_by: admin,
            created_at: now,
            expires_at: now + i64::from(input.expires_in_days) * 86_400,
            revoked_at: None,
            last_used_at: None,
        };
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let r = record.clone();
        self.write(caller, &change, permit, move |s| s.create_api_token(&r))
            .await?;
        Ok((record, issued.text))
    }

    /// Revokes an API token of the caller's party at once.
    pub async fn revoke_api_token(&self, caller: &Caller, id: ApiTokenId) -> Result<ApiTokenRecord> {
        let t = self.db(move |s| s.api_token(id)).await?;
        let change = Change::new(
            "api_token.revoke",
            Some(Resource::ApiToken(id)),
            Action::ManageApiTokens { party: t.party_id },
            Refusal::Hidden,
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let now = self.clock.now();
        self.write(caller, &change, permit, move |s| s.revoke_api_token(id, now))
            .await
    }
}
