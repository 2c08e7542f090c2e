//! `gatehouse serve`: wires the server together. It builds the state, listens, starts
//! the background tasks (`tasks`) and serves the router (`router`) until SIGINT or
//! SIGTERM; then it stops gracefully: in-flight requests finish, then the tasks stop and
//! are awaited (the delivery worker first, the flush writes last).

use gatehouse_domain::Gatehouse;

use crate::config::Config;
use crate::state::{AppState, SharedState};
use crate::tasks::BackgroundTasks;

/// Runs the server until SIGINT or SIGTERM, then finishes in-flight requests and
/// stops the background tasks, awaiting each.
pub async fn serve(config: &Config, gatehouse: Gatehouse) -> Result<(), String> {
    let leptos_options = crate::site::leptos_options(&config.leptos_config)?;
    let state = AppState(std::sync::Arc::new(SharedState {
        leptos_options,
        gatehouse: gatehouse.clone(),
        https: config.served_over_https(),
        metrics_token: Some(config.metrics_token.0.clone()).filter(|token| !token.is_empty()),
        trusted_proxies: gatehouse_domain::webhooks::NetworkPolicy::parse(&config.trusted_proxies)?,
        dashboard_url: config.dashboard_url(),
        embed_origins: crate::config::parse_origins(&config.embed_origins)?,
        return_url: Some(config.return_url.clone()).filter(|url| !url.is_empty()),
        brand_css: config.brand().map_err(|(_, message)| message)?.css(),
        mcp_sessions: config.mcp_session_bounds(),
        shutdown: tokio_util::sync::CancellationToken::new(),
    }));
    let stopping = state.shutdown.clone();
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", config.addr))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    tracing::info!(%address, "Gatehouse listening on http://{address}");
    if let Err(error) = gatehouse.reload_origin_index().await {
        tracing::warn!(%error, "allowed origins not loaded yet; the first preflight loads them");
    }
    let tasks = BackgroundTasks::start(&gatehouse, config.metrics_addr).await?;
    // Without Nagle's delay: a streamed answer (an MCP event stream) is written in
    // several pieces, and each would otherwise wait for the client's delayed ACK (40 ms).
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    let served = axum::serve(
        listener,
        crate::router::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        stopping.cancel();
    })
    .await
    .map_err(|error| error.to_string());
    tasks.shut_down().await;
    tracing::info!("Gatehouse stopped");
    served
}

/// Resolves at the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
