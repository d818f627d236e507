//! The quarterly recap: which recaps each digest channel got, who agreed to be named
//! in them, and the two facts a weekly digest does not have (lessons that stopped
//! recurring, and the most active contributors).

use sqlx::FromRow;

use super::db;
use super::{Audience, ScheduleId, Store, StoreError, StoreTx, WorkspaceId};
use crate::domain::Timestamp;

/// A person who agreed to be named, with what they did in the quarter.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Contributor {
    pub person: String,
    /// Reflections in named debriefs the audience may see.
    pub reflections: i64,
    /// Their lessons they said they applied.
    pub applied: i64,
}

impl Store {
    /// Whether `schedule` got its recap of `quarter`.
    pub async fn recap_posted(
        &self,
        schedule: ScheduleId,
        quarter: &str,
    ) -> Result<bool, StoreError> {
        Ok(db::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM recaps WHERE schedule_id = ? AND quarter = ?)",
        )
        .bind(schedule.0)
        .bind(quarter)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Names `person` in recaps (`true`) or stops it; whether anything changed.
    pub async fn set_recap_credit(
        &self,
        workspace: WorkspaceId,
        person: &str,
        named: bool,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let query = if named {
            db::query(
                "INSERT INTO recap_credits (workspace_id, person, since) VALUES (?, ?, ?) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(workspace.0)
            .bind(person)
            .bind(now)
        } else {
            db::query("DELETE FROM recap_credits WHERE workspace_id = ? AND person = ?")
                .bind(workspace.0)
                .bind(person)
        };
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
    }

    /// The people who agreed to be named, most active in `[from, to)` first (as
    /// `audience` may see: anonymous debriefs hold no names to count), at most `limit`,
    /// and only those who did something.
    pub async fn recap_contributors(
        &self,
        workspace: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
        audience: Audience<'_>,
        limit: i64,
    ) -> Result<Vec<Contributor>, StoreError> {
        let from = from.unix_seconds();
        let to = to.unix_seconds();
        Ok(db::query_as(concat!(
            "SELECT person, reflections, applied FROM (SELECT c.person, \
                 (SELECT COUNT(*) FROM reflections r JOIN debriefs d ON d.id = r.debrief_id \
                  WHERE r.workspace_id = ?1 AND r.author = c.person \
                    AND r.created_at >= ?2 AND r.created_at < ?3 AND ",
            debrief_visible!("d", "4", "5"),
            ") AS reflections, \
                 (SELECT COUNT(*) FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
                  JOIN debriefs d ON d.id = l.debrief_id \
                  WHERE f.workspace_id = ?1 AND f.person = c.person AND f.answer = 'applied' \
                    AND d.anonymous = 0 AND f.answered_at >= ?2 AND f.answered_at < ?3 AND ",
            lesson_visible!("l", "d", "4", "5"),
            ") AS applied \
             FROM recap_credits c WHERE c.workspace_id = ?1) AS counted \
             WHERE reflections + applied > 0 \
             ORDER BY reflections + applied DESC, person LIMIT ?6"
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience.bound())
        .bind(audience.sees_public())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Lessons that kept coming back in `[before, from)` (matched in another debrief)
    /// and whose like was not said again in `[from, to)`, as `audience` may see them;
    /// one text per group of matches, oldest first.
    pub async fn stopped_recurring(
        &self,
        workspace: WorkspaceId,
        before: Timestamp,
        from: Timestamp,
        to: Timestamp,
        audience: Audience<'_>,
    ) -> Result<Vec<String>, StoreError> {
        let from = from.unix_seconds();
        let to = to.unix_seconds();
        let before = before.unix_seconds();
        let rows: Vec<(i64, String, String)> = db::query_as(concat!(
            "SELECT l.id, l.text, \
                 COALESCE((SELECT string_agg(CAST(m.match_id AS TEXT), ' ') FROM lesson_matches m \
                  WHERE m.lesson_id = l.id), '') AS matched \
             FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.workspace_id = ?1 AND l.kind = 'lesson' \
               AND l.created_at >= ?2 AND l.created_at < ?3 AND ",
            lesson_visible!("l", "d", "5", "6"),
            // It came back in another debrief the audience may see, before the quarter:
            // a recurrence in a private channel is not told where it cannot be read.
            " AND EXISTS (SELECT 1 FROM lesson_matches m JOIN lessons o ON o.id = m.match_id \
                 JOIN debriefs od ON od.id = o.debrief_id \
                 WHERE m.lesson_id = l.id AND o.debrief_id != l.debrief_id \
                   AND o.created_at < ?3 AND ",
            lesson_visible!("o", "od", "5", "6"),
            ") \
               AND NOT EXISTS (SELECT 1 FROM lesson_matches m JOIN lessons n ON n.id = m.match_id \
                 WHERE m.lesson_id = l.id AND n.created_at >= ?3 AND n.created_at < ?4) \
             ORDER BY l.created_at, l.id"
        ))
        .bind(workspace.0)
        .bind(before)
        .bind(from)
        .bind(to)
        .bind(audience.bound())
        .bind(audience.sees_public())
        .fetch_all(&self.pool)
        .await?;
        // A group's members match each other: its first lesson stands for it.
        let mut seen = std::collections::HashSet::new();
        let mut texts = Vec::new();
        for (id, text, matched) in rows {
            if seen.insert(id) {
                texts.push(text);
            }
            seen.extend(matched.split(' ').filter_map(|m| m.parse::<i64>().ok()));
        }
        Ok(texts)
    }
}

impl StoreTx {
    /// Claims `schedule`'s recap of `quarter`; false when it was posted already (by
    /// this process or another replica).
    pub async fn claim_recap(
        &mut self,
        schedule: ScheduleId,
        quarter: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        Ok(db::query(
            "INSERT INTO recaps (schedule_id, quarter, posted_at) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(schedule.0)
        .bind(quarter)
        .bind(now)
        .execute(&mut self.tx)
        .await?
        .rows_affected()
            == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::secs;
    use crate::store::test_support::{debrief_in, public_channel, temp_store, workspace};
    use crate::store::{LessonKind, NewLesson};

    /// A debrief in `channel` at `at` with one lesson; the lesson's id.
    async fn said(store: &Store, ws: WorkspaceId, channel: &str, at: i64, text: &str) -> i64 {
        let debrief = debrief_in(store, ws, channel, "Retro", false, at).await;
        let mut tx = store.begin().await.unwrap();
        let lesson = tx
            .insert_lesson(
                NewLesson {
                    workspace: ws,
                    debrief,
                    debrief_title: "Retro",
                    kind: LessonKind::Lesson,
                    text,
                    author: Some("U1"),
                    owner: Some("U1"),
                    tags: "",
                    shared: true,
                    follow_up_at: None,
                },
                secs(at),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        lesson
    }

    #[tokio::test]
    async fn a_recurrence_said_in_a_private_channel_is_not_told_in_public() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        public_channel(&store, ws, "C1").await;
        // Last quarter (100..200): a public lesson that came back only in private.
        let public = said(&store, ws, "C1", 110, "Page the database team early").await;
        let private = said(&store, ws, "G1", 120, "page the db team early").await;
        store
            .record_all_matches(&[(public, vec![private])])
            .await
            .unwrap();
        let stopped = |audience| {
            let store = store.clone();
            async move {
                store
                    .stopped_recurring(ws, secs(100), secs(200), secs(300), audience)
                    .await
                    .unwrap()
            }
        };
        let shown = stopped(Audience::In("C2")).await;
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(
            stopped(Audience::In("G1")).await,
            ["Page the database team early"],
            "the private channel itself knows"
        );
        // It came back in public too: now the public recap may tell it stopped.
        let again = said(&store, ws, "C1", 130, "page the database team early on").await;
        store
            .record_all_matches(&[(public, vec![again])])
            .await
            .unwrap();
        assert_eq!(
            stopped(Audience::In("C2")).await,
            ["Page the database team early"]
        );
        // And said again this quarter: it did not stop.
        let now = said(&store, ws, "C1", 250, "Page the database team early!").await;
        store
            .record_all_matches(&[(now, vec![public, again])])
            .await
            .unwrap();
        assert!(stopped(Audience::In("C2")).await.is_empty());
    }
}
