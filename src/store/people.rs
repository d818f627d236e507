//! People: a platform user inside one workspace, with the time zone their prompts use.

use sqlx::FromRow;

use super::db;
use super::{Store, StoreError, WorkspaceId};
pub use crate::domain::PersonId;
use crate::domain::Timestamp;

/// A stored person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub workspace_id: WorkspaceId,
    pub platform_user_id: String,
    pub display_name: Option<String>,
    /// IANA zone name as the platform reported it; `None` until looked up.
    pub time_zone: Option<String>,
    pub time_zone_refreshed_at: Option<Timestamp>,
}

#[derive(FromRow)]
struct PersonRow {
    id: i64,
    workspace_id: i64,
    platform_user_id: String,
    display_name: Option<String>,
    time_zone: Option<String>,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    time_zone_refreshed_at: Option<Timestamp>,
}

impl From<PersonRow> for Person {
    fn from(row: PersonRow) -> Self {
        Self {
            id: PersonId(row.id),
            workspace_id: WorkspaceId(row.workspace_id),
            platform_user_id: row.platform_user_id,
            display_name: row.display_name,
            time_zone: row.time_zone,
            time_zone_refreshed_at: row.time_zone_refreshed_at,
        }
    }
}

impl Store {
    /// The person with this platform user id in this workspace, created if new.
    pub async fn ensure_person(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
        now: Timestamp,
    ) -> Result<Person, StoreError> {
        let now = now.unix_seconds();
        // The no-op update makes RETURNING yield the existing row on conflict.
        let row: PersonRow = db::query_as(
            "INSERT INTO people (workspace_id, platform_user_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (workspace_id, platform_user_id) DO UPDATE SET \
                 workspace_id = excluded.workspace_id \
             RETURNING id, workspace_id, platform_user_id, display_name, time_zone, \
                 time_zone_refreshed_at",
        )
        .bind(workspace.0)
        .bind(platform_user_id)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    /// The person, or `NotFound` (also when they belong to another workspace).
    pub async fn find_person(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
    ) -> Result<Person, StoreError> {
        let row: PersonRow = db::query_as(
            "SELECT id, workspace_id, platform_user_id, display_name, time_zone, \
                 time_zone_refreshed_at \
             FROM people WHERE workspace_id = ? AND platform_user_id = ?",
        )
        .bind(workspace.0)
        .bind(platform_user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    /// The time zones last learned of these people (by workspace and user id), in one
    /// query: people never seen, or whose zone is unknown, are left out.
    pub async fn known_zones(
        &self,
        people: &[(i64, &str)],
    ) -> Result<std::collections::HashMap<(i64, String), String>, StoreError> {
        if people.is_empty() {
            return Ok(Default::default());
        }
        let pairs =
            serde_json::to_string(people).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows: Vec<(i64, String, String)> = db::query_as(over_json_rows!(
            ["SELECT p.workspace_id, p.platform_user_id, p.time_zone FROM "],
            "?",
            [
                " JOIN people p ON p.workspace_id = CAST(j.value ->> 0 AS BIGINT) \
                 AND p.platform_user_id = j.value ->> 1 \
             WHERE p.time_zone IS NOT NULL"
            ]
        ))
        .bind(pairs)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(workspace, person, zone)| ((workspace, person), zone))
            .collect())
    }

    /// Records that the person was welcomed; true only the first time.
    pub async fn mark_welcomed(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        Ok(db::query(
            "INSERT INTO people (workspace_id, platform_user_id, welcomed_at, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, platform_user_id) DO UPDATE SET \
                 welcomed_at = excluded.welcomed_at, updated_at = excluded.updated_at \
             WHERE people.welcomed_at IS NULL",
        )
        .bind(workspace.0)
        .bind(platform_user_id)
        .bind(now)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Records that the person opened the bot's Home tab (the first time: only whether
    /// they ever did matters); creates the person if new.
    pub async fn mark_home_opened(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO people (workspace_id, platform_user_id, home_opened_at, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, platform_user_id) DO UPDATE SET \
                 home_opened_at = excluded.home_opened_at \
             WHERE people.home_opened_at IS NULL",
        )
        .bind(workspace.0)
        .bind(platform_user_id)
        .bind(now)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the person has ever opened the bot's Home tab.
    pub async fn has_opened_home(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
    ) -> Result<bool, StoreError> {
        let opened: Option<Option<i64>> = db::query_scalar(
            "SELECT home_opened_at FROM people WHERE workspace_id = ? AND platform_user_id = ?",
        )
        .bind(workspace.0)
        .bind(platform_user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(opened.flatten().is_some())
    }

    /// Pauses (or with `None` resumes) the person's prompts; creates the person if new.
    pub async fn set_paused_until(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
        until: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO people (workspace_id, platform_user_id, paused_until, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, platform_user_id) DO UPDATE SET \
                 paused_until = excluded.paused_until, updated_at = excluded.updated_at",
        )
        .bind(workspace.0)
        .bind(platform_user_id)
        .bind(until)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Until when the person's prompts are paused, if they are.
    pub async fn paused_until(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let until: Option<super::columns::OptionalSeconds> = db::query_scalar(
            "SELECT paused_until FROM people WHERE workspace_id = ? AND platform_user_id = ?",
        )
        .bind(workspace.0)
        .bind(platform_user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(until
            .and_then(Option::<Timestamp>::from)
            .filter(|until| *until > now))
    }

    /// Everyone of the workspace whose prompts are paused at `now`.
    pub async fn paused_people(
        &self,
        workspace: WorkspaceId,
        now: Timestamp,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let now = now.unix_seconds();
        let rows: Vec<String> = db::query_scalar(
            "SELECT platform_user_id FROM people \
             WHERE workspace_id = ? AND paused_until IS NOT NULL AND paused_until > ?",
        )
        .bind(workspace.0)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Records what the platform says about the person (profile lookups refresh this).
    pub async fn update_person_profile(
        &self,
        workspace: WorkspaceId,
        platform_user_id: &str,
        display_name: Option<&str>,
        time_zone: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        let result = db::query(
            "UPDATE people SET \
                 display_name = COALESCE(?, display_name), \
                 time_zone = COALESCE(?, time_zone), \
                 time_zone_refreshed_at = ?, \
                 updated_at = ? \
             WHERE workspace_id = ? AND platform_user_id = ?",
        )
        .bind(display_name)
        .bind(time_zone)
        .bind(now)
        .bind(now)
        .bind(workspace.0)
        .bind(platform_user_id)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::secs;
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn people_are_scoped_to_their_workspace() {
        let (store, _dir) = temp_store().await;
        let (a, b) = (workspace(&store, "TA").await, workspace(&store, "TB").await);
        let alice = store.ensure_person(a, "U1", secs(5)).await.unwrap();
        assert_eq!(
            store.ensure_person(a, "U1", secs(6)).await.unwrap(),
            alice,
            "idempotent"
        );
        let other = store.ensure_person(b, "U1", secs(5)).await.unwrap();
        assert_ne!(
            other.id, alice.id,
            "same user id in another workspace is another person"
        );

        store
            .update_person_profile(a, "U1", Some("Alice"), Some("America/New_York"), secs(9))
            .await
            .unwrap();
        let found = store.find_person(a, "U1").await.unwrap();
        assert_eq!(found.time_zone.as_deref(), Some("America/New_York"));
        assert_eq!(found.display_name.as_deref(), Some("Alice"));
        assert_eq!(found.time_zone_refreshed_at, Some(secs(9)));
        assert_eq!(store.find_person(b, "U1").await.unwrap().time_zone, None);

        assert!(matches!(
            store
                .update_person_profile(b, "U404", None, None, secs(9))
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.find_person(a, "U404").await,
            Err(StoreError::NotFound)
        ));
    }
}
