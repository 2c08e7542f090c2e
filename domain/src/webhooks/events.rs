//! Events: what the SaaS posts (`POST /v1/events`, with an optional
//! idempotency key), the fan-out every event goes through — Gatehouse's own included —
//! and reading events back with their deliveries.

use gatehouse_model::{
    AppId, DeliveryId, DeliveryState, DeliveryView, EventDetail, EventId, EventInput, EventType,
    EventView, KeyMode, Page, PageRequest, RESERVED_EVENT_FAMILIES, TenantId, WebhookEndpointId,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::access::Access;
use crate::actor::Actor;
use crate::audit::AuditRecord;
use crate::change::{Change, DELIVERIES_CHANNEL};
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::stored::{self, Stored};
use crate::webhooks::delivery::EventBody;
use crate::{Engine, Gatehouse, ids};

pub const MAX_EVENT_TYPE_CHARS: usize = 100;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
/// How long an idempotency key returns its first event.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// An event a change emits for webhooks. It belongs to one app (the app of the key or
/// endpoint it is about) and goes to that app's endpoints only.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub tenant_id: TenantId,
    pub mode: KeyMode,
    pub app_id: AppId,
    pub event_type: EventType,
    pub data: serde_json::Value,
}

/// An event by its type's text (the SaaS names its own types).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentEvent<'a> {
    pub tenant_id: &'a TenantId,
    pub mode: KeyMode,
    pub app_id: &'a AppId,
    pub event_type: &'a str,
    pub data: &'a serde_json::Value,
}

impl Change<'_> {
    /// Writes an event for webhooks, committed with the change or not at all, and queues
    /// its delivery to every enabled endpoint of its app and mode subscribed to its
    /// family: the deliveries exist before the change is answered.
    pub async fn emit(&mut self, event: NewEvent) -> Result<EventId, DomainError> {
        let sent = SentEvent {
            tenant_id: &event.tenant_id,
            mode: event.mode,
            app_id: &event.app_id,
            event_type: event.event_type.as_str(),
            data: &event.data,
        };
        let id = EventId::from_body(&ids::fresh_body());
        self.write_event(&id, sent, "gatehouse").await?;
        Ok(id)
    }

    /// Writes an event the SaaS sent (`POST /v1/events`, a type of its own) and fans it
    /// out like [`Self::emit`].
    /// Answers how many deliveries it queued.
    pub(crate) async fn emit_sent(
        &mut self,
        id: &EventId,
        event: SentEvent<'_>,
    ) -> Result<usize, DomainError> {
        self.write_event(id, event, "api").await
    }

    /// Writes the event and queues its deliveries; answers how many.
    async fn write_event(
        &mut self,
        id: &EventId,
        event: SentEvent<'_>,
        source: &str,
    ) -> Result<usize, DomainError> {
        let data = event.data.to_string();
        sqlx::query(
            "INSERT INTO outbox_events (id, tenant_id, mode, app_id, event_type, payload, occurred_at, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(event.tenant_id.as_str())
        .bind(event.mode.as_str())
        .bind(event.app_id.as_str())
        .bind(event.event_type)
        .bind(data.as_str())
        .bind(self.now_ms)
        .bind(source)
        .execute(self.connection())
        .await?;
        let now_ms = self.now_ms;
        let queued = fan_out(
            self.connection(),
            event.tenant_id,
            event.mode,
            event.app_id,
            id,
            event.event_type,
            now_ms,
        )
        .await?;
        let count = queued.len();
        if count > 0 {
            // The worker signs these bytes without reading the event back.
            let body = EventBody::new(event.event_type, self.now_ms, &data);
            self.deliveries_queued(
                queued
                    .into_iter()
                    .map(|delivery| QueuedDelivery {
                        body: Some(body.clone()),
                        ..delivery
                    })
                    .collect(),
            );
        }
        Ok(count)
    }

    /// Writes an event meant for one endpoint only (the test event) and queues its
    /// delivery there, without fan-out and without waking the workers: the caller
    /// delivers it itself at once.
    pub(crate) async fn record_event_for(
        &mut self,
        event: SentEvent<'_>,
        endpoint: &gatehouse_model::EndpointView,
    ) -> Result<EventId, DomainError> {
        let id = EventId::from_body(&ids::fresh_body());
        sqlx::query(
            "INSERT INTO outbox_events (id, tenant_id, mode, app_id, event_type, payload, occurred_at, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'gatehouse')",
        )
        .bind(id.as_str())
        .bind(event.tenant_id.as_str())
        .bind(event.mode.as_str())
        .bind(event.app_id.as_str())
        .bind(event.event_type)
        .bind(event.data.to_string())
        .bind(self.now_ms)
        .execute(self.connection())
        .await?;
        let now_ms = self.now_ms;
        queue_deliveries(
            self.connection(),
            event.tenant_id,
            &[endpoint.into()],
            &id,
            event.event_type,
            now_ms,
        )
        .await?;
        Ok(id)
    }

    /// Hands deliveries this change queued to this instance's worker once it commits,
    /// and wakes the other instances' workers.
    pub(crate) fn deliveries_queued(&mut self, queued: Vec<QueuedDelivery>) {
        if queued.is_empty() {
            return;
        }
        // Names this instance, whose own worker is handed the rows directly.
        let this_instance = self.gatehouse().instance_id.to_string();
        self.notify_at_commit(DELIVERIES_CHANNEL, this_instance);
        self.after_commit(move |gatehouse| gatehouse.webhooks.hand_off(queued));
    }

    /// Marks that deliveries may be due that this change did not queue itself (an
    /// endpoint enabled again): every instance's worker looks for them at commit.
    pub(crate) fn deliveries_waiting(&mut self) {
        self.notify_at_commit(DELIVERIES_CHANNEL, String::new());
        self.after_commit(|gatehouse| gatehouse.webhooks.request_scan());
    }
}

