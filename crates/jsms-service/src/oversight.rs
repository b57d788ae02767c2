//! Oversight: break-glass (emergency access to one person, with a reason, re-entered
//! credentials, a short expiry, an immediate alert to every party's auditors and a review
//! queue that escalates) and the auditors' alert queue (break-glass uses, unreviewed
//! escalations, anomalies).

use crate::error::{Error, Result};
use crate::gate::{Change, Event, Refusal, Resource};
use crate::{Caller, Services};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::PersonId;
use jsms_identity::{password, totp};
use jsms_store::{AuditorAlert, BreakGlassRecord, BreakGlassReview};
use uuid::Uuid;

/// Break-glass rules (PRODUCT §3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakGlassPolicy {
    /// Longest grant, seconds (at most 4 hours).
    pub max_secs: i64,
    /// Unreviewed after this many seconds, a use is escalated.
    pub review_deadline_secs: i64,
}

impl Default for BreakGlassPolicy {
    /// Grants up to 4 h, escalation after 72 h without review.
    fn default() -> Self {
        Self {
            max_secs: 4 * 3600,
            review_deadline_secs: 72 * 3600,
        }
    }
}

/// A break-glass request.
#[derive(Debug, Clone)]
pub struct BreakGlassInput {
    /// The one person to open.
    pub person: PersonId,
    /// Why (20–1000 characters).
    pub reason: String,
    /// The requester's password, re-entered.
    pub password: String,
    /// A fresh one-time code.
    pub totp_code: String,
    /// Minutes of access (default 60).
    pub minutes: Option<u32>,
}

const AUDITORS_ONLY: Refusal = Refusal::Forbidden("only auditors review break-glass use");

impl Services {
    fn auditor_alert(
        &self,
        kind: &str,
        severity: &str,
        principal: Option<String>,
        resource: Option<String>,
        message: String,
    ) -> AuditorAlert {
        AuditorAlert {
            id: Uuid::now_v7(),
            kind: kind.to_owned(),
            severity: severity.to_owned(),
            principal,
            resource,
            message,
            created_at: self.clock.now(),
            acknowledged: None,
        }
    }

    /// Opens emergency access to one person for a short time. Needs a reason, the
    /// requester's password and a fresh one-time code; every party's auditors are alerted
    /// at once.
    pub async fn open_break_glass(&self, caller: &Caller, input: BreakGlassInput) -> Result<BreakGlassRecord> {
        let user = caller.human()?.clone();
        let reason = input.reason.trim().to_owned();
        if !(20..=1000).contains(&reason.chars().count()) {
            return Err(ValidationError::new("/reason", "explain the emergency in 20 to 1000 characters").into());
        }
        let minutes = i64::from(input.minutes.unwrap_or(60));
        if minutes < 1 || minutes * 60 > self.break_glass.max_secs {
            let max = self.break_glass.max_secs / 60;
            return Err(
                ValidationError::new("/minutes", format!("break-glass access lasts 1 to {max} minutes")).into(),
            );
        }
        let id = input.person;
        let resource = Resource::Person(id);
        // Credentials again: the password and a fresh, never-used code.
        let uid = user.id;
        let creds = self.db(move |s| s.user_credentials_by_id(uid)).await?;
        let now = self.clock.now();
        let pw = input.password;
        let stored = creds.password_hash.clone();
        let password_ok = tokio::task::spawn_blocking(move || password::verify(&stored, &pw))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
        let step = creds
            .totp_secret
            .as_ref()
            .and_then(|s| totp::verify(s, &input.totp_code, now, creds.totp_last_step));
        let fresh = match step {
            Some(step) if password_ok => self.db(move |s| s.record_totp_step(uid, step)).await?,
            _ => false,
        };
        if !fresh {
            self.gate
                .record(
                    &caller.who,
                    &caller.origin,
                    Event::deny("break_glass.open", Some(resource), "credentials not confirmed"),
                )
                .await?;
            return Err(Error::InvalidCredentials);
        }
        let record = self.db(move |s| s.person(id)).await?;
        let change = Change::new(
            "break_glass.open",
            Some(resource),
            Action::BreakGlass {
                person: id,
                org: record.person.draft.employer_org_id,
                party: record.employer_party_id,
            },
            Refusal::Forbidden("your role may not break glass"),
        )
        .justified(reason.clone());
        let permit = self.gate.permit(caller, change.clone()).await?;
        let grant = BreakGlassRecord {
            id: Uuid::now_v7(),
            user_id: user.id,
            party_id: user.party_id,
            resource: resource.to_string(),
            reason: reason.clone(),
            created_at: now,
            expires_at: now + minutes * 60,
            review: None,
            escalated_at: None,
        };
        let g = grant.clone();
        self.write(caller, &change, permit, move |s| s.create_break_glass(&g))
            .await?;
        let message = format!(
            "{} broke glass on {} for {minutes} min: {reason}",
            caller.who.name.as_deref().unwrap_or("a user"),
            grant.resource
        );
        let a = self.auditor_alert(
            "break_glass",
            "critical",
            Some(caller.who.principal.clone()),
            Some(resource.to_string()),
            message,
        );
        self.db(move |s| s.create_alert(&a)).await?;
        tracing::warn!(user = %user.username, resource = %grant.resource, "BREAK-GLASS access opened; auditors alerted");
        Ok(grant)
    }

