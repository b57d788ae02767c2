//! Incidents and lessons learned (PRODUCT §3.7): a report (kind, time, place, severity,
//! narrative, links to persons, movements, sites and zones, releasability to the other
//! party), its timeline,
//! the investigation's status and findings, and lessons with follow-up actions. Incidents
//! feed the route risk with time decay (see `jsms_routing::risk::Incident`).

use crate::ValidationError;
use crate::geo::Coordinate;
use crate::ids::{MovementId, PersonId, SiteId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// An attack on persons, convoys or sites.
    Attack,
    /// A threat received or observed.
    Threat,
    /// Suspicious activity (surveillance, approaches).
    SuspiciousActivity,
    /// A breach of security procedure (including leaks).
    BreachOfProcedure,
    /// An accident.
    Accident,
}

impl IncidentKind {
    /// Every kind.
    pub const ALL: [IncidentKind; 5] = [
        Self::Attack,
        Self::Threat,
        Self::SuspiciousActivity,
        Self::BreachOfProcedure,
        Self::Accident,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attack => "attack",
            Self::Threat => "threat",
            Self::SuspiciousActivity => "suspicious_activity",
            Self::BreachOfProcedure => "breach_of_procedure",
            Self::Accident => "accident",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where the investigation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvestigationStatus {
    /// Reported, not yet investigated.
    Reported,
    /// Being investigated.
    UnderInvestigation,
    /// Closed with findings.
    Closed,
}

impl InvestigationStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::UnderInvestigation => "under_investigation",
            Self::Closed => "closed",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Reported, Self::UnderInvestigation, Self::Closed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Whether the investigation may go from `self` to `to` (forward only; a closed one is
    /// reopened by investigating again).
    pub fn may_become(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Reported, Self::UnderInvestigation)
                | (Self::Reported, Self::Closed)
                | (Self::UnderInvestigation, Self::Closed)
                | (Self::Closed, Self::UnderInvestigation)
        )
    }
}

/// Most links of each kind on one incident.
pub const MAX_LINKS: usize = 50;
/// How far back an incident may be reported: one year.
pub const MAX_AGE_S: i64 = 365 * 86_400;

/// A validated incident report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentReport {
    /// Kind.
    pub kind: IncidentKind,
    /// Short title.
    pub title: String,
    /// When it happened, Unix seconds.
    pub occurred_at: i64,
    /// Where.
    pub place: Coordinate,
    /// 1 (minor) to 5 (grave).
    pub severity: u8,
    /// What happened, in the reporter's words.
    pub narrative: String,
    /// Protected persons involved.
    pub persons: Vec<PersonId>,
    /// Movements involved.
    pub movements: Vec<MovementId>,
    /// Sites involved.
    pub sites: Vec<SiteId>,
    /// Threat zones involved.
    pub zones: Vec<Uuid>,
    /// Releasable to the other party of the agreement (otherwise the reporting party's
    /// alone).
    pub shared: bool,
}

fn links<T: PartialEq + Copy>(field: &str, v: Vec<T>) -> Result<Vec<T>, ValidationError> {
    if v.len() > MAX_LINKS {
        return Err(ValidationError::new(field, format!("at most {MAX_LINKS}")));
    }
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    Ok(out)
}

impl IncidentReport {
    /// Validates a report made at `now`; each error names its field.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: IncidentKind,
        title: &str,
        occurred_at: i64,
        place: Coordinate,
        severity: u8,
        narrative: &str,
        (persons, movements, sites, zones): (Vec<PersonId>, Vec<MovementId>, Vec<SiteId>, Vec<Uuid>),
        shared: bool,
        now: i64,
    ) -> Result<Self, ValidationError> {
        let title = crate::text::required("/title", title, 200)?;
        let narrative = crate::text::required("/narrative", narrative, 10_000)?;
        if !(1..=5).contains(&severity) {
            return Err(ValidationError::new("/severity", "severity is 1 (minor) to 5 (grave)"));
        }
        if occurred_at > now + 300 {
            return Err(ValidationError::new(
                "/occurred_at",
                "an incident cannot be in the future",
            ));
        }
        if occurred_at < now - MAX_AGE_S {
            return Err(ValidationError::new("/occurred_at", "more than a year ago"));
        }
        Ok(Self {
            kind,
            title,
            occurred_at,
            place,
            severity,
            narrative,
            persons: links("/persons", persons)?,
            movements: links("/movements", movements)?,
            sites: links("/sites", sites)?,
            zones: links("/zones", zones)?,
            shared,
        })
    }
}

/// One update on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When, Unix seconds.
    pub at: i64,
    /// Who (none for the system).
    pub user: Option<UserId>,
    /// What.
    pub text: String,
}

/// A follow-up action of a lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// What is to be done.
    pub text: String,
    /// Who owns it.
    pub owner: Option<UserId>,
    /// Due, Unix seconds.
    pub due: Option<i64>,
    /// Done.
    pub done: bool,
}

/// A lesson learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// The lesson.
    pub text: String,
    /// What follows from it.
    pub actions: Vec<FollowUp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(severity: u8, at: i64, now: i64) -> Result<IncidentReport, ValidationError> {
        let p = PersonId::generate();
        IncidentReport::new(
            IncidentKind::SuspiciousActivity,
            "Motorcycle followed the convoy",
            at,
            Coordinate::new(24.85, 67.0).unwrap(),
            severity,
            "Two riders followed FALCON 3 for 2 km.",
            (vec![p, p], Vec::new(), Vec::new(), Vec::new()),
            true,
            now,
        )
    }

    #[test]
    fn reports_are_validated_and_links_deduplicated() {
        let now = 1_900_000_000;
        let r = report(3, now - 60, now).unwrap();
        assert_eq!(r.persons.len(), 1);
        assert_eq!(report(0, now, now).unwrap_err().field, "/severity");
        assert_eq!(report(6, now, now).unwrap_err().field, "/severity");
        assert_eq!(report(3, now + 3600, now).unwrap_err().field, "/occurred_at");
        assert_eq!(report(3, now - MAX_AGE_S - 1, now).unwrap_err().field, "/occurred_at");
        assert_eq!(
            IncidentKind::parse("breach_of_procedure"),
            Some(IncidentKind::BreachOfProcedure)
        );
        assert_eq!(IncidentKind::parse("riot"), None);
    }

    #[test]
    fn investigations_move_forward_and_reopen() {
        use InvestigationStatus::*;
        assert!(Reported.may_become(UnderInvestigation));
        assert!(UnderInvestigation.may_become(Closed));
        assert!(Closed.may_become(UnderInvestigation));
        assert!(!Closed.may_become(Reported));
        assert!(!UnderInvestigation.may_become(Reported));
        assert!(!Reported.may_become(Reported));
    }
}
