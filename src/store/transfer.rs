//! Moving a whole install from SQLite to PostgreSQL (`learnloop migrate-data`).
//!
//! Tables are copied in foreign-key order, each in one transaction on the target, and
//! each is verified before it counts as done: the same number of rows and the same
//! checksum (an order-free sum of a hash per row), read back from the target. What is
//! done is recorded in the target (`learnloop_import`), so a run that stopped resumes
//! at the first table not done; a target holding data without that record is refused.
//!
//! Table and column names come from the source's own schema and are checked against
//! the target's; they are the only text put into these statements. Every value is bound.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::{Column, Row, TypeInfo, ValueRef};

use super::Store;
use super::db::{self, Pool, Value};

/// Rows per insert statement (and per progress report).
const BATCH: usize = 500;

/// One table to copy: its name, its columns, and how many rows the source holds.
#[derive(Clone, Debug)]
pub struct TableToCopy {
    pub name: String,
    columns: Vec<String>,
    pub rows: u64,
    pub done: bool,
}

/// A table copied and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCopied {
    pub name: String,
    pub rows: u64,
    pub checksum: String,
}

/// An import in progress: see the module docs.
pub struct Import {
    source: sqlx::SqlitePool,
    target: sqlx::PgPool,
    tables: Vec<TableToCopy>,
}

