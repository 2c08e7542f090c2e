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

/// An event a change emits for webhooks (SPEC W-4).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub tenant_id: TenantId,
    pub mode: KeyMode,
    pub app_id: Option<AppId>,
    pub event_type: EventType,
    pub data: serde_json::Value,
}

/// A change in progress: one transaction, its audit events, its emitted events and what
/// it changed. Dropped without [`Change::commit`], it rolls back and changes nothing.
pub struct Change<'g> {
    gatehouse: &'g Gatehouse,
    transaction: Transaction<'static, Any>,
    /// The change's time, the same for every row it writes.
    pub now_ms: i64,
    audited: bool,
    changed_keys: Vec<ApiKeyId>,
    changed_apps: Vec<AppId>,
}

impl Gatehouse {
    /// Opens a change (see the module's documentation).
    pub(crate) async fn begin_change(&self) -> Result<Change<'_>, DomainError> {
        Ok(Change {
            gatehouse: self,
            transaction: self.db().pool().begin().await?,
            now_ms: self.now_ms(),
            audited: false,
            changed_keys: Vec::new(),
            changed_apps: Vec::new(),
        })
    }
}

impl Change<'_> {
    /// The transaction's connection, for the change's own statements.
    pub fn connection(&mut self) -> &mut AnyConnection {
        &mut self.transaction
    }

    /// Records an audit event of this change (SPEC L-1).
    pub async fn audit(&mut self, record: AuditRecord) -> Result<AuditEventId, DomainError> {
        let id = audit::record(&mut *self.transaction, record, self.now_ms).await?;
        self.audited = true;
        Ok(id)
    }

    /// Writes an event for webhooks to the outbox, committed with the change or not at all.
    pub async fn emit(&mut self, event: NewEvent) -> Result<EventId, DomainError> {
        let id = EventId::from_body(&ids::fresh_body());
        sqlx::query(
            "INSERT INTO outbox_events (id, tenant_id, mode, app_id, event_type, payload, occurred_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(event.tenant_id.as_str())
        .bind(event.mode.as_str())
        .bind(event.app_id.as_ref().map(|app| app.to_string()))
        .bind(event.event_type.as_str())
        .bind(event.data.to_string())
        .bind(self.now_ms)
        .execute(&mut *self.transaction)
        .await?;
        Ok(id)
    }

    /// Marks a key as changed: every instance forgets its cached state at commit.
    pub fn key_changed(&mut self, key_id: &ApiKeyId) {
        self.changed_keys.push(key_id.clone());
    }

    /// Marks an app as changed (its origins, so its keys' cached state too).
    pub fn app_changed(&mut self, app_id: &AppId) {
        self.changed_apps.push(app_id.clone());
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
            let changed = self
                .changed_keys
                .iter()
                .map(|key| key.as_str())
                .chain(self.changed_apps.iter().map(|app| app.as_str()));
            for id in changed {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANGES_CHANNEL)
                    .bind(id)
                    .execute(&mut *self.transaction)
                    .await?;
            }
        }
        self.transaction.commit().await?;
        for key_id in &self.changed_keys {
            self.gatehouse.key_cache.forget(key_id);
        }
        for app_id in &self.changed_apps {
            self.gatehouse.key_cache.forget_app(app_id);
        }
        if !self.changed_apps.is_empty() {
            self.gatehouse.reload_origin_index().await?;
        }
        Ok(())
    }
}
