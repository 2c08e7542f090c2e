//! Configuration, in layers merged by `figment`: the defaults, then an optional TOML
//! file, then `GATEHOUSE_*` environment variables (and `DATABASE_URL`). Whatever layer a
//! value comes from, it is read as the same type and goes through the same checks
//! ([`Config::validate`]); a bad value stops the start with a message naming the setting
//! and where it came from. Secrets are redacted in `Debug`.

use std::net::SocketAddr;
use std::path::Path;

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Deserializer};

/// A value that never appears in logs or `Debug` output.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        text(deserializer).map(Secret)
    }
}

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

/// The longest the request log may be kept.
pub const MAX_RETENTION_DAYS: u32 = 3650;

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
    #[serde(deserialize_with = "text")]
    pub public_url: String,
    /// Networks webhooks may reach although they are internal (CIDRs or addresses,
    /// comma separated, e.g. `10.1.0.0/16,127.0.0.1`); plain http is allowed to them
    /// for live endpoints too. Empty: only public addresses.
    #[serde(deserialize_with = "text")]
    pub webhook_allow_networks: String,
    /// How long a delivery claimed by an instance is held before another instance may
    /// take it again (after a crash). At least 20 s: longer than an attempt's 15 s.
    pub webhook_lease_seconds: u64,
    /// A JSON scope catalog replacing the built-in one (empty: built-in).
    #[serde(deserialize_with = "text")]
    pub scope_catalog: String,
    /// The `Leptos.toml` file with the site options read at run time.
    #[serde(deserialize_with = "text")]
    pub leptos_config: String,
    /// `tracing` filter, e.g. `info` or `gatehouse=debug`.
    #[serde(deserialize_with = "text")]
    pub log: String,
    /// `text` or `json` log lines.
    #[serde(deserialize_with = "text")]
    pub log_format: String,
    /// Bearer token that `GET /metrics` on the main address asks for (at least 16
    /// characters). Unset: the main address has no `/metrics`.
    pub metrics_token: Secret,
    /// A separate address serving `/metrics` without a token, for a network only the
    /// operator's Prometheus reaches, e.g. `127.0.0.1:9090`. Unset: none.
    #[serde(deserialize_with = "optional_address")]
    pub metrics_addr: Option<SocketAddr>,
    /// Proxies whose `X-Forwarded-For` names the client in the request log (CIDRs or
    /// addresses, comma separated, e.g. `10.0.0.0/8`). Empty: the socket's peer is the
    /// client and the header is not read.
    #[serde(deserialize_with = "text")]
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
    #[serde(deserialize_with = "text")]
    pub smtp_from: String,
    /// The SaaS's origins that may show the workspace in a frame, comma separated,
    /// e.g. `https://app.example.com`. Empty: no site may frame it.
    #[serde(deserialize_with = "text")]
    pub embed_origins: String,
    /// Where a person goes back to from an expired or used sign-in link: the SaaS's
    /// settings page, e.g. `https://app.example.com/settings`. Empty: the sign-in page.
    #[serde(deserialize_with = "text")]
    pub return_url: String,
    /// The SaaS's name on the workspace (at most 60 characters). Empty: Gatehouse.
    #[serde(deserialize_with = "text")]
    pub brand_name: String,
    /// The SaaS's accent colour, `#rrggbb`, for buttons and links; white text on it must
    /// reach 4.5:1 contrast. Empty: Gatehouse's blue.
    #[serde(deserialize_with = "text")]
    pub brand_accent: String,
    /// An http(s) URL of the SaaS's logo, shown beside its name. Empty: none.
    #[serde(deserialize_with = "text")]
    pub brand_logo_url: String,
    /// Live MCP sessions one key may hold at once (1 to 10000).
    pub mcp_sessions_per_key: u32,
    /// Minutes an MCP session may go without a message before it ends (1 to 1440).
    pub mcp_session_idle_minutes: u32,
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
            embed_origins: String::new(),
            return_url: String::new(),
            brand_name: String::new(),
            brand_accent: String::new(),
            brand_logo_url: String::new(),
            mcp_sessions_per_key: 10,
            mcp_session_idle_minutes: 30,
        }
    }
}

impl Config {
    /// The MCP session bounds.
    pub fn mcp_session_bounds(&self) -> crate::mcp::sessions::SessionBounds {
        crate::mcp::sessions::SessionBounds {
            per_key: self.mcp_sessions_per_key as usize,
            idle: std::time::Duration::from_secs(u64::from(self.mcp_session_idle_minutes) * 60),
        }
    }
}

