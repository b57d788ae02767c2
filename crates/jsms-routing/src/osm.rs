//! What OpenStreetMap tags mean for a car, as pure functions: the access hierarchy
//! (`access` < `vehicle` < `motor_vehicle` < `motorcar`, with `:forward`/`:backward`), which
//! values forbid, which only allow the ends of a trip (`private`, `destination`, `delivery`,
//! `customers`, `permit`, `residents`), one-ways (implied, reversed, reversible, conditional),
//! speeds (class defaults, `maxspeed` in its many spellings, surface, track type,
//! smoothness), barriers by type with their access tags, node delays (traffic signals, stop
//! and give-way signs, gates) and turn restrictions (`restriction[:motorcar…]`, `except`).
//!
//! The defaults follow the car profile that ships with OSRM (`car.lua`), so that durations
//! can be compared with it: class speeds, `maxspeed` × 0.8, surface caps, 2 s per traffic
//! signal, 60 s per gate, the turn penalty sigmoid and 20 s per U-turn. Where JSMS is
//! deliberately stricter than that profile (private gates, conditional one-ways), the
//! function says so.

/// Highway classes that are drivable, in the order of the `class` byte of an edge, with
/// their default speeds (km/h, OSRM's car profile).
pub const CLASSES: [(&str, f64); 14] = [
    ("motorway", 90.0),
    ("motorway_link", 45.0),
    ("trunk", 85.0),
    ("trunk_link", 40.0),
    ("primary", 65.0),
    ("primary_link", 30.0),
    ("secondary", 55.0),
    ("secondary_link", 25.0),
    ("tertiary", 40.0),
    ("tertiary_link", 20.0),
    ("unclassified", 25.0),
    ("residential", 25.0),
    ("living_street", 10.0),
    ("service", 15.0),
];

/// `maxspeed` values are scaled by this (traffic rarely flows at the limit; OSRM's
/// `speed_reduction`).
pub const SPEED_REDUCTION: f64 = 0.8;

/// What a car may do on a way (one direction) or at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Forbidden.
    No,
    /// Only at the ends of a trip (private, destination, delivery, customers…).
    Restricted,
    /// Open.
    Yes,
}

/// Classifies one access value for a car. Unknown values count as open (as in OSRM's car
/// profile); `a;b` lists take the most permissive recognised part.
pub fn classify(value: &str) -> Access {
    value
        .split(';')
        .map(|part| match part.trim() {
            "yes" | "permissive" | "designated" | "motorcar" | "motor_vehicle" | "vehicle" | "hov" | "discouraged" => {
                Access::Yes
            }
            "private" | "destination" | "delivery" | "customers" | "permit" | "residents" | "unknown" => {
                Access::Restricted
            }
            "no" | "agricultural" | "forestry" | "emergency" | "psv" | "taxi" | "share_taxi" | "minibus" | "bus"
            | "foot" | "bicycle" | "emergency_vehicle" | "restricted" | "military" | "official" | "use_sidepath"
            | "hgv" | "goods" => Access::No,
            _ => Access::Yes,
        })
        .max()
        .unwrap_or(Access::Yes)
}

/// The access hierarchy, most specific first.
pub const ACCESS_KEYS: [&str; 4] = ["motorcar", "motor_vehicle", "vehicle", "access"];

/// The access of a way in each direction `(forward, backward)`, from the most specific key
/// present (`motorcar:forward` before `motorcar` before `motor_vehicle:forward` …); `None`
/// when no access key is set.
pub fn way_access<'a>(tag: &impl Fn(&str) -> Option<&'a str>) -> (Option<Access>, Option<Access>) {
    let side = |suffix: &str| {
        ACCESS_KEYS
            .iter()
            .find_map(|k| tag(&format!("{k}:{suffix}")).or_else(|| tag(k)).map(classify))
    };
    (side("forward"), side("backward"))
}

