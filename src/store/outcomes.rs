//! The figures of the dashboard's outcomes page, read from the weekly counts the
//! database keeps (`outcome_weeks`, `outcome_tag_weeks`: see their migration). Each
//! count is kept per conversation and lesson visibility, so a viewer's figures are the
//! sum of the counts they may see, a few hundred rows however many lessons there are.

use std::ops::RangeInclusive;

use sqlx::FromRow;

use super::library::Viewer;
use super::{Store, StoreError, db};
use crate::domain::Timestamp;

const WEEK_SECS: i64 = 7 * 86_400;
/// 1970-01-05, the first Monday of Unix time: weeks start on Monday 00:00 UTC.
const FIRST_MONDAY_SECS: i64 = 4 * 86_400;

/// The week (as the counts number them) that `at` falls in.
pub fn week_of(at: Timestamp) -> i64 {
    (at.unix_seconds() - FIRST_MONDAY_SECS).div_euclid(WEEK_SECS)
}

/// When `week` starts: its Monday, 00:00 UTC.
pub fn week_start(week: i64) -> Timestamp {
    Timestamp::from_unix_seconds(FIRST_MONDAY_SECS + week * WEEK_SECS)
}

/// Holds when the counts of row `o` are the viewer's to see, as [`super::library`]
/// decides for each lesson: its conversation is one the viewer is in, or it is public
/// and the lessons counted are shared. Binds the session, `sees_public` and the
/// workspace (so each list is made once per query, not once per row).
const COUNTS_VISIBLE: &str = "(o.channel IN (SELECT m.conversation FROM web_session_channels m \
         WHERE m.token_hash = ?) \
     OR (? = 1 AND o.shared = 1 AND o.channel IN (SELECT s.conversation \
         FROM conversation_scopes s WHERE s.workspace_id = ? AND s.public = 1)))";

/// One week's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct OutcomeWeek {
    /// The week, as [`week_of`] numbers it.
    pub week: i64,
    /// Lessons whose outcome became known (applied, not relevant, stale), and how many
    /// of them were applied.
    pub settled: i64,
    pub applied: i64,
    /// Follow-up questions asked, and how many of them were answered.
    pub asked: i64,
    pub answered: i64,
}

/// One tag's settled lessons, and how many were applied.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TagOutcome {
    pub tag: String,
    pub settled: i64,
    pub applied: i64,
}

/// Binds what the reads below take: the workspace, the weeks, then what
/// [`COUNTS_VISIBLE`] takes.
fn bind_counts<'q, O: db::Row>(
    query: db::QueryAs<'q, O>,
    viewer: Viewer<'q>,
    weeks: &RangeInclusive<i64>,
) -> db::QueryAs<'q, O> {
    let query = query
        .bind(viewer.workspace.0)
        .bind(*weeks.start())
        .bind(*weeks.end());
    // The session and the flag, as the library's visibility takes them; then the
    // workspace of the public conversations' list.
    viewer.bind_visible(query).bind(viewer.workspace.0)
}

