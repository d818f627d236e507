//! The Teams half of the outbox: `teams.send` and `teams.update` rows carry a Bot
//! Framework activity for a conversation the bot has a stored reference to, or for a
//! person (a DM goes to their 1:1 chat, opened on first use). The service URL always
//! comes from a stored reference (learnt from a verified activity), never from the row,
//! so the bot's token only goes where Microsoft's signed tokens pointed.

use serde_json::Value;
use std::time::Duration;

use super::worker::Delivery;
use crate::metrics::DeliveryOutcome;
use crate::platform::teams::{SEND_METHOD, TeamsApiError, TeamsClient, UPDATE_METHOD};
use crate::store::{OutboxMessage, Settlement, StoreError, TeamsConversation};

/// Teams allows about 60 messages per 30 s per conversation: one every half second.
const CONVERSATION_INTERVAL: Duration = Duration::from_millis(500);

/// What a row asks Teams to do, once its anchor is known.
enum Call {
    Send {
        conversation: String,
        reply_to: Option<String>,
    },
    Update {
        activity_id: String,
    },
}

/// Why a row's conversation could not be found or opened.
enum Unresolved {
    Unknown(&'static str),
    Store(StoreError),
    Teams(TeamsApiError),
}

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
        let now = self.clock.now();
        let reference = match self.conversation_of(&client, &message).await {
            Ok(reference) => reference,
            Err(Unresolved::Unknown(advice)) => {
                return self.give_up(&message, "the bot has no way to this conversation", advice);
            }
            Err(Unresolved::Store(err)) => {
                return self
                    .retry_later(&message, now, None, &err.to_string())
                    .await;
            }
            Err(Unresolved::Teams(err)) if err.is_retryable() => {
                return self
                    .retry_later(&message, now, err.retry_after(), &err.to_string())
                    .await;
            }
            Err(Unresolved::Teams(err)) => {
                return self.give_up(
                    &message,
                    &err.to_string(),
                    "Teams would not open a chat with this person",
                );
            }
        };
        let activity = match self.queued_body(&message) {
            Ok(activity) => activity,
            Err(gave_up) => return gave_up,
        };
        let call = match self.call_of(&message, &reference, &activity) {
            Ok(call) => call,
            Err(gave_up) => return gave_up,
        };
        let result = match &call {
            Call::Send {
                conversation,
                reply_to,
            } => {
                client
                    .send(
                        &reference.service_url,
                        conversation,
                        reply_to.as_deref(),
                        &activity,
                    )
                    .await
            }
            Call::Update { activity_id } => {
                client
                    .update(
                        &reference.service_url,
                        &reference.conversation_id,
                        activity_id,
                        &activity,
                    )
                    .await
            }
        };
        let now = self.clock.now();
        match result {
            Ok(answer) => (
                DeliveryOutcome::Sent,
                Settlement::Sent {
                    id: message.outbox_id(),
                    workspace_id: message.workspace_id,
                    channel: message.channel.clone(),
                    at: now,
                    channel_free_at: now + CONVERSATION_INTERVAL,
                    // An update keeps the id of the activity it replaced.
                    sent_ts: match call {
                        Call::Update { activity_id } => Some(activity_id),
                        Call::Send { .. } => answer["id"].as_str().map(str::to_owned),
                    },
                },
            ),
            Err(err) if err.is_retryable() => {
                self.retry_later(&message, now, err.retry_after(), &err.to_string())
                    .await
            }
            Err(err) => self.give_up(
                &message,
                &err.to_string(),
                "Teams refused the message; check the bot's registration and that it is still in the conversation",
            ),
        }
    }

    /// The conversation a row goes to: a stored one, or, for a row addressed to a
    /// person, their 1:1 chat with the bot (opened and stored on first use).
    async fn conversation_of(
        &self,
        client: &TeamsClient,
        message: &OutboxMessage,
    ) -> Result<TeamsConversation, Unresolved> {
        let workspace = message.workspace();
        let store = &self.store;
        if let Some(found) = store
            .teams_conversation(workspace, &message.channel)
            .await
            .map_err(Unresolved::Store)?
        {
            return Ok(found);
        }
        let person = &message.channel;
        if let Some(chat) = store
            .teams_personal_chat(workspace, person)
            .await
            .map_err(Unresolved::Store)?
        {
            // The person's answer in this chat belongs to this workspace now.
            store
                .touch_teams_conversation(workspace, &chat.conversation_id, self.clock.now())
                .await
                .map_err(Unresolved::Store)?;
            return Ok(chat);
        }
        let met = store
            .teams_person(workspace, person)
            .await
            .map_err(Unresolved::Store)?
            .ok_or(Unresolved::Unknown("add the bot to the team or chat again"))?;
        // The bot's id and tenant are the same in every conversation of the team.
        let any = store
            .teams_conversations(workspace)
            .await
            .map_err(Unresolved::Store)?
            .into_iter()
            .next()
            .ok_or(Unresolved::Unknown("add the bot to the team again"))?;
        let id = client
            .create_personal_chat(&met.service_url, &any.bot_id, person, &any.tenant_id)
            .await
            .map_err(Unresolved::Teams)?;
        let chat = TeamsConversation {
            conversation_id: id,
            kind: "personal".into(),
            service_url: met.service_url,
            bot_id: any.bot_id,
            tenant_id: any.tenant_id,
            person: Some(person.clone()),
        };
        store
            .remember_teams_conversation(workspace, &chat, self.clock.now())
            .await
            .map_err(Unresolved::Store)?;
        Ok(chat)
    }

    /// Sends or updates, in the thread or in place the row's anchor names.
    fn call_of(
        &self,
        message: &OutboxMessage,
        reference: &TeamsConversation,
        activity: &Value,
    ) -> Result<Call, (DeliveryOutcome, Settlement)> {
        let channel = reference.conversation_id.as_str();
        let anchor = (
            message.anchor_field.as_deref(),
            message.anchor_ts.as_deref(),
        );
        match (message.method, anchor) {
            (UPDATE_METHOD, (Some("ts"), Some(activity_id))) => Ok(Call::Update {
                activity_id: activity_id.to_owned(),
            }),
            // An answer that replaces the card a button was clicked on names it itself.
            (UPDATE_METHOD, (None, _)) if activity["id"].is_string() => Ok(Call::Update {
                activity_id: activity["id"].as_str().unwrap_or_default().to_owned(),
            }),
            (UPDATE_METHOD, _) => Err(self.give_up(
                message,
                "the message it changes was never posted",
                "see the earlier failure in this conversation",
            )),
            // A reply in a channel thread goes to the thread's conversation
            // (`CHANNEL;messageid=ROOT`).
            (SEND_METHOD, (Some("thread_ts"), Some(root))) => Ok(Call::Send {
                conversation: format!("{channel};messageid={root}"),
                reply_to: Some(root.to_owned()),
            }),
            (SEND_METHOD, _) => {
                // A direct answer names its thread itself; it must be in this channel.
                let conversation = activity["conversation"]["id"]
                    .as_str()
                    .filter(|id| id.split(';').next() == Some(channel))
                    .unwrap_or(channel);
                Ok(Call::Send {
                    conversation: conversation.to_owned(),
                    reply_to: activity["replyToId"].as_str().map(str::to_owned),
                })
            }
            _ => Err(self.give_up(message, "unknown Teams method", "report this as a bug")),
        }
    }
}