/// Queues the delivery of event `event_id` to every enabled endpoint of its app and
/// mode subscribed to its family (or to all), in the caller's transaction. An event
/// never reaches another app's endpoints, even of the same tenant. Returns the queued
/// deliveries.
pub(crate) async fn fan_out(
    connection: &mut AnyConnection,
    tenant_id: &TenantId,
    mode: KeyMode,
    app_id: &AppId,
    event_id: &EventId,
    event_type: &str,
    now_ms: i64,
) -> Result<Vec<QueuedDelivery>, DomainError> {
    let family = event_type
        .split_once('.')
        .map_or(event_type, |(family, _)| family);
    let endpoints: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT DISTINCT f.endpoint_id, e.rate_limit_per_second FROM webhook_endpoint_families f
         JOIN webhook_endpoints e ON e.id = f.endpoint_id
         WHERE f.tenant_id = $1 AND f.mode = $2 AND f.family IN ('*', $3)
           AND e.app_id = $4 AND e.status = 'enabled'",
    )
    .bind(tenant_id.as_str())
    .bind(mode.as_str())
    .bind(family)
    .bind(app_id.as_str())
    .fetch_all(&mut *connection)
    .await?;
    let targets = endpoints
        .into_iter()
        .map(|(id, rate)| {
            Ok(DeliveryTarget {
                endpoint_id: stored::parsed("endpoint", "id", &id, |id| {
                    WebhookEndpointId::parse(id).ok()
                })?,
                rate_limit_per_second: rate.and_then(|rate| u32::try_from(rate).ok()),
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    queue_deliveries(
        connection, tenant_id, &targets, event_id, event_type, now_ms,
    )
    .await
}

/// Counts one test-mode event of the tenant in the billing window, refusing it once the
/// tenant's monthly test events are used up (live events are billed as calls; test
/// ones are free, so this keeps one tenant's test traffic from filling the queue).
async fn count_test_event(
    connection: &mut AnyConnection,
    tenant_id: &TenantId,
    limit: i64,
    now_ms: i64,
) -> Result<(), DomainError> {
    let refused = || {
        DomainError::LimitReached(format!(
            "Test mode sends at most {limit} events a month in this workspace; the count starts afresh on the 1st (UTC)."
        ))
    };
    if limit <= 0 {
        return Err(refused());
    }
    let (window_start, _) = crate::tenants::month_window(now_ms);
    let counted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO test_event_counts (tenant_id, window_start, events) VALUES ($1, $2, 1)
         ON CONFLICT (tenant_id, window_start) DO UPDATE
            SET events = test_event_counts.events + 1
            WHERE test_event_counts.events < $3
         RETURNING events",
    )
    .bind(tenant_id.as_str())
    .bind(window_start)
    .bind(limit)
    .fetch_optional(connection)
    .await?;
    counted.map(|_| ()).ok_or_else(refused)
}

/// An endpoint deliveries are queued to, with the rate limit the worker paces it by.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryTarget {
    pub endpoint_id: WebhookEndpointId,
    pub rate_limit_per_second: Option<u32>,
}

impl From<&gatehouse_model::EndpointView> for DeliveryTarget {
    fn from(endpoint: &gatehouse_model::EndpointView) -> Self {
        Self {
            endpoint_id: endpoint.id.clone(),
            rate_limit_per_second: endpoint.rate_limit_per_second,
        }
    }
}

/// A delivery waiting to be claimed: its id, its tenant, its endpoint and that
/// endpoint's rate limit, and its event's body when the change that queued it has it at
/// hand (the worker then does not read it back).
#[derive(Debug, Clone)]
pub(crate) struct QueuedDelivery {
    pub delivery_id: DeliveryId,
    pub tenant_id: TenantId,
    pub endpoint_id: WebhookEndpointId,
    pub rate_limit_per_second: Option<u32>,
    pub body: Option<super::delivery::EventBody>,
}

/// Inserts one pending delivery per endpoint, due now, in as few statements as the
/// engines' parameter limits allow.
pub(crate) async fn queue_deliveries(
    connection: &mut AnyConnection,
    tenant_id: &TenantId,
    targets: &[DeliveryTarget],
    event_id: &EventId,
    event_type: &str,
    now_ms: i64,
) -> Result<Vec<QueuedDelivery>, DomainError> {
    const ROWS_PER_STATEMENT: usize = 100;
    let mut queued = Vec::with_capacity(targets.len());
    for chunk in targets.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type,
                state, attempts, next_attempt_at, created_at, updated_at) VALUES {}",
            Placeholders::new(Engine::of(connection)).rows(chunk.len(), 10)
        );
        let mut query = sqlx::query(&sql);
        for target in chunk {
            let delivery_id = DeliveryId::from_body(&ids::fresh_body());
            query = query
                .bind(delivery_id.as_str().to_owned())
                .bind(tenant_id.as_str())
                .bind(target.endpoint_id.as_str())
                .bind(event_id.as_str())
                .bind(event_type)
                .bind("pending")
                .bind(0_i64)
                .bind(now_ms)
                .bind(now_ms)
                .bind(now_ms);
            queued.push(QueuedDelivery {
                delivery_id,
                tenant_id: tenant_id.clone(),
                endpoint_id: target.endpoint_id.clone(),
                rate_limit_per_second: target.rate_limit_per_second,
                body: None,
            });
        }
        query.execute(&mut *connection).await?;
    }
    Ok(queued)
}

