//! What the dashboard reads: lessons with filters, a lesson with its history, debriefs,
//! and the figures of the outcomes page. Every read is for a [`Viewer`] and shows only
//! what that person may see: lessons of the private conversations their session says
//! they are in, and otherwise the workspace's shared lessons said in public.
//!
//! Queries are put together from fixed fragments (a filter adds its condition only when
//! it is set, so each shape can use its index); every value is bound.

use sqlx::FromRow;

use super::db;
use super::search_terms::Terms;
use super::{Backend, LessonHit, Store, StoreError, WorkspaceId};
use crate::domain::Timestamp;

/// The person a dashboard page is for.
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub workspace: WorkspaceId,
    /// Their session (its hash): the private conversations they are in.
    pub session: &'a str,
    /// Whether the workspace's public lessons are theirs to see (not in an org-wide
    /// install, where "public" spans organisations).
    pub sees_public: bool,
}

impl Viewer<'_> {
    /// Binds what [`LESSON_VISIBLE`] (or [`DEBRIEF_VISIBLE`]) takes.
    pub(super) fn bind_visible<'q, O: db::Row>(
        &self,
        query: db::QueryAs<'q, O>,
    ) -> db::QueryAs<'q, O>
    where
        Self: 'q,
    {
        query.bind(self.session).bind(self.sees_public)
    }

    /// Binds what [`VISIBLE_BY_DEBRIEF`] takes, after the values bound before it.
    fn bind<'q, O: db::Row>(&self, query: db::QueryAs<'q, O>) -> db::QueryAs<'q, O>
    where
        Self: 'q,
    {
        query
            .bind(self.session)
            .bind(self.workspace.0)
            .bind(self.sees_public)
            .bind(self.workspace.0)
    }
}

/// Holds when lesson `l` of debrief `d` may be shown to the viewer whose session and
/// `sees_public` flag are bound, in that order.
pub(super) const LESSON_VISIBLE: &str = "(EXISTS (SELECT 1 FROM web_session_channels m \
         WHERE m.token_hash = ? AND m.conversation = d.channel) \
     OR (? = 1 AND l.visibility = 'shared' AND EXISTS (SELECT 1 FROM conversation_scopes s \
         WHERE s.workspace_id = d.workspace_id AND s.conversation = d.channel \
           AND s.public = 1)))";

/// Holds when debrief `d` may be shown (held where the viewer is, or in public), binds
/// as [`LESSON_VISIBLE`].
pub(super) const DEBRIEF_VISIBLE: &str = "(EXISTS (SELECT 1 FROM web_session_channels m \
         WHERE m.token_hash = ? AND m.conversation = d.channel) \
     OR (? = 1 AND EXISTS (SELECT 1 FROM conversation_scopes s \
         WHERE s.workspace_id = d.workspace_id AND s.conversation = d.channel \
           AND s.public = 1)))";

/// Holds when lesson `l` may be shown to the viewer, decided by its debrief: the
/// debriefs held where the viewer is, and (for shared lessons) those held in public,
/// are each listed once per query and every lesson is checked against the lists,
/// instead of joining its debrief and looking up its conversation twice a row. Binds
/// the session, the workspace, `sees_public` and the workspace. The unary `+` keeps
/// SQLite scanning the lessons by their own index rather than by these lists.
const VISIBLE_BY_DEBRIEF: &str = "(+l.debrief_id IN (SELECT vd.id FROM debriefs vd \
         JOIN web_session_channels m ON m.conversation = vd.channel \
         WHERE m.token_hash = ? AND vd.workspace_id = ?) \
     OR (? = 1 AND l.visibility = 'shared' AND +l.debrief_id IN (SELECT vd.id FROM debriefs vd \
         JOIN conversation_scopes s ON s.workspace_id = vd.workspace_id \
             AND s.conversation = vd.channel \
         WHERE vd.workspace_id = ? AND s.public = 1)))";

/// Where a lesson stands, as the library's filter names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Waiting for an outcome ("open" or "not yet").
    Open,
    Applied,
    NotRelevant,
    Stale,
}

