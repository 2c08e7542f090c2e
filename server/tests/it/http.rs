//! HTTP tests against the real `gatehouse` binary on a free port, with a fresh SQLite
//! database: /health, sign-in cookies, CSRF refusal, sessions and tenancy over HTTP.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn health_reports_ok_with_time_and_version() {
    let server = start().await;
    let response = reqwest::get(format!("{}/health", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["checked_at"].as_str().unwrap().contains('T'));
}

#[tokio::test]
async fn sign_in_sets_a_safe_cookie_and_sign_out_kills_the_session() {
    let server = start().await;
    let client = same_origin_client();
    let response = sign_in(&client, &server.base, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("gatehouse_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http gets no Secure flag");
    let token = cookie.split(';').next().unwrap().to_owned();

    let apps = client
        .post(format!("{}/api/load_apps", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(apps.status(), 200);
    let body: Value = apps.json().await.unwrap();
    assert_eq!(body["apps"], json!([]));

    let second = same_origin_client();
    let response = sign_in(&second, &server.base, PASSWORD).await;
    let second_cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        !second_cookie.starts_with(&token),
        "each sign-in gets a new session id"
    );

    let out = client
        .post(format!("{}/api/sign_out", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    // Replaying the old cookie by hand: the server no longer knows the session.
    let replay = reqwest::Client::new()
        .post(format!("{}/api/load_apps", server.base))
        .header("cookie", &token)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
}

#[tokio::test]
async fn wrong_passwords_get_one_answer_and_no_cookie() {
    let server = start().await;
    let client = same_origin_client();
    let response = sign_in(&client, &server.base, "wrong-password-here").await;
    assert!(response.headers().get("set-cookie").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_credentials");
    assert_eq!(body["message"], "Invalid email or password.");
}

/// What a browser does with the sign-in page, which is plain HTML (no script, no wasm):
/// its own form posts are answered with redirects, and a failure is shown on the form
/// once, with the email kept and the password not.
#[tokio::test]
async fn the_sign_in_form_works_as_plain_html() {
    let server = start().await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
    headers.insert("accept", "text/html,application/xhtml+xml".parse().unwrap());
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    let page = |browser: &reqwest::Client| {
        let browser = browser.clone();
        let url = format!("{}/login", server.base);
        async move { browser.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let form = page(&browser).await;
    assert!(form.contains(r#"action="/api/sign_in""#), "{form}");
    // Leptos's inline state scripts aside, nothing is loaded: no JS module, no wasm.
    assert!(
        !form.contains(".js") && !form.contains(".wasm") && !form.contains("modulepreload"),
        "the sign-in page loads no code: {form}"
    );

    let refused = browser
        .post(format!("{}/api/sign_in", server.base))
        .form(&[("email", OWNER), ("password", "wrong-password-here")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 302);
    assert_eq!(refused.headers()["location"], "/login");
    let shown = page(&browser).await;
    assert!(shown.contains("Invalid email or password."), "{shown}");
    assert!(shown.contains(&format!(r#"value="{OWNER}""#)), "{shown}");
    assert!(!shown.contains("wrong-password-here"));
    let reloaded = page(&browser).await;
    assert!(
        !reloaded.contains("Invalid email or password."),
        "the message is shown once"
    );

    let signed_in = browser
        .post(format!("{}/api/sign_in", server.base))
        .form(&[("email", OWNER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 302);
    assert_eq!(signed_in.headers()["location"], "/settings/developers");
    let developers = browser
        .get(format!("{}/settings/developers", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(developers.status(), 200, "the session cookie was set");
    assert!(developers.text().await.unwrap().contains(".wasm"));
}

/// A huge "email" in the sign-in form, just under the 64 KiB body limit (past it the body
/// is refused before any work, see `hardening`): refused like any wrong sign-in, and
/// what is carried back to the form stays small (the email is cut to 320 characters).
#[tokio::test]
async fn a_huge_email_in_the_sign_in_form_costs_a_small_cookie() {
    let server = start().await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |length: usize| {
        let email = format!("{}@example.com", "a".repeat(length));
        browser
            .post(format!("{}/api/sign_in", server.base))
            .header("sec-fetch-site", "same-origin")
            .header("accept", "text/html")
            .form(&[
                ("email", email),
                ("password", "wrong-password-here".to_owned()),
            ])
            .send()
    };
    let refused = post(60_000).await.unwrap();
    assert_eq!(refused.status(), 302);
    let cookie = refused.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("gatehouse_sign_in_failed="), "{cookie}");
    assert!(cookie.len() < 1_000, "{} bytes", cookie.len());
}

#[tokio::test]
async fn cross_site_calls_to_server_functions_are_refused() {
    let server = start().await;
    let client = same_origin_client();
    assert_eq!(sign_in(&client, &server.base, PASSWORD).await.status(), 200);
    let cookie_client = client;
    // Another site's page posting with the user's cookie.
    let forged = cookie_client
        .post(format!("{}/api/create_app", server.base))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "input": { "name": "Forged" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["error"]["code"], "cross_site_request");
    let no_headers = reqwest::Client::new()
        .post(format!("{}/api/sign_in", server.base))
        .form(&[("email", OWNER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(no_headers.status(), 403);

    let created = cookie_client
        .post(format!("{}/api/create_app", server.base))
        .json(&json!({ "input": { "name": "Real", "description": "", "allowed_origins": ["https://a.example.com"] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let apps: Value = cookie_client
        .post(format!("{}/api/load_apps", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = apps["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|app| app["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Real"]);
}

#[tokio::test]
async fn the_dashboard_page_is_server_rendered() {
    let server = start().await;
    let page = reqwest::get(format!("{}/login", server.base))
        .await
        .unwrap();
    // No other site may frame it.
    assert_eq!(
        page.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in to Gatehouse"));
    assert!(
        html.contains("/pkg/gatehouse"),
        "hydration scripts are linked"
    );
}

#[tokio::test]
async fn bad_input_is_422_with_the_field_named() {
    let server = start().await;
    let client = same_origin_client();
    assert_eq!(sign_in(&client, &server.base, PASSWORD).await.status(), 200);
    let response = client
        .post(format!("{}/api/create_app", server.base))
        .json(
            &json!({ "input": { "name": "", "allowed_origins": ["https://a.example.com/path"] } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> = body["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "allowed_origins"]);
}

/// The same binary on PostgreSQL: migrations, the demo tenant and sign-in work, and
/// `/health` answers 503 once the database is gone.
#[tokio::test]
async fn runs_on_postgres_and_health_fails_when_the_database_goes() {
    use gatehouse_domain::{Db, DbOptions};
    let admin_url = std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let admin = Db::connect(
        &admin_url,
        DbOptions {
            max_connections: 1,
            postgres_schema: None,
        },
    )
    .await
    .unwrap();
    let database = format!("gatehouse_http_{}", gatehouse_domain::ids::random_hex(6));
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(admin.pool_for_tests())
        .await
        .unwrap();
    let (base_url, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base_url}/{database}");
    let data = std::env::temp_dir().join(&database);
    std::fs::create_dir_all(&data).unwrap();
    let server = start_on(&url, data).await;

    let health = reqwest::get(format!("{}/health", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let client = same_origin_client();
    assert_eq!(sign_in(&client, &server.base, PASSWORD).await.status(), 200);

    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(admin.pool_for_tests())
        .await
        .unwrap();
    let health = reqwest::get(format!("{}/health", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 503);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    admin.close().await;
}

/// `POST /v1/keys/verify` over HTTP, with a key made and revoked through the dashboard.
#[tokio::test]
async fn verify_endpoint_answers_valid_and_revoked_and_bad_bodies() {
    let server = start().await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (key_id, key) = dashboard_key(&owner, &server.base, &app_id, "test", None).await;
    let client = reqwest::Client::new();
    let verify = |body: Value| {
        let client = client.clone();
        let url = format!("{}/v1/keys/verify", server.base);
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    let answer: Value = verify(json!({ "key": key, "scope": "imports:write" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["valid"], true);
    assert_eq!(answer["code"], "VALID");
    assert_eq!(answer["mode"], "test");
    assert_eq!(answer["app_id"], app_id);
    assert!(
        answer.get("remaining_quota").is_none(),
        "test calls do not count against the limit"
    );

    let (status, _) = server_fn(
        &owner,
        &server.base,
        "revoke_api_key",
        json!({ "key_id": key_id }),
    )
    .await;
    assert_eq!(status, 200);
    let answer: Value = verify(json!({ "key": key })).await.json().await.unwrap();
    assert_eq!(answer["code"], "REVOKED", "from the very next request");

    let bad = verify(json!({ "nokey": true })).await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
}

/// An operator's broken scope catalog stops the start with the reason, not a panic.
#[test]
fn a_broken_scope_catalog_is_refused_at_start() {
    let data = std::env::temp_dir().join(format!("gatehouse-catalog-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let catalog = data.join("scopes.json");
    std::fs::write(&catalog, r#"{"areas":[{"id":"imports","label":"Imports","access":["read"]}],"default_scopes":["imports:write"],"event_families":[]}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/gatehouse.db", data.display()),
        )
        .env("GATEHOUSE_SCOPE_CATALOG", &catalog)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&data);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the default scope `imports:write` is not in any area"),
        "{stderr}"
    );
}

#[tokio::test]
async fn log_lines_are_plain_text_off_a_terminal_and_json_when_asked() {
    let text = start_logging("info").await;
    let (client, _) = owner_with_app(&text, &[]).await;
    drop(client);
    let log = text.log();
    assert!(log.contains("Gatehouse listening"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file: {log:?}"
    );

    let json = start_with_env(&[("GATEHOUSE_LOG_FORMAT", "json"), ("GATEHOUSE_LOG", "info")]).await;
    let _ = owner_with_app(&json, &[]).await;
    let log = json.log();
    // Every log line is one JSON object; the demo sign-in is printed on stdout, apart.
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with("Demo sign-in: "))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(
            entry["level"].is_string() && entry["fields"].is_object(),
            "{line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|line| line.contains("Gatehouse listening"))
    );
}
