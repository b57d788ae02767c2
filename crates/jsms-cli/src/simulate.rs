//! `jsms simulate`: a tracking device driving its escort team's planned route over the real
//! API, at a realistic speed, with injectable faults (deviation, stop, silence, SOS).
//!
//! The track is computed first ([`track`], pure), then sent. In real-time mode each position
//! is stamped with the current time and sent as the simulated clock advances (optionally
//! faster: `--speedup`). In replay mode (`--replay`) the whole drive is stamped in the
//! recent past and sent at once — the detectors work on position times, so a drive of half
//! an hour is checked in a second (the tests use it).

use crate::Failure;
use serde_json::{Value, json};

/// A fault to inject.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// 400 m off the route (away from every part of it) for 60 s, from this fraction.
    Deviation(f64),
    /// Stopped for 240 s at this fraction.
    Stop(f64),
    /// No position for 180 s from this fraction.
    Silence(f64),
    /// The SOS button at this fraction.
    Sos(f64),
}

impl Fault {
    /// Parses `kind@fraction`, e.g. `deviation@0.4`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, at) = text
            .split_once('@')
            .ok_or_else(|| format!("--fault {text:?}: KIND@FRACTION, e.g. deviation@0.4"))?;
        let at: f64 = at
            .parse()
            .ok()
            .filter(|f: &f64| (0.0..=1.0).contains(f))
            .ok_or_else(|| format!("--fault {text:?}: the fraction of the route is 0 to 1"))?;
        match kind {
            "deviation" => Ok(Self::Deviation(at)),
            "stop" => Ok(Self::Stop(at)),
            "silence" => Ok(Self::Silence(at)),
            "sos" => Ok(Self::Sos(at)),
            _ => Err(format!("--fault {text:?}: deviation, stop, silence or sos")),
        }
    }
}

/// One step of the simulated drive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// A position `at` seconds after the start.
    Position {
        /// Seconds after the start.
        at: i64,
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// Metres per second.
        speed: f64,
    },
    /// The SOS button, `at` seconds after the start.
    Sos {
        /// Seconds after the start.
        at: i64,
    },
}

fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    jsms_domain::tracking::distance_m(a, b)
}

/// A 400 m offset from `here` in the direction (of eight) that ends farthest from the route.
fn away(route: &[(f64, f64)], here: (f64, f64)) -> (f64, f64) {
    let dlat = 400.0 / 111_195.0;
    let dlon = dlat / here.0.to_radians().cos().max(0.01);
    let mut best = (dlat, 0.0);
    let mut best_d = -1.0;
    for k in 0..8 {
        let a = f64::from(k) * std::f64::consts::FRAC_PI_4;
        let o = (dlat * a.cos(), dlon * a.sin());
        let d = jsms_domain::tracking::distance_to_route((here.0 + o.0, here.1 + o.1), route);
        if d > best_d {
            best_d = d;
            best = o;
        }
    }
    best
}

