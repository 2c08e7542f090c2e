//! Usage counters: every authenticated platform call is tallied in
//! memory per tenant, app, key, mode, hour and outcome, and [`Gatehouse::flush_usage`]
//! writes the tallies (about once a second, and on graceful shutdown) into
//! `usage_daily`, `usage_hourly` and the keys' `last_used_at`. No request writes to
//! the database itself. A call refused before it ran (a disabled key, a limit) is
//! tallied too, as `refused`: in `usage_hourly` only, for the key's own counts, and
//! never as usage.
//!
//! A flush is idempotent: each batch carries an id written with it (`usage_flushes`).
//! A batch whose write failed, or whose commit answer was lost, is kept and retried
//! under the same id; if the id is found already written, the batch is dropped instead
//! of being counted twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use gatehouse_model::{ApiKeyId, AppId, KeyMode, TenantId};

use crate::actor::KeyPrincipal;
use crate::error::DomainError;
use crate::overview::usage_day;
use crate::{Gatehouse, ids, time};

const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Bucket {
    tenant_id: TenantId,
    app_id: AppId,
    key_id: ApiKeyId,
    mode: KeyMode,
    hour_start: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    successes: i64,
    failures: i64,
    /// Calls refused before they ran: not usage, and not a use of the key.
    refused: i64,
    last_used_ms: i64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.successes += other.successes;
        self.failures += other.failures;
        self.refused += other.refused;
        self.last_used_ms = self.last_used_ms.max(other.last_used_ms);
    }

    /// Whether it counts calls that ran (usage), not only refusals.
    fn is_usage(&self) -> bool {
        self.successes + self.failures > 0
    }
}

/// How a key's call ended, as its counters tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Succeeded,
    Failed,
    /// Refused before it ran: the key disabled, revoked or expired, or a limit reached.
    Refused,
}

/// One key's calls since the last flush, per hour.
#[derive(Debug)]
struct KeyCalls {
    tenant_id: TenantId,
    app_id: AppId,
    mode: KeyMode,
    /// `(hour_start, tally)`: one or two hours between flushes.
    hours: Vec<(i64, Tally)>,
}

/// Calls not yet written, per key (foldhash: this map is touched on every call).
type PendingCalls = HashMap<ApiKeyId, KeyCalls, foldhash::fast::RandomState>;

/// Calls counted since the last flush. Cheap to record into from many tasks at once:
/// a call by a key already counted allocates nothing.
#[derive(Debug, Default)]
pub struct UsageCounters {
    pending: Mutex<PendingCalls>,
    /// A batch not known to be written: retried, under its id, by the next flush.
    unconfirmed: tokio::sync::Mutex<Option<Batch>>,
}

/// Tallies on their way to the database, under one id.
#[derive(Debug)]
struct Batch {
    id: String,
    tallies: HashMap<Bucket, Tally>,
}

impl UsageCounters {
    fn record(&self, key: &KeyPrincipal, outcome: CallOutcome, at_ms: i64) {
        let hour_start = at_ms - at_ms.rem_euclid(HOUR_MS);
        let call = Tally {
            successes: i64::from(outcome == CallOutcome::Succeeded),
            failures: i64::from(outcome == CallOutcome::Failed),
            refused: i64::from(outcome == CallOutcome::Refused),
            last_used_ms: if outcome == CallOutcome::Refused {
                0
            } else {
                at_ms
            },
        };
        let mut pending = self.lock();
        let calls = match pending.get_mut(&key.key_id) {
            Some(calls) => calls,
            None => pending.entry(key.key_id.clone()).or_insert(KeyCalls {
                tenant_id: key.tenant_id.clone(),
                app_id: key.app_id.clone(),
                mode: key.mode,
                hours: Vec::new(),
            }),
        };
        match calls.hours.iter_mut().find(|(hour, _)| *hour == hour_start) {
            Some((_, tally)) => tally.merge(call),
            None => calls.hours.push((hour_start, call)),
        }
    }

