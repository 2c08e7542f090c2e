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

    /// The state as the dashboard says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Trialing => "Trial",
            Self::Active => "Active",
            Self::PastDue => "Past due",
            Self::Canceled => "Canceled",
        }
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

impl PaywallState {
    /// Whether the tenant's keys can make calls now, as the dashboard says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Calls allowed",
            Self::Locked => "Blocked: the plan does not include the API",
            Self::SubscriptionInactive => "Blocked: the subscription is not active",
            Self::OverLimit => "Blocked: this month's call limit is used up",
        }
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
    /// The session was opened by the SaaS's sign-in link: the workspace is shown inside
    /// the SaaS's page, without Gatehouse's own navigation or sign-out.
    #[serde(default)]
    pub embedded: bool,
    /// The SaaS's origins the workspace tells its height when framed.
    #[serde(default)]
    pub frame_origins: Vec<String>,
    /// The tenant is suspended: the workspace is read-only.
    #[serde(default)]
    pub suspended: bool,
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
    /// The setup guide, from the workspace's real state.
    pub setup_guide: SetupGuide,
}

wire_enum! {
    /// A step of the Overview's setup guide, in the order it is taken.
    pub enum SetupStep {
        CreateApp => "create_app",
        CreateKey => "create_key",
        FirstCall => "first_call",
        AddEndpoint => "add_endpoint",
        FirstDelivery => "first_delivery",
    }
}

/// Where a workspace stands in the setup guide: each step is done when the workspace
/// holds what it asks for (an app, a key, a call made with a key, an endpoint, an event
/// its receiver answered with 2xx).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupGuide {
    pub done: Vec<SetupStep>,
    /// The person dismissed the guide (possible once every step is done).
    pub dismissed: bool,
}

impl SetupGuide {
    pub fn is_done(&self, step: SetupStep) -> bool {
        self.done.contains(&step)
    }

    pub fn is_complete(&self) -> bool {
        SetupStep::ALL.iter().all(|step| self.is_done(*step))
    }
}
