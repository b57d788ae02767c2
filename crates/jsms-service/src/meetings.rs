//! Coordination meetings (PRODUCT §3.5): agenda, attendance by party, minutes, decisions and
//! action items; and the joint dashboard.
//!
//! Rules: a meeting is visible only to the staff of the organising party and of the parties
//! attending (one party's meetings are invisible to the other). Minutes are written by a
//! representative (coordinator or liaison officer) of an attending party; they become final
//! only when, for each attending party, a representative other than the minutes' author has
//! approved them — nobody finalises their own minutes. Final minutes never change: a
//! correction is a new record.

use crate::error::{Error, Result, referenced};
use crate::gate::{Change, Disclosed, Event, Part, Protected, Refusal, Resource};
use crate::{Caller, Origin, Services, Who, rfc3339};
use jsms_domain::ValidationError;
use jsms_domain::access::{Action, PartySet};
use jsms_domain::ids::{OrgId, PartyId, UserId};
use jsms_domain::user::{Role, User};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Who attended for a party.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    /// The party.
    pub party: Uuid,
    /// The organisation, if one.
    #[serde(default)]
    pub org: Option<Uuid>,
    /// Names or functions of the people present.
    #[serde(default)]
    pub people: String,
}

/// An action item.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ActionItem {
    /// What is to be done.
    pub text: String,
    /// Who owns it (a user id).
    #[serde(default)]
    pub owner: Option<Uuid>,
    /// Due (RFC 3339).
    #[serde(default)]
    #[schema(format = DateTime)]
    pub due: Option<String>,
    /// Done.
    #[serde(default)]
    pub done: bool,
    /// When the reminder for being overdue was sent (set by the server).
    #[serde(default)]
    pub reminded_at: Option<String>,
}

/// One party's approval of the minutes.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, PartialEq)]
pub struct MinutesApproval {
    /// The party.
    pub party: Uuid,
    /// Its representative.
    pub user: Uuid,
    /// When.
    pub at: String,
}

/// A meeting (stored as JSON).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, PartialEq)]
pub struct Meeting {
    /// Title.
    pub title: String,
    /// When (RFC 3339).
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// Location or channel.
    pub place: String,
    /// Agenda items.
    pub agenda: Vec<String>,
    /// Attendance by party and organisation.
    pub attendance: Vec<Attendance>,
    /// The minutes.
    pub minutes: Option<String>,
    /// Who wrote the current minutes (their approval does not count).
    #[serde(default)]
    pub minutes_by: Option<Uuid>,
    /// Decisions taken (text, or references to bilateral decisions).
    pub decisions: Vec<String>,
    /// Action items.
    pub actions: Vec<ActionItem>,
    /// Approvals of the current minutes.
    pub approvals: Vec<MinutesApproval>,
    /// The meeting whose final minutes this record corrects.
    pub corrects: Option<Uuid>,
    /// Who organised it.
    pub organiser: Uuid,
}

impl Meeting {
    /// The parties attending.
    pub fn attending(&self) -> BTreeSet<Uuid> {
        self.attendance.iter().map(|a| a.party).collect()
    }

    /// The attending parties whose approval of the minutes is still missing.
    pub fn awaiting(&self) -> Vec<Uuid> {
        let approved: BTreeSet<Uuid> = self.approvals.iter().map(|a| a.party).collect();
        self.attending().into_iter().filter(|p| !approved.contains(p)).collect()
    }

    /// Whether `user` represents `party` for minutes: a coordinator or liaison officer of it.
    pub fn representative(user: &User, party: Uuid) -> bool {
        user.party_id.uuid() == party
            && user
                .roles
                .iter()
                .any(|r| matches!(r, Role::MovementCoordinator | Role::LiaisonOfficer))
    }

