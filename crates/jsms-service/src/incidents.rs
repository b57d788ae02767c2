//! Incidents and lessons learned (PRODUCT §3.7): reports with their links, a timeline, the
//! investigation (status, findings), lessons with follow-up actions, and the "who knew"
//! report of every linked movement attached with one action. Reports are sealed at rest;
//! the reporting party reads them, the other party when they are released to it (never an
//! auditor: narratives are contents); the reporting party's coordinators and analysts
//! investigate. Incidents feed the route risk ([`crate::planning::StoreFeed`]).

use crate::error::{Error, Result, referenced};
use crate::gate::{Change, Disclosed, Part, Protected, Refusal, Resource};
use crate::logbook::Access;
use crate::{Caller, Services};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::geo::Coordinate;
use jsms_domain::ids::{MovementId, PersonId, SiteId, UserId};
use jsms_domain::incident::{FollowUp, IncidentKind, IncidentReport, InvestigationStatus, Lesson, TimelineEntry};
use jsms_store::IncidentRecord;
use uuid::Uuid;

/// The one part of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentPart {
    /// Report, narrative, timeline, findings, lessons.
    Record,
}

impl Protected for IncidentRecord {
    type Part = IncidentPart;

    fn parts(&self) -> Vec<Part<IncidentPart>> {
        vec![Part {
            part: IncidentPart::Record,
            resource: Resource::Incident(self.id),
            action: read_action(self),
            log: "incident.read",
            fields: &["narrative", "timeline", "findings", "lessons"],
        }]
    }

    fn redact(&mut self, _allowed: &[IncidentPart]) {}
}

fn read_action(i: &IncidentRecord) -> Action {
    Action::ReadIncident {
        incident: i.id,
        party: i.party,
        shared: i.report.shared,
    }
}

fn investigate_action(i: &IncidentRecord) -> Action {
    Action::InvestigateIncident {
        incident: i.id,
        party: i.party,
        shared: i.report.shared,
    }
}

/// An incident as shown to a caller.
#[derive(Debug, Clone)]
pub struct ShownIncident {
    /// The incident.
    pub incident: Disclosed<IncidentRecord>,
    /// Whether the caller may investigate it.
    pub may_investigate: bool,
}

/// An incident report as entered.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// Kind (`attack`, `threat`, …).
    pub kind: String,
    /// Short title.
    pub title: String,
    /// When it happened.
    pub occurred_at: i64,
    /// Where.
    pub place: Coordinate,
    /// 1–5.
    pub severity: u8,
    /// What happened.
    pub narrative: String,
    /// Linked persons.
    pub persons: Vec<Uuid>,
    /// Linked movements.
    pub movements: Vec<Uuid>,
    /// Linked sites.
    pub sites: Vec<Uuid>,
    /// Linked zones.
    pub zones: Vec<Uuid>,
    /// Released to the other party.
    pub shared: bool,
}

/// A follow-up action as entered.
#[derive(Debug, Clone)]
pub struct NewFollowUp {
    /// What is to be done.
    pub text: String,
    /// Who owns it.
    pub owner: Option<UserId>,
    /// Due.
    pub due: Option<i64>,
}

/// Who knew a linked movement.
#[derive(Debug, Clone)]
pub struct MovementKnowers {
    /// The movement.
    pub movement: MovementId,
    /// Everyone who read its details (sealed plan or brief), with when.
    pub accesses: Vec<Access>,
}

impl Services {
    fn shown(&self, caller: &Caller, incident: Disclosed<IncidentRecord>) -> ShownIncident {
        let may_investigate = self.gate.allows(&caller.actor, investigate_action(&incident));
        ShownIncident {
            incident,
            may_investigate,
        }
    }

