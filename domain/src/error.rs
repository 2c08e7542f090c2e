//! The one error type of the domain boundary, with a stable code for each case.

use gatehouse_model::{ErrorCode, ErrorDetail, ErrorDetails, FieldError};

use crate::access::Permission;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("not signed in")]
    Unauthenticated,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("too many failed sign-ins")]
    SignInThrottled { retry_after_seconds: u64 },
    #[error("too many sign-ins at once")]
    SignInBusy { retry_after_seconds: u64 },
    #[error("missing permission {0}")]
    PermissionDenied(Permission),
    #[error("platform.api is not enabled")]
    ModuleNotEnabled,
    #[error("API key refused: {0:?}")]
    KeyRefused(KeyRefusal),
    #[error("missing scope {0}")]
    InsufficientScope(&'static str),
    /// A key tried to create, widen or take over a key stronger than itself.
    #[error("a key cannot manage a key with more access than its own")]
    KeyOutranked,
    /// A rate-limited key tried to create or manage a key limited more loosely.
    #[error("a rate-limited key cannot manage a key with a looser limit")]
    KeyOutpaced(gatehouse_model::KeyRateLimit),
    /// A key or token tried to create or manage a key that outlives it.
    #[error("a credential cannot create or manage a key that outlives it")]
    KeyOutlived { ends_at_ms: i64 },
    /// This kind of credential may not do this at all (the message says why).
    #[error("credential not allowed: {0}")]
    CredentialNotAllowed(&'static str),
    #[error("the tenant's subscription is not active")]
    SubscriptionInactive,
    /// The tenant is suspended: keys refused, the dashboard read-only.
    #[error("the tenant is suspended")]
    TenantSuspended,
    /// A call to `/operator/v1` without an operator token.
    #[error("operator token missing")]
    OperatorTokenMissing,
    /// An operator token that is malformed, unknown or revoked.
    #[error("operator token refused")]
    OperatorTokenInvalid,
    /// An idempotency key sent again with another request.
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    /// A browser call from an origin the key's app does not allow.
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// A bound on how many of something may exist at once.
    #[error("limit reached: {0}")]
    LimitReached(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A live call over the tenant's monthly limit.
    #[error("monthly platform-call limit reached")]
    UsageExceeded(gatehouse_model::LimitStatus),
    /// A call over the key's own rate limit.
    #[error("the key's rate limit was reached")]
    RateLimited(gatehouse_model::LimitStatus),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// Whether the database refused a value the statement carried: a constraint it
    /// checks, or on PostgreSQL a data exception (SQLSTATE class 22, such as a NUL in
    /// text). Written again, the same rows are refused again; written apart, the others
    /// go through. (A database out of reach, or a missing table, is not this.)
    pub(crate) fn is_refused_value(&self) -> bool {
        let Self::Database(sqlx::Error::Database(error)) = self else {
            return false;
        };
        !matches!(error.kind(), sqlx::error::ErrorKind::Other)
            || error.code().is_some_and(|code| code.starts_with("22"))
    }

    /// One field's validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::SignInThrottled { .. } | Self::SignInBusy { .. } => ErrorCode::SignInThrottled,
            Self::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Self::ModuleNotEnabled => ErrorCode::ModuleNotEnabled,
            Self::KeyRefused(refusal) => refusal.code(),
            Self::InsufficientScope(_)
            | Self::KeyOutranked
            | Self::KeyOutpaced(_)
            | Self::KeyOutlived { .. } => ErrorCode::InsufficientScope,
            Self::CredentialNotAllowed(_) => ErrorCode::CredentialNotAllowed,
            Self::SubscriptionInactive => ErrorCode::SubscriptionInactive,
            Self::TenantSuspended => ErrorCode::TenantSuspended,
            Self::OperatorTokenMissing => ErrorCode::OperatorTokenMissing,
            Self::OperatorTokenInvalid => ErrorCode::OperatorTokenInvalid,
            Self::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            Self::OriginNotAllowed => ErrorCode::OriginNotAllowed,
            Self::LimitReached(_) => ErrorCode::LimitReached,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::UsageExceeded(_) => ErrorCode::UsageExceeded,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::Database(_) | Self::Migration(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Whether this is our fault (logged with its cause, answered as a bare 500).
    pub fn is_internal(&self) -> bool {
        self.code() == ErrorCode::Internal
    }

    /// What a client may see: never a database message.
    pub fn to_detail(&self) -> ErrorDetail {
        let mut details = ErrorDetails::default();
        let message = match self {
            Self::NotFound(what) => format!("No such {what}."),
            Self::Validation(fields) => {
                details.fields = fields.clone();
                "Some fields need attention.".to_owned()
            }
            Self::Unauthenticated => "Sign in to continue.".to_owned(),
            Self::InvalidCredentials => "Invalid email or password.".to_owned(),
            Self::SignInThrottled {
                retry_after_seconds,
            } => {
                details.retry_after_seconds = Some(*retry_after_seconds);
                "Too many failed sign-in attempts. Try again later.".to_owned()
            }
            Self::SignInBusy {
                retry_after_seconds,
            } => {
                details.retry_after_seconds = Some(*retry_after_seconds);
                "Too many sign-ins at once. Try again in a few seconds.".to_owned()
            }
            Self::PermissionDenied(permission) => {
                format!(
                    "Your role does not have the {} permission.",
                    permission.as_str()
                )
            }
            Self::ModuleNotEnabled => {
                "The Developers workspace needs the platform.api module (Pro plan).".to_owned()
            }
            Self::KeyRefused(refusal) => refusal.message().to_owned(),
            Self::InsufficientScope(scope) => {
                details.required_scope = Some((*scope).to_owned());
                format!("This credential lacks the {scope} scope.")
            }
            Self::KeyOutranked => {
                "An API key can only create or manage keys whose access it holds itself.".to_owned()
            }
            Self::KeyOutpaced(own) => format!(
                "This key is limited to {} requests per {}; it can only create or manage keys limited at least as tightly.",
                own.requests,
                own.per.as_str()
            ),
            Self::KeyOutlived { ends_at_ms } => format!(
                "This credential works until {}; it cannot create or manage a key that works longer.",
                crate::time::from_ms(*ends_at_ms)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Self::CredentialNotAllowed(why) => (*why).to_owned(),
            Self::SubscriptionInactive => {
                "The subscription is past due: API keys work again once it is active.".to_owned()
            }
            Self::TenantSuspended => {
                "This workspace is suspended: API keys are refused and nothing can be changed until the suspension is lifted. Nothing is lost meanwhile."
                    .to_owned()
            }
            Self::OperatorTokenMissing => {
                "Send an operator token: `Authorization: Bearer op_…`.".to_owned()
            }
            Self::OperatorTokenInvalid => {
                "This operator token is not valid: it is malformed, unknown or revoked.".to_owned()
            }
            Self::IdempotencyKeyReused => {
                "This Idempotency-Key was used with another request body; use a new key for a new request."
                    .to_owned()
            }
            Self::OriginNotAllowed => {
                "This origin is not among the app's allowed origins.".to_owned()
            }
            Self::LimitReached(message) => message.clone(),
            Self::Conflict(message) => message.clone(),
            Self::UsageExceeded(status) => {
                details.retry_after_seconds = Some(status.reset_seconds.unsigned_abs());
                format!(
                    "The monthly limit of {} platform calls is used up; it resets when the billing window ends.",
                    status.limit
                )
            }
            Self::RateLimited(status) => {
                details.retry_after_seconds = Some(status.reset_seconds.unsigned_abs());
                format!(
                    "This key may make {} requests per {}; wait for the next window.",
                    status.limit,
                    if status.window_seconds == 1 {
                        "second"
                    } else {
                        "minute"
                    }
                )
            }
            Self::Database(_) | Self::Migration(_) | Self::Internal(_) => {
                "Something went wrong on our side.".to_owned()
            }
        };
        ErrorDetail {
            code: self.code(),
            message,
            details,
        }
    }
}

/// Why a presented key was refused without a look-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedKey {
    UnknownPrefix,
    WrongLength,
    BadCharacter,
    ChecksumMismatch,
}

/// Why a presented key does not authenticate; each has its own stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    Missing,
    Malformed(MalformedKey),
    Unknown,
    Disabled,
    Revoked,
    Expired,
}

impl KeyRefusal {
    pub fn code(self) -> ErrorCode {
        match self {
            Self::Missing => ErrorCode::ApiKeyMissing,
            Self::Malformed(_) => ErrorCode::ApiKeyMalformed,
            Self::Unknown => ErrorCode::ApiKeyUnknown,
            Self::Disabled => ErrorCode::ApiKeyDisabled,
            Self::Revoked => ErrorCode::ApiKeyRevoked,
            Self::Expired => ErrorCode::ApiKeyExpired,
        }
    }

    /// What the client is told; never echoes the key.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => {
                "Send an API key: `Authorization: Bearer <key>` or the `x-api-key` header."
            }
            Self::Malformed(_) => {
                "This is not a valid API key: check that it was copied whole, without typos."
            }
            Self::Unknown => "No such API key.",
            Self::Disabled => "This API key is disabled.",
            Self::Revoked => "This API key has been revoked.",
            Self::Expired => "This API key (or access token) has expired.",
        }
    }
}
