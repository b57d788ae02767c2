//! Bilateral decisions over HTTP (PRODUCT §3.5), on [`jsms_decision`]: proposals with the
//! safe default rules (every party of the agreement; one approval each, two for
//! deployments) and each party's designated authorities (its movement coordinators and
//! liaison officers); approvals are Ed25519 signatures made on the approver's own device
//! with a key whose public half was registered once (`PUT /api/v1/me/signing-key`); the
//! server never holds a private key. Every step is audited; `GET …/export` gives the file
//! `jsms decision verify` checks offline.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, RequestMeta, path_id};
use crate::routes::require;
use crate::state::{AppState, Event};
use crate::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_decision::{Act, Decision, DecisionError, DecisionKind, DecisionState, Export, Proposal, Rules};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::ids::{PartyId, UserId};
use jsms_domain::user::Role;
use jsms_store::{DecisionRecord, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
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
}

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

/// The designated authorities of each party: its movement coordinators and liaison
/// officers (enabled accounts).
async fn authorities(state: &AppState) -> ApiResult<Vec<(PartyId, Vec<UserId>)>> {
    let parties = state.db(|s| s.parties()).await?;
    let mut out = Vec::new();
    for p in parties {
        let id = p.id;
        let page = PageRequest {
            after: None,
            limit: 500,
            q: None,
        };
        let users = state.db(move |s| s.users(Some(id), &page)).await?.items;
        let chosen = users
            .into_iter()
            .filter(|u| !u.disabled)
            .filter(|u| {
                u.roles
                    .iter()
                    .any(|r| matches!(r, Role::MovementCoordinator | Role::LiaisonOfficer))
            })
            .map(|u| u.id)
            .collect();
        out.push((id, chosen));
    }
    Ok(out)
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
