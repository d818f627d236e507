//! Privacy scopes: whether each conversation that held a debrief is public, as the
//! platform last said. A lesson is shown outside its own conversation only when that
//! conversation is public (see [`Audience`]); no row means private.

use sqlx::FromRow;

use super::db;
use super::{Store, StoreError, WorkspaceId};
pub use crate::domain::ConversationKind;
use crate::domain::Timestamp;

/// Who is about to see lessons: the people of one conversation (the channel a search,
/// digest or card is shown in, or a person's DM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience<'a> {
    /// People of the workspace: they see the lessons said in that conversation and the
    /// shared lessons of public conversations.
    In(&'a str),
    /// A conversation people of other organisations may read (Slack Connect, a Teams
    /// shared channel or group chat) or one the platform could not describe: it sees
    /// only the lessons said in it, never the workspace's public ones.
    Only(&'a str),
    /// Someone in no conversation (a person signed in to the dashboard): they see what
    /// every public conversation sees, the workspace's public lessons.
    Public,
    /// Not shown to anyone: the background matching of recurrences reads every lesson
    /// of the workspace, and readers filter the pairs by their own audience.
    Internal,
}

impl<'a> Audience<'a> {
    /// The audience of `conversation`, given what kind of conversation it is.
    pub fn of(conversation: &'a str, kind: ConversationKind) -> Self {
        if kind.is_within_workspace() {
            Self::In(conversation)
        } else {
            Self::Only(conversation)
        }
    }

    /// The conversation to bind, or `NULL` for [`Audience::Internal`]. [`Audience::Public`]
    /// binds the empty name, which no debrief has (each is held in the conversation a
    /// command came from, never an empty one), so only the public branch can match.
    pub(super) fn bound(self) -> Option<&'a str> {
        match self {
            Self::In(conversation) | Self::Only(conversation) => Some(conversation),
            Self::Public => Some(""),
            Self::Internal => None,
        }
    }

    /// Whether the workspace's public lessons may be shown (bound next to
    /// [`Audience::bound`]).
    pub(super) fn sees_public(self) -> bool {
        !matches!(self, Self::Only(_))
    }
}

/// What is stored about a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConversationScope {
    pub kind: ConversationKind,
    /// When the platform should be asked again.
    pub next_check_at: Timestamp,
}

impl ConversationScope {
    pub fn is_public(&self) -> bool {
        self.kind.is_public()
    }
}

#[derive(FromRow)]
struct ScopeRow {
    kind: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    next_check_at: Timestamp,
}

/// A conversation whose scope is due to be looked up again.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ScopeToCheck {
    pub workspace_id: i64,
    pub conversation: String,
}

