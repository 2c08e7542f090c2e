//! Limits on calls and the usage they are measured against: the tenant's monthly quota
//! and a key's optional rate limit, as the `RateLimit` headers and 429 answers report
//! them, the per-day usage report, and a key's activity chart.

use serde::{Deserialize, Serialize};

use crate::ids::{ApiKeyId, AppId};

wire_enum! {
    /// Which limit a status is about; also the policy's name in the `RateLimit` headers.
    pub enum LimitPolicy {
        /// The tenant's monthly platform-call limit (live calls only).
        Monthly => "monthly",
        /// The calling key's own rate limit.
        Key => "key",
    }
}

wire_enum! {
    /// The window a key's rate limit counts requests in.
    pub enum RatePeriod {
        Second => "second",
        Minute => "minute",
    }
}

impl RatePeriod {
    pub fn seconds(self) -> i64 {
        match self {
            Self::Second => 1,
            Self::Minute => 60,
        }
    }
}

/// A key's optional rate limit: at most `requests` calls per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyRateLimit {
    #[serde(deserialize_with = "crate::whole_number::value")]
    pub requests: i64,
    pub per: RatePeriod,
}

impl KeyRateLimit {
    /// The most requests a key may make per hour under it, to compare two limits.
    pub fn requests_per_hour(self) -> i64 {
        self.requests.saturating_mul(3_600 / self.per.seconds())
    }
}

/// Where a call stands against one limit, as the IETF `RateLimit-Policy` and
/// `RateLimit` headers say it: `q` (`limit`) per `w` (`window_seconds`), `r`
/// (`remaining`) left, reset in `t` (`reset_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitStatus {
    pub policy: LimitPolicy,
    pub limit: i64,
    pub window_seconds: i64,
    pub remaining: i64,
    pub reset_seconds: i64,
}

/// What `GET /v1/usage` and the Usage tab ask for: a window of days (UTC, `from`
/// and `to` both included, `YYYY-MM-DD`; the current billing window when left out),
/// for the tenant, one app or one key, in one mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// The first day (`YYYY-MM-DD`, UTC).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(format = Date))]
    pub from: Option<String>,
    /// The last day (`YYYY-MM-DD`, UTC).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(format = Date))]
    pub to: Option<String>,
    #[serde(default)]
    pub app_id: Option<AppId>,
    #[serde(default)]
    pub key_id: Option<ApiKeyId>,
    /// `live` when left out (a key always reads its own mode).
    #[serde(default)]
    pub mode: Option<super::KeyMode>,
}

/// One day's platform calls, split by outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub successes: i64,
    pub failures: i64,
}

/// Calls per day over a window: every day of it, days without calls as zeros.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageReport {
    pub from: String,
    pub to: String,
    pub mode: super::KeyMode,
    pub app_id: Option<AppId>,
    pub key_id: Option<ApiKeyId>,
    pub days: Vec<UsageDay>,
    pub total_successes: i64,
    pub total_failures: i64,
}

/// What the Usage tab shows beside the plan: the report of the current billing window
/// for the tenant, or for the selected app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsagePage {
    /// The selected app, when the report is about it.
    pub app: Option<super::AppView>,
    pub report: UsageReport,
}

/// One bar of a key's activity: an hour, or a UTC day, from `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySlot {
    pub start: chrono::DateTime<chrono::Utc>,
    pub successes: i64,
    /// Failed calls, and calls refused before they ran (the key disabled, revoked or
    /// expired, a limit), as the key's counts and its Logs show them.
    pub failures: i64,
}

/// A key's calls per hour over the last 24 hours and per UTC day over the last 30 days,
/// oldest first, every slot present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyActivity {
    pub key_id: ApiKeyId,
    pub hours: Vec<ActivitySlot>,
    pub days: Vec<ActivitySlot>,
}
