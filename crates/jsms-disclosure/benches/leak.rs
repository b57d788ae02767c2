//! Leak attribution benchmark (issues 5 and 17): 500 recipients of one movement brief (4 of
//! the escort, 2 planners, 494 others shown it), each leak made from one recipient's copy (or
//! several colluders' copies, or an outsider's) by the transformations of `corpus.rs`, traced
//! back. Prints, per row: named correctly (the leaker named individually; for a leaker who
//! shares operative facts, also their group), an innocent named, "none", observed points and
//! the time per trace. Then ≥ 100,000 outsiders' texts per brief size (about 50 to 1,000
//! choice points): any innocent named is a false accusation.
//!
//! Run: `cargo bench -p jsms-disclosure --bench leak`
//! (env `LEAK_TRIALS`, default 1000; `LEAK_OUTSIDERS`, default 100000 for the typical brief;
//! `LEAK_OUTSIDERS_SIZED`, default 20000 for each synthetic size; `LEAK_COALITION`,
//! default `CodeParams::default()`; `LEAK_ROWS` a comma-separated filter of row numbers).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use jsms_disclosure::corpus::{
    Rng, drop_and_shuffle, excerpt, mix, neutralise, ocr_noise, reformat, retype, sample_content, sized_content,
    summary, told_facts, translate,
};
use jsms_disclosure::{
    Audience, BriefContent, CodeParams, Disclosure, Finding, Known, MovementKey, Recipient, TraceOptions, Tracer, brief,
};
use std::time::Instant;

const RECIPIENTS: usize = 500;

struct Setup {
    content: BriefContent,
    disclosure: Disclosure,
    people: Vec<Recipient>,
    tracer: Tracer<usize>,
}

fn setup(content: BriefContent, rng: &mut Rng, params: CodeParams) -> Setup {
    let key = MovementKey(rng.codeword().0);
    let disclosure = Disclosure::new(brief(&content, &key), &key, params);
    let people: Vec<Recipient> = (0..RECIPIENTS)
        .map(|i| Recipient {
            codeword: rng.codeword(),
            audience: match i {
                0..4 => Audience::Escort,
                4..6 => Audience::Planner,
                _ => Audience::Informed,
            },
        })
        .collect();
    let known = people
        .iter()
        .enumerate()
        .map(|(i, r)| Known {
            id: i,
            recipient: *r,
            first_copy: 0,
        })
        .collect();
    let tracer = Tracer::new(&disclosure, known);
    Setup {
        content,
        disclosure,
        people,
        tracer,
    }
}

#[derive(Default)]
struct Tally {
    trials: usize,
    individual: usize,
    group: usize,
    innocent: usize,
    none: usize,
    observed: usize,
    informed: usize,
    informed_named: usize,
}

impl Tally {
    fn add(&mut self, s: &Setup, guilty: &[usize], text: &str) {
        let t = s.tracer.trace(text, TraceOptions::default());
        self.trials += 1;
        self.observed += t.observed;
        let (mut ind, mut grp, mut innocent) = (false, false, false);
        for f in &t.findings {
            match f {
                Finding::Individual { recipient, .. } => {
                    if guilty.contains(recipient) {
                        ind = true;
                    } else {
                        innocent = true;
                    }
                }
                Finding::Group { members, .. } => {
                    if members.iter().any(|m| guilty.contains(m)) {
                        grp = true;
                    } else {
                        innocent = true;
                    }
                }
            }
        }
        let informed = guilty.iter().all(|g| s.people[*g].audience == Audience::Informed);
        if informed {
            self.informed += 1;
            self.informed_named += usize::from(ind);
        }
        self.individual += usize::from(ind);
        self.group += usize::from(grp && !ind);
        self.innocent += usize::from(innocent);
        self.none += usize::from(t.findings.is_empty());
    }

    fn print(&self, name: &str, goal: &str, ms: f64) {
        let pct = |x: usize| x as f64 * 100.0 / self.trials.max(1) as f64;
        println!(
            "  {name}: named {:.1} % (goal {goal}); its group only {:.1} %; innocent named {}; none {:.1} %; {:.1} points observed; {ms:.2} ms/trace",
            pct(self.individual),
            pct(self.group),
            self.innocent,
            pct(self.none),
            self.observed as f64 / self.trials.max(1) as f64,
        );
        if self.informed < self.trials {
            println!(
                "      leakers who share no operative fact ({}): named {:.1} %",
                self.informed,
                self.informed_named as f64 * 100.0 / self.informed.max(1) as f64
            );
        }
    }
}

