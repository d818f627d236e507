//! Debriefs and the reflections people add to them, always through their workspace.

use sqlx::FromRow;

use super::db;
use super::db::Conn;

use super::{OutboxId, Store, StoreError, StoreTx, WorkspaceId};
pub use crate::domain::DebriefId;
use crate::domain::Timestamp;

/// A debrief as stored. `questions` is the frozen template as JSON (the app reads it).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct StoredDebrief {
    pub id: i64,
    pub workspace_id: i64,
    pub channel: String,
    pub title: String,
    pub template: String,
    pub questions: String,
    pub facilitator: String,
    pub anonymous: bool,
    pub author_salt: Option<String>,
    pub card_outbox_id: Option<i64>,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub created_at: Timestamp,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub closed_at: Option<Timestamp>,
    /// When the scheduler closes it, if it has a close-by time.
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    pub closes_at: Option<Timestamp>,
}

impl StoredDebrief {
    pub fn debrief_id(&self) -> DebriefId {
        DebriefId(self.id)
    }
    pub fn card(&self) -> Option<OutboxId> {
        self.card_outbox_id.map(OutboxId)
    }
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A debrief to start.
#[derive(Clone, Copy, Debug)]
pub struct NewDebrief<'a> {
    pub workspace: WorkspaceId,
    pub channel: &'a str,
    pub title: &'a str,
    pub template: &'a str,
    pub questions: &'a str,
    pub facilitator: &'a str,
    pub anonymous: bool,
    pub author_salt: &'a str,
    pub closes_at: Option<Timestamp>,
}

/// One person's answers to a debrief. `author` is `None` in anonymous debriefs.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Reflection {
    pub author: Option<String>,
    /// JSON object: question id -> answer text.
    pub answers: String,
    #[sqlx(try_from = "super::columns::Seconds")]
    pub updated_at: Timestamp,
}

/// `SELECT <every debrief column> FROM debriefs <rest>`, as one literal.
macro_rules! select_debriefs {
    ($rest:literal) => {
        concat!(
            "SELECT id, workspace_id, channel, title, template, questions, facilitator, \
                 anonymous != 0 AS anonymous, author_salt, card_outbox_id, created_at, closed_at, \
                 closes_at \
             FROM debriefs ",
            $rest
        )
    };
}

async fn count_reflections(
    conn: &mut Conn,
    workspace: WorkspaceId,
    debrief: DebriefId,
) -> Result<i64, StoreError> {
    Ok(db::query_scalar(
        "SELECT COUNT(*) FROM reflections WHERE workspace_id = ? AND debrief_id = ?",
    )
    .bind(workspace.0)
    .bind(debrief.0)
    .fetch_one(conn)
    .await?)
}

