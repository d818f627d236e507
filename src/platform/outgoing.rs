//! Where the domain's "post this message in that channel" becomes an outbox row for the
//! workspace's platform: a Slack `chat.postMessage` with Block Kit, or a Teams
//! `teams.send` with an Adaptive Card. The domain decides what to say; only this
//! rendering differs.

use super::Message;
use super::slack::blocks::post_message_body;
use super::teams::card_activity;
use crate::store::{OutboxMethod, Platform};

/// An outbox method and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub method: OutboxMethod,
    pub body: String,
}

/// A new message in `channel` (a Slack channel id, or a Teams conversation the bot has
/// a reference to). `name_of` gives people's display names where a platform shows
/// names rather than mentions (Teams).
pub fn post(
    platform: Platform,
    channel: &str,
    message: &Message,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Outgoing {
    match platform {
        Platform::Slack => Outgoing {
            method: OutboxMethod::SlackPost,
            body: post_message_body(channel, None, message).to_string(),
        },
        Platform::Teams => Outgoing {
            method: OutboxMethod::TeamsSend,
            body: card_activity(message, name_of).to_string(),
        },
    }
}

/// A replacement for a message posted earlier (the outbox row names which, as its `ts`
/// anchor).
pub fn update(
    platform: Platform,
    channel: &str,
    message: &Message,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Outgoing {
    let posted = post(platform, channel, message, name_of);
    Outgoing {
        method: match platform {
            Platform::Slack => OutboxMethod::SlackUpdate,
            Platform::Teams => OutboxMethod::TeamsUpdate,
        },
        body: posted.body,
    }
}

/// No display names known: mentions render as each platform does without them.
pub fn no_names(_: &str) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_gets_its_own_method_and_body() {
        let message = Message::text("Weekly digest for <@U1>");
        let slack = post(Platform::Slack, "C1", &message, &|_| None);
        assert_eq!(slack.method, OutboxMethod::SlackPost);
        assert!(slack.body.contains("\"channel\":\"C1\""), "{}", slack.body);
        let teams = post(Platform::Teams, "19:c@thread.tacv2", &message, &|_| {
            Some("Ada".into())
        });
        assert_eq!(teams.method, OutboxMethod::TeamsSend);
        assert!(
            teams.body.contains("Weekly digest for Ada"),
            "{}",
            teams.body
        );
        assert!(
            teams
                .body
                .contains("application/vnd.microsoft.card.adaptive")
        );
    }
}
