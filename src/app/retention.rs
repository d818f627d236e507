//! Retention: what was said is kept only as long as it is needed. Delivered messages'
//! bodies are erased after `retention.outbox_days` (rows a later message or a waiting
//! follow-up refers to keep their id and nothing else), failed ones are removed after
//! `retention.failed_outbox_days`, and Events API ids after their dedupe window.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::RetentionSettings;
use crate::store::Store;

/// How long an outgoing-webhook activity is remembered: past its five minutes its
/// timestamp alone refuses a replay.
const WEBHOOK_REPLAY_KEPT_SECS: i64 = 3600;

/// How often the pruning runs.
const EVERY: Duration = Duration::from_secs(3600);
const DAY_SECS: u64 = 86_400;

/// How long each kind of record is kept.
#[derive(Clone, Debug)]
pub struct Retention {
    pub settings: RetentionSettings,
    /// How long a processed event id is remembered (Slack retries within minutes).
    pub event_dedupe_secs: i64,
}

/// What one pass removed or erased.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub outbox_rows: u64,
    pub events: u64,
}

/// One pass, as of `now`.
pub async fn prune(
    store: &Store,
    retention: &Retention,
    now: Timestamp,
) -> Result<Pruned, AppError> {
    let days = |n: u64| now - Duration::from_secs(n.saturating_mul(DAY_SECS));
    let outbox_rows = store
        .prune_outbox(
            days(retention.settings.outbox_days),
            days(retention.settings.failed_outbox_days),
        )
        .await?;
    let events = store
        .prune_processed_events(now.plus_seconds(-retention.event_dedupe_secs))
        .await?
        + store
            .prune_webhook_activities(now.plus_seconds(-WEBHOOK_REPLAY_KEPT_SECS))
            .await?
        + store
            .prune_web_sessions(now.plus_seconds(-crate::app::signin::SESSION_IDLE_SECS))
            .await?;
    Ok(Pruned {
        outbox_rows,
        events,
    })
}

/// Prunes every hour until `stop` is cancelled.
pub async fn run(
    store: Store,
    clock: SharedClock,
    retention: Arc<Retention>,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => match prune(&store, &retention, clock.now()).await {
                Ok(pruned) if pruned != Pruned::default() => {
                    tracing::debug!(?pruned, "pruned what is no longer needed");
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not prune old records"),
            },
        }
    }
}
