//! `/mcp`: a Model Context Protocol server (the Streamable HTTP transport, by the official
//! Rust SDK `rmcp`) that gives agents the `/v1` API as tools, acting with the caller's
//! key and within its scopes. Three parts: the `door` (admission, exactly `/v1`'s, and
//! the session bounds kept in `sessions`), the `tools` (made from the OpenAPI document),
//! and the `handler` (what the server answers).

mod door;
mod handler;
pub mod sessions;
pub mod tools;

use std::sync::Arc;

use axum::Router;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::state::AppState;
use sessions::Sessions;
use tools::ToolCatalog;

/// What every MCP session shares.
pub struct McpServer {
    state: AppState,
    tools: Arc<ToolCatalog>,
    /// The key-authenticated `/v1` operations, without their door: a tool call runs
    /// through them with the caller the MCP door admitted.
    key_operations: Router,
    docs: Arc<crate::docs::Site>,
    sessions: Sessions,
    session_manager: Arc<LocalSessionManager>,
}

/// `/mcp` (POST for messages, GET for the server's stream, DELETE to end a session),
/// behind its door and the `/v1` CORS rules.
pub fn router(
    state: &AppState,
    tools: Arc<ToolCatalog>,
    key_operations: Router<AppState>,
    docs: Arc<crate::docs::Site>,
) -> Router<AppState> {
    let bounds = state.mcp_sessions;
    let mut session_config = SessionConfig::default();
    // rmcp's own clean-up of a session left without messages, a little after the
    // door's idle bound has ended it.
    session_config.keep_alive = Some(bounds.idle + std::time::Duration::from_secs(60));
    // No event store, so no stream can be resumed: neither a priming event nor the
    // answers of completed requests are kept (by default a minute of them, per session:
    // held memory that grows with the rate of calls and is walked on every message).
    session_config.sse_retry = None;
    session_config.completed_cache_ttl = std::time::Duration::ZERO;
    let mut session_manager = LocalSessionManager::default();
    session_manager.session_config = session_config;
    let session_manager = Arc::new(session_manager);
    let server = Arc::new(McpServer {
        state: state.clone(),
        tools,
        key_operations: key_operations.with_state(state.clone()),
        docs,
        sessions: Sessions::new(bounds),
        session_manager: Arc::clone(&session_manager),
    });
    let mut config = StreamableHttpServerConfig::default()
        // Every message carries a key and its origin is checked against the key's app
        // (the door), so no host list is needed against DNS rebinding.
        .disable_allowed_hosts();
    // A client of the current protocol (sessionless) gets its answer as one JSON body
    // when the call streams nothing first.
    config.json_response = true;
    config.sse_retry = None;
    config.cancellation_token = state.shutdown.child_token();
    config.max_request_body_bytes = crate::limits::MAX_BODY_BYTES;
    let handler = Arc::clone(&server);
    let service = StreamableHttpService::new(
        move || Ok(handler::GatehouseMcp(Arc::clone(&handler))),
        session_manager,
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(server, door::admit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::v1::layers::cors::cors,
        ))
}
