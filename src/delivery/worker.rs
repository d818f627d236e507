//! Claims due outbox rows and sends them. [`Delivery::run_once`] is one pass that tests
//! call directly with a moved clock; [`Delivery::run`] decides when to call it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::backoff::{after_retry_after, backoff};
use super::rate;
use crate::clock::SharedClock;
use crate::config::{DeliverySettings, Secret};
use crate::domain::Timestamp;
use crate::metrics::{DeliveryOutcome, Metrics};
use crate::platform::slack::{SlackApiError, SlackClient};
use crate::platform::teams::TeamsClient;
use crate::store::{OutboxMessage, OutboxMethod, Settlement, Store, StoreError, WorkspaceId};

/// Longest the worker sleeps with nothing due; bounds how late it notices rows that
/// another process queued (its own queueing wakes it at once).
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How long a bot token read from the database is trusted: a reinstall or a rotated
/// token written by another process takes effect within this time.
const TOKEN_TTL: Duration = Duration::from_secs(60);

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Put back untouched because the workspace's send rate was used up.
    pub deferred: usize,
}

/// The outbox worker of one process.
pub struct Delivery {
    pub(super) store: Store,
    slack: SlackClient,
    pub(super) clock: SharedClock,
    metrics: Arc<Metrics>,
    settings: DeliverySettings,
    /// Bot tokens by workspace with when they were read; see [`TOKEN_TTL`].
    tokens: Mutex<HashMap<i64, (Option<Secret>, Timestamp)>>,
    /// The Bot Framework connector, when Teams credentials are configured.
    pub(super) teams: Option<Arc<TeamsClient>>,
    /// The store's signal that something was queued (every commit that queues, in
    /// this process); [`Delivery::wake`] signals it too.
    wake: std::sync::Arc<Notify>,
}

impl Delivery {
    pub fn new(
        store: Store,
        slack: SlackClient,
        clock: SharedClock,
        metrics: Arc<Metrics>,
        settings: DeliverySettings,
    ) -> Self {
        Self {
            wake: store.queued_signal(),
            store,
            slack,
            clock,
            metrics,
            settings,
            tokens: Mutex::new(HashMap::new()),
            teams: None,
        }
    }

    /// Sends the `teams.*` rows of the outbox through this connector client.
    pub fn with_teams(mut self, client: Arc<TeamsClient>) -> Self {
        self.teams = Some(client);
        self
    }

    /// How long a queued message may keep failing before it is given up.
    pub fn give_up_after(&self) -> Duration {
        Duration::from_secs(self.settings.give_up_after_hours * 3600)
    }

    /// When a message queued at `now` stops being retried.
    pub fn give_up_at(&self, now: Timestamp) -> Timestamp {
        now + self.give_up_after()
    }

    /// Tells the worker that something was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Claims what is due now and sends it, one message per channel, concurrently, then
    /// records every outcome in one transaction.
    pub async fn run_once(self: &Arc<Self>) -> Result<DeliveryReport, StoreError> {
        let now = self.clock.now();
        let lease_until = now + Duration::from_secs(self.settings.lease_secs);
        let limit = self.settings.concurrency as u32;
        let claimed = self.store.claim_due(now, lease_until, limit).await?;
        let mut report = DeliveryReport {
            claimed: claimed.len(),
            ..DeliveryReport::default()
        };
        let mut settlements = Vec::with_capacity(claimed.len());
        let mut grants = self.take_sends(&claimed, now).await?;
        let mut sends = JoinSet::new();
        for message in claimed {
            let grant = grants
                .get_mut(&message.workspace_id)
                .expect("every claimed workspace was asked for");
            if grant.granted == 0 {
                settlements.push(Settlement::Release {
                    claim: message.claim(),
                    at: now.plus_millis(grant.retry_in_ms),
                });
                report.deferred += 1;
                continue;
            }
            grant.granted -= 1;
            let worker = Arc::clone(self);
            sends.spawn(async move { worker.deliver(message).await });
        }
        let mut outcomes = Vec::with_capacity(settlements.capacity());
        while let Some(sent) = sends.join_next().await {
            match sent {
                Ok((outcome, settlement)) => {
                    outcomes.push(outcome);
                    settlements.push(settlement);
                }
                // The row keeps its lease and comes back when it runs out.
                Err(err) => tracing::error!(error = %err, "a delivery task panicked"),
            }
        }
        // If this fails the leases run out and the messages are tried again: a
        // duplicate is possible then, a loss is not.
        self.store.settle(&settlements).await?;
        for outcome in outcomes {
            self.metrics.record_delivery(outcome);
            match outcome {
                DeliveryOutcome::Sent => report.sent += 1,
                DeliveryOutcome::Retried => report.retried += 1,
                DeliveryOutcome::Failed => report.failed += 1,
            }
        }
        Ok(report)
    }