impl Import {
    /// Checks both databases and lists what is left to copy. `from` must be a migrated
    /// SQLite store and `to` a migrated PostgreSQL one that is empty, or holds an import
    /// of this kind that stopped.
    pub async fn prepare(from: &Store, to: &Store) -> anyhow::Result<Self> {
        let (Pool::Sqlite(source), Pool::Postgres(target)) = (&from.pool, &to.pool) else {
            bail!(
                "migrate-data copies a SQLite database (--from sqlite://…) into PostgreSQL (--to postgres://…)"
            );
        };
        if !from.is_ready().await {
            bail!(
                "the SQLite database is not a migrated learnloop database (run `learnloop migrate` with this release first)"
            );
        }
        let (source, target) = (source.clone(), target.clone());
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS learnloop_import \
             (table_name TEXT PRIMARY KEY, rows BIGINT NOT NULL, checksum TEXT NOT NULL)",
        )
        .execute(&target)
        .await?;
        let recorded: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT table_name, rows, checksum FROM learnloop_import")
                .fetch_all(&target)
                .await?;
        let target_columns = postgres_columns(&target).await?;
        let mut tables = Vec::new();
        for name in tables_in_dependency_order(&source).await? {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(&name)
                    .fetch_all(&source)
                    .await?;
            let Some(in_target) = target_columns.get(&name) else {
                bail!(
                    "the PostgreSQL schema has no table `{name}`: is it migrated by the same release?"
                );
            };
            if let Some(missing) = columns.iter().find(|c| !in_target.contains(*c)) {
                bail!("the PostgreSQL table `{name}` has no column `{missing}`");
            }
            let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quoted(&name)))
                .fetch_one(&source)
                .await?;
            let done = match recorded.iter().find(|(table, _, _)| *table == name) {
                // Copied by a run that stopped: still the source's rows, or refused.
                Some((_, rows, checksum)) => {
                    let now = source_sum(&source, &name, &columns).await?;
                    if now.rows != u64::try_from(*rows).unwrap_or(0) || now.hex() != *checksum {
                        bail!(
                            "table `{name}` changed in the SQLite database since the run that \
                             copied it stopped; start again with an empty PostgreSQL database"
                        );
                    }
                    true
                }
                None => false,
            };
            if !done {
                let holds_rows: bool =
                    sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(&name)))
                        .fetch_one(&target)
                        .await?;
                if holds_rows {
                    bail!(
                        "the PostgreSQL database already holds data (table `{name}`); \
                         migrate-data only fills an empty one"
                    );
                }
            }
            tables.push(TableToCopy {
                name,
                columns,
                rows: u64::try_from(rows).unwrap_or(0),
                done,
            });
        }
        Ok(Self {
            source,
            target,
            tables,
        })
    }

    /// Every table, in the order they are copied, and whether it is done.
    pub fn tables(&self) -> &[TableToCopy] {
        &self.tables
    }

    /// Copies and verifies the next table not done yet, calling `progress` with the
    /// rows copied so far; `None` when every table is done.
    pub async fn copy_next(
        &mut self,
        mut progress: impl FnMut(&str, u64),
    ) -> anyhow::Result<Option<TableCopied>> {
        let Some(table) = self.tables.iter_mut().find(|t| !t.done) else {
            return Ok(None);
        };
        let columns = table
            .columns
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ");
        let select = format!("SELECT {columns} FROM {}", quoted(&table.name));
        let mut tx = self.target.begin().await?;
        // A copied row is the source's row: the target's own triggers (which queue new
        // lessons for matching) would add rows the source never had.
        sqlx::query(&format!(
            "ALTER TABLE {} DISABLE TRIGGER USER",
            quoted(&table.name)
        ))
        .execute(&mut *tx)
        .await?;
        let mut rows = sqlx::query(&select).fetch(&self.source);
        let mut batch: Vec<Vec<Value<'static>>> = Vec::with_capacity(BATCH);
        let mut copied = 0u64;
        let mut source_sum = RowSum::default();
        while let Some(row) = rows.try_next().await? {
            let values = sqlite_values(&row)?;
            source_sum.add(&values);
            batch.push(values);
            if batch.len() == BATCH {
                insert(&mut tx, &table.name, &columns, &batch).await?;
                copied += batch.len() as u64;
                batch.clear();
                progress(&table.name, copied);
            }
        }
        if !batch.is_empty() {
            insert(&mut tx, &table.name, &columns, &batch).await?;
            copied += batch.len() as u64;
            progress(&table.name, copied);
        }
        // References checked at commit (the outcome counts') are checked now: a table
        // with checks pending cannot be altered.
        sqlx::query("SET CONSTRAINTS ALL IMMEDIATE")
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "ALTER TABLE {} ENABLE TRIGGER USER",
            quoted(&table.name)
        ))
        .execute(&mut *tx)
        .await?;
        // Read back from the target, inside the transaction that wrote it.
        let mut target_sum = RowSum::default();
        let mut written = sqlx::query(&select).fetch(&mut *tx);
        while let Some(row) = written.try_next().await? {
            target_sum.add(&postgres_values(&row)?);
        }
        drop(written);
        if target_sum != source_sum {
            bail!(
                "table `{}` did not verify: {} rows (checksum {}) read, {} rows (checksum {}) written",
                table.name,
                source_sum.rows,
                source_sum.hex(),
                target_sum.rows,
                target_sum.hex()
            );
        }
        sqlx::query(
            "INSERT INTO learnloop_import (table_name, rows, checksum) VALUES ($1, $2, $3)",
        )
        .bind(&table.name)
        .bind(source_sum.rows as i64)
        .bind(source_sum.hex())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        table.done = true;
        Ok(Some(TableCopied {
            name: table.name.clone(),
            rows: source_sum.rows,
            checksum: source_sum.hex(),
        }))
    }

    /// After every table: what PostgreSQL keeps besides the rows (the search column's
    /// debrief titles, the next ids), then forgets the import.
    pub async fn finish(self) -> anyhow::Result<()> {
        if let Some(left) = self.tables.iter().find(|t| !t.done) {
            bail!("table `{}` is not copied yet", left.name);
        }
        let mut tx = self.target.begin().await?;
        sqlx::query(
            "UPDATE lessons SET debrief_title = d.title FROM debriefs d WHERE d.id = lessons.debrief_id",
        )
        .execute(&mut *tx)
        .await?;
        // Identity columns go on after the highest id copied.
        let identities: Vec<(String, String)> = sqlx::query_as(
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND is_identity = 'YES'",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (table, column) in identities {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), \
                     COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)",
                column = quoted(&column),
                table = quoted(&table),
            ))
            .bind(&table)
            .bind(&column)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DROP TABLE learnloop_import")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        sqlx::query("ANALYZE").execute(&self.target).await?;
        Ok(())
    }
}

/// The checksum of a source table as it is now.
async fn source_sum(
    source: &sqlx::SqlitePool,
    table: &str,
    columns: &[String],
) -> anyhow::Result<RowSum> {
    let select = format!(
        "SELECT {} FROM {}",
        columns
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", "),
        quoted(table)
    );
    let mut sum = RowSum::default();
    let mut rows = sqlx::query(&select).fetch(source);
    while let Some(row) = rows.try_next().await? {
        sum.add(&sqlite_values(&row)?);
    }
    Ok(sum)
}

