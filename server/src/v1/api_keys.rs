//! `/v1/api-keys` and its actions (disable, enable, revoke, rotate, duplicate), and the
//! calling key's own credential: `/v1/auth/token` (an access token exchanged from the
//! key) and `/v1/whoami`. Each handler reads its typed input and calls one domain
//! operation with the key's [`Actor`]; the domain checks the scope, tenant, app, mode
//! and lifetime.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::Actor;
use gatehouse_model::{
    AccessToken, ApiKeyId, ApiKeyInput, ApiKeyListItem, ApiKeyUpdate, ApiKeyView, CreatedApiKey,
    Page, RotationOverlap, WhoAmI,
};
use serde::Deserialize;

use super::AppListQuery;
use crate::error::{ApiError, ApiQuery, PathId, json_body, optional_json_body};
use crate::state::AppState;

/// The API key and credential routes; each route's path, scope and answers are in its
/// handler's `#[utoipa::path]`, so the router and the OpenAPI document are one list.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(get_key, update_key, delete_key))
        .routes(routes!(disable_key))
        .routes(routes!(enable_key))
        .routes(routes!(revoke_key))
        .routes(routes!(rotate_key))
        .routes(routes!(duplicate_key))
        .routes(routes!(issue_token))
        .routes(routes!(whoami))
}

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// List API keys
///
/// The app's keys of the calling key's mode, by status then newest first, each with its
/// calls in the last 24 hours. Never a secret.
#[utoipa::path(get, path = "/v1/api-keys", tag = "API keys", params(AppListQuery),
    security(("api_key" = ["api_keys:read"])),
    extensions(("x-error-codes" = json!(["not_found"]))),
    responses((status = 200, description = "A page of keys.", body = Page<ApiKeyListItem>)))]
async fn list_keys(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<AppListQuery>,
) -> ApiResult<Page<ApiKeyListItem>> {
    let app_id = actor.app_or_own(query.app_id.as_ref())?;
    Ok(Json(
        state
            .gatehouse
            .list_api_keys(&actor, &app_id, &query.page())
            .await?,
    ))
}

/// Create an API key
///
/// The dashboard's create form as JSON; `app_id` defaults to the calling key's app. The
/// answer holds the key's plaintext, the only time it is ever shown. A key can create
/// only keys with no more access and no longer life than its own.
#[utoipa::path(post, path = "/v1/api-keys", tag = "API keys",
    request_body(content = ApiKeyInput, example = json!({
        "name": "Reporting agent", "mode": "live", "key_type": "restricted",
        "scopes": ["payment_intents:read"], "expiry_days": 30
    })),
    security(("api_key" = ["api_keys:write"])),
    extensions(("x-error-codes" = json!(["validation_failed", "not_found"]))),
    responses((status = 201, description = "The new key and its plaintext, shown once.", body = CreatedApiKey)))]
async fn create_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    body: Bytes,
) -> Created<CreatedApiKey> {
    let input: ApiKeyInput = json_body(&body)?;
    let created = state.gatehouse.create_api_key(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Get an API key
#[utoipa::path(get, path = "/v1/api-keys/{id}", tag = "API keys", params(("id" = ApiKeyId, Path)),
    security(("api_key" = ["api_keys:read"])),
    responses((status = 200, description = "The key; never its secret.", body = ApiKeyView)))]
async fn get_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<ApiKeyView> {
    Ok(Json(state.gatehouse.api_key(&actor, &id).await?))
}

/// Update an API key
///
/// Only the fields sent change; scopes only on restricted keys. Every change is audited
/// with before and after.
#[utoipa::path(patch, path = "/v1/api-keys/{id}", tag = "API keys", params(("id" = ApiKeyId, Path)),
    request_body(content = ApiKeyUpdate, example = json!({ "name": "Reporting agent (EU)" })),
    security(("api_key" = ["api_keys:write"])),
    extensions(("x-error-codes" = json!(["validation_failed", "credential_not_allowed", "conflict"]))),
    responses((status = 200, description = "The key as changed.", body = ApiKeyView)))]
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

/// Disable an API key
///
/// It is refused from the very next request, until it is enabled again.
#[utoipa::path(post, path = "/v1/api-keys/{id}/disable", tag = "API keys", params(("id" = ApiKeyId, Path)),
    security(("api_key" = ["api_keys:write"])),
    extensions(("x-destructive" = json!(true)), ("x-idempotent" = json!(true)), ("x-error-codes" = json!(["credential_not_allowed", "conflict"]))),
    responses((status = 200, description = "The key, disabled.", body = ApiKeyView)))]
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

