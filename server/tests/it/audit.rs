//! `GET /v1/audit-events` against the real binary: the scope, a key's own
//! app and mode, each filter as a query parameter, refusals that name the field, and
//! paging through with the cursor while events are recorded.

use crate::common::*;
use serde_json::{Value, json};

/// The ids of a page's events.
fn event_ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The scope the audit route needs.
const READ: &str = "audit_events:read";

/// A key of the app, of `mode`, holding only `scope`: answers `(id, plaintext)`.
async fn scoped_key(
    owner: &reqwest::Client,
    server: &Server,
    app_id: &str,
    mode: &str,
    scope: &str,
) -> (String, String) {
    dashboard_key(owner, &server.base, app_id, mode, Some(&[scope])).await
}

async fn rename_key(owner: &reqwest::Client, server: &Server, key_id: &str, name: &str) {
    let (status, body) = server_fn(
        owner,
        &server.base,
        "update_api_key",
        json!({ "key_id": key_id, "update": { "name": name } }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_key_reads_its_apps_trail_by_filter_and_cursor() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (writer_id, writer) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;
    let (reader_id, reader) = scoped_key(&owner, &server, &app_id, "live", READ).await;
    let (_, test_reader) = scoped_key(&owner, &server, &app_id, "test", READ).await;
    let (_, keys_only) = scoped_key(&owner, &server, &app_id, "live", "api_keys:read").await;
    for name in ["Orders", "Orders v2", "Orders v3"] {
        rename_key(&owner, &server, &writer_id, name).await;
    }
    let sent = reqwest::Client::new()
        .post(format!("{}/v1/events", server.base))
        .bearer_auth(&writer)
        .json(
            &json!({ "type": "payment_intent.succeeded", "data": { "id": "pi_42", "amount": 10 } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);

    // The scope is named when it is missing.
    let (status, refused) = get_json(&server, "/v1/audit-events", &keys_only).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "insufficient_scope");
    assert_eq!(
        refused["error"]["details"]["required_scope"],
        "audit_events:read"
    );

    // Everything the live reader sees is its app's, live, newest first.
    let (status, all) = get_json(&server, "/v1/audit-events", &reader).await;
    assert_eq!(status, 200, "{all}");
    let events = all["data"].as_array().unwrap();
    assert_eq!(all["has_more"], false);
    assert!(all["next_cursor"].is_null());
    let types: Vec<&str> = events
        .iter()
        .map(|event| event["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "event.sent",
            "api_key.updated",
            "api_key.updated",
            "api_key.updated",
            "api_key.created",
            "api_key.created",
            "api_key.created",
            "app.created",
        ],
        "the test key's creation is not the live reader's to see"
    );
    assert!(
        events
            .iter()
            .all(|event| event["app_id"] == app_id.as_str() && event["mode"] == "live")
    );
    let renamed = &events[3];
    assert_eq!(renamed["before"]["name"], "Integration");
    assert_eq!(renamed["after"]["name"], "Orders");
    assert_eq!(renamed["related_ids"]["key_id"], writer_id.as_str());

    // The test key sees only the test side.
    let (_, test_side) = get_json(&server, "/v1/audit-events", &test_reader).await;
    assert_eq!(test_side["data"].as_array().unwrap().len(), 1);
    assert_eq!(test_side["data"][0]["mode"], "test");

    // Each filter, as a query parameter.
    let (_, updated) = get_json(
        &server,
        "/v1/audit-events?event_type=api_key.updated",
        &reader,
    )
    .await;
    assert_eq!(event_ids(&updated), event_ids(&all)[1..4]);
    let (_, about_writer) = get_json(
        &server,
        &format!("/v1/audit-events?related_id={writer_id}"),
        &reader,
    )
    .await;
    assert_eq!(about_writer["data"].as_array().unwrap().len(), 4);
    let (_, about_payment) = get_json(&server, "/v1/audit-events?related_id=pi_42", &reader).await;
    assert_eq!(about_payment["data"][0]["event_type"], "event.sent");
    assert_eq!(about_payment["data"][0]["actor_id"], writer_id.as_str());
    let (_, by_writer) = get_json(
        &server,
        &format!("/v1/audit-events?actor_id={writer_id}"),
        &reader,
    )
    .await;
    assert_eq!(event_ids(&by_writer), event_ids(&all)[..1]);
    let (_, by_reader) = get_json(
        &server,
        &format!("/v1/audit-events?actor_id={reader_id}"),
        &reader,
    )
    .await;
    assert!(by_reader["data"].as_array().unwrap().is_empty());
    let (_, in_range) = get_json(
        &server,
        "/v1/audit-events?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
        &reader,
    )
    .await;
    assert_eq!(event_ids(&in_range), event_ids(&all));
    let (_, later) = get_json(
        &server,
        "/v1/audit-events?from=2100-01-01T00:00:00Z",
        &reader,
    )
    .await;
    assert!(later["data"].as_array().unwrap().is_empty());

    // Paging through, with an event recorded between pages: nothing shifts.
    let mut seen = Vec::new();
    let mut path = "/v1/audit-events?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = get_json(&server, &path, &reader).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        seen.extend(event_ids(&page));
        rename_key(&owner, &server, &writer_id, &format!("Page {pages}")).await;
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/audit-events?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, event_ids(&all));
    let (_, again) = get_json(&server, "/v1/audit-events?limit=3", &reader).await;
    assert_eq!(again["data"][0]["after"]["name"], "Page 3");
}

#[tokio::test]
async fn a_bad_query_is_refused_naming_the_field() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, reader) = scoped_key(&owner, &server, &app_id, "live", READ).await;
    // What cannot be read at all: 400 bad_request, the message names the parameter.
    for (query, field) in [
        ("event_type=api_key.exploded", "event_type"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("limit=many", "limit"),
    ] {
        let (status, body) = get_json(&server, &format!("/v1/audit-events?{query}"), &reader).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")),
            "{query}: {message}"
        );
        assert!(!message.contains("exploded") && !message.contains("yesterday"));
    }
    let (status, body) = get_json(&server, "/v1/audit-events?colour=red", &reader).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    // What reads but is not allowed: 422 validation_failed with the field.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("actor_id=someone", "actor_id"),
        ("related_id=a%20b", "related_id"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
        ("cursor=aud_01jaaaaaaaaaaaaaaaaaaaaaaa", "cursor"),
    ] {
        let (status, body) = get_json(&server, &format!("/v1/audit-events?{query}"), &reader).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"], field,
            "{query}"
        );
    }
}
