//! Threat reports as STIX 2.1 (PRODUCT §3.6, §4).
//!
//! Export: a report becomes a `report` whose `object_refs` name its `location`s (the place
//! and each linked threat zone), `threat-actor`s, `intrusion-set`s, `indicator`s and
//! `note`s; every object carries `created_by_ref` (the author organisation's `identity`)
//! and the FIRST TLP 2.0 `marking-definition` of the report (the OASIS TLP 2.0 extension
//! objects, with their fixed ids). Ids are UUIDv5 of our own ids under one namespace, and
//! times come from the stored report, so exporting again gives the same objects.
//!
//! Import: a bundle (or a TAXII envelope's objects) is checked object by object — an error
//! names the JSON path — then each `report` is mapped back with what it references; what
//! is not mapped is kept as raw objects. Idempotence is the caller's: a report is known by
//! its STIX id.
//!
//! Custom properties (prefixed `x_jsms_`) carry what STIX has no field for, so that two
//! JSMS instances exchange reports losslessly: the time observed, the Admiralty grading,
//! and a zone's exact geometry and severity.

use jsms_domain::intel::{Grading, Tlp};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The namespace of every id this crate derives (UUIDv5).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x1d6c_3f0e_5b2a_4c7e_9a41_7f3e_2b8d_6c15);

/// The OASIS TLP 2.0 marking extension.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// Our top-level property extension: the `x_jsms_` properties (the time observed, the
/// Admiralty grading, a zone's geometry and severity).
pub fn jsms_extension_id() -> String {
    derived("extension-definition", "extension:jsms-properties")
}

fn jsms_identity_id() -> String {
    derived("identity", "identity:jsms")
}

/// The definition of our extension, and the identity that defines it.
pub fn jsms_extension_objects() -> Vec<Value> {
    let at = timestamp(IDENTITY_CREATED);
    vec![
        json!({"type": "identity", "spec_version": "2.1", "id": jsms_identity_id(),
               "created": at, "modified": at, "name": "JSMS — Joint Security Management System",
               "identity_class": "system"}),
        json!({"type": "extension-definition", "spec_version": "2.1", "id": jsms_extension_id(),
               "created": at, "modified": at, "created_by_ref": jsms_identity_id(),
               "name": "JSMS threat report properties",
               "description": "Top-level properties JSMS adds to reports and locations so that two JSMS instances exchange threat reports losslessly.",
               "schema": "x_jsms_observed_at (report): timestamp, when the threat was observed. x_jsms_admiralty (report): the Admiralty grading, source reliability A-F and information credibility 1-6, e.g. B2. x_jsms_zone (location): a threat zone, {geometry: GeoJSON Polygon or Point, radius_m: metres for a Point, severity: 1-5, kind: string, valid_from: timestamp, valid_until: timestamp}.",
               "version": "1.0.0", "extension_types": ["toplevel-property-extension"],
               "extension_properties": ["x_jsms_observed_at", "x_jsms_admiralty", "x_jsms_zone"]}),
    ]
}

fn uses_extension(o: &mut Map<String, Value>) {
    o.insert(
        "extensions".into(),
        json!({ jsms_extension_id(): {"extension_type": "toplevel-property-extension"} }),
    );
}

/// The most objects one import takes.
pub const MAX_OBJECTS: usize = 10_000;

/// The creation time of the identities this crate derives (fixed, so re-export is stable).
const IDENTITY_CREATED: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z

/// The fixed id of each TLP 2.0 marking definition.
pub fn tlp_marking_id(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The TLP of a marking definition id: TLP 2.0, or the STIX 2.1 TLP 1.0 markings
/// (WHITE is read as CLEAR).
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    if let Some(t) = Tlp::ALL.into_iter().find(|t| tlp_marking_id(*t) == id) {
        return Some(t);
    }
    match id {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => Some(Tlp::Clear),
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" => Some(Tlp::Green),
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" => Some(Tlp::Amber),
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Some(Tlp::Red),
        _ => None,
    }
}

