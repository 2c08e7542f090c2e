//! The error body every boundary answers with (SPEC X-5):
//! `{ "error": { "code", "message", "details" } }`, with codes that never change.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. Clients match on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request's input failed validation; `details.fields` says where.
    ValidationFailed,
    /// The resource does not exist, or belongs to another tenant.
    NotFound,
    /// No valid session (dashboard).
    Unauthenticated,
    /// Wrong email or password: one answer for both.
    InvalidCredentials,
    /// Too many failed sign-ins for this account; try again later.
    SignInThrottled,
    /// Signed in, but the role lacks the permission the action needs.
    PermissionDenied,
    /// The tenant's plan does not include the `platform.api` module.
    ModuleNotEnabled,
    /// A state-changing call that came from another site.
    CrossSiteRequest,
    /// The change conflicts with the current state (e.g. a duplicate).
    Conflict,
    /// The request body could not be read.
    BadRequest,
    /// No API key was sent (SPEC X-1).
    ApiKeyMissing,
    /// The key's prefix, length, alphabet or checksum is wrong: refused without a look-up.
    ApiKeyMalformed,
    /// No such key (or access token).
    ApiKeyUnknown,
    /// The key is disabled; it works again when enabled.
    ApiKeyDisabled,
    /// The key is revoked, for good.
    ApiKeyRevoked,
    /// The key (or access token, or a rotated-out secret) has expired.
    ApiKeyExpired,
    /// The key lacks the route's scope; `details.required_scope` names it.
    InsufficientScope,
    /// A browser call from an origin the app does not allow (SPEC A-3).
    OriginNotAllowed,
    /// The route exists, but not with this HTTP method.
    MethodNotAllowed,
    /// Something failed on our side; details are in the server log only.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::NotFound => "not_found",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::SignInThrottled => "sign_in_throttled",
            Self::PermissionDenied => "permission_denied",
            Self::ModuleNotEnabled => "module_not_enabled",
            Self::CrossSiteRequest => "cross_site_request",
            Self::Conflict => "conflict",
            Self::BadRequest => "bad_request",
            Self::ApiKeyMissing => "api_key_missing",
            Self::ApiKeyMalformed => "api_key_malformed",
            Self::ApiKeyUnknown => "api_key_unknown",
            Self::ApiKeyDisabled => "api_key_disabled",
            Self::ApiKeyRevoked => "api_key_revoked",
            Self::ApiKeyExpired => "api_key_expired",
            Self::InsufficientScope => "insufficient_scope",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::ValidationFailed => 422,
            Self::NotFound => 404,
            Self::Unauthenticated
            | Self::InvalidCredentials
            | Self::ApiKeyMissing
            | Self::ApiKeyMalformed
            | Self::ApiKeyUnknown
            | Self::ApiKeyDisabled
            | Self::ApiKeyRevoked
            | Self::ApiKeyExpired => 401,
            Self::SignInThrottled => 429,
            Self::PermissionDenied
            | Self::ModuleNotEnabled
            | Self::CrossSiteRequest
            | Self::InsufficientScope
            | Self::OriginNotAllowed => 403,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::BadRequest => 400,
            Self::Internal => 500,
        }
    }
}

/// A message that belongs beside one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Structured extras of an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetails {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds after which a throttled call may be retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// The scope a key lacks (`insufficient_scope`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<String>,
}

/// The inside of an error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default)]
    pub details: ErrorDetails,
}

impl ErrorDetail {
    /// The message for one field, if the error names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        self.details
            .fields
            .iter()
            .find(|candidate| candidate.field == field)
            .map(|candidate| candidate.message.clone())
    }
}

/// What an API error response's body is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}
