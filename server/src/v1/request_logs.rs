//! The request log: `GET /v1/request-logs`, a thin handler over the domain's
//! one search, which checks the scope and confines a key to its own app and mode.

use axum::extract::State;
use axum::{Extension, Json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::Actor;
use gatehouse_model::{Page, PageRequest, RequestLogFilter, RequestLogView};

use crate::error::{ApiError, ApiSearch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(list_request_logs))
}

/// Search the request log
///
/// The app's recorded requests, newest first: every `/v1` call by one of its keys and
/// every verification of one of them, filtered by status class, error code, route, key
/// and time. Kept 30 days unless the operator says otherwise.
#[utoipa::path(get, path = "/v1/request-logs", tag = "Request logs", params(RequestLogFilter, PageRequest),
    security(("api_key" = ["request_logs:read"])),
    extensions(("x-error-codes" = json!(["validation_failed", "not_found"]))),
    responses((status = 200, description = "A page of requests, newest first.", body = Page<RequestLogView>)))]
async fn list_request_logs(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiSearch(filter, page): ApiSearch<RequestLogFilter>,
) -> Result<Json<Page<RequestLogView>>, ApiError> {
    Ok(Json(
        state
            .gatehouse
            .search_request_logs(&actor, &filter, &page)
            .await?,
    ))
}