/// A barrier node's effect on a car.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barrier {
    /// No barrier, or one a car passes.
    Open,
    /// A car passes only at the ends of a trip (a private gate: a compound's own entrance).
    Restricted,
    /// A car cannot pass (bollard, block, cycle barrier, locked gate…).
    Blocked,
}

/// Barrier types a car passes when no access tag says otherwise (OSRM's whitelist plus the
/// gates, which cost [`GATE_MS`]).
const PASSABLE_BARRIERS: [&str; 11] = [
    "cattle_grid",
    "border_control",
    "toll_booth",
    "sally_port",
    "no",
    "entrance",
    "height_restrictor",
    "arch",
    "gate",
    "lift_gate",
    "swing_gate",
];

/// The effect of a node's tags: its access (hierarchy, as for ways) decides if present —
/// `no` blocks, `private`/`destination`… restrict (JSMS is stricter than OSRM here, which
/// lets cars through private gates); otherwise the barrier type, with OSRM's exceptions
/// (rising bollards, lowered kerbs, audible fences, height restrictors above 2 m).
pub fn barrier<'a>(tag: &impl Fn(&str) -> Option<&'a str>) -> Barrier {
    let Some(kind) = tag("barrier") else {
        // An access tag on a plain node (no barrier) says nothing about passing it.
        return Barrier::Open;
    };
    if let Some(access) = ACCESS_KEYS.iter().find_map(|k| tag(k)) {
        return match classify(access) {
            Access::No => Barrier::Blocked,
            Access::Restricted => Barrier::Restricted,
            Access::Yes => Barrier::Open,
        };
    }
    if kind == "height_restrictor" {
        let low = tag("maxheight")
            .and_then(|h| h.trim_end_matches('m').trim().parse::<f64>().ok())
            .is_some_and(|h| h < 2.0);
        return if low { Barrier::Blocked } else { Barrier::Open };
    }
    let exception = (kind == "bollard" && tag("bollard") == Some("rising"))
        || (kind == "kerb" && (matches!(tag("kerb"), Some("lowered" | "flush")) || tag("highway") == Some("crossing")))
        || (kind == "fence" && matches!(tag("sensory"), Some("audible" | "audio")));
    if exception || PASSABLE_BARRIERS.contains(&kind) {
        Barrier::Open
    } else {
        Barrier::Blocked
    }
}

/// Delay of a traffic signal, milliseconds.
pub const SIGNAL_MS: u32 = 2_000;
/// Delay of a stop sign.
pub const STOP_MS: u32 = 2_000;
/// Delay of a give-way sign.
pub const GIVE_WAY_MS: u32 = 1_000;
/// Delay of a gate (opened for the convoy).
pub const GATE_MS: u32 = 60_000;

/// The delay of passing a node: traffic signals, stop and give-way signs, gates.
pub fn node_delay_ms<'a>(tag: &impl Fn(&str) -> Option<&'a str>) -> u32 {
    let mut ms = match tag("highway") {
        Some("traffic_signals") => SIGNAL_MS,
        Some("stop") => STOP_MS,
        Some("give_way") => GIVE_WAY_MS,
        _ => 0,
    };
    if matches!(tag("barrier"), Some("gate" | "lift_gate" | "swing_gate"))
        && ACCESS_KEYS.iter().all(|k| tag(k).is_none())
    {
        ms += GATE_MS;
    }
    ms
}

