//! Teams conversation references: where the bot can post later, and the people it can
//! open a 1:1 chat with. Written only from verified Bot Framework activities.

use sqlx::FromRow;

use super::db;
use super::{Store, StoreError, Workspace, WorkspaceId};
use crate::domain::Timestamp;

/// A channel or chat the bot can post to.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TeamsConversation {
    pub conversation_id: String,
    /// `channel`, `groupChat` or `personal`.
    pub kind: String,
    pub service_url: String,
    pub bot_id: String,
    pub tenant_id: String,
    /// For a 1:1 chat: whose.
    pub person: Option<String>,
}

/// A person the bot has met.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TeamsPerson {
    pub person: String,
    pub name: Option<String>,
    pub aad_object_id: Option<String>,
    pub service_url: String,
}

impl Store {
    /// Stores (or refreshes) where the bot can post in a conversation.
    pub async fn remember_teams_conversation(
        &self,
        workspace: WorkspaceId,
        conversation: &TeamsConversation,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO teams_conversations \
                 (workspace_id, conversation_id, kind, service_url, bot_id, tenant_id, person, \
                  updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET \
                 kind = excluded.kind, service_url = excluded.service_url, \
                 bot_id = excluded.bot_id, tenant_id = excluded.tenant_id, \
                 person = COALESCE(excluded.person, teams_conversations.person), \
                 updated_at = excluded.updated_at",
        )
        .bind(workspace.0)
        .bind(&conversation.conversation_id)
        .bind(&conversation.kind)
        .bind(&conversation.service_url)
        .bind(&conversation.bot_id)
        .bind(&conversation.tenant_id)
        .bind(&conversation.person)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores (or refreshes) a person the bot has met; a name or AAD id already known
    /// is kept when this activity lacks it.
    pub async fn remember_teams_person(
        &self,
        workspace: WorkspaceId,
        person: &TeamsPerson,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO teams_people \
                 (workspace_id, person, name, aad_object_id, service_url, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, person) DO UPDATE SET \
                 name = COALESCE(excluded.name, teams_people.name), \
                 aad_object_id = COALESCE(excluded.aad_object_id, teams_people.aad_object_id), \
                 service_url = excluded.service_url, updated_at = excluded.updated_at",
        )
        .bind(workspace.0)
        .bind(&person.person)
        .bind(&person.name)
        .bind(&person.aad_object_id)
        .bind(&person.service_url)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Where the bot can post in one conversation of the workspace, if it has been there.
    pub async fn teams_conversation(
        &self,
        workspace: WorkspaceId,
        conversation_id: &str,
    ) -> Result<Option<TeamsConversation>, StoreError> {
        Ok(db::query_as(
            "SELECT conversation_id, kind, service_url, bot_id, tenant_id, person \
             FROM teams_conversations WHERE workspace_id = ? AND conversation_id = ?",
        )
        .bind(workspace.0)
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The person's 1:1 chat with the bot in this workspace, if there is one.
    pub async fn teams_personal_chat(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<Option<TeamsConversation>, StoreError> {
        Ok(db::query_as(
            "SELECT conversation_id, kind, service_url, bot_id, tenant_id, person \
             FROM teams_conversations WHERE workspace_id = ? AND person = ? \
             ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(workspace.0)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The Teams team of `tenant` where the bot last met the person with this Entra
    /// object id, and their id there (how the dashboard's Microsoft sign-in finds who
    /// signed in; personal installs hold no team); `None` when it never met them. Whether
    /// they are still in that team is asked of Teams afterwards (`Directory::standing`).
    pub async fn teams_person_by_object_id(
        &self,
        tenant: &str,
        object_id: &str,
    ) -> Result<Option<(Workspace, String)>, StoreError> {
        let found: Option<(i64, String)> = db::query_as(
            "SELECT p.workspace_id, p.person FROM teams_people p \
             JOIN workspaces w ON w.id = p.workspace_id \
             WHERE p.aad_object_id = ? AND w.platform = 'teams' AND w.uninstalled_at IS NULL \
               AND lower(substr(w.external_id, 1, length(?) + 1)) = lower(?) || ':' \
               AND substr(w.external_id, length(w.external_id) - 8) != ':personal' \
             ORDER BY p.updated_at DESC LIMIT 1",
        )
        .bind(object_id)
        .bind(tenant)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        let Some((workspace, person)) = found else {
            return Ok(None);
        };
        Ok(Some((
            self.workspace_by_id(WorkspaceId(workspace)).await?,
            person,
        )))
    }

    /// Records who added the bot to the workspace's team, last: whoever added it again
    /// (it was removed) is who manages it now.
    pub async fn record_installer(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<(), StoreError> {
        db::query("UPDATE workspaces SET installer = ? WHERE id = ?")
            .bind(person)
            .bind(workspace.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Who added the bot to the workspace's team, if that is known.
    pub async fn workspace_installer(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            db::query_scalar::<Option<String>>("SELECT installer FROM workspaces WHERE id = ?")
                .bind(workspace.0)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// A person the bot has met in this workspace.
    pub async fn teams_person(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<Option<TeamsPerson>, StoreError> {
        Ok(db::query_as(
            "SELECT person, name, aad_object_id, service_url \
             FROM teams_people WHERE workspace_id = ? AND person = ?",
        )
        .bind(workspace.0)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The workspace (of `tenant`) that most recently used a 1:1 or group chat.
    pub async fn teams_workspace_of_chat(
        &self,
        tenant: &str,
        conversation_id: &str,
    ) -> Result<Option<WorkspaceId>, StoreError> {
        // A personal install's own workspace (`TENANT:personal`) answers only for
        // someone no team knows (see `teams_home_workspace`).
        let id: Option<i64> = db::query_scalar(
            "SELECT c.workspace_id FROM teams_conversations c \
             JOIN workspaces w ON w.id = c.workspace_id \
             WHERE c.conversation_id = ? AND c.tenant_id = ? \
               AND substr(w.external_id, length(w.external_id) - 8) != ':personal' \
             ORDER BY c.updated_at DESC LIMIT 1",
        )
        .bind(conversation_id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(WorkspaceId))
    }

    /// The workspace of the tenant where `person` is in the middle of something that
    /// continues in their 1:1 chat (a debrief's DM conversation, an open check-in),
    /// the most recent first: an answer there belongs to it, whichever team used the
    /// chat last.
    pub async fn teams_workspace_awaiting(
        &self,
        tenant: &str,
        person: &str,
    ) -> Result<Option<WorkspaceId>, StoreError> {
        let id: Option<i64> = db::query_scalar(
            "SELECT workspace_id FROM ( \
                 SELECT c.workspace_id, c.updated_at AS at FROM conversations c \
                 WHERE c.person = ?1 \
                 UNION ALL \
                 SELECT k.workspace_id, k.created_at AS at FROM checkins k \
                 WHERE k.person = ?1 AND k.status = 'open' \
             ) waiting JOIN workspaces w ON w.id = waiting.workspace_id \
             WHERE w.platform = 'teams' AND substr(w.external_id, 1, length(?2) + 1) = ?2 || ':' \
             ORDER BY at DESC LIMIT 1",
        )
        .bind(person)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(WorkspaceId))
    }

    /// Marks a conversation as just used by this workspace (see
    /// [`Self::teams_workspace_of_chat`]).
    pub async fn touch_teams_conversation(
        &self,
        workspace: WorkspaceId,
        conversation_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "UPDATE teams_conversations SET updated_at = ? \
             WHERE workspace_id = ? AND conversation_id = ?",
        )
        .bind(now)
        .bind(workspace.0)
        .bind(conversation_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The Teams workspace (of `tenant`) where the bot most recently met `person`.
    pub async fn teams_home_workspace(
        &self,
        tenant: &str,
        person: &str,
    ) -> Result<Option<WorkspaceId>, StoreError> {
        let id: Option<i64> = db::query_scalar(
            "SELECT p.workspace_id FROM teams_people p \
             JOIN workspaces w ON w.id = p.workspace_id \
             WHERE p.person = ?1 AND w.platform = 'teams' \
               AND substr(w.external_id, 1, length(?2) + 1) = ?2 || ':' \
               AND substr(w.external_id, length(w.external_id) - 8) != ':personal' \
             ORDER BY p.updated_at DESC LIMIT 1",
        )
        .bind(person)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(WorkspaceId))
    }

    /// The workspace's conversations the bot can post to.
    pub async fn teams_conversations(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<TeamsConversation>, StoreError> {
        Ok(db::query_as(
            "SELECT conversation_id, kind, service_url, bot_id, tenant_id, person \
             FROM teams_conversations WHERE workspace_id = ? ORDER BY conversation_id",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The people of the workspace the bot has met.
    pub async fn teams_people(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<TeamsPerson>, StoreError> {
        Ok(db::query_as(
            "SELECT person, name, aad_object_id, service_url \
             FROM teams_people WHERE workspace_id = ? ORDER BY person",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?)
    }
}
