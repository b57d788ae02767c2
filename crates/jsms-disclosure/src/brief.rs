//! The movement brief: what it says, which facts may differ between recipients, and its
//! wording.
//!
//! Every sentence of the brief has wording choices with two to five correct English
//! forms that differ in their content words (so they survive dropped function words and
//! reordering); times, dates and distances follow one format per copy; and the facts that
//! the [`FactRules`] declare operationally equivalent carry recipient-specific values:
//!
//! | fact | those who share it (default: escort and planners) | everyone else |
//! |---|---|---|
//! | departure | the exact time | "be ready from" 10–60 min earlier (one value per minute) |
//! | arrival | the planned time | "not before" 0–45 min earlier |
//! | assembly point code name | one name drawn per movement | a two-word name among 1,024 candidates |
//! | manned fallback rendezvous | one site drawn per movement | any of the manned sites |
//! | radio-check interval | the operative interval | any interval of the rule set |
//! | route | every road, turn by turn | the first and last road, and each other road to one in 4 |
//! | driving time per leg | (informational: nobody shares it) | the planned minutes ± 3 |
//!
//! Every statement any recipient reads is true: readiness before the departure, an arrival
//! bound below the planned arrival, an estimate within the tolerance, a code name the
//! operations room resolves, a manned site. The escort commander and the drivers — who act
//! together — always read the same operative facts (tested for random rule sets).

use crate::code::Kind;
use crate::doc::{Audience, Audiences, Builder, Document, Point, Shared, Value, value};
use serde::{Deserialize, Serialize};

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
    /// Manned sites any of which may serve as the fallback rendezvous (empty: none named).
    pub fallback_sites: Vec<String>,
}

/// Which facts may differ between recipients, and how far — the movement rules'
/// declaration of operational equivalence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FactRules {
    /// Recipients who do not share the departure are told to be ready this many minutes
    /// before it (inclusive range; one value per minute).
    pub ready_minutes_before: [u32; 2],
    /// … and that the arrival is not before the planned arrival minus this many minutes.
    pub arrival_minutes_before: [u32; 2],
    /// Driving-time estimates may differ from the planned duration by this many minutes.
    pub duration_tolerance_minutes: u32,
    /// Whether the driving-time estimate is shared by the operative audiences too.
    pub duration_operative: bool,
    /// Radio-check intervals in minutes; the first is the operative one.
    pub radio_check_minutes: Vec<u32>,
    /// Candidate code names for the assembly point, per movement.
    pub code_names: usize,
    /// Whether recipients who do not drive get a partial route (first and last road, each
    /// other road or not) instead of the turn-by-turn route.
    pub partial_route: bool,
    /// In a partial route, each road between the first and the last is named to one
    /// recipient in this many (2 to 8).
    pub partial_route_one_in: u32,
    /// Who shares the operative facts. Must include the escort.
    pub operative_audiences: Vec<Audience>,
}

impl Default for FactRules {
    fn default() -> Self {
        Self {
            ready_minutes_before: [10, 60],
            arrival_minutes_before: [0, 45],
            duration_tolerance_minutes: 3,
            duration_operative: false,
            radio_check_minutes: vec![15, 10, 12, 20, 25, 30],
            code_names: 1024,
            partial_route: true,
            partial_route_one_in: 4,
            operative_audiences: vec![Audience::Escort, Audience::Planner],
        }
    }
}

/// A rule set that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct RulesError {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong.
    pub detail: &'static str,
}

