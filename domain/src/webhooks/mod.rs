//! Webhooks, a module per concern: signing `secrets` sealed at rest,
//! Standard Webhooks `signing`, the `destination` rules and connect-time address
//! guard, `endpoints` (create, edit, disable, delete, rotate), `events` (what the SaaS
//! posts and the fan-out every change's events go through), `delivery` (the durable
//! queue's worker: claim with a lease, send, record, retry) and `log` (the delivery
//! log, replays and test events). This file holds what they share: the runtime
//! settings and reading an endpoint row.
//!
//! Endpoints belong to an app and a mode; an event fans out to every enabled endpoint
//! of its tenant and mode whose families match. A key acting through the API manages
//! only its own app's endpoints of its own mode.

pub mod delivery;
pub mod destination;
pub mod endpoints;
pub mod events;
pub mod log;
pub mod secrets;
pub mod signing;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatehouse_model::{
    AppId, DisabledReason, EndpointStatus, EndpointView, KeyMode, WebhookEndpointId,
};
use sqlx::any::AnyRow;

use crate::error::DomainError;
use crate::stored::Stored;
pub use destination::{Destinations, Lookup, NetworkPolicy, StaticLookup};
pub use secrets::{MasterKeys, SigningSecret};

/// How deliveries are paced and retried. Tests shorten nothing: they
/// drive the clock instead.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// A 2xx answer within this time is success.
    pub timeout: Duration,
    /// How long a claimed delivery is held before another worker may take it again.
    pub lease: Duration,
    /// Waits before each retry after a failure: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    pub retry_schedule: Vec<Duration>,
    /// The most a receiver's `Retry-After` may push the next attempt out.
    pub max_retry_after: Duration,
    /// An endpoint failing without a success this long is disabled.
    pub disable_after_failing: Duration,
    /// Attempts in flight to one endpoint at most.
    pub max_in_flight_per_endpoint: usize,
    /// Attempts in flight for one tenant at most, so that one tenant's backlog never
    /// takes every slot of the instance (a quarter of `max_in_flight` by default).
    pub max_in_flight_per_tenant: usize,
    /// Attempts in flight from this instance at most.
    pub max_in_flight: usize,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        const MINUTE: u64 = 60;
        const HOUR: u64 = 60 * MINUTE;
        Self {
            timeout: Duration::from_secs(15),
            lease: Duration::from_secs(60),
            retry_schedule: [
                5,
                5 * MINUTE,
                30 * MINUTE,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                10 * HOUR,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
            max_retry_after: Duration::from_secs(24 * HOUR),
            disable_after_failing: Duration::from_secs(5 * 24 * HOUR),
            max_in_flight_per_endpoint: 16,
            max_in_flight_per_tenant: 512 / 4,
            max_in_flight: 512,
        }
    }
}

/// What the operator configures for webhooks.
#[derive(Clone, Default)]
pub struct WebhookSettings {
    /// Seals signing secrets; endpoints cannot be created without it.
    pub master_keys: Option<MasterKeys>,
    pub destinations: Destinations,
    pub delivery: DeliverySettings,
}

/// The webhooks' shared state in a running instance: settings, the HTTP client (which
/// connects only through the address guard), the worker's wake-up and the per-endpoint
/// gates.
pub(crate) struct WebhookRuntime {
    pub settings: WebhookSettings,
    pub client: reqwest::Client,
    /// Rung after a change queued deliveries, so they go out at once.
    pub wake: tokio::sync::Notify,
    /// Rung when the queue should be scanned now.
    scan_wake: tokio::sync::Notify,
    /// Deliveries this instance's changes queued, for its worker to lease by id (no
    /// scan of the queue needed for them), including those it could not take yet
    /// (caps, its capacity), in fair order. Bounded: beyond it the scan finds them.
    handoff: Mutex<delivery::gates::FairQueue>,
    /// Whether the worker should scan the queue at its next turn (another instance
    /// queued deliveries, an endpoint was enabled again, or a handoff overflowed).
    scan_requested: std::sync::atomic::AtomicBool,
    /// Whether the last scan left due deliveries behind (endpoint caps, batch size):
    /// each recorded batch frees room, and then the worker scans again at once.
    pub(crate) more_due: std::sync::atomic::AtomicBool,
    pub(crate) gates: Mutex<delivery::gates::Gates>,
}