impl StatusFilter {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "applied" => Some(Self::Applied),
            "not_relevant" => Some(Self::NotRelevant),
            "stale" => Some(Self::Stale),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Applied => "applied",
            Self::NotRelevant => "not_relevant",
            Self::Stale => "stale",
        }
    }
}

/// The library's filters; each is off when `None`.
#[derive(Clone, Debug, Default)]
pub struct LessonFilter {
    /// One tag, lowercase, without `#`.
    pub tag: Option<String>,
    pub channel: Option<String>,
    pub status: Option<StatusFilter>,
    pub owner: Option<String>,
    /// Made at or after…
    pub since: Option<Timestamp>,
    /// …and before.
    pub until: Option<Timestamp>,
    /// The page after this position (newest first): the last lesson shown's creation
    /// time and id.
    pub before: Option<(Timestamp, i64)>,
}

/// A search ranks at most this many matches, the newest: ranking costs about half a
/// microsecond a match, so a word in most of 100,000 lessons would take 40 ms to rank in
/// full (see docs/BENCHMARKS.md). Filters apply before the cut, so they reach older ones.
pub const SEARCH_CANDIDATES: u32 = 10_000;

/// A page of the library.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LessonPage {
    pub hits: Vec<LessonHit>,
    /// As many lessons matched the search as it ranks ([`SEARCH_CANDIDATES`], the
    /// newest): older ones may match too.
    pub ranked_newest_only: bool,
}

/// A hit with how many candidates its search ranked (0 without a search).
#[derive(FromRow)]
struct RankedHit {
    #[sqlx(flatten)]
    hit: LessonHit,
    candidates: i64,
}

/// A lesson's page: the lesson and its debrief.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LessonDetail {
    pub id: i64,
    pub kind: String,
    pub text: String,
    pub tags: String,
    pub owner: Option<String>,
    pub status: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    pub debrief_id: i64,
    pub debrief_title: String,
    pub channel: String,
}

/// One question asked about a lesson, with its answer once given.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct FollowUpEntry {
    #[sqlx(try_from = "super::columns::Seconds")]
    pub asked_at: Timestamp,
    pub answer: Option<String>,
    pub note: Option<String>,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub answered_at: Option<Timestamp>,
}

/// A debrief as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DebriefEntry {
    pub id: i64,
    pub title: String,
    pub channel: String,
    pub anonymous: i64,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub closed_at: Option<Timestamp>,
    /// How many people reflected.
    pub reflections: i64,
    pub lessons: i64,
    pub open_actions: i64,
}

/// A lesson said again in other debriefs: how many times.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Recurring {
    pub id: i64,
    pub text: String,
    pub times: i64,
}

/// The library's hits: `lesson_hit_columns!`, from `l` and `d`.
const HIT_COLUMNS: &str = concat!("SELECT ", lesson_hit_columns!());

impl Store {
    /// The lessons the viewer may see that match `terms` (best first, of the newest
    /// [`SEARCH_CANDIDATES`] matches) or, without terms, the newest; with the filters
    /// that are set; at most `limit`. The page is chosen from the lessons alone
    /// (visibility by debrief, see [`VISIBLE_BY_DEBRIEF`]) and only its rows are joined
    /// to their debriefs.
    pub async fn library_lessons(
        &self,
        viewer: Viewer<'_>,
        terms: Option<&Terms>,
        filter: &LessonFilter,
        limit: u32,
    ) -> Result<LessonPage, StoreError> {
        self.library_page(viewer, terms, filter, limit, SEARCH_CANDIDATES)
            .await
    }

