//! Read models and inputs shared by the dashboard, the server functions and the API, a
//! module per topic. Closed sets of values are enums that travel as fixed strings
//! (`wire_enum!`), so a typo on the wire is refused at the boundary.

/// An enum whose every variant travels as one fixed string, with `as_str`, `parse` and
/// `ALL` generated from the one list (no hand-written pairs to drift apart). `$wire` is a
/// `tt`, not a `literal`, so that derive macros (`utoipa`'s) read the `#[serde(rename)]`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$variant_meta:meta])* $variant:ident => $wire:tt,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $wire)] $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The value as it travels and is stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }

            /// The value of a stored or sent string, if it is one.
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($wire => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

mod alerts;
mod apps;
mod audit;
mod catalog;
mod health;
mod keys;
mod limits;
mod operator;
mod page;
mod request_logs;
mod tenancy;
mod webhooks;

pub use alerts::*;
pub use apps::*;
pub use audit::*;
pub use catalog::*;
pub use health::*;
pub use keys::*;
pub use limits::*;
pub use operator::*;
pub use page::*;
pub use request_logs::*;
pub use tenancy::*;
pub use webhooks::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip_through_serde_and_parse() {
        fn check<T: serde::Serialize + std::fmt::Debug + PartialEq + Copy>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for value in all {
                let wire = as_str(*value);
                assert_eq!(parse(wire), Some(*value));
                assert_eq!(serde_json::to_string(value).unwrap(), format!("\"{wire}\""));
            }
        }
        check(Role::ALL, Role::as_str, Role::parse);
        check(
            SubscriptionState::ALL,
            SubscriptionState::as_str,
            SubscriptionState::parse,
        );
        check(KeyStatus::ALL, KeyStatus::as_str, KeyStatus::parse);
        check(VerifyCode::ALL, VerifyCode::as_str, VerifyCode::parse);
        assert_eq!(VerifyCode::UsageExceeded.as_str(), "USAGE_EXCEEDED");
        assert_eq!(SubscriptionState::PastDue.as_str(), "past_due");
        assert_eq!(HealthStatus::Ok.as_str(), "ok");
    }
}