    /// Records `user`'s approval for their party at `now`; refuses the minutes' author, a
    /// non-representative, and minutes that do not exist. Returns whether the minutes are
    /// now final (every attending party approved).
    pub fn approve(&mut self, user: &User, now: i64) -> Result<bool> {
        if self.minutes.is_none() {
            return Err(Error::Conflict("there are no minutes to approve yet".into()));
        }
        let party = user.party_id.uuid();
        if !self.attending().contains(&party) || !Self::representative(user, party) {
            return Err(Error::Forbidden(
                "a coordinator or liaison officer of an attending party approves its minutes",
            ));
        }
        if self.minutes_by == Some(user.id.uuid()) {
            return Err(Error::Conflict(
                "the author of the minutes cannot approve them: another representative of the party must".into(),
            ));
        }
        self.approvals.retain(|a| a.party != party);
        self.approvals.push(MinutesApproval {
            party,
            user: user.id.uuid(),
            at: rfc3339(now),
        });
        Ok(self.awaiting().is_empty())
    }

    /// The attending parties, as an authorization value (with the organiser's).
    fn parties(&self, organiser: PartyId) -> PartySet {
        let ids = self
            .attendance
            .iter()
            .map(|a| PartyId::from_uuid(a.party))
            .chain(std::iter::once(organiser));
        // More parties than a set holds is refused at creation; should one slip through,
        // the organiser alone is the safe (narrower) answer.
        PartySet::new(ids).unwrap_or_else(|_| PartySet::new([organiser]).unwrap_or_default())
    }
}

/// A stored meeting: the organising party, the record, whether final, its version, and the
/// records that correct it.
#[derive(Debug, Clone)]
pub struct StoredMeeting {
    /// Identifier.
    pub id: Uuid,
    /// The organising party.
    pub party: PartyId,
    /// The meeting.
    pub meeting: Meeting,
    /// Final: immutable.
    pub is_final: bool,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Corrections of this meeting's minutes (newer records).
    pub corrected_by: Vec<Uuid>,
}

/// The one part of a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingPart {
    /// Agenda, attendance, minutes, decisions, actions.
    Record,
}

impl Protected for StoredMeeting {
    type Part = MeetingPart;

    fn parts(&self) -> Vec<Part<MeetingPart>> {
        vec![Part {
            part: MeetingPart::Record,
            resource: Resource::Meeting(self.id),
            action: Action::ReadMeeting {
                meeting: self.id,
                party: self.party,
                parties: self.meeting.parties(self.party),
            },
            log: "meeting.read",
            fields: &["agenda", "attendance", "minutes", "decisions", "actions"],
        }]
    }

    fn redact(&mut self, _allowed: &[MeetingPart]) {}
}

/// A new meeting.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    /// Title.
    pub title: String,
    /// When.
    pub starts_at: i64,
    /// Location or channel.
    pub place: String,
    /// Agenda items.
    pub agenda: Vec<String>,
    /// Attendance by party and organisation.
    pub attendance: Vec<Attendance>,
}

/// Minutes, decisions and action items.
#[derive(Debug, Clone)]
pub struct Minutes {
    /// The version the caller saw.
    pub version: i64,
    /// The minutes.
    pub minutes: String,
    /// Decisions taken.
    pub decisions: Vec<String>,
    /// Action items.
    pub actions: Vec<ActionItem>,
}

/// The joint dashboard: only what the viewer may see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// Decisions waiting for approvals: id, title.
    #[schema(value_type = Vec<Object>)]
    pub open_decisions: serde_json::Value,
    /// Action items past their due date and not done, of meetings the viewer may read.
    #[schema(value_type = Vec<Object>)]
    pub overdue_actions: serde_json::Value,
    /// Movements the viewer may see, by state.
    pub movements_by_state: BTreeMap<String, usize>,
    /// Movements the viewer may see, by assessed risk level.
    pub movements_by_risk: BTreeMap<String, usize>,
    /// Open alerts on movements the viewer may see.
    pub open_alerts: usize,
    /// Incidents the viewer may read whose investigation is not closed.
    pub open_incidents: usize,
}

/// The one part of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardPart {
    /// Everything on it.
    Record,
}

impl Protected for Dashboard {
    type Part = DashboardPart;

    fn parts(&self) -> Vec<Part<DashboardPart>> {
        vec![Part {
            part: DashboardPart::Record,
            resource: Resource::Dashboard,
            action: Action::ReadMeetings,
            log: "dashboard.read",
            fields: &[
                "open_decisions",
                "overdue_actions",
                "movement_counts",
                "open_alerts",
                "open_incidents",
            ],
        }]
    }

    fn redact(&mut self, _allowed: &[DashboardPart]) {}
}

