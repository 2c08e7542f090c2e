//! Configuration: defaults, then an optional TOML file, then `GATEHOUSE_*` (and
//! `DATABASE_URL`) environment variables. Secrets are redacted in `Debug`.

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

/// A value that never appears in logs or `Debug` output.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(if self.0.is_empty() {
            "[unset]"
        } else {
            "[redacted]"
        })
    }
}

/// The shortest metrics token accepted: a guessable one would open the metrics to anyone.
pub const MIN_METRICS_TOKEN_LEN: usize = 16;

/// The shortest delivery lease: an attempt may take 15 s, and a lease must outlast it.
pub const MIN_LEASE_SECONDS: u64 = 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub addr: SocketAddr,
    /// `sqlite://…` (default, embedded) or `postgres://…`. May hold a password.
    pub database_url: Secret,
    /// Largest number of pooled database connections.
    pub database_max_connections: u32,
    /// Master key for secrets encrypted at rest (base64 of 32 bytes).
    pub master_key: Secret,
    /// Password for the demo owner created on an empty database (random if unset).
    pub bootstrap_password: Secret,
    /// The URL people open the dashboard at, e.g. `https://gatehouse.example.com`
    /// (behind a TLS proxy). When it is https, the session cookie is `Secure` and
    /// `__Host-` prefixed. Empty: plain http on `addr`.
    pub public_url: String,
    /// Networks webhooks may reach although they are internal (CIDRs or addresses,
    /// comma separated, e.g. `10.1.0.0/16,127.0.0.1`); plain http is allowed to them
    /// for live endpoints too. Empty: only public addresses.
    pub webhook_allow_networks: String,
    /// How long a delivery claimed by an instance is held before another instance may
    /// take it again (after a crash). At least 20 s: longer than an attempt's 15 s.
    pub webhook_lease_seconds: u64,
    /// A JSON scope catalog replacing the built-in one (empty: built-in).
    pub scope_catalog: String,
    /// The `Leptos.toml` file with the site options read at run time.
    pub leptos_config: String,
    /// `tracing` filter, e.g. `info` or `gatehouse=debug`.
    pub log: String,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Bearer token that `GET /metrics` on the main address asks for (at least 16
    /// characters). Unset: the main address has no `/metrics`.
    pub metrics_token: Secret,
    /// A separate address serving `/metrics` without a token, for a network only the
    /// operator's Prometheus reaches, e.g. `127.0.0.1:9090`. Unset: none.
    pub metrics_addr: Option<SocketAddr>,
    /// Proxies whose `X-Forwarded-For` names the client in the request log (CIDRs or
    /// addresses, comma separated, e.g. `10.0.0.0/8`). Empty: the socket's peer is the
    /// client and the header is not read.
    pub trusted_proxies: String,
    /// Days the request log keeps an entry; 0 turns the request log off.
    pub request_log_retention_days: u32,
    /// The SMTP server alerts are mailed through: `smtp://host:25` (plain),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS), with
    /// `user:password@` when it asks for a login. May hold a password. Unset: alerts
    /// are shown in the dashboard only.
    pub smtp_url: Secret,
    /// The sender of alert emails, e.g. `Gatehouse <alerts@example.com>`; required
    /// with `smtp_url`.
    pub smtp_from: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: Secret("sqlite://data/gatehouse.db".to_owned()),
            database_max_connections: 10,
            master_key: Secret::default(),
            bootstrap_password: Secret::default(),
            public_url: String::new(),
            webhook_allow_networks: String::new(),
            webhook_lease_seconds: 60,
            scope_catalog: String::new(),
            leptos_config: "Leptos.toml".to_owned(),
            log: "info".to_owned(),
            log_format: "text".to_owned(),
            metrics_token: Secret::default(),
            metrics_addr: None,
            trusted_proxies: String::new(),
            request_log_retention_days: gatehouse_domain::request_log::DEFAULT_RETENTION_DAYS,
            smtp_url: Secret::default(),
            smtp_from: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {name} is invalid: {message}")]
    Env { name: &'static str, message: String },
}

impl Config {
    /// Whether people reach the server over https (the public URL says so): cookies
    /// are then `Secure` and `__Host-` prefixed.
    pub fn served_over_https(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// The address links in emails point at: the public URL, else `http://addr`.
    pub fn dashboard_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.addr)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Loads the layers; `file` is the optional config file.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str(&text).map_err(|error| ConfigError::Parse {
                    path: path.display().to_string(),
                    message: error.message().to_owned(),
                })?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(value) = get("GATEHOUSE_ADDR") {
            self.addr = value.parse().map_err(|_| ConfigError::Env {
                name: "GATEHOUSE_ADDR",
                message: "expected host:port, e.g. 127.0.0.1:3000".to_owned(),
            })?;
        }
        if let Some(value) = get("DATABASE_URL").or_else(|| get("GATEHOUSE_DATABASE_URL")) {
            self.database_url = Secret(value);
        }
        if let Some(value) = get("GATEHOUSE_MASTER_KEY") {
            self.master_key = Secret(value);
        }
        if let Some(value) = get("GATEHOUSE_BOOTSTRAP_PASSWORD") {
            self.bootstrap_password = Secret(value);
        }
        if let Some(value) = get("GATEHOUSE_PUBLIC_URL") {
            self.public_url = value;
        }
        if let Some(value) = get("GATEHOUSE_WEBHOOK_ALLOW_NETWORKS") {
            self.webhook_allow_networks = value;
        }
        if let Some(value) = get("GATEHOUSE_WEBHOOK_LEASE_SECONDS") {
            self.webhook_lease_seconds = value
                .parse()
                .ok()
                .filter(|seconds| *seconds >= MIN_LEASE_SECONDS)
                .ok_or_else(|| ConfigError::Env {
                    name: "GATEHOUSE_WEBHOOK_LEASE_SECONDS",
                    message: format!("expected whole seconds, at least {MIN_LEASE_SECONDS}"),
                })?;
        }
        if let Some(value) = get("GATEHOUSE_SCOPE_CATALOG") {
            self.scope_catalog = value;
        }
        if let Some(value) = get("GATEHOUSE_LEPTOS_CONFIG") {
            self.leptos_config = value;
        }
        if let Some(value) = get("GATEHOUSE_LOG") {
            self.log = value;
        }
        if let Some(value) = get("GATEHOUSE_LOG_FORMAT") {
            self.log_format = value;
        }
        if let Some(value) = get("GATEHOUSE_METRICS_TOKEN") {
            self.metrics_token = Secret(value);
        }
        if let Some(value) = get("GATEHOUSE_METRICS_ADDR").filter(|value| !value.is_empty()) {
            self.metrics_addr = Some(value.parse().map_err(|_| ConfigError::Env {
                name: "GATEHOUSE_METRICS_ADDR",
                message: "expected host:port, e.g. 127.0.0.1:9090".to_owned(),
            })?);
        }
        if let Some(value) = get("GATEHOUSE_TRUSTED_PROXIES") {
            gatehouse_domain::webhooks::NetworkPolicy::parse(&value).map_err(|message| {
                ConfigError::Env {
                    name: "GATEHOUSE_TRUSTED_PROXIES",
                    message,
                }
            })?;
            self.trusted_proxies = value;
        }
        if let Some(value) = get("GATEHOUSE_REQUEST_LOG_RETENTION_DAYS") {
            self.request_log_retention_days = value
                .parse()
                .ok()
                .filter(|days| *days <= 3650)
                .ok_or_else(|| ConfigError::Env {
                    name: "GATEHOUSE_REQUEST_LOG_RETENTION_DAYS",
                    message: "expected whole days from 0 (no request log) to 3650".to_owned(),
                })?;
        }
        if let Some(value) = get("GATEHOUSE_SMTP_URL") {
            self.smtp_url = Secret(value);
        }
        if let Some(value) = get("GATEHOUSE_SMTP_FROM") {
            self.smtp_from = value;
        }
        if !self.smtp_url.0.is_empty() && self.smtp_from.trim().is_empty() {
            return Err(ConfigError::Env {
                name: "GATEHOUSE_SMTP_FROM",
                message: "set the sender of alert emails (e.g. Gatehouse <alerts@example.com>) with GATEHOUSE_SMTP_URL".to_owned(),
            });
        }
        if !self.metrics_token.0.is_empty() && self.metrics_token.0.len() < MIN_METRICS_TOKEN_LEN {
            return Err(ConfigError::Env {
                name: "GATEHOUSE_METRICS_TOKEN",
                message: format!(
                    "too short: use at least {MIN_METRICS_TOKEN_LEN} random characters"
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_secrets_are_redacted() {
        let mut config: Config =
            toml::from_str("addr = \"0.0.0.0:8080\"\nmaster_key = \"abc\"").unwrap();
        config
            .apply_env(|name| match name {
                "DATABASE_URL" => Some("postgres://user:hunter2@db/gatehouse".to_owned()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.addr.port(), 8080);
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("abc\""),
            "{debug}"
        );
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn a_short_metrics_token_or_a_bad_metrics_address_is_refused() {
        let mut config = Config::default();
        let short = config
            .apply_env(|name| (name == "GATEHOUSE_METRICS_TOKEN").then(|| "short".to_owned()));
        assert!(
            matches!(
                short,
                Err(ConfigError::Env {
                    name: "GATEHOUSE_METRICS_TOKEN",
                    ..
                })
            ),
            "{short:?}"
        );
        let mut config = Config::default();
        let address = config.apply_env(|name| {
            (name == "GATEHOUSE_METRICS_ADDR").then(|| "nine-thousand".to_owned())
        });
        assert!(matches!(
            address,
            Err(ConfigError::Env {
                name: "GATEHOUSE_METRICS_ADDR",
                ..
            })
        ));
        let mut config = Config::default();
        config
            .apply_env(|name| match name {
                "GATEHOUSE_METRICS_TOKEN" => Some("a-long-enough-metrics-token".to_owned()),
                "GATEHOUSE_METRICS_ADDR" => Some("127.0.0.1:9090".to_owned()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.metrics_addr.unwrap().port(), 9090);
        assert!(!format!("{config:?}").contains("a-long-enough"));
    }

    #[test]
    fn https_is_read_from_the_public_url() {
        let mut config = Config::default();
        assert!(!config.served_over_https());
        config.public_url = "HTTPS://gatehouse.example.com".to_owned();
        assert!(config.served_over_https());
        config.public_url = "http://127.0.0.1:3000".to_owned();
        assert!(!config.served_over_https());
    }

    #[test]
    fn a_bad_address_is_a_clear_error() {
        let mut config = Config::default();
        let error = config.apply_env(|name| (name == "GATEHOUSE_ADDR").then(|| "nope".to_owned()));
        assert!(error.unwrap_err().to_string().contains("GATEHOUSE_ADDR"));
    }
}
