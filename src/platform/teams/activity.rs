//! Bot Framework activities, deserialized leniently: Microsoft adds fields without notice
//! and leaves many out depending on the surface, so everything the handlers can do
//! without is optional and unknown fields are ignored.
//! <https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#activity-object>

use serde::Deserialize;

use crate::store::ConversationKind;

/// One activity (a message, a conversation update, …).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// `message`, `conversationUpdate`, `invoke`, …; the one field every activity has.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    /// When the activity was sent (RFC 3339, UTC).
    pub timestamp: Option<String>,
    pub service_url: Option<String>,
    /// `msteams` for Teams.
    pub channel_id: Option<String>,
    pub from: Option<ChannelAccount>,
    pub conversation: Option<ConversationAccount>,
    pub recipient: Option<ChannelAccount>,
    pub text: Option<String>,
    /// What an Adaptive Card's `Action.Submit` sends back (its data and inputs).
    pub value: Option<serde_json::Value>,
    pub reply_to_id: Option<String>,
    pub channel_data: Option<ChannelData>,
    #[serde(default)]
    pub members_added: Vec<ChannelAccount>,
    #[serde(default)]
    pub members_removed: Vec<ChannelAccount>,
    /// Mentions, and the `clientInfo` entity with the sender's locale and time zone.
    #[serde(default)]
    pub entities: Vec<serde_json::Value>,
}

/// A person or bot.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAccount {
    pub id: Option<String>,
    pub name: Option<String>,
    pub aad_object_id: Option<String>,
}

/// A channel, group chat or 1:1 chat.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAccount {
    pub id: Option<String>,
    pub is_group: Option<bool>,
    /// `channel`, `groupChat` or `personal`.
    pub conversation_type: Option<String>,
    pub tenant_id: Option<String>,
}

/// Teams' own part of an activity.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelData {
    pub tenant: Option<Identified>,
    pub team: Option<Identified>,
    pub channel: Option<ChannelInfo>,
    /// What a `conversationUpdate` is about (`teamDeleted`, `channelCreated`, …).
    pub event_type: Option<String>,
    /// The older outgoing-webhook names of `team.id` and `channel.id`.
    pub teams_team_id: Option<String>,
    pub teams_channel_id: Option<String>,
}

/// A team's channel. `type` (`standard`, `private` or `shared`) is often left out.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ChannelInfo {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Identified {
    pub id: Option<String>,
}

fn non_empty(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|v| !v.is_empty())
}

impl Activity {
    pub fn tenant_id(&self) -> Option<&str> {
        let data = self.channel_data.as_ref();
        non_empty(
            data.and_then(|d| d.tenant.as_ref())
                .and_then(|t| t.id.as_ref()),
        )
        .or_else(|| {
            non_empty(
                self.conversation
                    .as_ref()
                    .and_then(|c| c.tenant_id.as_ref()),
            )
        })
    }

    pub fn team_id(&self) -> Option<&str> {
        let data = self.channel_data.as_ref();
        non_empty(
            data.and_then(|d| d.team.as_ref())
                .and_then(|t| t.id.as_ref()),
        )
        .or_else(|| non_empty(data.and_then(|d| d.teams_team_id.as_ref())))
    }

    /// The team channel the activity happened in (not a chat).
    pub fn team_channel_id(&self) -> Option<&str> {
        let data = self.channel_data.as_ref();
        non_empty(
            data.and_then(|d| d.channel.as_ref())
                .and_then(|c| c.id.as_ref()),
        )
        .or_else(|| non_empty(data.and_then(|d| d.teams_channel_id.as_ref())))
    }

    /// What kind of conversation this is, as far as the activity says. A team channel
    /// is public only when Teams calls it `standard`, or when it is the team's General
    /// channel (whose id is the team's); a channel of unknown type is private.
    pub fn conversation_kind(&self) -> ConversationKind {
        let conversation_type = self
            .conversation
            .as_ref()
            .and_then(|c| c.conversation_type.as_deref());
        match conversation_type {
            Some("personal") => return ConversationKind::PersonalChat,
            Some("groupChat") => return ConversationKind::GroupChat,
            _ => {}
        }
        let declared = self
            .channel_data
            .as_ref()
            .and_then(|d| d.channel.as_ref())
            .and_then(|c| c.kind.as_deref());
        match declared {
            Some("standard") => ConversationKind::PublicChannel,
            Some("shared") => ConversationKind::SharedChannel,
            Some(_) => ConversationKind::PrivateChannel,
            None if self.team_channel_id().is_some()
                && self.team_channel_id() == self.team_id() =>
            {
                ConversationKind::PublicChannel
            }
            None => ConversationKind::Unknown,
        }
    }

