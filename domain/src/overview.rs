//! The Overview tab: plan, paywall state, this month's platform calls,
//! counts, and the selected app.

use gatehouse_model::{Overview, PaywallState, SubscriptionState};

use crate::access::Access;
use crate::actor::Actor;
use crate::error::DomainError;
use crate::tenants::{PLATFORM_API_MODULE, Tenant};
use crate::{Gatehouse, time};

/// Whether a tenant may make platform calls, and if not, why (the first reason wins).
pub fn paywall_state(tenant: &Tenant, calls_used: i64) -> PaywallState {
    if !tenant.has_module(PLATFORM_API_MODULE) {
        PaywallState::Locked
    } else if matches!(
        tenant.subscription_state,
        SubscriptionState::PastDue | SubscriptionState::Canceled
    ) {
        PaywallState::SubscriptionInactive
    } else if calls_used >= tenant.monthly_call_limit {
        PaywallState::OverLimit
    } else {
        PaywallState::Open
    }
}

/// `YYYY-MM-DD` of a stored time, as usage rows key their day.
pub fn usage_day(ms: i64) -> String {
    time::from_ms(ms).format("%Y-%m-%d").to_string()
}

impl Gatehouse {
    /// Live platform calls counted in the tenant's current billing window.
    pub async fn monthly_calls_used(&self, tenant: &Tenant) -> Result<i64, DomainError> {
        let (used,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(successes + failures), 0) AS BIGINT) FROM usage_daily_rollup
             WHERE tenant_id = $1 AND mode = 'live' AND app_id = '' AND day >= $2 AND day < $3",
        )
        .bind(tenant.id.as_str())
        .bind(usage_day(tenant.billing_window_start_ms))
        .bind(usage_day(tenant.billing_window_end_ms))
        .fetch_one(self.db().pool())
        .await?;
        Ok(used)
    }

    pub async fn overview(&self, actor: &Actor) -> Result<Overview, DomainError> {
        actor.require(Access::APPS_READ)?;
        let tenant = self.tenant(&actor.tenant_id).await?;
        let monthly_calls_used = self.monthly_calls_used(&tenant).await?;
        let selected_app = match self.selected_app_id(actor).await? {
            Some(app_id) => Some(self.app(actor, &app_id).await?),
            None => None,
        };
        Ok(Overview {
            tenant_name: tenant.name.clone(),
            plan: tenant.plan,
            subscription_state: tenant.subscription_state,
            paywall_state: paywall_state(&tenant, monthly_calls_used),
            platform_api_enabled: tenant.has_module(PLATFORM_API_MODULE),
            monthly_call_limit: tenant.monthly_call_limit,
            monthly_calls_used,
            billing_window_start: time::from_ms(tenant.billing_window_start_ms),
            billing_window_end: time::from_ms(tenant.billing_window_end_ms),
            app_count: self.app_count(&tenant.id).await?,
            api_key_count: self.api_key_count(&tenant.id).await?,
            webhook_endpoint_count: self.webhook_endpoint_count(&tenant.id).await?,
            expiring_keys: self.expiring_keys(&tenant.id).await?,
            selected_app,
            setup_guide: self.setup_guide(actor).await?,
        })
    }
}
