//! What a person signed in to the dashboard may do and see beyond the workspace's
//! public lessons: whether they may be signed in at all and administer the workspace
//! (settings, exports), and which private conversations' lessons are theirs to read.
//! Both are asked of the platform at sign-in and again once the answer is a few
//! minutes old, so a deactivated account, a demoted admin or a person who left a
//! private channel loses access within minutes, not at the end of the session.

use std::collections::HashSet;

use futures_util::StreamExt;

use crate::domain::directory::{Directory, Standing};
use crate::store::{Store, StoreError, Workspace};

/// How long what the platform said about a person (standing, private conversations) is
/// trusted before it is asked again.
pub const ACCESS_TTL_SECS: i64 = 300;

/// Someone signing in, or signed in, and who else administers their workspace.
#[derive(Clone, Copy, Debug)]
pub struct Person<'a> {
    pub user: &'a str,
    /// Who added the bot to the Teams team, if known: an admin of its dashboard.
    pub installer: Option<&'a str>,
    /// `LEARNLOOP_ADMINS`.
    pub admins: &'a [String],
}

impl Person<'_> {
    /// An admin though the platform calls them a member: the installer of a Teams team
    /// or one named in `LEARNLOOP_ADMINS`.
    fn named_admin(&self) -> bool {
        self.installer == Some(self.user) || self.admins.iter().any(|admin| admin == self.user)
    }
}

/// Whether the person may sign in, and as an admin: `Err` says why not.
pub async fn admission(
    directory: &dyn Directory,
    workspace: &Workspace,
    who: Person<'_>,
) -> Result<bool, &'static str> {
    match directory.standing(workspace, who.user).await {
        Some(Standing::Admin) => Ok(true),
        Some(Standing::Member) => Ok(who.named_admin()),
        Some(Standing::Guest) => Err(
            "Guests of a workspace cannot use its dashboard: it shows what the whole \
             workspace learned.",
        ),
        Some(Standing::Gone) => Err("This account is deactivated."),
        None => Err(
            "Your account could not be confirmed with your workspace just now. Try again \
             in a minute.",
        ),
    }
}

/// A signed-in person checked again: still in (and whether an admin now), or out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recheck {
    Stays {
        admin: bool,
    },
    /// Deactivated, or made a guest: the session ends.
    Ends,
}

/// Asks again where a signed-in person stands. When the platform cannot say, they stay
/// signed in without admin rights until it can.
pub async fn recheck(directory: &dyn Directory, workspace: &Workspace, who: Person<'_>) -> Recheck {
    match directory.standing(workspace, who.user).await {
        Some(Standing::Guest | Standing::Gone) => Recheck::Ends,
        Some(Standing::Admin) => Recheck::Stays { admin: true },
        Some(Standing::Member) => Recheck::Stays {
            admin: who.named_admin(),
        },
        None => Recheck::Stays { admin: false },
    }
}

/// Most private conversations asked about one by one for a person (a platform that
/// cannot list a person's conversations: Teams).
const MOST_ASKED: usize = 50;
/// Of those, how many are asked at once.
const ASKED_AT_ONCE: usize = 4;

/// The private conversations of the workspace that held a debrief and that the person
/// is in, as the platform says now (none it cannot say about: the cautious answer).
/// Slack lists a person's conversations in one call; elsewhere each conversation's
/// members are asked, a few at a time.
pub async fn private_conversations(
    store: &Store,
    directory: &dyn Directory,
    workspace: &Workspace,
    user: &str,
) -> Result<Vec<String>, StoreError> {
    let held = store.private_debrief_conversations(workspace.id).await?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(theirs) = directory.private_conversations_of(workspace, user).await {
        let theirs: HashSet<String> = theirs.into_iter().collect();
        return Ok(held
            .into_iter()
            .filter(|conversation| theirs.contains(conversation))
            .collect());
    }
    if held.len() > MOST_ASKED {
        tracing::info!(
            held = held.len(),
            "more private conversations than are asked about; the rest stay hidden"
        );
    }
    let asked = held
        .into_iter()
        .take(MOST_ASKED)
        .map(|conversation| async move {
            let members = directory.members(workspace, &conversation).await?;
            members
                .iter()
                .any(|member| member == user)
                .then_some(conversation)
        });
    Ok(futures_util::stream::iter(asked)
        .buffer_unordered(ASKED_AT_ONCE)
        .filter_map(std::future::ready)
        .collect()
        .await)
}
