//! RFC 6238 time-based one-time passwords (HMAC-SHA1, 30-second steps, 6 digits), as every
//! authenticator app speaks them.

use crate::IdentityError;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Step length in seconds.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

/// A TOTP shared secret (160 bits, as RFC 4226 recommends).
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> Result<Self, IdentityError> {
        Ok(Self(Zeroizing::new(crate::random::bytes::<20>()?.to_vec())))
    }

    /// Wraps raw secret bytes (from storage).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, IdentityError> {
        if bytes.len() < 10 {
            return Err(IdentityError::Key("a TOTP secret needs at least 80 bits".into()));
        }
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// Parses the base32 text users type into apps (spaces and case ignored, padding optional).
    pub fn from_base32(text: &str) -> Result<Self, IdentityError> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|e| IdentityError::Key(format!("not base32: {e}")))?;
        Self::from_bytes(bytes)
    }

    /// Raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Base32 without padding, as authenticator apps expect.
    pub fn to_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// The `otpauth://` URI for enrolment (QR code content).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            enc(issuer),
            enc(account),
            self.to_base32(),
            enc(issuer)
        )
    }
}

/// The time step containing `unix_seconds`.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code for `step`, with `digits` digits (RFC 4226 dynamic truncation).
pub fn code_for_step(secret: &TotpSecret, step: i64, digits: u32) -> String {
    // PANIC SAFETY: HMAC accepts keys of any length, so new_from_slice cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_be_bytes(b) & 0x7fff_ffff)
        .unwrap_or(0);
    let modulus = 10u32.pow(digits);
    format!("{:0width$}", word % modulus, width = digits as usize)
}

/// The current code at `unix_seconds`.
pub fn code_at(secret: &TotpSecret, unix_seconds: i64) -> String {
    code_for_step(secret, step_at(unix_seconds), DIGITS)
}

/// Checks `code` against the steps around `unix_seconds` (one step either side for clock
/// drift). Returns the matching step, which the caller must record and refuse to accept again
/// (`last_used_step`), so a code cannot be replayed.
pub fn verify(secret: &TotpSecret, code: &str, unix_seconds: i64, last_used_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        let expected = code_for_step(secret, step, DIGITS);
        let matches: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if matches && last_used_step.is_none_or(|last| step > last) {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits, secret "12345678901234567890").
    #[test]
    fn rfc6238_vectors() -> Result<(), IdentityError> {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec())?;
        let check = |t: i64, expected: &str| assert_eq!(code_for_step(&secret, step_at(t), 8), expected, "t={t}");
        check(59, "94287082");
        check(1_111_111_109, "07081804");
        check(1_111_111_111, "14050471");
        check(1_234_567_890, "89005924");
        check(2_000_000_000, "69279037");
        check(20_000_000_000, "65353130");
        Ok(())
    }

    #[test]
    fn verify_window_and_replay() -> Result<(), IdentityError> {
        let secret = TotpSecret::generate()?;
        let t = 1_800_000_000;
        let code = code_at(&secret, t);
        assert_eq!(verify(&secret, &code, t, None), Some(step_at(t)));
        assert_eq!(verify(&secret, &code, t + 30, None), Some(step_at(t)));
        assert_eq!(verify(&secret, &code, t + 90, None), None);
        assert_eq!(verify(&secret, &code, t, Some(step_at(t))), None, "replay refused");
        assert_eq!(verify(&secret, "12345", t, None), None);
        let round = TotpSecret::from_base32(&secret.to_base32().to_lowercase())?;
        assert_eq!(round.as_bytes(), secret.as_bytes());
        assert!(
            secret
                .otpauth_uri("JSMS", "hn.admin")
                .starts_with("otpauth://totp/JSMS:hn.admin?secret=")
        );
        Ok(())
    }
}
