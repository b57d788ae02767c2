//! The movement brief as a document with choice points.
//!
//! A [`Document`] alternates fixed text and [`Piece::Slot`]s, each slot two wordings that
//! mean the same (a synonym, a time or number format, the order of independent items,
//! punctuation, a sentence template). A recipient's copy takes, at slot `i`, the wording
//! given by bit `i` of their [`Codeword`]. Every slot sits between fixed text, so the tracer
//! can recognise it by its neighbours without knowing the other slots' choices.

use std::fmt::Write as _;

/// Bits in a codeword; slots past this reuse bits cyclically.
pub const CODEWORD_BITS: usize = 256;

/// A recipient's codeword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Codeword(pub [u8; CODEWORD_BITS / 8]);

impl Codeword {
    /// Bit `i` (cyclic).
    pub fn bit(&self, i: usize) -> bool {
        let i = i % CODEWORD_BITS;
        self.0.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1)
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    /// Parses [`Codeword::to_hex`].
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != CODEWORD_BITS / 4 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; CODEWORD_BITS / 8];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

/// A piece of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text every copy shares.
    Fixed(String),
    /// Two equivalent wordings.
    Slot([String; 2]),
}

/// A document with choice points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Its pieces, in order.
    pub pieces: Vec<Piece>,
}

impl Document {
    /// Number of slots.
    pub fn slot_count(&self) -> usize {
        self.pieces.iter().filter(|p| matches!(p, Piece::Slot(_))).count()
    }

    /// The copy for `codeword`.
    pub fn render(&self, codeword: &Codeword) -> String {
        let mut out = String::new();
        let mut i = 0;
        for p in &self.pieces {
            match p {
                Piece::Fixed(t) => out.push_str(t),
                Piece::Slot(v) => {
                    let [a, b] = v;
                    out.push_str(if codeword.bit(i) { b } else { a });
                    i += 1;
                }
            }
        }
        out
    }

    /// The copy where every slot takes wording `which` (for analysis).
    pub fn render_all(&self, which: bool) -> String {
        let cw = Codeword([if which { 0xff } else { 0 }; CODEWORD_BITS / 8]);
        self.render(&cw)
    }
}

/// Builds a document; keeps fixed text and slots alternating.
#[derive(Debug, Default)]
pub struct Builder {
    doc: Document,
}

impl Builder {
    /// Appends fixed text.
    pub fn text(&mut self, t: &str) -> &mut Self {
        match self.doc.pieces.last_mut() {
            Some(Piece::Fixed(last)) => last.push_str(t),
            _ => self.doc.pieces.push(Piece::Fixed(t.to_owned())),
        }
        self
    }

    /// Appends a choice between two wordings (identical wordings become fixed text).
    pub fn choice(&mut self, a: &str, b: &str) -> &mut Self {
        if a == b {
            return self.text(a);
        }
        self.doc.pieces.push(Piece::Slot([a.to_owned(), b.to_owned()]));
        self
    }

    /// The document.
    pub fn finish(self) -> Document {
        self.doc
    }
}

/// One leg as the brief tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct BriefLeg {
    /// Where it starts (site name or coordinates).
    pub from: String,
    /// Where it ends.
    pub to: String,
    /// Roads in order.
    pub roads: Vec<String>,
    /// Metres.
    pub distance_m: f64,
    /// Seconds.
    pub duration_s: f64,
}

/// What a brief says.
#[derive(Debug, Clone, PartialEq)]
pub struct BriefContent {
    /// Short reference of the movement.
    pub reference: String,
    /// Purpose.
    pub purpose: String,
    /// Names of the persons moved.
    pub persons: Vec<String>,
    /// Departure, Unix seconds (UTC).
    pub departure: i64,
    /// Arrival.
    pub arrival: i64,
    /// Legs.
    pub legs: Vec<BriefLeg>,
    /// Escort call sign.
    pub call_sign: String,
    /// Escort vehicles.
    pub vehicles: Vec<String>,
    /// Contacts: (role, name).
    pub contacts: Vec<(String, String)>,
}

fn hhmm(t: i64) -> (String, String) {
    let s = t.rem_euclid(86_400);
    let (h, m) = (s / 3600, s % 3600 / 60);
    (format!("{h:02}:{m:02} UTC"), format!("{h:02}{m:02} hrs UTC"))
}

fn date(t: i64) -> (String, String) {
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => (
            format!("{} {} {}", d.day(), d.month(), d.year()),
            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        ),
        Err(_) => ("(date unknown)".into(), "(unknown date)".into()),
    }
}

fn km(m: f64) -> (String, String) {
    (format!("{:.1} km", m / 1000.0), format!("{:.0} metres", m))
}

