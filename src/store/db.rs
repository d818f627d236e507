//! The one boundary between the store's queries and the two databases it runs on.
//!
//! Every query is written once against [`query`], [`query_as`] or [`query_scalar`],
//! with `?` / `?N` placeholders, and runs on SQLite or PostgreSQL depending on the
//! [`Pool`] (or [`Conn`]) it is given. Values are bound, never spliced: for PostgreSQL
//! only the placeholders are renumbered (`?` → `$N`). Where the two dialects differ,
//! a query names both texts with [`Sql::dialects`]. Booleans are bound as the integers
//! 0 and 1 on both backends, so flag columns stay `INTEGER`/`BIGINT` and `= 1` means
//! the same everywhere.

use std::borrow::Cow;
use std::marker::PhantomData;

use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Arguments, Decode, Encode, FromRow, Postgres, Sqlite, Type};

/// The advisory lock key of write transactions on PostgreSQL ("learnloop" in ASCII,
/// truncated): any constant no other application on the database uses.
const WRITE_LOCK: i64 = 0x6C65_6172_6E6C_6F6F;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to one of the two databases.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    /// A small pool on `url` (`sqlite://…` or `postgres://…`) without the service's
    /// connection settings: for tests and tools that look into a database.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        Ok(
            if url.starts_with("postgres:") || url.starts_with("postgresql:") {
                Self::Postgres(PgPool::connect(url).await?)
            } else {
                Self::Sqlite(SqlitePool::connect(url).await?)
            },
        )
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// One connection, for several statements outside a transaction.
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Conn::SqliteConn(pool.acquire().await?),
            Self::Postgres(pool) => Conn::PgConn(pool.acquire().await?),
        })
    }

    /// A write transaction. Write transactions run one at a time, as SQLite runs them:
    /// `BEGIN IMMEDIATE` takes SQLite's write lock up front (a deferred transaction that
    /// reads first and writes later fails at once with `SQLITE_BUSY` when another writer
    /// got in between), and on PostgreSQL a transaction-scoped advisory lock serialises
    /// them across every replica. The store's read-then-write transactions (numbering a
    /// goal, closing a debrief) are correct under that rule on both backends;
    /// single-statement writes outside a transaction (claims, leases) run concurrently
    /// and rely on row-level compare-and-set.
    pub async fn begin_write(&self) -> Result<Conn, sqlx::Error> {
        self.begin_holding_write_lock("SELECT pg_advisory_xact_lock($1)")
            .await
    }

    /// A write transaction that does not queue behind the others like it on PostgreSQL:
    /// for the delivery worker's hot path, where every replica writes all the time. It
    /// holds the write lock shared, so such transactions run side by side while a
    /// [`Pool::begin_write`] transaction (which may rewrite many rows in an order of its
    /// own, e.g. marking a workspace's queue uninstalled) waits for them and they for
    /// it: they never deadlock with each other's row locks. It is only for transactions
    /// whose writes are blind (by primary key, or an upsert that keeps the larger value)
    /// or whose reads are guarded by [`Conn::lock_keys`]; anything that reads and then
    /// decides stays with `begin_write`. On SQLite it is `begin_write`: there is one
    /// writer anyway.
    pub async fn begin_concurrent(&self) -> Result<Conn, sqlx::Error> {
        self.begin_holding_write_lock("SELECT pg_advisory_xact_lock_shared($1)")
            .await
    }

    /// SQLite's `BEGIN IMMEDIATE`, or a PostgreSQL transaction that first takes the
    /// write lock with `take_lock` (exclusive or shared).
    async fn begin_holding_write_lock(&self, take_lock: &'static str) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Conn::SqliteTx(pool.begin_with("BEGIN IMMEDIATE").await?),
            Self::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(take_lock)
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Conn::PgTx(tx)
            }
        })
    }

    /// A read transaction: every statement in it sees the same moment (a deferred
    /// SQLite transaction; on PostgreSQL, whose default gives each statement a snapshot
    /// of its own, `REPEATABLE READ`).
    pub async fn begin_read(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Conn::SqliteTx(pool.begin().await?),
            Self::Postgres(pool) => Conn::PgTx(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    pub fn size(&self) -> u32 {
        match self {
            Self::Sqlite(pool) => pool.size(),
            Self::Postgres(pool) => pool.size(),
        }
    }

    pub fn num_idle(&self) -> usize {
        match self {
            Self::Sqlite(pool) => pool.num_idle(),
            Self::Postgres(pool) => pool.num_idle(),
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// A connection of the pool, or a transaction on one.
pub enum Conn {
    SqliteTx(sqlx::Transaction<'static, Sqlite>),
    SqliteConn(sqlx::pool::PoolConnection<Sqlite>),
    PgTx(sqlx::Transaction<'static, Postgres>),
    PgConn(sqlx::pool::PoolConnection<Postgres>),
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match self {
            Self::SqliteTx(_) | Self::SqliteConn(_) => Backend::Sqlite,
            Self::PgTx(_) | Self::PgConn(_) => Backend::Postgres,
        }
    }

    /// Commits a transaction; a plain connection has nothing to commit.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::SqliteTx(tx) => tx.commit().await,
            Self::PgTx(tx) => tx.commit().await,
            Self::SqliteConn(_) | Self::PgConn(_) => Ok(()),
        }
    }
}

/// What a keyed lock of [`Conn::lock_keys`] guards; each is a lock space of its own.
#[derive(Clone, Copy, Debug)]
pub enum LockSpace {
    /// A workspace's send rate (`send_rates`), keyed by workspace id.
    SendRate,
    /// A schedule's next occurrence, keyed by schedule id.
    Schedule,
    /// A person's check-ins, keyed by [`text_key`] of workspace and person.
    Person,
    /// The order of a channel's outbox rows, keyed by [`text_key`] of workspace and
    /// channel.
    Channel,
}

impl LockSpace {
    /// The first key of the two-integer advisory lock: a constant no other application
    /// on the database is likely to use ("llsr" in ASCII).
    fn key(self) -> i32 {
        // "llsr", "llsc", "llpe", "llch" in ASCII.
        match self {
            Self::SendRate => 0x6C6C_7372,
            Self::Schedule => 0x6C6C_7363,
            Self::Person => 0x6C6C_7065,
            Self::Channel => 0x6C6C_6368,
        }
    }
}

/// A lock key for a name within a workspace (a person's platform id): FNV-1a over
/// both, the same in every replica and every build, as `Hash` is not promised to be.
/// Two names sharing a key only serialise each other.
pub fn text_key(workspace: i64, name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in workspace.to_le_bytes().iter().chain(name.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

impl Conn {
    /// Takes, until the transaction ends, the locks of `keys` in `space`, in ascending
    /// order of the lock taken (so two transactions wanting overlapping keys never
    /// deadlock). A transaction that locks keys of several spaces takes them in the
    /// order the spaces are declared in [`LockSpace`], for the same reason. For a [`Pool::begin_concurrent`] transaction that reads rows and then
    /// writes them: on PostgreSQL a transaction-scoped advisory lock per key; on SQLite
    /// nothing, as the transaction already holds the database's one write lock.
    pub async fn lock_keys(&mut self, space: LockSpace, keys: &[i64]) -> Result<(), sqlx::Error> {
        let Self::PgTx(tx) = self else {
            return Ok(());
        };
        if keys.is_empty() {
            return Ok(());
        }
        // The two-integer form keeps these apart from the one-key write lock. A key
        // beyond 32 bits shares a lock with another, which only serialises the two;
        // sorting the locks themselves (not the keys) keeps the order one order.
        let mut locks: Vec<i32> = keys
            .iter()
            .map(|key| (key.rem_euclid(i64::from(i32::MAX))) as i32)
            .collect();
        locks.sort_unstable();
        locks.dedup();
        sqlx::query(
            "SELECT pg_advisory_xact_lock($1, k) \
             FROM (SELECT k FROM unnest($2::INTEGER[]) AS k ORDER BY k OFFSET 0) AS ordered",
        )
        .bind(space.key())
        .bind(&locks)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// Where a statement runs: on any connection of the pool, or on this one.
pub enum Exec<'c> {
    Pool(&'c Pool),
    Conn(&'c mut Conn),
}

impl<'c> From<&'c Pool> for Exec<'c> {
    fn from(pool: &'c Pool) -> Self {
        Self::Pool(pool)
    }
}

impl<'c> From<&'c mut Conn> for Exec<'c> {
    fn from(conn: &'c mut Conn) -> Self {
        Self::Conn(conn)
    }
}

/// Runs `$sqlite` or `$pg` with `$e` bound to the executor of `$on`'s backend.
macro_rules! on_backend {
    ($on:expr, $e:ident => sqlite: $sqlite:expr, postgres: $pg:expr) => {
        match $on {
            Exec::Pool(Pool::Sqlite(pool)) => {
                let $e = pool;
                $sqlite
            }
            Exec::Conn(Conn::SqliteTx(tx)) => {
                let $e = &mut **tx;
                $sqlite
            }
            Exec::Conn(Conn::SqliteConn(conn)) => {
                let $e = &mut **conn;
                $sqlite
            }
            Exec::Pool(Pool::Postgres(pool)) => {
                let $e = pool;
                $pg
            }
            Exec::Conn(Conn::PgTx(tx)) => {
                let $e = &mut **tx;
                $pg
            }
            Exec::Conn(Conn::PgConn(conn)) => {
                let $e = &mut **conn;
                $pg
            }
        }
    };
}

/// The text of a statement: one for both backends, or one for each.
#[derive(Clone, Copy, Debug)]
pub struct Sql<'q> {
    sqlite: &'q str,
    postgres: &'q str,
}

impl<'q> Sql<'q> {
    /// A statement whose SQLite and PostgreSQL texts differ.
    pub const fn dialects(sqlite: &'q str, postgres: &'q str) -> Self {
        Self { sqlite, postgres }
    }

    fn postgres(&self) -> String {
        numbered_placeholders(self.postgres)
    }
}

impl<'q> From<&'q str> for Sql<'q> {
    fn from(text: &'q str) -> Self {
        Self {
            sqlite: text,
            postgres: text,
        }
    }
}

impl<'q> From<&'q String> for Sql<'q> {
    fn from(text: &'q String) -> Self {
        Self::from(text.as_str())
    }
}

/// `?` and `?N` placeholders as PostgreSQL's `$N`; quoted text and identifiers are left
/// alone. Bare `?` are numbered in order, as SQLite numbers them.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    next += 1;
                    out.push_str(&next.to_string());
                } else {
                    next = next.max(digits.parse().unwrap_or(0));
                    out.push_str(&digits);
                }
            }
            (None, c) => out.push(c),
        }
    }
    out
}

