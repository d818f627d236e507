//! What kind of conversation something was said in, as the platform describes it: it
//! decides who may see a lesson.

/// What kind of conversation a scope row describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConversationKind {
    PublicChannel,
    PrivateChannel,
    /// Slack Connect or a Teams shared channel: people of other organisations read it.
    SharedChannel,
    DirectMessage,
    GroupMessage,
    /// A Teams group chat.
    GroupChat,
    /// A Teams 1:1 chat with the bot.
    PersonalChat,
    /// Not looked up yet, or the lookup failed: private.
    Unknown,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PublicChannel => "public_channel",
            Self::PrivateChannel => "private_channel",
            Self::SharedChannel => "shared_channel",
            Self::DirectMessage => "direct_message",
            Self::GroupMessage => "group_message",
            Self::GroupChat => "group_chat",
            Self::PersonalChat => "personal_chat",
            Self::Unknown => "unknown",
        }
    }

    /// The kind named as `as_str` names it; anything else is `Unknown` (private).
    pub fn parse(value: &str) -> Self {
        match value {
            "public_channel" => Self::PublicChannel,
            "private_channel" => Self::PrivateChannel,
            "shared_channel" => Self::SharedChannel,
            "direct_message" => Self::DirectMessage,
            "group_message" => Self::GroupMessage,
            "group_chat" => Self::GroupChat,
            "personal_chat" => Self::PersonalChat,
            _ => Self::Unknown,
        }
    }

    /// Only a plain public channel shares its lessons with the workspace.
    pub fn is_public(self) -> bool {
        self == Self::PublicChannel
    }

    /// Whether everyone who reads the conversation belongs to the workspace, as far as
    /// the platform said: they may see its public lessons. Shared channels, Teams group
    /// chats (anyone can be added, guests included) and unknown conversations may not.
    pub fn is_within_workspace(self) -> bool {
        matches!(
            self,
            Self::PublicChannel
                | Self::PrivateChannel
                | Self::DirectMessage
                | Self::GroupMessage
                | Self::PersonalChat
        )
    }
}