impl Store {
    /// The viewer's figures per week of `weeks`, oldest first; weeks with nothing to
    /// count are left out.
    pub async fn outcome_weeks(
        &self,
        viewer: Viewer<'_>,
        weeks: RangeInclusive<i64>,
    ) -> Result<Vec<OutcomeWeek>, StoreError> {
        let sql = format!(
            "SELECT o.week, CAST(SUM(o.settled) AS BIGINT) AS settled, \
                 CAST(SUM(o.applied) AS BIGINT) AS applied, CAST(SUM(o.asked) AS BIGINT) AS asked, \
                 CAST(SUM(o.answered) AS BIGINT) AS answered \
             FROM outcome_weeks o \
             WHERE o.workspace_id = ? AND o.week BETWEEN ? AND ? AND {COUNTS_VISIBLE} \
             GROUP BY o.week \
             HAVING SUM(o.settled) <> 0 OR SUM(o.asked) <> 0 \
             ORDER BY o.week"
        );
        Ok(bind_counts(db::query_as(&sql), viewer, &weeks)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The viewer's settled lessons per tag in `weeks`: the `limit` tags with the most,
    /// then by name.
    pub async fn outcome_tags(
        &self,
        viewer: Viewer<'_>,
        weeks: RangeInclusive<i64>,
        limit: u32,
    ) -> Result<Vec<TagOutcome>, StoreError> {
        let sql = format!(
            "SELECT o.tag, CAST(SUM(o.settled) AS BIGINT) AS settled, \
                 CAST(SUM(o.applied) AS BIGINT) AS applied \
             FROM outcome_tag_weeks o \
             WHERE o.workspace_id = ? AND o.week BETWEEN ? AND ? AND {COUNTS_VISIBLE} \
             GROUP BY o.tag HAVING SUM(o.settled) > 0 \
             ORDER BY settled DESC, o.tag LIMIT ?"
        );
        Ok(bind_counts(db::query_as(&sql), viewer, &weeks)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{
        debrief_in, public_channel, secs, temp_store, viewer_in, workspace,
    };
    use crate::store::{DebriefId, LessonKind, NewLesson, Transition, WorkspaceId};

    const DAY: i64 = 86_400;
    /// A Monday (2026-11-02), so tests name weeks plainly.
    const MONDAY: i64 = 1_793_577_600;

    /// The counts as kept, rows that count for something, in key order (sorted here:
    /// PostgreSQL's collation may not order text by bytes).
    type Row = (i64, i64, String, i64, i64, i64, i64, i64);
    type TagRow = (i64, i64, String, i64, String, i64, i64);

    async fn kept(store: &Store) -> (Vec<Row>, Vec<TagRow>) {
        let mut weeks: Vec<Row> = db::query_as(
            "SELECT workspace_id, week, channel, shared, applied, settled, asked, answered \
             FROM outcome_weeks \
             WHERE applied <> 0 OR settled <> 0 OR asked <> 0 OR answered <> 0",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let mut tags: Vec<TagRow> = db::query_as(
            "SELECT workspace_id, week, channel, shared, tag, applied, settled \
             FROM outcome_tag_weeks WHERE applied <> 0 OR settled <> 0",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        weeks.sort();
        tags.sort();
        (weeks, tags)
    }

    /// The same counts, recounted from the lessons and questions themselves.
    async fn recounted(store: &Store) -> (Vec<Row>, Vec<TagRow>) {
        let settled: Vec<(i64, i64, String, i64, String, String)> = db::query_as(
            "SELECT l.workspace_id, l.settled_at, d.channel, \
                 CAST(CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END AS BIGINT), l.status, l.tags \
             FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
             WHERE l.kind = 'lesson' AND l.settled_at IS NOT NULL \
               AND l.status IN ('applied', 'not_relevant', 'stale')",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let asked: Vec<(i64, i64, String, i64, Option<i64>)> = db::query_as(
            "SELECT f.workspace_id, f.asked_at, d.channel, \
                 CAST(CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END AS BIGINT), f.answered_at \
             FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
             JOIN debriefs d ON d.id = l.debrief_id",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let mut weeks: std::collections::BTreeMap<(i64, i64, String, i64), [i64; 4]> =
            Default::default();
        let mut tags: std::collections::BTreeMap<(i64, i64, String, i64, String), [i64; 2]> =
            Default::default();
        for (ws, at, channel, shared, status, tag_list) in settled {
            let week = week_of(secs(at));
            let applied = i64::from(status == "applied");
            let counts = weeks
                .entry((ws, week, channel.clone(), shared))
                .or_default();
            counts[0] += applied;
            counts[1] += 1;
            let mut seen = Vec::new();
            for tag in tag_list.split(' ').filter(|t| !t.is_empty()) {
                if seen.contains(&tag) {
                    continue;
                }
                seen.push(tag);
                let counts = tags
                    .entry((ws, week, channel.clone(), shared, tag.to_owned()))
                    .or_default();
                counts[0] += applied;
                counts[1] += 1;
            }
        }
        for (ws, at, channel, shared, answered_at) in asked {
            let counts = weeks
                .entry((ws, week_of(secs(at)), channel, shared))
                .or_default();
            counts[2] += 1;
            counts[3] += i64::from(answered_at.is_some());
        }
        (
            weeks
                .into_iter()
                .map(|((ws, week, channel, shared), [a, s, q, r])| {
                    (ws, week, channel, shared, a, s, q, r)
                })
                .collect(),
            tags.into_iter()
                .map(|((ws, week, channel, shared, tag), [a, s])| {
                    (ws, week, channel, shared, tag, a, s)
                })
                .collect(),
        )
    }

    async fn assert_counts_kept(store: &Store, after: &str) {
        assert_eq!(kept(store).await, recounted(store).await, "after {after}");
    }

    async fn add_lesson(
        store: &Store,
        ws: WorkspaceId,
        debrief: DebriefId,
        kind: LessonKind,
        tags: &str,
        shared: bool,
    ) -> i64 {
        let mut tx = store.begin().await.unwrap();
        let new = NewLesson {
            workspace: ws,
            debrief,
            debrief_title: "Review",
            kind,
            text: "Pin versions",
            author: None,
            owner: Some("U1"),
            tags,
            shared,
            follow_up_at: None,
        };
        let id = tx.insert_lesson(new, secs(MONDAY)).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    fn answer<'a>(answer: &'a str, status: &'a str, version: i64, settles: bool) -> Transition<'a> {
        Transition {
            version,
            answer,
            status,
            not_yet_count: version + i64::from(status == "not_yet"),
            follow_up_at: None,
            settles,
        }
    }

    async fn sql(store: &Store, statement: &str, id: i64) {
        db::query(statement)
            .bind(id)
            .execute(&store.pool)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_counts_follow_every_way_a_lesson_settles_changes_or_goes() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let other = workspace(&store, "T2").await;
        public_channel(&store, ws, "C1").await;
        let public = debrief_in(&store, ws, "C1", "Review", false, MONDAY).await;
        let private = debrief_in(&store, ws, "G1", "Retro", false, MONDAY).await;
        let theirs = debrief_in(&store, other, "C1", "Theirs", false, MONDAY).await;
        let a = add_lesson(&store, ws, public, LessonKind::Lesson, "ops ci", true).await;
        let b = add_lesson(&store, ws, public, LessonKind::Lesson, "ops", false).await;
        let c = add_lesson(&store, ws, private, LessonKind::Lesson, "", true).await;
        let action = add_lesson(&store, ws, public, LessonKind::Action, "ops", true).await;
        let foreign = add_lesson(&store, other, theirs, LessonKind::Lesson, "ops", true).await;
        assert_counts_kept(&store, "adding open lessons").await;

        let at = |day: i64| secs(MONDAY + day * DAY);
        // Applied from the chat: a question asked and answered, a lesson settled.
        for (lesson, workspace) in [(a, ws), (foreign, other)] {
            store
                .record_answer(
                    workspace,
                    lesson,
                    "U1",
                    answer("applied", "applied", 0, true),
                    at(1),
                )
                .await
                .unwrap();
        }
        // "Not yet" three times in the next weeks, then stale.
        for version in 0..3 {
            store
                .record_answer(
                    ws,
                    b,
                    "U1",
                    answer("not_yet", "not_yet", version, false),
                    at(8 + version * 7),
                )
                .await
                .unwrap();
        }
        store
            .record_answer(ws, b, "U1", answer("not_yet", "stale", 3, true), at(30))
            .await
            .unwrap();
        assert_counts_kept(&store, "answers").await;
        // Kept after going stale: open again, no longer settled; then retired.
        assert!(
            store
                .keep_or_retire(ws, b, "U1", Some(DAY), at(31))
                .await
                .unwrap()
        );
        assert_counts_kept(&store, "a stale lesson kept").await;
        sql(&store, "UPDATE lessons SET status = 'stale', settled_at = 1793577600 + 40 * 86400 WHERE id = ?", b).await;
        assert!(
            store
                .keep_or_retire(ws, b, "U1", None, at(41))
                .await
                .unwrap()
        );
        assert_counts_kept(&store, "a stale lesson retired").await;
        // An action's outcome is not a lesson's; an unreachable owner settles nothing.
        sql(
            &store,
            "UPDATE lessons SET status = 'applied', settled_at = 1793577600 WHERE id = ?",
            action,
        )
        .await;
        sql(
            &store,
            "UPDATE lessons SET status = 'unreachable', settled_at = 1793577600 WHERE id = ?",
            c,
        )
        .await;
        db::query("INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at) VALUES (?, ?, 'U1', ?)")
            .bind(ws.0)
            .bind(c)
            .bind(MONDAY + 2 * DAY)
            .execute(&store.pool)
            .await
            .unwrap();
        assert_counts_kept(&store, "an action and an unreachable lesson").await;
        // Retagged (with a tag twice), made private, its questions moved with it.
        sql(
            &store,
            "UPDATE lessons SET tags = 'ci ci \"odd\\' WHERE id = ?",
            a,
        )
        .await;
        sql(
            &store,
            "UPDATE lessons SET visibility = 'private' WHERE id = ?",
            a,
        )
        .await;
        sql(
            &store,
            "UPDATE follow_ups SET answered_at = NULL WHERE lesson_id = ?",
            b,
        )
        .await;
        assert_counts_kept(&store, "edits").await;
        let mut tags: Vec<String> =
            db::query_scalar("SELECT DISTINCT tag FROM outcome_tag_weeks WHERE settled > 0")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        tags.sort();
        assert_eq!(tags, ["\"odd\\", "ci", "ops"]);

        // A debrief removed takes its counts with it; so does a workspace.
        store.delete_debrief(ws, public).await.unwrap();
        assert_counts_kept(&store, "a debrief removed").await;
        store.delete_workspace(other).await.unwrap();
        assert_counts_kept(&store, "a workspace removed").await;
        let (weeks, tags) = kept(&store).await;
        assert_eq!(
            weeks.len(),
            1,
            "only the unreachable lesson's question: {weeks:?}"
        );
        assert!(tags.is_empty(), "{tags:?}");
    }

    #[tokio::test]
    async fn each_viewer_sums_only_the_counts_they_may_see() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let other = workspace(&store, "T2").await;
        public_channel(&store, ws, "C1").await;
        public_channel(&store, other, "C1").await;
        let public = debrief_in(&store, ws, "C1", "Review", false, MONDAY).await;
        let private = debrief_in(&store, ws, "G1", "Retro", false, MONDAY).await;
        let theirs = debrief_in(&store, other, "C1", "Theirs", false, MONDAY).await;
        let settle = |lesson: i64, workspace: WorkspaceId, day: i64, status: &'static str| {
            let store = store.clone();
            async move {
                store
                    .record_answer(
                        workspace,
                        lesson,
                        "U1",
                        answer(status, status, 0, true),
                        secs(MONDAY + day * DAY),
                    )
                    .await
                    .unwrap();
            }
        };
        let shared = add_lesson(&store, ws, public, LessonKind::Lesson, "ops", true).await;
        settle(shared, ws, 1, "applied").await;
        let unshared = add_lesson(&store, ws, public, LessonKind::Lesson, "ops", false).await;
        settle(unshared, ws, 8, "not_relevant").await;
        let in_private = add_lesson(&store, ws, private, LessonKind::Lesson, "ci", true).await;
        settle(in_private, ws, 9, "applied").await;
        let foreign = add_lesson(&store, other, theirs, LessonKind::Lesson, "ops", true).await;
        settle(foreign, other, 1, "applied").await;
        let old = add_lesson(&store, ws, public, LessonKind::Lesson, "ops", true).await;
        settle(old, ws, -7, "applied").await;

        viewer_in(&store, ws, "outsider", &[]).await;
        viewer_in(&store, ws, "member", &["G1"]).await;
        let week = week_of(secs(MONDAY));
        let viewer = |session, sees_public| Viewer {
            workspace: ws,
            session,
            sees_public,
        };
        let figures = |settled, applied| OutcomeWeek {
            week: 0,
            settled,
            applied,
            asked: settled,
            answered: settled,
        };
        let at = |w: i64, figures: OutcomeWeek| OutcomeWeek {
            week: week + w,
            ..figures
        };
        // The outsider: the shared public lesson only (not the unshared one, not the
        // private room's, not another workspace's, not before the first week).
        assert_eq!(
            store
                .outcome_weeks(viewer("outsider", true), week..=week + 1)
                .await
                .unwrap(),
            [at(0, figures(1, 1))]
        );
        // A member of the private room: also its lesson.
        assert_eq!(
            store
                .outcome_weeks(viewer("member", true), week..=week + 1)
                .await
                .unwrap(),
            [at(0, figures(1, 1)), at(1, figures(1, 1))]
        );
        // Only the weeks asked for.
        assert_eq!(
            store
                .outcome_weeks(viewer("member", true), week..=week)
                .await
                .unwrap(),
            [at(0, figures(1, 1))]
        );
        // An org-wide viewer: only the rooms they are in.
        assert_eq!(
            store
                .outcome_weeks(viewer("member", false), week..=week + 1)
                .await
                .unwrap(),
            [at(1, figures(1, 1))]
        );
        assert_eq!(
            store
                .outcome_weeks(viewer("outsider", true), week - 1..=week)
                .await
                .unwrap(),
            [at(-1, figures(1, 1)), at(0, figures(1, 1))]
        );
        let tags = store
            .outcome_tags(viewer("member", true), week..=week + 1, 10)
            .await
            .unwrap();
        let tag = |tag: &str, settled, applied| TagOutcome {
            tag: tag.into(),
            settled,
            applied,
        };
        assert_eq!(tags, [tag("ci", 1, 1), tag("ops", 1, 1)]);
        let top = store
            .outcome_tags(viewer("member", true), week - 1..=week + 1, 1)
            .await
            .unwrap();
        assert_eq!(top, [tag("ops", 2, 2)], "most settled first");
    }

    #[tokio::test]
    async fn lessons_settled_before_the_upgrade_are_counted_by_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::store::tests::store_before(
            &dir,
            "0038",
            &[
                "INSERT INTO workspaces (id, platform, external_id, default_time_zone, created_at, updated_at) \
                 VALUES (1, 'slack', 'T1', 'UTC', 1, 1)",
                "INSERT INTO debriefs (id, workspace_id, channel, title, template, questions, facilitator, created_at) \
                 VALUES (1, 1, 'C1', 'Launch', 'retro', '[]', 'U1', 1), \
                        (2, 1, 'G1', 'Retro', 'retro', '[]', 'U1', 1)",
                "INSERT INTO lessons (id, workspace_id, debrief_id, kind, text, owner, tags, visibility, \
                     status, settled_at, created_at) \
                 VALUES (1, 1, 1, 'lesson', 'a', 'U1', 'ops ops ci', 'shared', 'applied', 1793577600, 1), \
                        (2, 1, 1, 'lesson', 'b', 'U1', 'ops', 'private', 'stale', 1793664000, 1), \
                        (3, 1, 2, 'lesson', 'c', 'U1', '', 'shared', 'not_relevant', 1794182400, 1), \
                        (4, 1, 2, 'lesson', 'd', 'U1', 'ops', 'shared', 'open', NULL, 1), \
                        (5, 1, 1, 'action', 'e', 'U1', 'ops', 'shared', 'applied', 1793577600, 1)",
                "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answered_at) \
                 VALUES (1, 1, 'U1', 1793577600, 1793577600), (1, 2, 'U1', 1793577600, NULL), \
                        (1, 4, 'U1', 1794182400, NULL), (1, 5, 'U1', 1793577600, 1793577600)",
            ],
        )
        .await;
        store.migrate().await.expect("upgrade");
        assert_counts_kept(&store, "the upgrade").await;
        let (weeks, tags) = kept(&store).await;
        let week = week_of(secs(MONDAY));
        assert_eq!(
            weeks,
            [
                (1, week, "C1".into(), 0, 0, 1, 1, 0),
                (1, week, "C1".into(), 1, 1, 1, 2, 2),
                (1, week + 1, "G1".into(), 1, 0, 1, 1, 0),
            ]
        );
        assert_eq!(
            tags.len(),
            3,
            "ops twice (shared, private) and ci once: {tags:?}"
        );
    }

    #[test]
    fn weeks_start_on_monday_midnight_utc() {
        let monday = secs(MONDAY);
        assert_eq!(week_start(week_of(monday)), monday);
        assert_eq!(week_of(secs(MONDAY - 1)), week_of(monday) - 1);
        assert_eq!(week_of(secs(MONDAY + 7 * DAY - 1)), week_of(monday));
        assert_eq!(
            week_start(week_of(monday))
                .to_utc()
                .format("%A %H:%M")
                .to_string(),
            "Monday 00:00"
        );
    }
}
