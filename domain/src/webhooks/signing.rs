//! Standard Webhooks signatures: `v1,` + base64 of HMAC-SHA256 over
//! `id.timestamp.body`, keyed by the secret's decoded bytes. During a rotation's
//! overlap the header carries one signature per secret, separated by spaces.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secrets::SigningSecret;

/// One `v1,<base64>` signature.
pub fn sign(
    secret: &SigningSecret,
    message_id: &str,
    timestamp_seconds: i64,
    body: &[u8],
) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: every secret's signature, space separated.
pub fn signature_header(
    secrets: &[SigningSecret],
    message_id: &str,
    timestamp_seconds: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, message_id, timestamp_seconds, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How much of each signature the delivery log keeps: `v1,` and 8 characters of base64,
/// enough to tell two signatures apart and of no use for forging one.
const EXCERPT_CHARS: usize = 11;

/// The header with each signature cut to its start, as an attempt's record keeps it.
pub fn signature_excerpt(header: &str) -> String {
    header
        .split(' ')
        .map(|signature| format!("{}…", &signature[..EXCERPT_CHARS.min(signature.len())]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The headers each attempt is sent with, in order: the body's type and the three
/// Standard Webhooks headers (the event's id, the attempt's time, the signatures).
pub fn delivery_headers(
    event_id: &str,
    timestamp_seconds: i64,
    signature: String,
) -> [(&'static str, String); 4] {
    [
        ("content-type", "application/json".to_owned()),
        ("webhook-id", event_id.to_owned()),
        ("webhook-timestamp", timestamp_seconds.to_string()),
        ("webhook-signature", signature),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_known_answer() {
        // The specification's published test vector.
        let secret = SigningSecret::from_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotation_signs_with_both_secrets() {
        let old = SigningSecret::generate();
        let new = SigningSecret::generate();
        let header = signature_header(&[new.clone(), old.clone()], "evt_1", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [sign(&new, "evt_1", 1, b"{}"), sign(&old, "evt_1", 1, b"{}")]
        );
    }

    #[test]
    fn an_excerpt_keeps_the_start_of_each_signature() {
        let secret = SigningSecret::from_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let one = sign(&secret, "evt_1", 1, b"{}");
        let excerpt = signature_excerpt(&format!("{one} {one}"));
        let start = format!("{}…", &one[..11]);
        assert_eq!(excerpt, format!("{start} {start}"));
        assert!(excerpt.len() < one.len());
    }
}