/// The directions a way may be driven in, `(forward, backward)`, from `oneway`,
/// `junction` and the class; `None` when the way is not usable at all (`oneway=reversible`:
/// its direction changes during the day, so JSMS never plans over it). `oneway:conditional`
/// is taken as always in force: the direction it forbids at some times is never used.
pub fn directions<'a>(class: &str, tag: &impl Fn(&str) -> Option<&'a str>) -> Option<(bool, bool)> {
    let base = match tag("oneway").map(str::trim) {
        Some("yes" | "true" | "1") => (true, false),
        Some("-1" | "reverse") => (false, true),
        Some("reversible") => return None,
        Some("no" | "false" | "0" | "alternating") => (true, true),
        _ => {
            let implied = matches!(tag("junction"), Some("roundabout" | "circular")) || class == "motorway";
            if implied { (true, false) } else { (true, true) }
        }
    };
    let conditional = tag("oneway:conditional")
        .and_then(|v| v.split('@').next())
        .map(str::trim);
    Some(match conditional {
        Some("yes" | "true" | "1") => (base.0, false),
        Some("-1" | "reverse") => (false, base.1),
        Some("reversible") => return None,
        _ => base,
    })
}

/// Parses a `maxspeed` value to km/h: `50`, `50 km/h`, `30 mph`, `30;50` (the first),
/// `PT:urban` and the other country/zone forms OSRM knows, `none` (140); anything else is
/// `None`.
pub fn parse_maxspeed(value: &str) -> Option<f64> {
    let first = value.split(';').next()?.trim();
    let lower = first.to_ascii_lowercase();
    let (number, mph) = match lower.strip_suffix("mph") {
        Some(n) => (n.trim(), true),
        None => (
            lower
                .strip_suffix("km/h")
                .or_else(|| lower.strip_suffix("kmh"))
                .unwrap_or(&lower)
                .trim(),
            false,
        ),
    };
    if let Ok(v) = number.parse::<f64>() {
        let kmh = if mph { v * 1.609_344 } else { v };
        return (5.0..=200.0).contains(&kmh).then_some(kmh);
    }
    let exceptions: &[(&str, f64)] = &[
        ("at:rural", 100.0),
        ("at:trunk", 100.0),
        ("be:motorway", 120.0),
        ("ch:rural", 80.0),
        ("ch:trunk", 100.0),
        ("ch:motorway", 120.0),
        ("de:living_street", 7.0),
        ("de:rural", 100.0),
        ("dk:rural", 80.0),
        ("es:trunk", 90.0),
        ("fr:rural", 80.0),
        ("gb:nsl_single", 96.5),
        ("gb:nsl_dual", 112.6),
        ("gb:motorway", 112.6),
        ("nl:rural", 80.0),
        ("nl:trunk", 100.0),
        ("pl:rural", 100.0),
        ("pl:motorway", 140.0),
        ("ru:urban", 60.0),
        ("ru:motorway", 110.0),
        ("uk:nsl_single", 96.5),
        ("uk:nsl_dual", 112.6),
        ("uk:motorway", 112.6),
        ("za:urban", 60.0),
        ("za:rural", 100.0),
        ("none", 140.0),
    ];
    if let Some(&(_, v)) = exceptions.iter().find(|(k, _)| *k == lower) {
        return Some(v);
    }
    let (_, zone) = lower.split_once(':')?;
    match zone {
        "urban" => Some(50.0),
        "rural" => Some(90.0),
        "trunk" => Some(110.0),
        "motorway" => Some(130.0),
        _ => None,
    }
}

