//! Processed event ids (Slack's `event_id`, a Teams activity's id), so a retried
//! delivery is acknowledged but handled once. An id is claimed for a while, then
//! marked done together with the reply it caused; a claim whose handler died runs out,
//! so the platform's next retry is handled rather than dropped.

use super::{Store, StoreError, StoreTx, WorkspaceId};

/// What claiming an event id found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This delivery is the one to handle it (new, or a dead handler's claim ran out).
    Claimed,
    /// Handled already, or being handled right now.
    Duplicate,
}

impl StoreTx {
    /// The event's reply is queued in this transaction: it is done.
    pub async fn finish_event(
        &mut self,
        workspace: WorkspaceId,
        event_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO processed_events (workspace_id, event_id, received_at, state) \
             VALUES (?1, ?2, ?3, 'done') \
             ON CONFLICT (workspace_id, event_id) DO UPDATE SET state = 'done', claimed_until = NULL",
        )
        .bind(workspace.0)
        .bind(event_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Claims an event id until `claimed_until` (Unix seconds): [`Claim::Claimed`] when
    /// it is new or an earlier claim ran out without being finished.
    pub async fn claim_event(
        &self,
        workspace: WorkspaceId,
        event_id: &str,
        now: i64,
        claimed_until: i64,
    ) -> Result<Claim, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO processed_events (workspace_id, event_id, received_at, state, claimed_until) \
             VALUES (?1, ?2, ?3, 'claimed', ?4) \
             ON CONFLICT (workspace_id, event_id) DO UPDATE \
             SET received_at = excluded.received_at, claimed_until = excluded.claimed_until \
             WHERE processed_events.state = 'claimed' AND processed_events.claimed_until <= ?3",
        )
        .bind(workspace.0)
        .bind(event_id)
        .bind(now)
        .bind(claimed_until)
        .execute(&self.pool)
        .await?;
        Ok(if claimed.rows_affected() == 1 {
            Claim::Claimed
        } else {
            Claim::Duplicate
        })
    }

    /// Releases a claimed event id (its handling failed), so the platform's retry is
    /// handled.
    pub async fn forget_event(
        &self,
        workspace: WorkspaceId,
        event_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM processed_events WHERE workspace_id = ? AND event_id = ? \
             AND state = 'claimed'",
        )
        .bind(workspace.0)
        .bind(event_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a Teams outgoing-webhook activity; `false` when it was seen before (a
    /// replay).
    pub async fn first_webhook_activity(
        &self,
        activity: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let recorded = sqlx::query(
            "INSERT INTO webhook_activities (activity, seen_at) VALUES (?, ?) \
             ON CONFLICT (activity) DO NOTHING",
        )
        .bind(activity)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(recorded.rows_affected() == 1)
    }

    /// Forgets webhook activities seen before `before`.
    pub async fn prune_webhook_activities(&self, before: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM webhook_activities WHERE seen_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
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
    use super::Claim;
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn a_claim_runs_out_unless_finished_and_a_finished_event_stays_done() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        assert_eq!(
            store.claim_event(ws, "Ev1", 100, 130).await.unwrap(),
            Claim::Claimed
        );
        assert_eq!(
            store.claim_event(ws, "Ev1", 101, 131).await.unwrap(),
            Claim::Duplicate,
            "an immediate retry while the first is handled"
        );
        assert_eq!(
            store.claim_event(ws, "Ev1", 130, 160).await.unwrap(),
            Claim::Claimed,
            "the first handler died: its claim ran out"
        );
        let mut tx = store.begin().await.unwrap();
        tx.finish_event(ws, "Ev1", 131).await.unwrap();
        tx.commit().await.unwrap();
        store.forget_event(ws, "Ev1").await.unwrap();
        assert_eq!(
            store.claim_event(ws, "Ev1", 500, 530).await.unwrap(),
            Claim::Duplicate,
            "done is done, even much later"
        );
    }

    #[tokio::test]
    async fn an_event_id_counts_once_per_workspace_until_pruned() {
        let (store, _dir) = temp_store().await;
        let ids = [workspace(&store, "T1").await, workspace(&store, "T2").await];
        let claim = |ws, at| {
            let store = store.clone();
            async move { store.claim_event(ws, "Ev1", at, at + 30).await.unwrap() }
        };
        assert_eq!(claim(ids[0], 100).await, Claim::Claimed);
        assert_eq!(claim(ids[0], 101).await, Claim::Duplicate);
        assert_eq!(claim(ids[1], 101).await, Claim::Claimed, "other workspace");

        store.forget_event(ids[1], "Ev1").await.unwrap();
        assert_eq!(
            claim(ids[1], 101).await,
            Claim::Claimed,
            "a released claim can be taken again"
        );

        assert_eq!(store.prune_processed_events(101).await.unwrap(), 1);
        assert_eq!(
            claim(ids[0], 200).await,
            Claim::Claimed,
            "forgotten after pruning"
        );
    }
}
