//! Sending: one attempt, signed (Standard Webhooks), through the address guard, within
//! the timeout; at most 1 KiB of the answer is read.

use std::time::{Duration, Instant};

use super::{Outcome, Prepared, RESPONSE_EXCERPT_BYTES};
use crate::Gatehouse;
use crate::storable::storable_text;
use crate::webhooks::signing;

impl Gatehouse {
    /// Sends one attempt through its endpoint's gate and reads at most 1 KiB back, and
    /// counts it in the metrics.
    pub(super) async fn send(&self, job: Prepared) -> Outcome {
        let occurred_at_ms = job.body.occurred_at_ms;
        let outcome = self.send_uncounted(job).await;
        // Answered: no longer outstanding to its endpoint and tenant, though its outcome
        // is still to be written (its row stays leased until it is, or until the lease
        // runs out and it is taken again).
        self.webhooks
            .release(&outcome.claimed.tenant_id, &outcome.claimed.endpoint_id);
        // Room was freed: handed deliveries waiting for it are claimed while this
        // outcome is being recorded, not after.
        self.webhooks.wake_for_handoff();
        let kind = match outcome.http_status {
            Some(_) if outcome.succeeded() => crate::metrics::AttemptOutcome::Succeeded,
            Some(_) => crate::metrics::AttemptOutcome::Refused,
            None => crate::metrics::AttemptOutcome::Unreachable,
        };
        let since_event = Duration::from_millis(
            u64::try_from(self.now_ms() - occurred_at_ms).unwrap_or_default(),
        );
        let took = Duration::from_millis(u64::try_from(outcome.latency_ms).unwrap_or_default());
        self.metrics.count_attempt(kind, took, since_event);
        outcome
    }

    async fn send_uncounted(&self, job: Prepared) -> Outcome {
        let attempted_at_ms = self.now_ms();
        let timestamp = attempted_at_ms.div_euclid(1000);
        let mut outcome = Outcome {
            claimed: job.claimed,
            attempted_at_ms,
            http_status: None,
            latency_ms: 0,
            excerpt: String::new(),
            error: None,
            retry_after: None,
            signature_excerpt: None,
        };
        if let Err(why) = self
            .webhooks
            .settings
            .destinations
            .check_literal_host(&job.url)
        {
            outcome.error = Some(format!("refused before connecting: {why}"));
            return outcome;
        }
        let signature = signing::signature_header(
            &job.secrets,
            outcome.claimed.event_id.as_str(),
            timestamp,
            &job.body.bytes,
        );
        outcome.signature_excerpt = Some(signing::signature_excerpt(&signature));
        let started = Instant::now();
        let headers =
            signing::delivery_headers(outcome.claimed.event_id.as_str(), timestamp, signature);
        let request = headers
            .into_iter()
            .fold(
                self.webhooks.client.post(&job.url),
                |request, (name, value)| request.header(name, value),
            )
            .body(job.body.bytes.to_vec());
        let answer = tokio::time::timeout(self.webhooks.settings.delivery.timeout, async {
            let mut response = request.send().await?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, attempted_at_ms));
            let mut excerpt = Vec::new();
            while excerpt.len() < RESPONSE_EXCERPT_BYTES {
                match response.chunk().await? {
                    Some(chunk) => excerpt.extend_from_slice(&chunk),
                    None => break,
                }
            }
            excerpt.truncate(RESPONSE_EXCERPT_BYTES);
            Ok::<_, reqwest::Error>((status, retry_after, excerpt))
        })
        .await;
        outcome.latency_ms = started.elapsed().as_millis() as i64;
        match answer {
            Ok(Ok((status, retry_after, excerpt))) => {
                outcome.http_status = Some(status);
                outcome.retry_after = retry_after;
                outcome.excerpt = storable_text(&excerpt).into_owned();
                if !(200..300).contains(&status) {
                    outcome.error = Some(format!("the receiver answered HTTP {status}"));
                }
            }
            Ok(Err(error)) => outcome.error = Some(describe_send_error(&error)),
            Err(_) => {
                outcome.error = Some(format!(
                    "no answer within {} s",
                    self.webhooks.settings.delivery.timeout.as_secs()
                ))
            }
        }
        outcome
    }
}

/// `Retry-After` as seconds or an HTTP date (a date counted from `now_ms`).
fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let wait_ms = (at.timestamp_millis() - now_ms).max(0);
    Some(Duration::from_secs(wait_ms as u64 / 1000))
}

/// Why a request got no answer, without the URL (which may carry a token).
fn describe_send_error(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut cause = String::new();
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    let kind = if error.is_connect() {
        "could not connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the answer could not be read"
    } else {
        "the request failed"
    };
    if cause.is_empty() {
        kind.to_owned()
    } else {
        let cause: String = storable_text(cause.as_bytes()).chars().take(200).collect();
        format!("{kind}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        // 2015-10-21T07:28:00Z.
        let date_ms = 1_445_412_480_000;
        assert_eq!(
            parse_retry_after("120", date_ms),
            Some(Duration::from_secs(120))
        );
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_retry_after(date, date_ms + 1), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(date, date_ms - 90_000),
            Some(Duration::from_secs(90))
        );
        assert_eq!(parse_retry_after("soon", date_ms), None);
    }
}
