//! The key-authenticated `/v1` API against the real binary: the three headers a key may
//! come in (`Authorization: Bearer`, `x-api-key`, `Authorization: x-api-key`) and every
//! refusal code, scopes, the key lifecycle, access tokens, CORS per app, tenant
//! isolation, members refused, no secret in the log, and counters that survive a
//! graceful shutdown.

use crate::common::*;
use gatehouse_domain::tenants::{NewTenant, PLATFORM_API_MODULE};
use gatehouse_domain::{Db, DbOptions, Gatehouse};
use gatehouse_model::{Plan, Role};
use serde_json::{Value, json};

/// A call to the API with `key` as a Bearer token; answers status and body.
async fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(server: &Server, path: &str, key: &str) -> (u16, Value) {
    call(server, reqwest::Method::GET, path, key, None).await
}

async fn post(server: &Server, path: &str, key: &str, body: Value) -> (u16, Value) {
    call(server, reqwest::Method::POST, path, key, Some(body)).await
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn server_db(server: &Server) -> Gatehouse {
    Gatehouse::new(
        Db::connect(&server.sqlite_url(), DbOptions::default())
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn every_header_form_works_and_every_refusal_has_its_code() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (key_id, key) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;
    let path = format!("/v1/api-keys/{key_id}");
    let url = format!("{}{path}", server.base);
    let client = reqwest::Client::new();
    for (header, value) in [
        ("authorization", format!("Bearer {key}")),
        ("x-api-key", key.clone()),
        ("authorization", format!("x-api-key {key}")),
    ] {
        let response = client
            .get(&url)
            .header(header, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{header}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["id"], key_id);
        assert!(body.get("plaintext").is_none());
    }

    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(code(&missing.json().await.unwrap()), "api_key_missing");
    let basic = client
        .get(&url)
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(code(&basic.json().await.unwrap()), "api_key_missing");

    let mut typo = key.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let (status, body) = get(&server, &path, &typo).await;
    assert_eq!((status, code(&body)), (401, "api_key_malformed"));
    let unknown = gatehouse_domain::api_keys::format::generate(
        gatehouse_model::KeyType::Secret,
        gatehouse_model::KeyMode::Live,
    );
    let (status, body) = get(&server, &path, &unknown).await;
    assert_eq!((status, code(&body)), (401, "api_key_unknown"));

    server_fn(
        &owner,
        &server.base,
        "set_api_key_enabled",
        json!({ "key_id": key_id, "enabled": false }),
    )
    .await;
    let (status, body) = get(&server, &path, &key).await;
    assert_eq!((status, code(&body)), (401, "api_key_disabled"));
    server_fn(
        &owner,
        &server.base,
        "set_api_key_enabled",
        json!({ "key_id": key_id, "enabled": true }),
    )
    .await;
    assert_eq!(get(&server, &path, &key).await.0, 200);

    // Rotating with no overlap: the old secret is expired from the next request.
    let (status, rotated) = server_fn(
        &owner,
        &server.base,
        "rotate_api_key",
        json!({ "key_id": key_id, "overlap": "now" }),
    )
    .await;
    assert_eq!(status, 200);
    let new_secret = rotated["plaintext"].as_str().unwrap().to_owned();
    let (status, body) = get(&server, &path, &key).await;
    assert_eq!((status, code(&body)), (401, "api_key_expired"));
    assert_eq!(get(&server, &path, &new_secret).await.0, 200);

    server_fn(
        &owner,
        &server.base,
        "revoke_api_key",
        json!({ "key_id": key_id }),
    )
    .await;
    let (status, body) = get(&server, &path, &new_secret).await;
    assert_eq!((status, code(&body)), (401, "api_key_revoked"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
}

#[tokio::test]
async fn scopes_are_enforced_per_route_with_the_scope_named() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (key_id, key) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "live",
        Some(&["apps:read", "api_keys:read"]),
    )
    .await;
    assert_eq!(
        get(&server, &format!("/v1/api-keys/{key_id}"), &key)
            .await
            .0,
        200
    );
    let (status, apps) = get(&server, "/v1/apps", &key).await;
    assert_eq!(status, 200);
    assert_eq!(apps["data"][0]["id"], app_id);
    let (status, keys) = get(&server, "/v1/api-keys", &key).await;
    assert_eq!(status, 200, "the key's own app by default");
    assert_eq!(keys["data"][0]["id"], key_id);

    let (status, body) = post(&server, "/v1/apps", &key, json!({ "name": "X" })).await;
    assert_eq!((status, code(&body)), (403, "insufficient_scope"));
    assert_eq!(body["error"]["details"]["required_scope"], "apps:write");
    let (status, body) = post(
        &server,
        &format!("/v1/api-keys/{key_id}/disable"),
        &key,
        json!({}),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "insufficient_scope"));
    assert_eq!(body["error"]["details"]["required_scope"], "api_keys:write");
    let (status, body) = get(&server, "/v1/nothing-here", &key).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    let (status, body) = call(&server, reqwest::Method::PUT, "/v1/api-keys", &key, None).await;
    assert_eq!((status, code(&body)), (405, "method_not_allowed"));
}

#[tokio::test]
async fn keys_made_by_the_api_are_the_dashboards_keys() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, admin_key) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;

    let (status, created) = post(
        &server,
        "/v1/api-keys",
        &admin_key,
        json!({ "name": "From the API", "mode": "live", "key_type": "restricted",
                "scopes": ["imports:read", "exports:read"], "expiry_days": 30,
                "expires_at": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339() }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    let secret = created["plaintext"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("rk_live_"));
    assert_eq!(created["key"]["created_by"], created["key"]["updated_by"]);

    let (status, page) = server_fn(&owner, &server.base, "load_api_keys", json!({})).await;
    assert_eq!(status, 200);
    let listed = page["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .expect("the dashboard lists the API's key");
    assert_eq!(listed["scopes"], json!(["imports:read", "exports:read"]));

    let (status, patched) = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/v1/api-keys/{id}"),
        &admin_key,
        Some(json!({ "name": "Renamed" })),
    )
    .await;
    assert_eq!((status, patched["name"].as_str()), (200, Some("Renamed")));
    assert_eq!(patched["scopes"], json!(["imports:read", "exports:read"]));

    let (status, rotated) = post(
        &server,
        &format!("/v1/api-keys/{id}/rotate"),
        &admin_key,
        json!({ "overlap": "1h" }),
    )
    .await;
    assert_eq!(status, 200);
    let rotated_secret = rotated["plaintext"].as_str().unwrap().to_owned();
    let verify = |key: String| {
        let server = &server;
        async move {
            let response = reqwest::Client::new()
                .post(format!("{}/v1/keys/verify", server.base))
                .json(&json!({ "key": key }))
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()["code"].clone()
        }
    };
    assert_eq!(
        verify(secret.clone()).await,
        "VALID",
        "the overlap keeps the old secret"
    );
    assert_eq!(verify(rotated_secret.clone()).await, "VALID");

    let (status, duplicate) = post(
        &server,
        &format!("/v1/api-keys/{id}/duplicate"),
        &admin_key,
        json!({}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        duplicate["key"]["scopes"],
        json!(["imports:read", "exports:read"])
    );
    assert_eq!(duplicate["key"]["expiry_days"], 30);
    assert_ne!(duplicate["key"]["id"], id);

    let (status, revoked) = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/v1/api-keys/{id}"),
        &admin_key,
        None,
    )
    .await;
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
    assert_eq!(verify(rotated_secret).await, "REVOKED");
    let (status, body) = post(
        &server,
        &format!("/v1/api-keys/{id}/enable"),
        &admin_key,
        json!({}),
    )
    .await;
    assert_eq!((status, code(&body)), (409, "conflict"), "revoke is final");

    // The audit trail names the key that acted.
    let (_, logs) = server_fn(&owner, &server.base, "load_integration_logs", json!({})).await;
    let by_key = logs
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["event_type"] == "api_key.revoked")
        .unwrap();
    assert_eq!(by_key["actor_type"], "api_key");
    assert_eq!(by_key["actor_label"], format!("{}…", &admin_key[..12]));
}

