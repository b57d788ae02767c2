//! The operational-safety rule, for every rule set: those who act together (the escort
//! commander and the drivers, and every operative audience) read exactly the same operative
//! facts; whatever anyone else reads is still true (readiness before the departure, an arrival
//! bound not after the arrival, estimates within the tolerance, a code name among the
//! movement's, a manned site); and every copy keeps one format for times and dates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_disclosure::corpus::{Rng, sample_content, sized_content};
use jsms_disclosure::doc::{DATE_STYLES, TIME_STYLES};
use jsms_disclosure::{Audience, CodeParams, Disclosure, FactRules, MovementKey, Recipient, brief_with};
use proptest::prelude::*;

fn rules_strategy() -> impl Strategy<Value = FactRules> {
    (
        (1u32..40, 0u32..60),
        (0u32..30, 0u32..60),
        0u32..10,
        any::<bool>(),
        proptest::collection::btree_set(1u32..120, 1..6),
        2usize..600,
        any::<bool>(),
        2u32..9,
        any::<bool>(),
    )
        .prop_map(
            |(ready, arrival, tol, dur_op, radio, names, partial, one_in, planners)| {
                let mut operative = vec![Audience::Escort];
                if planners {
                    operative.push(Audience::Planner);
                }
                FactRules {
                    ready_minutes_before: [ready.0, ready.0 + ready.1],
                    arrival_minutes_before: [arrival.0, arrival.0 + arrival.1],
                    duration_tolerance_minutes: tol,
                    duration_operative: dur_op,
                    radio_check_minutes: radio.into_iter().collect(),
                    code_names: names,
                    partial_route: partial,
                    partial_route_one_in: one_in,
                    operative_audiences: operative,
                }
            },
        )
}

fn hhmm(t: i64) -> String {
    let s = t.rem_euclid(86_400);
    format!("{:02}:{:02}", s / 3600, s % 3600 / 60)
}

