//! The audit trail: `GET /v1/audit-events`, a thin handler over the domain's
//! one search, which checks the scope and confines a key to its own app and mode.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::Actor;
use gatehouse_model::{AuditEventView, AuditFilter, EventType, Page, PageRequest};
use serde::Deserialize;

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(list_audit_events))
}

/// `?event_type=&actor_id=&related_id=&from=&to=&limit=&cursor=` (times in RFC 3339).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Events of this type only (e.g. `api_key.created`).
    #[param(value_type = Option<String>)]
    event_type: Option<EventType>,
    /// Events done by this user (`usr_…`) or API key (`key_…`).
    actor_id: Option<String>,
    /// Events that concern this id: an app, key or endpoint id, or one of the SaaS's own
    /// ids sent with an event.
    related_id: Option<String>,
    /// Events at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// 1 to 100; 100 when left out.
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Search the audit trail
///
/// The tenant's audit events, newest first, filtered by type, actor, related id and
/// time; a key sees only its own app's events of its own mode.
#[utoipa::path(get, path = "/v1/audit-events", tag = "Audit", params(AuditQuery),
    security(("api_key" = ["audit_events:read"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses((status = 200, description = "A page of audit events, newest first.", body = Page<AuditEventView>)))]
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
