//! Simulated leaks, for the leak-tracing tests and benchmark: a deterministic generator, a
//! fictional brief, and what leakers do to a copy — excerpts, retyping, OCR noise, dropping
//! and shuffling sentences, re-formatting times and numbers, translation-style rewrites,
//! retelling a few facts in their own words, and colluders neutralising the differences
//! between their copies.
//!
//! These transformations are written independently of the tracer's canonicaliser: their
//! look-alike tables, formats, function words and synonyms are their own (some of what they
//! produce the canonicaliser does not undo — as with real leakers).

use crate::brief::{BriefContent, BriefLeg};
use crate::code::Codeword;

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

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A random codeword (tests; production codewords come from the OS CSPRNG).
    pub fn codeword(&mut self) -> Codeword {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            let x = self.next_u64().to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(x) {
                *d = s;
            }
        }
        Codeword(out)
    }

    /// Shuffles in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
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
            ("Operations room".into(), "radio net OPS-1".into()),
            ("Coordinator".into(), "A. Rehmat".into()),
        ],
        fallback_sites: vec!["Civil Lines Police Station".into(), "Frere Hall Guard Post".into()],
    }
}

/// Invented road names for larger synthetic briefs.
pub fn road_name(rng: &mut Rng) -> String {
    const FIRST: &[&str] = &[
        "Qasim",
        "Tariq",
        "Bahadur",
        "Shamsi",
        "Zaidi",
        "Korangi",
        "Lyari",
        "Gulbahar",
        "Rizvi",
        "Saddar",
        "Mehran",
        "Faisal",
        "Haidery",
        "Nazimabad",
        "Malir",
        "Baldia",
        "Orangi",
        "Gulistan",
        "Jauhar",
        "Kemari",
        "Manora",
        "Soldier",
        "Garden",
        "Frere",
        "Clifton",
        "Boat",
        "Teen",
        "Hawks",
        "Sea",
        "Shah",
    ];
    const SECOND: &[&str] = &[
        "Road",
        "Street",
        "Avenue",
        "Lane",
        "Boulevard",
        "Link Road",
        "Bypass",
        "Gali",
    ];
    let a = FIRST.get(rng.below(FIRST.len())).copied().unwrap_or("Qasim");
    let b = FIRST.get(rng.below(FIRST.len())).copied().unwrap_or("Tariq");
    let c = SECOND.get(rng.below(SECOND.len())).copied().unwrap_or("Road");
    format!("{a} {b} {c}")
}

/// A brief with `legs` legs of `roads` roads each (invented names), for size tests.
pub fn sized_content(legs: usize, roads: usize, rng: &mut Rng) -> BriefContent {
    let mut c = sample_content();
    let sites = [
        "Depot A",
        "Workshop B",
        "Camp C",
        "Yard D",
        "Office E",
        "Annex F",
        "Store G",
        "Lab H",
        "Gate J",
    ];
    c.legs = (0..legs)
        .map(|i| BriefLeg {
            from: format!("{} {}", sites.get(i % sites.len()).copied().unwrap_or("Site"), i + 1),
            to: format!(
                "{} {}",
                sites.get((i + 1) % sites.len()).copied().unwrap_or("Site"),
                i + 2
            ),
            roads: (0..roads).map(|_| road_name(rng)).collect(),
            distance_m: 2000.0 + 400.0 * roads as f64,
            duration_s: 300.0 + 90.0 * roads as f64,
        })
        .collect();
    c
}

/// A contiguous excerpt of about `fraction` of the text's words, at a random place.
pub fn excerpt(text: &str, fraction: f64, rng: &mut Rng) -> String {
    let words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let take = ((words.len() as f64 * fraction).round() as usize).clamp(1, words.len().max(1));
    let start = rng.below(words.len().saturating_sub(take) + 1);
    words.iter().skip(start).take(take).copied().collect()
}

