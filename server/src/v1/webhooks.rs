//! The webhook resources: `/v1/webhook-endpoints` (and its actions: disable, enable,
//! rotate-secret, test, deliveries, messages, replay) and `/v1/events`. Thin handlers: each reads
//! its typed input and calls one domain operation with the key's [`Actor`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::Actor;
use gatehouse_model::{
    AttemptView, CreatedEndpoint, EndpointInput, EndpointListItem, EndpointUpdate, EndpointView,
    EventDetail, EventId, EventInput, EventView, Page, PageRequest, ReplayOutcome, ReplayRequest,
    TestEventRequest, WebhookEndpointId, WebhookMessage,
};

use super::AppListQuery;
use crate::error::{
    ApiError, ApiQuery, PathId, PathIds, created_or_replayed, idempotency_key, json_body,
    optional_json_body,
};
use crate::state::AppState;

/// The webhook resources; each route's path, scope and answers are in its handler's
/// `#[utoipa::path]`, so the router and the OpenAPI document are one list.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(disable_endpoint))
        .routes(routes!(enable_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test))
        .routes(routes!(list_attempts))
        .routes(routes!(get_message))
        .routes(routes!(replay))
        .routes(routes!(list_events, send_event))
        .routes(routes!(get_event))
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// List webhook endpoints
///
/// The app's endpoints of the calling key's mode, each with its last day of deliveries.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "Webhook endpoints", params(AppListQuery),
    security(("api_key" = ["webhook_endpoints:read"])),
    extensions(("x-error-codes" = json!(["not_found"]))),
    responses((status = 200, description = "A page of endpoints.", body = Page<EndpointListItem>)))]
async fn list_endpoints(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(query): ApiQuery<AppListQuery>,
) -> ApiResult<Page<EndpointListItem>> {
    let app_id = actor.app_or_own(query.app_id.as_ref())?;
    Ok(Json(
        state
            .gatehouse
            .list_webhook_endpoints(&actor, &app_id, &query.page())
            .await?,
    ))
}

/// Create a webhook endpoint
///
/// `app_id` defaults to the calling key's app. Live endpoints need https; private,
/// loopback, link-local and metadata addresses are refused. The answer holds the signing
/// secret, the only time it is shown. An app has at most 50 endpoints.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "Webhook endpoints",
    request_body(content = EndpointInput, example = json!({
        "url": "https://hooks.example.com/gatehouse", "mode": "live",
        "event_families": ["api_key.*", "payment_intent.*"], "description": "Billing service"
    })),
    security(("api_key" = ["webhook_endpoints:write"])),
    extensions(("x-error-codes" = json!(["validation_failed", "not_found", "limit_reached"]))),
    responses((status = 201, description = "The endpoint and its signing secret, shown once.", body = CreatedEndpoint)))]
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

/// Get a webhook endpoint
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    security(("api_key" = ["webhook_endpoints:read"])),
    responses((status = 200, description = "The endpoint; never its secret.", body = EndpointView)))]
async fn get_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<EndpointView> {
    Ok(Json(state.gatehouse.webhook_endpoint(&actor, &id).await?))
}

/// Update a webhook endpoint
///
/// Only the fields sent change; `"rate_limit_per_second": null` removes the limit.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    request_body(content = EndpointUpdate, example = json!({ "event_families": ["*"] })),
    security(("api_key" = ["webhook_endpoints:write"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses((status = 200, description = "The endpoint as changed.", body = EndpointView)))]
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

/// Delete a webhook endpoint
///
/// Its pending deliveries are dropped.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    security(("api_key" = ["webhook_endpoints:write"])),
    responses((status = 200, description = "The endpoint as it was.", body = EndpointView)))]
async fn delete_endpoint(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<EndpointView> {
    Ok(Json(
        state.gatehouse.delete_webhook_endpoint(&actor, &id).await?,
    ))
}

/// Disable a webhook endpoint
///
/// Nothing more is sent to it until it is enabled again.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/disable", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    extensions(("x-destructive" = json!(true)), ("x-idempotent" = json!(true))),
    security(("api_key" = ["webhook_endpoints:write"])),
    responses((status = 200, description = "The endpoint, disabled.", body = EndpointView)))]
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

/// Enable a webhook endpoint
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/enable", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    extensions(("x-idempotent" = json!(true))),
    security(("api_key" = ["webhook_endpoints:write"])),
    responses((status = 200, description = "The endpoint, enabled.", body = EndpointView)))]
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

/// Rotate an endpoint's signing secret
///
/// The new secret is in this answer only; the old one keeps signing too for 24 hours
/// (deliveries carry both signatures).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    security(("api_key" = ["webhook_endpoints:write"])),
    responses((status = 200, description = "The endpoint and its new signing secret, shown once.", body = CreatedEndpoint)))]