fn decode(body: serde_json::Value) -> Result<Meeting> {
    serde_json::from_value(body).map_err(|e| Error::Internal(format!("meeting: {e}")))
}

fn encode(m: &Meeting) -> Result<serde_json::Value> {
    serde_json::to_value(m).map_err(|e| Error::Internal(e.to_string()))
}

fn texts(field: &str, list: &[String], max: usize) -> std::result::Result<Vec<String>, ValidationError> {
    if list.len() > 50 {
        return Err(ValidationError::new(field, "at most 50 items"));
    }
    list.iter()
        .enumerate()
        .map(|(i, t)| jsms_domain::text::required(&format!("{field}/{i}"), t, max))
        .collect()
}

fn parse_time(field: &str, text: &str) -> std::result::Result<i64, ValidationError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|d| d.unix_timestamp())
        .map_err(|_| ValidationError::new(field, "times are RFC 3339, e.g. 2026-11-29T08:00:00Z"))
}

/// The records that correct meeting `id`, among `all`.
fn corrections(all: &[jsms_store::MeetingRow], id: Uuid) -> Vec<Uuid> {
    let id = id.to_string();
    all.iter()
        .filter(|(_, _, b, _, _)| b.get("corrects").and_then(|c| c.as_str()) == Some(id.as_str()))
        .map(|(i, _, _, _, _)| *i)
        .collect()
}

fn stored(row: &jsms_store::MeetingRow, all: &[jsms_store::MeetingRow]) -> Result<StoredMeeting> {
    let (id, party, body, is_final, version) = row;
    Ok(StoredMeeting {
        id: *id,
        party: *party,
        meeting: decode(body.clone())?,
        is_final: *is_final,
        version: *version,
        corrected_by: corrections(all, *id),
    })
}

const STAFF_ONLY: Refusal = Refusal::Forbidden("coordination is for the operational staff of both parties");

impl Services {
    /// Every meeting record, as stored, with its corrections.
    async fn all_meetings(&self) -> Result<Vec<StoredMeeting>> {
        let all = self.db(|s| s.meetings()).await?;
        all.iter().map(|r| stored(r, &all)).collect()
    }

    /// One meeting record, as stored.
    async fn meeting_record(&self, id: Uuid) -> Result<StoredMeeting> {
        let all = self.db(|s| s.meetings()).await?;
        let row = all.iter().find(|r| r.0 == id).ok_or(Error::NotFound)?;
        stored(row, &all)
    }

    /// A meeting the caller may read, or not found (the denial recorded as `log`).
    async fn readable_meeting(&self, caller: &Caller, id: Uuid, log: &'static str) -> Result<StoredMeeting> {
        let m = match self.meeting_record(id).await {
            Err(Error::NotFound) => {
                let no = Error::NotFound;
                return self.refuse(caller, log, Resource::Meeting(id), no).await;
            }
            other => other?,
        };
        let check = Change::new(
            log,
            Some(Resource::Meeting(id)),
            Action::ReadMeeting {
                meeting: id,
                party: m.party,
                parties: m.meeting.parties(m.party),
            },
            Refusal::Hidden,
        );
        self.gate.check(caller, &check).await?;
        Ok(m)
    }

    /// The meetings the caller may read (their party's, or attended by it), newest first.
    pub async fn meetings(&self, caller: &Caller) -> Result<Vec<Disclosed<StoredMeeting>>> {
        let list = Change::new("meeting.list", None, Action::ReadMeetings, STAFF_ONLY);
        self.gate.check(caller, &list).await?;
        let visible: Vec<StoredMeeting> = self
            .all_meetings()
            .await?
            .into_iter()
            .filter(|m| self.gate.may_see(&caller.actor, m))
            .collect();
        self.gate.disclose_all(caller, visible).await
    }

    /// One meeting.
    pub async fn meeting(&self, caller: &Caller, id: Uuid) -> Result<Disclosed<StoredMeeting>> {
        let m = self.readable_meeting(caller, id, "meeting.read").await?;
        self.gate.disclose(caller, m).await
    }

