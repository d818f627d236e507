//! Follow-ups: asking a lesson's owner whether it was applied, and their answers. A
//! lesson with `follow_up_at` set has a question scheduled; asking clears it (a
//! compare-and-set, so two processes never ask twice) and records a `follow_ups` row
//! that the answer fills in.

use std::collections::HashSet;

use sqlx::FromRow;

use super::db;
use super::outbox::insert_many_keyed;
use super::{NewOutboxMessage, OutboxId, Store, StoreError, WorkspaceId};
use crate::domain::Timestamp;

/// A lesson as the follow-ups see it: what it says, where it came from, where it stands.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TrackedLesson {
    pub id: i64,
    pub workspace_id: i64,
    pub kind: String,
    pub text: String,
    pub owner: Option<String>,
    pub status: String,
    pub not_yet_count: i64,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub follow_up_at: Option<Timestamp>,
    pub debrief_title: String,
    pub channel: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub debrief_created_at: Timestamp,
}

/// Asking one person about their due lessons, in one message.
#[derive(Clone, Debug)]
pub struct Ask<'a> {
    pub workspace: WorkspaceId,
    pub person: &'a str,
    /// Each lesson and the `follow_up_at` that was read: a lesson is only asked if it is
    /// unchanged.
    pub lessons: Vec<(i64, Timestamp)>,
    /// The message; its dedupe key makes it one a day.
    pub message: NewOutboxMessage<'a>,
}

/// Where an answer leaves the lesson (worked out by the caller from the rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition<'a> {
    /// The lesson's `not_yet_count` the answer was given against.
    pub version: i64,
    pub answer: &'a str,
    pub status: &'a str,
    pub not_yet_count: i64,
    pub follow_up_at: Option<Timestamp>,
    pub settles: bool,
}

/// A lesson as asked in a day's message: its follow-up and how it was answered.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AskedLesson {
    pub follow_up: i64,
    /// `None` until answered.
    pub answer: Option<String>,
    #[sqlx(flatten)]
    pub lesson: TrackedLesson,
}

/// Where a lesson's debrief was held.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LessonOrigin {
    pub channel: String,
    pub card_outbox_id: Option<i64>,
    pub anonymous: bool,
}

/// An owner's lessons that cannot be reached any more.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Unreachable {
    pub workspace_id: i64,
    pub lesson_id: i64,
    pub person: String,
}

