//! The gate: the one path by which protected data leaves the store and by which anything
//! changes. It takes the caller, the action and the object(s); asks the authorization
//! component; appends the audit entries (one per object disclosed, allow and deny alike);
//! waits until they are durable; and only then hands the data over as a [`Disclosed`] — a
//! type that nothing outside this module can make. If an entry cannot be made durable the
//! call fails with [`Error::Unavailable`] and nothing is disclosed or changed.
//!
//! Objects are named by [`Resource`], a type, never a formatted string; a protected type says
//! which parts a reader may see ([`Protected::parts`], e.g. a movement's status and its
//! sealed plan) and removes what the caller may not see ([`Protected::redact`]), so a view
//! built from a `Disclosed<T>` cannot show a field the caller was not allowed.

use crate::anomaly::AnomalyDetector;
use crate::audit::AuditLog;
use crate::caller::{Caller, Origin, Who};
use crate::clock::Clock;
use crate::error::{Error, Result};
use jsms_audit::entry::{AuditEntry, Outcome};
use jsms_authz::{Authz, Decision, RequestContext};
use jsms_domain::access::{Action, Actor};
use jsms_domain::ids::{ApiTokenId, EscortTeamId, MovementId, OrgId, PersonId, SiteId, UserId};
use jsms_store::Store;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// A protected object as the audit log, the grants and "who knew" name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// A protected person (personal data included).
    Person(PersonId),
    /// A site.
    Site(SiteId),
    /// A threat zone.
    Zone(Uuid),
    /// A movement's request and status.
    Movement(MovementId),
    /// A movement's sealed plan: route, exact times, escort.
    MovementPlan(MovementId),
    /// An escort team.
    EscortTeam(EscortTeamId),
    /// A tracking device.
    Device(Uuid),
    /// A tracking alert.
    Alert(Uuid),
    /// An incident.
    Incident(Uuid),
    /// A coordination meeting.
    Meeting(Uuid),
    /// A bilateral decision.
    Decision(Uuid),
    /// A threat report.
    Report(Uuid),
    /// A user account.
    User(UserId),
    /// An organisation.
    Organisation(OrgId),
    /// An API token.
    ApiToken(ApiTokenId),
    /// A break-glass use.
    BreakGlass(Uuid),
    /// A request for a privilege that a second administrator must approve.
    PrivilegeRequest(Uuid),
    /// The joint dashboard (counts across movements, alerts, incidents, decisions).
    Dashboard,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Person(id) => write!(f, "person:{id}"),
            Resource::Site(id) => write!(f, "site:{id}"),
            Resource::Zone(id) => write!(f, "zone:{id}"),
            Resource::Movement(id) => write!(f, "movement:{id}"),
            Resource::MovementPlan(id) => write!(f, "movement:{id}:plan"),
            Resource::EscortTeam(id) => write!(f, "escort_team:{id}"),
            Resource::Device(id) => write!(f, "device:{id}"),
            Resource::Alert(id) => write!(f, "alert:{id}"),
            Resource::Incident(id) => write!(f, "incident:{id}"),
            Resource::Meeting(id) => write!(f, "meeting:{id}"),
            Resource::Decision(id) => write!(f, "decision:{id}"),
            Resource::Report(id) => write!(f, "report:{id}"),
            Resource::User(id) => write!(f, "user:{id}"),
            Resource::Organisation(id) => write!(f, "organisation:{id}"),
            Resource::ApiToken(id) => write!(f, "api_token:{id}"),
            Resource::BreakGlass(id) => write!(f, "break_glass:{id}"),
            Resource::PrivilegeRequest(id) => write!(f, "privilege_request:{id}"),
            Resource::Dashboard => f.write_str("dashboard"),
        }
    }
}

impl std::str::FromStr for Resource {
    type Err = String;

