//! Workspaces: one row per installed Slack team or Teams tenant.

use sqlx::FromRow;

use super::{Store, StoreError};
use crate::config::Secret;

/// Primary key of a workspace; everything else hangs below one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkspaceId(pub i64);

impl std::fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The chat platform a workspace lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    Slack,
    Teams,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Teams => "teams",
        }
    }

    fn from_db(value: &str) -> Result<Self, StoreError> {
        match value {
            "slack" => Ok(Self::Slack),
            "teams" => Ok(Self::Teams),
            other => Err(StoreError::Other(sqlx::Error::Decode(
                format!("unknown platform `{other}` in workspaces").into(),
            ))),
        }
    }
}

/// A stored workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub platform: Platform,
    pub external_id: String,
    pub name: Option<String>,
    pub bot_token: Option<Secret>,
    pub default_time_zone: String,
}

/// What is known about a workspace when it is first seen (or seen again).
#[derive(Clone, Copy, Debug)]
pub struct NewWorkspace<'a> {
    pub platform: Platform,
    pub external_id: &'a str,
    pub name: Option<&'a str>,
    pub bot_token: Option<&'a Secret>,
    pub default_time_zone: &'a str,
}

#[derive(FromRow)]
struct WorkspaceRow {
    id: i64,
    platform: String,
    external_id: String,
    name: Option<String>,
    bot_token: Option<String>,
    default_time_zone: String,
}

impl TryFrom<WorkspaceRow> for Workspace {
    type Error = StoreError;
    fn try_from(row: WorkspaceRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: WorkspaceId(row.id),
            platform: Platform::from_db(&row.platform)?,
            external_id: row.external_id,
            name: row.name,
            bot_token: row.bot_token.map(Secret::new),
            default_time_zone: row.default_time_zone,
        })
    }
}

impl Store {
    /// The workspace with this platform id, or `NotFound`.
    pub async fn find_workspace(
        &self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Workspace, StoreError> {
        let row: WorkspaceRow = sqlx::query_as(
            "SELECT id, platform, external_id, name, bot_token, default_time_zone \
             FROM workspaces WHERE platform = ? AND external_id = ?",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    /// The workspace with this primary key, or `NotFound`.
    pub async fn workspace_by_id(&self, id: WorkspaceId) -> Result<Workspace, StoreError> {
        let row: WorkspaceRow = sqlx::query_as(
            "SELECT id, platform, external_id, name, bot_token, default_time_zone \
             FROM workspaces WHERE id = ?",
        )
        .bind(id.0)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    /// Gives every workspace of `platform` this bot token: a single-workspace install
    /// whose token was rotated in the environment takes effect at start, before any
    /// request arrives. Returns how many rows changed.
    pub async fn set_bot_token_everywhere(
        &self,
        platform: Platform,
        token: &Secret,
        now: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE workspaces SET bot_token = ?, updated_at = ? \
             WHERE platform = ? AND (bot_token IS NULL OR bot_token != ?)",
        )
        .bind(token.expose())
        .bind(now)
        .bind(platform.as_str())
        .bind(token.expose())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    /// Creates the workspace or refreshes its name and token; the time zone of an
    /// existing workspace is left as its admins set it.
    pub async fn upsert_workspace(
        &self,
        new: NewWorkspace<'_>,
        now: i64,
    ) -> Result<Workspace, StoreError> {
        let row: WorkspaceRow = sqlx::query_as(
            "INSERT INTO workspaces \
                 (platform, external_id, name, bot_token, default_time_zone, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (platform, external_id) DO UPDATE SET \
                 name = COALESCE(excluded.name, workspaces.name), \
                 bot_token = COALESCE(excluded.bot_token, workspaces.bot_token), \
                 updated_at = excluded.updated_at \
             RETURNING id, platform, external_id, name, bot_token, default_time_zone",
        )
        .bind(new.platform.as_str())
        .bind(new.external_id)
        .bind(new.name)
        .bind(new.bot_token.map(Secret::expose))
        .bind(new.default_time_zone)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    fn slack(external_id: &str) -> NewWorkspace<'_> {
        NewWorkspace {
            platform: Platform::Slack,
            external_id,
            name: None,
            bot_token: None,
            default_time_zone: "Europe/Berlin",
        }
    }

    #[tokio::test]
    async fn a_rotated_token_reaches_every_workspace_of_the_platform() {
        let (store, _dir) = temp_store().await;
        let old = Secret::new("xoxb-old");
        let mut first = slack("T1");
        first.bot_token = Some(&old);
        let id = store.upsert_workspace(first, 1).await.unwrap().id;
        let new = Secret::new("xoxb-new");
        assert_eq!(
            store
                .set_bot_token_everywhere(Platform::Slack, &new, 2)
                .await
                .unwrap(),
            1
        );
        let token = store.workspace_by_id(id).await.unwrap().bot_token.unwrap();
        assert_eq!(token.expose(), "xoxb-new");
        assert_eq!(
            store
                .set_bot_token_everywhere(Platform::Slack, &new, 3)
                .await
                .unwrap(),
            0,
            "nothing to change the second time"
        );
    }

    #[tokio::test]
    async fn upsert_creates_once_and_refreshes_the_token() {
        let (store, _dir) = temp_store().await;
        assert!(matches!(
            store.find_workspace(Platform::Slack, "T1").await,
            Err(StoreError::NotFound)
        ));
        let first = store.upsert_workspace(slack("T1"), 10).await.unwrap();
        assert_eq!(first.default_time_zone, "Europe/Berlin");
        assert!(first.bot_token.is_none());

        let token = Secret::new("xoxb-1");
        let again = store
            .upsert_workspace(
                NewWorkspace {
                    bot_token: Some(&token),
                    name: Some("Acme"),
                    default_time_zone: "UTC",
                    ..slack("T1")
                },
                20,
            )
            .await
            .unwrap();
        assert_eq!(again.id, first.id, "same team, same row");
        assert_eq!(again.bot_token.unwrap().expose(), "xoxb-1");
        assert_eq!(again.name.as_deref(), Some("Acme"));
        assert_eq!(
            again.default_time_zone, "Europe/Berlin",
            "zone is not overwritten"
        );

        let found = store.find_workspace(Platform::Slack, "T1").await.unwrap();
        assert_eq!(found.id, first.id);
        let by_id = store.workspace_by_id(first.id).await.unwrap();
        assert_eq!(by_id.external_id, "T1");
        assert!(matches!(
            store.workspace_by_id(WorkspaceId(404)).await,
            Err(StoreError::NotFound)
        ));
    }

    #[tokio::test]
    async fn the_same_id_on_two_platforms_is_two_workspaces() {
        let (store, _dir) = temp_store().await;
        let a = store.upsert_workspace(slack("X1"), 1).await.unwrap();
        let b = store
            .upsert_workspace(
                NewWorkspace {
                    platform: Platform::Teams,
                    ..slack("X1")
                },
                1,
            )
            .await
            .unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(b.platform, Platform::Teams);
    }
}
