//! What an export reads: a workspace's debriefs, lessons, action items and follow-ups,
//! a page at a time in id order (so a workspace of any size streams in bounded
//! memory), each row whole enough to stand alone in a spreadsheet.

use sqlx::FromRow;

use super::library::{DEBRIEF_VISIBLE, LESSON_VISIBLE, Viewer};
use super::{LessonKind, Store, StoreError, WorkspaceId, db};
use crate::domain::Timestamp;

/// A debrief as exported, with what came of it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ExportedDebrief {
    pub id: i64,
    pub channel: String,
    pub title: String,
    pub template: String,
    pub facilitator: String,
    /// 1 when names were never kept.
    pub anonymous: i64,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub closed_at: Option<Timestamp>,
    pub reflections: i64,
    pub lessons: i64,
    pub actions: i64,
}

/// A lesson or action item as exported.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ExportedLesson {
    pub id: i64,
    pub debrief_id: i64,
    pub debrief_title: String,
    pub channel: String,
    /// `lesson` or `action`.
    pub kind: String,
    pub text: String,
    pub tags: String,
    pub author: Option<String>,
    pub owner: Option<String>,
    /// The owner's display name, when the workspace's directory gave one.
    pub owner_name: Option<String>,
    /// `shared` or `private` (said in a private conversation).
    pub visibility: String,
    pub status: String,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub follow_up_at: Option<Timestamp>,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub settled_at: Option<Timestamp>,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
}

/// A follow-up question as exported: whom it asked about which lesson, and the answer.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ExportedFollowUp {
    pub id: i64,
    pub lesson_id: i64,
    pub lesson_text: String,
    pub person: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub asked_at: Timestamp,
    pub answer: Option<String>,
    pub note: Option<String>,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub answered_at: Option<Timestamp>,
}

/// Columns of [`ExportedLesson`], for the queries that read it.
macro_rules! exported_lesson_columns {
    () => {
        "SELECT l.id, l.debrief_id, d.title AS debrief_title, d.channel, l.kind, l.text, l.tags, l.author, \
                l.owner, p.display_name AS owner_name, l.visibility, l.status, \
                l.follow_up_at, l.settled_at, l.created_at \
         FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
         LEFT JOIN people p ON p.workspace_id = l.workspace_id \
             AND p.platform_user_id = l.owner "
    };
}

/// Whose export it is: the operator's (`learnloop export`: every row of the workspace)
/// or a dashboard admin's (what that person may see, as every page shows it).
#[derive(Clone, Copy, Debug)]
pub struct ExportScope<'a> {
    pub workspace: WorkspaceId,
    pub viewer: Option<Viewer<'a>>,
}

impl<'a> ExportScope<'a> {
    /// Every row of the workspace.
    pub fn everything(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            viewer: None,
        }
    }

    /// What `viewer` may see.
    pub fn seen_by(viewer: Viewer<'a>) -> Self {
        Self {
            workspace: viewer.workspace,
            viewer: Some(viewer),
        }
    }

    /// The session, or NULL for everything (the first value [`visible`] binds, and the
    /// note rule of [`Store::export_follow_ups`]).
    fn session(self) -> Option<&'a str> {
        self.viewer.map(|viewer| viewer.session)
    }

    /// Binds what [`visible`] takes: the session or NULL (everything), the session
    /// again, and whether public lessons are the viewer's.
    fn bind_visible<'q, O: db::Row>(self, query: db::QueryAs<'q, O>) -> db::QueryAs<'q, O>
    where
        'a: 'q,
    {
        let public = self.viewer.is_some_and(|viewer| viewer.sees_public);
        query
            .bind(self.session())
            .bind(self.session().unwrap_or_default())
            .bind(public)
    }
}

/// `condition` (a visibility fragment of `l` and `d`, binding the session and the flag)
/// for a viewer's export, or true for the operator's: binds as [`ExportScope::binds`].
fn visible(condition: &str) -> String {
    format!("(? IS NULL OR {condition})")
}

impl Store {
    /// The workspace's debriefs after id `after`, at most `limit`, oldest first.
    pub async fn export_debriefs(
        &self,
        scope: ExportScope<'_>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ExportedDebrief>, StoreError> {
        let (lesson, debrief) = (visible(LESSON_VISIBLE), visible(DEBRIEF_VISIBLE));
        let sql = format!(
            "SELECT d.id, d.channel, d.title, d.template, d.facilitator, d.anonymous, \
                    d.created_at, d.closed_at, \
                    (SELECT COUNT(*) FROM reflections r WHERE r.debrief_id = d.id) AS reflections, \
                    (SELECT COUNT(*) FROM lessons l \
                     WHERE l.debrief_id = d.id AND l.kind = 'lesson' AND {lesson}) AS lessons, \
                    (SELECT COUNT(*) FROM lessons l \
                     WHERE l.debrief_id = d.id AND l.kind = 'action' AND {lesson}) AS actions \
             FROM debriefs d WHERE d.workspace_id = ? AND d.id > ? AND {debrief} \
             ORDER BY d.id LIMIT ?"
        );
        let query = scope.bind_visible(scope.bind_visible(db::query_as(&sql)));
        let query = scope.bind_visible(query.bind(scope.workspace.0).bind(after));
        Ok(query.bind(i64::from(limit)).fetch_all(&self.pool).await?)
    }