/// A value bound to a statement; `None` is a typed `NULL`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'q> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<Cow<'q, str>>),
    Blob(Option<Cow<'q, [u8]>>),
}

/// What can be bound: every type the store binds, converted once to a [`Value`].
pub trait Bind<'q> {
    fn value(self) -> Value<'q>;
    /// The `NULL` of this type, for `Option::None`.
    fn null() -> Value<'q>;
}

macro_rules! bind_int {
    ($($t:ty),*) => {$(
        impl<'q> Bind<'q> for $t {
            fn value(self) -> Value<'q> {
                Value::Int(Some(i64::from(self)))
            }
            fn null() -> Value<'q> {
                Value::Int(None)
            }
        }
    )*};
}
bind_int!(i64, i32, u32, u16, u8);

impl<'q> Bind<'q> for bool {
    fn value(self) -> Value<'q> {
        Value::Int(Some(i64::from(self)))
    }
    fn null() -> Value<'q> {
        Value::Int(None)
    }
}

impl<'q> Bind<'q> for f64 {
    fn value(self) -> Value<'q> {
        Value::Real(Some(self))
    }
    fn null() -> Value<'q> {
        Value::Real(None)
    }
}

impl<'q> Bind<'q> for &'q str {
    fn value(self) -> Value<'q> {
        Value::Text(Some(Cow::Borrowed(self)))
    }
    fn null() -> Value<'q> {
        Value::Text(None)
    }
}

