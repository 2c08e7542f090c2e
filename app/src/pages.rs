//! Top-level pages: sign-in, the Developers workspace with its tabs and gates.

use gatehouse_model::Viewer;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::server_fns::{SignIn, current_viewer, sign_out};
use crate::widgets::ui::show_error;

/// The Developers tabs: (path segment, label).
pub const TABS: &[(&str, &str)] = &[
    ("overview", "Overview"),
    ("apps", "Apps"),
    ("api-keys", "API keys"),
    ("webhooks", "Webhooks"),
    ("logs", "Logs"),
    ("usage", "Usage"),
    ("docs", "Docs"),
    ("api-status", "API status"),
    ("integration-logs", "Integration logs"),
    ("audit", "Audit"),
];

#[component]
pub fn Home() -> impl IntoView {
    view! { <Redirect path=DEVELOPERS_PATH /> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Page not found · Gatehouse" />
        <main class="centered">
            <h1>"Page not found"</h1>
            <p><a href="/settings/developers">"Go to Settings > Developers"</a></p>
        </main>
    }
}

/// Where the sign-in form is, and where signing in lands.
pub const SIGN_IN_PATH: &str = "/login";
pub const DEVELOPERS_PATH: &str = "/settings/developers";

/// A failed sign-in, shown once on the sign-in page the form's POST redirects back to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignInFailure {
    pub email: String,
    pub message: String,
}

impl SignInFailure {
    /// Longer than any email an account can have (RFC 5321 allows 254).
    const MAX_EMAIL_CHARS: usize = 320;

    pub fn new(email: &str, message: &str) -> Self {
        Self {
            email: email.chars().take(Self::MAX_EMAIL_CHARS).collect(),
            message: message.to_owned(),
        }
    }
}

/// The sign-in page: a plain HTML form posted to the `sign_in` server function. The
/// server serves this page without the wasm (see `shell`): it is ready as soon as it
/// is shown, and a first visit downloads none of the dashboard's code.
#[component]
pub fn LoginPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let failure = crate::ssr::take_sign_in_failure();
    #[cfg(not(feature = "ssr"))]
    let failure: Option<SignInFailure> = None;
    let (email, message) = failure
        .map(|failure| (failure.email, failure.message))
        .unwrap_or_default();
    let failed = !message.is_empty();
    view! {
        <Title text="Sign in · Gatehouse" />
        <main class="centered">
            <div class="card sign-in">
                <h1>"Sign in to Gatehouse"</h1>
                <form method="post" action=SignIn::url()>
                    <label for="email">"Email"</label>
                    <input id="email" type="email" name="email" autocomplete="username" required
                        value=email autofocus=!failed />
                    <label for="password">"Password"</label>
                    <input id="password" type="password" name="password" autocomplete="current-password" required
                        autofocus=failed />
                    <p class="error" role="alert">{message}</p>
                    <button type="submit">"Sign in"</button>
                </form>
            </div>
        </main>
    }
}

/// Where a spent sign-in link lands (see the server's `sign_in_links`).
pub const SPENT_LINK_PATH: &str = "/sign-in/expired";

/// A sign-in link that was used, expired or never existed: said plainly, with the way
/// back to the SaaS's settings page (`GATEHOUSE_RETURN_URL`), where a fresh link is one
/// click away. Plain HTML, like the sign-in page.
#[component]
pub fn SpentLinkPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let return_url = crate::ssr::context()
        .ok()
        .and_then(|context| context.return_url);
    #[cfg(not(feature = "ssr"))]
    let return_url: Option<String> = None;
    let (href, label) = match return_url {
        Some(url) => (url, "Back to settings"),
        None => (SIGN_IN_PATH.to_owned(), "Go to the sign-in page"),
    };
    view! {
        <Title text="Sign-in link expired · Gatehouse" />
        <main class="centered">
            <div class="card spent-link">
                <h1>"This sign-in link has expired"</h1>
                <p>"A sign-in link works once, for a short time. It was already used, or it is too old."</p>
                <p>"Go back and open Developers again to get a fresh one."</p>
                <p><a class="button" href=href target="_top">{label}</a></p>
            </div>
        </main>
    }
}

