//! What a person signed in to the dashboard may do and see beyond the workspace's
//! public lessons: whether they administer the workspace (settings, exports), decided at
//! sign-in, and which private conversations' lessons are theirs to read, asked of the
//! platform at sign-in and again once that answer is a few minutes old.

use std::collections::HashSet;

use crate::domain::directory::{Directory, Standing};
use crate::store::{Store, StoreError, Workspace};

/// How long the private conversations a person is in are trusted before the platform
/// is asked again: someone removed from a private channel stops seeing its lessons
/// within this time.
pub const CONVERSATIONS_TTL_SECS: i64 = 300;

/// Whether the person may sign in, and as an admin: `Err` says why not.
pub async fn admission(
    directory: &dyn Directory,
    workspace: &Workspace,
    user: &str,
    admins: &[String],
) -> Result<bool, &'static str> {
    match directory.standing(workspace, user).await {
        Some(Standing::Admin) => Ok(true),
        Some(Standing::Member) => Ok(admins.iter().any(|admin| admin == user)),
        Some(Standing::Guest) => Err(
            "Guests of a workspace cannot use its dashboard: it shows what the whole \
             workspace learned.",
        ),
        None => Err(
            "Your account could not be confirmed with your workspace just now. Try again \
             in a minute.",
        ),
    }
}

/// The private conversations of the workspace that held a debrief and that the person
/// is in, as the platform says now (none when it cannot say: the cautious answer).
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
    let Some(theirs) = directory.private_conversations_of(workspace, user).await else {
        return Ok(Vec::new());
    };
    let theirs: HashSet<String> = theirs.into_iter().collect();
    Ok(held
        .into_iter()
        .filter(|conversation| theirs.contains(conversation))
        .collect())
}
