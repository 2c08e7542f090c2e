//! Tenants: plan, modules, subscription, the monthly call limit and
//! billing window, and the shadow test tenant every live tenant gets.

use chrono::{Datelike, TimeZone, Utc};
use gatehouse_model::{EventType, OperatorScope, Plan, SubscriptionState, TenantId};
use std::sync::atomic::Ordering;

use crate::audit::AuditRecord;
use crate::change::Change;
use crate::error::DomainError;
use crate::operator::Operator;
use crate::stored::Stored;
use crate::text::TextRule;
use crate::{Gatehouse, ids, time};

/// The module that unlocks the Developers workspace.
pub const PLATFORM_API_MODULE: &str = "platform.api";

/// How much of the shared service one tenant may take, so that no tenant can slow the
/// others with sheer numbers: apps, webhook endpoints (which the delivery worker
/// serves), and test-mode events a month (test calls are free and unmetered otherwise).
/// The operator sets them per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantCaps {
    pub max_apps: i64,
    pub max_webhook_endpoints: i64,
    pub monthly_test_events: i64,
}

impl Default for TenantCaps {
    fn default() -> Self {
        Self {
            max_apps: 100,
            max_webhook_endpoints: 500,
            monthly_test_events: 100_000,
        }
    }
}

/// What the operator gives to create a tenant.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub name: String,
    /// The day of the month its billing window starts (1 to 28).
    pub billing_anchor_day: u32,
    /// The SaaS's own id of the account (the operator's API sets it).
    pub external_id: Option<String>,
    pub plan: Plan,
    pub modules: Vec<String>,
    pub subscription_state: SubscriptionState,
    pub monthly_call_limit: i64,
    pub caps: TenantCaps,
}

impl NewTenant {
    /// A tenant on `plan` with the default limit of that plan.
    pub fn new(name: &str, plan: Plan, modules: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            billing_anchor_day: 1,
            external_id: None,
            plan,
            modules: modules.iter().map(|module| (*module).to_owned()).collect(),
            subscription_state: SubscriptionState::Active,
            monthly_call_limit: default_monthly_limit(plan),
            caps: TenantCaps::default(),
        }
    }
}

/// Platform calls a month included in each plan.
pub fn default_monthly_limit(plan: Plan) -> i64 {
    match plan {
        Plan::Free => 1_000,
        Plan::Pro => 100_000,
        Plan::Enterprise => 10_000_000,
    }
}

/// A tenant as stored.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub external_id: Option<String>,
    pub plan: Plan,
    pub modules: Vec<String>,
    pub subscription_state: SubscriptionState,
    pub monthly_call_limit: i64,
    pub caps: TenantCaps,
    /// The operator's suspension flag (see [`Tenant::is_suspended`]).
    pub suspended: bool,
    /// The day of the month its billing window starts (1 to 28).
    pub billing_anchor_day: u32,
    /// The current billing window: the calendar month (UTC) around now, so it rolls
    /// forward at midnight UTC on the first of each month.
    pub billing_window_start_ms: i64,
    pub billing_window_end_ms: i64,
    pub test_tenant_id: TenantId,
}

/// Whether a tenant is suspended: by the operator's flag, or by a canceled subscription.
pub fn is_suspended(flag: i64, subscription: SubscriptionState) -> bool {
    flag != 0 || subscription == SubscriptionState::Canceled
}

/// The tenants whose webhook deliveries wait (SQL, for `NOT IN`): the suspended ones,
/// live and shadow alike (the shadow follows its live tenant's flag and state).
pub const SUSPENDED_TENANT_IDS: &str =
    "SELECT id FROM tenants WHERE suspended <> 0 OR subscription_state = 'canceled'";

impl Tenant {
    /// Keys refused, deliveries waiting, the dashboard read-only.
    pub fn is_suspended(&self) -> bool {
        is_suspended(i64::from(self.suspended), self.subscription_state)
    }

    pub fn has_module(&self, module: &str) -> bool {
        self.modules.iter().any(|candidate| candidate == module)
    }
}

/// The calendar month around `now_ms`, as `[start, end)` in milliseconds.
pub fn month_window(now_ms: i64) -> (i64, i64) {
    billing_window(now_ms, 1)
}

/// The latest day of the month a billing window may start on (every month has it).
pub const MAX_BILLING_ANCHOR_DAY: u32 = 28;