    /// `<kind>:<uuid>`, `movement:<uuid>:plan` or `dashboard`.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a resource: <kind>:<uuid> (or movement:<uuid>:plan), e.g. person:0193…");
        if s == "dashboard" {
            return Ok(Resource::Dashboard);
        }
        let mut parts = s.splitn(3, ':');
        let (kind, id, rest) = (parts.next(), parts.next(), parts.next());
        let id = id.and_then(|i| Uuid::parse_str(i).ok()).ok_or_else(bad)?;
        Ok(match (kind, rest) {
            (Some("movement"), Some("plan")) => Resource::MovementPlan(MovementId::from_uuid(id)),
            (_, Some(_)) => return Err(bad()),
            (Some("person"), None) => Resource::Person(PersonId::from_uuid(id)),
            (Some("site"), None) => Resource::Site(SiteId::from_uuid(id)),
            (Some("zone"), None) => Resource::Zone(id),
            (Some("movement"), None) => Resource::Movement(MovementId::from_uuid(id)),
            (Some("escort_team"), None) => Resource::EscortTeam(EscortTeamId::from_uuid(id)),
            (Some("device"), None) => Resource::Device(id),
            (Some("alert"), None) => Resource::Alert(id),
            (Some("incident"), None) => Resource::Incident(id),
            (Some("meeting"), None) => Resource::Meeting(id),
            (Some("decision"), None) => Resource::Decision(id),
            (Some("report"), None) => Resource::Report(id),
            (Some("user"), None) => Resource::User(UserId::from_uuid(id)),
            (Some("organisation"), None) => Resource::Organisation(OrgId::from_uuid(id)),
            (Some("api_token"), None) => Resource::ApiToken(ApiTokenId::from_uuid(id)),
            (Some("break_glass"), None) => Resource::BreakGlass(id),
            (Some("privilege_request"), None) => Resource::PrivilegeRequest(id),
            _ => return Err(bad()),
        })
    }
}

/// One part of a protected object a reader may see, decided on its own.
#[derive(Debug, Clone)]
pub struct Part<P> {
    /// Which part.
    pub part: P,
    /// What the audit log names.
    pub resource: Resource,
    /// What the authorization component decides.
    pub action: Action,
    /// The audit entry's action (`person.read`, `movement.plan.read`, …).
    pub log: &'static str,
    /// The fields this part discloses.
    pub fields: &'static [&'static str],
}

/// A type of protected data.
pub trait Protected: Send + 'static {
    /// Names of the parts a reader may see separately.
    type Part: Copy + Eq + fmt::Debug + Send + Sync + 'static;
    /// The parts of this object. The first is the object itself: a caller denied it is
    /// denied everything (and, reading by id, learns nothing of its existence).
    fn parts(&self) -> Vec<Part<Self::Part>>;
    /// Removes what the caller may not see (every part not in `allowed`).
    fn redact(&mut self, allowed: &[Self::Part]);
}

/// Protected data the gate released: decided, redacted to what the caller may see, and
/// recorded durably in the audit log before this value existed. Only the gate makes one.
#[derive(Debug, Clone)]
pub struct Disclosed<T: Protected> {
    value: T,
    seen: Vec<T::Part>,
}

impl<T: Protected> Disclosed<T> {
    /// Whether the caller was allowed `part`.
    pub fn sees(&self, part: T::Part) -> bool {
        self.seen.contains(&part)
    }

    /// The parts the caller was allowed.
    pub fn parts(&self) -> &[T::Part] {
        &self.seen
    }
}

impl<T: Protected> std::ops::Deref for Disclosed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// A change the gate decides before it is made.
#[derive(Debug, Clone)]
pub struct Change {
    /// What is changed (none when creating).
    pub resource: Option<Resource>,
    /// What the authorization component decides.
    pub action: Action,
    /// The audit entry's action (`person.update`, `movement.approve`, …).
    pub log: &'static str,
    /// How a denial is answered.
    pub refusal: Refusal,
    /// A justification given by the caller (recorded).
    pub justification: Option<String>,
}

impl Change {
    /// A change of `resource` (or a creation when `None`), refused with `refusal`.
    pub fn new(log: &'static str, resource: Option<Resource>, action: Action, refusal: Refusal) -> Self {
        Self {
            resource,
            action,
            log,
            refusal,
            justification: None,
        }
    }

    /// With a justification for the log.
    #[must_use]
    pub fn justified(mut self, why: impl Into<String>) -> Self {
        self.justification = Some(why.into());
        self
    }
}