    async fn validate_attendance(&self, list: &[Attendance]) -> Result<()> {
        if list.is_empty() || list.len() > 50 {
            return Err(ValidationError::new("/attendance", "1 to 50 attending parties or organisations").into());
        }
        let parties = self.db(|s| s.parties()).await?;
        for (i, a) in list.iter().enumerate() {
            if !parties.iter().any(|p| p.id.uuid() == a.party) {
                return Err(ValidationError::new(format!("/attendance/{i}/party"), "no such party").into());
            }
            if let Some(o) = a.org {
                let id = OrgId::from_uuid(o);
                let org = referenced(
                    self.db(move |s| s.org(id)).await,
                    format!("/attendance/{i}/org"),
                    "organisation",
                )?;
                if org.party_id.uuid() != a.party {
                    return Err(ValidationError::new(
                        format!("/attendance/{i}/org"),
                        "the organisation is of another party",
                    )
                    .into());
                }
            }
            if a.people.chars().count() > 500 {
                return Err(ValidationError::new(format!("/attendance/{i}/people"), "at most 500 characters").into());
            }
        }
        Ok(())
    }

    async fn check_actions(&self, list: &[ActionItem]) -> Result<()> {
        if list.len() > 50 {
            return Err(ValidationError::new("/actions", "at most 50 action items").into());
        }
        for (i, a) in list.iter().enumerate() {
            jsms_domain::text::required(&format!("/actions/{i}/text"), &a.text, 1000)?;
            if let Some(d) = &a.due {
                parse_time(&format!("/actions/{i}/due"), d)?;
            }
            if let Some(o) = a.owner {
                let id = UserId::from_uuid(o);
                referenced(
                    self.db(move |s| s.user(id)).await,
                    format!("/actions/{i}/owner"),
                    "user",
                )?;
            }
        }
        Ok(())
    }

    /// Schedules a meeting (coordinators and liaison officers, for their party).
    pub async fn create_meeting(&self, caller: &Caller, input: NewMeeting) -> Result<Disclosed<StoredMeeting>> {
        let user = caller.human()?.clone();
        let id = Uuid::now_v7();
        let change = Change::new(
            "meeting.create",
            Some(Resource::Meeting(id)),
            Action::OrganiseMeeting { party: user.party_id },
            Refusal::Forbidden("coordinators and liaison officers organise meetings"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let title = jsms_domain::text::required("/title", &input.title, 200)?;
        let place = jsms_domain::text::required("/place", &input.place, 200)?;
        let agenda = texts("/agenda", &input.agenda, 500)?;
        self.validate_attendance(&input.attendance).await?;
        PartySet::new(
            input
                .attendance
                .iter()
                .map(|a| PartyId::from_uuid(a.party))
                .chain(std::iter::once(user.party_id)),
        )
        .map_err(|e| ValidationError::new("/attendance", e.message))?;
        let meeting = Meeting {
            title,
            starts_at: rfc3339(input.starts_at),
            place,
            agenda,
            attendance: input.attendance,
            minutes: None,
            minutes_by: None,
            decisions: Vec::new(),
            actions: Vec::new(),
            approvals: Vec::new(),
            corrects: None,
            organiser: user.id.uuid(),
        };
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let body = encode(&meeting)?;
        let now = self.clock.now();
        let party = user.party_id;
        self.write(caller, &change, permit, move |s| {
            s.create_meeting(id, party, &body, now)
        })
        .await?;
        let created = self.meeting_record(id).await?;
        self.gate.disclose(caller, created).await
    }

    /// Writes (or rewrites) the minutes of a meeting that is not final; earlier approvals of
    /// the minutes are void, and the writer becomes their author.
    pub async fn write_minutes(&self, caller: &Caller, id: Uuid, input: Minutes) -> Result<Disclosed<StoredMeeting>> {
        let user = caller.human()?.clone();
        let current = self.readable_meeting(caller, id, "meeting.minutes").await?;
        let mut m = current.meeting.clone();
        if current.is_final {
            return Err(Error::Conflict(
                "the minutes are final: record a correction instead".into(),
            ));
        }
        if !m.attending().iter().any(|p| Meeting::representative(&user, *p)) {
            let no = Error::Forbidden("a coordinator or liaison officer of an attending party writes the minutes");
            return self.refuse(caller, "meeting.minutes", Resource::Meeting(id), no).await;
        }
        m.minutes = Some(jsms_domain::text::required("/minutes", &input.minutes, 50_000)?);
        m.minutes_by = Some(user.id.uuid());
        m.decisions = texts("/decisions", &input.decisions, 2000)?;
        self.check_actions(&input.actions).await?;
        m.actions = input.actions;
        for a in &mut m.actions {
            a.reminded_at = None;
        }
        m.approvals.clear();
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow("meeting.minutes", Some(Resource::Meeting(id)), "minutes written"),
            )
            .await?;
        let body = encode(&m)?;
        let (now, v) = (self.clock.now(), input.version);
        self.db(move |s| s.update_meeting(id, &body, false, v, now)).await?;
        let updated = self.meeting_record(id).await?;
        self.gate.disclose(caller, updated).await
    }

    /// Approves the minutes for the caller's party (a representative of an attending party
    /// other than the minutes' author); when every attending party has approved, final.
    pub async fn approve_minutes(&self, caller: &Caller, id: Uuid, version: i64) -> Result<Disclosed<StoredMeeting>> {
        let user = caller.human()?.clone();
        let current = self.readable_meeting(caller, id, "meeting.approve").await?;
        if current.is_final {
            return Err(Error::Conflict("the minutes are already final".into()));
        }
        let mut m = current.meeting.clone();
        let now = self.clock.now();
        let final_now = match m.approve(&user, now) {
            Ok(f) => f,
            Err(no @ Error::Forbidden(_)) => {
                return self.refuse(caller, "meeting.approve", Resource::Meeting(id), no).await;
            }
            Err(e) => return Err(e),
        };
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow(
                    "meeting.approve",
                    Some(Resource::Meeting(id)),
                    if final_now {
                        "minutes approved: final"
                    } else {
                        "minutes approved"
                    },
                ),
            )
            .await?;
        let body = encode(&m)?;
        self.db(move |s| s.update_meeting(id, &body, final_now, version, now))
            .await?;
        let updated = self.meeting_record(id).await?;
        self.gate.disclose(caller, updated).await
    }