/// The billing window around `now_ms` of a tenant billed on `anchor_day` (1 to 28): from
/// that day of a month, 00:00 UTC, to that day of the next, as `[start, end)` in
/// milliseconds. Day 1 is the calendar month.
pub fn billing_window(now_ms: i64, anchor_day: u32) -> (i64, i64) {
    let anchor_day = anchor_day.clamp(1, MAX_BILLING_ANCHOR_DAY);
    let now = time::from_ms(now_ms);
    let months = |year: i32, month: u32, offset: i32| {
        let index = year * 12 + month as i32 - 1 + offset;
        (index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
    };
    let at = |(year, month): (i32, u32)| {
        Utc.with_ymd_and_hms(year, month, anchor_day, 0, 0, 0)
            .single()
            .map(|start| start.timestamp_millis())
    };
    let this_month = months(now.year(), now.month(), 0);
    let (start, end) = match at(this_month) {
        Some(start) if start <= now_ms => (Some(start), at(months(now.year(), now.month(), 1))),
        anchor => (at(months(now.year(), now.month(), -1)), anchor),
    };
    match (start, end) {
        (Some(start), Some(end)) => (start, end),
        _ => (now_ms, now_ms),
    }
}

/// What the operator changes of a tenant (`gatehouse update-tenant`); what is left
/// `None` keeps its value.
#[derive(Debug, Clone, Default)]
pub struct TenantUpdate {
    pub name: Option<String>,
    pub plan: Option<Plan>,
    pub modules: Option<Vec<String>>,
    pub subscription_state: Option<SubscriptionState>,
    pub monthly_call_limit: Option<i64>,
    pub max_apps: Option<i64>,
    pub max_webhook_endpoints: Option<i64>,
    pub monthly_test_events: Option<i64>,
    pub suspended: Option<bool>,
    pub billing_anchor_day: Option<u32>,
}

/// The longest `external_id` taken.
pub const MAX_EXTERNAL_ID_CHARS: usize = 200;

fn validate_tenant_name(name: &str) -> Result<String, DomainError> {
    TextRule::name("tenant", 120)
        .check(name)
        .map_err(|message| DomainError::field("name", message))
}

/// A billing anchor is a day every month has.
fn validate_billing_anchor_day(day: u32) -> Result<(), DomainError> {
    if !(1..=MAX_BILLING_ANCHOR_DAY).contains(&day) {
        return Err(DomainError::field(
            "billing_anchor_day",
            format!("Use a day of the month from 1 to {MAX_BILLING_ANCHOR_DAY}."),
        ));
    }
    Ok(())
}

fn validate_new_tenant(new_tenant: &NewTenant) -> Result<(), DomainError> {
    validate_tenant_name(&new_tenant.name)?;
    validate_billing_anchor_day(new_tenant.billing_anchor_day)?;
    if let Some(external_id) = &new_tenant.external_id {
        validate_external_id(external_id)?;
    }
    validate_modules_and_limit(&new_tenant.modules, new_tenant.monthly_call_limit)
}

/// The SaaS's account id: 1 to 200 printable ASCII characters without spaces.
pub fn validate_external_id(external_id: &str) -> Result<(), DomainError> {
    if external_id.is_empty()
        || external_id.len() > MAX_EXTERNAL_ID_CHARS
        || !external_id.bytes().all(|byte| byte.is_ascii_graphic())
    {
        return Err(DomainError::field(
            "external_id",
            format!(
                "Use your account's id: 1 to {MAX_EXTERNAL_ID_CHARS} printable ASCII characters without spaces."
            ),
        ));
    }
    Ok(())
}

fn validate_modules_and_limit(
    modules: &[String],
    monthly_call_limit: i64,
) -> Result<(), DomainError> {
    for module in modules {
        if module.is_empty()
            || !module
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte == b'.' || byte == b'_')
        {
            return Err(DomainError::field(
                "modules",
                format!("`{module}` is not a module name."),
            ));
        }
    }
    if monthly_call_limit < 0 {
        return Err(DomainError::field(
            "monthly_call_limit",
            "The limit cannot be negative.",
        ));
    }
    Ok(())
}

fn validate_caps(caps: &TenantCaps) -> Result<(), DomainError> {
    for (field, value) in [
        ("max_apps", caps.max_apps),
        ("max_webhook_endpoints", caps.max_webhook_endpoints),
        ("monthly_test_events", caps.monthly_test_events),
    ] {
        if value < 0 {
            return Err(DomainError::field(field, "The limit cannot be negative."));
        }
    }
    Ok(())
}

impl Gatehouse {
    /// A live tenant by id.
    pub async fn tenant(&self, tenant_id: &TenantId) -> Result<Tenant, DomainError> {
        self.read_tenant(self.db().pool(), tenant_id).await
    }

