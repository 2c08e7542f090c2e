//! What Gatehouse tells its operator's Prometheus: one registry per instance
//! holding every metric, the handles that the domain and the HTTP layer record into,
//! and the gauges read fresh at each scrape (usage flush lag, webhook queue depth).
//!
//! Recording is one atomic add on the hot path: the handles whose labels are known in
//! advance (cache hits and misses, flush outcomes, attempt outcomes) are taken from
//! their families once, here; only per-route request counts look their labels up.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::{DomainError, Gatehouse};

/// A label value shared without copying (a route template, an error code).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct LabelText(Arc<str>);

impl From<&str> for LabelText {
    fn from(text: &str) -> Self {
        Self(text.into())
    }
}

impl From<Arc<str>> for LabelText {
    fn from(text: Arc<str>) -> Self {
        Self(text)
    }
}

impl EncodeLabelValue for LabelText {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, &self.0)
    }
}

/// One HTTP answer: the route's template (never the raw path, so ids do not make new
/// series), the method and the status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The HTTP method; `other` for methods outside the standard ones.
    pub method: &'static str,
    pub route: LabelText,
    pub status: u16,
}

/// How a caller proved who it is.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum AuthMethod {
    /// A key or access token presented to `/v1`.
    ApiKey,
    /// `POST /v1/keys/verify`: the SaaS's services checking a key.
    Verify,
    /// A person signing in to the dashboard.
    SignIn,
}

impl EncodeLabelValue for AuthMethod {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(
            encoder,
            match self {
                Self::ApiKey => "api_key",
                Self::Verify => "verify",
                Self::SignIn => "sign_in",
            },
        )
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    pub method: AuthMethod,
    /// `ok`, or the error or verification code answered.
    pub code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    state: &'static str,
}

/// What one webhook attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Succeeded,
    /// Any other answer.
    Refused,
    /// No answer: a connection error, a timeout, or a destination refused.
    Unreachable,
}

/// The instance's metrics. Cheap to share: every handle is an `Arc` inside.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    authentications: Family<AuthLabels, Counter>,
    /// The hot path's outcome, taken from `authentications` once.
    api_key_ok: Counter,
    key_cache_hits: Counter,
    key_cache_misses: Counter,
    flushes_written: Counter,
    flushes_failed: Counter,
    /// When the usage counters were last written (Unix ms; 0: not yet).
    last_flush_ms: AtomicI64,
    flush_lag: Gauge<f64, std::sync::atomic::AtomicU64>,
    attempts_succeeded: Counter,
    attempts_refused: Counter,
    attempts_unreachable: Counter,
    attempt_seconds: Histogram,
    delivery_seconds: Histogram,
    queue_depth: Family<QueueLabels, Gauge>,
    request_logs_dropped: Counter,
    request_logs_suppressed: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let authentications = Family::<AuthLabels, Counter>::default();
        registry.register(
            "authentications",
            "Authentication outcomes by method and code (ok, or the error or verification code)",
            authentications.clone(),
        );
        let key_cache = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "key_cache_lookups",
            "API key look-ups answered from the in-memory cache (hit) or the database (miss)",
            key_cache.clone(),
        );
        let flushes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "usage_flushes",
            "Writes of the usage counters to the database, by outcome",
            flushes.clone(),
        );
        let flush_lag = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "usage_flush_lag_seconds",
            "Seconds since the usage counters were last written (calls newer than this live only in memory)",
            flush_lag.clone(),
        );
        let attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by outcome (succeeded: 2xx; refused: another status; unreachable: no answer)",
            attempts.clone(),
        );
        let attempt_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        registry.register(
            "webhook_attempt_duration_seconds",
            "Time from sending a webhook request to the receiver's answer",
            attempt_seconds.clone(),
        );
        let delivery_seconds = Histogram::new(exponential_buckets(0.005, 4.0, 12));
        registry.register(
            "webhook_delivery_latency_seconds",
            "Time from an event's acceptance to its successful delivery to one endpoint",
            delivery_seconds.clone(),
        );
        let queue_depth = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "webhook_queue_depth",
            "Deliveries waiting: due now, or scheduled for a later retry",
            queue_depth.clone(),
        );
        let request_logs_dropped = Counter::default();
        registry.register(
            "request_logs_dropped",
            "Request log entries dropped because the buffer was full (the database fell behind)",
            request_logs_dropped.clone(),
        );
        let request_logs_suppressed = Counter::default();
        registry.register(
            "request_logs_suppressed",
            "Request log entries not recorded: refused calls of one key or from one address beyond their budget a minute, or a tenant's beyond its share of the buffer",
            request_logs_suppressed.clone(),
        );
        let outcome = |family: &Family<OutcomeLabels, Counter>, outcome: &'static str| {
            family.get_or_create(&OutcomeLabels { outcome }).clone()
        };
        let api_key_ok = authentications
            .get_or_create(&AuthLabels {
                method: AuthMethod::ApiKey,
                code: "ok",
            })
            .clone();
        Self {
            api_key_ok,
            key_cache_hits: outcome(&key_cache, "hit"),
            key_cache_misses: outcome(&key_cache, "miss"),
            flushes_written: outcome(&flushes, "written"),
            flushes_failed: outcome(&flushes, "failed"),
            attempts_succeeded: outcome(&attempts, "succeeded"),
            attempts_refused: outcome(&attempts, "refused"),
            attempts_unreachable: outcome(&attempts, "unreachable"),
            registry,
            requests,
            authentications,
            last_flush_ms: AtomicI64::new(0),
            flush_lag,
            attempt_seconds,
            delivery_seconds,
            request_logs_dropped,
            request_logs_suppressed,
            queue_depth,
        }
    }
}

