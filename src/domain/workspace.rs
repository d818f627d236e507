//! A workspace (a Slack team or a Teams tenant) and the platform it lives on.

use super::WorkspaceId;
use crate::config::Secret;

/// The chat platform a workspace lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    Slack,
    Teams,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Teams => "teams",
        }
    }

    /// The platform named as `as_str` names it.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "slack" => Some(Self::Slack),
            "teams" => Some(Self::Teams),
            _ => None,
        }
    }
}

/// A stored workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub platform: Platform,
    pub external_id: String,
    pub name: Option<String>,
    /// The bot token to act with: the installation's (opened from its sealed form), else
    /// the environment's single-workspace token; `None` once the app was uninstalled.
    pub bot_token: Option<Secret>,
    pub default_time_zone: String,
    /// The app was removed from this workspace: nothing is sent to it.
    pub uninstalled: bool,
    /// An Enterprise Grid organisation installed as a whole: its teams share this one
    /// workspace, and a public channel of one team is not public to the others, so
    /// lessons are shown only in the conversation they were said in.
    pub org_wide: bool,
}
