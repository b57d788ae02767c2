//! Traceable disclosures of movement briefs (PRODUCT §3.2): each recipient's copy of a
//! brief is rendered by `jsms-disclosure` from their codeword (assigned at their first copy
//! and stored) and the movement's key (sealed in the plan), with the operative facts shared
//! by the escort and the planners; every copy is a recorded disclosure of the plan. The
//! planners see which variants each recipient received; auditors trace a leaked text or the
//! facts attackers knew back to the recipients, beside who knew from the audit log.

use crate::error::{Error, Result};
use crate::gate::{Change, Refusal, Resource};
use crate::{Caller, Services};
use jsms_disclosure::{
    Audience, BriefContent, BriefLeg, CodeParams, Codeword, Disclosure, FactError, Finding, Known, MovementKey,
    Recipient, StatedFact, TraceOptions, Tracer,
};
use jsms_domain::access::Action;
use jsms_domain::ids::{MovementId, UserId};
use jsms_domain::movement::Endpoint;
use jsms_store::{MovementRecord, Store, StoreError};
use serde::Serialize;
use uuid::Uuid;

/// A fresh movement disclosure key (stored in the sealed plan when it is made).
pub fn fresh_movement_key() -> Result<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| Error::Internal(format!("random movement key: {e}")))?;
    Ok(MovementKey(key).to_hex())
}

/// The movement's disclosure key (from the plan; derived from the id for older plans).
pub fn movement_key(m: &MovementRecord) -> MovementKey {
    m.plan
        .as_ref()
        .and_then(|p| p.disclosure_key.as_deref())
        .and_then(MovementKey::from_hex)
        .unwrap_or_else(|| MovementKey::derived_from(&format!("movement:{}", m.id)))
}

/// A recipient's audience: escort team member, planner, or anyone else shown the brief.
pub fn audience(m: &MovementRecord, user: UserId) -> Audience {
    if m.plan.as_ref().is_some_and(|p| p.escort_members.contains(&user)) {
        Audience::Escort
    } else if m.body.planners.contains(&user) {
        Audience::Planner
    } else {
        Audience::Informed
    }
}

/// The brief of a planned movement bound to its key.
pub fn disclosure(store: &dyn Store, m: &MovementRecord) -> Result<(BriefContent, Disclosure), StoreError> {
    let content = brief_content(store, m)?;
    let key = movement_key(m);
    let doc = jsms_disclosure::brief(&content, &key);
    let d = Disclosure::new(doc, &key, CodeParams::default());
    Ok((content, d))
}

