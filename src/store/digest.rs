//! What a digest reports about a period of one workspace, read in one snapshot, as its
//! audience may see it: lessons of public conversations and of the conversation the
//! digest is shown in, and shared goals.

use crate::domain::Timestamp;
use sqlx::FromRow;

use super::db;
use super::{Audience, LessonHit, Store, StoreError, WorkspaceId};

/// A follow-up answered in the period, with its lesson.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AnsweredFollowUp {
    pub answer: String,
    pub note: Option<String>,
    pub text: String,
    pub owner: Option<String>,
    pub tags: String,
    pub debrief_title: String,
}

/// A thank-you from a debrief closed in the period.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct KudosLine {
    pub text: String,
    /// `None` in anonymous debriefs.
    pub author: Option<String>,
    pub debrief_title: String,
}

/// A shared goal reached in the period.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ReachedGoal {
    pub person: String,
    pub text: String,
}

/// Everything a digest is made of, before it is ranked and rendered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DigestFacts {
    /// New shared lessons, grouped by debrief (ordered by debrief, then lesson).
    pub new_lessons: Vec<LessonHit>,
    pub answered: Vec<AnsweredFollowUp>,
    /// Lessons that became stale or unreachable in the period.
    pub settled_unanswered: Vec<LessonHit>,
    pub goals_reached: Vec<ReachedGoal>,
    pub kudos: Vec<KudosLine>,
    pub debriefs_held: i64,
    /// Distinct named people plus anonymous reflections (each counted once).
    pub people_reflected: i64,
    pub follow_ups_asked: i64,
    pub follow_ups_answered: i64,
    /// (answered, applied) follow-ups of each of the last [`TREND_WEEKS`] weeks, oldest
    /// first, the last ending where the period does.
    pub trend: Vec<(i64, i64)>,
}

/// Weeks the digest's trend line covers.
pub const TREND_WEEKS: i64 = 8;
const WEEK: i64 = 7 * 86_400;