impl Store {
    /// Lessons whose question is due, in owner order (workspace, then owner; each
    /// owner's oldest first), `limit` at a time, leaving out those of owners who paused
    /// their prompts: theirs wait for the pause to end, then come as they would have.
    /// `after` is the last owner read: the next page starts with the owner after it, so
    /// a pass holds one page, never the whole day's questions.
    pub async fn due_follow_ups(
        &self,
        now: Timestamp,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<TrackedLesson>, StoreError> {
        let now = now.unix_seconds();
        let (after_workspace, after_owner) = after.unwrap_or((i64::MIN, ""));
        Ok(db::query_as(concat!(
            select_tracked_lessons!(),
            "WHERE l.follow_up_at IS NOT NULL AND l.follow_up_at <= ?1 AND l.owner IS NOT NULL \
               AND (l.workspace_id, l.owner) > (?2, ?3) \
               AND NOT EXISTS (SELECT 1 FROM people p \
                               WHERE p.workspace_id = l.workspace_id \
                                 AND p.platform_user_id = l.owner \
                                 AND p.paused_until > ?1) \
               AND NOT EXISTS (SELECT 1 FROM workspaces w \
                               WHERE w.id = l.workspace_id AND w.uninstalled_at IS NOT NULL) \
             ORDER BY l.workspace_id, l.owner, l.follow_up_at, l.id LIMIT ?4"
        ))
        .bind(now)
        .bind(after_workspace)
        .bind(after_owner)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// When the next question is due: a paused owner's when their pause ends.
    pub async fn next_follow_up_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: super::columns::OptionalSeconds = db::query_scalar(
            "SELECT MIN(CASE WHEN l.follow_up_at > COALESCE(p.paused_until, 0) THEN l.follow_up_at \
                        ELSE COALESCE(p.paused_until, 0) END) FROM lessons l \
             LEFT JOIN people p ON p.workspace_id = l.workspace_id \
                 AND p.platform_user_id = l.owner \
             WHERE l.follow_up_at IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM workspaces w \
                               WHERE w.id = l.workspace_id AND w.uninstalled_at IS NOT NULL)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next.into())
    }

    /// One lesson of the workspace, for an answer or the list.
    pub async fn tracked_lesson(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
    ) -> Result<TrackedLesson, StoreError> {
        Ok(db::query_as(concat!(
            select_tracked_lessons!(),
            "WHERE l.workspace_id = ? AND l.id = ?"
        ))
        .bind(workspace.0)
        .bind(lesson)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The person's lessons still waiting for an outcome, soonest question first.
    pub async fn open_follow_ups(
        &self,
        workspace: WorkspaceId,
        person: &str,
        limit: u32,
    ) -> Result<Vec<TrackedLesson>, StoreError> {
        Ok(db::query_as(concat!(
            select_tracked_lessons!(),
            "WHERE l.workspace_id = ? AND l.owner = ? AND l.status IN ('open', 'not_yet') \
             ORDER BY l.follow_up_at IS NOT NULL, l.follow_up_at, l.id LIMIT ?"
        ))
        .bind(workspace.0)
        .bind(person)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The person's lessons that went stale (four "not yet") and wait for them to say
    /// whether to keep asking, oldest first.
    pub async fn stale_follow_ups(
        &self,
        workspace: WorkspaceId,
        person: &str,
        limit: u32,
    ) -> Result<Vec<TrackedLesson>, StoreError> {
        Ok(db::query_as(concat!(
            select_tracked_lessons!(),
            "WHERE l.workspace_id = ? AND l.owner = ? AND l.status = 'stale' \
             ORDER BY l.settled_at, l.id LIMIT ?"
        ))
        .bind(workspace.0)
        .bind(person)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Asks, in one transaction: each person's message is queued once (its dedupe key
    /// taken means they already had today's, and nothing is asked), and each of its
    /// lessons still due as read has its question time cleared and the ask recorded
    /// against the message. How many lessons each ask asked.
    pub async fn record_asks(
        &self,
        asks: &[Ask<'_>],
        now: Timestamp,
        give_up_at: Timestamp,
    ) -> Result<Vec<usize>, StoreError> {
        let messages: Vec<_> = asks
            .iter()
            .map(|ask| (ask.message, now, give_up_at))
            .collect();
        let now = now.unix_seconds();
        // A statement per step for the whole batch (rows bound as JSON arrays): a
        // statement per lesson made 100,000 daily messages cost 300,000 round trips.
        let mut tx = self.begin().await?;
        let queued = insert_many_keyed(&mut tx.tx, &messages).await?;
        let outbox_of: Vec<Option<OutboxId>> = asks
            .iter()
            .map(|ask| {
                let key = ask.message.dedupe_key?;
                queued.get(&(ask.workspace.0, key.to_owned())).copied()
            })
            .collect();
        let moves: Vec<serde_json::Value> = asks
            .iter()
            .zip(&outbox_of)
            .filter(|(_, outbox)| outbox.is_some())
            .flat_map(|(ask, _)| {
                ask.lessons.iter().map(|(lesson, expected)| {
                    serde_json::json!([lesson, ask.workspace.0, expected.unix_seconds()])
                })
            })
            .collect();
        let moved: HashSet<i64> = if moves.is_empty() {
            HashSet::new()
        } else {
            db::query_scalar(over_json_rows!(
                ["UPDATE lessons SET follow_up_at = NULL FROM "],
                "?",
                [" WHERE lessons.id = CAST(j.value ->> 0 AS BIGINT) \
                   AND lessons.workspace_id = CAST(j.value ->> 1 AS BIGINT) \
                   AND lessons.follow_up_at = CAST(j.value ->> 2 AS BIGINT) \
                 RETURNING lessons.id"]
            ))
            .bind(serde_json::Value::Array(moves).to_string())
            .fetch_all(&mut tx.tx)
            .await?
            .into_iter()
            .collect()
        };
        let mut follow_ups = Vec::new();
        let mut unused = Vec::new();
        let mut asked = Vec::with_capacity(asks.len());
        for (ask, outbox) in asks.iter().zip(&outbox_of) {
            let Some(outbox) = outbox else {
                asked.push(0);
                continue;
            };
            let before = follow_ups.len();
            for (lesson, _) in ask.lessons.iter().filter(|(l, _)| moved.contains(l)) {
                follow_ups.push(serde_json::json!([
                    ask.workspace.0,
                    lesson,
                    ask.person,
                    outbox.0
                ]));
            }
            let moved_here = follow_ups.len() - before;
            if moved_here == 0 {
                // Another process asked them first: its message stands, not this one.
                unused.push(outbox.0);
            }
            asked.push(moved_here);
        }
        if !follow_ups.is_empty() {
            db::query(over_json_rows!(
                [
                    "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, outbox_id) \
                 SELECT CAST(j.value ->> 0 AS BIGINT), CAST(j.value ->> 1 AS BIGINT), \
                     j.value ->> 2, ?1, CAST(j.value ->> 3 AS BIGINT) FROM "
                ],
                "?2",
                [" WHERE true ORDER BY j.key"]
            ))
            .bind(now)
            .bind(serde_json::Value::Array(follow_ups).to_string())
            .execute(&mut tx.tx)
            .await?;
        }
        if !unused.is_empty() {
            db::query(over_json_rows!(
                ["DELETE FROM outbox WHERE id IN (SELECT CAST(j.value ->> 0 AS BIGINT) FROM "],
                "?",
                [")"]
            ))
            .bind(serde_json::json!(unused.iter().map(|id| [id]).collect::<Vec<_>>()).to_string())
            .execute(&mut tx.tx)
            .await?;
        }
        // Its commit wakes the workers of every replica.
        tx.queued |= asked.iter().any(|n| *n > 0);
        tx.commit().await?;
        Ok(asked)
    }

    /// The lessons asked in the same message as `lesson`'s latest question, with how
    /// each was answered (`None`: not yet), in the order asked.
    pub async fn asked_with(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
    ) -> Result<Vec<AskedLesson>, StoreError> {
        Ok(db::query_as(concat!(
            "SELECT f.id AS follow_up, f.answer, t.* FROM follow_ups f JOIN (",
            select_tracked_lessons!(),
            ") t ON t.id = f.lesson_id \
             WHERE f.workspace_id = ?1 AND f.outbox_id = (SELECT outbox_id FROM follow_ups \
                 WHERE workspace_id = ?1 AND lesson_id = ?2 AND outbox_id IS NOT NULL \
                 ORDER BY id DESC LIMIT 1) \
             ORDER BY f.id"
        ))
        .bind(workspace.0)
        .bind(lesson)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records an answer if the lesson is still where the person saw it (same
    /// `not_yet_count`, not settled); the id of the answered follow-up, or `None` when
    /// it had already moved on (a second click, another device).
    pub async fn record_answer(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
        person: &str,
        change: Transition<'_>,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        let moved = db::query(
            "UPDATE lessons SET status = ?, not_yet_count = ?, follow_up_at = ?, \
                 settled_at = CASE WHEN ? = 1 THEN ? ELSE NULL END \
             WHERE id = ? AND workspace_id = ? AND owner = ? AND not_yet_count = ? \
               AND status IN ('open', 'not_yet')",
        )
        .bind(change.status)
        .bind(change.not_yet_count)
        .bind(change.follow_up_at.map(Timestamp::unix_seconds))
        .bind(change.settles)
        .bind(now)
        .bind(lesson)
        .bind(workspace.0)
        .bind(person)
        .bind(change.version)
        .execute(&mut tx.tx)
        .await?
        .rows_affected()
            == 1;
        if !moved {
            return Ok(None);
        }
        // The question waiting for this answer; answering early from the list (before
        // any DM) records an ask at the same moment.
        let waiting: Option<i64> = db::query_scalar(
            "SELECT id FROM follow_ups WHERE lesson_id = ? AND workspace_id = ? AND answered_at IS NULL \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(lesson)
        .bind(workspace.0)
        .fetch_optional(&mut tx.tx)
        .await?;
        let id = match waiting {
            Some(id) => id,
            None => {
                db::query_scalar(
                    "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at) \
                     VALUES (?, ?, ?, ?) RETURNING id",
                )
                .bind(workspace.0)
                .bind(lesson)
                .bind(person)
                .bind(now)
                .fetch_one(&mut tx.tx)
                .await?
            }
        };
        db::query("UPDATE follow_ups SET answer = ?, answered_at = ? WHERE id = ?")
            .bind(change.answer)
            .bind(now)
            .bind(id)
            .execute(&mut tx.tx)
            .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The owner's answer to "still relevant?" on a lesson that went stale: kept, it is
    /// open again and asked about after `keep_for` seconds; retired, it is not relevant.
    /// `false` when it is not (or no longer) their stale lesson.
    pub async fn keep_or_retire(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
        person: &str,
        keep_for: Option<i64>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        // In a write transaction: the outcome counts this moves (out of one week, into
        // another) are rows other writers lock too, in their own order.
        let mut tx = self.begin().await?;
        let changed = db::query(
            "UPDATE lessons SET \
                 status = CASE WHEN ?1 IS NULL THEN 'not_relevant' ELSE 'open' END, \
                 not_yet_count = CASE WHEN ?1 IS NULL THEN not_yet_count ELSE 0 END, \
                 follow_up_at = CASE WHEN ?1 IS NULL THEN NULL ELSE ?2 + ?1 END, \
                 settled_at = CASE WHEN ?1 IS NULL THEN ?2 ELSE NULL END \
             WHERE workspace_id = ?3 AND id = ?4 AND owner = ?5 AND status = 'stale'",
        )
        .bind(keep_for)
        .bind(now)
        .bind(workspace.0)
        .bind(lesson)
        .bind(person)
        .execute(&mut tx.tx)
        .await?;
        tx.commit().await?;
        Ok(changed.rows_affected() == 1)
    }

    /// The message a follow-up was asked in.
    pub async fn asked_in(
        &self,
        workspace: WorkspaceId,
        follow_up: i64,
    ) -> Result<Option<super::OutboxId>, StoreError> {
        let id: Option<Option<i64>> =
            db::query_scalar("SELECT outbox_id FROM follow_ups WHERE workspace_id = ? AND id = ?")
                .bind(workspace.0)
                .bind(follow_up)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.flatten().map(super::OutboxId))
    }

    /// The person's lessons asked and not answered yet, in the order asked.
    pub async fn waiting_follow_ups(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<Vec<TrackedLesson>, StoreError> {
        Ok(db::query_as(concat!(
            select_tracked_lessons!(),
            "WHERE l.workspace_id = ?1 AND l.owner = ?2 AND l.status IN ('open', 'not_yet') \
               AND l.follow_up_at IS NULL \
               AND EXISTS (SELECT 1 FROM follow_ups f WHERE f.lesson_id = l.id \
                           AND f.workspace_id = ?1 AND f.answered_at IS NULL) \
             ORDER BY (SELECT MAX(f.id) FROM follow_ups f WHERE f.lesson_id = l.id), l.id \
             LIMIT 20"
        ))
        .bind(workspace.0)
        .bind(person)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Where a lesson's debrief was held: its channel, its card (whose thread the
    /// summary is in), and whether it was anonymous.
    pub async fn lesson_origin(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
    ) -> Result<Option<LessonOrigin>, StoreError> {
        Ok(db::query_as(
            "SELECT d.channel, d.card_outbox_id, d.anonymous != 0 AS anonymous \
             FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.workspace_id = ? AND l.id = ?",
        )
        .bind(workspace.0)
        .bind(lesson)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The lesson and answer of one of the person's follow-ups.
    pub async fn follow_up_answer(
        &self,
        workspace: WorkspaceId,
        follow_up: i64,
        person: &str,
    ) -> Result<Option<(i64, Option<String>)>, StoreError> {
        Ok(db::query_as(
            "SELECT lesson_id, answer FROM follow_ups \
             WHERE workspace_id = ? AND id = ? AND person = ?",
        )
        .bind(workspace.0)
        .bind(follow_up)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Adds (or replaces) the note on one of the person's answers; false if there is no
    /// such answer of theirs.
    pub async fn note_answer(
        &self,
        workspace: WorkspaceId,
        follow_up: i64,
        person: &str,
        note: &str,
    ) -> Result<bool, StoreError> {
        let result = db::query(
            "UPDATE follow_ups SET note = ? \
             WHERE id = ? AND workspace_id = ? AND person = ? AND answered_at IS NOT NULL",
        )
        .bind(note)
        .bind(follow_up)
        .bind(workspace.0)
        .bind(person)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Settles as unreachable every lesson whose question could not be delivered (the
    /// outbox gave up on it: the person left, or their DM failed for good), so it is
    /// reported instead of being asked forever.
    pub async fn settle_unreachable(&self, now: Timestamp) -> Result<Vec<Unreachable>, StoreError> {
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        let gone: Vec<Unreachable> = db::query_as(
            "UPDATE follow_ups SET answer = 'unreachable', answered_at = ? \
             WHERE answered_at IS NULL AND outbox_id IS NOT NULL \
               AND (SELECT o.status FROM outbox o WHERE o.id = follow_ups.outbox_id) = 'failed' \
             RETURNING workspace_id, lesson_id, person",
        )
        .bind(now)
        .fetch_all(&mut tx.tx)
        .await?;
        for lesson in &gone {
            db::query(
                "UPDATE lessons SET status = 'unreachable', settled_at = ?, follow_up_at = NULL \
                 WHERE id = ? AND workspace_id = ? AND status IN ('open', 'not_yet')",
            )
            .bind(now)
            .bind(lesson.lesson_id)
            .bind(lesson.workspace_id)
            .execute(&mut tx.tx)
            .await?;
        }
        tx.commit().await?;
        Ok(gone)
    }
}
