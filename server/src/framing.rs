//! No other site may show Gatehouse's pages in a frame (clickjacking: a hostile page
//! overlays a framed dashboard and tricks a click on "Revoke"). Every answer carries
//! `Content-Security-Policy: frame-ancestors 'none'` and, for older browsers,
//! `X-Frame-Options: DENY`.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const FRAME_ANCESTORS: &str = "frame-ancestors 'none'";

/// Adds the framing refusal to every answer that does not set its own policy.
pub async fn refuse_framing(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(FRAME_ANCESTORS),
        );
    }
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}
