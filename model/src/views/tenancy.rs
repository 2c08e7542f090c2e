//! Tenants and the people in them: roles, plans, subscription and paywall state, who is
//! signed in, and the Overview tab.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppView, ExpiringKey};
use crate::ids::{TenantId, UserId};

wire_enum! {
    /// A user's role in one tenant.
    pub enum Role {
        Owner => "owner",
        Manager => "manager",
        Member => "member",
    }
}

wire_enum! {
    /// The commercial plan of a tenant.
    pub enum Plan {
        Free => "free",
        Pro => "pro",
        Enterprise => "enterprise",
    }
}

wire_enum! {
    /// Subscription state of a tenant.
    pub enum SubscriptionState {
        Trialing => "trialing",
        Active => "active",
        PastDue => "past_due",
        Canceled => "canceled",
    }
}

impl SubscriptionState {
    /// Whether the subscription lets API keys work (trialing or active).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Trialing | Self::Active)
    }
}

wire_enum! {
    /// Whether the tenant may make platform calls right now, as the Overview shows it.
    pub enum PaywallState {
        /// Calls are allowed.
        Open => "open",
        /// `platform.api` is not enabled on the plan.
        Locked => "locked",
        /// The subscription is past due or canceled.
        SubscriptionInactive => "subscription_inactive",
        /// The monthly platform-call limit is used up.
        OverLimit => "over_limit",
    }
}

/// Who is signed in, and what the dashboard may show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: UserId,
    pub email: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub role: Role,
    /// Owners and managers see Settings > Developers.
    pub can_open_developers: bool,
    /// The tenant's plan includes `platform.api`.
    pub platform_api_enabled: bool,
}

/// The Overview tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub tenant_name: String,
    pub plan: Plan,
    pub subscription_state: SubscriptionState,
    pub paywall_state: PaywallState,
    pub platform_api_enabled: bool,
    pub monthly_call_limit: i64,
    pub monthly_calls_used: i64,
    pub billing_window_start: DateTime<Utc>,
    pub billing_window_end: DateTime<Utc>,
    pub app_count: i64,
    /// Keys that are not revoked, across the tenant's apps.
    pub api_key_count: i64,
    /// Webhook endpoints across the tenant's apps.
    #[serde(default)]
    pub webhook_endpoint_count: i64,
    /// Keys that expire within the next 7 days, soonest first.
    pub expiring_keys: Vec<ExpiringKey>,
    pub selected_app: Option<AppView>,
}