fn minutes(s: f64) -> (String, String) {
    let m = (s / 60.0).ceil().max(1.0);
    (format!("{m:.0} min"), format!("{m:.0} minutes"))
}

fn list(items: &[String]) -> String {
    match items {
        [] => "none".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn reversed(items: &[String]) -> Vec<String> {
    items.iter().rev().cloned().collect()
}

/// The brief of a movement: facts, route by road names, escort, contacts and the emergency
/// procedure, with well over 64 choice points for any movement.
pub fn brief(c: &BriefContent) -> Document {
    let mut b = Builder::default();
    b.text("MOVEMENT BRIEF ")
        .choice("—", "/")
        .text(" reference ")
        .text(&c.reference)
        .text("\nClassification: RESTRICTED ")
        .choice("—", "-")
        .text(" need to know ")
        .choice("only", "basis only")
        .text(".\n\n");
    // Facts.
    let (d1, d2) = date(c.departure);
    let (t1, t2) = hhmm(c.departure);
    let (a1, a2) = hhmm(c.arrival);
    b.text("Purpose")
        .choice(": ", " — ")
        .text(&c.purpose)
        .text("\nDate of movement: ")
        .choice(&d1, &d2)
        .text("\nDeparture ")
        .choice("time", "hour")
        .text(": ")
        .choice(&t1, &t2)
        .text("\nExpected arrival: ")
        .choice(&a1, &a2)
        .text("\nPersons ")
        .choice("moved", "travelling")
        .text(": ")
        .choice(&list(&c.persons), &list(&reversed(&c.persons)))
        .text(".\n\n");
    // Route.
    for (i, leg) in c.legs.iter().enumerate() {
        let (k1, k2) = km(leg.distance_m);
        let (m1, m2) = minutes(leg.duration_s);
        b.text(&format!("Leg {} ", i + 1))
            .choice("from", "starting at")
            .text(&format!(" {} to {}, ", leg.from, leg.to))
            .choice(&k1, &k2)
            .text(", ")
            .choice("about", "approximately")
            .text(" ")
            .choice(&m1, &m2)
            .text(" of driving.\n");
        for (j, road) in leg.roads.iter().enumerate() {
            if j == 0 {
                b.text("Leave ").choice("by", "via").text(" ").text(road).text(".");
            } else {
                b.text(" ")
                    .choice("Then take", "Continue onto")
                    .text(" ")
                    .text(road)
                    .choice(".", ";");
            }
        }
        if !leg.roads.is_empty() {
            b.text("\n");
        }
        b.text("Arrive ")
            .choice("at", "to")
            .text(" ")
            .text(&leg.to)
            .text(".\n\n");
    }
    // Escort.
    b.text("Escort: call sign ")
        .text(&c.call_sign)
        .text(", ")
        .choice("vehicles", "vehicles assigned")
        .text(": ")
        .choice(&list(&c.vehicles), &list(&reversed(&c.vehicles)))
        .text(".\n");
    b.text("The escort commander ")
        .choice("leads", "is in charge of")
        .text(" the convoy and ")
        .choice("decides", "has the final say")
        .text(" on any change of route.\n\n");
    // Contacts.
    let contacts: Vec<String> = c.contacts.iter().map(|(r, n)| format!("{r} {n}")).collect();
    b.text("Contacts: ")
        .choice(&list(&contacts), &list(&reversed(&contacts)))
        .text(".\n\n");
    // Emergency procedure: fixed sentences, many choice points.
    b.text("EMERGENCY PROCEDURE\n");
    let steps: [&[(&str, &str, &str)]; 14] = [
        &[
            ("", "In case of", "In the event of"),
            (" ", "an attack", "attack"),
            (", ", "do not stop", "don't stop"),
            (" and ", "drive through", "keep driving"),
            (".", "", ""),
        ],
        &[
            (" ", "Report", "Signal"),
            (" the ", "contact", "incident"),
            (" to the operations room ", "immediately", "at once"),
            (" on the ", "primary", "main"),
            (" radio net.", "", ""),
        ],
        &[
            ("\n", "If", "Should"),
            (" the route be ", "blocked", "obstructed"),
            (", ", "use", "take"),
            (" the ", "alternate", "alternative"),
            (" route the commander ", "chooses", "selects"),
            (".", "", ""),
        ],
        &[
            (" ", "Never", "Do not ever"),
            (" ", "disclose", "reveal"),
            (" the route or times ", "to", "towards"),
            (" anyone ", "outside", "beyond"),
            (" this brief's recipients.", "", ""),
        ],
        &[
            ("\n", "Keep", "Maintain"),
            (" ", "radio", "radio-set"),
            (" checks every ", "15", "fifteen"),
            (" minutes ", "while", "whilst"),
            (" moving.", "", ""),
        ],
        &[
            (" ", "Passengers", "Protected persons"),
            (" stay ", "inside", "within"),
            (" the vehicle ", "unless", "except when"),
            (" the commander ", "orders", "instructs"),
            (" otherwise.", "", ""),
        ],
        &[
            ("\n", "In a", "During a"),
            (" ", "breakdown", "vehicle failure"),
            (", ", "transfer", "move"),
            (" the persons to the ", "nearest", "closest"),
            (" escort vehicle.", "", ""),
        ],
        &[
            (" ", "Do not", "Never"),
            (" ", "leave", "abandon"),
            (" a vehicle ", "unattended", "alone"),
            (" in a ", "public", "open"),
            (" place.", "", ""),
        ],
        &[
            ("\n", "If", "When"),
            (" a person is ", "injured", "hurt"),
            (", ", "go", "proceed"),
            (" to the ", "nearest", "closest"),
            (" safe site and ", "call", "phone"),
            (" the operations room.", "", ""),
        ],
        &[
            (" ", "Check", "Verify"),
            (" ", "identity", "identities"),
            (" at every ", "stop", "halt"),
            (" before ", "opening", "unlocking"),
            (" doors.", "", ""),
        ],
        &[
            ("\n", "Avoid", "Steer clear of"),
            (" ", "crowds", "gatherings"),
            (" and ", "demonstrations", "protests"),
            (" ", "wherever", "where"),
            (" possible.", "", ""),
        ],
        &[
            (" ", "Destroy", "Shred"),
            (" this brief ", "after", "once"),
            (" the movement ", "ends", "is over"),
            (" and ", "confirm", "report"),
            (" it to the coordinator.", "", ""),
        ],
        &[
            ("\n", "Any", "Every"),
            (" ", "deviation", "departure from the plan"),
            (" ", "must", "has to"),
            (" be ", "reported", "notified"),
            (" within two minutes.", "", ""),
        ],
        &[
            (" ", "Copies", "Duplicates"),
            (" of this brief ", "are", "remain"),
            (" ", "numbered", "individually marked"),
            (" and ", "traceable", "attributable"),
            (".\n", "", ""),
        ],
    ];
    for step in steps {
        for &(before, x, y) in step {
            b.text(before);
            if !x.is_empty() {
                b.choice(x, y);
            }
        }
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> BriefContent {
        BriefContent {
            reference: "MV-0193".into(),
            purpose: "Weekly coordination meeting".into(),
            persons: vec!["Wen Lianhe".into(), "Gao Mingyu".into()],
            departure: 1_796_000_000,
            arrival: 1_796_001_200,
            legs: vec![BriefLeg {
                from: "Kharadar Bridge Works".into(),
                to: "Staff Residence".into(),
                roads: vec!["Napier Road".into(), "M.A. Jinnah Road".into(), "Preedy Street".into()],
                distance_m: 4200.0,
                duration_s: 840.0,
            }],
            call_sign: "FALCON 3".into(),
            vehicles: vec!["Armoured SUV".into(), "Escort pickup".into()],
            contacts: vec![
                ("Operations room".into(), "+92 21 0000000".into()),
                ("Coordinator".into(), "A. Rehmat".into()),
            ],
        }
    }

    #[test]
    fn copies_differ_in_more_than_64_places_and_keep_every_fact() {
        let doc = brief(&sample());
        assert!(doc.slot_count() >= 64, "{} slots", doc.slot_count());
        let a = doc.render(&Codeword([0; 32]));
        let b = doc.render(&Codeword([0xff; 32]));
        assert_ne!(a, b);
        for fact in [
            "FALCON 3",
            "Napier Road",
            "Preedy Street",
            "Wen Lianhe",
            "Staff Residence",
            "MV-0193",
        ] {
            assert!(a.contains(fact) && b.contains(fact), "{fact}");
        }
        // Pieces alternate: no two slots touch.
        for pair in doc.pieces.windows(2) {
            assert!(!matches!(pair, [Piece::Slot(_), Piece::Slot(_)]), "{pair:?}");
        }
    }

    #[test]
    fn codewords_round_trip_as_hex() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0b101;
        let c = Codeword(bytes);
        assert!(c.bit(0) && !c.bit(1) && c.bit(2) && c.bit(256));
        assert_eq!(Codeword::from_hex(&c.to_hex()), Some(c));
        assert_eq!(Codeword::from_hex("zz"), None);
    }
}
