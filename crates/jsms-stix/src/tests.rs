//! Export is deterministic and imports back to the same report; bad bundles are refused
//! with the path of the error; markings are read from TLP 2.0 and TLP 1.0 ids.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

fn sample() -> Report {
    Report {
        stix_id: report_id(Uuid::from_u128(7)),
        title: "Surveillance near the port gate".into(),
        body: "Two men photographing convoys at the gate on three mornings.".into(),
        observed_at: 1_900_000_000,
        reported_at: 1_900_003_600,
        created: 1_900_003_600_000,
        modified: 1_900_007_200_123,
        tlp: Tlp::Amber,
        grading: Some(Grading::new('B', 2).unwrap()),
        author: Some(Author {
            id: Uuid::from_u128(9),
            name: "Provincial Police — Intelligence".into(),
        }),
        source: None,
        place: Some((24.8548, 66.9958)),
        zones: vec![Zone {
            id: Some(Uuid::from_u128(11)),
            name: "Port gate".into(),
            geometry: json!({"type": "Point", "coordinates": [66.9958, 24.8548]}),
            radius_m: Some(300.0),
            centre: (24.8548, 66.9958),
            extent_m: 300.0,
            severity: 4,
            kind: "hostile_surveillance".into(),
            valid_from: 1_900_000_000,
            valid_until: Some(1_902_000_000),
        }],
        actors: vec!["Fictional Cell Nine".into()],
        intrusion_sets: vec!["Gatewatch".into()],
        indicators: vec![Indicator {
            name: Some("Reporting number".into()),
            pattern: "[ipv4-addr:value = '198.51.100.7']".into(),
            pattern_type: "stix".into(),
            valid_from: 1_900_000_000,
        }],
        notes: vec!["Seen again on Friday.".into()],
        raw: vec![],
    }
}

#[test]
fn export_is_deterministic_and_imports_back() {
    let r = sample();
    let a = export(std::slice::from_ref(&r));
    let b = export(std::slice::from_ref(&r));
    assert_eq!(a, b, "the same report exports to the same bundle");
    let objects = bundle_objects(&a).unwrap();
    let kinds: Vec<&str> = objects.iter().map(|o| o["type"].as_str().unwrap()).collect();
    for k in [
        "identity",
        "marking-definition",
        "report",
        "location",
        "threat-actor",
        "intrusion-set",
        "indicator",
        "note",
    ] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    let back = import(objects).unwrap();
    assert!(back.notices.is_empty(), "{:?}", back.notices);
    let got = &back.reports[0];
    assert_eq!(got.stix_id, r.stix_id);
    assert_eq!(got.title, r.title);
    assert_eq!(got.body, r.body);
    assert_eq!(got.tlp, r.tlp);
    assert_eq!(got.grading, r.grading);
    assert_eq!(
        (got.observed_at, got.reported_at, got.modified),
        (r.observed_at, r.reported_at, r.modified)
    );
    assert_eq!(got.place, r.place);
    assert_eq!(got.actors, r.actors);
    assert_eq!(got.intrusion_sets, r.intrusion_sets);
    assert_eq!(got.indicators, r.indicators);
    assert_eq!(got.notes, r.notes);
    assert_eq!(got.source.as_deref(), Some("Provincial Police — Intelligence"));
    let z = &got.zones[0];
    assert_eq!(
        (z.severity, z.radius_m, z.valid_until),
        (4, Some(300.0), Some(1_902_000_000))
    );
    assert_eq!(z.geometry, r.zones[0].geometry);
}

#[test]
fn every_object_carries_the_marking_and_the_author() {
    let bundle = export(&[sample()]);
    for o in bundle["objects"].as_array().unwrap() {
        match o["type"].as_str().unwrap() {
            "identity" | "marking-definition" | "extension-definition" => {}
            _ => {
                assert_eq!(o["object_marking_refs"], json!([tlp_marking_id(Tlp::Amber)]), "{o}");
                assert!(o["created_by_ref"].as_str().unwrap().starts_with("identity--"));
            }
        }
    }
}

