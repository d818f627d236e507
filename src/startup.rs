//! Builds the application exactly as production runs it; tests call the same code
//! with port 0, a temp database and a fake Slack.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::debrief::timers::DebriefDuties;
use crate::app::installs::OAuthApp;
use crate::app::retention::{self, Retention};
use crate::app::scopes::ScopeRefresher;
use crate::app::templates::Templates;
use crate::app::workspaces::WorkspaceDirectory;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Settings;
use crate::delivery::Delivery;
use crate::domain::directory::Directory;
use crate::domain::directory::ZoneSource;
use crate::http::verify::{BotTokenVerifier, SlackSignatureVerifier, TeamsWebhookVerifier};
use crate::http::{AppParts, AppState, metrics_router, router, socket_mode_routes};
use crate::metrics::Metrics;
use crate::platform::slack::rotation::TokenRotation;
use crate::platform::slack::{SlackClient, SlackDirectory, SlackZones};
use crate::platform::teams::directory::{ByPlatform, TeamsDirectory};
use crate::platform::teams::{TeamsClient, TeamsCredentials};
use crate::scheduler::Scheduler;
use crate::sealing::Keyring;
use crate::socket_mode::connection::KeepAlive;
use crate::socket_mode::envelope::Dispatcher;
use crate::socket_mode::{SocketMode, SocketStatus};
use crate::store::{Credentials, Store};

/// How long shutdown waits for the outbox worker to finish the sends in flight; past it
/// their leases bring them back after a restart.
const DELIVERY_DRAIN: Duration = Duration::from_secs(15);

/// A built, bound, migrated application, not yet serving.
pub struct App {
    listener: TcpListener,
    /// `/metrics` on a listener of its own, when configured.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    /// Slack Socket Mode, when an app token is configured.
    socket_mode: Option<Arc<SocketMode>>,
    /// Refreshes rotating OAuth tokens before they run out.
    rotation: Option<Arc<TokenRotation>>,
    /// Stored tokens sealed with a key other than the active one: re-sealed at start.
    stale_seals: i64,
    retention: Arc<Retention>,
}

