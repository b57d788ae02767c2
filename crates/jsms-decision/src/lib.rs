//! Bilateral decisions (PRODUCT §3.5): a proposal (kind, title, text) with approval rules —
//! which parties must approve and how many of their designated authorities (M of N) — and
//! approvals that are Ed25519 signatures by each approver's own key over a canonical
//! encoding of the exact proposal and rules. Changing the text makes a new revision, which
//! no earlier approval signs. Nobody approves their own proposal; approvals expire; a
//! decision is in force only when every party's rule is met by valid, unexpired
//! signatures — so no single person can bring one into force (see the property test).
//!
//! The server keeps no private keys: approvers sign on their own device (the web
//! application keeps a non-extractable key in the browser) and register the public key.
//! An [`Export`] carries a decision with its approvals and the approvers' public keys, so
//! anyone entitled can verify it offline (`jsms decision verify FILE`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_domain::ids::{PartyId, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Default validity of an approval: 14 days.
pub const APPROVAL_VALID_S: i64 = 14 * 86_400;
/// How far an approval's time may be from the server's clock, seconds.
pub const CLOCK_SKEW_S: i64 = 300;
/// Attachments per decision.
pub const MAX_ATTACHMENTS: usize = 10;

/// What a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// A request for technical assistance.
    TechnicalAssistance,
    /// A joint operation.
    JointOperation,
    /// A deployment.
    Deployment,
    /// A change of procedure.
    ProcedureChange,
    /// Anything else.
    Other,
}

impl DecisionKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TechnicalAssistance => "technical_assistance",
            Self::JointOperation => "joint_operation",
            Self::Deployment => "deployment",
            Self::ProcedureChange => "procedure_change",
            Self::Other => "other",
        }
    }

    /// Approvals per party by default: two for deployments, one otherwise.
    pub fn default_required(self) -> u8 {
        if self == Self::Deployment { 2 } else { 1 }
    }
}

/// One party's rule: `required` of its designated `authorities` must approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyRule {
    /// The party.
    pub party: PartyId,
    /// How many approvals (M).
    pub required: u8,
    /// Who may approve for it (N users).
    pub authorities: Vec<UserId>,
}

/// Why a decision or an action on it is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// The rules are not acceptable.
    #[error("rules: {0}")]
    Rules(String),
    /// The action is not allowed in this state or for this user.
    #[error("{0}")]
    Refused(String),
    /// The signature does not verify.
    #[error("the signature does not verify for this user's key and this revision")]
    BadSignature,
}

/// Approval rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Every party that must approve, with its M of N.
    pub parties: Vec<PartyRule>,
    /// How long an approval stays valid, seconds.
    pub approval_valid_s: i64,
}

impl Rules {
    /// The safe default: every party of the agreement, [`DecisionKind::default_required`]
    /// of its authorities each.
    pub fn default_for(kind: DecisionKind, parties: &[(PartyId, Vec<UserId>)]) -> Result<Self, DecisionError> {
        let rules = Self {
            parties: parties
                .iter()
                .map(|(party, authorities)| PartyRule {
                    party: *party,
                    required: kind.default_required(),
                    authorities: authorities.clone(),
                })
                .collect(),
            approval_valid_s: APPROVAL_VALID_S,
        };
        rules.validate(&parties.iter().map(|(p, _)| *p).collect::<Vec<_>>())?;
        Ok(rules)
    }

