//! The HTTP edge: routes, verification, parsing into domain values, and metrics.

mod body;
pub mod error;
mod health;
pub(crate) mod html;
pub mod metrics;
pub mod slack;
mod teams;
pub mod verify;
mod web;

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::handle::CommandContext;
use crate::app::scopes::ScopeRefresher;
use crate::app::templates::Templates;
use crate::app::workspaces::WorkspaceDirectory;
use crate::clock::SharedClock;
use crate::config::DebriefSettings;
use crate::delivery::Delivery;
use crate::domain::directory::Directory;
use crate::domain::directory::ZoneSource;
use crate::metrics::Metrics;
use crate::platform::slack::SlackClient;
use crate::platform::teams::TeamsClient;
use crate::scheduler::Scheduler;
use crate::store::{
    Claim, ClaimToken, DebriefId, NewOutboxMessage, OutboxMethod, Store, StoreError, Workspace,
    WorkspaceId,
};
use verify::{BotTokenVerifier, SlackSignatureVerifier, TeamsWebhookVerifier};

/// How long a delivery holds the claim on its event id past the request timeout (after
/// which its handler is cancelled): a handler that is only slow keeps its claim, one
/// that died does not cost the platform's next retry (Slack: a minute later).
const EVENT_CLAIM_MARGIN_SECS: u64 = 5;

/// A platform call to queue (see [`AppState::send`]).
pub struct Queued<'a> {
    pub workspace: WorkspaceId,
    pub method: OutboxMethod,
    pub channel: &'a str,
    pub body: &'a serde_json::Value,
    /// A DM carrying answers of this anonymous debrief: erased once delivered.
    pub anonymous_debrief: Option<DebriefId>,
    /// The inbound event this answers (and its claim), marked done with it.
    pub finishes_event: Option<(&'a str, ClaimToken)>,
}

impl<'a> Queued<'a> {
    pub fn new(
        workspace: WorkspaceId,
        method: OutboxMethod,
        channel: &'a str,
        body: &'a serde_json::Value,
    ) -> Self {
        Self {
            workspace,
            method,
            channel,
            body,
            anonymous_debrief: None,
            finishes_event: None,
        }
    }
}