/// Retyped: lower-cased, reflowed, invisible characters stripped, a typo (two adjacent
/// letters swapped) in `typo_rate` of the words.
pub fn retype(text: &str, typo_rate: f64, rng: &mut Rng) -> String {
    let flat: String = text
        .chars()
        .filter(|c| !matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'))
        .collect::<String>()
        .to_lowercase();
    flat.split_whitespace()
        .map(|w| {
            let mut chars: Vec<char> = w.chars().collect();
            if chars.len() >= 4 && rng.chance(typo_rate) {
                let i = 1 + rng.below(chars.len() - 2);
                chars.swap(i - 1, i);
            }
            chars.into_iter().collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(if rng.below(2) == 0 { " " } else { "  " })
}

/// OCR-like noise: `rate` of the characters replaced by a look-alike (including letters of
/// other scripts and confusions no canonicaliser folds), 2 % of the spaces dropped and a
/// space inserted into 1 % of the words.
pub fn ocr_noise(text: &str, rate: f64, rng: &mut Rng) -> String {
    let confusions: &[(char, &[&str])] = &[
        ('o', &["0", "\u{43e}", "c"]),
        ('O', &["0", "Q"]),
        ('l', &["1", "|", "I"]),
        ('I', &["l", "1"]),
        ('i', &["1", "l", "\u{456}"]),
        ('s', &["5", "\u{455}"]),
        ('S', &["5", "\u{405}"]),
        ('e', &["c", "\u{435}"]),
        ('a', &["o", "\u{430}", "e"]),
        ('c', &["e", "\u{441}"]),
        ('h', &["b", "n"]),
        ('n', &["h", "r"]),
        ('u', &["v", "ii"]),
        ('m', &["rn", "nn"]),
        ('w', &["vv"]),
        ('d', &["cl"]),
        ('t', &["f", "l"]),
        ('r', &["n"]),
        ('g', &["q", "9"]),
        ('B', &["8"]),
        ('0', &["O", "o"]),
        ('1', &["l", "I"]),
        ('5', &["S"]),
        ('8', &["B"]),
        (':', &[";", "."]),
        ('.', &[",", ""]),
    ];
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_word = false;
    for ch in text.chars() {
        if ch == ' ' {
            if !rng.chance(0.02) {
                out.push(' ');
            }
            in_word = false;
            continue;
        }
        if in_word && ch.is_alphabetic() && rng.chance(0.01 / 5.0) {
            out.push(' ');
        }
        in_word = ch.is_alphanumeric();
        if rng.chance(rate)
            && let Some((_, subs)) = confusions.iter().find(|(c, _)| *c == ch)
        {
            out.push_str(subs.get(rng.below(subs.len())).copied().unwrap_or(""));
        } else {
            out.push(ch);
        }
    }
    out
}

/// Sentences (split at full stops, question marks and line ends).
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let next = chars.get(i + 1).copied();
        let end = c == '\n' || ((c == '.' || c == '?' || c == '!') && next.is_none_or(char::is_whitespace));
        if end {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_owned());
            }
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// Keeps `keep` of the sentences, shuffled, joined with spaces.
pub fn drop_and_shuffle(text: &str, keep: f64, rng: &mut Rng) -> String {
    let mut s = sentences(text);
    rng.shuffle(&mut s);
    let n = ((s.len() as f64 * keep).round() as usize).max(1);
    s.truncate(n);
    s.join(" ")
}

fn parse_hhmm(w: &str) -> Option<(u32, u32)> {
    let digits: String = w.chars().filter(char::is_ascii_digit).collect();
    let colon = w.contains(':');
    if digits.len() == 4 && (colon || w.ends_with('Z') || w.chars().all(|c| c.is_ascii_digit())) {
        let h: u32 = digits.get(..2)?.parse().ok()?;
        let m: u32 = digits.get(2..)?.parse().ok()?;
        return (h < 24 && m < 60).then_some((h, m));
    }
    None
}

const WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// A time the way a person might write it.
pub fn say_time(h: u32, m: u32, rng: &mut Rng) -> String {
    let h12 = if h.is_multiple_of(12) { 12 } else { h % 12 };
    let ap = if h < 12 { "am" } else { "pm" };
    match rng.below(6) {
        0 => format!("{h}:{m:02}"),
        1 => format!("{h12}.{m:02}{ap}"),
        2 => format!("{h12}:{m:02} {}", ap.to_uppercase()),
        3 => format!("{h:02}{m:02} hours"),
        4 => format!("{h:02}{m:02}h"),
        _ => format!("{h:02}:{m:02} local"),
    }
}

/// A number the way a person might write it.
pub fn say_number(n: u32, rng: &mut Rng) -> String {
    match (rng.below(2), WORDS.get(n as usize)) {
        (0, Some(w)) => (*w).to_owned(),
        _ => n.to_string(),
    }
}

/// Times, numbers, dates and common words re-formatted the way another writer would.
pub fn reformat(text: &str, rng: &mut Rng) -> String {
    let abbreviations: &[(&str, &str)] = &[
        ("Road", "Rd"),
        ("Street", "St."),
        ("minutes", "mins"),
        ("approximately", "approx."),
        ("Operations", "Ops"),
        ("kilometres", "km"),
        ("December", "Dec"),
        ("November", "Nov"),
        ("Coordinator", "Coord."),
    ];
    let mut out: Vec<String> = Vec::new();
    let words: Vec<&str> = text.split(' ').collect();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let (core, tail) = match w.find(['\n', ',', ';']) {
            Some(k) if k > 0 => (w.get(..k).unwrap_or(w), w.get(k..).unwrap_or("")),
            _ => (*w, ""),
        };
        let core_trim = core.trim_end_matches('.');
        let dot = if core_trim.len() < core.len() { "." } else { "" };
        if let Some((h, m)) = parse_hhmm(core_trim) {
            // Drop a following "UTC" or "hrs".
            let mut skip = 0;
            while words.get(i + 1 + skip).is_some_and(|x| {
                let x = x.trim_end_matches(['.', ',', '\n']);
                x == "UTC" || x == "hrs"
            }) {
                skip += 1;
            }
            let last = words.get(i + skip).copied().unwrap_or("");
            let trailing: String = last.chars().filter(|c| matches!(c, '.' | ',' | '\n')).collect();
            out.push(format!(
                "{}{}",
                say_time(h, m, rng),
                if skip > 0 { trailing } else { format!("{dot}{tail}") }
            ));
            i += 1 + skip;
            continue;
        }
        if let Ok(n) = core_trim.parse::<u32>()
            && n <= 20
            && rng.chance(0.7)
        {
            out.push(format!("{}{dot}{tail}", say_number(n, rng)));
            i += 1;
            continue;
        }
        if let Some((_, short)) = abbreviations.iter().find(|(long, _)| *long == core_trim) {
            out.push(format!("{short}{dot}{tail}"));
            i += 1;
            continue;
        }
        out.push((*w).to_owned());
        i += 1;
    }
    out.join(" ")
}

/// Function words a translation drops (this generator's own list).
const FUNCTION: &[&str] = &[
    "the", "a", "an", "of", "to", "at", "on", "in", "by", "is", "are", "be", "will", "and", "for", "from", "with",
    "this", "that", "its", "it", "then", "onto", "into", "there", "should", "do", "not",
];

/// Synonyms a translator may choose (this generator's own thesaurus).
const SYNONYMS: &[(&str, &str)] = &[
    ("immediately", "straight away"),
    ("vehicle", "car"),
    ("route", "way"),
    ("leave", "go"),
    ("about", "around"),
    ("approximately", "around"),
    ("Proceed", "Go"),
    ("Continue", "Keep going"),
    ("driving", "drive"),
    ("persons", "people"),
    ("Passengers", "People"),
    ("commander", "chief"),
    ("convoy", "column"),
    ("identities", "IDs"),
    ("obstructed", "closed"),
    ("blocked", "closed"),
    ("nearest", "closest"),
    ("Destroy", "Burn"),
    ("Report", "Tell"),
    ("Arrival", "Arriving"),
    ("Depart", "Go"),
];

/// A translation-style rewrite: in each sentence most function words dropped and the words
/// of each clause reordered (the verb moved to the end, as in Urdu or Japanese word order,
/// or two halves swapped); with `synonyms`, a third of the words with a synonym in this
/// generator's thesaurus are replaced by it, as a translation back into English would.
pub fn translate(text: &str, synonyms: bool, rng: &mut Rng) -> String {
    let mut out: Vec<String> = Vec::new();
    for sentence in sentences(text) {
        let mut clauses: Vec<String> = Vec::new();
        for clause in sentence.split([',', ':', ';']) {
            let mut words: Vec<String> = Vec::new();
            for w in clause.split_whitespace() {
                let lower = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
                if FUNCTION.contains(&lower.as_str()) && rng.chance(0.8) {
                    continue;
                }
                let bare = w.trim_end_matches(['.', '!', '?']);
                words.push(match SYNONYMS.iter().find(|(a, _)| *a == bare) {
                    Some((_, b)) if synonyms && rng.chance(0.33) => (*b).to_owned(),
                    _ => bare.to_owned(),
                });
            }
            if words.len() >= 3 {
                match rng.below(3) {
                    0 => {
                        let first = words.remove(0);
                        words.push(first);
                    }
                    1 => {
                        let half = words.len() / 2;
                        words.rotate_left(half);
                    }
                    _ => {}
                }
            }
            if !words.is_empty() {
                clauses.push(words.join(" "));
            }
        }
        out.push(format!("{}.", clauses.join(", ")));
    }
    out.join(" ")
}

/// A fact a leaker may retell: its kind and the value their copy showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    /// `ready`, `arrival`, `staging_code`, `fallback`, `radio_check`, `route`, `duration`,
    /// `departure`, `date`, `persons`, `vehicles`, `call_sign`, `origin`, `destination`.
    pub kind: String,
    /// The value as the copy showed it.
    pub value: String,
    /// Whether it carries a recipient-specific variant.
    pub marked: bool,
}