    /// A live tenant by id, as `change` sees it (its own writes included).
    pub(crate) async fn tenant_in(
        &self,
        change: &mut Change<'_>,
        tenant_id: &TenantId,
    ) -> Result<Tenant, DomainError> {
        self.read_tenant(change.connection(), tenant_id).await
    }

    async fn read_tenant<'c, E>(
        &self,
        executor: E,
        tenant_id: &TenantId,
    ) -> Result<Tenant, DomainError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let row = sqlx::query(
            "SELECT live.id, live.name, live.external_id, live.plan, live.modules, live.subscription_state,
                    live.monthly_call_limit, live.max_apps, live.max_webhook_endpoints,
                    live.monthly_test_events, live.suspended, live.billing_anchor_day,
                    shadow.id AS test_tenant_id
             FROM tenants live JOIN tenants shadow ON shadow.live_tenant_id = live.id
             WHERE live.id = $1
               AND NOT EXISTS (SELECT 1 FROM tenant_purges p WHERE p.tenant_id = live.id)",
        )
        .bind(tenant_id.as_str())
        .fetch_optional(executor)
        .await?
        .ok_or(DomainError::NotFound("tenant"))?;
        let stored = Stored::new(&row, "tenant");
        let billing_anchor_day =
            u32::try_from(stored.get::<i64>("billing_anchor_day")?).unwrap_or(1);
        let (billing_window_start_ms, billing_window_end_ms) =
            billing_window(self.now_ms(), billing_anchor_day);
        Ok(Tenant {
            id: stored.parsed("id", |id| TenantId::parse(id).ok())?,
            name: stored.get("name")?,
            external_id: stored.get("external_id")?,
            plan: stored.parsed("plan", Plan::parse)?,
            modules: stored
                .get::<String>("modules")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            subscription_state: stored.parsed("subscription_state", SubscriptionState::parse)?,
            monthly_call_limit: stored.get("monthly_call_limit")?,
            caps: TenantCaps {
                max_apps: stored.get("max_apps")?,
                max_webhook_endpoints: stored.get("max_webhook_endpoints")?,
                monthly_test_events: stored.get("monthly_test_events")?,
            },
            suspended: stored.get::<i64>("suspended")? != 0,
            billing_anchor_day,
            billing_window_start_ms,
            billing_window_end_ms,
            test_tenant_id: stored.parsed("test_tenant_id", |id| TenantId::parse(id).ok())?,
        })
    }

    /// How many tenants exist (live ones only).
    pub async fn tenant_count(&self) -> Result<i64, DomainError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM tenants WHERE live_tenant_id IS NULL")
                .fetch_one(self.db().pool())
                .await?;
        Ok(count)
    }
}

/// The audit trail's view of a tenant's settings.
fn tenant_state(tenant: &Tenant) -> serde_json::Value {
    serde_json::json!({
        "name": tenant.name,
        "plan": tenant.plan.as_str(),
        "modules": tenant.modules,
        "subscription_state": tenant.subscription_state.as_str(),
        "monthly_call_limit": tenant.monthly_call_limit,
        "max_apps": tenant.caps.max_apps,
        "max_webhook_endpoints": tenant.caps.max_webhook_endpoints,
        "monthly_test_events": tenant.caps.monthly_test_events,
        "suspended": tenant.suspended,
        "billing_anchor_day": tenant.billing_anchor_day,
    })
}

impl Gatehouse {
    /// Applies the tenant changes made since the last call, by this or any other
    /// process (the operator's CLI writes the database directly): every tenant whose
    /// revision moved has its cached keys and its quota allowance forgotten, so its new
    /// plan, modules, subscription state and limit hold from the next call. The server
    /// runs this twice a second. Answers how many tenants changed.
    pub async fn apply_tenant_changes(&self) -> Result<usize, DomainError> {
        let seen = self.tenant_revision.load(Ordering::Acquire);
        let changed: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, revision FROM tenants
             WHERE revision > $1 AND live_tenant_id IS NULL ORDER BY revision LIMIT 1000",
        )
        .bind(seen)
        .fetch_all(self.db().pool())
        .await?;
        let mut latest = seen;
        for (tenant_id, revision) in &changed {
            if let Ok(tenant_id) = TenantId::parse(tenant_id) {
                self.forget_tenant(&tenant_id).await?;
            }
            latest = latest.max(*revision);
        }
        self.tenant_revision.fetch_max(latest, Ordering::AcqRel);
        Ok(changed.len())
    }

    /// Forgets what this instance holds of a tenant: its keys' cached standing and its
    /// quota allowance (given back).
    pub(crate) async fn forget_tenant(&self, tenant_id: &TenantId) -> Result<(), DomainError> {
        self.key_cache.forget_tenant(tenant_id);
        self.forget_quota(tenant_id).await?;
        Ok(())
    }
}