/// How a denied change is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// As if the object did not exist (the caller may not know it does).
    Hidden,
    /// Forbidden, with why (the caller may know the object exists).
    Forbidden(&'static str),
}

impl Refusal {
    fn error(self) -> Error {
        match self {
            Refusal::Hidden => Error::NotFound,
            Refusal::Forbidden(why) => Error::Forbidden(why),
        }
    }
}

/// Proof that a change was allowed and its audit entry is durable. Only the gate makes one.
#[derive(Debug)]
#[must_use = "a permit is the licence to make the change it was given for"]
pub struct Permit {
    reasons: Vec<String>,
}

impl Permit {
    /// The policies that allowed the change.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }
}

/// An event recorded without a decision of the authorization component: sign-in outcomes,
/// rules the service enforced itself, the work of the schedulers.
#[derive(Debug, Clone)]
pub struct Event {
    /// `auth.sign_in`, `movement.release`, …
    pub action: &'static str,
    /// On what.
    pub resource: Option<Resource>,
    /// Allow, deny or info.
    pub outcome: Outcome,
    /// Rules or other reasons.
    pub reasons: Vec<String>,
    /// Fields disclosed, if any.
    pub fields: Vec<String>,
    /// A justification given by the principal.
    pub justification: Option<String>,
}

impl Event {
    fn new(action: &'static str, resource: Option<Resource>, outcome: Outcome, reason: impl Into<String>) -> Self {
        Self {
            action,
            resource,
            outcome,
            reasons: vec![reason.into()],
            fields: vec![],
            justification: None,
        }
    }

    /// Something allowed by a rule the service enforces itself.
    pub fn allow(action: &'static str, resource: Option<Resource>, reason: impl Into<String>) -> Self {
        Self::new(action, resource, Outcome::Allow, reason)
    }

    /// Something refused by a rule the service enforces itself.
    pub fn deny(action: &'static str, resource: Option<Resource>, reason: impl Into<String>) -> Self {
        Self::new(action, resource, Outcome::Deny, reason)
    }

    /// Something that happened, without a decision.
    pub fn info(action: &'static str, resource: Option<Resource>, reason: impl Into<String>) -> Self {
        Self::new(action, resource, Outcome::Info, reason)
    }

    /// With the fields disclosed.
    #[must_use]
    pub fn fields(mut self, fields: &[&str]) -> Self {
        self.fields = fields.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// With a justification.
    #[must_use]
    pub fn justified(mut self, why: impl Into<String>) -> Self {
        self.justification = Some(why.into());
        self
    }
}

/// The gate.
pub struct Gate {
    authz: Arc<Authz>,
    audit: Arc<AuditLog>,
    anomalies: Arc<AnomalyDetector>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Requests refused by a decision.
    pub denied: AtomicU64,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate").finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate over these components.
    pub(crate) fn new(
        authz: Arc<Authz>,
        audit: Arc<AuditLog>,
        anomalies: Arc<AnomalyDetector>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            authz,
            audit,
            anomalies,
            store,
            clock,
            denied: AtomicU64::new(0),
        }
    }

    /// Asks the authorization component (no entry: for filtering what to offer, never for
    /// disclosing or changing).
    pub fn decide(&self, actor: &Actor, action: Action) -> Decision {
        self.authz.decide(
            actor,
            action,
            RequestContext {
                now: self.clock.now(),
                channel: "api",
            },
        )
    }

    /// Whether `actor` may do `action` (see [`Gate::decide`]).
    pub fn allows(&self, actor: &Actor, action: Action) -> bool {
        self.decide(actor, action).is_allow()
    }

    fn entry(&self, who: &Who, origin: &Origin, event: Event) -> AuditEntry {
        AuditEntry {
            seq: 0,
            time_ms: self.clock.now().saturating_mul(1000),
            principal: who.principal.clone(),
            principal_name: who.name.clone(),
            party: who.party.clone(),
            action: event.action.to_owned(),
            resource: event.resource.map(|r| r.to_string()),
            outcome: event.outcome,
            reasons: event.reasons,
            fields: event.fields,
            request_id: origin.request_id.clone(),
            client: Some(origin.client.clone()),
            channel: origin.channel.to_owned(),
            justification: event.justification,
        }
    }

