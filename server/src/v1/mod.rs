//! The `/v1` JSON API: thin handlers over the same domain operations the dashboard
//! uses, answering errors as `{ "error": { "code", "message", "details" } }` (SPEC X-5).

mod cors;
mod key_auth;
mod keys;
mod resources;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::DomainError;
use gatehouse_model::{ErrorBody, ErrorCode, ErrorDetail};
use serde::de::DeserializeOwned;

use crate::serve::AppState;

/// Every `/v1` route, merged in one place: the key-authenticated resources behind
/// the key check, the rest open, and CORS around all of them.
pub fn router(state: &AppState) -> Router<AppState> {
    let authenticated = resources::router().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        key_auth::authenticate,
    ));
    Router::new()
        .merge(keys::router())
        .route("/v1/ping", axum::routing::get(ping))
        .merge(authenticated)
        .route("/v1/{*rest}", axum::routing::any(no_such_route))
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ))
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

/// `GET /v1/ping`: liveness without touching the database (`/health` checks it).
async fn ping() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// The API boundary's one error type.
#[derive(Debug)]
pub struct ApiError(ErrorDetail);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorDetail {
            code,
            message: message.into(),
            details: Default::default(),
        })
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        if error.is_internal() {
            tracing::error!(%error, "API call failed");
        }
        Self(error.to_detail())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(ErrorBody { error: self.0 })).into_response()
    }
}

/// Reads a JSON body, answering `bad_request` with serde's reason (never echoing input).
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        let reason = match error.classify() {
            serde_json::error::Category::Data => "a field is missing or has the wrong type",
            _ => "the body is not valid JSON",
        };
        ApiError::new(
            ErrorCode::BadRequest,
            format!("The request body could not be read: {reason}."),
        )
    })
}
