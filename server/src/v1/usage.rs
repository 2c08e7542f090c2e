//! `GET /v1/usage` (scope `usage:read`): platform calls per day in a window,
//! split by outcome, for the tenant, one app or one key (`?from=&to=&app_id=&key_id=&mode=`).

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use gatehouse_domain::Actor;
use gatehouse_model::{UsageQuery, UsageReport};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(usage))
}

/// Usage per day
///
/// Platform calls per day (UTC) in a window, split into successes and failures, for the
/// tenant, one app or one key, in one mode; days without calls are zeros. The window is
/// the current billing window when `from` and `to` are left out. A key reads its own
/// mode only.
#[utoipa::path(get, path = "/v1/usage", tag = "Usage", params(UsageQuery),
    security(("api_key" = ["usage:read"])),
    extensions(("x-error-codes" = json!(["validation_failed", "not_found"]))),
    responses((status = 200, description = "Calls per day in the window.", body = UsageReport)))]
async fn usage(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<UsageQuery>,
) -> Result<Json<UsageReport>, ApiError> {
    Ok(Json(state.gatehouse.usage_report(&actor, &query).await?))
}
