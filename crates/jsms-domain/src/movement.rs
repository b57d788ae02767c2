//! Movements of protected persons (PRODUCT §3.2): the request, its lifecycle with an owner
//! role per transition, and the assessment rules that turn a risk score into requirements.

use crate::ValidationError;
use crate::geo::Coordinate;
use crate::ids::{PersonId, SiteId};
use crate::registry::ProtectionLevel;
use crate::user::Role;
use serde::{Deserialize, Serialize};

/// Where a movement is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum MovementState {
    /// Being written by the requester.
    Draft,
    /// Sent to the host for assessment.
    Submitted,
    /// Risk assessed; awaiting approval.
    Assessed,
    /// Approved by enough coordinators.
    Approved,
    /// Refused, with a reason.
    Rejected,
    /// Route, departure and escort chosen; details sealed.
    Planned,
    /// Details released to the escort team.
    Released,
    /// Under way.
    InProgress,
    /// Arrived.
    Completed,
    /// Stopped under way.
    Aborted,
    /// Called off before it started.
    Cancelled,
}

impl MovementState {
    /// Every state, in lifecycle order.
    pub const ALL: [Self; 11] = [
        Self::Draft,
        Self::Submitted,
        Self::Assessed,
        Self::Approved,
        Self::Rejected,
        Self::Planned,
        Self::Released,
        Self::InProgress,
        Self::Completed,
        Self::Aborted,
        Self::Cancelled,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Assessed => "assessed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Planned => "planned",
            Self::Released => "released",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Aborted => "aborted",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the movement is over (no transition leaves it).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Rejected | Self::Completed | Self::Aborted | Self::Cancelled)
    }

    /// The transitions that may leave this state.
    pub fn allowed(self) -> Vec<Transition> {
        Transition::ALL
            .into_iter()
            .filter(|t| t.sources().contains(&self))
            .collect()
    }
}

/// A change of state, each with the roles that own it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// Requester sends the draft to the host.
    Submit,
    /// Host coordinator assesses the risk.
    Assess,
    /// A coordinator approves (the state moves on once enough have).
    Approve,
    /// A coordinator refuses, with a reason.
    Reject,
    /// A coordinator plans route, departure and escort.
    Plan,
    /// Details are released to the escort team (the scheduler at release time, or a
    /// coordinator earlier).
    Release,
    /// The escort starts the movement.
    Start,
    /// The escort reports arrival.
    Complete,
    /// The escort or a coordinator stops it under way.
    Abort,
    /// Called off before it starts.
    Cancel,
}

impl Transition {
    /// Every transition.
    pub const ALL: [Self; 10] = [
        Self::Submit,
        Self::Assess,
        Self::Approve,
        Self::Reject,
        Self::Plan,
        Self::Release,
        Self::Start,
        Self::Complete,
        Self::Abort,
        Self::Cancel,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Assess => "assess",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Plan => "plan",
            Self::Release => "release",
            Self::Start => "start",
            Self::Complete => "complete",
            Self::Abort => "abort",
            Self::Cancel => "cancel",
        }
    }

    /// States it may start from.
    pub fn sources(self) -> &'static [MovementState] {
        use MovementState as S;
        match self {
            Self::Submit => &[S::Draft],
            Self::Assess => &[S::Submitted],
            Self::Approve | Self::Reject => &[S::Assessed],
            Self::Plan => &[S::Approved, S::Planned],
            Self::Release => &[S::Planned],
            Self::Start => &[S::Released],
            Self::Complete | Self::Abort => &[S::InProgress],
            Self::Cancel => &[
                S::Draft,
                S::Submitted,
                S::Assessed,
                S::Approved,
                S::Planned,
                S::Released,
            ],
        }
    }

    /// The state it leads to (approval leads there only once enough coordinators approved).
    pub fn target(self) -> MovementState {
        use MovementState as S;
        match self {
            Self::Submit => S::Submitted,
            Self::Assess => S::Assessed,
            Self::Approve => S::Approved,
            Self::Reject => S::Rejected,
            Self::Plan => S::Planned,
            Self::Release => S::Released,
            Self::Start => S::InProgress,
            Self::Complete => S::Completed,
            Self::Abort => S::Aborted,
            Self::Cancel => S::Cancelled,
        }
    }

    /// The roles that own it (host-party roles where the role is a host one).
    pub fn owners(self) -> &'static [Role] {
        match self {
            Self::Submit => &[Role::CompanySecurityOfficer, Role::MovementCoordinator],
            Self::Assess | Self::Approve | Self::Reject | Self::Plan | Self::Release => &[Role::MovementCoordinator],
            Self::Start | Self::Complete => &[Role::EscortCommander, Role::MovementCoordinator],
            Self::Abort => &[Role::EscortCommander, Role::MovementCoordinator],
            Self::Cancel => &[Role::CompanySecurityOfficer, Role::MovementCoordinator],
        }
    }
}

