//! Time, injected: every rule that depends on the time of day, every expiry and every
//! background tick reads a [`Clock`], so tests advance a [`ManualClock`] instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::watch;

/// The source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
    /// Milliseconds since the Unix epoch (where order within a second matters).
    fn now_ms(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
    /// A receiver that changes whenever a virtual clock is moved by hand; `None` for a clock
    /// that runs by itself. Background loops wake on it as well as on their interval.
    fn moved(&self) -> Option<watch::Receiver<i64>> {
        None
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn now_ms(&self) -> i64 {
        i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// A clock that stands still until moved (tests, replays).
#[derive(Debug)]
pub struct ManualClock {
    ms: AtomicI64,
    tx: watch::Sender<i64>,
}

impl ManualClock {
    /// A clock standing at `unix_seconds`.
    pub fn at(unix_seconds: i64) -> Arc<Self> {
        let ms = unix_seconds.saturating_mul(1000);
        Arc::new(Self {
            ms: AtomicI64::new(ms),
            tx: watch::channel(ms).0,
        })
    }

    /// Moves the clock forward by `seconds` and wakes the loops that watch it.
    pub fn advance(&self, seconds: i64) {
        let ms = self.ms.fetch_add(seconds.saturating_mul(1000), Ordering::SeqCst) + seconds * 1000;
        self.tx.send_replace(ms);
    }

    /// Sets the clock (forward or back) and wakes the loops that watch it.
    pub fn set(&self, unix_seconds: i64) {
        let ms = unix_seconds.saturating_mul(1000);
        self.ms.store(ms, Ordering::SeqCst);
        self.tx.send_replace(ms);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.ms.load(Ordering::SeqCst).div_euclid(1000)
    }

    fn now_ms(&self) -> i64 {
        self.ms.load(Ordering::SeqCst)
    }

    fn moved(&self) -> Option<watch::Receiver<i64>> {
        Some(self.tx.subscribe())
    }
}

/// Waits for the next tick of a background loop: `interval` of real time, or the clock being
/// moved by hand, whichever comes first.
pub async fn tick(interval: &mut tokio::time::Interval, moved: &mut Option<watch::Receiver<i64>>) {
    match moved {
        Some(rx) => {
            tokio::select! {
                _ = interval.tick() => {}
                _ = rx.changed() => {}
            }
        }
        None => {
            interval.tick().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = ManualClock::at(1_000);
        assert_eq!(c.now(), 1_000);
        assert_eq!(c.now_ms(), 1_000_000);
        let mut rx = c.moved().unwrap();
        c.advance(90);
        assert_eq!(c.now(), 1_090);
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), 1_090_000);
        c.set(5);
        assert_eq!(c.now(), 5);
    }
}
