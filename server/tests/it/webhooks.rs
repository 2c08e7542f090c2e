//! Webhooks through `/v1` against the real binary: endpoints with a key, the one-time
//! secret, the test event, events posted with an idempotency key and delivered by the
//! running worker to a real receiver, and the refusals a client sees.

use std::time::Duration;

use crate::common::{PASSWORD, dashboard_key, owner_with_app, start, start_with_env};
use crate::receiver::{Receiver, signature_verifies};
use serde_json::{Value, json};

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = client.request(method, url).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn endpoints_events_and_deliveries_through_the_api() {
    let server = start().await;
    let (dashboard, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(&dashboard, &server.base, &app_id, "live", None).await;
    let receiver = Receiver::start().await;
    let client = reqwest::Client::new();
    let base = &server.base;
    use reqwest::Method;

    let (status, _, created) = call(
        &client,
        Method::POST,
        format!("{base}/v1/webhook-endpoints"),
        &key,
        Some(
            json!({ "url": receiver.url, "mode": "live", "event_families": ["payment_intent.*"] }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let endpoint_id = created["endpoint"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["endpoint"]["app_id"], app_id.as_str());

    // The secret is in the create answer only: not in reads, lists or the log.
    let (status, _, read) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(!read.to_string().contains(&secret[6..]));
    let (_, _, list) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints"),
        &key,
        None,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret[6..]));

    // The test event is delivered at once and its attempt answered.
    let (status, _, attempt) = call(
        &client,
        Method::POST,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}/test"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200, "{attempt}");
    assert_eq!(attempt["succeeded"], true);
    assert_eq!(attempt["http_status"], 200);
    assert_eq!(attempt["event_type"], "webhook.test");
    // Or the catalog's example of a type; a type without one is refused beside the field.
    let test_url = format!("{base}/v1/webhook-endpoints/{endpoint_id}/test");
    let (status, _, attempt) = call(
        &client,
        Method::POST,
        test_url.clone(),
        &key,
        Some(json!({ "event_type": "payment_intent.payment_failed" })),
    )
    .await;
    assert_eq!(status, 200, "{attempt}");
    assert_eq!(attempt["event_type"], "payment_intent.payment_failed");
    assert_eq!(attempt["succeeded"], true);
    let (status, _, refused) = call(
        &client,
        Method::POST,
        test_url.clone(),
        &key,
        Some(json!({ "event_type": "payment_intent.created" })),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["details"]["fields"][0]["field"],
        "event_type"
    );
    let (status, _, _) = call(
        &client,
        Method::POST,
        test_url.clone(),
        &key,
        Some(json!({ "type": "payment_intent.succeeded" })),
    )
    .await;
    assert_eq!(status, 400, "an unknown field is refused");
    // A `null` body is no body: webhook.test.
    let (status, _, attempt) = call(&client, Method::POST, test_url, &key, Some(Value::Null)).await;
    assert_eq!(
        (status, &attempt["event_type"]),
        (200, &json!("webhook.test")),
        "{attempt}"
    );

    // An event is committed with its delivery before the answer, and the worker sends it.
    let event =
        json!({ "type": "payment_intent.succeeded", "data": { "id": "pi_1", "amount": 990 } });
    let send = |idempotency: &'static str| {
        let client = client.clone();
        let key = key.clone();
        let event = event.clone();
        let url = format!("{base}/v1/events");
        async move {
            let response = client
                .post(url)
                .bearer_auth(key)
                .header("idempotency-key", idempotency)
                .json(&event)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let replayed = response.headers().get("idempotent-replayed").is_some();
            (status, replayed, response.json::<Value>().await.unwrap())
        }
    };
    let (status, replayed, first) = send("order-7").await;
    assert_eq!((status, replayed), (201, false), "{first}");
    assert_eq!(first["deliveries"], 1);
    let (status, replayed, again) = send("order-7").await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again["id"], first["id"]);
    let event_id = first["id"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        if receiver
            .received()
            .iter()
            .any(|request| request.webhook_id == event_id)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = receiver.received();
    let delivered: Vec<_> = received
        .iter()
        .filter(|request| request.webhook_id == event_id)
        .collect();
    assert_eq!(
        delivered.len(),
        1,
        "delivered once, not per idempotent call"
    );
    assert!(signature_verifies(&secret, delivered[0]));
    let (_, _, detail) = call(
        &client,
        Method::GET,
        format!("{base}/v1/events/{event_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(detail["type"], "payment_intent.succeeded");
    assert_eq!(
        detail["delivery_list"][0]["endpoint_id"],
        endpoint_id.as_str()
    );

    // The attempt is recorded just after the receiver answered: wait for it.
    let mut log = Value::Null;
    for _ in 0..100 {
        let (status, _, page) = call(
            &client,
            Method::GET,
            format!("{base}/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=1"),
            &key,
            None,
        )
        .await;
        assert_eq!(status, 200);
        log = page;
        if log["data"][0]["event_id"] == event_id.as_str() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(log["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        log["data"][0]["event_id"],
        event_id.as_str(),
        "newest first"
    );
    assert_eq!(log["data"][0]["succeeded"], true);
    assert_eq!(log["has_more"], true);

    // The message: the body byte for byte and the attempt's headers; a key that may read
    // endpoints but not events is refused it, an unknown event is 404.
    let (status, _, message) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}/messages/{event_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(message["body"], delivered[0].body.as_str());
    assert_eq!(message["attempts"][0]["http_status"], 200);
    assert_eq!(
        message["attempts"][0]["headers"][1],
        json!({ "name": "webhook-id", "value": event_id })
    );
    let (_, endpoints_only) = dashboard_key(
        &dashboard,
        base,
        &app_id,
        "live",
        Some(&["webhook_endpoints:read"]),
    )
    .await;
    let (status, _, refused) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}/messages/{event_id}"),
        &endpoints_only,
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(refused["error"]["code"], "insufficient_scope");
    let (status, _, _) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}/messages/evt_doesnotexist"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Refusals a client sees: a stable code, the field named, nothing echoed.
    let (status, _, refused) = call(
        &client,
        Method::POST,
        format!("{base}/v1/webhook-endpoints"),
        &key,
        Some(json!({ "url": "http://127.0.0.2:9/hook", "mode": "live" })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(refused["error"]["code"], "validation_failed");
    assert_eq!(refused["error"]["details"]["fields"][0]["field"], "url");
    let (status, _, refused) = call(
        &client,
        Method::POST,
        format!("{base}/v1/events"),
        &key,
        Some(json!({ "type": "api_key.created", "data": {} })),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let (status, _, _) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints/ep_01hzzzzzzzzzzzzzzzzzzzzzzz"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints/not-an-id"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, reader) = dashboard_key(
        &dashboard,
        base,
        &app_id,
        "live",
        Some(&["webhook_endpoints:read"]),
    )
    .await;
    let (status, _, refused) = call(
        &client,
        Method::POST,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}/disable"),
        &reader,
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        refused["error"]["details"]["required_scope"],
        "webhook_endpoints:write"
    );

    // Deleting ends it.
    let (status, _, _) = call(
        &client,
        Method::DELETE,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = call(
        &client,
        Method::GET,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        !server.log().contains(&secret[6..]),
        "the secret reached the log"
    );
    let _ = PASSWORD;
}

#[tokio::test]
async fn the_embedded_default_generates_a_private_master_key_once() {
    let server = start().await;
    let path = server.data.0.join("master.key");
    let key = std::fs::read_to_string(&path).expect("master.key in the data directory");
    assert_eq!(key.trim().len(), 44, "base64 of 32 bytes");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(server.log().contains("generated a master key"));
    assert!(
        !server.log().contains(key.trim()),
        "the key itself is never logged"
    );
}

#[tokio::test]
async fn postgres_refuses_to_start_without_a_master_key() {
    let url = std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env(
            "GATEHOUSE_ADDR",
            format!("127.0.0.1:{}", crate::common::free_port()),
        )
        .env_remove("GATEHOUSE_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("GATEHOUSE_MASTER_KEY is required with PostgreSQL"),
        "{said}"
    );
}

#[tokio::test]
async fn the_webhooks_docs_page_shows_receiver_code() {
    let server = start().await;
    let page = reqwest::get(format!("{}/docs/webhooks", server.base))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "webhook-signature",
        "Verifying in Node",
        "Verifying in Python",
        "Verifying in Rust",
        "5 seconds, 5 minutes, 30 minutes",
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }
    let index = reqwest::get(format!("{}/docs", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("href=\"/docs/webhooks\""));
}

#[tokio::test]
async fn deliveries_never_go_through_an_outbound_proxy() {
    // A "proxy" on loopback that counts the connections it is offered and serves none.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let offered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = offered.clone();
    tokio::spawn(async move {
        while let Ok((connection, _)) = proxy.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(connection);
        }
    });
    let server = start_with_env(&[
        ("HTTP_PROXY", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("https_proxy", proxy_url.as_str()),
        ("NO_PROXY", ""),
        ("no_proxy", ""),
    ])
    .await;
    let (dashboard, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(&dashboard, &server.base, &app_id, "live", None).await;
    let receiver = Receiver::start().await;
    let client = reqwest::Client::new();
    let base = &server.base;
    let (status, _, created) = call(
        &client,
        reqwest::Method::POST,
        format!("{base}/v1/webhook-endpoints"),
        &key,
        Some(json!({ "url": receiver.url, "mode": "live", "event_families": ["*"] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let endpoint_id = created["endpoint"]["id"].as_str().unwrap();
    let (status, _, attempt) = call(
        &client,
        reqwest::Method::POST,
        format!("{base}/v1/webhook-endpoints/{endpoint_id}/test"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200, "{attempt}");
    // Straight to the receiver (whose address the guard checked), not via the proxy.
    assert_eq!(attempt["succeeded"], true, "{attempt}");
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(offered.load(std::sync::atomic::Ordering::SeqCst), 0);
}
