//! Traceable disclosures of movement briefs (PRODUCT §3.2): `GET …/brief` renders the brief
//! for the signed-in recipient with wording that encodes their codeword (assigned at their
//! first copy, stored, and written into the audit entry of every copy); `POST …/leak-trace`
//! (auditors) ranks the recipients by how well their copy explains a leaked text.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, RequestMeta, path_id};
use crate::routes::require;
use crate::state::{AppState, Event};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jsms_disclosure::{BriefContent, BriefLeg, Codeword, brief, trace};
use jsms_domain::access::Action;
use jsms_domain::ids::{MovementId, UserId};
use jsms_domain::movement::Endpoint;
use jsms_store::{MovementRecord, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The brief routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_brief))
        .routes(routes!(leak_trace))
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
    })
}

/// How to render a brief.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BriefQuery {
    /// `text` (default) or `html` (a printable page).
    #[serde(default)]
    pub format: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The movement brief for the signed-in recipient (need to know). Each recipient's copy is
/// worded differently; every copy is an audited disclosure.
#[utoipa::path(get, path = "/api/v1/movements/{id}/brief", tag = "movements", params(("id" = String, Path, description = "Movement id"), BriefQuery),
    responses((status = 200, description = "The brief", content_type = "text/plain", body = String),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_brief(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<BriefQuery>,
) -> ApiResult<Response> {
    let html = match q.format.as_deref() {
        None | Some("text") => false,
        Some("html") => true,
        Some(_) => {
            return Err(ApiError::InvalidParameter {
                field: "format".into(),
                detail: "text or html".into(),
            });
        }
    };
    let user = principal.human()?.clone();
    let id = MovementId::from_uuid(path_id(&id)?);
    let m = state.db(move |s| s.movement(id)).await?;
    let resource = Some(format!("movement:{id}:plan"));
    let rules = require(
        &state,
        &principal,
        &meta,
        "movement.brief",
        resource.clone(),
        Action::ReadMovementPlan {
            movement: m.id,
            org: m.org,
            party: m.party,
        },
        ApiError::NotFound,
    )
    .await?;
    if m.plan.is_none() {
        return Err(ApiError::Conflict(
            "the movement is not planned yet: there is no brief".into(),
        ));
    }
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(|e| ApiError::Internal(format!("random codeword: {e}")))?;
    let now = state.clock.now();
    let fresh_hex = Codeword(fresh).to_hex();
    let (content, codeword) = state
        .db(move |s| {
            let content = brief_content(s, &m)?;
            let codeword = s.record_disclosure(m.id, user.id, &fresh_hex, now)?;
            Ok((content, codeword))
        })
        .await?;
    let cw = Codeword::from_hex(&codeword).ok_or_else(|| ApiError::Internal("stored codeword unreadable".into()))?;
    let mut reasons = rules;
    reasons.push(format!("recipient:user:{}", user.id));
    reasons.push(format!("codeword:{codeword}"));
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("movement.brief.disclose", resource, reasons),
        )
        .await?;
    let text = brief(&content).render(&cw);
    Ok(if html {
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Movement brief {}</title></head>\n<body><main><pre>{}</pre></main></body></html>\n",
            escape(&content.reference),
            escape(&text)
        );
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    } else {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
    })
}

/// A leaked text to trace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeakIn {
    /// The text as found (partial, reformatted, retyped…).
    pub text: String,
}

/// One recipient's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeakCandidate {
    /// The recipient.
    pub user: Uuid,
    /// Username.
    pub username: String,
    /// Observed choice points their copy agrees with.
    pub agreeing: usize,
    /// Chance an innocent recipient agrees this much.
    pub p_value: f64,
}

/// The tracer's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeakTrace {
    /// Choice points recognised in the text.
    pub observed: usize,
    /// The recipient whose copy explains the text, or null for "none of the recipients".
    pub verdict: Option<LeakCandidate>,
    /// Confidence that the best candidate is not an innocent who matched by chance.
    pub confidence: f64,
    /// Up to ten recipients, best first.
    pub ranking: Vec<LeakCandidate>,
    /// Recipients on record.
    pub recipients: usize,
}

/// Runs the leak tracer on the recipients of a movement.
pub fn trace_leak(store: &dyn Store, movement: MovementId, text: &str) -> Result<LeakTrace, StoreError> {
    let m = store.movement(movement)?;
    let content = brief_content(store, &m)?;
    let recipients: Vec<(UserId, Codeword)> = store
        .disclosures(movement)?
        .into_iter()
        .filter_map(|(u, cw, _, _)| Codeword::from_hex(&cw).map(|c| (u, c)))
        .collect();
    let t = trace(&brief(&content), text, &recipients);
    let name = |u: UserId| store.user(u).map(|u| u.username.as_str().to_owned());
    let candidate = |c: &jsms_disclosure::trace::Candidate<UserId>| -> Result<LeakCandidate, StoreError> {
        Ok(LeakCandidate {
            user: c.recipient.uuid(),
            username: name(c.recipient)?,
            agreeing: c.agreeing,
            p_value: c.p_value,
        })
    };
    let ranking = t
        .ranking
        .iter()
        .take(10)
        .map(candidate)
        .collect::<Result<Vec<_>, _>>()?;
    let verdict = match &t.verdict {
        Some(v) => t
            .ranking
            .iter()
            .find(|c| c.recipient == *v)
            .map(candidate)
            .transpose()?,
        None => None,
    };
    Ok(LeakTrace {
        observed: t.observed,
        verdict,
        confidence: t.confidence,
        ranking,
        recipients: recipients.len(),
    })
}

/// Traces a leaked text back to the recipient whose copy it is (auditors).
#[utoipa::path(post, path = "/api/v1/movements/{id}/leak-trace", tag = "movements", request_body = LeakIn,
    params(("id" = String, Path, description = "Movement id")),
    responses((status = 200, body = LeakTrace),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn leak_trace(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LeakIn>,
) -> ApiResult<Json<LeakTrace>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let resource = Some(format!("movement:{id}"));
    let rules = require(
        &state,
        &principal,
        &meta,
        "movement.leak_trace",
        resource.clone(),
        Action::ReadAuditLog,
        ApiError::Forbidden("auditors trace leaks"),
    )
    .await?;
    if input.text.trim().is_empty() || input.text.len() > 200_000 {
        return Err(jsms_domain::ValidationError::new("/text", "1 to 200000 characters of leaked text").into());
    }
    let text = input.text;
    let result = state.db(move |s| trace_leak(s, id, &text)).await.map_err(|e| match e {
        ApiError::NotFound => ApiError::NotFound,
        other => other,
    })?;
    let mut reasons = rules;
    reasons.push(match &result.verdict {
        Some(v) => format!("verdict:user:{}", v.user),
        None => "verdict:none".to_owned(),
    });
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("movement.leak_trace", resource, reasons),
        )
        .await?;
    Ok(Json(result))
}
