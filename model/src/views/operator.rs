//! The operator's API (`/operator/v1`): what the SaaS's backend sends and is answered
//! when it provisions tenants and people, asks for one-time sign-in links and posts
//! events for a tenant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{KeyMode, Plan, Role, SubscriptionState};
use crate::ids::{AppId, OperatorTokenId, TenantId, UserId};

wire_enum! {
    /// What an operator token may do on `/operator/v1`.
    pub enum OperatorScope {
        TenantsRead => "tenants:read",
        TenantsWrite => "tenants:write",
        TenantsDelete => "tenants:delete",
        PeopleWrite => "people:write",
        SignInLinksCreate => "sign_in_links:create",
        EventsWrite => "events:write",
    }
}

impl OperatorScope {
    /// What a token made without `--scopes` holds: everything but deleting tenants.
    pub fn default_set() -> Vec<Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(|scope| *scope != Self::TenantsDelete)
            .collect()
    }
}

/// An operator token as `list-operator-tokens` shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorTokenView {
    pub id: OperatorTokenId,
    pub name: String,
    pub scopes: Vec<OperatorScope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /operator/v1/tenants`: a tenant for one of the SaaS's accounts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorTenantInput {
    /// The name people see in the workspace.
    pub name: String,
    /// The SaaS's own id of the account: unique across tenants, 1 to 200 printable
    /// characters.
    pub external_id: String,
    /// `pro` when left out.
    #[serde(default)]
    pub plan: Option<Plan>,
    /// Enabled modules; `["platform.api"]` when left out.
    #[serde(default)]
    pub modules: Option<Vec<String>>,
    /// `active` when left out.
    #[serde(default)]
    pub subscription_state: Option<SubscriptionState>,
    /// Live platform calls a billing window; the plan's default when left out.
    #[serde(default)]
    pub monthly_call_limit: Option<i64>,
    /// The day of the month (1 to 28) the billing window starts, at 00:00 UTC, as you
    /// bill the account; 1 (the calendar month) when left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 28))]
    pub billing_anchor_day: Option<u32>,
}

/// `PATCH /operator/v1/tenants/{id}`: only the fields sent change.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorTenantUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub plan: Option<Plan>,
    #[serde(default)]
    pub modules: Option<Vec<String>>,
    #[serde(default)]
    pub subscription_state: Option<SubscriptionState>,
    #[serde(default)]
    pub monthly_call_limit: Option<i64>,
    /// `true` suspends the tenant: its keys are refused (`tenant_suspended`), its
    /// webhook deliveries wait and its dashboard is read-only; `false` lifts it and
    /// everything is as it was. A canceled subscription suspends it too.
    #[serde(default)]
    pub suspended: Option<bool>,
    /// The day of the month (1 to 28) the billing window starts.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 28))]
    pub billing_anchor_day: Option<u32>,
}

/// A tenant as the operator's API shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorTenantView {
    pub id: TenantId,
    /// The SaaS's own id of the account; `null` for tenants made by the CLI.
    pub external_id: Option<String>,
    pub name: String,
    pub plan: Plan,
    pub modules: Vec<String>,
    pub subscription_state: SubscriptionState,
    pub monthly_call_limit: i64,
    /// Suspended, by the operator or by a canceled subscription.
    pub suspended: bool,
    /// The day of the month the billing window starts (1: the calendar month).
    pub billing_anchor_day: u32,
    /// The current billing window.
    pub billing_window_start: DateTime<Utc>,
    pub billing_window_end: DateTime<Utc>,
    /// The shadow tenant that holds the tenant's test-mode data.
    pub test_tenant_id: TenantId,
}

/// `GET /operator/v1/tenants`: a page, or the one tenant of an `external_id`.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorTenantQuery {
    /// Only the tenant with this `external_id`.
    #[serde(default)]
    pub external_id: Option<String>,
    /// 1 to 100; 100 when left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(pattern = "^ten_[0-9a-hjkmnp-tv-z]{26}$"))]
    pub cursor: Option<String>,
}

wire_enum! {
    /// Where a tenant's purge stands.
    pub enum PurgeState {
        Running => "running",
        Finished => "finished",
    }
}

/// The record of a deleted tenant's purge: it outlives the tenant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantPurgeView {
    pub tenant_id: TenantId,
    pub external_id: Option<String>,
    pub name: String,
    /// `operator:<token name>`, or `cli`.
    pub requested_by: String,
    pub state: PurgeState,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Rows removed so far, by table.
    pub removed: std::collections::BTreeMap<String, i64>,
    pub total_removed: i64,
}

/// `POST /operator/v1/tenants/{id}/people`: a person of the SaaS, added or updated by
/// email.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub email: String,
    /// The name the workspace shows; kept as it was when left out.
    #[serde(default)]
    pub name: Option<String>,
    pub role: Role,
}

/// A person in a tenant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub added_at: DateTime<Utc>,
}

/// `POST /operator/v1/tenants/{id}/sign-in-links`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInLinkInput {
    /// Who signs in: added to the tenant, or updated, when the link is opened.
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub role: Role,
    /// The workspace page to land on, e.g. `/settings/developers/keys`; the Overview
    /// when left out. Only paths of the workspace are taken.
    #[serde(default)]
    pub path: Option<String>,
    /// How long the link may wait to be opened: 60 when left out, 1 to 600.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 600))]
    pub ttl_seconds: Option<i64>,
}

/// A one-time sign-in link: hand `url` to the person's browser (or a frame) now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInLinkView {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /operator/v1/tenants/{id}/events`: an event of one of the tenant's apps,
/// without that tenant's key.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorEventInput {
    /// The app whose endpoints receive the event.
    pub app_id: AppId,
    /// `live` when left out.
    #[serde(default)]
    pub mode: Option<KeyMode>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: serde_json::Value,
}