/// The TLP 2.0 marking definition object.
pub fn tlp_definition(t: Tlp) -> Value {
    let level = match t {
        Tlp::Clear => "clear",
        Tlp::Green => "green",
        Tlp::Amber => "amber",
        Tlp::AmberStrict => "amber+strict",
        Tlp::Red => "red",
    };
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(t),
        "created": "2022-10-01T00:00:00.000Z",
        "name": t.label(),
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}
        }
    })
}

/// A threat zone linked to a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Our zone id (export), or none (import).
    pub id: Option<Uuid>,
    /// Its name.
    pub name: String,
    /// The GeoJSON geometry (Polygon, or Point with `radius_m`).
    pub geometry: Value,
    /// Radius for a Point, metres.
    pub radius_m: Option<f64>,
    /// Centre (latitude, longitude).
    pub centre: (f64, f64),
    /// Distance from the centre to the farthest point, metres.
    pub extent_m: f64,
    /// 1 to 5.
    pub severity: u8,
    /// Zone kind (wire name).
    pub kind: String,
    /// Active from, Unix seconds.
    pub valid_from: i64,
    /// Active until, Unix seconds.
    pub valid_until: Option<i64>,
}

/// An indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// Name.
    pub name: Option<String>,
    /// The pattern.
    pub pattern: String,
    /// `stix`, `sigma`, `snort`, `suricata`, `yara`, `pcre`.
    pub pattern_type: String,
    /// Valid from, Unix seconds.
    pub valid_from: i64,
}

/// The author's organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// Our organisation id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// A threat report in the terms STIX carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The STIX id (`report--…`).
    pub stix_id: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// When observed, Unix seconds.
    pub observed_at: i64,
    /// When reported (published), Unix seconds.
    pub reported_at: i64,
    /// Created, Unix milliseconds.
    pub created: i64,
    /// Last modified, Unix milliseconds (a new marking is a new version).
    pub modified: i64,
    /// The marking.
    pub tlp: Tlp,
    /// Admiralty grading.
    pub grading: Option<Grading>,
    /// The author's organisation (export); on import, the name of the bundle's
    /// `created_by_ref` identity, when given.
    pub author: Option<Author>,
    /// The source named by an imported bundle's identity.
    pub source: Option<String>,
    /// Where (latitude, longitude).
    pub place: Option<(f64, f64)>,
    /// Threat zones.
    pub zones: Vec<Zone>,
    /// Threat actors (names).
    pub actors: Vec<String>,
    /// Intrusion sets (names).
    pub intrusion_sets: Vec<String>,
    /// Indicators.
    pub indicators: Vec<Indicator>,
    /// Notes.
    pub notes: Vec<String>,
    /// Objects referenced that are not mapped, as received.
    pub raw: Vec<Value>,
}

/// The STIX id of one of our reports.
pub fn report_id(ours: Uuid) -> String {
    derived("report", &format!("report:{ours}"))
}

