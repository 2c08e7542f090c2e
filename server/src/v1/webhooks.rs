//! The webhook resources: `/v1/webhook-endpoints` (and its actions: disable, enable,
//! rotate-secret, test, deliveries, replay) and `/v1/events`. Thin handlers: each reads
//! its typed input and calls one domain operation with the key's [`Actor`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use std::sync::Arc;

use gatehouse_domain::Actor;
use gatehouse_model::{
    AppId, AttemptView, CreatedEndpoint, EndpointInput, EndpointListItem, EndpointUpdate,
    EndpointView, EventDetail, EventId, EventInput, EventView, Page, PageRequest, ReplayOutcome,
    ReplayRequest, WebhookEndpointId,
};
use serde::Deserialize;

use super::{ApiError, ApiQuery, PathId, json_body};
use crate::serve::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/webhook-endpoints",
            get(list_endpoints).post(create_endpoint),
        )
        .route(
            "/v1/webhook-endpoints/{id}",
            get(get_endpoint)
                .patch(update_endpoint)
                .delete(delete_endpoint),
        )
        .route("/v1/webhook-endpoints/{id}/disable", post(disable_endpoint))
        .route("/v1/webhook-endpoints/{id}/enable", post(enable_endpoint))
        .route(
            "/v1/webhook-endpoints/{id}/rotate-secret",
            post(rotate_secret),
        )
        .route("/v1/webhook-endpoints/{id}/test", post(send_test))
        .route("/v1/webhook-endpoints/{id}/deliveries", get(list_attempts))
        .route("/v1/webhook-endpoints/{id}/replay", post(replay))
        .route("/v1/events", get(list_events).post(send_event))
        .route("/v1/events/{id}", get(get_event))
}

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointListQuery {
    /// Defaults to the calling key's app.
    app_id: Option<AppId>,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_endpoints(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<EndpointListQuery>,
) -> ApiResult<Page<EndpointListItem>> {
    let app_id = actor.app_or_own(query.app_id.as_ref())?;
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    Ok(Json(
        state
            .gatehouse
            .list_webhook_endpoints(&actor, &app_id, &page)
            .await?,
    ))
}

/// `POST /v1/webhook-endpoints`: the signing secret is in this answer only.
async fn create_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedEndpoint>), ApiError> {
    let input: EndpointInput = json_body(&body)?;
    let created = state
        .gatehouse
        .create_webhook_endpoint(&actor, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<EndpointView> {
    Ok(Json(state.gatehouse.webhook_endpoint(&actor, &id).await?))
}

/// `PATCH /v1/webhook-endpoints/{id}`: only the fields sent change.
async fn update_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
    body: Bytes,
) -> ApiResult<EndpointView> {
    let update: EndpointUpdate = json_body(&body)?;
    Ok(Json(
        state
            .gatehouse
            .update_webhook_endpoint(&actor, &id, &update)
            .await?,
    ))
}

async fn delete_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<EndpointView> {
    Ok(Json(
        state.gatehouse.delete_webhook_endpoint(&actor, &id).await?,
    ))
}

async fn disable_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<EndpointView> {
    Ok(Json(
        state
            .gatehouse
            .set_webhook_endpoint_enabled(&actor, &id, false)
            .await?,
    ))
}

async fn enable_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<EndpointView> {
    Ok(Json(
        state
            .gatehouse
            .set_webhook_endpoint_enabled(&actor, &id, true)
            .await?,
    ))
}

/// `POST /v1/webhook-endpoints/{id}/rotate-secret`: the new secret, shown once; the
/// old one keeps signing for 24 hours.
async fn rotate_secret(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<CreatedEndpoint> {
    Ok(Json(
        state.gatehouse.rotate_webhook_secret(&actor, &id).await?,
    ))
}

/// `POST /v1/webhook-endpoints/{id}/test`: sends `webhook.test` now; the attempt.
async fn send_test(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<AttemptView> {
    Ok(Json(state.gatehouse.send_test_webhook(&actor, &id).await?))
}

async fn list_attempts(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> ApiResult<Page<AttemptView>> {
    Ok(Json(
        state
            .gatehouse
            .list_delivery_attempts(&actor, &id, &page)
            .await?,
    ))
}

/// `POST /v1/webhook-endpoints/{id}/replay`: `{"event_id"}` or `{"failed_since"}`.
async fn replay(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
    body: Bytes,
) -> Result<(StatusCode, Json<ReplayOutcome>), ApiError> {
    let request: ReplayRequest = json_body(&body)?;
    let outcome = state
        .gatehouse
        .replay_webhooks(&actor, &id, &request)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(outcome)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_events(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<EventListQuery>,
) -> ApiResult<Page<EventView>> {
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    Ok(Json(
        state.gatehouse.list_events(&actor, None, &page).await?,
    ))
}

/// `POST /v1/events`: 201 with the event once its deliveries are stored; with an
/// `Idempotency-Key` seen in the last 24 hours, 200 with the first event and the
/// `Idempotent-Replayed: true` header (nothing new is sent).
async fn send_event(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: EventInput = json_body(&body)?;
    let idempotency_key = match headers.get("idempotency-key") {
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::new(
                gatehouse_model::ErrorCode::BadRequest,
                "The Idempotency-Key header must be printable ASCII.",
            )
        })?),
        None => None,
    };
    let sent = state
        .gatehouse
        .send_event(&actor, &input, idempotency_key)
        .await?;
    Ok(if sent.replayed {
        (
            StatusCode::OK,
            [("idempotent-replayed", "true")],
            Json(sent.event),
        )
            .into_response()
    } else {
        (StatusCode::CREATED, Json(sent.event)).into_response()
    })
}

async fn get_event(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<EventId>,
) -> ApiResult<EventDetail> {
    Ok(Json(state.gatehouse.event(&actor, &id).await?))
}
