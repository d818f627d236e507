//! The only place with SQL. A [`Store`] wraps the sqlx pool; each submodule adds the
//! queries for one kind of row. Every query binds its values and every row below a
//! workspace is read and written through its [`WorkspaceId`].

/// The columns of a `LessonHit`, over `lessons l JOIN debriefs d`. Macros, so that the
/// queries using them stay static strings (`concat!`), never SQL built at run time.
macro_rules! lesson_hit_columns {
    () => {
        "l.id, l.text, l.tags, l.owner, l.status, l.debrief_id, d.title AS debrief_title, \
         d.channel, l.created_at"
    };
}

/// SQL that holds when lesson `$l` of debrief `$d` may be shown to the audience whose
/// conversation is bound at `?$n` and whose `Audience::sees_public` flag is bound at
/// `?$p`: it was said in that very conversation, or the audience may see public lessons
/// and it was said in public in a conversation that is still public. A `NULL`
/// conversation (internal use) sees everything.
macro_rules! lesson_visible {
    ($l:literal, $d:literal, $n:literal, $p:literal) => {
        concat!(
            "(?",
            $n,
            " IS NULL OR ",
            $d,
            ".channel = ?",
            $n,
            " OR (?",
            $p,
            " = 1 AND ",
            $l,
            ".visibility = 'shared' AND EXISTS (SELECT 1 FROM conversation_scopes s \
             WHERE s.workspace_id = ",
            $d,
            ".workspace_id AND s.conversation = ",
            $d,
            ".channel AND s.public = 1)))"
        )
    };
}

/// SQL that holds when debrief `$d` may be counted for the audience bound at `?$n` and
/// `?$p` (as in `lesson_visible!`): it was held there, or in a public conversation and
/// the audience may see public ones.
macro_rules! debrief_visible {
    ($d:literal, $n:literal, $p:literal) => {
        concat!(
            "(?",
            $n,
            " IS NULL OR ",
            $d,
            ".channel = ?",
            $n,
            " OR (?",
            $p,
            " = 1 AND EXISTS (SELECT 1 \
             FROM conversation_scopes s WHERE s.workspace_id = ",
            $d,
            ".workspace_id \
             AND s.conversation = ",
            $d,
            ".channel AND s.public = 1)))"
        )
    };
}

/// The `Sql` of a statement that reads the JSON array bound at placeholder `$p` as
/// rows `j (value, key)`, given the SQL before and after that row source: SQLite's
/// `json_each`, PostgreSQL's `json_array_elements` (whose `key` counts from 1, not 0;
/// only its order is used). `j.value ->> N` is text on PostgreSQL, so integers are read
/// with `CAST(… AS BIGINT)`, which means the same on both.
macro_rules! over_json_rows {
    ([$($before:expr),* $(,)?], $p:literal, [$($after:expr),* $(,)?]) => {
        sql_with_dialect_part!(
            [$($before),*],
            sqlite: concat!("json_each(", $p, ") AS j"),
            postgres: concat!("json_array_elements(CAST(", $p, " AS json)) WITH ORDINALITY AS j (value, key)"),
            [$($after),*]
        )
    };
}

/// The `Sql` of a statement whose SQLite and PostgreSQL texts differ in one part:
/// the common pieces before and after it, and each dialect's part.
macro_rules! sql_with_dialect_part {
    (
        [$($before:expr),* $(,)?],
        sqlite: $sqlite:expr,
        postgres: $postgres:expr,
        [$($after:expr),* $(,)?] $(,)?
    ) => {
        db::Sql::dialects(
            concat!($($before,)* $sqlite, $($after),*),
            concat!($($before,)* $postgres, $($after),*),
        )
    };
}

/// `SELECT` of a `TrackedLesson` (a lesson with where it came from) up to `WHERE`.
macro_rules! select_tracked_lessons {
    () => {
        "SELECT l.id, l.workspace_id, l.kind, l.text, l.owner, l.status, l.not_yet_count, \
             l.follow_up_at, d.title AS debrief_title, d.channel, d.created_at AS debrief_created_at \
         FROM lessons l JOIN debriefs d ON d.id = l.debrief_id "
    };
}

