//! The audit trail: `GET /v1/audit-events`, a thin handler over the domain's
//! one search, which checks the scope and confines a key to its own app and mode.

use axum::extract::State;
use axum::{Extension, Json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::Actor;
use gatehouse_model::{AuditEventView, AuditFilter, Page, PageRequest};

use crate::error::{ApiError, ApiSearch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(list_audit_events))
}

/// Search the audit trail
///
/// The tenant's audit events, newest first, filtered by type, actor, related id and
/// time; a key sees only its own app's events of its own mode.
#[utoipa::path(get, path = "/v1/audit-events", tag = "Audit", params(AuditFilter, PageRequest),
    security(("api_key" = ["audit_events:read"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses((status = 200, description = "A page of audit events, newest first.", body = Page<AuditEventView>)))]
async fn list_audit_events(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiSearch(filter, page): ApiSearch<AuditFilter>,
) -> Result<Json<Page<AuditEventView>>, ApiError> {
    Ok(Json(
        state
            .gatehouse
            .search_audit_events(&actor, &filter, &page)
            .await?,
    ))
}