/// The speed of a way in each direction, km/h: the class default, replaced by `maxspeed`
/// (`maxspeed:advisory` first, `:forward`/`:backward` variants) × [`SPEED_REDUCTION`], then
/// capped by surface, track type and smoothness; `None` when the way is impassable
/// (`smoothness=impassable`).
pub fn speeds<'a>(class: usize, tag: &impl Fn(&str) -> Option<&'a str>) -> Option<(f64, f64)> {
    let default = CLASSES.get(class).map_or(25.0, |c| c.1);
    let side = |suffix: &str| {
        ["maxspeed:advisory", "maxspeed"]
            .iter()
            .find_map(|k| {
                tag(&format!("{k}:{suffix}"))
                    .and_then(parse_maxspeed)
                    .or_else(|| tag(k).and_then(parse_maxspeed))
            })
            .map_or(default, |m| m * SPEED_REDUCTION)
    };
    let mut cap = f64::INFINITY;
    if let Some(s) = tag("surface") {
        cap = cap.min(match s {
            "cement" | "compacted" | "fine_gravel" => 80.0,
            "paving_stones" | "metal" | "bricks" => 60.0,
            "grass" | "wood" | "sett" | "grass_paver" | "gravel" | "unpaved" | "ground" | "dirt" | "pebblestone"
            | "tartan" => 40.0,
            "cobblestone" | "clay" | "snow" => 30.0,
            "earth" | "stone" | "rocky" | "sand" | "ice" => 20.0,
            "laterite" => 15.0,
            "mud" => 10.0,
            _ => f64::INFINITY,
        });
    }
    if let Some(t) = tag("tracktype") {
        cap = cap.min(match t {
            "grade1" => 60.0,
            "grade2" => 40.0,
            "grade3" => 30.0,
            "grade4" => 25.0,
            "grade5" => 20.0,
            _ => f64::INFINITY,
        });
    }
    if let Some(s) = tag("smoothness") {
        cap = cap.min(match s {
            "intermediate" => 80.0,
            "bad" => 40.0,
            "very_bad" => 20.0,
            "horrible" => 10.0,
            "very_horrible" => 5.0,
            "impassable" => return None,
            _ => f64::INFINITY,
        });
    }
    if tag("bridge") == Some("movable") {
        cap = cap.min(5.0);
    }
    Some((side("forward").min(cap), side("backward").min(cap)))
}

/// Whether a drivable-class way is excluded for cars whatever its access: areas,
/// construction, proposed roads, emergency accesses, impassable ones.
pub fn excluded<'a>(tag: &impl Fn(&str) -> Option<&'a str>) -> bool {
    tag("area") == Some("yes")
        || tag("impassable") == Some("yes")
        || matches!(tag("status"), Some("impassable"))
        || tag("service") == Some("emergency_access")
        || tag("construction").is_some_and(|c| !matches!(c, "no" | "widening" | "minor"))
        || tag("proposed").is_some()
}

/// A turn restriction's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestrictionKind {
    /// `no_*`: the turn from → to is forbidden.
    No,
    /// `only_*`: from `from`, the turn to `to` is the only one allowed.
    Only,
}

/// How a restriction relation applies to a car.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestrictionTags {
    /// It applies.
    Applies(RestrictionKind),
    /// Conditional (`restriction:conditional` and no plain value): reported as ignored.
    Conditional,
    /// Not for cars (another vehicle class, or cars in `except`), or not a restriction.
    NotForCars,
}

/// Reads a `type=restriction` relation's tags for a car: `restriction:motorcar` before
/// `restriction:motor_vehicle` before `restriction:vehicle` before `restriction`; `except`
/// naming cars (motorcar, motor_vehicle, vehicle) lifts it.
pub fn restriction<'a>(tag: &impl Fn(&str) -> Option<&'a str>) -> RestrictionTags {
    match tag("type") {
        Some("restriction") => {}
        Some("restriction:motorcar" | "restriction:motor_vehicle" | "restriction:vehicle") => {
            if let Some(v) = tag("restriction") {
                return kind_of(v);
            }
        }
        _ => return RestrictionTags::NotForCars,
    }
    if tag("except").is_some_and(|e| {
        e.split(';')
            .any(|v| matches!(v.trim(), "motorcar" | "motor_vehicle" | "vehicle"))
    }) {
        return RestrictionTags::NotForCars;
    }
    let value = [
        "restriction:motorcar",
        "restriction:motor_vehicle",
        "restriction:vehicle",
        "restriction",
    ]
    .iter()
    .find_map(|k| tag(k));
    match value {
        Some(v) => kind_of(v),
        None if [
            "restriction:conditional",
            "restriction:motorcar:conditional",
            "restriction:motor_vehicle:conditional",
        ]
        .iter()
        .any(|k| tag(k).is_some()) =>
        {
            RestrictionTags::Conditional
        }
        None => RestrictionTags::NotForCars,
    }
}

