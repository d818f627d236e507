//! The domain: command grammar and the answers to commands and messages. No HTTP
//! types here; the HTTP layer hands in parsed values and renders what comes back.

pub mod command;
pub mod debrief;
mod goals;
pub mod handle;
pub mod messages;
mod pause;
mod schedules;
pub mod templates;
mod tokens;
pub mod usage;
pub mod workspaces;
pub mod zones;
