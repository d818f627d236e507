//! Schedules: parsing cron and friendly forms, and finding when they next fire.

mod cron;
pub mod schedule;

pub use schedule::{Schedule, ScheduleError};