/// One end of a leg.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// A registered site.
    Site(SiteId),
    /// A point.
    Point(Coordinate),
}

/// One leg of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// Start.
    pub from: Endpoint,
    /// End.
    pub to: Endpoint,
}

/// Longest requested window.
pub const MAX_WINDOW_S: i64 = 7 * 86_400;
/// Most legs per movement.
pub const MAX_LEGS: usize = 10;
/// Most persons per movement.
pub const MAX_PERSONS: usize = 50;

/// What a requester asks for, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovementRequest {
    /// Persons moved.
    pub persons: Vec<PersonId>,
    /// Legs, each starting where the previous one ended.
    pub legs: Vec<Leg>,
    /// Why.
    pub purpose: String,
    /// Earliest departure, Unix seconds.
    pub window_start: i64,
    /// Latest arrival, Unix seconds.
    pub window_end: i64,
    /// Company vehicles requested, free text (e.g. "2 × armoured SUV").
    pub vehicles: Vec<String>,
}

impl MovementRequest {
    /// Validates a request made at `now`; each error names its field.
    pub fn new(
        persons: Vec<PersonId>,
        legs: Vec<Leg>,
        purpose: &str,
        (window_start, window_end): (i64, i64),
        vehicles: Vec<String>,
        now: i64,
    ) -> Result<Self, ValidationError> {
        if persons.is_empty() || persons.len() > MAX_PERSONS {
            return Err(ValidationError::new(
                "/persons",
                format!("1 to {MAX_PERSONS} protected persons"),
            ));
        }
        let mut unique = persons.clone();
        unique.sort_by_key(|p| p.to_string());
        unique.dedup();
        if unique.len() != persons.len() {
            return Err(ValidationError::new("/persons", "a person is listed twice"));
        }
        if legs.is_empty() || legs.len() > MAX_LEGS {
            return Err(ValidationError::new("/legs", format!("1 to {MAX_LEGS} legs")));
        }
        for (i, pair) in legs.windows(2).enumerate() {
            if let [a, b] = pair
                && a.to != b.from
            {
                return Err(ValidationError::new(
                    format!("/legs/{}/from", i + 1),
                    "each leg starts where the previous one ends",
                ));
            }
        }
        for (i, leg) in legs.iter().enumerate() {
            if leg.from == leg.to {
                return Err(ValidationError::new(
                    format!("/legs/{i}/to"),
                    "a leg must go somewhere else",
                ));
            }
        }
        let purpose = crate::text::required("/purpose", purpose, 500)?;
        if window_start <= now {
            return Err(ValidationError::new(
                "/window/start",
                "the window must start in the future",
            ));
        }
        if window_end <= window_start {
            return Err(ValidationError::new(
                "/window/end",
                "the window must end after it starts",
            ));
        }
        if window_end - window_start > MAX_WINDOW_S {
            return Err(ValidationError::new("/window/end", "a window is at most 7 days"));
        }
        if vehicles.len() > 20 {
            return Err(ValidationError::new("/vehicles", "at most 20 vehicles"));
        }
        let vehicles = vehicles
            .iter()
            .enumerate()
            .map(|(i, v)| crate::text::required(&format!("/vehicles/{i}"), v, 200))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            persons,
            legs,
            purpose,
            window_start,
            window_end,
            vehicles,
        })
    }
}

/// What an assessment requires of the plan and the approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    /// Escort vehicles at least.
    pub escort_vehicles: u8,
    /// Distinct coordinators who must approve.
    pub approvals: u8,
}

/// One band of the assessment rules: scores from `min_score` up get these requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskBand {
    /// Name shown to users ("low", "high", …).
    pub name: String,
    /// Lowest score of the band (0–100).
    pub min_score: u8,
    /// Escort vehicles at least.
    pub escort_vehicles: u8,
    /// Approvals needed.
    pub approvals: u8,
}

