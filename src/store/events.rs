//! Processed Events API ids, so a retried delivery is acknowledged but handled once.

use sqlx::SqliteConnection;

use super::{Store, StoreError, StoreTx, WorkspaceId};

async fn record_once(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
    event_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "INSERT INTO processed_events (workspace_id, event_id, received_at) VALUES (?, ?, ?) \
             ON CONFLICT (workspace_id, event_id) DO NOTHING",
    )
    .bind(workspace.0)
    .bind(event_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

impl StoreTx {
    /// Records the event id in this transaction; `true` the first time it is seen.
    pub async fn record_event_once(
        &mut self,
        workspace: WorkspaceId,
        event_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        record_once(&mut self.tx, workspace, event_id, now).await
    }
}

impl Store {
    /// Records the event id; `true` the first time it is seen in this workspace.
    pub async fn record_event_once(
        &self,
        workspace: WorkspaceId,
        event_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        record_once(&mut conn, workspace, event_id, now).await
    }

    /// Releases a claimed event id (its handling failed), so Slack's retry is handled.
    pub async fn forget_event(
        &self,
        workspace: WorkspaceId,
        event_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM processed_events WHERE workspace_id = ? AND event_id = ?")
            .bind(workspace.0)
            .bind(event_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets event ids received before `before`; returns how many were removed.
    pub async fn prune_processed_events(&self, before: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM processed_events WHERE received_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn an_event_id_counts_once_per_workspace_until_pruned() {
        let (store, _dir) = temp_store().await;
        let ids = [workspace(&store, "T1").await, workspace(&store, "T2").await];
        assert!(store.record_event_once(ids[0], "Ev1", 100).await.unwrap());
        assert!(!store.record_event_once(ids[0], "Ev1", 101).await.unwrap());
        assert!(
            store.record_event_once(ids[1], "Ev1", 101).await.unwrap(),
            "other workspace"
        );

        store.forget_event(ids[1], "Ev1").await.unwrap();
        assert!(
            store.record_event_once(ids[1], "Ev1", 101).await.unwrap(),
            "a released claim can be taken again"
        );

        assert_eq!(store.prune_processed_events(101).await.unwrap(), 1);
        assert!(
            store.record_event_once(ids[0], "Ev1", 200).await.unwrap(),
            "forgotten after pruning"
        );
    }
}
