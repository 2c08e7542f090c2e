//! `GET /openapi.json` against the real binary: OpenAPI 3.1 with every route
//! of the README's API table and its scope, the three security schemes, the error schema
//! and the scope catalog; then the document held against what the server does: every
//! documented scope is the one a key without it is refused for, every operation that
//! needs a key refuses a call without one, and no documented path answers a method the
//! document leaves out. The document is written to `target/tmp/openapi.json`, which
//! `./dev test` hands to the OpenAPI validator.

use crate::common::*;
use gatehouse_model::ErrorCode;
use serde_json::{Value, json};

/// The README's API table: method, path and what the route needs (`"any key"` for any
/// key or token, `"none"` for an open route).
const README_ROUTES: &[(&str, &str, &str)] = &[
    ("get", "/v1/apps", "apps:read"),
    ("get", "/v1/apps/{id}", "apps:read"),
    ("patch", "/v1/apps/{id}", "apps:write"),
    ("post", "/v1/apps", "apps:write"),
    ("get", "/v1/api-keys", "api_keys:read"),
    ("get", "/v1/api-keys/{id}", "api_keys:read"),
    ("post", "/v1/api-keys", "api_keys:write"),
    ("patch", "/v1/api-keys/{id}", "api_keys:write"),
    ("delete", "/v1/api-keys/{id}", "api_keys:write"),
    ("post", "/v1/api-keys/{id}/disable", "api_keys:write"),
    ("post", "/v1/api-keys/{id}/enable", "api_keys:write"),
    ("post", "/v1/api-keys/{id}/revoke", "api_keys:write"),
    ("post", "/v1/api-keys/{id}/rotate", "api_keys:write"),
    ("post", "/v1/api-keys/{id}/duplicate", "api_keys:write"),
    ("post", "/v1/auth/token", "any key"),
    ("get", "/v1/whoami", "any key"),
    ("post", "/v1/keys/verify", "none"),
    ("get", "/v1/webhook-endpoints", "webhook_endpoints:read"),
    (
        "get",
        "/v1/webhook-endpoints/{id}",
        "webhook_endpoints:read",
    ),
    (
        "get",
        "/v1/webhook-endpoints/{id}/deliveries",
        "webhook_endpoints:read",
    ),
    ("post", "/v1/webhook-endpoints", "webhook_endpoints:write"),
    (
        "patch",
        "/v1/webhook-endpoints/{id}",
        "webhook_endpoints:write",
    ),
    (
        "delete",
        "/v1/webhook-endpoints/{id}",
        "webhook_endpoints:write",
    ),
    (
        "post",
        "/v1/webhook-endpoints/{id}/disable",
        "webhook_endpoints:write",
    ),
    (
        "post",
        "/v1/webhook-endpoints/{id}/enable",
        "webhook_endpoints:write",
    ),
    (
        "post",
        "/v1/webhook-endpoints/{id}/rotate-secret",
        "webhook_endpoints:write",
    ),
    (
        "post",
        "/v1/webhook-endpoints/{id}/test",
        "webhook_endpoints:write",
    ),
    (
        "post",
        "/v1/webhook-endpoints/{id}/replay",
        "webhook_endpoints:write",
    ),
    ("post", "/v1/events", "events:write"),
    ("get", "/v1/events", "events:read"),
    ("get", "/v1/events/{id}", "events:read"),
    ("get", "/v1/usage", "usage:read"),
    ("get", "/v1/audit-events", "audit_events:read"),
    ("get", "/v1/ping", "none"),
];

const SCHEMES: [&str; 3] = ["bearer", "x_api_key", "authorization_x_api_key"];
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn fetch_document(server: &Server) -> Value {
    let response = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// Every operation of the document: (method, path, operation).
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all
}

/// The operation's path with each `{parameter}` replaced by its schema's example id.
fn concrete_path(document: &Value, path: &str, operation: &Value) -> String {
    let mut concrete = path.to_owned();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] != "path" {
            continue;
        }
        let reference = parameter["schema"]["$ref"].as_str().unwrap();
        let schema = &document["components"]["schemas"][reference.rsplit('/').next().unwrap()];
        let example = schema["examples"][0].as_str().unwrap();
        let name = parameter["name"].as_str().unwrap();
        concrete = concrete.replace(&format!("{{{name}}}"), example);
    }
    concrete
}

fn request_example(operation: &Value) -> Option<Value> {
    let example = &operation["requestBody"]["content"]["application/json"]["example"];
    (!example.is_null()).then(|| example.clone())
}

