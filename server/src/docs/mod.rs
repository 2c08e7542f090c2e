//! The docs Gatehouse serves itself. Each page is written once, in Markdown
//! (`pages/<slug>.md`), and served as HTML at `/docs/<slug>` and as Markdown at
//! `/docs/<slug>.md`; `/docs` lists the pages and `/llms.txt` indexes them for agents.
//! Tables that come from data are generated into the Markdown where a page says so on a
//! line of its own: `{{scopes}}` (the loaded scope catalog), `{{routes}}` (each `/v1`
//! operation and its scope, from the OpenAPI document), `{{errors}}` (`ErrorCode`) and
//! `{{verify_codes}}` (`VerifyCode`), `{{tools}}` (the MCP tools); and values in place
//! of their marker anywhere: `{{base_url}}` and the MCP session bounds.
//! Everything is rendered once, at start, on the server: none of it is in the wasm.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatehouse_app::docs::{DOC_PAGES, DocPage};
use gatehouse_model::{ErrorCode, ScopeCatalog, VerifyCode};

use crate::mcp::tools::ToolCatalog;
use crate::state::AppState;

/// The Markdown source of each page, by slug.
fn source(slug: &str) -> Option<&'static str> {
    Some(match slug {
        "overview" => include_str!("pages/overview.md"),
        "signing-in" => include_str!("pages/signing-in.md"),
        "apps" => include_str!("pages/apps.md"),
        "authentication" => include_str!("pages/authentication.md"),
        "webhooks" => include_str!("pages/webhooks.md"),
        "rate-limits" => include_str!("pages/rate-limits.md"),
        "request-logs" => include_str!("pages/request-logs.md"),
        "errors" => include_str!("pages/errors.md"),
        "agents" => include_str!("pages/agents.md"),
        "embedding" => include_str!("pages/embedding.md"),
        "mcp" => include_str!("pages/mcp.md"),
        _ => return None,
    })
}

const SUMMARY: &str = "Gatehouse is a self-hosted developer workspace and API platform layer: \
    apps, API keys with scopes, short-lived access tokens, key verification, usage quotas \
    and signed webhooks, behind one JSON API under `/v1`.";

/// Every page, rendered once (the MCP server serves the same Markdown as resources).
pub fn render(
    state: &AppState,
    document: &utoipa::openapi::OpenApi,
    tools: &ToolCatalog,
) -> Arc<Site> {
    let stylesheet = crate::site::stylesheet_href(&state.leptos_options);
    let sources = Sources {
        catalog: state.gatehouse.scope_catalog(),
        document,
        tools,
        values: vec![
            (
                "{{base_url}}",
                state.dashboard_url.trim_end_matches('/').to_owned(),
            ),
            (
                "{{mcp_sessions_per_key}}",
                state.mcp_sessions.per_key.to_string(),
            ),
            (
                "{{mcp_session_idle_minutes}}",
                (state.mcp_sessions.idle.as_secs() / 60).to_string(),
            ),
        ],
    };
    Arc::new(Site::render(&sources, &stylesheet))
}

/// What the pages' generated parts are made from.
struct Sources<'a> {
    catalog: &'a ScopeCatalog,
    document: &'a utoipa::openapi::OpenApi,
    tools: &'a ToolCatalog,
    /// Written in place of each marker wherever it occurs in a line.
    values: Vec<(&'static str, String)>,
}

/// `/docs`, `/docs/<slug>`, `/docs/<slug>.md` and `/llms.txt`.
pub fn router(site: Arc<Site>) -> Router<AppState> {
    Router::new()
        .route("/docs", get(index))
        .route("/docs/{page}", get(page))
        .route("/llms.txt", get(llms_txt))
        .with_state(site)
}

/// Every page in both forms, the index and `llms.txt`.
pub struct Site {
    index_html: Bytes,
    not_found_html: Bytes,
    llms_txt: Bytes,
    /// By slug: (HTML, Markdown).
    pages: HashMap<&'static str, (Bytes, Bytes)>,
}

impl Site {
    /// A page's Markdown, as `/docs/<slug>.md` serves it.
    pub fn markdown(&self, slug: &str) -> Option<&str> {
        let (_, markdown) = self.pages.get(slug)?;
        std::str::from_utf8(markdown).ok()
    }

    /// Every page, linking the dashboard's stylesheet at `stylesheet`.
    fn render(sources: &Sources<'_>, stylesheet: &str) -> Self {
        let pages = DOC_PAGES
            .iter()
            .map(|page| {
                let markdown = page_markdown(page, sources);
                let html = html_document(page.title, Some(page.slug), &markdown, stylesheet);
                (
                    page.slug,
                    (Bytes::from(html), Bytes::from(for_agents(&markdown))),
                )
            })
            .collect();
        Self {
            index_html: Bytes::from(html_document(
                "Gatehouse documentation",
                None,
                &index_markdown(),
                stylesheet,
            )),
            not_found_html: Bytes::from(html_document(
                "Page not found",
                None,
                "No docs page has this address. [All docs](/docs)",
                stylesheet,
            )),
            llms_txt: Bytes::from(llms_txt_text()),
            pages,
        }
    }
}

