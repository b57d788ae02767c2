//! A document with choice points, and the copy each recipient gets.
//!
//! A [`Document`] is a sequence of [`Part`]s (fixed text, a choice point, a value formatted
//! in the copy's style, or a list whose items a point includes or omits), each optionally
//! shown only to some [`Audience`]s. A [`Point`] has two or more variants; its label is
//! unique in the document and names the point in every draw. A [`Disclosure`] is a document
//! bound to a movement's key: the biases, the candidate values and the variants shared by
//! the operative audiences are fixed by it, and each recipient's copy follows their
//! [`Codeword`].

use crate::code::{self, CodeParams, Codeword, Kind, MovementKey, Prf};

use std::collections::HashSet;

/// A recipient's place in the movement, which decides the facts they must share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// A member of the escort team (its commander and drivers): acts on the ground.
    Escort,
    /// A coordinator who planned the movement (the operations room).
    Planner,
    /// Anyone else shown the brief (a company security officer, a liaison officer…).
    Informed,
}

impl Audience {
    /// Every audience.
    pub const ALL: [Audience; 3] = [Audience::Escort, Audience::Planner, Audience::Informed];

    fn bit(self) -> u8 {
        match self {
            Self::Escort => 1,
            Self::Planner => 2,
            Self::Informed => 4,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Escort => "escort",
            Self::Planner => "planner",
            Self::Informed => "informed",
        }
    }
}

/// A set of audiences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Audiences(u8);

impl Audiences {
    /// Nobody.
    pub const NONE: Self = Self(0);
    /// Everybody.
    pub const ALL: Self = Self(7);

    /// The set of these audiences.
    pub fn of(list: &[Audience]) -> Self {
        Self(list.iter().fold(0, |acc, a| acc | a.bit()))
    }

    /// Whether `a` is in the set.
    pub fn contains(self, a: Audience) -> bool {
        self.0 & a.bit() != 0
    }

    /// The audiences in the set.
    pub fn list(self) -> Vec<Audience> {
        Audience::ALL.into_iter().filter(|a| self.contains(*a)).collect()
    }
}

/// What the audiences that share a point receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// This variant (for example the exact departure time).
    Fixed(usize),
    /// One variant drawn once per movement from the movement key, with the point's bias
    /// (for example which of two manned fallback points the escort uses).
    Drawn,
}

/// A choice point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Unique, stable name (`route/1/3/verb`, `fact/staging_code`).
    pub label: String,
    /// Wording, style or fact.
    pub kind: Kind,
    /// Its variants' texts (values may hold [`value`] placeholders).
    pub variants: Vec<String>,
    /// `variants[..drawable]` are drawn for recipients who do not share the point; the
    /// rest are given only to the audiences sharing it.
    pub drawable: usize,
    /// Audiences that all receive the same variant.
    pub shared_with: Audiences,
    /// Which variant they receive.
    pub shared: Shared,
    /// For facts: the fact's name (`ready`, `staging_code`, `route`…).
    pub fact: Option<String>,
    /// Whether the point is an operative fact for the audiences sharing it (they act on it
    /// together); informational facts may differ even among the escort.
    pub operative: bool,
}

/// A value shown in the copy's style.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A time of day (Unix seconds).
    Time(i64),
    /// A date (Unix seconds).
    Date(i64),
    /// A distance in metres.
    Distance(f64),
}

const OPEN: char = '\u{e000}';
const CLOSE: char = '\u{e001}';

/// A placeholder for `v` inside a text; rendered in the copy's style.
pub fn value(v: Value) -> String {
    match v {
        Value::Time(t) => format!("{OPEN}t{t}{CLOSE}"),
        Value::Date(t) => format!("{OPEN}d{t}{CLOSE}"),
        Value::Distance(m) => format!("{OPEN}m{}{CLOSE}", m.round() as i64),
    }
}

/// One part of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Text every copy (of the audiences shown it) shares.
    Text(String),
    /// A choice point (index into [`Document::points`]).
    Point(usize),
    /// A list whose items are included when their point (if any) gives variant 0, joined
    /// as English ("A, B and C").
    List(Vec<(Option<usize>, String)>),
}

/// A part and who sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Only these audiences see it (`None`: everyone).
    pub only: Option<Audiences>,
    /// What it is.
    pub segment: Segment,
}

/// The copy's formats: which style point decides times, dates and distances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Styles {
    /// Point deciding the time format.
    pub time: Option<usize>,
    /// Point deciding the date format.
    pub date: Option<usize>,
    /// Point deciding the distance format.
    pub distance: Option<usize>,
}