fn row(
    s: &Setup,
    rng: &mut Rng,
    trials: usize,
    name: &str,
    goal: &str,
    mut make: impl FnMut(&Setup, &mut Rng, usize) -> String,
) {
    let mut tally = Tally::default();
    let mut spent = 0.0;
    for _ in 0..trials {
        let who = rng.below(RECIPIENTS);
        let text = make(s, rng, who);
        let started = Instant::now();
        tally.add(s, &[who], &text);
        spent += started.elapsed().as_secs_f64();
    }
    tally.print(name, goal, spent * 1e3 / trials as f64);
}

fn copy(s: &Setup, who: usize) -> String {
    s.disclosure.render(&s.people[who])
}

fn colluders(s: &Setup, rng: &mut Rng, trials: usize, k: usize, name: &str, goal: &str, excerpt_of: Option<f64>) {
    let mut tally = Tally::default();
    let mut spent = 0.0;
    for _ in 0..trials {
        let mut who: Vec<usize> = Vec::new();
        while who.len() < k {
            let w = rng.below(RECIPIENTS);
            if !who.contains(&w) {
                who.push(w);
            }
        }
        let copies: Vec<String> = who.iter().map(|w| copy(s, *w)).collect();
        let text = match excerpt_of {
            Some(f) => retype(&excerpt(&mix(&copies[0], &copies[1], rng), f, rng), 0.02, rng),
            None => neutralise(&copies),
        };
        let started = Instant::now();
        tally.add(s, &who, &text);
        spent += started.elapsed().as_secs_f64();
    }
    tally.print(name, goal, spent * 1e3 / trials as f64);
}

