//! Leak tracing: which wording a leaked text shows at each slot, and which recipient's
//! codeword explains it.
//!
//! The leaked text and every slot signature (the wording with the fixed text around it, up
//! to [`CONTEXT`] characters each side) are normalised the same way — lower case, invisible
//! characters removed, typographic quotes and dashes made plain, whitespace collapsed — so
//! reformatting, retyping of the surrounding text, case changes and stripped invisible marks
//! do not matter. A slot is observed when exactly one of its two signatures occurs. Slots
//! whose signatures are not unique in the document are never used.
//!
//! Each recipient is scored by how many observed slots agree with their codeword. An
//! innocent recipient's codeword is independent of the leak, so their agreements follow
//! Binomial(n, ½); the p-value of the best score, multiplied by the number of recipients
//! (Bonferroni), is the chance that anyone innocent scores as well. The tracer names a
//! recipient only when that is at most [`ALPHA`], otherwise it answers "none of them".

use crate::brief::{Codeword, Document, Piece};

/// Characters of fixed context taken on each side of a slot.
pub const CONTEXT: usize = 14;
/// The largest chance of accusing an innocent recipient the tracer accepts.
pub const ALPHA: f64 = 1e-3;

/// Normalises text for matching.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for ch in text.chars() {
        let ch = match ch {
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{00ad}' => continue,
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
            c => c,
        };
        if ch.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(ch.to_lowercase());
    }
    out
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.char_indices().rev().nth(n.saturating_sub(1)).map_or(0, |(i, _)| i);
    s.get(start..).unwrap_or(s)
}

fn head(s: &str, n: usize) -> &str {
    let end = s.char_indices().nth(n).map_or(s.len(), |(i, _)| i);
    s.get(..end).unwrap_or(s)
}

/// The two normalised signatures of each slot, `None` for slots that cannot be recognised
/// reliably (a signature that occurs elsewhere in the document).
pub fn signatures(doc: &Document) -> Vec<Option<[String; 2]>> {
    let mut out = Vec::new();
    for (k, piece) in doc.pieces.iter().enumerate() {
        let Piece::Slot(v) = piece else { continue };
        let before = match k.checked_sub(1).and_then(|i| doc.pieces.get(i)) {
            Some(Piece::Fixed(t)) => tail(t, CONTEXT),
            _ => "",
        };
        let after = match doc.pieces.get(k + 1) {
            Some(Piece::Fixed(t)) => head(t, CONTEXT),
            _ => "",
        };
        let [a, b] = v;
        out.push(Some([
            normalize(&format!("{before}{a}{after}")),
            normalize(&format!("{before}{b}{after}")),
        ]));
    }
    // Reliable only when each signature occurs exactly once in the copy using it and never
    // in the copy using the other wording.
    let (zeros, ones) = (normalize(&doc.render_all(false)), normalize(&doc.render_all(true)));
    for sig in &mut out {
        let ok = sig.as_ref().is_some_and(|[a, b]| {
            a != b
                && !a.contains(b.as_str())
                && !b.contains(a.as_str())
                && zeros.matches(a.as_str()).count() == 1
                && ones.matches(b.as_str()).count() == 1
                && !ones.contains(a.as_str())
                && !zeros.contains(b.as_str())
        });
        if !ok {
            *sig = None;
        }
    }
    out
}

/// Which wording the leaked text shows at each slot (`None` = not seen or ambiguous).
pub fn observe(doc: &Document, leaked: &str) -> Vec<Option<bool>> {
    let text = normalize(leaked);
    signatures(doc)
        .into_iter()
        .map(|sig| {
            let [a, b] = sig?;
            match (text.contains(a.as_str()), text.contains(b.as_str())) {
                (true, false) => Some(false),
                (false, true) => Some(true),
                _ => None,
            }
        })
        .collect()
}

/// One recipient's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<K> {
    /// The recipient.
    pub recipient: K,
    /// Observed slots that agree with their codeword.
    pub agreeing: usize,
    /// Chance that an innocent codeword agrees this much (one-sided binomial tail).
    pub p_value: f64,
}

