//! The one commit path (the unit of work): every change to apps, keys, tenants, users
//! and credentials runs in a [`Change`], which writes the change's audit events and the
//! events it emits (the outbox that webhooks deliver from) in the change's own
//! transaction, tells other instances what changed (PostgreSQL `NOTIFY`), commits, and
//! only then forgets this instance's cached state, before the change is answered.
//!
//! Nothing in the domain commits a transaction any other way: `begin_change` is the
//! only place a transaction is opened. Counters (usage) and housekeeping (purges,
//! throttling) are not changes a person made and write directly.

use gatehouse_model::{ApiKeyId, AppId, AuditEventId, EventId, EventType, KeyMode, TenantId};
use sqlx::{Any, AnyConnection, Transaction};

use crate::audit::{self, AuditRecord};
use crate::error::DomainError;
use crate::{Engine, Gatehouse, ids};

/// The PostgreSQL channel that carries the id of every changed key or app, so that
/// each instance forgets what it cached of it.
pub const CHANGES_CHANNEL: &str = "gatehouse_key_changes";

/// The PostgreSQL channel that tells every instance's delivery worker that deliveries
/// were queued, so they go out at once rather than at the next poll.
pub const DELIVERIES_CHANNEL: &str = "gatehouse_deliveries";

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

/// A change in progress: one transaction, its audit events, its emitted events and what
/// it changed. Dropped without [`Change::commit`], it rolls back and changes nothing.
pub struct Change<'g> {
    gatehouse: &'g Gatehouse,
    transaction: Transaction<'static, Any>,
    /// The change's time, the same for every row it writes.
    pub now_ms: i64,
    audited: bool,
    /// Deliveries this change queued, handed to this instance's worker at commit.
    queued: Vec<crate::webhooks::events::QueuedDelivery>,
    /// Deliveries may be due that this change did not queue (an endpoint enabled
    /// again): every worker looks for them.
    waiting: bool,
    changed_keys: Vec<ApiKeyId>,
    changed_apps: Vec<AppId>,
    changed_tenants: Vec<TenantId>,
}

impl Change<'_> {
    /// The product the change belongs to.
    pub(crate) fn gatehouse(&self) -> &Gatehouse {
        self.gatehouse
    }
}

impl Gatehouse {
    /// Opens a change (see the module's documentation).
    pub(crate) async fn begin_change(&self) -> Result<Change<'_>, DomainError> {
        Ok(Change {
            gatehouse: self,
            transaction: self.db().pool().begin().await?,
            now_ms: self.now_ms(),
            audited: false,
            queued: Vec::new(),
            waiting: false,
            changed_keys: Vec::new(),
            changed_apps: Vec::new(),
            changed_tenants: Vec::new(),
        })
    }
}

