//! The delivery log: an endpoint's attempts newest first, one message (an event as the
//! endpoint was sent it, with each attempt's headers), replaying one event or every
//! failed one since a time, and the test event sent at once.

use gatehouse_model::{
    AttemptId, AttemptView, DeliveryId, EventId, EventType, MessageAttempt, Page, PageRequest,
    ReplayOutcome, ReplayRequest, SentHeader, WebhookEndpointId, WebhookMessage,
};
use serde_json::json;
use sqlx::any::AnyRow;

use super::events::queue_deliveries;
use crate::Gatehouse;
use crate::access::Access;
use crate::actor::Actor;
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::stored::{self, Stored};
use crate::webhooks::events::SentEvent;
use crate::webhooks::signing;

/// Most deliveries one bulk replay queues.
pub const MAX_BULK_REPLAY: usize = 10_000;
/// Most attempts a message lists (the newest).
pub const MESSAGE_ATTEMPTS: i64 = 100;

fn attempt_from_row(row: &AnyRow) -> Result<AttemptView, DomainError> {
    let stored = Stored::new(row, "delivery attempt");
    Ok(AttemptView {
        id: stored.parsed("id", |id| AttemptId::parse(id).ok())?,
        delivery_id: stored.parsed("delivery_id", |id| DeliveryId::parse(id).ok())?,
        endpoint_id: stored.parsed("endpoint_id", |id| WebhookEndpointId::parse(id).ok())?,
        event_id: stored.parsed("event_id", |id| EventId::parse(id).ok())?,
        event_type: stored.get("event_type")?,
        attempted_at: stored.time("attempted_at")?,
        succeeded: stored.get::<i64>("succeeded")? == 1,
        http_status: stored
            .get::<Option<i64>>("http_status")?
            .and_then(|status| u16::try_from(status).ok()),
        latency_ms: stored.get("latency_ms")?,
        response_excerpt: stored.get("response_excerpt")?,
        error: stored.get("error")?,
        next_retry_at: stored.time_optional("next_retry_at")?,
    })
}

const ATTEMPT_COLUMNS: &str = "id, delivery_id, endpoint_id, event_id, event_type, attempted_at,
    succeeded, http_status, latency_ms, response_excerpt, error, next_retry_at";