/// `name` as a quoted identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The source's tables (not SQLite's own, not the FTS index, which PostgreSQL does
/// with a column), parents before the tables that refer to them.
async fn tables_in_dependency_order(source: &sqlx::SqlitePool) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
           AND name != '_sqlx_migrations' AND name NOT LIKE 'lessons_fts%' ORDER BY rowid",
    )
    .fetch_all(source)
    .await?;
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in &names {
        let referred: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)")
                .bind(name)
                .fetch_all(source)
                .await?;
        parents.insert(name.clone(), referred);
    }
    let mut ordered: Vec<String> = Vec::with_capacity(names.len());
    while ordered.len() < names.len() {
        let next = names.iter().find(|name| {
            !ordered.contains(name)
                && parents[*name]
                    .iter()
                    .all(|parent| parent == *name || ordered.contains(parent))
        });
        match next {
            Some(name) => ordered.push(name.clone()),
            None => bail!("the source's foreign keys form a cycle"),
        }
    }
    Ok(ordered)
}

async fn postgres_columns(target: &sqlx::PgPool) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) \
         FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .fetch_all(target)
    .await?;
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in rows {
        tables.entry(table).or_default().push(column);
    }
    Ok(tables)
}

/// Inserts `rows` in one statement.
async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &str,
    columns: &str,
    rows: &[Vec<Value<'static>>],
) -> anyhow::Result<()> {
    let width = rows[0].len();
    let mut statement = format!("INSERT INTO {} ({columns}) VALUES ", quoted(table));
    for (r, _) in rows.iter().enumerate() {
        statement.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                statement.push_str(", ");
            }
            statement.push_str(&format!("${}", r * width + c + 1));
        }
        statement.push(')');
    }
    let mut arguments = sqlx::postgres::PgArguments::default();
    for value in rows.iter().flatten() {
        db::add_argument(&mut arguments, value)?;
    }
    sqlx::query_with(&statement, arguments)
        .execute(&mut **tx)
        .await
        .with_context(|| format!("inserting into `{table}`"))?;
    Ok(())
}

/// A SQLite row's values as they are stored (SQLite types each value, not its column).
fn sqlite_values(row: &sqlx::sqlite::SqliteRow) -> anyhow::Result<Vec<Value<'static>>> {
    let mut values = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let raw = row.try_get_raw(i)?;
        let kind = raw.type_info().name().to_owned();
        values.push(match kind.as_str() {
            _ if raw.is_null() => Value::Int(None),
            "INTEGER" => Value::Int(Some(row.try_get(i)?)),
            "REAL" => Value::Real(Some(row.try_get(i)?)),
            "BLOB" => Value::Blob(Some(row.try_get::<Vec<u8>, _>(i)?.into())),
            _ => Value::Text(Some(row.try_get::<String, _>(i)?.into())),
        });
    }
    Ok(values)
}

/// A PostgreSQL row's values, read back as the same kinds.
fn postgres_values(row: &sqlx::postgres::PgRow) -> anyhow::Result<Vec<Value<'static>>> {
    let mut values = Vec::with_capacity(row.columns().len());
    for column in row.columns() {
        let i = column.ordinal();
        let raw = row.try_get_raw(i)?;
        let kind = raw.type_info().name().to_owned();
        values.push(match kind.as_str() {
            _ if raw.is_null() => Value::Int(None),
            "INT8" => Value::Int(Some(row.try_get(i)?)),
            "FLOAT8" => Value::Real(Some(row.try_get(i)?)),
            "BYTEA" => Value::Blob(Some(row.try_get::<Vec<u8>, _>(i)?.into())),
            _ => Value::Text(Some(row.try_get::<String, _>(i)?.into())),
        });
    }
    Ok(values)
}

/// An order-free checksum of a table: how many rows, and the wrapping sum of the first
/// eight bytes of each row's SHA-256. Equal sums over equal counts mean the same rows,
/// whatever order each database returns them in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RowSum {
    rows: u64,
    sum: u64,
}

impl RowSum {
    fn add(&mut self, values: &[Value<'_>]) {
        let mut hash = Sha256::new();
        for value in values {
            // A kind tag and a length before each value: no two rows encode alike.
            match value {
                Value::Int(None) | Value::Real(None) | Value::Text(None) | Value::Blob(None) => {
                    hash.update(b"n")
                }
                Value::Int(Some(v)) => {
                    hash.update(b"i");
                    hash.update(v.to_le_bytes());
                }
                Value::Real(Some(v)) => {
                    hash.update(b"r");
                    hash.update(v.to_bits().to_le_bytes());
                }
                Value::Text(Some(v)) => {
                    hash.update(b"t");
                    hash.update((v.len() as u64).to_le_bytes());
                    hash.update(v.as_bytes());
                }
                Value::Blob(Some(v)) => {
                    hash.update(b"b");
                    hash.update((v.len() as u64).to_le_bytes());
                    hash.update(v);
                }
            }
        }
        let digest = hash.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u64::from_le_bytes(first));
    }

    fn hex(&self) -> String {
        format!("{:016x}", self.sum)
    }
}
