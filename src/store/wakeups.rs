//! Wake-ups across processes. On PostgreSQL a commit that queued a message notifies
//! `learnloop_outbox`, and every replica listens, so an idle worker anywhere starts at
//! once; a lost listener costs only latency (the worker polls anyway). SQLite has no
//! such channel: processes on one file find new messages by polling.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use super::db::{self, Backend, Conn, Pool};
use super::{Store, StoreError};

/// The channel a commit that queued a message notifies.
pub const OUTBOX_CHANNEL: &str = "learnloop_outbox";

/// Notifies the other replicas that `conn`'s transaction queued a message: delivered
/// to them when it commits, never if it rolls back.
pub(super) async fn notify_queued(conn: &mut Conn) -> Result<(), StoreError> {
    if conn.backend() == Backend::Postgres {
        db::query("SELECT pg_notify('learnloop_outbox', '')")
            .execute(conn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// On PostgreSQL, listens until `stop` for messages queued by any replica and wakes
    /// this process's delivery worker; reconnects when the connection is lost. Nothing
    /// to do on SQLite.
    pub async fn listen_for_queued(&self, stop: CancellationToken) {
        let Pool::Postgres(pool) = &self.pool else {
            return;
        };
        let mut retry = Duration::from_millis(100);
        while !stop.is_cancelled() {
            let listened = async {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen(OUTBOX_CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                () = stop.cancelled() => return,
                listened = listened => match listened {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot listen for queued messages; polling meanwhile");
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = tokio::time::sleep(retry) => {}
                        }
                        retry = (retry * 2).min(Duration::from_secs(10));
                        continue;
                    }
                },
            };
            retry = Duration::from_millis(100);
            // Whatever was queued while nobody listened is found by this first pass.
            self.queued.notify_one();
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    received = listener.try_recv() => match received {
                        Ok(Some(_)) => self.queued.notify_one(),
                        // The connection was lost; the next round reconnects.
                        Ok(None) => break,
                        Err(err) => {
                            tracing::warn!(error = %err, "lost the queued-message channel; listening again");
                            break;
                        }
                    },
                }
            }
        }
    }
}
