//! Canonical tokens: what a text says, whatever its surface.
//!
//! A leaked text is retyped, photographed and OCR'd, translated and back, or retold. Before
//! matching, both the brief and the leak go through the same canonicalisation:
//!
//! - Unicode compatibility decomposition, diacritics dropped, look-alike letters from other
//!   scripts (Cyrillic, Greek, full-width forms) mapped to Latin, invisible characters
//!   removed, typographic quotes and dashes made plain, case folded;
//! - runs mixing digits with a few look-alike letters (`O8:l5`) read as numbers;
//! - times in any format (`08:15`, `0815 hrs`, `8.15 am`, `07h52`, `0815Z`) become `@HHMM`,
//!   dates in any usual format `#YYYYMMDD` (or `#MMDD`), numbers written out
//!   (`fifteen`, `twenty-five`, `a quarter of an hour`) become digits, thousands separators
//!   go, units and common abbreviations are expanded, British and American spellings folded;
//! - initials are joined (`M. A.` → `ma`), and words are stemmed lightly (`checks`,
//!   `checked` → `check`).
//!
//! [`Vocabulary`] then repairs a leak's tokens against the words a brief can contain:
//! words run together, words split, OCR confusions and one-letter typos.

use std::collections::{HashMap, HashSet};
use unicode_normalization::UnicodeNormalization;

/// Function words: never used as cues or anchors (translations and summaries drop or change
/// them first), but kept in the token stream.
pub const STOPWORDS: &[&str] = &[
    "a", "an", "the", "of", "to", "and", "or", "in", "on", "at", "by", "for", "with", "from", "is", "are", "be",
    "will", "shall", "this", "that", "these", "those", "it", "its", "as", "into", "onto", "your", "you", "we", "our",
    "their", "there", "then", "than", "who", "which", "any", "all", "each", "if", "so", "not", "no", "do", "does",
    "has", "have", "was", "were", "been", "can", "could", "should", "would", "may", "must", "up", "out", "off", "over",
    "under", "utc", "z", "hour", "minute", "km", "m", "next", "after", "per", "every", "one",
];

/// Whether `t` is a function word (see [`STOPWORDS`]).
pub fn is_stopword(t: &str) -> bool {
    STOPWORDS.contains(&t)
}