/// The drive along `route` (lat, lon) at `speed` m/s, one sample every `step` seconds, with
/// `faults`; ends at the last point.
pub fn track(route: &[(f64, f64)], speed: f64, step: i64, faults: &[Fault]) -> Vec<Sample> {
    let mut out = Vec::new();
    let Some(&start) = route.first() else { return out };
    let at = |i: usize| route.get(i).copied().unwrap_or(start);
    let total: f64 = (1..route.len()).map(|i| metres(at(i - 1), at(i))).sum();
    let step = step.max(1);
    let stride = (speed * step as f64).max(1.0);
    let (mut t, mut travelled) = (0i64, 0.0f64);
    let (mut seg, mut into) = (0usize, 0.0f64);
    let mut here = start;
    let mut pending: Vec<Fault> = faults.to_vec();
    let mut off_until = -1i64;
    let mut offset = (0.0f64, 0.0f64);
    let mut silent_until = -1i64;
    loop {
        let fraction = if total > 0.0 { travelled / total } else { 1.0 };
        let mut stop_for = 0;
        pending.retain(|f| match *f {
            Fault::Deviation(at) if fraction >= at => {
                off_until = t + 60;
                offset = away(route, here);
                false
            }
            Fault::Stop(at) if fraction >= at => {
                stop_for = 240;
                false
            }
            Fault::Silence(at) if fraction >= at => {
                silent_until = t + 180;
                false
            }
            Fault::Sos(at) if fraction >= at => {
                out.push(Sample::Sos { at: t });
                false
            }
            _ => true,
        });
        let emit = |out: &mut Vec<Sample>, t: i64, p: (f64, f64), v: f64, off: bool| {
            if t >= silent_until {
                let (dlat, dlon) = if off { offset } else { (0.0, 0.0) };
                out.push(Sample::Position {
                    at: t,
                    lat: p.0 + dlat,
                    lon: p.1 + dlon,
                    speed: v,
                });
            }
        };
        let mut waited = 0;
        while waited < stop_for {
            emit(&mut out, t, here, 0.0, false);
            t += step;
            waited += step;
        }
        emit(&mut out, t, here, speed, t < off_until);
        if seg + 1 >= route.len() {
            break;
        }
        // Advance `stride` metres along the route.
        let mut left = stride;
        while seg + 1 < route.len() {
            let (a, b) = (at(seg), at(seg + 1));
            let len = metres(a, b);
            if into + left < len {
                into += left;
                travelled += left;
                let f = if len > 0.0 { into / len } else { 1.0 };
                here = (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f);
                break;
            }
            left -= len - into;
            travelled += len - into;
            seg += 1;
            into = 0.0;
            here = b;
        }
        t += step;
        if seg + 1 >= route.len() {
            // The arrival is always reported, silence or not.
            out.push(Sample::Position {
                at: t,
                lat: here.0,
                lon: here.1,
                speed: 0.0,
            });
            break;
        }
    }
    out
}

/// Arguments of `jsms simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The instance, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: String,
    /// The device token (or JSMS_DEVICE_TOKEN).
    #[arg(long, env = "JSMS_DEVICE_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Driving speed, km/h.
    #[arg(long, default_value_t = 35.0)]
    pub speed_kmh: f64,
    /// Simulated seconds between positions.
    #[arg(long, default_value_t = 5)]
    pub step_secs: i64,
    /// Run the simulated clock this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub speedup: f64,
    /// Stamp the drive in the recent past and send it at once.
    #[arg(long)]
    pub replay: bool,
    /// Faults: deviation@F, stop@F, silence@F, sos@F (F = fraction of the route, 0–1).
    #[arg(long = "fault")]
    pub faults: Vec<String>,
}

/// What a simulation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The movement driven.
    pub movement: String,
    /// Positions sent.
    pub positions: usize,
    /// SOS pressed.
    pub sos: usize,
}

