//! The append-only audit trail (SPEC L-1): every change writes its events in the same
//! transaction as the change itself (through `change::Change`). The table's triggers
//! refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

use gatehouse_model::{ActorType, AppId, AuditEventId, AuditEventView, EventType, TenantId};
use serde_json::Value;
use sqlx::{Any, Row};

use crate::actor::{Access, Actor};
use crate::error::DomainError;
use crate::{Gatehouse, ids, time};

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub tenant_id: Option<TenantId>,
    pub actor_type: ActorType,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub event_type: EventType,
    pub message: Option<String>,
    pub app_id: Option<AppId>,
    pub related_ids: serde_json::Map<String, Value>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditRecord {
    /// An event done by `actor` in its tenant.
    pub fn by(actor: &Actor, event_type: EventType, message: impl Into<String>) -> Self {
        let (actor_type, actor_id, actor_label) = actor.audit_identity();
        Self {
            tenant_id: Some(actor.tenant_id.clone()),
            actor_type,
            actor_id,
            actor_label,
            event_type,
            message: Some(message.into()),
            app_id: None,
            related_ids: serde_json::Map::new(),
            before: None,
            after: None,
        }
    }

    /// An event done by Gatehouse itself (the operator's commands, housekeeping).
    pub fn by_system(
        tenant_id: &TenantId,
        event_type: EventType,
        message: impl Into<String>,
    ) -> Self {
        Self::by(&Actor::system(tenant_id.clone()), event_type, message)
    }

    /// Adds a related id (`key_id`, `user_id`, …) that the trail can be searched by.
    pub fn related(mut self, name: &str, id: impl std::fmt::Display) -> Self {
        self.related_ids
            .insert(name.to_owned(), Value::String(id.to_string()));
        self
    }
}

/// Writes one audit event on the given transaction (see `change::Change::audit`).
pub(crate) async fn record<'c, E>(
    executor: E,
    record: AuditRecord,
    now_ms: i64,
) -> Result<AuditEventId, DomainError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let id = AuditEventId::from_body(&ids::fresh_body());
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, occurred_at, actor_type, actor_id, actor_label,
            event_type, message, app_id, related_ids, before_state, after_state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id.as_str())
    .bind(record.tenant_id.as_ref().map(|tenant| tenant.to_string()))
    .bind(now_ms)
    .bind(record.actor_type.as_str())
    .bind(record.actor_id)
    .bind(record.actor_label)
    .bind(record.event_type.as_str())
    .bind(record.message)
    .bind(record.app_id.as_ref().map(|app| app.to_string()))
    .bind(Value::Object(record.related_ids).to_string())
    .bind(record.before.map(|value| value.to_string()))
    .bind(record.after.map(|value| value.to_string()))
    .execute(executor)
    .await?;
    Ok(id)
}

/// Most events one page may hold (SPEC L-2).
pub const MAX_PAGE: i64 = 100;

impl Gatehouse {
    /// The tenant's newest audit events first, at most `limit` (capped at 100).
    pub async fn recent_audit_events(
        &self,
        actor: &Actor,
        limit: i64,
    ) -> Result<Vec<AuditEventView>, DomainError> {
        actor.require(Access::AUDIT_READ)?;
        let rows = sqlx::query(
            "SELECT id, occurred_at, actor_type, actor_id, actor_label, event_type, message, app_id
             FROM audit_events WHERE tenant_id = $1
             ORDER BY occurred_at DESC, id DESC LIMIT $2",
        )
        .bind(actor.tenant_id.as_str())
        .bind(limit.clamp(1, MAX_PAGE))
        .fetch_all(self.db().pool())
        .await?;
        rows.iter().map(audit_view_from_row).collect()
    }
}

fn audit_view_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEventView, DomainError> {
    let id: String = row.try_get("id")?;
    let app_id: Option<String> = row.try_get("app_id")?;
    Ok(AuditEventView {
        id: AuditEventId::parse(&id).map_err(|error| DomainError::Internal(error.to_string()))?,
        occurred_at: time::from_ms(row.try_get("occurred_at")?),
        actor_type: ActorType::parse(&row.try_get::<String, _>("actor_type")?).ok_or_else(
            || DomainError::Internal("stored audit event has an invalid actor".to_owned()),
        )?,
        actor_id: row.try_get("actor_id")?,
        actor_label: row.try_get("actor_label")?,
        event_type: row.try_get("event_type")?,
        message: row.try_get("message")?,
        app_id: app_id.and_then(|value| AppId::parse(&value).ok()),
    })
}