fn derived(kind: &str, name: &str) -> String {
    format!("{kind}--{}", Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// A STIX timestamp (UTC, milliseconds).
pub fn timestamp(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A timestamp with its milliseconds (TAXII `date_added`).
pub fn timestamp_ms(unix_ms: i64) -> String {
    let whole = timestamp(unix_ms.div_euclid(1000));
    format!("{}.{:03}Z", whole.trim_end_matches(".000Z"), unix_ms.rem_euclid(1000))
}

/// Reads a STIX timestamp to milliseconds (finer digits are dropped).
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    if !s.ends_with('Z') {
        return None;
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

/// Reads a STIX timestamp (RFC 3339 in UTC, `Z`).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    parse_timestamp_ms(s).map(|ms| ms.div_euclid(1000))
}

/// The objects of one report, the report first (no marking definitions: see [`export`]).
pub fn objects_of(r: &Report) -> Vec<Value> {
    let marking = json!([tlp_marking_id(r.tlp)]);
    let created = timestamp_ms(r.created);
    let modified = timestamp_ms(r.modified);
    let author_ref = r
        .author
        .as_ref()
        .map(|a| derived("identity", &format!("identity:{}", a.id)));
    let common = |kind: &str, id: &str| {
        let mut o = Map::new();
        o.insert("type".into(), json!(kind));
        o.insert("spec_version".into(), json!("2.1"));
        o.insert("id".into(), json!(id));
        o.insert("created".into(), json!(created));
        o.insert("modified".into(), json!(modified));
        if let Some(a) = &author_ref {
            o.insert("created_by_ref".into(), json!(a));
        }
        o.insert("object_marking_refs".into(), marking.clone());
        o
    };
    let key = r.stix_id.trim_start_matches("report--");
    let mut out = Vec::new();
    let mut refs = Vec::new();
    if let Some((lat, lon)) = r.place {
        let id = derived("location", &format!("location:{key}:place"));
        let mut o = common("location", &id);
        o.insert("name".into(), json!(format!("{} — place", r.title)));
        o.insert("latitude".into(), json!(lat));
        o.insert("longitude".into(), json!(lon));
        refs.push(id);
        out.push(Value::Object(o));
    }
    for z in &r.zones {
        let name =
            z.id.map_or_else(|| format!("zone:{key}:{}", z.name), |i| format!("zone:{i}"));
        let id = derived("location", &name);
        let mut o = common("location", &id);
        o.insert("name".into(), json!(z.name));
        o.insert(
            "description".into(),
            json!(format!("Threat zone, severity {} of 5", z.severity)),
        );
        o.insert("latitude".into(), json!(z.centre.0));
        o.insert("longitude".into(), json!(z.centre.1));
        o.insert("precision".into(), json!(z.extent_m.round()));
        let mut zone = Map::new();
        zone.insert("geometry".into(), z.geometry.clone());
        zone.insert("severity".into(), json!(z.severity));
        zone.insert("kind".into(), json!(z.kind));
        zone.insert("valid_from".into(), json!(timestamp(z.valid_from)));
        if let Some(m) = z.radius_m {
            zone.insert("radius_m".into(), json!(m));
        }
        if let Some(u) = z.valid_until {
            zone.insert("valid_until".into(), json!(timestamp(u)));
        }
        o.insert("x_jsms_zone".into(), Value::Object(zone));
        uses_extension(&mut o);
        refs.push(id);
        out.push(Value::Object(o));
    }
    for name in &r.actors {
        let id = derived("threat-actor", &format!("threat-actor:{key}:{}", name.to_lowercase()));
        let mut o = common("threat-actor", &id);
        o.insert("name".into(), json!(name));
        refs.push(id);
        out.push(Value::Object(o));
    }
    for name in &r.intrusion_sets {
        let id = derived("intrusion-set", &format!("intrusion-set:{key}:{}", name.to_lowercase()));
        let mut o = common("intrusion-set", &id);
        o.insert("name".into(), json!(name));
        refs.push(id);
        out.push(Value::Object(o));
    }
    for i in &r.indicators {
        let id = derived(
            "indicator",
            &format!("indicator:{key}:{}:{}", i.pattern_type, i.pattern),
        );
        let mut o = common("indicator", &id);
        o.insert(
            "name".into(),
            json!(i.name.clone().unwrap_or_else(|| format!("{} pattern", i.pattern_type))),
        );
        o.insert(
            "description".into(),
            json!(format!("From the threat report “{}”.", r.title)),
        );
        o.insert("pattern".into(), json!(i.pattern));
        o.insert("pattern_type".into(), json!(i.pattern_type));
        o.insert("valid_from".into(), json!(timestamp(i.valid_from)));
        refs.push(id);
        out.push(Value::Object(o));
    }
    for (n, text) in r.notes.iter().enumerate() {
        let id = derived("note", &format!("note:{key}:{n}"));
        let mut o = common("note", &id);
        o.insert("content".into(), json!(text));
        o.insert("object_refs".into(), json!([r.stix_id]));
        refs.push(id);
        out.push(Value::Object(o));
    }
    if let Some(g) = r.grading {
        let id = derived("note", &format!("note:{key}:grading"));
        let mut o = common("note", &id);
        o.insert("abstract".into(), json!("Admiralty grading"));
        o.insert(
            "content".into(),
            json!(format!(
                "Admiralty grading {}: source reliability {}, information credibility {}.",
                g.code(),
                g.reliability,
                g.credibility
            )),
        );
        o.insert("object_refs".into(), json!([r.stix_id]));
        refs.push(id);
        out.push(Value::Object(o));
    }
    for raw in &r.raw {
        if let Some(id) = raw.get("id").and_then(Value::as_str) {
            refs.push(id.to_owned());
        }
        out.push(raw.clone());
    }
    if let Some(a) = &author_ref {
        refs.push(a.clone());
    }
    let mut report = common("report", &r.stix_id);
    report.insert("name".into(), json!(r.title));
    if !r.body.is_empty() {
        report.insert("description".into(), json!(r.body));
    }
    report.insert("report_types".into(), json!(["threat-report"]));
    report.insert("published".into(), json!(timestamp(r.reported_at)));
    if let Some(c) = r.grading.and_then(Grading::stix_confidence) {
        report.insert("confidence".into(), json!(c));
    }
    report.insert("x_jsms_observed_at".into(), json!(timestamp(r.observed_at)));
    if let Some(g) = r.grading {
        report.insert("x_jsms_admiralty".into(), json!(g.code()));
    }
    uses_extension(&mut report);
    if refs.is_empty() {
        // A report names at least one object: its marking definition at least.
        refs.push(tlp_marking_id(r.tlp).to_owned());
    }
    report.insert("object_refs".into(), json!(refs));
    let mut all = vec![Value::Object(report)];
    all.extend(out);
    all
}

/// The author identities of `reports`, once each.
pub fn identities(reports: &[Report]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for a in reports.iter().filter_map(|r| r.author.as_ref()) {
        let id = derived("identity", &format!("identity:{}", a.id));
        if out.iter().any(|o| o["id"] == json!(id)) {
            continue;
        }
        out.push(json!({
            "type": "identity", "spec_version": "2.1", "id": id,
            "created": timestamp(IDENTITY_CREATED), "modified": timestamp(IDENTITY_CREATED),
            "name": a.name, "identity_class": "organization"
        }));
    }
    out
}

/// A bundle of `reports` with their identities and marking definitions; its id is derived
/// from the reports' ids and versions, so the same reports give the same bundle.
pub fn export(reports: &[Report]) -> Value {
    let mut objects = jsms_extension_objects();
    objects.extend(identities(reports));
    let mut tlps: Vec<Tlp> = reports.iter().map(|r| r.tlp).collect();
    tlps.sort();
    tlps.dedup();
    objects.extend(tlps.into_iter().map(tlp_definition));
    let mut seen = std::collections::HashSet::new();
    for r in reports {
        for o in objects_of(r) {
            let key = format!(
                "{}|{}",
                o.get("id").unwrap_or(&Value::Null),
                o.get("modified").unwrap_or(&Value::Null)
            );
            if seen.insert(key) {
                objects.push(o);
            }
        }
    }
    let name = reports
        .iter()
        .map(|r| format!("{}@{}", r.stix_id, r.modified))
        .collect::<Vec<_>>()
        .join(",");
    json!({"type": "bundle", "id": derived("bundle", &format!("bundle:{name}")), "objects": objects})
}

/// What is wrong with a bundle, and where (a JSON pointer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StixError {
    /// Where, e.g. `/objects/3/published`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> StixError {
    StixError {
        path: path.into(),
        message: message.into(),
    }
}

/// Whether `id` is a STIX identifier (`<type>--<UUID>`), optionally of `kind`.
pub fn is_identifier(id: &str, kind: Option<&str>) -> bool {
    let Some((t, u)) = id.split_once("--") else {
        return false;
    };
    valid_type(t) && kind.is_none_or(|k| k == t) && Uuid::parse_str(u).is_ok() && u.len() == 36
}

fn valid_type(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && t.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && !t.ends_with('-')
}

/// The STIX Cyber-observable types (no `created`/`modified`).
const OBSERVABLES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Checks a bundle and returns its objects.
pub fn bundle_objects(v: &Value) -> Result<&[Value], StixError> {
    let o = v.as_object().ok_or_else(|| err("", "a STIX bundle is a JSON object"))?;
    if o.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(err("/type", "must be \"bundle\""));
    }
    let id = o.get("id").and_then(Value::as_str).unwrap_or("");
    if !is_identifier(id, Some("bundle")) {
        return Err(err("/id", "must be bundle--<UUID>"));
    }
    let objects = o
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| err("/objects", "a bundle carries an array of objects"))?;
    check_objects("/objects", objects)?;
    Ok(objects)
}

