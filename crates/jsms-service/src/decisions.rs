//! Bilateral decisions (PRODUCT §3.5), on [`jsms_decision`]: proposals with the safe
//! default rules (every party of the agreement; one approval each, two for deployments)
//! and each party's designated authorities (named by the party's administrators; by default
//! its movement coordinators and liaison officers), frozen into the proposal; attachments
//! (their SHA-256 is part of what is signed; adding one is a new revision); approvals are
//! Ed25519 signatures made on the approver's own device with a key whose public half was
//! registered once; the server never holds a private key. Every decision shown is disclosed
//! through the gate; every step is recorded first.

use crate::error::{Error, Result};
use crate::gate::{Change, Disclosed, Event, Part, Protected, Refusal, Resource};
use crate::{Caller, Services, rfc3339};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_decision::{Act, Decision, DecisionError, DecisionKind, DecisionState, Export, Proposal, Rules};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{PartyId, UserId};
use jsms_domain::user::Role;
use jsms_store::{AttachmentInfo, DecisionRecord, PageRequest};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The one part of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionPart {
    /// Text, rules, approvals, attachments' hashes.
    Record,
}

impl Protected for DecisionRecord {
    type Part = DecisionPart;

    fn parts(&self) -> Vec<Part<DecisionPart>> {
        vec![Part {
            part: DecisionPart::Record,
            resource: Resource::Decision(self.id),
            action: Action::ReadDecisions,
            log: "decision.read",
            fields: &["title", "text", "rules", "approvals", "attachments"],
        }]
    }

    fn redact(&mut self, _allowed: &[DecisionPart]) {}
}

/// An attachment's content, disclosed as a part of its decision.
#[derive(Debug, Clone)]
pub struct DecisionAttachment {
    /// The decision.
    pub decision: Uuid,
    /// Name, media type, size, hash.
    pub info: AttachmentInfo,
    /// The bytes.
    pub content: Vec<u8>,
}

impl Protected for DecisionAttachment {
    type Part = DecisionPart;

    fn parts(&self) -> Vec<Part<DecisionPart>> {
        vec![Part {
            part: DecisionPart::Record,
            resource: Resource::Decision(self.decision),
            action: Action::ReadDecisions,
            log: "decision.attachment",
            fields: &["attachment"],
        }]
    }

    fn redact(&mut self, _allowed: &[DecisionPart]) {}
}

/// A proposal as entered.
#[derive(Debug, Clone)]
pub struct NewProposal {
    /// `technical_assistance`, `joint_operation`, `deployment`, `procedure_change`, `other`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// The exact text to approve.
    pub text: String,
    /// Approvals required per party (party id → M), instead of the defaults.
    pub required: std::collections::BTreeMap<Uuid, u8>,
}

/// An action on a decision as entered.
#[derive(Debug, Clone)]
pub struct DecisionAct {
    /// The version the caller saw.
    pub version: i64,
    /// `approve`, `reject`, `withdraw`, `revise`.
    pub action: String,
    /// For `approve`: the time that was signed.
    pub at: Option<i64>,
    /// For `approve`: the Ed25519 signature, base64.
    pub signature: Option<String>,
    /// For `reject`.
    pub reason: Option<String>,
    /// For `revise`: the new text.
    pub text: Option<String>,
}

/// An attachment as uploaded.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// The version the caller saw.
    pub version: i64,
    /// The file name (checked).
    pub name: String,
    /// Its media type (checked by the HTTP layer).
    pub media_type: String,
    /// The bytes.
    pub content: Vec<u8>,
}

/// An approval as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprovalView {
    /// Approver.
    pub user: Uuid,
    /// The approver's name.
    pub name: String,
    /// The approver's party.
    pub party: Uuid,
    /// When.
    pub at: String,
    /// Counts now (current revision, signature valid, not expired).
    pub valid: bool,
}

/// A party's rule as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    /// Party.
    pub party: Uuid,
    /// Its name.
    pub party_name: String,
    /// Approvals required.
    pub required: u8,
    /// Valid approvals now.
    pub approved: usize,
    /// Its designated authorities (names).
    pub authorities: Vec<String>,
}

