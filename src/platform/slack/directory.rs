//! What Slack says about conversations: `conversations.info`.
//! <https://api.slack.com/methods/conversations.info>

use serde_json::Value;

use super::SlackClient;
use crate::app::scopes::{Directory, Lookup};
use crate::store::{ConversationKind, Workspace};

/// Asks Slack with the workspace's bot token.
pub struct SlackDirectory(pub SlackClient);

/// The kind of a conversation object. Anything shared with another organisation (Slack
/// Connect, even pending) or not plainly public is private; a field Slack left out
/// never makes a conversation public.
pub fn kind_of(channel: &Value) -> ConversationKind {
    let flag = |name: &str| channel[name].as_bool().unwrap_or(false);
    if flag("is_im") {
        ConversationKind::DirectMessage
    } else if flag("is_mpim") {
        ConversationKind::GroupMessage
    } else if flag("is_ext_shared")
        || flag("is_shared")
        || flag("is_pending_ext_shared")
        || flag("is_org_shared")
    {
        ConversationKind::SharedChannel
    } else if channel["is_private"].as_bool() == Some(false) && !flag("is_group") {
        ConversationKind::PublicChannel
    } else {
        ConversationKind::PrivateChannel
    }
}

impl Directory for SlackDirectory {
    fn conversation_kind<'a>(
        &'a self,
        workspace: &'a Workspace,
        id: &'a str,
    ) -> Lookup<'a, Option<ConversationKind>> {
        Box::pin(async move {
            let token = workspace.bot_token.as_ref()?;
            match self
                .0
                .call_form("conversations.info", token, &[("channel", id)])
                .await
            {
                Ok(answer) if answer["channel"].is_object() => Some(kind_of(&answer["channel"])),
                Ok(_) => None,
                Err(err) => {
                    tracing::info!(error = %err, "conversations.info failed");
                    None
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_a_plain_public_channel_is_public() {
        let public = json!({"id": "C1", "is_channel": true, "is_private": false,
            "is_shared": false, "is_ext_shared": false, "is_org_shared": false,
            "is_pending_ext_shared": false, "is_im": false, "is_mpim": false});
        assert_eq!(kind_of(&public), ConversationKind::PublicChannel);
        let mut connect = public.clone();
        connect["is_ext_shared"] = json!(true);
        connect["is_shared"] = json!(true);
        assert_eq!(kind_of(&connect), ConversationKind::SharedChannel);
        let mut pending = public.clone();
        pending["is_pending_ext_shared"] = json!(true);
        assert_eq!(kind_of(&pending), ConversationKind::SharedChannel);
        let mut private = public.clone();
        private["is_private"] = json!(true);
        assert_eq!(kind_of(&private), ConversationKind::PrivateChannel);
        assert_eq!(
            kind_of(&json!({"id": "G1", "is_group": true, "is_private": false})),
            ConversationKind::PrivateChannel,
            "a legacy private group"
        );
        assert_eq!(
            kind_of(&json!({"id": "D1", "is_im": true, "user": "U1"})),
            ConversationKind::DirectMessage
        );
        assert_eq!(
            kind_of(&json!({"id": "G2", "is_mpim": true, "is_private": true})),
            ConversationKind::GroupMessage
        );
        assert_eq!(
            kind_of(&json!({"id": "C3"})),
            ConversationKind::PrivateChannel,
            "a field left out never makes it public"
        );
    }
}
