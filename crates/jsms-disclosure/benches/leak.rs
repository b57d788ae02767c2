//! Leak attribution benchmark (issue 5): 500 recipients of one movement brief; leaked
//! excerpts of 40 % and 20 % of a copy, lower-cased, reflowed, retyped with typos in 2 % of
//! the words and stripped of invisible characters; texts from outside the recipients; and two
//! colluders mixing their copies sentence by sentence. Prints top-1 accuracy, false
//! accusations and the time per trace.
//!
//! Run: `cargo bench -p jsms-disclosure --bench leak` (env `LEAK_TRIALS`, default 1000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_disclosure::corpus::{Rng, excerpt, mix, retype, sample_content};
use jsms_disclosure::{brief, trace};
use std::time::Instant;

fn main() {
    let trials: usize = std::env::var("LEAK_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let doc = brief(&sample_content());
    let usable = jsms_disclosure::trace::signatures(&doc)
        .iter()
        .filter(|s| s.is_some())
        .count();
    let mut rng = Rng::new(2026);
    let recipients: Vec<(usize, jsms_disclosure::Codeword)> = (0..500).map(|i| (i, rng.codeword())).collect();
    println!(
        "leak: brief of {} characters, {} choice points ({usable} recognisable), 500 recipients, {trials} trials per row",
        doc.render(&recipients[0].1).len(),
        doc.slot_count()
    );
    for fraction in [0.4, 0.2] {
        let (mut top1, mut named_wrong, mut observed) = (0, 0, 0);
        let started = Instant::now();
        for _ in 0..trials {
            let who = rng.below(500);
            let leaked = retype(
                &excerpt(&doc.render(&recipients[who].1), fraction, &mut rng),
                0.02,
                &mut rng,
            );
            let t = trace(&doc, &leaked, &recipients);
            observed += t.observed;
            match t.verdict {
                Some(v) if v == who => top1 += 1,
                Some(_) => named_wrong += 1,
                None => {}
            }
        }
        let per = started.elapsed().as_secs_f64() * 1e3 / trials as f64;
        println!(
            "  {:.0} % excerpts, retyped: top-1 {:.1} % (goal ≥ 99 % at 40 %), wrong person named {named_wrong}, \"none\" {}, {:.1} slots observed on average, {per:.2} ms per trace",
            fraction * 100.0,
            top1 as f64 * 100.0 / trials as f64,
            trials - top1 - named_wrong,
            observed as f64 / trials as f64
        );
    }
    let mut accused = 0;
    for _ in 0..trials {
        let leaked = retype(&excerpt(&doc.render(&rng.codeword()), 0.4, &mut rng), 0.02, &mut rng);
        if trace(&doc, &leaked, &recipients).verdict.is_some() {
            accused += 1;
        }
    }
    println!(
        "  texts from none of them (40 % excerpts of an outsider's copy): false accusations {:.2} % (goal ≤ 0.1 %)",
        accused as f64 * 100.0 / trials as f64
    );
    let (mut caught, mut wrong) = (0, 0);
    for _ in 0..trials {
        let (a, b) = (rng.below(500), rng.below(500));
        let mixed = mix(&doc.render(&recipients[a].1), &doc.render(&recipients[b].1), &mut rng);
        let leaked = retype(&excerpt(&mixed, 0.4, &mut rng), 0.02, &mut rng);
        match trace(&doc, &leaked, &recipients).verdict {
            Some(v) if v == a || v == b => caught += 1,
            Some(_) => wrong += 1,
            None => {}
        }
    }
    println!(
        "  two colluders mixing sentence by sentence, 40 % excerpts: one colluder named {:.1} %, an innocent named {wrong}",
        caught as f64 * 100.0 / trials as f64
    );
}
