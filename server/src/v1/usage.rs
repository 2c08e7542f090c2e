//! `GET /v1/usage` (SPEC U-3, scope `usage:read`): platform calls per day in a window,
//! split by outcome, for the tenant, one app or one key (`?from=&to=&app_id=&key_id=&mode=`).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use gatehouse_domain::Actor;
use gatehouse_model::{UsageQuery, UsageReport};

use super::{ApiError, ApiQuery};
use crate::serve::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/usage", get(usage))
}

async fn usage(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<UsageQuery>,
) -> Result<Json<UsageReport>, ApiError> {
    Ok(Json(state.gatehouse.usage_report(&actor, &query).await?))
}
