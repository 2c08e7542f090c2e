//! The Leptos dashboard: the HTML shell, the routes, the Developers workspace and the
//! server functions behind it. Server functions are thin doors into `gatehouse-domain`.

#![recursion_limit = "256"]

pub mod docs;
pub mod error;
pub mod keys;
pub mod one_time_secret;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod tabs;
pub mod ui;
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Browser tests wait for this marker instead of sleeping.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        // The frontend benchmark reads when the page became interactive.
        #[cfg(feature = "hydrate")]
        if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
            let _ = performance.mark("gatehouse-hydrated");
        }
    });
    view! {
        <Title text="Gatehouse" />
        <Router>
            <div id="root" data-hydrated=move || hydrated.get().then_some("true")>
                <Routes fallback=|| view! { <pages::NotFound /> }>
                    <Route path=path!("/") view=pages::Home />
                    <Route path=path!("/login") view=pages::LoginPage />
                    <Route path=path!("/settings/developers") view=pages::DevelopersPage />
                    <Route path=path!("/settings/developers/:tab") view=pages::DevelopersPage />
                </Routes>
            </div>
        </Router>
    }
}
