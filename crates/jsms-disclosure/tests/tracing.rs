//! Leaks traced back: whole copies of every audience, excerpts under OCR noise, translation-
//! style rewrites, colluders who neutralise their differences (every one of them over the bar
//! named), and the facts an investigator wrote down; outsiders and bad input name nobody.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_disclosure::corpus::{Rng, excerpt, neutralise, ocr_noise, sample_content, summary, told_facts, translate};
use jsms_disclosure::{
    Audience, CodeParams, Disclosure, FactError, Finding, Known, MovementKey, Recipient, StatedFact, Trace,
    TraceOptions, Tracer, brief,
};

struct World {
    d: Disclosure,
    people: Vec<Known<usize>>,
    tracer: Tracer<usize>,
}

fn world(seed: u64, n: usize) -> World {
    let mut rng = Rng::new(seed);
    let key = MovementKey(rng.codeword().0);
    let d = Disclosure::new(brief(&sample_content(), &key), &key, CodeParams::default());
    let people: Vec<Known<usize>> = (0..n)
        .map(|i| Known {
            id: i,
            recipient: Recipient {
                codeword: rng.codeword(),
                audience: match i {
                    0..3 => Audience::Escort,
                    3 => Audience::Planner,
                    _ => Audience::Informed,
                },
            },
            first_copy: i as i64 * 60,
        })
        .collect();
    let tracer = Tracer::new(&d, people.clone());
    World { d, people, tracer }
}

fn individuals(t: &Trace<usize>) -> Vec<usize> {
    t.findings
        .iter()
        .filter_map(|f| match f {
            Finding::Individual { recipient, .. } => Some(*recipient),
            Finding::Group { .. } => None,
        })
        .collect()
}

#[test]
fn whole_copies_of_every_audience_name_their_recipient_only() {
    let w = world(1, 200);
    for who in [0, 1, 3, 10, 150] {
        let copy = w.d.render(&w.people[who].recipient);
        let t = w.tracer.trace(&copy, TraceOptions::default());
        assert_eq!(individuals(&t), vec![who], "{:?}", t.findings);
        assert_eq!(t.verdict, Some(who));
        assert!(t.confidence > 0.999);
    }
    assert!(
        w.tracer
            .trace("the convoy leaves at dawn by the coast road", TraceOptions::default())
            .findings
            .is_empty()
    );
}

#[test]
fn excerpts_under_noise_and_translation_style_rewrites_are_traced() {
    let w = world(2, 200);
    let mut rng = Rng::new(20);
    let (mut noisy, mut translated, trials) = (0, 0, 20);
    for _ in 0..trials {
        let who = 4 + rng.below(196);
        let copy = w.d.render(&w.people[who].recipient);
        let a = w.tracer.trace(
            &ocr_noise(&excerpt(&copy, 0.5, &mut rng), 0.03, &mut rng),
            TraceOptions::default(),
        );
        let b = w
            .tracer
            .trace(&translate(&copy, false, &mut rng), TraceOptions::default());
        for t in [&a, &b] {
            assert!(
                individuals(t).iter().all(|x| *x == who),
                "innocent named: {:?}",
                t.findings
            );
        }
        noisy += usize::from(a.verdict == Some(who));
        translated += usize::from(b.verdict == Some(who));
    }
    assert!(noisy >= trials - 2, "{noisy} of {trials} noisy excerpts traced");
    assert!(translated >= trials - 1, "{translated} of {trials} translations traced");
}

#[test]
fn colluders_are_all_named_when_their_shared_text_is_enough_and_innocents_never() {
    let w = world(3, 100);
    let mut rng = Rng::new(30);
    let mut caught = 0;
    for _ in 0..12 {
        let (a, b) = (4 + rng.below(48), 52 + rng.below(48));
        let copies = [w.d.render(&w.people[a].recipient), w.d.render(&w.people[b].recipient)];
        let t = w.tracer.trace(&neutralise(&copies), TraceOptions::default());
        let named = individuals(&t);
        assert!(named.iter().all(|x| *x == a || *x == b), "innocent named: {named:?}");
        caught += usize::from(!named.is_empty());
        // Both match everything left: when one is named, so is the other.
        if !named.is_empty() {
            assert_eq!(named.len(), 2, "{:?}", t.findings);
        }
    }
    assert!(caught >= 8, "{caught} of 12 pairs named");
}

