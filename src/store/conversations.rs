//! Guided DM conversations in progress, one per person, so a restart continues them.

use sqlx::FromRow;

use super::db;
use super::{DebriefId, Store, StoreError, StoreTx, WorkspaceId};
use crate::domain::Timestamp;

/// Where a person's conversation stands.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Conversation {
    pub person: String,
    /// `None` while they choose between several open debriefs.
    pub debrief_id: Option<i64>,
    /// JSON array of the debrief ids offered when choosing.
    pub choices: String,
    pub step: i64,
    /// JSON object: question id -> answer so far.
    pub answers: String,
    /// "Can you say a bit more?" was already asked for this step.
    pub nudged: bool,
    /// Bumped by every step; a step is written only over the version it was read at.
    pub version: i64,
    /// The inbound event that made the last step.
    pub last_event: Option<String>,
}

impl Store {
    /// The person's conversation in progress, if any.
    pub async fn conversation(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        Ok(db::query_as(
            "SELECT person, debrief_id, choices, step, answers, nudged != 0 AS nudged, version, \
                 last_event \
             FROM conversations WHERE workspace_id = ? AND person = ?",
        )
        .bind(workspace.0)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Starts or replaces the person's conversation. A new row starts at a random
    /// version: a step read from an ended conversation must not match a new one that
    /// happens to count from the same number.
    pub async fn save_conversation(
        &self,
        workspace: WorkspaceId,
        conversation: &Conversation,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO conversations \
                 (workspace_id, person, debrief_id, choices, step, answers, nudged, updated_at, \
                  last_event, version) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, person) DO UPDATE SET \
                 debrief_id = excluded.debrief_id, choices = excluded.choices, \
                 step = excluded.step, answers = excluded.answers, nudged = excluded.nudged, \
                 updated_at = excluded.updated_at, last_event = excluded.last_event, \
                 version = conversations.version + 1",
        )
        .bind(workspace.0)
        .bind(&conversation.person)
        .bind(conversation.debrief_id)
        .bind(&conversation.choices)
        .bind(conversation.step)
        .bind(&conversation.answers)
        .bind(conversation.nudged)
        .bind(now)
        .bind(&conversation.last_event)
        .bind(fastrand::i64(0..1 << 40))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Saves one step of a conversation over the version it was read at
    /// (`conversation.version`) and about the same debrief; `false` when another
    /// delivery moved it first, or it ended.
    pub async fn advance_conversation(
        &self,
        workspace: WorkspaceId,
        conversation: &Conversation,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let saved = db::query(
            "UPDATE conversations SET step = ?, answers = ?, nudged = ?, updated_at = ?, \
                 last_event = ?, version = version + 1 \
             WHERE workspace_id = ? AND person = ? AND version = ? \
               AND debrief_id IS NOT DISTINCT FROM ?",
        )
        .bind(conversation.step)
        .bind(&conversation.answers)
        .bind(conversation.nudged)
        .bind(now)
        .bind(&conversation.last_event)
        .bind(workspace.0)
        .bind(&conversation.person)
        .bind(conversation.version)
        .bind(conversation.debrief_id)
        .execute(&self.pool)
        .await?;
        Ok(saved.rows_affected() == 1)
    }

    /// Ends the person's conversation (finished or cancelled) as it was read: `false`
    /// when another delivery moved it, or a new one replaced it, meanwhile (left as is).
    pub async fn end_conversation(
        &self,
        workspace: WorkspaceId,
        conversation: &Conversation,
    ) -> Result<bool, StoreError> {
        let ended = db::query(
            "DELETE FROM conversations WHERE workspace_id = ? AND person = ? AND version = ?",
        )
        .bind(workspace.0)
        .bind(&conversation.person)
        .bind(conversation.version)
        .execute(&self.pool)
        .await?;
        Ok(ended.rows_affected() == 1)
    }
}

impl StoreTx {
    /// Ends the person's conversation as part of the transaction that saves its
    /// answers; with `about`, only a conversation about that debrief (a form submitted
    /// for it supersedes the DM, but not a DM about another debrief).
    pub async fn end_conversation(
        &mut self,
        workspace: WorkspaceId,
        person: &str,
        about: Option<DebriefId>,
    ) -> Result<(), StoreError> {
        db::query(
            "DELETE FROM conversations WHERE workspace_id = ?1 AND person = ?2 \
             AND (?3 IS NULL OR debrief_id = ?3)",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(about.map(|d| d.0))
        .execute(&mut self.tx)
        .await?;
        Ok(())
    }

    /// Ends every conversation about a debrief that is closing: their half-given
    /// answers (and, in an anonymous debrief, who gave them) are not kept.
    pub async fn end_conversations_about(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<(), StoreError> {
        db::query("DELETE FROM conversations WHERE workspace_id = ? AND debrief_id = ?")
            .bind(workspace.0)
            .bind(debrief.0)
            .execute(&mut self.tx)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::secs;
    use crate::store::test_support::{self, temp_store, workspace};

    #[tokio::test]
    async fn a_conversation_is_saved_replaced_and_ended_per_person() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        assert_eq!(store.conversation(ws, "U1").await.unwrap(), None);
        let mut conversation = Conversation {
            person: "U1".into(),
            debrief_id: None,
            choices: "[1,2]".into(),
            step: 0,
            answers: "{}".into(),
            nudged: false,
            version: 0,
            last_event: None,
        };
        store
            .save_conversation(ws, &conversation, secs(1))
            .await
            .unwrap();
        let first = store.conversation(ws, "U1").await.unwrap().unwrap().version;
        conversation.step = 2;
        conversation.nudged = true;
        conversation.last_event = Some("Ev1".into());
        store
            .save_conversation(ws, &conversation, secs(2))
            .await
            .unwrap();
        conversation.version = first + 1;
        assert_eq!(
            store.conversation(ws, "U1").await.unwrap(),
            Some(conversation.clone())
        );
        // Two deliveries read the same version; only the first step is written.
        conversation.step = 3;
        assert!(
            store
                .advance_conversation(ws, &conversation, secs(3))
                .await
                .unwrap()
        );
        conversation.step = 9;
        assert!(
            !store
                .advance_conversation(ws, &conversation, secs(3))
                .await
                .unwrap()
        );
        let stored = store.conversation(ws, "U1").await.unwrap().unwrap();
        assert_eq!((stored.step, stored.version), (3, first + 2));
        assert_eq!(store.conversation(ws, "U2").await.unwrap(), None);
        let stale = Conversation {
            version: first,
            ..stored.clone()
        };
        assert!(
            !store.end_conversation(ws, &stale).await.unwrap(),
            "a delivery that read an older step does not end it"
        );
        assert!(store.end_conversation(ws, &stored).await.unwrap());
        assert_eq!(store.conversation(ws, "U1").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_step_read_from_an_ended_conversation_never_lands_in_the_next_one() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let one = test_support::debrief(&store, ws, "One").await.0;
        let two = test_support::debrief(&store, ws, "Two").await.0;
        let about = |debrief| Conversation {
            person: "U1".into(),
            debrief_id: Some(debrief),
            choices: "[]".into(),
            step: 0,
            answers: "{}".into(),
            nudged: false,
            version: 0,
            last_event: None,
        };
        store
            .save_conversation(ws, &about(one), secs(1))
            .await
            .unwrap();
        let versions: Vec<i64> = {
            let read = store.conversation(ws, "U1").await.unwrap().unwrap();
            assert!(store.end_conversation(ws, &read).await.unwrap());
            store
                .save_conversation(ws, &about(two), secs(2))
                .await
                .unwrap();
            let next = store.conversation(ws, "U1").await.unwrap().unwrap();
            vec![read.version, next.version]
        };
        assert_ne!(
            versions[0], versions[1],
            "each conversation starts at its own random version"
        );
        // Even if the numbers met, a step about one debrief does not move another's.
        db::query("UPDATE conversations SET version = ?")
            .bind(versions[0])
            .execute(&store.pool)
            .await
            .unwrap();
        let stale = Conversation {
            step: 1,
            version: versions[0],
            ..about(one)
        };
        assert!(
            !store
                .advance_conversation(ws, &stale, secs(3))
                .await
                .unwrap()
        );
        let stored = store.conversation(ws, "U1").await.unwrap().unwrap();
        assert_eq!((stored.debrief_id, stored.step), (Some(two), 0));
    }
}
