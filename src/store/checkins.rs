//! Personal check-ins: started by a person's check-in schedule, answered as a DM
//! conversation whose progress is kept here, closed as done, cancelled or missed.

use sqlx::FromRow;

use super::db;
use super::db::Conn;

use super::{Store, StoreError, WorkspaceId};
use crate::domain::Timestamp;

/// A check-in to start when its occurrence fires.
#[derive(Clone, Copy, Debug)]
pub struct NewCheckin<'a> {
    pub workspace: WorkspaceId,
    pub person: &'a str,
    /// JSON array of the questions, frozen now.
    pub questions: &'a str,
}

/// A stored check-in.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Checkin {
    pub id: i64,
    pub person: String,
    pub questions: String,
    pub step: i64,
    pub answers: String,
    pub nudged: bool,
    pub status: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    /// Bumped by every step; a step is written only over the version it was read at.
    pub version: i64,
    /// The inbound event that made the last step.
    pub last_event: Option<String>,
}

/// A check-in the person finished: what they were asked and what they answered.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct PastCheckin {
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    /// JSON array of the questions it asked.
    pub questions: String,
    /// JSON object of the answers, by question id.
    pub answers: String,
}

/// How a check-in ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckinEnd {
    Done,
    Cancelled,
}

/// Starts a check-in in the firing transaction; an earlier one still open is closed as
/// missed first (one open check-in per person).
pub(super) async fn start(
    conn: &mut Conn,
    new: NewCheckin<'_>,
    schedule: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let now = now.unix_seconds();
    db::query(
        "UPDATE checkins SET status = 'missed', closed_at = ? \
         WHERE workspace_id = ? AND person = ? AND status = 'open'",
    )
    .bind(now)
    .bind(new.workspace.0)
    .bind(new.person)
    .execute(&mut *conn)
    .await?;
    db::query(
        "INSERT INTO checkins (workspace_id, person, schedule_id, questions, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(new.workspace.0)
    .bind(new.person)
    .bind(schedule)
    .bind(new.questions)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// The person's check-in waiting for answers, if any.
    pub async fn open_checkin(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<Option<Checkin>, StoreError> {
        Ok(db::query_as(
            "SELECT id, person, questions, step, answers, nudged != 0 AS nudged, status, \
                 created_at, version, last_event \
             FROM checkins WHERE workspace_id = ? AND person = ? AND status = 'open'",
        )
        .bind(workspace.0)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Saves where the person is in an open check-in, over the version it was read at
    /// (`checkin.version`); `false` when another delivery moved it first.
    pub async fn save_checkin_progress(
        &self,
        workspace: WorkspaceId,
        checkin: &Checkin,
    ) -> Result<bool, StoreError> {
        let saved = db::query(
            "UPDATE checkins SET step = ?, answers = ?, nudged = ?, last_event = ?, \
                 version = version + 1 \
             WHERE id = ? AND workspace_id = ? AND status = 'open' AND version = ?",
        )
        .bind(checkin.step)
        .bind(&checkin.answers)
        .bind(checkin.nudged)
        .bind(&checkin.last_event)
        .bind(checkin.id)
        .bind(workspace.0)
        .bind(checkin.version)
        .execute(&self.pool)
        .await?;
        Ok(saved.rows_affected() == 1)
    }

    /// Closes an open check-in with its final answers; false if it was no longer open
    /// (closed as missed in the meantime).
    pub async fn end_checkin(
        &self,
        workspace: WorkspaceId,
        id: i64,
        answers: &str,
        end: CheckinEnd,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let status = match end {
            CheckinEnd::Done => "done",
            CheckinEnd::Cancelled => "cancelled",
        };
        let result = db::query(
            "UPDATE checkins SET status = ?, answers = ?, closed_at = ? \
             WHERE id = ? AND workspace_id = ? AND status = 'open'",
        )
        .bind(status)
        .bind(answers)
        .bind(now)
        .bind(id)
        .bind(workspace.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The person's finished check-ins opened since `since`, newest first, at most `limit`.
    pub async fn past_checkins(
        &self,
        workspace: WorkspaceId,
        person: &str,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<PastCheckin>, StoreError> {
        let since = since.unix_seconds();
        Ok(db::query_as(
            "SELECT created_at, questions, answers FROM checkins \
             WHERE workspace_id = ? AND person = ? AND status = 'done' AND created_at >= ? \
             ORDER BY created_at DESC LIMIT ?",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether the person had a check-in opened in `[from, to)`, answered or not.
    pub async fn had_checkin_between(
        &self,
        workspace: WorkspaceId,
        person: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<bool, StoreError> {
        let from = from.unix_seconds();
        let to = to.unix_seconds();
        Ok(db::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM checkins \
             WHERE workspace_id = ? AND person = ? AND created_at >= ? AND created_at < ?)",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Closes as missed every check-in opened at or before `opened_by` and never
    /// finished; how many.
    pub async fn miss_checkins(
        &self,
        opened_by: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let opened_by = opened_by.unix_seconds();
        let now = now.unix_seconds();
        // Under the write lock: a sweep of many people's check-ins side by side with a
        // replica firing new ones (which locks them person by person) could deadlock.
        let mut tx = self.pool.begin_write().await?;
        let missed = db::query(
            "UPDATE checkins SET status = 'missed', closed_at = ? \
             WHERE status = 'open' AND created_at <= ?",
        )
        .bind(now)
        .bind(opened_by)
        .execute(&mut tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(missed)
    }

    /// When the oldest open check-in was opened.
    pub async fn oldest_open_checkin(&self) -> Result<Option<Timestamp>, StoreError> {
        let oldest: super::columns::OptionalSeconds =
            db::query_scalar("SELECT MIN(created_at) FROM checkins WHERE status = 'open'")
                .fetch_one(&self.pool)
                .await?;
        Ok(oldest.into())
    }
}