impl<'q> Bind<'q> for &'q String {
    fn value(self) -> Value<'q> {
        Value::Text(Some(Cow::Borrowed(self.as_str())))
    }
    fn null() -> Value<'q> {
        Value::Text(None)
    }
}

impl<'q> Bind<'q> for String {
    fn value(self) -> Value<'q> {
        Value::Text(Some(Cow::Owned(self)))
    }
    fn null() -> Value<'q> {
        Value::Text(None)
    }
}

impl<'q> Bind<'q> for &'q [u8] {
    fn value(self) -> Value<'q> {
        Value::Blob(Some(Cow::Borrowed(self)))
    }
    fn null() -> Value<'q> {
        Value::Blob(None)
    }
}

impl<'q> Bind<'q> for Vec<u8> {
    fn value(self) -> Value<'q> {
        Value::Blob(Some(Cow::Owned(self)))
    }
    fn null() -> Value<'q> {
        Value::Blob(None)
    }
}

impl<'q> Bind<'q> for &'q i64 {
    fn value(self) -> Value<'q> {
        Value::Int(Some(*self))
    }
    fn null() -> Value<'q> {
        Value::Int(None)
    }
}

impl<'q, T> Bind<'q> for &'q Option<T>
where
    &'q T: Bind<'q>,
{
    fn value(self) -> Value<'q> {
        match self {
            Some(value) => value.value(),
            None => <&'q T>::null(),
        }
    }
    fn null() -> Value<'q> {
        <&'q T>::null()
    }
}