/// A decision as its reader sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    /// Identifier.
    pub id: Uuid,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// The text.
    pub text: String,
    /// Revision (a changed text is a new one).
    pub revision: u32,
    /// `proposed`, `in_force`, `rejected`, `withdrawn`.
    pub state: String,
    /// The proposing party.
    pub proposing_party: Uuid,
    /// The proposer.
    pub proposer: Uuid,
    /// SHA-256 of the canonical proposal (what approvers sign), hex.
    pub digest: String,
    /// Rules and progress.
    pub rules: Vec<RuleView>,
    /// Approvals of this revision.
    pub approvals: Vec<ApprovalView>,
    /// Who rejected it and why.
    pub rejection: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// What the caller may do: `approve`, `reject`, `withdraw`, `revise`.
    pub allowed: Vec<String>,
    /// For an authority who may approve: the exact bytes to sign (base64) and their time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_sign: Option<ToSign>,
    /// Whether the caller has registered a signing key.
    pub key_registered: bool,
    /// Attachments, in the order they were added (their hashes are signed).
    pub attachments: Vec<AttachmentView>,
}

/// An attachment as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// SHA-256 of the content, hex (part of the signed encoding).
    pub sha256: String,
    /// File name.
    pub name: String,
    /// Media type given at upload.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
}

/// What an approver signs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ToSign {
    /// Unix seconds to send back with the signature.
    pub at: i64,
    /// The message, base64 (the canonical proposal, then approver, party and time).
    pub message: String,
}

/// One party's designated authorities.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyAuthorities {
    /// Party.
    pub party: Uuid,
    /// Its name.
    pub party_name: String,
    /// Named by its administrators (otherwise: its coordinators and liaison officers).
    pub named: bool,
    /// The authorities (enabled accounts).
    pub users: Vec<AuthorityView>,
}

/// An authority.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthorityView {
    /// User id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// Every party's authorities.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthoritiesList {
    /// Per party.
    pub items: Vec<PartyAuthorities>,
}

fn parse_kind(s: &str) -> Option<DecisionKind> {
    [
        DecisionKind::TechnicalAssistance,
        DecisionKind::JointOperation,
        DecisionKind::Deployment,
        DecisionKind::ProcedureChange,
        DecisionKind::Other,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}
fn state_name(s: DecisionState) -> &'static str {
    match s {
        DecisionState::Proposed => "proposed",
        DecisionState::InForce => "in_force",
        DecisionState::Rejected => "rejected",
        DecisionState::Withdrawn => "withdrawn",
    }
}
fn open(r: &DecisionRecord) -> Result<Decision> {
    serde_json::from_value(r.body.clone()).map_err(|e| Error::Internal(format!("decision {}: {e}", r.id)))
}
fn eligible(u: &jsms_domain::user::User) -> bool {
    !u.disabled
        && u.roles
            .iter()
            .any(|r| matches!(r, Role::MovementCoordinator | Role::LiaisonOfficer))
        && !u.roles.contains(&Role::PartyAdmin)
}
fn approvers(d: &Decision) -> Vec<UserId> {
    d.proposal
        .rules
        .parties
        .iter()
        .flat_map(|r| r.authorities.iter().copied())
        .filter(|u| *u != d.proposal.proposer)
        .collect()
}

/// Checks an attachment's file name: 1 to 200 characters, no path, no control characters.
fn file_name(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ValidationError::new("/name", "a file name of 1 to 200 characters"));
    }
    if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') || name == "." || name == ".." {
        return Err(ValidationError::new(
            "/name",
            "a file name without a path or control characters",
        ));
    }
    Ok(name.to_owned())
}

const STAFF: Refusal = Refusal::Forbidden("decisions are read by the staff of both parties");

impl Services {
    /// A party by id.
    async fn party_record(&self, id: PartyId) -> Result<jsms_domain::user::Party> {
        self.db(move |s| s.party(id)).await
    }

