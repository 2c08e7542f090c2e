//! The Leptos dashboard: the HTML shell, the routes, the Developers workspace and the
//! server functions behind it. Server functions are thin doors into `gatehouse-domain`.

#![recursion_limit = "256"]

pub mod docs;
pub mod embedding;
pub mod error;
pub mod lazy_tabs;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod tabs;
pub mod widgets;

use lazy_tabs::{
    ApiKeysRoute, ApiStatusRoute, AppsRoute, AuditRoute, DocsRoute, IntegrationLogsRoute,
    OverviewRoute, RequestLogsRoute, UsageRoute, WebhooksRoute,
};
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::Lazy;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

/// The HTML document the server renders around the app. Pages that work as plain HTML
/// (the sign-in form) are served without the wasm and its hydration.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let hydrate = needs_wasm().then(|| view! { <HydrationScripts options=options.clone() /> });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="leptos" />
                {brand_style()}
                {hydrate}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The SaaS's brand as CSS variables, when the operator set one (server side only: the
/// head is not hydrated). The text is the server's own, escaped for CSS.
fn brand_style() -> Option<impl IntoView> {
    #[cfg(feature = "ssr")]
    {
        let css = use_context::<ssr::DashboardContext>()?.brand_css?;
        Some(view! { <style id="brand" inner_html=css></style> })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None::<()>
    }
}

/// Whether the page being served needs the wasm: every page but the sign-in form.
fn needs_wasm() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().is_none_or(|parts| {
            let path = parts.uri.path().trim_end_matches('/');
            path != pages::SIGN_IN_PATH && path != pages::SPENT_LINK_PATH
        })
    }
    #[cfg(not(feature = "ssr"))]
    true
}

/// Marks the page interactive once hydration (with the opened tab's code) is done:
/// `data-hydrated` on `#root`, which the browser tests wait for instead of sleeping, and
/// the `gatehouse-hydrated` performance mark the frontend benchmark reads.
#[cfg(feature = "hydrate")]
pub fn mark_interactive() {
    if let Some(root) = document().get_element_by_id("root") {
        let _ = root.set_attribute("data-hydrated", "true");
    }
    if let Some(performance) = window().performance() {
        let _ = performance.mark("gatehouse-hydrated");
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Gatehouse" />
        <Router>
            <div id="root">
                <Routes fallback=|| view! { <pages::NotFound /> }>
                    <Route path=path!("/") view=pages::Home />
                    <Route path=path!("/login") view=pages::LoginPage />
                    <Route path=path!("/sign-in/expired") view=pages::SpentLinkPage />
                    <ParentRoute path=path!("/settings/developers") view=pages::DevelopersPage>
                        <Route path=path!("") view={Lazy::<OverviewRoute>::new()} />
                        <Route path=path!("overview") view={Lazy::<OverviewRoute>::new()} />
                        <Route path=path!("apps") view={Lazy::<AppsRoute>::new()} />
                        <Route path=path!("api-keys") view={Lazy::<ApiKeysRoute>::new()} />
                        <Route path=path!("webhooks") view={Lazy::<WebhooksRoute>::new()} />
                        <Route path=path!("logs") view={Lazy::<RequestLogsRoute>::new()} />
                        <Route path=path!("usage") view={Lazy::<UsageRoute>::new()} />
                        <Route path=path!("docs") view={Lazy::<DocsRoute>::new()} />
                        <Route path=path!("api-status") view={Lazy::<ApiStatusRoute>::new()} />
                        <Route path=path!("integration-logs") view={Lazy::<IntegrationLogsRoute>::new()} />
                        <Route path=path!("audit") view={Lazy::<AuditRoute>::new()} />
                    </ParentRoute>
                </Routes>
            </div>
        </Router>
    }
}