/// Settings > Developers: gated by session, role and module, then the tabs.
#[component]
pub fn DevelopersPage() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| current_viewer());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => view! { <Workspace viewer /> }.into_any(),
                    Ok(None) => view! { <Redirect path=SIGN_IN_PATH /> }.into_any(),
                    Err(error) => show_error(error, move || viewer.refetch()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Workspace(viewer: Viewer) -> impl IntoView {
    let location = use_location();
    // The tab is the path's segment after /settings/developers (none: the Overview).
    let tab = move || {
        location.pathname.with(|path| {
            path.trim_end_matches('/')
                .strip_prefix("/settings/developers/")
                .filter(|segment| !segment.is_empty())
                .unwrap_or("overview")
                .to_owned()
        })
    };
    let sign_out_action = Action::new(|_: &()| sign_out());
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out_action.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href(SIGN_IN_PATH);
            }
        }
    });
    let body = {
        let viewer = viewer.clone();
        move || {
            if !viewer.can_open_developers {
                view! {
                    <section class="gate no-access">
                        <h1>"You don't have access to Developers"</h1>
                        <p>"Settings > Developers is available to owners and managers. Ask an owner of "
                            {viewer.tenant_name.clone()} " to change your role."</p>
                    </section>
                }
                .into_any()
            } else if !viewer.platform_api_enabled {
                view! {
                    <section class="gate locked">
                        <h1>"Developers is a Pro feature"</h1>
                        <p>"Your plan does not include the platform.api module. Upgrade to Pro to create apps, API keys and webhooks, and to call the Gatehouse API."</p>
                    </section>
                }
                .into_any()
            } else {
                view! { <DevelopersTabs tab=Signal::derive(tab) /> }.into_any()
            }
        }
    };
    // The first stop of the keyboard: past the navigation, to the tab's own controls.
    let skip_to_content = move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(content) = web_sys::window()
                .and_then(|window| window.document())
                .and_then(|document| document.get_element_by_id("tab-content"))
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = content.focus();
            }
        }
    };
    provide_context(crate::embedding::Embedded(viewer.embedded));
    let body = {
        let suspended = viewer.suspended;
        move || {
            view! {
                {suspended.then(|| view! {
                    <p class="banner suspended" role="status">
                        <strong>"This workspace is suspended."</strong>
                        " API keys are refused and nothing can be changed until the suspension is lifted. Nothing is lost: keys, endpoints and waiting webhook deliveries come back as they were."
                    </p>
                })}
                {body()}
            }
        }
    };
    if viewer.embedded {
        // Inside the SaaS's page: its own navigation frames this, so none of ours (no
        // tenant, no sign-out: the SaaS signs people out), and the height goes to it.
        #[cfg(feature = "hydrate")]
        crate::embedding::report_height(viewer.frame_origins.clone());
        return view! {
            <div class="embedded" id=crate::embedding::EMBEDDED_ROOT_ID>
                <main class="content">{body}</main>
            </div>
        }
        .into_any();
    }
    view! {
        <a class="skip-link" href="#tab-content" on:click=skip_to_content>"Skip to the tab's content"</a>
        <div class="layout">
            <nav class="sidebar" aria-label="Settings">
                <p class="brand"></p>
                <p class="tenant">{viewer.tenant_name.clone()}</p>
                <p class="nav-heading">"Settings"</p>
                {viewer.can_open_developers.then(|| view! {
                    <a class="nav-link" href="/settings/developers">
                        "Developers"
                        {(!viewer.platform_api_enabled).then(|| view! { <span class="badge pro">"Pro"</span> })}
                    </a>
                })}
                <div class="signed-in-as">
                    <span>{viewer.email.clone()}</span>
                    <button class="link" on:click=move |_| { sign_out_action.dispatch(()); }>"Sign out"</button>
                </div>
            </nav>
            <main class="content">{body}</main>
        </div>
    }
    .into_any()
}

#[component]
fn DevelopersTabs(tab: Signal<String>) -> impl IntoView {
    // Each tab has its own title, so history, bookmarks and screen readers tell them apart.
    let title = move || {
        let segment = tab.get();
        let label = TABS
            .iter()
            .find(|(known, _)| *known == segment)
            .map_or("Overview", |(_, label)| *label);
        format!("{label} · Developers · Gatehouse")
    };
    // Where the tabs scroll sideways (a phone), the open one is kept in sight.
    Effect::new(move |_| {
        let segment = tab.get();
        #[cfg(not(feature = "hydrate"))]
        let _ = segment;
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let keep_in_sight = move || {
                let document = web_sys::window().and_then(|window| window.document());
                let row = document
                    .as_ref()
                    .and_then(|document| document.query_selector("nav.tabs").ok().flatten());
                let open = document
                    .as_ref()
                    .and_then(|document| {
                        let open = format!("nav.tabs a[href=\"/settings/developers/{}\"]", segment);
                        document.query_selector(&open).ok().flatten()
                    })
                    .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
                if let (Some(row), Some(open)) = (row, open) {
                    let (left, width) = (open.offset_left(), open.offset_width());
                    let (shown_from, shown_width) = (row.scroll_left(), row.client_width());
                    if left < shown_from || left + width > shown_from + shown_width {
                        row.set_scroll_left(left - 16);
                    }
                }
            };
            // The opened tab's code loads after this runs and the row may be laid out
            // again meanwhile: looked at a few times over the next half second.
            wasm_bindgen_futures::spawn_local(async move {
                for _ in 0..10 {
                    keep_in_sight();
                    gloo_timers::future::TimeoutFuture::new(50).await;
                }
            });
        }
    });
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>"Developers"</h1>
            <p class="muted">"Technical integration workspace for apps, API keys, webhooks, audit-backed logs and API health."</p>
        </header>
        <nav class="tabs" aria-label="Developers" data-scrolls="sideways">
            {TABS.iter().map(|(segment, label)| {
                let href = format!("/settings/developers/{segment}");
                let current = move || (tab.get() == *segment).then_some("page");
                view! { <a href=href aria-current=current class="tab">{*label}</a> }
            }).collect_view()}
        </nav>
        <section class="tab-body" id="tab-content" tabindex="-1">
            <Outlet />
        </section>
    }
}
