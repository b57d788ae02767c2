//! Never an innocent: every choice point gets an independent draw whatever the brief's size,
//! and outsiders' texts name nobody — shown for briefs of about 50 to 1,000 choice points, at
//! the product's bar and, to check that the bound is honest, at a loose bar where some
//! accusations must occur but no more often than the bound allows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_disclosure::corpus::{Rng, excerpt, retype, sized_content};
use jsms_disclosure::doc::Builder;
use jsms_disclosure::{Audience, CodeParams, Disclosure, Known, MovementKey, Recipient, TraceOptions, Tracer, brief};

fn recipients(rng: &mut Rng, n: usize) -> Vec<Known<usize>> {
    (0..n)
        .map(|i| Known {
            id: i,
            recipient: Recipient {
                codeword: rng.codeword(),
                audience: match i % 10 {
                    0 => Audience::Escort,
                    1 => Audience::Planner,
                    _ => Audience::Informed,
                },
            },
            first_copy: 0,
        })
        .collect()
}

/// (legs, roads per leg) giving briefs from about 50 to about 1,000 choice points.
const SIZES: [(usize, usize); 5] = [(1, 3), (2, 10), (3, 20), (5, 30), (8, 37)];

#[test]
fn outsiders_name_nobody_at_any_brief_size() {
    let mut rng = Rng::new(17);
    let mut seen_sizes = Vec::new();
    for (legs, roads) in SIZES {
        let content = sized_content(legs, roads, &mut rng);
        let key = MovementKey(rng.codeword().0);
        let d = Disclosure::new(brief(&content, &key), &key, CodeParams::default());
        seen_sizes.push(d.document().points.len());
        let tracer = Tracer::new(&d, recipients(&mut rng, 60));
        for t in 0..40 {
            let outsider = Recipient {
                codeword: rng.codeword(),
                audience: Audience::ALL[t % 3],
            };
            let copy = d.render(&outsider);
            let text = if t % 2 == 0 {
                copy
            } else {
                retype(&excerpt(&copy, 0.4, &mut rng), 0.02, &mut rng)
            };
            let trace = tracer.trace(&text, TraceOptions::default());
            assert!(
                trace.findings.is_empty(),
                "brief of {} points: an outsider's text named {:?}",
                d.document().points.len(),
                trace.findings
            );
        }
    }
    // The smallest real brief has about 80 points (the synthetic ones of the next test start
    // at 50); the largest here about 1,000.
    assert!(
        seen_sizes[0] <= 90 && *seen_sizes.last().unwrap() >= 900,
        "{seen_sizes:?}"
    );
}

#[test]
fn at_a_loose_bar_accusations_stay_within_the_bound() {
    // alpha = 0.3: the bound says at most 30 % of outsiders' texts name anyone. A scheme that
    // reused bits (or a wrong bound) would exceed it on long briefs; a correct one stays
    // below, and some accusations do happen (the test is not vacuous).
    let mut rng = Rng::new(99);
    let alpha = 0.3;
    let (mut trials, mut accused) = (0usize, 0usize);
    for n in [50usize, 300, 1000] {
        let mut b = Builder::default();
        for i in 0..n {
            b.text(&format!("\nitem{i} marker{i} ")).choice(
                &format!("p{i}"),
                &[&format!("alpha{i}"), &format!("beta{i}"), &format!("gamma{i}")],
            );
        }
        let key = MovementKey(rng.codeword().0);
        let d = Disclosure::new(b.finish(), &key, CodeParams::default());
        let tracer = Tracer::new(&d, recipients(&mut rng, 20));
        for _ in 0..60 {
            let outsider = Recipient {
                codeword: rng.codeword(),
                audience: Audience::Informed,
            };
            let t = tracer.trace(
                &d.render(&outsider),
                TraceOptions {
                    alpha,
                    leaked_before: None,
                },
            );
            trials += 1;
            accused += usize::from(!t.findings.is_empty());
        }
    }
    let rate = accused as f64 / trials as f64;
    let sigma = (alpha * (1.0 - alpha) / trials as f64).sqrt();
    assert!(
        rate <= alpha + 3.0 * sigma,
        "{accused} of {trials} outsiders named someone"
    );
    // The bound is conservative (Chernoff, Bonferroni) but not vacuous: at this bar some
    // outsiders are named.
    assert!(accused >= 1, "no accusation at all at alpha = {alpha}");
}

#[test]
fn every_point_gets_an_independent_draw_past_any_size() {
    // 1,000 binary points: the draws at i and i + 256 (where a 256-bit codeword used to be
    // reused) agree half the time, as independent fair draws do.
    let mut b = Builder::default();
    for i in 0..1000 {
        b.text(&format!("\nanchor{i} "))
            .choice(&format!("p{i}"), &["left", "right"]);
    }
    let key = MovementKey([5; 32]);
    let d = Disclosure::new(b.finish(), &key, CodeParams { coalition: 1 });
    let mut rng = Rng::new(3);
    let (mut same, mut total, mut ones) = (0usize, 0usize, 0usize);
    for _ in 0..400 {
        let s = d.symbols(&Recipient {
            codeword: rng.codeword(),
            audience: Audience::Informed,
        });
        for i in 0..1000 - 256 {
            same += usize::from(s[i] == s[i + 256]);
            total += 1;
        }
        ones += s.iter().filter(|v| **v == 1).count();
    }
    let frac = same as f64 / total as f64;
    assert!((frac - 0.5).abs() < 0.01, "draws 256 apart agree {frac}");
    let p1 = ones as f64 / 400_000.0;
    assert!((p1 - 0.5).abs() < 0.01, "{p1}");
}