/// A change that breaks a bundle.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn bad_bundles_are_refused_with_the_path() {
    let good = export(&[sample()]);
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|b| b["type"] = json!("report")), "/type"),
        (Box::new(|b| b["id"] = json!("bundle--nope")), "/id"),
        (Box::new(|b| b["objects"] = json!({})), "/objects"),
        (Box::new(|b| b["objects"] = json!([])), "/objects"),
        (
            Box::new(|b| b["objects"][5]["id"] = json!("report--1")),
            "/objects/5/id",
        ),
        (
            Box::new(|b| b["objects"][4]["published"] = json!("yesterday")),
            "/objects/4/published",
        ),
        (
            Box::new(|b| b["objects"][4]["spec_version"] = json!("2.0")),
            "/objects/4/spec_version",
        ),
        (
            Box::new(|b| b["objects"][4]["object_refs"] = json!([])),
            "/objects/4/object_refs",
        ),
        (
            Box::new(|b| b["objects"][4]["object_refs"][0] = json!(7)),
            "/objects/4/object_refs/0",
        ),
        (
            Box::new(|b| b["objects"][5]["latitude"] = json!(91)),
            "/objects/5/latitude",
        ),
        (
            Box::new(|b| b["objects"][4]["confidence"] = json!(101)),
            "/objects/4/confidence",
        ),
        (
            Box::new(|b| b["objects"][4]["modified"] = json!("2000-01-01T00:00:00Z")),
            "/objects/4/modified",
        ),
        (
            Box::new(|b| b["objects"][4]["created"] = json!("2030-01-01T00:00:00+01:00")),
            "/objects/4/created",
        ),
    ];
    for (change, path) in cases {
        let mut b = good.clone();
        change(&mut b);
        let e = bundle_objects(&b).and_then(import).unwrap_err();
        assert_eq!(e.path, path, "{e}");
    }
    // A bundle without a report.
    let mut b = good.clone();
    b["objects"] = json!([good["objects"][0]]);
    let objects = bundle_objects(&b).unwrap();
    assert_eq!(import(objects).unwrap_err().path, "/objects");
}

#[test]
fn markings_are_read_and_unmarked_reports_fail_closed() {
    let mut b = export(&[sample()]);
    // Everything marked with the STIX 2.1 TLP 1.0 GREEN.
    for o in b["objects"].as_array_mut().unwrap() {
        if o.get("object_marking_refs").is_some() {
            o["object_marking_refs"] = json!(["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]);
        }
    }
    let got = import(bundle_objects(&b).unwrap()).unwrap();
    assert_eq!(got.reports[0].tlp, Tlp::Green);
    // Nothing marked: fail closed.
    for o in b["objects"].as_array_mut().unwrap() {
        o.as_object_mut().unwrap().remove("object_marking_refs");
    }
    let got = import(bundle_objects(&b).unwrap()).unwrap();
    assert_eq!(got.reports[0].tlp, Tlp::AmberStrict);
    assert_eq!(got.notices.len(), 1);
}

#[test]
fn content_keeps_its_own_marking() {
    let mut b = export(&[sample()]);
    let objects = b["objects"].as_array_mut().unwrap();
    let indicator = objects.iter_mut().find(|o| o["type"] == "indicator").unwrap();
    indicator["object_marking_refs"] = json!([tlp_marking_id(Tlp::Red)]);
    let got = import(bundle_objects(&b).unwrap()).unwrap();
    assert_eq!(got.reports[0].tlp, Tlp::Red, "a RED indicator makes the report RED");
    // A granular marking counts too, and so does a loose object.
    let mut b = export(&[sample()]);
    let objects = b["objects"].as_array_mut().unwrap();
    let note = objects.iter_mut().find(|o| o["type"] == "note").unwrap();
    note["granular_markings"] = json!([{"marking_ref": tlp_marking_id(Tlp::AmberStrict), "selectors": ["content"]}]);
    let got = import(bundle_objects(&b).unwrap()).unwrap();
    assert_eq!(got.reports[0].tlp, Tlp::AmberStrict);
    let mut b = export(&[sample()]);
    b["objects"].as_array_mut().unwrap().push(json!({
        "type": "attack-pattern", "spec_version": "2.1", "id": format!("attack-pattern--{}", Uuid::new_v4()),
        "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "loose",
        "object_marking_refs": [tlp_marking_id(Tlp::Red)]}));
    let got = import(bundle_objects(&b).unwrap()).unwrap();
    assert_eq!(got.reports[0].tlp, Tlp::Red);
    assert_eq!(got.reports[0].raw.len(), 1);
}

#[test]
fn timestamps_round_trip() {
    assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(parse_timestamp(&timestamp(1_900_000_000)), Some(1_900_000_000));
    assert_eq!(parse_timestamp("2026-11-30T08:00:00.123Z"), Some(1_796_025_600));
    assert_eq!(parse_timestamp("2026-11-30T08:00:00+00:00"), None);
    assert_eq!(timestamp_ms(1_900_000_000_042), "2030-03-17T17:46:40.042Z");
    assert_eq!(parse_timestamp_ms("2030-03-17T17:46:40.042Z"), Some(1_900_000_000_042));
}
