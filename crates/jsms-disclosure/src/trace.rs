//! Leak tracing: from a leaked text, or from the facts an investigator wrote down, to the
//! recipients whose copies explain it — every one over the bar, never an innocent.
//!
//! Each recipient is scored over the observed points they received independently of
//! everyone else (symmetric Tardos scores, see [`crate::stats`]). For an innocent those
//! variants are independent of the leak, so [`crate::stats::tail_bound`] bounds their chance
//! of scoring as high; a recipient is named when that bound is at most
//! `alpha / (number of tests)` (Bonferroni over every recipient and every group test), so the
//! chance that *any* innocent is named in a trace is at most `alpha`.
//!
//! Recipients who share operative facts (the escort and the planners) are also tested as a
//! group over their shared, randomly drawn facts: a group finding says "one of them, or
//! someone they told" — the facts cannot tell them apart, only their wording can.

use crate::code::Kind;
use crate::detect::Analysis;
use crate::doc::{Audience, Disclosure, Recipient, fill};
use crate::stats::{informative, tail_bound, term};
use serde::Deserialize;

/// The default bar: the chance that a trace names any innocent is at most 10⁻⁴.
pub const ALPHA: f64 = 1e-4;

/// A recipient on record.
#[derive(Debug, Clone, PartialEq)]
pub struct Known<K> {
    /// Who.
    pub id: K,
    /// Their codeword and audience.
    pub recipient: Recipient,
    /// When they got their first copy (Unix seconds).
    pub first_copy: i64,
}

/// How to trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceOptions {
    /// Largest accepted chance of naming any innocent in this trace.
    pub alpha: f64,
    /// The leak had reached its destination by then (Unix seconds): recipients whose first
    /// copy came later are not candidates.
    pub leaked_before: Option<i64>,
}

impl Default for TraceOptions {
    fn default() -> Self {
        Self {
            alpha: ALPHA,
            leaked_before: None,
        }
    }
}

/// A fact as an investigator states it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatedFact {
    /// Which fact (`ready`, `arrival`, `staging_code`, `fallback`, `radio_check`, `route`,
    /// `duration`, or a synonym such as `departure`, `code_name`, `rendezvous`, `road`);
    /// absent: compared with every fact.
    #[serde(default)]
    pub fact: Option<String>,
    /// What the attackers knew ("07:52", "KESTREL", "every 12 minutes", "Nishtar Road").
    pub value: String,
}

/// Bad fact input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    /// The fact's name is not one the brief has.
    #[error(
        "/facts/{index}/fact: unknown fact {name:?}; known: ready (departure), arrival, staging_code (code_name), fallback (rendezvous), radio_check, route (road), duration"
    )]
    UnknownFact {
        /// Position in the list.
        index: usize,
        /// The name given.
        name: String,
    },
    /// An empty value.
    #[error("/facts/{index}/value: a fact needs a value")]
    EmptyValue {
        /// Position in the list.
        index: usize,
    },
}

fn canonical_fact(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase().replace([' ', '-'], "_");
    Some(match n.as_str() {
        "ready" | "departure" | "pickup" | "collection" | "leave" | "departure_time" => "ready",
        "arrival" | "arrive" | "arrival_time" => "arrival",
        "staging_code" | "code_name" | "codeword" | "code" | "assembly_point" | "rally_point" | "staging" => {
            "staging_code"
        }
        "fallback" | "rendezvous" | "fallback_rendezvous" => "fallback",
        "radio_check" | "radio" | "check_in" | "radio_interval" | "interval" => "radio_check",
        "route" | "road" | "roads" | "via" => "route",
        "duration" | "driving_time" | "travel_time" => "duration",
        _ => return None,
    })
}

/// A point seen in the leak.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The point.
    pub label: String,
    /// For facts, the fact.
    pub fact: Option<String>,
    /// Whether it is a fact.
    pub is_fact: bool,
    /// The variants the leak is consistent with.
    pub seen: Vec<String>,
}

/// One piece of evidence about a candidate: a fact they received and what the leak says.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The point.
    pub label: String,
    /// The fact.
    pub fact: Option<String>,
    /// What the leak says.
    pub leaked: Vec<String>,
    /// What their copy said.
    pub received: String,
    /// Whether they agree.
    pub agrees: bool,
    /// Whether the recipient shares this fact with their audience.
    pub shared: bool,
}

