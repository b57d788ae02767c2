//! Bilateral decisions over HTTP (PRODUCT §3.5), on [`jsms_decision`]: proposals with the
//! safe default rules (every party of the agreement; one approval each, two for
//! deployments) and each party's designated authorities (named by the party's
//! administrators, `PUT /api/v1/decisions/authorities`; by default its movement
//! coordinators and liaison officers), frozen into the proposal; attachments (their SHA-256
//! is part of what is signed; adding one is a new revision); approvals are Ed25519 signatures made on the approver's own device
//! with a key whose public half was registered once (`PUT /api/v1/me/signing-key`); the
//! server never holds a private key. Every step is audited; `GET …/export` gives the file
//! `jsms decision verify` checks offline.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, RequestMeta, body_error, expected_version, path_id};
use crate::routes::notifications::notify;
use crate::routes::require;
use crate::state::{AppState, Event};
use crate::wire::rfc3339;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_decision::{Act, Decision, DecisionError, DecisionKind, DecisionState, Export, Proposal, Rules};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{PartyId, UserId};
use jsms_domain::user::Role;
use jsms_store::{AttachmentInfo, DecisionRecord, PageRequest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

/// The decision routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_key))
        .routes(routes!(list_decisions, propose))
        .routes(routes!(get_decision))
        .routes(routes!(act))
        .routes(routes!(export))
        .routes(routes!(list_authorities, designate))
        .routes(routes!(attachment))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(attach))
                .layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES)),
        )
}

/// Largest attachment, bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 4 * 1024 * 1024;

/// A public key to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyIn {
    /// The Ed25519 public key: 32 bytes, base64.
    pub public_key: String,
}