impl FactRules {
    /// Checks the rules keep every statement true and the escort together.
    pub fn validate(self) -> Result<Self, RulesError> {
        let err = |field, detail| Err(RulesError { field, detail });
        let [r0, r1] = self.ready_minutes_before;
        if r0 == 0 || r0 > r1 || r1 > 180 {
            return err(
                "ready_minutes_before",
                "1 ≤ first ≤ second ≤ 180 (readiness strictly before the departure)",
            );
        }
        let [a0, a1] = self.arrival_minutes_before;
        if a0 > a1 || a1 > 120 {
            return err("arrival_minutes_before", "0 ≤ first ≤ second ≤ 120");
        }
        if self.duration_tolerance_minutes > 30 {
            return err("duration_tolerance_minutes", "at most 30");
        }
        let mut radio = self.radio_check_minutes.clone();
        radio.sort_unstable();
        radio.dedup();
        if radio.is_empty()
            || radio.len() != self.radio_check_minutes.len()
            || radio.iter().any(|m| !(1..=120).contains(m))
        {
            return err(
                "radio_check_minutes",
                "one or more distinct intervals of 1 to 120 minutes",
            );
        }
        if !(2..=CODE_WORDS.len() * CODE_NAMES.len()).contains(&self.code_names) {
            return err("code_names", "2 to the number of code-name pairs");
        }
        if !(2..=8).contains(&self.partial_route_one_in) {
            return err("partial_route_one_in", "2 to 8");
        }
        if !self.operative_audiences.contains(&Audience::Escort) {
            return err("operative_audiences", "the escort always shares the operative facts");
        }
        Ok(self)
    }
}

/// Fictional code words for assembly points.
pub const CODE_NAMES: &[&str] = &[
    "ACACIA",
    "ALDER",
    "AMETHYST",
    "ANDROMEDA",
    "AQUILA",
    "ASPEN",
    "AVOCET",
    "BADGER",
    "BALSAM",
    "BASALT",
    "BITTERN",
    "BLUEBELL",
    "BOBCAT",
    "BRAMBLE",
    "BUNTING",
    "BUZZARD",
    "CALDERA",
    "CAMPION",
    "CARACAL",
    "CEDAR",
    "CHAMOIS",
    "CINNABAR",
    "CONDOR",
    "CORMORANT",
    "COYOTE",
    "CURLEW",
    "CYPRESS",
    "DAMSON",
    "DIPPER",
    "DUNLIN",
    "EGRET",
    "EIDER",
    "FENNEL",
    "FIRECREST",
    "FULMAR",
    "GANNET",
    "GARNET",
    "GECKO",
    "GOSHAWK",
    "GRANITE",
    "GREBE",
    "HAWTHORN",
    "HAZEL",
    "HERON",
    "HOOPOE",
    "HORNBILL",
    "IBEX",
    "IBIS",
    "JACKDAW",
    "JASPER",
    "JUNIPER",
    "KESTREL",
    "KINGFISHER",
    "KITTIWAKE",
    "LAPWING",
    "LARCH",
    "LINNET",
    "LYNX",
    "MAGPIE",
    "MALLARD",
    "MARTEN",
    "MERLIN",
    "MIMOSA",
    "MYRTLE",
    "NIGHTJAR",
    "NUTHATCH",
    "OCELOT",
    "OLIVINE",
    "OSPREY",
    "OTTER",
    "PELICAN",
    "PEREGRINE",
    "PETREL",
    "PLOVER",
    "PUFFIN",
    "QUARTZ",
    "QUAIL",
    "RAVEN",
    "REDSHANK",
    "REDWING",
    "ROWAN",
    "SANDPIPER",
    "SAPPHIRE",
    "SHRIKE",
    "SISKIN",
    "SKYLARK",
    "SORREL",
    "SPARROWHAWK",
    "SPRUCE",
    "STARLING",
    "STONECHAT",
    "TAMARISK",
    "THRUSH",
    "TOPAZ",
    "TURQUOISE",
    "VERBENA",
    "WAGTAIL",
    "WALNUT",
    "WARBLER",
    "WAXWING",
    "WHIMBREL",
    "WREN",
    "YARROW",
    "ZEPHYR",
];

/// First words of two-word code names.
pub const CODE_WORDS: &[&str] = &[
    "AMBER", "AZURE", "COBALT", "COPPER", "CRIMSON", "EMERALD", "GOLDEN", "IVORY", "JADE", "OCHRE", "ONYX", "RUSSET",
    "SABLE", "SCARLET", "SILVER", "VIOLET",
];

