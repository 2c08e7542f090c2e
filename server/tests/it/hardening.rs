//! The security review's findings seen from outside, against the real binary: the
//! `__Host-` session cookie over https, bounded bodies, field-named 400s, tokens that
//! cannot renew themselves, and `whoami`.


use crate::common::*;
use serde_json::{Value, json};

async fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<reqwest::Body>,
) -> (u16, usize, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(key)
        .header("content-type", "application/json");
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        bytes.len(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn over_https_the_session_cookie_is_host_prefixed_and_no_planted_cookie_counts() {
    let server =
        start_with_env(&[("GATEHOUSE_PUBLIC_URL", "https://gatehouse.example.test")]).await;
    let response = sign_in(&same_origin_client(), &server.base, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-gatehouse_session="), "{cookie}");
    for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{part} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();

    // The same token under the unprefixed name (as a sibling subdomain could plant it)
    // is not a session; under the prefixed name it is.
    let load = |name: &'static str| {
        let base = server.base.clone();
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/load_apps"))
                .header("sec-fetch-site", "same-origin")
                .header("cookie", format!("{name}={token}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(load("__Host-gatehouse_session").await, 200);
    assert_ne!(load("gatehouse_session").await, 200);
}

#[tokio::test]
async fn bodies_are_bounded_and_bad_fields_are_named() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;

    // 2 MB of bad scopes: refused before it is read, with a small answer.
    let scopes: Vec<String> = (0..40_000).map(|index| format!("bad{index}")).collect();
    let huge = serde_json::to_vec(&json!({
        "name": "Huge", "mode": "live", "key_type": "restricted", "scopes": scopes,
    }))
    .unwrap();
    assert!(huge.len() > 300_000);
    let (status, size, body) = call(
        &server,
        reqwest::Method::POST,
        "/v1/api-keys",
        &key,
        Some(huge.into()),
    )
    .await;
    assert_eq!((status, code(&body)), (413, "payload_too_large"));
    assert!(size < 512, "{size} bytes");

    // A body within the bound but with many bad scopes: one short message per field.
    let scopes: Vec<String> = (0..1_000)
        .map(|index| format!("nope{index}:read"))
        .collect();
    let many = serde_json::to_vec(&json!({
        "name": "Many", "mode": "live", "key_type": "restricted", "scopes": scopes,
    }))
    .unwrap();
    let (status, size, body) = call(
        &server,
        reqwest::Method::POST,
        "/v1/api-keys",
        &key,
        Some(many.into()),
    )
    .await;
    assert_eq!((status, code(&body)), (422, "validation_failed"), "{body}");
    assert!(size < 1_024, "{size} bytes: {body}");

    for (sent, named) in [
        (
            json!({ "mode": "live", "key_type": "secret" }),
            "missing field `name`",
        ),
        (
            json!({ "name": "x", "mode": "sideways", "key_type": "secret" }),
            "`mode` has the wrong type or value",
        ),
        (
            json!({ "name": "x", "mode": "live", "key_type": "secret", "expiry_days": "soon" }),
            "`expiry_days` has the wrong type or value",
        ),
    ] {
        let (status, _, body) = call(
            &server,
            reqwest::Method::POST,
            "/v1/api-keys",
            &key,
            Some(serde_json::to_vec(&sent).unwrap().into()),
        )
        .await;
        assert_eq!((status, code(&body)), (400, "bad_request"));
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
        assert!(
            !message.contains("sideways") && !message.contains("soon"),
            "{message}"
        );
    }

    // PATCH on an app changes only what is sent.
    let (status, _, app) = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/v1/apps/{app_id}"),
        &key,
        Some(
            serde_json::to_vec(&json!({ "description": "Now described" }))
                .unwrap()
                .into(),
        ),
    )
    .await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["description"], "Now described");
    assert_eq!(app["name"], "Checkout");
}

#[tokio::test]
async fn a_token_cannot_renew_itself_and_whoami_names_the_credential() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "test",
        Some(&["api_keys:write"]),
    )
    .await;
    let (status, _, me) = call(&server, reqwest::Method::GET, "/v1/whoami", &key, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["app_id"], app_id.as_str());
    assert_eq!(me["mode"], "test");
    assert_eq!(me["credential"], "secret");
    assert_eq!(me["scopes"], json!(["api_keys:write"]));

    let (status, _, token) =
        call(&server, reqwest::Method::POST, "/v1/auth/token", &key, None).await;
    assert_eq!(status, 200, "{token}");
    let access_token = token["access_token"].as_str().unwrap().to_owned();
    let (status, _, me) = call(
        &server,
        reqwest::Method::GET,
        "/v1/whoami",
        &access_token,
        None,
    )
    .await;
    assert_eq!(
        (status, me["credential"].as_str()),
        (200, Some("access_token"))
    );
    assert!(me["expires_at"].is_string(), "a token says when it ends");

    let (status, _, refused) = call(
        &server,
        reqwest::Method::POST,
        "/v1/auth/token",
        &access_token,
        None,
    )
    .await;
    assert_eq!((status, code(&refused)), (403, "credential_not_allowed"));
    let key_id = me["key_id"].as_str().unwrap();
    let (status, _, refused) = call(
        &server,
        reqwest::Method::POST,
        &format!("/v1/api-keys/{key_id}/rotate"),
        &access_token,
        None,
    )
    .await;
    assert_eq!((status, code(&refused)), (403, "credential_not_allowed"));
}