/// Registers the caller's Ed25519 public key for approving decisions (once).
#[utoipa::path(put, path = "/api/v1/me/signing-key", tag = "decisions", request_body = SigningKeyIn,
    responses((status = 204, description = "Registered"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn register_key(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<SigningKeyIn>,
) -> ApiResult<StatusCode> {
    let user = principal.human()?.clone();
    let key = STANDARD
        .decode(input.public_key.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| ValidationError::new("/public_key", "an Ed25519 public key: 32 bytes in base64"))?;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "decision.key",
                Some(format!("user:{}", user.id)),
                "signing key registered",
            ),
        )
        .await?;
    let now = state.clock.now();
    state.db(move |s| s.register_signing_key(user.id, &key, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A proposal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalIn {
    /// `technical_assistance`, `joint_operation`, `deployment`, `procedure_change`, `other`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// The exact text to approve.
    pub text: String,
    /// Approvals required per party (party id → M), instead of the defaults (1 each, 2 for
    /// deployments). Every party still approves; M is 1 to the number of its authorities.
    #[serde(default)]
    pub required: std::collections::BTreeMap<Uuid, u8>,
}

/// An approval as shown.
#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct ToSign {
    /// Unix seconds to send back with the signature.
    pub at: i64,
    /// The message, base64 (the canonical proposal, then approver, party and time).
    pub message: String,
}

/// Decisions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    /// Decisions.
    pub items: Vec<DecisionView>,
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

fn open(r: &DecisionRecord) -> ApiResult<Decision> {
    serde_json::from_value(r.body.clone()).map_err(|e| ApiError::Internal(format!("decision {}: {e}", r.id)))
}

/// The designated authorities of each party (enabled accounts): those its administrators
/// named, or by default its movement coordinators and liaison officers. A party whose named
/// authorities are all disabled has none (proposals are then refused, never widened).
async fn authorities(state: &AppState) -> ApiResult<Vec<(PartyId, Vec<UserId>)>> {
    Ok(authorities_named(state)
        .await?
        .into_iter()
        .map(|(p, users, _)| (p, users))
        .collect())
}

/// Each party's authorities and whether they were named (not the default).
async fn authorities_named(state: &AppState) -> ApiResult<Vec<(PartyId, Vec<UserId>, bool)>> {
    let parties = state.db(|s| s.parties()).await?;
    let mut out = Vec::new();
    for p in parties {
        let id = p.id;
        let named = state.db(move |s| s.designated_authorities(id)).await?;
        if !named.is_empty() {
            // Named, and still eligible now: enabled, with the role, not an administrator.
            let mut current = Vec::new();
            for u in named {
                if state.db(move |s| s.user(u)).await.is_ok_and(|u| eligible(&u)) {
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
        let users = state.db(move |s| s.users(Some(id), &page)).await?.items;
        let chosen = users.into_iter().filter(eligible).map(|u| u.id).collect();
        out.push((id, chosen, false));
    }
    Ok(out)
}

/// Whether a user may be a decision authority: enabled, a movement coordinator or liaison
/// officer, and not a party administrator (who has no operational access at all).
fn eligible(u: &jsms_domain::user::User) -> bool {
    !u.disabled
        && u.roles
            .iter()
            .any(|r| matches!(r, Role::MovementCoordinator | Role::LiaisonOfficer))
        && !u.roles.contains(&Role::PartyAdmin)
}

/// Everyone who may approve `d` now (its authorities, the proposer excluded).
fn approvers(d: &Decision) -> Vec<UserId> {
    d.proposal
        .rules
        .parties
        .iter()
        .flat_map(|r| r.authorities.iter().copied())
        .filter(|u| *u != d.proposal.proposer)
        .collect()
}

/// Tells the authorities a revision awaits their approval.
async fn ask_approval(state: &AppState, d: &Decision) {
    let text = format!(
        "Decision “{}” (revision {}) awaits your approval",
        d.proposal.title, d.proposal.revision
    );
    let link = format!("#/decisions/{}", d.proposal.id);
    notify(state, &approvers(d), "decision_to_approve", &text, &link).await;
}

/// Public keys of the users a decision concerns.
async fn keys(state: &AppState, d: &Decision) -> ApiResult<std::collections::HashMap<UserId, Vec<u8>>> {
    let mut out = std::collections::HashMap::new();
    for a in &d.approvals {
        let u = a.user;
        if let Some(k) = state.db(move |s| s.signing_key(u)).await? {
            out.insert(u, k);
        }
    }
    Ok(out)
}

async fn view(state: &AppState, principal: &Principal, r: &DecisionRecord) -> ApiResult<DecisionView> {
    let d = open(r)?;
    let mut keys = keys(state, &d).await?;
    let now = state.clock.now();
    let user = principal.user.as_ref();
    let me = user.map(|u| u.id);
    if let Some(me) = me
        && !keys.contains_key(&me)
        && let Some(k) = state.db(move |s| s.signing_key(me)).await?
    {
        keys.insert(me, k);
    }
    let key = |u: UserId| keys.get(&u).cloned();
    let valid: Vec<UserId> = d.valid_approvals(&key, now).iter().map(|a| a.user).collect();
    // Party names from the server's cache (parties change only at `init`).
    let mut party_names = std::collections::HashMap::new();
    for rule in &d.proposal.rules.parties {
        party_names.insert(rule.party, state.party(rule.party).await?.name);
    }
    let mut names = std::collections::HashMap::new();
    for rule in &d.proposal.rules.parties {
        for &u in &rule.authorities {
            if let Ok(user) = state.db(move |s| s.user(u)).await {
                names.insert(u, user.display_name.clone());
            }
        }
    }
    let name = |u: UserId| names.get(&u).cloned().unwrap_or_else(|| u.to_string());
    let party = user.map(|u| u.party_id);
    let id = r.id;
    let stored = state.db(move |s| s.decision_attachments(id)).await?;
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

async fn readable(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    what: &'static str,
    id: Option<Uuid>,
) -> ApiResult<()> {
    require(
        state,
        principal,
        meta,
        what,
        id.map(|i| format!("decision:{i}")),
        Action::ReadDecisions,
        ApiError::Forbidden("decisions are read by the staff of both parties"),
    )
    .await
    .map(|_| ())
}

/// Decisions, newest first.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "decisions",
    responses((status = 200, body = DecisionList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_decisions(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<DecisionList>> {
    readable(&state, &principal, &meta, "decision.list", None).await?;
    let all = state.db(|s| s.decisions()).await?;
    let mut items = Vec::with_capacity(all.len());
    for r in &all {
        items.push(view(&state, &principal, r).await?);
    }
    Ok(Json(DecisionList { items }))
}

/// Proposes a decision with the default rules (every party; one approval each, two for
/// deployments) and each party's designated authorities.
#[utoipa::path(post, path = "/api/v1/decisions", tag = "decisions", request_body = ProposalIn,
    responses((status = 201, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn propose(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<ProposalIn>,
) -> ApiResult<(StatusCode, Json<DecisionView>)> {
    let user = principal.human()?.clone();
    let rules = require(
        &state,
        &principal,
        &meta,
        "decision.propose",
        None,
        Action::ProposeDecision { party: user.party_id },
        ApiError::Forbidden("coordinators, liaison officers and analysts propose decisions"),
    )
    .await?;
    let kind = parse_kind(&input.kind).ok_or_else(|| {
        ValidationError::new(
            "/kind",
            "technical_assistance, joint_operation, deployment, procedure_change or other",
        )
    })?;
    let title = jsms_domain::text::required("/title", &input.title, 200)?;
    let text = jsms_domain::text::required("/text", &input.text, 20_000)?;
    let authorities = authorities(&state).await?;
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
        .map_err(|e| ApiError::from(ValidationError::new("/required", e.to_string())))?;
    let id = Uuid::now_v7();
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
    .map_err(|e| ApiError::Conflict(e.to_string()))?;
    let record = DecisionRecord {
        id,
        party: user.party_id,
        body: serde_json::to_value(&decision).map_err(|e| ApiError::Internal(e.to_string()))?,
        state: state_name(decision.state).to_owned(),
        version: 1,
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("decision.propose", Some(format!("decision:{id}")), rules),
        )
        .await?;
    let now = state.clock.now();
    let r = record.clone();
    state.db(move |s| s.create_decision(&r, user.id, now)).await?;
    ask_approval(&state, &decision).await;
    Ok((StatusCode::CREATED, Json(view(&state, &principal, &record).await?)))
}

/// One decision.
#[utoipa::path(get, path = "/api/v1/decisions/{id}", tag = "decisions", params(("id" = String, Path, description = "Decision id")),
    responses((status = 200, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn get_decision(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DecisionView>> {
    let id = path_id(&id)?;
    readable(&state, &principal, &meta, "decision.read", Some(id)).await?;
    let r = state.db(move |s| s.decision(id)).await?;
    Ok(Json(view(&state, &principal, &r).await?))
}

/// An action on a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActIn {
    /// The version the caller saw.
    pub version: i64,
    /// `approve` (with `at` and `signature`), `reject` (with `reason`), `withdraw`, `revise`
    /// (with `text`).
    pub action: String,
    /// For `approve`: the time that was signed (Unix seconds, from `to_sign`).
    #[serde(default)]
    pub at: Option<i64>,
    /// For `approve`: the Ed25519 signature of `to_sign.message`, base64.
    #[serde(default)]
    pub signature: Option<String>,
    /// For `reject`.
    #[serde(default)]
    pub reason: Option<String>,
    /// For `revise`: the new text.
    #[serde(default)]
    pub text: Option<String>,
}

/// Approves (with a signature), rejects, withdraws or revises a decision.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/actions", tag = "decisions", request_body = ActIn,
    params(("id" = String, Path, description = "Decision id")),
    responses((status = 200, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn act(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ActIn>,
) -> ApiResult<Json<DecisionView>> {
    let user = principal.human()?.clone();
    let id = path_id(&id)?;
    readable(&state, &principal, &meta, "decision.act", Some(id)).await?;
    let r = state.db(move |s| s.decision(id)).await?;
    let mut d = open(&r)?;
    let need = |v: Option<String>, field: &str, what: &str| {
        v.filter(|x| !x.trim().is_empty())
            .ok_or_else(|| ApiError::from(ValidationError::new(field, what)))
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
    let mut keys = keys(&state, &d).await?;
    let me = user.id;
    if let Some(k) = state.db(move |s| s.signing_key(me)).await? {
        keys.insert(me, k);
    }
    let key = |u: UserId| keys.get(&u).cloned();
    let now = state.clock.now();
    let name = input.action.clone();
    match d.apply(user.id, user.party_id, action, &key, now) {
        Ok(()) => {}
        Err(DecisionError::BadSignature) => {
            state
                .audit(
                    &principal.who,
                    &meta,
                    Event::deny(
                        "decision.act",
                        Some(format!("decision:{id}")),
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
        Err(e) => return Err(ApiError::Conflict(e.to_string())),
    }
    let reason = if d.state == DecisionState::InForce {
        format!("{name}: now in force")
    } else {
        name
    };
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("decision.act", Some(format!("decision:{id}")), reason),
        )
        .await?;
    let record = DecisionRecord {
        body: serde_json::to_value(&d).map_err(|e| ApiError::Internal(e.to_string()))?,
        state: state_name(d.state).to_owned(),
        ..r
    };
    let version = input.version;
    let saved = state.db(move |s| s.update_decision(&record, version, now)).await?;
    let link = format!("#/decisions/{id}");
    match (d.state, input.action.as_str()) {
        (DecisionState::Proposed, "revise") => ask_approval(&state, &d).await,
        (DecisionState::InForce, _) => {
            let text = format!("Decision “{}” is in force", d.proposal.title);
            notify(&state, &[d.proposal.proposer], "decision_outcome", &text, &link).await;
        }
        (DecisionState::Rejected, _) => {
            let text = format!("Decision “{}” was rejected", d.proposal.title);
            notify(&state, &[d.proposal.proposer], "decision_outcome", &text, &link).await;
        }
        _ => {}
    }
    Ok(Json(view(&state, &principal, &saved).await?))
}

/// The decision with its approvals and the approvers' public keys, for `jsms decision
/// verify`.
#[utoipa::path(get, path = "/api/v1/decisions/{id}/export", tag = "decisions", params(("id" = String, Path, description = "Decision id")),
    responses((status = 200, description = "The export (JSON)"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn export(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Export>> {
    let id = path_id(&id)?;
    readable(&state, &principal, &meta, "decision.export", Some(id)).await?;
    let r = state.db(move |s| s.decision(id)).await?;
    let d = open(&r)?;
    let keys = keys(&state, &d)
        .await?
        .into_iter()
        .map(|(u, k)| (u.to_string(), STANDARD.encode(k)))
        .collect();
    Ok(Json(Export { decision: d, keys }))
}

/// Where to attach a file.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttachQuery {
    /// The file name (no path).
    pub name: String,
    /// The version read (or `If-Match`).
    pub version: Option<i64>,
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

/// A media type as `type/subtype` (parameters dropped); none given is
/// `application/octet-stream`.
fn media_type(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return Ok("application/octet-stream".to_owned());
    };
    let essence = v
        .to_str()
        .ok()
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let ok = essence.len() <= 100
        && essence.split_once('/').is_some_and(|(a, b)| {
            let token = |x: &str| {
                !x.is_empty()
                    && x.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&c))
            };
            token(a) && token(b)
        });
    if !ok {
        return Err(ApiError::InvalidParameter {
            field: "/Content-Type".into(),
            detail: "a media type like application/pdf".into(),
        });
    }
    Ok(essence)
}

/// Adds an attachment (the request body, at most 4 MiB) to a proposed decision: the
/// proposer only; a new revision, so earlier approvals no longer count.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/attachments", tag = "decisions",
    params(("id" = String, Path, description = "Decision id"), AttachQuery),
    request_body(content = Vec<u8>, description = "The file", content_type = "application/octet-stream"),
    responses((status = 200, body = DecisionView),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn attach(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AttachQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<DecisionView>> {
    let user = principal.human()?.clone();
    let id = path_id(&id)?;
    let version = expected_version(&headers, query.version)?;
    let name = file_name(&query.name)?;
    let media_type = media_type(&headers)?;
    let content = body.map_err(body_error)?;
    if content.is_empty() {
        return Err(ValidationError::new("/body", "the file is empty").into());
    }
    readable(&state, &principal, &meta, "decision.attach", Some(id)).await?;
    let r = state.db(move |s| s.decision(id)).await?;
    let mut d = open(&r)?;
    let sha256: String = Sha256::digest(&content).iter().map(|b| format!("{b:02x}")).collect();
    let now = state.clock.now();
    let no_key = |_: UserId| None;
    d.apply(
        user.id,
        user.party_id,
        Act::Attach { sha256: sha256.clone() },
        &no_key,
        now,
    )
    .map_err(|e| ApiError::Conflict(e.to_string()))?;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "decision.attach",
                Some(format!("decision:{id}")),
                format!("attachment {name} sha256:{sha256}, revision {}", d.proposal.revision),
            ),
        )
        .await?;
    let record = DecisionRecord {
        body: serde_json::to_value(&d).map_err(|e| ApiError::Internal(e.to_string()))?,
        state: state_name(d.state).to_owned(),
        ..r
    };
    let info = AttachmentInfo {
        sha256,
        name,
        media_type,
        size: i64::try_from(content.len()).unwrap_or(i64::MAX),
    };
    let by = user.id;
    let saved = state
        .db(move |s| s.attach_to_decision(&record, version, &info, &content, by, now))
        .await?;
    ask_approval(&state, &d).await;
    Ok(Json(view(&state, &principal, &saved).await?))
}

/// One attachment's content, as a download (never rendered by the browser).
#[utoipa::path(get, path = "/api/v1/decisions/{id}/attachments/{sha256}", tag = "decisions",
    params(("id" = String, Path, description = "Decision id"), ("sha256" = String, Path, description = "SHA-256, hex")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn attachment(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path((id, sha256)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = path_id(&id)?;
    if sha256.len() != 64 || !sha256.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::InvalidParameter {
            field: "sha256".into(),
            detail: "the attachment's SHA-256, 64 hex digits".into(),
        });
    }
    readable(&state, &principal, &meta, "decision.attachment", Some(id)).await?;
    let hash = sha256.to_ascii_lowercase();
    let (info, content) = state.db(move |s| s.decision_attachment(id, &hash)).await?;
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "decision.attachment",
                Some(format!("decision:{id}")),
                format!("read attachment sha256:{}", info.sha256),
            ),
        )
        .await?;
    // The stored name goes into the header percent-encoded (RFC 6266 / 8187).
    let encoded: String = info
        .name
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"attachment\"; filename*=UTF-8''{encoded}"),
            ),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff".to_owned(),
            ),
        ],
        content,
    )
        .into_response())
}

/// One party's designated authorities.
#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityView {
    /// User id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// Every party's authorities.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthoritiesList {
    /// Per party.
    pub items: Vec<PartyAuthorities>,
}

/// Who approves decisions for each party now (new proposals take these); for the staff who
/// read decisions and for the parties' administrators.
#[utoipa::path(get, path = "/api/v1/decisions/authorities", tag = "decisions",
    responses((status = 200, body = AuthoritiesList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_authorities(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<AuthoritiesList>> {
    // The staff who read decisions, and a party's administrators (who name its authorities).
    if !state.decide(&principal.actor, Action::ReadDecisions).is_allow() {
        let party = principal.human()?.party_id;
        require(
            &state,
            &principal,
            &meta,
            "decision.authorities",
            None,
            Action::ManageUsers { party },
            ApiError::Forbidden("decision authorities are read by the staff and the administrators"),
        )
        .await?;
    }
    Ok(Json(authorities_list(&state).await?))
}

async fn authorities_list(state: &AppState) -> ApiResult<AuthoritiesList> {
    let mut items = Vec::new();
    for (party, users, named) in authorities_named(state).await? {
        let mut views = Vec::new();
        for u in users {
            let user = state.db(move |s| s.user(u)).await?;
            views.push(AuthorityView {
                id: u.uuid(),
                name: user.display_name,
            });
        }
        items.push(PartyAuthorities {
            party: party.uuid(),
            party_name: state.party(party).await?.name,
            named,
            users: views,
        });
    }
    Ok(AuthoritiesList { items })
}

/// A party's authorities to name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignateIn {
    /// Users of the caller's party holding the movement coordinator or liaison officer role
    /// (administrators approve nothing); empty returns to the default.
    pub users: Vec<Uuid>,
}

/// Names the caller's party's authorities for decisions proposed from now on (the party's
/// administrators only; decisions already proposed keep theirs).
#[utoipa::path(put, path = "/api/v1/decisions/authorities", tag = "decisions", request_body = DesignateIn,
    responses((status = 200, body = AuthoritiesList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn designate(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(input): ApiJson<DesignateIn>,
) -> ApiResult<Json<AuthoritiesList>> {
    let me = principal.human()?.clone();
    let rules = require(
        &state,
        &principal,
        &meta,
        "decision.designate",
        Some(format!("party:{}", me.party_id)),
        Action::ManageUsers { party: me.party_id },
        ApiError::Forbidden("a party's administrators name its authorities"),
    )
    .await?;
    if input.users.len() > 50 {
        return Err(ValidationError::new("/users", "at most 50 authorities").into());
    }
    let mut users = Vec::new();
    for (i, raw) in input.users.iter().enumerate() {
        let field = format!("/users/{i}");
        let id = UserId::from_uuid(*raw);
        if users.contains(&id) {
            return Err(ValidationError::new(field, "named twice").into());
        }
        let user = match state.db(move |s| s.user(id)).await {
            Ok(u) if u.party_id == me.party_id => u,
            Ok(_) | Err(ApiError::NotFound) => {
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
        users.push(id);
    }
    let named: Vec<String> = users.iter().map(|u| format!("user:{u}")).collect();
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow(
                "decision.designate",
                Some(format!("party:{}", me.party_id)),
                [
                    rules,
                    vec![if named.is_empty() {
                        "default authorities".to_owned()
                    } else {
                        named.join(" ")
                    }],
                ]
                .concat(),
            ),
        )
        .await?;
    let now = state.clock.now();
    let (party, by) = (me.party_id, me.id);
    state
        .db(move |s| s.designate_authorities(party, &users, by, now))
        .await?;
    Ok(Json(authorities_list(&state).await?))
}
