//! Deleting a tenant: everything of it and of its shadow test tenant is purged. From
//! the first moment the tenant is suspended (its keys refused, its deliveries waiting)
//! and gone from the operator's API; then the rows go table by table in bounded
//! batches, each batch one transaction with its count, so a crash loses nothing and
//! the purge resumes where it stopped. `tenant_purges` and `tenant_purge_counts` are
//! the operator's log of it, with rows removed per table: they outlive the tenant.

use std::collections::BTreeMap;

use gatehouse_model::{EventType, OperatorScope, PurgeState, TenantId, TenantPurgeView};

use super::Operator;
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::stored::Stored;
use crate::{Engine, Gatehouse};

/// Rows one batch deletes at most.
pub const PURGE_BATCH: i64 = 2_000;

/// What the purge takes from one table: its rows `WHERE` this (with `$1` the live
/// tenant and `$2` its shadow), in dependency order (children first). On SQLite a row
/// is named by `sqlite_key`: its rowid, or its primary key's columns where the table
/// has no rowid (on PostgreSQL, by its `ctid`).
struct Step {
    table: &'static str,
    rows: &'static str,
    sqlite_key: &'static str,
}

const OF_TENANT: &str = "tenant_id IN ($1, $2)";

const fn of_tenant(table: &'static str) -> Step {
    Step {
        table,
        rows: OF_TENANT,
        sqlite_key: "rowid",
    }
}

const STEPS: &[Step] = &[
    of_tenant("webhook_attempts"),
    of_tenant("webhook_deliveries"),
    Step {
        table: "webhook_secrets",
        rows: "endpoint_id IN (SELECT id FROM webhook_endpoints WHERE tenant_id IN ($1, $2))",
        sqlite_key: "rowid",
    },
    of_tenant("webhook_endpoint_families"),
    of_tenant("webhook_endpoints"),
    of_tenant("event_idempotency_keys"),
    of_tenant("outbox_events"),
    Step {
        table: "access_tokens",
        rows: "key_id IN (SELECT id FROM api_keys WHERE tenant_id IN ($1, $2))",
        sqlite_key: "rowid",
    },
    Step {
        table: "api_key_secrets",
        rows: "key_id IN (SELECT id FROM api_keys WHERE tenant_id IN ($1, $2))",
        sqlite_key: "rowid",
    },
    of_tenant("usage_hourly"),
    of_tenant("usage_daily"),
    of_tenant("usage_daily_rollup"),
    of_tenant("quota_grants"),
    of_tenant("test_event_counts"),
    Step {
        table: "request_logs",
        rows: OF_TENANT,
        sqlite_key: "tenant_id, app_id, mode, id",
    },
    Step {
        table: "request_log_segments",
        rows: OF_TENANT,
        sqlite_key: "last_id",
    },
    Step {
        table: "request_log_terms",
        rows: OF_TENANT,
        sqlite_key: "tenant_id, mode, term, last_id",
    },
    Step {
        table: "alert_recipients",
        rows: "alert_id IN (SELECT id FROM alerts WHERE tenant_id IN ($1, $2))",
        sqlite_key: "rowid",
    },
    of_tenant("alerts"),
    of_tenant("alert_preferences"),
    of_tenant("setup_guide_dismissals"),
    of_tenant("sessions"),
    of_tenant("sign_in_links"),
    of_tenant("memberships"),
    of_tenant("api_keys"),
    of_tenant("apps"),
    of_tenant("audit_event_refs"),
    of_tenant("audit_events"),
];

fn purge_from_row(
    row: &sqlx::any::AnyRow,
    removed: BTreeMap<String, i64>,
) -> Result<TenantPurgeView, DomainError> {
    let stored = Stored::new(row, "tenant purge");
    let finished_at = stored.time_optional("finished_at")?;
    Ok(TenantPurgeView {
        tenant_id: stored.parsed("tenant_id", |id| TenantId::parse(id).ok())?,
        external_id: stored.get("external_id")?,
        name: stored.get("name")?,
        requested_by: stored.get("requested_by")?,
        state: if finished_at.is_some() {
            PurgeState::Finished
        } else {
            PurgeState::Running
        },
        started_at: stored.time("started_at")?,
        finished_at,
        total_removed: removed.values().sum(),
        removed,
    })
}

impl Operator<'_> {
    /// Deletes a tenant and its shadow: at once suspended and gone from the API, then
    /// purged in the background (see the module). Answers the purge as it starts.
    pub async fn delete_tenant(
        &self,
        tenant_id: &TenantId,
    ) -> Result<TenantPurgeView, DomainError> {
        self.require(OperatorScope::TenantsDelete)?;
        let tenant = self.gatehouse.tenant(tenant_id).await?;
        let mut change = self.gatehouse.begin_change().await?;
        let requested_by = match self.token_id() {
            Some(_) => self.actor_in(&tenant.id).audit_identity().2,
            None => "cli".to_owned(),
        };
        sqlx::query(
            "INSERT INTO tenant_purges (tenant_id, test_tenant_id, external_id, name, requested_by, started_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant.id.as_str())
        .bind(tenant.test_tenant_id.as_str())
        .bind(tenant.external_id.clone())
        .bind(&tenant.name)
        .bind(&requested_by)
        .bind(change.now_ms)
        .execute(change.connection())
        .await?;
        // Suspended from this moment: every instance refuses its keys within a second
        // (this one at once) and no delivery of it is claimed again.
        sqlx::query(
            "UPDATE tenants SET suspended = 1,
                revision = (SELECT COALESCE(MAX(revision), 0) + 1 FROM tenants)
             WHERE id = $1 OR live_tenant_id = $1",
        )
        .bind(tenant.id.as_str())
        .execute(change.connection())
        .await?;
        let record = AuditRecord::by(
            &self.actor_in(&tenant.id),
            EventType::TenantDeleted,
            format!("Tenant {} deleted: its data is being purged", tenant.name),
        );
        change.audit(record).await?;
        change.tenant_changed(&tenant.id);
        change.commit().await?;
        self.gatehouse.tenant_purge(&tenant.id).await
    }

    /// A purge's record: running or finished, rows removed per table.
    pub async fn purge(&self, tenant_id: &TenantId) -> Result<TenantPurgeView, DomainError> {
        self.require(OperatorScope::TenantsRead)?;
        self.gatehouse.tenant_purge(tenant_id).await
    }
}