/// The origins of a comma-separated list (`scheme://host[:port]`, http or https, no
/// path), each as browsers write it.
pub fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let url = url::Url::parse(origin)
                .map_err(|_| format!("{origin} is not an origin, e.g. https://app.example.com"))?;
            let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
            let credentials = !url.username().is_empty() || url.password().is_some();
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare || credentials
            {
                return Err(format!(
                    "{origin} is not an origin: use scheme://host[:port], e.g. https://app.example.com"
                ));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

/// Text read from any layer: an environment variable that looks like a number (a
/// password of digits, say) is still the text it was set to.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Unsigned(u64),
        Signed(i64),
        Float(f64),
        Flag(bool),
    }
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::Text(text) => text,
        Scalar::Unsigned(number) => number.to_string(),
        Scalar::Signed(number) => number.to_string(),
        Scalar::Float(number) => number.to_string(),
        Scalar::Flag(flag) => flag.to_string(),
    })
}

/// An optional `host:port`; empty is none.
fn optional_address<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    let text = text(deserializer)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| serde::de::Error::custom("expected host:port, e.g. 127.0.0.1:9090"))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value of the wrong type, an unknown setting or an unreadable file; figment's
    /// message names the setting and the layer it came from.
    #[error("the configuration cannot be read: {0}")]
    Unreadable(Box<figment::Error>),
    #[error("setting {setting} (environment variable {env}) is invalid: {message}")]
    Invalid {
        setting: &'static str,
        env: &'static str,
        message: String,
    },
}

/// The environment layer: `GATEHOUSE_<SETTING>` for each setting, and `DATABASE_URL`
/// (which wins over `GATEHOUSE_DATABASE_URL`). An empty variable counts as unset, and a
/// `GATEHOUSE_` variable that names no setting is not Gatehouse's (the test suite's and
/// the benchmarks' own, say).
struct EnvLayer(Vec<(String, String)>);

impl EnvLayer {
    const PREFIX: &'static str = "GATEHOUSE_";
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable").interpolater(|_: &Profile, keys: &[&str]| {
            format!(
                "{}{}",
                EnvLayer::PREFIX,
                keys.join("_").to_ascii_uppercase()
            )
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        let mut database_url = None;
        for (name, value) in &self.0 {
            if value.is_empty() {
                continue;
            }
            let parsed: Value = value.parse().expect("infallible");
            if name == "DATABASE_URL" {
                database_url = Some(parsed);
            } else if let Some(setting) = name.strip_prefix(Self::PREFIX) {
                let setting = setting.to_ascii_lowercase();
                if setting_names().contains(&setting.as_str()) {
                    dict.insert(setting, parsed);
                }
            }
        }
        if let Some(url) = database_url {
            dict.insert("database_url".to_owned(), url);
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// The names of the settings, as `Config` declares them (read from its `Deserialize`).
fn setting_names() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    /// A deserializer that only notes the fields a struct asks for.
    struct Names(&'static [&'static str]);
    impl<'de> de::Deserializer<'de> for &mut Names {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only the names are read"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(de::Error::custom("only the names are read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    static NAMES: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Names(&[]);
        let _ = Config::deserialize(&mut names);
        names.0
    })
}