    /// Empties the pending calls, answering them per bucket.
    fn take(&self) -> HashMap<Bucket, Tally> {
        let pending = std::mem::take(&mut *self.lock());
        let mut tallies = HashMap::new();
        for (key_id, calls) in pending {
            for (hour_start, tally) in calls.hours {
                let bucket = Bucket {
                    tenant_id: calls.tenant_id.clone(),
                    app_id: calls.app_id.clone(),
                    key_id: key_id.clone(),
                    mode: calls.mode,
                    hour_start,
                };
                tallies
                    .entry(bucket)
                    .or_insert_with(Tally::default)
                    .merge(tally);
            }
        }
        tallies
    }

    /// Puts tallies back among the pending calls.
    #[cfg(test)]
    fn restore(&self, tallies: HashMap<Bucket, Tally>) {
        let mut pending = self.lock();
        for (bucket, tally) in tallies {
            let calls = pending.entry(bucket.key_id).or_insert(KeyCalls {
                tenant_id: bucket.tenant_id,
                app_id: bucket.app_id,
                mode: bucket.mode,
                hours: Vec::new(),
            });
            match calls
                .hours
                .iter_mut()
                .find(|(hour, _)| *hour == bucket.hour_start)
            {
                Some((_, pending_tally)) => pending_tally.merge(tally),
                None => calls.hours.push((bucket.hour_start, tally)),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PendingCalls> {
        // A panic while holding the lock leaves plain counters behind: keep counting.
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Gatehouse {
    /// Counts one call by `key`: a success, a failure, or a refusal before it ran.
    pub fn record_call(&self, key: &KeyPrincipal, outcome: CallOutcome) {
        self.usage.record(key, outcome, self.now_ms());
    }

    /// Writes every pending tally to the database in one transaction; answers how many
    /// buckets were written. On failure the batch is kept and retried by the next flush
    /// under the same id, so it is written exactly once.
    pub async fn flush_usage(&self) -> Result<usize, DomainError> {
        self.flush_usage_reporting(true).await
    }

    /// Like [`Self::flush_usage`], but after a successful write it behaves as if the
    /// commit's answer had been lost (the batch stays unconfirmed). For tests of
    /// idempotence only.
    #[doc(hidden)]
    pub async fn flush_usage_losing_the_answer(&self) -> Result<usize, DomainError> {
        self.flush_usage_reporting(false).await
    }

    async fn flush_usage_reporting(&self, answer_arrives: bool) -> Result<usize, DomainError> {
        // One flush at a time: the unconfirmed batch is this lock's.
        let mut unconfirmed = self.usage.unconfirmed.lock().await;
        if let Some(pending) = unconfirmed.as_ref()
            && self.flush_was_written(&pending.id).await?
        {
            // Its commit went through although its answer was lost: counted already.
            *unconfirmed = None;
        }
        let mut batch = unconfirmed.take().unwrap_or_else(|| Batch {
            id: ids::fresh_body(),
            tallies: HashMap::new(),
        });
        for (bucket, tally) in self.usage.take() {
            batch.tallies.entry(bucket).or_default().merge(tally);
        }
        if batch.tallies.is_empty() {
            self.metrics.usage_flushed(false, self.now_ms());
            return Ok(0);
        }
        let written = self.write_tallies(&batch).await;
        match &written {
            Ok(()) => {
                self.metrics.usage_flushed(true, self.now_ms());
                self.usage_moved(
                    batch
                        .tallies
                        .keys()
                        .filter(|bucket| bucket.mode == KeyMode::Live)
                        .map(|bucket| &bucket.tenant_id),
                );
            }
            Err(_) => self.metrics.usage_flush_failed(),
        }
        match written {
            Ok(()) if answer_arrives => Ok(batch.tallies.len()),
            Ok(()) => {
                let count = batch.tallies.len();
                *unconfirmed = Some(batch);
                Ok(count)
            }
            Err(error) => {
                *unconfirmed = Some(batch);
                Err(error)
            }
        }
    }

    /// Whether a batch with this id was committed.
    async fn flush_was_written(&self, batch_id: &str) -> Result<bool, DomainError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT batch_id FROM usage_flushes WHERE batch_id = $1")
                .bind(batch_id)
                .fetch_optional(self.db().pool())
                .await?;
        Ok(found.is_some())
    }

    async fn write_tallies(&self, batch: &Batch) -> Result<(), DomainError> {
        // Counters are not a change a person made (no audit row): they write directly.
        let mut transaction = self.db().writer().begin().await?;
        sqlx::query("INSERT INTO usage_flushes (batch_id, written_at) VALUES ($1, $2)")
            .bind(&batch.id)
            .bind(self.now_ms())
            .execute(&mut *transaction)
            .await?;
        // Rows are written in one order on every instance, so two instances flushing
        // the same rows at once wait for each other instead of deadlocking.
        let mut buckets: Vec<(&Bucket, &Tally)> = batch.tallies.iter().collect();
        buckets.sort_unstable_by_key(|(bucket, _)| *bucket);
        let mut last_used: BTreeMap<&ApiKeyId, i64> = BTreeMap::new();
        for (bucket, tally) in buckets {
            for (table, period_column, period) in [
                (
                    "usage_hourly",
                    "hour_start",
                    PeriodValue::Ms(bucket.hour_start),
                ),
                (
                    "usage_daily",
                    "day",
                    PeriodValue::Day(usage_day(bucket.hour_start)),
                ),
            ] {
                // Refusals are kept per hour only (the keys list's counts), not as usage.
                let (refused_column, refused_value, refused_update) = if table == "usage_hourly" {
                    (
                        ", refused",
                        ", $8",
                        ", refused = usage_hourly.refused + excluded.refused",
                    )
                } else if tally.is_usage() {
                    ("", "", "")
                } else {
                    continue;
                };
                let statement = format!(
                    "INSERT INTO {table} (tenant_id, app_id, key_id, mode, {period_column}, successes, failures{refused_column})
                     VALUES ($1, $2, $3, $4, $5, $6, $7{refused_value})
                     ON CONFLICT (tenant_id, app_id, key_id, mode, {period_column}) DO UPDATE SET
                        successes = {table}.successes + excluded.successes,
                        failures = {table}.failures + excluded.failures{refused_update}"
                );
                let query = sqlx::query(&statement)
                    .bind(bucket.tenant_id.as_str())
                    .bind(bucket.app_id.as_str())
                    .bind(bucket.key_id.as_str())
                    .bind(bucket.mode.as_str());
                let query = match period {
                    PeriodValue::Ms(ms) => query.bind(ms),
                    PeriodValue::Day(day) => query.bind(day),
                };
                let query = query.bind(tally.successes).bind(tally.failures);
                let query = if table == "usage_hourly" {
                    query.bind(tally.refused)
                } else {
                    query
                };
                query.execute(&mut *transaction).await?;
            }
            if tally.last_used_ms > 0 {
                let latest = last_used.entry(&bucket.key_id).or_default();
                *latest = (*latest).max(tally.last_used_ms);
            }
        }
        for (row, tally) in rollup(&batch.tallies) {
            sqlx::query(
                "INSERT INTO usage_daily_rollup (tenant_id, mode, app_id, day, successes, failures)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, mode, app_id, day) DO UPDATE SET
                    successes = usage_daily_rollup.successes + excluded.successes,
                    failures = usage_daily_rollup.failures + excluded.failures",
            )
            .bind(row.tenant_id.as_str())
            .bind(row.mode.as_str())
            .bind(row.app_id.map(AppId::as_str).unwrap_or_default())
            .bind(&row.day)
            .bind(tally.successes)
            .bind(tally.failures)
            .execute(&mut *transaction)
            .await?;
        }
        for (key_id, at) in &last_used {
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $1
                 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
            )
            .bind(*at)
            .bind(key_id.as_str())
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        for (key_id, at) in last_used {
            self.key_cache.note_last_used(key_id, time::from_ms(at));
        }
        Ok(())
    }

    /// Each key's successful and failed calls since `since_ms` (flushed counts only); the
    /// failed ones include those refused before they ran, as the key's Logs show them.
    pub(crate) async fn key_call_counts(
        &self,
        tenant_id: &TenantId,
        app_id: &AppId,
        since_ms: i64,
    ) -> Result<HashMap<String, (i64, i64)>, DomainError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT key_id, CAST(SUM(successes) AS BIGINT), CAST(SUM(failures + refused) AS BIGINT)
             FROM usage_hourly WHERE tenant_id = $1 AND app_id = $2 AND hour_start >= $3
             GROUP BY key_id",
        )
        .bind(tenant_id.as_str())
        .bind(app_id.as_str())
        .bind(since_ms - since_ms.rem_euclid(HOUR_MS))
        .fetch_all(self.db().pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(key_id, successes, failures)| (key_id, (successes, failures)))
            .collect())
    }
}

/// A row of `usage_daily_rollup`: a day of one app's calls, or of the whole tenant's
/// (`app_id: None`), in one mode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RollupRow<'a> {
    tenant_id: &'a TenantId,
    mode: KeyMode,
    app_id: Option<&'a AppId>,
    day: String,
}