async fn index(State(site): State<Arc<Site>>) -> Response {
    html(site.index_html.clone())
}

/// `/docs/<slug>` (HTML) or `/docs/<slug>.md` (Markdown).
async fn page(State(site): State<Arc<Site>>, Path(page): Path<String>) -> Response {
    let (slug, markdown) = match page.strip_suffix(".md") {
        Some(slug) => (slug, true),
        None => (page.as_str(), false),
    };
    match (site.pages.get(slug), markdown) {
        (Some((_, text)), true) => markdown_response(text.clone()),
        (Some((page, _)), false) => html(page.clone()),
        (None, _) => (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            site.not_found_html.clone(),
        )
            .into_response(),
    }
}

async fn llms_txt(State(site): State<Arc<Site>>) -> Response {
    markdown_response(site.llms_txt.clone())
}

fn html(body: Bytes) -> Response {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn markdown_response(body: Bytes) -> Response {
    ([(CONTENT_TYPE, "text/markdown; charset=utf-8")], body).into_response()
}

/// A page's Markdown: its title, then its source with the generated tables in place.
fn page_markdown(page: &DocPage, sources: &Sources<'_>) -> String {
    let source = source(page.slug)
        .unwrap_or_else(|| panic!("docs page `{}` has no pages/{0}.md", page.slug));
    let body: Vec<String> = source
        .lines()
        .map(|line| match line {
            "{{scopes}}" => scope_table(sources.catalog),
            "{{routes}}" => route_table(sources.document),
            "{{tools}}" => tool_list(sources.tools),
            "{{errors}}" => error_table(),
            "{{verify_codes}}" => verify_codes(),
            other => sources
                .values
                .iter()
                .fold(other.to_owned(), |line, (marker, value)| {
                    line.replace(marker, value)
                }),
        })
        .collect();
    format!("# {}\n\n{}\n", page.title, body.join("\n"))
}

/// The Markdown form links to the other pages' Markdown forms.
fn for_agents(markdown: &str) -> String {
    DOC_PAGES.iter().fold(markdown.to_owned(), |text, page| {
        let html_link = format!("](/docs/{}", page.slug);
        let markdown_link = format!("](/docs/{}.md", page.slug);
        text.replace(&format!("{html_link})"), &format!("{markdown_link})"))
            .replace(&format!("{html_link}#"), &format!("{markdown_link}#"))
    })
}

/// The pages as a Markdown list of links; `suffix` is `""` for HTML, `".md"` for Markdown.
fn page_list(suffix: &str) -> String {
    DOC_PAGES
        .iter()
        .map(|page| {
            format!(
                "- [{}](/docs/{}{suffix}): {}\n",
                page.title, page.slug, page.summary
            )
        })
        .collect()
}

fn index_markdown() -> String {
    format!(
        "{SUMMARY}\n\n{}\n\
         The API itself: the [OpenAPI 3.1 document](/openapi.json). For AI agents: \
         [/llms.txt](/llms.txt) indexes these pages, each also served as Markdown (add `.md`).\n",
        page_list("")
    )
}

/// `/llms.txt` (llmstxt.org): the title, a summary, and sections of links.
fn llms_txt_text() -> String {
    format!(
        "# Gatehouse\n\n> {SUMMARY}\n\n\
         Authenticate with an API key as `Authorization: Bearer <key>`; an agent should use a \
         restricted key, learn its scopes with `GET /v1/whoami`, and back off for `Retry-After` \
         seconds on 429. An agent that speaks the Model Context Protocol connects to `/mcp` \
         with the same key and gets the API as tools: [Connect an agent](/docs/mcp.md). Each \
         page below is Markdown; drop `.md` for HTML.\n\n\
         ## Docs\n\n{}\n\
         ## API\n\n\
         - [OpenAPI 3.1 document](/openapi.json): every `/v1` route with its parameters, bodies, \
         answers, required scope (`x-required-scope`) and error codes (`x-error-codes`), and the \
         scope catalog (`x-scope-catalog`)\n",
        page_list(".md")
    )
}

/// The scope catalog as a Markdown table: each area with its scopes, and the defaults.
pub fn scope_table(catalog: &ScopeCatalog) -> String {
    let rows: String = catalog
        .areas
        .iter()
        .map(|area| {
            let scopes: Vec<String> = area.scopes().map(|scope| format!("`{scope}`")).collect();
            format!("| {} | {} |\n", area.label, scopes.join(", "))
        })
        .collect();
    let defaults: Vec<String> = catalog
        .default_scopes
        .iter()
        .map(|scope| format!("`{scope}`"))
        .collect();
    format!(
        "| Area | Scopes |\n|---|---|\n{rows}\nDefault pre-selection for new keys: {}.",
        defaults.join(", ")
    )
}

/// Every operation of the document with the scope it needs, as a client reads it.
fn route_table(document: &utoipa::openapi::OpenApi) -> String {
    let document = serde_json::to_value(document).expect("the OpenAPI document serializes");
    let mut rows = String::from("| Route | Scope | What it does |\n|---|---|---|\n");
    let paths = document["paths"].as_object().into_iter().flatten();
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let scope = match (&operation["x-required-scope"], &operation["security"]) {
                (serde_json::Value::String(scope), _) => format!("`{scope}`"),
                (_, serde_json::Value::Array(schemes)) if !schemes.is_empty() => {
                    "any key".to_owned()
                }
                _ => "none".to_owned(),
            };
            let summary = operation["summary"].as_str().unwrap_or_default();
            rows.push_str(&format!(
                "| `{} {path}` | {scope} | {summary} |\n",
                method.to_ascii_uppercase()
            ));
        }
    }
    rows
}

