//! The server's shared state: what every handler, layer and server function can reach
//! (the domain service, the site options and the few settings requests read).

use axum::extract::FromRef;
use gatehouse_domain::Gatehouse;
use leptos::config::LeptosOptions;

/// What every handler can reach. Cloned for every request that reads it (each
/// middleware and handler), so it is one shared allocation: a clone is one counter.
#[derive(Clone)]
pub struct AppState(pub(crate) std::sync::Arc<SharedState>);

pub struct SharedState {
    pub leptos_options: LeptosOptions,
    pub gatehouse: Gatehouse,
    /// Served over https: cookies are `Secure` and `__Host-` prefixed.
    pub https: bool,
    /// The bearer token of `/metrics` on the main address (none: no such route).
    pub metrics_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed (see `client_address`).
    pub trusted_proxies: gatehouse_domain::webhooks::NetworkPolicy,
    /// Where people open the dashboard: sign-in links start with it.
    pub dashboard_url: String,
    /// The SaaS's origins that may frame the workspace (none: no site may).
    pub embed_origins: Vec<String>,
    /// Where a person goes back to from a spent sign-in link (`GATEHOUSE_RETURN_URL`).
    pub return_url: Option<String>,
    /// The SaaS's brand as CSS variables for every page's head (none: Gatehouse's own).
    pub brand_css: Option<String>,
    /// How many MCP sessions a key may hold, and for how long one may idle.
    pub mcp_sessions: crate::mcp::sessions::SessionBounds,
    /// Cancelled when the server begins to stop: long-lived answers (the MCP streams)
    /// end, so that the graceful shutdown does not wait on them.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