mod checkins;
mod columns;
mod conversations;
#[doc(hidden)]
pub mod db;
mod debriefs;
mod digest;
mod events;
mod export;
mod follow_ups;
mod goals;
mod installations;
mod lessons;
mod library;
mod matches;
mod mentors;
mod open_actions;
mod outbox;
mod outcomes;
mod people;
mod recaps;
mod schedules;
mod scopes;
#[doc(hidden)]
pub mod scratch;
pub mod search_terms;
mod send_rates;
mod teams;
pub mod transfer;
mod wakeups;
mod web_sessions;
mod workspaces;

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use db::Backend;
use db::Pool;

use crate::config::{DatabaseSettings, DatabaseUrl};

pub use checkins::{Checkin, CheckinEnd, NewCheckin, PastCheckin};
pub use conversations::Conversation;
pub use debriefs::{DebriefId, NewDebrief, Reflection, StoredDebrief};
pub use digest::{AnsweredFollowUp, DigestFacts, KudosLine, ReachedGoal};
pub use events::{Claim, ClaimToken};
pub use export::{ExportScope, ExportSize, ExportedDebrief, ExportedFollowUp, ExportedLesson};
pub use follow_ups::{Ask, AskedLesson, LessonOrigin, TrackedLesson, Transition, Unreachable};
pub use goals::Goal;
pub use installations::{Credentials, Installation, InstallationState, NewInstallation, Rotated};
pub use lessons::{Lesson, LessonHit, LessonKind, NewLesson};
pub use library::{
    DebriefEntry, FollowUpEntry, LessonDetail, LessonFilter, LessonPage, Recurring,
    SEARCH_CANDIDATES, StatusFilter, Viewer,
};
pub use matches::{LessonMatch, LessonText, LessonToMatch};
pub use mentors::{MentorLesson, MentorRow};
pub use open_actions::{ActionOutcome, OpenAction, SettledAction};
pub use outbox::{
    Anchor, AnchorField, NewOutboxMessage, OutboxClaim, OutboxId, OutboxMessage, OutboxMethod,
    OutboxState, OutboxStatus, Settlement, nudge_key,
};
pub use outcomes::{OutcomeWeek, TagOutcome, week_of, week_start};
pub use people::{Person, PersonId};
pub use recaps::Contributor;
pub use schedules::{
    NewSchedule, Occurrence, RunOutcome, ScheduleId, ScheduleKind, StoredSchedule,
};
pub use scopes::{Audience, ConversationKind, ConversationScope, ScopeToCheck};
pub use send_rates::SendRate;
pub use teams::{TeamsConversation, TeamsPerson};
pub use web_sessions::{NewWebSession, WebSession};
pub use workspaces::{NewWorkspace, Platform, Workspace, WorkspaceId, WorkspaceSummary};

/// Migrations compiled into the binary, so `serve` and `migrate` need no files beside it.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a readiness check waits for the database.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// What can go wrong in the store, in terms callers act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such row")]
    NotFound,
    #[error("conflicts with an existing row: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
    /// A stored value this build cannot read (e.g. a JSON column).
    #[error("a stored value cannot be read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Conflict(db.message().to_owned())
            }
            _ => Self::Other(err),
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// How stored tokens open, and the environment's single-workspace token.
    credentials: std::sync::Arc<Credentials>,
    /// Signalled whenever a message was committed to the outbox, so the delivery worker
    /// wakes without any caller having to remember to wake it.
    queued: std::sync::Arc<tokio::sync::Notify>,
    /// Signalled whenever a schedule was created or turned off, so the scheduler
    /// looks again at what is due next, likewise without a caller waking it.
    schedules_changed: std::sync::Arc<tokio::sync::Notify>,
}

