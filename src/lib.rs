//! learnloop: a Slack and Microsoft Teams bot that helps teams learn from their own work.
//!
//! Data flows one way: [`http`] verifies and parses a request (Slack's may also arrive
//! over [`socket_mode`], into the same handlers), [`app`] decides what it means,
//! [`store`] keeps it together with every message it causes, and [`delivery`] sends
//! those through [`platform`]'s clients; [`scheduler`] turns due schedules into the same
//! kind of rows.
//!
//! | module | its one job |
//! |---|---|
//! | [`startup`] | builds the application from [`config`] and runs it until a signal |
//! | [`http`] | routes, request verification, the one HTTP error type |
//! | [`socket_mode`] | Slack Socket Mode: the connection and its envelopes |
//! | [`domain`] | values every layer uses: ids, platform, workspace, conversation kind, a point in time (`Timestamp`), schedules and cron, the traits a platform answers (directory, time zones) |
//! | [`app`] | what learnloop does: commands, debriefs, follow-ups, goals, digests, the Home, installs |
//! | [`store`] | the only place with SQL; tokens sealed with [`sealing`] |
//! | [`scheduler`] | due schedules, follow-ups and recurrence matching |
//! | [`delivery`] | the outbox worker |
//! | [`platform`] | the neutral message and form models, their renderers, the Slack and Bot Framework clients |
//! | [`clock`], [`metrics`], [`telemetry`] | time, counters and logs, injected |
//! | [`secret`] | a string that never prints itself (tokens, signing secrets, URLs with passwords) |
//!
//! `docs/ARCHITECTURE.md` has the rules the code keeps and where to change what.

pub mod app;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod platform;
pub mod scheduler;
pub mod sealing;
pub mod secret;
pub mod socket_mode;
pub mod startup;
pub mod store;
pub mod telemetry;

#[cfg(test)]
mod property_tests;
