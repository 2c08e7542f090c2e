//! What a key may be created or edited with: names, scopes checked against the
//! catalog, and expiry. Every problem is reported against its field, and every answer
//! stays small however large the input (bounded lists, bounded echoes).

use gatehouse_model::{ApiKeyInput, FieldError, KeyType, ScopeCatalog};

use crate::error::DomainError;
use crate::text::TextRule;

pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Most scopes one key may list; the built-in catalog has far fewer.
pub const MAX_SCOPES: usize = 100;
/// Longest expiry a key may be given, in days (ten years).
pub const MAX_EXPIRY_DAYS: i64 = 3650;
/// A key's name and description.
pub const NAME: TextRule = TextRule::name("key", MAX_NAME_CHARS);
pub const DESCRIPTION: TextRule = TextRule::description(MAX_DESCRIPTION_CHARS);
/// How many offending values one error message names before it says "and N more".
const NAMED_IN_MESSAGE: usize = 5;
/// Longest piece of a client's input echoed back in a message.
const ECHO_CHARS: usize = 60;

/// Whether a scope is shaped `area:read`, `area:write` or `area:manage`.
pub fn is_scope(scope: &str) -> bool {
    scope.split_once(':').is_some_and(|(area, access)| {
        !area.is_empty()
            && area
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte == b'_')
            && matches!(access, "read" | "write" | "manage")
    })
}

/// A client's value, shortened for an error message.
fn echo(value: &str) -> String {
    if value.chars().count() <= ECHO_CHARS {
        format!("`{value}`")
    } else {
        format!("`{}…`", value.chars().take(ECHO_CHARS).collect::<String>())
    }
}

/// "`a`, `b` and 3 more" for a list of offending values.
pub(crate) fn name_some(values: &[String]) -> String {
    let named: Vec<String> = values
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|value| echo(value))
        .collect();
    match values.len().saturating_sub(NAMED_IN_MESSAGE) {
        0 => named.join(", "),
        more => format!("{} and {more} more", named.join(", ")),
    }
}

/// Validates a new key's settings at `now_ms`, every problem against its field. An
/// expiry may be given as a time (`expires_at`) or as a number of days from now
/// (`expiry_days`, what the dashboard sends); the answer always has `expires_at` set
/// when the key expires.
pub fn validate_key_input(
    input: &ApiKeyInput,
    catalog: &ScopeCatalog,
    now_ms: i64,
) -> Result<ApiKeyInput, DomainError> {
    let mut problems = Vec::new();
    let mut field = |name: &str, message: String| {
        problems.push(FieldError {
            field: name.to_owned(),
            message,
        })
    };
    let name = NAME.check(&input.name).unwrap_or_else(|message| {
        field("name", message);
        String::new()
    });
    let description = DESCRIPTION
        .check(&input.description)
        .unwrap_or_else(|message| {
            field("description", message);
            String::new()
        });
    let typed: Vec<&str> = input
        .scopes
        .iter()
        .map(|scope| scope.trim())
        .filter(|scope| !scope.is_empty())
        .collect();
    let mut scopes: Vec<String> = Vec::new();
    if typed.len() > MAX_SCOPES {
        field(
            "scopes",
            format!(
                "List at most {MAX_SCOPES} scopes ({} were sent).",
                typed.len()
            ),
        );
    } else {
        let mut misshapen = Vec::new();
        let mut unknown = Vec::new();
        for scope in typed {
            if !is_scope(scope) {
                misshapen.push(scope.to_owned());
            } else if !catalog.contains(scope) {
                unknown.push(scope.to_owned());
            } else if !scopes.iter().any(|known| known == scope) {
                scopes.push(scope.to_owned());
            }
        }
        let are = |values: &[String]| {
            let verb = if values.len() == 1 { "is" } else { "are" };
            format!("{} {verb}", name_some(values))
        };
        if !misshapen.is_empty() {
            field(
                "scopes",
                format!(
                    "{} not a scope: use area:read or area:write.",
                    are(&misshapen)
                ),
            );
        }
        if !unknown.is_empty() {
            field(
                "scopes",
                format!("{} not in the scope catalog.", are(&unknown)),
            );
        }
        match input.key_type {
            KeyType::Restricted
                if scopes.is_empty() && misshapen.is_empty() && unknown.is_empty() =>
            {
                field(
                    "scopes",
                    "A restricted key needs at least one scope.".to_owned(),
                )
            }
            KeyType::Secret if !scopes.is_empty() => field(
                "scopes",
                "A secret key has full access; choose restricted to limit its scopes.".to_owned(),
            ),
            _ => {}
        }
    }
    if input
        .expiry_days
        .is_some_and(|days| !(1..=MAX_EXPIRY_DAYS).contains(&days))
    {
        field(
            "expiry_days",
            format!("Choose from 1 to {MAX_EXPIRY_DAYS} days."),
        );
    }
    let expires_at = input.expires_at.or_else(|| {
        input
            .expiry_days
            .filter(|days| (1..=MAX_EXPIRY_DAYS).contains(days))
            .map(|days| crate::time::from_ms(now_ms) + chrono::Duration::days(days))
    });
    if let Some(at) = expires_at {
        if at.timestamp_millis() <= now_ms {
            field("expires_at", "The expiry must be in the future.".to_owned());
        } else if at.timestamp_millis() > now_ms + (MAX_EXPIRY_DAYS + 1) * 86_400_000 {
            field(
                "expires_at",
                format!("The expiry must be within {MAX_EXPIRY_DAYS} days."),
            );
        }
    }
    if let Some(message) = input.rate_limit.and_then(rate_limit_problem) {
        field("rate_limit", message);
    }
    if !problems.is_empty() {
        return Err(DomainError::Validation(problems));
    }
    Ok(ApiKeyInput {
        name,
        description,
        scopes,
        expires_at,
        ..input.clone()
    })
}

/// The most requests a key's rate limit may name per window.
pub const MAX_RATE_LIMIT_REQUESTS: i64 = 1_000_000;

/// Why a key's rate limit cannot be set, if it cannot.
pub(crate) fn rate_limit_problem(limit: gatehouse_model::KeyRateLimit) -> Option<String> {
    (!(1..=MAX_RATE_LIMIT_REQUESTS).contains(&limit.requests)).then(|| {
        format!("Allow from 1 to {MAX_RATE_LIMIT_REQUESTS} requests per second or minute.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_area_and_access() {
        for good in ["payment_intents:read", "imports:write", "api_keys:manage"] {
            assert!(is_scope(good), "{good}");
        }
        for bad in [
            "payment_intents",
            "Payments:read",
            ":read",
            "imports:delete",
            "a b:read",
        ] {
            assert!(!is_scope(bad), "{bad}");
        }
    }

    #[test]
    fn long_lists_are_named_in_part() {
        let values: Vec<String> = (0..12).map(|index| format!("bad{index}")).collect();
        assert_eq!(
            name_some(&values),
            "`bad0`, `bad1`, `bad2`, `bad3`, `bad4` and 7 more"
        );
        let long = vec!["x".repeat(500)];
        assert!(name_some(&long).len() < 80);
    }
}
