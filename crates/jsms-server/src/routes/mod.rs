//! HTTP routes, grouped by area, and the helpers they share.

pub mod admin;
pub mod audit;
pub mod briefs;
pub mod decisions;
pub mod incidents;
pub mod map;
pub mod meetings;
pub mod movements;
pub mod notifications;
pub mod ops;
pub mod oversight;
pub mod registry;
pub mod reports;
pub mod routing;
pub mod taxii;
pub mod tracking;
pub mod zones;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::RequestMeta;
use crate::state::{AppState, Event};
use crate::wire::{ListQuery, PageOf};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_store::{Page, PageRequest};
use std::sync::atomic::Ordering;
use utoipa::ToSchema;

/// Counts a denial and returns the error to answer with (`NotFound` for objects the caller
/// may not know about, `Forbidden` for endpoints it may not use).
pub fn deny(state: &AppState, err: ApiError) -> ApiError {
    state.metrics.access_denied.fetch_add(1, Ordering::Relaxed);
    err
}

/// Validates list parameters into a store page request.
pub fn page_request(query: &ListQuery) -> Result<PageRequest, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidParameter {
            field: "/limit".into(),
            detail: "limit must be 1 to 200".into(),
        });
    }
    let after = query
        .cursor
        .as_deref()
        .map(|c| {
            uuid::Uuid::parse_str(c).map_err(|_| ApiError::InvalidParameter {
                field: "/cursor".into(),
                detail: "cursor must be the next_cursor of a previous page".into(),
            })
        })
        .transpose()?;
    let q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned);
    if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::InvalidParameter {
            field: "/q".into(),
            detail: "q may have at most 100 characters".into(),
        });
    }
    Ok(PageRequest { after, limit, q })
}

/// Converts a store page into a wire page.
pub fn page_view<T, W: ToSchema>(page: Page<T>, f: impl FnMut(T) -> W) -> PageOf<W> {
    PageOf {
        items: page.items.into_iter().map(f).collect(),
        next_cursor: page.next.map(|u| u.to_string()),
    }
}

/// A record referenced from a request body: a missing one is a 422 naming `field` ("no such
/// `what`"); other failures pass through unchanged.
pub fn referenced<T>(found: ApiResult<T>, field: impl Into<String>, what: &str) -> ApiResult<T> {
    match found {
        Err(ApiError::NotFound) => Err(ValidationError::new(field, format!("no such {what}")).into()),
        other => other,
    }
}

/// Asks the authorization component whether the principal may perform `action`. A denial
/// is audited (as `audit_action` on `resource`, with the deciding policies) and answered
/// with `otherwise`; an allow returns the policies that allowed it, for the caller's entry.
pub async fn require(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    audit_action: &'static str,
    resource: Option<String>,
    action: Action,
    otherwise: ApiError,
) -> Result<Vec<String>, ApiError> {
    let decision = state.decide(&principal.actor, action);
    if decision.is_allow() {
        return Ok(decision.reasons());
    }
    let reasons = decision.reasons();
    tracing::info!(?action, ?reasons, "access denied");
    state
        .audit(&principal.who, meta, Event::deny(audit_action, resource, reasons))
        .await?;
    Err(deny(state, otherwise))
}