async fn rotate_secret(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
) -> ApiResult<CreatedEndpoint> {
    Ok(Json(
        state.gatehouse.rotate_webhook_secret(&actor, &id).await?,
    ))
}

/// Send a test event
///
/// Sends a signed test event to the endpoint now and answers the attempt: Gatehouse's
/// `webhook.test` without a body, or with `{"event_type": …}` an event type that has an
/// example in the scope catalog (`event_examples`), sent with the example's data.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/test", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    request_body(content = Option<TestEventRequest>, example = json!({ "event_type": "payment_intent.succeeded" })),
    security(("api_key" = ["webhook_endpoints:write"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses((status = 200, description = "The attempt: status, latency, answer excerpt.", body = AttemptView)))]
async fn send_test(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<WebhookEndpointId>,
    body: Bytes,
) -> ApiResult<AttemptView> {
    let request: TestEventRequest = optional_json_body(&body)?;
    Ok(Json(
        state
            .gatehouse
            .send_test_webhook(&actor, &id, request.event_type.as_deref())
            .await?,
    ))
}

/// List an endpoint's delivery attempts
///
/// The delivery log, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path), PageRequest),
    security(("api_key" = ["webhook_endpoints:read"])),
    responses((status = 200, description = "A page of attempts.", body = Page<AttemptView>)))]
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

/// Show one message
///
/// One event as the endpoint was sent it: the body byte for byte, and the newest 100
/// attempts with the headers each carried (the start of each signature only). 404 for
/// an event the endpoint was never sent. The body is event data: the key needs
/// `webhook_endpoints:read` as well as `events:read`.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/messages/{event_id}", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path), ("event_id" = EventId, Path)),
    security(("api_key" = ["events:read"])),
    responses((status = 200, description = "The message and its attempts.", body = WebhookMessage)))]
async fn get_message(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathIds(id, event_id): PathIds<WebhookEndpointId, EventId>,
) -> ApiResult<WebhookMessage> {
    Ok(Json(
        state
            .gatehouse
            .webhook_message(&actor, &id, &event_id)
            .await?,
    ))
}

/// Replay events to an endpoint
///
/// One event (`event_id`), or every event whose delivery to the endpoint failed since a
/// time (`failed_since`).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/replay", tag = "Webhook endpoints",
    params(("id" = WebhookEndpointId, Path)),
    request_body(content = ReplayRequest, example = json!({ "failed_since": "2026-01-01T00:00:00Z" })),
    security(("api_key" = ["webhook_endpoints:write"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses((status = 202, description = "How many deliveries were queued.", body = ReplayOutcome)))]
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

/// List events
///
/// The calling key's mode's events, newest first.
#[utoipa::path(get, path = "/v1/events", tag = "Events", params(PageRequest),
    security(("api_key" = ["events:read"])),
    responses((status = 200, description = "A page of events.", body = Page<EventView>)))]
async fn list_events(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> ApiResult<Page<EventView>> {
    Ok(Json(
        state.gatehouse.list_events(&actor, None, &page).await?,
    ))
}

/// Send an event
///
/// The event and one delivery per subscribed endpoint are stored before the answer, so
/// an acknowledged event is never lost. With an `Idempotency-Key` seen in the last 24
/// hours the answer is 200 with the first event and `Idempotent-Replayed: true`, and
/// nothing new is sent.
#[utoipa::path(post, path = "/v1/events", tag = "Events",
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes retries safe: the same key within 24 hours answers the first event.")),
    request_body(content = EventInput, example = json!({
        "type": "payment_intent.succeeded", "data": { "id": "pi_123", "amount": 4200 }
    })),
    security(("api_key" = ["events:write"])),
    extensions(("x-error-codes" = json!(["validation_failed", "credential_not_allowed"]))),
    responses(
        (status = 201, description = "The event, stored with its deliveries.", body = EventView),
        (status = 200, description = "An idempotent replay: the first event with this `Idempotency-Key`.",
            body = EventView,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
    ))]
async fn send_event(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: EventInput = json_body(&body)?;
    let idempotency_key = idempotency_key(&headers)?;
    let sent = state
        .gatehouse
        .send_event(&actor, &input, idempotency_key)
        .await?;
    Ok(created_or_replayed(sent.replayed, sent.event))
}

/// Get an event
///
/// The event with its deliveries.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "Events", params(("id" = EventId, Path)),
    security(("api_key" = ["events:read"])),
    responses((status = 200, description = "The event and where it went.", body = EventDetail)))]
async fn get_event(
    State(state): State<AppState>,
    Extension(actor): Extension<Arc<Actor>>,
    PathId(id): PathId<EventId>,
) -> ApiResult<EventDetail> {
    Ok(Json(state.gatehouse.event(&actor, &id).await?))
}