    /// The workspace a team's activity belongs to: `TENANT:TEAM`. Each team is its own
    /// workspace, as each Slack workspace is.
    /// Whether this update says the team was deleted.
    pub fn team_deleted(&self) -> bool {
        self.channel_data
            .as_ref()
            .and_then(|data| data.event_type.as_deref())
            == Some("teamDeleted")
    }

    pub fn workspace_key(&self) -> Option<String> {
        Some(format!("{}:{}", self.tenant_id()?, self.team_id()?))
    }

    pub fn conversation_id(&self) -> Option<&str> {
        non_empty(self.conversation.as_ref().and_then(|c| c.id.as_ref()))
    }

    pub fn from_id(&self) -> Option<&str> {
        non_empty(self.from.as_ref().and_then(|f| f.id.as_ref()))
    }

    /// What tells this delivery from any other: the activity's id within its
    /// conversation (the same message delivered again has the same key).
    pub fn delivery_key(&self) -> Option<String> {
        let id = non_empty(self.id.as_ref())?;
        let conversation = self.conversation_id()?;
        let channel = conversation.split(';').next().unwrap_or(conversation);
        Some(format!("teams:{channel}:{id}"))
    }

    /// When the activity was sent, in Unix seconds, if it says and says it well.
    pub fn sent_at(&self) -> Option<i64> {
        let timestamp = non_empty(self.timestamp.as_ref())?;
        chrono::DateTime::parse_from_rfc3339(timestamp)
            .ok()
            .map(|at| at.timestamp())
    }

    /// The sender's display name, when `id` is the sender (the one name an activity
    /// carries).
    pub fn sender_name(&self, id: &str) -> Option<String> {
        self.from
            .as_ref()
            .filter(|from| from.id.as_deref() == Some(id))
            .and_then(|from| from.name.clone())
    }

    /// The sender's IANA time zone, as their Teams client reports it (`clientInfo`).
    pub fn client_time_zone(&self) -> Option<chrono_tz::Tz> {
        self.entities
            .iter()
            .find(|entity| entity["type"] == "clientInfo")
            .and_then(|entity| entity["timezone"].as_str())
            .and_then(|zone| zone.parse().ok())
    }

    /// What the person typed: the `<at>…</at>` mention of the bot taken out, HTML
    /// entities Teams adds turned back into characters, and any tags dropped.
    pub fn command_text(&self) -> String {
        strip_mentions(&self.mentions_as_ids(self.text.as_deref().unwrap_or_default()))
    }

    /// The text with each mention of someone other than the bot written as `<@ID>`, the
    /// form commands read people in (`goal buddy 2 @Dana`); the bot's own mention (its
    /// id is the recipient's, or it opens the message, as an outgoing webhook's does)
    /// is left for [`strip_mentions`] to take out.
    fn mentions_as_ids(&self, text: &str) -> String {
        let bot = self.recipient.as_ref().and_then(|r| r.id.as_deref());
        let opening = text.trim_start().trim_start_matches("<p>").trim_start();
        let mut text = text.to_owned();
        for entity in self.entities.iter().filter(|e| e["type"] == "mention") {
            let (Some(id), Some(typed)) =
                (entity["mentioned"]["id"].as_str(), entity["text"].as_str())
            else {
                continue;
            };
            let safe = id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":-_".contains(c));
            if Some(id) != bot && !opening.starts_with(typed) && safe {
                text = text.replacen(typed, &format!("&lt;@{id}&gt;"), 1);
            }
        }
        text
    }
}

