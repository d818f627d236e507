//! Privacy scopes of conversations: whether a conversation's lessons are shared with the
//! workspace (a public channel) or stay inside it (everything else, and anything the
//! platform could not tell us about). Slack is asked with `conversations.info`, the
//! answer kept for a day and refreshed in the background; Teams says what a
//! conversation is in every activity.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::handle::CommandContext;
use crate::clock::{Clock, SharedClock};
use crate::domain::directory::Directory;
use crate::store::{Audience, ConversationKind, ConversationScope, Platform, Store, Workspace};

/// How long a platform's answer is trusted: a channel can be made private or shared
/// with another organisation at any time, so it is asked again at least daily.
pub const RECHECK_AFTER_SECS: i64 = 24 * 3600;
/// After a failed lookup (Slack down, a missing scope) the conversation stays private
/// and is asked about again this much later.
pub const RETRY_FAILED_AFTER_SECS: i64 = 10 * 60;
/// A lookup on a request's path runs while Slack waits for our 3-second answer, with
/// other work (the owners' lookups at a close, the card's post at a start) after it.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1000);
/// Conversations looked up per background pass.
const REFRESH_BATCH: u32 = 50;

/// Asks the platform about `conversation` (with a deadline) and stores the answer; a
/// failed lookup is stored as unknown (private) and retried sooner. When the
/// conversation changed while the platform was answering, the answer is stale: what is
/// stored (unknown, due again at once) is returned instead.
pub async fn look_up(
    store: &Store,
    directory: &dyn Directory,
    clock: &dyn Clock,
    workspace: &Workspace,
    conversation: &str,
) -> Result<ConversationScope, AppError> {
    let seen = store.scope_version(workspace.id, conversation).await?;
    let found = tokio::time::timeout(
        LOOKUP_TIMEOUT,
        directory.conversation_kind(workspace, conversation),
    )
    .await
    .ok()
    .flatten();
    let now = clock.now();
    let (kind, next_check_at) = match found {
        Some(kind) => (kind, now.plus_seconds(RECHECK_AFTER_SECS)),
        None => {
            tracing::info!(
                workspace_id = workspace.id.0,
                "could not learn whether a conversation is public; it counts as private"
            );
            (
                ConversationKind::Unknown,
                now.plus_seconds(RETRY_FAILED_AFTER_SECS),
            )
        }
    };
    let stored = store
        .record_looked_up_scope(workspace.id, conversation, seen, kind, next_check_at, now)
        .await?;
    if stored {
        return Ok(ConversationScope {
            kind,
            next_check_at,
        });
    }
    Ok(store
        .conversation_scope(workspace.id, conversation)
        .await?
        .unwrap_or(ConversationScope {
            kind: ConversationKind::Unknown,
            next_check_at: Timestamp::from_millis(0),
        }))
}

/// The scope of a conversation learnloop is about to use (a debrief starting or
/// closing there, lessons shown there): the stored one while it is fresh, else asked
/// of the platform (Slack). Teams conversations are recorded from their activities and
/// never asked about.
pub async fn current(
    store: &Store,
    directory: &dyn Directory,
    clock: &dyn Clock,
    workspace: &Workspace,
    conversation: &str,
) -> Result<ConversationScope, AppError> {
    let stored = store.conversation_scope(workspace.id, conversation).await?;
    if workspace.platform == Platform::Teams {
        return Ok(stored.unwrap_or(ConversationScope {
            kind: ConversationKind::Unknown,
            next_check_at: Timestamp::NEVER,
        }));
    }
    match stored {
        Some(scope) if scope.next_check_at > clock.now() => Ok(scope),
        _ => look_up(store, directory, clock, workspace, conversation).await,
    }
}

/// [`current`] for a conversation a command is about.
pub async fn of(
    ctx: &CommandContext<'_>,
    conversation: &str,
) -> Result<ConversationScope, AppError> {
    current(
        ctx.store,
        ctx.directory,
        ctx.clock,
        ctx.workspace,
        conversation,
    )
    .await
}