/// The batch's tallies summed per app and day and per tenant and day, in the order
/// they are written.
fn rollup(tallies: &HashMap<Bucket, Tally>) -> BTreeMap<RollupRow<'_>, Tally> {
    let mut rows: BTreeMap<RollupRow<'_>, Tally> = BTreeMap::new();
    for (bucket, tally) in tallies {
        let day = usage_day(bucket.hour_start);
        if !tally.is_usage() {
            continue;
        }
        for app_id in [Some(&bucket.app_id), None] {
            let row = RollupRow {
                tenant_id: &bucket.tenant_id,
                mode: bucket.mode,
                app_id,
                day: day.clone(),
            };
            rows.entry(row).or_default().merge(*tally);
        }
    }
    rows
}

enum PeriodValue {
    Ms(i64),
    Day(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> KeyPrincipal {
        KeyPrincipal {
            key_id: ApiKeyId::from_body("k1"),
            tenant_id: TenantId::from_body("t1"),
            app_id: AppId::from_body("a1"),
            mode: KeyMode::Live,
            scopes: None,
            masked_key: "sk_live_AbCd…".to_owned(),
            app_allowed_origins: Vec::new(),
            rate_limit: None,
        }
    }

    #[test]
    fn calls_in_one_hour_share_a_bucket_and_outcomes_are_split() {
        let counters = UsageCounters::default();
        let key = principal();
        let hour = 1_700_000_000_000 - 1_700_000_000_000_i64.rem_euclid(HOUR_MS);
        counters.record(&key, CallOutcome::Succeeded, hour + 5);
        counters.record(&key, CallOutcome::Succeeded, hour + 10);
        counters.record(&key, CallOutcome::Failed, hour + 7);
        counters.record(&key, CallOutcome::Succeeded, hour + HOUR_MS);
        let taken = counters.take();
        assert_eq!(taken.len(), 2);
        let first = taken.values().find(|tally| tally.successes == 2).unwrap();
        assert_eq!((first.failures, first.last_used_ms), (1, hour + 10));
        assert!(
            counters.take().is_empty(),
            "take empties the pending tallies"
        );
        counters.restore(taken);
        assert_eq!(counters.take().len(), 2, "a failed flush keeps its tallies");
    }

    #[test]
    fn the_rollup_sums_each_day_per_app_and_per_tenant() {
        let counters = UsageCounters::default();
        let key = principal();
        let other_key = KeyPrincipal {
            key_id: ApiKeyId::from_body("k2"),
            app_id: AppId::from_body("a2"),
            ..principal()
        };
        let midnight = 1_700_006_400_000; // 2023-11-15T00:00:00Z
        counters.record(&key, CallOutcome::Succeeded, midnight - 1); // the day before
        counters.record(&key, CallOutcome::Succeeded, midnight + 5);
        counters.record(&key, CallOutcome::Failed, midnight + 2 * HOUR_MS);
        counters.record(&other_key, CallOutcome::Succeeded, midnight + 3 * HOUR_MS);
        let tallies = counters.take();
        let rows: Vec<(Option<&str>, String, i64, i64)> = rollup(&tallies)
            .into_iter()
            .map(|(row, tally)| {
                (
                    row.app_id.map(AppId::as_str),
                    row.day,
                    tally.successes,
                    tally.failures,
                )
            })
            .collect();
        let (a1, a2) = (AppId::from_body("a1"), AppId::from_body("a2"));
        assert_eq!(
            rows,
            vec![
                (None, "2023-11-14".to_owned(), 1, 0),
                (None, "2023-11-15".to_owned(), 2, 1),
                (Some(a1.as_str()), "2023-11-14".to_owned(), 1, 0),
                (Some(a1.as_str()), "2023-11-15".to_owned(), 1, 1),
                (Some(a2.as_str()), "2023-11-15".to_owned(), 1, 0),
            ]
        );
    }
}
