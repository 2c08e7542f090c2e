//! `/mcp` against the real binary, spoken as JSON-RPC over the Streamable HTTP
//! transport: the key is admitted as at `/v1`, the tools are those of its scopes and
//! run with its reach, every message is logged under the key (`mcp:<tool>`), and the
//! sessions answer only to their key and are bounded. (`end2end/tests/mcp.spec.ts`
//! drives it with the official TypeScript SDK's client.)

use crate::common::*;
use serde_json::{Value, json};

const PROTOCOL: &str = "2025-11-25";

/// One answer of `/mcp`: the status, the headers, and the JSON-RPC message in the body
/// (from the event stream or a JSON body; null when none).
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    message: Value,
}

impl Answer {
    fn session(&self) -> String {
        self.headers["mcp-session-id"].to_str().unwrap().to_owned()
    }

    fn result(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.message);
        &self.message["result"]
    }
}

/// POSTs `message` to `/mcp` with `key` (none: no credential) in `session`.
async fn post(
    base: &str,
    key: Option<&str>,
    session: Option<&str>,
    extra: &[(&str, &str)],
    message: Value,
) -> Answer {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL)
        .json(&message);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let message = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .chain(std::iter::once(text.as_str()))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .find(|value| value.is_object())
        .unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        message,
    }
}

/// Opens a session for `key` (initialize, then initialized); answers its id.
async fn open_session(base: &str, key: &str) -> String {
    let opened = post(
        base,
        Some(key),
        None,
        &[],
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "gatehouse-test", "version": "1"}}}),
    )
    .await;
    assert_eq!(opened.status, 200, "{}", opened.message);
    assert_eq!(opened.message["result"]["serverInfo"]["name"], "gatehouse");
    let session = opened.session();
    let initialized = post(
        base,
        Some(key),
        Some(&session),
        &[],
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(initialized.status, 202);
    session
}

/// The demo owner's new app and a restricted test key of it with `scopes`: the owner's
/// client, the app's id, the key's id and its secret.
async fn agent(server: &Server, scopes: &[&str]) -> (reqwest::Client, String, String, String) {
    let (owner, app_id) = owner_with_app(server, &[]).await;
    let (key_id, key) = dashboard_key(&owner, &server.base, &app_id, "test", Some(scopes)).await;
    (owner, app_id, key_id, key)
}

async fn call_tool(base: &str, key: &str, session: &str, name: &str, arguments: Value) -> Value {
    post(
        base,
        Some(key),
        Some(session),
        &[],
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}}),
    )
    .await
    .result()
    .clone()
}