#[tokio::test]
async fn access_tokens_carry_the_keys_scopes_for_fifteen_minutes() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (key_id, key) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "test",
        Some(&["api_keys:read"]),
    )
    .await;
    let (status, token) = post(&server, "/v1/auth/token", &key, json!({})).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 900);
    assert_eq!(token["scopes"], json!(["api_keys:read"]));
    let access = token["access_token"].as_str().unwrap();
    assert!(access.starts_with("at_test_"));
    assert_eq!(
        get(&server, &format!("/v1/api-keys/{key_id}"), access)
            .await
            .0,
        200
    );
    let (status, body) = get(&server, "/v1/apps", access).await;
    assert_eq!((status, code(&body)), (403, "insufficient_scope"));
    server_fn(
        &owner,
        &server.base,
        "revoke_api_key",
        json!({ "key_id": key_id }),
    )
    .await;
    let (status, body) = get(&server, &format!("/v1/api-keys/{key_id}"), access).await;
    assert_eq!((status, code(&body)), (401, "api_key_revoked"));
}

#[tokio::test]
async fn browsers_may_call_only_from_the_keys_app_origins() {
    let server = start().await;
    let (owner, shop_app) = owner_with_app(&server, &["https://shop.example"]).await;
    let (_, other_app) = server_fn(
        &owner,
        &server.base,
        "create_app",
        json!({ "input": { "name": "Admin", "allowed_origins": ["https://admin.example"] } }),
    )
    .await;
    assert!(other_app["id"].is_string());
    let (key_id, key) = dashboard_key(&owner, &server.base, &shop_app, "live", None).await;
    let url = format!("{}/v1/api-keys/{key_id}", server.base);
    let client = reqwest::Client::new();

    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://shop.example").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(
        allowed.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let from = |origin: &'static str| {
        client
            .get(&url)
            .header("origin", origin)
            .bearer_auth(&key)
            .send()
    };
    let shop = from("https://shop.example").await.unwrap();
    assert_eq!(shop.status(), 200);
    assert_eq!(
        shop.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    // Another app's origin passes the preflight but not this key's call.
    let admin = from("https://admin.example").await.unwrap();
    assert_eq!(admin.status(), 403);
    assert!(admin.headers().get("access-control-allow-origin").is_none());
    assert_eq!(code(&admin.json().await.unwrap()), "origin_not_allowed");
    // Server-to-server calls send no Origin and get no CORS headers.
    let (status, _) = get(&server, &format!("/v1/api-keys/{key_id}"), &key).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn other_tenants_ids_are_not_found_and_members_are_refused() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (key_id, _) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;

    let gatehouse = server_db(&server).await;
    let other = gatehouse
        .operator()
        .create_tenant(NewTenant::new("Other", Plan::Pro, &[PLATFORM_API_MODULE]))
        .await
        .unwrap();
    gatehouse
        .operator()
        .create_user(
            &other,
            "owner@other.test",
            Role::Owner,
            Some(PASSWORD.to_owned()),
        )
        .await
        .unwrap();
    let demo = gatehouse.sign_in(OWNER, PASSWORD, None).await.unwrap();
    let demo_tenant = gatehouse
        .session(&demo.token)
        .await
        .unwrap()
        .actor
        .tenant_id;
    gatehouse
        .operator()
        .create_user(
            &demo_tenant,
            "member@demo.test",
            Role::Member,
            Some(PASSWORD.to_owned()),
        )
        .await
        .unwrap();
    gatehouse.db().close().await;

    let stranger = same_origin_client();
    assert_eq!(
        sign_in_as(&stranger, &server.base, "owner@other.test", PASSWORD)
            .await
            .status(),
        200
    );
    let (_, stranger_app) = server_fn(
        &stranger,
        &server.base,
        "create_app",
        json!({ "input": { "name": "Theirs" } }),
    )
    .await;
    let (_, stranger_key) = dashboard_key(
        &stranger,
        &server.base,
        stranger_app["id"].as_str().unwrap(),
        "live",
        None,
    )
    .await;
    let path = format!("/v1/api-keys/{key_id}");
    let attempts = [
        call(&server, reqwest::Method::GET, &path, &stranger_key, None).await,
        call(
            &server,
            reqwest::Method::PATCH,
            &path,
            &stranger_key,
            Some(json!({"name": "x"})),
        )
        .await,
        call(&server, reqwest::Method::DELETE, &path, &stranger_key, None).await,
        post(
            &server,
            &format!("{path}/disable"),
            &stranger_key,
            json!({}),
        )
        .await,
        post(&server, &format!("{path}/enable"), &stranger_key, json!({})).await,
        post(&server, &format!("{path}/revoke"), &stranger_key, json!({})).await,
        post(
            &server,
            &format!("{path}/rotate"),
            &stranger_key,
            json!({"overlap": "now"}),
        )
        .await,
        post(
            &server,
            &format!("{path}/duplicate"),
            &stranger_key,
            json!({}),
        )
        .await,
        get(
            &server,
            &format!("/v1/api-keys?app_id={app_id}"),
            &stranger_key,
        )
        .await,
        get(&server, &format!("/v1/apps/{app_id}"), &stranger_key).await,
    ];
    for (status, body) in attempts {
        assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    }
    for (name, input) in [
        ("revoke_api_key", json!({ "key_id": key_id })),
        (
            "rotate_api_key",
            json!({ "key_id": key_id, "overlap": "now" }),
        ),
    ] {
        let (status, body) = server_fn(&stranger, &server.base, name, input).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{name}"
        );
    }

    let member = same_origin_client();
    assert_eq!(
        sign_in_as(&member, &server.base, "member@demo.test", PASSWORD)
            .await
            .status(),
        200
    );
    for (name, input) in [
        ("load_api_keys", json!({})),
        (
            "create_api_key",
            json!({ "input": { "app_id": app_id, "name": "Mine",
            "mode": "live", "key_type": "secret" } }),
        ),
        ("revoke_api_key", json!({ "key_id": key_id })),
        ("duplicate_api_key", json!({ "key_id": key_id })),
    ] {
        let (status, body) = server_fn(&member, &server.base, name, input).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("permission_denied")),
            "{name}"
        );
    }
    let (_, page) = server_fn(&owner, &server.base, "load_api_keys", json!({})).await;
    assert_eq!(page["keys"][0]["status"], "enabled", "nothing changed");
}

