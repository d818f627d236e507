//! learnloop: a Slack and Microsoft Teams bot that helps teams learn from their own work.
//!
//! Data flows one way: [`http`] verifies and parses a request, [`app`] decides what it
//! means, [`store`] keeps it, and [`platform`] renders and sends what the bot says.

pub mod app;
pub mod clock;
pub mod config;
pub mod delivery;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod platform;
pub mod scheduler;
pub mod sealing;
pub mod socket_mode;
pub mod startup;
pub mod store;
pub mod telemetry;

#[cfg(test)]
mod property_tests;
