//! Notifications to one user: reminders of overdue action items, decisions awaiting their
//! approval, the outcome of their own proposals. Each user reads and marks only their own;
//! a notification carries a short text and a link into the web application, never sealed
//! data.

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::path_id;
use crate::state::AppState;
use crate::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

/// The notification routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
}

/// Sends `text` with `link` to each of `users` (the service's notifier; failures are logged).
pub async fn notify(state: &AppState, users: &[jsms_domain::ids::UserId], kind: &'static str, text: &str, link: &str) {
    state.services.notify(users, kind, text, link).await;
}

/// A notification as its recipient sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    /// Identifier.
    pub id: Uuid,
    /// `action_overdue`, `decision_to_approve`, `decision_outcome`.
    pub kind: String,
    /// What happened.
    pub text: String,
    /// Where to look, in the web application (`#/…`).
    pub link: String,
    /// When.
    pub at: String,
    /// Read already.
    pub read: bool,
}

/// The caller's notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// Newest first, at most 100.
    pub items: Vec<NotificationView>,
    /// How many are unread.
    pub unread: usize,
}

/// The caller's latest notifications, newest first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications",
    responses((status = 200, body = NotificationList),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn list_notifications(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<NotificationList>> {
    let items: Vec<NotificationView> = state
        .services
        .my_notifications(&principal)
        .await?
        .into_iter()
        .map(|n| NotificationView {
            id: n.id,
            kind: n.kind,
            text: n.text,
            link: n.link,
            at: rfc3339(n.created_at),
            read: n.read_at.is_some(),
        })
        .collect();
    let unread = items.iter().filter(|n| !n.read).count();
    Ok(Json(NotificationList { items, unread }))
}

/// Marks one of the caller's notifications read (another user's answers 404).
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "notifications",
    params(("id" = uuid::Uuid, Path, description = "Notification id")),
    responses((status = 204, description = "Marked read"),
              (status = "default", description = "Problem", body = Problem, content_type = PROBLEM)))]
async fn mark_read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.mark_notification_read(&principal, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