/// Removes `<at>…</at>` mentions and other tags, and decodes the entities Teams uses.
pub fn strip_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        if tag.starts_with("<at>") || tag.starts_with("<at ") {
            match tag.find("</at>") {
                Some(end) => rest = &tag[end + "</at>".len()..],
                None => rest = "",
            }
        } else {
            match tag.find('>') {
                Some(end) => rest = &tag[end + 1..],
                None => {
                    out.push_str(tag);
                    rest = "";
                }
            }
        }
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bot_mention_and_markup_are_taken_out() {
        assert_eq!(
            strip_mentions("<at>learnloop</at>&nbsp;lessons &quot;feature flags&quot;\n"),
            "lessons \"feature flags\""
        );
        assert_eq!(
            strip_mentions("<p><at>learn loop</at> goal add Ship &amp; learn</p>"),
            "goal add Ship & learn"
        );
        assert_eq!(strip_mentions("help"), "help");
        assert_eq!(strip_mentions("<at>unclosed"), "");
        assert_eq!(strip_mentions("a < b"), "a < b");
    }

    #[test]
    fn a_colleague_s_mention_becomes_their_id_and_the_bot_s_goes() {
        let activity: Activity = serde_json::from_str(
            r#"{"type":"message", "recipient": {"id": "28:bot"},
                "text": "<at>learnloop</at> goal buddy 2 <at>Dana Lee</at>",
                "entities": [
                  {"type": "mention", "mentioned": {"id": "28:bot", "name": "learnloop"},
                   "text": "<at>learnloop</at>"},
                  {"type": "mention", "mentioned": {"id": "29:dana", "name": "Dana Lee"},
                   "text": "<at>Dana Lee</at>"}]}"#,
        )
        .unwrap();
        assert_eq!(activity.command_text(), "goal buddy 2 <@29:dana>");
    }

    #[test]
    fn missing_fields_are_none_and_unknown_ones_ignored() {
        let activity: Activity =
            serde_json::from_str(r#"{"type":"message","surprise":{"x":1}}"#).unwrap();
        assert_eq!(activity.kind, "message");
        assert!(activity.workspace_key().is_none());
        assert!(serde_json::from_str::<Activity>(r#"{"text":"no type"}"#).is_err());
        assert!(serde_json::from_str::<Activity>("[]").is_err());
    }

    #[test]
    fn the_client_reports_the_senders_time_zone() {
        let activity: Activity = serde_json::from_str(
            r#"{"type":"message","entities":[{"type":"mention"},
                {"type":"clientInfo","locale":"de-DE","timezone":"Europe/Berlin"}]}"#,
        )
        .unwrap();
        assert_eq!(activity.client_time_zone(), Some(chrono_tz::Europe::Berlin));
        let unknown: Activity = serde_json::from_str(
            r#"{"type":"message","entities":[{"type":"clientInfo","timezone":"Mars/Olympus"}]}"#,
        )
        .unwrap();
        assert_eq!(unknown.client_time_zone(), None);
    }

    #[test]
    fn only_standard_channels_and_general_are_public() {
        let kind = |json: &str| {
            serde_json::from_str::<Activity>(json)
                .unwrap()
                .conversation_kind()
        };
        assert_eq!(
            kind(
                r#"{"type":"message","conversation":{"conversationType":"channel"},
                "channelData":{"team":{"id":"19:t"},"channel":{"id":"19:c","type":"standard"}}}"#
            ),
            ConversationKind::PublicChannel
        );
        assert_eq!(
            kind(
                r#"{"type":"message","conversation":{"conversationType":"channel"},
                "channelData":{"team":{"id":"19:t"},"channel":{"id":"19:c","type":"private"}}}"#
            ),
            ConversationKind::PrivateChannel
        );
        assert_eq!(
            kind(
                r#"{"type":"message","channelData":{"team":{"id":"19:t"},"channel":{"id":"19:c","type":"shared"}}}"#
            ),
            ConversationKind::SharedChannel
        );
        assert_eq!(
            kind(
                r#"{"type":"message","channelData":{"team":{"id":"19:t"},"channel":{"id":"19:t"}}}"#
            ),
            ConversationKind::PublicChannel,
            "the General channel"
        );
        assert_eq!(
            kind(
                r#"{"type":"message","channelData":{"team":{"id":"19:t"},"channel":{"id":"19:c"}}}"#
            ),
            ConversationKind::Unknown,
            "a channel of unknown type is private"
        );
        assert_eq!(
            kind(
                r#"{"type":"message","conversation":{"conversationType":"groupChat","id":"19:g"}}"#
            ),
            ConversationKind::GroupChat
        );
        assert_eq!(
            kind(r#"{"type":"message","conversation":{"conversationType":"personal","id":"a:1"}}"#),
            ConversationKind::PersonalChat
        );
    }

    #[test]
    fn a_team_activity_names_its_workspace() {
        let activity: Activity = serde_json::from_str(
            r#"{"type":"message","channelData":{"tenant":{"id":"t1"},"team":{"id":"19:x"}}}"#,
        )
        .unwrap();
        assert_eq!(activity.workspace_key().as_deref(), Some("t1:19:x"));
    }
}
