//! The rules for the short texts people type and others read: names and descriptions
//! of apps, keys, endpoints and tenants, and email addresses. They are shown in the
//! dashboard, in the audit trail and in alert emails, so none may carry a line break, a
//! control character or a character that reorders the text around it.

use crate::error::DomainError;

/// What a text is checked against.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// What the message calls it ("app", "key", …) when it is required.
    pub what: &'static str,
    pub max_chars: usize,
    pub required: bool,
}

impl TextRule {
    pub const fn name(what: &'static str, max_chars: usize) -> Self {
        Self {
            what,
            max_chars,
            required: true,
        }
    }

    pub const fn description(max_chars: usize) -> Self {
        Self {
            what: "description",
            max_chars,
            required: false,
        }
    }

    /// The rule as a JSON Schema `pattern` (ECMA-262) for the API document: no forbidden
    /// character, and for a name at least one that is not a space. With `maxLength` =
    /// `max_chars` it states what [`Self::check`] accepts (the document counts the
    /// spaces around the text that the check trims first).
    pub fn schema_pattern(&self) -> String {
        let allowed = format!("[^{FORBIDDEN_CLASS}]");
        if self.required {
            format!("^{allowed}*[^{FORBIDDEN_CLASS}\\s]{allowed}*$")
        } else {
            format!("^{allowed}*$")
        }
    }

    /// The text trimmed, or the message that belongs beside its field.
    pub fn check(&self, typed: &str) -> Result<String, String> {
        let text = typed.trim();
        if self.required && text.is_empty() {
            return Err(format!(
                "Give the {} a name of 1 to {} characters.",
                self.what, self.max_chars
            ));
        }
        if text.chars().count() > self.max_chars {
            return Err(format!("Use at most {} characters.", self.max_chars));
        }
        if text.chars().any(is_forbidden) {
            return Err(
                "Use one line of text: no line breaks, tabs or control characters.".to_owned(),
            );
        }
        Ok(text.to_owned())
    }
}

/// [`is_forbidden`]'s characters as the inside of a regular expression's class.
const FORBIDDEN_CLASS: &str =
    "\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029";

/// Control characters (line breaks and tabs among them) and the invisible marks that
/// reverse or isolate the direction of the text after them.
fn is_forbidden(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

/// Trims and lower-cases an email; refuses what cannot be an address.
pub fn normalize_email(email: &str) -> Result<String, DomainError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(DomainError::field("email", "Enter a valid email address."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(
            normalize_email("  Owner@Example.COM ").unwrap(),
            "owner@example.com"
        );
        for bad in [
            "",
            "owner",
            "owner@",
            "@example.com",
            "a b@example.com",
            "owner@localhost",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad} should be refused");
        }
    }

    /// The document's pattern accepts exactly the texts the check accepts (texts
    /// within the length, without spaces around them to trim).
    #[test]
    fn the_schema_pattern_states_the_check() {
        for rule in [TextRule::name("key", 80), TextRule::description(80)] {
            let pattern = regex::Regex::new(&rule.schema_pattern()).unwrap();
            for text in [
                "Orders",
                "Orders · 2026",
                "naïve café",
                "",
                " ",
                "a\nb",
                "a\tb",
                "a\u{0}b",
                "a\u{7f}b",
                "a\u{85}b",
                "a\u{1b}[31m",
                "a\u{202e}b",
                "a\u{2066}b",
                "a\u{2028}b",
                "a\u{200f}b",
            ] {
                assert_eq!(
                    pattern.is_match(text),
                    rule.check(text).is_ok(),
                    "{text:?} under {:?}",
                    rule.schema_pattern()
                );
            }
        }
    }

    #[test]
    fn names_are_one_line_of_visible_text() {
        let rule = TextRule::name("key", 10);
        assert_eq!(rule.check("  Orders  ").unwrap(), "Orders");
        assert!(rule.check("").unwrap_err().contains("1 to 10"));
        assert!(
            rule.check("eleven char")
                .unwrap_err()
                .contains("at most 10")
        );
        for hostile in [
            "a\nb",
            "a\r\nb",
            "a\tb",
            "a\u{0}b",
            "a\u{1b}[31m",
            "a\u{202e}b",
            "a\u{2028}b",
        ] {
            assert!(
                rule.check(hostile).unwrap_err().contains("one line"),
                "{hostile:?}"
            );
        }
        // Accents, other scripts and emoji are text like any other.
        assert_eq!(rule.check("Zahlung ✓").unwrap(), "Zahlung ✓");
        let description = TextRule::description(20);
        assert_eq!(description.check("").unwrap(), "");
        assert!(description.check("line\nbreak").is_err());
    }
}
