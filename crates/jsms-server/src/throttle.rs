//! Sign-in throttling with exponential backoff, per account name and per client address.
//!
//! Keys are the submitted username (whether or not it exists) and the address, so the
//! throttle itself reveals nothing about which accounts exist. Times are milliseconds of a
//! monotonic clock ([`Throttle::now_ms`]), so a one-second lock lasts a full second.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed per username before backoff starts.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures allowed per address before backoff starts.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// Longest lockout in seconds.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// Failures older than this (milliseconds) are forgotten.
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    locked_until: i64,
    last_failure: i64,
}

/// In-memory attempt counters.
#[derive(Debug)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Attempts>>,
    base: std::time::Instant,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
            base: std::time::Instant::now(),
        }
    }
}

fn lock_seconds(failures: u32, free: u32) -> i64 {
    if failures < free {
        return 0;
    }
    let exp = (failures - free).min(20);
    (1i64 << exp).min(MAX_LOCK_SECONDS)
}

impl Throttle {
    /// Milliseconds on the throttle's monotonic clock.
    pub fn now_ms(&self) -> i64 {
        i64::try_from(self.base.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Seconds (rounded up) until `username` from `addr` may try again, if locked.
    pub fn retry_after(&self, username: &str, addr: &str, now: i64) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        let wait = [account_key(username), address_key(addr)]
            .iter()
            .filter_map(|k| entries.get(k))
            .map(|a| a.locked_until - now)
            .max()
            .unwrap_or(0);
        (wait > 0).then(|| wait.unsigned_abs().div_ceil(1000))
    }

    /// Records a failure for both keys.
    pub fn fail(&self, username: &str, addr: &str, now: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() > 100_000 {
            entries.retain(|_, a| now - a.last_failure < FORGET_AFTER_MS);
        }
        for (key, free) in [
            (account_key(username), ACCOUNT_FREE_FAILURES),
            (address_key(addr), ADDRESS_FREE_FAILURES),
        ] {
            let a = entries.entry(key).or_insert(Attempts {
                failures: 0,
                locked_until: 0,
                last_failure: now,
            });
            if now - a.last_failure >= FORGET_AFTER_MS {
                a.failures = 0;
            }
            a.failures = a.failures.saturating_add(1);
            a.last_failure = now;
            a.locked_until = now + lock_seconds(a.failures, free) * 1000;
        }
    }

    /// Clears the account's counter after a success (the address keeps its history).
    pub fn succeed(&self, username: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&account_key(username));
        }
    }
}

fn account_key(username: &str) -> String {
    format!("u:{}", username.to_lowercase())
}

fn address_key(addr: &str) -> String {
    format!("a:{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_resets() {
        let t = Throttle::default();
        for _ in 0..4 {
            t.fail("alice", "10.0.0.1", 100);
        }
        assert_eq!(t.retry_after("alice", "10.0.0.1", 100), None);
        t.fail("alice", "10.0.0.1", 100);
        assert_eq!(t.retry_after("alice", "10.0.0.1", 100), Some(1));
        t.fail("alice", "10.0.0.1", 100);
        assert_eq!(
            t.retry_after("alice", "10.0.0.2", 100),
            Some(2),
            "per account, any address"
        );
        assert_eq!(t.retry_after("bob", "10.0.0.2", 100), None);
        t.succeed("alice");
        assert_eq!(t.retry_after("alice", "10.0.0.2", 100), None);
        assert_eq!(lock_seconds(60, 5), MAX_LOCK_SECONDS);
    }
}
