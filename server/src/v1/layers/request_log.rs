//! The request log's door: every `/v1` answer gets a `Request-Id` header,
//! and the answers that name a key (a call the key check identified, or a verification
//! of a key) are handed to the domain's buffer with their route template, status, error
//! code, latency, origin and client address. The inner layers say which key it was by
//! putting a [`LoggedKey`] on the response; the error code comes from the [`ApiError`]
//! that made the answer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use gatehouse_app::ssr::ClientAddress;
use gatehouse_domain::request_log::RequestRecord;
use gatehouse_domain::{Gatehouse, KeyPrincipal};
use gatehouse_model::{ErrorCode, RequestId, VerifyCode};

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

/// What the log needs to know of a request before it runs: read once, when the log is
/// on, and written with the answer by [`RequestFacts::log`]. The MCP door uses it too,
/// with its own route names (`mcp:<tool>`).
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub id: RequestId,
    started: Instant,
    method: &'static str,
    route: String,
    origin: Option<String>,
    client_ip: Option<String>,
}

impl RequestFacts {
    /// The facts of a request with `route` as its name in the log; `None` when the log is
    /// off (the id is still made, for the `Request-Id` header).
    pub fn read(
        gatehouse: &Gatehouse,
        id: RequestId,
        method: &Method,
        headers: &HeaderMap,
        extensions: &Extensions,
        route: impl FnOnce() -> String,
    ) -> Option<Self> {
        gatehouse.request_logging().then(|| Self {
            id,
            started: Instant::now(),
            method: crate::metrics::method_label(method),
            route: route(),
            origin: headers
                .get(axum::http::header::ORIGIN)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            client_ip: extensions
                .get::<ClientAddress>()
                .and_then(|ClientAddress(address)| *address)
                .map(|ip| ip.to_string()),
        })
    }

    /// Logs the answer under `key`.
    pub fn log(
        self,
        gatehouse: &Gatehouse,
        key: Arc<KeyPrincipal>,
        status: u16,
        error_code: Option<&'static str>,
        verify_code: Option<&'static str>,
    ) {
        gatehouse.log_request(RequestRecord {
            id: self.id,
            key,
            method: self.method,
            route: self.route,
            status,
            error_code,
            verify_code,
            latency_us: i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX),
            origin: self.origin,
            client_ip: self.client_ip,
        });
    }
}

/// Puts the request's id on its answer as the `Request-Id` header.
pub fn name_the_answer(response: &mut Response, id: &RequestId) {
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
}

/// Names the request, runs it, and logs its answer when a key is known.
pub async fn log_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let gatehouse = &state.gatehouse;
    let id = gatehouse.fresh_request_id();
    let facts = RequestFacts::read(
        gatehouse,
        id.clone(),
        request.method(),
        request.headers(),
        request.extensions(),
        || {
            request
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned())
        },
    );
    let mut response = next.run(request).await;
    name_the_answer(&mut response, &id);
    let (Some(facts), Some(LoggedKey(key))) =
        (facts, response.extensions_mut().remove::<LoggedKey>())
    else {
        return response;
    };
    facts.log(
        gatehouse,
        key,
        response.status().as_u16(),
        response
            .extensions()
            .get::<ErrorCode>()
            .map(|code| code.as_str()),
        response
            .extensions()
            .get::<LoggedVerdict>()
            .map(|LoggedVerdict(code)| code.as_str()),
    );
    response
}
