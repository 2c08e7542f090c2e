//! The `/v1` door of admission: reads the credential from the three header forms and
//! the browser's origin, asks the domain to admit the call (credential, origin, rate
//! limit, quota: `gatehouse_domain::admission`), hands the actor to the handler, and
//! reports the outcome. It answers refusals (with the `RateLimit` headers of a limit
//! that refused), and every answer to a key it identified names the key for the
//! request log ([`LoggedKey`]).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use gatehouse_domain::admission::CallAttempt;

use super::request_log::LoggedKey;
use crate::error::ApiError;
use crate::state::AppState;

/// The credential a request presents: `Authorization: Bearer <key>`,
/// `Authorization: x-api-key <key>`, or `x-api-key: <key>`. An `Authorization`
/// header of another scheme counts as none, so the answer is `api_key_missing`.
pub fn presented_credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        let (scheme, credential) = value.trim().split_once(' ')?;
        let credential = credential.trim();
        let known =
            scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("x-api-key");
        return (known && !credential.is_empty()).then_some(credential);
    }
    headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|credential| !credential.is_empty())
}

/// Admits the call (the domain's one admission, see `gatehouse_domain::admission`),
/// puts the `Actor` in the request's extensions, and counts the call once it is
/// answered: a success below 400, a failure otherwise.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let headers = request.headers();
    let attempt = CallAttempt {
        credential: presented_credential(headers),
        origin: headers
            .get(axum::http::header::ORIGIN)
            .and_then(|value| value.to_str().ok()),
        ..CallAttempt::default()
    };
    let call = match state.gatehouse.admit(attempt).await {
        Ok(call) => call,
        Err(refused) => {
            let mut response = refused_response(refused.error);
            // A refused call of a known key is logged under that key.
            if let Some(key) = refused.key {
                response.extensions_mut().insert(LoggedKey(key));
            }
            return response;
        }
    };
    // Shared, so that the handler takes it without copying it.
    request.extensions_mut().insert(Arc::clone(&call.actor));
    let mut response = next.run(request).await;
    if call.origin_allowed {
        response.extensions_mut().insert(super::cors::AllowedOrigin);
    }
    if let Some(limits) = &call.limits {
        super::rate_headers::add(response.headers_mut(), limits.statuses());
    }
    state
        .gatehouse
        .finish_call(&call, response.status().as_u16() < 400);
    if let Some(key) = call.key {
        response.extensions_mut().insert(LoggedKey(key));
    }
    response
}

/// The answer to a refused call; a call over the key's rate limit or the tenant's
/// monthly quota gets `Retry-After` and the `RateLimit` headers of the limit that
/// refused it.
pub fn refused_response(error: gatehouse_domain::DomainError) -> Response {
    let status = match &error {
        gatehouse_domain::DomainError::UsageExceeded(status)
        | gatehouse_domain::DomainError::RateLimited(status) => Some(*status),
        _ => None,
    };
    let mut response = ApiError::from(error).into_response();
    if let Some(status) = status {
        super::rate_headers::add(response.headers_mut(), std::iter::once(&status));
        super::rate_headers::add_retry_after(response.headers_mut(), &status);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn all_three_header_forms_are_read() {
        let key = "sk_live_abc";
        for form in [
            headers(&[("authorization", "Bearer sk_live_abc")]),
            headers(&[("authorization", "bearer  sk_live_abc ")]),
            headers(&[("authorization", "x-api-key sk_live_abc")]),
            headers(&[("x-api-key", "sk_live_abc")]),
        ] {
            assert_eq!(presented_credential(&form), Some(key), "{form:?}");
        }
        for none in [
            headers(&[]),
            headers(&[("authorization", "Basic dXNlcjpwYXNz")]),
            headers(&[("authorization", "Bearer ")]),
            headers(&[("x-api-key", " ")]),
        ] {
            assert_eq!(presented_credential(&none), None, "{none:?}");
        }
    }
}