/// [`validate_event_type`]'s rule as a JSON Schema `pattern` for the API document: a
/// family of the catalog that Gatehouse does not send itself, then one or more
/// lower-case parts (with `maxLength` = [`MAX_EVENT_TYPE_CHARS`]).
pub fn event_type_pattern(catalog: &gatehouse_model::ScopeCatalog) -> String {
    let families: Vec<&str> = catalog
        .event_families
        .iter()
        .filter_map(|family| family.strip_suffix(".*"))
        .filter(|family| !RESERVED_EVENT_FAMILIES.contains(family))
        .collect();
    format!(r"^({})(\.[a-z][a-z0-9_]*)+$", families.join("|"))
}

/// Checks an event type the SaaS sends: `family.action` in lower case, a family of the
/// catalog, and not one of the families Gatehouse sends itself.
pub fn validate_event_type(
    event_type: &str,
    catalog: &gatehouse_model::ScopeCatalog,
) -> Result<(), DomainError> {
    let refuse = |message: String| Err(DomainError::field("type", message));
    let well_formed = event_type.len() <= MAX_EVENT_TYPE_CHARS
        && event_type.split('.').count() >= 2
        && event_type.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
        });
    if !well_formed {
        return refuse(format!(
            "Use family.action in lower case, e.g. payment_intent.succeeded (at most {MAX_EVENT_TYPE_CHARS} characters)."
        ));
    }
    let family = event_type.split('.').next().unwrap_or_default();
    if RESERVED_EVENT_FAMILIES.contains(&family) {
        return refuse(format!(
            "{family}.* events are sent by Gatehouse itself; choose another family."
        ));
    }
    let subscribable = format!("{family}.*");
    if !catalog.event_families.contains(&subscribable) {
        return refuse(format!(
            "{family} is not an event family of this workspace (see the scope catalog's event_families)."
        ));
    }
    Ok(())
}

