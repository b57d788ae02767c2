//! Threat reports for intelligence sharing (PRODUCT §3.6): the FIRST TLP 2.0 marking, the
//! releasability that goes with it, and the Admiralty grading of source and information.
//!
//! Who may read a report is decided by the authorization component from the marking alone
//! (see `jsms-authz`): CLEAR and GREEN go to the staff of both parties; AMBER to the
//! owning party, and to the other party when it is released to it; AMBER+STRICT to the
//! organisations named (the author's always); RED to the analysts of the author's
//! organisation only.

use crate::ValidationError;
use crate::ids::{OrgId, PartyId};
use serde::{Deserialize, Serialize};

/// A FIRST Traffic Light Protocol 2.0 label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tlp {
    /// TLP:CLEAR — no limit on disclosure.
    Clear,
    /// TLP:GREEN — the community (here: both parties' staff).
    Green,
    /// TLP:AMBER — limited disclosure: the owning party, and the other when released to it.
    Amber,
    /// TLP:AMBER+STRICT — the named organisations only.
    AmberStrict,
    /// TLP:RED — the author's organisation's analysts only.
    Red,
}

impl Tlp {
    /// Every label, least restrictive first.
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// The wire name (`amber_strict`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber_strict",
            Tlp::Red => "red",
        }
    }

    /// The label as written (`TLP:AMBER+STRICT`).
    pub const fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The most organisations an AMBER+STRICT report is released to.
pub const MAX_STRICT_ORGS: usize = 8;

/// The organisations an AMBER+STRICT report is released to (besides the author's): a small
/// fixed-capacity set, so an authorization request stays a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OrgSet {
    orgs: [Option<OrgId>; MAX_STRICT_ORGS],
}

impl OrgSet {
    /// A set of at most [`MAX_STRICT_ORGS`] distinct organisations.
    pub fn new(orgs: &[OrgId]) -> Result<Self, ValidationError> {
        if orgs.len() > MAX_STRICT_ORGS {
            return Err(ValidationError::new(
                "/releasable_orgs",
                format!("at most {MAX_STRICT_ORGS} organisations"),
            ));
        }
        let mut set = Self::default();
        for (i, o) in orgs.iter().enumerate() {
            if orgs.iter().take(i).any(|p| p == o) {
                return Err(ValidationError::new(format!("/releasable_orgs/{i}"), "named twice"));
            }
            if let Some(slot) = set.orgs.get_mut(i) {
                *slot = Some(*o);
            }
        }
        Ok(set)
    }

    /// The organisations.
    pub fn iter(&self) -> impl Iterator<Item = OrgId> + '_ {
        self.orgs.iter().flatten().copied()
    }

    /// Whether `org` is in the set.
    pub fn contains(&self, org: OrgId) -> bool {
        self.iter().any(|o| o == org)
    }

    /// The organisations, as a vector.
    pub fn to_vec(&self) -> Vec<OrgId> {
        self.iter().collect()
    }
}

/// A report's marking: its TLP label and to whom it is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marking {
    /// The label.
    pub tlp: Tlp,
    /// AMBER: also released to the other party of the agreement (CLEAR and GREEN always
    /// are; AMBER+STRICT and RED never are, beyond the organisations named).
    pub shared: bool,
    /// AMBER+STRICT: the organisations it is released to besides the author's.
    pub orgs: Vec<OrgId>,
}

impl Marking {
    /// Validates a marking: `shared` only means something for AMBER; organisations only for
    /// AMBER+STRICT.
    pub fn new(tlp: Tlp, shared: bool, orgs: Vec<OrgId>) -> Result<Self, ValidationError> {
        OrgSet::new(&orgs)?;
        if tlp != Tlp::AmberStrict && !orgs.is_empty() {
            return Err(ValidationError::new(
                "/releasable_orgs",
                "organisations are named only for TLP:AMBER+STRICT",
            ));
        }
        let shared = match tlp {
            Tlp::Clear | Tlp::Green => true,
            Tlp::Amber => shared,
            Tlp::AmberStrict | Tlp::Red => {
                if shared {
                    return Err(ValidationError::new(
                        "/shared",
                        "TLP:AMBER+STRICT and TLP:RED are not released to a whole party; name organisations for AMBER+STRICT",
                    ));
                }
                false
            }
        };
        Ok(Self { tlp, shared, orgs })
    }

    /// Whether changing this marking to `to` lets anyone read who could not before (a
    /// downgrade), for a report written in `author_org` of `owner`; `party_of` gives an
    /// organisation's party (an unknown one counts as outside).
    pub fn is_downgrade(
        &self,
        to: &Marking,
        author_org: OrgId,
        owner: PartyId,
        party_of: &dyn Fn(OrgId) -> Option<PartyId>,
    ) -> bool {
        !Reach::of(to).within(&Reach::of(self), author_org, owner, party_of)
    }
}

/// Who a marking reaches, coarsely (roles aside).
enum Reach<'a> {
    /// Both parties' staff and beyond.
    All,
    /// Both parties.
    Both,
    /// The owning party.
    Owner,
    /// The author's organisation and these.
    Orgs(&'a [OrgId]),
    /// The author organisation's analysts.
    Author,
}

impl<'a> Reach<'a> {
    fn of(m: &'a Marking) -> Self {
        match m.tlp {
            Tlp::Clear | Tlp::Green => Reach::All,
            Tlp::Amber if m.shared => Reach::Both,
            Tlp::Amber => Reach::Owner,
            Tlp::AmberStrict => Reach::Orgs(&m.orgs),
            Tlp::Red => Reach::Author,
        }
    }

