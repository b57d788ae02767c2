//! Random bytes from the operating system's CSPRNG.

use crate::IdentityError;

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], IdentityError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| IdentityError::Random(e.to_string()))?;
    Ok(buf)
}