pub(crate) fn validate_idempotency_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty()
        || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS
        || !key.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(DomainError::field(
            "idempotency_key",
            format!(
                "Use 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters without spaces."
            ),
        ));
    }
    Ok(())
}

const EVENT_COLUMNS: &str = "id, event_type, mode, app_id, payload, occurred_at,
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.event_id = outbox_events.id) AS delivery_count";

fn event_from_row(row: &AnyRow) -> Result<EventView, DomainError> {
    let stored = Stored::new(row, "event");
    Ok(EventView {
        id: stored.parsed("id", |id| EventId::parse(id).ok())?,
        event_type: stored.get("event_type")?,
        mode: stored.parsed("mode", KeyMode::parse)?,
        app_id: stored.parsed_optional("app_id", |id| gatehouse_model::AppId::parse(id).ok())?,
        data: stored.json("payload")?,
        created_at: stored.time("occurred_at")?,
        deliveries: stored.get("delivery_count")?,
    })
}

/// Whose event it is: the tenant, app and mode it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventOrigin<'a> {
    pub tenant_id: &'a TenantId,
    pub app_id: &'a AppId,
    pub mode: KeyMode,
}

/// The outcome of sending an event: the event, and whether an earlier call with the
/// same idempotency key had already sent it (nothing new was queued then).
#[derive(Debug, Clone)]
pub struct SentOutcome {
    pub event: EventView,
    pub replayed: bool,
}

impl Gatehouse {
    /// Sends an event of the SaaS's own from an API key: it belongs to the
    /// key's app and mode, is committed with its deliveries and an `event.sent` audit
    /// event before the answer, and an idempotency key seen in the last 24 hours
    /// returns the first event instead (recording nothing more).
    pub async fn send_event(
        &self,
        actor: &Actor,
        input: &EventInput,
        idempotency_key: Option<&str>,
    ) -> Result<SentOutcome, DomainError> {
        actor.require(Access::EVENTS_WRITE)?;
        let Some(key) = actor.api_key() else {
            return Err(DomainError::CredentialNotAllowed(
                "Events are sent by the SaaS's services with an API key.",
            ));
        };
        let origin = EventOrigin {
            tenant_id: &key.tenant_id,
            app_id: &key.app_id,
            mode: key.mode,
        };
        self.send_event_from(actor, origin, input, idempotency_key)
            .await
    }

