//! Who sent a request: Slack's signature, a Teams outgoing webhook's HMAC and the Bot
//! Framework's bearer token. Every check runs before the body is parsed.

pub mod bot_token;
mod slack;
mod teams_webhook;

pub use bot_token::{BotTokenError, BotTokenVerifier, VerifiedBotToken};
pub use slack::{MAX_CLOCK_SKEW_SECS, SignatureError, SlackSignatureVerifier};
pub use teams_webhook::{TeamsWebhookVerifier, WebhookSignatureError};