/// Checks objects (of a bundle or a TAXII envelope) one by one.
pub fn check_objects(base: &str, objects: &[Value]) -> Result<(), StixError> {
    if objects.is_empty() {
        return Err(err(base, "no objects"));
    }
    if objects.len() > MAX_OBJECTS {
        return Err(err(base, format!("at most {MAX_OBJECTS} objects")));
    }
    for (i, o) in objects.iter().enumerate() {
        check_object(&format!("{base}/{i}"), o)?;
    }
    Ok(())
}

fn need_str<'a>(o: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a str, StixError> {
    match o.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(err(format!("{path}/{key}"), "must be a non-empty string")),
        None => Err(err(format!("{path}/{key}"), "is required")),
    }
}

fn need_time(o: &Map<String, Value>, path: &str, key: &str) -> Result<i64, StixError> {
    let s = need_str(o, path, key)?;
    parse_timestamp(s).ok_or_else(|| {
        err(
            format!("{path}/{key}"),
            "must be a STIX timestamp (RFC 3339 in UTC, e.g. 2026-11-30T08:00:00.000Z)",
        )
    })
}

fn opt_time(o: &Map<String, Value>, path: &str, key: &str) -> Result<Option<i64>, StixError> {
    if o.contains_key(key) {
        need_time(o, path, key).map(Some)
    } else {
        Ok(None)
    }
}

