//! Guided DM conversations in progress, one per person, so a restart continues them.

use sqlx::FromRow;

use super::{DebriefId, Store, StoreError, StoreTx, WorkspaceId};

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
}

impl Store {
    /// The person's conversation in progress, if any.
    pub async fn conversation(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT person, debrief_id, choices, step, answers, nudged != 0 AS nudged \
             FROM conversations WHERE workspace_id = ? AND person = ?",
        )
        .bind(workspace.0)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Starts or replaces the person's conversation.
    pub async fn save_conversation(
        &self,
        workspace: WorkspaceId,
        conversation: &Conversation,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversations \
                 (workspace_id, person, debrief_id, choices, step, answers, nudged, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, person) DO UPDATE SET \
                 debrief_id = excluded.debrief_id, choices = excluded.choices, \
                 step = excluded.step, answers = excluded.answers, nudged = excluded.nudged, \
                 updated_at = excluded.updated_at",
        )
        .bind(workspace.0)
        .bind(&conversation.person)
        .bind(conversation.debrief_id)
        .bind(&conversation.choices)
        .bind(conversation.step)
        .bind(&conversation.answers)
        .bind(conversation.nudged)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends the person's conversation (finished or cancelled).
    pub async fn end_conversation(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM conversations WHERE workspace_id = ? AND person = ?")
            .bind(workspace.0)
            .bind(person)
            .execute(&self.pool)
            .await?;
        Ok(())
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
        sqlx::query(
            "DELETE FROM conversations WHERE workspace_id = ?1 AND person = ?2 \
             AND (?3 IS NULL OR debrief_id = ?3)",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(about.map(|d| d.0))
        .execute(&mut *self.tx)
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
        sqlx::query("DELETE FROM conversations WHERE workspace_id = ? AND debrief_id = ?")
            .bind(workspace.0)
            .bind(debrief.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{temp_store, workspace};

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
        };
        store.save_conversation(ws, &conversation, 1).await.unwrap();
        conversation.step = 2;
        conversation.nudged = true;
        store.save_conversation(ws, &conversation, 2).await.unwrap();
        assert_eq!(
            store.conversation(ws, "U1").await.unwrap(),
            Some(conversation)
        );
        assert_eq!(store.conversation(ws, "U2").await.unwrap(), None);
        store.end_conversation(ws, "U1").await.unwrap();
        assert_eq!(store.conversation(ws, "U1").await.unwrap(), None);
    }
}
