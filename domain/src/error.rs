//! The one error type of the domain boundary, with a stable code for each case.

use gatehouse_model::{ErrorCode, ErrorDetail, ErrorDetails, FieldError};

use crate::actor::Permission;
use crate::api_keys::KeyRefusal;

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
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
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
            Self::SignInThrottled { .. } => ErrorCode::SignInThrottled,
            Self::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Self::ModuleNotEnabled => ErrorCode::ModuleNotEnabled,
            Self::KeyRefused(refusal) => refusal.code(),
            Self::InsufficientScope(_) | Self::KeyOutranked => ErrorCode::InsufficientScope,
            Self::Conflict(_) => ErrorCode::Conflict,
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
                format!("This API key lacks the {scope} scope.")
            }
            Self::KeyOutranked => {
                "An API key can only create or manage keys whose access it holds itself.".to_owned()
            }
            Self::Conflict(message) => message.clone(),
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
