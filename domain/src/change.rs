//! The one commit path (the unit of work): every change to apps, keys, tenants, users
//! and credentials runs in a [`Change`], which writes the change's audit events and the
//! events it emits (the outbox that webhooks deliver from, written by
//! `webhooks::events`) in the change's own transaction, tells other instances what
//! changed (PostgreSQL `NOTIFY`), commits, and only then forgets this instance's cached
//! state and runs what waited for the commit, before the change is answered.
//!
//! Nothing in the domain commits a transaction any other way: `begin_change` is the
//! only place a transaction is opened. Counters (usage) and housekeeping (purges,
//! throttling) are not changes a person made and write directly.

use gatehouse_model::{ApiKeyId, AppId, AuditEventId, TenantId};
use sqlx::{Any, AnyConnection, Transaction};

use crate::audit::{self, AuditRecord};
use crate::error::DomainError;
use crate::{Engine, Gatehouse};

/// The PostgreSQL channel that carries the id of every changed key or app, so that
/// each instance forgets what it cached of it.
pub const CHANGES_CHANNEL: &str = "gatehouse_key_changes";

/// The PostgreSQL channel that tells every instance's delivery worker that deliveries
/// were queued, so they go out at once rather than at the next poll.
pub const DELIVERIES_CHANNEL: &str = "gatehouse_deliveries";

/// Something that runs on this instance once a change has committed.
type AfterCommit = Box<dyn FnOnce(&Gatehouse) + Send>;

/// A change in progress: one transaction, its audit events, its emitted events and what
/// it changed. Dropped without [`Change::commit`], it rolls back and changes nothing.
pub struct Change<'g> {
    gatehouse: &'g Gatehouse,
    transaction: Transaction<'static, Any>,
    /// The change's time, the same for every row it writes.
    pub now_ms: i64,
    audited: bool,
    /// `(channel, payload)`: what other instances are told at commit (PostgreSQL).
    notifications: Vec<(&'static str, String)>,
    /// What runs once the change has committed (handing queued deliveries to this
    /// instance's worker, say).
    after_commit: Vec<AfterCommit>,
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
            transaction: self.db().writer().begin().await?,
            now_ms: self.now_ms(),
            audited: false,
            notifications: Vec::new(),
            after_commit: Vec::new(),
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
        let engine = self.gatehouse.db().engine();
        let id = audit::record(&mut self.transaction, engine, record, self.now_ms).await?;
        self.audited = true;
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

    /// Tells every other instance `payload` on `channel` when the change commits
    /// (PostgreSQL `NOTIFY`, in the transaction: sent only if it commits), once.
    pub(crate) fn notify_at_commit(&mut self, channel: &'static str, payload: String) {
        if !self
            .notifications
            .iter()
            .any(|(known, said)| *known == channel && *said == payload)
        {
            self.notifications.push((channel, payload));
        }
    }

    /// Runs `action` on this instance once the change has committed.
    pub(crate) fn after_commit(&mut self, action: impl FnOnce(&Gatehouse) + Send + 'static) {
        self.after_commit.push(Box::new(action));
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
            for (channel, payload) in &self.notifications {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(channel)
                    .bind(payload)
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
        for action in std::mem::take(&mut self.after_commit) {
            action(self.gatehouse);
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