    /// [`Store::library_lessons`], ranking at most `candidates` matches.
    async fn library_page(
        &self,
        viewer: Viewer<'_>,
        terms: Option<&Terms>,
        filter: &LessonFilter,
        limit: u32,
        candidates: u32,
    ) -> Result<LessonPage, StoreError> {
        let backend = self.backend();
        let mut inner = String::from(match (terms, backend) {
            (Some(_), Backend::Sqlite) => {
                // CROSS JOIN keeps the index the outer loop, so the newest matches
                // come first and the scan stops at the cut, whatever the filters.
                "SELECT l.id AS id, bm25(lessons_fts, 1.0, 2.0, 0.5) AS score \
                 FROM lessons_fts f CROSS JOIN lessons l ON l.id = f.rowid \
                 WHERE lessons_fts MATCH ? AND l.workspace_id = ?"
            }
            // The query's words carry the workspace, as the index's do; built once.
            // Ranked after the cut (below), so only the candidates are.
            (Some(_), Backend::Postgres) => {
                "SELECT l.id AS id, l.search AS search, sq.q AS q \
                 FROM (SELECT learnloop_scoped_query(?, to_tsquery('learnloop', ?)) AS q) sq \
                 CROSS JOIN lessons l WHERE l.search @@ sq.q AND l.workspace_id = ?"
            }
            (None, _) => "SELECT l.id AS id FROM lessons l WHERE l.workspace_id = ?",
        });
        inner.push_str(" AND l.kind = 'lesson' AND ");
        inner.push_str(VISIBLE_BY_DEBRIEF);
        let tag_pattern = filter.tag.as_deref().map(|tag| {
            // A whole tag among the space-separated ones, taken literally.
            let literal = tag
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("% {literal} %")
        });
        if tag_pattern.is_some() {
            inner.push_str(" AND (' ' || l.tags || ' ') LIKE ? ESCAPE '\\'");
        }
        if filter.channel.is_some() {
            inner.push_str(
                " AND +l.debrief_id IN (SELECT cd.id FROM debriefs cd \
                 WHERE cd.workspace_id = ? AND cd.channel = ?)",
            );
        }
        let statuses: &[&str] = match filter.status {
            None => &[],
            Some(StatusFilter::Open) => &["open", "not_yet"],
            Some(StatusFilter::Applied) => &["applied"],
            Some(StatusFilter::NotRelevant) => &["not_relevant"],
            Some(StatusFilter::Stale) => &["stale"],
        };
        match statuses.len() {
            0 => {}
            1 => inner.push_str(" AND l.status = ?"),
            _ => inner.push_str(" AND l.status IN (?, ?)"),
        }
        if filter.owner.is_some() {
            inner.push_str(" AND l.owner = ?");
        }
        if filter.since.is_some() {
            inner.push_str(" AND l.created_at >= ?");
        }
        if filter.until.is_some() {
            inner.push_str(" AND l.created_at < ?");
        }
        if terms.is_none() && filter.before.is_some() {
            inner.push_str(" AND (l.created_at, l.id) < (?, ?)");
        }
        // A search takes the newest matches (by id: the full-text index hands them
        // over in that order and stops at the cut), counts them, and ranks only those.
        let top = match (terms, backend) {
            (Some(_), Backend::Sqlite) => format!(
                "SELECT c.id, c.score, COUNT(*) OVER () AS candidates \
                 FROM ({inner} ORDER BY f.rowid DESC LIMIT ?) c \
                 ORDER BY c.score, c.id DESC LIMIT ?"
            ),
            (Some(_), Backend::Postgres) => format!(
                "SELECT c.id, ts_rank(c.search, c.q) AS score, COUNT(*) OVER () AS candidates \
                 FROM ({inner} ORDER BY l.id DESC LIMIT ?) c \
                 ORDER BY score DESC, c.id DESC LIMIT ?"
            ),
            (None, _) => format!(
                "SELECT id, 0 AS candidates FROM ({inner} \
                 ORDER BY l.created_at DESC, l.id DESC LIMIT ?) newest"
            ),
        };
        let order = match (terms, backend) {
            (Some(_), Backend::Sqlite) => "top.score, l.id DESC",
            (Some(_), Backend::Postgres) => "top.score DESC, l.id DESC",
            (None, _) => "l.created_at DESC, l.id DESC",
        };
        let sql = format!(
            "{HIT_COLUMNS}, CAST(top.candidates AS BIGINT) AS candidates FROM ({top}) top \
             JOIN lessons l ON l.id = top.id \
             JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
             ORDER BY {order}"
        );
        let mut query = db::query_as(&sql);
        if let Some(terms) = terms {
            let expression = self.match_expression(terms, viewer.workspace);
            query = match backend {
                Backend::Sqlite => query.bind(expression),
                Backend::Postgres => query.bind(viewer.workspace.0).bind(expression),
            };
        }
        query = viewer.bind(query.bind(viewer.workspace.0));
        if let Some(pattern) = tag_pattern {
            query = query.bind(pattern);
        }
        if let Some(channel) = &filter.channel {
            query = query.bind(viewer.workspace.0).bind(channel.clone());
        }
        for status in statuses {
            query = query.bind(*status);
        }
        if let Some(owner) = &filter.owner {
            query = query.bind(owner.clone());
        }
        if let Some(since) = filter.since {
            query = query.bind(since.unix_seconds());
        }
        if let Some(until) = filter.until {
            query = query.bind(until.unix_seconds());
        }
        if let (None, Some((at, id))) = (terms, filter.before) {
            query = query.bind(at.unix_seconds()).bind(id);
        }
        if terms.is_some() {
            query = query.bind(candidates);
        }
        let rows: Vec<RankedHit> = query.bind(limit).fetch_all(&self.pool).await?;
        let ranked_newest_only = rows
            .first()
            .is_some_and(|row| row.candidates >= i64::from(candidates));
        Ok(LessonPage {
            hits: rows.into_iter().map(|row| row.hit).collect(),
            ranked_newest_only,
        })
    }

