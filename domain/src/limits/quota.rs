//! The tenant's monthly quota without a database write per call: each
//! instance takes blocks of the window's remaining calls from `quota_grants` in one
//! atomic statement and spends them in memory.
//!
//! Why it is exact:
//! - The database never grants more than the limit: a block is at most what is left,
//!   taken by one `UPDATE` (row-locked on PostgreSQL, one writer on SQLite), so no
//!   instance, and no number of them, admits a call over the limit.
//! - Within an instance, one reservation per tenant runs at a time and calls spend the
//!   block under a lock, so concurrent calls neither overshoot nor strand a block.
//! - A block is an eighth of what was left, so blocks shrink as the limit nears: the
//!   last calls are granted one by one. It is also at most 1,000 calls, doubled for each
//!   reservation that follows the last within a second (up to 16,000), so a tenant
//!   calling thousands of times a second reserves a few times a second, not fifty.
//!
//! What is not exact, by design: allowance one instance holds cannot serve another.
//! A call may be refused while another instance still holds unused allowance; that
//! allowance is given back after 5 s without calls, at graceful shutdown and when the
//! tenant changes. A crash (`kill -9`) loses the allowance it held, at most one block
//! (1,000 calls; up to 16,000 for a tenant calling thousands of times a second), so a
//! tenant can be refused up to one block early in that window, never late.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gatehouse_model::{LimitPolicy, LimitStatus, TenantId};

use crate::Gatehouse;
use crate::error::DomainError;
use crate::overview::usage_day;
use crate::tenants::billing_window;

/// The block a reservation takes at most, unless reservations follow each other
/// closely.
const BASE_BLOCK: i64 = 1_000;
/// The largest block, for a tenant whose reservations come within a second of each
/// other.
const MAX_BLOCK: i64 = 16_000;
/// Reservations closer than this double the next block.
const BUSY_RESERVATIONS_MS: i64 = 1_000;

/// How long an instance trusts the database's "nothing left" before asking again
/// (another instance may give allowance back, or the operator raise the limit).
const EXHAUSTED_RECHECK_MS: i64 = 1_000;

/// Allowance left unused this long is given back for other instances to take.
pub(crate) const IDLE_RELEASE_MS: i64 = 5_000;

/// One tenant's quota as this instance holds it, for the current billing window.
#[derive(Debug)]
struct TenantAllowance {
    window_start_ms: i64,
    window_end_ms: i64,
    /// Calls taken from the database and not yet spent here.
    allowance: i64,
    /// The limit and the database's granted count as of this instance's last
    /// reservation (for the remaining count the headers report).
    limit: i64,
    granted: i64,
    /// When the database last said the window is used up.
    exhausted_at_ms: Option<i64>,
    last_call_ms: i64,
    /// The most the next reservation takes, and when the last one was made.
    next_block: i64,
    last_reserved_ms: Option<i64>,
    /// One reservation per tenant at a time.
    reserving: Arc<tokio::sync::Mutex<()>>,
}

impl TenantAllowance {
    fn new(now_ms: i64, anchor_day: u32) -> Self {
        let (window_start_ms, window_end_ms) = billing_window(now_ms, anchor_day);
        Self {
            window_start_ms,
            window_end_ms,
            allowance: 0,
            limit: 0,
            granted: 0,
            exhausted_at_ms: None,
            last_call_ms: now_ms,
            next_block: BASE_BLOCK,
            last_reserved_ms: None,
            reserving: Arc::default(),
        }
    }

    fn status(&self, now_ms: i64) -> LimitStatus {
        LimitStatus {
            policy: LimitPolicy::Monthly,
            limit: self.limit,
            window_seconds: (self.window_end_ms - self.window_start_ms) / 1000,
            remaining: (self.limit - self.granted + self.allowance).max(0),
            reset_seconds: ceil_seconds(self.window_end_ms - now_ms),
        }
    }
}

/// Whole seconds until `ms` have passed, at least 1.
pub(crate) fn ceil_seconds(ms: i64) -> i64 {
    ((ms + 999) / 1000).max(1)
}

/// What spending one call found.
enum Spent {
    Admitted(LimitStatus),
    Exceeded(LimitStatus),
    /// Nothing held here: a reservation is needed.
    Empty(Arc<tokio::sync::Mutex<()>>),
}

/// Every tenant's allowance on this instance.
#[derive(Debug, Default)]
pub(crate) struct QuotaLedger {
    tenants: Mutex<HashMap<TenantId, TenantAllowance, foldhash::fast::RandomState>>,
}

impl QuotaLedger {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<TenantId, TenantAllowance, foldhash::fast::RandomState>>
    {
        self.tenants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The most a reservation made now may take: [`BASE_BLOCK`], doubled for each
    /// reservation within [`BUSY_RESERVATIONS_MS`] of the last, up to [`MAX_BLOCK`].
    fn block_size(&self, tenant_id: &TenantId, now_ms: i64) -> i64 {
        let mut tenants = self.lock();
        let Some(allowance) = tenants.get_mut(tenant_id) else {
            return BASE_BLOCK;
        };
        allowance.next_block = match allowance.last_reserved_ms {
            Some(last) if now_ms - last < BUSY_RESERVATIONS_MS => {
                (allowance.next_block * 2).min(MAX_BLOCK)
            }
            _ => BASE_BLOCK,
        };
        allowance.last_reserved_ms = Some(now_ms);
        allowance.next_block
    }

