//! Helpers for the server's unit tests.

use axum::http::HeaderMap;

/// A header map from `(name, value)` pairs.
pub fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, value.parse().unwrap());
    }
    map
}