    /// The workspace's lessons (or action items) after id `after`, oldest first.
    pub async fn export_lessons(
        &self,
        scope: ExportScope<'_>,
        kind: LessonKind,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ExportedLesson>, StoreError> {
        let sql = format!(
            "{}WHERE l.workspace_id = ? AND l.kind = ? AND l.id > ? AND {} \
             ORDER BY l.id LIMIT ?",
            exported_lesson_columns!(),
            visible(LESSON_VISIBLE)
        );
        let query = db::query_as(&sql)
            .bind(scope.workspace.0)
            .bind(kind.as_str())
            .bind(after);
        let query = scope.bind_visible(query);
        Ok(query.bind(i64::from(limit)).fetch_all(&self.pool).await?)
    }

    /// Every lesson and action item of one debrief of the workspace, in order.
    pub async fn export_lessons_of(
        &self,
        scope: ExportScope<'_>,
        debrief: i64,
    ) -> Result<Vec<ExportedLesson>, StoreError> {
        let sql = format!(
            "{}WHERE l.workspace_id = ? AND l.debrief_id = ? AND {} ORDER BY l.id",
            exported_lesson_columns!(),
            visible(LESSON_VISIBLE)
        );
        let query = db::query_as(&sql).bind(scope.workspace.0).bind(debrief);
        Ok(scope.bind_visible(query).fetch_all(&self.pool).await?)
    }

    /// The workspace's follow-up questions after id `after`, oldest first. A viewer's
    /// export keeps only the notes of "applied" answers, the ones the bot makes public.
    pub async fn export_follow_ups(
        &self,
        scope: ExportScope<'_>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ExportedFollowUp>, StoreError> {
        let sql = format!(
            "SELECT f.id, f.lesson_id, l.text AS lesson_text, f.person, f.asked_at, f.answer, \
                    CASE WHEN ? IS NULL OR f.answer = 'applied' THEN f.note END AS note, \
                    f.answered_at \
             FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
             JOIN debriefs d ON d.id = l.debrief_id \
             WHERE f.workspace_id = ? AND f.id > ? AND {} ORDER BY f.id LIMIT ?",
            visible(LESSON_VISIBLE)
        );
        let query = db::query_as(&sql)
            .bind(scope.session())
            .bind(scope.workspace.0)
            .bind(after);
        let query = scope.bind_visible(query);
        Ok(query.bind(i64::from(limit)).fetch_all(&self.pool).await?)
    }

    /// How many rows an export of `table` (`debriefs`, `lessons` of a kind, or
    /// `follow_ups`) has in the workspace: the length of its progress bar.
    pub async fn export_size(
        &self,
        scope: ExportScope<'_>,
        what: ExportSize,
    ) -> Result<u64, StoreError> {
        let (sql, kind) = match what {
            ExportSize::Debriefs => (
                format!(
                    "SELECT COUNT(*) FROM debriefs d WHERE d.workspace_id = ? AND {}",
                    visible(DEBRIEF_VISIBLE)
                ),
                None,
            ),
            ExportSize::Lessons(kind) => (
                format!(
                    "SELECT COUNT(*) FROM lessons l JOIN debriefs d ON d.id = l.debrief_id \
                     WHERE l.workspace_id = ? AND l.kind = ? AND {}",
                    visible(LESSON_VISIBLE)
                ),
                Some(kind.as_str()),
            ),
            ExportSize::FollowUps => (
                format!(
                    "SELECT COUNT(*) FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
                     JOIN debriefs d ON d.id = l.debrief_id \
                     WHERE f.workspace_id = ? AND {}",
                    visible(LESSON_VISIBLE)
                ),
                None,
            ),
        };
        let mut query = db::query_as::<(i64,)>(&sql).bind(scope.workspace.0);
        if let Some(kind) = kind {
            query = query.bind(kind);
        }
        let (count,) = scope.bind_visible(query).fetch_one(&self.pool).await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// Which rows [`Store::export_size`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportSize {
    Debriefs,
    Lessons(LessonKind),
    FollowUps,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{debrief, lesson, temp_store, workspace};

    /// The export reads page by page, only its workspace, on either database.
    #[tokio::test]
    async fn an_export_reads_its_workspace_a_page_at_a_time() {
        let (store, _dir) = temp_store().await;
        let ours = workspace(&store, "T1").await;
        let theirs = workspace(&store, "T2").await;
        let launch = debrief(&store, ours, "Launch").await;
        for text in ["First", "Second", "Third"] {
            lesson(&store, ours, launch, "Launch", text).await;
        }
        let other = debrief(&store, theirs, "Other").await;
        lesson(&store, theirs, other, "Other", "Not ours").await;

        let everything = ExportScope::everything(ours);
        let size = ExportSize::Lessons(LessonKind::Lesson);
        assert_eq!(store.export_size(everything, size).await.unwrap(), 3);
        let first = store
            .export_lessons(everything, LessonKind::Lesson, 0, 2)
            .await
            .unwrap();
        let texts: Vec<&str> = first.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["First", "Second"]);
        assert_eq!(first[0].debrief_title, "Launch");
        assert_eq!(first[0].channel, "C1");
        let rest = store
            .export_lessons(everything, LessonKind::Lesson, first[1].id, 2)
            .await
            .unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].text, "Third");
        assert!(
            store
                .export_lessons(everything, LessonKind::Action, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let debriefs = store.export_debriefs(everything, 0, 10).await.unwrap();
        assert_eq!(debriefs.len(), 1);
        assert_eq!((debriefs[0].lessons, debriefs[0].actions), (3, 0));
        assert_eq!(
            store.export_lessons_of(everything, other.0).await.unwrap(),
            []
        );
        assert_eq!(
            store
                .export_lessons_of(everything, launch.0)
                .await
                .unwrap()
                .len(),
            3
        );
        assert!(
            store
                .export_follow_ups(everything, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