fn hhmm_in(text: &str) -> Option<(u32, u32)> {
    text.split_whitespace().find_map(parse_hhmm)
}

/// The facts a copy states, read from what the recipient received and the brief's content.
pub fn told_facts(received: &[crate::doc::Received], content: &BriefContent, audience: crate::Audience) -> Vec<Told> {
    let mut out: Vec<Told> = Vec::new();
    let mut route: Vec<String> = Vec::new();
    for r in received.iter().filter(|r| r.is_fact) {
        let kind = r.fact.clone().unwrap_or_default();
        if kind == "route" {
            if !r.text.is_empty() {
                route.push(r.text.clone());
            }
            continue;
        }
        out.push(Told {
            kind,
            value: r.text.clone(),
            marked: !r.shared,
        });
    }
    let operative = audience != crate::Audience::Informed;
    for leg in &content.legs {
        if operative || leg.roads.len() < 3 {
            for road in leg.roads.iter().skip(1).take(leg.roads.len().saturating_sub(2)) {
                out.push(Told {
                    kind: "route".into(),
                    value: road.clone(),
                    marked: false,
                });
            }
        }
        for road in [leg.roads.first(), leg.roads.last()].into_iter().flatten() {
            out.push(Told {
                kind: "route".into(),
                value: road.clone(),
                marked: false,
            });
        }
        out.push(Told {
            kind: "origin".into(),
            value: leg.from.clone(),
            marked: false,
        });
        out.push(Told {
            kind: "destination".into(),
            value: leg.to.clone(),
            marked: false,
        });
    }
    for road in route {
        out.push(Told {
            kind: "route".into(),
            value: road,
            marked: true,
        });
    }
    if operative {
        out.push(Told {
            kind: "departure".into(),
            value: crate::doc::fill(
                &crate::doc::value(crate::doc::Value::Time(content.departure)),
                [0, 0, 0],
            ),
            marked: false,
        });
    }
    for (kind, value) in [
        (
            "date",
            crate::doc::fill(
                &crate::doc::value(crate::doc::Value::Date(content.departure)),
                [0, 0, 0],
            ),
        ),
        ("persons", content.persons.join(" and ")),
        ("vehicles", content.vehicles.join(" and ")),
        ("call_sign", content.call_sign.clone()),
    ] {
        out.push(Told {
            kind: kind.into(),
            value,
            marked: false,
        });
    }
    out
}

