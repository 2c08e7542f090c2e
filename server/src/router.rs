//! The whole router: the dashboard (SSR and server functions), `/health`, `/metrics`,
//! `/openapi.json`, the docs and the `/v1` API, inside the layers every request passes
//! (outermost first: trace, client address, request count, body limit, cache headers,
//! framing refusal, cross-site refusal).

use axum::Router;
use axum::routing::get;
use gatehouse_app::ssr::DashboardContext;
use gatehouse_app::{App, shell};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::state::AppState;

/// The whole router, built in one place (tests use it too).
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let dashboard_context = DashboardContext {
        gatehouse: state.gatehouse.clone(),
        https: state.https,
        return_url: state.return_url.clone(),
        embed_origins: state.embed_origins.clone(),
        brand_css: state.brand_css.clone(),
    };
    let crate::v1::Api {
        router: api,
        document,
        key_operations,
    } = crate::v1::router(&state);
    let tools = std::sync::Arc::new(crate::mcp::tools::ToolCatalog::from_document(&document));
    let docs = crate::docs::render(&state, &document, &tools);
    let openapi_json = axum::body::Bytes::from(
        serde_json::to_vec(&document).expect("the OpenAPI document serializes"),
    );
    let metrics = match &state.metrics_token {
        Some(token) => crate::metrics::protected_router(token),
        None => Router::new(),
    };
    Router::new()
        .route("/health", get(crate::health::health))
        .merge(metrics)
        .route(
            "/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .merge(crate::docs::router(docs.clone()))
        .merge(crate::mcp::router(&state, tools, key_operations, docs))
        .merge(api)
        .route("/sign-in/{token}", get(crate::sign_in_links::open_link))
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
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::csrf::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::framing::frame_policy,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::assets::cache_headers,
        ))
        .layer(axum::middleware::from_fn(crate::limits::limit_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::count_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::client_address::remember_client_address,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    // The path without a sign-in link's token (and no query string).
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        path = crate::sign_in_links::path_for_logs(request.uri().path()),
                        version = ?request.version(),
                    )
                },
            ),
        )
        .with_state(state)
}
