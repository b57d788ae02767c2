//! The fingerprinting code: who gets which variant at each choice point.
//!
//! Every recipient of a movement's brief holds a secret 256-bit [`Codeword`] (drawn from the
//! OS CSPRNG by the server at their first copy and stored). Their variant at a choice point is
//! drawn from `HMAC-SHA256(codeword, point label)`, so every point gets an independent draw
//! whatever the brief's size (no bit is ever reused). The draw follows the point's *bias*, a
//! probability for each variant drawn once per movement from the movement's secret
//! [`MovementKey`]: a symmetric Tardos-style code (Škorić et al.), whose bias distribution is
//! sized by [`CodeParams::coalition`] (Nuida et al.'s discrete distributions for small
//! coalitions, the Tardos arcsine law with a cut-off for larger ones). Facts that a group must
//! share (the escort's operative facts) are drawn once per movement from the movement key.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt::Write as _;

/// Bytes in a codeword or a movement key.
pub const KEY_BYTES: usize = 32;

/// A recipient's secret codeword (a key for the per-point draws).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Codeword(pub [u8; KEY_BYTES]);

/// A movement's disclosure secret: biases, candidate values and the operative facts shared by
/// the escort are drawn from it. Kept with the sealed plan, never shown to recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MovementKey(pub [u8; KEY_BYTES]);

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn from_hex(text: &str) -> Option<[u8; KEY_BYTES]> {
    let text = text.trim();
    if text.len() != 2 * KEY_BYTES || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; KEY_BYTES];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Codeword {
    /// Lower-case hex (the stored form).
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// Parses [`Codeword::to_hex`].
    pub fn from_hex(text: &str) -> Option<Self> {
        from_hex(text).map(Self)
    }
}

impl MovementKey {
    /// Lower-case hex (the stored form).
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// Parses [`MovementKey::to_hex`].
    pub fn from_hex(text: &str) -> Option<Self> {
        from_hex(text).map(Self)
    }

    /// A key derived from a public name (the movement id), for plans made before movement
    /// keys existed. Tracing stays sound (no innocent is accused: that never depends on the
    /// key being secret), but anyone who knows the id can compute the biases and which
    /// operative variant the escort received; new plans carry a random key.
    pub fn derived_from(name: &str) -> Self {
        let mut mac = mac(b"jsms-disclosure legacy movement key");
        mac.update(name.as_bytes());
        Self(mac.finalize().into_bytes().into())
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // PANIC SAFETY: HMAC accepts keys of any length; new_from_slice cannot fail.
    #[allow(clippy::expect_used)]
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length")
}

/// A keyed pseudo-random function: `HMAC-SHA256(key, domain ‖ 0 ‖ label)` read as numbers.
#[derive(Clone)]
pub(crate) struct Prf(Hmac<Sha256>);

impl Prf {
    pub(crate) fn new(key: &[u8; KEY_BYTES]) -> Self {
        Self(mac(key))
    }

