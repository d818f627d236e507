//! The domain: command grammar and the answers to commands and messages. No HTTP
//! types here; the HTTP layer hands in parsed values and renders what comes back.

pub mod access;
mod buddies;
pub mod checkin_loop;
pub mod checkins;
pub mod command;
pub mod debrief;
pub mod digest;
mod error;
pub mod export;
pub mod followups;
mod goals;
pub mod handle;
pub mod home;
pub mod installs;
mod lessons;
pub mod mentors;
pub mod messages;
pub mod microsoft_signin;
pub mod names;
pub mod pause;
pub mod recap;
pub mod recurrence;
pub mod retention;
pub mod schedules;
pub mod scopes;
pub mod search;
pub mod signin;
mod sparkline;
pub mod templates;
mod tokens;
pub mod usage;
pub mod welcome;
pub mod words;
pub mod workspaces;
pub mod zones;

#[cfg(test)]
mod snapshot_tests;

pub use error::AppError;