async fn send(
    server: &Server,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", server.base));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_every_route_its_scope_schemes_and_errors() {
    let server = start().await;
    let document = fetch_document(&server).await;
    let written = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi.json");
    std::fs::write(&written, serde_json::to_vec_pretty(&document).unwrap()).unwrap();

    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        document["openapi"]
    );
    for (method, path, needs) in README_ROUTES {
        let operation = &document["paths"][path][method];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the document"
        );
        let security = operation["security"].as_array().unwrap();
        match *needs {
            "none" => assert!(security.is_empty(), "{method} {path}: {security:?}"),
            "any key" => {
                let expected: Vec<Value> =
                    SCHEMES.iter().map(|name| json!({ *name: [] })).collect();
                assert_eq!(security, &expected, "{method} {path}");
                assert!(operation.get("x-required-scope").is_none());
            }
            scope => {
                let expected: Vec<Value> = SCHEMES
                    .iter()
                    .map(|name| json!({ *name: [scope] }))
                    .collect();
                assert_eq!(security, &expected, "{method} {path}");
                assert_eq!(operation["x-required-scope"], *scope, "{method} {path}");
                let description = operation["description"].as_str().unwrap();
                assert!(
                    description.contains(&format!("`{scope}`")),
                    "{method} {path}"
                );
            }
        }
        if *needs != "none" {
            let refused = &operation["responses"]["401"];
            assert_eq!(
                refused["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
            let codes = refused["x-error-codes"].as_array().unwrap();
            assert!(codes.contains(&json!("api_key_missing")), "{method} {path}");
        }
    }

    // Every list states the bounds it enforces on its page, and documents the 422 a
    // value of the right type but out of them gets.
    for (path, prefix) in [
        ("/v1/apps", "app_"),
        ("/v1/api-keys", "key_"),
        ("/v1/webhook-endpoints", "ep_"),
        ("/v1/events", "evt_"),
        ("/v1/audit-events", "aud_"),
        ("/v1/request-logs", "req_"),
    ] {
        let operation = &document["paths"][path]["get"];
        let parameter = |name: &str| {
            operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|parameter| parameter["name"] == name)
                .unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
                .clone()
        };
        let limit = parameter("limit");
        assert_eq!(
            (&limit["minimum"], &limit["maximum"]),
            (&json!(1), &json!(100)),
            "{path}"
        );
        let cursor = parameter("cursor");
        // Only the ids of what the list holds: a cursor of another list's kind is
        // refused, and the schema says so.
        assert_eq!(
            cursor["pattern"],
            format!("^{prefix}[0-9a-hjkmnp-tv-z]{{26}}$"),
            "{path}"
        );
        let refused = operation["responses"]["422"]["x-error-codes"].as_array();
        assert!(
            refused.is_some_and(|codes| codes.contains(&json!("validation_failed"))),
            "{path}"
        );
    }

    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(
        (
            &schemes["x_api_key"]["type"],
            &schemes["x_api_key"]["in"],
            &schemes["x_api_key"]["name"]
        ),
        (&json!("apiKey"), &json!("header"), &json!("x-api-key"))
    );
    assert_eq!(schemes["authorization_x_api_key"]["name"], "Authorization");
    assert!(
        schemes["authorization_x_api_key"]["description"]
            .as_str()
            .unwrap()
            .contains("x-api-key <key>")
    );

    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["ErrorBody"]["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorDetail"
    );
    assert_eq!(
        schemas["ErrorDetail"]["required"],
        json!(["code", "message"])
    );
    assert!(schemas["ErrorDetail"]["properties"]["details"].is_object());
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    assert_eq!(schemas["ErrorCode"]["enum"], json!(codes));
    // Enums travel as their wire strings, not as the Rust names.
    assert_eq!(schemas["KeyMode"]["enum"], json!(["live", "test"]));

    assert_eq!(document["x-scopes"]["apps:read"], "Apps: read");
    assert_eq!(
        document["x-scope-catalog"]["default_scopes"],
        json!(["payment_intents:read", "reconciliation_cases:read"])
    );
}

#[tokio::test]
async fn documented_scopes_and_authentication_are_what_the_server_enforces() {
    let server = start().await;
    let document = fetch_document(&server).await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    // A key whose one scope no `/v1` route needs.
    let (_, key) = dashboard_key(
        &owner,
        &server.base,
        &app_id,
        "live",
        Some(&["payouts:read"]),
    )
    .await;
    for (method, path, operation) in operations(&document) {
        let concrete = concrete_path(&document, &path, &operation);
        let body = request_example(&operation);
        let needs_key = !operation["security"].as_array().unwrap().is_empty();
        let (status, answer) = send(&server, &method, &concrete, None, body.clone()).await;
        if path.starts_with("/operator/") {
            // The operator's API takes operator tokens only (see the operator tests):
            // nothing, or a tenant's key, is refused before any scope is looked at.
            assert_eq!(
                (status, answer["error"]["code"].as_str()),
                (401, Some("operator_token_missing")),
                "{method} {path} without a token"
            );
            let (status, answer) = send(&server, &method, &concrete, Some(&key), body).await;
            assert_eq!(
                (status, answer["error"]["code"].as_str()),
                (401, Some("operator_token_invalid")),
                "{method} {path} with a tenant's key"
            );
            continue;
        }
        if needs_key {
            assert_eq!(
                (status, answer["error"]["code"].as_str()),
                (401, Some("api_key_missing")),
                "{method} {path} without a key"
            );
        } else {
            assert!(
                status < 400,
                "{method} {path} is documented as open: {status} {answer}"
            );
            continue;
        }
        let (status, answer) = send(&server, &method, &concrete, Some(&key), body).await;
        match operation["x-required-scope"].as_str() {
            Some(scope) => {
                assert_eq!(
                    (status, answer["error"]["code"].as_str()),
                    (403, Some("insufficient_scope")),
                    "{method} {path}: {answer}"
                );
                assert_eq!(
                    answer["error"]["details"]["required_scope"], scope,
                    "{method} {path}: the document names another scope than the server needs"
                );
            }
            None => assert!(
                status < 400,
                "{method} {path} is documented for any key: {status} {answer}"
            ),
        }
    }
}

#[tokio::test]
async fn no_documented_path_answers_a_method_the_document_leaves_out() {
    let server = start().await;
    let document = fetch_document(&server).await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;
    for (path, item) in document["paths"].as_object().unwrap() {
        let any_operation = item.as_object().unwrap().values().next().unwrap();
        let concrete = concrete_path(&document, path, any_operation);
        for method in METHODS {
            if item.get(method).is_some() {
                continue;
            }
            let (status, answer) = send(&server, method, &concrete, Some(&key), None).await;
            assert_eq!(
                (status, answer["error"]["code"].as_str()),
                (405, Some("method_not_allowed")),
                "{} {path} is served but not in the document",
                method.to_ascii_uppercase()
            );
        }
    }
}
