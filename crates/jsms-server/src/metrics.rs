//! Prometheus metrics in the text exposition format, counted with atomics.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (seconds) of the request-duration histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Server counters.
#[derive(Debug, Default)]
pub struct Metrics {
    responses: [AtomicU64; 5],
    duration_buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_micros: AtomicU64,
    /// Successful sign-ins.
    pub sign_in_success: AtomicU64,
    /// Failed sign-ins (wrong username, password or code).
    pub sign_in_failure: AtomicU64,
    /// Sign-ins refused by throttling.
    pub sign_in_throttled: AtomicU64,
}

impl Metrics {
    /// Records one response.
    pub fn observe(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).saturating_sub(1).min(4);
        if let Some(c) = self.responses.get(class) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        for (bound, bucket) in BUCKETS.iter().zip(&self.duration_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Renders the exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str("# HELP jsms_http_responses_total HTTP responses by status class.\n");
        out.push_str("# TYPE jsms_http_responses_total counter\n");
        for (i, c) in self.responses.iter().enumerate() {
            let _ = writeln!(out, "jsms_http_responses_total{{class=\"{}xx\"}} {}", i + 1, get(c));
        }
        out.push_str("# HELP jsms_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE jsms_http_request_duration_seconds histogram\n");
        for (bound, b) in BUCKETS.iter().zip(&self.duration_buckets) {
            let _ = writeln!(
                out,
                "jsms_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(b)
            );
        }
        let count = get(&self.duration_count);
        let _ = writeln!(out, "jsms_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "jsms_http_request_duration_seconds_sum {}",
            get(&self.duration_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "jsms_http_request_duration_seconds_count {count}");
        for (name, help, v) in [
            (
                "jsms_sign_in_success_total",
                "Successful sign-ins.",
                &self.sign_in_success,
            ),
            ("jsms_sign_in_failure_total", "Failed sign-ins.", &self.sign_in_failure),
            (
                "jsms_sign_in_throttled_total",
                "Sign-ins refused by throttling.",
                &self.sign_in_throttled,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", get(v));
        }
        out
    }
}