impl Store {
    /// Opens the pool (creating the SQLite file if missing) without migrating.
    pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let pool = match &settings.url {
            DatabaseUrl::Sqlite(url) => connect_sqlite(url, settings).await?,
            DatabaseUrl::Postgres(url) => connect_postgres(url.expose(), settings).await?,
        };
        Ok(Self {
            pool,
            credentials: Default::default(),
            queued: Default::default(),
            schedules_changed: Default::default(),
        })
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }
    /// This handle (and its clones) with `credentials`: set once at start, before the
    /// store is shared.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = std::sync::Arc::new(credentials);
        self
    }

    /// Applies every pending migration, then finishes what SQL alone cannot (indexing
    /// lessons stored before the search index changed); safe to run again and from
    /// several processes.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .context("applying database migrations failed")?;
        let indexed = self
            .index_pending_lessons()
            .await
            .context("indexing lessons for search failed")?;
        if indexed > 0 {
            tracing::info!(lessons = indexed, "indexed earlier lessons for search");
        }
        Ok(())
    }

    /// True when the database answers and every migration this build knows is applied.
    pub async fn is_ready(&self) -> bool {
        let migrations = match self.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let latest = migrations.iter().map(|m| m.version).max().unwrap_or(0);
        // A probe gets its answer quickly: a database that does not answer within
        // READY_WITHIN is not ready, whatever the pool's own patience.
        let applied = tokio::time::timeout(
            READY_WITHIN,
            db::query_scalar::<i64>(
                "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
            )
            .fetch_one(&self.pool),
        )
        .await;
        matches!(applied, Ok(Ok(version)) if version >= latest)
    }

    /// Starts a transaction: changes and the messages they cause commit together.
    /// Write transactions run one at a time on both backends (see
    /// [`db::Pool::begin_write`]), so a read-then-write inside one sees no interleaving.
    pub async fn begin(&self) -> Result<StoreTx, StoreError> {
        Ok(StoreTx {
            tx: self.pool.begin_write().await?,
            queued_signal: self.queued.clone(),
            queued: false,
        })
    }

    /// Opens an existing, migrated database for an admin command (`backup`): a missing
    /// file is an error, never a new empty database quietly created and copied.
    pub async fn connect_existing(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        if let DatabaseUrl::Sqlite(url) = &settings.url {
            if url.contains(":memory:") || url.contains("mode=memory") {
                bail!("an in-memory database holds nothing to copy");
            }
            let path = sqlite_path(url);
            if !path.is_file() {
                bail!(
                    "there is no database at {} (set LEARNLOOP_DATABASE_URL to the service's)",
                    path.display()
                );
            }
        }
        let store = Self::connect(settings).await?;
        if !store.is_ready().await {
            store.close().await;
            bail!(
                "the database is not a learnloop database, or not migrated (run `learnloop migrate`)"
            );
        }
        Ok(store)
    }

    /// Writes a consistent copy of the database to `to` (`VACUUM INTO`: one read
    /// transaction, so the service keeps running, and the copy is compact). Refuses an
    /// existing file rather than overwrite it.
    pub async fn backup_to(&self, to: &std::path::Path) -> anyhow::Result<()> {
        if self.backend() != Backend::Sqlite {
            bail!("`backup` copies a SQLite database; back PostgreSQL up with pg_dump");
        }
        let target = to
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", to.display()))?;
        // Created empty first, readable by the service's user alone like the database
        // itself (SQLite fills an empty file); an existing one is refused.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(to).map_err(|err| match err.kind() {
            std::io::ErrorKind::AlreadyExists => {
                anyhow::anyhow!("{target} exists already; name a new file")
            }
            _ => anyhow::Error::new(err).context(format!("cannot create {target}")),
        })?;
        let copied = db::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await;
        if let Err(err) = copied {
            // No half-written copy is left to be mistaken for a backup.
            let _ = std::fs::remove_file(to);
            return Err(
                anyhow::Error::new(err).context(format!("cannot write the backup to {target}"))
            );
        }
        Ok(())
    }

    /// What the delivery worker waits on: signalled by every commit that queued a
    /// message in this process.
    pub fn queued_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.queued.clone()
    }

    /// What the scheduler waits on besides its next due time: signalled whenever this
    /// process created a schedule or turned one off.
    pub fn schedules_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.schedules_changed.clone()
    }

    /// Connections open in the pool, and how many of them are idle.
    pub fn pool_size(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Opens a SQLite pool (creating the file if missing, private to this user).
async fn connect_sqlite(url: &str, settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    // Created by us, readable by the service's user alone: SQLite gives the -wal and
    // -shm files the same permissions as the database file.
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !in_memory {
        create_private(&sqlite_path(url))?;
    }
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("database url `{url}` is not a valid SQLite url"))?
        .create_if_missing(true)
        // Deleted rows (erased answers, pruned messages) are overwritten on disk, not
        // just unlinked from the b-tree.
        .pragma("secure_delete", "ON")
        // WAL lets readers proceed while one writer commits; NORMAL is durable in WAL mode
        // except for the last transactions on power loss, which the outbox tolerates.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_millis(settings.busy_timeout_ms));
    // Each in-memory connection would be its own empty database: keep exactly one.
    let pool_options = if in_memory {
        SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(settings.max_connections)
    };
    let pool = pool_options
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open database `{url}`"))?;
    Ok(Pool::Sqlite(pool))
}

