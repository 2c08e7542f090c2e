//! The request log: `GET /v1/request-logs`, a thin handler over the domain's
//! one search, which checks the scope and confines a key to its own app and mode.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::Actor;
use gatehouse_model::{
    ApiKeyId, AppId, KeyMode, Page, PageRequest, RequestLogFilter, RequestLogView, StatusClass,
};
use serde::Deserialize;

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(list_request_logs))
}

/// `?status_class=&error_code=&route=&key_id=&from=&to=&limit=&cursor=` (times in
/// RFC 3339).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RequestLogQuery {
    /// The app's requests (a key reads its own app's only).
    #[param(value_type = Option<String>)]
    app_id: Option<AppId>,
    /// `live` or `test`; a key reads its own mode only.
    #[param(value_type = Option<String>)]
    mode: Option<KeyMode>,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    #[param(value_type = Option<String>)]
    status_class: Option<StatusClass>,
    /// Requests answered with this error code (e.g. `insufficient_scope`).
    error_code: Option<String>,
    /// Requests to this route template (e.g. `/v1/api-keys/{id}`).
    route: Option<String>,
    /// Requests by, or verifications of, this key.
    #[param(value_type = Option<String>)]
    key_id: Option<ApiKeyId>,
    /// Requests at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Requests before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// 1 to 100; 100 when left out.
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Search the request log
///
/// The app's recorded requests, newest first: every `/v1` call by one of its keys and
/// every verification of one of them, filtered by status class, error code, route, key
/// and time. Kept 30 days unless the operator says otherwise.
#[utoipa::path(get, path = "/v1/request-logs", tag = "Request logs", params(RequestLogQuery),
    security(("api_key" = ["request_logs:read"])),
    extensions(("x-error-codes" = json!(["validation_failed", "not_found"]))),
    responses((status = 200, description = "A page of requests, newest first.", body = Page<RequestLogView>)))]
async fn list_request_logs(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<RequestLogQuery>,
) -> Result<Json<Page<RequestLogView>>, ApiError> {
    let filter = RequestLogFilter {
        app_id: query.app_id,
        mode: query.mode,
        status_class: query.status_class,
        error_code: query.error_code,
        route: query.route,
        key_id: query.key_id,
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
            .search_request_logs(&actor, &filter, &page)
            .await?,
    ))
}