/// A document with choice points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Its parts, in order.
    pub parts: Vec<Part>,
    /// Its choice points.
    pub points: Vec<Point>,
    /// Its style points.
    pub styles: Styles,
}

/// Time formats, in the order of the time style point's variants.
pub const TIME_STYLES: [&str; 3] = ["08:30 UTC", "0830 hrs UTC", "08:30Z"];
/// Date formats.
pub const DATE_STYLES: [&str; 3] = ["1 December 2026", "2026-12-01", "01 DEC 2026"];
/// Distance formats.
pub const DISTANCE_STYLES: [&str; 2] = ["6.1 km", "6,100 metres"];

fn format_value(kind: char, n: i64, style: usize) -> String {
    match kind {
        't' => {
            let s = n.rem_euclid(86_400);
            let (h, m) = (s / 3600, s % 3600 / 60);
            match style {
                1 => format!("{h:02}{m:02} hrs UTC"),
                2 => format!("{h:02}:{m:02}Z"),
                _ => format!("{h:02}:{m:02} UTC"),
            }
        }
        'd' => match time::OffsetDateTime::from_unix_timestamp(n) {
            Ok(d) => match style {
                1 => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
                2 => format!(
                    "{:02} {} {}",
                    d.day(),
                    d.month().to_string().get(..3).unwrap_or("").to_uppercase(),
                    d.year()
                ),
                _ => format!("{} {} {}", d.day(), d.month(), d.year()),
            },
            Err(_) => "(date unknown)".into(),
        },
        _ => {
            let m = n.max(0);
            match style {
                1 => {
                    let (k, r) = (m / 1000, m % 1000);
                    if k > 0 {
                        format!("{k},{r:03} metres")
                    } else {
                        format!("{r} metres")
                    }
                }
                _ => format!("{:.1} km", m as f64 / 1000.0),
            }
        }
    }
}

/// Replaces the placeholders of `text` with values in these styles.
pub fn fill(text: &str, styles: [usize; 3]) -> String {
    if !text.contains(OPEN) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + OPEN.len_utf8()..).unwrap_or("");
        let Some(end) = after.find(CLOSE) else {
            rest = after;
            continue;
        };
        let inner = after.get(..end).unwrap_or("");
        let mut chars = inner.chars();
        let kind = chars.next().unwrap_or('t');
        let n: i64 = chars.as_str().parse().unwrap_or(0);
        let style = match kind {
            't' => styles[0],
            'd' => styles[1],
            _ => styles[2],
        };
        out.push_str(&format_value(kind, n, style));
        rest = after.get(end + CLOSE.len_utf8()..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Joins items as English: "A", "A and B", "A, B and C".
pub fn join_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Builds a document; labels are made unique.
#[derive(Debug, Default)]
pub struct Builder {
    doc: Document,
    only: Option<Audiences>,
    labels: HashSet<String>,
}

impl Builder {
    fn push(&mut self, segment: Segment) {
        let only = self.only;
        if let Segment::Text(t) = &segment
            && let Some(Part {
                only: last_only,
                segment: Segment::Text(last),
            }) = self.doc.parts.last_mut()
            && *last_only == only
        {
            last.push_str(t);
            return;
        }
        self.doc.parts.push(Part { only, segment });
    }

    /// Appends fixed text.
    pub fn text(&mut self, t: &str) -> &mut Self {
        if !t.is_empty() {
            self.push(Segment::Text(t.to_owned()));
        }
        self
    }

    fn unique(&mut self, label: &str) -> String {
        let mut l = label.to_owned();
        let mut n = 2;
        while self.labels.contains(&l) {
            l = format!("{label}#{n}");
            n += 1;
        }
        self.labels.insert(l.clone());
        l
    }

    /// Adds a point without placing it; returns its index.
    pub fn declare(&mut self, mut point: Point) -> usize {
        point.label = self.unique(&point.label);
        point.drawable = point.drawable.clamp(1, point.variants.len().max(1));
        self.doc.points.push(point);
        self.doc.points.len() - 1
    }

    /// Appends a wording choice between `variants` (all drawn, shared by nobody); a single
    /// distinct variant becomes fixed text.
    pub fn choice(&mut self, label: &str, variants: &[&str]) -> &mut Self {
        let mut distinct: Vec<String> = Vec::new();
        for v in variants {
            if !distinct.iter().any(|d| d == v) {
                distinct.push((*v).to_owned());
            }
        }
        if distinct.len() < 2 {
            let t = distinct.first().cloned().unwrap_or_default();
            return self.text(&t);
        }
        let n = distinct.len();
        let i = self.declare(Point {
            label: label.to_owned(),
            kind: Kind::Wording,
            variants: distinct,
            drawable: n,
            shared_with: Audiences::NONE,
            shared: Shared::Drawn,
            fact: None,
            operative: false,
        });
        self.push(Segment::Point(i));
        self
    }

    /// Places a declared point.
    pub fn place(&mut self, point: usize) -> &mut Self {
        self.push(Segment::Point(point));
        self
    }

    /// Appends a list.
    pub fn list(&mut self, items: Vec<(Option<usize>, String)>) -> &mut Self {
        self.push(Segment::List(items));
        self
    }

    /// Appends what `f` builds, shown only to `audiences`.
    pub fn only(&mut self, audiences: Audiences, f: impl FnOnce(&mut Self)) -> &mut Self {
        let saved = self.only;
        self.only = Some(audiences);
        f(self);
        self.only = saved;
        self
    }

    /// Declares the style points.
    pub fn styles(&mut self) {
        let style = |label: &str, names: &[&str]| Point {
            label: label.to_owned(),
            kind: Kind::Style,
            variants: names.iter().map(|s| (*s).to_owned()).collect(),
            drawable: names.len(),
            shared_with: Audiences::NONE,
            shared: Shared::Drawn,
            fact: None,
            operative: false,
        };
        let time = self.declare(style("style/time", &TIME_STYLES));
        let date = self.declare(style("style/date", &DATE_STYLES));
        let distance = self.declare(style("style/distance", &DISTANCE_STYLES));
        self.doc.styles = Styles {
            time: Some(time),
            date: Some(date),
            distance: Some(distance),
        };
    }

    /// The document.
    pub fn finish(self) -> Document {
        self.doc
    }
}

/// A recipient: their codeword and their place in the movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Recipient {
    /// Their secret codeword.
    pub codeword: Codeword,
    /// Their audience.
    pub audience: Audience,
}

