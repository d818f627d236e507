//! The Teams half of the outbox: `teams.send` rows carry a Bot Framework activity for a
//! conversation the bot has a stored reference to. The service URL comes from that
//! reference (learnt from a verified activity), never from the row, so the bot's token
//! only ever goes where Microsoft's signed tokens pointed.

use super::worker::Delivery;
use crate::metrics::DeliveryOutcome;
use crate::store::{OutboxMessage, Settlement};

/// Outbox methods that go to Teams.
pub const TEAMS_METHOD_PREFIX: &str = "teams.";
/// Posts the activity in the body (a reply when it names `replyToId`).
pub const TEAMS_SEND: &str = crate::platform::teams::SEND_METHOD;
/// Teams allows about 60 messages per 30 s per conversation: one every half second.
const CONVERSATION_INTERVAL_MS: i64 = 500;

impl Delivery {
    pub(super) async fn deliver_to_teams(
        &self,
        message: OutboxMessage,
    ) -> (DeliveryOutcome, Settlement) {
        let Some(client) = self.teams.clone() else {
            return self.give_up(
                &message,
                "Teams sending is not configured",
                "set LEARNLOOP_TEAMS_APP_ID, LEARNLOOP_TEAMS_APP_PASSWORD and LEARNLOOP_TEAMS_TENANT_ID",
            );
        };
        if message.method != TEAMS_SEND {
            return self.give_up(&message, "unknown Teams method", "report this as a bug");
        }
        let now = self.clock.now_millis();
        let reference = match self
            .store
            .teams_conversation(message.workspace(), &message.channel)
            .await
        {
            Ok(Some(reference)) => reference,
            Ok(None) => {
                return self.give_up(
                    &message,
                    "the bot has no reference to this conversation",
                    "add the bot to the team or chat again",
                );
            }
            Err(err) => return self.retry_later(&message, now, None, &err.to_string()),
        };
        let activity = match self.queued_body(&message) {
            Ok(activity) => activity,
            Err(gave_up) => return gave_up,
        };
        // A reply in a channel thread goes to the thread's conversation
        // (`CHANNEL;messageid=ROOT`), which must be within the referenced channel.
        let conversation = activity["conversation"]["id"]
            .as_str()
            .filter(|id| id.split(';').next() == Some(message.channel.as_str()))
            .unwrap_or(&message.channel);
        let reply_to = activity["replyToId"].as_str();
        let result = client
            .send(&reference.service_url, conversation, reply_to, &activity)
            .await;
        let now = self.clock.now_millis();
        match result {
            Ok(answer) => (
                DeliveryOutcome::Sent,
                Settlement::Sent {
                    id: message.outbox_id(),
                    workspace_id: message.workspace_id,
                    channel: message.channel.clone(),
                    at: now,
                    channel_free_at: now + CONVERSATION_INTERVAL_MS,
                    sent_ts: answer["id"].as_str().map(str::to_owned),
                },
            ),
            Err(err) if err.is_retryable() => {
                self.retry_later(&message, now, err.retry_after(), &err.to_string())
            }
            Err(err) => self.give_up(
                &message,
                &err.to_string(),
                "Teams refused the message; check the bot's registration and that it is still in the conversation",
            ),
        }
    }
}
