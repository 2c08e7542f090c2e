//! API keys and the credentials made from them: what is sent to create or change a key,
//! how a key is shown (never its secret), access tokens, verification and whoami.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppView, KeyRateLimit, ScopeCatalog};
use crate::ids::{ApiKeyId, AppId, TenantId};

wire_enum! {
    /// `secret` keys have full access; `restricted` keys carry explicit scopes.
    pub enum KeyType {
        Secret => "secret",
        Restricted => "restricted",
    }
}

wire_enum! {
    /// Live keys touch live data; test keys only the shadow test tenant's.
    pub enum KeyMode {
        Live => "live",
        Test => "test",
    }
}

wire_enum! {
    /// A key's status; `revoked` is for good, and `expired` is derived from `expires_at`.
    pub enum KeyStatus {
        Enabled => "enabled",
        Disabled => "disabled",
        Revoked => "revoked",
        Expired => "expired",
    }
}

/// What a user (or a client of `/v1/api-keys`) gives to create a key.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    /// The app the key belongs to; an API key creating keys may leave it out (its own).
    #[serde(default)]
    pub app_id: Option<AppId>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub mode: KeyMode,
    pub key_type: KeyType,
    /// Required for restricted keys; must be empty for secret keys.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// An exact expiry; `None` with no `expiry_days` is never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// The chosen expiry length in days (what the dashboard sends): the server sets
    /// `expires_at` from it, and a duplicate gets the same length.
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub expiry_days: Option<i64>,
    /// An optional rate limit for the key; none when left out.
    #[serde(default)]
    pub rate_limit: Option<KeyRateLimit>,
}

/// An API key as lists and details show it; never the secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub app_id: AppId,
    pub name: String,
    pub description: String,
    pub mode: KeyMode,
    pub key_type: KeyType,
    /// `None` means full access (secret and legacy keys).
    pub scopes: Option<Vec<String>>,
    /// Masked, e.g. `sk_live_AbC1…`.
    pub masked_key: String,
    pub status: KeyStatus,
    pub expires_at: Option<DateTime<Utc>>,
    pub expiry_days: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// When the key last made an authenticated call, from the usage counters.
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key's own rate limit, if it has one.
    #[serde(default)]
    pub rate_limit: Option<KeyRateLimit>,
}

impl ApiKeyView {
    /// Whether the key expires within the next [`EXPIRY_WARNING_DAYS`].
    pub fn expires_within_a_week(&self, now: DateTime<Utc>) -> bool {
        self.status != KeyStatus::Revoked
            && self.expires_at.is_some_and(|at| {
                at > now && at <= now + chrono::Duration::days(EXPIRY_WARNING_DAYS)
            })
    }
}

/// Keys expiring within this many days are flagged in the list and on the Overview.
pub const EXPIRY_WARNING_DAYS: i64 = 7;

/// A row of the keys list: the key and its calls in the last 24 hours.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyListItem {
    #[serde(flatten)]
    pub key: ApiKeyView,
    pub successes_24h: i64,
    pub failures_24h: i64,
    /// Expires within the next 7 days.
    pub expiring_soon: bool,
    /// After a rotation with an overlap: until when the previous secret still works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<DateTime<Utc>>,
}

/// The API keys tab: the selected app, its keys and the scope catalog for the picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysPage {
    /// `None` when the user has not selected (or created) an app yet.
    pub app: Option<AppView>,
    pub keys: Vec<ApiKeyListItem>,
    pub catalog: ScopeCatalog,
}

/// A key about to expire, as the Overview warns of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringKey {
    pub id: ApiKeyId,
    pub name: String,
    pub masked_key: String,
    pub app_name: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /v1/auth/token`: a short-lived token with the key's scopes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token stops working.
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    /// `null` is full access, as the key's.
    pub scopes: Option<Vec<String>>,
}

/// The create (or rotate) answer: the only time the plaintext is returned.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    pub plaintext: String,
}

/// What can be edited on a key; scopes only on restricted keys. A field
/// left out (`None`) keeps its value, so `PATCH /v1/api-keys/{id}` sends only changes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// A new rate limit; `null` removes it, left out keeps it.
    #[serde(default, deserialize_with = "present")]
    pub rate_limit: Option<Option<KeyRateLimit>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// How long a rotated-out secret keeps working. The default, in the
/// dashboard and the API alike, is 24 hours: time to deploy the new secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RotationOverlap {
    #[serde(rename = "now")]
    Now,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "24h")]
    #[default]
    OneDay,
    #[serde(rename = "7d")]
    SevenDays,
}

impl RotationOverlap {
    pub fn seconds(self) -> i64 {
        match self {
            Self::Now => 0,
            Self::OneHour => 3_600,
            Self::OneDay => 86_400,
            Self::SevenDays => 7 * 86_400,
        }
    }

    /// What the overlap means for the previous secret, as the dashboard and the audit
    /// trail say it.
    pub fn consequence(self) -> &'static str {
        match self {
            Self::Now => "The previous secret stopped working now.",
            Self::OneHour => "The previous secret keeps working for 1 hour.",
            Self::OneDay => "The previous secret keeps working for 24 hours.",
            Self::SevenDays => "The previous secret keeps working for 7 days.",
        }
    }
}

/// `POST /v1/keys/verify`: a customer's key, and optionally the scope needed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyKeyRequest {
    pub key: String,
    #[serde(default)]
    pub scope: Option<String>,
}

wire_enum! {
    /// The verdict codes of `POST /v1/keys/verify`.
    pub enum VerifyCode {
        Valid => "VALID",
        NotFound => "NOT_FOUND",
        Disabled => "DISABLED",
        Revoked => "REVOKED",
        Expired => "EXPIRED",
        InsufficientScope => "INSUFFICIENT_SCOPE",
        /// A live key of a tenant over its monthly platform-call limit.
        UsageExceeded => "USAGE_EXCEEDED",
        /// The key's own rate limit was reached.
        RateLimited => "RATE_LIMITED",
        /// The key's tenant does not have the `platform.api` module.
        PlatformApiDisabled => "PLATFORM_API_DISABLED",
        /// The key's tenant's subscription is past due.
        SubscriptionInactive => "SUBSCRIPTION_INACTIVE",
        /// The key's tenant is suspended (by the operator, or canceled).
        TenantSuspended => "TENANT_SUSPENDED",
    }
}

/// The verdict on a key: valid or not, with a code, and who the key is when valid.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyKeyResponse {
    pub valid: bool,
    pub code: VerifyCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<ApiKeyId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<AppId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<KeyMode>,
    /// `null` with a valid key means full access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Live platform calls left in the billing window (test keys: not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_quota: Option<i64>,
}

wire_enum! {
    /// Which kind of credential a call presented.
    pub enum CredentialKind {
        /// The key's own secret (`sk_…` or `rk_…`).
        Secret => "secret",
        /// A short-lived access token exchanged for a secret (`at_…`).
        AccessToken => "access_token",
    }
}

/// `GET /v1/whoami`: the calling credential, from the key alone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub key_id: ApiKeyId,
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub mode: KeyMode,
    /// `null` is full access.
    pub scopes: Option<Vec<String>>,
    pub credential: CredentialKind,
    /// When this credential stops working (the earlier of the key's expiry and the
    /// token's or rotated-out secret's end); `null` for never.
    pub expires_at: Option<DateTime<Utc>>,
}
