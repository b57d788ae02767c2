//! Argon2id password hashing with a length policy, and a dummy verification that costs the
//! same so that an unknown username takes as long to refuse as a wrong password.

use crate::IdentityError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted (bounds hashing work on hostile input).
pub const MAX_LENGTH: usize = 256;

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Shorter than [`MIN_LENGTH`] characters.
    #[error("a password needs at least {MIN_LENGTH} characters")]
    TooShort,
    /// Longer than [`MAX_LENGTH`] characters.
    #[error("a password may have at most {MAX_LENGTH} characters")]
    TooLong,
    /// One character repeated.
    #[error("a password must not be one character repeated")]
    Repetitive,
}

/// Checks the password policy.
pub fn check_policy(password: &str) -> Result<(), PolicyError> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(PolicyError::TooShort);
    }
    if len > MAX_LENGTH {
        return Err(PolicyError::TooLong);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(PolicyError::Repetitive);
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    // OWASP's first recommended Argon2id configuration: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$...`).
pub fn hash(password: &str) -> Result<String, IdentityError> {
    let salt_bytes = crate::random::bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| IdentityError::Hash(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `stored`. A malformed stored hash is an error.
pub fn verify(stored: &str, password: &str) -> Result<bool, IdentityError> {
    if password.len() > MAX_LENGTH * 4 {
        return Ok(false);
    }
    let parsed = PasswordHash::new(stored).map_err(|e| IdentityError::Hash(e.to_string()))?;
    Ok(hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the time of one verification against a fixed hash, and returns `false`. Called when
/// the username is unknown so that the answer takes as long as for a wrong password.
pub fn verify_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(stored) = DUMMY.get_or_init(|| hash("dummy password for timing").ok()) {
        let _ = verify(stored, password);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() -> Result<(), IdentityError> {
        let h = hash("correct horse battery")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&h, "correct horse battery")?);
        assert!(!verify(&h, "correct horse battere")?);
        assert!(verify("not a hash", "x").is_err());
        assert!(!verify_dummy("anything at all"));
        Ok(())
    }

    #[test]
    fn policy() {
        assert_eq!(check_policy("short"), Err(PolicyError::TooShort));
        assert_eq!(check_policy("aaaaaaaaaaaaaa"), Err(PolicyError::Repetitive));
        assert_eq!(check_policy(&"ab".repeat(200)), Err(PolicyError::TooLong));
        assert_eq!(check_policy("twelve chars"), Ok(()));
    }
}