    /// Reports an incident for the reporter's party.
    pub async fn report_incident(&self, caller: &Caller, input: NewIncident) -> Result<ShownIncident> {
        let user = caller.human()?.clone();
        let party = caller.actor.party_id;
        let id = Uuid::now_v7();
        let change = Change::new(
            "incident.report",
            Some(Resource::Incident(id)),
            Action::ReportIncident { party },
            Refusal::Forbidden("operational staff report incidents"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let now = self.clock.now();
        let kind = IncidentKind::parse(&input.kind).ok_or_else(|| {
            ValidationError::new(
                "/kind",
                "attack, threat, suspicious_activity, breach_of_procedure or accident",
            )
        })?;
        for (i, p) in input.persons.iter().enumerate() {
            let id = PersonId::from_uuid(*p);
            referenced(
                self.db(move |s| s.person(id)).await,
                format!("/persons/{i}"),
                "protected person",
            )?;
        }
        for (i, m) in input.movements.iter().enumerate() {
            let id = MovementId::from_uuid(*m);
            referenced(
                self.db(move |s| s.movement(id)).await,
                format!("/movements/{i}"),
                "movement",
            )?;
        }
        for (i, s) in input.sites.iter().enumerate() {
            let id = SiteId::from_uuid(*s);
            referenced(self.db(move |st| st.site(id)).await, format!("/sites/{i}"), "site")?;
        }
        for (i, z) in input.zones.iter().enumerate() {
            let id = *z;
            referenced(self.db(move |s| s.zone(id)).await, format!("/zones/{i}"), "threat zone")?;
        }
        let report = IncidentReport::new(
            kind,
            &input.title,
            input.occurred_at,
            input.place,
            input.severity,
            &input.narrative,
            (
                input.persons.into_iter().map(PersonId::from_uuid).collect(),
                input.movements.into_iter().map(MovementId::from_uuid).collect(),
                input.sites.into_iter().map(SiteId::from_uuid).collect(),
                input.zones,
            ),
            input.shared,
            now,
        )?;
        let record = IncidentRecord {
            id,
            party,
            reporter: user.id,
            report,
            status: InvestigationStatus::Reported,
            timeline: vec![TimelineEntry {
                at: now,
                user: Some(user.id),
                text: "reported".into(),
            }],
            findings: None,
            lessons: Vec::new(),
            version: 1,
            created_at: now,
        };
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let r = record.clone();
        self.write(caller, &change, permit, move |s| s.create_incident(&r, now))
            .await?;
        let disclosed = self.gate.disclose(caller, record).await?;
        Ok(self.shown(caller, disclosed))
    }

    /// Incidents the caller may read, newest first, each disclosed.
    pub async fn incidents(&self, caller: &Caller) -> Result<Vec<ShownIncident>> {
        let all = self.db(|s| s.incidents()).await?;
        let visible: Vec<IncidentRecord> = all
            .into_iter()
            .filter(|i| self.gate.may_see(&caller.actor, i))
            .collect();
        Ok(self
            .gate
            .disclose_all(caller, visible)
            .await?
            .into_iter()
            .map(|i| self.shown(caller, i))
            .collect())
    }

    /// One incident.
    pub async fn incident(&self, caller: &Caller, id: Uuid) -> Result<ShownIncident> {
        let i = self
            .by_id(caller, "incident.read", Resource::Incident(id), move |s| s.incident(id))
            .await?;
        let disclosed = self.gate.disclose(caller, i).await?;
        Ok(self.shown(caller, disclosed))
    }

    /// An incident the caller may investigate: those who may only read it learn that they
    /// may not; others learn nothing. The investigation step is recorded as `log`.
    async fn investigable(
        &self,
        caller: &Caller,
        id: Uuid,
        log: &'static str,
    ) -> Result<(IncidentRecord, Change, Vec<String>)> {
        let i = self.db(move |s| s.incident(id)).await?;
        let refusal = if self.gate.allows(&caller.actor, read_action(&i)) {
            Refusal::Forbidden("the reporting party's coordinators and analysts investigate")
        } else {
            Refusal::Hidden
        };
        let change = Change::new(log, Some(Resource::Incident(id)), investigate_action(&i), refusal);
        let reasons = self.gate.check(caller, &change).await?;
        Ok((i, change, reasons))
    }

    /// Stores an investigation step with its timeline entry, recorded first; discloses the
    /// result to the investigator.
    async fn save_incident(
        &self,
        caller: &Caller,
        (mut i, change, reasons): (IncidentRecord, Change, Vec<String>),
        version: i64,
        entry: String,
    ) -> Result<ShownIncident> {
        let user = caller.human()?.id;
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        i.timeline.push(TimelineEntry {
            at: now,
            user: Some(user),
            text: entry,
        });
        let saved = self
            .write(caller, &change, permit, move |s| s.update_incident(&i, version, now))
            .await?;
        let disclosed = self.gate.disclose(caller, saved).await?;
        Ok(self.shown(caller, disclosed))
    }

    /// Adds an update to the timeline (investigators).
    pub async fn add_incident_update(
        &self,
        caller: &Caller,
        id: Uuid,
        version: i64,
        text: &str,
    ) -> Result<ShownIncident> {
        let step = self.investigable(caller, id, "incident.update").await?;
        let text = jsms_domain::text::required("/text", text, 5000)?;
        self.save_incident(caller, step, version, text).await
    }

    /// Moves the investigation on: under investigation, closed with findings, reopened.
    pub async fn investigate(
        &self,
        caller: &Caller,
        id: Uuid,
        version: i64,
        status: &str,
        findings: Option<&str>,
    ) -> Result<ShownIncident> {
        let (mut i, change, reasons) = self.investigable(caller, id, "incident.investigate").await?;
        let to = InvestigationStatus::parse(status)
            .ok_or_else(|| ValidationError::new("/status", "under_investigation or closed"))?;
        if !i.status.may_become(to) {
            return Err(Error::Conflict(format!(
                "the investigation is {}; it cannot become {}",
                i.status.as_str(),
                to.as_str()
            )));
        }
        let findings = findings
            .map(|f| jsms_domain::text::required("/findings", f, 10_000))
            .transpose()?;
        if to == InvestigationStatus::Closed && findings.is_none() && i.findings.is_none() {
            return Err(ValidationError::new("/findings", "say what the investigation found to close it").into());
        }
        i.status = to;
        if findings.is_some() {
            i.findings = findings;
        }
        let entry = format!("investigation: {}", to.as_str().replace('_', " "));
        self.save_incident(caller, (i, change, reasons), version, entry).await
    }

    /// Adds a lesson learned with its follow-up actions (at most 20).
    pub async fn add_lesson(
        &self,
        caller: &Caller,
        id: Uuid,
        version: i64,
        text: &str,
        follow_ups: Vec<NewFollowUp>,
    ) -> Result<ShownIncident> {
        let (mut i, change, reasons) = self.investigable(caller, id, "incident.lesson").await?;
        let text = jsms_domain::text::required("/text", text, 5000)?;
        if follow_ups.len() > 20 {
            return Err(ValidationError::new("/actions", "at most 20 follow-up actions").into());
        }
        let mut actions = Vec::with_capacity(follow_ups.len());
        for (k, a) in follow_ups.into_iter().enumerate() {
            if let Some(uid) = a.owner {
                referenced(
                    self.db(move |s| s.user(uid)).await,
                    format!("/actions/{k}/owner"),
                    "user",
                )?;
            }
            actions.push(FollowUp {
                text: jsms_domain::text::required(&format!("/actions/{k}/text"), &a.text, 1000)?,
                owner: a.owner,
                due: a.due,
                done: false,
            });
        }
        i.lessons.push(Lesson { text, actions });
        self.save_incident(caller, (i, change, reasons), version, "lesson learned added".into())
            .await
    }

    /// Computes the "who knew" report of every linked movement from the audit log and
    /// attaches its summary to the incident's timeline (investigators).
    pub async fn incident_who_knew(&self, caller: &Caller, id: Uuid, version: i64) -> Result<Vec<MovementKnowers>> {
        let (i, change, reasons) = self.investigable(caller, id, "incident.who_knew").await?;
        let mut out = Vec::new();
        let mut summary = Vec::new();
        for m in &i.report.movements {
            let accesses = self.accesses(vec![Resource::MovementPlan(*m)], 0, i64::MAX).await?;
            let names: std::collections::BTreeSet<String> = accesses
                .iter()
                .map(|a| a.name.clone().unwrap_or_else(|| a.principal.clone()))
                .collect();
            summary.push(format!(
                "movement {m}: {} ({})",
                names.len(),
                names.into_iter().collect::<Vec<_>>().join(", ")
            ));
            out.push(MovementKnowers { movement: *m, accesses });
        }
        if out.is_empty() {
            return Err(Error::Conflict("no movement is linked to this incident".into()));
        }
        let entry = format!("who-knew report attached: {}", summary.join("; "));
        self.save_incident(caller, (i, change, reasons), version, entry).await?;
        Ok(out)
    }
}