/// The answer of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace<K> {
    /// Slots observed in the text.
    pub observed: usize,
    /// Recipients, best first.
    pub ranking: Vec<Candidate<K>>,
    /// The recipient named, or `None` for "none of the recipients explains this text".
    pub verdict: Option<K>,
    /// 1 − (p-value of the best × recipients), clamped to [0, 1]: the confidence that the
    /// best candidate is not an innocent who matched by chance.
    pub confidence: f64,
}

/// P(X ≥ k) for X ~ Binomial(n, ½).
pub fn binomial_tail(n: usize, k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    // Sum in log space: ln C(n, i) − n ln 2.
    let ln_fact = |m: usize| (1..=m).map(|i| (i as f64).ln()).sum::<f64>();
    let ln2n = n as f64 * std::f64::consts::LN_2;
    let lf_n = ln_fact(n);
    (k..=n)
        .map(|i| (lf_n - ln_fact(i) - ln_fact(n - i) - ln2n).exp())
        .sum::<f64>()
        .min(1.0)
}

/// Traces `leaked` back to one of `recipients` (their codewords).
pub fn trace<K: Clone>(doc: &Document, leaked: &str, recipients: &[(K, Codeword)]) -> Trace<K> {
    let seen = observe(doc, leaked);
    let observed: Vec<(usize, bool)> = seen.iter().enumerate().filter_map(|(i, o)| o.map(|b| (i, b))).collect();
    let n = observed.len();
    let mut ranking: Vec<Candidate<K>> = recipients
        .iter()
        .map(|(k, cw)| {
            let agreeing = observed.iter().filter(|(i, b)| cw.bit(*i) == *b).count();
            Candidate {
                recipient: k.clone(),
                agreeing,
                p_value: binomial_tail(n, agreeing),
            }
        })
        .collect();
    ranking.sort_by_key(|c| std::cmp::Reverse(c.agreeing));
    let (verdict, confidence) = match ranking.first() {
        Some(best) if n > 0 => {
            let adjusted = (best.p_value * recipients.len() as f64).min(1.0);
            let unique = ranking.get(1).is_none_or(|second| second.agreeing < best.agreeing);
            (
                (adjusted <= ALPHA && unique).then(|| best.recipient.clone()),
                1.0 - adjusted,
            )
        }
        _ => (None, 0.0),
    };
    Trace {
        observed: n,
        ranking,
        verdict,
        confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::brief;
    use crate::corpus::{Rng, sample_content};

    #[test]
    fn normalisation_removes_what_retyping_and_stripping_change() {
        assert_eq!(normalize("  Hello\u{200b}  World —\n\tOK "), "hello world - ok");
    }

    #[test]
    fn most_slots_are_recognisable() {
        let doc = brief(&sample_content());
        let usable = signatures(&doc).iter().filter(|s| s.is_some()).count();
        assert!(usable >= 64, "{usable} of {} slots usable", doc.slot_count());
    }

    #[test]
    fn a_full_lowercased_copy_names_its_recipient_and_a_stranger_names_nobody() {
        let doc = brief(&sample_content());
        let mut rng = Rng::new(1);
        let recipients: Vec<(u32, Codeword)> = (0..50).map(|i| (i, rng.codeword())).collect();
        let leaked = doc.render(&recipients[17].1).to_lowercase().replace('\n', " ");
        let t = trace(&doc, &leaked, &recipients);
        assert_eq!(t.verdict, Some(17), "{:?}", &t.ranking[..3]);
        assert!(t.confidence > 0.999);
        let stranger = doc.render(&rng.codeword());
        let t = trace(&doc, &stranger, &recipients);
        assert_eq!(t.verdict, None, "{:?}", &t.ranking[..3]);
        assert_eq!(trace(&doc, "nothing to see", &recipients).verdict, None);
    }

    #[test]
    fn binomial_tails() {
        assert!((binomial_tail(10, 10) - 1.0 / 1024.0).abs() < 1e-12);
        assert!((binomial_tail(10, 0) - 1.0).abs() < 1e-12);
        assert!((binomial_tail(2, 1) - 0.75).abs() < 1e-12);
    }
}