    /// Appends entries durably, then raises the anomalies they reveal for the auditors.
    async fn append(&self, entries: Vec<AuditEntry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let anomalies: Vec<_> = entries.iter().flat_map(|e| self.anomalies.observe(e)).collect();
        self.audit.append_all(entries).await?;
        for a in anomalies {
            let alert = jsms_store::AuditorAlert {
                id: Uuid::now_v7(),
                kind: a.kind.to_owned(),
                severity: "warning".into(),
                principal: Some(a.principal),
                resource: None,
                message: a.message,
                created_at: self.clock.now(),
                acknowledged: None,
            };
            tracing::warn!(kind = %alert.kind, principal = ?alert.principal, "anomaly: alert raised for auditors");
            let store = Arc::clone(&self.store);
            tokio::task::spawn_blocking(move || store.create_alert(&alert))
                .await
                .map_err(|e| Error::Internal(format!("storage task failed: {e}")))??;
        }
        Ok(())
    }

    /// Records an event durably (no decision): sign-ins, rules the service enforced, the
    /// schedulers' work.
    pub async fn record(&self, who: &Who, origin: &Origin, event: Event) -> Result<()> {
        self.append(vec![self.entry(who, origin, event)]).await
    }

    /// Records several events in one durable batch.
    pub async fn record_all(&self, who: &Who, origin: &Origin, events: Vec<Event>) -> Result<()> {
        let entries = events.into_iter().map(|e| self.entry(who, origin, e)).collect();
        self.append(entries).await
    }

    /// Decides a change and records the decision durably before it is made. A denial is
    /// recorded too, and answered as the change's [`Refusal`] says.
    pub async fn permit(&self, caller: &Caller, change: Change) -> Result<Permit> {
        let reasons = self.check(caller, &change).await?;
        self.record_permit(caller, &change, reasons).await
    }

    /// Decides `change` and records a denial at once (answered as its [`Refusal`]); an
    /// allow is not recorded yet — it returns the reasons for [`Gate::record_permit`] once
    /// the input is validated, or for a read of shared (unprotected) knowledge that needs a
    /// decision but no entry.
    pub async fn check(&self, caller: &Caller, change: &Change) -> Result<Vec<String>> {
        let decision = self.decide(&caller.actor, change.action);
        if decision.is_allow() {
            return Ok(decision.reasons());
        }
        let reasons = decision.reasons();
        self.record(
            &caller.who,
            &caller.origin,
            Event {
                action: change.log,
                resource: change.resource,
                outcome: Outcome::Deny,
                reasons: reasons.clone(),
                fields: vec![],
                justification: change.justification.clone(),
            },
        )
        .await?;
        self.denied.fetch_add(1, Ordering::Relaxed);
        tracing::info!(action = ?change.action, ?reasons, "access denied");
        Err(change.refusal.error())
    }

    /// Records the allowed `change` (decided by [`Gate::check`] with these reasons) durably:
    /// the licence to make it.
    pub async fn record_permit(&self, caller: &Caller, change: &Change, reasons: Vec<String>) -> Result<Permit> {
        let event = Event {
            action: change.log,
            resource: change.resource,
            outcome: Outcome::Allow,
            reasons: reasons.clone(),
            fields: vec![],
            justification: change.justification.clone(),
        };
        self.record(&caller.who, &caller.origin, event).await?;
        Ok(Permit { reasons })
    }

