//! Server-side glue for the server functions: the shared state in Leptos context,
//! the session cookie, and resolving the signed-in actor.

use gatehouse_domain::Gatehouse;
use gatehouse_domain::auth::SignedIn;
use gatehouse_model::ErrorCode;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, request::Parts};
use leptos::prelude::*;

use crate::error::AppError;

/// Name of the dashboard's session cookie over plain http (local use).
pub const SESSION_COOKIE: &str = "gatehouse_session";
/// Its name over https: the `__Host-` prefix makes browsers refuse it unless it is
/// `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
pub const SECURE_SESSION_COOKIE: &str = "__Host-gatehouse_session";

/// What the server puts in every request's Leptos context.
#[derive(Clone)]
pub struct DashboardContext {
    pub gatehouse: Gatehouse,
    /// Served over https: the session cookie is `Secure` and `__Host-` prefixed.
    pub https: bool,
}

impl DashboardContext {
    /// The session cookie's name on this server; no other name is read.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.https {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }
}

pub fn context() -> Result<DashboardContext, AppError> {
    use_context::<DashboardContext>()
        .ok_or_else(|| AppError::new(ErrorCode::Internal, "Something went wrong on our side."))
}

/// The caller's address as the server determined it (the peer, or the client behind a
/// trusted proxy), put into each request's extensions by the server.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

/// The address of the client making this request, when the server knows it.
pub fn client_address() -> Option<std::net::IpAddr> {
    use_context::<Parts>()?
        .extensions
        .get::<ClientAddress>()
        .and_then(|ClientAddress(address)| *address)
}

/// The session token from the request's cookie, if any.
pub fn session_token() -> Option<String> {
    let name = context().ok()?.session_cookie_name();
    let parts = use_context::<Parts>()?;
    parts.headers.get_all(COOKIE).iter().find_map(|header| {
        cookie::Cookie::split_parse(header.to_str().ok()?)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == name)
            .map(|cookie| cookie.value().to_owned())
    })
}

/// The signed-in user, or `unauthenticated`.
pub async fn signed_in() -> Result<(Gatehouse, SignedIn), AppError> {
    let context = context()?;
    let token = session_token().ok_or(AppError::new(
        ErrorCode::Unauthenticated,
        "Sign in to continue.",
    ))?;
    let signed_in = context.gatehouse.session(&token).await?;
    Ok((context.gatehouse, signed_in))
}

/// Sets (or, with `None`, clears) the session cookie: HttpOnly, SameSite=Lax, Path=/,
/// and over https `Secure` with the `__Host-` prefix.
pub fn set_session_cookie(token: Option<(&str, i64)>) {
    let Ok(context) = context() else { return };
    let (value, max_age_seconds) = token.unwrap_or(("", 0));
    let cookie = cookie::Cookie::build((context.session_cookie_name(), value))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .secure(context.https)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build();
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&cookie.to_string()),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}