impl<'q, T: Bind<'q>> Bind<'q> for Option<T> {
    fn value(self) -> Value<'q> {
        match self {
            Some(value) => value.value(),
            None => T::null(),
        }
    }
    fn null() -> Value<'q> {
        T::null()
    }
}

/// The arguments of a statement, for the database `A` belongs to.
fn arguments<'a, A>(values: &'a [Value<'_>]) -> Result<A, sqlx::Error>
where
    A: Arguments<'a> + Default,
    Option<i64>: Encode<'a, A::Database> + Type<A::Database>,
    Option<f64>: Encode<'a, A::Database> + Type<A::Database>,
    Option<&'a str>: Encode<'a, A::Database> + Type<A::Database>,
    Option<&'a [u8]>: Encode<'a, A::Database> + Type<A::Database>,
{
    let mut arguments = A::default();
    for value in values {
        add_argument(&mut arguments, value)?;
    }
    Ok(arguments)
}

fn sqlite_arguments<'a>(values: &'a [Value<'_>]) -> Result<SqliteArguments<'a>, sqlx::Error> {
    arguments(values)
}

fn postgres_arguments(values: &[Value<'_>]) -> Result<PgArguments, sqlx::Error> {
    arguments(values)
}

/// Binds one value (typed, so a `NULL` is a typed `NULL`); also for statements made
/// outside [`query`] (`transfer`).
pub(super) fn add_argument<'a, A>(
    arguments: &mut A,
    value: &'a Value<'_>,
) -> Result<(), sqlx::Error>
where
    A: Arguments<'a>,
    Option<i64>: Encode<'a, A::Database> + Type<A::Database>,
    Option<f64>: Encode<'a, A::Database> + Type<A::Database>,
    Option<&'a str>: Encode<'a, A::Database> + Type<A::Database>,
    Option<&'a [u8]>: Encode<'a, A::Database> + Type<A::Database>,
{
    match value {
        Value::Int(v) => arguments.add(*v),
        Value::Real(v) => arguments.add(*v),
        Value::Text(v) => arguments.add(v.as_deref()),
        Value::Blob(v) => arguments.add(v.as_deref()),
    }
    .map_err(sqlx::Error::Encode)
}

/// A row type both backends can decode.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A column type both backends can decode.
pub trait Scalar:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

/// What a statement that returns no rows did.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement with its bound values; see [`query`].
#[must_use = "a query does nothing until it is executed"]
pub struct Query<'q> {
    sql: Sql<'q>,
    values: Vec<Value<'q>>,
}

/// A statement without rows to decode (or whose rows are ignored).
pub fn query<'q>(sql: impl Into<Sql<'q>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        values: Vec::new(),
    }
}

/// A statement whose rows decode as `O`.
pub fn query_as<'q, O: Row>(sql: impl Into<Sql<'q>>) -> QueryAs<'q, O> {
    QueryAs {
        query: query(sql),
        row: PhantomData,
    }
}

/// A statement whose rows are one column, decoded as `O`.
pub fn query_scalar<'q, O: Scalar>(sql: impl Into<Sql<'q>>) -> QueryScalar<'q, O> {
    QueryScalar {
        query: query(sql),
        column: PhantomData,
    }
}

