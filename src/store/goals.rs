//! Personal learning goals, always read and written through (workspace, person).

use sqlx::FromRow;

use super::db;
use super::{Store, StoreError, WorkspaceId};
use crate::domain::Timestamp;

/// A stored goal.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Goal {
    pub number: i64,
    pub text: String,
    pub due_date: Option<String>,
    pub shared: bool,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub done_at: Option<Timestamp>,
    /// The colleague it is shared with (`/learn goal buddy`), if any.
    pub buddy: Option<String>,
}

impl Store {
    /// Shares goal `number` of `person` with `buddy` (`None`: with nobody again); false
    /// when there is no such goal.
    pub async fn set_goal_buddy(
        &self,
        workspace: WorkspaceId,
        person: &str,
        number: i64,
        buddy: Option<&str>,
    ) -> Result<bool, StoreError> {
        Ok(db::query(
            "UPDATE goals SET buddy = ? WHERE workspace_id = ? AND person = ? AND number = ?",
        )
        .bind(buddy)
        .bind(workspace.0)
        .bind(person)
        .bind(number)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Adds a goal and returns its number (one more than the person's highest so far).
    pub async fn add_goal(
        &self,
        workspace: WorkspaceId,
        person: &str,
        text: &str,
        due_date: Option<&str>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let now = now.unix_seconds();
        // In a write transaction: the number is taken under the writers' lock (SQLite's,
        // or the advisory lock on PostgreSQL), so two adds never get the same one.
        let mut tx = self.begin().await?;
        let number: i64 = db::query_scalar(
            "INSERT INTO goals (workspace_id, person, number, text, due_date, created_at) \
             SELECT ?1, ?2, COALESCE(MAX(number), 0) + 1, ?3, ?4, ?5 \
             FROM goals WHERE workspace_id = ?1 AND person = ?2 \
             RETURNING number",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(text)
        .bind(due_date)
        .bind(now)
        .fetch_one(&mut tx.tx)
        .await?;
        tx.commit().await?;
        Ok(number)
    }

    /// The person's goals: open ones first, each group by number.
    pub async fn goals(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<Vec<Goal>, StoreError> {
        Ok(db::query_as(
            "SELECT number, text, due_date, shared != 0 AS shared, created_at, done_at, buddy FROM goals \
             WHERE workspace_id = ? AND person = ? ORDER BY done_at IS NOT NULL, number",
        )
        .bind(workspace.0)
        .bind(person)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One of the person's goals, or `NotFound`.
    pub async fn goal(
        &self,
        workspace: WorkspaceId,
        person: &str,
        number: i64,
    ) -> Result<Goal, StoreError> {
        Ok(db::query_as(
            "SELECT number, text, due_date, shared != 0 AS shared, created_at, done_at, buddy FROM goals \
             WHERE workspace_id = ? AND person = ? AND number = ?",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(number)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Marks a goal reached (once: a second call keeps the first time).
    pub async fn complete_goal(
        &self,
        workspace: WorkspaceId,
        person: &str,
        number: i64,
        now: Timestamp,
    ) -> Result<Goal, StoreError> {
        let now = now.unix_seconds();
        db::query(
            "UPDATE goals SET done_at = COALESCE(done_at, ?) \
             WHERE workspace_id = ? AND person = ? AND number = ?",
        )
        .bind(now)
        .bind(workspace.0)
        .bind(person)
        .bind(number)
        .execute(&self.pool)
        .await?;
        self.goal(workspace, person, number).await
    }

    /// Shares a goal with the team digest.
    pub async fn share_goal(
        &self,
        workspace: WorkspaceId,
        person: &str,
        number: i64,
    ) -> Result<Goal, StoreError> {
        db::query(
            "UPDATE goals SET shared = 1 WHERE workspace_id = ? AND person = ? AND number = ?",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(number)
        .execute(&self.pool)
        .await?;
        self.goal(workspace, person, number).await
    }
}

#[cfg(test)]
mod tests {
    use crate::store::StoreError;
    use crate::store::test_support::secs;
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn numbers_are_per_person_and_goals_stay_private() {
        let (store, _dir) = temp_store().await;
        let (a, b) = (workspace(&store, "TA").await, workspace(&store, "TB").await);
        assert_eq!(
            store
                .add_goal(a, "U1", "learn Rust", Some("2026-12-31"), secs(10))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .add_goal(a, "U1", "write a runbook", None, secs(11))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .add_goal(a, "U2", "mentor", None, secs(12))
                .await
                .unwrap(),
            1,
            "per person"
        );
        assert_eq!(
            store
                .add_goal(b, "U1", "other workspace", None, secs(12))
                .await
                .unwrap(),
            1
        );

        let done = store.complete_goal(a, "U1", 1, secs(20)).await.unwrap();
        assert_eq!(done.done_at, Some(secs(20)));
        assert_eq!(
            store
                .complete_goal(a, "U1", 1, secs(30))
                .await
                .unwrap()
                .done_at,
            Some(secs(20)),
            "first time kept"
        );
        assert!(store.share_goal(a, "U1", 2).await.unwrap().shared);

        let mine = store.goals(a, "U1").await.unwrap();
        let numbers: Vec<i64> = mine.iter().map(|g| g.number).collect();
        assert_eq!(numbers, [2, 1], "open goals first");
        assert_eq!(store.goals(a, "U2").await.unwrap().len(), 1);

        assert!(matches!(
            store.complete_goal(a, "U2", 2, secs(1)).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.share_goal(b, "U1", 2).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store
                .add_goal(a, "U1", "third", None, secs(40))
                .await
                .unwrap(),
            3,
            "numbers are never reused"
        );
    }
}