fn lookalike(c: char) -> char {
    match c {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'А' => 'a',
        'В' => 'b',
        'Е' => 'e',
        'К' => 'k',
        'М' => 'm',
        'Н' => 'h',
        'О' => 'o',
        'Р' => 'p',
        'С' => 'c',
        'Т' => 't',
        'Х' => 'x',
        'І' => 'i',
        'Ј' => 'j',
        'Ѕ' => 's',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'Α' => 'a',
        'Β' => 'b',
        'Ε' => 'e',
        'Η' => 'h',
        'Ι' => 'i',
        'Κ' => 'k',
        'Μ' => 'm',
        'Ν' => 'n',
        'Ο' => 'o',
        'Ρ' => 'p',
        'Τ' => 't',
        'Υ' => 'y',
        'Χ' => 'x',
        'Ζ' => 'z',
        // Punctuation
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' | '`' | '\u{b4}' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}' | '\u{2212}' => '-',
        '\u{2024}' | '\u{3002}' => '.',
        '\u{2236}' | '\u{a789}' => ':',
        '|' | '\u{01c0}' => 'l',
        c => c,
    }
}

fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}' | '\u{034f}'
    )
}

/// Lower-cased, look-alike-folded, invisible-free text, whitespace collapsed: the light
/// normalisation (formats kept) used to see format choices.
pub fn light(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfkd() {
        if invisible(c) || unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = lookalike(c);
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Lex {
    Word(String),
    Num(String),
    Punct(char),
}

/// Splits light text into words, digit runs and punctuation (digit/letter boundaries split,
/// except that a digit run holding a few look-alike letters is read as digits).
fn lex(text: &str) -> Vec<Lex> {
    let mut out = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<Lex>| {
        if run.is_empty() {
            return;
        }
        let digits = run.chars().filter(char::is_ascii_digit).count();
        let letters: Vec<char> = run.chars().filter(|c| !c.is_ascii_digit()).collect();
        let numeric_lookalikes = letters.iter().all(|c| matches!(c, 'o' | 'l' | 'i' | 's'));
        let letter_lookalikes = run
            .chars()
            .filter(char::is_ascii_digit)
            .all(|c| matches!(c, '0' | '1' | '5'));
        if digits > 0 && letters.len() >= 2 && letters.len() > digits && letter_lookalikes {
            let folded: String = run
                .chars()
                .map(|c| match c {
                    '0' => 'o',
                    '1' => 'l',
                    '5' => 's',
                    c => c,
                })
                .collect();
            out.push(Lex::Word(folded));
        } else if digits > 0 && !letters.is_empty() && numeric_lookalikes && digits >= letters.len() {
            let folded: String = run
                .chars()
                .map(|c| match c {
                    'o' => '0',
                    'l' | 'i' => '1',
                    's' => '5',
                    c => c,
                })
                .collect();
            out.push(Lex::Num(folded));
        } else {
            // Split at digit/letter boundaries.
            let mut piece = String::new();
            let mut digit = None;
            for c in run.chars() {
                let d = c.is_ascii_digit();
                if digit.is_some_and(|p| p != d) {
                    out.push(if digit == Some(true) {
                        Lex::Num(std::mem::take(&mut piece))
                    } else {
                        Lex::Word(std::mem::take(&mut piece))
                    });
                }
                digit = Some(d);
                piece.push(c);
            }
            if !piece.is_empty() {
                out.push(if digit == Some(true) {
                    Lex::Num(piece)
                } else {
                    Lex::Word(piece)
                });
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            if !c.is_whitespace() {
                out.push(Lex::Punct(c));
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

fn month(w: &str) -> Option<u32> {
    let m = match w {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    };
    Some(m)
}

fn number_word(w: &str) -> Option<u32> {
    let n = match w {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    };
    Some(n)
}

fn expand(w: &str) -> &str {
    match w {
        "rd" => "road",
        "st" | "str" => "street",
        "ave" | "av" => "avenue",
        "approx" | "appx" | "approximate" => "approximately",
        "ops" | "operation" => "operations",
        "coord" => "coordinator",
        "veh" | "vehs" => "vehicle",
        "hosp" => "hospital",
        "stn" => "station",
        "govt" => "government",
        "dept" => "department",
        "tel" | "ph" | "telephone" => "phone",
        "hq" => "headquarters",
        "pax" => "passenger",
        "kms" | "kilometre" | "kilometres" | "kilometer" | "kilometers" => "km",
        "metre" | "metres" | "meter" | "meters" | "mtr" | "mtrs" => "m",
        "min" | "mins" | "minutes" => "minute",
        "hr" | "hrs" | "hours" => "hour",
        "whilst" => "while",
        "toward" => "towards",
        "armored" => "armoured",
        "center" => "centre",
        "gray" => "grey",
        "organize" => "organise",
        "&" => "and",
        "thru" => "through",
        "w" => "with",
        "till" | "til" | "until" => "until",
        w => w,
    }
}

/// Light stemming, the same on both sides of a match.
pub fn stem(w: &str) -> String {
    if !w.chars().all(|c| c.is_alphabetic()) {
        return w.to_owned();
    }
    let mut s: String = w.to_owned();
    let n = s.chars().count();
    if n > 4 && s.ends_with("ies") {
        s.truncate(s.len() - 3);
        s.push('y');
    } else if n > 3 && s.ends_with('s') && !s.ends_with("ss") && !s.ends_with("us") && !s.ends_with("is") {
        s.pop();
    }
    let n = s.chars().count();
    if n > 5 && s.ends_with("ing") {
        s.truncate(s.len() - 3);
    } else if n > 4 && s.ends_with("ed") {
        s.truncate(s.len() - 2);
    }
    if s.chars().count() > 3 && s.ends_with('e') {
        s.pop();
    }
    s
}

fn time_token(h: u32, m: u32) -> Option<String> {
    (h < 24 && m < 60).then(|| format!("@{h:02}{m:02}"))
}

fn is_num(l: Option<&Lex>) -> Option<&str> {
    match l {
        Some(Lex::Num(n)) => Some(n.as_str()),
        _ => None,
    }
}

fn is_word<'a>(l: Option<&'a Lex>, words: &[&str]) -> Option<&'a str> {
    match l {
        Some(Lex::Word(w)) if words.contains(&w.as_str()) => Some(w.as_str()),
        _ => None,
    }
}

fn is_punct(l: Option<&Lex>, p: char) -> bool {
    matches!(l, Some(Lex::Punct(c)) if *c == p)
}

const AM: &[&str] = &["am", "pm"];
const TIME_SUFFIX: &[&str] = &["hrs", "hr", "h", "hours", "z", "utc", "gmt", "zulu", "lt", "local"];

/// The canonical tokens of a text.
pub fn tokens(text: &str) -> Vec<String> {
    let lexes = lex(&light(text));
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    let at = |k: usize| lexes.get(k);
    while let Some(l) = at(i) {
        match l {
            Lex::Num(a) => {
                let a_val: u32 = a.parse().unwrap_or(u32::MAX);
                // Dates: YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY, D Month [YYYY].
                if a.len() == 4
                    && (is_punct(at(i + 1), '-') || is_punct(at(i + 1), '/'))
                    && let (Some(m), Some(d)) = (is_num(at(i + 2)), is_num(at(i + 4)))
                    && (is_punct(at(i + 3), '-') || is_punct(at(i + 3), '/'))
                {
                    out.push(format!(
                        "#{a}{:02}{:02}",
                        m.parse::<u32>().unwrap_or(0),
                        d.parse::<u32>().unwrap_or(0)
                    ));
                    i += 5;
                    continue;
                }
                if a.len() <= 2
                    && let Some(sep) = match at(i + 1) {
                        Some(Lex::Punct(c @ ('/' | '.' | '-'))) => Some(*c),
                        _ => None,
                    }
                    && let (Some(m), Some(y)) = (is_num(at(i + 2)), is_num(at(i + 4)))
                    && is_punct(at(i + 3), sep)
                    && y.len() == 4
                    && m.len() <= 2
                {
                    out.push(format!("#{y}{:02}{:02}", m.parse::<u32>().unwrap_or(0), a_val));
                    i += 5;
                    continue;
                }
                if a.len() <= 2
                    && let Some(Lex::Word(w)) = at(i + 1)
                    && let Some(m) = month(w)
                {
                    if let Some(y) = is_num(at(i + 2)).filter(|y| y.len() == 4) {
                        out.push(format!("#{y}{m:02}{a_val:02}"));
                        i += 3;
                    } else {
                        out.push(format!("#{m:02}{a_val:02}"));
                        i += 2;
                    }
                    continue;
                }
                // Times: H:MM, H.MM / H:MM with am/pm or a time suffix, HHMM with a suffix,
                // 07h52, H am/pm.
                if a.len() <= 2
                    && (is_punct(at(i + 1), ':') || is_punct(at(i + 1), '.') || is_word(at(i + 1), &["h"]).is_some())
                    && let Some(b) = is_num(at(i + 2)).filter(|b| b.len() == 2)
                {
                    let colon = is_punct(at(i + 1), ':') || is_word(at(i + 1), &["h"]).is_some();
                    let ampm = is_word(at(i + 3), AM)
                        .or_else(|| is_word(at(i + 3), &["a", "p"]).filter(|_| is_punct(at(i + 4), '.')));
                    let suffix = is_word(at(i + 3), TIME_SUFFIX).is_some();
                    if colon || ampm.is_some() || suffix {
                        let mut h = a_val;
                        let m: u32 = b.parse().unwrap_or(99);
                        let mut used = 3;
                        if let Some(x) = ampm {
                            if x.starts_with('p') && h < 12 {
                                h += 12;
                            } else if x.starts_with('a') && h == 12 {
                                h = 0;
                            }
                            used = if x.len() == 1 { 5 } else { 4 };
                            if x.len() == 1 && is_word(at(i + 5), &["m"]).is_some() {
                                used = if is_punct(at(i + 6), '.') { 7 } else { 6 };
                            }
                        } else if suffix {
                            used = 4;
                        }
                        if let Some(t) = time_token(h, m) {
                            out.push(t);
                            i += used;
                            continue;
                        }
                    }
                }
                if a.len() == 4 && is_word(at(i + 1), TIME_SUFFIX).is_some() {
                    let (h, m) = (a_val / 100, a_val % 100);
                    if let Some(t) = time_token(h, m) {
                        out.push(t);
                        i += 2;
                        continue;
                    }
                }
                if a.len() <= 2
                    && let Some(x) = is_word(at(i + 1), AM)
                {
                    let h = match (x, a_val) {
                        ("pm", h) if h < 12 => h + 12,
                        ("am", 12) => 0,
                        (_, h) => h,
                    };
                    if let Some(t) = time_token(h, 0) {
                        out.push(t);
                        i += 2;
                        continue;
                    }
                }
                // Thousands separators and decimals.
                let mut value = a.trim_start_matches('0').to_owned();
                if value.is_empty() {
                    value.push('0');
                }
                let mut j = i + 1;
                while is_punct(at(j), ',')
                    && let Some(g) = is_num(at(j + 1)).filter(|g| g.len() == 3)
                {
                    value.push_str(g);
                    j += 2;
                }
                if is_punct(at(j), '.')
                    && let Some(f) = is_num(at(j + 1))
                {
                    let f = f.trim_end_matches('0');
                    if !f.is_empty() {
                        value.push('.');
                        value.push_str(f);
                    }
                    j += 2;
                }
                out.push(value);
                i = j;
            }
            Lex::Word(w) => {
                // A time zone after a time says nothing more.
                if out.last().is_some_and(|t| t.starts_with('@'))
                    && matches!(
                        w.as_str(),
                        "utc" | "gmt" | "z" | "zulu" | "local" | "lt" | "hrs" | "hours"
                    )
                {
                    i += 1;
                    continue;
                }
                // Initials: m . a . → ma
                if w.chars().count() == 1 && is_punct(at(i + 1), '.') {
                    let mut joined = w.clone();
                    let mut j = i + 2;
                    while let Some(Lex::Word(x)) = at(j)
                        && x.chars().count() == 1
                        && is_punct(at(j + 1), '.')
                    {
                        joined.push_str(x);
                        j += 2;
                    }
                    if joined.chars().count() > 1 {
                        out.push(joined);
                        i = j;
                        continue;
                    }
                }
                // Month Day[,] [Year]
                if let Some(m) = month(w)
                    && let Some(d) = is_num(at(i + 1)).filter(|d| d.len() <= 2)
                    && w.len() > 2
                {
                    let d: u32 = d.parse().unwrap_or(0);
                    let mut j = i + 2;
                    if is_punct(at(j), ',') {
                        j += 1;
                    }
                    if let Some(y) = is_num(at(j)).filter(|y| y.len() == 4) {
                        out.push(format!("#{y}{m:02}{d:02}"));
                        i = j + 1;
                    } else {
                        out.push(format!("#{m:02}{d:02}"));
                        i += 2;
                    }
                    continue;
                }
                // "a quarter of an hour", "half an hour"
                if w == "quarter" && is_word(at(i + 3), &["hour"]).is_some() {
                    out.push("15".into());
                    out.push("minute".into());
                    i += 4;
                    continue;
                }
                if w == "half" && is_word(at(i + 2), &["hour"]).is_some() {
                    out.push("30".into());
                    out.push("minute".into());
                    i += 3;
                    continue;
                }
                if let Some(n) = number_word(w) {
                    let mut n = n;
                    let mut j = i + 1;
                    if (20..=90).contains(&n) && n % 10 == 0 {
                        let k = if is_punct(at(j), '-') { j + 1 } else { j };
                        if let Some(Lex::Word(u)) = at(k)
                            && let Some(u) = number_word(u).filter(|u| (1..=9).contains(u))
                        {
                            n += u;
                            j = k + 1;
                        }
                    }
                    // "one" alone stays a word (it is a pronoun too).
                    if n == 1 && j == i + 1 {
                        out.push("one".into());
                    } else {
                        out.push(n.to_string());
                    }
                    i = j;
                    continue;
                }
                let e = expand(w);
                out.push(if e != w || is_stopword(w) {
                    e.to_owned()
                } else {
                    stem(w)
                });
                i += 1;
            }
            Lex::Punct(c) => {
                if *c == '&' {
                    out.push("and".into());
                }
                i += 1;
            }
        }
    }
    out
}

/// The sentence-ish boundaries of a light text are not used: leaks lose punctuation. Tokens
/// are matched by proximity instead (see `detect`).
///
/// A skeleton folds the letters OCR confuses most (`i l 1`, `o 0`, `rn m`, `vv w`, `cl d`).
pub fn skeleton(w: &str) -> String {
    let w = w.replace("rn", "m").replace("vv", "w").replace("cl", "d");
    w.chars()
        .map(|c| match c {
            'i' | 'l' | '1' | 'j' => 'l',
            '0' => 'o',
            '5' => 's',
            'u' => 'v',
            c => c,
        })
        .collect()
}

fn deletions(w: &str) -> Vec<String> {
    let chars: Vec<char> = w.chars().collect();
    (0..chars.len())
        .map(|skip| {
            chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| *c)
                .collect()
        })
        .collect()
}

/// The words a brief can contain, to repair a leak's tokens against.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    words: HashSet<String>,
    by_skeleton: HashMap<String, String>,
    by_deletion: HashMap<String, Vec<String>>,
}

impl Vocabulary {
    /// The vocabulary of these tokens.
    pub fn new<'a>(tokens: impl IntoIterator<Item = &'a String>) -> Self {
        let mut v = Self::default();
        for t in tokens {
            if v.words.contains(t) {
                continue;
            }
            v.words.insert(t.clone());
            if t.chars().all(char::is_alphabetic) {
                let sk = skeleton(t);
                v.by_skeleton.entry(sk.clone()).or_insert_with(|| t.clone());
                if sk.chars().count() >= 5 {
                    for d in deletions(&sk) {
                        v.by_deletion.entry(d).or_default().push(t.clone());
                    }
                    v.by_deletion.entry(sk).or_default().push(t.clone());
                }
            }
        }
        for list in v.by_deletion.values_mut() {
            list.sort();
            list.dedup();
        }
        v
    }

    /// Whether the word is known.
    pub fn contains(&self, w: &str) -> bool {
        self.words.contains(w)
    }

    fn known(&self, w: &str) -> Option<String> {
        if self.words.contains(w) {
            return Some(w.to_owned());
        }
        let st = stem(w);
        if self.words.contains(&st) {
            return Some(st);
        }
        self.by_skeleton.get(&skeleton(&st)).cloned()
    }

    fn fuzzy(&self, w: &str) -> Option<String> {
        let sk = skeleton(w);
        if sk.chars().count() < 5 {
            return None;
        }
        let mut found: Option<&String> = None;
        let mut probe = deletions(&sk);
        probe.push(sk);
        for d in &probe {
            for cand in self.by_deletion.get(d).into_iter().flatten() {
                match found {
                    None => found = Some(cand),
                    Some(f) if f == cand => {}
                    Some(_) => return None, // ambiguous
                }
            }
        }
        found.cloned()
    }

    fn split(&self, w: &str) -> Option<Vec<String>> {
        let chars: Vec<char> = w.chars().collect();
        let n = chars.len();
        if !(4..=60).contains(&n) || !w.chars().all(char::is_alphabetic) {
            return None;
        }
        // best[i]: fewest known parts covering chars[..i].
        let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
        if let Some(first) = best.first_mut() {
            *first = Some((0, 0));
        }
        for end in 1..=n {
            for start in end.saturating_sub(20)..end {
                let Some(Some((parts, _))) = best.get(start).copied() else {
                    continue;
                };
                let piece: String = chars.get(start..end).map(|s| s.iter().collect()).unwrap_or_default();
                let ok = (piece.chars().count() >= 2 || piece == "a") && self.known(&piece).is_some();
                if ok
                    && best.get(end).copied().flatten().is_none_or(|(p, _)| parts + 1 < p)
                    && let Some(slot) = best.get_mut(end)
                {
                    *slot = Some((parts + 1, start));
                }
            }
        }
        let (parts, _) = best.get(n).copied().flatten()?;
        if !(2..=4).contains(&parts) {
            return None;
        }
        let mut out = Vec::new();
        let mut end = n;
        while end > 0 {
            let (_, start) = best.get(end).copied().flatten()?;
            let piece: String = chars.get(start..end)?.iter().collect();
            out.push(self.known(&piece)?);
            end = start;
        }
        out.reverse();
        Some(out)
    }

    /// Repairs tokens: joins fragments, splits run-together words, and corrects OCR
    /// confusions and one-letter typos into known words. Unknown words stay as they are.
    pub fn repair(&self, tokens: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(tokens.len());
        let mut i = 0;
        let special = |t: &str| t.starts_with('@') || t.starts_with('#') || t.chars().any(|c| c.is_ascii_digit());
        while let Some(t) = tokens.get(i) {
            if special(t) || self.words.contains(t) {
                out.push(t.clone());
                i += 1;
                continue;
            }
            if let Some(next) = tokens.get(i + 1).filter(|n| !special(n) && !self.words.contains(*n))
                && let Some(j) = self.known(&format!("{t}{next}"))
            {
                out.push(j);
                i += 2;
                continue;
            }
            if let Some(k) = self.known(t) {
                out.push(k);
            } else if let Some(parts) = self.split(t) {
                out.extend(parts);
            } else if let Some(f) = self.fuzzy(t) {
                out.push(f);
            } else {
                out.push(t.clone());
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(tokens(input).join(" "), expected, "{input:?}");
    }

    #[test]
    fn times_in_any_format() {
        check("08:15 UTC", "@0815");
        check("0815 hrs UTC", "@0815");
        check("0815Z", "@0815");
        check("8.15 am", "@0815");
        check("8:15 p.m.", "@2015");
        check("07h52", "@0752");
        check("O8:l5", "@0815");
        check("at 9 pm", "at @2100");
    }

    #[test]
    fn dates_numbers_and_abbreviations() {
        check("1 December 2026", "#20261201");
        check("2026-12-01", "#20261201");
        check("01/12/2026", "#20261201");
        check("December 1, 2026", "#20261201");
        check("01 DEC 2026", "#20261201");
        check("6,100 metres", "6100 m");
        check("6.1 km", "6.1 km");
        check("fifteen minutes", "15 minute");
        check("twenty-five mins", "25 minute");
        check("a quarter of an hour", "a 15 minute");
        check("M.A. Jinnah Rd", "ma jinnah road");
        check("approx. 25 min", "approximately 25 minute");
        check("checks checked checking", "check check check");
    }

    #[test]
    fn lookalikes_and_invisible_characters() {
        // Cyrillic а and о, a zero-width space, a soft hyphen, full-width letters.
        check("N\u{0430}pier R\u{043e}ad", "napier road");
        check("Na\u{200b}pi\u{00ad}er", "napier");
        check("ＮＡＰＩＥＲ", "napier");
        check("café", "caf");
    }

    #[test]
    fn the_vocabulary_repairs_spacing_and_typos() {
        let known: Vec<String> = tokens("Napier Road radio check every fifteen minutes Shahrah-e-Liaquat");
        let v = Vocabulary::new(known.iter());
        let repaired = |s: &str| v.repair(&tokens(s)).join(" ");
        assert_eq!(repaired("napierroad"), "napier road");
        assert_eq!(repaired("nap ier road"), "napier road");
        assert_eq!(repaired("nap1er road"), "napier road");
        assert_eq!(repaired("nihstar"), "nihstar"); // unknown and far from anything: kept
        assert_eq!(repaired("raido chcek"), "radio check");
        assert_eq!(repaired("unrelated words"), "unrelat word");
    }
}
