//! Text from outside (a receiver's answer, an error a library wrote, what a caller
//! sent) made fit to store: valid UTF-8 without NUL. PostgreSQL refuses NUL and
//! invalid UTF-8 in TEXT, and a refused row fails its whole statement, so one
//! receiver's answer could keep every other row of a batch from being written.

use std::borrow::Cow;

/// `bytes` as text every engine stores: each invalid UTF-8 sequence and each NUL
/// becomes U+FFFD. Borrows when there is nothing to replace.
pub(crate) fn storable_text(bytes: &[u8]) -> Cow<'_, str> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::storable_text;

    #[test]
    fn nul_and_invalid_utf8_become_replacement_characters() {
        assert_eq!(storable_text(b"ok"), "ok");
        assert!(matches!(
            storable_text(b"ok"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(storable_text(b"a\0b"), "a\u{FFFD}b");
        assert_eq!(storable_text(b"a\xff\xfeb"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(storable_text("é\0".as_bytes()), "é\u{FFFD}");
    }
}
