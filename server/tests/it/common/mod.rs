//! The real `gatehouse` binary on a free port with a fresh database, and the clients
//! the HTTP tests use against it.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub struct Server {
    pub child: Child,
    pub base: String,
    pub data: TempDir,
}

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The SQLite URL of the server's own database file.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}/gatehouse.db", self.data.0.display())
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.0.join("server.log")).unwrap_or_default()
    }

    /// Stops the server as an operator would (SIGTERM) and waits for it to exit.
    pub fn stop_gracefully(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

pub const PASSWORD: &str = "http-test-password-1";
/// A fixed master key for servers on PostgreSQL (base64 of 32 bytes).
pub const TEST_MASTER_KEY: &str = "dGVzdC1tYXN0ZXIta2V5LW9mLTMyLWJ5dGVzLWxvbmc=";
pub const OWNER: &str = "owner@demo.gatehouse.test";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn fresh_data_dir() -> std::path::PathBuf {
    let data = std::env::temp_dir().join(format!(
        "gatehouse-http-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&data).unwrap();
    data
}

/// The server on a fresh SQLite database, logging warnings.
pub async fn start() -> Server {
    start_logging("warn").await
}

/// The server on a fresh SQLite database with the given `GATEHOUSE_LOG` filter.
pub async fn start_logging(log_filter: &str) -> Server {
    let data = fresh_data_dir();
    let url = format!("sqlite://{}/gatehouse.db", data.display());
    start_with(&url, data, log_filter).await
}

pub async fn start_on(database_url: &str, data: std::path::PathBuf) -> Server {
    start_with(database_url, data, "warn").await
}

/// The server on a fresh SQLite database with further environment variables.
pub async fn start_with_env(variables: &[(&str, &str)]) -> Server {
    let data = fresh_data_dir();
    let url = format!("sqlite://{}/gatehouse.db", data.display());
    launch(&url, data, "warn", variables).await
}

async fn start_with(database_url: &str, data: std::path::PathBuf, log_filter: &str) -> Server {
    launch(database_url, data, log_filter, &[]).await
}

async fn launch(
    database_url: &str,
    data: std::path::PathBuf,
    log_filter: &str,
    variables: &[(&str, &str)],
) -> Server {
    let port = free_port();
    let log = std::fs::File::create(data.join("server.log")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    // Receivers in the tests listen on 127.0.0.1 only; PostgreSQL needs a master key.
    command.env("GATEHOUSE_WEBHOOK_ALLOW_NETWORKS", "127.0.0.1");
    if database_url.starts_with("postgres") {
        command.env("GATEHOUSE_MASTER_KEY", TEST_MASTER_KEY);
    }
    let child = command
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("GATEHOUSE_ADDR", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_BOOTSTRAP_PASSWORD", PASSWORD)
        .env("LEPTOS_OUTPUT_NAME", "gatehouse")
        .env("GATEHOUSE_LOG", log_filter)
        // The test's own settings win over the defaults above.
        .envs(variables.iter().copied())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("start the gatehouse binary");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        data: TempDir(data),
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{}/health", server.base))
            .send()
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

/// A browser-like client: keeps cookies and says its calls are same-origin.
pub fn same_origin_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .unwrap()
}

pub async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    sign_in_as(client, base, OWNER, password).await
}

pub async fn sign_in_as(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/sign_in"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Calls a server function as the signed-in browser would; answers status and body.
pub async fn server_fn(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    input: Value,
) -> (u16, Value) {
    let response = client
        .post(format!("{base}/api/{name}"))
        .json(&input)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The demo owner, signed in, with an app made through the dashboard's server
/// functions: answers the owner's client and the app's id.
pub async fn owner_with_app(server: &Server, origins: &[&str]) -> (reqwest::Client, String) {
    let client = same_origin_client();
    assert_eq!(sign_in(&client, &server.base, PASSWORD).await.status(), 200);
    let (status, app) = server_fn(
        &client,
        &server.base,
        "create_app",
        json!({ "input": { "name": "Checkout", "description": "", "allowed_origins": origins } }),
    )
    .await;
    assert_eq!(status, 200, "{app}");
    (client, app["id"].as_str().unwrap().to_owned())
}

/// A key made through the dashboard's server function: answers `(id, plaintext)`.
pub async fn dashboard_key(
    client: &reqwest::Client,
    base: &str,
    app_id: &str,
    mode: &str,
    scopes: Option<&[&str]>,
) -> (String, String) {
    let (status, created) = server_fn(
        client,
        base,
        "create_api_key",
        json!({ "input": {
            "app_id": app_id, "name": "Integration", "mode": mode,
            "key_type": if scopes.is_some() { "restricted" } else { "secret" },
            "scopes": scopes.unwrap_or_default(),
        }}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    (
        created["key"]["id"].as_str().unwrap().to_owned(),
        created["plaintext"].as_str().unwrap().to_owned(),
    )
}

/// `GET` of `path_and_query` with `key`: the status and the JSON answer (null if none).
pub async fn get_json(server: &Server, path_and_query: &str, key: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path_and_query}", server.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `GET /v1/whoami` with `key`.
pub async fn whoami(base: &str, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}/v1/whoami"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// `POST /v1/keys/verify` for `key`: the verdict's JSON.
pub async fn verify_key(base: &str, key: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/v1/keys/verify"))
        .json(&serde_json::json!({ "key": key }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Runs `gatehouse update-tenant` against the server's database, as an operator would.
pub fn update_tenant(server: &Server, arguments: &[&str]) -> String {
    let mut command = vec!["update-tenant", "--tenant", "Demo Company"];
    command.extend_from_slice(arguments);
    gatehouse_command(server, &command)
}

/// Runs a `gatehouse` command against the server's (SQLite) database, as an operator
/// would on its machine; answers what it printed, and fails the test if it failed.
pub fn gatehouse_command(server: &Server, arguments: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(arguments)
        .env("DATABASE_URL", server.sqlite_url())
        .env("GATEHOUSE_LOG", "warn")
        // The server generated its master key into its data directory.
        .env(
            "GATEHOUSE_MASTER_KEY",
            std::fs::read_to_string(server.data.0.join("master.key"))
                .unwrap_or_default()
                .trim(),
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
