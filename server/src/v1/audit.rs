//! The audit trail: `GET /v1/audit-events` (SPEC L-2), a thin handler over the domain's
//! one search, which checks the scope and confines a key to its own app and mode.

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use gatehouse_domain::Actor;
use gatehouse_model::{AuditEventView, AuditFilter, EventType, Page, PageRequest};
use serde::Deserialize;

use super::{ApiError, ApiQuery};
use crate::serve::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/audit-events", get(list_audit_events))
}

/// `?event_type=&actor_id=&related_id=&from=&to=&limit=&cursor=` (times in RFC 3339).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    event_type: Option<EventType>,
    actor_id: Option<String>,
    related_id: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_audit_events(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEventView>>, ApiError> {
    let filter = AuditFilter {
        event_type: query.event_type,
        actor_id: query.actor_id,
        related_id: query.related_id,
        from: query.from,
        to: query.to,
    };
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    Ok(Json(
        state
            .gatehouse
            .search_audit_events(&actor, &filter, &page)
            .await?,
    ))
}
