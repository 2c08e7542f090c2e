//! The request log's door: every `/v1` answer gets a `Request-Id` header,
//! and the answers that name a key (a call the key check identified, or a verification
//! of a key) are handed to the domain's buffer with their route template, status, error
//! code, latency, origin and client address. The inner layers say which key it was by
//! putting a [`LoggedKey`] on the response; the error code comes from the [`ApiError`]
//! that made the answer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use gatehouse_app::ssr::ClientAddress;
use gatehouse_domain::KeyPrincipal;
use gatehouse_domain::request_log::RequestRecord;
use gatehouse_model::{ErrorCode, VerifyCode};

use crate::state::AppState;

/// The response header that carries the request's id.
pub const REQUEST_ID_HEADER: &str = "request-id";

/// Put on a response by the key check or the verification: the key the request is
/// logged under.
#[derive(Debug, Clone)]
pub struct LoggedKey(pub Arc<KeyPrincipal>);

/// Put on a verification's response: its verdict.
#[derive(Debug, Clone, Copy)]
pub struct LoggedVerdict(pub VerifyCode);

/// Names the request, runs it, and logs its answer when a key is known.
pub async fn log_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let gatehouse = &state.gatehouse;
    let id = gatehouse.fresh_request_id();
    let facts = gatehouse.request_logging().then(|| {
        let headers = request.headers();
        (
            crate::metrics::method_label(request.method()),
            request
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned()),
            headers
                .get(axum::http::header::ORIGIN)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            request
                .extensions()
                .get::<ClientAddress>()
                .and_then(|ClientAddress(address)| *address)
                .map(|ip| ip.to_string()),
        )
    });
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let (Some((method, route, origin, client_ip)), Some(LoggedKey(key))) =
        (facts, response.extensions_mut().remove::<LoggedKey>())
    else {
        return response;
    };
    gatehouse.log_request(RequestRecord {
        id,
        key,
        method,
        route,
        status: response.status().as_u16(),
        error_code: response
            .extensions()
            .get::<ErrorCode>()
            .map(|code| code.as_str()),
        verify_code: response
            .extensions()
            .get::<LoggedVerdict>()
            .map(|LoggedVerdict(code)| code.as_str()),
        latency_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
        origin,
        client_ip,
    });
    response
}
