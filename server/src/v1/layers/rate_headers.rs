//! The IETF `RateLimit-Policy` and `RateLimit` headers (draft-ietf-httpapi-ratelimit-
//! headers) for the limits a key's call stands against, and `Retry-After` on a 429.
//! Every authenticated answer of a limited key carries them, so clients can slow down
//! before they are refused.

use std::fmt::Write;

use axum::http::{HeaderMap, HeaderValue};
use gatehouse_model::LimitStatus;

/// Adds `RateLimit-Policy` and `RateLimit` for `statuses` (nothing when empty). On the
/// hot path: each header is written into one buffer, with no list built in between.
pub fn add<'a>(headers: &mut HeaderMap, statuses: impl Iterator<Item = &'a LimitStatus> + Clone) {
    let policy = list(statuses.clone(), |out, status| {
        write!(
            out,
            "\"{}\";q={};w={}",
            status.policy.as_str(),
            status.limit,
            status.window_seconds
        )
    });
    let state = list(statuses, |out, status| {
        write!(
            out,
            "\"{}\";r={};t={}",
            status.policy.as_str(),
            status.remaining,
            status.reset_seconds
        )
    });
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
        if let Some(value) = value.and_then(|value| HeaderValue::try_from(value).ok()) {
            headers.insert(name, value);
        }
    }
}

/// Adds `Retry-After` (seconds) for a refused call.
pub fn add_retry_after(headers: &mut HeaderMap, refused: &LimitStatus) {
    headers.insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(refused.reset_seconds.max(1)),
    );
}

/// The items of a structured-field list, comma separated; `None` when there are none.
fn list<'a>(
    statuses: impl Iterator<Item = &'a LimitStatus>,
    item: impl Fn(&mut String, &LimitStatus) -> std::fmt::Result,
) -> Option<String> {
    let mut out = String::new();
    for status in statuses {
        if !out.is_empty() {
            out.push_str(", ");
        }
        item(&mut out, status).ok()?;
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::LimitPolicy;

    #[test]
    fn both_policies_are_listed_key_first() {
        let key = LimitStatus {
            policy: LimitPolicy::Key,
            limit: 10,
            window_seconds: 1,
            remaining: 3,
            reset_seconds: 1,
        };
        let monthly = LimitStatus {
            policy: LimitPolicy::Monthly,
            limit: 1000,
            window_seconds: 2_678_400,
            remaining: 0,
            reset_seconds: 7200,
        };
        let mut headers = HeaderMap::new();
        add(&mut headers, [key, monthly].iter());
        add_retry_after(&mut headers, &monthly);
        assert_eq!(
            headers["ratelimit-policy"],
            "\"key\";q=10;w=1, \"monthly\";q=1000;w=2678400"
        );
        assert_eq!(
            headers["ratelimit"],
            "\"key\";r=3;t=1, \"monthly\";r=0;t=7200"
        );
        assert_eq!(headers["retry-after"], "7200");
    }
}