    /// The parts of `value` the caller may see, with their decisions' reasons.
    fn allowed<T: Protected>(&self, actor: &Actor, parts: &[Part<T::Part>]) -> Vec<(usize, Vec<String>)> {
        let mut out = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let d = self.decide(actor, p.action);
            if d.is_allow() {
                out.push((i, d.reasons()));
            } else if i == 0 {
                break;
            }
        }
        out
    }

    /// The audit entries for disclosing `parts[allowed]`: one per resource, with the fields
    /// of every allowed part about it.
    fn disclosure_entries<P>(
        &self,
        caller: &Caller,
        parts: &[Part<P>],
        allowed: &[(usize, Vec<String>)],
        out: &mut Vec<AuditEntry>,
    ) {
        let mut done: Vec<Resource> = Vec::new();
        for (i, reasons) in allowed {
            let Some(p) = parts.get(*i) else { continue };
            if done.contains(&p.resource) {
                continue;
            }
            done.push(p.resource);
            let mut fields: Vec<&str> = Vec::new();
            let mut all_reasons = reasons.clone();
            for (j, r) in allowed {
                if let Some(q) = parts.get(*j).filter(|q| q.resource == p.resource) {
                    fields.extend(q.fields.iter().copied());
                    if j != i {
                        all_reasons.extend(r.iter().cloned());
                    }
                }
            }
            all_reasons.dedup();
            let event = Event {
                action: p.log,
                resource: Some(p.resource),
                outcome: Outcome::Allow,
                reasons: all_reasons,
                fields: fields.into_iter().map(str::to_owned).collect(),
                justification: None,
            };
            out.push(self.entry(&caller.who, &caller.origin, event));
        }
    }

    fn release<T: Protected>(mut value: T, parts: &[Part<T::Part>], allowed: &[(usize, Vec<String>)]) -> Disclosed<T> {
        let seen: Vec<T::Part> = allowed
            .iter()
            .filter_map(|(i, _)| parts.get(*i).map(|p| p.part))
            .collect();
        value.redact(&seen);
        Disclosed { value, seen }
    }

    /// Discloses one object asked for by id. A caller denied it gets [`Error::NotFound`]
    /// (exactly as for a missing object) and the denial is recorded.
    pub async fn disclose<T: Protected>(&self, caller: &Caller, value: T) -> Result<Disclosed<T>> {
        let parts = value.parts();
        self.disclose_parts(caller, value, parts).await
    }

    /// Discloses only the `wanted` parts of one object asked for by id (the object itself,
    /// its first part, always): what a page that shows a name needs, recorded as such —
    /// the other parts are neither disclosed nor in the entry's fields.
    pub async fn disclose_only<T: Protected>(
        &self,
        caller: &Caller,
        value: T,
        wanted: &[T::Part],
    ) -> Result<Disclosed<T>> {
        let parts = Self::only(value.parts(), wanted);
        self.disclose_parts(caller, value, parts).await
    }

    /// The first part and the `wanted` others (all when `wanted` is empty).
    fn only<P: Copy + Eq>(parts: Vec<Part<P>>, wanted: &[P]) -> Vec<Part<P>> {
        if wanted.is_empty() {
            return parts;
        }
        parts
            .into_iter()
            .enumerate()
            .filter(|(i, p)| *i == 0 || wanted.contains(&p.part))
            .map(|(_, p)| p)
            .collect()
    }

    async fn disclose_parts<T: Protected>(
        &self,
        caller: &Caller,
        value: T,
        parts: Vec<Part<T::Part>>,
    ) -> Result<Disclosed<T>> {
        let allowed = self.allowed::<T>(&caller.actor, &parts);
        if allowed.is_empty() {
            let reasons = parts
                .first()
                .map(|p| self.decide(&caller.actor, p.action).reasons())
                .unwrap_or_default();
            if let Some(p) = parts.first() {
                let event = Event {
                    action: p.log,
                    resource: Some(p.resource),
                    outcome: Outcome::Deny,
                    reasons,
                    fields: vec![],
                    justification: None,
                };
                self.record(&caller.who, &caller.origin, event).await?;
            }
            self.denied.fetch_add(1, Ordering::Relaxed);
            return Err(Error::NotFound);
        }
        let mut entries = Vec::new();
        self.disclosure_entries(caller, &parts, &allowed, &mut entries);
        self.append(entries).await?;
        Ok(Self::release(value, &parts, &allowed))
    }

    /// Discloses the objects of a list the caller may see, each redacted to its allowed
    /// parts, after one durable entry per object disclosed; the others are left out (a list
    /// does not ask for them by id, so leaving them out is not recorded as a denial).
    pub async fn disclose_all<T: Protected>(&self, caller: &Caller, values: Vec<T>) -> Result<Vec<Disclosed<T>>> {
        self.disclose_all_only(caller, values, &[]).await
    }

    /// [`Gate::disclose_all`] limited to the `wanted` parts (all of them when empty; the
    /// object itself, its first part, always).
    pub async fn disclose_all_only<T: Protected>(
        &self,
        caller: &Caller,
        values: Vec<T>,
        wanted: &[T::Part],
    ) -> Result<Vec<Disclosed<T>>> {
        let mut entries = Vec::new();
        let mut kept = Vec::new();
        for value in values {
            let parts = Self::only(value.parts(), wanted);
            let allowed = self.allowed::<T>(&caller.actor, &parts);
            if allowed.is_empty() {
                continue;
            }
            self.disclosure_entries(caller, &parts, &allowed, &mut entries);
            kept.push((value, parts, allowed));
        }
        self.append(entries).await?;
        Ok(kept
            .into_iter()
            .map(|(value, parts, allowed)| Self::release(value, &parts, &allowed))
            .collect())
    }

    /// Whether the caller may see `value` at all (no entry): for choosing what to load
    /// before disclosing it.
    pub fn may_see<T: Protected>(&self, actor: &Actor, value: &T) -> bool {
        value.parts().first().is_some_and(|p| self.allows(actor, p.action))
    }
}

