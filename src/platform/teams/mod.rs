//! Microsoft Teams: the Bot Framework activity model and the rendering of neutral
//! messages for Teams.

pub mod activity;
pub mod card;
pub mod client;
pub mod directory;
pub mod form;
pub mod inline;

pub use activity::{Activity, ChannelAccount};
pub use card::{adaptive_card, card_activity};

/// The outbox method of a message to Teams (see `delivery::teams`).
pub const SEND_METHOD: crate::store::OutboxMethod = crate::store::OutboxMethod::TeamsSend;
/// The outbox method that replaces a message the bot sent to Teams.
pub const UPDATE_METHOD: crate::store::OutboxMethod = crate::store::OutboxMethod::TeamsUpdate;
pub use client::{TeamsApiError, TeamsClient, TeamsCredentials};