async fn tool_names(base: &str, key: &str, session: &str) -> Vec<String> {
    let listed = post(
        base,
        Some(key),
        Some(session),
        &[],
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let mut names: Vec<String> = listed.result()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_call_without_a_good_key_gets_401_with_the_bearer_challenge() {
    let server = start().await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let missing = post(&server.base, None, None, &[], initialize.clone()).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.message["error"]["code"], "api_key_missing");
    assert_eq!(
        missing.headers["www-authenticate"],
        r#"Bearer realm="gatehouse""#
    );
    let unknown = post(
        &server.base,
        Some("sk_test_NotAKeyOfThisServer0000000000000000000"),
        None,
        &[],
        initialize,
    )
    .await;
    assert_eq!(unknown.status, 401);
    assert!(
        unknown.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
}

#[tokio::test]
async fn a_restricted_key_sees_and_runs_only_the_tools_of_its_scopes_and_each_call_is_logged() {
    let server = start().await;
    let (owner, app_id, key_id, key) = agent(&server, &["api_keys:read"]).await;
    let (_, reader) = dashboard_key(&owner, &server.base, &app_id, "test", None).await;
    let session = open_session(&server.base, &key).await;

    assert_eq!(
        tool_names(&server.base, &key, &session).await,
        ["get_key", "list_keys", "whoami"],
        "read tools of api_keys, and whoami; no write tool, no token exchange"
    );
    let secret_sees = tool_names(
        &server.base,
        &reader,
        &open_session(&server.base, &reader).await,
    )
    .await;
    for tool in [
        "create_key",
        "revoke_key",
        "send_event",
        "list_request_logs",
        "usage",
    ] {
        assert!(
            secret_sees.contains(&tool.to_owned()),
            "{tool} in {secret_sees:?}"
        );
    }
    assert!(!secret_sees.contains(&"issue_token".to_owned()));

    let me = call_tool(&server.base, &key, &session, "whoami", json!({})).await;
    assert_eq!(me["isError"], false);
    assert_eq!(me["structuredContent"]["key_id"], key_id.as_str());
    let text: Value = serde_json::from_str(me["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, me["structuredContent"], "the same JSON as text");

    let keys = call_tool(
        &server.base,
        &key,
        &session,
        "list_keys",
        json!({"limit": 1}),
    )
    .await;
    assert_eq!(
        keys["structuredContent"]["data"].as_array().unwrap().len(),
        1
    );
    assert_eq!(keys["structuredContent"]["has_more"], true);

    let forbidden = call_tool(
        &server.base,
        &key,
        &session,
        "create_key",
        json!({"name": "More", "mode": "test", "key_type": "secret", "scopes": []}),
    )
    .await;
    assert_eq!(forbidden["isError"], true);
    assert_eq!(
        forbidden["structuredContent"]["error"]["code"],
        "insufficient_scope"
    );
    assert_eq!(
        forbidden["structuredContent"]["error"]["details"]["required_scope"],
        "api_keys:write"
    );
    let (_, listed) = get_json(&server, &format!("/v1/api-keys?app_id={app_id}"), &reader).await;
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        2,
        "no key was made"
    );

    let wrong = call_tool(
        &server.base,
        &key,
        &session,
        "get_key",
        json!({"id": "../apps"}),
    )
    .await;
    assert_eq!(wrong["structuredContent"]["error"]["code"], "bad_request");
    let unknown_argument = call_tool(
        &server.base,
        &key,
        &session,
        "whoami",
        json!({"as": "owner"}),
    )
    .await;
    assert_eq!(unknown_argument["isError"], true);

    // The log has each message under the key, tool calls by their tool.
    let mut routes = Vec::new();
    for _ in 0..50 {
        let (status, page) = get_json(
            &server,
            &format!("/v1/request-logs?key_id={key_id}&limit=100"),
            &reader,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        routes = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                format!(
                    "{} {}",
                    entry["route"].as_str().unwrap(),
                    entry["status"].as_u64().unwrap()
                )
            })
            .collect();
        if routes.len() >= 8 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for expected in [
        "mcp:initialize 200",
        "mcp:tools/list 200",
        "mcp:whoami 200",
        "mcp:list_keys 200",
        "mcp:create_key 403",
        "mcp:get_key 400",
    ] {
        assert!(
            routes.contains(&expected.to_owned()),
            "{expected} in {routes:?}"
        );
    }
}

#[tokio::test]
async fn a_tool_reaches_only_the_keys_own_app_and_mode() {
    let server = start().await;
    let (owner, app_a) = owner_with_app(&server, &[]).await;
    let (status, app_b) = server_fn(
        &owner,
        &server.base,
        "create_app",
        json!({ "input": { "name": "Other", "description": "", "allowed_origins": [] } }),
    )
    .await;
    assert_eq!(status, 200, "{app_b}");
    let app_b = app_b["id"].as_str().unwrap().to_owned();
    let (_, key_a) = dashboard_key(&owner, &server.base, &app_a, "test", None).await;
    let (other_app_key, _) = dashboard_key(&owner, &server.base, &app_b, "test", None).await;
    let (live_key, _) = dashboard_key(&owner, &server.base, &app_a, "live", None).await;
    let session = open_session(&server.base, &key_a).await;
    for id in [&other_app_key, &live_key] {
        let got = call_tool(&server.base, &key_a, &session, "get_key", json!({"id": id})).await;
        assert_eq!(got["isError"], true, "{got}");
        assert_eq!(got["structuredContent"]["error"]["code"], "not_found");
    }
    let listed = call_tool(
        &server.base,
        &key_a,
        &session,
        "list_keys",
        json!({"app_id": app_b}),
    )
    .await;
    assert_eq!(listed["isError"], true, "{listed}");
}

#[tokio::test]
async fn a_session_answers_only_to_its_key_and_a_revoked_key_ends_it() {
    let server = start().await;
    let (owner, app_id, key_id, key) = agent(&server, &["api_keys:read"]).await;
    let (_, other) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "test",
        Some(&["api_keys:read"]),
    )
    .await;
    let session = open_session(&server.base, &key).await;
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    let stolen = post(
        &server.base,
        Some(&other),
        Some(&session),
        &[],
        list.clone(),
    )
    .await;
    assert_eq!(stolen.status, 404, "another key cannot use the session");
    assert_eq!(
        post(&server.base, Some(&key), Some(&session), &[], list.clone())
            .await
            .status,
        200,
        "and the session is still its key's"
    );

    let (status, _) = server_fn(
        &owner,
        &server.base,
        "revoke_api_key",
        json!({ "key_id": key_id }),
    )
    .await;
    assert_eq!(status, 200);
    let refused = post(&server.base, Some(&key), Some(&session), &[], list.clone()).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.message["error"]["code"], "api_key_revoked");
}

#[tokio::test]
async fn a_key_holds_at_most_its_bound_of_sessions() {
    let server = start_with_env(&[("GATEHOUSE_MCP_SESSIONS_PER_KEY", "2")]).await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(&owner, &server.base, &app_id, "test", None).await;
    let first = open_session(&server.base, &key).await;
    open_session(&server.base, &key).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let third = post(&server.base, Some(&key), None, &[], initialize.clone()).await;
    assert_eq!(third.status, 429);
    assert_eq!(third.message["error"]["code"], "limit_reached");

    let ended = reqwest::Client::new()
        .delete(format!("{}/mcp", server.base))
        .bearer_auth(&key)
        .header("mcp-session-id", &first)
        .header("mcp-protocol-version", PROTOCOL)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    let again = post(&server.base, Some(&key), None, &[], initialize).await;
    assert_eq!(again.status, 200, "the ended session gave its place back");
}

#[tokio::test]
async fn an_origin_the_keys_app_does_not_allow_is_refused() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &["https://shop.example"]).await;
    let (_, key) = dashboard_key(&owner, &server.base, &app_id, "test", None).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let rebound = post(
        &server.base,
        Some(&key),
        None,
        &[("origin", "https://evil.example")],
        initialize.clone(),
    )
    .await;
    assert_eq!(rebound.status, 403);
    assert_eq!(rebound.message["error"]["code"], "origin_not_allowed");
    let allowed = post(
        &server.base,
        Some(&key),
        None,
        &[("origin", "https://shop.example")],
        initialize,
    )
    .await;
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://shop.example"
    );
}

