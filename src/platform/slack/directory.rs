//! What Slack says about conversations and people: `conversations.info`,
//! `conversations.members` and `users.info`.
//! <https://api.slack.com/methods/conversations.info>

use std::collections::HashSet;

use serde_json::Value;

use super::SlackClient;
use crate::domain::directory::{Directory, Lookup, MemberKind, Standing};
use crate::store::{ConversationKind, Workspace};

/// Asks Slack with the workspace's bot token.
pub struct SlackDirectory(pub SlackClient);

/// The kind of a conversation object. Anything shared with another organisation (Slack
/// Connect, even pending) or not plainly public is private; a field Slack left out
/// never makes a conversation public.
pub fn kind_of(channel: &Value) -> ConversationKind {
    let flag = |name: &str| channel[name].as_bool().unwrap_or(false);
    let external = flag("is_ext_shared") || flag("is_pending_ext_shared");
    if flag("is_im") || flag("is_mpim") {
        // A DM or group DM with someone of another organisation is read by outsiders
        // just like a Slack Connect channel (`is_org_shared` DMs stay within the org).
        if external {
            ConversationKind::SharedChannel
        } else if flag("is_im") {
            ConversationKind::DirectMessage
        } else {
            ConversationKind::GroupMessage
        }
    } else if external || flag("is_shared") || flag("is_org_shared") {
        ConversationKind::SharedChannel
    } else if channel["is_private"].as_bool() == Some(false) && !flag("is_group") {
        ConversationKind::PublicChannel
    } else {
        ConversationKind::PrivateChannel
    }
}

/// What a `users.info` user object is. Slackbot is a bot, though Slack says `is_bot:
/// false` for it.
pub fn member_kind_of(user: &Value) -> MemberKind {
    let flag = |name: &str| user[name].as_bool().unwrap_or(false);
    if flag("deleted") {
        MemberKind::Deleted
    } else if flag("is_bot") || flag("is_app_user") || user["id"] == "USLACKBOT" {
        MemberKind::Bot
    } else {
        MemberKind::Person
    }
}

/// Where the person of a `users.info` user object stands.
pub fn standing_of(user: &Value) -> Standing {
    let flag = |name: &str| user[name].as_bool().unwrap_or(false);
    if member_kind_of(user) != MemberKind::Person {
        Standing::Gone
    } else if flag("is_restricted") || flag("is_ultra_restricted") {
        Standing::Guest
    } else if flag("is_admin") || flag("is_owner") || flag("is_primary_owner") {
        Standing::Admin
    } else {
        Standing::Member
    }
}

/// Most members read per `conversations.members` page (Slack's maximum is 1000; its
/// advice is 200), and most pages read: a private conversation bigger than this is
/// not checked to the end, and anyone not found is not confirmed.
const MEMBERS_PER_PAGE: &str = "200";
const MAX_MEMBER_PAGES: usize = 25;
/// `users.list` is a tier 2 method (about 20 calls a minute): big pages keep a
/// workspace of 10,000 people to 10 calls.
const PEOPLE_PER_PAGE: &str = "1000";
const MAX_PEOPLE_PAGES: usize = 20;