    /// A uniform number in [0, 1) for (`domain`, `label`, `index`).
    pub(crate) fn unit(&self, domain: &str, label: &str, index: u32) -> f64 {
        let mut m = self.0.clone();
        m.update(domain.as_bytes());
        m.update(&[0]);
        m.update(label.as_bytes());
        m.update(&[0]);
        m.update(&index.to_le_bytes());
        let out = m.finalize().into_bytes();
        let mut first = [0u8; 8];
        for (d, s) in first.iter_mut().zip(out.iter()) {
            *d = *s;
        }
        // 53 random bits → [0, 1).
        (u64::from_le_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The kind of a choice point, which decides its bias distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A wording choice (synonym, sentence form, order of items).
    Wording,
    /// A format used throughout one copy (times, dates, distances), so a copy stays
    /// consistent.
    Style,
    /// A value of a fact that the movement rules declare operationally equivalent.
    Fact,
}

/// How the code is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeParams {
    /// The largest coalition of recipients expected to pool their copies. 1–2: unbiased
    /// variants (optimal for one or two colluders, Nuida et al.); 3–4: Nuida's two-point
    /// bias {0.211, 0.789}; more: Tardos' arcsine law cut off at 1/(300·c)… widened to
    /// 1/(30·c) because briefs are short.
    pub coalition: u8,
}

impl Default for CodeParams {
    fn default() -> Self {
        Self { coalition: 2 }
    }
}

/// Nuida et al.'s optimal two-point bias for coalitions of 3 and 4: (3 ± √3)/6.
const NUIDA_3: [f64; 2] = [0.211_324_865_405_187_1, 0.788_675_134_594_812_9];

/// One binary bias (probability of the first variant) drawn from `u`, `w` uniform in [0, 1).
fn binary_bias(params: CodeParams, u: f64, w: f64) -> f64 {
    match params.coalition {
        0..=2 => 0.5,
        3..=4 => {
            if u < 0.5 {
                NUIDA_3[0]
            } else {
                NUIDA_3[1]
            }
        }
        c => {
            // Arcsine law on [t, 1 − t]: p = sin²(r), r uniform in [r_t, π/2 − r_t].
            let t = 1.0 / (30.0 * f64::from(c));
            let rt = t.sqrt().asin();
            let r = rt + w * (std::f64::consts::FRAC_PI_2 - 2.0 * rt);
            r.sin().powi(2)
        }
    }
}

/// The biases of a point with `k` drawable variants: a probability per variant, summing to 1.
/// Facts are unbiased (they are few and must carry as much as possible each); wording and
/// style points follow [`CodeParams`].
pub(crate) fn biases(movement: &Prf, label: &str, k: usize, kind: Kind, params: CodeParams) -> Vec<f64> {
    if k == 0 {
        return Vec::new();
    }
    let uniform = vec![1.0 / k as f64; k];
    if kind == Kind::Fact || params.coalition <= 2 {
        return uniform;
    }
    if k == 2 {
        let p = binary_bias(params, movement.unit("bias", label, 0), movement.unit("bias", label, 1));
        return vec![p, 1.0 - p];
    }
    // k-ary: each variant's weight drawn like a binary bias, then normalised.
    let weights: Vec<f64> = (0..k as u32)
        .map(|i| {
            binary_bias(
                params,
                movement.unit("bias", label, 2 * i),
                movement.unit("bias", label, 2 * i + 1),
            )
        })
        .collect();
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        weights.iter().map(|w| w / total).collect()
    } else {
        uniform
    }
}

/// The variant with cumulative probability covering `u`.
pub(crate) fn draw(bias: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, p) in bias.iter().enumerate() {
        acc += p;
        if u < acc {
            return i;
        }
    }
    bias.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let c = Codeword([7; 32]);
        assert_eq!(Codeword::from_hex(&c.to_hex()), Some(c));
        assert_eq!(Codeword::from_hex("zz"), None);
        assert_eq!(MovementKey::from_hex(&"g".repeat(64)), None);
        let k = MovementKey::derived_from("movement:1");
        assert_eq!(MovementKey::from_hex(&k.to_hex()), Some(k));
        assert_ne!(k, MovementKey::derived_from("movement:2"));
    }

    #[test]
    fn draws_follow_the_bias() {
        let prf = Prf::new(&[1; 32]);
        let bias = [0.2, 0.5, 0.3];
        let mut counts = [0usize; 3];
        for i in 0..20_000 {
            counts[draw(&bias, prf.unit("t", "x", i))] += 1;
        }
        for (c, p) in counts.iter().zip(bias) {
            let expected = 20_000.0 * p;
            assert!(
                (*c as f64 - expected).abs() < 5.0 * (expected * (1.0 - p)).sqrt(),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn biases_are_distributions_sized_by_the_coalition() {
        let prf = Prf::new(&[2; 32]);
        for coalition in [1, 2, 3, 4, 6, 10] {
            let params = CodeParams { coalition };
            for k in [2, 3, 5] {
                for label in ["a", "b", "c"] {
                    let b = biases(&prf, label, k, Kind::Wording, params);
                    assert_eq!(b.len(), k);
                    assert!((b.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                    assert!(b.iter().all(|p| *p > 0.0 && *p < 1.0), "{b:?}");
                    if coalition <= 2 {
                        assert!(b.iter().all(|p| (*p - 1.0 / k as f64).abs() < 1e-12));
                    }
                }
            }
        }
        let b = biases(&prf, "a", 2, Kind::Wording, CodeParams { coalition: 3 });
        assert!(NUIDA_3.iter().any(|p| (b[0] - p).abs() < 1e-12), "{b:?}");
        let f = biases(&prf, "a", 4, Kind::Fact, CodeParams { coalition: 9 });
        assert!(f.iter().all(|p| (*p - 0.25).abs() < 1e-12));
    }
}
