//! What learnloop asks a platform about its conversations and people: whether a
//! conversation is public (privacy scopes), who is in it, and whether an id names a
//! real person (action item owners). The Slack implementation lives with the Slack
//! client; a platform that cannot answer says `None`, which every caller reads as "no".

use std::future::Future;
use std::pin::Pin;

use super::{ConversationKind, Workspace};

/// A boxed future, for the object-safe platform lookups.
pub type Lookup<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an id in a workspace names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// A person with an active account: may own an action item.
    Person,
    /// A bot or app user (Slackbot included).
    Bot,
    /// An account that was deactivated.
    Deleted,
}

/// Where a person stands in their workspace, for the dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// An admin or owner of the workspace: sees its settings and exports.
    Admin,
    Member,
    /// A guest (invited to some channels only): sees nothing workspace-wide.
    Guest,
    /// A deactivated account, or not a person (a bot).
    Gone,
}

/// Questions to a platform. Each answer is `None` when the platform cannot say (an
/// error, a missing scope, no token); callers treat that as the cautious answer.
pub trait Directory: Send + Sync {
    /// The kind of conversation `id` is.
    fn conversation_kind<'a>(
        &'a self,
        workspace: &'a Workspace,
        id: &'a str,
    ) -> Lookup<'a, Option<ConversationKind>>;

    /// What `user` is.
    fn member_kind<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<MemberKind>>;

    /// Where `user` stands: an admin, a member, a guest, or gone; `None` when the
    /// platform cannot say.
    fn standing<'a>(
        &'a self,
        _workspace: &'a Workspace,
        _user: &'a str,
    ) -> Lookup<'a, Option<Standing>> {
        Box::pin(async { None })
    }

    /// The private conversations (private channels, group and direct messages) that
    /// `user` is in and the bot can see, every page; `None` when the platform cannot
    /// say.
    fn private_conversations_of<'a>(
        &'a self,
        _workspace: &'a Workspace,
        _user: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        Box::pin(async { None })
    }

    /// Everyone in a conversation (every page).
    fn members<'a>(
        &'a self,
        workspace: &'a Workspace,
        conversation: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>>;

    /// The people of the workspace with an active account (no bots, no deactivated
    /// accounts), every page: one listing instead of a lookup per channel member.
    fn people<'a>(
        &'a self,
        workspace: &'a Workspace,
    ) -> Lookup<'a, Option<std::collections::HashSet<String>>>;

    /// The user id of the person whose handle or display name is `handle` (as typed
    /// after `@`, lowercase); `None` when nobody or several are.
    fn person_named<'a>(
        &'a self,
        _workspace: &'a Workspace,
        _handle: &'a str,
    ) -> Lookup<'a, Option<String>> {
        Box::pin(async { None })
    }

    /// A group conversation of these people with the bot, opened if needed; `None`
    /// where the platform cannot (a Teams bot cannot start group chats).
    fn group_conversation<'a>(
        &'a self,
        _workspace: &'a Workspace,
        _people: &'a [&'a str],
    ) -> Lookup<'a, Option<String>> {
        Box::pin(async { None })
    }
}

/// A directory that answers from tables (tests): conversations by id, people by id
/// (anyone else is not answered for), one member list for every conversation; it
/// counts the conversation lookups; each person lookup takes `member_delay`.
/// Where people's time zones come from (Slack's `users.info`).
pub trait ZoneSource: Send + Sync {
    /// The IANA zone of `user`, or `None` when the platform cannot say.
    fn time_zone<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<String>>;
}

#[cfg(test)]
#[derive(Default)]
pub struct FakeDirectory {
    pub conversations: Vec<(&'static str, ConversationKind)>,
    pub people: Vec<(&'static str, MemberKind)>,
    pub members: Option<Vec<String>>,
    pub lookups: std::sync::atomic::AtomicU32,
    pub member_delay: std::time::Duration,
}

#[cfg(test)]
impl Directory for FakeDirectory {
    fn conversation_kind<'a>(
        &'a self,
        _workspace: &'a Workspace,
        id: &'a str,
    ) -> Lookup<'a, Option<ConversationKind>> {
        self.lookups
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = self.conversations.iter().find(|(c, _)| *c == id);
        let found = found.map(|(_, kind)| *kind);
        Box::pin(async move { found })
    }

    fn member_kind<'a>(
        &'a self,
        _workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<MemberKind>> {
        let found = self
            .people
            .iter()
            .find(|(p, _)| *p == user)
            .map(|(_, k)| *k);
        let delay = self.member_delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            found
        })
    }

    fn members<'a>(
        &'a self,
        _workspace: &'a Workspace,
        _conversation: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        let found = self.members.clone();
        Box::pin(async move { found })
    }

    fn people<'a>(
        &'a self,
        _workspace: &'a Workspace,
    ) -> Lookup<'a, Option<std::collections::HashSet<String>>> {
        let found = self
            .people
            .iter()
            .filter(|(_, kind)| *kind == MemberKind::Person)
            .map(|(id, _)| (*id).to_owned())
            .collect();
        Box::pin(async move { Some(found) })
    }
}
