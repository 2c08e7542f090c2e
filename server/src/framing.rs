//! Who may show Gatehouse's pages in a frame. By default no site may (clickjacking: a
//! hostile page overlays a framed dashboard and tricks a click on "Revoke"): every
//! answer carries `Content-Security-Policy: frame-ancestors 'none'` and, for older
//! browsers, `X-Frame-Options: DENY`. With `GATEHOUSE_EMBED_ORIGINS`, the SaaS's
//! origins listed there may frame it, and no other: `frame-ancestors 'self' <origins>`
//! (and no `X-Frame-Options`, which cannot name origins).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

pub const FRAME_ANCESTORS: &str = "frame-ancestors 'none'";

/// The `frame-ancestors` directive for these embedding origins.
pub fn frame_ancestors(embed_origins: &[String]) -> String {
    if embed_origins.is_empty() {
        FRAME_ANCESTORS.to_owned()
    } else {
        format!("frame-ancestors 'self' {}", embed_origins.join(" "))
    }
}

/// Adds the framing policy to every answer that does not set its own.
pub async fn frame_policy(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(policy) = HeaderValue::from_str(&frame_ancestors(&state.embed_origins))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    if state.embed_origins.is_empty() && !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_origins_may_frame() {
        assert_eq!(frame_ancestors(&[]), "frame-ancestors 'none'");
        assert_eq!(
            frame_ancestors(&[
                "https://app.example.com".to_owned(),
                "http://localhost:4000".to_owned()
            ]),
            "frame-ancestors 'self' https://app.example.com http://localhost:4000"
        );
    }
}
