//! Mentors: people who opted in to being asked about what they applied, and the
//! suggestions the bot made of them.

use sqlx::FromRow;

use super::db;
use super::scopes::Audience;
use super::search_terms::Terms;
use super::{Store, StoreError, WorkspaceId};
use crate::domain::Timestamp;

/// An opted-in person and the applied lessons the asking audience may see.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct MentorRow {
    pub person: String,
    /// Space-separated topics they named (empty: their lessons' tags).
    pub topics: String,
    /// Applied lessons (on the topic asked about, when one was).
    pub applied: i64,
}

/// An applied lesson of an opted-in person that matched what someone starts.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct MentorLesson {
    pub person: String,
    pub topics: String,
    /// The lesson's tags.
    pub tags: String,
}

/// Matched lessons read for one suggestion; enough to rank a handful of people.
const MATCHED_LESSONS: i64 = 500;

impl Store {
    /// Opts `person` in (again), with the topics they named.
    pub async fn set_mentor(
        &self,
        workspace: WorkspaceId,
        person: &str,
        topics: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO mentors (workspace_id, person, topics, since) VALUES (?, ?, ?, ?) \
             ON CONFLICT (workspace_id, person) DO UPDATE SET topics = excluded.topics",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(topics)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Opts `person` out; whether they were in.
    pub async fn remove_mentor(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<bool, StoreError> {
        Ok(
            db::query("DELETE FROM mentors WHERE workspace_id = ? AND person = ?")
                .bind(workspace.0)
                .bind(person)
                .execute(&self.pool)
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Whether `person` is opted in.
    pub async fn is_mentor(
        &self,
        workspace: WorkspaceId,
        person: &str,
    ) -> Result<bool, StoreError> {
        Ok(db::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mentors WHERE workspace_id = ? AND person = ?)",
        )
        .bind(workspace.0)
        .bind(person)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Every opted-in person with how many lessons they applied (tagged `topic`, when
    /// given) that `audience` may see; lessons of anonymous debriefs never count.
    pub async fn mentors(
        &self,
        workspace: WorkspaceId,
        topic: Option<&str>,
        audience: Audience<'_>,
    ) -> Result<Vec<MentorRow>, StoreError> {
        Ok(db::query_as(sql_with_dialect_part!(
            [
                "SELECT m.person, m.topics, \
                     (SELECT COUNT(*) FROM lessons l \
                      JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
                      WHERE l.workspace_id = m.workspace_id AND l.owner = m.person \
                        AND l.status = 'applied' AND d.anonymous = 0 AND (?2 IS NULL OR "
            ],
            sqlite: "instr(' ' || l.tags || ' ', ' ' || ?2 || ' ') > 0",
            postgres: "strpos(' ' || l.tags || ' ', ' ' || ?2 || ' ') > 0",
            [
                ") AND ",
                lesson_visible!("l", "d", "3", "4"),
                ") AS applied \
                 FROM mentors m WHERE m.workspace_id = ?1 ORDER BY applied DESC, m.since, m.person"
            ]
        ))
        .bind(workspace.0)
        .bind(topic)
        .bind(audience.bound())
        .bind(audience.sees_public())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Applied lessons matching `terms` whose owners opted in, as `audience` may see
    /// them: never from anonymous debriefs, never `starter`'s own, never of someone
    /// suggested to `starter` since `not_since`.
    pub async fn mentor_lessons(
        &self,
        workspace: WorkspaceId,
        terms: &Terms,
        audience: Audience<'_>,
        starter: &str,
        not_since: Timestamp,
    ) -> Result<Vec<MentorLesson>, StoreError> {
        let not_since = not_since.unix_seconds();
        Ok(db::query_as(sql_with_dialect_part!(
            ["SELECT l.owner AS person, m.topics, l.tags FROM "],
            sqlite: "lessons_fts f JOIN lessons l ON l.id = f.rowid \
                     JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
                     JOIN mentors m ON m.workspace_id = l.workspace_id AND m.person = l.owner \
                     WHERE lessons_fts MATCH ?1",
            postgres: "lessons l \
                       JOIN debriefs d ON d.id = l.debrief_id AND d.workspace_id = l.workspace_id \
                       JOIN mentors m ON m.workspace_id = l.workspace_id AND m.person = l.owner \
                       WHERE l.search @@ \
                           (SELECT learnloop_scoped_query(?2, to_tsquery('learnloop', ?1)))",
            [
                " AND l.workspace_id = ?2 AND l.status = 'applied' \
                   AND d.anonymous = 0 AND l.owner != ?5 AND ",
            lesson_visible!("l", "d", "3", "4"),
            " AND NOT EXISTS (SELECT 1 FROM mentor_suggestions s \
                 WHERE s.workspace_id = ?2 AND s.starter = ?5 AND s.mentor = l.owner \
                   AND s.suggested_at > ?6) \
                 LIMIT ?7"
            ]
        ))
        .bind(self.match_expression(terms, workspace))
        .bind(workspace.0)
        .bind(audience.bound())
        .bind(audience.sees_public())
        .bind(starter)
        .bind(not_since)
        .bind(MATCHED_LESSONS)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether `mentor` was suggested to `starter` since `since` (an intro button is
    /// honoured only for a suggestion the bot made).
    pub async fn was_suggested(
        &self,
        workspace: WorkspaceId,
        starter: &str,
        mentor: &str,
        since: Timestamp,
    ) -> Result<bool, StoreError> {
        let since = since.unix_seconds();
        Ok(db::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mentor_suggestions \
             WHERE workspace_id = ? AND starter = ? AND mentor = ? AND suggested_at >= ?)",
        )
        .bind(workspace.0)
        .bind(starter)
        .bind(mentor)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Remembers that `mentor` was suggested to `starter` at `now`.
    pub async fn record_mentor_suggestion(
        &self,
        workspace: WorkspaceId,
        starter: &str,
        mentor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO mentor_suggestions (workspace_id, starter, mentor, suggested_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id, starter, mentor) \
             DO UPDATE SET suggested_at = excluded.suggested_at",
        )
        .bind(workspace.0)
        .bind(starter)
        .bind(mentor)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::search_terms::Term;
    use crate::store::test_support::secs;
    use crate::store::test_support::{
        debrief, debrief_in, lesson, public_channel, temp_store, workspace,
    };

    #[tokio::test]
    async fn only_applied_public_named_lessons_of_opted_in_people_match() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let named = debrief(&store, ws, "Deploy week").await;
        lesson(
            &store,
            ws,
            named,
            "Deploy week",
            "Canary first on every deploy",
        )
        .await;
        lesson(&store, ws, named, "Deploy week", "Write the deploy runbook").await;
        let anonymous = debrief_in(&store, ws, "C1", "Deploy failure stories", true, 1).await;
        lesson(
            &store,
            ws,
            anonymous,
            "Deploy failure stories",
            "A deploy froze prod",
        )
        .await;
        public_channel(&store, ws, "C1").await;
        // Everything but the runbook lesson was applied.
        db::query("UPDATE lessons SET status = 'applied', tags = 'deploy' WHERE text != ?")
            .bind("Write the deploy runbook")
            .execute(&store.pool)
            .await
            .unwrap();
        let terms = Terms::every(vec![Term::phrase("deploy").unwrap()]).unwrap();
        let matched = |starter: &'static str, audience: Audience<'static>| {
            let (store, terms) = (store.clone(), terms.clone());
            async move {
                store
                    .mentor_lessons(ws, &terms, audience, starter, secs(50))
                    .await
                    .unwrap()
            }
        };
        assert!(
            matched("U2", Audience::In("C2")).await.is_empty(),
            "nobody opted in yet"
        );
        store.set_mentor(ws, "U1", "", secs(10)).await.unwrap();
        let found = matched("U2", Audience::In("C2")).await;
        assert_eq!(
            found,
            vec![MentorLesson {
                person: "U1".into(),
                topics: String::new(),
                tags: "deploy".into()
            }],
            "the applied lesson of the named debrief only"
        );
        assert!(
            matched("U1", Audience::In("C2")).await.is_empty(),
            "never oneself"
        );
        assert!(
            matched("U2", Audience::Only("C9")).await.is_empty(),
            "outside the starter's scope"
        );
        let listed = store
            .mentors(ws, Some("deploy"), Audience::In("C2"))
            .await
            .unwrap();
        assert_eq!(listed[0].applied, 1);
        store
            .record_mentor_suggestion(ws, "U2", "U1", secs(100))
            .await
            .unwrap();
        assert!(
            matched("U2", Audience::In("C2")).await.is_empty(),
            "suggested lately"
        );
        assert!(store.remove_mentor(ws, "U1").await.unwrap());
        assert!(!store.is_mentor(ws, "U1").await.unwrap());
    }
}
