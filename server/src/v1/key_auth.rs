//! Key authentication for `/v1` (SPEC X-1): the three header forms, one look-up per
//! call, the calling origin checked against the key's app (SPEC A-3), the key's rate
//! limit and the tenant's monthly quota (SPEC U-2, U-5, with the `RateLimit` headers),
//! the actor handed to the handler, and every admitted call counted by its outcome
//! (SPEC U-1). Every answer to a key it identified names the key for the request log
//! ([`LoggedKey`]).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use gatehouse_domain::metrics::AuthMethod;
use gatehouse_model::ErrorCode;

use super::ApiError;
use super::request_log::LoggedKey;
use crate::serve::AppState;

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

/// Authenticates the call, puts the `Actor` in the request's extensions, and counts
/// the call once it is answered: a success below 400, a failure otherwise.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let presented = presented_credential(request.headers());
    let count = |code: &'static str| {
        state
            .gatehouse
            .metrics()
            .count_authentication(AuthMethod::ApiKey, code);
    };
    let actor = match state.gatehouse.api_key_caller(presented).await {
        Ok(actor) => actor,
        Err((error, known_key)) => {
            count(error.code().as_str());
            let mut response = ApiError::from(error).into_response();
            // A disabled, revoked or expired key's call is logged under that key.
            if let Some(key) = known_key {
                response.extensions_mut().insert(LoggedKey(key));
            }
            return response;
        }
    };
    let principal = actor.api_key_shared();
    let origin = request
        .headers()
        .get(axum::http::header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // The key's app's origins came with the key: no look-up (SPEC A-3).
    let origin_allowed = match (&origin, &principal) {
        (Some(origin), Some(key)) => Some(key.allows_origin(origin)),
        _ => None,
    };
    let logged = |mut response: Response| {
        if let Some(principal) = &principal {
            response
                .extensions_mut()
                .insert(LoggedKey(std::sync::Arc::clone(principal)));
        }
        response
    };
    if origin_allowed == Some(false) {
        if let Some(principal) = &principal {
            state.gatehouse.record_call(principal, false);
        }
        count(ErrorCode::OriginNotAllowed.as_str());
        return logged(super::cors::origin_refused().into_response());
    }
    let admission = match &principal {
        Some(principal) => match state.gatehouse.admit_call(principal).await {
            Ok(admission) => Some(admission),
            // Refused by a limit: answered with where it stands, and not counted.
            Err(error) => {
                count(error.code().as_str());
                return logged(refused_by_limit(error));
            }
        },
        None => None,
    };
    count("ok");
    // Shared, so that the handler takes it without copying it.
    request.extensions_mut().insert(std::sync::Arc::new(actor));
    let mut response = next.run(request).await;
    if origin_allowed == Some(true) {
        response.extensions_mut().insert(super::cors::AllowedOrigin);
    }
    if let Some(admission) = admission {
        super::rate_headers::add(response.headers_mut(), admission.statuses());
    }
    if let Some(principal) = &principal {
        let success = response.status().as_u16() < 400;
        state.gatehouse.record_call(principal, success);
    }
    logged(response)
}

/// The 429 for a call over the key's rate limit or the tenant's monthly quota, with
/// `Retry-After` and the `RateLimit` headers of the limit that refused it.
fn refused_by_limit(error: gatehouse_domain::DomainError) -> Response {
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