impl Operator<'_> {
    /// Changes a tenant's plan, modules, subscription state or monthly limit (the
    /// shadow test tenant follows), audited with before and after. Running servers
    /// honour it within a second (`Gatehouse::apply_tenant_changes`).
    pub async fn update_tenant(
        &self,
        tenant_id: &TenantId,
        update: &TenantUpdate,
    ) -> Result<Tenant, DomainError> {
        self.require(OperatorScope::TenantsWrite)?;
        let before = self.gatehouse.tenant(tenant_id).await?;
        let name = match &update.name {
            Some(name) => validate_tenant_name(name)?,
            None => before.name.clone(),
        };
        let after = Tenant {
            name,
            suspended: update.suspended.unwrap_or(before.suspended),
            billing_anchor_day: update
                .billing_anchor_day
                .unwrap_or(before.billing_anchor_day),
            plan: update.plan.unwrap_or(before.plan),
            modules: update
                .modules
                .clone()
                .unwrap_or_else(|| before.modules.clone()),
            subscription_state: update
                .subscription_state
                .unwrap_or(before.subscription_state),
            monthly_call_limit: update
                .monthly_call_limit
                .unwrap_or(before.monthly_call_limit),
            caps: TenantCaps {
                max_apps: update.max_apps.unwrap_or(before.caps.max_apps),
                max_webhook_endpoints: update
                    .max_webhook_endpoints
                    .unwrap_or(before.caps.max_webhook_endpoints),
                monthly_test_events: update
                    .monthly_test_events
                    .unwrap_or(before.caps.monthly_test_events),
            },
            ..before.clone()
        };
        validate_modules_and_limit(&after.modules, after.monthly_call_limit)?;
        validate_caps(&after.caps)?;
        validate_billing_anchor_day(after.billing_anchor_day)?;
        let mut change = self.gatehouse.begin_change().await?;
        sqlx::query(
            "UPDATE tenants SET plan = $1, modules = $2, subscription_state = $3,
                monthly_call_limit = $4, max_apps = $5, max_webhook_endpoints = $6,
                monthly_test_events = $7,
                name = CASE WHEN live_tenant_id IS NULL THEN $9 ELSE $10 END,
                suspended = $11, billing_anchor_day = $12,
                revision = (SELECT COALESCE(MAX(revision), 0) + 1 FROM tenants)
             WHERE id = $8 OR live_tenant_id = $8",
        )
        .bind(after.plan.as_str())
        .bind(after.modules.join(" "))
        .bind(after.subscription_state.as_str())
        .bind(after.monthly_call_limit)
        .bind(after.caps.max_apps)
        .bind(after.caps.max_webhook_endpoints)
        .bind(after.caps.monthly_test_events)
        .bind(tenant_id.as_str())
        .bind(&after.name)
        .bind(format!("{} (test)", after.name))
        .bind(i64::from(after.suspended))
        .bind(i64::from(after.billing_anchor_day))
        .execute(change.connection())
        .await?;
        let record = AuditRecord {
            before: Some(tenant_state(&before)),
            after: Some(tenant_state(&after)),
            ..AuditRecord::by(
                &self.actor_in(tenant_id),
                EventType::TenantUpdated,
                format!("Tenant {} updated by the operator", before.name),
            )
        };
        change.audit(record).await?;
        change.tenant_changed(tenant_id);
        change.commit().await?;
        Ok(after)
    }

    /// Creates a live tenant and its shadow test tenant in one transaction.
    pub async fn create_tenant(&self, new_tenant: NewTenant) -> Result<TenantId, DomainError> {
        let mut change = self.gatehouse.begin_change().await?;
        let live_id = self.create_tenant_in(&mut change, &new_tenant).await?;
        change.commit().await?;
        Ok(live_id)
    }

    /// Writes a new tenant and its shadow in `change` (not committed).
    pub(crate) async fn create_tenant_in(
        &self,
        change: &mut Change<'_>,
        new_tenant: &NewTenant,
    ) -> Result<TenantId, DomainError> {
        self.require(OperatorScope::TenantsWrite)?;
        validate_new_tenant(new_tenant)?;
        validate_caps(&new_tenant.caps)?;
        let live_id = TenantId::from_body(&ids::fresh_body());
        let test_id = TenantId::from_body(&ids::fresh_body());
        let modules = new_tenant.modules.join(" ");
        let now = change.now_ms;
        if let Some(external_id) = &new_tenant.external_id {
            let taken: Option<(String,)> =
                sqlx::query_as("SELECT id FROM tenants WHERE external_id = $1")
                    .bind(external_id)
                    .fetch_optional(change.connection())
                    .await?;
            if taken.is_some() {
                return Err(DomainError::Conflict(format!(
                    "A tenant with the external_id {external_id} already exists."
                )));
            }
        }
        // The window columns record the month of creation; the current window is
        // always derived from the clock (`Gatehouse::tenant`).
        let (window_start, window_end) = billing_window(now, new_tenant.billing_anchor_day);
        for (id, name, live_tenant_id, external_id) in [
            (
                &live_id,
                new_tenant.name.trim().to_owned(),
                None,
                new_tenant.external_id.as_deref(),
            ),
            (
                &test_id,
                format!("{} (test)", new_tenant.name.trim()),
                Some(live_id.as_str()),
                None,
            ),
        ] {
            sqlx::query(
                "INSERT INTO tenants (id, name, live_tenant_id, plan, modules, subscription_state,
                    monthly_call_limit, billing_window_start, billing_window_end, created_at,
                    max_apps, max_webhook_endpoints, monthly_test_events, external_id,
                    billing_anchor_day)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(id.as_str())
            .bind(name)
            .bind(live_tenant_id)
            .bind(new_tenant.plan.as_str())
            .bind(&modules)
            .bind(new_tenant.subscription_state.as_str())
            .bind(new_tenant.monthly_call_limit)
            .bind(window_start)
            .bind(window_end)
            .bind(now)
            .bind(new_tenant.caps.max_apps)
            .bind(new_tenant.caps.max_webhook_endpoints)
            .bind(new_tenant.caps.monthly_test_events)
            .bind(external_id)
            .bind(i64::from(new_tenant.billing_anchor_day))
            .execute(change.connection())
            .await?;
        }
        let record = AuditRecord::by(
            &self.actor_in(&live_id),
            EventType::TenantCreated,
            format!(
                "Tenant {} created on the {} plan",
                new_tenant.name.trim(),
                new_tenant.plan.as_str()
            ),
        )
        .related("test_tenant_id", &test_id);
        let record = match &new_tenant.external_id {
            Some(external_id) => record.related("external_id", external_id),
            None => record,
        };
        change.audit(record).await?;
        Ok(live_id)
    }

    /// A live tenant's id by its exact name (for the operator's CLI).
    pub async fn tenant_id_by_name(&self, name: &str) -> Result<TenantId, DomainError> {
        let id: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM tenants WHERE name = $1 AND live_tenant_id IS NULL ORDER BY created_at LIMIT 1",
        )
        .bind(name)
        .fetch_optional(self.gatehouse.db().pool())
        .await?;
        let (id,) = id.ok_or(DomainError::NotFound("tenant"))?;
        TenantId::parse(&id).map_err(|error| DomainError::Internal(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_window_covers_the_calendar_month() {
        let mid_december = Utc
            .with_ymd_and_hms(2026, 12, 15, 10, 0, 0)
            .unwrap()
            .timestamp_millis();
        let (start, end) = month_window(mid_december);
        assert_eq!(
            time::from_ms(start).to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(time::from_ms(end).to_rfc3339(), "2027-01-01T00:00:00+00:00");
    }

    #[test]
    fn a_billing_window_runs_from_its_anchor_day_to_the_next() {
        let at = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_millis()
        };
        let window = |now: &str, anchor| {
            let (start, end) = billing_window(at(now), anchor);
            (
                time::from_ms(start).to_rfc3339(),
                time::from_ms(end).to_rfc3339(),
            )
        };
        // Before the 15th: from last month's; on or after: to next month's.
        assert_eq!(
            window("2026-12-10T12:00:00Z", 15),
            (
                "2026-11-15T00:00:00+00:00".to_owned(),
                "2026-12-15T00:00:00+00:00".to_owned()
            )
        );
        assert_eq!(
            window("2026-12-15T00:00:00Z", 15),
            (
                "2026-12-15T00:00:00+00:00".to_owned(),
                "2027-01-15T00:00:00+00:00".to_owned()
            )
        );
        assert_eq!(
            window("2027-01-03T00:00:00Z", 28),
            (
                "2026-12-28T00:00:00+00:00".to_owned(),
                "2027-01-28T00:00:00+00:00".to_owned()
            )
        );
        assert_eq!(
            billing_window(at("2026-12-10T12:00:00Z"), 1),
            month_window(at("2026-12-10T12:00:00Z"))
        );
    }
}