impl Gatehouse {
    /// An endpoint's attempts, newest first, a page at a time.
    pub async fn list_delivery_attempts(
        &self,
        actor: &Actor,
        endpoint_id: &WebhookEndpointId,
        page: &PageRequest,
    ) -> Result<Page<AttemptView>, DomainError> {
        self.webhook_endpoint(actor, endpoint_id).await?;
        let keyset = Keyset::from_request(page, |cursor| AttemptId::parse(cursor).is_ok())?;
        let rows = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts
             WHERE endpoint_id = $1 AND tenant_id = $2 AND ($3 = '' OR id < $3)
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(endpoint_id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(keyset.after.clone().unwrap_or_default())
        .bind(keyset.rows_to_read())
        .fetch_all(self.db().pool())
        .await?;
        let attempts = rows
            .iter()
            .map(attempt_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keyset.page(attempts, |attempt| attempt.id.to_string()))
    }

    /// One event as the endpoint was sent it: the exact body and each attempt (newest
    /// first) with its headers. Only an event in the endpoint's delivery log is found.
    /// The body is the event's data, so a key needs `events:read` besides the endpoint's
    /// `webhook_endpoints:read`: the delivery log gives no way around the events scope.
    pub async fn webhook_message(
        &self,
        actor: &Actor,
        endpoint_id: &WebhookEndpointId,
        event_id: &EventId,
    ) -> Result<WebhookMessage, DomainError> {
        actor.require(Access::EVENTS_READ)?;
        self.webhook_endpoint(actor, endpoint_id).await?;
        let event = sqlx::query(
            "SELECT e.event_type, e.payload, e.occurred_at FROM outbox_events e
             WHERE e.id = $1 AND e.tenant_id = $2
               AND EXISTS (SELECT 1 FROM webhook_deliveries d
                   WHERE d.event_id = e.id AND d.endpoint_id = $3 AND d.tenant_id = $2)",
        )
        .bind(event_id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(endpoint_id.as_str())
        .fetch_optional(self.db().pool())
        .await?
        .ok_or(DomainError::NotFound("event"))?;
        let stored = Stored::new(&event, "event");
        let event_type: String = stored.get("event_type")?;
        let payload: String = stored.get("payload")?;
        let occurred_at: i64 = stored.get("occurred_at")?;
        let body = super::delivery::payload_body(&event_type, occurred_at, &payload);
        let rows = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS}, signature_excerpt FROM webhook_attempts
             WHERE endpoint_id = $1 AND event_id = $2 AND tenant_id = $3
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(endpoint_id.as_str())
        .bind(event_id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(MESSAGE_ATTEMPTS)
        .fetch_all(self.db().pool())
        .await?;
        let attempts = rows
            .iter()
            .map(|row| {
                let attempt = attempt_from_row(row)?;
                let signatures: Option<String> =
                    Stored::new(row, "delivery attempt").get("signature_excerpt")?;
                let headers = signing::delivery_headers(
                    event_id.as_str(),
                    attempt.attempted_at.timestamp(),
                    signatures.unwrap_or_else(|| "(not recorded)".to_owned()),
                );
                Ok(MessageAttempt {
                    attempt,
                    headers: headers
                        .into_iter()
                        .map(|(name, value)| SentHeader {
                            name: name.to_owned(),
                            value,
                        })
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        Ok(WebhookMessage {
            endpoint_id: endpoint_id.clone(),
            event_id: event_id.clone(),
            event_type,
            body: String::from_utf8_lossy(&body).into_owned(),
            attempts,
        })
    }

    /// Queues an event again for an endpoint: one event (`event_id`), or every event
    /// whose delivery to it failed since `failed_since` and never succeeded later. The
    /// `webhook-id` stays the event's, so receivers can tell a replay from a new event.
    pub async fn replay_webhooks(
        &self,
        actor: &Actor,
        endpoint_id: &WebhookEndpointId,
        request: &ReplayRequest,
    ) -> Result<ReplayOutcome, DomainError> {
        actor.require(Access::WEBHOOKS_WRITE)?;
        let endpoint = self.webhook_endpoint(actor, endpoint_id).await?;
        let events: Vec<(String, String)> = match (&request.event_id, request.failed_since) {
            // An event this endpoint was sent before (it is in its delivery log).
            (Some(event_id), None) => {
                sqlx::query_as(
                    "SELECT DISTINCT event_id, event_type FROM webhook_deliveries
                 WHERE event_id = $1 AND endpoint_id = $2 AND tenant_id = $3",
                )
                .bind(event_id.as_str())
                .bind(endpoint_id.as_str())
                .bind(actor.tenant_id.as_str())
                .fetch_all(self.db().pool())
                .await?
            }
            (None, Some(since)) => {
                sqlx::query_as(
                    "SELECT DISTINCT d.event_id, d.event_type FROM webhook_deliveries d
                 WHERE d.endpoint_id = $1 AND d.state = 'failed' AND d.created_at >= $2
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries later
                       WHERE later.endpoint_id = d.endpoint_id AND later.event_id = d.event_id
                         AND later.state IN ('pending', 'succeeded'))
                 LIMIT $3",
                )
                .bind(endpoint_id.as_str())
                .bind(since.timestamp_millis())
                .bind(MAX_BULK_REPLAY as i64)
                .fetch_all(self.db().pool())
                .await?
            }
            _ => {
                return Err(DomainError::field(
                    "event_id",
                    "Send either event_id (one event) or failed_since (every failed event since then).",
                ));
            }
        };
        if request.event_id.is_some() && events.is_empty() {
            return Err(DomainError::NotFound("event"));
        }
        // Nothing to send: nothing changed, so nothing to audit.
        if events.is_empty() {
            return Ok(ReplayOutcome { queued: 0 });
        }
        let replayed = match events.len() {
            1 => "1 event replayed".to_owned(),
            count => format!("{count} events replayed"),
        };
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        for (event_id, event_type) in &events {
            let event_id = stored::parsed("event", "id", event_id, |id| EventId::parse(id).ok())?;
            let queued = queue_deliveries(
                change.connection(),
                &actor.tenant_id,
                &[(&endpoint).into()],
                &event_id,
                event_type,
                now,
            )
            .await?;
            change.deliveries_queued(queued);
        }
        let record = AuditRecord {
            after: Some(json!({
                "event_id": request.event_id, "failed_since": request.failed_since,
                "queued": events.len(),
            })),
            ..AuditRecord::by(
                actor,
                EventType::WebhookReplayed,
                format!("{replayed} to {}", endpoint.url),
            )
        }
        .in_app(&endpoint.app_id, endpoint.mode)
        .related("endpoint_id", endpoint_id);
        change.audit(record).await?;
        change.commit().await?;
        Ok(ReplayOutcome {
            queued: events.len() as i64,
        })
    }

    /// Sends a signed test event to one endpoint at once and answers with the attempt:
    /// `webhook.test`, or (`example`) an event type of the scope catalog's examples with
    /// its example data, so the receiver's handler for that type can be tried. It goes to
    /// this endpoint only, enabled or not.
    pub async fn send_test_webhook(
        &self,
        actor: &Actor,
        endpoint_id: &WebhookEndpointId,
        example: Option<&str>,
    ) -> Result<AttemptView, DomainError> {
        actor.require(Access::WEBHOOKS_WRITE)?;
        let endpoint = self.webhook_endpoint(actor, endpoint_id).await?;
        let (event_type, data) = match example {
            None => (
                EventType::WebhookTest.as_str(),
                json!({
                    "endpoint_id": endpoint.id,
                    "message": "A test event from Gatehouse: this endpoint receives signed webhooks.",
                }),
            ),
            Some(event_type) => {
                let example = self
                    .scope_catalog()
                    .event_example(event_type)
                    .ok_or_else(|| {
                        DomainError::field(
                            "event_type",
                            "Choose webhook.test or an event type with an example in the catalog.",
                        )
                    })?;
                (example.event_type.as_str(), example.data.clone())
            }
        };
        let mut change = self.begin_change().await?;
        // Written as the test event of this endpoint alone, not fanned out.
        let event_id = change
            .record_event_for(
                SentEvent {
                    tenant_id: &actor.tenant_id,
                    mode: endpoint.mode,
                    app_id: &endpoint.app_id,
                    event_type,
                    data: &data,
                },
                &endpoint,
            )
            .await?;
        let record = AuditRecord::by(
            actor,
            EventType::WebhookTest,
            format!("Test event {event_type} sent to {}", endpoint.url),
        )
        .in_app(&endpoint.app_id, endpoint.mode)
        .related("endpoint_id", endpoint_id)
        .related("event_id", &event_id);
        change.audit(record).await?;
        change.commit().await?;
        self.deliver_now(endpoint_id, &event_id).await?;
        let row = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE endpoint_id = $1 AND event_id = $2
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(endpoint_id.as_str())
        .bind(event_id.as_str())
        .fetch_one(self.db().pool())
        .await?;
        attempt_from_row(&row)
    }
}
