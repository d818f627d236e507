//! What the Bot Framework says about a Teams conversation: its members (for nudges and
//! owners picked in a review). Kinds of conversations come with each activity instead
//! (`channelData`), and Teams has no bots or deactivated accounts among members.

use std::collections::HashSet;
use std::sync::Arc;

use super::TeamsClient;
use crate::domain::directory::{Directory, Lookup, MemberKind, Standing};
use crate::store::{ConversationKind, Store, Workspace};

/// Asks the connector, at the service URL the conversation's reference holds.
pub struct TeamsDirectory {
    pub client: Arc<TeamsClient>,
    pub store: Store,
}

impl Directory for TeamsDirectory {
    /// Asks the team's roster now: a member, a guest (`userRole`), or not in the team
    /// (the bot may have met them in a group chat, or they left). A personal install is
    /// no team.
    fn standing<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<Standing>> {
        Box::pin(async move {
            let team = workspace
                .external_id
                .split_once(':')
                .map(|(_, team)| team)
                .filter(|team| *team != "personal");
            let Some(team) = team else {
                return Some(Standing::Gone);
            };
            let person = match self.store.teams_person(workspace.id, user).await {
                Ok(Some(person)) => person,
                Ok(None) => return Some(Standing::Gone),
                Err(err) => {
                    tracing::warn!(error = %err, "could not look a Teams person up");
                    return None;
                }
            };
            match self
                .client
                .team_member(&person.service_url, team, user)
                .await
            {
                Ok(None) => Some(Standing::Gone),
                Ok(Some(member)) if member["userRole"] == "guest" => Some(Standing::Guest),
                Ok(Some(_)) => Some(Standing::Member),
                Err(err) => {
                    tracing::info!(error = %err, "could not ask Teams about a team member");
                    None
                }
            }
        })
    }

    fn conversation_kind<'a>(
        &'a self,
        _workspace: &'a Workspace,
        _id: &'a str,
    ) -> Lookup<'a, Option<ConversationKind>> {
        Box::pin(async { None })
    }

    fn member_kind<'a>(
        &'a self,
        _workspace: &'a Workspace,
        _user: &'a str,
    ) -> Lookup<'a, Option<MemberKind>> {
        Box::pin(async { None })
    }

    fn members<'a>(
        &'a self,
        workspace: &'a Workspace,
        conversation: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        Box::pin(async move {
            let reference = match self
                .store
                .teams_conversation(workspace.id, conversation)
                .await
            {
                Ok(Some(reference)) => reference,
                Ok(None) => return None,
                Err(err) => {
                    tracing::info!(error = %err, "could not read a Teams conversation's reference");
                    return None;
                }
            };
            match self
                .client
                .conversation_members(&reference.service_url, conversation)
                .await
            {
                Ok(members) => Some(
                    members
                        .into_iter()
                        .filter_map(|m| m.id)
                        .filter(|id| *id != reference.bot_id)
                        .collect(),
                ),
                Err(err) => {
                    tracing::info!(error = %err, "could not read a Teams conversation's members");
                    None
                }
            }
        })
    }

    fn people<'a>(&'a self, _workspace: &'a Workspace) -> Lookup<'a, Option<HashSet<String>>> {
        Box::pin(async { None })
    }
}

/// Each workspace's questions go to its own platform.
pub struct ByPlatform {
    pub slack: Arc<dyn Directory>,
    /// `None` without the Teams bot's credentials: nothing is answered for Teams.
    pub teams: Option<Arc<dyn Directory>>,
}

impl ByPlatform {
    /// Asks the workspace's platform with `ask`; a platform without a directory
    /// answers nothing.
    fn ask<'a, T: Send + 'a>(
        &'a self,
        workspace: &'a Workspace,
        ask: impl FnOnce(&'a dyn Directory) -> Lookup<'a, Option<T>>,
    ) -> Lookup<'a, Option<T>> {
        let directory = match workspace.platform {
            crate::store::Platform::Slack => Some(self.slack.as_ref()),
            crate::store::Platform::Teams => self.teams.as_deref(),
        };
        match directory {
            Some(directory) => ask(directory),
            None => Box::pin(async { None }),
        }
    }
}

impl Directory for ByPlatform {
    fn conversation_kind<'a>(
        &'a self,
        workspace: &'a Workspace,
        id: &'a str,
    ) -> Lookup<'a, Option<ConversationKind>> {
        self.ask(workspace, |d| d.conversation_kind(workspace, id))
    }

    fn member_kind<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<MemberKind>> {
        self.ask(workspace, |d| d.member_kind(workspace, user))
    }

    fn standing<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<Standing>> {
        self.ask(workspace, |d| d.standing(workspace, user))
    }

    fn private_conversations_of<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        self.ask(workspace, |d| d.private_conversations_of(workspace, user))
    }

    fn members<'a>(
        &'a self,
        workspace: &'a Workspace,
        conversation: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        self.ask(workspace, |d| d.members(workspace, conversation))
    }

    fn people<'a>(&'a self, workspace: &'a Workspace) -> Lookup<'a, Option<HashSet<String>>> {
        self.ask(workspace, |d| d.people(workspace))
    }

    fn person_named<'a>(
        &'a self,
        workspace: &'a Workspace,
        handle: &'a str,
    ) -> Lookup<'a, Option<String>> {
        self.ask(workspace, |d| d.person_named(workspace, handle))
    }

    fn group_conversation<'a>(
        &'a self,
        workspace: &'a Workspace,
        people: &'a [&'a str],
    ) -> Lookup<'a, Option<String>> {
        self.ask(workspace, |d| d.group_conversation(workspace, people))
    }
}