/// Picks `n` distinct two-word code names with the movement's key (the candidates of one
/// movement, all of which the operations room resolves to its assembly point).
fn code_names(seed: &crate::code::Prf, n: usize) -> Vec<String> {
    let mut pool: Vec<String> = CODE_WORDS
        .iter()
        .flat_map(|a| CODE_NAMES.iter().map(move |b| format!("{a} {b}")))
        .collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n.min(pool.len()) {
        let u = seed.unit("code-names", "", i as u32);
        let j = ((u * pool.len() as f64) as usize).min(pool.len().saturating_sub(1));
        out.push(pool.swap_remove(j));
    }
    out
}

fn orders(items: &[String]) -> Vec<String> {
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    let mut out = vec![crate::doc::join_list(&refs)];
    if items.len() >= 2 {
        let rev: Vec<&str> = refs.iter().rev().copied().collect();
        out.push(crate::doc::join_list(&rev));
    }
    if items.len() >= 3 {
        let mut rot = refs.clone();
        rot.rotate_left(1);
        out.push(crate::doc::join_list(&rot));
    }
    out.dedup();
    out
}

struct Facts {
    operative: Audiences,
}

impl Facts {
    fn point(&self, label: &str, fact: &str, variants: Vec<String>, shared: Option<Shared>, operative: bool) -> Point {
        let n = variants.len();
        Point {
            label: label.to_owned(),
            kind: Kind::Fact,
            variants,
            drawable: n,
            shared_with: if shared.is_some() {
                self.operative
            } else {
                Audiences::NONE
            },
            shared: shared.unwrap_or(Shared::Drawn),
            fact: Some(fact.to_owned()),
            operative,
        }
    }
}