impl Config {
    /// Whether people reach the server over https (the public URL says so): cookies
    /// are then `Secure` and `__Host-` prefixed.
    pub fn served_over_https(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// The brand the pages carry (see `branding`).
    pub fn brand(&self) -> Result<crate::branding::Brand, (&'static str, String)> {
        crate::branding::Brand::parse(&self.brand_name, &self.brand_accent, &self.brand_logo_url)
    }

    /// The address links in emails point at: the public URL, else `http://addr`.
    pub fn dashboard_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.addr)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Loads the layers: the defaults, `file` when one is given, this process's
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_layers(file, std::env::vars())
    }

    fn from_layers(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut layers = Figment::new();
        if let Some(path) = file {
            layers = layers.merge(Toml::file_exact(path));
        }
        let config: Config = layers
            .merge(EnvLayer(env.into_iter().collect()))
            .extract()
            .map_err(|error| ConfigError::Unreadable(Box::new(error)))?;
        config.validate()?;
        Ok(config)
    }

    /// The checks every value passes, whichever layer it came from.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, env: &'static str, message: String| {
            Err(ConfigError::Invalid {
                setting,
                env,
                message,
            })
        };
        if self.database_max_connections == 0 {
            return invalid(
                "database_max_connections",
                "GATEHOUSE_DATABASE_MAX_CONNECTIONS",
                "expected at least 1".to_owned(),
            );
        }
        if !self.public_url.is_empty() {
            let url = url::Url::parse(&self.public_url).ok();
            if !url
                .is_some_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            {
                return invalid(
                    "public_url",
                    "GATEHOUSE_PUBLIC_URL",
                    "expected an http or https URL, e.g. https://gatehouse.example.com".to_owned(),
                );
            }
        }
        if let Err((setting, message)) = self.brand() {
            let env = match setting {
                "brand_name" => "GATEHOUSE_BRAND_NAME",
                "brand_accent" => "GATEHOUSE_BRAND_ACCENT",
                _ => "GATEHOUSE_BRAND_LOGO_URL",
            };
            return invalid(setting, env, message);
        }
        if let Err(message) = parse_origins(&self.embed_origins) {
            return invalid("embed_origins", "GATEHOUSE_EMBED_ORIGINS", message);
        }
        if !self.return_url.is_empty() {
            let url = url::Url::parse(&self.return_url).ok();
            if !url
                .is_some_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            {
                return invalid(
                    "return_url",
                    "GATEHOUSE_RETURN_URL",
                    "expected an http or https URL, e.g. https://app.example.com/settings"
                        .to_owned(),
                );
            }
        }
        if let Err(message) =
            gatehouse_domain::webhooks::NetworkPolicy::parse(&self.webhook_allow_networks)
        {
            return invalid(
                "webhook_allow_networks",
                "GATEHOUSE_WEBHOOK_ALLOW_NETWORKS",
                message,
            );
        }
        if self.webhook_lease_seconds < MIN_LEASE_SECONDS {
            return invalid(
                "webhook_lease_seconds",
                "GATEHOUSE_WEBHOOK_LEASE_SECONDS",
                format!("expected whole seconds, at least {MIN_LEASE_SECONDS}"),
            );
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return invalid(
                "log_format",
                "GATEHOUSE_LOG_FORMAT",
                "expected text or json".to_owned(),
            );
        }
        if !self.metrics_token.0.is_empty() && self.metrics_token.0.len() < MIN_METRICS_TOKEN_LEN {
            return invalid(
                "metrics_token",
                "GATEHOUSE_METRICS_TOKEN",
                format!("too short: use at least {MIN_METRICS_TOKEN_LEN} random characters"),
            );
        }
        if let Err(message) =
            gatehouse_domain::webhooks::NetworkPolicy::parse(&self.trusted_proxies)
        {
            return invalid("trusted_proxies", "GATEHOUSE_TRUSTED_PROXIES", message);
        }
        if !(1..=10_000).contains(&self.mcp_sessions_per_key) {
            return invalid(
                "mcp_sessions_per_key",
                "GATEHOUSE_MCP_SESSIONS_PER_KEY",
                "expected a whole number from 1 to 10000".to_owned(),
            );
        }
        if !(1..=1440).contains(&self.mcp_session_idle_minutes) {
            return invalid(
                "mcp_session_idle_minutes",
                "GATEHOUSE_MCP_SESSION_IDLE_MINUTES",
                "expected whole minutes from 1 to 1440 (a day)".to_owned(),
            );
        }
        if self.request_log_retention_days > MAX_RETENTION_DAYS {
            return invalid(
                "request_log_retention_days",
                "GATEHOUSE_REQUEST_LOG_RETENTION_DAYS",
                format!("expected whole days from 0 (no request log) to {MAX_RETENTION_DAYS}"),
            );
        }
        if !self.smtp_url.0.is_empty() && self.smtp_from.trim().is_empty() {
            return invalid(
                "smtp_from",
                "GATEHOUSE_SMTP_FROM",
                "set the sender of alert emails (e.g. Gatehouse <alerts@example.com>) with smtp_url"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// A config file with `text`, removed when dropped.
    struct File(std::path::PathBuf);

    impl File {
        fn new(name: &str, text: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "gatehouse-config-{}-{name}.toml",
                std::process::id()
            ));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }
    }

    impl Drop for File {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn env_overrides_file_and_secrets_are_redacted() {
        let file = File::new(
            "layers",
            "addr = \"0.0.0.0:8080\"\nmaster_key = \"abc\"\nlog = \"debug\"",
        );
        let config = Config::from_layers(
            Some(&file.0),
            env(&[
                ("GATEHOUSE_DATABASE_URL", "sqlite://ignored.db"),
                ("DATABASE_URL", "postgres://user:hunter2@db/gatehouse"),
                ("GATEHOUSE_LOG", "warn"),
                ("GATEHOUSE_BOOTSTRAP_PASSWORD", "12345678901234"),
                ("GATEHOUSE_METRICS_ADDR", ""),
                ("UNRELATED", "x"),
                // Not a setting: the test suite's own variable is none of Gatehouse's.
                ("GATEHOUSE_TEST_POSTGRES_URL", "postgres://127.0.0.1/test"),
            ]),
        )
        .unwrap();
        assert_eq!(config.addr.port(), 8080);
        assert_eq!(config.log, "warn");
        assert_eq!(
            config.database_url.0,
            "postgres://user:hunter2@db/gatehouse"
        );
        // Digits are a password like any other, and an empty variable is unset.
        assert_eq!(config.bootstrap_password.0, "12345678901234");
        assert_eq!(config.metrics_addr, None);
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("abc\""),
            "{debug}"
        );
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn a_file_value_is_checked_like_an_environment_value() {
        for (file_text, variable, value, setting) in [
            (
                "webhook_lease_seconds = 5",
                "GATEHOUSE_WEBHOOK_LEASE_SECONDS",
                "5",
                "webhook_lease_seconds",
            ),
            (
                "metrics_token = \"short\"",
                "GATEHOUSE_METRICS_TOKEN",
                "short",
                "metrics_token",
            ),
            (
                "mcp_sessions_per_key = 0",
                "GATEHOUSE_MCP_SESSIONS_PER_KEY",
                "0",
                "mcp_sessions_per_key",
            ),
            (
                "mcp_session_idle_minutes = 2000",
                "GATEHOUSE_MCP_SESSION_IDLE_MINUTES",
                "2000",
                "mcp_session_idle_minutes",
            ),
            (
                "request_log_retention_days = 9999",
                "GATEHOUSE_REQUEST_LOG_RETENTION_DAYS",
                "9999",
                "request_log_retention_days",
            ),
            (
                "public_url = \"gatehouse.example.com\"",
                "GATEHOUSE_PUBLIC_URL",
                "gatehouse.example.com",
                "public_url",
            ),
            (
                "trusted_proxies = \"10.0.0.0/99\"",
                "GATEHOUSE_TRUSTED_PROXIES",
                "10.0.0.0/99",
                "trusted_proxies",
            ),
            (
                "log_format = \"xml\"",
                "GATEHOUSE_LOG_FORMAT",
                "xml",
                "log_format",
            ),
        ] {
            let file = File::new(setting, file_text);
            let from_file = Config::from_layers(Some(&file.0), env(&[])).unwrap_err();
            let from_env = Config::from_layers(None, env(&[(variable, value)])).unwrap_err();
            for error in [from_file, from_env] {
                assert!(
                    matches!(&error, ConfigError::Invalid { setting: named, .. } if *named == setting),
                    "{setting}: {error}"
                );
                assert!(error.to_string().contains(variable), "{error}");
            }
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_setting_and_its_layer() {
        let error = Config::from_layers(None, env(&[("GATEHOUSE_ADDR", "nope")])).unwrap_err();
        assert!(error.to_string().contains("GATEHOUSE_ADDR"), "{error}");
        let error = Config::from_layers(None, env(&[("GATEHOUSE_METRICS_ADDR", "nine-thousand")]))
            .unwrap_err();
        assert!(
            error.to_string().contains("GATEHOUSE_METRICS_ADDR"),
            "{error}"
        );
        let file = File::new("unknown", "adress = \"0.0.0.0:1\"");
        let error = Config::from_layers(Some(&file.0), env(&[])).unwrap_err();
        assert!(error.to_string().contains("adress"), "{error}");
        let missing = std::env::temp_dir().join("gatehouse-no-such-config.toml");
        assert!(Config::from_layers(Some(&missing), env(&[])).is_err());
    }

    #[test]
    fn a_good_metrics_token_and_address_are_read() {
        let config = Config::from_layers(
            None,
            env(&[
                ("GATEHOUSE_METRICS_TOKEN", "a-long-enough-metrics-token"),
                ("GATEHOUSE_METRICS_ADDR", "127.0.0.1:9090"),
            ]),
        )
        .unwrap();
        assert_eq!(config.metrics_addr.unwrap().port(), 9090);
        assert!(!format!("{config:?}").contains("a-long-enough"));
    }

    #[test]
    fn every_setting_is_named_and_read_from_its_variable() {
        let names = setting_names();
        assert!(names.contains(&"webhook_lease_seconds") && names.contains(&"smtp_from"));
        let config =
            Config::from_layers(None, env(&[("GATEHOUSE_WEBHOOK_LEASE_SECONDS", "45")])).unwrap();
        assert_eq!(config.webhook_lease_seconds, 45);
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
}
