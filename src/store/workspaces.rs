//! Workspaces: one row per installed Slack team or Teams tenant.

use sqlx::FromRow;

use super::db;
use super::{Store, StoreError};
use crate::domain::Timestamp;
pub use crate::domain::{Platform, Workspace, WorkspaceId};

/// What is known about a workspace when it is first seen (or seen again). Tokens are
/// never part of it: they live sealed in the installation, or in the environment.
#[derive(Clone, Copy, Debug)]
pub struct NewWorkspace<'a> {
    pub platform: Platform,
    pub external_id: &'a str,
    pub name: Option<&'a str>,
    pub default_time_zone: &'a str,
}

/// A workspace as `learnloop workspace list` shows it.
#[derive(Clone, Debug, FromRow)]
pub struct WorkspaceSummary {
    pub id: i64,
    pub platform: String,
    pub external_id: String,
    pub name: Option<String>,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub uninstalled_at: Option<Timestamp>,
    /// `active`, `uninstalled` or `broken` for OAuth installations; `None` otherwise.
    pub installation: Option<String>,
}

/// A workspace read: every column [`WorkspaceRow`] needs (`w` the workspace, `i` its
/// installation), then the given condition.
macro_rules! select_workspace {
    ($condition:literal) => {
        concat!(
            "SELECT w.id, w.platform, w.external_id, w.name, w.default_time_zone, ",
            "w.uninstalled_at, i.enterprise_id, i.team_id, i.bot_token AS sealed_token, ",
            "i.state AS installation_state, COALESCE(i.is_enterprise_install, 0) != 0 AS org_wide ",
            "FROM workspaces w LEFT JOIN slack_installations i ON i.workspace_id = w.id ",
            $condition
        )
    };
}

#[derive(FromRow)]
pub(super) struct WorkspaceRow {
    id: i64,
    platform: String,
    external_id: String,
    name: Option<String>,
    default_time_zone: String,
    uninstalled_at: Option<i64>,
    enterprise_id: Option<String>,
    team_id: Option<String>,
    sealed_token: Option<String>,
    installation_state: Option<String>,
    org_wide: bool,
}

impl Store {
    pub(super) fn workspace_from_row(&self, row: WorkspaceRow) -> Result<Workspace, StoreError> {
        let platform = Platform::parse(&row.platform).ok_or_else(|| {
            StoreError::Other(sqlx::Error::Decode(
                format!("unknown platform `{}` in workspaces", row.platform).into(),
            ))
        })?;
        let uninstalled = row.uninstalled_at.is_some();
        let bot_token = match (&row.sealed_token, row.installation_state.as_deref()) {
            _ if uninstalled => None,
            (Some(sealed), Some("active")) => self.credentials.open(
                sealed,
                &super::installations::token_identity(
                    row.enterprise_id.as_deref().unwrap_or_default(),
                    row.team_id.as_deref().unwrap_or_default(),
                    "bot_token",
                ),
            ),
            // Uninstalled or broken: no token to act with.
            (Some(_), _) => None,
            (None, _) if platform == Platform::Slack => self.credentials.slack_env_token.clone(),
            (None, _) => None,
        };
        Ok(Workspace {
            id: WorkspaceId(row.id),
            platform,
            external_id: row.external_id,
            name: row.name,
            bot_token,
            default_time_zone: row.default_time_zone,
            uninstalled,
            org_wide: row.org_wide,
        })
    }