fn kind_of(value: &str) -> RestrictionTags {
    let v = value.trim();
    if v.starts_with("no_") {
        RestrictionTags::Applies(RestrictionKind::No)
    } else if v.starts_with("only_") {
        RestrictionTags::Applies(RestrictionKind::Only)
    } else {
        RestrictionTags::NotForCars
    }
}

/// Turn penalty of OSRM's car profile, milliseconds: a sigmoid of the turn angle (degrees,
/// 0 straight on, positive to the right) that saturates at 7.5 s, biased for the side
/// traffic drives on; a turn across oncoming traffic at a junction waits up to 2 s more; a
/// U-turn costs 20 s more. `roads` counts the roads meeting at the node (with the one
/// arrived on); at a plain bend (2 roads) only a U-turn costs anything.
pub fn turn_penalty_ms(angle: f64, roads: usize, u_turn: bool, left_hand: bool, roundabout: bool) -> u32 {
    const TURN_PENALTY: f64 = 7.5;
    const TURN_BIAS: f64 = 1.075;
    if roads <= 2 && !u_turn {
        return 0;
    }
    let bias = if left_hand { 1.0 / TURN_BIAS } else { TURN_BIAS };
    let mut s = if angle >= 0.0 {
        TURN_PENALTY / (1.0 + (-((13.0 / bias) * angle / 180.0 - 6.5 * bias)).exp())
    } else {
        TURN_PENALTY / (1.0 + (-((13.0 * bias) * -angle / 180.0 - 6.5 / bias)).exp())
    };
    let crosses_oncoming = if left_hand { angle > 0.0 } else { angle < 0.0 };
    if crosses_oncoming && !u_turn && roads > 2 && !roundabout {
        s += 2.0 / (1.0 + (-(13.0 * angle.abs() / 180.0 - 3.25)).exp());
    }
    if u_turn {
        s += 20.0;
    }
    (s * 1000.0).round() as u32
}