    /// Checks the rules against the parties of the agreement: every party must approve, at
    /// least once, with enough authorities to reach its M; nobody is an authority for two
    /// parties; the validity is 1 hour to 90 days.
    pub fn validate(&self, agreement: &[PartyId]) -> Result<(), DecisionError> {
        let named: BTreeSet<PartyId> = self.parties.iter().map(|r| r.party).collect();
        if named.len() != self.parties.len() {
            return Err(DecisionError::Rules("a party is named twice".into()));
        }
        for p in agreement {
            if !named.contains(p) {
                return Err(DecisionError::Rules(format!(
                    "party {p} must approve: every party does"
                )));
            }
        }
        let mut seen: BTreeSet<UserId> = BTreeSet::new();
        for r in &self.parties {
            if r.required == 0 {
                return Err(DecisionError::Rules(format!(
                    "party {} must require at least one approval",
                    r.party
                )));
            }
            let distinct: BTreeSet<UserId> = r.authorities.iter().copied().collect();
            if distinct.len() < usize::from(r.required) {
                return Err(DecisionError::Rules(format!(
                    "party {} requires {} approvals but designates {} authorities",
                    r.party,
                    r.required,
                    distinct.len()
                )));
            }
            for a in distinct {
                if !seen.insert(a) {
                    return Err(DecisionError::Rules(format!(
                        "user {a} is an authority for two parties"
                    )));
                }
            }
        }
        if !(3600..=90 * 86_400).contains(&self.approval_valid_s) {
            return Err(DecisionError::Rules("approvals are valid 1 hour to 90 days".into()));
        }
        Ok(())
    }
}

/// A proposal at one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The decision.
    pub id: Uuid,
    /// Revision, from 1; a changed text is a new revision.
    pub revision: u32,
    /// Kind.
    pub kind: DecisionKind,
    /// Title.
    pub title: String,
    /// The exact text approved.
    pub text: String,
    /// SHA-256 of each attachment, hex, in order.
    pub attachments: Vec<String>,
    /// Who proposed it.
    pub proposer: UserId,
    /// The proposing party.
    pub proposing_party: PartyId,
    /// The approval rules.
    pub rules: Rules,
}

fn field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(format!("{name} {} ", value.len()).as_bytes());
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

impl Proposal {
    /// The canonical encoding: a fixed header, then every field as `name length value\n`
    /// in a fixed order (rules sorted by party, authorities sorted), so equal proposals
    /// encode equally and no two different ones do.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = b"jsms-decision-v1\n".to_vec();
        field(&mut out, "id", &self.id.to_string());
        field(&mut out, "revision", &self.revision.to_string());
        field(&mut out, "kind", self.kind.as_str());
        field(&mut out, "title", &self.title);
        field(&mut out, "text", &self.text);
        for a in &self.attachments {
            field(&mut out, "attachment", a);
        }
        field(&mut out, "proposer", &self.proposer.to_string());
        field(&mut out, "proposing-party", &self.proposing_party.to_string());
        let mut rules = self.rules.parties.clone();
        rules.sort_by_key(|r| r.party);
        for r in rules {
            let mut authorities: Vec<String> = r.authorities.iter().map(ToString::to_string).collect();
            authorities.sort();
            field(
                &mut out,
                "rule",
                &format!("{} {} {}", r.party, r.required, authorities.join(",")),
            );
        }
        field(&mut out, "approval-valid-s", &self.rules.approval_valid_s.to_string());
        out
    }

    /// The SHA-256 of the canonical encoding, hex (shown to approvers).
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.canonical()))
    }

    /// What an approver signs: the canonical proposal, then who approves for which party
    /// and when.
    pub fn approval_message(&self, user: UserId, party: PartyId, at: i64) -> Vec<u8> {
        let mut out = self.canonical();
        field(&mut out, "approver", &user.to_string());
        field(&mut out, "approver-party", &party.to_string());
        field(&mut out, "approved-at", &at.to_string());
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One signed approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver.
    pub user: UserId,
    /// The approver's party.
    pub party: PartyId,
    /// When, Unix seconds (signed).
    pub at: i64,
    /// Ed25519 signature of [`Proposal::approval_message`], base64.
    pub signature: String,
}

/// Checks an Ed25519 signature (`key`: 32 raw bytes).
pub fn verify_signature(key: &[u8], message: &[u8], signature_b64: &str) -> bool {
    let Ok(sig) = STANDARD.decode(signature_b64) else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
        .verify(message, &sig)
        .is_ok()
}

/// Where a decision is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionState {
    /// Waiting for approvals.
    Proposed,
    /// Every rule met.
    InForce,
    /// Refused by a party.
    Rejected,
    /// Withdrawn by the proposer.
    Withdrawn,
}

