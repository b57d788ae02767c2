//! A generated corpus: briefs for 200 recipients leaked as excerpts, lower-cased, reflowed,
//! retyped with typos and stripped of invisible characters, traced back; texts from outside
//! the recipients accuse nobody.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_disclosure::corpus::{Rng, excerpt, mix, retype, sample_content};
use jsms_disclosure::{brief, trace};

#[test]
fn excerpts_are_traced_and_strangers_are_not_accused() {
    let doc = brief(&sample_content());
    let mut rng = Rng::new(7);
    let recipients: Vec<(usize, jsms_disclosure::Codeword)> = (0..200).map(|i| (i, rng.codeword())).collect();
    let (mut right, trials) = (0, 60);
    for _ in 0..trials {
        let who = rng.below(recipients.len());
        let copy = doc.render(&recipients[who].1);
        let leaked = retype(&excerpt(&copy, 0.4, &mut rng), 0.02, &mut rng);
        if trace(&doc, &leaked, &recipients).verdict == Some(who) {
            right += 1;
        }
    }
    assert!(right >= trials - 1, "{right} of {trials} 40 % excerpts traced");
    for _ in 0..60 {
        let stranger = doc.render(&rng.codeword());
        let leaked = retype(&excerpt(&stranger, 0.4, &mut rng), 0.02, &mut rng);
        let t = trace(&doc, &leaked, &recipients);
        assert_eq!(t.verdict, None, "an outsider's copy accused {:?}", t.ranking.first());
    }
    // Two colluders mixing their copies: one of them is named, never a third person.
    for _ in 0..20 {
        let (a, b) = (rng.below(200), rng.below(200));
        let mixed = mix(&doc.render(&recipients[a].1), &doc.render(&recipients[b].1), &mut rng);
        let t = trace(&doc, &retype(&mixed, 0.0, &mut rng), &recipients);
        if let Some(v) = t.verdict {
            assert!(v == a || v == b, "accused {v}, colluders {a} and {b}");
        }
    }
}
