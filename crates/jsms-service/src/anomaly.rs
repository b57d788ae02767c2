//! Anomaly detection over the audit stream, for the auditors of every party: bursts of
//! protected reads by one principal, repeated denials, and protected reads at off hours.
//! Pure and in-memory: it sees each entry once it is durable and returns the alerts to raise.

use jsms_audit::entry::{AuditEntry, Outcome};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Thresholds (PRODUCT §3.8), all configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnomalyConfig {
    /// More than this many protected reads by one principal within `burst_window_secs`…
    pub burst_reads: usize,
    /// …seconds raises `read_burst`.
    pub burst_window_secs: i64,
    /// This many denials of one principal within `denial_window_secs`…
    pub denials: usize,
    /// …seconds raises `repeated_denials`.
    pub denial_window_secs: i64,
    /// Off hours start at this UTC hour (inclusive)…
    pub off_hours_start_utc: u8,
    /// …and end at this UTC hour (exclusive); equal to the start means never.
    pub off_hours_end_utc: u8,
}

impl Default for AnomalyConfig {
    /// 50 reads a minute, 5 denials in 5 minutes, off hours 22:00–06:00 Pakistan time
    /// (17:00–01:00 UTC).
    fn default() -> Self {
        Self {
            burst_reads: 50,
            burst_window_secs: 60,
            denials: 5,
            denial_window_secs: 300,
            off_hours_start_utc: 17,
            off_hours_end_utc: 1,
        }
    }
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    /// `read_burst`, `repeated_denials`, `off_hours`.
    pub kind: &'static str,
    /// Who.
    pub principal: String,
    /// Explanation.
    pub message: String,
}

#[derive(Debug, Default)]
struct Window {
    reads: VecDeque<i64>,
    denials: VecDeque<i64>,
    burst_alerted_until: i64,
    denial_alerted_until: i64,
    off_hours_alerted_until: i64,
}

/// The detector's sliding windows, per principal.
#[derive(Debug, Default)]
pub struct AnomalyDetector {
    config: AnomalyConfig,
    windows: Mutex<HashMap<String, Window>>,
}

/// The fields whose disclosure counts as itinerary or personal-data access: the anomaly
/// rules watch these, not the status views every board shows all day.
pub const SENSITIVE_FIELDS: [&str; 3] = ["personal_data", "route", "escort"];

fn is_protected_read(e: &AuditEntry) -> bool {
    e.outcome == Outcome::Allow && e.fields.iter().any(|f| SENSITIVE_FIELDS.contains(&f.as_str()))
}

impl AnomalyDetector {
    /// A detector with these thresholds.
    pub fn new(config: AnomalyConfig) -> Self {
        Self {
            config,
            windows: Mutex::default(),
        }
    }

    fn off_hours(&self, secs: i64) -> bool {
        let hour = u8::try_from(secs.rem_euclid(86_400) / 3600).unwrap_or(0);
        let (s, e) = (self.config.off_hours_start_utc, self.config.off_hours_end_utc);
        if s == e {
            false
        } else if s < e {
            (s..e).contains(&hour)
        } else {
            hour >= s || hour < e
        }
    }

    /// Looks at one durable entry; returns the alerts it triggers (each at most once per
    /// window and principal).
    pub fn observe(&self, e: &AuditEntry) -> Vec<Anomaly> {
        let c = self.config;
        let mut out = Vec::new();
        if e.principal == "anonymous" {
            return out;
        }
        let now = e.time_ms.div_euclid(1000);
        let Ok(mut windows) = self.windows.lock() else {
            return out;
        };
        if windows.len() > 50_000 {
            windows.retain(|_, w| w.reads.back().or(w.denials.back()).is_some_and(|t| now - t < 3600));
        }
        let w = windows.entry(e.principal.clone()).or_default();
        if is_protected_read(e) {
            w.reads.push_back(now);
            while w.reads.front().is_some_and(|t| now - t >= c.burst_window_secs) {
                w.reads.pop_front();
            }
            if w.reads.len() > c.burst_reads && now >= w.burst_alerted_until {
                w.burst_alerted_until = now + c.burst_window_secs;
                out.push(Anomaly {
                    kind: "read_burst",
                    principal: e.principal.clone(),
                    message: format!("{} protected reads within {} s", w.reads.len(), c.burst_window_secs),
                });
            }
            if self.off_hours(now) && now >= w.off_hours_alerted_until {
                w.off_hours_alerted_until = now + 3600;
                out.push(Anomaly {
                    kind: "off_hours",
                    principal: e.principal.clone(),
                    message: format!(
                        "protected read of {} at off hours",
                        e.resource.as_deref().unwrap_or("a resource")
                    ),
                });
            }
        }
        if e.outcome == Outcome::Deny {
            w.denials.push_back(now);
            while w.denials.front().is_some_and(|t| now - t >= c.denial_window_secs) {
                w.denials.pop_front();
            }
            if w.denials.len() >= c.denials && now >= w.denial_alerted_until {
                w.denial_alerted_until = now + c.denial_window_secs;
                out.push(Anomaly {
                    kind: "repeated_denials",
                    principal: e.principal.clone(),
                    message: format!("{} denied requests within {} s", w.denials.len(), c.denial_window_secs),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(principal: &str, t: i64, outcome: Outcome, read: bool) -> AuditEntry {
        AuditEntry {
            seq: 0,
            time_ms: t * 1000,
            principal: principal.into(),
            principal_name: None,
            party: None,
            action: "person.read".into(),
            resource: Some("person:x".into()),
            outcome,
            reasons: vec![],
            fields: if read {
                vec!["full_name".into(), "personal_data".into()]
            } else {
                vec!["full_name".into()]
            },
            request_id: None,
            client: None,
            channel: "api".into(),
            justification: None,
        }
    }

    #[test]
    fn bursts_denials_and_off_hours() {
        let d = AnomalyDetector::new(AnomalyConfig {
            off_hours_start_utc: 3,
            off_hours_end_utc: 3,
            ..Default::default()
        });
        let noon = 1_800_000_000 - 1_800_000_000 % 86_400 + 12 * 3600;
        let kinds = |v: Vec<Anomaly>| v.into_iter().map(|a| a.kind).collect::<Vec<_>>();
        for i in 0..50 {
            assert!(kinds(d.observe(&entry("user:a", noon + i / 10, Outcome::Allow, true))).is_empty());
            assert!(
                kinds(d.observe(&entry("user:a", noon + i / 10, Outcome::Allow, false))).is_empty(),
                "status views do not count"
            );
        }
        assert_eq!(
            kinds(d.observe(&entry("user:a", noon + 5, Outcome::Allow, true))),
            ["read_burst"]
        );
        assert!(
            kinds(d.observe(&entry("user:a", noon + 6, Outcome::Allow, true))).is_empty(),
            "once per window"
        );
        assert!(
            kinds(d.observe(&entry("user:b", noon, Outcome::Allow, true))).is_empty(),
            "per principal"
        );
        for i in 0..4 {
            assert!(kinds(d.observe(&entry("user:c", noon + i, Outcome::Deny, false))).is_empty());
        }
        assert_eq!(
            kinds(d.observe(&entry("user:c", noon + 5, Outcome::Deny, false))),
            ["repeated_denials"]
        );
        let night = AnomalyDetector::new(AnomalyConfig::default());
        assert_eq!(
            kinds(night.observe(&entry("user:d", noon + 8 * 3600, Outcome::Allow, true))),
            ["off_hours"]
        );
        assert!(kinds(night.observe(&entry("user:d", noon - 4 * 3600, Outcome::Allow, true))).is_empty());
    }
}