/// Who sees lessons posted in `conversation` for everyone there (a debrief's card, a
/// scheduled digest, a Teams channel reply): its scope decides whether the workspace's
/// public lessons may be shown there too.
pub async fn audience<'a>(
    ctx: &CommandContext<'_>,
    conversation: &'a str,
) -> Result<Audience<'a>, AppError> {
    let kind = of(ctx, conversation).await?.kind;
    Ok(narrowed(
        ctx.workspace.org_wide,
        audience_for(ctx.workspace.platform, conversation, kind),
    ))
}

/// Who sees the answer to a command (`lessons`, `digest now`): the person who asked
/// when the platform answers privately (a member of the workspace, who may see its
/// public lessons wherever they ask), else everyone in the conversation.
pub async fn audience_of_answer<'a>(ctx: &'a CommandContext<'_>) -> Result<Audience<'a>, AppError> {
    if ctx.answered_privately() {
        return Ok(narrowed(ctx.workspace.org_wide, Audience::In(ctx.channel)));
    }
    audience(ctx, ctx.channel).await
}

#[cfg(test)]
#[test]
fn an_org_wide_install_shows_a_conversation_its_own_lessons_only() {
    assert_eq!(narrowed(true, Audience::In("C1")), Audience::Only("C1"));
    assert_eq!(narrowed(false, Audience::In("C1")), Audience::In("C1"));
    assert_eq!(narrowed(true, Audience::Only("C1")), Audience::Only("C1"));
    assert_eq!(narrowed(true, Audience::Public), Audience::Only(""));
    assert_eq!(narrowed(false, Audience::Public), Audience::Public);
    let mut workspace = crate::store::Workspace {
        id: crate::store::WorkspaceId(1),
        platform: Platform::Slack,
        external_id: "E1".into(),
        name: None,
        bot_token: None,
        default_time_zone: "UTC".into(),
        uninstalled: false,
        org_wide: false,
    };
    let public = ConversationKind::PublicChannel;
    assert_eq!(who_sees_in(&workspace, public), who_sees(public));
    workspace.org_wide = true;
    assert!(who_sees_in(&workspace, public).contains("only in this channel"));
}

/// In a workspace installed org-wide, teams share one workspace while their public
/// channels are not public to each other: an audience sees only its own conversation's
/// lessons there.
pub fn narrowed(org_wide: bool, audience: Audience<'_>) -> Audience<'_> {
    match audience {
        Audience::In(conversation) if org_wide => Audience::Only(conversation),
        // No team's channels are public to the whole organisation: nothing to see.
        Audience::Public if org_wide => Audience::Only(""),
        other => other,
    }
}

/// The audience of a conversation of this kind. Teams often leaves a team channel's
/// type out of its activities (and says `shared` when it is one): a channel of unknown
/// type is read by its team. On Slack, unknown means the lookup failed: treated as a
/// conversation outsiders may read.
pub fn audience_for(
    platform: Platform,
    conversation: &str,
    kind: ConversationKind,
) -> Audience<'_> {
    if platform == Platform::Teams && kind == ConversationKind::Unknown {
        return Audience::In(conversation);
    }
    Audience::of(conversation, kind)
}

/// The background pass: looks up again every Slack conversation whose answer is due
/// (older than a day, changed by an event, or never given); how many were looked up.
pub async fn refresh_due(
    store: &Store,
    directory: &dyn Directory,
    clock: &dyn Clock,
) -> Result<usize, AppError> {
    let due = store.scopes_to_check(clock.now(), REFRESH_BATCH).await?;
    let mut looked_up = 0;
    for scope in &due {
        let workspace = store
            .workspace_by_id(crate::store::WorkspaceId(scope.workspace_id))
            .await?;
        if workspace.platform == Platform::Teams {
            // Known from activities; nothing to ask, and what the last one said stays.
            store.park_scope(workspace.id, &scope.conversation).await?;
            continue;
        }
        look_up(store, directory, clock, &workspace, &scope.conversation).await?;
        looked_up += 1;
    }
    Ok(looked_up)
}