#[tokio::test]
async fn no_secret_reaches_the_log_and_counters_survive_a_graceful_shutdown() {
    let mut server = start_logging("debug").await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (key_id, key) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "live",
        Some(&["api_keys:read"]),
    )
    .await;
    let path = format!("/v1/api-keys/{key_id}");
    for _ in 0..5 {
        assert_eq!(get(&server, &path, &key).await.0, 200);
    }
    for _ in 0..2 {
        assert_eq!(get(&server, "/v1/apps", &key).await.0, 403);
    }
    let mut typo = key.clone().into_bytes();
    typo[30] = if typo[30] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(get(&server, &path, &typo).await.0, 401);
    let (_, token) = post(&server, "/v1/auth/token", &key, json!({})).await;
    let access = token["access_token"].as_str().unwrap().to_owned();

    let status = server.stop_gracefully();
    assert!(status.success(), "graceful exit: {status:?}");
    let log = server.log();
    assert!(
        log.contains("Gatehouse stopped"),
        "the log was captured: {log}"
    );
    for secret in [&key[8..], &typo[8..], &access[8..]] {
        assert!(!log.contains(secret), "a secret reached the log");
    }

    // 5 successes and 2 failures (the 403s) plus the token exchange; the typo never
    // authenticated, so it is not a platform call of this key.
    let gatehouse = server_db(&server).await;
    let (successes, failures): (i64, i64) = sqlx::query_as(
        "SELECT CAST(SUM(successes) AS BIGINT), CAST(SUM(failures) AS BIGINT)
         FROM usage_daily WHERE key_id = $1",
    )
    .bind(&key_id)
    .fetch_one(gatehouse.db().pool_for_tests())
    .await
    .unwrap();
    assert_eq!((successes, failures), (6, 2));
    let (last_used,): (Option<i64>,) =
        sqlx::query_as("SELECT last_used_at FROM api_keys WHERE id = $1")
            .bind(&key_id)
            .fetch_one(gatehouse.db().pool_for_tests())
            .await
            .unwrap();
    assert!(last_used.is_some());
    gatehouse.db().close().await;
}
