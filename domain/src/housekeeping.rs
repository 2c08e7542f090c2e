//! Housekeeping: what expires is deleted, so that no table grows without bound
//! (sessions, access tokens, sign-in attempt counters, usage flush receipts, events'
//! idempotency keys). The server runs [`Gatehouse::purge_expired`] every minute, and
//! [`Gatehouse::announce_expiring_keys`] with it.

use crate::Gatehouse;
use crate::auth::FAILURE_WINDOW_MS;
use crate::error::DomainError;

/// How long a usage flush receipt is kept (a lost commit answer is resolved by the
/// next flush, a second later).
const FLUSH_RECEIPT_TTL_MS: i64 = 24 * 3_600_000;

/// How many rows one purge removed, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub sessions: u64,
    pub access_tokens: u64,
    pub sign_in_counters: u64,
    pub flush_receipts: u64,
    pub idempotency_keys: u64,
}

impl Gatehouse {
    /// Deletes expired sessions and access tokens, sign-in counters whose window and
    /// lock are over, and old usage flush receipts.
    pub async fn purge_expired(&self) -> Result<PurgeReport, DomainError> {
        let now = self.now_ms();
        let pool = self.db().pool();
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
            "DELETE FROM sign_in_failures WHERE locked_until <= $1 AND window_started_at <= $2",
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
        let idempotency_keys =
            sqlx::query("DELETE FROM event_idempotency_keys WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected();
        Ok(PurgeReport {
            sessions,
            access_tokens,
            sign_in_counters,
            flush_receipts,
            idempotency_keys,
        })
    }
}
