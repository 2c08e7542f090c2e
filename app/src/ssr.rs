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

/// The session cookie's name on a server that is (or is not) reached over https.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// What the server puts in every request's Leptos context.
#[derive(Clone)]
pub struct DashboardContext {
    pub gatehouse: Gatehouse,
    /// Served over https: the session cookie is `Secure` and `__Host-` prefixed.
    pub https: bool,
    /// Where a person goes back to from a spent sign-in link (the SaaS's settings page).
    pub return_url: Option<String>,
    /// The SaaS's origins that may frame the workspace.
    pub embed_origins: Vec<String>,
    /// The SaaS's brand as CSS variables (`html:root { --accent: … }`), put in every
    /// page's head.
    pub brand_css: Option<String>,
}

impl DashboardContext {
    /// The session cookie's name on this server; no other name is read.
    pub fn session_cookie_name(&self) -> &'static str {
        session_cookie_name(self.https)
    }

    /// The failed sign-in's cookie name on this server; no other name is read.
    fn sign_in_failure_cookie_name(&self) -> &'static str {
        if self.https {
            SECURE_SIGN_IN_FAILURE_COOKIE
        } else {
            SIGN_IN_FAILURE_COOKIE
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
    request_cookie(context().ok()?.session_cookie_name())
}

/// The value of the request's cookie `name`, if it sent one.
fn request_cookie(name: &str) -> Option<String> {
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
    set_cookie(
        &context,
        context.session_cookie_name(),
        value,
        max_age_seconds,
    );
}

/// Appends a `Set-Cookie` to the response (see [`cookie_header`]); a max age of 0
/// clears the cookie.
fn set_cookie(context: &DashboardContext, name: &str, value: &str, max_age_seconds: i64) {
    let header = cookie_header(
        name,
        value,
        max_age_seconds,
        CookieSite::Own {
            https: context.https,
        },
    );
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&header),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}

/// Where a cookie is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSite {
    /// On Gatehouse's own pages: `SameSite=Lax`, and `Secure` over https.
    Own { https: bool },
    /// Inside the SaaS's page, in a frame: `SameSite=None; Secure; Partitioned`, so
    /// that the browser keeps it for that site's frame even with third-party cookies
    /// blocked (CHIPS). Browsers take `Secure` from https and from loopback
    /// (`http://127.0.0.1`, `http://localhost`), the local exception tests use.
    Framed,
}

/// A `Set-Cookie` value: HttpOnly, Path=/, and the attributes of `site`.
pub fn cookie_header(name: &str, value: &str, max_age_seconds: i64, site: CookieSite) -> String {
    let builder = cookie::Cookie::build((name, value))
        .http_only(true)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_seconds));
    let builder = match site {
        CookieSite::Own { https } => builder.same_site(cookie::SameSite::Lax).secure(https),
        CookieSite::Framed => builder
            .same_site(cookie::SameSite::None)
            .secure(true)
            .partitioned(true),
    };
    builder.build().to_string()
}

/// Whether the request is a browser's own form submission (it takes HTML back), not a
/// call from the hydrated page (which takes JSON).
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// The cookie that carries a failed sign-in from the form's POST to the sign-in page
/// it redirects to, for one minute: the message to show and the email to keep. Over
/// https it is `__Host-` prefixed like the session's, so a sibling subdomain cannot
/// plant a message of its own on the sign-in page.
const SIGN_IN_FAILURE_COOKIE: &str = "gatehouse_sign_in_failed";
const SECURE_SIGN_IN_FAILURE_COOKIE: &str = "__Host-gatehouse_sign_in_failed";
const SIGN_IN_FAILURE_SECONDS: i64 = 60;
/// Longer values are not read back: a forged cookie cannot make the page large.
const SIGN_IN_FAILURE_MAX_BYTES: usize = 2048;

/// Remembers a failed sign-in for the page the browser is sent back to.
pub fn remember_sign_in_failure(failure: &crate::pages::SignInFailure) {
    use base64::Engine;
    let Ok(context) = context() else { return };
    let Ok(json) = serde_json::to_vec(failure) else {
        return;
    };
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let name = context.sign_in_failure_cookie_name();
    set_cookie(&context, name, &value, SIGN_IN_FAILURE_SECONDS);
}

/// The failed sign-in remembered for this page, if any; it is shown once (cleared).
pub fn take_sign_in_failure() -> Option<crate::pages::SignInFailure> {
    use base64::Engine;
    let context = context().ok()?;
    let name = context.sign_in_failure_cookie_name();
    let value = request_cookie(name)?;
    set_cookie(&context, name, "", 0);
    if value.len() > SIGN_IN_FAILURE_MAX_BYTES {
        return None;
    }
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    serde_json::from_slice(&json).ok()
}
