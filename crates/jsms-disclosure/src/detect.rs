//! Which variant of each choice point a text shows.
//!
//! Analysis (once per document): each point's *cues* — the canonical content words that tell
//! its variants apart — and its *anchors* — rare content words of the fixed text on the same
//! line, with their distance to the point. A point whose cues occur nowhere else in the
//! document (a code name, a road named only there) is *global*: its cues count wherever they
//! appear. Analysis renders random copies for every audience and drops the points it would
//! misread on clean copies, so what remains is reliable by construction.
//!
//! Observation (per leak): the leak's canonical tokens are repaired against the document's
//! vocabulary; each cue occurrence is assigned to the point whose anchors best explain its
//! position (nearest anchor at the expected offset; ties are dropped); a point is observed as
//! the set of variants consistent with every cue assigned to it (all of a variant's cues need
//! not be present — words get dropped — but none may contradict). Only positive evidence is
//! used: a missing word never counts. Order-only points (lists) compare the order of their
//! items. Format points (time, date, distance styles) are read from the lightly normalised
//! text, where formats survive.
//!
//! Whatever this module gets wrong on a strange text only makes the observation wrong; it
//! never makes an innocent recipient's variants depend on the leak, which is what the
//! tracer's bound rests on.

use crate::canon::{self, Vocabulary};
use crate::code::Kind;
use crate::doc::{Audience, Disclosure, Segment, fill};
use std::collections::{HashMap, HashSet};

/// Tokens of slack allowed between the expected and the observed offset to an anchor.
const SLACK: i64 = 6;
/// Extra cost of a cue found on the other side of an anchor than in the brief.
const SIDE_PENALTY: i64 = 3;
/// Anchors kept per point (the nearest).
const MAX_ANCHORS: usize = 6;
/// Most occurrences of a fixed-text token in a copy for it to serve as an anchor.
const ANCHOR_MAX_FREQ: usize = 2;

#[derive(Debug, Clone, Default)]
struct PointCues {
    usable: bool,
    global: bool,
    order: bool,
    /// Variant → its discriminative cue tokens (or its ordered tokens for order points).
    variants: Vec<Vec<String>>,
    /// (anchor token, expected offset point − anchor).
    anchors: Vec<(String, i64)>,
    /// Cues that occur nowhere else (count wherever they appear).
    unique: HashSet<String>,
    window: i64,
    /// Why it cannot be used (empty when usable).
    reason: &'static str,
}

#[derive(Debug, Clone, Default)]
struct StyleCues {
    point: usize,
    /// Variant → lightly normalised strings that only it produces.
    strings: Vec<Vec<String>>,
}

/// The document's cues, computed once.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    vocab: Vocabulary,
    points: Vec<PointCues>,
    by_token: HashMap<String, Vec<usize>>,
    by_anchor: HashMap<String, Vec<(usize, i64)>>,
    styles: Vec<StyleCues>,
}

/// A rendered copy as tokens: (token, line, from point).
struct Tokenised {
    tokens: Vec<(String, usize, Option<usize>)>,
    starts: HashMap<usize, usize>,
}

fn tokenise_copy(d: &Disclosure, symbols: &[usize], audience: Audience) -> Tokenised {
    let doc = d.document();
    let styles = {
        let s = doc.styles;
        let get = |p: Option<usize>| p.and_then(|i| symbols.get(i)).copied().unwrap_or(0);
        [get(s.time), get(s.date), get(s.distance)]
    };
    let mut out = Tokenised {
        tokens: Vec::new(),
        starts: HashMap::new(),
    };
    let mut line = 0usize;
    let push_text = |out: &mut Tokenised, text: &str, from: Option<usize>, line: &mut usize| {
        let mut first = true;
        for piece in text.split('\n') {
            if !first {
                *line += 1;
            }
            first = false;
            for t in canon::tokens(piece) {
                out.tokens.push((t, *line, from));
            }
        }
    };
    for part in &doc.parts {
        if part.only.is_some_and(|o| !o.contains(audience)) {
            continue;
        }
        match &part.segment {
            Segment::Text(t) => push_text(&mut out, &fill(t, styles), None, &mut line),
            Segment::Point(i) => {
                out.starts.insert(*i, out.tokens.len());
                let v = symbols.get(*i).copied().unwrap_or(0);
                let text = doc
                    .points
                    .get(*i)
                    .and_then(|p| p.variants.get(v))
                    .map_or("", String::as_str);
                push_text(&mut out, &fill(text, styles), Some(*i), &mut line);
            }
            Segment::List(items) => {
                for (p, text) in items {
                    let included = p.is_none_or(|i| symbols.get(i).copied().unwrap_or(0) == 0);
                    if let Some(i) = p {
                        out.starts.insert(*i, out.tokens.len());
                    }
                    if included {
                        push_text(&mut out, &fill(text, styles), *p, &mut line);
                    }
                }
            }
        }
    }
    out
}

