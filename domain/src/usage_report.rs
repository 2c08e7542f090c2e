//! Usage per day (`GET /v1/usage`): the flushed counters of a window of days,
//! for the tenant, one app or one key, in one mode, split by outcome, every day of the
//! window present (days without calls are zeros, so a chart of an empty window is an
//! empty chart, not an error); and a key's activity per hour and per day, its refused
//! calls counted as failures as on its own counts.

use chrono::NaiveDate;
use gatehouse_model::{
    ActivitySlot, ApiKeyId, AppId, KeyActivity, UsageDay, UsagePage, UsageQuery, UsageReport,
};

use crate::access::Access;
use crate::actor::Actor;
use crate::error::DomainError;

use crate::{Gatehouse, time};

/// The longest window one report covers.
pub const MAX_REPORT_DAYS: u64 = 366;
/// A key's activity: this many hours, and this many days, up to now.
pub const ACTIVITY_HOURS: i64 = 24;
pub const ACTIVITY_DAYS: i64 = 30;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

fn parse_day(field: &str, value: &str) -> Result<NaiveDate, DomainError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| DomainError::field(field, "Give a date as YYYY-MM-DD."))
}

impl Gatehouse {
    /// The Usage tab's report: the current billing window's live calls, for the whole
    /// tenant or for the user's selected app.
    pub async fn usage_page(
        &self,
        actor: &Actor,
        for_selected_app: bool,
    ) -> Result<UsagePage, DomainError> {
        actor.require(Access::USAGE_READ)?;
        let app = match self.selected_app_id(actor).await? {
            Some(app_id) if for_selected_app => {
                Some(self.find_app(&actor.tenant_id, &app_id).await?)
            }
            _ => None,
        };
        let query = UsageQuery {
            app_id: app.as_ref().map(|app| app.id.clone()),
            ..UsageQuery::default()
        };
        let report = self.usage_report(actor, &query).await?;
        Ok(UsagePage { app, report })
    }

    /// A key's calls per hour (the last [`ACTIVITY_HOURS`], this one included) and per
    /// UTC day (the last [`ACTIVITY_DAYS`], today included), oldest first.
    pub async fn key_activity(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<KeyActivity, DomainError> {
        actor.require(Access::USAGE_READ)?;
        let key = self.visible_key(actor, key_id).await?;
        let now = self.now_ms();
        let first_hour = now - now.rem_euclid(HOUR_MS) - (ACTIVITY_HOURS - 1) * HOUR_MS;
        let first_day = now - now.rem_euclid(DAY_MS) - (ACTIVITY_DAYS - 1) * DAY_MS;
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT hour_start, successes, failures + refused FROM usage_hourly
             WHERE tenant_id = $1 AND app_id = $2 AND key_id = $3 AND hour_start >= $4",
        )
        .bind(actor.tenant_id.as_str())
        .bind(key.app_id.as_str())
        .bind(key_id.as_str())
        .bind(first_day.min(first_hour))
        .fetch_all(self.db().pool())
        .await?;
        let slots = |first: i64, length: i64, count: i64| -> Vec<ActivitySlot> {
            (0..count)
                .map(|index| ActivitySlot {
                    start: time::from_ms(first + index * length),
                    successes: 0,
                    failures: 0,
                })
                .collect()
        };
        let mut hours = slots(first_hour, HOUR_MS, ACTIVITY_HOURS);
        let mut days = slots(first_day, DAY_MS, ACTIVITY_DAYS);
        for (hour_start, successes, failures) in rows {
            for (slots, first, length) in [
                (&mut hours, first_hour, HOUR_MS),
                (&mut days, first_day, DAY_MS),
            ] {
                let index = (hour_start - first).div_euclid(length);
                if let Some(slot) = usize::try_from(index).ok().and_then(|i| slots.get_mut(i)) {
                    slot.successes += successes;
                    slot.failures += failures;
                }
            }
        }
        Ok(KeyActivity {
            key_id: key.id,
            hours,
            days,
        })
    }

    /// Calls per day in a window; by default the current billing window of the live
    /// mode. A key reads its own app and mode only.
    pub async fn usage_report(
        &self,
        actor: &Actor,
        query: &UsageQuery,
    ) -> Result<UsageReport, DomainError> {
        actor.require(Access::USAGE_READ)?;
        let tenant = self.tenant(&actor.tenant_id).await?;
        let (window_start, window_end) =
            (tenant.billing_window_start_ms, tenant.billing_window_end_ms);
        let from = match &query.from {
            Some(from) => parse_day("from", from)?,
            None => time::from_ms(window_start).date_naive(),
        };
        let to = match &query.to {
            Some(to) => parse_day("to", to)?,
            None => time::from_ms(window_end - 1).date_naive(),
        };
        if to < from {
            return Err(DomainError::field(
                "to",
                "The window ends before it starts.",
            ));
        }
        if (to - from).num_days() >= MAX_REPORT_DAYS as i64 {
            return Err(DomainError::field(
                "to",
                format!("A report covers at most {MAX_REPORT_DAYS} days."),
            ));
        }
        let (mode, app_id) = self
            .confined_app_and_mode(actor, query.app_id.as_ref(), query.mode, "usage")
            .await?;
        let day = |date: NaiveDate| date.format("%Y-%m-%d").to_string();
        let rows: Vec<(String, i64, i64)> = match &query.key_id {
            Some(key_id) => {
                let key = self.visible_key(actor, key_id).await?;
                if app_id.as_ref().is_some_and(|app| app != &key.app_id) || key.mode != mode {
                    return Err(DomainError::NotFound("API key"));
                }
                sqlx::query_as(
                    "SELECT day, successes, failures FROM usage_daily
                     WHERE tenant_id = $1 AND app_id = $2 AND key_id = $3 AND mode = $4
                       AND day >= $5 AND day <= $6",
                )
                .bind(actor.tenant_id.as_str())
                .bind(key.app_id.as_str())
                .bind(key_id.as_str())
                .bind(mode.as_str())
                .bind(day(from))
                .bind(day(to))
                .fetch_all(self.db().pool())
                .await?
            }
            // One app's days, or the tenant's (app '' in the rollup): a row per day.
            None => {
                sqlx::query_as(
                    "SELECT day, successes, failures FROM usage_daily_rollup
                     WHERE tenant_id = $1 AND mode = $2 AND app_id = $3
                       AND day >= $4 AND day <= $5",
                )
                .bind(actor.tenant_id.as_str())
                .bind(mode.as_str())
                .bind(app_id.as_ref().map(AppId::as_str).unwrap_or_default())
                .bind(day(from))
                .bind(day(to))
                .fetch_all(self.db().pool())
                .await?
            }
        };
        let counted: std::collections::HashMap<String, (i64, i64)> = rows
            .into_iter()
            .map(|(day, successes, failures)| (day, (successes, failures)))
            .collect();
        let days: Vec<UsageDay> = from
            .iter_days()
            .take_while(|date| *date <= to)
            .map(|date| {
                let day = day(date);
                let (successes, failures) = counted.get(&day).copied().unwrap_or_default();
                UsageDay {
                    day,
                    successes,
                    failures,
                }
            })
            .collect();
        debug_assert!(days.len() as u64 <= MAX_REPORT_DAYS);
        Ok(UsageReport {
            from: day(from),
            to: day(to),
            mode,
            app_id,
            key_id: query.key_id.clone(),
            total_successes: days.iter().map(|day| day.successes).sum(),
            total_failures: days.iter().map(|day| day.failures).sum(),
            days,
        })
    }
}
