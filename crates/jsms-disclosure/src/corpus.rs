//! Simulated leaks, for the leak-tracing tests and benchmark: a deterministic generator,
//! excerpts, and the transformations a leaker applies (lower-casing, reflowing, retyping with
//! typos, stripping invisible characters, mixing two copies).

use crate::brief::{BriefContent, BriefLeg, Codeword};

/// A small deterministic generator (xorshift64*), so runs are repeatable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n ≥ 1).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A random codeword.
    pub fn codeword(&mut self) -> Codeword {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            let x = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(x.get(..chunk.len()).unwrap_or(&x));
        }
        Codeword(out)
    }
}

/// A fictional movement brief of typical size (one leg, nine roads).
pub fn sample_content() -> BriefContent {
    BriefContent {
        reference: "MV-7F3A21".into(),
        purpose: "Site inspection of the river crossing works".into(),
        persons: vec!["Wen Lianhe".into(), "Gao Mingyu".into()],
        departure: 1_796_032_800,
        arrival: 1_796_034_300,
        legs: vec![BriefLeg {
            from: "Kharadar Bridge Works (project site)".into(),
            to: "Staff Residence, M.A. Jinnah Road".into(),
            roads: [
                "Napier Road",
                "Nishtar Road",
                "Jodia Bazar Road",
                "Kutchi Gali",
                "Marriott Road",
                "Shahrah-e-Liaquat",
                "Preedy Street",
                "Burns Road",
                "M.A. Jinnah Road",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            distance_m: 6100.0,
            duration_s: 1500.0,
        }],
        call_sign: "FALCON 3".into(),
        vehicles: vec!["Armoured SUV".into(), "Escort pickup".into()],
        contacts: vec![
            ("Operations room".into(), "+92 21 0000000".into()),
            ("Coordinator".into(), "A. Rehmat".into()),
        ],
    }
}

/// A contiguous excerpt of about `fraction` of the text's words, at a random place.
pub fn excerpt(text: &str, fraction: f64, rng: &mut Rng) -> String {
    let words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let take = ((words.len() as f64 * fraction).round() as usize).clamp(1, words.len().max(1));
    let start = rng.below(words.len().saturating_sub(take) + 1);
    words.iter().skip(start).take(take).copied().collect()
}

/// What a leaker does to a copy before it surfaces: lower-case, reflow lines, strip
/// invisible characters, and retype with a typo in `typo_rate` of the words (two adjacent
/// letters swapped).
pub fn retype(text: &str, typo_rate: f64, rng: &mut Rng) -> String {
    let flat: String = text
        .chars()
        .filter(|c| !matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'))
        .collect::<String>()
        .to_lowercase();
    flat.split_whitespace()
        .map(|w| {
            let mut chars: Vec<char> = w.chars().collect();
            if chars.len() >= 4 && (rng.below(10_000) as f64) < typo_rate * 10_000.0 {
                let i = 1 + rng.below(chars.len() - 2);
                chars.swap(i - 1, i);
            }
            chars.into_iter().collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(if rng.below(2) == 0 { " " } else { "  " })
}

/// Two colluders' copies mixed sentence by sentence.
pub fn mix(a: &str, b: &str, rng: &mut Rng) -> String {
    let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split_inclusive('.').collect(), b.split_inclusive('.').collect());
    sa.iter()
        .zip(sb.iter())
        .map(|(x, y)| if rng.below(2) == 0 { *x } else { *y })
        .collect()
}