impl Change<'_> {
    /// The transaction's connection, for the change's own statements.
    pub fn connection(&mut self) -> &mut AnyConnection {
        &mut self.transaction
    }

    /// Records an audit event of this change.
    pub async fn audit(&mut self, record: AuditRecord) -> Result<AuditEventId, DomainError> {
        let id = audit::record(&mut self.transaction, record, self.now_ms).await?;
        self.audited = true;
        Ok(id)
    }

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
        .execute(&mut *self.transaction)
        .await?;
        let queued = crate::webhooks::events::fan_out(
            &mut self.transaction,
            event.tenant_id,
            event.mode,
            event.app_id,
            id,
            event.event_type,
            self.now_ms,
        )
        .await?;
        let count = queued.len();
        if count > 0 {
            // The worker signs these bytes without reading the event back.
            let body =
                crate::webhooks::delivery::EventBody::new(event.event_type, self.now_ms, &data);
            self.queued.extend(queued.into_iter().map(|delivery| {
                crate::webhooks::events::QueuedDelivery {
                    body: Some(body.clone()),
                    ..delivery
                }
            }));
        }
        Ok(count)
    }

    /// Writes an event meant for one endpoint only (the test event) and queues its
    /// delivery there, without fan-out and without waking the workers: the caller
    /// delivers it itself at once.
    pub(crate) async fn record_event_for(
        &mut self,
        event: NewEvent,
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
        .bind(event.event_type.as_str())
        .bind(event.data.to_string())
        .bind(self.now_ms)
        .execute(&mut *self.transaction)
        .await?;
        crate::webhooks::events::queue_deliveries(
            &mut self.transaction,
            &event.tenant_id,
            &[endpoint.into()],
            &id,
            event.event_type.as_str(),
            self.now_ms,
        )
        .await?;
        Ok(id)
    }

    /// Takes the tenant's row lock for the rest of the change (concurrent changes of
    /// the tenant that do the same wait their turn) and counts the tenant's rows in
    /// `table` (one whose rows have a `tenant_id`): a cap checked on that count holds
    /// against any number of concurrent creates.
    pub(crate) async fn lock_tenant_and_count(
        &mut self,
        tenant_id: &TenantId,
        table: &'static str,
    ) -> Result<i64, DomainError> {
        sqlx::query("UPDATE tenants SET revision = revision WHERE id = $1")
            .bind(tenant_id.as_str())
            .execute(&mut *self.transaction)
            .await?;
        let (count,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM {table} WHERE tenant_id = $1"
        ))
        .bind(tenant_id.as_str())
        .fetch_one(&mut *self.transaction)
        .await?;
        Ok(count)
    }

    /// Marks that this change queued deliveries, so the workers wake at commit.
    pub(crate) fn deliveries_queued(
        &mut self,
        queued: Vec<crate::webhooks::events::QueuedDelivery>,
    ) {
        self.queued.extend(queued);
    }

    /// Marks that deliveries may be due that this change did not queue itself.
    pub(crate) fn deliveries_waiting(&mut self) {
        self.waiting = true;
    }

    /// Marks a key as changed: every instance forgets its cached state at commit.
    pub fn key_changed(&mut self, key_id: &ApiKeyId) {
        self.changed_keys.push(key_id.clone());
    }

    /// Marks an app as changed (its origins, so its keys' cached state too).
    pub fn app_changed(&mut self, app_id: &AppId) {
        self.changed_apps.push(app_id.clone());
    }

    /// Marks a tenant as changed (plan, modules, subscription, limit): every instance
    /// forgets its keys' cached standing and its quota allowance.
    pub fn tenant_changed(&mut self, tenant_id: &TenantId) {
        self.changed_tenants.push(tenant_id.clone());
    }

    /// Commits: notifies other instances in the transaction, commits, then forgets this
    /// instance's cached state of everything changed. A change without an audit event
    /// is refused (every change is audited).
    pub async fn commit(mut self) -> Result<(), DomainError> {
        if !self.audited {
            return Err(DomainError::Internal(
                "a change must record its audit event before it commits".to_owned(),
            ));
        }
        if self.gatehouse.db().engine() == Engine::Postgres {
            if !self.queued.is_empty() || self.waiting {
                // Names this instance, whose own worker is handed the rows directly.
                let from = if self.waiting {
                    ""
                } else {
                    self.gatehouse.instance_id.as_ref()
                };
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(DELIVERIES_CHANNEL)
                    .bind(from)
                    .execute(&mut *self.transaction)
                    .await?;
            }
            let changed = self
                .changed_keys
                .iter()
                .map(|key| key.as_str())
                .chain(self.changed_apps.iter().map(|app| app.as_str()))
                .chain(self.changed_tenants.iter().map(|tenant| tenant.as_str()));
            // `<id> <instance>`: this instance forgets at commit itself and skips its own.
            for id in changed {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANGES_CHANNEL)
                    .bind(format!("{id} {}", self.gatehouse.instance_id))
                    .execute(&mut *self.transaction)
                    .await?;
            }
        }
        self.transaction.commit().await?;
        if self.waiting {
            self.gatehouse.webhooks.request_scan();
        }
        if !self.queued.is_empty() {
            self.gatehouse
                .webhooks
                .hand_off(std::mem::take(&mut self.queued));
        }
        for key_id in &self.changed_keys {
            self.gatehouse.key_cache.forget(key_id);
        }
        for app_id in &self.changed_apps {
            self.gatehouse.key_cache.forget_app(app_id);
        }
        if !self.changed_apps.is_empty() {
            self.gatehouse.reload_origin_index().await?;
        }
        for tenant_id in &self.changed_tenants {
            self.gatehouse.forget_tenant(tenant_id).await?;
        }
        Ok(())
    }
}