/// What a brief of `m` says (the plan must exist).
pub fn brief_content(store: &dyn Store, m: &MovementRecord) -> Result<BriefContent, StoreError> {
    let plan = m.plan.as_ref().ok_or(StoreError::NotFound)?;
    let place = |e: &Endpoint| -> Result<String, StoreError> {
        Ok(match e {
            Endpoint::Site(id) => store.site(*id)?.draft.name,
            Endpoint::Point(c) => format!("{:.5}, {:.5}", c.lat(), c.lon()),
        })
    };
    let mut persons = Vec::new();
    for p in &m.body.request.persons {
        persons.push(store.person(*p)?.person.draft.full_name);
    }
    let legs = m
        .body
        .request
        .legs
        .iter()
        .zip(&plan.legs)
        .map(|(l, p)| {
            Ok(BriefLeg {
                from: place(&l.from)?,
                to: place(&l.to)?,
                roads: p.roads.clone(),
                distance_m: p.distance_m,
                duration_s: p.duration_s,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut contacts = vec![("Operations room".to_owned(), "radio net OPS-1".to_owned())];
    for u in &m.body.planners {
        contacts.push(("Coordinator".to_owned(), store.user(*u)?.display_name));
    }
    let reference = m.id.to_string();
    Ok(BriefContent {
        reference: format!(
            "MV-{}",
            reference.get(reference.len().saturating_sub(8)..).unwrap_or("")
        ),
        purpose: m.body.request.purpose.clone(),
        persons,
        departure: plan.departure,
        arrival: plan.arrival,
        legs,
        call_sign: plan.call_sign.clone(),
        vehicles: plan.escort_vehicles.clone(),
        contacts,
        // Manned fallback sites are not in the registry yet: no fallback fact is named.
        fallback_sites: Vec::new(),
    })
}

/// One variant a recipient received.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceivedVariant {
    /// The choice point.
    pub label: String,
    /// The fact (`ready`, `staging_code`…), for facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// What their copy says (empty: a road left out of their partial route).
    pub text: String,
    /// Whether their audience shares it (operative facts).
    pub shared: bool,
}

/// One recipient of a brief and what their copy says.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BriefRecipient {
    /// The recipient.
    pub user: Uuid,
    /// Username.
    pub username: String,
    /// `escort`, `planner` or `informed`.
    pub audience: String,
    /// First copy (RFC 3339).
    pub first_copy: String,
    /// Copies taken.
    pub copies: i64,
    /// The facts their copy states.
    pub facts: Vec<ReceivedVariant>,
    /// Their wording and format choices.
    pub wording: Vec<ReceivedVariant>,
}

/// Who received the brief and which variants (the movement's planners only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BriefRecipients {
    /// The movement.
    pub movement: Uuid,
    /// Every recipient, first copy first.
    pub recipients: Vec<BriefRecipient>,
}

/// What each recipient of a movement's brief received.
pub fn recipients_of(store: &dyn Store, m: &MovementRecord) -> Result<Vec<BriefRecipient>, StoreError> {
    let (_, d) = disclosure(store, m)?;
    let mut out = Vec::new();
    for (user, codeword, first, copies) in store.disclosures(m.id)? {
        let Some(cw) = Codeword::from_hex(&codeword) else {
            continue;
        };
        let aud = audience(m, user);
        let received = d.received(&Recipient {
            codeword: cw,
            audience: aud,
        });
        let (facts, wording): (Vec<_>, Vec<_>) = received.into_iter().partition(|r| r.is_fact);
        let wire = |r: jsms_disclosure::Received| ReceivedVariant {
            label: r.label,
            fact: r.fact,
            text: r.text,
            shared: r.shared,
        };
        out.push(BriefRecipient {
            user: user.uuid(),
            username: store.user(user)?.username.as_str().to_owned(),
            audience: aud.as_str().to_owned(),
            first_copy: crate::rfc3339(first),
            copies,
            facts: facts.into_iter().map(wire).collect(),
            wording: wording.into_iter().map(wire).collect(),
        });
    }
    Ok(out)
}

/// What the tracer reads.
#[derive(Debug, Clone)]
pub enum LeakInput {
    /// A leaked text.
    Text(String),
    /// Facts stated one by one.
    Facts(Vec<StatedFact>),
    /// Facts as free text.
    FactText(String),
}

/// A fact seen and a recipient's copy of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeakEvidence {
    /// The choice point.
    pub label: String,
    /// The fact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// What the leak says (the variants it is consistent with).
    pub leaked: Vec<String>,
    /// What their copy says.
    pub received: String,
    /// Whether they agree.
    pub agrees: bool,
    /// Whether their audience shares this fact (it then cannot single them out).
    pub shared: bool,
}

/// One recipient's score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeakCandidate {
    /// The recipient.
    pub user: Uuid,
    /// Username.
    pub username: String,
    /// `escort`, `planner` or `informed`.
    pub audience: String,
    /// Observed choice points they received on their own.
    pub scored: usize,
    /// Of which their copy agrees with the leak.
    pub agreeing: usize,
    /// Bound on the chance that an innocent recipient agrees this much.
    pub p_value: f64,
    /// The same with the facts their audience shares (group test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_p_value: Option<f64>,
    /// Facts seen in the leak and theirs.
    pub evidence: Vec<LeakEvidence>,
}

/// Someone named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeakFinding {
    /// `individual` (their own copy explains the leak) or `group` (facts shared by these
    /// recipients explain it: one of them, or someone they told).
    pub kind: String,
    /// Who.
    pub users: Vec<Uuid>,
    /// Their usernames.
    pub usernames: Vec<String>,
    /// Bound on the chance of a match this good by chance.
    pub p_value: f64,
}

/// A choice point recognised in the leak.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeakObservation {
    /// The point.
    pub label: String,
    /// The fact, for facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// The variants the leak is consistent with.
    pub seen: Vec<String>,
}

/// Someone who knew the movement's plan (audit log) but never took a traceable copy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeakKnew {
    /// The principal (`user:<id>`).
    pub principal: String,
    /// Their name at the time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First access (RFC 3339).
    pub first_access: String,
}

/// The tracer's answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeakTrace {
    /// Choice points recognised in the text.
    pub observed: usize,
    /// The recipient whose copy best explains the text, or null for "none of the recipients".
    pub verdict: Option<LeakCandidate>,
    /// Confidence that the verdict is not an innocent who matched by chance.
    pub confidence: f64,
    /// Everyone over the bar: individuals, and groups that share operative facts.
    pub named: Vec<LeakFinding>,
    /// Up to ten recipients, most likely first.
    pub ranking: Vec<LeakCandidate>,
    /// What was recognised.
    pub observations: Vec<LeakObservation>,
    /// The bar each test had to pass.
    pub bar: f64,
    /// Recipients on record (copies taken).
    pub recipients: usize,
    /// Recipients considered (after `leaked_before`).
    pub candidates: usize,
    /// People who knew the plan through the system (audit log) without a traceable copy: the
    /// marks can neither implicate nor clear them.
    pub knew_without_copy: Vec<LeakKnew>,
}