impl StoreTx {
    /// Starts a debrief; its card is attached with [`StoreTx::attach_card`].
    pub async fn create_debrief(
        &mut self,
        new: NewDebrief<'_>,
        now: Timestamp,
    ) -> Result<DebriefId, StoreError> {
        let now = now.unix_seconds();
        let id: i64 = db::query_scalar(
            "INSERT INTO debriefs (workspace_id, channel, title, template, questions, facilitator, \
                 anonymous, author_salt, created_at, closes_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.workspace.0)
        .bind(new.channel)
        .bind(new.title)
        .bind(new.template)
        .bind(new.questions)
        .bind(new.facilitator)
        .bind(new.anonymous)
        .bind(new.author_salt)
        .bind(now)
        .bind(new.closes_at.map(Timestamp::unix_seconds))
        .fetch_one(&mut self.tx)
        .await?;
        Ok(DebriefId(id))
    }

    /// Remembers which outbox row is the debrief's card.
    pub async fn attach_card(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        card: OutboxId,
    ) -> Result<(), StoreError> {
        db::query("UPDATE debriefs SET card_outbox_id = ? WHERE workspace_id = ? AND id = ?")
            .bind(card.0)
            .bind(workspace.0)
            .bind(debrief.0)
            .execute(&mut self.tx)
            .await?;
        Ok(())
    }

    /// Stores a person's answers, replacing their earlier ones; `true` when this is
    /// their first reflection on the debrief. Refused (`NotFound`) once it closed.
    pub async fn save_reflection(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        author_key: &str,
        author: Option<&str>,
        answers: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let existed: Option<i64> =
            db::query_scalar("SELECT id FROM reflections WHERE debrief_id = ? AND author_key = ?")
                .bind(debrief.0)
                .bind(author_key)
                .fetch_optional(&mut self.tx)
                .await?;
        let saved: Option<i64> = db::query_scalar(
            "INSERT INTO reflections (workspace_id, debrief_id, author_key, author, answers, \
                 created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6 FROM debriefs \
             WHERE workspace_id = ?1 AND id = ?2 AND closed_at IS NULL \
             ON CONFLICT (debrief_id, author_key) DO UPDATE SET \
                 answers = excluded.answers, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .bind(author_key)
        .bind(author)
        .bind(answers)
        .bind(now)
        .fetch_optional(&mut self.tx)
        .await?;
        saved.ok_or(StoreError::NotFound)?;
        Ok(existed.is_none())
    }

    /// How many people have reflected, as of this transaction.
    pub async fn reflection_count(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<i64, StoreError> {
        count_reflections(&mut self.tx, workspace, debrief).await
    }

    /// Closes an open debrief and erases its salt; `false` if it was already closed.
    pub async fn close_debrief(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let closed = db::query(
            "UPDATE debriefs SET closed_at = ?, author_salt = NULL \
             WHERE workspace_id = ? AND id = ? AND closed_at IS NULL",
        )
        .bind(now)
        .bind(workspace.0)
        .bind(debrief.0)
        .execute(&mut self.tx)
        .await?;
        Ok(closed.rows_affected() == 1)
    }

    /// An anonymous debrief is closing: its reflections keep only that someone
    /// reflected. Their answers (already in the summary and the lessons) would show
    /// whose lines came together, their times when each person submitted, and their
    /// keys, given a user id and the salt, who wrote them.
    pub async fn forget_who_reflected(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        // Each key is 256 random bits (two v4 UUIDs, 244, on PostgreSQL), drawn by the
        // database for every row.
        db::query(sql_with_dialect_part!(
            ["UPDATE reflections SET answers = '{}', author_key = "],
            sqlite: "lower(hex(randomblob(32)))",
            postgres: "replace(CAST(gen_random_uuid() AS TEXT) || CAST(gen_random_uuid() AS TEXT), '-', '')",
            [", author = NULL, created_at = ?1, updated_at = ?1 \
             WHERE workspace_id = ?2 AND debrief_id = ?3"]
        ))
        .bind(now)
        .bind(workspace.0)
        .bind(debrief.0)
        .execute(&mut self.tx)
        .await?;
        Ok(())
    }

    /// Marks the debrief's non-reflectors as nudged now; `false` (and nothing marked)
    /// when it is closed or was nudged less than `min_gap` seconds ago.
    pub async fn mark_nudged(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        now: Timestamp,
        min_gap: i64,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let marked = db::query(
            "UPDATE debriefs SET nudged_at = ?1 \
             WHERE workspace_id = ?2 AND id = ?3 AND closed_at IS NULL \
                 AND (nudged_at IS NULL OR nudged_at <= ?1 - ?4)",
        )
        .bind(now)
        .bind(workspace.0)
        .bind(debrief.0)
        .bind(min_gap)
        .execute(&mut self.tx)
        .await?;
        Ok(marked.rows_affected() == 1)
    }

    /// Marks the facilitator as reminded of the close-by time; `false` when another
    /// pass (or process) already did, or the debrief closed.
    pub async fn mark_close_reminded(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let marked = db::query(
            "UPDATE debriefs SET close_reminded_at = ? \
             WHERE workspace_id = ? AND id = ? AND closed_at IS NULL \
                 AND close_reminded_at IS NULL",
        )
        .bind(now)
        .bind(workspace.0)
        .bind(debrief.0)
        .execute(&mut self.tx)
        .await?;
        Ok(marked.rows_affected() == 1)
    }

    /// Keeps a kudos line of a closing debrief.
    pub async fn insert_kudos(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        text: &str,
        author: Option<&str>,
        shared: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        db::query(
            "INSERT INTO kudos (workspace_id, debrief_id, text, author, visibility, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .bind(text)
        .bind(author)
        .bind(if shared { "shared" } else { "private" })
        .bind(now)
        .execute(&mut self.tx)
        .await?;
        Ok(())
    }

    /// The review is over (the debrief closed): its working state goes.
    pub async fn forget_review(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<(), StoreError> {
        db::query("DELETE FROM debrief_reviews WHERE workspace_id = ? AND debrief_id = ?")
            .bind(workspace.0)
            .bind(debrief.0)
            .execute(&mut self.tx)
            .await?;
        Ok(())
    }

    /// Every reflection of the debrief, oldest first.
    pub async fn reflections(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<Vec<Reflection>, StoreError> {
        read_reflections(&mut self.tx, workspace, debrief).await
    }
}

async fn read_reflections(
    conn: &mut Conn,
    workspace: WorkspaceId,
    debrief: DebriefId,
) -> Result<Vec<Reflection>, StoreError> {
    Ok(db::query_as(
        "SELECT author, answers, updated_at FROM reflections \
         WHERE workspace_id = ? AND debrief_id = ? ORDER BY id",
    )
    .bind(workspace.0)
    .bind(debrief.0)
    .fetch_all(conn)
    .await?)
}

impl Store {
    /// One debrief of the workspace, or `NotFound`.
    pub async fn debrief(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<StoredDebrief, StoreError> {
        Ok(
            db::query_as(select_debriefs!("WHERE workspace_id = ? AND id = ?"))
                .bind(workspace.0)
                .bind(debrief.0)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Open debriefs, newest first: of one channel, or of the whole workspace.
    pub async fn open_debriefs(
        &self,
        workspace: WorkspaceId,
        channel: Option<&str>,
    ) -> Result<Vec<StoredDebrief>, StoreError> {
        Ok(db::query_as(select_debriefs!(
            "WHERE workspace_id = ?1 AND closed_at IS NULL AND (?2 IS NULL OR channel = ?2) \
             ORDER BY id DESC LIMIT 20"
        ))
        .bind(workspace.0)
        .bind(channel)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Open debriefs (newest first, at most 20) in public conversations, by their
    /// stored scope, or facilitated by `person`: those a person may be asked to reflect
    /// on without asking the platform who is where.
    pub async fn open_debriefs_visible_to(
        &self,
        workspace: WorkspaceId,
        person: &str,
        public_too: bool,
    ) -> Result<Vec<StoredDebrief>, StoreError> {
        Ok(db::query_as(select_debriefs!(
            "WHERE workspace_id = ?1 AND closed_at IS NULL \
               AND (facilitator = ?2 OR ?3 = 1 AND EXISTS (SELECT 1 FROM conversation_scopes c \
                    WHERE c.workspace_id = ?1 AND c.conversation = debriefs.channel \
                      AND c.public != 0)) \
             ORDER BY id DESC LIMIT 20"
        ))
        .bind(workspace.0)
        .bind(person)
        .bind(public_too)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Which of these (debrief, author key) pairs have a reflection, in one query.
    pub async fn reflected(
        &self,
        workspace: WorkspaceId,
        keys: &[(i64, String)],
    ) -> Result<std::collections::HashSet<i64>, StoreError> {
        if keys.is_empty() {
            return Ok(Default::default());
        }
        let pairs = serde_json::to_string(keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let found: Vec<i64> = db::query_scalar(over_json_rows!(
            ["SELECT r.debrief_id FROM "],
            "?2",
            [
                " JOIN reflections r ON r.debrief_id = CAST(j.value ->> 0 AS BIGINT) \
                 AND r.author_key = j.value ->> 1 \
             WHERE r.workspace_id = ?1"
            ]
        ))
        .bind(workspace.0)
        .bind(pairs)
        .fetch_all(&self.pool)
        .await?;
        Ok(found.into_iter().collect())
    }

    /// The person's reflection (by author key), to fill in a form they open again.
    pub async fn reflection_by_key(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        author_key: &str,
    ) -> Result<Option<Reflection>, StoreError> {
        Ok(db::query_as(
            "SELECT author, answers, updated_at FROM reflections \
             WHERE workspace_id = ? AND debrief_id = ? AND author_key = ?",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .bind(author_key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records the facilitator's decisions on one page of the review (candidate key,
    /// decision as JSON), replacing earlier ones; refused (`NotFound`) once it closed.
    pub async fn save_review_decisions(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        decisions: &[(String, String)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        for (key, decision) in decisions {
            let saved = db::query(
                "INSERT INTO debrief_reviews (workspace_id, debrief_id, item_key, decision, updated_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5 FROM debriefs \
                 WHERE workspace_id = ?1 AND id = ?2 AND closed_at IS NULL \
                 ON CONFLICT (debrief_id, item_key) DO UPDATE SET \
                     decision = excluded.decision, updated_at = excluded.updated_at",
            )
            .bind(workspace.0)
            .bind(debrief.0)
            .bind(key)
            .bind(decision)
            .bind(now)
            .execute(&mut tx.tx)
            .await?;
            if saved.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The review's decisions so far, by candidate key (JSON each).
    pub async fn review_decisions(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(db::query_as(
            "SELECT item_key, decision FROM debrief_reviews \
             WHERE workspace_id = ? AND debrief_id = ? ORDER BY item_key",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The author keys of everyone who reflected on the debrief.
    pub async fn reflection_keys(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let keys: Vec<String> = db::query_scalar(
            "SELECT author_key FROM reflections WHERE workspace_id = ? AND debrief_id = ?",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(keys.into_iter().collect())
    }

    /// Every reflection of the debrief, oldest first (outside a transaction).
    pub async fn reflections(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<Vec<Reflection>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_reflections(&mut conn, workspace, debrief).await
    }

    /// How many people have reflected.
    pub async fn reflection_count(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        count_reflections(&mut conn, workspace, debrief).await
    }

    /// Open debriefs of every installed workspace with something due about their close-by time,
    /// soonest first: those to close (the time has come) and those whose facilitator
    /// has not been reminded yet and whose time is within `remind_before` seconds.
    pub async fn debriefs_closing(
        &self,
        now: Timestamp,
        remind_before: i64,
        limit: u32,
    ) -> Result<Vec<StoredDebrief>, StoreError> {
        let now = now.unix_seconds();
        Ok(db::query_as(select_debriefs!(
            "WHERE closed_at IS NULL AND closes_at IS NOT NULL \
                 AND (closes_at <= ?1 OR (close_reminded_at IS NULL AND closes_at <= ?1 + ?2)) \
                 AND NOT EXISTS (SELECT 1 FROM workspaces w \
                                 WHERE w.id = debriefs.workspace_id AND w.uninstalled_at IS NOT NULL) \
             ORDER BY closes_at LIMIT ?3"
        ))
        .bind(now)
        .bind(remind_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Removes a debrief whose card could not be posted (nobody could have reflected).
    pub async fn delete_debrief(
        &self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<(), StoreError> {
        // In a write transaction, as every write of lessons is: their outcome counts
        // are rows other writers lock too.
        let mut tx = self.begin().await?;
        db::query("DELETE FROM debriefs WHERE workspace_id = ? AND id = ?")
            .bind(workspace.0)
            .bind(debrief.0)
            .execute(&mut tx.tx)
            .await?;
        tx.commit().await
    }
}
