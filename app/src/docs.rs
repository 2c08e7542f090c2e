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
    (
        "authentication",
        "Authentication and scopes",
        "API keys, how to send them, scopes, access tokens, verification and error codes.",
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
                "authentication" => view! { <AuthenticationDoc /> }.into_any(),
                _ => view! { <h1>"Page not found"</h1> }.into_any(),
            }}
        </main>
    }
}

/// The "Authentication and scopes" page: what a client of `/v1` needs to know.
#[component]
fn AuthenticationDoc() -> impl IntoView {
    view! {
        <h1>"Authentication and scopes"</h1>
        <p>"Every call to the /v1 API carries an API key. Keys are created in Settings > Developers > API keys (or with POST /v1/api-keys) and belong to one app. The full key is shown once, when it is created or rotated; Gatehouse keeps only a digest of it."</p>
        <h2>"Key format"</h2>
        <p>"A key starts with its type and mode: sk_live_ and sk_test_ are secret keys with full access, rk_live_ and rk_test_ are restricted keys with explicit scopes. Then come 32 random characters and a 6-character checksum, so a mistyped key is refused at once. Test keys see and create test data only."</p>
        <h2>"Sending the key"</h2>
        <p>"Any of these headers works:"</p>
        <pre><code>"Authorization: Bearer sk_live_…\nx-api-key: sk_live_…\nAuthorization: x-api-key sk_live_…"</code></pre>
        <h2>"Scopes"</h2>
        <p>"Restricted keys hold scopes shaped area:read or area:write; write also grants read. Each route needs one scope: GET /v1/apps needs apps:read, POST /v1/apps apps:write, GET /v1/api-keys api_keys:read, and creating, editing, disabling, enabling, revoking, rotating or duplicating a key api_keys:write. A key can only create or manage keys whose access it holds itself and that expire no later than it does. A key sees only its own app (GET /v1/apps lists that one app) and only keys of its own mode; only a live key may change its app, and keys cannot create apps. GET /v1/whoami answers the calling key's id, app, mode, scopes and when the credential ends."</p>
        <h2>"Access tokens"</h2>
        <p>"POST /v1/auth/token with a key's secret returns an access_token (at_live_… or at_test_…) with the key's scopes that works for 15 minutes at most; send it as Authorization: Bearer. Only a secret can be exchanged (a token cannot renew itself), a key holds at most 20 live tokens, and a token never manages its own key. It stops at once when its key is disabled, revoked or expires, and when the secret it came from is rotated out."</p>
        <h2>"Verifying a customer's key"</h2>
        <p>"Your own services can send a customer's key to POST /v1/keys/verify with {\"key\": \"…\", \"scope\": \"imports:read\"}. The answer's code is VALID, NOT_FOUND, DISABLED, REVOKED, EXPIRED, INSUFFICIENT_SCOPE, USAGE_EXCEEDED, PLATFORM_API_DISABLED (the tenant's plan lacks platform.api) or SUBSCRIPTION_INACTIVE (past due or canceled), and a valid answer names the tenant, app, mode, scopes and the live calls left in this calendar month (UTC)."</p>
        <h2>"Calling from a browser"</h2>
        <p>"Browsers may call the API only from the key's app's allowed origins (see Apps). Other origins get 403 origin_not_allowed."</p>
        <h2>"Errors"</h2>
        <p>"Errors are JSON: {\"error\": {\"code\", \"message\", \"details\"}}. Match on the code; it never changes."</p>
        <table class="doc-table">
            <thead><tr><th>"Status"</th><th>"Code"</th><th>"Meaning"</th></tr></thead>
            <tbody>
                {gatehouse_model::ErrorCode::ALL.iter().map(|code| view! {
                    <tr><td>{code.http_status()}</td><td><code>{code.as_str()}</code></td><td>{code.meaning()}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