/// Everything a handler may use; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// The parts of [`AppState`].
pub struct AppParts {
    pub store: Store,
    pub clock: SharedClock,
    pub metrics: Arc<Metrics>,
    /// `None` when no signing secret is configured: Slack routes answer 503.
    pub slack_verifier: Option<SlackSignatureVerifier>,
    /// `None` without `LEARNLOOP_TEAMS_APP_ID`: `/teams/messages` answers 503.
    pub bot_tokens: Option<Arc<BotTokenVerifier>>,
    /// `None` without `LEARNLOOP_TEAMS_WEBHOOK_SECRET`: `/teams/webhook` answers 503.
    pub teams_webhook_verifier: Option<TeamsWebhookVerifier>,
    /// The Bot Framework connector (the outbox sends with it too); `None` without the
    /// bot's password and tenant.
    pub teams: Option<Arc<TeamsClient>>,
    /// Teams tenants served (`LEARNLOOP_TEAMS_TENANTS`); anyone else gets 403.
    pub teams_tenants: Vec<String>,
    pub slack: SlackClient,
    pub workspaces: WorkspaceDirectory,
    /// The outbox worker; handlers that queue a message wake it.
    pub delivery: Arc<Delivery>,
    /// The scheduler; handlers that change schedules wake it.
    pub scheduler: Arc<Scheduler>,
    /// Where people's own time zones come from.
    pub zones: Arc<dyn ZoneSource>,
    /// What the platform says about conversations (privacy scopes).
    pub directory: Arc<dyn Directory>,
    /// Looks conversations up again in the background; events that change one wake it.
    pub scopes: Arc<ScopeRefresher>,
    /// Debrief templates, validated at start.
    pub templates: Arc<Templates>,
    pub debriefs: DebriefSettings,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// OAuth distribution to many workspaces, when configured.
    pub oauth: Option<Arc<crate::app::installs::OAuthApp>>,
    /// The dashboard's sign-in (with Slack, with Microsoft), when it can be offered.
    pub signin: Option<Arc<crate::app::signin::SignIn>>,
    /// The service's settings as loaded: the dashboard's settings page shows them, and
    /// its admins (`LEARNLOOP_ADMINS`) are among them.
    pub settings: Arc<crate::config::Settings>,
    /// The time zone of a newly installed workspace.
    pub default_time_zone: String,
    /// The Socket Mode connection's state, when `LEARNLOOP_SLACK_APP_TOKEN` is set.
    pub socket: Option<Arc<crate::socket_mode::SocketStatus>>,
}

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }

    /// What the domain needs to act for `user` in `channel` of `workspace`.
    pub fn command_context<'a>(
        &'a self,
        workspace: &'a Workspace,
        channel: &'a str,
        user: &'a str,
    ) -> CommandContext<'a> {
        CommandContext {
            store: &self.store,
            clock: self.clock.as_ref(),
            workspace,
            channel,
            user,
            zones: self.zones.as_ref(),
            directory: self.directory.as_ref(),
            event: None,
            templates: &self.templates,
            debriefs: &self.debriefs,
            give_up_after: self.delivery.give_up_after(),
        }
    }

    /// Queues one platform call in the outbox (on its own transaction) and wakes the
    /// worker.
    pub async fn queue(
        &self,
        workspace: WorkspaceId,
        method: OutboxMethod,
        channel: &str,
        body: &serde_json::Value,
    ) -> Result<(), error::HttpError> {
        self.send(Queued::new(workspace, method, channel, body))
            .await
    }

    /// Queues a call in its own transaction (with the inbound event it answers marked
    /// done in the same one) and wakes the worker.
    pub async fn send(&self, queued: Queued<'_>) -> Result<(), error::HttpError> {
        let body = queued.body.to_string();
        let now = self.clock.now();
        let message = NewOutboxMessage {
            method: queued.method,
            anonymous_debrief: queued.anonymous_debrief,
            ..NewOutboxMessage::post(queued.workspace, queued.channel, &body)
        };
        let mut tx = self.store.begin().await?;
        tx.enqueue(message, now, self.delivery.give_up_at(now))
            .await?;
        if let Some((event, token)) = queued.finishes_event {
            // Fails when another delivery took the event over: nothing is queued then,
            // and the platform's retry is answered from that delivery's handling.
            match tx.finish_event(queued.workspace, event, token).await {
                Err(StoreError::Conflict(_)) => {
                    tracing::warn!(
                        "a slow handler lost its event to a retry; its reply is dropped"
                    );
                    return Err(error::HttpError::InProgress);
                }
                other => other?,
            }
        }
        // Committing what it queued wakes the worker (the store signals it).
        tx.commit().await?;
        Ok(())
    }

    /// Queues a call at most once per `key` in the workspace, however often it is asked
    /// for again (an intro or a welcome where the bot was added).
    pub async fn queue_once(
        &self,
        workspace: WorkspaceId,
        method: OutboxMethod,
        channel: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> Result<(), error::HttpError> {
        let body = body.to_string();
        let now = self.clock.now();
        self.store
            .enqueue(
                NewOutboxMessage {
                    method,
                    dedupe_key: Some(key),
                    ..NewOutboxMessage::post(workspace, channel, &body)
                },
                now,
                self.delivery.give_up_at(now),
            )
            .await?;
        Ok(())
    }

    /// Claims an inbound event (a Slack event, a Teams activity) for this delivery:
    /// its token, or `None` when it was handled already. A delivery racing one that is
    /// being handled right now is [`error::HttpError::InProgress`] (503), so the
    /// platform retries it rather than taking a 200 for work that may yet fail.
    pub async fn claim_event(
        &self,
        workspace: WorkspaceId,
        event_id: &str,
    ) -> Result<Option<ClaimToken>, error::HttpError> {
        let now = self.clock.now();
        let held_for = self.request_timeout + Duration::from_secs(EVENT_CLAIM_MARGIN_SECS);
        let token = ClaimToken(claim_token()?);
        match self
            .store
            .claim_event(workspace, event_id, now, now + held_for, token)
            .await?
        {
            Claim::Claimed(token) => Ok(Some(token)),
            Claim::Done => Ok(None),
            Claim::InProgress => {
                tracing::info!(
                    "an event arrived again while it is being handled; asked for a retry"
                );
                Err(error::HttpError::InProgress)
            }
        }
    }

    /// Gives up a claim whose handling failed, so the platform's retry is handled.
    pub async fn release_event(&self, workspace: WorkspaceId, event_id: &str, token: ClaimToken) {
        if let Err(err) = self.store.forget_event(workspace, event_id, token).await {
            tracing::warn!(error = %err, "could not release an event claim; it runs out by itself");
        }
    }

    /// Publishes `user`'s Home tab as it is now: one `views.publish` waiting per person,
    /// carrying the latest state (see [`crate::store::StoreTx::enqueue_latest`]).
    pub async fn publish_home(
        &self,
        workspace: &Workspace,
        user: &str,
    ) -> Result<(), error::HttpError> {
        let ctx = self.command_context(workspace, user, user);
        let view = crate::app::home::view(&ctx).await?;
        let body = crate::platform::slack::blocks::home_view_body(user, &view).to_string();
        let channel = format!("home:{user}");
        let now = self.clock.now();
        let message = NewOutboxMessage {
            method: OutboxMethod::SlackPublishView,
            ..NewOutboxMessage::post(workspace.id, &channel, &body)
        };
        let mut tx = self.store.begin().await?;
        tx.enqueue_latest(message, now, self.delivery.give_up_at(now))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// After `user` changed something their Home shows: publishes it again if they
    /// ever opened it (Slack workspaces only). A failure costs a stale Home, never the
    /// change itself.
    pub async fn refresh_home(&self, workspace: &Workspace, user: &str) {
        if workspace.platform != crate::store::Platform::Slack {
            return;
        }
        let refreshed = async {
            if self.store.has_opened_home(workspace.id, user).await? {
                self.publish_home(workspace, user).await?;
            }
            Ok::<(), error::HttpError>(())
        };
        if let Err(err) = refreshed.await {
            tracing::warn!(error = ?err, "could not publish a Home tab again");
        }
    }
}

impl Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids from a process-wide counter: unique per process, cheap, and short in logs.
#[derive(Clone, Default)]
struct CountingRequestId(Arc<AtomicU64>);

impl MakeRequestId for CountingRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{n:x}"))
            .ok()
            .map(RequestId::new)
    }
}

fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        workspace = tracing::field::Empty,
    )
}

/// A random claim token: two deliveries must never hold the same one.
fn claim_token() -> Result<i64, error::HttpError> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| error::HttpError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(i64::from_le_bytes(bytes))
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked; answered 500");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// `GET /metrics` alone, for its own listener (`LEARNLOOP_METRICS_LISTEN`): metrics
/// then stay on an internal address, never next to the public webhooks.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::serve))
        .with_state(state)
}

/// Slack's handlers for Socket Mode envelopes: counted in the same request metrics, and
/// a panic costs one envelope a retry, never the connection.
pub fn socket_mode_routes(state: AppState) -> Router {
    slack::routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// The whole HTTP surface of learnloop; `/metrics` too unless it has its own listener.
pub fn router(state: AppState, with_metrics: bool) -> Router {
    let body_limit = state.body_limit_bytes;
    let timeout = state.request_timeout;
    let mut routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if with_metrics {
        routes = routes.route("/metrics", get(metrics::serve));
    }
    routes
        .merge(slack::router(state.clone()))
        .merge(slack::oauth::router())
        .merge(web::router())
        .merge(teams::router())
        // Layers run bottom-up on the way in: the id is set first, the span sees it.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_failure(()),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // A bug must cost one request a 500, never the connection or the process.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(SetRequestIdLayer::new(
            REQUEST_ID,
            CountingRequestId::default(),
        ))
        .with_state(state)
}
