//! Webhooks: endpoints and what is sent to create or change one, the one-time signing
//! secret, events, deliveries and the attempts of the delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::KeyMode;
use crate::ids::{AppId, AttemptId, DeliveryId, EventId, WebhookEndpointId};

wire_enum! {
    /// Whether an endpoint receives deliveries.
    pub enum EndpointStatus {
        Enabled => "enabled",
        Disabled => "disabled",
    }
}

wire_enum! {
    /// Why an endpoint is disabled: by a person or key, because the receiver answered
    /// `410 Gone`, or because it failed without a success for 5 days.
    pub enum DisabledReason {
        Manual => "manual",
        Gone => "gone",
        Failing => "failing",
    }
}

wire_enum! {
    /// Where a delivery stands: waiting for its next attempt, delivered, or given up.
    pub enum DeliveryState {
        Pending => "pending",
        Succeeded => "succeeded",
        Failed => "failed",
    }
}

/// The families an endpoint receives: `["*"]` is every family, otherwise entries of the
/// catalog's event families such as `api_key.*`.
pub const ALL_EVENT_FAMILIES: &str = "*";

/// What a user (or a client of `/v1/webhook-endpoints`) sends to create an endpoint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// The app the endpoint belongs to; an API key may leave it out (its own).
    #[serde(default)]
    pub app_id: Option<AppId>,
    pub url: String,
    #[serde(default)]
    pub description: String,
    pub mode: KeyMode,
    /// Catalog families (`api_key.*`) or `["*"]` for all; empty is all too.
    #[serde(default)]
    pub event_families: Vec<String>,
    /// Most deliveries sent per second to this endpoint; none for no limit.
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub rate_limit_per_second: Option<u32>,
}

/// What can be changed on an endpoint; a field left out keeps its value.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointUpdate {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub event_families: Option<Vec<String>>,
    /// `Some(None)` (JSON `null`) removes the limit.
    #[serde(
        default,
        serialize_with = "double_option::serialize",
        deserialize_with = "crate::whole_number::patched"
    )]
    pub rate_limit_per_second: Option<Option<u32>>,
}

/// An endpoint as lists and details show it; never its secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: WebhookEndpointId,
    pub app_id: AppId,
    pub url: String,
    pub description: String,
    pub mode: KeyMode,
    pub event_families: Vec<String>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<DisabledReason>,
    pub rate_limit_per_second: Option<u32>,
    /// The secret's first characters (`whsec_AbCd…`), to tell secrets apart.
    pub masked_secret: String,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Since when deliveries fail without a success; `None` when healthy.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// An endpoint in the Webhooks tab's list, with its last day of deliveries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointListItem {
    #[serde(flatten)]
    pub endpoint: EndpointView,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub succeeded_24h: i64,
    pub failed_24h: i64,
}

/// The answer to create and rotate: the endpoint and its signing secret, shown once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointView,
    /// `whsec_` + base64: shown once, never again.
    pub secret: String,
}

/// What a client of `POST /v1/events` sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// `family.action`, e.g. `payment_intent.succeeded`; the family must be one of the
    /// catalog's event families.
    #[serde(rename = "type")]
    pub event_type: String,
    /// A JSON object.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// An event as the API shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub mode: KeyMode,
    pub app_id: Option<AppId>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// How many endpoints it was fanned out to.
    pub deliveries: i64,
}

/// An event with where it went.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventView,
    pub delivery_list: Vec<DeliveryView>,
}

/// One event's delivery to one endpoint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub created_at: DateTime<Utc>,
}

/// One attempt, as the delivery log lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub event_type: String,
    pub attempted_at: DateTime<Utc>,
    pub succeeded: bool,
    /// The receiver's HTTP status; `None` when no answer came (refused, timed out).
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    /// The first 1 KiB of the receiver's answer.
    pub response_excerpt: String,
    pub error: Option<String>,
    /// When the delivery is tried again; `None` when it succeeded or was given up.
    pub next_retry_at: Option<DateTime<Utc>>,
}

/// One event as an endpoint was sent it: the exact body, and every attempt with the
/// headers it carried.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub event_type: String,
    /// The body as sent, byte for byte (Standard Webhooks' `type`, `timestamp`, `data`).
    pub body: String,
    /// Newest first; at most the last 100.
    pub attempts: Vec<MessageAttempt>,
}

/// One attempt of a message, with the headers it was sent with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAttempt {
    #[serde(flatten)]
    pub attempt: AttemptView,
    /// In the order sent. `webhook-signature` shows the start of each signature only;
    /// attempts recorded before signatures were kept show none.
    pub headers: Vec<SentHeader>,
}

/// A request header as a delivery sent it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentHeader {
    pub name: String,
    pub value: String,
}

/// What `POST /v1/webhook-endpoints/{id}/test` may send; without a body, `webhook.test`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEventRequest {
    /// An event type with an example in the scope catalog (`event_examples`), sent with
    /// the example's data; left out, Gatehouse's own `webhook.test`.
    #[serde(default)]
    pub event_type: Option<String>,
}

/// Replays: one event, or every event whose delivery to the endpoint
/// failed since a time.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    #[serde(default)]
    pub event_id: Option<EventId>,
    #[serde(default)]
    pub failed_since: Option<DateTime<Utc>>,
}

/// How many deliveries a replay queued.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayOutcome {
    pub queued: i64,
}

/// The Webhooks tab: the selected app's endpoints and the families to pick from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPage {
    pub app: Option<super::AppView>,
    pub endpoints: Vec<EndpointListItem>,
    pub event_families: Vec<String>,
    /// The event types "Send test event" can send an example of (the catalog's).
    pub example_event_types: Vec<String>,
    /// Whether the operator allowed networks whose addresses live endpoints may reach
    /// over plain http (the networks themselves are not shown to tenants).
    pub operator_allows_http_networks: bool,
}

/// `Option<Option<T>>` to JSON: `None` and `Some(None)` are both `null` (read back by
/// [`crate::whole_number::patched`]: absent is `None`, `null` is `Some(None)`).
mod double_option {
    use serde::{Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            None => serializer.serialize_none(),
            Some(inner) => inner.serialize(serializer),
        }
    }
}