impl<'q> Query<'q> {
    pub fn bind(mut self, value: impl Bind<'q>) -> Self {
        self.values.push(value.value());
        self
    }

    pub async fn execute<'c>(self, on: impl Into<Exec<'c>>) -> Result<Done, sqlx::Error> {
        let rows_affected = on_backend!(on.into(), e =>
            sqlite: sqlx::query_with(self.sql.sqlite, sqlite_arguments(&self.values)?)
                .execute(e)
                .await?
                .rows_affected(),
            postgres: {
                let sql = self.sql.postgres();
                sqlx::query_with(&sql, postgres_arguments(&self.values)?)
                    .execute(e)
                    .await?
                    .rows_affected()
            }
        );
        Ok(Done { rows_affected })
    }
}

/// A statement whose rows decode as `O`; see [`query_as`].
#[must_use = "a query does nothing until it is executed"]
pub struct QueryAs<'q, O> {
    query: Query<'q>,
    row: PhantomData<fn() -> O>,
}

impl<'q, O: Row> QueryAs<'q, O> {
    pub fn bind(mut self, value: impl Bind<'q>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_all<'c>(self, on: impl Into<Exec<'c>>) -> Result<Vec<O>, sqlx::Error> {
        let Query { sql, values } = self.query;
        on_backend!(on.into(), e =>
            sqlite: sqlx::query_as_with(sql.sqlite, sqlite_arguments(&values)?).fetch_all(e).await,
            postgres: {
                let sql = sql.postgres();
                sqlx::query_as_with(&sql, postgres_arguments(&values)?).fetch_all(e).await
            }
        )
    }

    pub async fn fetch_optional<'c>(
        self,
        on: impl Into<Exec<'c>>,
    ) -> Result<Option<O>, sqlx::Error> {
        let Query { sql, values } = self.query;
        on_backend!(on.into(), e =>
            sqlite: sqlx::query_as_with(sql.sqlite, sqlite_arguments(&values)?)
                .fetch_optional(e)
                .await,
            postgres: {
                let sql = sql.postgres();
                sqlx::query_as_with(&sql, postgres_arguments(&values)?).fetch_optional(e).await
            }
        )
    }

    pub async fn fetch_one<'c>(self, on: impl Into<Exec<'c>>) -> Result<O, sqlx::Error> {
        self.fetch_optional(on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

/// A statement whose rows are one column; see [`query_scalar`].
#[must_use = "a query does nothing until it is executed"]
pub struct QueryScalar<'q, O> {
    query: Query<'q>,
    column: PhantomData<fn() -> O>,
}

impl<'q, O: Scalar> QueryScalar<'q, O> {
    pub fn bind(mut self, value: impl Bind<'q>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    fn rows(self) -> QueryAs<'q, (O,)> {
        QueryAs {
            query: self.query,
            row: PhantomData,
        }
    }

    pub async fn fetch_all<'c>(self, on: impl Into<Exec<'c>>) -> Result<Vec<O>, sqlx::Error> {
        Ok(self
            .rows()
            .fetch_all(on)
            .await?
            .into_iter()
            .map(|(v,)| v)
            .collect())
    }

    pub async fn fetch_optional<'c>(
        self,
        on: impl Into<Exec<'c>>,
    ) -> Result<Option<O>, sqlx::Error> {
        Ok(self.rows().fetch_optional(on).await?.map(|(v,)| v))
    }

    pub async fn fetch_one<'c>(self, on: impl Into<Exec<'c>>) -> Result<O, sqlx::Error> {
        Ok(self.rows().fetch_one(on).await?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_and_quoted_text_is_left_alone() {
        assert_eq!(
            numbered_placeholders("SELECT ? , '?' , \"a?\" WHERE x = ? AND y IS ?"),
            "SELECT $1 , '?' , \"a?\" WHERE x = $2 AND y IS $3"
        );
        assert_eq!(
            numbered_placeholders("WHERE a = ?2 OR b = ?1 OR c = ?12"),
            "WHERE a = $2 OR b = $1 OR c = $12"
        );
        assert_eq!(numbered_placeholders("'it''s ?' || ?"), "'it''s ?' || $1");
    }
}
