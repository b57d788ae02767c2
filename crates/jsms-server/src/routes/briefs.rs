//! Traceable disclosures of movement briefs over HTTP (PRODUCT §3.2, issue 17):
//! `GET …/brief` renders the brief for the signed-in recipient; `GET …/brief/recipients`
//! (the movement's planners) shows which variants each recipient received; `POST
//! …/leak-trace` (auditors) names every recipient whose copy explains a leaked text or the
//! facts the attackers knew. The scheme is `jsms-disclosure`'s; the disclosures and their
//! records are the service's (`jsms_service::briefs`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jsms_disclosure::{FactError, StatedFact};
use jsms_domain::ids::MovementId;
pub use jsms_service::briefs::{
    BriefRecipient, LeakCandidate, LeakError, LeakEvidence, LeakFinding, LeakInput, LeakKnew, LeakObservation,
    LeakTrace, ReceivedVariant, trace_leak,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The brief routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_brief))
        .routes(routes!(brief_recipients))
        .routes(routes!(leak_trace))
}

/// How to render a brief.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
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
#[utoipa::path(get, path = "/api/v1/movements/{id}/brief", tag = "movements", params(("id" = uuid::Uuid, Path, description = "Movement id"), BriefQuery),
    responses((status = 200, description = "The brief", content_type = "text/plain", body = String),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_brief(
    State(state): State<AppState>,
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
    let id = MovementId::from_uuid(path_id(&id)?);
    let brief = state.services.brief(&principal, id).await?;
    Ok(if html {
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Movement brief {}</title></head>\n<body><main><pre>{}</pre></main></body></html>\n",
            escape(&brief.reference),
            escape(&brief.text)
        );
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    } else {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], brief.text).into_response()
    })
}

/// Who received the brief and which variants (the movement's planners only).
#[derive(Debug, Serialize, ToSchema)]
pub struct BriefRecipients {
    /// The movement.
    pub movement: Uuid,
    /// Every recipient, first copy first.
    pub recipients: Vec<BriefRecipient>,
}

/// Which variants of the brief each recipient received (the planners of the movement).
#[utoipa::path(get, path = "/api/v1/movements/{id}/brief/recipients", tag = "movements", params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = BriefRecipients),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn brief_recipients(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<BriefRecipients>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let recipients = state.services.brief_recipients(&principal, id).await?;
    Ok(Json(BriefRecipients {
        movement: id.uuid(),
        recipients,
    }))
}

/// A fact the attackers knew.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactIn {
    /// `ready` (or `departure`), `arrival`, `staging_code` (or `code_name`), `fallback`,
    /// `radio_check`, `route` (or `road`), `duration`; absent: compared with every fact.
    #[serde(default)]
    pub fact: Option<String>,
    /// What they knew ("07:52", "AMBER KESTREL", "every 12 minutes", "Nishtar Road").
    pub value: String,
}

/// What to trace: exactly one of `text`, `facts` or `facts_text`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeakIn {
    /// The text as found (partial, reformatted, retyped, translated, retold…).
    #[serde(default)]
    pub text: Option<String>,
    /// What the attackers knew, one fact at a time (from an interrogation, a captured note,
    /// their behaviour).
    #[serde(default)]
    pub facts: Option<Vec<FactIn>>,
    /// What the attackers knew, as free text; only facts are read from it.
    #[serde(default)]
    pub facts_text: Option<String>,
    /// The leak had reached the attackers by then (RFC 3339): recipients whose first copy
    /// came later are not candidates.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub leaked_before: Option<String>,
}

/// Checks a trace request and turns it into the tracer's input.
pub fn leak_input(input: LeakIn) -> Result<(LeakInput, Option<i64>), jsms_domain::ValidationError> {
    use jsms_domain::ValidationError;
    let text_ok = |field: &str, t: &str| {
        if t.trim().is_empty() || t.len() > 200_000 {
            Err(ValidationError::new(field, "1 to 200000 characters"))
        } else {
            Ok(())
        }
    };
    let leaked_before = match input.leaked_before.as_deref() {
        None => None,
        Some(t) => Some(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ValidationError::new("/leaked_before", "an RFC 3339 time, e.g. 2026-11-29T08:00:00Z"))?
                .unix_timestamp(),
        ),
    };
    let parsed = match (input.text, input.facts, input.facts_text) {
        (Some(t), None, None) => {
            text_ok("/text", &t)?;
            LeakInput::Text(t)
        }
        (None, Some(facts), None) => {
            if facts.is_empty() || facts.len() > 200 {
                return Err(ValidationError::new("/facts", "1 to 200 facts"));
            }
            for (i, f) in facts.iter().enumerate() {
                if f.value.trim().is_empty() || f.value.len() > 2000 {
                    return Err(ValidationError::new(
                        format!("/facts/{i}/value"),
                        "1 to 2000 characters",
                    ));
                }
            }
            LeakInput::Facts(
                facts
                    .into_iter()
                    .map(|f| StatedFact {
                        fact: f.fact,
                        value: f.value,
                    })
                    .collect(),
            )
        }
        (None, None, Some(t)) => {
            text_ok("/facts_text", &t)?;
            LeakInput::FactText(t)
        }
        _ => {
            return Err(ValidationError::new(
                "/text",
                "exactly one of text, facts or facts_text",
            ));
        }
    };
    Ok((parsed, leaked_before))
}

/// Names every recipient whose copy explains a leaked text or the facts the attackers knew,
/// with who else knew the plan (auditors).
#[utoipa::path(post, path = "/api/v1/movements/{id}/leak-trace", tag = "movements", request_body = LeakIn,
    params(("id" = uuid::Uuid, Path, description = "Movement id")),
    responses((status = 200, body = LeakTrace),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn leak_trace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LeakIn>,
) -> ApiResult<Json<LeakTrace>> {
    let id = MovementId::from_uuid(path_id(&id)?);
    let (input, leaked_before) = leak_input(input)?;
    let result = state
        .services
        .leak_trace(&principal, id, input, leaked_before)
        .await?
        .map_err(|e| ApiError::from(fact_error(&e)))?;
    Ok(Json(result))
}

/// A fact error as a validation error naming the field.
pub fn fact_error(e: &FactError) -> jsms_domain::ValidationError {
    match e {
        FactError::UnknownFact { index, .. } => {
            jsms_domain::ValidationError::new(format!("/facts/{index}/fact"), e.to_string())
        }
        FactError::EmptyValue { index } => {
            jsms_domain::ValidationError::new(format!("/facts/{index}/value"), e.to_string())
        }
    }
}
