//! The API key format: a readable type-and-mode prefix, 32 base62
//! characters of randomness (about 190 bits), and a CRC32 checksum in 6 base62
//! characters, so a mistyped key is refused before any database look-up and secret
//! scanners can recognise leaked keys. Only a SHA-256 digest of a key is stored.
//! Short-lived access tokens share the shape with an `at_` prefix.

use gatehouse_model::{KeyMode, KeyType};
use sha2::{Digest, Sha256};

use crate::error::MalformedKey;
use crate::ids::random_base62;

/// Characters of randomness after the prefix.
pub const RANDOM_LEN: usize = 32;
/// Characters of the base62 checksum at the end.
pub const CHECKSUM_LEN: usize = 6;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a well-formed credential is: an API key of a type, or an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresentedKind {
    ApiKey(KeyType),
    AccessToken,
}

fn prefix_letters(kind: PresentedKind) -> &'static str {
    match kind {
        PresentedKind::ApiKey(KeyType::Secret) => "sk",
        PresentedKind::ApiKey(KeyType::Restricted) => "rk",
        PresentedKind::AccessToken => "at",
    }
}

/// A key whose shape and checksum are right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WellFormedKey {
    pub kind: PresentedKind,
    pub mode: KeyMode,
}

fn prefix(kind: PresentedKind, mode: KeyMode) -> String {
    format!("{}_{}_", prefix_letters(kind), mode.as_str())
}

fn checksum(text: &str) -> String {
    String::from_utf8(checksum_bytes(text).to_vec()).expect("base62 is ASCII")
}

/// The checksum's characters, without allocating (the hot path compares these).
fn checksum_bytes(text: &str) -> [u8; CHECKSUM_LEN] {
    let mut value = u64::from(crc32fast::hash(text.as_bytes()));
    let mut encoded = [b'0'; CHECKSUM_LEN];
    for slot in encoded.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    encoded
}

/// A fresh plaintext key. The caller shows it once and stores only [`digest`].
pub fn generate(key_type: KeyType, mode: KeyMode) -> String {
    generate_credential(PresentedKind::ApiKey(key_type), mode)
}

/// A fresh access token (`at_live_…`, `at_test_…`); stored, like keys, as a digest.
pub fn generate_access_token(mode: KeyMode) -> String {
    generate_credential(PresentedKind::AccessToken, mode)
}

fn generate_credential(kind: PresentedKind, mode: KeyMode) -> String {
    generate_prefixed(&prefix(kind, mode))
}

/// A fresh secret of this shape after `prefix` (operator tokens use it too).
pub(crate) fn generate_prefixed(prefix: &str) -> String {
    let head = format!("{prefix}{}", random_base62(RANDOM_LEN));
    let tail = checksum(&head);
    format!("{head}{tail}")
}

/// Whether `presented` is `prefix`, [`RANDOM_LEN`] base62 characters and their
/// checksum: no I/O.
pub(crate) fn is_well_formed_after(prefix: &str, presented: &str) -> bool {
    presented.len() == prefix.len() + RANDOM_LEN + CHECKSUM_LEN
        && presented.starts_with(prefix)
        && presented[prefix.len()..]
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric())
        && checksum_bytes(&presented[..prefix.len() + RANDOM_LEN])
            == presented.as_bytes()[prefix.len() + RANDOM_LEN..]
}

/// Checks a presented key's prefix, length, alphabet and checksum: no I/O.
pub fn check(key: &str) -> Result<WellFormedKey, MalformedKey> {
    let (kind, mode) = match key.get(..8) {
        Some("sk_live_") => (PresentedKind::ApiKey(KeyType::Secret), KeyMode::Live),
        Some("sk_test_") => (PresentedKind::ApiKey(KeyType::Secret), KeyMode::Test),
        Some("rk_live_") => (PresentedKind::ApiKey(KeyType::Restricted), KeyMode::Live),
        Some("rk_test_") => (PresentedKind::ApiKey(KeyType::Restricted), KeyMode::Test),
        Some("at_live_") => (PresentedKind::AccessToken, KeyMode::Live),
        Some("at_test_") => (PresentedKind::AccessToken, KeyMode::Test),
        _ => return Err(MalformedKey::UnknownPrefix),
    };
    if key.len() != 8 + RANDOM_LEN + CHECKSUM_LEN {
        return Err(MalformedKey::WrongLength);
    }
    if !key[8..].bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return Err(MalformedKey::BadCharacter);
    }
    let (head, tail) = key.split_at(8 + RANDOM_LEN);
    if checksum_bytes(head) != tail.as_bytes() {
        return Err(MalformedKey::ChecksumMismatch);
    }
    Ok(WellFormedKey { kind, mode })
}

/// What is stored and looked up: the SHA-256 of the whole key, in hex.
pub fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The masked form the dashboard shows: the prefix and four characters, e.g. `sk_live_AbC1…`.
pub fn masked(key: &str) -> String {
    format!("{}…", &key[..key.len().min(12)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_check_out_with_their_type_and_mode() {
        for (key_type, mode, start) in [
            (KeyType::Secret, KeyMode::Live, "sk_live_"),
            (KeyType::Secret, KeyMode::Test, "sk_test_"),
            (KeyType::Restricted, KeyMode::Live, "rk_live_"),
            (KeyType::Restricted, KeyMode::Test, "rk_test_"),
        ] {
            let key = generate(key_type, mode);
            assert!(key.starts_with(start), "{key}");
            assert_eq!(key.len(), 46);
            assert_eq!(
                check(&key),
                Ok(WellFormedKey {
                    kind: PresentedKind::ApiKey(key_type),
                    mode
                })
            );
        }
        let token = generate_access_token(KeyMode::Test);
        assert!(token.starts_with("at_test_"), "{token}");
        assert_eq!(
            check(&token),
            Ok(WellFormedKey {
                kind: PresentedKind::AccessToken,
                mode: KeyMode::Test
            })
        );
    }

    #[test]
    fn typos_are_caught_by_the_checksum() {
        let key = generate(KeyType::Secret, KeyMode::Live);
        let mut typo = key.clone().into_bytes();
        typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(check(&typo), Err(MalformedKey::ChecksumMismatch));
        assert_eq!(check(&key[..45]), Err(MalformedKey::WrongLength));
        assert_eq!(
            check(&format!("pk_live_{}", &key[8..])),
            Err(MalformedKey::UnknownPrefix)
        );
        assert_eq!(
            check(&format!("{}-{}", &key[..10], &key[11..])),
            Err(MalformedKey::BadCharacter)
        );
    }

    #[test]
    fn digests_are_stable_and_masks_hide_the_secret() {
        let key = generate(KeyType::Restricted, KeyMode::Test);
        assert_eq!(digest(&key), digest(&key));
        assert_eq!(digest(&key).len(), 64);
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "SHA-256 of `abc` (FIPS 180-2 test vector)"
        );
        assert_eq!(masked(&key), format!("{}…", &key[..12]));
    }
}
