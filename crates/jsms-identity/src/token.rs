//! Bearer secrets (session tokens, API tokens): 256 random bits, shown once, stored only as
//! SHA-256 hashes. High-entropy secrets need no slow hash: a hash lookup cannot be guessed.

use crate::IdentityError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A freshly generated secret: the text to hand out once, and the hash to store.
#[derive(Debug)]
pub struct IssuedSecret {
    /// `prefix` + 43 characters of base64url: give to the holder, never store.
    pub text: String,
    /// SHA-256 of `text`: store this.
    pub hash: [u8; 32],
}

/// Generates a secret with a recognisable prefix (`jsms_s_` for sessions, `jsms_at_` for API
/// tokens), so leaked tokens can be found by secret scanners.
pub fn issue(prefix: &str) -> Result<IssuedSecret, IdentityError> {
    let raw = crate::random::bytes::<32>()?;
    let text = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(raw));
    let hash = hash(&text);
    Ok(IssuedSecret { text, hash })
}

/// The stored form of a presented secret.
pub fn hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_secrets_are_unique_and_hashed() -> Result<(), IdentityError> {
        let a = issue("jsms_s_")?;
        let b = issue("jsms_s_")?;
        assert_ne!(a.text, b.text);
        assert!(a.text.starts_with("jsms_s_"));
        assert_eq!(a.text.len(), "jsms_s_".len() + 43);
        assert_eq!(hash(&a.text), a.hash);
        Ok(())
    }
}
