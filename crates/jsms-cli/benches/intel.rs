//! Intelligence read paths at volume: `BENCH_REPORTS` threat reports (default 2,000; a mix
//! of markings, each with a place, an actor, an indicator and a note) are stored, then a
//! signed-in partner analyst pulls the TAXII `Joint` collection page by page (1,000 objects a
//! page), lists the reports and exports them as STIX, through the real router, the
//! authorization component and the durable audit log. Baseline: converting the same reports
//! to STIX in memory (no store, no authorization, no HTTP), in the same process. Prints the
//! times and the ratio.
//!
//! Run: `cargo bench -p jsms-cli --bench intel` (optional env: `BENCH_REPORTS`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_domain::intel::{Grading, Marking, Tlp};
use jsms_identity::totp::{self, TotpSecret};
use jsms_server::config::{KeySource, SessionPolicy};
use jsms_server::instance::DataDir;
use jsms_server::state::{AppState, SystemClock};
use jsms_service::intel::ReportBody;
use jsms_store::{ReportRecord, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn body(n: usize, at: i64) -> ReportBody {
    ReportBody {
        title: format!("Report {n}: vehicle seen near a convoy route"),
        body: "A grey saloon followed the staff bus for two kilometres; plate partly read.".repeat(4),
        observed_at: at - 3600,
        reported_at: at,
        grading: Some(Grading::new('B', 2).unwrap()),
        place: Some((24.85 + (n % 100) as f64 * 1e-4, 66.99 + (n % 97) as f64 * 1e-4)),
        zones: vec![],
        sites: vec![],
        incidents: vec![],
        movements: vec![],
        actors: vec![format!("Fictional Cell {}", n % 13)],
        intrusion_sets: vec![],
        indicators: vec![jsms_service::intel::IndicatorBody {
            name: Some("Scout phone".into()),
            pattern: format!("[ipv4-addr:value = '198.51.100.{}']", n % 250),
            pattern_type: "stix".into(),
            valid_from: at - 3600,
        }],
        notes: vec!["Seen again on Friday.".into()],
        raw: vec![],
        source: None,
        history: vec![],
    }
}

#[tokio::main]
async fn main() {
    let count = env_or("BENCH_REPORTS", 2000) as usize;
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::new(tmp.path().join("instance"));
    data.create(&KeySource::DataDir).unwrap();
    let store = data.create_store(&KeySource::DataDir).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let logins = jsms_cli::demo::seed(&store, now).unwrap_or_else(|f| panic!("{f:?}"));
    let store: Arc<dyn Store> = Arc::new(store);
    let parties = store.parties().unwrap();
    let host = parties.iter().find(|p| p.code.to_string() == "HN").unwrap().id;
    let org = store
        .orgs(
            Some(host),
            &jsms_store::PageRequest {
                after: None,
                limit: 100,
                q: Some("Threat Assessment".into()),
            },
        )
        .unwrap()
        .items[0]
        .id;
    // One in two released to both parties (GREEN or AMBER shared), the rest kept.
    let markings = [
        Marking::new(Tlp::Green, false, vec![]).unwrap(),
        Marking::new(Tlp::Amber, true, vec![]).unwrap(),
        Marking::new(Tlp::Amber, false, vec![]).unwrap(),
        Marking::new(Tlp::Red, false, vec![]).unwrap(),
    ];
    let mut bodies = Vec::new();
    let started = Instant::now();
    for n in 0..count {
        let id = uuid::Uuid::now_v7();
        let b = body(n, now - 86_400 + n as i64);
        let record = ReportRecord {
            id,
            stix_id: jsms_stix::report_id(id),
            party: host,
            org,
            author: None,
            marking: markings[n % markings.len()].clone(),
            body: serde_json::to_value(&b).unwrap(),
            version: 1,
            created_at: (now - 86_400 + n as i64) * 1000,
            updated_at: (now - 86_400 + n as i64) * 1000,
        };
        store.create_report(&record).unwrap();
        bodies.push((record, b));
    }
    let seeded = started.elapsed();

    // Baseline: the shared reports to STIX in memory.
    let shared: Vec<jsms_stix::Report> = bodies
        .iter()
        .filter(|(r, _)| r.marking.shared)
        .map(|(r, b)| jsms_stix::Report {
            stix_id: r.stix_id.clone(),
            title: b.title.clone(),
            body: b.body.clone(),
            observed_at: b.observed_at,
            reported_at: b.reported_at,
            created: r.created_at,
            modified: r.updated_at,
            tlp: r.marking.tlp,
            grading: b.grading,
            author: Some(jsms_stix::Author {
                id: r.org.uuid(),
                name: "Threat Assessment Cell".into(),
            }),
            source: None,
            place: b.place,
            zones: vec![],
            actors: b.actors.clone(),
            intrusion_sets: vec![],
            indicators: b
                .indicators
                .iter()
                .map(|i| jsms_stix::Indicator {
                    name: i.name.clone(),
                    pattern: i.pattern.clone(),
                    pattern_type: i.pattern_type.clone(),
                    valid_from: i.valid_from,
                })
                .collect(),
            notes: b.notes.clone(),
            raw: vec![],
        })
        .collect();
    let t = Instant::now();
    let bundle = jsms_stix::export(&shared);
    let baseline_bytes = serde_json::to_vec(&bundle).unwrap().len();
    let baseline = t.elapsed();

    let audit = data.open_audit(Arc::new(SystemClock)).unwrap();
    let services = Arc::new(jsms_service::Services::new(
        Arc::clone(&store),
        audit,
        Arc::new(jsms_authz::Authz::builtin().unwrap()),
        Arc::new(jsms_server::anomaly::AnomalyDetector::default()),
        Arc::new(SystemClock),
        jsms_service::Settings::default(),
    ));
    let state = AppState::new(services, SessionPolicy::default(), false);
    let url = jsms_server::spawn_on_loopback(jsms_server::app(state, 256 * 1024))
        .await
        .unwrap();
    let login = logins.iter().find(|l| l.username == "pn.analyst").unwrap();
    let secret = TotpSecret::from_base32(login.totp_secret.as_deref().unwrap()).unwrap();
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r = client
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"username": login.username, "password": login.password,
                      "totp_code": totp::code_at(&secret, time::OffsetDateTime::now_utc().unix_timestamp())}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in");
    let taxii = |path: String| {
        client
            .get(format!("{url}{path}"))
            .header("accept", "application/taxii+json;version=2.1")
            .send()
    };
    let cols: Value = taxii("/taxii2/api/collections/".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let joint = cols["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Joint")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let t = Instant::now();
    let (mut objects, mut pages, mut next) = (0usize, 0usize, None::<String>);
    loop {
        let path = match &next {
            Some(n) => format!("/taxii2/api/collections/{joint}/objects/?limit=1000&next={n}"),
            None => format!("/taxii2/api/collections/{joint}/objects/?limit=1000"),
        };
        let page: Value = taxii(path).await.unwrap().json().await.unwrap();
        pages += 1;
        objects += page["objects"].as_array().unwrap().len();
        match page["next"].as_str() {
            Some(n) if page["more"] == true => next = Some(n.to_owned()),
            _ => break,
        }
    }
    let pull = t.elapsed();

    let t = Instant::now();
    let list: Value = client
        .get(format!("{url}/api/v1/reports"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = list["items"].as_array().unwrap().len();
    let list_time = t.elapsed();

    let t = Instant::now();
    let export = client.get(format!("{url}/api/v1/reports/export")).send().await.unwrap();
    assert_eq!(export.status(), 200);
    let export_bytes = export.bytes().await.unwrap().len();
    let export_time = t.elapsed();

    println!(
        "intel: {count} reports ({} released to both parties), one process on {} cores; seeded in {:.1} s",
        shared.len(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        seeded.as_secs_f64()
    );
    println!(
        "  TAXII pull of Joint as the partner analyst: {objects} objects in {pages} pages, {:.0} ms ({:.0} objects/s)",
        pull.as_secs_f64() * 1e3,
        objects as f64 / pull.as_secs_f64()
    );
    println!(
        "  GET /api/v1/reports: {listed} reports in {:.0} ms; GET /api/v1/reports/export: {} KiB in {:.0} ms",
        list_time.as_secs_f64() * 1e3,
        export_bytes / 1024,
        export_time.as_secs_f64() * 1e3
    );
    println!(
        "  baseline jsms_stix::export of the same reports in memory (no store, authorization, audit or HTTP): {} KiB in {:.1} ms",
        baseline_bytes / 1024,
        baseline.as_secs_f64() * 1e3
    );
    println!(
        "  ratio TAXII pull / baseline: {:.0}x; export / baseline: {:.0}x",
        pull.as_secs_f64() / baseline.as_secs_f64(),
        export_time.as_secs_f64() / baseline.as_secs_f64()
    );
}