/// The assessment rules: score bands, and the extra approvals protection level A needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Bands, by ascending `min_score`; the first starts at 0.
    pub bands: Vec<RiskBand>,
    /// Approvals at least when a person of protection level A moves.
    pub level_a_approvals: u8,
    /// Default release lead: details are released this long before departure, seconds.
    pub release_lead_s: i64,
    /// Shortest release lead a coordinator may set.
    pub min_release_lead_s: i64,
    /// Longest.
    pub max_release_lead_s: i64,
    /// Escort grants outlive the movement's end by this much, seconds.
    pub grant_grace_s: i64,
}

/// The rules shipped with the product (`config/movement-rules.toml` says the same).
pub const DEFAULT_RULES_TOML: &str = include_str!("../../../config/movement-rules.toml");

impl Rules {
    /// Checks the rules make sense; errors name the field.
    pub fn validate(self) -> Result<Self, ValidationError> {
        let Some(first) = self.bands.first() else {
            return Err(ValidationError::new("/bands", "at least one band"));
        };
        if first.min_score != 0 {
            return Err(ValidationError::new("/bands/0/min_score", "the first band starts at 0"));
        }
        for (i, pair) in self.bands.windows(2).enumerate() {
            if let [a, b] = pair
                && b.min_score <= a.min_score
            {
                return Err(ValidationError::new(
                    format!("/bands/{}/min_score", i + 1),
                    "bands ascend by min_score",
                ));
            }
        }
        for (i, b) in self.bands.iter().enumerate() {
            if b.min_score > 100 || !(1..=5).contains(&b.approvals) || b.escort_vehicles > 10 {
                return Err(ValidationError::new(
                    format!("/bands/{i}"),
                    "min_score 0–100, approvals 1–5, escort_vehicles 0–10",
                ));
            }
        }
        if !(1..=5).contains(&self.level_a_approvals) {
            return Err(ValidationError::new("/level_a_approvals", "1 to 5"));
        }
        if !(60..=self.max_release_lead_s).contains(&self.min_release_lead_s)
            || !(self.min_release_lead_s..=self.max_release_lead_s).contains(&self.release_lead_s)
            || self.max_release_lead_s > 7 * 86_400
        {
            return Err(ValidationError::new(
                "/release_lead_s",
                "60 s ≤ min_release_lead_s ≤ release_lead_s ≤ max_release_lead_s ≤ 7 days",
            ));
        }
        if !(0..=86_400).contains(&self.grant_grace_s) {
            return Err(ValidationError::new("/grant_grace_s", "0 to 86400 seconds"));
        }
        Ok(self)
    }

    /// The band of a score.
    pub fn band(&self, score: u8) -> Option<&RiskBand> {
        self.bands.iter().rev().find(|b| score >= b.min_score)
    }
}

/// What the assessment looks at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssessmentInputs {
    /// Protection levels of the persons moved.
    pub protection: Vec<ProtectionLevel>,
    /// Highest severity of the active threat zones the route crosses (0 = none).
    pub max_zone_severity: u8,
    /// Seconds of route risk penalty per second of driving (see the routing engine).
    pub route_risk_ratio: f64,
    /// Whether the window includes night hours.
    pub night: bool,
    /// Incidents near the route recently.
    pub recent_incidents: usize,
    /// Whether the route could not avoid a zone of severity ≥ 4.
    pub crosses_avoided_zone: bool,
}

/// A risk score (0–100), its band, the reasons, and the requirements it leads to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// 0 (none) to 100 (extreme).
    pub score: u8,
    /// The band's name.
    pub level: String,
    /// Why, one line per contribution.
    pub reasons: Vec<String>,
    /// What the plan and the approval need.
    pub requirements: Requirements,
}