/// Whether traffic keeps left around `(lat, lon)`: a coarse table of the larger
/// left-hand-traffic countries (South Asia, the British Isles, Japan, much of southern and
/// eastern Africa, Australia, New Zealand, Indonesia, Malaysia, Thailand, Hong Kong).
/// Outside them, right-hand traffic is assumed.
pub fn keeps_left(lat: f64, lon: f64) -> bool {
    // (min_lat, min_lon, max_lat, max_lon)
    const BOXES: [(f64, f64, f64, f64); 14] = [
        (23.6, 60.8, 37.1, 75.4),     // Pakistan
        (6.7, 68.1, 35.5, 97.4),      // India, Bangladesh, Nepal, Sri Lanka (coarse)
        (49.9, -8.7, 60.9, 1.8),      // Great Britain
        (51.4, -10.5, 55.4, -5.4),    // Ireland
        (24.0, 122.9, 45.6, 145.9),   // Japan
        (-47.3, 112.9, -10.0, 179.0), // Australia, New Zealand
        (-11.0, 95.0, 6.0, 141.0),    // Indonesia
        (0.8, 99.6, 7.4, 119.3),      // Malaysia
        (5.6, 97.3, 20.5, 105.7),     // Thailand
        (22.1, 113.8, 22.6, 114.5),   // Hong Kong
        (-34.9, 16.4, -22.1, 32.9),   // South Africa
        (-4.7, 33.9, 5.0, 41.9),      // Kenya
        (-11.8, 29.3, -1.0, 40.5),    // Tanzania
        (-22.5, 25.2, -8.2, 33.1),    // Zambia, Zimbabwe
    ];
    BOXES
        .iter()
        .any(|&(a, b, c, d)| (a..=c).contains(&lat) && (b..=d).contains(&lon))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn tags<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |k: &str| map.get(k).copied()
    }

    #[test]
    fn access_hierarchy_most_specific_wins() {
        let check = |pairs: &[(&str, &str)], expected: (Option<Access>, Option<Access>)| {
            assert_eq!(way_access(&tags(pairs)), expected, "{pairs:?}");
        };
        let (y, r, n) = (Some(Access::Yes), Some(Access::Restricted), Some(Access::No));
        check(&[], (None, None));
        check(&[("access", "no")], (n, n));
        check(&[("access", "no"), ("motor_vehicle", "yes")], (y, y));
        check(&[("access", "yes"), ("vehicle", "no")], (n, n));
        check(&[("vehicle", "private")], (r, r));
        check(&[("motor_vehicle", "no"), ("motorcar", "destination")], (r, r));
        check(&[("access", "delivery")], (r, r));
        check(&[("motor_vehicle:backward", "no")], (None, n));
        check(&[("access", "agricultural;forestry")], (n, n));
        check(&[("access", "no;private")], (r, r));
        check(&[("access", "whatever")], (y, y));
    }

    #[test]
    fn barriers_by_type_and_access() {
        let check = |pairs: &[(&str, &str)], expected: Barrier| {
            assert_eq!(barrier(&tags(pairs)), expected, "{pairs:?}");
        };
        check(&[], Barrier::Open);
        check(&[("access", "no")], Barrier::Open);
        check(&[("barrier", "bollard")], Barrier::Blocked);
        check(&[("barrier", "bollard"), ("bollard", "rising")], Barrier::Open);
        check(&[("barrier", "bollard"), ("motor_vehicle", "yes")], Barrier::Open);
        check(&[("barrier", "cycle_barrier")], Barrier::Blocked);
        check(&[("barrier", "block")], Barrier::Blocked);
        check(&[("barrier", "gate")], Barrier::Open);
        check(&[("barrier", "gate"), ("access", "private")], Barrier::Restricted);
        check(&[("barrier", "gate"), ("access", "no")], Barrier::Blocked);
        check(
            &[("barrier", "lift_gate"), ("motorcar", "destination")],
            Barrier::Restricted,
        );
        check(&[("barrier", "kerb")], Barrier::Blocked);
        check(&[("barrier", "kerb"), ("kerb", "lowered")], Barrier::Open);
        check(&[("barrier", "toll_booth")], Barrier::Open);
        check(
            &[("barrier", "height_restrictor"), ("maxheight", "1.9")],
            Barrier::Blocked,
        );
        check(&[("barrier", "height_restrictor"), ("maxheight", "3.5")], Barrier::Open);
        assert_eq!(node_delay_ms(&tags(&[("highway", "traffic_signals")])), SIGNAL_MS);
        assert_eq!(node_delay_ms(&tags(&[("barrier", "gate")])), GATE_MS);
        assert_eq!(node_delay_ms(&tags(&[("barrier", "gate"), ("access", "private")])), 0);
    }

    #[test]
    fn one_ways() {
        let check = |class: &str, pairs: &[(&str, &str)], expected: Option<(bool, bool)>| {
            assert_eq!(directions(class, &tags(pairs)), expected, "{class} {pairs:?}");
        };
        check("residential", &[("oneway", "-1")], Some((false, true)));
        check("residential", &[("oneway", "yes")], Some((true, false)));
        check("residential", &[("junction", "roundabout")], Some((true, false)));
        check("motorway", &[], Some((true, false)));
        check("motorway", &[("oneway", "no")], Some((true, true)));
        check("residential", &[("oneway", "maybe")], Some((true, true)));
        check("residential", &[("oneway", "reversible")], None);
        check("residential", &[("oneway", "alternating")], Some((true, true)));
        check(
            "residential",
            &[("oneway:conditional", "yes @ (Mo-Fr 07:00-09:00)")],
            Some((true, false)),
        );
        check(
            "residential",
            &[("oneway", "yes"), ("oneway:conditional", "no @ (22:00-06:00)")],
            Some((true, false)),
        );
    }

    #[test]
    fn speeds_follow_the_car_profile() {
        assert_eq!(parse_maxspeed("50"), Some(50.0));
        assert_eq!(parse_maxspeed("50 km/h"), Some(50.0));
        assert_eq!(parse_maxspeed("30 mph").map(|v| v.round()), Some(48.0));
        assert_eq!(parse_maxspeed("30;50"), Some(30.0));
        assert_eq!(parse_maxspeed("PT:urban"), Some(50.0));
        assert_eq!(parse_maxspeed("DE:rural"), Some(100.0));
        assert_eq!(parse_maxspeed("none"), Some(140.0));
        assert_eq!(parse_maxspeed("fast"), None);
        assert_eq!(parse_maxspeed("2000"), None);
        let residential = 11;
        assert_eq!(speeds(residential, &tags(&[])), Some((25.0, 25.0)));
        assert_eq!(speeds(residential, &tags(&[("maxspeed", "50")])), Some((40.0, 40.0)));
        assert_eq!(
            speeds(residential, &tags(&[("maxspeed", "50"), ("maxspeed:backward", "30")])),
            Some((40.0, 24.0))
        );
        assert_eq!(
            speeds(residential, &tags(&[("maxspeed", "50"), ("surface", "cobblestone")])),
            Some((30.0, 30.0))
        );
        assert_eq!(speeds(residential, &tags(&[("smoothness", "impassable")])), None);
    }

    #[test]
    fn restrictions_for_cars() {
        let check = |pairs: &[(&str, &str)], expected: RestrictionTags| {
            assert_eq!(restriction(&tags(pairs)), expected, "{pairs:?}");
        };
        let (no, only) = (
            RestrictionTags::Applies(RestrictionKind::No),
            RestrictionTags::Applies(RestrictionKind::Only),
        );
        check(&[("type", "restriction"), ("restriction", "no_left_turn")], no);
        check(&[("type", "restriction"), ("restriction", "only_straight_on")], only);
        check(
            &[
                ("type", "restriction"),
                ("restriction", "no_left_turn"),
                ("except", "bicycle;psv"),
            ],
            no,
        );
        check(
            &[
                ("type", "restriction"),
                ("restriction", "no_left_turn"),
                ("except", "motorcar"),
            ],
            RestrictionTags::NotForCars,
        );
        check(
            &[("type", "restriction"), ("restriction:hgv", "no_right_turn")],
            RestrictionTags::NotForCars,
        );
        check(&[("type", "restriction"), ("restriction:motorcar", "no_u_turn")], no);
        check(
            &[
                ("type", "restriction"),
                ("restriction:conditional", "no_left_turn @ (Mo-Fr)"),
            ],
            RestrictionTags::Conditional,
        );
        check(&[("type", "multipolygon")], RestrictionTags::NotForCars);
    }

    #[test]
    fn turn_penalties_follow_the_car_profile() {
        assert_eq!(turn_penalty_ms(0.0, 2, false, false, false), 0, "a bend");
        assert!(turn_penalty_ms(0.0, 4, false, false, false) < 50, "straight on");
        let right = turn_penalty_ms(90.0, 4, false, false, false);
        let left = turn_penalty_ms(-90.0, 4, false, false, false);
        assert!(right < left, "right {right} < left {left} where traffic keeps right");
        assert!(
            turn_penalty_ms(90.0, 4, false, true, false) > turn_penalty_ms(-90.0, 4, false, true, false),
            "mirrored where traffic keeps left"
        );
        assert!(turn_penalty_ms(180.0, 1, true, false, false) >= 27_000, "U-turn");
        assert!(keeps_left(24.86, 67.0), "Karachi");
        assert!(!keeps_left(41.15, -8.61), "Porto");
    }
}