    /// Sends an event of `origin`'s app and mode, as `actor` (a key of that app, or
    /// the operator): see [`Self::send_event`].
    pub(crate) async fn send_event_from(
        &self,
        actor: &Actor,
        origin: EventOrigin<'_>,
        input: &EventInput,
        idempotency_key: Option<&str>,
    ) -> Result<SentOutcome, DomainError> {
        validate_event_type(&input.event_type, self.scope_catalog())?;
        if !input.data.is_object() {
            return Err(DomainError::field(
                "data",
                "Send the event's data as a JSON object.",
            ));
        }
        if let Some(idempotency_key) = idempotency_key {
            validate_idempotency_key(idempotency_key)?;
        }
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        let event_id = EventId::from_body(&ids::fresh_body());
        if let Some(idempotency_key) = idempotency_key {
            // One statement claims the key, or finds it taken by a live earlier event;
            // concurrent calls wait on the row and then see it taken.
            let claimed: Option<(String,)> = sqlx::query_as(
                "INSERT INTO event_idempotency_keys (tenant_id, mode, app_id, idempotency_key, event_id, expires_at)
                 VALUES ($1, $2, $7, $3, $4, $5)
                 ON CONFLICT (tenant_id, mode, app_id, idempotency_key) DO UPDATE
                    SET event_id = excluded.event_id, expires_at = excluded.expires_at
                    WHERE event_idempotency_keys.expires_at <= $6
                 RETURNING event_id",
            )
            .bind(origin.tenant_id.as_str())
            .bind(origin.mode.as_str())
            .bind(idempotency_key)
            .bind(event_id.as_str())
            .bind(now + IDEMPOTENCY_WINDOW_MS)
            .bind(now)
            .bind(origin.app_id.as_str())
            .fetch_optional(change.connection())
            .await?;
            if claimed.is_none() {
                drop(change);
                let (first,): (String,) = sqlx::query_as(
                    "SELECT event_id FROM event_idempotency_keys
                     WHERE tenant_id = $1 AND mode = $2 AND app_id = $3 AND idempotency_key = $4",
                )
                .bind(origin.tenant_id.as_str())
                .bind(origin.mode.as_str())
                .bind(origin.app_id.as_str())
                .bind(idempotency_key)
                .fetch_one(self.db().pool())
                .await?;
                let first = stored::parsed("idempotency key", "event_id", &first, |id| {
                    EventId::parse(id).ok()
                })?;
                return Ok(SentOutcome {
                    event: self.find_event(actor, origin.mode, &first).await?,
                    replayed: true,
                });
            }
        }
        if origin.mode == KeyMode::Test {
            let limit = self
                .tenant(origin.tenant_id)
                .await?
                .caps
                .monthly_test_events;
            count_test_event(change.connection(), origin.tenant_id, limit, now).await?;
        }
        let deliveries = change
            .emit_sent(
                &event_id,
                SentEvent {
                    tenant_id: origin.tenant_id,
                    mode: origin.mode,
                    app_id: origin.app_id,
                    event_type: &input.event_type,
                    data: &input.data,
                },
            )
            .await?;
        // The audit trail keeps who sent what, and the SaaS's own ids it was about, not
        // the data itself: events are purged, the trail is kept.
        let record = AuditRecord::by(
            actor,
            EventType::EventSent,
            format!("Event {} sent", input.event_type),
        )
        .in_app(origin.app_id, origin.mode)
        .related("event_id", &event_id)
        .related_to_data_ids(&input.data);
        change.audit(record).await?;
        let created_at = crate::time::from_ms(change.now_ms);
        change.commit().await?;
        // Answered as it was written, without reading it back.
        Ok(SentOutcome {
            event: EventView {
                id: event_id,
                event_type: input.event_type.clone(),
                mode: origin.mode,
                app_id: Some(origin.app_id.clone()),
                data: input.data.clone(),
                created_at,
                deliveries: deliveries as i64,
            },
            replayed: false,
        })
    }