/// One variant a recipient received.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Received {
    /// The point.
    pub label: String,
    /// For facts, the fact's name.
    pub fact: Option<String>,
    /// Whether it is a fact (otherwise a wording or format choice).
    pub is_fact: bool,
    /// Whether the recipient's audience shares this variant (operative facts).
    pub shared: bool,
    /// The variant's text as rendered (empty: the item is omitted).
    pub text: String,
}

/// A document bound to a movement's key.
#[derive(Debug, Clone)]
pub struct Disclosure {
    doc: Document,
    params: CodeParams,
    biases: Vec<Vec<f64>>,
    shared: Vec<usize>,
}

impl Disclosure {
    /// Binds `doc` to a movement's key.
    pub fn new(doc: Document, key: &MovementKey, params: CodeParams) -> Self {
        let prf = Prf::new(&key.0);
        let biases: Vec<Vec<f64>> = doc
            .points
            .iter()
            .map(|p| code::biases(&prf, &p.label, p.drawable, p.kind, params))
            .collect();
        let shared = doc
            .points
            .iter()
            .zip(&biases)
            .map(|(p, b)| match p.shared {
                Shared::Fixed(i) => i.min(p.variants.len().saturating_sub(1)),
                Shared::Drawn => code::draw(b, prf.unit("shared", &p.label, 0)),
            })
            .collect();
        Self {
            doc,
            params,
            biases,
            shared,
        }
    }

    /// The document.
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// The code's parameters.
    pub fn params(&self) -> CodeParams {
        self.params
    }

    /// The bias of point `i` (probability of each drawable variant).
    pub fn bias(&self, i: usize) -> &[f64] {
        self.biases.get(i).map_or(&[], Vec::as_slice)
    }

    /// The variant the audiences sharing point `i` receive.
    pub fn shared_variant(&self, i: usize) -> Option<usize> {
        self.shared.get(i).copied()
    }

    /// Whether point `i`'s shared variant is random (drawn from the movement key).
    pub fn shared_is_random(&self, i: usize) -> bool {
        self.doc.points.get(i).is_some_and(|p| p.shared == Shared::Drawn)
    }

