//! Lessons and action items, with a full-text index (SQLite FTS5) over their text, tags
//! and the title of the debrief they came from.

use sqlx::FromRow;

use super::db;
use super::db::Conn;

use super::search_terms::{Terms, indexed};
use super::{Audience, Backend, DebriefId, Store, StoreError, StoreTx, WorkspaceId};
use crate::domain::Timestamp;

/// Whether an item is something learned or something to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LessonKind {
    Lesson,
    Action,
}

impl LessonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lesson => "lesson",
            Self::Action => "action",
        }
    }
}

/// A lesson or action item to store.
#[derive(Clone, Copy, Debug)]
pub struct NewLesson<'a> {
    pub workspace: WorkspaceId,
    pub debrief: DebriefId,
    pub debrief_title: &'a str,
    pub kind: LessonKind,
    pub text: &'a str,
    pub author: Option<&'a str>,
    pub owner: Option<&'a str>,
    /// Space-separated, lowercase, without `#`.
    pub tags: &'a str,
    pub shared: bool,
    /// When the owner is first asked; `None` when there is nobody to ask.
    pub follow_up_at: Option<Timestamp>,
}

/// A stored lesson or action item.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Lesson {
    pub id: i64,
    pub kind: String,
    pub text: String,
    pub author: Option<String>,
    pub owner: Option<String>,
    pub tags: String,
    pub visibility: String,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub follow_up_at: Option<Timestamp>,
    pub status: String,
}

/// A search hit: the lesson, where it came from and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LessonHit {
    pub id: i64,
    pub text: String,
    pub tags: String,
    pub owner: Option<String>,
    pub status: String,
    pub debrief_id: i64,
    pub debrief_title: String,
    pub channel: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
}