impl Gatehouse {
    pub(crate) async fn tenant_purge(
        &self,
        tenant_id: &TenantId,
    ) -> Result<TenantPurgeView, DomainError> {
        let row = sqlx::query(
            "SELECT tenant_id, external_id, name, requested_by, started_at, finished_at
             FROM tenant_purges WHERE tenant_id = $1",
        )
        .bind(tenant_id.as_str())
        .fetch_optional(self.db().pool())
        .await?
        .ok_or(DomainError::NotFound("tenant purge"))?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT table_name, removed FROM tenant_purge_counts WHERE tenant_id = $1",
        )
        .bind(tenant_id.as_str())
        .fetch_all(self.db().pool())
        .await?;
        purge_from_row(&row, counts.into_iter().collect())
    }

    /// Runs every unfinished purge to its end, a batch at a time (the server's task
    /// calls this every second; after a crash, the next start picks them up). Answers
    /// the rows removed.
    pub async fn continue_purges(&self) -> Result<i64, DomainError> {
        let running: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant_id, test_tenant_id FROM tenant_purges WHERE finished_at IS NULL
             ORDER BY started_at",
        )
        .fetch_all(self.db().pool())
        .await?;
        let mut removed = 0;
        for (live, shadow) in running {
            for step in STEPS {
                loop {
                    let batch = self.purge_batch(&live, &shadow, step).await?;
                    removed += batch;
                    if batch < PURGE_BATCH {
                        break;
                    }
                    // Live traffic takes its turn between batches.
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            }
            removed += self.finish_purge(&live, &shadow).await?;
        }
        Ok(removed)
    }

    /// Deletes one batch of `step`'s rows and counts them, in one transaction.
    async fn purge_batch(&self, live: &str, shadow: &str, step: &Step) -> Result<i64, DomainError> {
        let (table, rows) = (step.table, step.rows);
        // PostgreSQL finds rows by `ctid` straight away from an array of them.
        let statement = match self.db().engine() {
            Engine::Sqlite => format!(
                "DELETE FROM {table} WHERE ({key}) IN (
                    SELECT {key} FROM {table} WHERE {rows} LIMIT {PURGE_BATCH})",
                key = step.sqlite_key,
            ),
            Engine::Postgres => format!(
                "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM {table} WHERE {rows} LIMIT {PURGE_BATCH}))"
            ),
        };
        let mut transaction = self.db().writer().begin().await?;
        let deleted = sqlx::query(&statement)
            .bind(live)
            .bind(shadow)
            .execute(&mut *transaction)
            .await?
            .rows_affected() as i64;
        if deleted > 0 {
            count_removed(&mut transaction, live, step.table, deleted).await?;
        }
        transaction.commit().await?;
        Ok(deleted)
    }

    /// The last of a purge, in one transaction: the tenant rows, the people who belong
    /// to no tenant any more, the idempotent answers that named the tenant; then the
    /// purge is marked finished (audit rows are append-only again from then on).
    async fn finish_purge(&self, live: &str, shadow: &str) -> Result<i64, DomainError> {
        let mut transaction = self.db().writer().begin().await?;
        let mut removed = 0;
        // (table, statement, the ids it binds: none, the shadow, or the live tenant)
        let answers_naming = format!("%\"{live}\"%");
        for (table, statement, bound) in [
            (
                "users",
                "DELETE FROM users WHERE id NOT IN (SELECT user_id FROM memberships)
                   AND id NOT IN (SELECT user_id FROM sessions)
                   AND id NOT IN (SELECT user_id FROM alert_recipients)
                   AND id NOT IN (SELECT user_id FROM alert_preferences)",
                None,
            ),
            (
                "operator_idempotency",
                "DELETE FROM operator_idempotency WHERE response LIKE $1",
                Some(answers_naming.as_str()),
            ),
            ("tenants", "DELETE FROM tenants WHERE id = $1", Some(shadow)),
            ("tenants", "DELETE FROM tenants WHERE id = $1", Some(live)),
        ] {
            let query = sqlx::query(statement);
            let query = match bound {
                Some(value) => query.bind(value),
                None => query,
            };
            let deleted = query.execute(&mut *transaction).await?.rows_affected() as i64;
            if deleted > 0 {
                count_removed(&mut transaction, live, table, deleted).await?;
            }
            removed += deleted;
        }
        sqlx::query("UPDATE tenant_purges SET finished_at = $1 WHERE tenant_id = $2")
            .bind(self.now_ms())
            .bind(live)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        tracing::info!(tenant_id = live, "tenant purge finished");
        Ok(removed)
    }
}

async fn count_removed(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant_id: &str,
    table: &str,
    removed: i64,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO tenant_purge_counts (tenant_id, table_name, removed) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, table_name) DO UPDATE
            SET removed = tenant_purge_counts.removed + excluded.removed",
    )
    .bind(tenant_id)
    .bind(table)
    .bind(removed)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}