impl App {
    /// Builds with the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Connects and migrates the database, wires every part, and binds the listener.
    pub async fn build_with_clock(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let templates = Arc::new(Templates::load_with_default(
            &settings.templates.dir,
            &settings.debriefs.default_template,
        )?);
        let keyring = settings
            .security
            .token_keys
            .as_ref()
            .map(Keyring::parse)
            .transpose()?
            .map(Arc::new);
        let store = Store::connect(&settings.database)
            .await?
            .with_credentials(Credentials {
                keyring: keyring.clone(),
                slack_env_token: settings.slack.bot_token.clone(),
            });
        store.migrate().await?;
        let stale_seals = check_sealed_tokens(&store, keyring.as_deref()).await?;
        let slack = SlackClient::new(
            &settings.slack.api_url,
            Duration::from_secs(settings.slack.request_timeout_secs),
        )
        .context("cannot build the Slack HTTP client")?;
        let slack_verifier = settings
            .slack
            .signing_secret
            .as_ref()
            .map(SlackSignatureVerifier::new);
        if slack_verifier.is_none() && settings.slack.app_token.is_some() {
            tracing::info!(
                "Slack reaches learnloop over Socket Mode; without LEARNLOOP_SLACK_SIGNING_SECRET the /slack/* request URLs answer 503"
            );
        } else if slack_verifier.is_none() {
            tracing::warn!(
                "LEARNLOOP_SLACK_SIGNING_SECRET is not set: the /slack/* routes will answer 503 until it is"
            );
        }
        let bot_tokens = settings.teams.app_id.as_deref().map(|app_id| {
            Arc::new(BotTokenVerifier::new(
                app_id,
                &settings.teams.openid_url,
                clock.clone(),
            ))
        });
        let teams_webhook_verifier = settings
            .teams
            .webhook_secret
            .as_ref()
            .map(TeamsWebhookVerifier::new)
            .transpose()
            .context("LEARNLOOP_TEAMS_WEBHOOK_SECRET is not base64 (paste the security token Teams showed)")?;
        let workspaces = WorkspaceDirectory::new(
            store.clone(),
            clock.clone(),
            settings.slack.bot_token.clone(),
            settings.workspace.default_time_zone.clone(),
        );
        let slack_for_zones = slack.clone();
        let metrics = Arc::new(Metrics::default());
        let mut delivery = Delivery::new(
            store.clone(),
            slack.clone(),
            clock.clone(),
            metrics.clone(),
            settings.delivery.clone(),
        );
        let teams = teams_client(&settings, clock.clone())?.map(Arc::new);
        if let Some(teams) = &teams {
            delivery = delivery.with_teams(teams.clone());
        }
        let delivery = Arc::new(delivery);
        let directory: Arc<dyn Directory> = Arc::new(ByPlatform {
            slack: Arc::new(SlackDirectory(slack.clone())),
            teams: teams.clone().map(|client| {
                Arc::new(TeamsDirectory {
                    client,
                    store: store.clone(),
                }) as Arc<dyn Directory>
            }),
        });
        let zones: Arc<dyn ZoneSource> = Arc::new(SlackZones(slack_for_zones));
        let scheduler = Arc::new(
            Scheduler::new(
                store.clone(),
                clock.clone(),
                delivery.clone(),
                templates.clone(),
                Duration::from_secs(settings.scheduler.missed_grace_hours * 3600),
                settings.workspace.holidays.clone(),
            )
            .with_follow_up_times(settings.followups.hour, settings.workspace.workdays.clone())
            .with_debrief_duties(DebriefDuties {
                directory: directory.clone(),
                zones: zones.clone(),
                templates: templates.clone(),
                settings: settings.debriefs.clone(),
                give_up_after: delivery.give_up_after(),
            }),
        );
        let listener = TcpListener::bind(settings.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.http.listen))?;
        let metrics_listener = match settings.http.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} for /metrics"))?,
            ),
            None => None,
        };
        let scopes = Arc::new(ScopeRefresher::new(
            store.clone(),
            directory.clone(),
            clock.clone(),
        ));
        let state = AppState::new(AppParts {
            store,
            clock,
            metrics,
            slack_verifier,
            bot_tokens,
            teams_webhook_verifier,
            teams,
            teams_tenants: settings.teams.tenants.clone(),
            slack,
            workspaces,
            delivery,
            scheduler,
            zones,
            directory: directory.clone(),
            scopes,
            templates,
            debriefs: settings.debriefs.clone(),
            body_limit_bytes: settings.http.body_limit_bytes,
            request_timeout: Duration::from_secs(settings.http.request_timeout_secs),
            oauth: OAuthApp::from_settings(&settings).map(Arc::new),
            signin: crate::app::signin::SignIn::from_settings(&settings).map(Arc::new),
            settings: Arc::new(settings.clone()),
            default_time_zone: settings.workspace.default_time_zone.clone(),
            socket: settings
                .slack
                .app_token
                .as_ref()
                .map(|_| Arc::new(SocketStatus::default())),
        });
        let rotation = settings.slack.oauth.as_ref().map(|oauth| {
            Arc::new(TokenRotation::new(
                state.store.clone(),
                state.slack.clone(),
                state.clock.clone(),
                oauth.client_id.clone(),
                oauth.client_secret.clone(),
            ))
        });
        let socket_mode = match (&settings.slack.app_token, &state.socket) {
            (Some(app_token), Some(status)) => Some(Arc::new(SocketMode {
                slack: state.slack.clone(),
                app_token: app_token.clone(),
                dispatcher: Arc::new(Dispatcher::new(
                    socket_mode_routes(state.clone()),
                    state.request_timeout,
                )),
                keep_alive: KeepAlive {
                    ping_after: Duration::from_secs(settings.slack.socket.ping_secs),
                    dead_after: Duration::from_secs(settings.slack.socket.idle_secs),
                },
                status: status.clone(),
            })),
            _ => None,
        };
        Ok(Self {
            listener,
            metrics_listener,
            state,
            socket_mode,
            rotation,
            stale_seals,
            retention: Arc::new(Retention {
                settings: settings.retention.clone(),
                event_dedupe_secs: (settings.slack.event_dedupe_hours * 3600) as i64,
            }),
        })
    }

    /// The address actually bound (the port is chosen by the OS for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address of the `/metrics` listener, when it has its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The outbox worker, for tests that run delivery passes themselves.
    pub fn delivery(&self) -> Arc<Delivery> {
        self.state.delivery.clone()
    }

    /// The scheduler, for tests that fire schedules themselves.
    pub fn scheduler(&self) -> Arc<Scheduler> {
        self.state.scheduler.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests
    /// and sends finish, and closes the database. Queued messages stay in the outbox.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state;
        let stop_background = CancellationToken::new();
        let maintenance = tokio::spawn(retention::run(
            state.store.clone(),
            state.clock.clone(),
            self.retention.clone(),
            stop_background.clone(),
        ));
        let worker = tokio::spawn(state.delivery.clone().run(stop_background.clone()));
        let listener = {
            let (store, stop) = (state.store.clone(), stop_background.clone());
            tokio::spawn(async move { store.listen_for_queued(stop).await })
        };
        let scheduler = tokio::spawn(state.scheduler.clone().run(stop_background.clone()));
        let scopes = tokio::spawn(state.scopes.clone().run(stop_background.clone()));
        let rotation = self
            .rotation
            .map(|rotation| tokio::spawn(rotation.run(stop_background.clone())));
        if self.stale_seals > 0 {
            tokio::spawn(reseal_in_background(
                state.store.clone(),
                state.clock.clone(),
            ));
        }
        let socket_mode = self
            .socket_mode
            .map(|socket| tokio::spawn(socket.run(stop_background.clone())));
        tracing::info!(address = %self.listener.local_addr()?, "learnloop is listening");
        let metrics_server = self.metrics_listener.map(|listener| {
            let stop = stop_background.clone();
            let metrics = metrics_router(state.clone());
            tokio::spawn(async move {
                axum::serve(listener, metrics)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
            })
        });
        axum::serve(
            self.listener,
            router(state.clone(), metrics_server.is_none()),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP server failed")?;

        tracing::info!("shutting down: finishing the sends in flight");
        stop_background.cancel();
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        let _ = maintenance.await;
        let _ = listener.await;
        let _ = scheduler.await;
        let _ = scopes.await;
        if let Some(socket_mode) = socket_mode {
            let _ = socket_mode.await;
        }
        if let Some(rotation) = rotation {
            let _ = rotation.await;
        }
        if tokio::time::timeout(DELIVERY_DRAIN, worker).await.is_err() {
            tracing::warn!(
                "sends still in flight after the drain period; they resume after a restart"
            );
        }
        state.store.close().await;
        Ok(())
    }
}