impl WebhookRuntime {
    pub fn new(settings: WebhookSettings) -> Self {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(destination::GuardedResolver(
                settings.destinations.clone(),
            )))
            .redirect(reqwest::redirect::Policy::none())
            // No outbound proxy, whatever HTTP(S)_PROXY says: through a proxy the address
            // guard would check only the proxy's address, never the receiver's.
            .no_proxy()
            .timeout(settings.delivery.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            // Endpoints often share a host (one receiver behind many endpoints): as many
            // idle connections per host as attempts may be in flight, so none is closed
            // only to be opened again for the next attempt.
            .pool_max_idle_per_host(settings.delivery.max_in_flight)
            .user_agent(concat!("Gatehouse-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the webhook HTTP client's settings are valid");
        Self {
            settings,
            client,
            wake: tokio::sync::Notify::new(),
            scan_wake: tokio::sync::Notify::new(),
            handoff: Mutex::default(),
            scan_requested: std::sync::atomic::AtomicBool::new(true),
            more_due: std::sync::atomic::AtomicBool::new(false),
            gates: Mutex::default(),
        }
    }
}

/// Most deliveries waiting in the handoff; more are found by the worker's scan.
const MAX_HANDOFF: usize = 10_000;

impl WebhookRuntime {
    /// Hands deliveries just committed to this instance's worker and wakes it.
    pub(crate) fn hand_off(&self, queued: Vec<events::QueuedDelivery>) {
        let mut handoff = self.handoff.lock().expect("handoff lock");
        if handoff.len() + queued.len() <= MAX_HANDOFF {
            for delivery in queued {
                handoff.push(delivery);
            }
            drop(handoff);
            self.wake.notify_one();
        } else {
            drop(handoff);
            self.request_scan();
        }
    }

    /// Whether handed deliveries wait for the worker.
    fn handoff_waiting(&self) -> bool {
        !self.handoff.lock().expect("handoff lock").is_empty()
    }

    /// Wakes the worker when handed deliveries are waiting (room was freed for them).
    pub(crate) fn wake_for_handoff(&self) {
        if self.handoff_waiting() {
            self.wake.notify_one();
        }
    }

    /// Asks the worker to scan the queue at its next turn, and wakes it.
    pub(crate) fn request_scan(&self) {
        self.scan_requested
            .store(true, std::sync::atomic::Ordering::Release);
        self.scan_wake.notify_one();
    }

    fn take_scan_request(&self) -> bool {
        self.scan_requested
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }
}

impl Default for WebhookRuntime {
    fn default() -> Self {
        Self::new(WebhookSettings::default())
    }
}

/// The columns an endpoint is read from.
const ENDPOINT_COLUMNS: &str = "id, app_id, mode, url, description, event_families, status,
    disabled_reason, rate_limit_per_second, masked_secret, last_success_at, failing_since,
    created_at, created_by, updated_at, updated_by";

fn endpoint_from_row(row: &AnyRow) -> Result<EndpointView, DomainError> {
    let stored = Stored::new(row, "webhook endpoint");
    let rate: Option<i64> = stored.get("rate_limit_per_second")?;
    Ok(EndpointView {
        id: stored.parsed("id", |id| WebhookEndpointId::parse(id).ok())?,
        app_id: stored.parsed("app_id", |id| AppId::parse(id).ok())?,
        url: stored.get("url")?,
        description: stored.get("description")?,
        mode: stored.parsed("mode", KeyMode::parse)?,
        event_families: stored.json("event_families")?,
        status: stored.parsed("status", EndpointStatus::parse)?,
        disabled_reason: stored.parsed_optional("disabled_reason", DisabledReason::parse)?,
        rate_limit_per_second: rate.and_then(|rate| u32::try_from(rate).ok()),
        masked_secret: stored.get("masked_secret")?,
        last_success_at: stored.time_optional("last_success_at")?,
        failing_since: stored.time_optional("failing_since")?,
        created_at: stored.time("created_at")?,
        created_by: stored.get("created_by")?,
        updated_at: stored.time("updated_at")?,
        updated_by: stored.get("updated_by")?,
    })
}

/// An endpoint as the audit trail records it: never its secret.
fn audit_state(endpoint: &EndpointView) -> serde_json::Value {
    serde_json::json!({
        "id": endpoint.id, "app_id": endpoint.app_id, "url": endpoint.url,
        "description": endpoint.description, "mode": endpoint.mode,
        "event_families": endpoint.event_families, "status": endpoint.status,
        "disabled_reason": endpoint.disabled_reason,
        "rate_limit_per_second": endpoint.rate_limit_per_second,
    })
}
