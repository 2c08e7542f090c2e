//! The delivery worker: claims due deliveries with a lease, sends
//! each as a signed Standard Webhooks request, and records the outcomes in batches.
//!
//! A module per job:
//! - `worker`: the loop — the handoff of deliveries this instance queued, the scan of
//!   the queue beside it, the sends in flight and the recorder; and the one-shot rounds
//!   the tests and the test event use.
//! - `gates`: the bounds in this instance (attempts outstanding per endpoint and per
//!   tenant, the turns of an endpoint's optional rate limit) and the fair order between
//!   tenants and endpoints, decided without I/O.
//! - `claiming`: one statement leases a batch of due rows (`lease_until`), taken
//!   round robin between tenants and between each tenant's endpoints; on
//!   PostgreSQL `FOR UPDATE SKIP LOCKED` keeps two instances from taking the same row,
//!   and on SQLite this process's one claimer is alone. A lease that runs out (a crash,
//!   `kill -9`) is taken again, so nothing is lost; the lease outlasts the 15 s timeout,
//!   so nothing is sent twice while an attempt is still running.
//! - `preparing`: what a claimed batch needs to be sent (endpoints, opened secrets,
//!   event bodies), read in two queries.
//! - `sending`: one attempt, signed, reading at most 1 KiB of the answer.
//! - `recording`: outcomes are written together (one transaction per batch): the
//!   attempt rows for the log, each delivery's next state, and each endpoint's health.
//!   410 Gone and 5 days without a success disable the endpoint through the one commit
//!   path.

mod claiming;
pub(crate) mod gates;
mod preparing;
mod recording;
mod sending;
mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_model::{DeliveryId, EventId, TenantId, WebhookEndpointId};

use super::secrets::SigningSecret;
pub use worker::DeliveryReport;

/// The most of a receiver's answer that is read and kept.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;

/// An event's body as every attempt sends it, and when the event was accepted.
#[derive(Debug, Clone)]
pub(crate) struct EventBody {
    bytes: Arc<[u8]>,
    /// Unix ms, for the delivery latency metric.
    occurred_at_ms: i64,
}

impl EventBody {
    /// The body of an event of `event_type` with `data` (JSON text).
    pub fn new(event_type: &str, occurred_at_ms: i64, data: &str) -> Self {
        Self {
            bytes: payload_body(event_type, occurred_at_ms, data).into(),
            occurred_at_ms,
        }
    }
}

/// A leased delivery.
#[derive(Debug, Clone)]
struct Claimed {
    delivery_id: DeliveryId,
    tenant_id: TenantId,
    endpoint_id: WebhookEndpointId,
    event_id: EventId,
    event_type: String,
    /// Attempts made before this one.
    attempts: i64,
    /// The event's body when it was handed over with the delivery (else it is read).
    body: Option<EventBody>,
    /// Its endpoint's rate-limit turn, when it must wait for one before it is sent.
    send_at: Option<Instant>,
}

/// A leased delivery with what sending it needs.
struct Prepared {
    claimed: Claimed,
    url: String,
    secrets: Vec<SigningSecret>,
    body: EventBody,
}

/// What one attempt came to.
#[derive(Debug)]
pub(crate) struct Outcome {
    claimed: Claimed,
    attempted_at_ms: i64,
    http_status: Option<u16>,
    latency_ms: i64,
    excerpt: String,
    error: Option<String>,
    retry_after: Option<Duration>,
    /// The start of each signature it was sent with; `None` when it was not sent.
    signature_excerpt: Option<String>,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.http_status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// The delivered body (Standard Webhooks' payload shape): the same bytes on every
/// attempt of an event.
pub(crate) fn payload_body(event_type: &str, occurred_at_ms: i64, data: &str) -> Vec<u8> {
    let timestamp =
        crate::time::from_ms(occurred_at_ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        r#"{{"type":{},"timestamp":"{timestamp}","data":{data}}}"#,
        serde_json::Value::String(event_type.to_owned())
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_standard_payload_shape() {
        let body = payload_body("payment_intent.succeeded", 0, r#"{"amount":5}"#);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["type"], "payment_intent.succeeded");
        assert_eq!(parsed["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(parsed["data"]["amount"], 5);
    }
}