    /// Takes, from each workspace's shared send rate, one send per claimed message of
    /// it: what each workspace may send now. If this fails, the claims keep their
    /// leases and the messages come back when those run out.
    async fn take_sends(
        &self,
        claimed: &[OutboxMessage],
        now: Timestamp,
    ) -> Result<HashMap<i64, rate::Grant>, StoreError> {
        let mut wanted: Vec<(WorkspaceId, usize)> = Vec::new();
        for message in claimed {
            match wanted.iter_mut().find(|(w, _)| w.0 == message.workspace_id) {
                Some((_, count)) => *count += 1,
                None => wanted.push((WorkspaceId(message.workspace_id), 1)),
            }
        }
        let workspaces: Vec<WorkspaceId> = wanted.iter().map(|(w, _)| *w).collect();
        let per_sec = self.settings.workspace_rate_per_sec;
        let decided = self
            .store
            .update_send_rates(&workspaces, |workspace, before| {
                let count = wanted
                    .iter()
                    .find(|(w, _)| *w == workspace)
                    .map_or(0, |(_, count)| *count);
                rate::take(before, per_sec, count, now)
            })
            .await?;
        Ok(decided.into_iter().map(|(w, grant)| (w.0, grant)).collect())
    }

    /// Sends until `stop` is cancelled: a pass whenever something is due or queued.
    /// A send in progress finishes before this returns, so nothing is cut off mid-call.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            if stop.is_cancelled() {
                return;
            }
            let wait = match self.run_once().await {
                Ok(report) if report.claimed == self.settings.concurrency => Duration::ZERO,
                Ok(_) => self.until_next_due().await,
                Err(err) => {
                    tracing::warn!(error = %err, "the outbox could not be read; trying again shortly");
                    IDLE_POLL
                }
            };
            if wait.is_zero() {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        match self.store.next_outbox_due().await {
            Ok(Some(due)) => {
                // Never zero here: a row due "now" that was not claimed is blocked.
                due.since(self.clock.now())
                    .max(Duration::from_millis(5))
                    .min(IDLE_POLL)
            }
            Ok(None) => IDLE_POLL,
            Err(err) => {
                tracing::warn!(error = %err, "could not read when the outbox is next due");
                IDLE_POLL
            }
        }
    }

    async fn token(&self, workspace: WorkspaceId) -> Result<Option<Secret>, StoreError> {
        let now = self.clock.now();
        if let Some((token, read_at)) = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&workspace.0)
            && now.since(*read_at) < TOKEN_TTL
        {
            return Ok(token.clone());
        }
        let token = self.store.workspace_by_id(workspace).await?.bot_token;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(workspace.0, (token.clone(), now));
        Ok(token)
    }

    /// After Slack refused `used`: whether the workspace has a different token by now
    /// (rotated or reinstalled), so the message deserves another try with it.
    async fn token_changed(&self, message: &OutboxMessage, used: &Secret) -> bool {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&message.workspace_id);
        match self.token(message.workspace()).await {
            Ok(Some(fresh)) => fresh.expose() != used.expose(),
            _ => false,
        }
    }

    /// Sends one message and says how it went; the caller records it.
    async fn deliver(&self, message: OutboxMessage) -> (DeliveryOutcome, Settlement) {
        if message.method.is_teams() {
            return self.deliver_to_teams(message).await;
        }
        let id = message.outbox_id();
        let token = match self.token(message.workspace()).await {
            Ok(Some(token)) => token,
            Ok(None) => {
                return self.give_up(
                    &message,
                    "the workspace has no bot token",
                    "install the app (set LEARNLOOP_SLACK_BOT_TOKEN)",
                );
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not read the bot token; will retry");
                let at = self.clock.now() + Duration::from_millis(self.settings.initial_backoff_ms);
                return (
                    DeliveryOutcome::Retried,
                    Settlement::Retry {
                        claim: message.claim(),
                        at,
                        error: err.to_string(),
                    },
                );
            }
        };
        let mut body = match self.queued_body(&message) {
            Ok(body) => body,
            Err(gave_up) => return gave_up,
        };
        if let Some(field) = &message.anchor_field {
            match (&message.anchor_ts, field.as_str()) {
                (Some(ts), _) => body[field.as_str()] = serde_json::Value::String(ts.clone()),
                // The thread's first message never went out: the reply stands alone
                // rather than being lost.
                (None, "thread_ts") => {}
                (None, _) => {
                    return self.give_up(
                        &message,
                        "the message it changes was never posted",
                        "see the earlier failure in this channel",
                    );
                }
            }
        }
        let result = self
            .slack
            .call(message.method.as_str(), &token, &body)
            .await;
        let now = self.clock.now();
        match result {
            Ok(answer) => (
                DeliveryOutcome::Sent,
                Settlement::Sent {
                    id,
                    workspace_id: message.workspace_id,
                    channel: message.channel.clone(),
                    at: now,
                    channel_free_at: now + self.pacing(message.method),
                    sent_ts: answer
                        .get("ts")
                        .and_then(|ts| ts.as_str())
                        .map(str::to_owned),
                },
            ),
            Err(err) if err.is_retryable() => {
                self.retry_later(&message, now, err.retry_after(), &err.to_string())
                    .await
            }
            Err(err) if err.is_auth_error() && self.token_changed(&message, &token).await => {
                tracing::info!(
                    outbox_id = id.0,
                    "Slack refused an old bot token; sending again with the new one"
                );
                (
                    DeliveryOutcome::Retried,
                    Settlement::Retry {
                        claim: message.claim(),
                        at: now,
                        error: err.to_string(),
                    },
                )
            }
            Err(err) => self.give_up(&message, &err.to_string(), admin_advice(&err)),
        }
    }

    /// The row's JSON body; a row that is not JSON can never be sent (a bug), so it is
    /// given up at once.
    pub(super) fn queued_body(
        &self,
        message: &OutboxMessage,
    ) -> Result<serde_json::Value, (DeliveryOutcome, Settlement)> {
        serde_json::from_str(&message.body).map_err(|err| {
            self.give_up(
                message,
                &format!("the queued body is not JSON: {err}"),
                "report this as a bug",
            )
        })
    }

    /// Holds every send of `workspace` until `until` (ms), in the rate every process
    /// shares. A failure to record it only costs more refusals from the platform: the
    /// message itself waits out its Retry-After either way.
    async fn hold_workspace(&self, workspace: i64, until: Timestamp) {
        let per_sec = self.settings.workspace_rate_per_sec;
        let held = self
            .store
            .update_send_rates(&[WorkspaceId(workspace)], |_, before| {
                (rate::hold(before, per_sec, until), ())
            })
            .await;
        if let Err(err) = held {
            tracing::warn!(error = %err, workspace, "a platform's rate-limit hold was not recorded");
        }
    }

    /// Puts a message back after a failure that may pass (the platform's `Retry-After`,
    /// else exponential backoff), or gives it up once its retry budget is spent.
    pub(super) async fn retry_later(
        &self,
        message: &OutboxMessage,
        now: Timestamp,
        retry_after: Option<Duration>,
        error: &str,
    ) -> (DeliveryOutcome, Settlement) {
        if now >= message.give_up_at {
            return self.give_up(
                message,
                error,
                "the retry budget (delivery.give_up_after_hours) ran out",
            );
        }
        let wait = match retry_after {
            Some(retry_after) => {
                let wait = after_retry_after(retry_after);
                self.hold_workspace(message.workspace_id, now + wait).await;
                wait
            }
            None => backoff(
                message.attempts,
                Duration::from_millis(self.settings.initial_backoff_ms),
                Duration::from_secs(self.settings.max_backoff_secs),
            ),
        };
        tracing::info!(
            outbox_id = message.id,
            attempt = message.attempts,
            error,
            retry_in_ms = wait.as_millis() as u64,
            "sending failed; will retry"
        );
        (
            DeliveryOutcome::Retried,
            Settlement::Retry {
                claim: message.claim(),
                at: now + wait,
                error: error.to_owned(),
            },
        )
    }

    /// How long a sent message holds its channel: Slack paces new messages (about one
    /// per second per channel); edits and ephemeral replies are not held back.
    fn pacing(&self, method: OutboxMethod) -> Duration {
        if method == OutboxMethod::SlackPost {
            Duration::from_millis(self.settings.channel_interval_ms)
        } else {
            Duration::ZERO
        }
    }

    pub(super) fn give_up(
        &self,
        message: &OutboxMessage,
        error: &str,
        advice: &str,
    ) -> (DeliveryOutcome, Settlement) {
        tracing::error!(
            outbox_id = message.id,
            workspace_id = message.workspace_id,
            channel = %message.channel,
            method = %message.method,
            attempts = message.attempts,
            error,
            advice,
            "gave up sending a message"
        );
        (
            DeliveryOutcome::Failed,
            Settlement::Failed {
                claim: message.claim(),
                error: error.to_owned(),
            },
        )
    }
}

/// What a workspace admin should do about an error that retrying will not fix.
fn admin_advice(error: &SlackApiError) -> &'static str {
    let SlackApiError::Api { error, .. } = error else {
        return "check the request in the Slack API docs; this will not succeed by retrying";
    };
    match error.as_str() {
        "channel_not_found" | "not_in_channel" | "is_archived" => {
            "invite the bot to the channel (/invite @learnloop), or pick a channel it is in"
        }
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive" => {
            "the bot token is no longer valid: reinstall the app and update LEARNLOOP_SLACK_BOT_TOKEN"
        }
        "missing_scope" => "add the missing scope in the app manifest and reinstall the app",
        "user_not_found" | "user_disabled" => "the person left the workspace; nothing to do",
        _ => "check the error in the Slack API docs; this will not succeed by retrying",
    }
}
