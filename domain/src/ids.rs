//! Fresh ids and secrets from the operating system's random generator.

use rand::RngCore;
use rand::rngs::OsRng;

/// A new id body: a ULID (48 bits of time, so ids sort by creation, and 80 random
/// bits) in lower-case Crockford base32. Ids made in the same millisecond by this
/// process still sort in the order they were made (a monotonic generator).
pub fn fresh_body() -> String {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let made = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .generate();
    made.unwrap_or_else(|_| ulid::Ulid::new())
        .to_string()
        .to_ascii_lowercase()
}

/// `length` characters of base62, each drawn uniformly (rejection sampling).
pub fn random_base62(length: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut output = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while output.len() < length {
        OsRng.fill_bytes(&mut buffer);
        for byte in buffer {
            // 248 = 62 * 4: bytes at or above it would bias the draw.
            if byte < 248 && output.len() < length {
                output.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    output
}

/// Random bytes as lower-case hex, for opaque tokens.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_in_one_millisecond_sort_in_order() {
        let made: Vec<String> = (0..1000).map(|_| fresh_body()).collect();
        let mut sorted = made.clone();
        sorted.sort();
        assert_eq!(made, sorted);
    }

    #[test]
    fn base62_has_the_asked_length_and_alphabet() {
        let value = random_base62(40);
        assert_eq!(value.len(), 40);
        assert!(value.bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_ne!(value, random_base62(40));
    }
}