impl SlackDirectory {
    /// Every account of the workspace (`users.list`, every page); `None` when a page
    /// failed or there are more pages than are read.
    async fn users(&self, workspace: &Workspace) -> Option<Vec<Value>> {
        let token = workspace.bot_token.as_ref()?;
        let mut users = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PEOPLE_PAGES {
            let mut form = vec![("limit", PEOPLE_PER_PAGE)];
            if !cursor.is_empty() {
                form.push(("cursor", &cursor));
            }
            let page = match self.0.call_form("users.list", token, &form).await {
                Ok(page) => page,
                Err(err) => {
                    tracing::info!(error = %err, "users.list failed");
                    return None;
                }
            };
            users.extend(page["members"].as_array()?.iter().cloned());
            cursor = page["response_metadata"]["next_cursor"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if cursor.is_empty() {
                return Some(users);
            }
        }
        // A listing cut short would leave people out without saying so.
        tracing::info!("users.list has more pages than are read; not answered");
        None
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

    fn member_kind<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<MemberKind>> {
        Box::pin(async move {
            let token = workspace.bot_token.as_ref()?;
            match self
                .0
                .call_form("users.info", token, &[("user", user)])
                .await
            {
                Ok(answer) if answer["user"].is_object() => Some(member_kind_of(&answer["user"])),
                Ok(_) => None,
                Err(err) => {
                    tracing::info!(error = %err, "users.info failed");
                    None
                }
            }
        })
    }

    fn standing<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<Standing>> {
        Box::pin(async move {
            let token = workspace.bot_token.as_ref()?;
            match self
                .0
                .call_form("users.info", token, &[("user", user)])
                .await
            {
                Ok(answer) if answer["user"].is_object() => Some(standing_of(&answer["user"])),
                Ok(_) => None,
                Err(err) => {
                    tracing::info!(error = %err, "users.info failed");
                    None
                }
            }
        })
    }

    fn private_conversations_of<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        Box::pin(async move {
            let token = workspace.bot_token.as_ref()?;
            let mut conversations = Vec::new();
            let mut cursor = String::new();
            for _ in 0..MAX_MEMBER_PAGES {
                // With the bot's token Slack lists the private conversations the bot
                // shares with the person: those where a debrief can have been held.
                let mut form = vec![
                    ("user", user),
                    ("types", "private_channel,mpim,im"),
                    ("limit", MEMBERS_PER_PAGE),
                ];
                if !cursor.is_empty() {
                    form.push(("cursor", &cursor));
                }
                let page = match self.0.call_form("users.conversations", token, &form).await {
                    Ok(page) => page,
                    Err(err) => {
                        tracing::info!(error = %err, "users.conversations failed");
                        return None;
                    }
                };
                conversations.extend(
                    page["channels"]
                        .as_array()?
                        .iter()
                        .filter_map(|c| c["id"].as_str().map(str::to_owned)),
                );
                cursor = page["response_metadata"]["next_cursor"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if cursor.is_empty() {
                    break;
                }
            }
            Some(conversations)
        })
    }

    fn members<'a>(
        &'a self,
        workspace: &'a Workspace,
        conversation: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        Box::pin(async move {
            let token = workspace.bot_token.as_ref()?;
            let mut members = Vec::new();
            let mut cursor = String::new();
            for _ in 0..MAX_MEMBER_PAGES {
                let mut form = vec![("channel", conversation), ("limit", MEMBERS_PER_PAGE)];
                if !cursor.is_empty() {
                    form.push(("cursor", &cursor));
                }
                let page = match self
                    .0
                    .call_form("conversations.members", token, &form)
                    .await
                {
                    Ok(page) => page,
                    Err(err) => {
                        tracing::info!(error = %err, "conversations.members failed");
                        return None;
                    }
                };
                members.extend(
                    page["members"]
                        .as_array()?
                        .iter()
                        .filter_map(|m| m.as_str().map(str::to_owned)),
                );
                cursor = page["response_metadata"]["next_cursor"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if cursor.is_empty() {
                    return Some(members);
                }
            }
            Some(members)
        })
    }

    fn people<'a>(&'a self, workspace: &'a Workspace) -> Lookup<'a, Option<HashSet<String>>> {
        Box::pin(async move {
            let users = self.users(workspace).await?;
            Some(
                users
                    .iter()
                    .filter(|user| member_kind_of(user) == MemberKind::Person)
                    .filter_map(|user| user["id"].as_str().map(str::to_owned))
                    .collect(),
            )
        })
    }

    fn person_named<'a>(
        &'a self,
        workspace: &'a Workspace,
        handle: &'a str,
    ) -> Lookup<'a, Option<String>> {
        Box::pin(async move {
            let users = self.users(workspace).await?;
            let named = |user: &&Value| {
                [&user["name"], &user["profile"]["display_name"]]
                    .iter()
                    .filter_map(|name| name.as_str())
                    .any(|name| name.eq_ignore_ascii_case(handle))
            };
            let mut found = users
                .iter()
                .filter(|user| member_kind_of(user) == MemberKind::Person)
                .filter(named);
            match (found.next(), found.next()) {
                (Some(one), None) => one["id"].as_str().map(str::to_owned),
                _ => None,
            }
        })
    }

    fn group_conversation<'a>(
        &'a self,
        workspace: &'a Workspace,
        people: &'a [&'a str],
    ) -> Lookup<'a, Option<String>> {
        Box::pin(async move {
            let token = workspace.bot_token.as_ref()?;
            let users = people.join(",");
            match self
                .0
                .call_form("conversations.open", token, &[("users", &users)])
                .await
            {
                Ok(answer) => answer["channel"]["id"].as_str().map(str::to_owned),
                Err(err) => {
                    tracing::info!(error = %err, "conversations.open failed");
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
    fn guests_admins_and_owners_are_told_apart_and_bots_are_nobody() {
        let standing = |user: Value| standing_of(&user);
        assert_eq!(standing(json!({"id": "U1"})), Standing::Member);
        assert_eq!(
            standing(json!({"id": "U1", "is_admin": true})),
            Standing::Admin
        );
        assert_eq!(
            standing(json!({"id": "U1", "is_primary_owner": true})),
            Standing::Admin
        );
        // A guest is a guest even if an admin flag were set.
        let guest = json!({"id": "U1", "is_ultra_restricted": true, "is_admin": true});
        assert_eq!(standing(guest), Standing::Guest);
        assert_eq!(
            standing(json!({"id": "U1", "is_bot": true})),
            Standing::Gone
        );
        assert_eq!(
            standing(json!({"id": "U1", "deleted": true})),
            Standing::Gone
        );
    }

    #[test]
    fn only_active_people_are_people() {
        let person = json!({"id": "U1", "deleted": false, "is_bot": false});
        assert_eq!(member_kind_of(&person), MemberKind::Person);
        assert_eq!(
            member_kind_of(&json!({"id": "U2", "deleted": true})),
            MemberKind::Deleted
        );
        assert_eq!(
            member_kind_of(&json!({"id": "B1", "is_bot": true})),
            MemberKind::Bot
        );
        assert_eq!(
            member_kind_of(&json!({"id": "USLACKBOT", "is_bot": false})),
            MemberKind::Bot
        );
        assert_eq!(
            member_kind_of(&json!({"id": "U3", "is_app_user": true})),
            MemberKind::Bot
        );
    }

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
            kind_of(&json!({"id": "D2", "is_im": true, "is_ext_shared": true})),
            ConversationKind::SharedChannel,
            "a Slack Connect DM is read by someone of another organisation"
        );
        assert_eq!(
            kind_of(&json!({"id": "G3", "is_mpim": true, "is_pending_ext_shared": true})),
            ConversationKind::SharedChannel
        );
        assert_eq!(
            kind_of(&json!({"id": "D3", "is_im": true, "is_org_shared": true})),
            ConversationKind::DirectMessage,
            "a DM across an Enterprise Grid org stays inside the organisation"
        );
        assert_eq!(
            kind_of(&json!({"id": "C3"})),
            ConversationKind::PrivateChannel,
            "a field left out never makes it public"
        );
    }
}
