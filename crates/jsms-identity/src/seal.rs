//! Sealing of personal data with XChaCha20-Poly1305.
//!
//! A sealed value is `0x01 || nonce (24 bytes) || ciphertext+tag`. The associated data binds it
//! to its place (`person:<id>:passport_number`), so a ciphertext copied into another row or
//! field fails to open. The key lives outside the database (a key file or the environment).

use crate::IdentityError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// The 256-bit key that seals personal data.
pub struct SealingKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, IdentityError> {
        Ok(Self(Zeroizing::new(crate::random::bytes::<32>()?)))
    }

    /// A key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| IdentityError::Key(format!("a sealing key is 32 bytes, got {}", bytes.len())))?;
        Ok(Self(Zeroizing::new(arr)))
    }

    /// The raw bytes (for writing the key file).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Seals `plaintext` bound to `place`.
    pub fn seal(&self, place: &str, plaintext: &[u8]) -> Result<Vec<u8>, IdentityError> {
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        let nonce_bytes = crate::random::bytes::<NONCE_LEN>()?;
        let nonce = XNonce::from_slice(&nonce_bytes);
        let ct = cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| IdentityError::Seal("encryption failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a value sealed for `place`.
    pub fn open(&self, place: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
        let (version, rest) = sealed.split_first().ok_or(IdentityError::Seal("empty"))?;
        if *version != FORMAT_V1 {
            return Err(IdentityError::Seal("unknown format version"));
        }
        if rest.len() < NONCE_LEN + 16 {
            return Err(IdentityError::Seal("too short"));
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: place.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| IdentityError::Seal("authentication failed (wrong key, place or tampered data)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() -> Result<(), IdentityError> {
        let key = SealingKey::generate()?;
        let sealed = key.seal("person:1:passport", b"X1234567")?;
        assert!(!sealed.windows(8).any(|w| w == b"X1234567"));
        assert_eq!(key.open("person:1:passport", &sealed)?.as_slice(), b"X1234567");
        assert!(key.open("person:2:passport", &sealed).is_err(), "bound to its place");
        let mut tampered = sealed.clone();
        if let Some(b) = tampered.last_mut() {
            *b ^= 1;
        }
        assert!(key.open("person:1:passport", &tampered).is_err());
        assert!(SealingKey::generate()?.open("person:1:passport", &sealed).is_err());
        assert!(SealingKey::from_bytes(&[0; 31]).is_err());
        Ok(())
    }
}
