//! Typed, prefixed identifiers (`ten_…`, `usr_…`, `app_…`): an app id can never be
//! passed where a tenant id is wanted, and a malformed id is refused at the boundary.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Characters an id body may contain (Crockford base32, lower case).
const BODY_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Length of the random, time-sortable body that follows the prefix.
pub const ID_BODY_LEN: usize = 26;

/// Why a string is not a valid id of the wanted kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} id")]
pub struct InvalidId {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Builds an id from a fresh body (the domain makes them: a lower-case ULID).
            pub fn from_body(body: &str) -> Self {
                Self(format!("{}{}", $prefix, body))
            }

            /// Checks the prefix and the body's shape.
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                let valid = value
                    .strip_prefix($prefix)
                    .is_some_and(|body| {
                        body.len() == ID_BODY_LEN
                            && body.bytes().all(|byte| BODY_ALPHABET.contains(&byte))
                    });
                if valid {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(InvalidId { kind: $kind, value: value.chars().take(64).collect() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!(
                        "A ", $kind, " id: `", $prefix, "` and a lower-case ULID."
                    )))
                    .pattern(Some(concat!("^", $prefix, "[0-9a-hjkmnp-tv-z]{26}$")))
                    .examples([concat!($prefix, "01jqz8n3k4m5p6q7r8s9t0v1w2")])
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(value: &str) -> Result<Self, InvalidId> {
                Self::parse(value)
            }
        }
    };
}

define_id!(
    /// A tenant (organization), live or its shadow test tenant.
    TenantId, "ten_", "tenant"
);
define_id!(
    /// A dashboard user.
    UserId, "usr_", "user"
);
define_id!(
    /// An app: the integration that keys and webhooks are bound to.
    AppId, "app_", "app"
);
define_id!(
    /// An API key (its settings; the secret itself is never an id).
    ApiKeyId, "key_", "API key"
);
define_id!(
    /// An append-only audit event.
    AuditEventId, "aud_", "audit event"
);
define_id!(
    /// One recorded request (the request log; also the answer's `Request-Id`).
    RequestId, "req_", "request"
);
define_id!(
    /// An event emitted by a change or sent by the SaaS, as webhooks deliver it.
    EventId, "evt_", "event"
);
define_id!(
    /// A webhook endpoint: a destination URL of one app and mode.
    WebhookEndpointId, "ep_", "webhook endpoint"
);
define_id!(
    /// One event's delivery to one endpoint, with all its attempts.
    DeliveryId, "dlv_", "delivery"
);
define_id!(
    /// One attempt of a delivery, as the delivery log shows it.
    AttemptId, "att_", "delivery attempt"
);
define_id!(
    /// An alert to a tenant's owners and managers (a key about to expire, …).
    AlertId, "alr_", "alert"
);
define_id!(
    /// An operator token: the credential the SaaS's backend calls `/operator/v1` with
    /// (its secret is never an id).
    OperatorTokenId, "opt_", "operator token"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_time() {
        // Lower-case ULIDs: 48 bits of time first, so ids sort by creation.
        let earlier = AppId::from_body("01arz3ndektsv4rrffq69g5fav");
        let later = AppId::from_body("01arz3ndemzzzzzzzzzzzzzzzz");
        assert!(earlier < later);
        assert_eq!(AppId::parse(later.as_str()), Ok(later.clone()));
        assert_eq!(later.as_str().len(), 4 + ID_BODY_LEN);
    }

    #[test]
    fn wrong_prefix_or_shape_is_refused() {
        let body = "01arz3ndektsv4rrffq69g5fav";
        assert!(AppId::parse(&format!("ten_{body}")).is_err());
        assert!(AppId::parse("app_short").is_err());
        assert!(AppId::parse(&format!("app_{}", body.to_uppercase())).is_err());
        assert!(serde_json::from_str::<AppId>("\"usr_x\"").is_err());
    }
}
