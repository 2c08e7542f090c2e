//! The request log against the real binary: every `/v1` answer carries a
//! `Request-Id`; the calls of a known key and the verifications of a key are recorded
//! with their route template, status, error code and client address and read back with
//! `GET /v1/request-logs` (scope `request_logs:read`), by filter and cursor, a key
//! seeing only its own app and mode; never a credential.

use crate::common::*;
use serde_json::{Value, json};

/// Reads the log until `wanted` entries are there (the buffer is written every second).
async fn logged(server: &Server, query: &str, key: &str, wanted: usize) -> Value {
    for _ in 0..50 {
        let (status, page) = get_json(server, &format!("/v1/request-logs?{query}"), key).await;
        assert_eq!(status, 200, "{page}");
        if page["data"].as_array().unwrap().len() >= wanted {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {wanted} entries for {query}");
}

/// A live key of a new app of the demo owner that reads the request log.
async fn log_reader(server: &Server) -> String {
    let (owner, app_id) = owner_with_app(server, &[]).await;
    dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "live",
        Some(&["request_logs:read"]),
    )
    .await
    .1
}

/// `GET /v1/whoami` with `key`, claiming to be forwarded for `client`.
async fn whoami_forwarded_for(server: &Server, key: &str, client: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/v1/whoami", server.base))
        .bearer_auth(key)
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn calls_and_verifications_are_logged_and_read_back_by_filter() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, reader) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "live",
        Some(&["request_logs:read"]),
    )
    .await;
    let (caller_id, caller) =
        dashboard_key(&owner, &server.base, &app_id, "live", Some(&["apps:read"])).await;
    let (_, test_key) = dashboard_key(&owner, &server.base, &app_id, "test", None).await;

    // A success, a refusal for scope, and a verification.
    let answer = whoami(&server.base, &caller).await;
    assert_eq!(answer.status(), 200);
    let request_id = answer.headers()["request-id"].to_str().unwrap().to_owned();
    assert!(request_id.starts_with("req_"), "{request_id}");
    let (status, _) = get_json(&server, &format!("/v1/api-keys/{caller_id}"), &caller).await;
    assert_eq!(status, 403);
    let verified = reqwest::Client::new()
        .post(format!("{}/v1/keys/verify", server.base))
        .json(&json!({ "key": caller }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    assert!(verified.headers().contains_key("request-id"));
    // An unknown key is answered with an id too, and logged under no tenant.
    let unknown = whoami(&server.base, "sk_live_unknown").await;
    assert!(unknown.headers().contains_key("request-id"));
    // A test key's call stays on the test side.
    assert_eq!(whoami(&server.base, &test_key).await.status(), 200);

    let page = logged(&server, &format!("key_id={caller_id}"), &reader, 3).await;
    let entries = page["data"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{page}");
    // Newest first: the verification, the refusal, the success.
    let (verification, refusal, success) = (&entries[0], &entries[1], &entries[2]);
    assert_eq!(verification["route"], "/v1/keys/verify");
    assert_eq!(verification["verify_code"], "VALID");
    assert_eq!(
        refusal["route"], "/v1/api-keys/{id}",
        "the template, not the path"
    );
    assert_eq!(refusal["status"], 403);
    assert_eq!(refusal["error_code"], "insufficient_scope");
    assert_eq!(success["id"], request_id.as_str());
    assert_eq!(success["route"], "/v1/whoami");
    assert_eq!(success["method"], "GET");
    assert_eq!(success["status"], 200);
    assert_eq!(success["client_ip"], "127.0.0.1");
    assert_eq!(success["mode"], "live");
    assert!(success["latency_us"].as_i64().unwrap() > 0);
    let text = page.to_string();
    assert!(
        !text.contains(&caller) && !text.contains(&reader),
        "no credential is logged"
    );

    // Filters: status class, error code, route; live and test apart.
    let failed = logged(&server, "status_class=4xx", &reader, 1).await;
    assert!(
        failed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|entry| entry["status"].as_i64().unwrap() >= 400)
    );
    let by_code = logged(&server, "error_code=insufficient_scope", &reader, 1).await;
    assert_eq!(by_code["data"].as_array().unwrap().len(), 1);
    let by_route = logged(&server, "route=/v1/keys/verify", &reader, 1).await;
    assert_eq!(by_route["data"].as_array().unwrap().len(), 1);
    let (status, refused) = get_json(&server, "/v1/request-logs?mode=test", &reader).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (422, Some("validation_failed"))
    );

    // Paging through with the cursor, one at a time, newest first.
    let everything = logged(&server, "", &reader, 4).await;
    let all_ids: Vec<&str> = everything["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_str().unwrap())
        .collect();
    assert!(all_ids.iter().all(|id| !id.is_empty()));
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let query = if cursor.is_empty() {
            "limit=1".to_owned()
        } else {
            format!("limit=1&cursor={cursor}")
        };
        let (status, page) = get_json(&server, &format!("/v1/request-logs?{query}"), &reader).await;
        assert_eq!(status, 200, "{page}");
        for entry in page["data"].as_array().unwrap() {
            paged.push(entry["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
        assert!(paged.len() <= all_ids.len() + 5, "the pages end");
    }
    assert!(paged.len() >= all_ids.len());
    assert_eq!(
        &paged[..all_ids.len()],
        &all_ids[..],
        "pages in the same order as one list"
    );

    // Without the scope, the log is refused.
    let (status, body) = get_json(&server, "/v1/request-logs", &caller).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
}

#[tokio::test]
async fn a_revoked_keys_calls_and_verifications_are_logged_under_it() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, reader) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "live",
        Some(&["request_logs:read"]),
    )
    .await;
    let (leaked_id, leaked) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;
    let (status, _) = server_fn(
        &owner,
        &server.base,
        "revoke_api_key",
        json!({ "key_id": leaked_id }),
    )
    .await;
    assert_eq!(status, 200);

    // Someone still uses the leaked key, and a service still verifies it.
    let (status, body) = get_json(&server, "/v1/whoami", &leaked).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("api_key_revoked"))
    );
    let verified = verify_key(&server.base, &leaked).await;
    assert_eq!(verified["code"], "REVOKED");
    assert!(verified["key_id"].is_null(), "the verdict names no key");

    // The owner sees both under the revoked key.
    let page = logged(&server, &format!("key_id={leaked_id}"), &reader, 2).await;
    let entries = page["data"].as_array().unwrap();
    assert_eq!(entries[0]["route"], "/v1/keys/verify");
    assert_eq!(entries[0]["verify_code"], "REVOKED");
    assert_eq!(entries[1]["route"], "/v1/whoami");
    assert_eq!(entries[1]["status"], 401);
    assert_eq!(entries[1]["error_code"], "api_key_revoked");
    assert!(
        !page.to_string().contains(&leaked),
        "no credential is logged"
    );
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_anyone_else_cannot() {
    let server = start_with_env(&[("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let reader = log_reader(&server).await;
    let answer = whoami_forwarded_for(&server, &reader, "203.0.113.9").await;
    assert_eq!(answer.status(), 200);
    let page = logged(&server, "route=/v1/whoami", &reader, 1).await;
    assert_eq!(page["data"][0]["client_ip"], "203.0.113.9");

    // Without the setting, the header is a claim and is not believed.
    let untrusting = start().await;
    let reader = log_reader(&untrusting).await;
    whoami_forwarded_for(&untrusting, &reader, "203.0.113.9").await;
    let page = logged(&untrusting, "route=/v1/whoami", &reader, 1).await;
    assert_eq!(page["data"][0]["client_ip"], "127.0.0.1");
}

#[tokio::test]
async fn a_graceful_shutdown_writes_what_is_buffered() {
    let mut server = start().await;
    let reader = log_reader(&server).await;
    for _ in 0..20 {
        assert_eq!(whoami(&server.base, &reader).await.status(), 200);
    }
    // Stopped at once, before the next write: what was buffered is written on the way out.
    assert!(server.stop_gracefully().success());
    let data = server.data.0.clone();
    std::mem::forget(server);
    let restarted = start_on(&format!("sqlite://{}/gatehouse.db", data.display()), data).await;
    let page = logged(&restarted, "route=/v1/whoami", &reader, 20).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 20);
}