/// Scores a movement: protection level (A +30, B +15), the worst zone crossed (+8 per
/// severity level), route risk (up to +20), night (+10), recent incidents (+5 each, up to
/// +15), an unavoidable severe zone (+20); then the band's requirements, with at least
/// `level_a_approvals` when a level-A person moves.
pub fn assess(inputs: &AssessmentInputs, rules: &Rules) -> Assessment {
    let mut score = 0u32;
    let mut reasons = Vec::new();
    let worst = inputs.protection.iter().min().copied();
    match worst {
        Some(ProtectionLevel::A) => {
            score += 30;
            reasons.push("a person of protection level A (+30)".to_owned());
        }
        Some(ProtectionLevel::B) => {
            score += 15;
            reasons.push("a person of protection level B (+15)".to_owned());
        }
        _ => {}
    }
    if inputs.max_zone_severity > 0 {
        let add = 8 * u32::from(inputs.max_zone_severity.min(5));
        score += add;
        reasons.push(format!(
            "the route crosses a threat zone of severity {} (+{add})",
            inputs.max_zone_severity
        ));
    }
    let ratio = (inputs.route_risk_ratio.clamp(0.0, 2.0) * 10.0).round() as u32;
    if ratio > 0 {
        score += ratio;
        reasons.push(format!(
            "route exposure: {:.2} s of risk per second of driving (+{ratio})",
            inputs.route_risk_ratio
        ));
    }
    if inputs.night {
        score += 10;
        reasons.push("the window includes night hours (+10)".to_owned());
    }
    if inputs.recent_incidents > 0 {
        let add = (5 * inputs.recent_incidents as u32).min(15);
        score += add;
        reasons.push(format!(
            "{} recent incident(s) near the route (+{add})",
            inputs.recent_incidents
        ));
    }
    if inputs.crosses_avoided_zone {
        score += 20;
        reasons.push("no route avoids a zone of severity 4 or more (+20)".to_owned());
    }
    let score = score.min(100) as u8;
    if reasons.is_empty() {
        reasons.push("no risk factor found".to_owned());
    }
    let (level, mut requirements) = rules.band(score).map_or_else(
        || {
            (
                "unknown".to_owned(),
                Requirements {
                    escort_vehicles: 1,
                    approvals: 2,
                },
            )
        },
        |b| {
            (
                b.name.clone(),
                Requirements {
                    escort_vehicles: b.escort_vehicles,
                    approvals: b.approvals,
                },
            )
        },
    );
    if worst == Some(ProtectionLevel::A) && requirements.approvals < rules.level_a_approvals {
        requirements.approvals = rules.level_a_approvals;
        reasons.push(format!(
            "protection level A needs {} approvals",
            rules.level_a_approvals
        ));
    }
    Assessment {
        score,
        level,
        reasons,
        requirements,
    }
}

/// One planned leg: the route as driven.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedLeg {
    /// Route points, in order.
    pub points: Vec<Coordinate>,
    /// Roads in order (consecutive duplicates merged), for briefs.
    pub roads: Vec<String>,
    /// Metres.
    pub distance_m: f64,
    /// Seconds of driving.
    pub duration_s: f64,
    /// Seconds of risk penalty along it.
    pub risk: f64,
}

