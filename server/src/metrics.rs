//! The operator's Prometheus endpoint: `GET /metrics` on the main address
//! behind `Authorization: Bearer $GATEHOUSE_METRICS_TOKEN`, and/or open on a separate
//! `GATEHOUSE_METRICS_ADDR` (a private network the operator controls); and the
//! middleware that counts every HTTP answer by route template, method and status.

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatehouse_domain::Gatehouse;
use gatehouse_domain::metrics::{CONTENT_TYPE, RequestLabels};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The route label of answers no route matched (static files, unknown paths): one
/// series for all of them, whatever the path.
const UNMATCHED: &str = "unmatched";

/// Counts the answer to every request once it is made.
pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .into();
    let response = next.run(request).await;
    state.gatehouse.metrics().count_request(&RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    });
    response
}

/// The method as a label without copying it; methods outside the standard ones share
/// one series.
pub(crate) fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `/metrics` for the main router: answered only to the bearer of the token; without a
/// token configured the route does not exist.
pub fn protected_router(token: &str) -> Router<AppState> {
    let expected = Sha256::digest(token.as_bytes());
    Router::new().route(
        "/metrics",
        get(
            move |State(state): State<AppState>, request: Request| async move {
                let presented = request
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.strip_prefix("Bearer "))
                    .unwrap_or_default();
                // Digests of equal length compared in constant time: the comparison says
                // nothing about how much of the token was right.
                let matches: bool = Sha256::digest(presented.as_bytes()).ct_eq(&expected).into();
                if !matches {
                    return (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Bearer")],
                        "metrics need the operator's bearer token\n",
                    )
                        .into_response();
                }
                scrape(&state.gatehouse).await
            },
        ),
    )
}

/// `/metrics` alone, open, for the separate metrics address.
pub fn open_router(gatehouse: Gatehouse) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let gatehouse = gatehouse.clone();
            async move { scrape(&gatehouse).await }
        }),
    )
}

async fn scrape(gatehouse: &Gatehouse) -> Response {
    match gatehouse.scrape_metrics().await {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(error) => {
            tracing::error!(%error, "metrics could not be read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "metrics could not be read\n",
            )
                .into_response()
        }
    }
}