    async fn authorities(&self) -> Result<Vec<(PartyId, Vec<UserId>)>> {
        Ok(self
            .authorities_named()
            .await?
            .into_iter()
            .map(|(p, users, _)| (p, users))
            .collect())
    }

    async fn authorities_named(&self) -> Result<Vec<(PartyId, Vec<UserId>, bool)>> {
        let parties = self.db(|s| s.parties()).await?;
        let mut out = Vec::new();
        for p in parties {
            let id = p.id;
            let named = self.db(move |s| s.designated_authorities(id)).await?;
            if !named.is_empty() {
                // Named, and still eligible now: enabled, with the role, not an administrator.
                let mut current = Vec::new();
                for u in named {
                    if self.db(move |s| s.user(u)).await.is_ok_and(|u| eligible(&u)) {
                        current.push(u);
                    }
                }
                out.push((id, current, true));
                continue;
            }
            let page = PageRequest {
                after: None,
                limit: 500,
                q: None,
            };
            let users = self.db(move |s| s.users(Some(id), &page)).await?.items;
            let chosen = users.into_iter().filter(eligible).map(|u| u.id).collect();
            out.push((id, chosen, false));
        }
        Ok(out)
    }

    async fn ask_approval(&self, d: &Decision) {
        let text = format!(
            "Decision “{}” (revision {}) awaits your approval",
            d.proposal.title, d.proposal.revision
        );
        let link = format!("#/decisions/{}", d.proposal.id);
        self.notify(&approvers(d), "decision_to_approve", &text, &link).await;
    }

    async fn keys(&self, d: &Decision) -> Result<std::collections::HashMap<UserId, Vec<u8>>> {
        let mut out = std::collections::HashMap::new();
        for a in &d.approvals {
            let u = a.user;
            if let Some(k) = self.db(move |s| s.signing_key(u)).await? {
                out.insert(u, k);
            }
        }
        Ok(out)
    }

    async fn view(&self, principal: &Caller, r: &DecisionRecord) -> Result<DecisionView> {
        let d = open(r)?;
        let mut keys = self.keys(&d).await?;
        let now = self.clock.now();
        let user = principal.user.as_ref();
        let me = user.map(|u| u.id);
        if let Some(me) = me
            && !keys.contains_key(&me)
            && let Some(k) = self.db(move |s| s.signing_key(me)).await?
        {
            keys.insert(me, k);
        }
        let key = |u: UserId| keys.get(&u).cloned();
        let valid: Vec<UserId> = d.valid_approvals(&key, now).iter().map(|a| a.user).collect();
        // Party names from the server's cache (parties change only at `init`).
        let mut party_names = std::collections::HashMap::new();
        for rule in &d.proposal.rules.parties {
            party_names.insert(rule.party, self.party_record(rule.party).await?.name);
        }
        let mut names = std::collections::HashMap::new();
        for rule in &d.proposal.rules.parties {
            for &u in &rule.authorities {
                if let Ok(user) = self.db(move |s| s.user(u)).await {
                    names.insert(u, user.display_name.clone());
                }
            }
        }
        let name = |u: UserId| names.get(&u).cloned().unwrap_or_else(|| u.to_string());
        let party = user.map(|u| u.party_id);
        let id = r.id;
        let stored = self.db(move |s| s.decision_attachments(id)).await?;
        // In the signed order; a hash without its stored file would be shown without a name.
        let attachments = d
            .proposal
            .attachments
            .iter()
            .map(|h| {
                let info = stored.iter().find(|a| &a.sha256 == h);
                AttachmentView {
                    sha256: h.clone(),
                    name: info.map(|a| a.name.clone()).unwrap_or_default(),
                    media_type: info.map(|a| a.media_type.clone()).unwrap_or_default(),
                    size: info.map_or(0, |a| a.size),
                }
            })
            .collect();
        let authority = me.is_some_and(|me| {
            d.proposal
                .rules
                .parties
                .iter()
                .any(|r| Some(r.party) == party && r.authorities.contains(&me))
        });
        let proposer = me == Some(d.proposal.proposer);
        let open_state = d.state == DecisionState::Proposed;
        let mut allowed = Vec::new();
        if open_state && authority && !proposer {
            allowed.extend(["approve".to_owned(), "reject".to_owned()]);
        }
        if open_state && proposer {
            allowed.extend(["withdraw".to_owned(), "revise".to_owned()]);
        }
        let to_sign = match (allowed.iter().any(|a| a == "approve"), me, party) {
            (true, Some(me), Some(party)) => Some(ToSign {
                at: now,
                message: STANDARD.encode(d.proposal.approval_message(me, party, now)),
            }),
            _ => None,
        };
        Ok(DecisionView {
            id: r.id,
            kind: d.proposal.kind.as_str().to_owned(),
            title: d.proposal.title.clone(),
            text: d.proposal.text.clone(),
            revision: d.proposal.revision,
            state: state_name(d.state).to_owned(),
            proposing_party: d.proposal.proposing_party.uuid(),
            proposer: d.proposal.proposer.uuid(),
            digest: d.proposal.digest(),
            rules: d
                .proposal
                .rules
                .parties
                .iter()
                .map(|rule| RuleView {
                    party: rule.party.uuid(),
                    party_name: party_names.get(&rule.party).cloned().unwrap_or_default(),
                    required: rule.required,
                    approved: d
                        .approvals
                        .iter()
                        .filter(|a| a.party == rule.party && valid.contains(&a.user))
                        .count(),
                    authorities: rule.authorities.iter().map(|u| name(*u)).collect(),
                })
                .collect(),
            approvals: d
                .approvals
                .iter()
                .map(|a| ApprovalView {
                    user: a.user.uuid(),
                    name: name(a.user),
                    party: a.party.uuid(),
                    at: rfc3339(a.at),
                    valid: valid.contains(&a.user),
                })
                .collect(),
            rejection: d.rejection.as_ref().map(|(_, reason)| reason.clone()),
            version: r.version,
            allowed,
            to_sign,
            key_registered: me.is_some_and(|m| keys.contains_key(&m)),
            attachments,
        })
    }

