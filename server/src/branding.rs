//! The SaaS's brand on the workspace (`GATEHOUSE_BRAND_NAME`, `GATEHOUSE_BRAND_ACCENT`,
//! `GATEHOUSE_BRAND_LOGO_URL`), served as CSS variables in every page's head, so that
//! the workspace framed in the SaaS's page looks like part of it. An accent that white
//! text on it would not read on (under 4.5:1, WCAG AA) is refused at start.

/// The least contrast of the buttons' white text on the accent.
pub const MIN_CONTRAST: f64 = 4.5;

/// The brand settings, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Brand {
    pub name: Option<String>,
    pub accent: Option<String>,
    pub logo_url: Option<String>,
}

/// The relative luminance of `#rrggbb` (WCAG 2), if it is one.
fn luminance(hex: &str) -> Option<f64> {
    let digits = hex.strip_prefix('#')?;
    if digits.len() != 6 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |at: usize| {
        let value = f64::from(u8::from_str_radix(&digits[at..at + 2], 16).ok()?) / 255.0;
        Some(if value <= 0.040_45 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

/// The contrast of white text on `#rrggbb`.
pub fn contrast_with_white(hex: &str) -> Option<f64> {
    luminance(hex).map(|luminance| 1.05 / (luminance + 0.05))
}

/// A CSS string literal of `text`: every character but letters, digits and spaces as a
/// hex escape, so nothing in it can end the string, the rule or the `<style>` element.
fn css_string(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('"');
    for character in text.chars() {
        if character.is_ascii_alphanumeric() || character == ' ' {
            escaped.push(character);
        } else {
            escaped.push_str(&format!("\\{:x} ", u32::from(character)));
        }
    }
    escaped.push('"');
    escaped
}

impl Brand {
    /// Checks the three settings (empty: unset); the message names what is wrong.
    pub fn parse(name: &str, accent: &str, logo_url: &str) -> Result<Self, (&'static str, String)> {
        let name = name.trim();
        if name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err((
                "brand_name",
                "expected one line of at most 60 characters".to_owned(),
            ));
        }
        let accent = accent.trim().to_ascii_lowercase();
        if !accent.is_empty() {
            let contrast = contrast_with_white(&accent).ok_or((
                "brand_accent",
                format!("{accent} is not a colour: use #rrggbb, e.g. #3b5bdb"),
            ))?;
            if contrast < MIN_CONTRAST {
                return Err((
                    "brand_accent",
                    format!(
                        "white text on {accent} has a contrast of {contrast:.1}:1, under {MIN_CONTRAST}:1: pick a darker colour"
                    ),
                ));
            }
        }
        let logo_url = logo_url.trim();
        if !logo_url.is_empty() {
            let url = url::Url::parse(logo_url)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some());
            if url.is_none() {
                return Err((
                    "brand_logo_url",
                    "expected an http or https URL of an image".to_owned(),
                ));
            }
        }
        let set = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        Ok(Self {
            name: set(name),
            accent: set(&accent),
            logo_url: set(logo_url),
        })
    }

    /// The CSS variables of the brand, for the pages' head; `None` when nothing is set.
    pub fn css(&self) -> Option<String> {
        let mut variables = Vec::new();
        if let Some(name) = &self.name {
            variables.push(format!("--brand-name: {};", css_string(name)));
        }
        if let Some(accent) = &self.accent {
            variables.push(format!("--accent: {accent};"));
        }
        if let Some(logo_url) = &self.logo_url {
            variables.push(format!("--brand-logo: url({});", css_string(logo_url)));
            variables.push("--brand-logo-space: 32px;".to_owned());
        }
        (!variables.is_empty()).then(|| format!("html:root {{ {} }}", variables.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accent_must_carry_white_text() {
        // Gatehouse's own accent passes; a light yellow does not.
        assert!(contrast_with_white("#3b5bdb").unwrap() >= MIN_CONTRAST);
        assert!(Brand::parse("", "#3b5bdb", "").is_ok());
        let (setting, message) = Brand::parse("", "#ffcc00", "").unwrap_err();
        assert_eq!(setting, "brand_accent");
        assert!(message.contains("1.5:1"), "{message}");
        assert!(Brand::parse("", "blue", "").is_err());
        assert!((contrast_with_white("#000000").unwrap() - 21.0).abs() < 0.01);
    }

    #[test]
    fn brand_text_cannot_break_out_of_the_css() {
        let brand = Brand::parse(
            "Acme</style><script>x()</script>\"",
            "",
            "https://cdn.example/logo.svg",
        )
        .unwrap();
        let css = brand.css().unwrap();
        assert!(
            !css.contains('<') && !css.contains("\\\"") && css.matches('"').count() == 4,
            "{css}"
        );
        assert!(css.contains("--brand-name: \"Acme"), "{css}");
        assert_eq!(Brand::default().css(), None);
        assert!(Brand::parse("line\nbreak", "", "").is_err());
        assert!(Brand::parse("", "", "javascript:alert(1)").is_err());
    }
}