    /// Records a correction of final minutes: a new meeting record linked to the corrected
    /// one, with the corrected minutes, to be approved again.
    pub async fn correct_minutes(&self, caller: &Caller, id: Uuid, input: Minutes) -> Result<Disclosed<StoredMeeting>> {
        let user = caller.human()?.clone();
        let current = self.readable_meeting(caller, id, "meeting.correct").await?;
        let original = current.meeting.clone();
        if !original.attending().iter().any(|p| Meeting::representative(&user, *p)) {
            let no = Error::Forbidden("a coordinator or liaison officer of an attending party corrects the minutes");
            return self.refuse(caller, "meeting.correct", Resource::Meeting(id), no).await;
        }
        if !current.is_final {
            return Err(Error::Conflict("the minutes are not final: change them instead".into()));
        }
        self.check_actions(&input.actions).await?;
        let correction = Meeting {
            minutes: Some(jsms_domain::text::required("/minutes", &input.minutes, 50_000)?),
            minutes_by: Some(user.id.uuid()),
            decisions: texts("/decisions", &input.decisions, 2000)?,
            actions: input.actions,
            approvals: Vec::new(),
            corrects: Some(id),
            organiser: user.id.uuid(),
            ..original
        };
        let new_id = Uuid::now_v7();
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow(
                    "meeting.correct",
                    Some(Resource::Meeting(new_id)),
                    format!("corrects meeting:{id}"),
                ),
            )
            .await?;
        let body = encode(&correction)?;
        let now = self.clock.now();
        let party = current.party;
        self.db(move |s| s.create_meeting(new_id, party, &body, now)).await?;
        let created = self.meeting_record(new_id).await?;
        self.gate.disclose(caller, created).await
    }

    /// Marks action item `n` done (its owner, or a representative of an attending party).
    pub async fn action_done(
        &self,
        caller: &Caller,
        id: Uuid,
        n: usize,
        version: i64,
    ) -> Result<Disclosed<StoredMeeting>> {
        let user = caller.human()?.clone();
        let current = self.readable_meeting(caller, id, "meeting.action").await?;
        let mut m = current.meeting.clone();
        let rep = m.attendance.iter().any(|a| Meeting::representative(&user, a.party));
        let item = m.actions.get_mut(n).ok_or(Error::NotFound)?;
        let owner = item.owner == Some(user.id.uuid());
        if !owner && !rep {
            let no = Error::Forbidden("the owner or a representative of an attending party closes an action");
            return self.refuse(caller, "meeting.action", Resource::Meeting(id), no).await;
        }
        item.done = true;
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow(
                    "meeting.action",
                    Some(Resource::Meeting(id)),
                    format!("action {n} done"),
                ),
            )
            .await?;
        let now = self.clock.now();
        let actions = serde_json::to_value(&m.actions).map_err(|e| Error::Internal(e.to_string()))?;
        self.db(move |s| s.update_meeting_actions(id, &actions, version, now))
            .await?;
        let updated = self.meeting_record(id).await?;
        self.gate.disclose(caller, updated).await
    }

    /// Sends the reminders of action items that became overdue: once per item, a
    /// notification to its owner, an audit entry (`meeting.action.overdue`, naming the
    /// owner) and a warning in the log; the item records when. Returns how many were sent.
    pub async fn remind_overdue(&self) -> Result<usize> {
        let now = self.clock.now();
        let mut sent = 0;
        let who = Who::system("coordination", "action item reminders");
        for (id, _, body, _, version) in self.db(|s| s.meetings()).await? {
            let Ok(mut m) = decode(body) else { continue };
            let mut due_now = Vec::new();
            for (n, a) in m.actions.iter_mut().enumerate() {
                let due = a.due.as_deref().and_then(|d| parse_time("/due", d).ok());
                if !a.done && a.reminded_at.is_none() && due.is_some_and(|d| d < now) {
                    a.reminded_at = Some(rfc3339(now));
                    due_now.push((n, a.text.clone(), a.owner));
                }
            }
            if due_now.is_empty() {
                continue;
            }
            let events = due_now
                .iter()
                .map(|(n, text, owner)| {
                    tracing::warn!(meeting = %id, action = n, owner = ?owner, "action item overdue: {text}");
                    let mut e = Event::info(
                        "meeting.action.overdue",
                        Some(Resource::Meeting(id)),
                        format!("action {n} overdue: {text}"),
                    );
                    e.reasons
                        .push(owner.map_or_else(|| "no owner".to_owned(), |o| format!("owner user:{o}")));
                    e
                })
                .collect();
            self.gate.record_all(&who, &Origin::internal(), events).await?;
            let actions = serde_json::to_value(&m.actions).map_err(|e| Error::Internal(e.to_string()))?;
            match self
                .db(move |s| s.update_meeting_actions(id, &actions, version, now))
                .await
            {
                Ok(_) => {
                    sent += due_now.len();
                    let link = format!("#/meetings/{id}");
                    for (_, text, owner) in &due_now {
                        if let Some(owner) = owner {
                            let owner = [UserId::from_uuid(*owner)];
                            let text = format!("Action item overdue: {text}");
                            self.notify(&owner, "action_overdue", &text, &link).await;
                        }
                    }
                }
                // Changed meanwhile: the next sweep sees it again.
                Err(Error::Stale { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }

    /// The joint dashboard, filtered per viewer, recorded as one disclosure (and one per
    /// meeting whose overdue actions it shows).
    pub async fn dashboard(&self, caller: &Caller) -> Result<Disclosed<Dashboard>> {
        let read = Change::new(
            "dashboard.read",
            Some(Resource::Dashboard),
            Action::ReadMeetings,
            STAFF_ONLY,
        );
        self.gate.check(caller, &read).await?;
        let now = self.clock.now();
        let mut open_decisions = Vec::new();
        if self.gate.allows(&caller.actor, Action::ReadDecisions) {
            for r in self.db(|s| s.decisions()).await? {
                if r.state == "proposed" {
                    let title = r.body.pointer("/proposal/title").cloned().unwrap_or_default();
                    open_decisions.push(serde_json::json!({"id": r.id, "title": title}));
                }
            }
        }
        let mut overdue = Vec::new();
        let mut shown_meetings = Vec::new();
        for m in self.all_meetings().await? {
            if !self.gate.may_see(&caller.actor, &m) {
                continue;
            }
            let mut any = false;
            for a in m.meeting.actions.iter().filter(|a| !a.done) {
                let due = a.due.as_deref().and_then(|d| parse_time("/due", d).ok());
                if due.is_some_and(|d| d < now) {
                    any = true;
                    overdue.push(serde_json::json!({"meeting": m.id, "title": m.meeting.title, "text": a.text, "due": a.due, "owner": a.owner}));
                }
            }
            if any {
                shown_meetings.push(m);
            }
        }
        let movements = self.db(|s| s.movements(None)).await?;
        let visible: Vec<_> = movements
            .iter()
            .filter(|m| self.gate.may_see(&caller.actor, *m))
            .collect();
        let mut by_state = BTreeMap::new();
        let mut by_risk = BTreeMap::new();
        for m in &visible {
            *by_state.entry(m.state.as_str().to_owned()).or_insert(0) += 1;
            let level = m
                .body
                .assessment
                .as_ref()
                .map_or_else(|| "not assessed".to_owned(), |a| a.level.clone());
            *by_risk.entry(level).or_insert(0) += 1;
        }
        let ids: BTreeSet<_> = visible.iter().map(|m| m.id).collect();
        let open_alerts = self
            .db(|s| s.alerts_after(0, 100_000))
            .await?
            .iter()
            .filter(|a| a.state == "open" && ids.contains(&a.movement))
            .count();
        let open_incidents = self
            .db(|s| s.incidents())
            .await?
            .iter()
            .filter(|i| i.status != jsms_domain::incident::InvestigationStatus::Closed)
            .filter(|i| {
                self.gate.allows(
                    &caller.actor,
                    Action::ReadIncident {
                        incident: i.id,
                        party: i.party,
                        shared: i.report.shared,
                    },
                )
            })
            .count();
        self.gate.disclose_all(caller, shown_meetings).await?;
        let dashboard = Dashboard {
            open_decisions: serde_json::Value::Array(open_decisions),
            overdue_actions: serde_json::Value::Array(overdue),
            movements_by_state: by_state,
            movements_by_risk: by_risk,
            open_alerts,
            open_incidents,
        };
        self.gate.disclose(caller, dashboard).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsms_domain::ids::{OrgId, PartyId, UserId};
    use jsms_domain::user::{Clearance, Username};

    fn user(party: PartyId, role: Role) -> User {
        User {
            id: UserId::generate(),
            username: Username::parse("someone").unwrap(),
            display_name: "Someone".into(),
            party_id: party,
            org_id: OrgId::generate(),
            roles: vec![role],
            clearance: Clearance::Confidential,
            compartments: vec![],
            disabled: false,
            mfa_enrolled: true,
            version: 1,
        }
    }

    #[test]
    fn the_author_of_minutes_never_finalises_them() {
        let (host, partner) = (PartyId::generate(), PartyId::generate());
        let author = user(host, Role::MovementCoordinator);
        let colleague = user(host, Role::MovementCoordinator);
        let liaison = user(partner, Role::LiaisonOfficer);
        let analyst = user(partner, Role::IntelligenceAnalyst);
        let mut m = Meeting {
            title: "t".into(),
            starts_at: "2026-12-01T08:00:00Z".into(),
            place: "p".into(),
            agenda: vec![],
            attendance: vec![
                Attendance {
                    party: host.uuid(),
                    org: None,
                    people: String::new(),
                },
                Attendance {
                    party: partner.uuid(),
                    org: None,
                    people: String::new(),
                },
            ],
            minutes: None,
            minutes_by: None,
            decisions: vec![],
            actions: vec![],
            approvals: vec![],
            corrects: None,
            organiser: author.id.uuid(),
        };
        assert!(
            matches!(m.approve(&liaison, 1), Err(Error::Conflict(_))),
            "no minutes yet"
        );
        m.minutes = Some("agreed".into());
        m.minutes_by = Some(author.id.uuid());
        assert!(matches!(m.approve(&author, 1), Err(Error::Conflict(_))), "the author");
        assert!(
            matches!(m.approve(&analyst, 1), Err(Error::Forbidden(_))),
            "not a representative"
        );
        assert!(!m.approve(&liaison, 1).unwrap(), "one party of two");
        assert!(m.approve(&colleague, 2).unwrap(), "every party, none by the author");
    }
}