/// The verdicts of `POST /v1/keys/verify`, each as it is sent.
/// The MCP tools as a Markdown list (a table's four columns do not fit a phone): each
/// tool, its kind, the scope it needs and what it does.
fn tool_list(tools: &ToolCatalog) -> String {
    tools
        .allowed(|_| true)
        .map(|spec| {
            let annotations = spec.tool.annotations.clone().unwrap_or_default();
            let kind = if annotations.read_only_hint == Some(true) {
                "reads"
            } else if annotations.destructive_hint == Some(true) {
                "destructive"
            } else {
                "changes"
            };
            let scope = spec
                .scope
                .as_deref()
                .map_or_else(|| "any key".to_owned(), |scope| format!("`{scope}`"));
            format!(
                "- `{}` ({kind}, {scope}): {}\n",
                spec.name(),
                annotations.title.unwrap_or_default(),
            )
        })
        .collect()
}

fn verify_codes() -> String {
    let codes: Vec<String> = VerifyCode::ALL
        .iter()
        .map(|code| format!("`{}`", code.as_str()))
        .collect();
    codes.join(", ") + "."
}

/// Every error code with its status and meaning (the one table of `ErrorCode`).
fn error_table() -> String {
    let rows: String = ErrorCode::ALL
        .iter()
        .map(|code| {
            format!(
                "| {} | `{}` | {} |\n",
                code.http_status(),
                code.as_str(),
                code.meaning().replace('|', "\\|")
            )
        })
        .collect();
    format!("| Status | Code | Meaning |\n|---|---|---|\n{rows}")
}

/// A whole HTML page around rendered Markdown, in the dashboard's style: a header with
/// the way back to the dashboard and to the docs' index, then the text at a readable
/// measure, with a link to its Markdown form.
fn html_document(title: &str, slug: Option<&str>, markdown: &str, stylesheet: &str) -> String {
    let mut body = String::new();
    let options = pulldown_cmark::Options::ENABLE_TABLES;
    // A line break inside a paragraph is a space, so that each paragraph is one line.
    let events = pulldown_cmark::Parser::new_ext(markdown, options).map(|event| match event {
        pulldown_cmark::Event::SoftBreak => pulldown_cmark::Event::Text(" ".into()),
        other => other,
    });
    pulldown_cmark::html::push_html(&mut body, events);
    let navigation = match slug {
        Some(slug) => format!(
            "<p class=\"docs-nav\"><a href=\"/docs\">← All docs</a> · \
             <a href=\"/docs/{slug}.md\">Markdown</a> · <a href=\"/openapi.json\">OpenAPI</a></p>"
        ),
        None => String::new(),
    };
    let heading = match slug {
        Some(_) => String::new(),
        None => format!("<h1>{}</h1>\n", escape(title)),
    };
    let alternate = slug
        .map(|slug| {
            format!("<link rel=\"alternate\" type=\"text/markdown\" href=\"/docs/{slug}.md\">")
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Gatehouse docs</title>\n\
         <link rel=\"stylesheet\" href=\"{stylesheet}\">\n{alternate}\n</head>\n\
         <body class=\"docs-page\">\n<header class=\"docs-header\"><a class=\"brand\" href=\"/docs\">Gatehouse docs</a>\
         <a href=\"/settings/developers\">Back to the dashboard</a></header>\n\
         <main class=\"docs\">\n{navigation}\n{heading}{body}</main>\n</body>\n</html>\n",
        title = escape(title),
        stylesheet = escape(stylesheet)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