/// Why a trace could not run.
#[derive(Debug, thiserror::Error)]
pub enum LeakError {
    /// The store failed or the movement is not planned.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The facts given are not usable.
    #[error(transparent)]
    Facts(#[from] FactError),
}

/// Runs the leak tracer on the recipients of a movement. `knew` is who accessed the plan
/// according to the audit log: (principal, name, Unix seconds), oldest first.
pub fn trace_leak(
    store: &dyn Store,
    movement: MovementId,
    input: &LeakInput,
    leaked_before: Option<i64>,
    knew: &[(String, Option<String>, i64)],
) -> Result<LeakTrace, LeakError> {
    let m = store.movement(movement)?;
    let (_, d) = disclosure(store, &m)?;
    let rows = store.disclosures(movement)?;
    let known: Vec<Known<UserId>> = rows
        .iter()
        .filter_map(|(u, cw, first, _)| {
            Codeword::from_hex(cw).map(|c| Known {
                id: *u,
                recipient: Recipient {
                    codeword: c,
                    audience: audience(&m, *u),
                },
                first_copy: *first,
            })
        })
        .collect();
    let tracer = Tracer::new(&d, known);
    let opts = TraceOptions {
        leaked_before,
        ..TraceOptions::default()
    };
    let t = match input {
        LeakInput::Text(text) => tracer.trace(text, opts),
        LeakInput::FactText(text) => tracer.trace_fact_text(text, opts),
        LeakInput::Facts(facts) => tracer.trace_facts(facts, opts)?,
    };
    let name = |u: UserId| store.user(u).map(|u| u.username.as_str().to_owned());
    let candidate = |c: &jsms_disclosure::Candidate<UserId>| -> Result<LeakCandidate, StoreError> {
        Ok(LeakCandidate {
            user: c.recipient.uuid(),
            username: name(c.recipient)?,
            audience: c.audience.as_str().to_owned(),
            scored: c.scored,
            agreeing: c.agreeing,
            p_value: c.p_value,
            group_p_value: c.group_p_value,
            evidence: c
                .evidence
                .iter()
                .map(|e| LeakEvidence {
                    label: e.label.clone(),
                    fact: e.fact.clone(),
                    leaked: e.leaked.clone(),
                    received: e.received.clone(),
                    agrees: e.agrees,
                    shared: e.shared,
                })
                .collect(),
        })
    };
    let ranking = t.ranking.iter().map(candidate).collect::<Result<Vec<_>, _>>()?;
    let verdict = match &t.verdict {
        Some(v) => t
            .ranking
            .iter()
            .find(|c| c.recipient == *v)
            .map(candidate)
            .transpose()?,
        None => None,
    };
    let mut named = Vec::new();
    for f in &t.findings {
        let (kind, users, p) = match f {
            Finding::Individual { recipient, p_value } => ("individual", vec![*recipient], *p_value),
            Finding::Group { members, p_value, .. } => ("group", members.clone(), *p_value),
        };
        named.push(LeakFinding {
            kind: kind.to_owned(),
            users: users.iter().map(|u| u.uuid()).collect(),
            usernames: users.iter().map(|u| name(*u)).collect::<Result<Vec<_>, _>>()?,
            p_value: p,
        });
    }
    let copied: Vec<String> = rows.iter().map(|(u, _, _, _)| format!("user:{u}")).collect();
    let mut knew_without_copy: Vec<LeakKnew> = Vec::new();
    for (principal, who, at) in knew {
        if copied.contains(principal) || knew_without_copy.iter().any(|k| &k.principal == principal) {
            continue;
        }
        if leaked_before.is_some_and(|t| *at > t) {
            continue;
        }
        knew_without_copy.push(LeakKnew {
            principal: principal.clone(),
            name: who.clone(),
            first_access: crate::rfc3339(*at),
        });
    }
    Ok(LeakTrace {
        observed: t.observed,
        verdict,
        confidence: t.confidence,
        named,
        ranking,
        observations: t
            .observations
            .iter()
            .map(|o| LeakObservation {
                label: o.label.clone(),
                fact: o.fact.clone(),
                seen: o.seen.clone(),
            })
            .collect(),
        bar: t.bar,
        recipients: rows.len(),
        candidates: t.candidates,
        knew_without_copy,
    })
}

/// A rendered brief for its recipient.
#[derive(Debug, Clone)]
pub struct RenderedBrief {
    /// The brief's reference (`MV-…`).
    pub reference: String,
    /// The recipient's copy.
    pub text: String,
}

fn plan_check(m: &MovementRecord, log: &'static str) -> Change {
    Change::new(
        log,
        Some(Resource::MovementPlan(m.id)),
        Action::ReadMovementPlan {
            movement: m.id,
            org: m.org,
            party: m.party,
        },
        Refusal::Hidden,
    )
}

fn not_planned() -> Error {
    Error::Conflict("the movement is not planned yet: there is no brief".into())
}

impl Services {
    /// The movement brief for the signed-in recipient (need to know): their own wording,
    /// the codeword recorded with the copy, the disclosure recorded before it is rendered.
    pub async fn brief(&self, caller: &Caller, id: MovementId) -> Result<RenderedBrief> {
        let user = caller.human()?.clone();
        let m = self
            .by_id(caller, "movement.brief", Resource::Movement(id), move |s| {
                s.movement(id)
            })
            .await?;
        let change = plan_check(&m, "movement.brief.disclose");
        let mut reasons = self.gate.check(caller, &change).await?;
        if m.plan.is_none() {
            return Err(not_planned());
        }
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| Error::Internal(format!("random codeword: {e}")))?;
        let now = self.clock.now();
        let fresh_hex = Codeword(fresh).to_hex();
        let aud = audience(&m, user.id);
        let ((content, disclosed), codeword) = self
            .db(move |s| {
                let built = disclosure(s, &m)?;
                let codeword = s.record_disclosure(m.id, user.id, &fresh_hex, now)?;
                Ok((built, codeword))
            })
            .await?;
        let cw = Codeword::from_hex(&codeword).ok_or_else(|| Error::Internal("stored codeword unreadable".into()))?;
        reasons.push(format!("recipient:user:{}", user.id));
        reasons.push(format!("codeword:{codeword}"));
        reasons.push(format!("audience:{}", aud.as_str()));
        self.gate.record_permit(caller, &change, reasons).await.map(drop)?;
        let text = disclosed.render(&Recipient {
            codeword: cw,
            audience: aud,
        });
        Ok(RenderedBrief {
            reference: content.reference,
            text,
        })
    }