impl Store {
    /// The facts of `[from, to)` for one workspace, as `audience` may see them.
    pub async fn digest_facts(
        &self,
        workspace: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
        audience: Audience<'_>,
    ) -> Result<DigestFacts, StoreError> {
        let from = from.unix_seconds();
        let to = to.unix_seconds();
        let (audience, sees_public) = (audience.bound(), audience.sees_public());
        // One read transaction: every number describes the same moment.
        let mut tx = self.pool.begin_read().await?;
        let new_lessons = db::query_as(concat!(
            "SELECT ",
            lesson_hit_columns!(),
            " FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.workspace_id = ?1 AND l.created_at >= ?2 AND l.created_at < ?3 \
               AND l.kind = 'lesson' AND ",
            lesson_visible!("l", "d", "4", "5"),
            " ORDER BY l.debrief_id, l.id"
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience)
        .bind(sees_public)
        .fetch_all(&mut tx)
        .await?;
        let answered = db::query_as(concat!(
            // An anonymous debrief's owner is named in its summary only by an @mention
            // made on purpose: the digest names nobody for it.
            "SELECT f.answer, f.note, l.text, \
                 CASE WHEN d.anonymous != 0 THEN NULL ELSE l.owner END AS owner, \
                 l.tags, d.title AS debrief_title \
             FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
             JOIN debriefs d ON d.id = l.debrief_id \
             WHERE f.workspace_id = ?1 AND f.answered_at >= ?2 AND f.answered_at < ?3 \
               AND f.answer IN ('applied', 'not_yet', 'not_relevant') AND ",
            lesson_visible!("l", "d", "4", "5"),
            " ORDER BY f.answered_at, f.id"
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience)
        .bind(sees_public)
        .fetch_all(&mut tx)
        .await?;
        let settled_unanswered = db::query_as(concat!(
            "SELECT ",
            lesson_hit_columns!(),
            " FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.workspace_id = ?1 AND l.settled_at >= ?2 AND l.settled_at < ?3 \
               AND l.status IN ('stale', 'unreachable') AND ",
            lesson_visible!("l", "d", "4", "5"),
            " ORDER BY l.settled_at, l.id"
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience)
        .bind(sees_public)
        .fetch_all(&mut tx)
        .await?;
        let kudos = db::query_as(concat!(
            "SELECT k.text, k.author, d.title AS debrief_title \
             FROM kudos k JOIN debriefs d ON d.id = k.debrief_id \
             WHERE k.workspace_id = ?1 AND k.created_at >= ?2 AND k.created_at < ?3 AND ",
            lesson_visible!("k", "d", "4", "5"),
            " ORDER BY k.id"
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience)
        .bind(sees_public)
        .fetch_all(&mut tx)
        .await?;
        // Shared goals are shared with the workspace: not with a conversation people of
        // other organisations read.
        let goals_reached = db::query_as(
            "SELECT person, text FROM goals \
             WHERE workspace_id = ?1 AND shared = 1 AND done_at >= ?2 AND done_at < ?3 \
               AND ?4 = 1 \
             ORDER BY done_at, id",
        )
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(sees_public)
        .fetch_all(&mut tx)
        .await?;
        let (debriefs_held, named, anonymous): (i64, i64, i64) = db::query_as(concat!(
            "SELECT (SELECT COUNT(*) FROM debriefs d \
                     WHERE d.workspace_id = ?1 AND d.created_at >= ?2 AND d.created_at < ?3 AND ",
            debrief_visible!("d", "4", "5"),
            "), COUNT(DISTINCT r.author), COALESCE(SUM(CASE WHEN r.author IS NULL THEN 1 ELSE 0 END), 0) \
             FROM debriefs d JOIN reflections r ON r.debrief_id = d.id \
             WHERE d.workspace_id = ?1 AND d.created_at >= ?2 AND d.created_at < ?3 AND ",
            debrief_visible!("d", "4", "5")
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience)
        .bind(sees_public)
        .fetch_one(&mut tx)
        .await?;
        let (follow_ups_asked, follow_ups_answered): (i64, i64) = db::query_as(concat!(
            "SELECT COUNT(*), \
                    COALESCE(SUM(CASE WHEN f.answer IN ('applied', 'not_yet', 'not_relevant') \
                        THEN 1 ELSE 0 END), 0) \
             FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
             JOIN debriefs d ON d.id = l.debrief_id \
             WHERE f.workspace_id = ?1 AND f.asked_at >= ?2 AND f.asked_at < ?3 AND ",
            lesson_visible!("l", "d", "4", "5")
        ))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .bind(audience)
        .bind(sees_public)
        .fetch_one(&mut tx)
        .await?;
        // The applied rate of answered follow-ups, week by week, for the trend line.
        let trend_start = to - TREND_WEEKS * WEEK;
        let by_week: Vec<(i64, i64, i64)> = db::query_as(concat!(
            "SELECT (f.answered_at - ?2) / ?6 AS week, COUNT(*), \
                    COALESCE(SUM(CASE WHEN f.answer = 'applied' THEN 1 ELSE 0 END), 0) \
             FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
             JOIN debriefs d ON d.id = l.debrief_id \
             WHERE f.workspace_id = ?1 AND f.answered_at >= ?2 AND f.answered_at < ?3 \
               AND f.answer IN ('applied', 'not_yet', 'not_relevant') AND ",
            lesson_visible!("l", "d", "4", "5"),
            " GROUP BY week"
        ))
        .bind(workspace.0)
        .bind(trend_start)
        .bind(to)
        .bind(audience)
        .bind(sees_public)
        .bind(WEEK)
        .fetch_all(&mut tx)
        .await?;
        let mut trend = vec![(0, 0); TREND_WEEKS as usize];
        for (week, answered, applied) in by_week {
            if let Some(slot) = usize::try_from(week).ok().and_then(|w| trend.get_mut(w)) {
                *slot = (answered, applied);
            }
        }
        tx.commit().await?;
        Ok(DigestFacts {
            trend,
            new_lessons,
            answered,
            settled_unanswered,
            goals_reached,
            kudos,
            debriefs_held,
            people_reflected: named + anonymous,
            follow_ups_asked,
            follow_ups_answered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::secs;
    use crate::store::test_support::{debrief, lesson, public_channel, temp_store, workspace};

    #[tokio::test]
    async fn every_figure_of_a_digest_counts_only_what_its_audience_may_see() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let id = debrief(&store, ws, "Release").await;
        lesson(&store, ws, id, "Release", "Feature flags help").await;
        for (asked, answer) in [(10, Some("applied")), (11, None)] {
            db::query(
                "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answer, answered_at) \
                 SELECT ?1, id, 'U1', ?2, ?3, ?2 FROM lessons",
            )
            .bind(ws.0)
            .bind(asked)
            .bind(answer)
            .execute(&store.pool)
            .await
            .unwrap();
        }
        db::query(
            "INSERT INTO goals (workspace_id, person, number, text, shared, created_at, done_at) \
             VALUES (?, 'U1', 1, 'Learn Rust', 1, 1, 50)",
        )
        .bind(ws.0)
        .execute(&store.pool)
        .await
        .unwrap();
        let facts = |audience| {
            let store = store.clone();
            async move {
                store
                    .digest_facts(ws, secs(0), secs(100), audience)
                    .await
                    .unwrap()
            }
        };
        let figures = |f: &DigestFacts| {
            (
                f.new_lessons.len(),
                f.answered.len(),
                f.debriefs_held,
                f.follow_ups_asked,
                f.follow_ups_answered,
                f.goals_reached.len(),
            )
        };

        // C1 was never looked up: private, so only C1 itself sees any of it.
        assert_eq!(
            figures(&facts(Audience::In("C1")).await),
            (1, 1, 1, 2, 1, 1)
        );
        assert_eq!(
            figures(&facts(Audience::In("C2")).await),
            (0, 0, 0, 0, 0, 1),
            "shared goals are the workspace's"
        );

        public_channel(&store, ws, "C1").await;
        assert_eq!(
            figures(&facts(Audience::In("C2")).await),
            (1, 1, 1, 2, 1, 1)
        );
        assert_eq!(
            figures(&facts(Audience::Only("C2")).await),
            (0, 0, 0, 0, 0, 0),
            "a channel outsiders read sees nothing of the workspace's public lessons or goals"
        );
        assert_eq!(
            figures(&facts(Audience::Only("C1")).await),
            (1, 1, 1, 2, 1, 0)
        );
    }
}
