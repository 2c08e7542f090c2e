//! Quotas and rate limits through the real binary: the operator's
//! `update-tenant` (another process) is honoured by the running server within a second;
//! live calls over the monthly limit get 429 `usage_exceeded` with `Retry-After` and the
//! `RateLimit` headers; a key's own rate limit answers 429 `rate_limited`; test calls
//! never count; `GET /v1/usage` reports the calls per day.

use std::time::{Duration, Instant};

use crate::common::{dashboard_key, owner_with_app, update_tenant, verify_key, whoami};
use serde_json::{Value, json};

#[tokio::test]
async fn the_monthly_limit_answers_429_with_headers_and_follows_the_operator() {
    let server = crate::common::start().await;
    let (owner, app) = owner_with_app(&server, &[]).await;
    let (_, live) = dashboard_key(&owner, &server.base, &app, "live", None).await;
    let (_, test) = dashboard_key(&owner, &server.base, &app, "test", None).await;

    // Before any change: the Pro plan's limit, reported on every live answer.
    let first = whoami(&server.base, &live).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["ratelimit-policy"].to_str().unwrap(),
        format!("\"monthly\";q=100000;w={}", window_seconds_now())
    );
    let state = first.headers()["ratelimit"].to_str().unwrap().to_owned();
    assert!(state.starts_with("\"monthly\";r=99999;t="), "{state}");
    assert!(
        whoami(&server.base, &test)
            .await
            .headers()
            .get("ratelimit")
            .is_none(),
        "test calls have no monthly limit"
    );

    let printed = update_tenant(&server, &["--monthly-limit", "4"]);
    assert!(printed.contains("monthly limit 4"), "{printed}");
    server_applies_tenant_changes().await;
    // The month's first call stays counted; the rest of its block was given back, so 3
    // more calls fit under the new limit of 4.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(whoami(&server.base, &live).await);
    }
    let codes: Vec<u16> = statuses
        .iter()
        .map(|answer| answer.status().as_u16())
        .collect();
    assert_eq!(codes, [200, 200, 200, 429, 429]);
    assert!(
        statuses[0].headers()["ratelimit-policy"]
            .to_str()
            .unwrap()
            .starts_with("\"monthly\";q=4;")
    );
    let refused = statuses.pop().unwrap();
    let retry_after: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= window_seconds_now());
    assert!(
        refused.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with("\"monthly\";r=0;t="),
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "usage_exceeded");
    assert_eq!(
        body["error"]["details"]["retry_after_seconds"],
        json!(retry_after)
    );
    // Test keys keep working; verification says why the live key is refused.
    assert_eq!(whoami(&server.base, &test).await.status(), 200);
    let verdict = verify_key(&server.base, &live).await;
    assert_eq!(verdict["code"], "USAGE_EXCEEDED");

    // The operator raises the limit: the key works again within a second.
    update_tenant(&server, &["--monthly-limit", "100"]);
    server_applies_tenant_changes().await;
    assert_eq!(whoami(&server.base, &live).await.status(), 200);
    // And cancels the subscription: the tenant is suspended, its keys stop.
    update_tenant(&server, &["--subscription-state", "canceled"]);
    server_applies_tenant_changes().await;
    let answer = whoami(&server.base, &test).await;
    assert_eq!(answer.status(), 403);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "tenant_suspended");
}

/// The operator's change is promised to hold within a second: the test gives it 1.2 s.
async fn server_applies_tenant_changes() {
    tokio::time::sleep(Duration::from_millis(1_200)).await;
}

/// Seconds in the current calendar month (UTC), as `w=` reports it.
fn window_seconds_now() -> i64 {
    use chrono::{Datelike, TimeZone, Utc};
    let now = Utc::now();
    let start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let end = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).unwrap();
    (end - start).num_seconds()
}

#[tokio::test]
async fn a_keys_rate_limit_answers_429_rate_limited_and_usage_is_reported() {
    let server = crate::common::start().await;
    let (owner, app) = owner_with_app(&server, &[]).await;
    let (manager_id, manager) = dashboard_key(
        &owner,
        &server.base,
        &app,
        "test",
        Some(&["api_keys:write", "usage:read"]),
    )
    .await;
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/v1/api-keys", server.base))
        .bearer_auth(&manager)
        .json(&json!({
            "name": "Agent", "mode": "test", "key_type": "restricted",
            "scopes": ["usage:read"], "rate_limit": { "requests": 2, "per": "minute" },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        created["key"]["rate_limit"],
        json!({ "requests": 2, "per": "minute" })
    );
    let agent = created["plaintext"].as_str().unwrap().to_owned();
    let mut codes = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let answer = whoami(&server.base, &agent).await;
        codes.push(answer.status().as_u16());
        last = Some(answer);
    }
    assert_eq!(codes, [200, 200, 429]);
    let refused = last.unwrap();
    assert!(
        refused.headers()["ratelimit-policy"]
            .to_str()
            .unwrap()
            .starts_with("\"key\";q=2;w=60")
    );
    let retry_after: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    // A bad limit is refused beside its field, and nothing is created.
    let bad = client
        .post(format!("{}/v1/api-keys", server.base))
        .bearer_auth(&manager)
        .json(&json!({
            "name": "Flood", "mode": "test", "key_type": "restricted",
            "scopes": ["usage:read"], "rate_limit": { "requests": 0, "per": "second" },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "rate_limit");

    // The calls are counted per day (flushed about once a second): the agent's two
    // admitted calls (the refused one is not counted), the manager's 422 as a failure.
    let agent_id = created["key"]["id"].as_str().unwrap().to_owned();
    let usage_of = |key_id: String| {
        let client = client.clone();
        let url = format!("{}/v1/usage?mode=test&key_id={key_id}", server.base);
        let manager = manager.clone();
        async move {
            client
                .get(url)
                .bearer_auth(manager)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let flushed_at = Instant::now();
    let report = loop {
        let report = usage_of(agent_id.clone()).await;
        if report["total_successes"] == json!(2) {
            break report;
        }
        assert!(flushed_at.elapsed() < Duration::from_secs(5), "{report}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(report["total_failures"], json!(0));
    assert_eq!(report["mode"], "test");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let days = report["days"].as_array().unwrap();
    let counted = days.iter().find(|day| day["day"] == json!(today)).unwrap();
    assert_eq!(counted["successes"], json!(2));
    assert!(days.len() >= 28, "every day of the billing window");
    assert_eq!(usage_of(manager_id).await["total_failures"], json!(1));

    let wrong = client
        .get(format!("{}/v1/usage?from=yesterday", server.base))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
}
