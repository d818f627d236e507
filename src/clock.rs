//! Injected time. Production reads the system clock; tests hold a [`ManualClock`]
//! and move it instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" (UTC).
pub trait Clock: Send + Sync + 'static {
    /// Unix time in milliseconds.
    fn now_millis(&self) -> i64;

    /// Unix time in seconds.
    fn now_unix(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }
}

/// Shared handle to whichever clock the app runs on.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at `unix` seconds.
    pub fn at(unix: i64) -> Self {
        Self(AtomicI64::new(unix * 1000))
    }
    pub fn set(&self, unix: i64) {
        self.0.store(unix * 1000, Ordering::SeqCst);
    }
    pub fn advance(&self, seconds: i64) {
        self.advance_millis(seconds * 1000);
    }
    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(100);
        assert_eq!(clock.now_unix(), 100);
        clock.advance_millis(1500);
        assert_eq!(clock.now_millis(), 101_500);
        assert_eq!(clock.now_unix(), 101);
        clock.set(5);
        assert_eq!(clock.now_unix(), 5);
        assert!(SystemClock.now_unix() > 1_700_000_000);
    }
}