fn pick<'a>(options: &[&'a str], rng: &mut Rng) -> &'a str {
    options.get(rng.below(options.len())).copied().unwrap_or("")
}

/// One fact retold in the leaker's words.
pub fn retell(fact: &Told, rng: &mut Rng) -> String {
    let time = |rng: &mut Rng| match hhmm_in(&fact.value) {
        Some((h, m)) => say_time(h, m, rng),
        None => fact.value.clone(),
    };
    let number = |rng: &mut Rng| match fact.value.trim().parse::<u32>() {
        Ok(n) => say_number(n, rng),
        Err(_) => fact.value.clone(),
    };
    match fact.kind.as_str() {
        "ready" => {
            let t = time(rng);
            let form = pick(
                &[
                    "the engineers will be waiting from {}",
                    "they get picked up after {}",
                    "pickup is {} or later",
                    "people ready at {}",
                ],
                rng,
            );
            form.replace("{}", &t)
        }
        "departure" => {
            let t = time(rng);
            pick(&["the convoy leaves at {}", "they set off {}", "departure {}"], rng).replace("{}", &t)
        }
        "arrival" => {
            let t = time(rng);
            pick(
                &[
                    "they will not get there before {}",
                    "arriving sometime after {}",
                    "arrival not earlier than {}",
                ],
                rng,
            )
            .replace("{}", &t)
        }
        "staging_code" => {
            let v = if rng.chance(0.5) {
                fact.value.to_lowercase()
            } else {
                fact.value.clone()
            };
            pick(
                &[
                    "the meeting point is called {}",
                    "they assemble at '{}'",
                    "gathering place codeword {}",
                ],
                rng,
            )
            .replace("{}", &v)
        }
        "fallback" => pick(
            &[
                "if anything goes wrong they run to {}",
                "backup place: {}",
                "plan B is {}",
            ],
            rng,
        )
        .replace("{}", &fact.value),
        "radio_check" => {
            let n = number(rng);
            pick(
                &[
                    "they call in on the radio every {} minutes",
                    "radio contact each {} min",
                    "check-ins every {} mins",
                ],
                rng,
            )
            .replace("{}", &n)
        }
        "duration" => {
            let n = number(rng);
            pick(
                &[
                    "the drive is {} minutes",
                    "{} mins on the road",
                    "takes them {} minutes",
                ],
                rng,
            )
            .replace("{}", &n)
        }
        "route" => pick(&["they go along {}", "via {}", "passing {}"], rng).replace("{}", &fact.value),
        "date" => format!("on {}", fact.value),
        "persons" => format!("{} are in the car", fact.value),
        "vehicles" => format!("they use {}", fact.value.to_lowercase()),
        "call_sign" => format!("the escort is {}", fact.value),
        "origin" => format!("starting from {}", fact.value),
        "destination" => format!("going to {}", fact.value),
        _ => fact.value.clone(),
    }
}

