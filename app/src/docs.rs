//! The docs the app serves itself under `/docs` (SPEC O-2): the Docs tab links here.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// (slug, title, summary) of each page that exists.
pub const DOC_PAGES: &[(&str, &str, &str)] = &[
    (
        "signing-in",
        "Signing in",
        "How owners and managers sign in to the dashboard, and who sees Developers.",
    ),
    (
        "apps",
        "Apps",
        "What an app is, allowed browser origins, and the selected app.",
    ),
];

#[component]
pub fn DocsTab() -> impl IntoView {
    view! {
        <h2>"Docs"</h2>
        <p class="muted">"Hand customers off to the reference pages served by this Gatehouse."</p>
        <DocsList />
    }
}

#[component]
fn DocsList() -> impl IntoView {
    view! {
        <ul class="doc-links">
            {DOC_PAGES.iter().map(|(slug, title, summary)| view! {
                <li><a href=format!("/docs/{slug}")>{*title}</a> " — " {*summary}</li>
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn DocsIndex() -> impl IntoView {
    view! {
        <main class="docs">
            <h1>"Gatehouse documentation"</h1>
            <DocsList />
        </main>
    }
}

#[component]
pub fn DocsPage() -> impl IntoView {
    let params = use_params_map();
    let page = move || params.read().get("page").unwrap_or_default();
    view! {
        <main class="docs">
            <p><a href="/docs">"← All docs"</a></p>
            {move || match page().as_str() {
                "signing-in" => view! {
                    <h1>"Signing in"</h1>
                    <p>"Open the dashboard and sign in with your email and password. Wrong emails and wrong passwords get the same answer; after five failed attempts in fifteen minutes the account is locked for fifteen minutes."</p>
                    <p>"Your session is kept in an HttpOnly cookie for twelve hours. Signing out ends it on the server at once."</p>
                    <h2>"Who sees Developers"</h2>
                    <p>"Settings > Developers is visible to owners and managers. Members who open it get a no-access page. Tenants without the platform.api module see a Pro badge in the navigation and a locked page."</p>
                }.into_any(),
                "apps" => view! {
                    <h1>"Apps"</h1>
                    <p>"An app is one integration: its name is shown to operators, its description says what it is for, and its allowed browser origins say which web pages may call the API with its keys."</p>
                    <h2>"Allowed origins"</h2>
                    <p>"List each origin on its own line, exactly as a browser sends it: scheme://host[:port], for example https://app.example.com or http://localhost:5173. Paths, queries and trailing slashes are refused."</p>
                    <h2>"Selected app"</h2>
                    <p>"The app you select is remembered for you and drives the API keys, Webhooks and Usage tabs. Each app is linked to your tenant's shadow test tenant, where test-mode data lives."</p>
                }.into_any(),
                _ => view! { <h1>"Page not found"</h1> }.into_any(),
            }}
        </main>
    }
}
