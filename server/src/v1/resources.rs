//! The key-authenticated resources: `/v1/apps`, `/v1/api-keys` and its actions,
//! `/v1/auth/token` and `/v1/whoami`. Each handler reads its typed input and calls one
//! domain operation with the key's [`Actor`]; the domain checks the scope, tenant, app,
//! mode and lifetime.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use std::sync::Arc;

use gatehouse_domain::Actor;
use gatehouse_model::{
    AccessToken, ApiKeyId, ApiKeyInput, ApiKeyListItem, ApiKeyUpdate, ApiKeyView, AppId, AppInput,
    AppUpdate, AppView, CreatedApiKey, Page, PageRequest, RotationOverlap, WhoAmI,
};
use serde::Deserialize;

use super::{ApiError, ApiQuery, PathId, json_body};
use crate::serve::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/apps", get(list_apps).post(create_app))
        .route("/v1/apps/{id}", get(get_app).patch(update_app))
        .route("/v1/api-keys", get(list_keys).post(create_key))
        .route(
            "/v1/api-keys/{id}",
            get(get_key).patch(update_key).delete(revoke_key),
        )
        .route("/v1/api-keys/{id}/disable", post(disable_key))
        .route("/v1/api-keys/{id}/enable", post(enable_key))
        .route("/v1/api-keys/{id}/revoke", post(revoke_key))
        .route("/v1/api-keys/{id}/rotate", post(rotate_key))
        .route("/v1/api-keys/{id}/duplicate", post(duplicate_key))
        .route("/v1/auth/token", post(issue_token))
        .route("/v1/whoami", get(whoami))
}

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

async fn list_apps(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> ApiResult<Page<AppView>> {
    Ok(Json(state.gatehouse.list_apps(&actor, &page).await?))
}

async fn create_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    body: Bytes,
) -> Created<AppView> {
    let input: AppInput = json_body(&body)?;
    let app = state.gatehouse.create_app(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

async fn get_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<AppId>,
) -> ApiResult<AppView> {
    Ok(Json(state.gatehouse.app(&actor, &id).await?))
}

/// `PATCH /v1/apps/{id}`: only the fields sent change.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyListQuery {
    /// Defaults to the calling key's app.
    app_id: Option<AppId>,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_keys(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<KeyListQuery>,
) -> ApiResult<Page<ApiKeyListItem>> {
    let app_id = actor.app_or_own(query.app_id.as_ref())?;
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    Ok(Json(
        state
            .gatehouse
            .list_api_keys(&actor, &app_id, &page)
            .await?,
    ))
}

/// `POST /v1/api-keys`: the dashboard's create form as JSON; `app_id` defaults to the
/// calling key's app.
async fn create_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    body: Bytes,
) -> Created<CreatedApiKey> {
    let input: ApiKeyInput = json_body(&body)?;
    let created = state.gatehouse.create_api_key(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<ApiKeyView> {
    Ok(Json(state.gatehouse.api_key(&actor, &id).await?))
}

/// `PATCH /v1/api-keys/{id}`: only the fields sent change.
async fn update_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
    body: Bytes,
) -> ApiResult<ApiKeyView> {
    let update: ApiKeyUpdate = json_body(&body)?;
    Ok(Json(
        state.gatehouse.update_api_key(&actor, &id, &update).await?,
    ))
}

async fn disable_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<ApiKeyView> {
    Ok(Json(
        state
            .gatehouse
            .set_api_key_enabled(&actor, &id, false)
            .await?,
    ))
}

async fn enable_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<ApiKeyView> {
    Ok(Json(
        state
            .gatehouse
            .set_api_key_enabled(&actor, &id, true)
            .await?,
    ))
}

async fn revoke_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<ApiKeyView> {
    Ok(Json(state.gatehouse.revoke_api_key(&actor, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    /// `now`, `1h`, `24h` or `7d`; the default overlap when left out.
    #[serde(default)]
    overlap: RotationOverlap,
}

async fn rotate_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
    body: Bytes,
) -> ApiResult<CreatedApiKey> {
    let overlap = if body.iter().all(u8::is_ascii_whitespace) {
        RotationOverlap::default()
    } else {
        json_body::<Rotation>(&body)?.overlap
    };
    Ok(Json(
        state.gatehouse.rotate_api_key(&actor, &id, overlap).await?,
    ))
}

async fn duplicate_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> Created<CreatedApiKey> {
    let created = state.gatehouse.duplicate_api_key(&actor, &id).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /v1/auth/token` (SPEC X-4): only a key's secret may be exchanged.
async fn issue_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
) -> ApiResult<AccessToken> {
    Ok(Json(state.gatehouse.issue_access_token(&actor).await?))
}

/// `GET /v1/whoami` (SPEC X-8): the calling key, from the key alone.
async fn whoami(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
) -> ApiResult<WhoAmI> {
    Ok(Json(state.gatehouse.whoami(&actor)?))
}
