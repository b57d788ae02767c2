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

use crate::error::ApiError;
use crate::wire::{ListQuery, PageOf};
use jsms_store::{Page, PageRequest};
use utoipa::ToSchema;

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
