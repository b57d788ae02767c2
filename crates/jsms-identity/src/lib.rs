//! JSMS credentials: Argon2id password hashing, RFC 6238 TOTP, random bearer tokens stored
//! only as hashes, and XChaCha20-Poly1305 sealing of personal data.
//!
//! Pure functions over values: randomness comes from the operating system's CSPRNG, and no
//! function here touches files, clocks or the network (callers pass the time in).

pub mod password;
pub mod random;
pub mod seal;
pub mod token;
pub mod totp;

/// Errors from this crate.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The operating system could not provide random bytes.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    /// A stored password hash could not be parsed or produced.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// Sealed data failed authentication or has an unknown format.
    #[error("sealed data could not be opened: {0}")]
    Seal(&'static str),
    /// A key has the wrong length or encoding.
    #[error("invalid key: {0}")]
    Key(String),
}
