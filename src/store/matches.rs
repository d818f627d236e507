//! Lessons that say the same thing ("keeps coming back" in the digest). Finding close
//! matches takes full-text lookups, so it is done once per lesson, from a queue the
//! scheduler works off, and the digest only reads the stored pairs.

use crate::domain::Timestamp;
use sqlx::FromRow;

use super::db;
use super::db::Conn;

use super::{Audience, Store, StoreError, WorkspaceId};

/// A queued lesson whose close matches have not been looked for yet.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LessonToMatch {
    pub id: i64,
    pub workspace_id: i64,
    pub text: String,
}

/// A lesson's text, to compare with another's.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LessonText {
    pub id: i64,
    pub text: String,
}

/// One stored match of a lesson, with the debrief the match came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct LessonMatch {
    pub lesson_id: i64,
    pub match_id: i64,
    pub match_debrief_id: i64,
}

impl Store {
    /// Whether any lesson waits to be matched.
    pub async fn lessons_wait_to_match(&self) -> Result<bool, StoreError> {
        Ok(
            db::query_scalar::<bool>("SELECT EXISTS (SELECT 1 FROM lessons_to_match)")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The workspaces with lessons waiting to be matched, the longest waiting first.
    pub async fn workspaces_to_match(&self) -> Result<Vec<WorkspaceId>, StoreError> {
        let ids: Vec<i64> = db::query_scalar(
            "SELECT workspace_id FROM lessons_to_match \
             GROUP BY workspace_id ORDER BY MIN(lesson_id)",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(WorkspaceId).collect())
    }

    /// One workspace's oldest queued lessons.
    pub async fn queued_lessons_of(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> Result<Vec<LessonToMatch>, StoreError> {
        Ok(db::query_as(
            "SELECT l.id, l.workspace_id, l.text FROM lessons_to_match q \
             JOIN lessons l ON l.id = q.lesson_id \
             WHERE q.workspace_id = ? ORDER BY q.lesson_id LIMIT ?",
        )
        .bind(workspace.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The workspace's lessons (not action items) with an id above `after`, the newest
    /// `limit` of them, newest first: what the matcher reads of a workspace.
    pub async fn lessons_since(
        &self,
        workspace: WorkspaceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LessonText>, StoreError> {
        Ok(db::query_as(
            "SELECT id, text FROM lessons \
             WHERE workspace_id = ? AND kind = 'lesson' AND id > ? \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(workspace.0)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores several lessons' close matches (both ways round) and takes them off the
    /// queue, in one transaction.
    pub async fn record_all_matches(&self, found: &[(i64, Vec<i64>)]) -> Result<(), StoreError> {
        if found.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (lesson, matches) in found {
            record(&mut tx.tx, *lesson, matches).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The queued lessons of one workspace created in `[from, to)`: what a digest of that
    /// period must match before it can report recurrences.
    pub async fn queued_lessons_to_match_in(
        &self,
        workspace: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<LessonToMatch>, StoreError> {
        let from = from.unix_seconds();
        let to = to.unix_seconds();
        Ok(db::query_as(
            "SELECT l.id, l.workspace_id, l.text FROM lessons_to_match q \
             JOIN lessons l ON l.id = q.lesson_id \
             WHERE q.workspace_id = ? AND q.created_at >= ? AND q.created_at < ? \
             ORDER BY l.id LIMIT ?",
        )
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The matches of the workspace's lessons created in `[from, to)`, both sides of
    /// each pair visible to `audience`.
    pub async fn matches_of_period(
        &self,
        workspace: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
        audience: Audience<'_>,
    ) -> Result<Vec<LessonMatch>, StoreError> {
        let from = from.unix_seconds();
        let to = to.unix_seconds();
        Ok(db::query_as(concat!(
            "SELECT m.lesson_id, m.match_id, o.debrief_id AS match_debrief_id \
             FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             JOIN lesson_matches m ON m.lesson_id = l.id \
             JOIN lessons o ON o.id = m.match_id JOIN debriefs od ON od.id = o.debrief_id \
             WHERE l.workspace_id = ?1 AND l.created_at >= ?2 AND l.created_at < ?3 \
               AND l.kind = 'lesson' AND o.workspace_id = ?1 AND ",
            lesson_visible!("l", "d", "4", "5"),
            " AND ",
            lesson_visible!("o", "od", "4", "5"),
            " ORDER BY m.lesson_id, m.match_id"
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience.bound())
        .bind(audience.sees_public())
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn record(conn: &mut Conn, lesson: i64, matches: &[i64]) -> Result<(), StoreError> {
    for &other in matches.iter().filter(|&&other| other != lesson) {
        for (a, b) in [(lesson, other), (other, lesson)] {
            // A lesson removed since it was read is simply not paired.
            db::query(
                "INSERT INTO lesson_matches (lesson_id, match_id) \
                 SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM lessons WHERE id = ?1) \
                   AND EXISTS (SELECT 1 FROM lessons WHERE id = ?2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(a)
            .bind(b)
            .execute(&mut *conn)
            .await?;
        }
    }
    db::query("DELETE FROM lessons_to_match WHERE lesson_id = ?")
        .bind(lesson)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
