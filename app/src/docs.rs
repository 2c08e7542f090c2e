//! The Docs tab and the index of the docs pages. The pages themselves are
//! served by the server from Markdown (`server/src/docs/`), so their text never reaches
//! the wasm bundle.

use leptos::prelude::*;

/// One docs page: its slug (`/docs/<slug>`, and `/docs/<slug>.md` for agents), title and
/// one-line summary.
pub struct DocPage {
    pub slug: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
}

/// Every docs page, in reading order: the Docs tab, `/docs` and `/llms.txt` list these.
pub const DOC_PAGES: &[DocPage] = &[
    DocPage {
        slug: "overview",
        title: "Platform overview",
        summary: "What Gatehouse is, the pieces (apps, keys, webhooks, usage, audit) and the launch checklist.",
    },
    DocPage {
        slug: "signing-in",
        title: "Signing in",
        summary: "How owners and managers sign in to the dashboard, and who sees Developers.",
    },
    DocPage {
        slug: "apps",
        title: "Apps",
        summary: "What an app is, allowed browser origins, and the selected app.",
    },
    DocPage {
        slug: "authentication",
        title: "Authentication and scopes",
        summary: "API keys, how to send them, the scopes and which route needs which, access tokens and verification.",
    },
    DocPage {
        slug: "webhooks",
        title: "Webhooks",
        summary: "Endpoints, events, signatures, retries, the delivery log, and receiver code for Node, Python and Rust.",
    },
    DocPage {
        slug: "rate-limits",
        title: "Rate limits and quotas",
        summary: "The monthly platform-call limit, per-key rates, the 429 answers and the RateLimit headers.",
    },
    DocPage {
        slug: "request-logs",
        title: "Request logs",
        summary: "What is recorded of every call and verification, how to read it in the dashboard and with GET /v1/request-logs, and how long it is kept.",
    },
    DocPage {
        slug: "errors",
        title: "Errors",
        summary: "The error body and every error code with its HTTP status and meaning.",
    },
    DocPage {
        slug: "embedding",
        title: "Run Gatehouse beside your SaaS",
        summary: "The operator API: tenants for your accounts, people, one-time sign-in links, events; the workspace framed in your settings page.",
    },
    DocPage {
        slug: "agents",
        title: "Agent workflows",
        summary: "How an AI agent gets a restricted key, learns its scopes, exchanges it for a token, pages through lists and backs off.",
    },
    DocPage {
        slug: "mcp",
        title: "Connect an agent",
        summary: "The MCP server at /mcp: set-up for Claude Code, Cursor and VS Code, the tools a key's scopes allow, sessions and limits.",
    },
];

#[component]
pub fn DocsTab() -> impl IntoView {
    view! {
        <h2>"Docs"</h2>
        <p class="muted">"Hand customers off to the reference pages served by this Gatehouse."</p>
        // `rel="external"`: the pages are served by the server, not by the app's router.
        <ul class="doc-links">
            {DOC_PAGES.iter().map(|page| view! {
                <li>
                    <a href=format!("/docs/{}", page.slug) rel="external" target=crate::embedding::leaving_target()>{page.title}</a>
                    " — " {page.summary}
                </li>
            }).collect_view()}
        </ul>
        <p class="muted">
            "For client generators: " <a href="/openapi.json" rel="external" target=crate::embedding::leaving_target()>"the OpenAPI 3.1 document"</a>
            ". For AI agents: " <a href="/llms.txt" rel="external" target=crate::embedding::leaving_target()>"/llms.txt"</a> "."
        </p>
    }
}
