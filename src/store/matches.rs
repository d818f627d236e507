//! Lessons that say the same thing ("keeps coming back" in the digest). Finding close
//! matches takes full-text lookups, so it is done once per lesson, from a queue the
//! scheduler works off, and the digest only reads the stored pairs.

use sqlx::FromRow;

use super::{Audience, Store, StoreError, WorkspaceId};

/// A queued lesson whose close matches have not been looked for yet.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LessonToMatch {
    pub id: i64,
    pub workspace_id: i64,
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
    /// The oldest queued lessons of any workspace, grouped by workspace so lookups of
    /// how common a word is can be shared.
    pub async fn queued_lessons_to_match(
        &self,
        limit: u32,
    ) -> Result<Vec<LessonToMatch>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT l.id, l.workspace_id, l.text FROM \
             (SELECT lesson_id FROM lessons_to_match ORDER BY lesson_id LIMIT ?) q \
             JOIN lessons l ON l.id = q.lesson_id ORDER BY l.workspace_id, l.id",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The queued lessons of one workspace created in `[from, to)`: what a digest of that
    /// period must match before it can report recurrences.
    pub async fn queued_lessons_to_match_in(
        &self,
        workspace: WorkspaceId,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<LessonToMatch>, StoreError> {
        Ok(sqlx::query_as(
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

    /// Stores a lesson's close matches (both ways round) and takes it off the queue, in
    /// one transaction. Matching the same lesson twice (two replicas) changes nothing.
    pub async fn record_matches(&self, lesson: i64, matches: &[i64]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for &other in matches.iter().filter(|&&other| other != lesson) {
            for (a, b) in [(lesson, other), (other, lesson)] {
                sqlx::query(
                    "INSERT OR IGNORE INTO lesson_matches (lesson_id, match_id) VALUES (?, ?)",
                )
                .bind(a)
                .bind(b)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("DELETE FROM lessons_to_match WHERE lesson_id = ?")
            .bind(lesson)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The matches of the workspace's lessons created in `[from, to)`, both sides of
    /// each pair visible to `audience`.
    pub async fn matches_of_period(
        &self,
        workspace: WorkspaceId,
        from: i64,
        to: i64,
        audience: Audience<'_>,
    ) -> Result<Vec<LessonMatch>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT m.lesson_id, m.match_id, o.debrief_id AS match_debrief_id \
             FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             JOIN lesson_matches m ON m.lesson_id = l.id \
             JOIN lessons o ON o.id = m.match_id JOIN debriefs od ON od.id = o.debrief_id \
             WHERE l.workspace_id = ?1 AND l.created_at >= ?2 AND l.created_at < ?3 \
               AND l.kind = 'lesson' AND o.workspace_id = ?1 AND ",
            lesson_visible!("l", "d", "4"),
            " AND ",
            lesson_visible!("o", "od", "4"),
            " ORDER BY m.lesson_id, m.match_id"
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience.bound())
        .fetch_all(&self.pool)
        .await?)
    }
}