fn content(t: &str) -> bool {
    !canon::is_stopword(t)
}

fn variant_tokens(d: &Disclosure, i: usize, v: usize) -> Vec<String> {
    let text = d
        .document()
        .points
        .get(i)
        .and_then(|p| p.variants.get(v))
        .map_or("", String::as_str);
    canon::tokens(&fill(text, [0, 0, 0]))
        .into_iter()
        .filter(|t| content(t))
        .collect()
}

/// Every lightly normalised value string the document can show, per style variant.
fn style_strings(d: &Disclosure, kind: char) -> Vec<Vec<String>> {
    let doc = d.document();
    let mut texts: Vec<&str> = Vec::new();
    for part in &doc.parts {
        match &part.segment {
            Segment::Text(t) => texts.push(t),
            Segment::List(items) => texts.extend(items.iter().map(|(_, t)| t.as_str())),
            Segment::Point(_) => {}
        }
    }
    for p in &doc.points {
        texts.extend(p.variants.iter().map(String::as_str));
    }
    let mut placeholders: Vec<String> = Vec::new();
    for t in texts {
        let mut rest = t;
        while let Some(start) = rest.find('\u{e000}') {
            let after = rest.get(start..).unwrap_or("");
            let Some(end) = after.find('\u{e001}') else { break };
            let ph = after.get(..end + '\u{e001}'.len_utf8()).unwrap_or("");
            if ph.chars().nth(1) == Some(kind) {
                placeholders.push(ph.to_owned());
            }
            rest = after.get(end + '\u{e001}'.len_utf8()..).unwrap_or("");
        }
    }
    placeholders.sort();
    placeholders.dedup();
    let n = match kind {
        't' => crate::doc::TIME_STYLES.len(),
        'd' => crate::doc::DATE_STYLES.len(),
        _ => crate::doc::DISTANCE_STYLES.len(),
    };
    let slot = match kind {
        't' => 0,
        'd' => 1,
        _ => 2,
    };
    let per: Vec<Vec<String>> = (0..n)
        .map(|v| {
            let mut styles = [0, 0, 0];
            if let Some(s) = styles.get_mut(slot) {
                *s = v;
            }
            placeholders.iter().map(|ph| canon::light(&fill(ph, styles))).collect()
        })
        .collect();
    // Keep only strings no other style produces or contains.
    per.iter()
        .enumerate()
        .map(|(v, strings)| {
            strings
                .iter()
                .filter(|s| {
                    per.iter()
                        .enumerate()
                        .filter(|(w, _)| *w != v)
                        .all(|(_, other)| other.iter().all(|o| !o.contains(s.as_str()) && !s.contains(o.as_str())))
                })
                .cloned()
                .collect()
        })
        .collect()
}