#[test]
fn facts_stated_by_an_investigator_are_traced() {
    let w = world(4, 100);
    let who = 42;
    let r = &w.people[who].recipient;
    let received = w.d.received(r);
    let get = |fact: &str| {
        received
            .iter()
            .find(|x| x.fact.as_deref() == Some(fact))
            .unwrap()
            .text
            .clone()
    };
    let facts = vec![
        StatedFact {
            fact: Some("code_name".into()),
            value: get("staging_code").to_lowercase(),
        },
        StatedFact {
            fact: Some("departure".into()),
            value: get("ready").replace(" UTC", "").replace(" hrs", "").replace('Z', ""),
        },
        StatedFact {
            fact: None,
            value: format!("not before {}", get("arrival")),
        },
    ];
    let t = w.tracer.trace_facts(&facts, TraceOptions::default()).unwrap();
    assert_eq!(t.verdict, Some(who), "{:?} {:?}", t.observations, t.ranking.first());
    let evidence = &t.ranking[0].evidence;
    assert!(evidence.iter().all(|e| e.agrees) && evidence.len() >= 3, "{evidence:?}");
    // The same as free text, and as a retold summary of six facts.
    let text = format!(
        "They said the pickup would be at {}, meeting point {}.",
        get("ready"),
        get("staging_code")
    );
    let t = w.tracer.trace_fact_text(&text, TraceOptions::default());
    assert!(individuals(&t).iter().all(|x| *x == who));
    let mut rng = Rng::new(40);
    let s = summary(&told_facts(&received, &sample_content(), r.audience), 6, true, &mut rng);
    assert!(
        individuals(&w.tracer.trace(&s, TraceOptions::default()))
            .iter()
            .all(|x| *x == who)
    );
    // Recipients whose first copy came after the leak are not candidates.
    let late = w
        .tracer
        .trace_facts(
            &facts,
            TraceOptions {
                leaked_before: Some(who as i64 * 60 - 1),
                ..TraceOptions::default()
            },
        )
        .unwrap();
    assert!(late.findings.is_empty() && late.candidates == who);
    // Bad input is refused with the field.
    let bad = [StatedFact {
        fact: Some("favourite colour".into()),
        value: "blue".into(),
    }];
    assert!(matches!(
        w.tracer.trace_facts(&bad, TraceOptions::default()),
        Err(FactError::UnknownFact { index: 0, .. })
    ));
    let empty = [StatedFact {
        fact: None,
        value: " ".into(),
    }];
    assert!(matches!(
        w.tracer.trace_facts(&empty, TraceOptions::default()),
        Err(FactError::EmptyValue { index: 0 })
    ));
}

#[test]
fn an_escort_members_facts_name_the_group_not_an_innocent_individual() {
    let w = world(5, 60);
    // The escort's operative facts (shared by members 0–3) stated alone.
    let r = &w.people[1].recipient;
    let code =
        w.d.received(r)
            .into_iter()
            .find(|x| x.fact.as_deref() == Some("staging_code"))
            .unwrap()
            .text;
    let t = w
        .tracer
        .trace_facts(
            &[StatedFact {
                fact: Some("staging_code".into()),
                value: code,
            }],
            TraceOptions::default(),
        )
        .unwrap();
    // One fact of 10 bits is not enough to name anyone at 10⁻⁴; it is consistent with the
    // group, and no individual is accused.
    assert!(individuals(&t).is_empty(), "{:?}", t.findings);
    let group = t
        .ranking
        .iter()
        .find(|c| c.audience == Audience::Escort)
        .and_then(|c| c.group_p_value);
    assert!(group.is_some_and(|p| p < 0.01), "{:?}", t.ranking);
}