    /// Spends one call of the tenant's allowance, if this instance holds any.
    fn spend(&self, tenant_id: &TenantId, now_ms: i64, anchor_day: u32) -> Spent {
        let mut tenants = self.lock();
        let allowance = match tenants.get_mut(tenant_id) {
            Some(allowance) => allowance,
            None => tenants
                .entry(tenant_id.clone())
                .or_insert_with(|| TenantAllowance::new(now_ms, anchor_day)),
        };
        if now_ms >= allowance.window_end_ms || now_ms < allowance.window_start_ms {
            // A new billing window: what was held belonged to the last one.
            *allowance = TenantAllowance::new(now_ms, anchor_day);
        }
        allowance.last_call_ms = now_ms;
        if allowance.allowance > 0 {
            allowance.allowance -= 1;
            return Spent::Admitted(allowance.status(now_ms));
        }
        match allowance.exhausted_at_ms {
            Some(at) if now_ms - at < EXHAUSTED_RECHECK_MS => {
                Spent::Exceeded(allowance.status(now_ms))
            }
            _ => Spent::Empty(Arc::clone(&allowance.reserving)),
        }
    }

    /// Adds a reservation's answer to what this instance holds; answers the calls it
    /// could not hold (the tenant was forgotten meanwhile), to be given back.
    fn add_grant(
        &self,
        tenant_id: &TenantId,
        window_start_ms: i64,
        grant: Grant,
        now_ms: i64,
    ) -> i64 {
        let mut tenants = self.lock();
        let Some(allowance) = tenants
            .get_mut(tenant_id)
            .filter(|allowance| allowance.window_start_ms == window_start_ms)
        else {
            return grant.granted_now;
        };
        allowance.allowance += grant.granted_now;
        allowance.granted = grant.granted_total;
        allowance.limit = grant.limit;
        allowance.exhausted_at_ms = (grant.granted_now == 0).then_some(now_ms);
        0
    }

    /// Takes back what `tenant_id` holds (or every idle tenant's), answering what to
    /// give back to the database: `(tenant, window start, calls)`.
    fn take_unused(
        &self,
        which: impl Fn(&TenantId, &TenantAllowance) -> bool,
    ) -> Vec<(TenantId, i64, i64)> {
        let mut tenants = self.lock();
        let mut unused = Vec::new();
        tenants.retain(|tenant_id, allowance| {
            if !which(tenant_id, allowance) {
                return true;
            }
            if allowance.allowance > 0 {
                unused.push((
                    tenant_id.clone(),
                    allowance.window_start_ms,
                    allowance.allowance,
                ));
            }
            // Forgotten: the next call reads the limit afresh. A reservation in flight
            // finds no entry and drops its grant, which the caller gives back.
            false
        });
        unused
    }
}

/// What one reservation took.
#[derive(Debug, Clone, Copy)]
struct Grant {
    granted_now: i64,
    granted_total: i64,
    limit: i64,
}

impl Gatehouse {
    /// Spends one live call of the tenant's monthly quota: its status when admitted,
    /// or [`DomainError::UsageExceeded`] when the window is used up.
    pub(crate) async fn spend_quota(
        &self,
        tenant_id: &TenantId,
        anchor_day: u32,
    ) -> Result<LimitStatus, DomainError> {
        loop {
            let now = self.now_ms();
            let reserving = match self.quota.spend(tenant_id, now, anchor_day) {
                Spent::Admitted(status) => return Ok(status),
                Spent::Exceeded(status) => return Err(DomainError::UsageExceeded(status)),
                Spent::Empty(reserving) => reserving,
            };
            let _one_at_a_time = reserving.lock().await;
            // Another call may have reserved while this one waited: spend from that.
            let now = self.now_ms();
            match self.quota.spend(tenant_id, now, anchor_day) {
                Spent::Admitted(status) => return Ok(status),
                Spent::Exceeded(status) => return Err(DomainError::UsageExceeded(status)),
                Spent::Empty(_) => {}
            }
            let (window_start, window_end) = billing_window(now, anchor_day);
            let most = self.quota.block_size(tenant_id, now);
            let grant = self
                .reserve_quota(tenant_id, window_start, window_end, most)
                .await?;
            let unplaced = self.quota.add_grant(tenant_id, window_start, grant, now);
            if unplaced > 0 {
                self.give_back_quota(vec![(tenant_id.clone(), window_start, unplaced)])
                    .await?;
            }
        }
    }