fn check(rules: &FactRules, seed: u64) {
    let rules = rules.clone().validate().unwrap();
    let mut rng = Rng::new(seed);
    let content = if seed.is_multiple_of(2) {
        sample_content()
    } else {
        sized_content(2, 5, &mut rng)
    };
    let key = MovementKey(rng.codeword().0);
    let d = Disclosure::new(brief_with(&content, &rules, &key), &key, CodeParams::default());
    for audience in rules.operative_audiences.iter().copied() {
        // Five members of the same audience (a commander and four drivers).
        let members: Vec<Recipient> = (0..5)
            .map(|_| Recipient {
                codeword: rng.codeword(),
                audience,
            })
            .collect();
        let operative = |r: &Recipient| -> Vec<(String, String)> {
            d.received(r)
                .into_iter()
                .filter(|x| x.is_fact && x.shared)
                .map(|x| (x.label, x.text))
                .collect()
        };
        let first = operative(&members[0]);
        for m in &members[1..] {
            assert_eq!(
                operative(m),
                first,
                "{audience:?} members read different operative facts"
            );
        }
        // Every operative fact of the rules is among them, and the copies say it in words.
        for fact in ["staging_code", "radio_check"] {
            assert!(
                first.iter().any(|(l, _)| l == &format!("fact/{fact}")),
                "{fact} not shared: {first:?}"
            );
        }
        let copies: Vec<String> = members.iter().map(|m| d.render(m)).collect();
        for (_, text) in &first {
            for c in &copies {
                assert!(c.contains(text.as_str()), "an operative copy lacks {text:?}");
            }
        }
        for c in &copies {
            let has = |t: i64| c.contains(&hhmm(t)) || c.contains(&format!("{} hrs", hhmm(t).replace(':', "")));
            assert!(has(content.departure), "exact departure missing:\n{c}");
            assert!(has(content.arrival), "planned arrival missing:\n{c}");
            for leg in &content.legs {
                for road in &leg.roads {
                    assert!(c.contains(road.as_str()), "turn-by-turn route lacks {road}");
                }
            }
        }
    }
    // Everyone else: every statement true.
    for _ in 0..6 {
        let r = Recipient {
            codeword: rng.codeword(),
            audience: Audience::Informed,
        };
        let copy = d.render(&r);
        for x in d.received(&r) {
            let minutes = |t: &str| -> i64 {
                let digits: String = t.chars().filter(char::is_ascii_digit).take(4).collect();
                digits[..2].parse::<i64>().unwrap() * 60 + digits[2..].parse::<i64>().unwrap()
            };
            let of_day = |t: i64| t.rem_euclid(86_400) / 60;
            match x.fact.as_deref() {
                Some("ready") => {
                    let m = minutes(&x.text);
                    let before = (of_day(content.departure) - m).rem_euclid(1440);
                    assert!(
                        before >= 1 && before <= i64::from(rules.ready_minutes_before[1]),
                        "{}",
                        x.text
                    );
                }
                Some("arrival") => {
                    let m = minutes(&x.text);
                    let before = (of_day(content.arrival) - m).rem_euclid(1440);
                    assert!(before <= i64::from(rules.arrival_minutes_before[1]), "{}", x.text);
                }
                Some("duration") => {
                    let n: i64 = x.text.parse().unwrap();
                    let planned: Vec<i64> = content
                        .legs
                        .iter()
                        .map(|l| (l.duration_s / 60.0).ceil() as i64)
                        .collect();
                    assert!(
                        planned
                            .iter()
                            .any(|p| (n - p).abs() <= i64::from(rules.duration_tolerance_minutes)),
                        "{n}"
                    );
                }
                Some("fallback") => assert!(content.fallback_sites.contains(&x.text)),
                Some("radio_check") => {
                    assert!(rules.radio_check_minutes.contains(&x.text.parse().unwrap()))
                }
                Some("route") => {
                    assert!(x.text.is_empty() || content.legs.iter().any(|l| l.roads.contains(&x.text)))
                }
                _ => {}
            }
        }
        // One format per copy.
        let b = copy.as_bytes();
        let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        let mut styles = [false; 3];
        for i in 0..b.len() {
            let hh_mm = digit(i) && digit(i + 1) && b.get(i + 2) == Some(&b':') && digit(i + 3) && digit(i + 4);
            if hh_mm && copy[i + 5..].starts_with(" UTC") {
                styles[0] = true;
            }
            if hh_mm && copy[i + 5..].starts_with('Z') {
                styles[2] = true;
            }
            if (0..4).all(|k| digit(i + k)) && copy[i + 4..].starts_with(" hrs UTC") {
                styles[1] = true;
            }
        }
        assert_eq!(
            styles.iter().filter(|s| **s).count(),
            1,
            "one of {TIME_STYLES:?} per copy:\n{copy}"
        );
        let dates = DATE_STYLES.len();
        let date_styles = [
            copy.contains(" November 2026") || copy.contains(" December 2026"),
            copy.contains("2026-1"),
            copy.contains(" NOV 2026") || copy.contains(" DEC 2026"),
        ];
        assert_eq!(
            date_styles.iter().filter(|s| **s).count(),
            1,
            "one of {dates} date formats:\n{copy}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn operative_audiences_share_exact_facts_and_others_read_only_true_ones(rules in rules_strategy(), seed in 0u64..1000) {
        check(&rules, seed);
    }
}

#[test]
fn the_default_rules_keep_the_escort_and_the_planners_together() {
    check(&FactRules::default(), 2);
    check(&FactRules::default(), 3);
}

#[test]
fn rules_that_would_split_the_escort_or_lie_are_refused() {
    let bad = [
        FactRules {
            operative_audiences: vec![Audience::Planner],
            ..FactRules::default()
        },
        FactRules {
            ready_minutes_before: [0, 10],
            ..FactRules::default()
        },
        FactRules {
            radio_check_minutes: vec![],
            ..FactRules::default()
        },
        FactRules {
            radio_check_minutes: vec![10, 10],
            ..FactRules::default()
        },
        FactRules {
            code_names: 1,
            ..FactRules::default()
        },
    ];
    for r in bad {
        assert!(r.clone().validate().is_err(), "{r:?}");
    }
    assert!(FactRules::default().validate().is_ok());
}