/// An action on a decision by one user of one party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// A signed approval.
    Approve {
        /// When it was signed.
        at: i64,
        /// The signature, base64.
        signature: String,
    },
    /// A refusal, with a reason.
    Reject {
        /// Why.
        reason: String,
    },
    /// Withdrawal by the proposer.
    Withdraw,
    /// A new text (by the proposer): a new revision that no earlier approval signs.
    Revise {
        /// The new text.
        text: String,
    },
    /// An attachment added (by the proposer): a new revision, like a new text.
    Attach {
        /// SHA-256 of its content, lowercase hex.
        sha256: String,
    },
}

/// A decision: the current revision, its approvals and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The proposal at its current revision.
    pub proposal: Proposal,
    /// Approvals of the current revision.
    pub approvals: Vec<Approval>,
    /// State.
    pub state: DecisionState,
    /// Who rejected it, and why.
    pub rejection: Option<(UserId, String)>,
}

impl Decision {
    /// A new proposal (validated against the parties of the agreement).
    pub fn propose(proposal: Proposal, agreement: &[PartyId]) -> Result<Self, DecisionError> {
        proposal.rules.validate(agreement)?;
        if proposal.text.trim().is_empty() || proposal.title.trim().is_empty() {
            return Err(DecisionError::Refused("a decision needs a title and a text".into()));
        }
        Ok(Self {
            proposal,
            approvals: Vec::new(),
            state: DecisionState::Proposed,
            rejection: None,
        })
    }

    fn rule_of(&self, party: PartyId) -> Option<&PartyRule> {
        self.proposal.rules.parties.iter().find(|r| r.party == party)
    }

    /// Applies `act` by `user` of `party` at `now`; `key` gives a user's registered public
    /// key (32 bytes). Refusals change nothing.
    pub fn apply(
        &mut self,
        user: UserId,
        party: PartyId,
        act: Act,
        key: &dyn Fn(UserId) -> Option<Vec<u8>>,
        now: i64,
    ) -> Result<(), DecisionError> {
        if self.state != DecisionState::Proposed {
            return Err(DecisionError::Refused(format!(
                "the decision is {}",
                match self.state {
                    DecisionState::InForce => "in force",
                    DecisionState::Rejected => "rejected",
                    DecisionState::Withdrawn => "withdrawn",
                    DecisionState::Proposed => "proposed",
                }
            )));
        }
        let is_proposer = user == self.proposal.proposer;
        let authority = self.rule_of(party).is_some_and(|r| r.authorities.contains(&user));
        match act {
            Act::Approve { at, signature } => {
                if is_proposer {
                    return Err(DecisionError::Refused("nobody approves their own proposal".into()));
                }
                if !authority {
                    return Err(DecisionError::Refused(
                        "only a designated authority of a party that must approve approves".into(),
                    ));
                }
                if (at - now).abs() > CLOCK_SKEW_S {
                    return Err(DecisionError::Refused("the approval's time is not now".into()));
                }
                let message = self.proposal.approval_message(user, party, at);
                let good = key(user).is_some_and(|k| verify_signature(&k, &message, &signature));
                if !good {
                    return Err(DecisionError::BadSignature);
                }
                self.approvals.retain(|a| a.user != user);
                self.approvals.push(Approval {
                    user,
                    party,
                    at,
                    signature,
                });
                if self.satisfied(key, now) {
                    self.state = DecisionState::InForce;
                }
                Ok(())
            }
            Act::Reject { reason } => {
                if is_proposer || !authority {
                    return Err(DecisionError::Refused(
                        "only another party's or a fellow designated authority rejects".into(),
                    ));
                }
                if reason.trim().is_empty() {
                    return Err(DecisionError::Refused("say why it is rejected".into()));
                }
                self.state = DecisionState::Rejected;
                self.rejection = Some((user, reason));
                Ok(())
            }
            Act::Withdraw => {
                if !is_proposer {
                    return Err(DecisionError::Refused("only the proposer withdraws".into()));
                }
                self.state = DecisionState::Withdrawn;
                Ok(())
            }
            Act::Revise { text } => {
                if !is_proposer {
                    return Err(DecisionError::Refused("only the proposer changes the text".into()));
                }
                if text.trim().is_empty() {
                    return Err(DecisionError::Refused("a decision needs a text".into()));
                }
                self.proposal.text = text;
                self.proposal.revision += 1;
                self.approvals.clear();
                Ok(())
            }
            Act::Attach { sha256 } => {
                if !is_proposer {
                    return Err(DecisionError::Refused("only the proposer adds attachments".into()));
                }
                if sha256.len() != 64 || !sha256.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
                    return Err(DecisionError::Refused(
                        "an attachment is named by its SHA-256, lowercase hex".into(),
                    ));
                }
                if self.proposal.attachments.contains(&sha256) {
                    return Err(DecisionError::Refused(
                        "this attachment is already part of the decision".into(),
                    ));
                }
                if self.proposal.attachments.len() >= MAX_ATTACHMENTS {
                    return Err(DecisionError::Refused(format!("at most {MAX_ATTACHMENTS} attachments")));
                }
                self.proposal.attachments.push(sha256);
                self.proposal.revision += 1;
                self.approvals.clear();
                Ok(())
            }
        }
    }

    /// The approvals that count at `now`: of the current revision (their signature
    /// verifies), unexpired, by a designated authority of their party who is not the
    /// proposer, one per user.
    pub fn valid_approvals(&self, key: &dyn Fn(UserId) -> Option<Vec<u8>>, now: i64) -> Vec<&Approval> {
        let mut seen = BTreeSet::new();
        self.approvals
            .iter()
            .filter(|a| a.user != self.proposal.proposer)
            .filter(|a| now - a.at <= self.proposal.rules.approval_valid_s && a.at <= now + CLOCK_SKEW_S)
            .filter(|a| self.rule_of(a.party).is_some_and(|r| r.authorities.contains(&a.user)))
            .filter(|a| {
                let m = self.proposal.approval_message(a.user, a.party, a.at);
                key(a.user).is_some_and(|k| verify_signature(&k, &m, &a.signature))
            })
            .filter(|a| seen.insert(a.user))
            .collect()
    }

    /// Whether every party's rule is met at `now`.
    pub fn satisfied(&self, key: &dyn Fn(UserId) -> Option<Vec<u8>>, now: i64) -> bool {
        let valid = self.valid_approvals(key, now);
        self.proposal
            .rules
            .parties
            .iter()
            .all(|r| valid.iter().filter(|a| a.party == r.party).count() >= usize::from(r.required))
    }
}

