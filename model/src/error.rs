//! The error body every boundary answers with:
//! `{ "error": { "code", "message", "details" } }`, with codes that never change.

use serde::{Deserialize, Serialize};

// `$wire` is a `tt`, not a `literal`: a `literal` fragment reaches derive macros wrapped in
// an invisible group, which `utoipa`'s reading of `#[serde(rename)]` does not see through.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident => $wire:tt, $status:literal;)*) => {
        /// Stable, machine-readable error codes. Clients match on these; never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ #[serde(rename = $wire)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order the error reference lists them.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)* }
            }

            /// The HTTP status that goes with the code.
            pub fn http_status(self) -> u16 {
                match self { $(Self::$variant => $status,)* }
            }

            /// What the code means, for the error reference (`/docs` is generated from it).
            pub fn meaning(self) -> &'static str {
                match self { $(Self::$variant => concat!($($doc),+).trim_ascii(),)* }
            }
        }
    };
}

error_codes! {
    /// The request body could not be read: not JSON, or a field is missing or has the wrong type (`message` names the field).
    BadRequest => "bad_request", 400;
    /// The request's input failed validation; `details.fields` says which field and why.
    ValidationFailed => "validation_failed", 422;
    /// The request body is larger than the server accepts.
    PayloadTooLarge => "payload_too_large", 413;
    /// No valid session (dashboard).
    Unauthenticated => "unauthenticated", 401;
    /// Wrong email or password: one answer for both.
    InvalidCredentials => "invalid_credentials", 401;
    /// No API key was sent.
    ApiKeyMissing => "api_key_missing", 401;
    /// The key's prefix, length, alphabet or checksum is wrong: refused without a look-up.
    ApiKeyMalformed => "api_key_malformed", 401;
    /// No such key (or access token).
    ApiKeyUnknown => "api_key_unknown", 401;
    /// The key is disabled; it works again when enabled.
    ApiKeyDisabled => "api_key_disabled", 401;
    /// The key is revoked, for good.
    ApiKeyRevoked => "api_key_revoked", 401;
    /// The key, its access token, or a rotated-out secret has expired.
    ApiKeyExpired => "api_key_expired", 401;
    /// No operator token was sent to `/operator/v1` (`Authorization: Bearer op_…`).
    OperatorTokenMissing => "operator_token_missing", 401;
    /// The operator token is malformed, unknown or revoked (a tenant's API key is never one).
    OperatorTokenInvalid => "operator_token_invalid", 401;
    /// Signed in, but the role lacks the permission the action needs.
    PermissionDenied => "permission_denied", 403;
    /// The key (or operator token) lacks the route's scope (`details.required_scope` names it), or would create or manage a key with more access or a longer life than its own.
    InsufficientScope => "insufficient_scope", 403;
    /// This kind of credential may not do this: an access token exchanging itself or managing its own key, a key creating apps or changing another app.
    CredentialNotAllowed => "credential_not_allowed", 403;
    /// The tenant's plan does not include the `platform.api` module.
    ModuleNotEnabled => "module_not_enabled", 403;
    /// The tenant's subscription is past due: API keys do not work until it is active again.
    SubscriptionInactive => "subscription_inactive", 403;
    /// The tenant is suspended (by the operator, or its subscription was canceled): its keys are refused and its dashboard is read-only until the suspension is lifted; nothing is lost meanwhile.
    TenantSuspended => "tenant_suspended", 403;
    /// A browser call from an origin the key's app does not allow.
    OriginNotAllowed => "origin_not_allowed", 403;
    /// A state-changing dashboard call that came from another site.
    CrossSiteRequest => "cross_site_request", 403;
    /// The resource does not exist, or belongs to another tenant, app or mode.
    NotFound => "not_found", 404;
    /// The route exists, but not with this HTTP method.
    MethodNotAllowed => "method_not_allowed", 405;
    /// The change conflicts with the current state (e.g. a revoked key cannot be edited).
    Conflict => "conflict", 409;
    /// This `Idempotency-Key` was used before with another request body.
    IdempotencyKeyReused => "idempotency_key_reused", 409;
    /// Too many failed sign-ins on this account from this address, too many attempts from this address, or too many sign-ins at once; `details.retry_after_seconds` says when to try again.
    SignInThrottled => "sign_in_throttled", 429;
    /// A limit on how many of something may exist at once was reached (e.g. live access tokens per key).
    LimitReached => "limit_reached", 429;
    /// A live call over the tenant's monthly platform-call limit; `Retry-After` and `details.retry_after_seconds` say when the billing window resets, and the `RateLimit` headers give the policy.
    UsageExceeded => "usage_exceeded", 429;
    /// The key's own rate limit was reached; `Retry-After` says when its window resets.
    RateLimited => "rate_limited", 429;
    /// Something failed on our side; details are in the server log only.
    Internal => "internal", 500;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A message that belongs beside one input field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Structured extras of an error.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default)]
    pub details: ErrorDetails,
}

impl ErrorDetail {
    /// The messages for one field, if the error names it (each one, in order).
    pub fn field_message(&self, field: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .details
            .fields
            .iter()
            .filter(|candidate| candidate.field == field)
            .map(|candidate| candidate.message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }
}

/// What an API error response's body is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_for_a_field_is_shown() {
        let problem = |field: &str, message: &str| FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        };
        let error = ErrorDetail {
            code: ErrorCode::ValidationFailed,
            message: "The request is not valid.".to_owned(),
            details: ErrorDetails {
                fields: vec![
                    problem(
                        "scopes",
                        "`bad scope` is not a scope: use area:read or area:write.",
                    ),
                    problem("name", "Give the key a name."),
                    problem("scopes", "`rockets:read` is not in the scope catalog."),
                ],
                ..ErrorDetails::default()
            },
        };
        assert_eq!(
            error.field_message("scopes").as_deref(),
            Some(
                "`bad scope` is not a scope: use area:read or area:write. `rockets:read` is not in the scope catalog."
            )
        );
        assert_eq!(
            error.field_message("name").as_deref(),
            Some("Give the key a name.")
        );
        assert_eq!(error.field_message("mode"), None);
    }
}
