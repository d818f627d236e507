//! Injected time. Production reads the system clock; tests hold a [`ManualClock`]
//! (or a [`ShiftedClock`], when the app must keep running) and move it instead of
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::Timestamp;

/// A source of "now" (UTC).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Shared handle to whichever clock the app runs on.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default(),
        )
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
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// The wall clock moved by an offset: time keeps flowing (so pacing and backoff run
/// their course) while a test jumps days or weeks ahead.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_millis: AtomicI64,
}

impl ShiftedClock {
    /// A clock that reads `unix` seconds now and runs on from there.
    pub fn at(unix: i64) -> Self {
        let clock = Self::default();
        clock.set(unix);
        clock
    }
    pub fn set(&self, unix: i64) {
        let offset = unix * 1000 - SystemClock.now().millis();
        self.offset_millis.store(offset, Ordering::SeqCst);
    }
    pub fn advance(&self, seconds: i64) {
        self.offset_millis
            .fetch_add(seconds * 1000, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        SystemClock
            .now()
            .plus_millis(self.offset_millis.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(100);
        assert_eq!(clock.now(), Timestamp::from_unix_seconds(100));
        clock.advance_millis(1500);
        assert_eq!(clock.now().millis(), 101_500);
        assert_eq!(clock.now().unix_seconds(), 101);
        clock.set(5);
        assert_eq!(clock.now().unix_seconds(), 5);
        assert!(SystemClock.now().unix_seconds() > 1_700_000_000);
    }

    #[test]
    fn a_shifted_clock_jumps_and_keeps_running() {
        let clock = ShiftedClock::at(1_000);
        assert!((clock.now().unix_seconds() - 1_000).abs() <= 1);
        clock.advance(86_400);
        assert!((clock.now().unix_seconds() - 87_400).abs() <= 1);
    }
}
