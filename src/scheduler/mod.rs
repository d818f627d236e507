//! Schedules: parsing cron and friendly forms, finding when they next fire, and firing
//! them exactly once.

mod cron;
mod follow_ups;
mod recaps;
mod runner;
pub mod schedule;

pub use runner::{FireReport, Scheduler};
pub use schedule::{Schedule, ScheduleError};
