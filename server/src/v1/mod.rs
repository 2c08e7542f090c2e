//! The `/v1` JSON API: thin handlers over the same domain operations the dashboard
//! uses, answering errors as `{ "error": { "code", "message", "details" } }`.

mod api_keys;
mod apps;
mod audit;
pub(crate) mod layers;
pub mod openapi;
mod request_logs;
mod usage;
mod verify;
mod webhooks;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// What [`router`] builds.
pub struct Api {
    /// `/v1` and `/operator/v1`, with their layers.
    pub router: Router<AppState>,
    /// The OpenAPI document of both.
    pub document: utoipa::openapi::OpenApi,
    /// The key-authenticated operations without any layer: their handlers take the
    /// admitted caller from the request's extensions. The MCP server runs its tool calls
    /// through them, after its own door has admitted the call.
    pub key_operations: Router<AppState>,
}

/// The operations a key calls, each registered from its handler's annotation.
fn key_operations() -> OpenApiRouter<AppState> {
    apps::router()
        .merge(api_keys::router())
        .merge(webhooks::router())
        .merge(usage::router())
        .merge(audit::router())
        .merge(request_logs::router())
}

/// Every `/v1` route and the OpenAPI document that describes them, from one list: each
/// route is registered with `routes!` from its handler's `#[utoipa::path]`, so a route
/// cannot be served without being documented (a test compares the served paths with the
/// document's). The key-authenticated resources sit behind the key check, the rest are
/// open, and the request log and CORS are around all of them (see `layers`).
pub fn router(state: &AppState) -> Api {
    let authenticated = key_operations().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        layers::key_auth::authenticate,
    ));
    let (router, document) = OpenApiRouter::with_openapi(openapi::base())
        .merge(verify::router())
        .routes(routes!(ping))
        .merge(authenticated)
        .split_for_parts();
    let router = router
        .route("/v1/{*rest}", axum::routing::any(no_such_route))
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::request_log::log_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::cors::cors,
        ));
    // The operator's API shares the document but none of `/v1`'s layers: no CORS, no
    // request log, its own token check.
    let (operator, operator_document) = OpenApiRouter::new()
        .merge(crate::operator_api::router(state))
        .split_for_parts();
    let operator = operator
        .route("/operator/v1/{*rest}", axum::routing::any(no_such_route))
        .method_not_allowed_fallback(wrong_method);
    let mut document = document;
    document.merge(operator_document);
    Api {
        router: router.merge(operator),
        document: openapi::finish(document, state.gatehouse.scope_catalog()),
        key_operations: key_operations().split_for_parts().0,
    }
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        gatehouse_model::ErrorCode::MethodNotAllowed,
        "This route does not answer that HTTP method.",
    )
}

async fn no_such_route() -> ApiError {
    ApiError::new(gatehouse_model::ErrorCode::NotFound, "No such API route.")
}

/// Ping
///
/// Liveness without touching the database (`/health` checks it).
#[utoipa::path(get, path = "/v1/ping", tag = "Meta",
    responses((status = 200, description = "The server answers.", body = Pong)))]
async fn ping() -> axum::Json<Pong> {
    axum::Json(Pong { status: "ok" })
}

/// `GET /v1/ping`'s answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Pong {
    /// Always `ok`.
    status: &'static str,
}

/// The query of a list of one app's things (`?app_id=&limit=&cursor=`).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AppListQuery {
    /// Defaults to the calling key's app.
    app_id: Option<gatehouse_model::AppId>,
    /// 1 to 100; 100 when left out.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page (an id of the list's items); the first
    /// page when left out.
    #[param(pattern = "^[a-z]{2,4}_[0-9a-hjkmnp-tv-z]{26}$")]
    cursor: Option<String>,
}

impl AppListQuery {
    fn page(&self) -> gatehouse_model::PageRequest {
        gatehouse_model::PageRequest {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}