    /// Lesson or action item `id`, if it is of the viewer's workspace and theirs to see.
    pub async fn library_lesson(
        &self,
        viewer: Viewer<'_>,
        id: i64,
    ) -> Result<Option<LessonDetail>, StoreError> {
        Ok(self.details(viewer, "l.id = ?", id).await?.pop())
    }

    /// The lessons and action items of the viewer's workspace, that they may see, where
    /// `key_is` (a condition on `l` with one placeholder) holds for `key`, in order.
    async fn details(
        &self,
        viewer: Viewer<'_>,
        key_is: &'static str,
        key: i64,
    ) -> Result<Vec<LessonDetail>, StoreError> {
        let sql = format!(
            "SELECT l.id, l.kind, l.text, l.tags, l.owner, l.status, l.created_at, \
                 l.debrief_id, d.title AS debrief_title, d.channel \
             FROM lessons l \
             JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
             WHERE {key_is} AND l.workspace_id = ? AND {LESSON_VISIBLE} ORDER BY l.id"
        );
        let query = db::query_as(&sql).bind(key).bind(viewer.workspace.0);
        Ok(viewer.bind_visible(query).fetch_all(&self.pool).await?)
    }

    /// The questions asked about lesson `id` of `workspace`, oldest first, as `reader`
    /// may see them: the notes of "applied" answers (the bot celebrates those in
    /// public), and every note of their own; other answers' notes were said privately.
    pub async fn follow_up_history(
        &self,
        workspace: WorkspaceId,
        lesson: i64,
        reader: &str,
    ) -> Result<Vec<FollowUpEntry>, StoreError> {
        Ok(db::query_as(
            "SELECT asked_at, answer, \
                 CASE WHEN answer = 'applied' OR person = ? THEN note END AS note, answered_at \
             FROM follow_ups WHERE workspace_id = ? AND lesson_id = ? ORDER BY asked_at, id",
        )
        .bind(reader)
        .bind(workspace.0)
        .bind(lesson)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The lessons that say what lesson `id` says, that the viewer may see, newest first.
    pub async fn library_recurrences(
        &self,
        viewer: Viewer<'_>,
        lesson: i64,
    ) -> Result<Vec<LessonHit>, StoreError> {
        let sql = format!(
            "{HIT_COLUMNS} FROM lesson_matches m \
             JOIN lessons l ON l.id = m.match_id \
             JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
             WHERE m.lesson_id = ? AND l.workspace_id = ? AND {LESSON_VISIBLE} \
             ORDER BY l.created_at DESC, l.id DESC LIMIT 20"
        );
        let query = db::query_as(&sql).bind(lesson).bind(viewer.workspace.0);
        Ok(viewer.bind_visible(query).fetch_all(&self.pool).await?)
    }

    /// The lessons and action items of debrief `id` the viewer may see, in order.
    pub async fn library_lessons_of(
        &self,
        viewer: Viewer<'_>,
        debrief: i64,
    ) -> Result<Vec<LessonDetail>, StoreError> {
        self.details(viewer, "l.debrief_id = ?", debrief).await
    }

    /// The debriefs the viewer may see, newest first: all of them (`id` `None`, at most
    /// `limit`) or the one with that id.
    pub async fn library_debriefs(
        &self,
        viewer: Viewer<'_>,
        id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DebriefEntry>, StoreError> {
        let sql = format!(
            "SELECT d.id, d.title, d.channel, d.anonymous, d.created_at, d.closed_at, \
                 (SELECT COUNT(*) FROM reflections r WHERE r.debrief_id = d.id) AS reflections, \
                 (SELECT COUNT(*) FROM lessons l WHERE l.debrief_id = d.id \
                     AND l.kind = 'lesson' AND {LESSON_VISIBLE}) AS lessons, \
                 (SELECT COUNT(*) FROM lessons l WHERE l.debrief_id = d.id \
                     AND l.kind = 'action' AND l.status IN ('open', 'not_yet') \
                     AND {LESSON_VISIBLE}) AS open_actions \
             FROM debriefs d \
             WHERE d.workspace_id = ? AND (? IS NULL OR d.id = ?) AND {DEBRIEF_VISIBLE} \
             ORDER BY d.created_at DESC, d.id DESC LIMIT ?"
        );
        Ok(db::query_as(&sql)
            .bind(viewer.session)
            .bind(viewer.sees_public)
            .bind(viewer.session)
            .bind(viewer.sees_public)
            .bind(viewer.workspace.0)
            .bind(id)
            .bind(id)
            .bind(viewer.session)
            .bind(viewer.sees_public)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The lessons the viewer may see that were said again most often (by lessons they
    /// may also see), most first; of lessons that say the same, the first one said.
    /// The paired lessons the viewer may see are listed once (matches are stored both
    /// ways, so each paired lesson is a `lesson_id`), then the pairs are counted among
    /// them: visibility is not looked up again for every pair.
    pub async fn recurring_lessons(
        &self,
        viewer: Viewer<'_>,
        limit: u32,
    ) -> Result<Vec<Recurring>, StoreError> {
        let sql = format!(
            "WITH seen AS MATERIALIZED (SELECT l.id FROM lessons l \
                 WHERE l.id IN (SELECT p.lesson_id FROM lesson_matches p) \
                   AND l.workspace_id = ? AND {VISIBLE_BY_DEBRIEF}), \
             top AS (SELECT s.id, COUNT(*) AS times \
                 FROM seen s \
                 JOIN lesson_matches m ON m.lesson_id = s.id \
                 JOIN seen o ON o.id = m.match_id \
                 WHERE NOT EXISTS (SELECT 1 FROM lesson_matches e \
                     JOIN seen eo ON eo.id = e.match_id \
                     WHERE e.lesson_id = s.id AND e.match_id < s.id) \
                 GROUP BY s.id ORDER BY times DESC, s.id DESC LIMIT ?) \
             SELECT l.id, l.text, top.times FROM top JOIN lessons l ON l.id = top.id \
             ORDER BY top.times DESC, l.id DESC"
        );
        let query = viewer.bind(db::query_as(&sql).bind(viewer.workspace.0));
        Ok(query.bind(limit).fetch_all(&self.pool).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::search_terms::Term;
    use crate::store::test_support::{
        debrief_in, public_channel, secs, temp_store, viewer_in, workspace,
    };
    use crate::store::{LessonKind, NewLesson, Transition};

    const DAY: i64 = 86_400;

    struct Seed<'a> {
        text: &'a str,
        tags: &'a str,
        owner: &'a str,
        shared: bool,
        at: i64,
    }

    async fn add(store: &Store, ws: WorkspaceId, debrief: DebriefId, seed: Seed<'_>) -> i64 {
        let mut tx = store.begin().await.unwrap();
        let new = NewLesson {
            workspace: ws,
            debrief,
            debrief_title: "Review",
            kind: LessonKind::Lesson,
            text: seed.text,
            author: None,
            owner: Some(seed.owner),
            tags: seed.tags,
            shared: seed.shared,
            follow_up_at: None,
        };
        let id = tx.insert_lesson(new, secs(seed.at)).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    fn texts(hits: &[LessonHit]) -> Vec<&str> {
        hits.iter().map(|h| h.text.as_str()).collect()
    }

    use crate::store::DebriefId;

    #[tokio::test]
    async fn filters_combine_pages_follow_and_only_visible_lessons_are_read() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let other = workspace(&store, "T2").await;
        public_channel(&store, ws, "C1").await;
        public_channel(&store, other, "C1").await;
        let open = debrief_in(&store, ws, "C1", "Review", false, 1).await;
        let private = debrief_in(&store, ws, "G1", "Review", false, 1).await;
        let theirs = debrief_in(&store, other, "C1", "Review", false, 1).await;
        let seeds = [
            ("canary deploys first", "deploy ops", "U1", true, 10 * DAY),
            ("canary dashboards", "ops", "U2", true, 20 * DAY),
            ("unshared canary note", "deploy", "U1", false, 30 * DAY),
            ("a_b% literal tag", "a_b%", "U1", true, 40 * DAY),
        ];
        let mut ids = Vec::new();
        for (text, tags, owner, shared, at) in seeds {
            let seed = Seed {
                text,
                tags,
                owner,
                shared,
                at,
            };
            ids.push(add(&store, ws, open, seed).await);
        }
        let secret = Seed {
            text: "canary in the private room",
            tags: "deploy",
            owner: "U1",
            shared: false,
            at: 50 * DAY,
        };
        let secret = add(&store, ws, private, secret).await;
        let foreign = Seed {
            text: "canary of another company",
            tags: "deploy",
            owner: "U1",
            shared: true,
            at: 60 * DAY,
        };
        add(&store, other, theirs, foreign).await;
        let viewer = viewer_in(&store, ws, "h", &[]).await;
        let all = LessonFilter::default();
        let newest = store
            .library_lessons(viewer, None, &all, 10)
            .await
            .unwrap()
            .hits;
        assert_eq!(
            texts(&newest),
            [
                "a_b% literal tag",
                "canary dashboards",
                "canary deploys first"
            ],
            "newest first; not unshared, private or foreign ones"
        );
        // In the private room now: its lessons (and nothing else) join.
        store
            .refresh_web_session("h", false, &["G1".to_owned()], secs(2))
            .await
            .unwrap();
        let newest = store
            .library_lessons(viewer, None, &all, 10)
            .await
            .unwrap()
            .hits;
        assert_eq!(newest[0].text, "canary in the private room");
        assert!(
            store
                .library_lesson(viewer, secret)
                .await
                .unwrap()
                .is_some()
        );
        let canary = Terms::every(vec![Term::phrase("canary").unwrap()]).unwrap();
        let cases: Vec<(LessonFilter, Option<&Terms>, Vec<&str>)> = vec![
            (
                LessonFilter {
                    tag: Some("deploy".into()),
                    ..all.clone()
                },
                None,
                vec!["canary in the private room", "canary deploys first"],
            ),
            (
                LessonFilter {
                    tag: Some("a_b%".into()),
                    ..all.clone()
                },
                None,
                vec!["a_b% literal tag"],
            ),
            // `_` and `%` are literal: "a_b%" matches no "axb" and "%" alone matches nothing.
            (
                LessonFilter {
                    tag: Some("%".into()),
                    ..all.clone()
                },
                None,
                vec![],
            ),
            (
                LessonFilter {
                    owner: Some("U2".into()),
                    ..all.clone()
                },
                None,
                vec!["canary dashboards"],
            ),
            (
                LessonFilter {
                    channel: Some("G1".into()),
                    ..all.clone()
                },
                None,
                vec!["canary in the private room"],
            ),
            (
                LessonFilter {
                    since: Some(secs(15 * DAY)),
                    until: Some(secs(45 * DAY)),
                    ..all.clone()
                },
                None,
                vec!["a_b% literal tag", "canary dashboards"],
            ),
            (
                LessonFilter {
                    tag: Some("ops".into()),
                    ..all.clone()
                },
                Some(&canary),
                vec!["canary deploys first", "canary dashboards"],
            ),
            (
                LessonFilter {
                    status: Some(StatusFilter::Applied),
                    ..all.clone()
                },
                None,
                vec!["canary dashboards"],
            ),
            (
                LessonFilter {
                    status: Some(StatusFilter::Open),
                    owner: Some("U2".into()),
                    ..all.clone()
                },
                None,
                vec![],
            ),
        ];
        let applied = Transition {
            version: 0,
            answer: "applied",
            status: "applied",
            not_yet_count: 0,
            follow_up_at: None,
            settles: true,
        };
        store
            .record_answer(ws, ids[1], "U2", applied, secs(25 * DAY))
            .await
            .unwrap();
        for (filter, terms, expected) in cases {
            let hits = store
                .library_lessons(viewer, terms, &filter, 10)
                .await
                .unwrap();
            let mut got = texts(&hits.hits);
            let mut expected = expected;
            if terms.is_some() {
                // Ranked by relevance: compare as sets.
                got.sort_unstable();
                expected.sort_unstable();
            }
            assert_eq!(got, expected, "{filter:?}");
        }
        // Pages: two at a time, newest first, the second after the first's last.
        let first = store
            .library_lessons(viewer, None, &all, 2)
            .await
            .unwrap()
            .hits;
        let after = LessonFilter {
            before: first.last().map(|h| (h.created_at, h.id)),
            ..all.clone()
        };
        let second = store
            .library_lessons(viewer, None, &after, 2)
            .await
            .unwrap();
        assert_eq!(
            texts(&second.hits),
            ["canary dashboards", "canary deploys first"]
        );
        // Another workspace's lesson id is nobody's here.
        let foreign_viewer = Viewer {
            workspace: other,
            ..viewer
        };
        assert!(
            store
                .library_lesson(foreign_viewer, ids[0])
                .await
                .unwrap()
                .is_none()
        );
        // An org-wide viewer sees only the rooms they are in.
        let narrow = Viewer {
            sees_public: false,
            ..viewer
        };
        let only = store
            .library_lessons(narrow, None, &all, 10)
            .await
            .unwrap()
            .hits;
        assert_eq!(texts(&only), ["canary in the private room"]);

        let debriefs = store.library_debriefs(viewer, None, 10).await.unwrap();
        assert_eq!(debriefs.len(), 2, "ours, public and private: {debriefs:?}");
        assert!(
            store
                .library_debriefs(viewer, Some(theirs.0), 1)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_search_ranks_the_newest_matches_and_says_when_older_ones_were_left_out() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        public_channel(&store, ws, "C1").await;
        let debrief = debrief_in(&store, ws, "C1", "Review", false, 1).await;
        // Oldest first: the most relevant (the word three times) is the oldest.
        for (text, owner) in [
            ("deploy deploy deploy, then deploy again", "U9"),
            (
                "we deploy on Tuesdays and write about many other things",
                "U1",
            ),
            (
                "deploy behind flags and write about many other things",
                "U1",
            ),
            ("deploy small and write about many other things too", "U1"),
        ] {
            let seed = Seed {
                text,
                tags: "",
                owner,
                shared: true,
                at: 10,
            };
            add(&store, ws, debrief, seed).await;
        }
        let viewer = viewer_in(&store, ws, "h", &[]).await;
        let deploy = Terms::every(vec![Term::phrase("deploy").unwrap()]).unwrap();
        let all = LessonFilter::default();
        let first_words = |page: &LessonPage| -> Vec<String> {
            page.hits
                .iter()
                .map(|hit| hit.text.split(' ').take(2).collect::<Vec<_>>().join(" "))
                .collect()
        };

        // Every match ranked: the oldest, most relevant, first.
        let whole = store
            .library_page(viewer, Some(&deploy), &all, 10, 10)
            .await
            .unwrap();
        assert!(!whole.ranked_newest_only);
        assert_eq!(whole.hits.len(), 4);
        assert_eq!(first_words(&whole)[0], "deploy deploy");

        // Two ranked: only the two newest matches, and the page is told older ones
        // may match; with room for one more than match, it is not.
        let newest = store
            .library_page(viewer, Some(&deploy), &all, 10, 2)
            .await
            .unwrap();
        assert!(newest.ranked_newest_only);
        let mut got = first_words(&newest);
        got.sort();
        assert_eq!(got, ["deploy behind", "deploy small"]);
        let roomy = store
            .library_page(viewer, Some(&deploy), &all, 10, 5)
            .await
            .unwrap();
        assert!(!roomy.ranked_newest_only);
        assert_eq!(roomy.hits.len(), 4);

        // A filter applies before the cut: it reaches the oldest.
        let by_owner = LessonFilter {
            owner: Some("U9".into()),
            ..LessonFilter::default()
        };
        let filtered = store
            .library_page(viewer, Some(&deploy), &by_owner, 10, 2)
            .await
            .unwrap();
        assert!(!filtered.ranked_newest_only);
        assert_eq!(first_words(&filtered), ["deploy deploy"]);
    }
}

#[cfg(test)]
mod recurrence_tests {
    use super::*;
    use crate::store::test_support::{
        debrief_in, lesson, public_channel, temp_store, viewer_in, workspace,
    };

    #[tokio::test]
    async fn a_lesson_said_three_times_is_listed_once_with_the_times_it_came_back() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        public_channel(&store, ws, "C1").await;
        let debrief = debrief_in(&store, ws, "C1", "Review", false, 1).await;
        for text in [
            "Pin versions",
            "Pin the versions",
            "Versions pinned",
            "Other",
        ] {
            lesson(&store, ws, debrief, "Review", text).await;
        }
        let ids: Vec<i64> = db::query_scalar("SELECT id FROM lessons ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let (a, b, c) = (ids[0], ids[1], ids[2]);
        store
            .record_all_matches(&[(a, vec![b, c]), (b, vec![c])])
            .await
            .unwrap();
        let viewer = viewer_in(&store, ws, "h", &[]).await;
        let recurring = store.recurring_lessons(viewer, 10).await.unwrap();
        assert_eq!(
            recurring,
            [Recurring {
                id: a,
                text: "Pin versions".into(),
                times: 2
            }]
        );
        // The recurrences of the second: the first and the third, newest first.
        let of_b = store.library_recurrences(viewer, b).await.unwrap();
        let mut got: Vec<i64> = of_b.iter().map(|hit| hit.id).collect();
        got.sort_unstable();
        assert_eq!(got, [a, c]);
    }

    #[tokio::test]
    async fn recurrences_count_only_lessons_the_reader_may_see() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        public_channel(&store, ws, "C1").await;
        // Said first in a private room, then twice in public.
        let private = debrief_in(&store, ws, "G1", "Retro", false, 1).await;
        let public = debrief_in(&store, ws, "C1", "Review", false, 2).await;
        lesson(&store, ws, private, "Retro", "Pin versions").await;
        lesson(&store, ws, public, "Review", "Pin the versions").await;
        lesson(&store, ws, public, "Review", "Versions pinned").await;
        let ids: Vec<i64> = db::query_scalar("SELECT id FROM lessons ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let (hidden, first, second) = (ids[0], ids[1], ids[2]);
        store
            .record_all_matches(&[(hidden, vec![first, second]), (first, vec![second])])
            .await
            .unwrap();
        // Each listed lesson and how many times it came back, for `viewer`.
        let listed = |viewer: Viewer<'static>| {
            let store = store.clone();
            async move {
                let recurring = store.recurring_lessons(viewer, 10).await.unwrap();
                recurring
                    .iter()
                    .map(|r| (r.id, r.times))
                    .collect::<Vec<_>>()
            }
        };
        let outsider = viewer_in(&store, ws, "out", &[]).await;
        assert_eq!(
            listed(outsider).await,
            [(first, 1)],
            "the private one neither listed nor counted"
        );
        let member = viewer_in(&store, ws, "in", &["G1"]).await;
        assert_eq!(
            listed(member).await,
            [(hidden, 2)],
            "the first said, with both that came back"
        );
    }
}
