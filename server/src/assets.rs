//! How long browsers keep what the server sends: the built files under `/pkg/`, named
//! by their content's hash, are immutable for a year; the favicon for a day; rendered
//! pages and every answer of the API and the server functions are never stored (they
//! carry tenant data and one-time secrets), so a page always shows the current state and
//! links the current build's files. The files themselves are served precompressed
//! (brotli or gzip, as the browser accepts) by the static file handler.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// For files whose name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For files that keep their name across builds.
const A_DAY: &str = "public, max-age=86400";
/// For built files without hashed names (a binary built without cargo-leptos), and
/// missing ones.
const REVALIDATE: &str = "no-cache";
const NEVER_STORE: &str = "no-store";

/// Sets `Cache-Control` on every answer that has none.
pub async fn cache_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let built_file = path.starts_with("/pkg/");
    let icon = path.starts_with("/favicon.");
    let mut response = next.run(request).await;
    if response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let stored = response.status().is_success() || response.status().as_u16() == 304;
    let policy = match (built_file, icon) {
        (true, _) if stored && state.leptos_options.hash_files => IMMUTABLE,
        (true, _) => REVALIDATE,
        (false, true) if stored => A_DAY,
        _ => NEVER_STORE,
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}
