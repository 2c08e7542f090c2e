//! Request size bounds: no body larger than [`MAX_BODY_BYTES`] is read anywhere. A
//! declared length over the bound is refused at once with `413 payload_too_large`
//! (JSON); a body that streams past it without declaring its length is cut off.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_model::ErrorCode;

use crate::error::ApiError;

/// Largest request body accepted anywhere (JSON API and server functions alike).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn limit_body(request: Request<Body>, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return too_large().into_response();
    }
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES));
    next.run(Request::from_parts(parts, limited)).await
}

pub fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "The request body is larger than {} KiB.",
            MAX_BODY_BYTES / 1024
        ),
    )
}
