//! "Since last time": the open action items of a channel's earlier debriefs, and what
//! their owners (or the facilitator of the debrief under way) said about them.

use sqlx::FromRow;

use super::db;
use super::{DebriefId, Store, StoreError, WorkspaceId};
use crate::domain::Timestamp;

/// An action item that is still open.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct OpenAction {
    pub id: i64,
    pub text: String,
    pub owner: Option<String>,
    pub debrief_title: String,
    /// The conversation of the debrief it came from.
    pub channel: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
}

/// What was said about an open action during a debrief.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionOutcome {
    Done,
    StillOpen,
    Dropped,
}

impl ActionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::StillOpen => "still_open",
            Self::Dropped => "dropped",
        }
    }
}

/// An outcome recorded during a debrief, for its summary.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SettledAction {
    pub text: String,
    pub owner: Option<String>,
    pub outcome: String,
}

impl Store {
    /// Up to `limit` open action items of the channel's closed debriefs, oldest first,
    /// leaving out those already answered for during `during` (the debrief under way).
    pub async fn open_actions_in(
        &self,
        workspace: WorkspaceId,
        channel: &str,
        during: Option<DebriefId>,
        limit: u32,
    ) -> Result<Vec<OpenAction>, StoreError> {
        Ok(db::query_as(
            "SELECT l.id, l.text, l.owner, d.title AS debrief_title, d.channel, l.created_at \
             FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.workspace_id = ?1 AND d.channel = ?2 AND d.closed_at IS NOT NULL \
               AND l.kind = 'action' AND l.status IN ('open', 'not_yet') \
               AND NOT EXISTS (SELECT 1 FROM since_last_time s \
                               WHERE s.debrief_id = ?3 AND s.lesson_id = l.id) \
             ORDER BY l.created_at, l.id LIMIT ?4",
        )
        .bind(workspace.0)
        .bind(channel)
        .bind(during.map(|d| d.0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The channels of the workspace with open action items of closed debriefs: a
    /// pass firing many retro reminders looks up the items of these channels only.
    pub async fn channels_with_open_actions(
        &self,
        workspace: WorkspaceId,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        Ok(db::query_scalar(
            "SELECT DISTINCT d.channel FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.workspace_id = ? AND d.closed_at IS NOT NULL \
               AND l.kind = 'action' AND l.status IN ('open', 'not_yet')",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect())
    }

    /// One open action item of the workspace, or `None` (settled, gone, not an action).
    pub async fn open_action(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
    ) -> Result<Option<OpenAction>, StoreError> {
        Ok(db::query_as(
            "SELECT l.id, l.text, l.owner, d.title AS debrief_title, d.channel, l.created_at \
             FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.workspace_id = ? AND l.id = ? AND l.kind = 'action' \
               AND l.status IN ('open', 'not_yet')",
        )
        .bind(workspace.0)
        .bind(lesson)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records what `person` said about an open action (during `during`, if a debrief
    /// is under way): done settles it as applied and dropped as not relevant, each with
    /// an answered follow-up, so the digest counts it; still open leaves it as it is.
    /// `false` when it was no longer open (a second click, another device).
    pub async fn settle_open_action(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
        outcome: ActionOutcome,
        person: &str,
        during: Option<DebriefId>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        let status = match outcome {
            ActionOutcome::Done => Some("applied"),
            ActionOutcome::Dropped => Some("not_relevant"),
            ActionOutcome::StillOpen => None,
        };
        let still_open: Option<i64> = db::query_scalar(
            "SELECT id FROM lessons WHERE workspace_id = ? AND id = ? AND kind = 'action' \
               AND status IN ('open', 'not_yet')",
        )
        .bind(workspace.0)
        .bind(lesson)
        .fetch_optional(&mut tx.tx)
        .await?;
        if still_open.is_none() {
            return Ok(false);
        }
        if let Some(status) = status {
            db::query(
                "UPDATE lessons SET status = ?, follow_up_at = NULL, settled_at = ? \
                 WHERE workspace_id = ? AND id = ?",
            )
            .bind(status)
            .bind(now)
            .bind(workspace.0)
            .bind(lesson)
            .execute(&mut tx.tx)
            .await?;
            db::query(
                "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answer, answered_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(workspace.0)
            .bind(lesson)
            .bind(person)
            .bind(now)
            .bind(status)
            .bind(now)
            .execute(&mut tx.tx)
            .await?;
        }
        if let Some(debrief) = during {
            db::query(
                "INSERT INTO since_last_time (workspace_id, debrief_id, lesson_id, outcome, person, at) \
                 VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (debrief_id, lesson_id) DO UPDATE SET \
                     outcome = excluded.outcome, person = excluded.person, at = excluded.at",
            )
            .bind(workspace.0)
            .bind(debrief.0)
            .bind(lesson)
            .bind(outcome.as_str())
            .bind(person)
            .bind(now)
            .execute(&mut tx.tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// What was said about earlier open actions during the debrief, in the order said.
    pub async fn settled_during(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<Vec<SettledAction>, StoreError> {
        Ok(db::query_as(
            "SELECT l.text, l.owner, s.outcome FROM since_last_time s \
             JOIN lessons l ON l.id = s.lesson_id \
             WHERE s.workspace_id = ? AND s.debrief_id = ? ORDER BY s.at, l.id",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .fetch_all(&self.pool)
        .await?)
    }
}