/// A summary of `n` facts drawn from `facts` (only marked ones with `marked_only`), each
/// retold in the leaker's words, in random order.
pub fn summary(facts: &[Told], n: usize, marked_only: bool, rng: &mut Rng) -> String {
    let mut pool: Vec<&Told> = facts.iter().filter(|f| !marked_only || f.marked).collect();
    rng.shuffle(&mut pool);
    pool.truncate(n);
    let lines: Vec<String> = pool.iter().map(|f| retell(f, rng)).collect();
    lines.join(". ")
}

fn lcs<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    let (n, m) = (a.len(), b.len());
    let mut t = vec![0u32; (n + 1) * (m + 1)];
    let idx = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let v = if a.get(i) == b.get(j) {
                t.get(idx(i + 1, j + 1)).copied().unwrap_or(0) + 1
            } else {
                t.get(idx(i + 1, j))
                    .copied()
                    .unwrap_or(0)
                    .max(t.get(idx(i, j + 1)).copied().unwrap_or(0))
            };
            if let Some(slot) = t.get_mut(idx(i, j)) {
                *slot = v;
            }
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if a.get(i) == b.get(j) {
            if let Some(w) = a.get(i) {
                out.push(*w);
            }
            i += 1;
            j += 1;
        } else if t.get(idx(i + 1, j)) >= t.get(idx(i, j + 1)) {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Colluders compare their copies word by word and keep only what all of them share: every
/// difference is neutralised (removed).
pub fn neutralise(copies: &[String]) -> String {
    let mut iter = copies.iter();
    let Some(first) = iter.next() else { return String::new() };
    let mut common: Vec<&str> = first.split_whitespace().collect();
    for c in iter {
        let words: Vec<&str> = c.split_whitespace().collect();
        common = lcs(&common, &words);
    }
    common.join(" ")
}

/// Two colluders' copies mixed sentence by sentence.
pub fn mix(a: &str, b: &str, rng: &mut Rng) -> String {
    let (sa, sb) = (sentences(a), sentences(b));
    sa.iter()
        .zip(sb.iter())
        .map(|(x, y)| if rng.below(2) == 0 { x.as_str() } else { y.as_str() })
        .collect::<Vec<_>>()
        .join(" ")
}