    /// A decision the caller may read (the denial recorded as `log`, answered forbidden:
    /// decisions are joint knowledge, their existence no secret among the staff).
    async fn readable_decision(&self, caller: &Caller, id: Uuid, log: &'static str) -> Result<DecisionRecord> {
        let read = Change::new(log, Some(Resource::Decision(id)), Action::ReadDecisions, STAFF);
        self.gate.check(caller, &read).await?;
        self.db(move |s| s.decision(id)).await
    }

    /// Registers the caller's Ed25519 public key for approving decisions (once).
    pub async fn register_signing_key(&self, caller: &Caller, key: Vec<u8>) -> Result<()> {
        let user = caller.human()?.clone();
        if key.len() != 32 {
            return Err(ValidationError::new("/public_key", "an Ed25519 public key: 32 bytes in base64").into());
        }
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow("decision.key", Some(Resource::User(user.id)), "signing key registered"),
            )
            .await?;
        let now = self.clock.now();
        self.db(move |s| s.register_signing_key(user.id, &key, now)).await
    }

    /// The decisions, newest first, each disclosed.
    pub async fn decisions(&self, caller: &Caller) -> Result<Vec<DecisionView>> {
        let list = Change::new("decision.list", None, Action::ReadDecisions, STAFF);
        self.gate.check(caller, &list).await?;
        let all = self.db(|s| s.decisions()).await?;
        let disclosed = self.gate.disclose_all(caller, all).await?;
        let mut items = Vec::with_capacity(disclosed.len());
        for r in &disclosed {
            items.push(self.view(caller, r).await?);
        }
        Ok(items)
    }

    /// One decision.
    pub async fn decision(&self, caller: &Caller, id: Uuid) -> Result<DecisionView> {
        let r = self.readable_decision(caller, id, "decision.read").await?;
        let r = self.gate.disclose(caller, r).await?;
        self.view(caller, &r).await
    }

    /// Proposes a decision with the default rules (every party; one approval each, two for
    /// deployments, or M per party given) and each party's designated authorities.
    pub async fn propose_decision(&self, caller: &Caller, input: NewProposal) -> Result<DecisionView> {
        let user = caller.human()?.clone();
        let id = Uuid::now_v7();
        let change = Change::new(
            "decision.propose",
            Some(Resource::Decision(id)),
            Action::ProposeDecision { party: user.party_id },
            Refusal::Forbidden("coordinators, liaison officers and analysts propose decisions"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let kind = parse_kind(&input.kind).ok_or_else(|| {
            ValidationError::new(
                "/kind",
                "technical_assistance, joint_operation, deployment, procedure_change or other",
            )
        })?;
        let title = jsms_domain::text::required("/title", &input.title, 200)?;
        let text = jsms_domain::text::required("/text", &input.text, 20_000)?;
        let authorities = self.authorities().await?;
        let agreement: Vec<PartyId> = authorities.iter().map(|(p, _)| *p).collect();
        let parties: Vec<Uuid> = agreement.iter().map(|p| p.uuid()).collect();
        if let Some(unknown) = input.required.keys().find(|p| !parties.contains(p)) {
            return Err(ValidationError::new(format!("/required/{unknown}"), "not a party of the agreement").into());
        }
        let decision_rules = Rules {
            parties: authorities
                .iter()
                .map(|(party, users)| jsms_decision::PartyRule {
                    party: *party,
                    required: input
                        .required
                        .get(&party.uuid())
                        .copied()
                        .unwrap_or_else(|| kind.default_required()),
                    // The proposer never approves their own proposal: not counted as an authority.
                    authorities: users.iter().copied().filter(|u| *u != user.id).collect(),
                })
                .collect(),
            approval_valid_s: jsms_decision::APPROVAL_VALID_S,
        };
        decision_rules
            .validate(&agreement)
            .map_err(|e| ValidationError::new("/required", e.to_string()))?;
        let decision = Decision::propose(
            Proposal {
                id,
                revision: 1,
                kind,
                title,
                text,
                attachments: Vec::new(),
                proposer: user.id,
                proposing_party: user.party_id,
                rules: decision_rules,
            },
            &agreement,
        )
        .map_err(|e| Error::Conflict(e.to_string()))?;
        let record = DecisionRecord {
            id,
            party: user.party_id,
            body: serde_json::to_value(&decision).map_err(|e| Error::Internal(e.to_string()))?,
            state: state_name(decision.state).to_owned(),
            version: 1,
        };
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        let r = record.clone();
        self.write(caller, &change, permit, move |s| s.create_decision(&r, user.id, now))
            .await?;
        self.ask_approval(&decision).await;
        let r = self.gate.disclose(caller, record).await?;
        self.view(caller, &r).await
    }

    /// Approves (with a signature), rejects, withdraws or revises a decision.
    pub async fn act_on_decision(&self, caller: &Caller, id: Uuid, input: DecisionAct) -> Result<DecisionView> {
        let user = caller.human()?.clone();
        let r = self.readable_decision(caller, id, "decision.act").await?;
        let mut d = open(&r)?;
        let need = |v: Option<String>, field: &str, what: &str| {
            v.filter(|x| !x.trim().is_empty())
                .ok_or_else(|| Error::from(ValidationError::new(field, what)))
        };
        let action = match input.action.as_str() {
            "approve" => Act::Approve {
                at: input
                    .at
                    .ok_or_else(|| ValidationError::new("/at", "the signed time (to_sign.at)"))?,
                signature: need(input.signature, "/signature", "the Ed25519 signature, base64")?,
            },
            "reject" => Act::Reject {
                reason: need(input.reason, "/reason", "say why it is rejected")?,
            },
            "withdraw" => Act::Withdraw,
            "revise" => Act::Revise {
                text: jsms_domain::text::required("/text", input.text.as_deref().unwrap_or(""), 20_000)?,
            },
            _ => return Err(ValidationError::new("/action", "approve, reject, withdraw or revise").into()),
        };
        let mut keys = self.keys(&d).await?;
        let me = user.id;
        if let Some(k) = self.db(move |s| s.signing_key(me)).await? {
            keys.insert(me, k);
        }
        let key = |u: UserId| keys.get(&u).cloned();
        let now = self.clock.now();
        let name = input.action.clone();
        match d.apply(user.id, user.party_id, action, &key, now) {
            Ok(()) => {}
            Err(DecisionError::BadSignature) => {
                self.gate
                    .record(
                        &caller.who,
                        &caller.origin,
                        Event::deny(
                            "decision.act",
                            Some(Resource::Decision(id)),
                            "signature does not verify",
                        ),
                    )
                    .await?;
                return Err(ValidationError::new(
                    "/signature",
                    "the signature does not verify for your registered key and this revision",
                )
                .into());
            }
            Err(e) => return Err(Error::Conflict(e.to_string())),
        }
        let reason = if d.state == DecisionState::InForce {
            format!("{name}: now in force")
        } else {
            name
        };
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow("decision.act", Some(Resource::Decision(id)), reason),
            )
            .await?;
        let record = DecisionRecord {
            body: serde_json::to_value(&d).map_err(|e| Error::Internal(e.to_string()))?,
            state: state_name(d.state).to_owned(),
            ..r
        };
        let version = input.version;
        let saved = self.db(move |s| s.update_decision(&record, version, now)).await?;
        let link = format!("#/decisions/{id}");
        match (d.state, input.action.as_str()) {
            (DecisionState::Proposed, "revise") => self.ask_approval(&d).await,
            (DecisionState::InForce, _) => {
                let text = format!("Decision “{}” is in force", d.proposal.title);
                self.notify(&[d.proposal.proposer], "decision_outcome", &text, &link)
                    .await;
            }
            (DecisionState::Rejected, _) => {
                let text = format!("Decision “{}” was rejected", d.proposal.title);
                self.notify(&[d.proposal.proposer], "decision_outcome", &text, &link)
                    .await;
            }
            _ => {}
        }
        let saved = self.gate.disclose(caller, saved).await?;
        self.view(caller, &saved).await
    }

    /// The decision with its approvals and the approvers' public keys, for `jsms decision
    /// verify`.
    pub async fn export_decision(&self, caller: &Caller, id: Uuid) -> Result<Export> {
        let r = self.readable_decision(caller, id, "decision.export").await?;
        let r = self.gate.disclose(caller, r).await?;
        let d = open(&r)?;
        let keys = self
            .keys(&d)
            .await?
            .into_iter()
            .map(|(u, k)| (u.to_string(), STANDARD.encode(k)))
            .collect();
        Ok(Export { decision: d, keys })
    }

    /// Adds an attachment to a proposed decision: the proposer only; a new revision, so
    /// earlier approvals no longer count.
    pub async fn attach_to_decision(&self, caller: &Caller, id: Uuid, file: NewAttachment) -> Result<DecisionView> {
        let user = caller.human()?.clone();
        let name = file_name(&file.name)?;
        if file.content.is_empty() {
            return Err(ValidationError::new("/body", "the file is empty").into());
        }
        let r = self.readable_decision(caller, id, "decision.attach").await?;
        let mut d = open(&r)?;
        let sha256: String = Sha256::digest(&file.content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let now = self.clock.now();
        let no_key = |_: UserId| None;
        d.apply(
            user.id,
            user.party_id,
            Act::Attach { sha256: sha256.clone() },
            &no_key,
            now,
        )
        .map_err(|e| Error::Conflict(e.to_string()))?;
        self.gate
            .record(
                &caller.who,
                &caller.origin,
                Event::allow(
                    "decision.attach",
                    Some(Resource::Decision(id)),
                    format!("attachment {name} sha256:{sha256}, revision {}", d.proposal.revision),
                ),
            )
            .await?;
        let record = DecisionRecord {
            body: serde_json::to_value(&d).map_err(|e| Error::Internal(e.to_string()))?,
            state: state_name(d.state).to_owned(),
            ..r
        };
        let info = AttachmentInfo {
            sha256,
            name,
            media_type: file.media_type,
            size: i64::try_from(file.content.len()).unwrap_or(i64::MAX),
        };
        let (by, version, content) = (user.id, file.version, file.content);
        let saved = self
            .db(move |s| s.attach_to_decision(&record, version, &info, &content, by, now))
            .await?;
        self.ask_approval(&d).await;
        let saved = self.gate.disclose(caller, saved).await?;
        self.view(caller, &saved).await
    }

    /// One attachment's content (the hash is checked by the HTTP layer's parser).
    pub async fn decision_attachment(
        &self,
        caller: &Caller,
        id: Uuid,
        sha256: &str,
    ) -> Result<Disclosed<DecisionAttachment>> {
        self.readable_decision(caller, id, "decision.attachment").await?;
        let hash = sha256.to_ascii_lowercase();
        let (info, content) = self.db(move |s| s.decision_attachment(id, &hash)).await?;
        let a = DecisionAttachment {
            decision: id,
            info,
            content,
        };
        self.gate.disclose(caller, a).await
    }

    /// Who approves decisions for each party now (new proposals take these): for the staff
    /// who read decisions and for the parties' administrators.
    pub async fn decision_authorities(&self, caller: &Caller) -> Result<AuthoritiesList> {
        if !self.gate.allows(&caller.actor, Action::ReadDecisions) {
            let party = caller.human()?.party_id;
            let read = Change::new(
                "decision.authorities",
                None,
                Action::ManageUsers { party },
                Refusal::Forbidden("decision authorities are read by the staff and the administrators"),
            );
            self.gate.check(caller, &read).await?;
        }
        self.authorities_list().await
    }

    async fn authorities_list(&self) -> Result<AuthoritiesList> {
        let mut items = Vec::new();
        for (party, users, named) in self.authorities_named().await? {
            let mut views = Vec::new();
            for u in users {
                let user = self.db(move |s| s.user(u)).await?;
                views.push(AuthorityView {
                    id: u.uuid(),
                    name: user.display_name,
                });
            }
            items.push(PartyAuthorities {
                party: party.uuid(),
                party_name: self.party_record(party).await?.name,
                named,
                users: views,
            });
        }
        Ok(AuthoritiesList { items })
    }

    /// Names the caller's party's authorities for decisions proposed from now on (its
    /// administrators only; decisions already proposed keep theirs).
    pub async fn designate_authorities(&self, caller: &Caller, users: &[Uuid]) -> Result<AuthoritiesList> {
        let me = caller.human()?.clone();
        let change = Change::new(
            "decision.designate",
            None,
            Action::ManageUsers { party: me.party_id },
            Refusal::Forbidden("a party's administrators name its authorities"),
        );
        let mut reasons = self.gate.check(caller, &change).await?;
        if users.len() > 50 {
            return Err(ValidationError::new("/users", "at most 50 authorities").into());
        }
        let mut chosen = Vec::new();
        for (i, raw) in users.iter().enumerate() {
            let field = format!("/users/{i}");
            let id = UserId::from_uuid(*raw);
            if chosen.contains(&id) {
                return Err(ValidationError::new(field, "named twice").into());
            }
            let user = match self.db(move |s| s.user(id)).await {
                Ok(u) if u.party_id == me.party_id => u,
                Ok(_) | Err(Error::NotFound) => {
                    return Err(ValidationError::new(field, "not a user of your party").into());
                }
                Err(e) => return Err(e),
            };
            if user.disabled {
                return Err(ValidationError::new(field, "this account is disabled").into());
            }
            if !eligible(&user) {
                return Err(ValidationError::new(
                    field,
                    "an authority holds the movement coordinator or liaison officer role, and no administrator role",
                )
                .into());
            }
            chosen.push(id);
        }
        let named: Vec<String> = chosen.iter().map(|u| format!("user:{u}")).collect();
        reasons.push(format!("party:{}", me.party_id));
        reasons.push(if named.is_empty() {
            "default authorities".to_owned()
        } else {
            named.join(" ")
        });
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        drop(permit);
        let now = self.clock.now();
        let (party, by) = (me.party_id, me.id);
        self.db(move |s| s.designate_authorities(party, &chosen, by, now))
            .await?;
        self.authorities_list().await
    }
}