/// The brief of a movement under `rules` (use validated rules); `names` seeds the candidate
/// code names (the movement key's PRF, see [`crate::Disclosure`]).
pub fn brief_with(c: &BriefContent, rules: &FactRules, key: &crate::MovementKey) -> Document {
    let seed = crate::code::Prf::new(&key.0);
    let operative = Audiences::of(&rules.operative_audiences);
    let others = Audiences::of(
        &Audience::ALL
            .into_iter()
            .filter(|a| !rules.operative_audiences.contains(a))
            .collect::<Vec<_>>(),
    );
    let facts = Facts { operative };
    let mut b = Builder::default();
    b.styles();

    // Heading.
    b.choice(
        "head/title",
        &["MOVEMENT BRIEF", "MOVEMENT ORDER", "MOVEMENT INSTRUCTION"],
    )
    .text(" — reference ")
    .text(&c.reference)
    .text("\nClassification: RESTRICTED — ")
    .choice(
        "head/handling",
        &[
            "need to know only",
            "for need-to-know holders only",
            "release on a need-to-know basis",
        ],
    )
    .text(".\n\n");

    // Facts.
    b.choice("facts/purpose", &["Purpose", "Task", "Object of the movement"])
        .text(": ")
        .text(&c.purpose)
        .text(".\n")
        .choice("facts/date", &["Date", "Date of movement", "Day of travel"])
        .text(": ")
        .text(&value(Value::Date(c.departure)))
        .text(".\n")
        .choice("facts/persons", &["Persons moved", "Protected persons", "Travellers"])
        .text(": ");
    let persons = orders(&c.persons);
    let persons: Vec<&str> = persons.iter().map(String::as_str).collect();
    b.choice("facts/persons/order", &persons).text(".\n");

    b.only(operative, |b| {
        b.choice("facts/departure", &["Departure", "Time of departure", "Convoy departs"])
            .text(": ")
            .text(&value(Value::Time(c.departure)))
            .text(".\n")
            .choice(
                "facts/arrival",
                &["Planned arrival", "Arrival due", "Scheduled arrival"],
            )
            .text(": ")
            .text(&value(Value::Time(c.arrival)))
            .text(".\n");
    });
    if others != Audiences::NONE {
        let [r0, r1] = rules.ready_minutes_before;
        let ready: Vec<String> = (r0..=r1)
            .rev()
            .map(|m| value(Value::Time(c.departure - i64::from(m) * 60)))
            .collect();
        let [a0, a1] = rules.arrival_minutes_before;
        let arrival: Vec<String> = (a0..=a1)
            .rev()
            .map(|m| value(Value::Time(c.arrival - i64::from(m) * 60)))
            .collect();
        let ready = b.declare(facts.point("fact/ready", "ready", ready, None, false));
        let arrival = b.declare(facts.point("fact/arrival", "arrival", arrival, None, false));
        b.only(others, |b| {
            b.text("Readiness: ")
                .choice(
                    "facts/ready",
                    &[
                        "be ready to leave from",
                        "be ready for collection from",
                        "stand by for pickup from",
                    ],
                )
                .text(" ")
                .place(ready)
                .text(".\nDestination: ")
                .choice(
                    "facts/arrival-bound",
                    &[
                        "arrival not before",
                        "expect to arrive no earlier than",
                        "arrival expected from",
                    ],
                )
                .text(" ")
                .place(arrival)
                .text(".\n");
        });
    }
    let names = code_names(&seed, rules.code_names);
    let code = b.declare(facts.point("fact/staging_code", "staging_code", names, Some(Shared::Drawn), true));
    b.choice(
        "facts/staging",
        &[
            "Assembly point code name",
            "Rally point codeword",
            "Forming-up point, code name",
        ],
    )
    .text(": ")
    .place(code)
    .text(".\n");
    match c.fallback_sites.as_slice() {
        [] => {}
        [one] => {
            b.text("Fallback rendezvous (manned): ").text(one).text(".\n");
        }
        sites => {
            let fallback =
                b.declare(facts.point("fact/fallback", "fallback", sites.to_vec(), Some(Shared::Drawn), true));
            b.choice(
                "facts/fallback",
                &[
                    "Fallback rendezvous (manned)",
                    "If separated, go to the manned fallback point",
                    "Manned fallback location",
                ],
            )
            .text(": ")
            .place(fallback)
            .text(".\n");
        }
    }
    let radio: Vec<String> = rules.radio_check_minutes.iter().map(u32::to_string).collect();
    let radio = b.declare(facts.point("fact/radio_check", "radio_check", radio, Some(Shared::Fixed(0)), true));
    b.choice(
        "facts/radio",
        &["Radio checks", "Radio check-ins", "Scheduled radio calls"],
    )
    .text(": at intervals of ")
    .place(radio)
    .text(" minutes.\n\n");

    // Route.
    for (li, leg) in c.legs.iter().enumerate() {
        let n = li + 1;
        let minutes = (leg.duration_s / 60.0).ceil().max(1.0) as i64;
        let tol = i64::from(rules.duration_tolerance_minutes);
        let estimates: Vec<String> = (minutes - tol..=minutes + tol)
            .filter(|m| *m >= 1)
            .map(|m| m.to_string())
            .collect();
        let exact = estimates.iter().position(|m| *m == minutes.to_string()).unwrap_or(0);
        let shared = rules.duration_operative.then_some(Shared::Fixed(exact));
        let duration = b.declare(facts.point(&format!("fact/duration/{n}"), "duration", estimates, shared, false));
        b.text(&format!("Leg {n} "))
            .choice(&format!("leg/{n}/verb"), &["runs", "goes", "leads"])
            .text(&format!(" from {} to {}: ", leg.from, leg.to))
            .text(&value(Value::Distance(leg.distance_m)))
            .text(", ")
            .choice(&format!("leg/{n}/about"), &["about", "approximately", "an estimated"])
            .text(" ")
            .place(duration)
            .text(" ")
            .choice(
                &format!("leg/{n}/driving"),
                &["minutes of driving", "minutes on the road", "minutes behind the wheel"],
            )
            .text(".\n");
        let turn_by_turn = |b: &mut Builder| {
            for (j, road) in leg.roads.iter().enumerate() {
                let label = format!("route/{n}/{}", j + 1);
                if j == 0 {
                    b.choice(&label, &["Leave by", "Depart via", "Set off along", "Start out on"]);
                } else {
                    b.choice(
                        &label,
                        &[
                            "Then take",
                            "Continue onto",
                            "Next, join",
                            "After that, follow",
                            "Proceed along",
                        ],
                    );
                }
                b.text(" ").text(road);
                b.choice(
                    &format!("{label}/end"),
                    &[
                        ".",
                        " and stay on it.",
                        " for the next stretch.",
                        " as far as the next junction listed.",
                    ],
                )
                .text("\n");
            }
            b.choice(
                &format!("route/{n}/end"),
                &["Arrive at", "Finish at", "The leg ends at"],
            )
            .text(" ")
            .text(&leg.to)
            .text(".\n");
        };
        if rules.partial_route && others != Audiences::NONE && leg.roads.len() >= 3 {
            b.only(operative, turn_by_turn);
            let last = leg.roads.len() - 1;
            let items: Vec<(Option<usize>, String)> = leg
                .roads
                .iter()
                .enumerate()
                .map(|(j, road)| {
                    if j == 0 || j == last {
                        (None, road.clone())
                    } else {
                        let mut variants = vec![road.clone()];
                        variants.resize(rules.partial_route_one_in.max(2) as usize, String::new());
                        let p = b.declare(facts.point(
                            &format!("fact/route/{n}/{}", j + 1),
                            "route",
                            variants,
                            None,
                            false,
                        ));
                        (Some(p), road.clone())
                    }
                })
                .collect();
            b.only(others, |b| {
                b.choice(
                    &format!("route/{n}/summary"),
                    &["The route runs via", "You will travel by way of", "Roads used include"],
                )
                .text(" ")
                .list(items)
                .text(".\n");
            });
        } else {
            turn_by_turn(&mut b);
        }
        b.text("\n");
    }

    // Escort and contacts.
    b.text("Escort call sign ")
        .text(&c.call_sign)
        .text(". ")
        .choice(
            "escort/vehicles",
            &["Vehicles", "Vehicles assigned", "Vehicles in the convoy"],
        )
        .text(": ");
    let vehicles = orders(&c.vehicles);
    let vehicles: Vec<&str> = vehicles.iter().map(String::as_str).collect();
    b.choice("escort/vehicles/order", &vehicles)
        .text(".\n")
        .choice(
            "escort/command",
            &[
                "The escort commander leads the convoy and decides on any change of route.",
                "The escort commander is in charge of the convoy and has the final say on any change of route.",
                "Command of the convoy rests with the escort commander, who approves any change of route.",
            ],
        )
        .text("\n");
    let contacts: Vec<String> = c.contacts.iter().map(|(r, n)| format!("{r} {n}")).collect();
    let contacts = orders(&contacts);
    let contacts: Vec<&str> = contacts.iter().map(String::as_str).collect();
    b.choice("contacts", &["Contacts", "Points of contact", "Who to call"])
        .text(": ")
        .choice("contacts/order", &contacts)
        .text(".\n\n");

    // General instructions and emergency procedure.
    b.text("GENERAL\n")
        .choice("gen/keep", &["Keep", "Carry", "Hold"])
        .text(" this brief ")
        .choice("gen/person", &["on your person", "with you", "close to you"])
        .text(" and ")
        .choice("gen/show", &["show", "hand", "pass"])
        .text(" it to ")
        .choice("gen/nobody", &["nobody", "no one"])
        .text(" outside the ")
        .choice("gen/list", &["distribution", "recipient list", "list of addressees"])
        .text(". ")
        .choice("gen/phones", &["Phones", "Mobile phones", "Handsets"])
        .text(" stay ")
        .choice("gen/silent", &["silent", "muted", "on silent"])
        .text(" and ")
        .choice(
            "gen/location",
            &["location sharing", "location services", "position sharing"],
        )
        .text(" stays ")
        .choice("gen/off", &["off", "disabled", "switched off"])
        .text(" during the movement.\n")
        .choice("gen/discuss", &["Do not discuss", "Never talk about", "Do not mention"])
        .text(" the ")
        .choice("gen/timings", &["timings", "schedule", "times"])
        .text(" or the ")
        .choice("gen/roads", &["roads", "streets", "itinerary"])
        .text(" of this journey ")
        .choice("gen/where", &["in public", "where others can hear", "in the open"])
        .text(", ")
        .choice("gen/including", &["including", "not even"])
        .text(" with ")
        .choice("gen/drivers", &["hotel staff", "reception staff", "front-desk staff"])
        .text(".\n\nEMERGENCY PROCEDURE\n")
        .choice("sos/attack", &["In case of", "In the event of", "Should there be"])
        .text(" an attack, do not stop: ")
        .choice("sos/through", &["drive through", "keep driving", "push through"])
        .text(" and ")
        .choice("sos/leave", &["leave", "clear", "get out of"])
        .text(" the ")
        .choice("sos/area", &["area", "zone", "vicinity"])
        .text(". ")
        .choice("sos/report", &["Report", "Signal", "Notify"])
        .text(" the incident to the operations room ")
        .choice("sos/now", &["immediately", "at once", "without delay"])
        .text(" on the ")
        .choice("sos/net", &["primary", "main"])
        .text(" radio net.\nIf the route is ")
        .choice("sos/blocked", &["blocked", "obstructed", "impassable"])
        .text(", ")
        .choice("sos/use", &["use", "switch to", "fall back on"])
        .text(" the ")
        .choice("sos/alternate", &["alternate", "alternative", "reserve"])
        .text(" route the commander ")
        .choice("sos/chooses", &["chooses", "selects", "designates"])
        .text(".\n")
        .choice("sos/never", &["Never", "Under no circumstances"])
        .text(" ")
        .choice("sos/disclose", &["disclose", "reveal", "divulge"])
        .text(" the route or times to anyone outside this brief's recipients.\nPassengers stay ")
        .choice("sos/inside", &["inside", "within"])
        .text(" the vehicle ")
        .choice("sos/unless", &["unless", "except when"])
        .text(" the commander ")
        .choice("sos/orders", &["orders", "instructs", "directs"])
        .text(" otherwise, ")
        .choice("sos/belts", &["with seat belts fastened", "belted in", "with belts on"])
        .text(" and ")
        .choice("sos/doors", &["doors locked", "doors secured", "the doors locked"])
        .text(". In a breakdown, ")
        .choice("sos/transfer", &["transfer", "move", "shift"])
        .text(" the persons to the ")
        .choice("sos/nearest", &["nearest", "closest"])
        .text(" escort vehicle.\n")
        .choice("sos/check", &["Check", "Verify", "Confirm"])
        .text(" identities at every ")
        .choice("sos/stop", &["stop", "halt"])
        .text(" before ")
        .choice("sos/opening", &["opening", "unlocking"])
        .text(" doors. ")
        .choice(
            "sos/injured",
            &[
                "If someone is injured",
                "If anyone is hurt",
                "Should a person be wounded",
            ],
        )
        .text(", ")
        .choice("sos/drive", &["drive", "head", "go"])
        .text(" to the ")
        .choice(
            "sos/safe",
            &["nearest safe site", "closest secure site", "nearest protected site"],
        )
        .text(" and ")
        .choice("sos/call", &["call", "alert", "radio"])
        .text(" the operations room.\n")
        .choice("sos/destroy", &["Destroy", "Shred"])
        .text(" this brief once the movement ")
        .choice("sos/ends", &["ends", "is complete", "is finished"])
        .text(".\n");
    b.finish()
}

/// The brief of a movement under the default rules.
pub fn brief(c: &BriefContent, key: &crate::MovementKey) -> Document {
    brief_with(c, &FactRules::default(), key)
}