/// Adds a lesson to the search index: SQLite's FTS5 table (see [`search_terms`]), or on
/// PostgreSQL the debrief title its generated `search` column is made from.
async fn index(
    conn: &mut Conn,
    workspace: WorkspaceId,
    id: i64,
    text: &str,
    tags: &str,
    debrief_title: &str,
) -> Result<(), StoreError> {
    match conn.backend() {
        Backend::Sqlite => {
            db::query(
                "INSERT INTO lessons_fts (rowid, text, tags, debrief_title) VALUES (?, ?, ?, ?)",
            )
            .bind(id)
            .bind(indexed(workspace, text))
            .bind(indexed(workspace, tags))
            .bind(indexed(workspace, debrief_title))
            .execute(&mut *conn)
            .await?;
        }
        Backend::Postgres => {
            db::query("UPDATE lessons SET debrief_title = ? WHERE id = ?")
                .bind(debrief_title)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// A lesson waiting to be indexed (stored before this index existed).
#[derive(FromRow)]
struct Unindexed {
    id: i64,
    workspace_id: i64,
    text: String,
    tags: String,
    debrief_title: String,
}

impl StoreTx {
    /// Stores a lesson and indexes it for search, in this transaction.
    pub async fn insert_lesson(
        &mut self,
        new: NewLesson<'_>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let now = now.unix_seconds();
        let id: i64 = db::query_scalar(
            "INSERT INTO lessons (workspace_id, debrief_id, kind, text, author, owner, tags, \
                 visibility, follow_up_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.workspace.0)
        .bind(new.debrief.0)
        .bind(new.kind.as_str())
        .bind(new.text)
        .bind(new.author)
        .bind(new.owner)
        .bind(new.tags)
        .bind(if new.shared { "shared" } else { "private" })
        .bind(new.follow_up_at.map(Timestamp::unix_seconds))
        .bind(now)
        .fetch_one(&mut self.tx)
        .await?;
        index(
            &mut self.tx,
            new.workspace,
            id,
            new.text,
            new.tags,
            new.debrief_title,
        )
        .await?;
        Ok(id)
    }
}

impl Store {
    /// What a search binds for `terms`: an FTS5 expression in the workspace's own
    /// words on SQLite, a `tsquery` on PostgreSQL.
    pub(super) fn match_expression(&self, terms: &Terms, workspace: WorkspaceId) -> String {
        match self.backend() {
            Backend::Sqlite => terms.expression(workspace),
            Backend::Postgres => terms.tsquery(),
        }
    }

    /// The lessons and action items of one debrief, in the order they were made.
    pub async fn lessons_of(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<Vec<Lesson>, StoreError> {
        Ok(db::query_as(
            "SELECT id, kind, text, author, owner, tags, visibility, follow_up_at, status \
             FROM lessons WHERE workspace_id = ? AND debrief_id = ? ORDER BY id",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Indexes the lessons listed in `lessons_to_index` (those stored before the search
    /// index was rebuilt by migration 0009), a batch per transaction; how many.
    pub async fn index_pending_lessons(&self) -> Result<usize, StoreError> {
        let mut indexed = 0;
        loop {
            let mut tx = self.begin().await?;
            let batch: Vec<Unindexed> = db::query_as(
                "SELECT l.id, l.workspace_id, l.text, l.tags, d.title AS debrief_title \
                 FROM lessons_to_index p JOIN lessons l ON l.id = p.lesson_id \
                 JOIN debriefs d ON d.id = l.debrief_id ORDER BY p.lesson_id LIMIT 1000",
            )
            .fetch_all(&mut tx.tx)
            .await?;
            for lesson in &batch {
                let workspace = WorkspaceId(lesson.workspace_id);
                index(
                    &mut tx.tx,
                    workspace,
                    lesson.id,
                    &lesson.text,
                    &lesson.tags,
                    &lesson.debrief_title,
                )
                .await?;
                db::query("DELETE FROM lessons_to_index WHERE lesson_id = ?")
                    .bind(lesson.id)
                    .execute(&mut tx.tx)
                    .await?;
            }
            // Rows whose lesson is gone are dropped too.
            if batch.is_empty() {
                db::query("DELETE FROM lessons_to_index")
                    .execute(&mut tx.tx)
                    .await?;
            }
            tx.commit().await?;
            indexed += batch.len();
            if batch.is_empty() {
                return Ok(indexed);
            }
        }
    }

    /// Lessons of the workspace matching `terms` that `audience` may see, best first
    /// (bm25, tags weighing most, the debrief title least). The index holds only this
    /// workspace's words under these terms, so the match never reads another
    /// workspace's rows.
    pub async fn search_lessons(
        &self,
        workspace: WorkspaceId,
        terms: &Terms,
        audience: Audience<'_>,
        limit: u32,
    ) -> Result<Vec<LessonHit>, StoreError> {
        Ok(db::query_as(db::Sql::dialects(
            concat!(
                "SELECT ",
                lesson_hit_columns!(),
                " FROM lessons_fts f \
                 JOIN lessons l ON l.id = f.rowid \
                 JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
                 WHERE lessons_fts MATCH ?1 AND l.workspace_id = ?2 AND l.kind = 'lesson' AND ",
                lesson_visible!("l", "d", "3", "5"),
                " ORDER BY bm25(lessons_fts, 1.0, 2.0, 0.5) LIMIT ?4"
            ),
            // ts_rank weighs tags (A) most and the title (C) least, as bm25 does above.
            // The query's words carry the workspace, as the index's do (migration
            // 0005); as a sub-select the scoped query is built once, not once a row.
            concat!(
                "SELECT ",
                lesson_hit_columns!(),
                " FROM lessons l \
                 JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
                 WHERE l.search @@ (SELECT learnloop_scoped_query(?2, to_tsquery('learnloop', ?1))) \
                   AND l.workspace_id = ?2 \
                   AND l.kind = 'lesson' AND ",
                lesson_visible!("l", "d", "3", "5"),
                " ORDER BY ts_rank(l.search, \
                     (SELECT learnloop_scoped_query(?2, to_tsquery('learnloop', ?1)))) DESC, \
                     l.id DESC \
                 LIMIT ?4"
            ),
        ))
        .bind(self.match_expression(terms, workspace))
        .bind(workspace.0)
        .bind(audience.bound())
        .bind(limit)
        .bind(audience.sees_public())
        .fetch_all(&self.pool)
        .await?)
    }

    /// The workspace's newest lessons that `audience` may see.
    pub async fn latest_lessons(
        &self,
        workspace: WorkspaceId,
        audience: Audience<'_>,
        limit: u32,
    ) -> Result<Vec<LessonHit>, StoreError> {
        Ok(db::query_as(concat!(
            "SELECT ",
            lesson_hit_columns!(),
            " FROM lessons l \
             JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
             WHERE l.workspace_id = ?1 AND l.kind = 'lesson' AND ",
            lesson_visible!("l", "d", "2", "4"),
            " ORDER BY l.created_at DESC, l.id DESC LIMIT ?3"
        ))
        .bind(workspace.0)
        .bind(audience.bound())
        .bind(limit)
        .bind(audience.sees_public())
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ConversationKind;
    use crate::store::search_terms::Term;
    use crate::store::test_support::secs;
    use crate::store::test_support::{debrief, lesson, public_channel, temp_store, workspace};

    fn terms(word: &str) -> Terms {
        Terms::every(vec![Term::phrase(word).unwrap()]).unwrap()
    }

    /// The longest word PostgreSQL keeps, with the workspace before it, no longer fits:
    /// the lesson is still saved, and found by its other words.
    #[tokio::test]
    async fn a_lesson_with_a_word_at_the_index_s_limit_is_saved_and_found() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let review = debrief(&store, ws, "Log review").await;
        let text = format!("Truncate {} before logging", "a".repeat(2046));
        lesson(&store, ws, review, "Log review", &text).await;
        let hits = store
            .search_lessons(ws, &terms("truncate"), Audience::Internal, 5)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "found by its other words");
    }

    /// Words are scoped by workspace id (`1_…`, `11_…`): a prefix search in workspace 1
    /// must not reach into workspace 11, whose scoped words begin with the same digit.
    #[tokio::test]
    async fn a_prefix_search_stays_in_its_workspace_whose_id_prefixes_another() {
        let (store, _db) = temp_store().await;
        let mut workspaces = Vec::new();
        for n in 1..=11 {
            workspaces.push(workspace(&store, &format!("T{n}")).await);
        }
        let (first, eleventh) = (workspaces[0], workspaces[10]);
        assert_eq!((first.0, eleventh.0), (1, 11), "ids that prefix each other");
        let theirs = debrief(&store, eleventh, "Rollback drill").await;
        lesson(
            &store,
            eleventh,
            theirs,
            "Rollback drill",
            "Rollbacks need a runbook",
        )
        .await;
        let ours = debrief(&store, first, "Rollout review").await;
        lesson(
            &store,
            first,
            ours,
            "Rollout review",
            "Canaries catch regressions",
        )
        .await;

        let prefix = Terms::every(vec![Term::prefix("rollb").unwrap()]).unwrap();
        let everyone = Audience::Internal;
        let hits = store
            .search_lessons(first, &prefix, everyone, 5)
            .await
            .unwrap();
        assert!(hits.is_empty(), "workspace 11's lesson leaked: {hits:?}");
        let hits = store
            .search_lessons(eleventh, &prefix, everyone, 5)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "its own workspace finds it");
        let prefix = Terms::every(vec![Term::prefix("canar").unwrap()]).unwrap();
        let hits = store
            .search_lessons(first, &prefix, everyone, 5)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "workspace 1 finds its own by prefix");
    }

    #[tokio::test]
    async fn search_finds_by_text_and_title_within_the_workspace_only() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let other = workspace(&store, "T2").await;
        let release = debrief(&store, ws, "Release 2.3 rollout").await;
        lesson(
            &store,
            ws,
            release,
            "Release 2.3 rollout",
            "Feature flags let us roll back fast",
        )
        .await;
        lesson(
            &store,
            ws,
            release,
            "Release 2.3 rollout",
            "Pair on the database migrations",
        )
        .await;
        let theirs = debrief(&store, other, "Release train").await;
        lesson(
            &store,
            other,
            theirs,
            "Release train",
            "Secret lesson of another team",
        )
        .await;

        let here = Audience::In("C1");
        let hits = store
            .search_lessons(ws, &terms("migration"), here, 3)
            .await
            .unwrap();
        assert_eq!(
            hits.len(),
            1,
            "porter stemming matches migrations: {hits:?}"
        );
        assert_eq!(hits[0].debrief_title, "Release 2.3 rollout");

        let by_title = store
            .search_lessons(ws, &terms("rollout"), here, 3)
            .await
            .unwrap();
        assert_eq!(by_title.len(), 2, "the debrief title is searchable");
        lesson(
            &store,
            ws,
            release,
            "Release 2.3 rollout",
            "Check api.example.com and src/main.rs first",
        )
        .await;
        for punctuated in ["example", "main", "api example com", "2.3"] {
            let hits = store
                .search_lessons(ws, &terms(punctuated), here, 5)
                .await
                .unwrap();
            assert!(
                !hits.is_empty(),
                "words are split at punctuation on every backend: {punctuated}"
            );
        }
        let everywhere = store
            .search_lessons(ws, &terms("release"), Audience::Internal, 10)
            .await
            .unwrap();
        assert!(everywhere.iter().all(|h| !h.text.contains("another team")));
        assert_eq!(store.lessons_of(ws, release).await.unwrap().len(), 3);
        let elsewhere = store
            .search_lessons(ws, &terms("rollout"), Audience::In("C2"), 3)
            .await
            .unwrap();
        assert!(
            elsewhere.is_empty(),
            "C1 was never looked up, so it counts as private: another channel sees none"
        );
        public_channel(&store, ws, "C1").await;
        let shared = store
            .search_lessons(ws, &terms("rollout"), Audience::In("C2"), 3)
            .await
            .unwrap();
        assert_eq!(shared.len(), 3, "a public channel's lessons are shared");
        let latest = store
            .latest_lessons(ws, Audience::In("D1"), 5)
            .await
            .unwrap();
        assert_eq!(latest.len(), 3, "a DM sees the public ones");
        for only in ["C2", "D1"] {
            assert!(
                store
                    .latest_lessons(ws, Audience::Only(only), 5)
                    .await
                    .unwrap()
                    .is_empty(),
                "a conversation outsiders read sees no public lessons but its own"
            );
        }
        assert_eq!(
            store
                .search_lessons(ws, &terms("rollout"), Audience::Only("C1"), 3)
                .await
                .unwrap()
                .len(),
            3,
            "its own lessons it does see"
        );
        store
            .record_conversation_scope(ws, "C1", ConversationKind::SharedChannel, secs(9), secs(2))
            .await
            .unwrap();
        for audience in [Audience::In("C2"), Audience::In("D1")] {
            assert!(
                store
                    .latest_lessons(ws, audience, 5)
                    .await
                    .unwrap()
                    .is_empty(),
                "a Slack Connect channel is private"
            );
        }
    }

    #[tokio::test]
    async fn a_lesson_said_in_private_stays_private_after_the_channel_goes_public() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let id = debrief(&store, ws, "Outage").await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_lesson(
            NewLesson {
                workspace: ws,
                debrief: id,
                debrief_title: "Outage",
                kind: LessonKind::Lesson,
                text: "Page the database team early",
                author: Some("U1"),
                owner: Some("U1"),
                tags: "",
                shared: false,
                follow_up_at: None,
            },
            secs(1),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        public_channel(&store, ws, "C1").await;
        let found = |audience| {
            let store = store.clone();
            async move {
                store
                    .search_lessons(ws, &terms("database"), audience, 5)
                    .await
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(
            found(Audience::In("C1")).await,
            1,
            "shown where it was said"
        );
        assert_eq!(found(Audience::In("C2")).await, 0, "and nowhere else");
    }
}