/// Refuses to start when a stored token could not be opened: sealed with a key
/// `LEARNLOOP_TOKEN_KEYS` does not hold, or with no keys configured at all. Returns how
/// many tokens are sealed with an older key than the active one.
async fn check_sealed_tokens(store: &Store, keyring: Option<&Keyring>) -> anyhow::Result<i64> {
    let mut stale = 0;
    for (kid, count) in store.sealed_key_ids().await? {
        let Some(keyring) = keyring else {
            anyhow::bail!(
                "{count} stored Slack token(s) are sealed (key `{kid}`) but LEARNLOOP_TOKEN_KEYS \
                 is not set; set it to the keys they were sealed with"
            );
        };
        if !keyring.knows(&kid) {
            anyhow::bail!(
                "{count} stored Slack token(s) are sealed with key `{kid}`, which \
                 LEARNLOOP_TOKEN_KEYS does not hold; put that key back after the active one"
            );
        }
        if kid != keyring.active_kid() {
            stale += count;
        }
    }
    Ok(stale)
}

/// Seals tokens sealed with an older key again with the active one, a batch at a time.
async fn reseal_in_background(store: Store, clock: SharedClock) {
    let mut total = 0;
    loop {
        match store.reseal_tokens(100, clock.now()).await {
            Ok(0) => break,
            Ok(count) => total += count,
            Err(err) => {
                tracing::error!(error = %err, "could not re-seal stored tokens with the active key");
                return;
            }
        }
    }
    tracing::info!(
        installations = total,
        "re-sealed stored tokens with the active key"
    );
}

/// The Bot Framework connector client, when the bot's credentials are set: app id and
/// password, and a token endpoint (given, or the tenant's Microsoft identity one).
fn teams_client(settings: &Settings, clock: SharedClock) -> anyhow::Result<Option<TeamsClient>> {
    let teams = &settings.teams;
    let (Some(app_id), Some(app_password)) = (&teams.app_id, &teams.app_password) else {
        if teams.app_id.is_some() {
            tracing::warn!(
                "LEARNLOOP_TEAMS_APP_PASSWORD is not set: the Teams bot can check activities but not answer them"
            );
        }
        return Ok(None);
    };
    let token_url = match (&teams.token_url, &teams.tenant_id) {
        (Some(url), _) => url.clone(),
        (None, Some(tenant)) => {
            format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
        }
        (None, None) => {
            tracing::warn!(
                "LEARNLOOP_TEAMS_TENANT_ID is not set: the Teams bot cannot get a token to answer with"
            );
            return Ok(None);
        }
    };
    let credentials = TeamsCredentials {
        app_id: app_id.clone(),
        app_password: app_password.clone(),
        token_url,
    };
    let client = TeamsClient::new(
        credentials,
        clock,
        Duration::from_secs(settings.slack.request_timeout_secs),
    )
    .context("cannot build the Teams HTTP client")?;
    Ok(Some(client))
}