/// Enable an API key
#[utoipa::path(post, path = "/v1/api-keys/{id}/enable", tag = "API keys", params(("id" = ApiKeyId, Path)),
    security(("api_key" = ["api_keys:write"])),
    extensions(("x-idempotent" = json!(true)), ("x-error-codes" = json!(["credential_not_allowed", "conflict"]))),
    responses((status = 200, description = "The key, enabled.", body = ApiKeyView)))]
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

/// Revoke an API key
///
/// For good: a revoked key stays in the list and never authenticates again, from the
/// very next request. The same as `POST /v1/api-keys/{id}/revoke`.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "API keys", params(("id" = ApiKeyId, Path)),
    security(("api_key" = ["api_keys:write"])),
    extensions(("x-error-codes" = json!(["credential_not_allowed", "conflict"]))),
    responses((status = 200, description = "The key, revoked.", body = ApiKeyView)))]
async fn delete_key(
    state: State<AppState>,
    actor: Extension<Arc<Actor>>,
    id: PathId<ApiKeyId>,
) -> ApiResult<ApiKeyView> {
    revoke_key(state, actor, id).await
}

/// Revoke an API key
///
/// For good: a revoked key stays in the list and never authenticates again, from the
/// very next request. The same as `DELETE /v1/api-keys/{id}`.
#[utoipa::path(post, path = "/v1/api-keys/{id}/revoke", tag = "API keys", params(("id" = ApiKeyId, Path)),
    security(("api_key" = ["api_keys:write"])),
    extensions(("x-destructive" = json!(true)), ("x-idempotent" = json!(true)), ("x-error-codes" = json!(["credential_not_allowed", "conflict"]))),
    responses((status = 200, description = "The key, revoked.", body = ApiKeyView)))]
async fn revoke_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<ApiKeyView> {
    Ok(Json(state.gatehouse.revoke_api_key(&actor, &id).await?))
}

/// How long a rotated-out secret keeps working.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Rotation {
    /// `now`, `1h`, `24h` or `7d`; 24 hours when left out.
    #[serde(default)]
    overlap: RotationOverlap,
}

/// Rotate an API key's secret
///
/// A new secret for the same key, shown once in the answer; the old secret keeps working
/// for the chosen overlap. The body may be left out (24 hours).
#[utoipa::path(post, path = "/v1/api-keys/{id}/rotate", tag = "API keys", params(("id" = ApiKeyId, Path)),
    request_body(content = Option<Rotation>, example = json!({ "overlap": "1h" })),
    security(("api_key" = ["api_keys:write"])),
    extensions(("x-error-codes" = json!(["credential_not_allowed", "conflict"]))),
    responses((status = 200, description = "The key and its new plaintext, shown once.", body = CreatedApiKey)))]
async fn rotate_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
    body: Bytes,
) -> ApiResult<CreatedApiKey> {
    let Rotation { overlap } = optional_json_body(&body)?;
    Ok(Json(
        state.gatehouse.rotate_api_key(&actor, &id, overlap).await?,
    ))
}

/// Duplicate an API key
///
/// A new key with the same app, mode, type, scopes and expiry length, and its own new
/// secret, shown once.
#[utoipa::path(post, path = "/v1/api-keys/{id}/duplicate", tag = "API keys", params(("id" = ApiKeyId, Path)),
    security(("api_key" = ["api_keys:write"])),
    responses((status = 201, description = "The new key and its plaintext, shown once.", body = CreatedApiKey)))]
async fn duplicate_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<ApiKeyId>,
) -> Created<CreatedApiKey> {
    let created = state.gatehouse.duplicate_api_key(&actor, &id).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Exchange a key for an access token
///
/// A short-lived token (15 minutes at most) with the key's scopes, for clients that
/// should not hold the long-lived key in memory; send it as `Authorization: Bearer`.
/// Only a key's secret may be exchanged (a token cannot renew itself); a key holds at
/// most 20 live tokens; a token ends with the secret it came from.
#[utoipa::path(post, path = "/v1/auth/token", tag = "Access tokens",
    security(("api_key" = [])),
    extensions(("x-mcp-tool" = json!(false)), ("x-error-codes" = json!(["credential_not_allowed", "limit_reached"]))),
    responses((status = 200, description = "The access token, shown once.", body = AccessToken)))]
async fn issue_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
) -> ApiResult<AccessToken> {
    Ok(Json(state.gatehouse.issue_access_token(&actor).await?))
}

/// Who am I
///
/// The calling key's id, tenant, app, mode and scopes, which credential was presented
/// and when it ends. It reads nothing but the key: agents call it to learn what they may
/// do.
#[utoipa::path(get, path = "/v1/whoami", tag = "Access tokens",
    security(("api_key" = [])),
    responses((status = 200, description = "The calling credential.", body = WhoAmI)))]
async fn whoami(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
) -> ApiResult<WhoAmI> {
    Ok(Json(state.gatehouse.whoami(&actor)?))
}