fn outsiders(content: BriefContent, rng: &mut Rng, trials: usize, params: CodeParams) {
    let s = setup(content, rng, params);
    let points = s.disclosure.document().points.len();
    let usable = s.tracer.analysis().usable();
    // Outsiders: people shown no copy of this brief. Their texts are copies drawn with their
    // own codewords; the escort-format ones come from the same movement briefed under
    // another movement key (an outsider does not know this escort's operative facts).
    let other_key = MovementKey(rng.codeword().0);
    let other = Disclosure::new(brief(&s.content, &other_key), &other_key, params);
    let (mut accused, mut groups, mut observed) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for t in 0..trials {
        let outsider = Recipient {
            codeword: rng.codeword(),
            audience: Audience::ALL[t % 3],
        };
        let whole = if outsider.audience == Audience::Informed {
            s.disclosure.render(&outsider)
        } else {
            other.render(&outsider)
        };
        let text = match t % 4 {
            0 | 1 => whole,
            2 => retype(&excerpt(&whole, 0.4, rng), 0.02, rng),
            _ => summary(
                &told_facts(
                    &if outsider.audience == Audience::Informed {
                        &s.disclosure
                    } else {
                        &other
                    }
                    .received(&outsider),
                    &s.content,
                    outsider.audience,
                ),
                6,
                true,
                rng,
            ),
        };
        let tr = s.tracer.trace(&text, TraceOptions::default());
        observed += tr.observed;
        if !tr.findings.is_empty() {
            accused += 1;
            groups += usize::from(tr.findings.iter().all(|f| matches!(f, Finding::Group { .. })));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  brief of {points} choice points ({usable} observable): {trials} outsiders' texts (whole copies, 40 % excerpts, six-fact summaries), innocent named in {accused} = {:.4} % (goal ≤ 0.01 %; {groups} of them group findings); {:.1} points observed on average; {:.2} ms/trace",
        accused as f64 * 100.0 / trials as f64,
        observed as f64 / trials as f64,
        secs * 1e3 / trials as f64
    );
}

fn main() {
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let trials = env("LEAK_TRIALS", 1000);
    let outsider_trials = env("LEAK_OUTSIDERS", 100_000);
    let sized_trials = env("LEAK_OUTSIDERS_SIZED", 20_000);
    let params = CodeParams {
        coalition: env("LEAK_COALITION", usize::from(CodeParams::default().coalition)) as u8,
    };
    let rows: Option<Vec<usize>> = std::env::var("LEAK_ROWS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let on = |n: usize| rows.as_ref().is_none_or(|r| r.contains(&n));
    let mut rng = Rng::new(2026);
    let s = setup(sample_content(), &mut rng, params);
    let example = copy(&s, 10);
    println!(
        "leak: brief of {} characters, {} choice points ({} observable), {RECIPIENTS} recipients (4 escort, 2 planners, 494 others), coalition parameter {}, {trials} trials per row",
        example.len(),
        s.disclosure.document().points.len(),
        s.tracer.analysis().usable(),
        params.coalition
    );
    if on(1) {
        row(
            &s,
            &mut rng,
            trials,
            "1. 40 % excerpt, retyped (lower case, reflowed, 2 % typos)",
            "≥ 99 %",
            |s, rng, w| retype(&excerpt(&copy(s, w), 0.4, rng), 0.02, rng),
        );
    }
    if on(2) {
        row(&s, &mut rng, trials, "2. 20 % excerpt, retyped", "—", |s, rng, w| {
            retype(&excerpt(&copy(s, w), 0.2, rng), 0.02, rng)
        });
    }
    if on(3) {
        row(
            &s,
            &mut rng,
            trials,
            "3. OCR-like noise (3 % look-alikes, spaces dropped/added), 40 % excerpt",
            "≥ 95 %",
            |s, rng, w| ocr_noise(&excerpt(&copy(s, w), 0.4, rng), 0.03, rng),
        );
        row(
            &s,
            &mut rng,
            trials,
            "   OCR-like noise, whole copy",
            "≥ 95 %",
            |s, rng, w| ocr_noise(&copy(s, w), 0.03, rng),
        );
    }
    if on(4) {
        row(
            &s,
            &mut rng,
            trials,
            "4. 40 % excerpt, half its sentences kept, shuffled",
            "≥ 95 %",
            |s, rng, w| drop_and_shuffle(&excerpt(&copy(s, w), 0.4, rng), 0.5, rng),
        );
        row(
            &s,
            &mut rng,
            trials,
            "   whole copy, half the sentences kept, shuffled",
            "≥ 95 %",
            |s, rng, w| drop_and_shuffle(&copy(s, w), 0.5, rng),
        );
    }
    if on(5) {
        row(
            &s,
            &mut rng,
            trials,
            "5. times, numbers, dates, abbreviations re-formatted, 40 % excerpt",
            "—",
            |s, rng, w| reformat(&excerpt(&copy(s, w), 0.4, rng), rng),
        );
        row(
            &s,
            &mut rng,
            trials,
            "   re-formatted, whole copy",
            "—",
            |s, rng, w| reformat(&copy(s, w), rng),
        );
    }
    if on(6) {
        row(
            &s,
            &mut rng,
            trials,
            "6. translation-style rewrite (function words dropped, clause words reordered), whole copy",
            "≥ 95 %",
            |s, rng, w| translate(&copy(s, w), false, rng),
        );
        row(
            &s,
            &mut rng,
            trials,
            "   translation-style rewrite, 40 % excerpt",
            "—",
            |s, rng, w| translate(&excerpt(&copy(s, w), 0.4, rng), false, rng),
        );
        row(
            &s,
            &mut rng,
            trials,
            "   back-translation (also a third of the words with a synonym replaced), whole copy",
            "—",
            |s, rng, w| translate(&copy(s, w), true, rng),
        );
    }
    if on(7) {
        row(
            &s,
            &mut rng,
            trials,
            "7. six-fact summary in the leaker's words (six of the copy's recipient-specific facts)",
            "≥ 90 %",
            |s, rng, w| {
                let r = &s.people[w];
                summary(
                    &told_facts(&s.disclosure.received(r), &s.content, r.audience),
                    6,
                    true,
                    rng,
                )
            },
        );
        row(
            &s,
            &mut rng,
            trials,
            "   six facts drawn from all the copy's facts (date, persons, vehicles… included)",
            "—",
            |s, rng, w| {
                let r = &s.people[w];
                summary(
                    &told_facts(&s.disclosure.received(r), &s.content, r.audience),
                    6,
                    false,
                    rng,
                )
            },
        );
    }
    if on(8) {
        colluders(
            &s,
            &mut rng,
            trials,
            2,
            "8. two colluders neutralising every difference (whole copies)",
            "one named ≥ 90 %",
            None,
        );
        colluders(
            &s,
            &mut rng,
            trials,
            3,
            "   three colluders neutralising every difference (whole copies)",
            "—",
            None,
        );
        colluders(
            &s,
            &mut rng,
            trials,
            2,
            "   two colluders mixing sentence by sentence, 40 % excerpt, retyped",
            "—",
            Some(0.4),
        );
    }
    if on(9) {
        println!("9. outsiders' texts (innocent named = false accusation), by brief size:");
        outsiders(sample_content(), &mut rng, outsider_trials, params);
        for (legs, roads) in [(1, 3), (2, 10), (4, 20), (6, 40), (8, 37)] {
            let content = sized_content(legs, roads, &mut rng);
            outsiders(content, &mut rng, sized_trials, params);
        }
    }
}
