//! Privacy scopes: whether each conversation that held a debrief is public, as the
//! platform last said. A lesson is shown outside its own conversation only when that
//! conversation is public (see [`Audience`]); no row means private.

use sqlx::FromRow;

use super::{Store, StoreError, WorkspaceId};

/// Who is about to see lessons: the people of one conversation (the channel a search,
/// digest or card is shown in, or a person's DM). They see the lessons said in that
/// conversation and the shared lessons of public conversations, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience<'a> {
    In(&'a str),
    /// Not shown to anyone: the background matching of recurrences reads every lesson
    /// of the workspace, and readers filter the pairs by their own audience.
    Internal,
}

impl<'a> Audience<'a> {
    /// The conversation to bind, or `NULL` for [`Audience::Internal`].
    pub(super) fn bound(self) -> Option<&'a str> {
        match self {
            Self::In(conversation) => Some(conversation),
            Self::Internal => None,
        }
    }
}

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

    fn from_db(value: &str) -> Self {
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

    /// Whether the platform said the conversation is private (not merely unknown).
    pub fn is_known_private(self) -> bool {
        !matches!(self, Self::PublicChannel | Self::Unknown)
    }
}

/// What is stored about a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConversationScope {
    pub kind: ConversationKind,
    /// When the platform should be asked again.
    pub next_check_at: i64,
}

impl ConversationScope {
    pub fn is_public(&self) -> bool {
        self.kind.is_public()
    }
}

#[derive(FromRow)]
struct ScopeRow {
    kind: String,
    next_check_at: i64,
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
        let row: Option<ScopeRow> = sqlx::query_as(
            "SELECT kind, next_check_at FROM conversation_scopes \
             WHERE workspace_id = ? AND conversation = ?",
        )
        .bind(workspace.0)
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| ConversationScope {
            kind: ConversationKind::from_db(&row.kind),
            next_check_at: row.next_check_at,
        }))
    }

    /// Records what the platform said (or that it could not say: `Unknown`, private).
    pub async fn record_conversation_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: ConversationKind,
        next_check_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversation_scopes \
                 (workspace_id, conversation, public, kind, next_check_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (workspace_id, conversation) DO UPDATE SET \
                 public = excluded.public, kind = excluded.kind, \
                 next_check_at = excluded.next_check_at, updated_at = excluded.updated_at",
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

    /// The platform said a conversation changed (shared, renamed, archived, …): until it
    /// is looked up again, it counts as private. `true` when the conversation is one
    /// learnloop keeps a scope for.
    pub async fn forget_conversation_scope(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE conversation_scopes SET public = 0, kind = 'unknown', next_check_at = 0, \
                 updated_at = ? \
             WHERE workspace_id = ? AND conversation = ?",
        )
        .bind(now)
        .bind(workspace.0)
        .bind(conversation)
        .execute(&self.pool)
        .await?;
        Ok(changed.rows_affected() > 0)
    }

    /// Conversations due for another lookup, the longest waiting first.
    pub async fn scopes_to_check(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<ScopeToCheck>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, conversation FROM conversation_scopes \
             WHERE next_check_at <= ? ORDER BY next_check_at, workspace_id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// When the next lookup is due, if any conversation has a scope.
    pub async fn next_scope_check(&self) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_check_at) FROM conversation_scopes")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn a_scope_is_recorded_replaced_forgotten_and_listed_when_due() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        assert_eq!(store.conversation_scope(ws, "C1").await.unwrap(), None);
        store
            .record_conversation_scope(ws, "C1", ConversationKind::PublicChannel, 500, 100)
            .await
            .unwrap();
        let scope = store.conversation_scope(ws, "C1").await.unwrap().unwrap();
        assert!(scope.is_public());
        assert_eq!(scope.next_check_at, 500);
        assert!(store.scopes_to_check(499, 10).await.unwrap().is_empty());
        assert_eq!(store.next_scope_check().await.unwrap(), Some(500));

        assert!(
            store
                .forget_conversation_scope(ws, "C1", 200)
                .await
                .unwrap()
        );
        assert!(
            !store
                .forget_conversation_scope(ws, "C9", 200)
                .await
                .unwrap()
        );
        let forgotten = store.conversation_scope(ws, "C1").await.unwrap().unwrap();
        assert_eq!(forgotten.kind, ConversationKind::Unknown);
        assert!(!forgotten.is_public(), "changed means private until known");
        assert_eq!(
            store.scopes_to_check(200, 10).await.unwrap(),
            vec![ScopeToCheck {
                workspace_id: ws.0,
                conversation: "C1".into()
            }]
        );
    }
}
