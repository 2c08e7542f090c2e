//! Prometheus metrics from the real binary, scraped as Prometheus would:
//! `/metrics` on the main address only with the operator's bearer token, open on the
//! separate metrics address, absent without either; and the figures move with what the
//! test does: requests by route template and status, authentication outcomes, key
//! cache hits and misses, usage flushes and their lag, webhook attempts, latency and
//! queue depth. No credential ever appears in the answer.

use std::time::Duration;

use crate::common::{dashboard_key, free_port, owner_with_app, start, start_with_env, whoami};
use crate::receiver::Receiver;
use serde_json::json;

const TOKEN: &str = "metrics-token-for-the-tests-0123";

/// The value of the sample named exactly `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

async fn scrape(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_follow_what_the_server_does_and_need_the_token() {
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let server = start_with_env(&[
        ("GATEHOUSE_METRICS_TOKEN", TOKEN),
        ("GATEHOUSE_METRICS_ADDR", &metrics_addr),
    ])
    .await;
    let client = reqwest::Client::new();
    let main_metrics = format!("{}/metrics", server.base);

    // On the main address: the token or nothing.
    let (status, _, body) = scrape(&client, &main_metrics, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("gatehouse_"));
    let (status, _, _) = scrape(
        &client,
        &main_metrics,
        Some("metrics-token-for-the-tests-0124"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, content_type, _) = scrape(&client, &main_metrics, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );

    // Traffic: a live key called twice (a cache miss, then hits), a mistyped key, a
    // verification, a key read by id, and a webhook test event to a real receiver.
    let (dashboard, app_id) = owner_with_app(&server, &[]).await;
    let (key_id, key) = dashboard_key(&dashboard, &server.base, &app_id, "live", None).await;
    for _ in 0..2 {
        assert_eq!(whoami(&server.base, &key).await.status(), 200);
    }
    let mistyped = whoami(
        &server.base,
        "sk_live_0000000000000000000000000000000000000000000000",
    )
    .await;
    assert_eq!(mistyped.status(), 401);
    let verified = client
        .post(format!("{}/v1/keys/verify", server.base))
        .json(&json!({ "key": key }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    let read = client
        .get(format!("{}/v1/api-keys/{key_id}", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let receiver = Receiver::start().await;
    let created: serde_json::Value = client
        .post(format!("{}/v1/webhook-endpoints", server.base))
        .bearer_auth(&key)
        .json(&json!({ "url": receiver.url, "mode": "live" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint_id = created["endpoint"]["id"].as_str().unwrap();
    let tested: serde_json::Value = client
        .post(format!(
            "{}/v1/webhook-endpoints/{endpoint_id}/test",
            server.base
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tested["succeeded"], true, "{tested}");
    // The usage flush runs every second.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The separate address answers without a token, and both addresses tell the same.
    let (status, content_type, text) =
        scrape(&client, &format!("http://{metrics_addr}/metrics"), None).await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("application/openmetrics-text"));
    let get = |series: &str| sample(&text, series);
    assert_eq!(
        get(r#"gatehouse_http_requests_total{method="GET",route="/v1/whoami",status="200"}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        get(r#"gatehouse_http_requests_total{method="GET",route="/v1/whoami",status="401"}"#),
        Some(1.0)
    );
    // The route's template, never the raw path with its id.
    assert_eq!(
        get(
            r#"gatehouse_http_requests_total{method="GET",route="/v1/api-keys/{id}",status="200"}"#
        ),
        Some(1.0)
    );
    assert!(!text.contains(&key_id), "an id made its own series");
    // The three whoami calls, the key read and the two webhook calls were checked.
    assert_eq!(
        get(r#"gatehouse_authentications_total{method="api_key",code="ok"}"#),
        Some(5.0)
    );
    assert_eq!(
        get(r#"gatehouse_authentications_total{method="api_key",code="api_key_malformed"}"#),
        Some(1.0)
    );
    assert_eq!(
        get(r#"gatehouse_authentications_total{method="verify",code="VALID"}"#),
        Some(1.0)
    );
    assert_eq!(
        get(r#"gatehouse_authentications_total{method="sign_in",code="ok"}"#),
        Some(1.0),
        "the owner signed in once"
    );
    let hits = get(r#"gatehouse_key_cache_lookups_total{outcome="hit"}"#).unwrap();
    let misses = get(r#"gatehouse_key_cache_lookups_total{outcome="miss"}"#).unwrap();
    assert!(hits >= 5.0 && misses >= 1.0, "hits {hits}, misses {misses}");
    assert!(get(r#"gatehouse_usage_flushes_total{outcome="written"}"#).unwrap() >= 1.0);
    assert_eq!(
        get(r#"gatehouse_usage_flushes_total{outcome="failed"}"#),
        Some(0.0)
    );
    let lag = get("gatehouse_usage_flush_lag_seconds").unwrap();
    assert!((0.0..3.0).contains(&lag), "flush lag {lag}");
    assert_eq!(
        get(r#"gatehouse_webhook_attempts_total{outcome="succeeded"}"#),
        Some(1.0)
    );
    assert_eq!(
        get("gatehouse_webhook_attempt_duration_seconds_count"),
        Some(1.0)
    );
    assert_eq!(
        get("gatehouse_webhook_delivery_latency_seconds_count"),
        Some(1.0)
    );
    assert_eq!(
        get(r#"gatehouse_webhook_queue_depth{state="due"}"#),
        Some(0.0)
    );
    // No credential in the answer.
    assert!(!text.contains(&key) && !text.contains(TOKEN));
    let (_, _, through_main) = scrape(&client, &main_metrics, Some(TOKEN)).await;
    assert!(through_main.contains(r#"route="/v1/whoami",status="200"} 2"#));
}

#[tokio::test]
async fn without_a_token_the_main_address_has_no_metrics() {
    let server = start().await;
    let response = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        !response
            .text()
            .await
            .unwrap()
            .contains("gatehouse_http_requests")
    );
}
