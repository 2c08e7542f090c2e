//! Server-side glue for the server functions: the shared state in Leptos context,
//! the session cookie, and resolving the signed-in actor.

use gatehouse_domain::Gatehouse;
use gatehouse_domain::auth::SignedIn;
use gatehouse_model::ErrorCode;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, request::Parts};
use leptos::prelude::*;

use crate::error::AppError;

/// Name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// What the server puts in every request's Leptos context.
#[derive(Clone)]
pub struct DashboardContext {
    pub gatehouse: Gatehouse,
    /// Add `Secure` to cookies (the public URL is https).
    pub secure_cookies: bool,
}

pub fn context() -> Result<DashboardContext, AppError> {
    use_context::<DashboardContext>()
        .ok_or_else(|| AppError::new(ErrorCode::Internal, "Something went wrong on our side."))
}

/// The session token from the request's cookie, if any.
pub fn session_token() -> Option<String> {
    let parts = use_context::<Parts>()?;
    parts.headers.get_all(COOKIE).iter().find_map(|header| {
        header.to_str().ok()?.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_owned())
        })
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
/// and Secure when served over https.
pub fn set_session_cookie(token: Option<(&str, i64)>) {
    let Ok(context) = context() else { return };
    let secure = if context.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = match token {
        Some((token, max_age_seconds)) => format!(
            "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_seconds}{secure}"
        ),
        None => format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}"),
    };
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}