/// Drives the device's assignment; returns what was sent.
pub async fn drive(args: &SimulateArgs) -> Result<Summary, Failure> {
    let usage = |m: String| Failure { code: 2, message: m };
    let faults = args
        .faults
        .iter()
        .map(|f| Fault::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    if !(1.0..=200.0).contains(&args.speed_kmh) || args.step_secs < 1 || args.speedup.is_nan() || args.speedup <= 0.0 {
        return Err(usage("--speed-kmh 1–200, --step-secs ≥ 1, --speedup > 0".into()));
    }
    let base = args.url.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(Failure::runtime)?;
    let get = client
        .get(format!("{base}/api/v1/tracking/assignment"))
        .bearer_auth(&args.token)
        .send()
        .await
        .map_err(Failure::runtime)?;
    let status = get.status();
    let assignment: Value = get.json().await.map_err(Failure::runtime)?;
    if !status.is_success() {
        return Err(Failure::config(format!(
            "no assignment: {}",
            assignment
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
        )));
    }
    let route: Vec<(f64, f64)> = assignment
        .get("route")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p.get(1)?.as_f64()?, p.get(0)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let samples = track(&route, args.speed_kmh / 3.6, args.step_secs, &faults);
    let duration = samples
        .iter()
        .map(|s| match s {
            Sample::Position { at, .. } | Sample::Sos { at } => *at,
        })
        .max()
        .unwrap_or(0);
    let now = || time::OffsetDateTime::now_utc().unix_timestamp();
    let start = if args.replay { now() - duration - 1 } else { now() };
    let mut summary = Summary {
        movement: assignment
            .get("movement")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        positions: 0,
        sos: 0,
    };
    let mut clock = 0i64;
    for s in samples {
        let at = match s {
            Sample::Position { at, .. } | Sample::Sos { at } => at,
        };
        if !args.replay && at > clock {
            let wait = (at - clock) as f64 / args.speedup;
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
            clock = at;
        }
        let stamp = if args.replay { start + at } else { now() };
        let r = match s {
            Sample::Position { lat, lon, speed, .. } => {
                summary.positions += 1;
                client
                    .post(format!("{base}/api/v1/tracking/positions"))
                    .bearer_auth(&args.token)
                    .json(&json!({"positions": [{"time": stamp, "lat": lat, "lon": lon, "speed": speed}]}))
                    .send()
                    .await
            }
            Sample::Sos { .. } => {
                summary.sos += 1;
                client
                    .post(format!("{base}/api/v1/tracking/sos"))
                    .bearer_auth(&args.token)
                    .send()
                    .await
            }
        }
        .map_err(Failure::runtime)?;
        // Near the destination the server completes the movement on arrival and takes no
        // more positions: the drive is over.
        let near_end = match (s, route.last()) {
            (Sample::Position { lat, lon, .. }, Some(&end)) => metres((lat, lon), end) <= 150.0,
            _ => false,
        };
        if r.status() == reqwest::StatusCode::CONFLICT && near_end {
            summary.positions -= 1;
            break;
        }
        if !r.status().is_success() {
            let body = r.text().await.unwrap_or_default();
            return Err(Failure::runtime(format!("the server refused a sample: {body}")));
        }
    }
    Ok(summary)
}

/// Runs `jsms simulate`.
pub fn run(args: SimulateArgs) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Failure::runtime)?;
    let s = rt.block_on(drive(&args))?;
    println!(
        "simulated movement {}: {} positions, {} SOS",
        s.movement, s.positions, s.sos
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn straight() -> Vec<(f64, f64)> {
        (0..=10).map(|i| (24.85, 67.0 + f64::from(i) * 0.002)).collect()
    }

    fn positions(s: &[Sample]) -> Vec<(i64, f64, f64, f64)> {
        s.iter()
            .filter_map(|x| match *x {
                Sample::Position { at, lat, lon, speed } => Some((at, lat, lon, speed)),
                Sample::Sos { .. } => None,
            })
            .collect()
    }

    #[test]
    fn the_drive_follows_the_route_at_speed_and_ends_at_the_destination() {
        let s = track(&straight(), 10.0, 5, &[]);
        let p = positions(&s);
        assert_eq!((p[0].1, p[0].2), (24.85, 67.0));
        let last = p.last().unwrap();
        assert!(metres((last.1, last.2), (24.85, 67.02)) < 1.0);
        // About 2 km at 10 m/s: about 200 s.
        assert!((195..=215).contains(&last.0), "{}", last.0);
        for w in p.windows(2) {
            assert!(w[1].0 - w[0].0 == 5);
            assert!(metres((w[0].1, w[0].2), (w[1].1, w[1].2)) <= 50.0 + 1e-6);
        }
    }

    #[test]
    fn faults_are_injected_where_asked() {
        // 2 km at 5 m/s: 400 s of driving, plus the faults.
        let s = track(
            &straight(),
            5.0,
            5,
            &[
                Fault::Deviation(0.05),
                Fault::Silence(0.2),
                Fault::Stop(0.7),
                Fault::Sos(0.9),
            ],
        );
        let p = positions(&s);
        let off: Vec<_> = p
            .iter()
            .filter(|x| jsms_domain::tracking::distance_to_route((x.1, x.2), &straight()) > 300.0)
            .collect();
        assert!(off.len() >= 10, "60 s off the route: {}", off.len());
        let stopped = p.iter().filter(|x| x.3 == 0.0).count();
        assert!(stopped >= 48, "240 s stopped: {stopped}");
        let gap = p.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap();
        assert!(gap >= 180, "180 s of silence: {gap}");
        assert_eq!(s.iter().filter(|x| matches!(x, Sample::Sos { .. })).count(), 1);
        assert_eq!(Fault::parse("stop@0.5"), Ok(Fault::Stop(0.5)));
        assert!(Fault::parse("stop@2").is_err() && Fault::parse("crash@0.5").is_err());
    }
}
