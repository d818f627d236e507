//! Slack: Block Kit rendering and the Web API client.

pub mod blocks;
pub mod client;

pub use client::{SlackApiError, SlackClient};
