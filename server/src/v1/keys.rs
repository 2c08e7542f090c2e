//! `POST /v1/keys/verify` (SPEC X-3): the SaaS's services ask whether a customer's key
//! is good, optionally for one scope.

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use gatehouse_model::{VerifyKeyRequest, VerifyKeyResponse};

use super::{ApiError, json_body};
use crate::serve::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/keys/verify", post(verify))
}

async fn verify(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<VerifyKeyResponse>, ApiError> {
    let request: VerifyKeyRequest = json_body(&body)?;
    Ok(Json(state.gatehouse.verify_api_key(&request).await?))
}