    /// Whether everyone this reaches is also reached by `other`.
    fn within(
        &self,
        other: &Reach<'_>,
        author_org: OrgId,
        owner: PartyId,
        party_of: &dyn Fn(OrgId) -> Option<PartyId>,
    ) -> bool {
        match (self, other) {
            (_, Reach::All) | (Reach::Author, _) => true,
            (Reach::All, _) => false,
            (Reach::Both, Reach::Both) => true,
            (Reach::Both, _) => false,
            (Reach::Owner, Reach::Both | Reach::Owner) => true,
            (Reach::Owner, _) => false,
            (Reach::Orgs(_), Reach::Both) => true,
            (Reach::Orgs(t), Reach::Owner) => t.iter().all(|o| party_of(*o) == Some(owner)),
            (Reach::Orgs(t), Reach::Orgs(s)) => t.iter().all(|o| *o == author_org || s.contains(o)),
            (Reach::Orgs(_), Reach::Author) => false,
        }
    }
}

/// NATO Admiralty grading: reliability of the source (A–F) and credibility of the
/// information (1–6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grading {
    /// A (completely reliable) … E (unreliable), F (cannot be judged).
    pub reliability: char,
    /// 1 (confirmed) … 5 (improbable), 6 (cannot be judged).
    pub credibility: u8,
}

impl Grading {
    /// Validates a grading.
    pub fn new(reliability: char, credibility: u8) -> Result<Self, ValidationError> {
        if !('A'..='F').contains(&reliability) {
            return Err(ValidationError::new(
                "/grading/reliability",
                "source reliability is A (completely reliable) to F (cannot be judged)",
            ));
        }
        if !(1..=6).contains(&credibility) {
            return Err(ValidationError::new(
                "/grading/credibility",
                "information credibility is 1 (confirmed) to 6 (cannot be judged)",
            ));
        }
        Ok(Self {
            reliability,
            credibility,
        })
    }

    /// The grading as written (`B2`).
    pub fn code(self) -> String {
        format!("{}{}", self.reliability, self.credibility)
    }

    /// The STIX 2.1 confidence for the information's credibility (STIX 2.1 Appendix A,
    /// Admiralty Credibility scale); none when it cannot be judged.
    pub fn stix_confidence(self) -> Option<u8> {
        match self.credibility {
            1 => Some(90),
            2 => Some(70),
            3 => Some(50),
            4 => Some(30),
            5 => Some(10),
            _ => None,
        }
    }

    /// The credibility for a STIX confidence (the same scale read back).
    pub fn credibility_of_confidence(confidence: u8) -> u8 {
        match confidence {
            80..=100 => 1,
            60..=79 => 2,
            40..=59 => 3,
            20..=39 => 4,
            1..=19 => 5,
            _ => 6,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn markings_are_validated() {
        assert!(
            Marking::new(Tlp::Green, false, vec![]).unwrap().shared,
            "GREEN goes to both"
        );
        assert!(!Marking::new(Tlp::Amber, false, vec![]).unwrap().shared);
        assert!(Marking::new(Tlp::Red, true, vec![]).is_err());
        let org = OrgId::from_uuid(uuid::Uuid::now_v7());
        assert!(Marking::new(Tlp::Amber, false, vec![org]).is_err());
        assert!(Marking::new(Tlp::AmberStrict, false, vec![org, org]).is_err());
        let many: Vec<OrgId> = (0..9).map(|_| OrgId::from_uuid(uuid::Uuid::now_v7())).collect();
        assert!(Marking::new(Tlp::AmberStrict, false, many).is_err());
    }

    #[test]
    fn downgrades_are_recognised() {
        let id = || OrgId::from_uuid(uuid::Uuid::now_v7());
        let (author, own_other, foreign) = (id(), id(), id());
        let (owner, partner) = (
            PartyId::from_uuid(uuid::Uuid::now_v7()),
            PartyId::from_uuid(uuid::Uuid::now_v7()),
        );
        let party_of = move |o: OrgId| Some(if o == foreign { partner } else { owner });
        let m = |t, shared, orgs: Vec<OrgId>| Marking::new(t, shared, orgs).unwrap();
        let down = |a: &Marking, b: &Marking| a.is_downgrade(b, author, owner, &party_of);
        let red = m(Tlp::Red, false, vec![]);
        let amber = m(Tlp::Amber, false, vec![]);
        let shared = m(Tlp::Amber, true, vec![]);
        let strict = m(Tlp::AmberStrict, false, vec![]);
        let strict_own = m(Tlp::AmberStrict, false, vec![own_other]);
        let strict_foreign = m(Tlp::AmberStrict, false, vec![foreign]);
        let green = m(Tlp::Green, false, vec![]);
        assert!(down(&red, &amber));
        assert!(down(&amber, &shared));
        assert!(down(&shared, &green));
        assert!(!down(&shared, &amber));
        assert!(!down(&amber, &red));
        assert!(!down(&green, &red));
        assert!(down(&strict, &strict_own));
        assert!(!down(&strict_own, &strict));
        assert!(!down(&amber, &strict_own), "the owner's own organisations");
        assert!(
            down(&amber, &strict_foreign),
            "an organisation of the other party is a widening"
        );
        assert!(!down(&shared, &strict_foreign));
        assert!(down(&strict, &amber), "the rest of the owning party");
    }

    #[test]
    fn gradings_map_to_stix_confidence_and_back() {
        assert!(Grading::new('G', 1).is_err());
        assert!(Grading::new('A', 7).is_err());
        for c in 1..=6 {
            let g = Grading::new('B', c).unwrap();
            let back = g.stix_confidence().map_or(6, Grading::credibility_of_confidence);
            assert_eq!(back, c);
        }
        assert_eq!(Grading::new('B', 2).unwrap().code(), "B2");
    }
}
