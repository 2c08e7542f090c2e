//! `POST /v1/keys/verify`: the SaaS's services ask whether a customer's key is good,
//! optionally for one scope.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use gatehouse_model::{VerifyKeyRequest, VerifyKeyResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::layers::request_log::{LoggedKey, LoggedVerdict};
use crate::error::{ApiError, json_body};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(verify))
}

/// Verify a customer's key
///
/// For the SaaS's own services: is this key good, optionally for one scope? The answer
/// is 200 whatever the verdict: `valid` and a `code` (`VALID`, `NOT_FOUND`, `DISABLED`,
/// `REVOKED`, `EXPIRED`, `INSUFFICIENT_SCOPE`, `USAGE_EXCEEDED`, `RATE_LIMITED`,
/// `PLATFORM_API_DISABLED`, `SUBSCRIPTION_INACTIVE`), and on success the tenant, app, mode, scopes and the live
/// calls left this month. A verification counts as a platform call.
#[utoipa::path(post, path = "/v1/keys/verify", tag = "Key verification",
    request_body(content = VerifyKeyRequest, example = json!({
        "key": "rk_live_…", "scope": "payment_intents:read"
    })),
    responses((status = 200, description = "The verdict on the key.", body = VerifyKeyResponse)))]
async fn verify(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let request: VerifyKeyRequest = json_body(&body)?;
    let verification = state.gatehouse.verify_api_key_naming_it(&request).await?;
    let verdict = LoggedVerdict(verification.answer.code);
    let mut response = Json(verification.answer).into_response();
    // The request log records the verification under the verified key.
    if let Some(key) = verification.key {
        response.extensions_mut().insert(LoggedKey(key));
        response.extensions_mut().insert(verdict);
    }
    Ok(response)
}
