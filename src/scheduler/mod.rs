//! Firing due schedules exactly once, asking follow-ups and posting recaps. What a
//! schedule is (its forms, the cron parser, when it next fires) is `domain::schedule`.

mod follow_ups;
mod recaps;
mod runner;

pub use runner::{FireReport, Scheduler};
