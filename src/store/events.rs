//! Processed event ids (Slack's `event_id`, a Teams activity's id), so a retried
//! delivery is acknowledged but handled once. An id is claimed for a while, then
//! marked done together with the reply it caused; a claim whose handler died runs out,
//! so the platform's next retry is handled rather than dropped.

use super::db;
use super::{Store, StoreError, StoreTx, WorkspaceId};
use crate::domain::Timestamp;

/// Names one claim of an event id: finishing or releasing the event takes it, so a
/// handler whose claim ran out (and was taken by another delivery) changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimToken(pub i64);

/// What claiming an event id found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This delivery is the one to handle it (new, or a dead handler's claim ran out).
    Claimed(ClaimToken),
    /// Another delivery is handling it right now.
    InProgress,
    /// Handled already.
    Done,
}

impl StoreTx {
    /// The event's reply is queued in this transaction: it is done. Fails with
    /// [`StoreError::Conflict`] (so the transaction, reply included, is rolled back)
    /// when the claim is no longer `token`'s: another delivery took it over.
    pub async fn finish_event(
        &mut self,
        workspace: WorkspaceId,
        event_id: &str,
        token: ClaimToken,
    ) -> Result<(), StoreError> {
        let finished = db::query(
            "UPDATE processed_events SET state = 'done', claimed_until = NULL, claim_token = NULL \
             WHERE workspace_id = ? AND event_id = ? AND state = 'claimed' AND claim_token = ?",
        )
        .bind(workspace.0)
        .bind(event_id)
        .bind(token.0)
        .execute(&mut self.tx)
        .await?;
        if finished.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the event's claim ran out and was taken by another delivery".into(),
            ));
        }
        Ok(())
    }
}

impl Store {
    /// Claims an event id until `claimed_until` (Unix seconds) under `token`:
    /// [`Claim::Claimed`] when it is new or an earlier claim ran out without being
    /// finished.
    pub async fn claim_event(
        &self,
        workspace: WorkspaceId,
        event_id: &str,
        now: Timestamp,
        claimed_until: Timestamp,
        token: ClaimToken,
    ) -> Result<Claim, StoreError> {
        let now = now.unix_seconds();
        let claimed_until = claimed_until.unix_seconds();
        let claimed = db::query(
            "INSERT INTO processed_events \
                 (workspace_id, event_id, received_at, state, claimed_until, claim_token) \
             VALUES (?1, ?2, ?3, 'claimed', ?4, ?5) \
             ON CONFLICT (workspace_id, event_id) DO UPDATE \
             SET received_at = excluded.received_at, claimed_until = excluded.claimed_until, \
                 claim_token = excluded.claim_token \
             WHERE processed_events.state = 'claimed' AND processed_events.claimed_until <= ?3",
        )
        .bind(workspace.0)
        .bind(event_id)
        .bind(now)
        .bind(claimed_until)
        .bind(token.0)
        .execute(&self.pool)
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(Claim::Claimed(token));
        }
        let state: Option<String> = db::query_scalar(
            "SELECT state FROM processed_events WHERE workspace_id = ? AND event_id = ?",
        )
        .bind(workspace.0)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match state.as_deref() {
            Some("claimed") => Claim::InProgress,
            // Done, or pruned between the two statements (long done).
            _ => Claim::Done,
        })
    }

    /// Releases `token`'s claim of an event id (its handling failed), so the platform's
    /// retry is handled; a claim another delivery took over is left alone.
    pub async fn forget_event(
        &self,
        workspace: WorkspaceId,
        event_id: &str,
        token: ClaimToken,
    ) -> Result<(), StoreError> {
        db::query(
            "DELETE FROM processed_events WHERE workspace_id = ? AND event_id = ? \
             AND state = 'claimed' AND claim_token = ?",
        )
        .bind(workspace.0)
        .bind(event_id)
        .bind(token.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a Teams outgoing-webhook activity; `false` when it was seen before (a
    /// replay).
    pub async fn first_webhook_activity(
        &self,
        activity: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let recorded = db::query(
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
    pub async fn prune_webhook_activities(&self, before: Timestamp) -> Result<u64, StoreError> {
        let before = before.unix_seconds();
        let result = db::query("DELETE FROM webhook_activities WHERE seen_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Forgets event ids received before `before`; returns how many were removed.
    pub async fn prune_processed_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        let before = before.unix_seconds();
        let result = db::query("DELETE FROM processed_events WHERE received_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::{Claim, ClaimToken};
    use crate::store::StoreError;
    use crate::store::test_support::secs;
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn a_claim_runs_out_unless_finished_and_a_finished_event_stays_done() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let (first, second) = (ClaimToken(1), ClaimToken(2));
        assert_eq!(
            store
                .claim_event(ws, "Ev1", secs(100), secs(130), first)
                .await
                .unwrap(),
            Claim::Claimed(first)
        );
        assert_eq!(
            store
                .claim_event(ws, "Ev1", secs(101), secs(131), second)
                .await
                .unwrap(),
            Claim::InProgress,
            "an immediate retry while the first is handled"
        );
        assert_eq!(
            store
                .claim_event(ws, "Ev1", secs(130), secs(160), second)
                .await
                .unwrap(),
            Claim::Claimed(second),
            "the first handler died: its claim ran out"
        );

        // The first handler was only slow: it may neither finish nor release the event.
        let mut tx = store.begin().await.unwrap();
        let late = tx.finish_event(ws, "Ev1", first).await;
        assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
        drop(tx);
        store.forget_event(ws, "Ev1", first).await.unwrap();
        assert_eq!(
            store
                .claim_event(ws, "Ev1", secs(131), secs(161), first)
                .await
                .unwrap(),
            Claim::InProgress,
            "the second claim still holds"
        );

        let mut tx = store.begin().await.unwrap();
        tx.finish_event(ws, "Ev1", second).await.unwrap();
        tx.commit().await.unwrap();
        store.forget_event(ws, "Ev1", second).await.unwrap();
        assert_eq!(
            store
                .claim_event(ws, "Ev1", secs(500), secs(530), ClaimToken(3))
                .await
                .unwrap(),
            Claim::Done,
            "done is done, even much later"
        );
    }

    #[tokio::test]
    async fn an_event_id_counts_once_per_workspace_until_pruned() {
        let (store, _dir) = temp_store().await;
        let ids = [workspace(&store, "T1").await, workspace(&store, "T2").await];
        let claim = |ws, at, token| {
            let store = store.clone();
            async move {
                store
                    .claim_event(ws, "Ev1", at, at.plus_seconds(30), ClaimToken(token))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            claim(ids[0], secs(100), 1).await,
            Claim::Claimed(ClaimToken(1))
        );
        assert_eq!(claim(ids[0], secs(101), 2).await, Claim::InProgress);
        assert_eq!(
            claim(ids[1], secs(101), 3).await,
            Claim::Claimed(ClaimToken(3)),
            "other workspace"
        );

        store
            .forget_event(ids[1], "Ev1", ClaimToken(3))
            .await
            .unwrap();
        assert_eq!(
            claim(ids[1], secs(101), 4).await,
            Claim::Claimed(ClaimToken(4)),
            "a released claim can be taken again"
        );

        assert_eq!(store.prune_processed_events(secs(101)).await.unwrap(), 1);
        assert_eq!(
            claim(ids[0], secs(200), 5).await,
            Claim::Claimed(ClaimToken(5)),
            "forgotten after pruning"
        );
    }
}