impl Metrics {
    /// Counts one HTTP answer.
    pub fn count_request(&self, labels: &RequestLabels) {
        self.requests.get_or_create(labels).inc();
    }

    /// Counts one authentication outcome.
    pub fn count_authentication(&self, method: AuthMethod, code: &'static str) {
        if method == AuthMethod::ApiKey && code == "ok" {
            self.api_key_ok.inc();
            return;
        }
        let labels = AuthLabels { method, code };
        self.authentications.get_or_create(&labels).inc();
    }

    pub(crate) fn count_key_cache(&self, hit: bool) {
        if hit {
            self.key_cache_hits.inc();
        } else {
            self.key_cache_misses.inc();
        }
    }

    /// The usage counters are all written as of `now_ms` (`wrote`: a batch was
    /// written; otherwise there was nothing to write).
    pub(crate) fn usage_flushed(&self, wrote: bool, now_ms: i64) {
        if wrote {
            self.flushes_written.inc();
        }
        self.last_flush_ms.store(now_ms, Ordering::Release);
    }

    pub(crate) fn usage_flush_failed(&self) {
        self.flushes_failed.inc();
    }

    pub(crate) fn request_log_dropped(&self) {
        self.request_logs_dropped.inc();
    }

    pub(crate) fn request_log_suppressed(&self) {
        self.request_logs_suppressed.inc();
    }

    pub(crate) fn count_attempt(
        &self,
        outcome: AttemptOutcome,
        took: Duration,
        since_event: Duration,
    ) {
        match outcome {
            AttemptOutcome::Succeeded => {
                self.attempts_succeeded.inc();
                self.delivery_seconds.observe(since_event.as_secs_f64());
            }
            AttemptOutcome::Refused => {
                self.attempts_refused.inc();
            }
            AttemptOutcome::Unreachable => {
                self.attempts_unreachable.inc();
            }
        }
        if outcome != AttemptOutcome::Unreachable {
            self.attempt_seconds.observe(took.as_secs_f64());
        }
    }
}

/// The text a scrape answers, and its content type.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Gatehouse {
    /// This instance's metrics, for the HTTP layer to record into.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every metric in the OpenMetrics text format that Prometheus scrapes, with the
    /// gauges read now: the usage flush lag, and the webhook queue from the database.
    pub async fn scrape_metrics(&self) -> Result<String, DomainError> {
        let metrics = &self.metrics;
        let last_flush = metrics.last_flush_ms.load(Ordering::Acquire);
        let since = if last_flush == 0 {
            self.started_ms
        } else {
            last_flush
        };
        metrics
            .flush_lag
            .set((self.now_ms() - since).max(0) as f64 / 1000.0);
        let (due, scheduled) = self.webhook_queue_depth().await?;
        metrics
            .queue_depth
            .get_or_create(&QueueLabels { state: "due" })
            .set(due);
        metrics
            .queue_depth
            .get_or_create(&QueueLabels { state: "scheduled" })
            .set(scheduled);
        let mut text = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut text, &metrics.registry)
            .map_err(|error| DomainError::Internal(error.to_string()))?;
        Ok(text)
    }

    /// Pending deliveries: due now, and scheduled for later.
    async fn webhook_queue_depth(&self) -> Result<(i64, i64), DomainError> {
        let (due, scheduled): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN next_attempt_at > $1 THEN 1 ELSE 0 END)
             FROM webhook_deliveries WHERE state = 'pending'",
        )
        .bind(self.now_ms())
        .fetch_one(self.db().pool())
        .await?;
        Ok((due.unwrap_or(0), scheduled.unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_are_encoded_with_their_labels() {
        let metrics = Metrics::default();
        metrics.count_request(&RequestLabels {
            method: "GET",
            route: "/v1/whoami".into(),
            status: 200,
        });
        metrics.count_authentication(AuthMethod::ApiKey, "api_key_invalid");
        metrics.count_key_cache(true);
        metrics.count_key_cache(true);
        metrics.count_key_cache(false);
        metrics.count_attempt(
            AttemptOutcome::Succeeded,
            Duration::from_millis(3),
            Duration::from_millis(9),
        );
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &metrics.registry).unwrap();
        for line in [
            "gatehouse_http_requests_total{method=\"GET\",route=\"/v1/whoami\",status=\"200\"} 1",
            "gatehouse_authentications_total{method=\"api_key\",code=\"api_key_invalid\"} 1",
            "gatehouse_key_cache_lookups_total{outcome=\"hit\"} 2",
            "gatehouse_key_cache_lookups_total{outcome=\"miss\"} 1",
            "gatehouse_webhook_attempts_total{outcome=\"succeeded\"} 1",
            "gatehouse_webhook_attempts_total{outcome=\"unreachable\"} 0",
            "gatehouse_webhook_attempt_duration_seconds_count 1",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