fn refs(o: &Map<String, Value>, path: &str, key: &str, required: bool) -> Result<Vec<String>, StixError> {
    let Some(v) = o.get(key) else {
        return if required {
            Err(err(format!("{path}/{key}"), "is required"))
        } else {
            Ok(Vec::new())
        };
    };
    let list = v
        .as_array()
        .ok_or_else(|| err(format!("{path}/{key}"), "must be an array of identifiers"))?;
    if required && list.is_empty() {
        return Err(err(format!("{path}/{key}"), "must name at least one object"));
    }
    list.iter()
        .enumerate()
        .map(|(i, r)| match r.as_str() {
            Some(s) if is_identifier(s, None) => Ok(s.to_owned()),
            _ => Err(err(
                format!("{path}/{key}/{i}"),
                "must be a STIX identifier (<type>--<UUID>)",
            )),
        })
        .collect()
}

fn check_object(path: &str, v: &Value) -> Result<(), StixError> {
    let o = v
        .as_object()
        .ok_or_else(|| err(path, "a STIX object is a JSON object"))?;
    let kind = need_str(o, path, "type")?;
    if !valid_type(kind) {
        return Err(err(format!("{path}/type"), "lowercase letters, digits and hyphens"));
    }
    let id = need_str(o, path, "id")?;
    if !is_identifier(id, Some(kind)) {
        return Err(err(format!("{path}/id"), format!("must be {kind}--<UUID>")));
    }
    if kind == "bundle" {
        return Err(err(format!("{path}/type"), "a bundle inside a bundle"));
    }
    let observable = OBSERVABLES.contains(&kind);
    if !observable {
        if o.get("spec_version").and_then(Value::as_str) != Some("2.1") {
            return Err(err(format!("{path}/spec_version"), "must be \"2.1\""));
        }
        need_time(o, path, "created")?;
        if kind != "marking-definition" {
            let created = need_time(o, path, "created")?;
            let modified = need_time(o, path, "modified")?;
            if modified < created {
                return Err(err(format!("{path}/modified"), "must not be before created"));
            }
        }
    }
    if let Some(c) = o.get("created_by_ref")
        && !c.as_str().is_some_and(|s| is_identifier(s, Some("identity")))
    {
        return Err(err(format!("{path}/created_by_ref"), "must be identity--<UUID>"));
    }
    for (i, m) in refs(o, path, "object_marking_refs", false)?.iter().enumerate() {
        if !m.starts_with("marking-definition--") {
            return Err(err(
                format!("{path}/object_marking_refs/{i}"),
                "must be marking-definition--<UUID>",
            ));
        }
    }
    if let Some(c) = o.get("confidence")
        && c.as_u64().is_none_or(|c| c > 100)
    {
        return Err(err(format!("{path}/confidence"), "an integer from 0 to 100"));
    }
    match kind {
        "report" => {
            need_str(o, path, "name")?;
            need_time(o, path, "published")?;
            refs(o, path, "object_refs", true)?;
            opt_time(o, path, "x_jsms_observed_at")?;
            if let Some(a) = o.get("x_jsms_admiralty") {
                admiralty(a).ok_or_else(|| err(format!("{path}/x_jsms_admiralty"), "a grading like B2"))?;
            }
        }
        "location" => check_location(path, o)?,
        "threat-actor" | "intrusion-set" | "identity" => {
            need_str(o, path, "name")?;
        }
        "indicator" => {
            need_str(o, path, "pattern")?;
            need_str(o, path, "pattern_type")?;
            need_time(o, path, "valid_from")?;
        }
        "note" => {
            need_str(o, path, "content")?;
            refs(o, path, "object_refs", true)?;
        }
        "relationship" => {
            need_str(o, path, "relationship_type")?;
            for key in ["source_ref", "target_ref"] {
                if !o
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|s| is_identifier(s, None))
                {
                    return Err(err(format!("{path}/{key}"), "must be a STIX identifier"));
                }
            }
        }
        "marking-definition" => {
            let defined = o.contains_key("definition_type") && o.contains_key("definition");
            if !defined && !o.contains_key("extensions") {
                return Err(err(path, "a marking definition has a definition or an extension"));
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_location(path: &str, o: &Map<String, Value>) -> Result<(), StixError> {
    let lat = o.get("latitude");
    let lon = o.get("longitude");
    match (lat, lon) {
        (Some(a), Some(b)) => {
            if !a.as_f64().is_some_and(|x| (-90.0..=90.0).contains(&x)) {
                return Err(err(format!("{path}/latitude"), "a number from -90 to 90"));
            }
            if !b.as_f64().is_some_and(|x| (-180.0..=180.0).contains(&x)) {
                return Err(err(format!("{path}/longitude"), "a number from -180 to 180"));
            }
        }
        (Some(_), None) => return Err(err(format!("{path}/longitude"), "is required with latitude")),
        (None, Some(_)) => return Err(err(format!("{path}/latitude"), "is required with longitude")),
        (None, None) => {
            if !["region", "country", "city", "administrative_area", "street_address"]
                .iter()
                .any(|k| o.contains_key(*k))
            {
                return Err(err(
                    path,
                    "a location has a latitude and longitude, a region or a country",
                ));
            }
            if o.contains_key("precision") {
                return Err(err(format!("{path}/precision"), "only with latitude and longitude"));
            }
        }
    }
    if let Some(p) = o.get("precision")
        && !p.as_f64().is_some_and(|x| x >= 0.0)
    {
        return Err(err(format!("{path}/precision"), "metres, 0 or more"));
    }
    Ok(())
}

fn admiralty(v: &Value) -> Option<Grading> {
    let s = v.as_str()?;
    let mut chars = s.chars();
    let r = chars.next()?;
    let c = chars.as_str().parse::<u8>().ok()?;
    Grading::new(r, c).ok()
}

/// The outcome of mapping objects to reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The reports, in the order of their `report` objects.
    pub reports: Vec<Report>,
    /// What was not taken as it came (an unmarked report, an unknown marking, a zone
    /// given a default end), to tell the importer.
    pub notices: Vec<String>,
}

/// Imported zones without an end last this long from the report's publication.
pub const IMPORTED_ZONE_DAYS: i64 = 30;

/// Maps checked objects (see [`bundle_objects`], [`check_objects`]) to reports. A report
/// without a TLP marking is taken as TLP:AMBER+STRICT (the most restrictive that still
/// reaches the importer's organisation) and said so in the notices.
pub fn import(objects: &[Value]) -> Result<Imported, StixError> {
    let by_id: std::collections::HashMap<&str, &Value> = objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(|i| (i, o)))
        .collect();
    let mut reports = Vec::new();
    let mut notices = Vec::new();
    for (n, o) in objects.iter().enumerate() {
        let Some(m) = o.as_object() else { continue };
        if m.get("type").and_then(Value::as_str) != Some("report") {
            continue;
        }
        let path = format!("/objects/{n}");
        let stix_id = need_str(m, &path, "id")?.to_owned();
        let title = need_str(m, &path, "name")?.to_owned();
        let reported_at = need_time(m, &path, "published")?;
        need_time(m, &path, "created")?;
        need_time(m, &path, "modified")?;
        let created = m
            .get("created")
            .and_then(Value::as_str)
            .and_then(parse_timestamp_ms)
            .unwrap_or(0);
        let modified = m
            .get("modified")
            .and_then(Value::as_str)
            .and_then(parse_timestamp_ms)
            .unwrap_or(created);
        let observed_at = opt_time(m, &path, "x_jsms_observed_at")?.unwrap_or(reported_at);
        let marks = refs(m, &path, "object_marking_refs", false)?;
        let known: Vec<Tlp> = marks.iter().filter_map(|id| tlp_of_marking(id)).collect();
        let tlp = match known.iter().copied().chain(object_tlp(o)).max() {
            Some(t) => t,
            None => {
                notices.push(format!(
                    "{stix_id}: no TLP marking; taken as TLP:AMBER+STRICT (your organisation only)"
                ));
                Tlp::AmberStrict
            }
        };
        if known.len() > 1 {
            notices.push(format!(
                "{stix_id}: several TLP markings; the most restrictive, {}, applies",
                tlp.label()
            ));
        }
        let grading = match m.get("x_jsms_admiralty") {
            Some(a) => admiralty(a),
            None => m
                .get("confidence")
                .and_then(Value::as_u64)
                .and_then(|c| u8::try_from(c).ok())
                .and_then(|c| Grading::new('F', Grading::credibility_of_confidence(c)).ok()),
        };
        let source = m
            .get("created_by_ref")
            .and_then(Value::as_str)
            .and_then(|r| by_id.get(r))
            .and_then(|i| i.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut report = Report {
            stix_id: stix_id.clone(),
            title,
            body: m.get("description").and_then(Value::as_str).unwrap_or("").to_owned(),
            observed_at,
            reported_at,
            created,
            modified,
            tlp,
            grading,
            author: None,
            source,
            place: None,
            zones: Vec::new(),
            actors: Vec::new(),
            intrusion_sets: Vec::new(),
            indicators: Vec::new(),
            notes: Vec::new(),
            raw: Vec::new(),
        };
        let mut referenced = refs(m, &path, "object_refs", true)?;
        // Notes about the report that it does not list itself.
        for other in objects {
            let about = other.get("type").and_then(Value::as_str) == Some("note")
                && other["object_refs"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|r| r.as_str() == Some(&stix_id)));
            if let Some(id) = other.get("id").and_then(Value::as_str)
                && about
                && !referenced.iter().any(|r| r == id)
            {
                referenced.push(id.to_owned());
            }
        }
        for r in &referenced {
            let Some(obj) = by_id.get(r.as_str()) else {
                continue;
            };
            restrict(&mut report, obj, &mut notices);
            map_object(&mut report, obj, &mut notices);
        }
        reports.push(report);
    }
    if reports.is_empty() {
        return Err(err("/objects", "no report object: JSMS imports threat reports"));
    }
    // Objects no report references are kept with the first report, as received.
    let used: std::collections::HashSet<&str> = objects
        .iter()
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("report"))
        .flat_map(|o| {
            let own = o.get("id").and_then(Value::as_str).into_iter();
            let refs = o
                .get("object_refs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str);
            own.chain(refs)
        })
        .collect();
    let report_ids: Vec<String> = reports.iter().map(|r| r.stix_id.clone()).collect();
    let loose: Vec<Value> = objects
        .iter()
        .filter(|o| {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
            let id = o.get("id").and_then(Value::as_str).unwrap_or("");
            let about_a_report = o.get("object_refs").and_then(Value::as_array).is_some_and(|r| {
                r.iter()
                    .any(|x| x.as_str().is_some_and(|x| report_ids.iter().any(|i| i == x)))
            });
            !matches!(kind, "identity" | "marking-definition" | "extension-definition")
                && !used.contains(id)
                && !about_a_report
        })
        .cloned()
        .collect();
    if let Some(first) = reports.first_mut()
        && !loose.is_empty()
    {
        notices.push(format!(
            "{} objects no report references are kept with {}",
            loose.len(),
            first.stix_id
        ));
        for o in &loose {
            restrict(first, o, &mut notices);
        }
        first.raw.extend(loose);
    }
    Ok(Imported { reports, notices })
}

/// The most restrictive TLP an object carries, on the whole object or on parts of it.
pub fn object_tlp(obj: &Value) -> Option<Tlp> {
    let whole = obj
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let parts = obj
        .get("granular_markings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("marking_ref").and_then(Value::as_str));
    whole.chain(parts).filter_map(tlp_of_marking).max()
}

/// Content keeps its own marking: a report takes the most restrictive TLP of what it holds.
fn restrict(report: &mut Report, obj: &Value, notices: &mut Vec<String>) {
    if let Some(t) = object_tlp(obj)
        && t > report.tlp
    {
        notices.push(format!(
            "{}: holds {} marked {}; the report is marked {} as well",
            report.stix_id,
            obj.get("id").and_then(Value::as_str).unwrap_or("an object"),
            t.label(),
            t.label()
        ));
        report.tlp = t;
    }
}

fn map_object(report: &mut Report, obj: &Value, notices: &mut Vec<String>) {
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let name = obj.get("name").and_then(Value::as_str).map(str::to_owned);
    match kind {
        "identity" | "marking-definition" => {}
        "threat-actor" => report.actors.extend(name),
        "intrusion-set" => report.intrusion_sets.extend(name),
        "indicator" => report.indicators.push(Indicator {
            name,
            pattern: obj["pattern"].as_str().unwrap_or("").to_owned(),
            pattern_type: obj["pattern_type"].as_str().unwrap_or("stix").to_owned(),
            valid_from: obj["valid_from"]
                .as_str()
                .and_then(parse_timestamp)
                .unwrap_or(report.reported_at),
        }),
        "note" => {
            let content = obj["content"].as_str().unwrap_or("").to_owned();
            // Our own grading note is carried by x_jsms_admiralty already.
            if obj.get("abstract").and_then(Value::as_str) != Some("Admiralty grading") {
                report.notes.push(content);
            }
        }
        "location" => {
            let (Some(lat), Some(lon)) = (obj["latitude"].as_f64(), obj["longitude"].as_f64()) else {
                report.raw.push(obj.clone());
                return;
            };
            if let Some(z) = obj.get("x_jsms_zone") {
                let zone = Zone {
                    id: None,
                    name: name.unwrap_or_else(|| "Imported zone".into()),
                    geometry: z["geometry"].clone(),
                    radius_m: z["radius_m"].as_f64(),
                    centre: (lat, lon),
                    extent_m: obj["precision"].as_f64().unwrap_or(0.0),
                    severity: z["severity"].as_u64().and_then(|s| u8::try_from(s).ok()).unwrap_or(3),
                    kind: z["kind"].as_str().unwrap_or("other").to_owned(),
                    valid_from: z["valid_from"]
                        .as_str()
                        .and_then(parse_timestamp)
                        .unwrap_or(report.reported_at),
                    valid_until: z["valid_until"].as_str().and_then(parse_timestamp),
                };
                report.zones.push(zone);
            } else if let Some(p) = obj["precision"].as_f64().filter(|p| *p > 0.0) {
                let radius = p.clamp(50.0, 50_000.0);
                notices.push(format!(
                    "{}: location {} taken as a circular zone of {radius} m, severity 3, for {IMPORTED_ZONE_DAYS} days",
                    report.stix_id,
                    obj["id"].as_str().unwrap_or("")
                ));
                report.zones.push(Zone {
                    id: None,
                    name: name.unwrap_or_else(|| "Imported zone".into()),
                    geometry: json!({"type": "Point", "coordinates": [lon, lat]}),
                    radius_m: Some(radius),
                    centre: (lat, lon),
                    extent_m: radius,
                    severity: 3,
                    kind: "other".into(),
                    valid_from: report.reported_at,
                    valid_until: Some(report.reported_at + IMPORTED_ZONE_DAYS * 86_400),
                });
            } else if report.place.is_none() {
                report.place = Some((lat, lon));
            } else {
                report.raw.push(obj.clone());
            }
        }
        _ => report.raw.push(obj.clone()),
    }
}

#[cfg(test)]
mod tests;
