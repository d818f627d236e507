//! Slack: Block Kit rendering and the Web API client.

pub mod blocks;
pub mod client;
pub mod directory;
pub mod modal;
pub mod rotation;
pub mod zones;

pub use client::{SlackApiError, SlackClient};
pub use directory::SlackDirectory;
pub use zones::SlackZones;