/// The sealed part of a movement: what an attacker wants. Encrypted at rest; visible to the
/// planning coordinators, and after release to the escort team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovementPlan {
    /// Departure, Unix seconds (drawn by a CSPRNG inside the window).
    pub departure: i64,
    /// Planned arrival at the last leg's end.
    pub arrival: i64,
    /// Legs as planned.
    pub legs: Vec<PlannedLeg>,
    /// The escort team.
    pub escort_team: crate::ids::EscortTeamId,
    /// Its call sign.
    pub call_sign: String,
    /// Its members (users).
    pub escort_members: Vec<crate::ids::UserId>,
    /// Its vehicles.
    pub escort_vehicles: Vec<String>,
    /// Release this long before departure, seconds.
    pub release_lead_s: i64,
    /// Warnings given when planned (patterns repeated, etc.).
    pub warnings: Vec<String>,
    /// The movement's disclosure key (64 hex digits, OS CSPRNG at planning): fixes the
    /// biases of the briefs' variants and the operative variants the escort shares. Absent
    /// in plans made before it existed (a key derived from the movement id is used then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            bands: vec![
                RiskBand {
                    name: "low".into(),
                    min_score: 0,
                    escort_vehicles: 1,
                    approvals: 1,
                },
                RiskBand {
                    name: "high".into(),
                    min_score: 50,
                    escort_vehicles: 2,
                    approvals: 2,
                },
            ],
            level_a_approvals: 2,
            release_lead_s: 7200,
            min_release_lead_s: 600,
            max_release_lead_s: 86_400,
            grant_grace_s: 1800,
        }
    }

    #[test]
    fn every_state_has_the_right_exits() {
        use MovementState as S;
        assert_eq!(S::Draft.allowed(), vec![Transition::Submit, Transition::Cancel]);
        assert_eq!(
            S::Assessed.allowed(),
            vec![Transition::Approve, Transition::Reject, Transition::Cancel]
        );
        assert_eq!(S::InProgress.allowed(), vec![Transition::Complete, Transition::Abort]);
        for s in [S::Rejected, S::Completed, S::Aborted, S::Cancelled] {
            assert!(s.allowed().is_empty(), "{s:?} is final");
            assert!(s.is_final());
        }
        // Cancel from any state before in_progress, never after.
        for s in MovementState::ALL {
            let before = matches!(
                s,
                S::Draft | S::Submitted | S::Assessed | S::Approved | S::Planned | S::Released
            );
            assert_eq!(s.allowed().contains(&Transition::Cancel), before, "{s:?}");
            assert_eq!(MovementState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn requests_are_validated_with_field_paths() {
        let p = PersonId::generate();
        let a = Endpoint::Point(Coordinate::new(24.85, 67.0).unwrap());
        let b = Endpoint::Point(Coordinate::new(24.86, 67.01).unwrap());
        let leg = Leg { from: a, to: b };
        let ok = MovementRequest::new(vec![p], vec![leg], "site visit", (200, 300), vec![], 100);
        assert!(ok.is_ok());
        let err = |r: Result<MovementRequest, ValidationError>| r.unwrap_err().field;
        assert_eq!(
            err(MovementRequest::new(vec![p], vec![leg], "x", (50, 300), vec![], 100)),
            "/window/start"
        );
        assert_eq!(
            err(MovementRequest::new(vec![p], vec![leg], "x", (300, 200), vec![], 100)),
            "/window/end"
        );
        assert_eq!(
            err(MovementRequest::new(vec![], vec![leg], "x", (200, 300), vec![], 100)),
            "/persons"
        );
        assert_eq!(
            err(MovementRequest::new(
                vec![p, p],
                vec![leg],
                "x",
                (200, 300),
                vec![],
                100
            )),
            "/persons"
        );
        let gap = Leg { from: a, to: b };
        let off = Leg { from: a, to: b };
        assert_eq!(
            err(MovementRequest::new(
                vec![p],
                vec![gap, off],
                "x",
                (200, 300),
                vec![],
                100
            )),
            "/legs/1/from"
        );
        assert_eq!(
            err(MovementRequest::new(
                vec![p],
                vec![Leg { from: a, to: a }],
                "x",
                (200, 300),
                vec![],
                100
            )),
            "/legs/0/to"
        );
        assert_eq!(
            err(MovementRequest::new(vec![p], vec![leg], " ", (200, 300), vec![], 100)),
            "/purpose"
        );
    }

    #[test]
    fn assessment_scores_with_reasons_and_requirements() {
        let quiet = assess(&AssessmentInputs::default(), &rules());
        assert_eq!((quiet.score, quiet.level.as_str()), (0, "low"));
        assert_eq!(
            quiet.requirements,
            Requirements {
                escort_vehicles: 1,
                approvals: 1
            }
        );
        let tense = assess(
            &AssessmentInputs {
                protection: vec![ProtectionLevel::C, ProtectionLevel::B],
                max_zone_severity: 3,
                night: true,
                ..AssessmentInputs::default()
            },
            &rules(),
        );
        assert_eq!(tense.score, 15 + 24 + 10);
        assert_eq!(tense.reasons.len(), 3);
        let vip = assess(
            &AssessmentInputs {
                protection: vec![ProtectionLevel::A],
                ..AssessmentInputs::default()
            },
            &rules(),
        );
        assert_eq!(vip.level, "low");
        assert_eq!(vip.requirements.approvals, 2, "level A needs four eyes");
        assert!(rules().validate().is_ok());
        let mut bad = rules();
        bad.bands[1].min_score = 0;
        assert_eq!(bad.validate().unwrap_err().field, "/bands/1/min_score");
        let mut bad = rules();
        bad.release_lead_s = 10;
        assert_eq!(bad.validate().unwrap_err().field, "/release_lead_s");
    }
}
