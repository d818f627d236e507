//! Each workspace's send rate as one row, so that every delivery worker of every
//! process shares it. The store keeps the state; what a bucket allows is decided by
//! the caller (`delivery::rate`), inside the write transaction that saves the result.

use crate::domain::Timestamp;
use sqlx::FromRow;

use super::db;
use super::{Store, StoreError, WorkspaceId};

/// A workspace's bucket: thousandths of a message, when it was last refilled, and
/// until when nothing is sent at all (unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct SendRate {
    pub millitokens: i64,
    #[sqlx(try_from = "super::columns::Millis")]
    pub refilled_at: Timestamp,
    #[sqlx(try_from = "super::columns::Millis")]
    pub held_until: Timestamp,
}

#[derive(FromRow)]
struct StoredRate {
    workspace_id: i64,
    #[sqlx(flatten)]
    rate: SendRate,
}

impl Store {
    /// Reads the buckets of `workspaces` (`None`: never used), lets `decide` replace
    /// each, and saves them, in one write transaction: two workers never spend the
    /// same tokens. Returns what `decide` returned besides each new bucket.
    pub async fn update_send_rates<T>(
        &self,
        workspaces: &[WorkspaceId],
        mut decide: impl FnMut(WorkspaceId, Option<SendRate>) -> (SendRate, T),
    ) -> Result<Vec<(WorkspaceId, T)>, StoreError> {
        if workspaces.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::json!(workspaces.iter().map(|w| [w.0]).collect::<Vec<_>>());
        // Every worker of every replica comes here each round: a lock per workspace,
        // not the store's one write lock, keeps them from queueing behind each other.
        let mut tx = self.pool.begin_concurrent().await?;
        let keys: Vec<i64> = workspaces.iter().map(|w| w.0).collect();
        tx.lock_keys(db::LockSpace::SendRate, &keys).await?;
        let stored: Vec<StoredRate> = db::query_as(over_json_rows!(
            ["SELECT r.workspace_id, r.millitokens, r.refilled_at, r.held_until FROM "],
            "?",
            [" JOIN send_rates r ON r.workspace_id = CAST(j.value ->> 0 AS BIGINT)"]
        ))
        .bind(ids.to_string())
        .fetch_all(&mut tx)
        .await?;
        let mut decided = Vec::with_capacity(workspaces.len());
        let mut rows = Vec::with_capacity(workspaces.len());
        for &workspace in workspaces {
            let before = stored
                .iter()
                .find(|s| s.workspace_id == workspace.0)
                .map(|s| s.rate);
            let (after, answer) = decide(workspace, before);
            rows.push(serde_json::json!([
                workspace.0,
                after.millitokens,
                after.refilled_at.millis(),
                after.held_until.millis()
            ]));
            decided.push((workspace, answer));
        }
        db::query(over_json_rows!(
            [
                "INSERT INTO send_rates (workspace_id, millitokens, refilled_at, held_until) \
              SELECT CAST(j.value ->> 0 AS BIGINT), CAST(j.value ->> 1 AS BIGINT), \
                     CAST(j.value ->> 2 AS BIGINT), CAST(j.value ->> 3 AS BIGINT) FROM "
            ],
            "?",
            [" WHERE true ON CONFLICT (workspace_id) DO UPDATE SET \
                 millitokens = excluded.millitokens, refilled_at = excluded.refilled_at, \
                 held_until = excluded.held_until"]
        ))
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(decided)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::ms;
    use crate::store::test_support::{temp_store, workspace};

    #[tokio::test]
    async fn buckets_are_read_replaced_and_kept_per_workspace() {
        let (store, _db) = temp_store().await;
        let (a, b) = (workspace(&store, "T1").await, workspace(&store, "T2").await);
        let full = SendRate {
            millitokens: 3000,
            refilled_at: ms(10),
            held_until: ms(0),
        };
        let seen = store
            .update_send_rates(&[a, b], |_, before| (full, before))
            .await
            .unwrap();
        assert_eq!(seen, vec![(a, None), (b, None)], "never used yet");
        let spent = SendRate {
            millitokens: 1000,
            ..full
        };
        store
            .update_send_rates(&[a], |_, _| (spent, ()))
            .await
            .unwrap();
        let seen = store
            .update_send_rates(&[a, b], |_, before| (before.unwrap(), before))
            .await
            .unwrap();
        assert_eq!(seen, vec![(a, Some(spent)), (b, Some(full))]);
    }

    /// Two replicas (two pools on one database) spending one bucket at once never
    /// spend the same token: 100 spenders, 40 tokens, exactly 40 granted.
    #[tokio::test]
    async fn spenders_on_two_pools_never_spend_the_same_token() {
        let (first, database) = temp_store().await;
        let second = Store::connect(&database.settings(4)).await.unwrap();
        let ws = workspace(&first, "T1").await;
        let tokens = SendRate {
            millitokens: 40_000,
            refilled_at: ms(0),
            held_until: ms(0),
        };
        first
            .update_send_rates(&[ws], |_, _| (tokens, ()))
            .await
            .unwrap();
        let mut spenders = tokio::task::JoinSet::new();
        for spender in 0..100 {
            let store = if spender % 2 == 0 { &first } else { &second }.clone();
            spenders.spawn(async move {
                let granted = store
                    .update_send_rates(&[ws], |_, before| {
                        let before = before.expect("the bucket exists");
                        if before.millitokens >= 1000 {
                            let after = SendRate {
                                millitokens: before.millitokens - 1000,
                                ..before
                            };
                            (after, true)
                        } else {
                            (before, false)
                        }
                    })
                    .await
                    .unwrap();
                granted[0].1
            });
        }
        let mut granted = 0;
        while let Some(spent) = spenders.join_next().await {
            granted += usize::from(spent.unwrap());
        }
        assert_eq!(granted, 40, "each token is spent once");
    }
}
