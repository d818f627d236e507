//! The domain: command grammar and the answers to commands and messages. No HTTP
//! types here; the HTTP layer hands in parsed values and renders what comes back.

pub mod command;
pub mod messages;
pub mod respond;
mod tokens;
pub mod usage;
pub mod workspaces;
