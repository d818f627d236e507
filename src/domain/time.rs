//! One type for a point in time. Every layer passes a [`Timestamp`]; only the store
//! turns it into a column's unit (`unix_seconds` for the human-scale columns such as
//! `created_at`, `next_fire_at` and `follow_up_at`; `millis` for the outbox's delivery
//! columns, where backoff and pacing need them), so no function takes a bare integer
//! that could be read in the wrong unit.

use std::ops::{Add, Sub};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A point in time: Unix milliseconds (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// A time that never comes (the next occurrence of a schedule that has none, a
    /// scope never looked up again). It reads and writes as `i64::MAX` in either unit,
    /// so a "never" stored before keeps its meaning and its value.
    pub const NEVER: Self = Self(i64::MAX);

    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds.saturating_mul(1000))
    }

    /// Unix milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Unix seconds, rounded down (so a time within a second reads as that second);
    /// `i64::MAX` for [`Self::NEVER`].
    pub const fn unix_seconds(self) -> i64 {
        if self.0 == i64::MAX {
            i64::MAX
        } else {
            self.0.div_euclid(1000)
        }
    }

    /// The same time `seconds` later (earlier when negative).
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1000)))
    }

    /// The same time `millis` later (earlier when negative).
    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// How long after `earlier` this is (zero when it is not after).
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// Whole seconds from `earlier` to this (negative when this is earlier).
    pub const fn seconds_since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0).div_euclid(1000)
    }

    /// As a calendar time in UTC (the epoch for a time chrono cannot represent).
    pub fn to_utc(self) -> DateTime<Utc> {
        self.checked_utc().unwrap_or_default()
    }

    /// As a calendar time in UTC; `None` beyond chrono's range (a "never", such as
    /// the next occurrence of a schedule that has none).
    pub fn checked_utc(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }
}

fn millis_of(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Add<Duration> for Timestamp {
    type Output = Self;
    fn add(self, duration: Duration) -> Self {
        self.plus_millis(millis_of(duration))
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Self;
    fn sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(millis_of(duration)))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Self {
        Self(time.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_down_also_before_the_epoch() {
        assert_eq!(Timestamp::from_millis(101_999).unix_seconds(), 101);
        assert_eq!(Timestamp::from_millis(-1).unix_seconds(), -1);
        assert_eq!(Timestamp::from_unix_seconds(7).millis(), 7_000);
    }

    #[test]
    fn never_keeps_its_value_in_seconds() {
        assert_eq!(Timestamp::from_unix_seconds(i64::MAX), Timestamp::NEVER);
        assert_eq!(Timestamp::NEVER.unix_seconds(), i64::MAX);
        assert_eq!(Timestamp::NEVER.checked_utc(), None);
        assert!(Timestamp::from_unix_seconds(4_000_000_000) < Timestamp::NEVER);
    }

    #[test]
    fn durations_move_it_and_measure_it() {
        let start = Timestamp::from_unix_seconds(1_000);
        let later = start + Duration::from_millis(1_500);
        assert_eq!(later.millis(), 1_001_500);
        assert_eq!(later - Duration::from_secs(1), start.plus_millis(500));
        assert_eq!(later.since(start), Duration::from_millis(1_500));
        assert_eq!(start.since(later), Duration::ZERO);
        assert_eq!(start.plus_seconds(-1).unix_seconds(), 999);
        assert_eq!(later.seconds_since(start), 1);
        assert_eq!(
            start.seconds_since(later),
            -2,
            "rounded down, as seconds are"
        );
    }

    #[test]
    fn it_reads_as_a_calendar_time() {
        let time = Timestamp::from_unix_seconds(1_764_000_000);
        assert_eq!(time.to_utc().timestamp(), 1_764_000_000);
        assert_eq!(Timestamp::from(time.to_utc()), time);
        assert_eq!(Timestamp::from_unix_seconds(i64::MAX).checked_utc(), None);
    }
}
