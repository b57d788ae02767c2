//! The webhook delivery log over HTTP (auditors). Deliveries themselves are made by the
//! service layer's outbox worker (`jsms_service::webhooks`).

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

pub use jsms_service::webhooks::{WebhookTarget, signature, spawn_outbox};

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The delivery (alert × target).
    pub delivery: uuid::Uuid,
    /// The alert.
    pub alert: uuid::Uuid,
    /// The target.
    pub url: String,
    /// Attempt number.
    pub attempt: u32,
    /// HTTP status of the answer.
    pub status: Option<u16>,
    /// Transport error.
    pub error: Option<String>,
    /// When.
    pub at: String,
}

/// The webhook delivery log, newest first (auditors).
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "tracking",
    responses((status = 200, body = [DeliveryView]),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let list = state.services.webhook_deliveries(&principal).await?;
    Ok(Json(
        list.into_iter()
            .map(|d| DeliveryView {
                delivery: d.delivery,
                alert: d.alert,
                url: d.url,
                attempt: d.attempt,
                status: d.status,
                error: d.error,
                at: crate::wire::rfc3339(d.at),
            })
            .collect(),
    ))
}
