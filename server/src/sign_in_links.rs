//! `GET /sign-in/{token}`: where a one-time sign-in link is opened. A good link starts
//! a session and lands on its page; a spent, expired or unknown one goes to a page that
//! says so, with the way back to the SaaS. The token stays out of every log (the trace
//! span shows the path without it, see [`path_for_logs`]), out of caches, and out of
//! any `Referer`: the answer is a redirect that says `Referrer-Policy: no-referrer`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_app::ssr::{CookieSite, cookie_header};
use gatehouse_domain::auth::links::LINK_PATH;

use crate::state::AppState;

use gatehouse_app::pages::SPENT_LINK_PATH as SPENT_LINK_PAGE;

/// A request path as logs may show it: a sign-in link's token is cut off.
pub fn path_for_logs(path: &str) -> &str {
    if path.starts_with(LINK_PATH) && path != SPENT_LINK_PAGE {
        LINK_PATH
    } else {
        path
    }
}

/// Opens a link: a session and a redirect to its page, or the spent-link page.
pub async fn open_link(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (location, cookie) = match state.gatehouse.open_sign_in_link(&token).await {
        Ok(opened) => {
            let site = if state.embed_origins.is_empty() {
                CookieSite::Own { https: state.https }
            } else {
                CookieSite::Framed
            };
            let name = gatehouse_app::ssr::session_cookie_name(state.https);
            let max_age = (opened.session.expires_at_ms - state.gatehouse.now_ms()) / 1000;
            (
                opened.landing_path,
                Some(cookie_header(name, &opened.session.token, max_age, site)),
            )
        }
        Err(error) => {
            if error.is_internal() {
                tracing::error!(%error, "a sign-in link could not be opened");
            }
            (SPENT_LINK_PAGE.to_owned(), None)
        }
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie.and_then(|cookie| HeaderValue::from_str(&cookie).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_never_show_a_link_token() {
        assert_eq!(path_for_logs("/sign-in/AbCdEf0123"), "/sign-in/");
        assert_eq!(path_for_logs("/sign-in/expired"), "/sign-in/expired");
        assert_eq!(
            path_for_logs("/settings/developers"),
            "/settings/developers"
        );
    }
}