    /// The workspace with this platform id, or `NotFound`.
    pub async fn find_workspace(
        &self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Workspace, StoreError> {
        let row: WorkspaceRow = db::query_as(select_workspace!(
            "WHERE w.platform = ? AND w.external_id = ?"
        ))
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_one(&self.pool)
        .await?;
        self.workspace_from_row(row)
    }

    /// The workspace with this primary key, or `NotFound`.
    pub async fn workspace_by_id(&self, id: WorkspaceId) -> Result<Workspace, StoreError> {
        let row: WorkspaceRow = db::query_as(select_workspace!("WHERE w.id = ?"))
            .bind(id.0)
            .fetch_one(&self.pool)
            .await?;
        self.workspace_from_row(row)
    }

    /// Creates the workspace or refreshes its name; the time zone of an existing
    /// workspace is left as its admins set it. Seen again, an uninstalled workspace is
    /// installed again (Slack only reaches us from workspaces that have the app).
    pub async fn upsert_workspace(
        &self,
        new: NewWorkspace<'_>,
        now: Timestamp,
    ) -> Result<Workspace, StoreError> {
        let now = now.unix_seconds();
        let (id,): (i64,) = db::query_as(
            "INSERT INTO workspaces \
                 (platform, external_id, name, default_time_zone, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (platform, external_id) DO UPDATE SET \
                 name = COALESCE(excluded.name, workspaces.name), \
                 uninstalled_at = NULL, \
                 updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(new.platform.as_str())
        .bind(new.external_id)
        .bind(new.name)
        .bind(new.default_time_zone)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        self.workspace_by_id(WorkspaceId(id)).await
    }

    /// Every workspace, oldest first, for the admin's list.
    pub async fn list_workspaces(&self) -> Result<Vec<WorkspaceSummary>, StoreError> {
        Ok(db::query_as(
            "SELECT w.id, w.platform, w.external_id, w.name, w.created_at, w.uninstalled_at, \
                    i.state AS installation \
             FROM workspaces w LEFT JOIN slack_installations i ON i.workspace_id = w.id \
             ORDER BY w.id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Erases the workspace and every row that belongs to it (the schema cascades from
    /// `workspaces`). Returns whether it existed.
    pub async fn delete_workspace(&self, id: WorkspaceId) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let deleted = db::query("DELETE FROM workspaces WHERE id = ?")
            .bind(id.0)
            .execute(&mut tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Credentials;
    use crate::store::test_support::secs;
    use crate::store::test_support::temp_store;

    fn slack(external_id: &str) -> NewWorkspace<'_> {
        NewWorkspace {
            platform: Platform::Slack,
            external_id,
            name: None,
            default_time_zone: "Europe/Berlin",
        }
    }

    #[tokio::test]
    async fn the_environment_token_serves_slack_workspaces_without_being_stored() {
        let (store, _dir) = temp_store().await;
        let store = store.with_credentials(Credentials {
            keyring: None,
            slack_env_token: Some(crate::config::Secret::new("xoxb-env")),
        });
        let in_slack = store.upsert_workspace(slack("T1"), secs(1)).await.unwrap();
        assert_eq!(in_slack.bot_token.unwrap().expose(), "xoxb-env");
        let teams = NewWorkspace {
            platform: Platform::Teams,
            ..slack("T1")
        };
        assert!(
            store
                .upsert_workspace(teams, secs(1))
                .await
                .unwrap()
                .bot_token
                .is_none()
        );
        let stored: Vec<Option<String>> = db::query_scalar("SELECT bot_token FROM workspaces")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert!(stored.iter().all(Option::is_none), "{stored:?}");
    }

    #[tokio::test]
    async fn upsert_creates_once_and_refreshes_the_token() {
        let (store, _dir) = temp_store().await;
        assert!(matches!(
            store.find_workspace(Platform::Slack, "T1").await,
            Err(StoreError::NotFound)
        ));
        let first = store.upsert_workspace(slack("T1"), secs(10)).await.unwrap();
        assert_eq!(first.default_time_zone, "Europe/Berlin");
        assert!(first.bot_token.is_none());

        let again = store
            .upsert_workspace(
                NewWorkspace {
                    name: Some("Acme"),
                    default_time_zone: "UTC",
                    ..slack("T1")
                },
                secs(20),
            )
            .await
            .unwrap();
        assert_eq!(again.id, first.id, "same team, same row");
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
        let a = store.upsert_workspace(slack("X1"), secs(1)).await.unwrap();
        let b = store
            .upsert_workspace(
                NewWorkspace {
                    platform: Platform::Teams,
                    ..slack("X1")
                },
                secs(1),
            )
            .await
            .unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(b.platform, Platform::Teams);
    }
}