    /// The break-glass review queue (auditors of either party).
    pub async fn break_glass_uses(&self, caller: &Caller, unreviewed: bool) -> Result<Vec<BreakGlassRecord>> {
        let list = Change::new("break_glass.list", None, Action::ReadAuditLog, AUDITORS_ONLY);
        self.gate.permit(caller, list).await.map(drop)?;
        self.db(move |s| s.break_glass_list(unreviewed)).await
    }

    /// Reviews a break-glass use (auditors; never the user who broke the glass).
    pub async fn review_break_glass(
        &self,
        caller: &Caller,
        id: Uuid,
        verdict: &str,
        note: &str,
    ) -> Result<BreakGlassRecord> {
        let change = Change::new(
            "break_glass.review",
            Some(Resource::BreakGlass(id)),
            Action::ReadAuditLog,
            AUDITORS_ONLY,
        );
        let reasons = self.gate.check(caller, &change).await?;
        let reviewer = caller.human()?.id;
        if !["justified", "unjustified"].contains(&verdict) {
            return Err(ValidationError::new("/verdict", "the verdict is justified or unjustified").into());
        }
        let note = jsms_domain::text::required("/note", note, 2000)?;
        let list = self.db(|s| s.break_glass_list(false)).await?;
        let target = list.into_iter().find(|r| r.id == id).ok_or(Error::NotFound)?;
        if target.user_id == reviewer {
            return Err(Error::Forbidden("nobody reviews their own break-glass use"));
        }
        let change = change.justified(format!("{verdict}: {note}"));
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let review = BreakGlassReview {
            reviewed_at: self.clock.now(),
            reviewed_by: reviewer,
            verdict: verdict.to_owned(),
            note,
        };
        self.write(caller, &change, permit, move |s| s.review_break_glass(id, &review))
            .await
    }

    /// Alerts for the auditors of every party, newest first.
    pub async fn auditor_alerts(&self, caller: &Caller, unacknowledged: bool) -> Result<Vec<AuditorAlert>> {
        let list = Change::new(
            "audit.alerts",
            None,
            Action::ReadAuditLog,
            Refusal::Forbidden("only auditors read auditor alerts"),
        );
        self.gate.permit(caller, list).await.map(drop)?;
        self.db(move |s| s.alerts(unacknowledged, 200)).await
    }

    /// Acknowledges an auditor alert.
    pub async fn acknowledge_auditor_alert(&self, caller: &Caller, id: Uuid) -> Result<AuditorAlert> {
        let change = Change::new(
            "audit.alert_ack",
            Some(Resource::Alert(id)),
            Action::ReadAuditLog,
            Refusal::Forbidden("only auditors acknowledge auditor alerts"),
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let by = caller.human()?.id;
        let now = self.clock.now();
        self.write(caller, &change, permit, move |s| s.acknowledge_alert(id, by, now))
            .await
    }

    /// Escalates break-glass uses left unreviewed past the deadline (the runtime's sweep).
    pub async fn escalate_break_glass(&self) -> Result<usize> {
        let now = self.clock.now();
        let before = now - self.break_glass.review_deadline_secs;
        let due = self.db(move |s| s.escalate_break_glass(before, now)).await?;
        let n = due.len();
        for r in due {
            let message = format!("break-glass use {} on {} is still unreviewed", r.id, r.resource);
            let a = self.auditor_alert(
                "break_glass_unreviewed",
                "critical",
                Some(format!("user:{}", r.user_id)),
                Some(r.resource),
                message,
            );
            tracing::warn!(id = %r.id, "unreviewed break-glass use escalated");
            self.db(move |s| s.create_alert(&a)).await?;
        }
        Ok(n)
    }
}