    /// Takes the next block of the window's calls from the database.
    async fn reserve_quota(
        &self,
        tenant_id: &TenantId,
        window_start_ms: i64,
        window_end_ms: i64,
        most: i64,
    ) -> Result<Grant, DomainError> {
        // Calls wait on this: the request log's writes give way to it.
        let _urgent = self.urgent_write();
        // Written first, so the transaction holds SQLite's write lock before it reads
        // (a read first could not be upgraded while another connection writes).
        let mut transaction = self.db().writer().begin().await?;
        // The window's first grant starts from the calls already counted in it (a
        // limit set mid-month, or an upgrade), so nothing is granted twice.
        sqlx::query(
            "INSERT INTO quota_grants (tenant_id, window_start, granted, last_grant)
             SELECT $1, $2, CAST(COALESCE(SUM(successes + failures), 0) AS BIGINT), 0
             FROM usage_daily_rollup
             WHERE tenant_id = $1 AND mode = 'live' AND app_id = '' AND day >= $3 AND day < $4
             ON CONFLICT (tenant_id, window_start) DO NOTHING",
        )
        .bind(tenant_id.as_str())
        .bind(window_start_ms)
        .bind(usage_day(window_start_ms))
        .bind(usage_day(window_end_ms))
        .execute(&mut *transaction)
        .await?;
        let (limit,): (i64,) =
            sqlx::query_as("SELECT monthly_call_limit FROM tenants WHERE id = $1")
                .bind(tenant_id.as_str())
                .fetch_one(&mut *transaction)
                .await?;
        // Both assignments read the row as it was, so `last_grant` is this grant.
        let block = "CASE WHEN $3 <= granted THEN 0
                          WHEN ($3 - granted) / 8 >= $4 THEN $4
                          WHEN ($3 - granted) / 8 >= 1 THEN ($3 - granted) / 8
                          ELSE 1 END";
        let (granted_total, granted_now): (i64, i64) = sqlx::query_as(&format!(
            "UPDATE quota_grants SET last_grant = {block}, granted = granted + {block}
             WHERE tenant_id = $1 AND window_start = $2
             RETURNING granted, last_grant"
        ))
        .bind(tenant_id.as_str())
        .bind(window_start_ms)
        .bind(limit)
        .bind(most)
        .fetch_one(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Grant {
            granted_now,
            granted_total,
            limit,
        })
    }

    /// Gives back the allowance this instance holds for tenants without a call in
    /// the last [`IDLE_RELEASE_MS`] (so other instances can take it), or for every
    /// tenant when `all` (graceful shutdown). Answers how many calls were given back.
    pub async fn release_unused_quota(&self, all: bool) -> Result<i64, DomainError> {
        let now = self.now_ms();
        let unused = self
            .quota
            .take_unused(|_, allowance| all || now - allowance.last_call_ms >= IDLE_RELEASE_MS);
        self.give_back_quota(unused).await
    }

    /// Forgets what this instance holds of a tenant's quota (its limit changed).
    pub(crate) async fn forget_quota(&self, tenant_id: &TenantId) -> Result<i64, DomainError> {
        let unused = self
            .quota
            .take_unused(|candidate, _| candidate == tenant_id);
        self.give_back_quota(unused).await
    }

    async fn give_back_quota(&self, unused: Vec<(TenantId, i64, i64)>) -> Result<i64, DomainError> {
        let mut given_back = 0;
        for (tenant_id, window_start, calls) in unused {
            sqlx::query(
                "UPDATE quota_grants SET granted = granted - $3
                 WHERE tenant_id = $1 AND window_start = $2 AND granted >= $3",
            )
            .bind(tenant_id.as_str())
            .bind(window_start)
            .bind(calls)
            .execute(self.db().writer())
            .await?;
            given_back += calls;
        }
        Ok(given_back)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_window_starts_empty_and_reports_its_reset() {
        let ledger = QuotaLedger::default();
        let tenant = TenantId::from_body("t1");
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-31T23:59:00Z")
            .unwrap()
            .timestamp_millis();
        assert!(matches!(ledger.spend(&tenant, now, 1), Spent::Empty(_)));
        let (start, _) = billing_window(now, 1);
        let grant = Grant {
            granted_now: 2,
            granted_total: 2,
            limit: 10,
        };
        assert_eq!(ledger.add_grant(&tenant, start, grant, now), 0);
        let Spent::Admitted(status) = ledger.spend(&tenant, now, 1) else {
            panic!("a granted call is admitted");
        };
        assert_eq!(
            (status.limit, status.remaining, status.reset_seconds),
            (10, 9, 60)
        );
        // Two minutes later it is February: January's allowance is gone.
        assert!(matches!(
            ledger.spend(&tenant, now + 120_000, 1),
            Spent::Empty(_)
        ));
    }

    #[test]
    fn busy_tenants_reserve_bigger_blocks_and_idle_ones_start_small_again() {
        let ledger = QuotaLedger::default();
        let tenant = TenantId::from_body("t1");
        let now = 1_800_000_000_000;
        assert!(matches!(ledger.spend(&tenant, now, 1), Spent::Empty(_)));
        let sizes: Vec<i64> = (0..7)
            .map(|step| ledger.block_size(&tenant, now + step * 100))
            .collect();
        assert_eq!(sizes, [1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
        // A second and more after the last reservation: back to the base block.
        assert_eq!(
            ledger.block_size(&tenant, now + 600 + BUSY_RESERVATIONS_MS),
            BASE_BLOCK
        );
    }
}
