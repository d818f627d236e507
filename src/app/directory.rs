//! What learnloop asks a platform about its conversations and people: whether a
//! conversation is public (privacy scopes), who is in it, and whether an id names a
//! real person (action item owners). The Slack implementation lives with the Slack
//! client; a platform that cannot answer says `None`, which every caller reads as "no".

use std::future::Future;
use std::pin::Pin;

use crate::store::{ConversationKind, Workspace};

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

    /// Everyone in a conversation (every page).
    fn members<'a>(
        &'a self,
        workspace: &'a Workspace,
        conversation: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>>;
}

/// A directory that knows nothing: every conversation is private, nobody is confirmed.
pub struct NoDirectory;

impl Directory for NoDirectory {
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
        _workspace: &'a Workspace,
        _conversation: &'a str,
    ) -> Lookup<'a, Option<Vec<String>>> {
        Box::pin(async { None })
    }
}