impl Analysis {
    /// Analyses a document bound to its movement.
    pub fn new(d: &Disclosure) -> Self {
        let doc = d.document();
        let n = doc.points.len();
        // Vocabulary: every token any copy can contain.
        let mut all: Vec<String> = Vec::new();
        for part in &doc.parts {
            match &part.segment {
                Segment::Text(t) => all.extend(canon::tokens(&fill(t, [0, 0, 0]))),
                Segment::List(items) => {
                    for (_, t) in items {
                        all.extend(canon::tokens(t));
                    }
                }
                Segment::Point(_) => {}
            }
        }
        for p in &doc.points {
            for v in &p.variants {
                for style in 0..3 {
                    all.extend(canon::tokens(&fill(v, [style, style, style.min(1)])));
                }
            }
        }
        let vocab = Vocabulary::new(all.iter());

        // Reference copies: variant 0 everywhere, for each audience.
        let zeros = vec![0usize; n];
        let refs: Vec<(Audience, Tokenised)> = Audience::ALL
            .into_iter()
            .map(|a| (a, tokenise_copy(d, &zeros, a)))
            .collect();

        // Tokens common to every variant of a point are as stable as fixed text.
        let common: Vec<HashSet<String>> = (0..n)
            .map(|i| {
                let k = doc.points.get(i).map_or(0, |p| p.variants.len());
                let sets: Vec<HashSet<String>> =
                    (0..k).map(|v| variant_tokens(d, i, v).into_iter().collect()).collect();
                let mut it = sets.into_iter();
                let first = it.next().unwrap_or_default();
                it.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
            })
            .collect();
        let stable = |t: &str, from: Option<usize>| from.is_none_or(|p| common.get(p).is_some_and(|c| c.contains(t)));

        // Tokens that any copy shows whatever its variants: never evidence of a variant.
        let stable_anywhere: HashSet<String> = refs
            .iter()
            .flat_map(|(_, copy)| copy.tokens.iter())
            .filter(|(t, _, from)| stable(t, *from))
            .map(|(t, _, _)| t.clone())
            .collect();
        let mut points: Vec<PointCues> = vec![PointCues::default(); n];
        let mut reference: Vec<usize> = vec![0; n];
        for (i, p) in doc.points.iter().enumerate() {
            if p.kind == Kind::Style || p.variants.len() < 2 {
                continue;
            }
            // Reference audience: sees the point, preferably without sharing it.
            let Some((ri, (_, copy))) = refs
                .iter()
                .enumerate()
                .filter(|(_, (a, _))| d.visible(i, *a))
                .min_by_key(|(_, (a, _))| p.shared_with.contains(*a))
            else {
                continue;
            };
            if let Some(r) = reference.get_mut(i) {
                *r = ri;
            }
            let Some(&start) = copy.starts.get(&i) else { continue };
            let line = copy
                .tokens
                .get(start)
                .or_else(|| copy.tokens.get(start.saturating_sub(1)))
                .map_or(0, |t| t.1);
            let variants: Vec<Vec<String>> = (0..p.variants.len()).map(|v| variant_tokens(d, i, v)).collect();
            let line_stable: HashSet<&str> = copy
                .tokens
                .iter()
                .filter(|(t, l, from)| *l == line && *from != Some(i) && stable(t, *from))
                .map(|(t, _, _)| t.as_str())
                .collect();
            let bag = |v: &Vec<String>| {
                let mut b = v.clone();
                b.sort();
                b
            };
            let first = variants.first().cloned().unwrap_or_default();
            let order = first.len() >= 2 && variants.iter().all(|v| bag(v) == bag(&first));
            let own_common = common.get(i).cloned().unwrap_or_default();
            let cues: Vec<Vec<String>> = if order {
                variants
                    .iter()
                    .map(|v| {
                        v.iter()
                            .filter(|t| !line_stable.contains(t.as_str()))
                            .cloned()
                            .collect()
                    })
                    .collect()
            } else {
                variants
                    .iter()
                    .map(|v| {
                        let mut c: Vec<String> = v
                            .iter()
                            .filter(|t| {
                                !own_common.contains(*t)
                                    && !line_stable.contains(t.as_str())
                                    && !stable_anywhere.contains(t.as_str())
                            })
                            .cloned()
                            .collect();
                        c.sort();
                        c.dedup();
                        c
                    })
                    .collect()
            };
            if cues.iter().all(Vec::is_empty) {
                if let Some(pc) = points.get_mut(i) {
                    pc.reason = "no content word tells its variants apart";
                }
                continue;
            }
            // Anchors: rare stable tokens of the same line (fixed text, or words every
            // variant of a point shares — the point's own included, unless it is an order
            // point).
            let mut freq: HashMap<&str, usize> = HashMap::new();
            for (t, _, _) in &copy.tokens {
                *freq.entry(t.as_str()).or_default() += 1;
            }
            let mut anchors: Vec<(String, i64)> = copy
                .tokens
                .iter()
                .enumerate()
                .filter(|(_, (t, l, from))| {
                    *l == line
                        && stable(t, *from)
                        && !(order && *from == Some(i))
                        && content(t)
                        && freq.get(t.as_str()).is_some_and(|f| *f <= ANCHOR_MAX_FREQ)
                })
                .map(|(k, (t, _, _))| (t.clone(), start as i64 - k as i64))
                .collect();
            // The nearest few are enough (and keep long lines cheap).
            anchors.sort_by_key(|(_, d)| d.abs());
            anchors.truncate(MAX_ANCHORS);
            let window = anchors.iter().map(|(_, d)| d.abs()).max().unwrap_or(0) + SLACK;
            let Some(slot) = points.get_mut(i) else { continue };
            *slot = PointCues {
                usable: true,
                global: false,
                order,
                variants: cues,
                anchors,
                window,
                reason: "",
                unique: HashSet::new(),
            };
        }
        // Cue index and global points.
        let mut by_token: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, pc) in points.iter().enumerate() {
            if !pc.usable {
                continue;
            }
            let mut seen: HashSet<&String> = HashSet::new();
            for t in pc.variants.iter().flatten() {
                if seen.insert(t) {
                    by_token.entry(t.clone()).or_default().push(i);
                }
            }
        }
        let fixed: Vec<HashSet<&str>> = refs
            .iter()
            .map(|(_, copy)| {
                copy.tokens
                    .iter()
                    .filter(|(t, _, from)| from.is_none_or(|p| common.get(p).is_some_and(|c| c.contains(t.as_str()))))
                    .map(|(t, _, _)| t.as_str())
                    .collect()
            })
            .collect();
        for (i, pc) in points.iter_mut().enumerate() {
            if !pc.usable || pc.order {
                continue;
            }
            let seen_fixed = reference.get(i).and_then(|r| fixed.get(*r));
            pc.unique = pc
                .variants
                .iter()
                .flatten()
                .filter(|t| {
                    by_token.get(*t).is_some_and(|v| v.len() == 1)
                        && !seen_fixed.is_some_and(|f| f.contains(t.as_str()))
                })
                .cloned()
                .collect();
            let all = pc.variants.iter().flatten().all(|t| pc.unique.contains(t));
            pc.global = all && !pc.unique.is_empty();
            if pc.unique.is_empty() && pc.anchors.is_empty() {
                pc.usable = false;
                pc.reason = "no anchor on its line and its words occur elsewhere";
            }
        }
        let styles = [
            ('t', doc.styles.time),
            ('d', doc.styles.date),
            ('m', doc.styles.distance),
        ]
        .into_iter()
        .filter_map(|(kind, p)| {
            p.map(|point| StyleCues {
                point,
                strings: style_strings(d, kind),
            })
        })
        .collect();
        let mut by_anchor: HashMap<String, Vec<(usize, i64)>> = HashMap::new();
        for (i, pc) in points.iter().enumerate() {
            if pc.usable {
                for (a, delta) in &pc.anchors {
                    by_anchor.entry(a.clone()).or_default().push((i, *delta));
                }
            }
        }
        for list in by_token.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        let mut analysis = Self {
            vocab,
            points,
            by_token,
            by_anchor,
            styles,
        };
        analysis.validate(d);
        analysis
    }

    /// Drops the points misread on clean copies of every audience.
    fn validate(&mut self, d: &Disclosure) {
        let n = d.document().points.len();
        let mut bad = vec![false; n];
        for round in 0..6u8 {
            for audience in Audience::ALL {
                let r = crate::doc::Recipient {
                    codeword: crate::Codeword([round.wrapping_mul(37).wrapping_add(audience as u8 * 101 + 1); 32]),
                    audience,
                };
                let symbols = d.symbols(&r);
                let text = d.render_symbols(&symbols, audience);
                for (i, seen) in self.observe(d, &text, false).into_iter().enumerate() {
                    if let (Some(seen), Some(truth)) = (seen, symbols.get(i))
                        && d.visible(i, audience)
                        && !seen.contains(truth)
                        && let Some(b) = bad.get_mut(i)
                    {
                        *b = true;
                    }
                }
            }
        }
        for (pc, b) in self.points.iter_mut().zip(bad) {
            if b && pc.usable {
                pc.usable = false;
                pc.reason = "misread on clean copies";
            }
        }
        let styles_bad: Vec<usize> = self
            .styles
            .iter()
            .enumerate()
            .filter(|(_, s)| s.strings.iter().any(Vec::is_empty))
            .map(|(k, _)| k)
            .collect();
        for k in styles_bad.into_iter().rev() {
            if k < self.styles.len() {
                self.styles.remove(k);
            }
        }
    }

    /// Points that can be observed.
    pub fn usable(&self) -> usize {
        self.points.iter().filter(|p| p.usable).count() + self.styles.len()
    }

    /// Why point `i` cannot be observed (`None` if it can).
    pub fn unusable_reason(&self, i: usize) -> Option<&'static str> {
        if self.is_usable(i) {
            return None;
        }
        Some(self.points.get(i).map_or("", |p| p.reason))
            .map(|r| if r.is_empty() { "style or single variant" } else { r })
    }

    /// Whether point `i` can be observed.
    pub fn is_usable(&self, i: usize) -> bool {
        self.points.get(i).is_some_and(|p| p.usable) || self.styles.iter().any(|s| s.point == i)
    }

    /// The variants of each point consistent with `text` (`None`: not observed). With
    /// `facts_only`, wording and format points are not looked at.
    pub fn observe(&self, d: &Disclosure, text: &str, facts_only: bool) -> Vec<Option<Vec<usize>>> {
        let doc = d.document();
        let n = doc.points.len();
        let mut out: Vec<Option<Vec<usize>>> = vec![None; n];
        let toks = self.vocab.repair(&canon::tokens(text));
        let mut positions: HashMap<&str, Vec<i64>> = HashMap::new();
        for (q, t) in toks.iter().enumerate() {
            positions.entry(t.as_str()).or_default().push(q as i64);
        }
        let is_fact = |i: usize| doc.points.get(i).is_some_and(|p| p.kind == Kind::Fact);
        // Assign each cue occurrence to the point that best explains it.
        let mut assigned: Vec<Vec<(i64, &str)>> = vec![Vec::new(); n];
        let wmax = self.points.iter().map(|p| p.window).max().unwrap_or(0);
        for (q, t) in toks.iter().enumerate() {
            let Some(cands) = self.by_token.get(t) else { continue };
            let allowed = |i: usize| {
                self.points.get(i).is_some_and(|p| p.usable)
                    && (!facts_only || is_fact(i))
                    && cands.binary_search(&i).is_ok()
            };
            // A cue unique to one point counts wherever it is.
            let unique = cands
                .iter()
                .copied()
                .find(|&i| allowed(i) && self.points.get(i).is_some_and(|p| p.global || p.unique.contains(t)));
            let best = if let Some(i) = unique {
                Some(i)
            } else {
                // Candidates supported by anchors around the cue: (point, cost, anchors near).
                let q = q as i64;
                let mut near: Vec<(usize, i64, Vec<&str>)> = Vec::new();
                let lo = (q - wmax).max(0) as usize;
                let hi = ((q + wmax) as usize).min(toks.len().saturating_sub(1));
                for pa in lo..=hi {
                    let Some(a) = toks.get(pa) else { continue };
                    for &(i, delta) in self.by_anchor.get(a).map_or(&[][..], Vec::as_slice) {
                        let Some(pc) = self.points.get(i) else { continue };
                        let off = q - pa as i64;
                        if off.abs() > pc.window || !allowed(i) {
                            continue;
                        }
                        // A cue on the other side of its anchor costs more.
                        let flip = if (off < 0) != (delta < 0) { SIDE_PENALTY } else { 0 };
                        let cost = (off - delta).abs() + flip;
                        match near.iter_mut().find(|(j, _, _)| *j == i) {
                            Some(entry) => {
                                entry.1 = entry.1.min(cost);
                                if !entry.2.contains(&a.as_str()) {
                                    entry.2.push(a.as_str());
                                }
                            }
                            None => near.push((i, cost, vec![a.as_str()])),
                        }
                    }
                }
                let mut best: Option<(usize, i64, usize)> = None;
                let mut tie = false;
                for (i, cost, anchors) in near {
                    let support = anchors.len();
                    if cost > SLACK {
                        continue;
                    }
                    match best {
                        None => best = Some((i, cost, support)),
                        Some((_, c, s)) if cost < c || (cost == c && support > s) => {
                            best = Some((i, cost, support));
                            tie = false;
                        }
                        Some((j, c, s)) if cost == c && support == s && j != i => tie = true,
                        _ => {}
                    }
                }
                best.filter(|_| !tie).map(|(i, _, _)| i)
            };
            if let Some(i) = best
                && let Some(list) = assigned.get_mut(i)
            {
                list.push((q as i64, t.as_str()));
            }
        }
        for (i, pc) in self.points.iter().enumerate() {
            let Some(found) = assigned.get(i).filter(|f| !f.is_empty()) else {
                continue;
            };
            let k = pc.variants.len();
            let consistent: Vec<usize> = if pc.order {
                let mut seq: Vec<&str> = Vec::new();
                for (_, t) in found {
                    if !seq.contains(t) {
                        seq.push(t);
                    }
                }
                if seq.len() < 2 {
                    continue;
                }
                (0..k)
                    .filter(|v| {
                        let mut it = pc.variants.get(*v).into_iter().flatten();
                        seq.iter().all(|s| it.any(|x| x == s))
                    })
                    .collect()
            } else {
                (0..k)
                    .filter(|v| {
                        pc.variants
                            .get(*v)
                            .is_some_and(|cues| found.iter().all(|(_, t)| cues.iter().any(|c| c == t)))
                    })
                    .collect()
            };
            if !consistent.is_empty()
                && consistent.len() < k
                && let Some(slot) = out.get_mut(i)
            {
                *slot = Some(consistent);
            }
        }
        if !facts_only {
            let lt = canon::light(text);
            for s in &self.styles {
                let present: Vec<usize> = s
                    .strings
                    .iter()
                    .enumerate()
                    .filter(|(_, strings)| strings.iter().any(|x| lt.contains(x.as_str())))
                    .map(|(v, _)| v)
                    .collect();
                if present.len() == 1
                    && let Some(slot) = out.get_mut(s.point)
                {
                    *slot = Some(present);
                }
            }
        }
        out
    }

    /// Like [`Analysis::observe`], for every point, usable or not (diagnostics).
    pub fn observe_all(&self, d: &Disclosure, text: &str) -> Vec<Option<Vec<usize>>> {
        let mut all = self.clone();
        for p in &mut all.points {
            if !p.variants.is_empty() {
                p.usable = true;
            }
        }
        all.observe(d, text, false)
    }

    /// The variants of point `i` that a stated value is consistent with (`None`: the value
    /// says nothing about the point).
    pub fn observe_value(&self, i: usize, value: &str) -> Option<Vec<usize>> {
        let pc = self.points.get(i).filter(|p| p.usable && !p.order)?;
        let toks = self.vocab.repair(&canon::tokens(value));
        let present: Vec<&String> = toks
            .iter()
            .filter(|t| pc.variants.iter().flatten().any(|c| c == *t))
            .collect();
        if present.is_empty() {
            return None;
        }
        let consistent: Vec<usize> = (0..pc.variants.len())
            .filter(|v| {
                pc.variants
                    .get(*v)
                    .is_some_and(|cues| present.iter().all(|t| cues.contains(t)))
            })
            .collect();
        (!consistent.is_empty() && consistent.len() < pc.variants.len()).then_some(consistent)
    }
}