    /// One event of `mode` that `actor` may see: a key sees only its own app's.
    async fn find_event(
        &self,
        actor: &Actor,
        mode: KeyMode,
        id: &EventId,
    ) -> Result<EventView, DomainError> {
        let row = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM outbox_events
             WHERE id = $1 AND tenant_id = $2 AND mode = $3 AND ($4 = '' OR app_id = $4)"
        ))
        .bind(id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(mode.as_str())
        .bind(actor.reach().app_bind())
        .fetch_optional(self.db().pool())
        .await?
        .ok_or(DomainError::NotFound("event"))?;
        event_from_row(&row)
    }

    /// The tenant's events of one mode, newest first, a page at a time (a key sees its
    /// own mode's).
    pub async fn list_events(
        &self,
        actor: &Actor,
        mode: Option<KeyMode>,
        page: &PageRequest,
    ) -> Result<Page<EventView>, DomainError> {
        actor.require(Access::EVENTS_READ)?;
        let keyset = Keyset::from_request(page, |cursor| EventId::parse(cursor).is_ok())?;
        let mode = actor.reach().mode(mode, "events")?;
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM outbox_events
             WHERE tenant_id = $1 AND mode = $2 AND ($3 = '' OR id < $3)
               AND ($5 = '' OR app_id = $5)
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(actor.tenant_id.as_str())
        .bind(mode.as_str())
        .bind(keyset.after.clone().unwrap_or_default())
        .bind(keyset.rows_to_read())
        .bind(actor.reach().app_bind())
        .fetch_all(self.db().pool())
        .await?;
        let events = rows
            .iter()
            .map(event_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keyset.page(events, |event| event.id.to_string()))
    }

    /// One event with its deliveries; another tenant's or mode's is "not found".
    pub async fn event(&self, actor: &Actor, id: &EventId) -> Result<EventDetail, DomainError> {
        actor.require(Access::EVENTS_READ)?;
        let event = match actor.reach().own() {
            Some((_, mode)) => self.find_event(actor, mode, id).await?,
            None => match self.find_event(actor, KeyMode::Live, id).await {
                Err(DomainError::NotFound(_)) => self.find_event(actor, KeyMode::Test, id).await?,
                other => other?,
            },
        };
        let rows = sqlx::query(
            "SELECT id, endpoint_id, event_id, event_type, state, attempts, next_attempt_at,
                    last_status, created_at
             FROM webhook_deliveries WHERE event_id = $1 AND tenant_id = $2 ORDER BY id LIMIT 1000",
        )
        .bind(id.as_str())
        .bind(actor.tenant_id.as_str())
        .fetch_all(self.db().pool())
        .await?;
        let delivery_list = rows
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EventDetail {
            event,
            delivery_list,
        })
    }
}

pub(crate) fn delivery_from_row(row: &AnyRow) -> Result<DeliveryView, DomainError> {
    let stored = Stored::new(row, "delivery");
    Ok(DeliveryView {
        id: stored.parsed("id", |id| DeliveryId::parse(id).ok())?,
        endpoint_id: stored.parsed("endpoint_id", |id| {
            gatehouse_model::WebhookEndpointId::parse(id).ok()
        })?,
        event_id: stored.parsed("event_id", |id| EventId::parse(id).ok())?,
        event_type: stored.get("event_type")?,
        state: stored.parsed("state", DeliveryState::parse)?,
        attempts: stored.get("attempts")?,
        next_attempt_at: stored.time_optional("next_attempt_at")?,
        last_status: stored
            .get::<Option<i64>>("last_status")?
            .and_then(|status| u16::try_from(status).ok()),
        created_at: stored.time("created_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_family_dot_action_of_the_catalog() {
        let catalog = crate::catalog::built_in();
        assert!(validate_event_type("payment_intent.succeeded", &catalog).is_ok());
        assert!(validate_event_type("invoice.payment.failed", &catalog).is_ok());
        for bad in [
            "PaymentIntent.succeeded",
            "payment_intent",
            "payment_intent.",
            "x y.z",
        ] {
            assert!(validate_event_type(bad, &catalog).is_err(), "{bad}");
        }
        assert!(validate_event_type("api_key.created", &catalog).is_err());
        assert!(validate_event_type("webhook.test", &catalog).is_err());
        assert!(validate_event_type("unknown_family.created", &catalog).is_err());
    }
}
