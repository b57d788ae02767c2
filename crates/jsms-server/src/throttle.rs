//! Sign-in throttling with exponential backoff, built so that it cannot be turned against
//! the people it protects:
//!
//! - per account **and address**: five free failures, then 1 s, 2 s, 4 s … up to 15 min —
//!   someone guessing from one place is slowed, the account's owner elsewhere is not;
//! - per account from anywhere: thirty free failures, then at most a minute — distributed
//!   guessing is slowed without a long lockout anyone could cause by typing a known name;
//! - per address, counted in **different usernames** failed (password spraying): ten free,
//!   then backoff — colleagues behind one address are not locked out because one of them
//!   mistyped twenty times.
//!
//! Keys are the submitted username (whether or not it exists) and the address, so the
//! throttle itself reveals nothing about which accounts exist. Times are milliseconds of a
//! monotonic clock ([`Throttle::now_ms`]), so a one-second lock lasts a full second.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed per username and address before backoff starts.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures allowed per username from anywhere before backoff starts.
pub const ACCOUNT_WIDE_FREE_FAILURES: u32 = 30;
/// Longest account-wide lockout in seconds.
pub const ACCOUNT_WIDE_MAX_LOCK_SECONDS: i64 = 60;
/// Different usernames failed per address before backoff starts.
pub const ADDRESS_FREE_NAMES: u32 = 10;
/// Longest lockout in seconds.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// Usernames remembered per address (to count different ones).
const NAMES_KEPT: usize = 64;
/// Failures older than this (milliseconds) are forgotten.
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Default)]
struct Attempts {
    failures: u32,
    locked_until: i64,
    last_failure: i64,
    /// For address keys: the usernames that failed from it.
    names: Vec<String>,
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

fn lock_seconds(failures: u32, free: u32, max: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let exp = (failures - free).min(20);
    (1i64 << exp).min(max)
}

impl Throttle {
    /// Milliseconds on the throttle's monotonic clock.
    pub fn now_ms(&self) -> i64 {
        i64::try_from(self.base.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Seconds (rounded up) until `username` from `addr` may try again, if locked.
    pub fn retry_after(&self, username: &str, addr: &str, now: i64) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        let wait = [pair_key(username, addr), account_key(username), address_key(addr)]
            .iter()
            .filter_map(|k| entries.get(k))
            .map(|a| a.locked_until - now)
            .max()
            .unwrap_or(0);
        (wait > 0).then(|| wait.unsigned_abs().div_ceil(1000))
    }

    /// Records a failure of `username` from `addr`.
    pub fn fail(&self, username: &str, addr: &str, now: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() > 100_000 {
            entries.retain(|_, a| now - a.last_failure < FORGET_AFTER_MS);
        }
        let name = username.to_lowercase();
        for (key, free, max) in [
            (pair_key(username, addr), ACCOUNT_FREE_FAILURES, MAX_LOCK_SECONDS),
            (
                account_key(username),
                ACCOUNT_WIDE_FREE_FAILURES,
                ACCOUNT_WIDE_MAX_LOCK_SECONDS,
            ),
            (address_key(addr), ADDRESS_FREE_NAMES, MAX_LOCK_SECONDS),
        ] {
            let by_address = key.starts_with("a:");
            let a = entries.entry(key).or_insert_with(|| Attempts {
                last_failure: now,
                ..Attempts::default()
            });
            if now - a.last_failure >= FORGET_AFTER_MS {
                *a = Attempts::default();
            }
            a.last_failure = now;
            if by_address {
                // An address counts the different names it failed, not its failures.
                if a.names.contains(&name) {
                    continue;
                }
                if a.names.len() < NAMES_KEPT {
                    a.names.push(name.clone());
                }
            }
            a.failures = a.failures.saturating_add(1);
            a.locked_until = now + lock_seconds(a.failures, free, max) * 1000;
        }
    }

    /// Clears the counters of `username` after a success (the address keeps its history).
    pub fn succeed(&self, username: &str, addr: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&pair_key(username, addr));
            entries.remove(&account_key(username));
        }
    }
}

fn pair_key(username: &str, addr: &str) -> String {
    format!("p:{}|{addr}", username.to_lowercase())
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
        assert_eq!(t.retry_after("alice", "10.0.0.1", 100), Some(2));
        assert_eq!(
            t.retry_after("alice", "10.0.0.2", 100),
            None,
            "the account's owner elsewhere is not locked out"
        );
        assert_eq!(
            t.retry_after("bob", "10.0.0.1", 100),
            None,
            "nor a colleague at the same address"
        );
        t.succeed("alice", "10.0.0.1");
        assert_eq!(t.retry_after("alice", "10.0.0.1", 100), None);
        assert_eq!(lock_seconds(60, 5, MAX_LOCK_SECONDS), MAX_LOCK_SECONDS);
    }

    #[test]
    fn nobody_locks_an_account_for_long_by_typing_its_name() {
        let t = Throttle::default();
        // Guessing from many addresses: the account slows down, for a minute at most.
        for i in 0..200 {
            t.fail("alice", &format!("10.1.{}.{}", i / 250, i % 250), 1000);
        }
        let wait = t.retry_after("alice", "192.0.2.7", 1000).unwrap();
        assert!(wait <= 60, "{wait}");
        assert_eq!(t.retry_after("alice", "192.0.2.7", 1000 + 61_000), None);
    }

    #[test]
    fn an_address_is_slowed_for_spraying_not_for_one_clumsy_user() {
        let t = Throttle::default();
        for _ in 0..50 {
            t.fail("carol", "10.0.0.9", 100);
        }
        assert_eq!(t.retry_after("dave", "10.0.0.9", 100), None, "one user's mistakes");
        for i in 0..12 {
            t.fail(&format!("user{i}"), "10.0.0.8", 100);
        }
        assert!(t.retry_after("erin", "10.0.0.8", 100).is_some(), "twelve names sprayed");
    }
}