/// Opens a PostgreSQL pool. Each connection starts with a statement timeout, so a query
/// stuck behind a lock fails (and is retried by its caller) instead of hanging a worker.
async fn connect_postgres(url: &str, settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    let options = PgConnectOptions::from_str(url)
        .context("the database url is not a valid PostgreSQL url")?
        .options([("statement_timeout", "30s")]);
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        // The url may carry a password: it is not repeated in the error.
        .context("cannot connect to the PostgreSQL database")?;
    Ok(Pool::Postgres(pool))
}

/// The file a `sqlite://PATH?options` URL names.
fn sqlite_path(url: &str) -> std::path::PathBuf {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    std::path::PathBuf::from(path.split('?').next().unwrap_or(path))
}

/// Creates the database file with mode 0600 if it does not exist yet.
fn create_private(path: &std::path::Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            tighten_existing(path);
            Ok(())
        }
        Err(err) => {
            Err(err).with_context(|| format!("cannot create the database file {}", path.display()))
        }
    }
}

/// A database made by an earlier release (or by hand) may be readable by others:
/// its file and its -wal/-shm are made the service user's alone. A failure (a file
/// owned by another user) is logged, not fatal: the service still runs.
fn tighten_existing(path: &std::path::Path) {
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = std::path::Path::new(&name);
        let Ok(metadata) = std::fs::metadata(file) else {
            continue;
        };
        if metadata.permissions().mode() & 0o077 == 0 {
            continue;
        }
        if let Err(err) = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(
                file = ?file.display().to_string(),
                error = %err,
                "the database file is readable by other users and could not be made private"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A transaction; dropped without [`StoreTx::commit`] it rolls back.
pub struct StoreTx {
    tx: db::Conn,
    queued_signal: std::sync::Arc<tokio::sync::Notify>,
    /// A message was queued in this transaction: its commit wakes the worker.
    queued: bool,
}

impl StoreTx {
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if self.queued {
            wakeups::notify_queued(&mut self.tx).await?;
        }
        self.tx.commit().await?;
        if self.queued {
            self.queued_signal.notify_one();
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::domain::Timestamp;

    /// `n` Unix seconds: how tests write the times of most columns.
    pub fn secs(n: i64) -> Timestamp {
        Timestamp::from_unix_seconds(n)
    }

    /// `n` Unix milliseconds: how tests write the outbox's times.
    pub fn ms(n: i64) -> Timestamp {
        Timestamp::from_millis(n)
    }

    /// Records `channel` as a public channel (looked up at 1, due again at 9).
    pub async fn public_channel(store: &Store, ws: WorkspaceId, channel: &str) {
        store
            .record_conversation_scope(
                ws,
                channel,
                ConversationKind::PublicChannel,
                secs(9),
                secs(1),
            )
            .await
            .expect("scope");
    }

    /// A Slack workspace with this team id.
    pub async fn workspace(store: &Store, team: &str) -> WorkspaceId {
        let new = NewWorkspace {
            platform: Platform::Slack,
            external_id: team,
            name: None,
            default_time_zone: "UTC",
        };
        store
            .upsert_workspace(new, secs(1))
            .await
            .expect("workspace")
            .id
    }

    /// A debrief in channel C1 facilitated by U1.
    pub async fn debrief(store: &Store, ws: WorkspaceId, title: &str) -> DebriefId {
        debrief_in(store, ws, "C1", title, false, 1).await
    }

    /// A debrief in `channel`, started at `at`, anonymous or not, facilitated by U1.
    pub async fn debrief_in(
        store: &Store,
        ws: WorkspaceId,
        channel: &str,
        title: &str,
        anonymous: bool,
        at: i64,
    ) -> DebriefId {
        let mut tx = store.begin().await.unwrap();
        let new = NewDebrief {
            workspace: ws,
            channel,
            title,
            template: "retro",
            questions: "[]",
            facilitator: "U1",
            anonymous,
            author_salt: "salt",
            closes_at: None,
        };
        let id = tx
            .create_debrief(new, Timestamp::from_unix_seconds(at))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// A shared lesson of U1 in that debrief.
    pub async fn lesson(store: &Store, ws: WorkspaceId, id: DebriefId, title: &str, text: &str) {
        let mut tx = store.begin().await.unwrap();
        let new = NewLesson {
            workspace: ws,
            debrief: id,
            debrief_title: title,
            kind: LessonKind::Lesson,
            text,
            author: Some("U1"),
            owner: Some("U1"),
            tags: "",
            shared: true,
            follow_up_at: Some(Timestamp::from_unix_seconds(100)),
        };
        tx.insert_lesson(new, secs(1)).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// A dashboard session `token` of a member of `ws`, in the private `conversations`,
    /// and the viewer its pages read for (public lessons included).
    pub async fn viewer_in(
        store: &Store,
        ws: WorkspaceId,
        token: &'static str,
        conversations: &[&str],
    ) -> Viewer<'static> {
        let session = NewWebSession {
            token_hash: token,
            workspace: ws,
            user_id: token,
            name: token,
            csrf: "c",
            admin: false,
        };
        store
            .create_web_session(session, secs(1))
            .await
            .expect("session");
        let conversations: Vec<String> = conversations.iter().map(|c| (*c).to_owned()).collect();
        store
            .refresh_web_session(token, false, &conversations, secs(1))
            .await
            .expect("conversations");
        Viewer {
            workspace: ws,
            session: token,
            sees_public: true,
        }
    }

    /// A migrated store on a fresh database of this test run's backend (see
    /// [`scratch`]), removed when the second value is dropped.
    pub async fn temp_store() -> (Store, scratch::ScratchDatabase) {
        let database = scratch::ScratchDatabase::for_tests().await;
        let store = Store::connect(&database.settings(4))
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        (store, database)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::temp_store;
    use super::*;
    use crate::store::test_support::secs;

    #[tokio::test]
    async fn lessons_stored_before_the_search_index_changed_are_found_after_upgrading() {
        let dir = tempfile::tempdir().expect("temp dir");
        // The schema as the debriefs release left it, with a lesson in it.
        let store = store_before(
            &dir,
            "0009",
            &[
                "INSERT INTO workspaces (id, platform, external_id, default_time_zone, created_at, updated_at) \
                 VALUES (1, 'slack', 'T1', 'UTC', 1, 1)",
                "INSERT INTO debriefs (id, workspace_id, channel, title, template, questions, facilitator, created_at) \
                 VALUES (1, 1, 'C1', 'Release 2.3 rollout', 'retro', '[]', 'U1', 1)",
                "INSERT INTO lessons (id, workspace_id, debrief_id, kind, text, owner, tags, follow_up_at, created_at) \
                 VALUES (7, 1, 1, 'lesson', 'Feature flags let us roll back fast', 'U1', 'deploy', 100, 1)",
                "INSERT INTO lessons (id, workspace_id, debrief_id, kind, text, owner, follow_up_at, created_at) \
                 VALUES (8, 1, 1, 'action', 'Nobody owns this', NULL, 100, 1)",
            ],
        )
        .await;
        store.migrate().await.expect("upgrade");
        store.migrate().await.expect("a second run changes nothing");
        let terms = |word: &str| {
            search_terms::Terms::every(vec![search_terms::Term::phrase(word).unwrap()]).unwrap()
        };
        for word in ["flags", "deploy", "rollout"] {
            let hits = store
                .search_lessons(WorkspaceId(1), &terms(word), Audience::In("C1"), 5)
                .await
                .unwrap();
            assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [7], "{word}");
        }
        let lessons = store
            .lessons_of(WorkspaceId(1), DebriefId(1))
            .await
            .unwrap();
        assert_eq!(
            lessons[0].follow_up_at,
            Some(secs(100)),
            "still to be asked"
        );
        assert_eq!(lessons[1].follow_up_at, None, "nobody to ask");
        let pending: i64 = db::query_scalar("SELECT COUNT(*) FROM lessons_to_index")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(pending, 0);
    }

    /// A store migrated up to (not including) migration `before`, for upgrade tests.
    /// A database migrated up to (not including) migration `before`, with `seed` run in
    /// it: the data an earlier release left, for an upgrade test.
    pub(super) async fn store_before(
        dir: &tempfile::TempDir,
        before: &str,
        seed: &[&str],
    ) -> Store {
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let settings = DatabaseSettings {
            url: DatabaseUrl::Sqlite(url),
            max_connections: 2,
            busy_timeout_ms: 5000,
        };
        let store = Store::connect(&settings).await.expect("connect");
        let old_dir = dir.path().join(format!("migrations-{before}"));
        std::fs::create_dir(&old_dir).unwrap();
        for entry in std::fs::read_dir("migrations/sqlite").unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.as_str() < before {
                std::fs::copy(&path, old_dir.join(&name)).unwrap();
            }
        }
        let old = Migrator::new(old_dir.as_path()).await.unwrap();
        let Pool::Sqlite(pool) = &store.pool else {
            unreachable!("a sqlite:// url")
        };
        old.run(pool).await.expect("the old migrations");
        for statement in seed {
            db::query(*statement)
                .execute(&store.pool)
                .await
                .expect(statement);
        }
        store
    }

    #[tokio::test]
    async fn lessons_stored_before_privacy_scopes_are_private_until_their_channel_is_known() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_before(
            &dir,
            "0012",
            &[
                "INSERT INTO workspaces (id, platform, external_id, default_time_zone, created_at, updated_at) \
                 VALUES (1, 'slack', 'T1', 'UTC', 1, 1)",
                "INSERT INTO debriefs (id, workspace_id, channel, title, template, questions, facilitator, created_at) \
                 VALUES (1, 1, 'C1', 'Release', 'retro', '[]', 'U1', 1), \
                        (2, 1, 'G1', 'Merger', 'retro', '[]', 'U1', 1)",
                "INSERT INTO lessons (id, workspace_id, debrief_id, kind, text, owner, tags, follow_up_at, created_at) \
                 VALUES (7, 1, 1, 'lesson', 'Feature flags help', 'U1', '', 100, 1), \
                        (8, 1, 2, 'lesson', 'Legal signs late', 'U1', '', 100, 1)",
            ],
        )
        .await;
        store.migrate().await.expect("upgrade");
        let ws = WorkspaceId(1);
        let seen = |audience| {
            let store = store.clone();
            async move {
                store
                    .latest_lessons(ws, audience, 10)
                    .await
                    .unwrap()
                    .iter()
                    .map(|l| l.id)
                    .collect::<Vec<_>>()
            }
        };
        assert!(
            seen(Audience::In("D1")).await.is_empty(),
            "private until known"
        );
        assert_eq!(
            seen(Audience::In("G1")).await,
            [8],
            "still shown where said"
        );
        let due: Vec<String> = store
            .scopes_to_check(secs(0), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.conversation)
            .collect();
        assert_eq!(due, ["C1", "G1"], "one lookup per conversation, at once");
        store
            .record_conversation_scope(ws, "C1", ConversationKind::PublicChannel, secs(9), secs(2))
            .await
            .unwrap();
        store
            .record_conversation_scope(ws, "G1", ConversationKind::PrivateChannel, secs(9), secs(2))
            .await
            .unwrap();
        assert_eq!(
            seen(Audience::In("D1")).await,
            [7],
            "looked up: only the public one"
        );
    }

    #[tokio::test]
    async fn digest_channels_are_looked_up_after_the_upgrade_that_added_audiences() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_before(
            &dir,
            "0018",
            &[
                "INSERT INTO workspaces (id, platform, external_id, default_time_zone, created_at, updated_at) \
                 VALUES (1, 'slack', 'T1', 'UTC', 1, 1)",
                "INSERT INTO schedules (workspace_id, kind, channel, spec, time_zone, anchor_date, next_fire_at, created_by, created_at, active) \
                 VALUES (1, 'digest', 'C0DIGEST', 'mondays 09:00', 'UTC', '2026-11-02', 100, 'U1', 1, 1), \
                        (1, 'digest', 'C0STOPPED', 'mondays 09:00', 'UTC', '2026-11-02', 100, 'U1', 1, 0), \
                        (1, 'retro', 'C0RETRO', 'fridays 16:00', 'UTC', '2026-11-02', 100, 'U1', 1, 1)",
            ],
        )
        .await;
        store.migrate().await.expect("upgrade");
        let due: Vec<String> = store
            .scopes_to_check(secs(0), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.conversation)
            .collect();
        assert_eq!(
            due,
            ["C0DIGEST"],
            "looked up at once, counted unknown until then"
        );
    }

    #[tokio::test]
    async fn owners_that_are_not_people_become_the_author_on_upgrade() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_before(
            &dir,
            "0013",
            &[
                "INSERT INTO workspaces (id, platform, external_id, default_time_zone, created_at, updated_at) \
                 VALUES (1, 'slack', 'T1', 'UTC', 1, 1)",
                "INSERT INTO debriefs (id, workspace_id, channel, title, template, questions, facilitator, created_at) \
                 VALUES (1, 1, 'C1', 'Launch', 'retro', '[]', 'U1', 1)",
                "INSERT INTO lessons (id, workspace_id, debrief_id, kind, text, author, owner, follow_up_at, created_at) \
                 VALUES (1, 1, 1, 'action', '<@C0GENERAL> post the news', 'U0BOB', 'C0GENERAL', 100, 1), \
                        (2, 1, 1, 'action', '<@S0ADMINS> approve', NULL, 'S0ADMINS', 100, 1), \
                        (3, 1, 1, 'action', '<@U0CAROL> write it', 'U0BOB', 'U0CAROL', 100, 1)",
            ],
        )
        .await;
        store.migrate().await.expect("upgrade");
        let owners: Vec<(Option<String>, Option<i64>)> =
            db::query_as("SELECT owner, follow_up_at FROM lessons ORDER BY id")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        assert_eq!(
            owners,
            vec![
                (Some("U0BOB".into()), Some(100)),
                (None, None),
                (Some("U0CAROL".into()), Some(100)),
            ]
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_and_its_journal_files_are_private_and_deletes_are_secure() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let settings = DatabaseSettings {
            url: DatabaseUrl::Sqlite(format!("sqlite://{}", dir.path().join("test.db").display())),
            max_connections: 2,
            busy_timeout_ms: 1000,
        };
        let store = Store::connect(&settings).await.unwrap();
        store.migrate().await.unwrap();
        let ws = test_support::workspace(&store, "T1").await;
        store
            .claim_event(ws, "Ev1", secs(1), secs(31), events::ClaimToken(1))
            .await
            .unwrap();
        for name in ["test.db", "test.db-wal", "test.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
        let secure: i64 = db::query_scalar("PRAGMA secure_delete")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(secure, 1);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_database_left_readable_by_others_is_made_private_on_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let names = ["old.db", "old.db-wal", "old.db-shm"];
        for name in names {
            std::fs::write(dir.path().join(name), b"").unwrap();
            std::fs::set_permissions(
                dir.path().join(name),
                std::fs::Permissions::from_mode(0o644),
            )
            .unwrap();
        }
        let settings = DatabaseSettings {
            url: DatabaseUrl::Sqlite(format!("sqlite://{}", path.display())),
            max_connections: 1,
            busy_timeout_ms: 1000,
        };
        let _store = Store::connect(&settings).await.unwrap();
        for name in names {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
    }

    #[tokio::test]
    async fn a_fresh_file_is_created_migrated_and_ready() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested-fresh.db");
        let settings = DatabaseSettings {
            url: DatabaseUrl::Sqlite(format!("sqlite://{}", path.display())),
            max_connections: 2,
            busy_timeout_ms: 1000,
        };
        let store = Store::connect(&settings).await.unwrap();
        assert!(path.exists(), "the SQLite file is created on connect");
        assert!(!store.is_ready().await, "not ready before migrating");
        store.migrate().await.unwrap();
        assert!(store.is_ready().await);
        store.migrate().await.expect("migrating twice is a no-op");
    }

    #[tokio::test]
    async fn foreign_keys_are_enforced() {
        let (store, _dir) = temp_store().await;
        let err = store
            .claim_event(
                WorkspaceId(999),
                "Ev1",
                secs(1),
                secs(31),
                events::ClaimToken(1),
            )
            .await
            .unwrap_err();
        let StoreError::Other(source) = err else {
            panic!("expected a database error, got {err:?}");
        };
        assert!(
            source.to_string().to_lowercase().contains("foreign key"),
            "the foreign key refused it: {source}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_postgres_server_is_a_clear_error_without_the_password() {
        let settings = DatabaseSettings {
            url: "postgres://learnloop:hunter2@127.0.0.1:1/learnloop"
                .parse()
                .unwrap(),
            max_connections: 1,
            busy_timeout_ms: 1,
        };
        let err = Store::connect(&settings).await.unwrap_err();
        let shown = format!("{err:#}");
        assert!(
            shown.contains("cannot connect to the PostgreSQL database"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