/// One recipient's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<K> {
    /// The recipient.
    pub recipient: K,
    /// Their audience.
    pub audience: Audience,
    /// Observed points they received independently of everyone.
    pub scored: usize,
    /// Of which their copy agrees with the leak.
    pub agreeing: usize,
    /// Their score (sum of Tardos terms).
    pub score: f64,
    /// Bound on the chance that an innocent scores this much.
    pub p_value: f64,
    /// With the facts shared by their audience added (for the group test).
    pub group_p_value: Option<f64>,
    /// The facts seen, and theirs.
    pub evidence: Vec<Evidence>,
}

/// Someone the tracer names.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding<K> {
    /// This recipient's own copy explains the leak.
    Individual {
        /// The recipient.
        recipient: K,
        /// Bound on the chance that an innocent scores as much.
        p_value: f64,
    },
    /// The facts shared by these recipients explain the leak: one of them (or someone they
    /// told) is the source; their wording did not say which.
    Group {
        /// Their audience.
        audience: Audience,
        /// Everyone who shares those facts.
        members: Vec<K>,
        /// Bound on the chance that the facts match this well by chance.
        p_value: f64,
    },
}

/// The answer of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace<K> {
    /// Points observed in the leak.
    pub observed: usize,
    /// What was observed.
    pub observations: Vec<Observation>,
    /// Up to ten candidates, most likely first.
    pub ranking: Vec<Candidate<K>>,
    /// Everyone over the bar (individuals, then groups).
    pub findings: Vec<Finding<K>>,
    /// The most likely individual named, or `None` for "none of the recipients explains this
    /// text".
    pub verdict: Option<K>,
    /// 1 − the Bonferroni-adjusted bound for the verdict (0 without one).
    pub confidence: f64,
    /// The bar each test had to pass (`alpha / tests`).
    pub bar: f64,
    /// Recipients considered.
    pub candidates: usize,
}

/// Traces leaks of one brief among its recipients.
#[derive(Debug, Clone)]
pub struct Tracer<K> {
    disclosure: Disclosure,
    analysis: Analysis,
    recipients: Vec<Known<K>>,
    symbols: Vec<Vec<usize>>,
    /// Per audience (in `Audience::ALL` order), per point: whether its copies show it.
    visible: [Vec<bool>; 3],
}

/// Per observed point: (probability for independents, shared-random probability).
struct Scored {
    i: usize,
    set: Vec<usize>,
    p: f64,
}

impl<K: Clone + PartialEq> Tracer<K> {
    /// Prepares the tracer (analyses the brief and derives every recipient's variants).
    pub fn new(disclosure: &Disclosure, recipients: Vec<Known<K>>) -> Self {
        let analysis = Analysis::new(disclosure);
        let symbols = recipients.iter().map(|k| disclosure.symbols(&k.recipient)).collect();
        let n = disclosure.document().points.len();
        let visible = Audience::ALL.map(|a| (0..n).map(|i| disclosure.visible(i, a)).collect());
        Self {
            disclosure: disclosure.clone(),
            analysis,
            recipients,
            symbols,
            visible,
        }
    }

