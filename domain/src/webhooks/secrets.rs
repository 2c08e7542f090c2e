//! Signing secrets at rest: `whsec_` + base64 of 32 random bytes, sealed
//! with AES-256-GCM under the operator's master key, a fresh 96-bit nonce per seal. The
//! sealed text names the master key it was sealed under (`v1.<key id>.<base64>`), so
//! the operator can add a new master key and keep the old one for opening until every
//! secret has been rotated.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// Random bytes in a signing secret (the Standard Webhooks minimum is 24).
pub const SECRET_BYTES: usize = 32;
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing secret's plaintext. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SigningSecret([redacted])")
    }
}

impl SigningSecret {
    /// A new secret from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(format!("{SECRET_PREFIX}{}", BASE64.encode(bytes)))
    }

    /// A secret as the receiver holds it (`whsec_…`), e.g. the spec's test vector.
    pub fn from_text(text: &str) -> Option<Self> {
        let body = text.strip_prefix(SECRET_PREFIX)?;
        let bytes = BASE64.decode(body).ok()?;
        (bytes.len() >= 24).then(|| Self(text.to_owned()))
    }

    /// The text shown once to the user.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the base64 part decoded.
    pub fn key_bytes(&self) -> Vec<u8> {
        BASE64
            .decode(&self.0[SECRET_PREFIX.len()..])
            .unwrap_or_default()
    }

    /// The first characters, to tell secrets apart in the dashboard.
    pub fn masked(&self) -> String {
        format!("{}…", &self.0[..SECRET_PREFIX.len() + 4])
    }
}

/// Why a master key setting or a sealed secret is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("a master key must be base64 of 32 bytes (e.g. `openssl rand -base64 32`)")]
    BadMasterKey,
    #[error("no master key is configured")]
    NoMasterKey,
    #[error("the secret was sealed under master key {0}, which is not configured")]
    UnknownMasterKey(String),
    #[error("the sealed secret is damaged or was sealed under another key")]
    Damaged,
}

/// The operator's master keys: the first seals, every one opens.
#[derive(Clone)]
pub struct MasterKeys {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        formatter
            .debug_struct("MasterKeys")
            .field("key_ids", &ids)
            .finish()
    }
}

impl MasterKeys {
    /// Reads `GATEHOUSE_MASTER_KEY`: base64 of 32 bytes, or several separated by commas
    /// (the first seals new secrets; the others still open old ones).
    pub fn parse(setting: &str) -> Result<Self, SealError> {
        let mut keys = Vec::new();
        for part in setting.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bytes = BASE64.decode(part).map_err(|_| SealError::BadMasterKey)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadMasterKey)?;
            keys.push(Self::entry(&key));
        }
        if keys.is_empty() {
            return Err(SealError::NoMasterKey);
        }
        Ok(Self { keys })
    }

    /// A fresh random master key, as base64 (what the embedded default writes to its
    /// data directory when none is configured).
    pub fn generate_setting() -> String {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        BASE64.encode(key)
    }

    fn entry(key: &[u8; 32]) -> (String, Aes256Gcm) {
        // The id names the key without revealing it: 8 hex digits of its SHA-256.
        let id = hex::encode(&Sha256::digest(key)[..4]);
        (id, Aes256Gcm::new(key.into()))
    }

    /// The id of the key that seals new secrets.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals a secret under the current key with a fresh nonce.
    pub fn seal(&self, secret: &SigningSecret) -> String {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), secret.expose().as_bytes())
            .expect("AES-GCM encryption of a short message cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("v1.{id}.{}", BASE64.encode(sealed))
    }

    /// Opens a sealed secret with the key it names.
    pub fn open(&self, sealed: &str) -> Result<SigningSecret, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError::Damaged);
        };
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(candidate, _)| candidate == id)
            .ok_or_else(|| SealError::UnknownMasterKey(id.to_owned()))?;
        let bytes = BASE64.decode(body).map_err(|_| SealError::Damaged)?;
        if bytes.len() < 12 {
            return Err(SealError::Damaged);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plaintext = cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SealError::Damaged)?;
        let text = String::from_utf8(plaintext).map_err(|_| SealError::Damaged)?;
        SigningSecret::from_text(&text).ok_or(SealError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_enough_and_never_debug_printed() {
        let secret = SigningSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.key_bytes().len(), 32);
        assert!(!format!("{secret:?}").contains(&secret.expose()[6..]));
        assert_ne!(secret, SigningSecret::generate());
    }

    #[test]
    fn sealing_uses_a_fresh_nonce_and_opens_with_the_named_key() {
        let old = MasterKeys::generate_setting();
        let new = MasterKeys::generate_setting();
        let before_rotation = MasterKeys::parse(&old).unwrap();
        let secret = SigningSecret::generate();
        let sealed = before_rotation.seal(&secret);
        assert!(!sealed.contains(&secret.expose()[6..]));
        assert_ne!(sealed, before_rotation.seal(&secret), "nonces repeat");
        let after_rotation = MasterKeys::parse(&format!("{new}, {old}")).unwrap();
        assert_eq!(after_rotation.open(&sealed).unwrap(), secret);
        assert_ne!(
            after_rotation.current_key_id(),
            before_rotation.current_key_id()
        );
        let without_old = MasterKeys::parse(&new).unwrap();
        assert!(matches!(
            without_old.open(&sealed),
            Err(SealError::UnknownMasterKey(_))
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let keys = MasterKeys::parse(&MasterKeys::generate_setting()).unwrap();
        let sealed = keys.seal(&SigningSecret::generate());
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(keys.open(&tampered), Err(SealError::Damaged));
    }

    #[test]
    fn bad_master_keys_are_refused() {
        assert_eq!(
            MasterKeys::parse("short").unwrap_err(),
            SealError::BadMasterKey
        );
        assert_eq!(MasterKeys::parse(" ").unwrap_err(), SealError::NoMasterKey);
    }
}
