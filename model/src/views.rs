//! Read models and inputs shared by the dashboard, the server functions and the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApiKeyId, AppId, AuditEventId, TenantId, UserId};

/// A user's role in one tenant (SPEC T-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Manager,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Manager => "manager",
            Self::Member => "member",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "owner" => Some(Self::Owner),
            "manager" => Some(Self::Manager),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// The commercial plan of a tenant (SPEC T-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Pro,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Enterprise => "enterprise",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "free" => Some(Self::Free),
            "pro" => Some(Self::Pro),
            "enterprise" => Some(Self::Enterprise),
            _ => None,
        }
    }
}

/// Subscription state of a tenant (SPEC T-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionState {
    Trialing,
    Active,
    PastDue,
    Canceled,
}

impl SubscriptionState {
    /// Whether the subscription lets API keys work (trialing or active).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Trialing | Self::Active)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "trialing" => Some(Self::Trialing),
            "active" => Some(Self::Active),
            "past_due" => Some(Self::PastDue),
            "canceled" => Some(Self::Canceled),
            _ => None,
        }
    }
}

/// Whether the tenant may make platform calls right now (SPEC O-1, U-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaywallState {
    /// Calls are allowed.
    Open,
    /// `platform.api` is not enabled on the plan.
    Locked,
    /// The subscription is past due or canceled.
    SubscriptionInactive,
    /// The monthly platform-call limit is used up.
    OverLimit,
}

impl PaywallState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Locked => "locked",
            Self::SubscriptionInactive => "subscription_inactive",
            Self::OverLimit => "over_limit",
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
    /// Owners and managers see Settings > Developers (SPEC T-4).
    pub can_open_developers: bool,
    /// The tenant's plan includes `platform.api`.
    pub platform_api_enabled: bool,
}

/// An app as the dashboard and the API show it (SPEC A-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    pub id: AppId,
    pub name: String,
    pub description: String,
    pub allowed_origins: Vec<String>,
    /// The shadow test tenant that this app's test-mode data belongs to.
    pub test_tenant_id: TenantId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a user types to create or edit an app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// What can be changed on an app; a field left out (`None`) keeps its value, so
/// `PATCH /v1/apps/{id}` sends only changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
}

impl From<AppInput> for AppUpdate {
    fn from(input: AppInput) -> Self {
        Self {
            name: Some(input.name),
            description: Some(input.description),
            allowed_origins: Some(input.allowed_origins),
        }
    }
}

/// The Apps tab: every app of the tenant and the user's selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppsPage {
    pub apps: Vec<AppView>,
    pub selected_app_id: Option<AppId>,
}

/// The Overview tab (SPEC O-1).
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
    /// Keys that expire within the next 7 days, soonest first (SPEC K-10).
    pub expiring_keys: Vec<ExpiringKey>,
    pub selected_app: Option<AppView>,
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

/// Who did something recorded in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    User,
    ApiKey,
    System,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::ApiKey => "api_key",
            Self::System => "system",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::User, Self::ApiKey, Self::System]
            .into_iter()
            .find(|candidate| candidate.as_str() == value)
    }
}

/// One line of the audit trail as the Integration logs show it (SPEC L-1, L-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub id: AuditEventId,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: ActorType,
    pub actor_id: Option<String>,
    /// Human-readable actor, shown as the log's source.
    pub actor_label: String,
    pub event_type: String,
    pub message: Option<String>,
    pub app_id: Option<AppId>,
}

/// `GET /health` (SPEC X-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub checked_at: DateTime<Utc>,
    pub version: String,
}

/// `secret` keys have full access; `restricted` keys carry explicit scopes (SPEC K-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    Secret,
    Restricted,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Restricted => "restricted",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "secret" => Some(Self::Secret),
            "restricted" => Some(Self::Restricted),
            _ => None,
        }
    }
}

/// Live keys touch live data; test keys only the shadow test tenant's (SPEC T-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    Live,
    Test,
}