    /// The variant of every point for a recipient.
    pub fn symbols(&self, r: &Recipient) -> Vec<usize> {
        let prf = Prf::new(&r.codeword.0);
        self.doc
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if p.shared_with.contains(r.audience) {
                    self.shared.get(i).copied().unwrap_or(0)
                } else {
                    code::draw(self.bias(i), prf.unit("variant", &p.label, 0))
                }
            })
            .collect()
    }

    fn style_of(&self, symbols: &[usize]) -> [usize; 3] {
        let s = self.doc.styles;
        let get = |p: Option<usize>| p.and_then(|i| symbols.get(i)).copied().unwrap_or(0);
        [get(s.time), get(s.date), get(s.distance)]
    }

    /// The copy for these symbols, as seen by `audience`.
    pub fn render_symbols(&self, symbols: &[usize], audience: Audience) -> String {
        let styles = self.style_of(symbols);
        let mut out = String::new();
        for part in &self.doc.parts {
            if part.only.is_some_and(|o| !o.contains(audience)) {
                continue;
            }
            match &part.segment {
                Segment::Text(t) => out.push_str(&fill(t, styles)),
                Segment::Point(i) => {
                    let v = symbols.get(*i).copied().unwrap_or(0);
                    let text = self
                        .doc
                        .points
                        .get(*i)
                        .and_then(|p| p.variants.get(v))
                        .map_or("", String::as_str);
                    out.push_str(&fill(text, styles));
                }
                Segment::List(items) => {
                    let kept: Vec<String> = items
                        .iter()
                        .filter(|(p, _)| p.is_none_or(|i| symbols.get(i).copied().unwrap_or(0) == 0))
                        .map(|(_, t)| fill(t, styles))
                        .collect();
                    let refs: Vec<&str> = kept.iter().map(String::as_str).collect();
                    out.push_str(&join_list(&refs));
                }
            }
        }
        out
    }

    /// The copy of a recipient.
    pub fn render(&self, r: &Recipient) -> String {
        self.render_symbols(&self.symbols(r), r.audience)
    }

    /// Whether point `i` appears in copies of `audience`.
    pub fn visible(&self, i: usize, audience: Audience) -> bool {
        self.doc.parts.iter().any(|part| {
            part.only.is_none_or(|o| o.contains(audience))
                && match &part.segment {
                    Segment::Point(p) => *p == i,
                    Segment::List(items) => items.iter().any(|(p, _)| *p == Some(i)),
                    Segment::Text(_) => false,
                }
        }) || self.doc.styles.time == Some(i)
            || self.doc.styles.date == Some(i)
            || self.doc.styles.distance == Some(i)
    }

    /// The variants a recipient received (for the planners' exposure view).
    pub fn received(&self, r: &Recipient) -> Vec<Received> {
        let symbols = self.symbols(r);
        let styles = self.style_of(&symbols);
        self.doc
            .points
            .iter()
            .enumerate()
            .filter(|(i, _)| self.visible(*i, r.audience))
            .map(|(i, p)| {
                let v = symbols.get(i).copied().unwrap_or(0);
                Received {
                    label: p.label.clone(),
                    fact: p.fact.clone(),
                    is_fact: p.kind == Kind::Fact,
                    shared: p.shared_with.contains(r.audience),
                    text: fill(p.variants.get(v).map_or("", String::as_str), styles),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_copy_style() {
        let t = value(Value::Time(1_796_032_800));
        assert_eq!(fill(&t, [0, 0, 0]), "10:00 UTC");
        assert_eq!(fill(&t, [1, 0, 0]), "1000 hrs UTC");
        assert_eq!(fill(&t, [2, 0, 0]), "10:00Z");
        let d = value(Value::Date(1_796_032_800));
        assert_eq!(fill(&d, [0, 0, 0]), "30 November 2026");
        assert_eq!(fill(&d, [0, 1, 0]), "2026-11-30");
        assert_eq!(fill(&d, [0, 2, 0]), "30 NOV 2026");
        let m = value(Value::Distance(6100.0));
        assert_eq!(fill(&format!("{m} away"), [0, 0, 0]), "6.1 km away");
        assert_eq!(fill(&m, [0, 0, 1]), "6,100 metres");
        assert_eq!(join_list(&["A", "B", "C"]), "A, B and C");
    }

    #[test]
    fn labels_are_unique_and_single_variants_are_text() {
        let mut b = Builder::default();
        b.choice("x", &["a", "b"])
            .choice("x", &["c", "d"])
            .choice("y", &["same", "same"]);
        let doc = b.finish();
        assert_eq!(doc.points.len(), 2);
        assert_ne!(doc.points[0].label, doc.points[1].label);
        assert!(doc.parts.iter().any(|p| p.segment == Segment::Text("same".into())));
    }
}
