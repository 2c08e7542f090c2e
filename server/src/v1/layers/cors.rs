//! CORS for `/v1`: browsers may call the API only from an origin that the
//! key's app allows. A preflight carries no key, so it is answered for origins that
//! some app allows; the call itself is then checked against its own key's app (see
//! `key_auth`), which marks the response with [`AllowedOrigin`]. Neither reads the
//! database: preflights are answered from the in-memory origin index, and the key's
//! app's origins come with the key. (tower-http's CORS layer cannot express "the
//! origin of the key's own app", so this small layer stays ours.)

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Put on a response by the key check when the calling origin is allowed.
#[derive(Debug, Clone)]
pub struct AllowedOrigin;

const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
/// With the MCP transport's own headers (`/mcp` is behind this layer too).
const ALLOWED_HEADERS: &str = "authorization, x-api-key, content-type, idempotency-key, mcp-session-id, mcp-protocol-version, last-event-id";
/// What a page may read of an answer beyond the simple headers.
const EXPOSED_HEADERS: &str =
    "request-id, mcp-session-id, retry-after, ratelimit, ratelimit-policy";
const PREFLIGHT_MAX_AGE_SECONDS: &str = "600";

pub async fn cors(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
    else {
        return next.run(request).await;
    };
    let is_preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        return match state.gatehouse.some_app_allows_origin(&origin).await {
            Ok(true) => {
                let mut response = StatusCode::NO_CONTENT.into_response();
                let headers = response.headers_mut();
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(ALLOWED_METHODS),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOWED_HEADERS),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECONDS),
                );
                allow(response, &origin)
            }
            Ok(false) => {
                ApiError::from(gatehouse_domain::DomainError::OriginNotAllowed).into_response()
            }
            Err(error) => ApiError::from(error).into_response(),
        };
    }
    let response = next.run(request).await;
    let readable = response.extensions().get::<AllowedOrigin>().is_some()
        // Let the browser's code read why its key was refused, if the origin is known.
        || (response.status() == StatusCode::UNAUTHORIZED
            && state
                .gatehouse
                .some_app_allows_origin(&origin)
                .await
                .unwrap_or(false));
    if readable {
        allow(response, &origin)
    } else {
        response
    }
}

fn allow(mut response: Response, origin: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(origin) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}
