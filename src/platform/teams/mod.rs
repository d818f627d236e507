//! Microsoft Teams: the Bot Framework activity model and the rendering of neutral
//! messages for Teams.

pub mod activity;
pub mod markdown;

pub use activity::{Activity, ChannelAccount};
pub use markdown::{message_text, to_markdown};