    /// Which variants of the brief each recipient received (the movement's planners only:
    /// the variants reveal the operative facts and who holds which copy).
    pub async fn brief_recipients(&self, caller: &Caller, id: MovementId) -> Result<Vec<BriefRecipient>> {
        let user = caller.human()?.clone();
        let m = self
            .by_id(caller, "movement.brief.recipients", Resource::Movement(id), move |s| {
                s.movement(id)
            })
            .await?;
        let change = plan_check(&m, "movement.brief.recipients");
        let reasons = self.gate.check(caller, &change).await?;
        if !m.body.planners.contains(&user.id) {
            return Err(Error::Forbidden(
                "only the movement's planners see who received which variants",
            ));
        }
        if m.plan.is_none() {
            return Err(not_planned());
        }
        let recipients = self.db(move |s| recipients_of(s, &m)).await?;
        self.gate.record_permit(caller, &change, reasons).await.map(drop)?;
        Ok(recipients)
    }

    /// Names every recipient whose copy explains a leaked text or the facts the attackers
    /// knew, with who else knew the plan (auditors).
    pub async fn leak_trace(
        &self,
        caller: &Caller,
        id: MovementId,
        input: LeakInput,
        leaked_before: Option<i64>,
    ) -> Result<std::result::Result<LeakTrace, FactError>> {
        let change = Change::new(
            "movement.leak_trace",
            Some(Resource::Movement(id)),
            Action::ReadAuditLog,
            Refusal::Forbidden("auditors trace leaks"),
        );
        let mut reasons = self.gate.check(caller, &change).await?;
        let until = self.clock.now().saturating_add(1).saturating_mul(1000);
        let knew: Vec<(String, Option<String>, i64)> = self
            .accesses(vec![Resource::MovementPlan(id)], 0, until)
            .await?
            .into_iter()
            .map(|a| {
                let at = time::OffsetDateTime::parse(&a.time, &time::format_description::well_known::Rfc3339)
                    .map_or(0, |t| t.unix_timestamp());
                (a.principal, a.name, at)
            })
            .collect();
        let result = self
            .db(move |s| match trace_leak(s, id, &input, leaked_before, &knew) {
                Ok(t) => Ok(Ok(t)),
                Err(LeakError::Store(e)) => Err(e),
                Err(LeakError::Facts(e)) => Ok(Err(e)),
            })
            .await?;
        let Ok(trace) = result else { return Ok(result) };
        reasons.push(match &trace.verdict {
            Some(v) => format!("verdict:user:{}", v.user),
            None => "verdict:none".to_owned(),
        });
        for n in &trace.named {
            for u in &n.users {
                reasons.push(format!("named:{}:user:{u}", n.kind));
            }
        }
        self.gate.record_permit(caller, &change, reasons).await.map(drop)?;
        Ok(Ok(trace))
    }
}
