//! Fresh, empty databases for tests and benchmarks, removed when dropped: a SQLite file
//! in its own temporary directory, or a database of its own on a PostgreSQL server.
//!
//! Which backend a test run uses is chosen once, by the environment:
//! `LEARNLOOP_TEST_BACKEND=postgres` with `LEARNLOOP_TEST_POSTGRES_URL` naming a server
//! (any database on it: new ones are created beside it). Asked for PostgreSQL without a
//! reachable server, [`ScratchDatabase::for_tests`] panics with the reason: a suite
//! meant to prove PostgreSQL never passes by quietly running on SQLite.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use super::Backend;
use crate::config::{DatabaseSettings, DatabaseUrl, Secret};

/// The variable naming the backend of a test run (`sqlite`, the default, or `postgres`).
pub const BACKEND_VAR: &str = "LEARNLOOP_TEST_BACKEND";
/// The variable naming the PostgreSQL server tests create their databases on.
pub const POSTGRES_URL_VAR: &str = "LEARNLOOP_TEST_POSTGRES_URL";

/// A database that exists as long as this value does.
#[derive(Debug)]
pub struct ScratchDatabase {
    url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    /// The directory holding the file (and its -wal and -shm).
    Sqlite(std::path::PathBuf),
    /// The server to drop the database on, and its name.
    Postgres { server: String, name: String },
}

impl ScratchDatabase {
    /// A database on the backend this test run names (see the module docs).
    pub async fn for_tests() -> Self {
        match test_backend() {
            Backend::Sqlite => Self::sqlite().expect("a scratch SQLite database"),
            Backend::Postgres => {
                let server = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
                    panic!("{BACKEND_VAR}=postgres needs {POSTGRES_URL_VAR} (a PostgreSQL server)")
                });
                Self::postgres(&server).await.unwrap_or_else(|err| {
                    panic!("no scratch database on the PostgreSQL server of {POSTGRES_URL_VAR}: {err:#}")
                })
            }
        }
    }

    /// A new SQLite file in a new temporary directory.
    pub fn sqlite() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(unique_name("learnloop-scratch"));
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self {
            url: format!("sqlite://{}", dir.join("learnloop.db").display()),
            place: Place::Sqlite(dir),
        })
    }

    /// A new, empty database on the PostgreSQL server of `server` (a `postgres://` url).
    pub async fn postgres(server: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(server).context("not a PostgreSQL url")?;
        let mut admin = options
            .connect()
            .await
            .context("cannot connect to the server")?;
        let name = unique_name("learnloop_scratch");
        // An identifier cannot be bound; this one is made of our own letters, digits
        // and underscores only.
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        let url = options.database(&name).to_url_lossy().to_string();
        Ok(Self {
            url,
            place: Place::Postgres {
                server: server.to_owned(),
                name,
            },
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        match self.place {
            Place::Sqlite(_) => Backend::Sqlite,
            Place::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Settings that open this database with a pool of `max_connections`.
    pub fn settings(&self, max_connections: u32) -> DatabaseSettings {
        DatabaseSettings {
            url: match self.place {
                Place::Sqlite(_) => DatabaseUrl::Sqlite(self.url.clone()),
                Place::Postgres { .. } => DatabaseUrl::Postgres(Secret::new(self.url.clone())),
            },
            max_connections,
            busy_timeout_ms: 5000,
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        match &self.place {
            Place::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::Postgres { server, name } => {
                // Drop runs inside a test's runtime, which cannot block on itself: the
                // database is dropped from a thread with a runtime of its own.
                let (server, name) = (server.clone(), name.clone());
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(drop_postgres(&server, &name))
                })
                .join();
                if let Ok(Err(err)) = dropped {
                    eprintln!("a scratch database was left behind: {err:#}");
                }
            }
        }
    }
}

async fn drop_postgres(server: &str, name: &str) -> anyhow::Result<()> {
    let mut admin = PgConnectOptions::from_str(server)?.connect().await?;
    // FORCE: a pool the test leaked may still hold connections.
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

/// The backend this test run names in `LEARNLOOP_TEST_BACKEND`.
pub fn test_backend() -> Backend {
    match std::env::var(BACKEND_VAR).as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("{BACKEND_VAR}={other}: expected sqlite or postgres"),
    }
}

/// `prefix_PID_N_RANDOM`: unique among concurrent tests and test processes.
fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}_{:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        fastrand::u32(..)
    )
}
