//! Both backends' migrations make the same tables, columns and indexes.

use std::collections::{BTreeMap, BTreeSet};

use learnloop::store::db;
use learnloop::store::scratch::ScratchDatabase;

use crate::{scratch, store_on};

type Columns = BTreeMap<String, BTreeSet<String>>;

async fn sqlite_columns(pool: &db::Pool) -> Columns {
    let rows: Vec<(String, String)> = db::query_as(
        "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
           AND m.name NOT LIKE 'lessons_fts%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    group(rows)
}

async fn postgres_columns(pool: &db::Pool) -> Columns {
    let rows: Vec<(String, String)> = db::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) \
         FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    group(rows)
}

fn group(rows: Vec<(String, String)>) -> Columns {
    let mut tables = Columns::new();
    for (table, column) in rows {
        tables.entry(table).or_default().insert(column);
    }
    tables
}

#[tokio::test]
async fn the_postgres_schema_has_the_tables_columns_and_indexes_of_the_sqlite_one() {
    let lite = ScratchDatabase::sqlite().unwrap();
    let pg = scratch().await;
    store_on(&lite).await;
    store_on(&pg).await;
    let (lite_pool, pg_pool) = (
        db::Pool::connect(lite.url()).await.unwrap(),
        db::Pool::connect(pg.url()).await.unwrap(),
    );
    let mut expected = sqlite_columns(&lite_pool).await;
    // Search is a generated column on PostgreSQL (and the title it is made from),
    // where SQLite has its FTS5 table.
    let lessons = expected.get_mut("lessons").unwrap();
    lessons.insert("search".into());
    lessons.insert("debrief_title".into());
    assert_eq!(postgres_columns(&pg_pool).await, expected);

    let lite_indexes: BTreeSet<String> = db::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&lite_pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let pg_indexes: BTreeSet<String> = db::query_scalar(
        "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema()",
    )
    .fetch_all(&pg_pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let missing: Vec<&String> = lite_indexes.difference(&pg_indexes).collect();
    assert!(
        missing.is_empty(),
        "indexes missing on PostgreSQL: {missing:?}"
    );
    assert!(
        pg_indexes.contains("lessons_search"),
        "the GIN index of search"
    );
}
