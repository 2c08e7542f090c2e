//! The one list of event types: what the audit trail records and, for the events a
//! tenant can subscribe to, what webhooks deliver.

use serde::{Deserialize, Serialize};

macro_rules! event_types {
    ($($variant:ident => $wire:literal, $delivered:literal;)*) => {
        /// Every kind of event Gatehouse records. The wire form (`api_key.created`) never
        /// changes once shipped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $(#[serde(rename = $wire)] $variant,)*
        }

        impl EventType {
            /// Every event type, in declaration order.
            pub const ALL: &'static [EventType] = &[$(Self::$variant,)*];

            /// The type as it appears in audit rows, API answers and webhook payloads.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)* }
            }

            /// Whether webhooks deliver this event to subscribed endpoints; the
            /// others are kept in the audit trail only.
            pub fn is_delivered(self) -> bool {
                match self { $(Self::$variant => $delivered,)* }
            }

            pub fn parse(value: &str) -> Option<Self> {
                match value { $($wire => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

event_types! {
    TenantCreated => "tenant.created", false;
    TenantUpdated => "tenant.updated", false;
    TenantDeleted => "tenant.deleted", false;
    UserCreated => "user.created", false;
    UserUpdated => "user.updated", false;
    UserRemoved => "user.removed", false;
    SignInLinkCreated => "sign_in_link.created", false;
    UserSignedIn => "user.signed_in", false;
    UserSignedOut => "user.signed_out", false;
    UserSignInFailed => "user.sign_in_failed", false;
    AppCreated => "app.created", false;
    AppUpdated => "app.updated", false;
    ApiKeyCreated => "api_key.created", true;
    ApiKeyUpdated => "api_key.updated", false;
    ApiKeyEnabled => "api_key.enabled", false;
    ApiKeyDisabled => "api_key.disabled", false;
    ApiKeyRevoked => "api_key.revoked", true;
    ApiKeyRotated => "api_key.rotated", true;
    ApiKeyExpiring => "api_key.expiring", true;
    AccessTokenIssued => "access_token.issued", false;
    WebhookEndpointCreated => "webhook_endpoint.created", false;
    WebhookEndpointUpdated => "webhook_endpoint.updated", false;
    WebhookEndpointEnabled => "webhook_endpoint.enabled", false;
    WebhookEndpointDisabled => "webhook_endpoint.disabled", true;
    WebhookEndpointDeleted => "webhook_endpoint.deleted", false;
    WebhookSecretRotated => "webhook_endpoint.secret_rotated", false;
    WebhookReplayed => "webhook.replayed", false;
    WebhookTest => "webhook.test", true;
    EventSent => "event.sent", false;
    UsageThresholdReached => "usage.threshold_reached", false;
    AlertPreferenceUpdated => "alert_preference.updated", false;
}

/// The event families Gatehouse sends itself: a SaaS cannot post events of these.
pub const RESERVED_EVENT_FAMILIES: &[&str] = &["api_key", "webhook_endpoint", "webhook"];

impl std::fmt::Display for EventType {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// In the API document: one of the wire names.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .enum_values(Some(Self::ALL.iter().map(|event| event.as_str())))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for EventType {}

impl EventType {
    /// The family an endpoint subscribes to, e.g. `api_key` for `api_key.created`.
    pub fn family(self) -> &'static str {
        self.as_str()
            .split_once('.')
            .map_or(self.as_str(), |(family, _)| family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(*event));
            assert!(seen.insert(event.as_str()), "{event} twice");
            let json = serde_json::to_string(event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
        }
        assert_eq!(EventType::ApiKeyRotated.family(), "api_key");
    }
}
