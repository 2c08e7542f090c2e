//! The served docs against the real binary: a crawler bounded to the site
//! starts from `/docs`, `/llms.txt` and every page in both forms, follows every link,
//! and finds no 404; each page's HTML and Markdown come from one source, with the tables
//! generated from the scope catalog the server loaded and from `ErrorCode`.

use std::collections::{BTreeSet, VecDeque};

use crate::common::*;
use gatehouse_app::docs::DOC_PAGES;
use gatehouse_model::ErrorCode;

/// The same-site links of a page: `href="…"` of anchors in HTML, `](…)` in Markdown.
fn links(body: &str, base: &str) -> Vec<String> {
    let anchors = body
        .split("<a href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next());
    let markdown = body
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next());
    anchors
        .chain(markdown)
        .map(|link| link.strip_prefix(base).unwrap_or(link))
        .filter(|link| link.starts_with('/') && !link.starts_with("//"))
        .map(|link| link.split('#').next().unwrap_or_default().to_owned())
        .collect()
}

fn assert_contains(page: &str, expected: &[&str]) {
    for text in expected {
        assert!(page.contains(text), "{text} missing");
    }
}

async fn text(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn every_link_of_the_docs_and_llms_txt_answers() {
    let server = start().await;
    let mut queue: VecDeque<String> = ["/docs".to_owned(), "/llms.txt".to_owned()].into();
    for page in DOC_PAGES {
        queue.push_back(format!("/docs/{}", page.slug));
        queue.push_back(format!("/docs/{}.md", page.slug));
    }
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut fetched = 0;
    while let Some(path) = queue.pop_front() {
        fetched += 1;
        assert!(fetched < 200, "the crawl does not end: {seen:?}");
        let (status, content_type, body) = text(&format!("{}{path}", server.base)).await;
        assert_eq!(status, 200, "{path} answers {status}");
        let readable = content_type.starts_with("text/") || content_type.contains("json");
        assert!(readable, "{path}: {content_type}");
        if !(content_type.starts_with("text/html") || content_type.starts_with("text/markdown")) {
            continue;
        }
        for link in links(&body, &server.base) {
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    for expected in ["/openapi.json", "/llms.txt"] {
        assert!(seen.contains(expected), "no page links {expected}");
    }
    // The index reaches every page, and llms.txt every page's Markdown.
    let (_, _, index) = text(&format!("{}/docs", server.base)).await;
    let (_, content_type, llms) = text(&format!("{}/llms.txt", server.base)).await;
    assert!(content_type.starts_with("text/markdown"), "{content_type}");
    for page in DOC_PAGES {
        assert!(
            index.contains(&format!("href=\"/docs/{}\"", page.slug)),
            "{}",
            page.slug
        );
        assert!(
            llms.contains(&format!("](/docs/{}.md)", page.slug)),
            "{}",
            page.slug
        );
    }
    let (status, _, _) = text(&format!("{}/docs/no-such-page", server.base)).await;
    assert_eq!(status, 404, "the crawler would not notice a missing page");
}

#[tokio::test]
async fn llms_txt_has_a_title_a_summary_and_sections_of_links() {
    let server = start().await;
    let (_, _, llms) = text(&format!("{}/llms.txt", server.base)).await;
    let mut lines = llms.lines();
    assert_eq!(lines.next(), Some("# Gatehouse"));
    assert_eq!(lines.next(), Some(""));
    assert!(lines.next().unwrap().starts_with("> "), "{llms}");
    for section in ["## Docs", "## API"] {
        assert!(
            llms.lines().any(|line| line == section),
            "{section} in {llms}"
        );
    }
    assert!(llms.contains("- [OpenAPI 3.1 document](/openapi.json): "));
}

#[tokio::test]
async fn each_page_has_one_source_in_two_forms_with_generated_tables() {
    let server = start().await;
    for page in DOC_PAGES {
        let (_, html_type, html) = text(&format!("{}/docs/{}", server.base, page.slug)).await;
        let (_, markdown_type, markdown) =
            text(&format!("{}/docs/{}.md", server.base, page.slug)).await;
        assert!(html_type.starts_with("text/html"));
        assert!(markdown_type.starts_with("text/markdown"));
        assert_eq!(
            markdown.lines().next(),
            Some(format!("# {}", page.title).as_str())
        );
        assert!(
            html.contains(&format!("<h1>{}</h1>", page.title)),
            "{}",
            page.slug
        );
        assert!(
            !markdown.contains("{{") && !html.contains("{{"),
            "{}",
            page.slug
        );
        // The Markdown form links the other pages' Markdown forms.
        assert!(!markdown.contains(&format!("](/docs/{})", page.slug)));
    }
    let (_, _, errors) = text(&format!("{}/docs/errors.md", server.base)).await;
    for code in ErrorCode::ALL {
        let row = format!("| {} | `{}` | ", code.http_status(), code.as_str());
        assert!(errors.contains(&row), "{row}");
    }
    let (_, _, authentication) = text(&format!("{}/docs/authentication", server.base)).await;
    assert!(
        authentication
            .contains("<td><code>GET /v1/apps</code></td><td><code>apps:read</code></td>")
    );
    assert!(
        !authentication.contains("api_key_malformed</code></td>"),
        "the error table is on /docs/errors only"
    );
    let (_, _, rate_limits) = text(&format!("{}/docs/rate-limits.md", server.base)).await;
    assert_contains(
        &rate_limits,
        &[
            "usage_exceeded",
            "rate_limited",
            "limit_reached",
            "Retry-After",
            "RateLimit-Policy: \"monthly\";q=<limit>;w=<window seconds>",
            "RateLimit: \"key\";r=<remaining>;t=<seconds>",
            "USAGE_EXCEEDED",
        ],
    );
    let (_, _, agents) = text(&format!("{}/docs/agents.md", server.base)).await;
    assert_contains(
        &agents,
        &[
            "GET /v1/whoami",
            "POST /v1/auth/token",
            "cursor",
            "Retry-After",
        ],
    );
}

#[tokio::test]
async fn an_operators_scope_catalog_shows_in_the_docs_and_the_document() {
    let mut catalog = gatehouse_domain::catalog::built_in();
    catalog.areas.push(gatehouse_model::ScopeArea {
        id: "shipments".to_owned(),
        label: "Shipments".to_owned(),
        access: vec!["read".to_owned(), "write".to_owned()],
    });
    let file = std::env::temp_dir().join(format!("gatehouse-catalog-{}.json", free_port()));
    std::fs::write(&file, serde_json::to_vec(&catalog).unwrap()).unwrap();
    let server = start_with_env(&[("GATEHOUSE_SCOPE_CATALOG", file.to_str().unwrap())]).await;
    let (_, _, page) = text(&format!("{}/docs/authentication.md", server.base)).await;
    assert!(
        page.contains("| Shipments | `shipments:read`, `shipments:write` |"),
        "{page}"
    );
    let document: serde_json::Value = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["x-scopes"]["shipments:write"], "Shipments: write");
    let _ = std::fs::remove_file(&file);
}
