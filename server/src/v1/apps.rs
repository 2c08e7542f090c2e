//! `/v1/apps`: a key's own app, read and changed through the key. Each handler reads its
//! typed input and calls one domain operation with the key's [`Actor`]; the domain
//! checks the scope, tenant, app and mode.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::Actor;
use gatehouse_model::{AppId, AppInput, AppUpdate, AppView, Page, PageRequest};

use crate::error::{ApiError, ApiQuery, PathId, json_body};
use crate::state::AppState;

/// The app routes; each route's path, scope and answers are in its handler's
/// `#[utoipa::path]`, so the router and the OpenAPI document are one list.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_apps, create_app))
        .routes(routes!(get_app, update_app))
}

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// List apps
///
/// A key sees its own app only, so the page holds that one app.
#[utoipa::path(get, path = "/v1/apps", tag = "Apps", params(PageRequest),
    security(("api_key" = ["apps:read"])),
    responses((status = 200, description = "A page of apps.", body = Page<AppView>)))]
async fn list_apps(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> ApiResult<Page<AppView>> {
    Ok(Json(state.gatehouse.list_apps(&actor, &page).await?))
}

/// Create an app
///
/// Apps are created in the dashboard: an API key acts only within its own app, so a key
/// is answered `403 credential_not_allowed`.
#[utoipa::path(post, path = "/v1/apps", tag = "Apps",
    request_body(content = AppInput, example = json!({
        "name": "Checkout", "description": "The web shop", "allowed_origins": ["https://shop.example.com"]
    })),
    security(("api_key" = ["apps:write"])),
    extensions(("x-error-codes" = json!(["credential_not_allowed", "validation_failed"]))),
    responses((status = 201, description = "The new app.", body = AppView)))]
async fn create_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    body: Bytes,
) -> Created<AppView> {
    let input: AppInput = json_body(&body)?;
    let app = state.gatehouse.create_app(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// Get an app
#[utoipa::path(get, path = "/v1/apps/{id}", tag = "Apps", params(("id" = AppId, Path)),
    security(("api_key" = ["apps:read"])),
    responses((status = 200, description = "The app.", body = AppView)))]
async fn get_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<AppId>,
) -> ApiResult<AppView> {
    Ok(Json(state.gatehouse.app(&actor, &id).await?))
}

/// Update an app
///
/// Only the fields sent change. A key may change its own app only, and only a live key.
#[utoipa::path(patch, path = "/v1/apps/{id}", tag = "Apps", params(("id" = AppId, Path)),
    request_body(content = AppUpdate, example = json!({ "description": "The web shop and its admin" })),
    security(("api_key" = ["apps:write"])),
    extensions(("x-error-codes" = json!(["credential_not_allowed", "validation_failed"]))),
    responses((status = 200, description = "The app as changed.", body = AppView)))]
async fn update_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<AppId>,
    body: Bytes,
) -> ApiResult<AppView> {
    let update: AppUpdate = json_body(&body)?;
    Ok(Json(
        state.gatehouse.update_app(&actor, &id, &update).await?,
    ))
}
