//! The HTTP server: the dashboard (SSR + server functions), `/health`, static files;
//! structured logs and graceful shutdown on SIGINT/SIGTERM.

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use gatehouse_app::ssr::DashboardContext;
use gatehouse_app::{App, shell};
use gatehouse_domain::Gatehouse;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::config::Config;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub gatehouse: Gatehouse,
    pub secure_cookies: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The whole router, built in one place (tests use it too).
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let dashboard_context = DashboardContext {
        gatehouse: state.gatehouse.clone(),
        secure_cookies: state.secure_cookies,
    };
    Router::new()
        .route("/health", get(crate::health::health))
        .merge(crate::v1::router(&state))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(dashboard_context.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(crate::csrf::refuse_cross_site))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Runs the server until SIGINT or SIGTERM, then finishes in-flight requests.
pub async fn serve(config: &Config, gatehouse: Gatehouse) -> Result<(), String> {
    let leptos_options = crate::site::leptos_options(&config.leptos_config)?;
    let state = AppState {
        leptos_options,
        gatehouse: gatehouse.clone(),
        secure_cookies: config.secure_cookies,
    };
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", config.addr))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    tracing::info!(%address, "Gatehouse listening on http://{address}");
    let flusher = tokio::spawn(flush_usage_every_second(gatehouse.clone()));
    let key_changes = {
        let gatehouse = gatehouse.clone();
        tokio::spawn(async move { gatehouse.follow_key_changes().await })
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|error| error.to_string())?;
    flusher.abort();
    key_changes.abort();
    // The calls answered since the last tick are written before the database closes.
    if let Err(error) = gatehouse.flush_usage().await {
        tracing::error!(%error, "usage counters could not be written at shutdown");
    }
    gatehouse.db().close().await;
    tracing::info!("Gatehouse stopped");
    Ok(())
}

/// Writes the usage counters about once a second (SPEC U-1): a crash loses at most
/// the last second; a failed write is retried with the next tick.
async fn flush_usage_every_second(gatehouse: Gatehouse) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = gatehouse.flush_usage().await {
            tracing::warn!(%error, "usage counters not written yet; retrying");
        }
    }
}

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
