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
}