/// A decision as exported for offline verification: the proposal, the approvals and the
/// approvers' public keys (base64 of 32 raw Ed25519 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// The decision.
    pub decision: Decision,
    /// Public keys by user id.
    pub keys: std::collections::BTreeMap<String, String>,
}

/// What offline verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Every rule met by valid signatures (at the time of the last approval).
    pub in_force: bool,
    /// Per party: valid approvals and required.
    pub parties: Vec<(PartyId, usize, u8)>,
    /// Approvals whose signature does not verify.
    pub bad_signatures: Vec<UserId>,
    /// The digest of the canonical proposal.
    pub digest: String,
}

impl Export {
    /// Verifies the export as of `at` (by default, the time of its last approval).
    pub fn verify(&self, at: Option<i64>) -> Verification {
        let d = &self.decision;
        let keys = &self.keys;
        let key = |u: UserId| keys.get(&u.to_string()).and_then(|k| STANDARD.decode(k).ok());
        let at = at.unwrap_or_else(|| d.approvals.iter().map(|a| a.at).max().unwrap_or(0));
        let bad_signatures = d
            .approvals
            .iter()
            .filter(|a| {
                let m = d.proposal.approval_message(a.user, a.party, a.at);
                !key(a.user).is_some_and(|k| verify_signature(&k, &m, &a.signature))
            })
            .map(|a| a.user)
            .collect();
        let valid = d.valid_approvals(&key, at);
        Verification {
            in_force: d.satisfied(&key, at),
            parties: d
                .proposal
                .rules
                .parties
                .iter()
                .map(|r| (r.party, valid.iter().filter(|a| a.party == r.party).count(), r.required))
                .collect(),
            bad_signatures,
            digest: d.proposal.digest(),
        }
    }
}

#[cfg(test)]
mod tests;