/// Keeps every conversation's scope fresh in the background: a daily look at each, and
/// at once when an event says one changed (see [`ScopeRefresher::wake`]).
pub struct ScopeRefresher {
    store: Store,
    directory: Arc<dyn Directory>,
    clock: SharedClock,
    wake: Notify,
}

impl ScopeRefresher {
    pub fn new(store: Store, directory: Arc<dyn Directory>, clock: SharedClock) -> Self {
        Self {
            store,
            directory,
            clock,
            wake: Notify::new(),
        }
    }

    /// A conversation was marked for another look.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// One pass (tests call it directly); how many conversations were looked up.
    pub async fn refresh(&self) -> Result<usize, AppError> {
        refresh_due(&self.store, self.directory.as_ref(), self.clock.as_ref()).await
    }

    /// Refreshes until `stop` is cancelled.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let wait = match self.refresh().await {
                Ok(n) if n == REFRESH_BATCH as usize => Duration::ZERO,
                Ok(_) => match self.store.next_scope_check().await {
                    Ok(Some(due)) => {
                        let idle = Duration::from_secs(MAX_IDLE_SECS as u64);
                        due.since(self.clock.now())
                            .clamp(Duration::from_secs(1), idle)
                    }
                    _ => Duration::from_secs(MAX_IDLE_SECS as u64),
                },
                Err(err) => {
                    tracing::warn!(error = %err, "could not refresh privacy scopes; trying again shortly");
                    Duration::from_secs(30)
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Longest the refresher sleeps: bounds how late it notices a conversation another
/// process marked.
const MAX_IDLE_SECS: i64 = 600;

/// [`who_sees`] in `workspace`: under an org-wide install lessons stay in their channel.
pub fn who_sees_in(workspace: &crate::store::Workspace, kind: ConversationKind) -> &'static str {
    if workspace.org_wide && kind.is_within_workspace() {
        return ":lock: learnloop is installed for the whole organisation, whose teams do not \
                see each other's channels, so these lessons are shown only in this channel.";
    }
    who_sees(kind)
}

/// Who can see the lessons of a conversation of this kind, as the summary's footer and
/// help say it.
pub fn who_sees(kind: ConversationKind) -> &'static str {
    match kind {
        ConversationKind::PublicChannel => {
            ":earth_africa: Lessons from this public channel are shared with the whole workspace \
             (search, digests, other debriefs' cards)."
        }
        ConversationKind::SharedChannel => {
            ":lock: This channel is shared with another organisation, so its lessons are shown \
             only here."
        }
        ConversationKind::Unknown => {
            ":lock: I could not confirm this channel is public, so its lessons are shown only \
             here."
        }
        _ => ":lock: This conversation is private, so its lessons are shown only here.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::test_support::{temp_store, workspace};

    use crate::domain::directory::FakeDirectory;

    #[tokio::test]
    async fn answers_are_cached_for_a_day_and_failures_count_as_private() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let workspace = store.workspace_by_id(ws).await.unwrap();
        let clock = ManualClock::at(1_000);
        let directory = FakeDirectory {
            conversations: vec![("C1", ConversationKind::PublicChannel)],
            ..FakeDirectory::default()
        };
        let asked = || directory.lookups.load(std::sync::atomic::Ordering::Relaxed);
        let first = current(&store, &directory, &clock, &workspace, "C1")
            .await
            .unwrap();
        assert!(first.is_public());
        current(&store, &directory, &clock, &workspace, "C1")
            .await
            .unwrap();
        assert_eq!(asked(), 1, "the second answer is cached");
        clock.advance(RECHECK_AFTER_SECS);
        current(&store, &directory, &clock, &workspace, "C1")
            .await
            .unwrap();
        assert_eq!(asked(), 2, "asked again after a day");

        let unknown = current(&store, &directory, &clock, &workspace, "G1")
            .await
            .unwrap();
        assert_eq!(unknown.kind, ConversationKind::Unknown);
        assert!(!unknown.is_public());
        clock.advance(RETRY_FAILED_AFTER_SECS);
        assert_eq!(refresh_due(&store, &directory, &clock).await.unwrap(), 1);
    }
}
