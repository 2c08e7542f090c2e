//! Housekeeping: what expires is deleted, so that no table grows without bound
//! (sessions, access tokens, sign-in attempt counters, usage flush receipts, the request
//! log past its retention, events' and the operator's idempotency keys, sign-in links
//! past their lifetime). The server runs [`Gatehouse::purge_expired`] every minute, and
//! [`Gatehouse::announce_expiring_keys`] with it.

use crate::Gatehouse;
use crate::auth::FAILURE_WINDOW_MS;
use crate::error::DomainError;

/// How long a usage flush receipt is kept (a lost commit answer is resolved by the
/// next flush, a second later).
const FLUSH_RECEIPT_TTL_MS: i64 = 24 * 3_600_000;

/// How long the delivery log, finished deliveries and events are kept.
pub const WEBHOOK_RETENTION_MS: i64 = 30 * 24 * 3_600_000;
/// Rows of one kind one purge deletes at most (the next minute takes the rest).
const PURGE_BATCH: i64 = 10_000;

/// How many rows one purge removed, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub sessions: u64,
    pub access_tokens: u64,
    pub sign_in_counters: u64,
    pub flush_receipts: u64,
    pub idempotency_keys: u64,
    pub sign_in_links: u64,
    pub delivery_attempts: u64,
    pub deliveries: u64,
    pub events: u64,
    pub request_logs: u64,
}

impl Gatehouse {
    /// Deletes expired sessions and access tokens, sign-in counters whose window and
    /// lock are over, old usage flush receipts and idempotency keys, and the delivery
    /// log, finished deliveries and events older than 30 days (never an event with a
    /// delivery still pending), and request log entries past their retention.
    pub async fn purge_expired(&self) -> Result<PurgeReport, DomainError> {
        let now = self.now_ms();
        let pool = self.db().writer();
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
        let access_tokens = sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
        let sign_in_counters = sqlx::query(
            "DELETE FROM sign_in_throttle WHERE locked_until <= $1 AND window_started_at <= $2",
        )
        .bind(now)
        .bind(now - FAILURE_WINDOW_MS)
        .execute(pool)
        .await?
        .rows_affected();
        let flush_receipts = sqlx::query("DELETE FROM usage_flushes WHERE written_at <= $1")
            .bind(now - FLUSH_RECEIPT_TTL_MS)
            .execute(pool)
            .await?
            .rows_affected();
        let mut idempotency_keys = 0;
        for statement in [
            "DELETE FROM event_idempotency_keys WHERE expires_at <= $1",
            "DELETE FROM operator_idempotency WHERE expires_at <= $1",
        ] {
            idempotency_keys += sqlx::query(statement)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected();
        }
        // A link past its lifetime opens nothing, used or not.
        let sign_in_links = sqlx::query("DELETE FROM sign_in_links WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
        let kept_from = now - WEBHOOK_RETENTION_MS;
        let delivery_attempts = sqlx::query(
            "DELETE FROM webhook_attempts WHERE id IN (
                SELECT id FROM webhook_attempts WHERE attempted_at <= $1 LIMIT $2)",
        )
        .bind(kept_from)
        .bind(PURGE_BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        let deliveries = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE state <> 'pending' AND updated_at <= $1 LIMIT $2)",
        )
        .bind(kept_from)
        .bind(PURGE_BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        let events = sqlx::query(
            "DELETE FROM outbox_events WHERE id IN (
                SELECT e.id FROM outbox_events e WHERE e.occurred_at <= $1
                  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                  WHERE d.event_id = e.id AND d.state = 'pending')
                LIMIT $2)",
        )
        .bind(kept_from)
        .bind(PURGE_BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        let request_logs = self.purge_request_logs().await?;
        Ok(PurgeReport {
            request_logs,
            delivery_attempts,
            deliveries,
            events,
            sessions,
            access_tokens,
            sign_in_counters,
            flush_receipts,
            idempotency_keys,
            sign_in_links,
        })
    }
}
