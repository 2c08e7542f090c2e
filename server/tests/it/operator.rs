//! The operator's API and sign-in links against the real binary: tokens made by the
//! CLI, every refusal a wrong credential gets, idempotent creates, links opened once
//! (twenty at a time), role changes and removals, and the framing policy.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

/// Makes an operator token with the CLI; answers its plaintext (the last line printed).
fn operator_token(server: &Server, name: &str, scopes: Option<&str>) -> String {
    let mut arguments = vec!["create-operator-token", "--name", name];
    if let Some(scopes) = scopes {
        arguments.extend(["--scopes", scopes]);
    }
    let printed = gatehouse_command(server, &arguments);
    let token = printed.lines().last().unwrap().trim().to_owned();
    assert!(token.starts_with("op_"), "{printed}");
    token
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = client().request(method, format!("{}{path}", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn post(server: &Server, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, body) =
        call(server, reqwest::Method::POST, path, Some(token), Some(body)).await;
    (status, body)
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn only_operator_tokens_open_the_operator_api_with_their_scopes() {
    let server = start().await;
    let token = operator_token(&server, "billing-service", None);
    let links_only = operator_token(&server, "portal", Some("sign_in_links:create"));
    let tenants = "/operator/v1/tenants";

    // Missing, wrong and a tenant's key: 401.
    let (status, _, body) = call(&server, reqwest::Method::GET, tenants, None, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "operator_token_missing")
    );
    let typo = format!("{}x", &token[..token.len() - 1]);
    let (status, _, body) = call(&server, reqwest::Method::GET, tenants, Some(&typo), None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "operator_token_invalid")
    );
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;
    let (status, _, body) = call(&server, reqwest::Method::GET, tenants, Some(&key), None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "operator_token_invalid")
    );
    // An operator token on /v1: 401 too.
    let (status, body) = get_json(&server, "/v1/apps", &token).await;
    assert_eq!(status, 401, "{body}");

    // A token without the scope: 403 naming it.
    let account = json!({ "name": "Acme Inc", "external_id": "acct_1042" });
    let (status, body) = post(&server, tenants, &links_only, account.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), "insufficient_scope");
    assert_eq!(body["error"]["details"]["required_scope"], "tenants:write");

    // Idempotent creates: the same key and body answer the same tenant.
    let create = |body: Value, key: &'static str| {
        let request = client()
            .post(format!("{}{tenants}", server.base))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let first = create(account.clone(), "create-acct-1042").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["external_id"], "acct_1042");
    let again = create(account.clone(), "create-acct-1042").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let reused = create(
        json!({ "name": "Other", "external_id": "acct_7" }),
        "create-acct-1042",
    )
    .await;
    assert_eq!(reused.status(), StatusCode::CONFLICT);
    assert_eq!(
        error_code(&reused.json().await.unwrap()),
        "idempotency_key_reused"
    );

    // Read by id and by external_id, then change one field.
    let id = first["id"].as_str().unwrap();
    let (status, _, read) = call(
        &server,
        reqwest::Method::GET,
        &format!("{tenants}/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((status, &read), (StatusCode::OK, &first));
    let (_, _, found) = call(
        &server,
        reqwest::Method::GET,
        &format!("{tenants}?external_id=acct_1042"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");
    let (status, _, changed) = call(
        &server,
        reqwest::Method::PATCH,
        &format!("{tenants}/{id}"),
        Some(&token),
        Some(json!({ "plan": "enterprise" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["plan"].as_str(), changed["name"].as_str()),
        (Some("enterprise"), Some("Acme Inc"))
    );
    // Bad input: a clear error naming the field, nothing made.
    let (status, body) = post(
        &server,
        tenants,
        &token,
        json!({ "name": "", "external_id": "has space" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "validation_failed");

    // No CORS: a browser's preflight gets no permission.
    let preflight = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}{tenants}", server.base),
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // The CLI lists tokens without their secrets; a revoked one fails at once.
    let listed = gatehouse_command(&server, &["list-operator-tokens"]);
    assert!(
        listed.contains("billing-service") && !listed.contains(&token),
        "{listed}"
    );
    let token_id = listed
        .lines()
        .find(|line| line.contains("billing-service"))
        .and_then(|line| line.split_whitespace().next())
        .unwrap()
        .to_owned();
    gatehouse_command(&server, &["revoke-operator-token", "--id", &token_id]);
    let (status, _, body) = call(&server, reqwest::Method::GET, tenants, Some(&token), None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "operator_token_invalid")
    );
}

/// Opens `url` without following the redirect: the status, where it goes, the cookie.
async fn open(
    url: &str,
) -> (
    StatusCode,
    String,
    Option<String>,
    reqwest::header::HeaderMap,
) {
    let response = client().get(url).send().await.unwrap();
    let headers = response.headers().clone();
    let location = headers
        .get("location")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let cookie = headers
        .get("set-cookie")
        .map(|value| value.to_str().unwrap().to_owned());
    (response.status(), location, cookie, headers)
}

/// The viewer the session cookie `cookie` (a `Set-Cookie` value) is signed in as.
async fn viewer_of(server: &Server, cookie: &str) -> (u16, Value) {
    let pair = cookie.split(';').next().unwrap().to_owned();
    let response = reqwest::Client::new()
        .post(format!("{}/api/current_viewer", server.base))
        .header("cookie", pair)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_sign_in_link_opens_one_session_on_its_page_and_never_reaches_a_log() {
    let server = start_with_env(&[
        ("GATEHOUSE_LOG", "debug"),
        ("GATEHOUSE_EMBED_ORIGINS", "http://localhost:4000"),
        ("GATEHOUSE_RETURN_URL", "http://localhost:4000/settings"),
    ])
    .await;
    let token = operator_token(&server, "portal", None);
    let (_, tenant) = post(
        &server,
        "/operator/v1/tenants",
        &token,
        json!({ "name": "Acme Inc", "external_id": "acct_1" }),
    )
    .await;
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    let links = format!("/operator/v1/tenants/{tenant_id}/sign-in-links");
    let person = json!({
        "email": "dana@acme.example", "name": "<b>Dana</b>", "role": "manager", "path": "api-keys"
    });
    let (status, link) = post(&server, &links, &token, person.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/sign-in/", server.base)),
        "{url}"
    );

    // Twenty at once: one session, on the page asked for; the rest see the spent page.
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { open(&url).await })
        })
        .collect();
    let mut openings = Vec::new();
    for handle in handles {
        openings.push(handle.await.unwrap());
    }
    let signed_in: Vec<_> = openings
        .iter()
        .filter(|opening| opening.2.is_some())
        .collect();
    assert_eq!(signed_in.len(), 1, "{openings:?}");
    let (status, location, cookie, headers) = signed_in[0];
    assert_eq!(*status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/settings/developers/api-keys");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    let cookie = cookie.clone().unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=None",
        "Secure",
        "Partitioned",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    for (status, location, _, _) in openings.iter().filter(|opening| opening.2.is_none()) {
        assert_eq!(
            (*status, location.as_str()),
            (StatusCode::SEE_OTHER, "/sign-in/expired")
        );
    }
    // The spent page says so, with the way back to the SaaS, and loads no code.
    let spent = reqwest::get(format!("{}/sign-in/expired", server.base))
        .await
        .unwrap();
    assert_eq!(spent.status(), 200);
    let page = spent.text().await.unwrap();
    assert!(page.contains("This sign-in link has expired"), "{page}");
    assert!(
        page.contains("href=\"http://localhost:4000/settings\""),
        "{page}"
    );
    assert!(!page.contains(".wasm") && !page.contains(".js\""), "{page}");

    // The session is an embedded one, in that tenant, with the name kept as text.
    let (status, viewer) = viewer_of(&server, &cookie).await;
    assert_eq!(status, 200, "{viewer}");
    assert_eq!(viewer["tenant_id"], tenant_id.as_str());
    assert_eq!(viewer["role"], "manager");
    assert_eq!(viewer["embedded"], true);
    assert_eq!(viewer["frame_origins"], json!(["http://localhost:4000"]));
    let (_, people) = {
        let (status, _, body) = call(
            &server,
            reqwest::Method::GET,
            &format!("/operator/v1/tenants/{tenant_id}/people"),
            Some(&token),
            None,
        )
        .await;
        (status, body)
    };
    assert_eq!(people["data"][0]["name"], "<b>Dana</b>");
    let user_id = people["data"][0]["id"].as_str().unwrap().to_owned();

    // A role change holds from the next request; a removal ends the session.
    let (status, _) = post(
        &server,
        &format!("/operator/v1/tenants/{tenant_id}/people"),
        &token,
        json!({ "email": "dana@acme.example", "role": "member" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, viewer) = viewer_of(&server, &cookie).await;
    assert_eq!(
        (
            viewer["role"].as_str(),
            viewer["can_open_developers"].as_bool()
        ),
        (Some("member"), Some(false))
    );
    let (status, _, _) = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/operator/v1/tenants/{tenant_id}/people/{user_id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, viewer) = viewer_of(&server, &cookie).await;
    assert_eq!(viewer, Value::Null, "signed out: no viewer");

    // A crafted path is refused; a 1 MB name costs a 413 or a 422, nothing stored.
    let (status, body) = post(
        &server,
        &links,
        &token,
        json!({ "email": "x@acme.example", "role": "owner", "path": "//evil.example" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "path");
    let (status, _) = post(
        &server,
        &links,
        &token,
        json!({ "email": "x@acme.example", "role": "owner", "name": "x".repeat(1_000_000) }),
    )
    .await;
    assert!(
        [
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNPROCESSABLE_ENTITY
        ]
        .contains(&status),
        "{status}"
    );

    // The dashboard may be framed by the SaaS's origin only.
    let page = reqwest::get(format!("{}/login", server.base))
        .await
        .unwrap();
    assert_eq!(
        page.headers()["content-security-policy"],
        "frame-ancestors 'self' http://localhost:4000"
    );
    assert!(page.headers().get("x-frame-options").is_none());

    // The link's token is in no log line, though requests are traced at debug.
    let link_token = url.rsplit('/').next().unwrap();
    let log = server.log();
    assert!(log.contains("/sign-in/"), "the trace shows the route");
    assert!(
        !log.contains(link_token),
        "the link's token reached the log"
    );
}

/// Polls `GET /v1/apps` with `key` until it answers `status` (tenant changes reach a
/// running server within a second); answers the last body.
async fn apps_answer(server: &Server, key: &str, status: u16) -> Value {
    let mut last = Value::Null;
    for _ in 0..40 {
        let (answered, body) = get_json(server, "/v1/apps", key).await;
        if answered == status {
            return body;
        }
        last = body;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/v1/apps never answered {status}: {last}");
}

#[tokio::test]
async fn suspension_refuses_keys_until_it_is_lifted() {
    let server = start().await;
    let token = operator_token(&server, "billing-service", None);
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, key) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;
    let (_, tenants) = {
        let (status, _, body) = call(
            &server,
            reqwest::Method::GET,
            "/operator/v1/tenants",
            Some(&token),
            None,
        )
        .await;
        (status, body)
    };
    let demo = tenants["data"][0]["id"].as_str().unwrap().to_owned();
    apps_answer(&server, &key, 200).await;

    let (status, _, changed) = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/operator/v1/tenants/{demo}"),
        Some(&token),
        Some(json!({ "suspended": true })),
    )
    .await;
    assert_eq!(
        (status, changed["suspended"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let refused = apps_answer(&server, &key, 403).await;
    assert_eq!(error_code(&refused), "tenant_suspended");
    let verified = verify_key(&server.base, &key).await;
    assert_eq!(verified["code"], "TENANT_SUSPENDED", "{verified}");
    // The dashboard reads, and refuses changes with the same code.
    let (status, viewer) = server_fn(&owner, &server.base, "current_viewer", json!({})).await;
    assert_eq!((status, viewer["suspended"].as_bool()), (200, Some(true)));
    let (status, refused) = server_fn(
        &owner,
        &server.base,
        "create_app",
        json!({ "input": { "name": "More", "description": "", "allowed_origins": [] } }),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("tenant_suspended")),
        "{refused}"
    );

    let (status, _, _) = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/operator/v1/tenants/{demo}"),
        Some(&token),
        Some(json!({ "suspended": false })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    apps_answer(&server, &key, 200).await;
}

#[tokio::test]
async fn the_saas_brand_reaches_every_page_as_css_variables() {
    let server = start_with_env(&[
        ("GATEHOUSE_BRAND_NAME", "Acme </style>"),
        ("GATEHOUSE_BRAND_ACCENT", "#1d4ed8"),
        (
            "GATEHOUSE_BRAND_LOGO_URL",
            "https://cdn.acme.example/logo.svg",
        ),
    ])
    .await;
    for page in ["/login", "/sign-in/expired"] {
        let html = reqwest::get(format!("{}{page}", server.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let style = html
            .split("<style id=\"brand\">")
            .nth(1)
            .and_then(|rest| rest.split("</style>").next())
            .unwrap_or_else(|| panic!("{page} has no brand style: {html}"));
        assert!(style.contains("--accent: #1d4ed8;"), "{style}");
        assert!(
            style.contains("--brand-name: \"Acme \\3c \\2f style\\3e \";"),
            "{style}"
        );
        assert!(style.contains("--brand-logo: url(\"https\\3a "), "{style}");
    }

    // An accent white text cannot be read on stops the start, saying why.
    let data = std::env::temp_dir().join(format!("gatehouse-brand-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/gatehouse.db", data.display()),
        )
        .env("GATEHOUSE_BRAND_ACCENT", "#ffcc00")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&data);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("GATEHOUSE_BRAND_ACCENT") && stderr.contains("1.5:1"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_tenant_purge_killed_midway_finishes_after_a_restart() {
    let mut server = start().await;
    let token = operator_token(
        &server,
        "offboarding",
        Some("tenants:read,tenants:write,tenants:delete"),
    );
    let (status, tenant) = post(
        &server,
        "/operator/v1/tenants",
        &token,
        json!({ "name": "Leaving Inc", "external_id": "acct_leaving" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{tenant}");
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    // A big history, written straight into the server's database.
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&server.sqlite_url())
        .await
        .unwrap();
    let rows: i64 = 100_000;
    for statement in [
        "INSERT INTO audit_events (id, tenant_id, occurred_at, actor_type, actor_id, actor_label,
            event_type, message, app_id, mode, related_ids, before_state, after_state)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         SELECT 'aud_bulk_' || CAST(i AS TEXT), $1, i, 'system', NULL, 'Gatehouse', 'app.updated',
            'bulk', NULL, NULL, '{}', NULL, NULL FROM n",
        "INSERT INTO usage_hourly (tenant_id, app_id, key_id, mode, hour_start, successes, failures)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         SELECT $1, 'app_x', 'key_x', 'live', i * 3600000, 1, 0 FROM n",
    ] {
        sqlx::query(statement)
            .bind(&tenant_id)
            .bind(rows)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    let (status, _, started) = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/operator/v1/tenants/{tenant_id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert_eq!(started["state"], "running");
    let (status, _, _) = call(
        &server,
        reqwest::Method::GET,
        &format!("/operator/v1/tenants/{tenant_id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a deleted tenant is gone at once"
    );
    let purge_path = format!("/operator/v1/tenants/{tenant_id}/purge");
    // kill -9 as soon as the purge has removed something, and before it finished.
    let mut killed_at = None;
    for _ in 0..500 {
        let (_, _, purge) = call(
            &server,
            reqwest::Method::GET,
            &purge_path,
            Some(&token),
            None,
        )
        .await;
        if purge["total_removed"].as_i64().unwrap_or(0) > 0 {
            server.child.kill().unwrap();
            server.child.wait().unwrap();
            killed_at = Some(purge);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let killed_at = killed_at.expect("the purge never started");
    assert_eq!(
        killed_at["state"], "running",
        "finished before the kill: {killed_at}"
    );
    let data = server.data.0.clone();
    std::mem::forget(server);
    let restarted = start_on(&format!("sqlite://{}/gatehouse.db", data.display()), data).await;
    let mut finished = Value::Null;
    for _ in 0..300 {
        let (_, _, purge) = call(
            &restarted,
            reqwest::Method::GET,
            &purge_path,
            Some(&token),
            None,
        )
        .await;
        if purge["state"] == "finished" {
            finished = purge;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(finished["state"], "finished", "the purge did not resume");
    // The bulk, and the tenant's creation and deletion.
    assert_eq!(finished["removed"]["audit_events"], rows + 2, "{finished}");
    assert_eq!(finished["removed"]["usage_hourly"], rows, "{finished}");
    assert_eq!(finished["removed"]["tenants"], 2, "{finished}");
    assert_eq!(finished["external_id"], "acct_leaving");
    assert_eq!(finished["requested_by"], "operator:offboarding");
}