    /// The brief's analysis.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Traces a leaked text (partial, reformatted, retyped, translated, retold…).
    ///
    /// Two tests run, each at half the bar: one on everything observed, one on the facts
    /// alone (a retold summary carries facts, and whatever wording it has is the leaker's
    /// own, which only adds noise). Everyone either test names is named.
    pub fn trace(&self, text: &str, opts: TraceOptions) -> Trace<K> {
        let obs = self.analysis.observe(&self.disclosure, text, false);
        let doc = self.disclosure.document();
        let facts: Vec<Option<Vec<usize>>> = obs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                o.clone()
                    .filter(|_| doc.points.get(i).is_some_and(|p| p.kind == Kind::Fact))
            })
            .collect();
        let half = TraceOptions {
            alpha: opts.alpha / 2.0,
            ..opts
        };
        let all = self.decide(obs, half);
        if facts.iter().all(Option::is_none) {
            return Self::rescale(all, 1.0);
        }
        let only = self.decide(facts, half);
        Self::merge(all, only)
    }

    /// Doubles the bar back for reporting a single test.
    fn rescale(mut t: Trace<K>, _factor: f64) -> Trace<K> {
        t.bar *= 2.0;
        t.confidence = (1.0 - (1.0 - t.confidence) / 2.0).clamp(0.0, 1.0);
        if t.verdict.is_none() {
            t.confidence = 0.0;
        }
        t
    }

    fn merge(mut all: Trace<K>, only: Trace<K>) -> Trace<K> {
        for f in only.findings {
            let dup = all.findings.iter_mut().find(|g| match (&f, g) {
                (Finding::Individual { recipient: a, .. }, Finding::Individual { recipient: b, .. }) => a == b,
                (Finding::Group { audience: a, .. }, Finding::Group { audience: b, .. }) => a == b,
                _ => false,
            });
            match (dup, &f) {
                (None, _) => all.findings.push(f),
                (Some(Finding::Individual { p_value, .. }), Finding::Individual { p_value: q, .. })
                | (Some(Finding::Group { p_value, .. }), Finding::Group { p_value: q, .. }) => {
                    *p_value = p_value.min(*q);
                }
                _ => {}
            }
        }
        if only.confidence > all.confidence {
            all.verdict = only.verdict;
            all.confidence = only.confidence;
        }
        for c in only.ranking {
            if let Some(mine) = all.ranking.iter_mut().find(|m| m.recipient == c.recipient) {
                mine.p_value = mine.p_value.min(c.p_value);
            } else {
                all.ranking.push(c);
            }
        }
        all.ranking.sort_by(|x, y| x.p_value.total_cmp(&y.p_value));
        all.ranking.truncate(10);
        all
    }

    /// Traces the facts an investigator wrote as free text (only facts are looked at).
    pub fn trace_fact_text(&self, text: &str, opts: TraceOptions) -> Trace<K> {
        let obs = self.analysis.observe(&self.disclosure, text, true);
        self.decide(obs, opts)
    }

    /// Traces facts stated one by one.
    pub fn trace_facts(&self, facts: &[StatedFact], opts: TraceOptions) -> Result<Trace<K>, FactError> {
        let doc = self.disclosure.document();
        let n = doc.points.len();
        let mut obs: Vec<Option<Vec<usize>>> = vec![None; n];
        let mut conflict = vec![false; n];
        for (index, f) in facts.iter().enumerate() {
            if f.value.trim().is_empty() {
                return Err(FactError::EmptyValue { index });
            }
            let wanted = match &f.fact {
                None => None,
                Some(name) => Some(canonical_fact(name).ok_or_else(|| FactError::UnknownFact {
                    index,
                    name: name.clone(),
                })?),
            };
            for (i, p) in doc.points.iter().enumerate() {
                if p.kind != Kind::Fact || wanted.is_some_and(|w| p.fact.as_deref() != Some(w)) {
                    continue;
                }
                let Some(seen) = self.analysis.observe_value(i, &f.value) else {
                    continue;
                };
                let (Some(slot), Some(c)) = (obs.get_mut(i), conflict.get_mut(i)) else {
                    continue;
                };
                *slot = match slot.take() {
                    None => Some(seen),
                    Some(prev) => {
                        let both: Vec<usize> = prev.into_iter().filter(|v| seen.contains(v)).collect();
                        if both.is_empty() {
                            *c = true;
                        }
                        Some(both)
                    }
                };
            }
        }
        for (slot, c) in obs.iter_mut().zip(conflict) {
            if c || slot.as_ref().is_some_and(Vec::is_empty) {
                *slot = None;
            }
        }
        Ok(self.decide(obs, opts))
    }

    fn shows(&self, i: usize, a: Audience) -> bool {
        let ai = Audience::ALL.iter().position(|x| *x == a).unwrap_or(0);
        self.visible.get(ai).and_then(|v| v.get(i)).copied().unwrap_or(false)
    }

    fn prob(&self, i: usize, set: &[usize]) -> f64 {
        let bias = self.disclosure.bias(i);
        set.iter().filter_map(|v| bias.get(*v)).sum()
    }

    fn decide(&self, obs: Vec<Option<Vec<usize>>>, opts: TraceOptions) -> Trace<K> {
        let doc = self.disclosure.document();
        let scored: Vec<Scored> = obs
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let set = o.clone()?;
                let p = self.prob(i, &set);
                informative(p).then_some(Scored { i, set, p })
            })
            .collect();
        let observations: Vec<Observation> = obs
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let set = o.as_ref()?;
                let p = doc.points.get(i)?;
                Some(Observation {
                    label: p.label.clone(),
                    fact: p.fact.clone(),
                    is_fact: p.kind == Kind::Fact,
                    seen: set
                        .iter()
                        .filter_map(|v| p.variants.get(*v).map(|t| fill(t, [0, 0, 0])))
                        .collect(),
                })
            })
            .collect();
        let eligible: Vec<usize> = (0..self.recipients.len())
            .filter(|j| {
                opts.leaked_before
                    .is_none_or(|t| self.recipients.get(*j).is_some_and(|k| k.first_copy <= t))
            })
            .collect();
        // Per audience: independent points and shared random points, with their probabilities.
        let mut ind_ps: [Vec<f64>; 3] = Default::default();
        let mut sh_ps: [Vec<f64>; 3] = Default::default();
        let mut sh_score = [0.0f64; 3];
        for (ai, a) in Audience::ALL.into_iter().enumerate() {
            for s in &scored {
                let Some(p) = doc.points.get(s.i) else { continue };
                if !self.shows(s.i, a) {
                    continue;
                }
                if !p.shared_with.contains(a) {
                    if let Some(v) = ind_ps.get_mut(ai) {
                        v.push(s.p);
                    }
                } else if self.disclosure.shared_is_random(s.i) {
                    let hit = self.disclosure.shared_variant(s.i).is_some_and(|v| s.set.contains(&v));
                    if let (Some(v), Some(sc)) = (sh_ps.get_mut(ai), sh_score.get_mut(ai)) {
                        v.push(s.p);
                        *sc += term(s.p, hit);
                    }
                }
            }
        }
        let aud_index = |a: Audience| Audience::ALL.iter().position(|x| *x == a).unwrap_or(0);
        // Individual scores.
        let mut rows: Vec<(usize, f64, usize, usize)> = eligible
            .iter()
            .map(|&j| {
                let (mut score, mut n, mut agree) = (0.0, 0, 0);
                let a = self
                    .recipients
                    .get(j)
                    .map_or(Audience::Informed, |k| k.recipient.audience);
                let sym = self.symbols.get(j);
                for s in &scored {
                    let Some(p) = doc.points.get(s.i) else { continue };
                    if p.shared_with.contains(a) || !self.shows(s.i, a) {
                        continue;
                    }
                    let hit = sym.and_then(|x| x.get(s.i)).is_some_and(|v| s.set.contains(v));
                    score += term(s.p, hit);
                    n += 1;
                    agree += usize::from(hit);
                }
                (j, score, n, agree)
            })
            .collect();
        let group_tests = eligible
            .iter()
            .filter(|&&j| {
                self.recipients.get(j).is_some_and(|k| {
                    sh_ps
                        .get(aud_index(k.recipient.audience))
                        .is_some_and(|v| !v.is_empty())
                })
            })
            .count();
        let tests = (eligible.len() + group_tests).max(1);
        let bar = opts.alpha / tests as f64;
        // Sort by standardised score; bounds only where they may matter.
        let z = |score: f64, n: usize| {
            if n == 0 {
                f64::NEG_INFINITY
            } else {
                score / (n as f64).sqrt()
            }
        };
        rows.sort_by(|x, y| z(y.1, y.2).total_cmp(&z(x.1, x.2)));
        let mut findings: Vec<Finding<K>> = Vec::new();
        let mut pvals: Vec<(usize, f64)> = Vec::new();
        for (ai, a) in Audience::ALL.into_iter().enumerate() {
            let ps = ind_ps.get(ai).map_or(&[][..], Vec::as_slice);
            for &(j, score, _, _) in rows
                .iter()
                .filter(|r| self.recipients.get(r.0).is_some_and(|k| k.recipient.audience == a))
            {
                let p = tail_bound(ps, score);
                pvals.push((j, p));
                if p > bar {
                    break;
                }
                if let Some(k) = self.recipients.get(j) {
                    findings.push(Finding::Individual {
                        recipient: k.id.clone(),
                        p_value: p,
                    });
                }
            }
        }
        // Group tests.
        let mut group_p: Vec<(Audience, f64)> = Vec::new();
        for (ai, a) in Audience::ALL.into_iter().enumerate() {
            let (Some(sh), Some(ind), Some(shs)) = (sh_ps.get(ai), ind_ps.get(ai), sh_score.get(ai)) else {
                continue;
            };
            if sh.is_empty() {
                continue;
            }
            let members: Vec<&(usize, f64, usize, usize)> = rows
                .iter()
                .filter(|r| self.recipients.get(r.0).is_some_and(|k| k.recipient.audience == a))
                .collect();
            let Some(best) = members.iter().map(|r| r.1).reduce(f64::max) else {
                continue;
            };
            let all: Vec<f64> = ind.iter().chain(sh.iter()).copied().collect();
            let p = tail_bound(&all, best + shs);
            group_p.push((a, p));
            if p <= bar {
                findings.push(Finding::Group {
                    audience: a,
                    members: members
                        .iter()
                        .filter_map(|r| self.recipients.get(r.0).map(|k| k.id.clone()))
                        .collect(),
                    p_value: p,
                });
            }
        }
        // Ranking: the best few by standardised score, with their bounds.
        let mut ranked: Vec<(usize, f64)> = pvals.clone();
        for r in rows.iter().take(10) {
            if !ranked.iter().any(|(j, _)| *j == r.0) {
                let ai = self.recipients.get(r.0).map_or(0, |k| aud_index(k.recipient.audience));
                let ps = ind_ps.get(ai).map_or(&[][..], Vec::as_slice);
                ranked.push((r.0, tail_bound(ps, r.1)));
            }
        }
        ranked.sort_by(|x, y| x.1.total_cmp(&y.1));
        ranked.truncate(10);
        let ranking: Vec<Candidate<K>> = ranked
            .iter()
            .filter_map(|&(j, p)| {
                let k = self.recipients.get(j)?;
                let row = rows.iter().find(|r| r.0 == j)?;
                let a = k.recipient.audience;
                Some(Candidate {
                    recipient: k.id.clone(),
                    audience: a,
                    scored: row.2,
                    agreeing: row.3,
                    score: row.1,
                    p_value: p,
                    group_p_value: group_p.iter().find(|(x, _)| *x == a).map(|(_, p)| *p),
                    evidence: self.evidence(j, &scored),
                })
            })
            .collect();
        let best_individual = findings
            .iter()
            .filter_map(|f| match f {
                Finding::Individual { recipient, p_value } => Some((recipient, *p_value)),
                Finding::Group { .. } => None,
            })
            .min_by(|x, y| x.1.total_cmp(&y.1));
        let (verdict, confidence) = match best_individual {
            Some((r, p)) => (Some(r.clone()), (1.0 - p * tests as f64).clamp(0.0, 1.0)),
            None => (None, 0.0),
        };
        Trace {
            observed: observations.len(),
            observations,
            ranking,
            findings,
            verdict,
            confidence,
            bar,
            candidates: eligible.len(),
        }
    }

    fn evidence(&self, j: usize, scored: &[Scored]) -> Vec<Evidence> {
        let doc = self.disclosure.document();
        let Some(k) = self.recipients.get(j) else {
            return Vec::new();
        };
        let a = k.recipient.audience;
        scored
            .iter()
            .filter_map(|s| {
                let p = doc.points.get(s.i).filter(|p| p.kind == Kind::Fact)?;
                if !self.shows(s.i, a) {
                    return None;
                }
                let v = *self.symbols.get(j)?.get(s.i)?;
                Some(Evidence {
                    label: p.label.clone(),
                    fact: p.fact.clone(),
                    leaked: s
                        .set
                        .iter()
                        .filter_map(|x| p.variants.get(*x).map(|t| fill(t, [0, 0, 0])))
                        .collect(),
                    received: p.variants.get(v).map(|t| fill(t, [0, 0, 0])).unwrap_or_default(),
                    agrees: s.set.contains(&v),
                    shared: p.shared_with.contains(a),
                })
            })
            .collect()
    }
}
