//! The webhook benchmark's receiver (`bench/webhooks.sh`): a separate process on
//! 127.0.0.1 that answers every POST with 200 at once and records, per delivery, the
//! time from the event's sending (`data.sent_at_ms` in the body, Unix milliseconds, set
//! by the load generator) to its receipt. `GET /stats` reports the count, the first and
//! last receipt and the p50/p99 latency; `POST /reset` clears them. Written in Rust so
//! that the receiver is never what limits the figures: the bench measures its raw rate
//! with wrk and prints Gatehouse's deliveries as a share of it.
//!
//! Usage: `gatehouse-bench-receiver <port>`

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

#[derive(Default)]
struct Receipts {
    latencies_ms: Vec<f64>,
    first_ms: Option<f64>,
    last_ms: Option<f64>,
}

type Shared = Arc<Mutex<Receipts>>;

#[derive(Deserialize)]
struct Delivery {
    data: DeliveryData,
}

#[derive(Deserialize)]
struct DeliveryData {
    sent_at_ms: f64,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64() * 1000.0)
}

async fn receive(State(receipts): State<Shared>, body: Bytes) -> StatusCode {
    let received = now_ms();
    let latency = serde_json::from_slice::<Delivery>(&body)
        .map_or(f64::NAN, |delivery| received - delivery.data.sent_at_ms);
    let mut receipts = receipts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    receipts.latencies_ms.push(latency);
    receipts.first_ms.get_or_insert(received);
    receipts.last_ms = Some(received);
    StatusCode::OK
}

async fn stats(State(receipts): State<Shared>) -> axum::Json<serde_json::Value> {
    let receipts = receipts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut sorted: Vec<f64> = receipts
        .latencies_ms
        .iter()
        .copied()
        .filter(|latency| latency.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let at = |quantile: f64| {
        (!sorted.is_empty()).then(|| {
            let index = ((quantile * sorted.len() as f64) as usize).min(sorted.len() - 1);
            sorted[index]
        })
    };
    axum::Json(serde_json::json!({
        "count": receipts.latencies_ms.len(),
        "first": receipts.first_ms,
        "last": receipts.last_ms,
        "p50": at(0.5),
        "p99": at(0.99),
    }))
}

async fn reset(State(receipts): State<Shared>) -> StatusCode {
    *receipts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Receipts::default();
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|port| port.parse().ok())
        .ok_or_else(|| std::io::Error::other("usage: gatehouse-bench-receiver <port>"))?;
    let receipts = Shared::default();
    let app = Router::new()
        .route("/stats", get(stats))
        .route("/reset", post(reset))
        .fallback(receive)
        .with_state(receipts);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