/// A gate for one event stream: each object is recorded the first time the stream
/// discloses it (a stream lasts minutes, then the client reconnects and it is decided and
/// recorded again), so "who knew" names every watcher without an entry per event.
#[derive(Debug, Default)]
pub struct StreamLedger {
    recorded: HashSet<Resource>,
}

impl StreamLedger {
    /// A fresh ledger for a new stream connection.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Gate {
    /// Records that the caller opened the event stream `stream` (e.g. `stream.positions`),
    /// durably, before anything is sent: who watched what, and when, is in the log, and no
    /// stream is served while the log cannot be written.
    pub async fn open_stream(&self, caller: &Caller, stream: &'static str) -> Result<()> {
        self.record(&caller.who, &caller.origin, Event::info(stream, None, "stream opened"))
            .await
    }

    /// Discloses `value` to a stream's reader: decided every time (grants change while a
    /// stream is open); recorded once per stream and resource. `None` when the reader may
    /// not see it.
    pub async fn disclose_to_stream<T: Protected>(
        &self,
        caller: &Caller,
        ledger: &mut StreamLedger,
        value: T,
    ) -> Result<Option<Disclosed<T>>> {
        let parts = value.parts();
        let allowed = self.allowed::<T>(&caller.actor, &parts);
        if allowed.is_empty() {
            return Ok(None);
        }
        let fresh: Vec<(usize, Vec<String>)> = allowed
            .iter()
            .filter(|(i, _)| parts.get(*i).is_some_and(|p| !ledger.recorded.contains(&p.resource)))
            .cloned()
            .collect();
        let mut entries = Vec::new();
        self.disclosure_entries(caller, &parts, &fresh, &mut entries);
        self.append(entries).await?;
        for (i, _) in &fresh {
            if let Some(p) = parts.get(*i) {
                ledger.recorded.insert(p.resource);
            }
        }
        Ok(Some(Self::release(value, &parts, &allowed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_print_and_parse_back() {
        let id = Uuid::now_v7();
        for r in [
            Resource::Person(PersonId::from_uuid(id)),
            Resource::MovementPlan(MovementId::from_uuid(id)),
            Resource::Movement(MovementId::from_uuid(id)),
            Resource::Report(id),
            Resource::Dashboard,
            Resource::PrivilegeRequest(id),
        ] {
            assert_eq!(r.to_string().parse::<Resource>(), Ok(r));
        }
        assert_eq!(
            Resource::MovementPlan(MovementId::from_uuid(id)).to_string(),
            format!("movement:{id}:plan")
        );
        for bad in ["person", "person:x", "movement:{id}:route", "thing:0193", ""] {
            assert!(
                bad.replace("{id}", &id.to_string()).parse::<Resource>().is_err(),
                "{bad}"
            );
        }
    }
}
