//! The key-authenticated resources: `/v1/apps`, `/v1/api-keys` and its actions, and
//! `/v1/auth/token`. Each handler reads its input and calls one domain operation with
//! the key's [`Actor`]; the domain checks the scope, tenant, app and mode.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use gatehouse_domain::{Actor, DomainError};
use gatehouse_model::{
    AccessToken, ApiKeyId, ApiKeyInput, ApiKeyListItem, ApiKeyUpdate, ApiKeyView, AppId, AppInput,
    AppView, CreatedApiKey, RotationOverlap,
};
use serde::{Deserialize, Serialize};

use super::{ApiError, json_body};
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
}

/// A list answer: `{ "data": [...] }`.
#[derive(Debug, Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A malformed id in a path is answered like a missing resource.
fn app_id(raw: &str) -> Result<AppId, ApiError> {
    AppId::parse(raw).map_err(|_| DomainError::NotFound("app").into())
}

fn key_id(raw: &str) -> Result<ApiKeyId, ApiError> {
    ApiKeyId::parse(raw).map_err(|_| DomainError::NotFound("API key").into())
}

/// The app a key-scoped call is about: the one asked for, else the key's own.
fn app_or_own(actor: &Actor, asked: Option<String>) -> Result<AppId, ApiError> {
    match (asked, actor.api_key()) {
        (Some(raw), _) => app_id(&raw),
        (None, Some(key)) => Ok(key.app_id.clone()),
        (None, None) => Err(DomainError::field("app_id", "Name the app.").into()),
    }
}

async fn list_apps(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<List<AppView>> {
    let data = state.gatehouse.list_apps(&actor).await?;
    Ok(Json(List { data }))
}

async fn create_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<(StatusCode, Json<AppView>), ApiError> {
    let input: AppInput = json_body(&body)?;
    let app = state.gatehouse.create_app(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

async fn get_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<AppView> {
    Ok(Json(state.gatehouse.app(&actor, &app_id(&id)?).await?))
}

async fn update_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<AppView> {
    let input: AppInput = json_body(&body)?;
    let app = state
        .gatehouse
        .update_app(&actor, &app_id(&id)?, &input)
        .await?;
    Ok(Json(app))
}

#[derive(Debug, Deserialize)]
struct KeyListQuery {
    app_id: Option<String>,
}

async fn list_keys(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(query): Query<KeyListQuery>,
) -> ApiResult<List<ApiKeyListItem>> {
    let app_id = app_or_own(&actor, query.app_id)?;
    let data = state.gatehouse.list_api_keys(&actor, &app_id).await?;
    Ok(Json(List { data }))
}

/// `POST /v1/api-keys`: the dashboard's create form as JSON; `app_id` defaults to the
/// calling key's app.
#[derive(Debug, Deserialize)]
struct NewKey {
    app_id: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

async fn create_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let NewKey { app_id, mut rest } = json_body(&body)?;
    let app_id = app_or_own(&actor, app_id)?;
    rest.insert("app_id".to_owned(), app_id.to_string().into());
    let input: ApiKeyInput = json_body(&serde_json::to_vec(&rest).unwrap_or_default())?;
    let created = state.gatehouse.create_api_key(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<ApiKeyView> {
    Ok(Json(state.gatehouse.api_key(&actor, &key_id(&id)?).await?))
}

async fn update_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<ApiKeyView> {
    // Fields left out keep their value (`ApiKeyUpdate`).
    let update: ApiKeyUpdate = json_body(&body)?;
    let id = key_id(&id)?;
    Ok(Json(
        state.gatehouse.update_api_key(&actor, &id, &update).await?,
    ))
}

async fn disable_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<ApiKeyView> {
    let id = key_id(&id)?;
    Ok(Json(
        state
            .gatehouse
            .set_api_key_enabled(&actor, &id, false)
            .await?,
    ))
}

async fn enable_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<ApiKeyView> {
    let id = key_id(&id)?;
    Ok(Json(
        state
            .gatehouse
            .set_api_key_enabled(&actor, &id, true)
            .await?,
    ))
}

async fn revoke_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<ApiKeyView> {
    let id = key_id(&id)?;
    Ok(Json(state.gatehouse.revoke_api_key(&actor, &id).await?))
}

#[derive(Debug, Deserialize)]
struct Rotation {
    /// `now`, `1h`, `24h` or `7d`; `now` when the body is empty.
    overlap: RotationOverlap,
}

async fn rotate_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<CreatedApiKey> {
    let overlap = if body.iter().all(u8::is_ascii_whitespace) {
        RotationOverlap::Now
    } else {
        json_body::<Rotation>(&body)?.overlap
    };
    let id = key_id(&id)?;
    Ok(Json(
        state.gatehouse.rotate_api_key(&actor, &id, overlap).await?,
    ))
}

async fn duplicate_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let id = key_id(&id)?;
    let created = state.gatehouse.duplicate_api_key(&actor, &id).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /v1/auth/token` (SPEC X-4).
async fn issue_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<AccessToken> {
    Ok(Json(state.gatehouse.issue_access_token(&actor).await?))
}
