//! The Developers tabs as routes whose code loads when they are first opened: each is a
//! split point of the wasm bundle (cargo-leptos `--split`), so the sign-in page carries
//! no tab's code and each tab only its own. On the server the same routes render at
//! once; in the browser, hydration waits for the opened tab's code (see `frontend`).

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

/// A route for one tab: no data of its own (each tab loads its own), and the tab's
/// view behind the split point.
macro_rules! lazy_tab {
    ($route:ident, $tab:path) => {
        #[doc = concat!("The route of `", stringify!($tab), "`, loaded on first use.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $tab().into_any()
            }
        }
    };
}

lazy_tab!(OverviewRoute, crate::tabs::OverviewTab);
lazy_tab!(AppsRoute, crate::tabs::AppsTab);
lazy_tab!(ApiKeysRoute, crate::tabs::ApiKeysTab);
lazy_tab!(WebhooksRoute, crate::tabs::WebhooksTab);
lazy_tab!(RequestLogsRoute, crate::tabs::RequestLogsTab);
lazy_tab!(UsageRoute, crate::tabs::UsageTab);
lazy_tab!(DocsRoute, crate::docs::DocsTab);
lazy_tab!(ApiStatusRoute, crate::tabs::ApiStatusTab);
lazy_tab!(IntegrationLogsRoute, crate::tabs::IntegrationLogsTab);
lazy_tab!(AuditRoute, crate::tabs::AuditTab);
