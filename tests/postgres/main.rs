//! Tests only PostgreSQL can answer: the schema matches SQLite's, and replicas share
//! one database correctly. `scripts/test` runs them when `LEARNLOOP_TEST_POSTGRES_URL`
//! names a server (Cargo does not run this target by default, so a machine without
//! PostgreSQL still runs `cargo test`); given no server they fail, never skip.

mod migrate_data;
mod readiness;
mod replicas;
mod schema;
mod wakeups;

use learnloop::store::Store;
use learnloop::store::scratch::{POSTGRES_URL_VAR, ScratchDatabase};

/// A fresh database on the test server.
pub async fn scratch() -> ScratchDatabase {
    let server = std::env::var(POSTGRES_URL_VAR)
        .unwrap_or_else(|_| panic!("these tests need {POSTGRES_URL_VAR} (a PostgreSQL server)"));
    ScratchDatabase::postgres(&server)
        .await
        .unwrap_or_else(|err| panic!("no database on {POSTGRES_URL_VAR}: {err:#}"))
}

/// A migrated store on `database`, with a pool of its own (as a replica has).
pub async fn store_on(database: &ScratchDatabase) -> Store {
    let store = Store::connect(&database.settings(4)).await.unwrap();
    store.migrate().await.unwrap();
    store
}
