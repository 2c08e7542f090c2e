//! Cross-site request refusal for the dashboard's server functions: Leptos has no CSRF
//! defence of its own, so every non-GET call under `/api/` must come from this site,
//! as the browser's `Sec-Fetch-Site` (or, lacking it, `Origin`) says.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_model::ErrorCode;

use crate::error::ApiError;

/// Whether a request may change something on behalf of the session cookie. Without
/// `Sec-Fetch-Site`, its `Origin` must be this server: the same host and port, and the
/// scheme it is served over (`https` only, when it is served over https).
pub fn is_same_site(method: &Method, headers: &axum::http::HeaderMap, https: bool) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
    {
        return site == "same-origin";
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => {
            let Some((scheme, origin_host)) = origin.split_once("://") else {
                return false;
            };
            let scheme_served = match scheme {
                "https" => true,
                "http" => !https,
                _ => false,
            };
            scheme_served && origin_host == host
        }
        // Neither header: not a browser request made by another site's page.
        _ => false,
    }
}

pub async fn refuse_cross_site(
    State(state): State<crate::state::AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/api/")
        && !is_same_site(request.method(), request.headers(), state.https)
    {
        return ApiError::new(
            ErrorCode::CrossSiteRequest,
            "Cross-site requests to the dashboard are refused.",
        )
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn same_origin_passes_and_cross_site_is_refused() {
        let post = Method::POST;
        assert!(is_same_site(
            &post,
            &headers(&[("sec-fetch-site", "same-origin")]),
            false
        ));
        assert!(!is_same_site(
            &post,
            &headers(&[("sec-fetch-site", "cross-site")]),
            false
        ));
        assert!(!is_same_site(
            &post,
            &headers(&[("sec-fetch-site", "same-site")]),
            false
        ));
        assert!(is_same_site(
            &post,
            &headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ]),
            false
        ));
        assert!(!is_same_site(
            &post,
            &headers(&[("origin", "https://evil.test"), ("host", "127.0.0.1:3000")]),
            false
        ));
        assert!(!is_same_site(
            &post,
            &headers(&[("host", "127.0.0.1:3000")]),
            false
        ));
        assert!(is_same_site(&Method::GET, &headers(&[]), false));
        // Origin's scheme counts: only http(s), and only https when served over https.
        let from =
            |origin: &'static str| headers(&[("origin", origin), ("host", "127.0.0.1:3000")]);
        assert!(!is_same_site(&post, &from("evil://127.0.0.1:3000"), false));
        assert!(!is_same_site(&post, &from("null"), false));
        assert!(is_same_site(&post, &from("https://127.0.0.1:3000"), false));
        assert!(!is_same_site(&post, &from("http://127.0.0.1:3000"), true));
        assert!(is_same_site(&post, &from("https://127.0.0.1:3000"), true));
    }
}