impl Store {
    /// The stored scope of a conversation; `None` when it was never recorded.
    pub async fn conversation_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
    ) -> Result<Option<ConversationScope>, StoreError> {
        let row: Option<ScopeRow> = db::query_as(
            "SELECT kind, next_check_at FROM conversation_scopes \
             WHERE workspace_id = ? AND conversation = ?",
        )
        .bind(workspace.0)
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| ConversationScope {
            kind: ConversationKind::parse(&row.kind),
            next_check_at: row.next_check_at,
        }))
    }

    /// Records what the platform said in an activity about this very conversation (or,
    /// for a conversation whose platform is never asked, that nothing is known).
    pub async fn record_conversation_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: ConversationKind,
        next_check_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let next_check_at = next_check_at.unix_seconds();
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO conversation_scopes \
                 (workspace_id, conversation, public, kind, next_check_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (workspace_id, conversation) DO UPDATE SET \
                 public = excluded.public, kind = excluded.kind, \
                 next_check_at = excluded.next_check_at, updated_at = excluded.updated_at, \
                 version = conversation_scopes.version + 1",
        )
        .bind(workspace.0)
        .bind(conversation)
        .bind(kind.is_public())
        .bind(kind.as_str())
        .bind(next_check_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records what an activity says a conversation is, for a platform that is never
    /// asked (Teams: this is the only source). An activity that does not say (`Unknown`)
    /// keeps what an earlier one said; the row is written only when the kind changes.
    pub async fn record_said_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: ConversationKind,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO conversation_scopes \
                 (workspace_id, conversation, public, kind, next_check_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (workspace_id, conversation) DO UPDATE SET \
                 public = excluded.public, kind = excluded.kind, updated_at = excluded.updated_at, \
                 next_check_at = excluded.next_check_at, \
                 version = conversation_scopes.version + 1 \
             WHERE excluded.kind <> 'unknown' AND conversation_scopes.kind <> excluded.kind",
        )
        .bind(workspace.0)
        .bind(conversation)
        .bind(kind.is_public())
        .bind(kind.as_str())
        .bind(Timestamp::NEVER.unix_seconds())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The version of a conversation's stored scope (`None`: no row), read before asking
    /// the platform; see [`Store::record_looked_up_scope`].
    pub async fn scope_version(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(db::query_scalar(
            "SELECT version FROM conversation_scopes WHERE workspace_id = ? AND conversation = ?",
        )
        .bind(workspace.0)
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records the answer of a lookup that started when the scope was at `seen` (see
    /// [`Store::scope_version`]), unless the scope changed meanwhile: a `channel_shared`
    /// event that arrived while Slack was answering must not be overwritten by the
    /// older answer. `false` when the answer was not stored.
    pub async fn record_looked_up_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        seen: Option<i64>,
        kind: ConversationKind,
        next_check_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let next_check_at = next_check_at.unix_seconds();
        let now = now.unix_seconds();
        // A first lookup (`seen` NULL) only inserts; a later one only updates the row
        // it read, still at that version.
        let stored = db::query(
            "INSERT INTO conversation_scopes \
                 (workspace_id, conversation, public, kind, next_check_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (workspace_id, conversation) DO UPDATE SET \
                 public = excluded.public, kind = excluded.kind, \
                 next_check_at = excluded.next_check_at, updated_at = excluded.updated_at, \
                 version = conversation_scopes.version + 1 \
             WHERE conversation_scopes.version IS NOT DISTINCT FROM ?7",
        )
        .bind(workspace.0)
        .bind(conversation)
        .bind(kind.is_public())
        .bind(kind.as_str())
        .bind(next_check_at)
        .bind(now)
        .bind(seen)
        .execute(&self.pool)
        .await?;
        Ok(stored.rows_affected() > 0)
    }

    /// The platform said a conversation changed (shared, renamed, archived, …): until it
    /// is looked up again, it counts as private. Recorded even for a conversation with
    /// no scope yet, so a first lookup already on its way cannot store its older answer.
    pub async fn forget_conversation_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        // Due for a look-up at once: checked before any other.
        let at_once = Timestamp::from_millis(0);
        self.record_conversation_scope(
            workspace,
            conversation,
            ConversationKind::Unknown,
            at_once,
            now,
        )
        .await
    }

    /// A conversation whose platform is never asked (Teams: its activities say what it
    /// is) is not due again; its kind is left as the last activity said.
    pub async fn park_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
    ) -> Result<(), StoreError> {
        db::query(
            "UPDATE conversation_scopes SET next_check_at = ?3 \
             WHERE workspace_id = ?1 AND conversation = ?2",
        )
        .bind(workspace.0)
        .bind(conversation)
        .bind(Timestamp::NEVER.unix_seconds())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Conversations due for another lookup, the longest waiting first.
    pub async fn scopes_to_check(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ScopeToCheck>, StoreError> {
        let now = now.unix_seconds();
        Ok(db::query_as(
            "SELECT workspace_id, conversation FROM conversation_scopes \
             WHERE next_check_at <= ? ORDER BY next_check_at, workspace_id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// When the next lookup is due, if any conversation has a scope.
    pub async fn next_scope_check(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: super::columns::OptionalSeconds =
            db::query_scalar("SELECT MIN(next_check_at) FROM conversation_scopes")
                .fetch_one(&self.pool)
                .await?;
        Ok(next.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{ms, secs};
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn a_scope_is_recorded_replaced_forgotten_and_listed_when_due() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        assert_eq!(store.conversation_scope(ws, "C1").await.unwrap(), None);
        store
            .record_conversation_scope(
                ws,
                "C1",
                ConversationKind::PublicChannel,
                secs(500),
                secs(100),
            )
            .await
            .unwrap();
        let scope = store.conversation_scope(ws, "C1").await.unwrap().unwrap();
        assert!(scope.is_public());
        assert_eq!(scope.next_check_at, secs(500));
        assert!(
            store
                .scopes_to_check(secs(499), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.next_scope_check().await.unwrap(), Some(secs(500)));

        store
            .forget_conversation_scope(ws, "C1", secs(200))
            .await
            .unwrap();
        let forgotten = store.conversation_scope(ws, "C1").await.unwrap().unwrap();
        assert_eq!(forgotten.kind, ConversationKind::Unknown);
        assert!(!forgotten.is_public(), "changed means private until known");
        assert_eq!(
            store.scopes_to_check(secs(200), 10).await.unwrap(),
            vec![ScopeToCheck {
                workspace_id: ws.0,
                conversation: "C1".into()
            }]
        );
    }

    #[tokio::test]
    async fn a_lookup_answer_never_overwrites_a_change_that_arrived_meanwhile() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let public = ConversationKind::PublicChannel;

        // A change arrives while the very first lookup of C0 is on its way: the lookup
        // (which saw no row) does not store its older answer.
        store
            .forget_conversation_scope(ws, "C0", secs(90))
            .await
            .unwrap();
        assert!(
            !store
                .record_looked_up_scope(ws, "C0", None, public, secs(500), secs(95))
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .conversation_scope(ws, "C0")
                .await
                .unwrap()
                .unwrap()
                .kind,
            ConversationKind::Unknown
        );

        // First lookup of a conversation with no row: inserted.
        assert!(
            store
                .record_looked_up_scope(ws, "C1", None, public, secs(500), secs(100))
                .await
                .unwrap()
        );
        // A lookup starts, then `channel_shared` arrives before Slack's (older) answer.
        let seen = store.scope_version(ws, "C1").await.unwrap();
        assert!(seen.is_some());
        store
            .forget_conversation_scope(ws, "C1", secs(150))
            .await
            .unwrap();
        assert!(
            !store
                .record_looked_up_scope(ws, "C1", seen, public, secs(600), secs(160))
                .await
                .unwrap(),
            "the stale answer is dropped"
        );
        let scope = store.conversation_scope(ws, "C1").await.unwrap().unwrap();
        assert_eq!(scope.kind, ConversationKind::Unknown);
        assert_eq!(scope.next_check_at, ms(0), "and it is asked again at once");

        // The next lookup starts after the change and stores its answer.
        let seen = store.scope_version(ws, "C1").await.unwrap();
        let shared = ConversationKind::SharedChannel;
        assert!(
            store
                .record_looked_up_scope(ws, "C1", seen, shared, secs(700), secs(170))
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .conversation_scope(ws, "C1")
                .await
                .unwrap()
                .unwrap()
                .kind,
            shared
        );
        // A row another process inserted first is not replaced by a first lookup.
        assert!(
            !store
                .record_looked_up_scope(ws, "C1", None, public, secs(800), secs(180))
                .await
                .unwrap()
        );
    }
}