impl KeyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// A key's status (SPEC K-6); `expired` is derived from `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Enabled,
    Disabled,
    Revoked,
    Expired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// What a user (or a client of `/v1/api-keys`) gives to create a key.
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
    #[serde(default)]
    pub expiry_days: Option<i64>,
}

/// An API key as lists and details show it; never the secret.
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
    /// When the key last made an authenticated call, from the usage counters (SPEC U-4).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Keys expiring within this many days are flagged in the list and on the Overview
/// (SPEC K-10).
pub const EXPIRY_WARNING_DAYS: i64 = 7;

impl ApiKeyView {
    /// Whether the key expires within the next [`EXPIRY_WARNING_DAYS`].
    pub fn expires_within_a_week(&self, now: DateTime<Utc>) -> bool {
        self.status != KeyStatus::Revoked
            && self.expires_at.is_some_and(|at| {
                at > now && at <= now + chrono::Duration::days(EXPIRY_WARNING_DAYS)
            })
    }
}

/// A row of the keys list: the key and its calls in the last 24 hours (SPEC K-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyListItem {
    #[serde(flatten)]
    pub key: ApiKeyView,
    pub successes_24h: i64,
    pub failures_24h: i64,
    /// Expires within the next 7 days.
    pub expiring_soon: bool,
}

/// The API keys tab: the selected app, its keys and the scope catalog for the picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysPage {
    /// `None` when the user has not selected (or created) an app yet.
    pub app: Option<AppView>,
    pub keys: Vec<ApiKeyListItem>,
    pub catalog: ScopeCatalog,
}

/// `POST /v1/auth/token` (SPEC X-4): a short-lived token with the key's scopes.
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

/// The create (or rotate) answer: the only time the plaintext is returned (SPEC K-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    pub plaintext: String,
}

/// What can be edited on a key (SPEC K-7); scopes only on restricted keys. A field
/// left out (`None`) keeps its value, so `PATCH /v1/api-keys/{id}` sends only changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

/// How long a rotated-out secret keeps working (SPEC K-8). The default, in the
/// dashboard and the API alike, is 24 hours: time to deploy the new secret.
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
}

/// `POST /v1/keys/verify` (SPEC X-3): a customer's key, and optionally the scope needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyKeyRequest {
    pub key: String,
    #[serde(default)]
    pub scope: Option<String>,
}

/// The verdict codes of `POST /v1/keys/verify` (SPEC X-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifyCode {
    Valid,
    NotFound,
    Disabled,
    Revoked,
    Expired,
    InsufficientScope,
    UsageExceeded,
    /// The key's tenant does not have the `platform.api` module.
    PlatformApiDisabled,
    /// The key's tenant's subscription is past due or canceled.
    SubscriptionInactive,
}

/// The verdict on a key: valid or not, with a code, and who the key is when valid.
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

/// Which kind of credential a call presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// The key's own secret (`sk_…` or `rk_…`).
    Secret,
    /// A short-lived access token exchanged for a secret (`at_…`).
    AccessToken,
}

/// `GET /v1/whoami` (SPEC X-8): the calling credential, from the key alone.
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

/// One capability area of the scope picker: read and/or write (SPEC K-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeArea {
    pub id: String,
    pub label: String,
    /// `read`, `write` (or `manage`), in the order the picker shows them.
    pub access: Vec<String>,
}

impl ScopeArea {
    /// The area's scopes, e.g. `imports:read`, `imports:write`.
    pub fn scopes(&self) -> impl Iterator<Item = String> + '_ {
        self.access
            .iter()
            .map(|access| format!("{}:{access}", self.id))
    }
}

/// The scope catalog: areas, the default pre-selection and the event families. Data
/// the operator can replace with a file of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeCatalog {
    pub areas: Vec<ScopeArea>,
    pub default_scopes: Vec<String>,
    pub event_families: Vec<String>,
}

impl ScopeCatalog {
    /// Whether the catalog lists `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.areas
            .iter()
            .any(|area| area.scopes().any(|known| known == scope))
    }
}