#[tokio::test]
async fn the_docs_and_the_scope_catalog_are_resources_for_any_key() {
    let server = start().await;
    let (_, _, _, key) = agent(&server, &["usage:read"]).await;
    let session = open_session(&server.base, &key).await;
    let listed = post(
        &server.base,
        Some(&key),
        Some(&session),
        &[],
        json!({"jsonrpc": "2.0", "id": 4, "method": "resources/list"}),
    )
    .await;
    let uris: Vec<&str> = listed.result()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|resource| resource["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(&"gatehouse://docs/agents"), "{uris:?}");
    assert!(uris.contains(&"gatehouse://scopes"), "{uris:?}");
    let read = |uri: &'static str| {
        post(
            &server.base,
            Some(&key),
            Some(&session),
            &[],
            json!({"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": uri}}),
        )
    };
    let page = read("gatehouse://docs/agents").await;
    let text = page.result()["contents"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let served = reqwest::get(format!("{}/docs/agents.md", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, served, "the page as /docs serves it");
    let scopes = read("gatehouse://scopes").await;
    let catalog: Value =
        serde_json::from_str(scopes.result()["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert!(catalog["areas"].as_array().unwrap().len() > 3);
    let missing = read("gatehouse://docs/nope").await;
    assert!(missing.message["error"].is_object(), "{}", missing.message);
}

#[tokio::test]
async fn every_message_counts_against_the_keys_rate_limit() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (status, created) = server_fn(
        &owner,
        &server.base,
        "create_api_key",
        json!({ "input": {
            "app_id": app_id, "name": "Throttled agent", "mode": "test", "key_type": "restricted",
            "scopes": ["api_keys:read"], "rate_limit": { "requests": 3, "per": "minute" },
        }}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let key = created["plaintext"].as_str().unwrap();
    // initialize and initialized are two calls; one tool call is the third.
    let session = open_session(&server.base, key).await;
    let me = call_tool(&server.base, key, &session, "whoami", json!({})).await;
    assert_eq!(me["isError"], false);
    let throttled = post(
        &server.base,
        Some(key),
        Some(&session),
        &[],
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
               "params": {"name": "whoami", "arguments": {}}}),
    )
    .await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.message["error"]["code"], "rate_limited");
    assert!(throttled.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_client_of_the_current_protocol_calls_without_a_session() {
    let server = start().await;
    let (_, _, key_id, key) = agent(&server, &["api_keys:read"]).await;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    });
    let answer = reqwest::Client::new()
        .post(format!("{}/mcp", server.base))
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "whoami")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "whoami", "arguments": {}, "_meta": meta}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().get("mcp-session-id").is_none());
    assert_eq!(answer.headers()["content-type"], "application/json");
    let message: Value = answer.json().await.unwrap();
    assert_eq!(
        message["result"]["structuredContent"]["key_id"],
        key_id.as_str()
    );
}

#[tokio::test]
async fn fifty_concurrent_opens_never_pass_the_bound_and_a_large_body_is_refused() {
    let server = start_with_env(&[("GATEHOUSE_MCP_SESSIONS_PER_KEY", "5")]).await;
    let (_, _, _, key) = agent(&server, &["api_keys:read"]).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let mut opens = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (base, key, initialize) = (server.base.clone(), key.clone(), initialize.clone());
        opens.spawn(async move { post(&base, Some(&key), None, &[], initialize).await.status });
    }
    let statuses = opens.join_all().await;
    assert_eq!(statuses.iter().filter(|status| **status == 200).count(), 5);
    assert_eq!(statuses.iter().filter(|status| **status == 429).count(), 45);

    let padding = "x".repeat(2 * 1024 * 1024);
    let large = post(
        &server.base,
        Some(&key),
        None,
        &[],
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"padding": padding}}),
    )
    .await;
    assert_eq!(large.status, 413);
    assert_eq!(large.message["error"]["code"], "payload_too_large");
}
