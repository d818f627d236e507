//! Slack Socket Mode: everything Slack would POST to the request URLs arrives over a
//! WebSocket opened with the app-level token instead, so learnloop needs no public
//! address. Envelopes run through the very handlers of the HTTP routes.
//!
//! The supervisor keeps one live connection: on `disconnect` (`warning`,
//! `refresh_requested`) it opens the next connection and retires the old one only once
//! the new one said `hello` and the old one answered what it took; a silent socket is
//! replaced; failures back off with jitter; `link_disabled` stops it with a log line.

pub mod connection;
pub mod envelope;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Secret;
use crate::delivery::backoff::backoff;
use crate::platform::slack::SlackClient;
use connection::{Ended, KeepAlive, Report};
use envelope::Dispatcher;

/// The socket's state, for `/readyz` and the logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketState {
    Connecting,
    Connected,
    /// Lost; a new connection is being opened.
    Reconnecting,
    /// `link_disabled`: Socket Mode was turned off in the app's settings.
    Disabled,
    Stopped,
}

/// Shared view of the socket's state.
pub struct SocketStatus {
    state: Mutex<(SocketState, Instant)>,
}

impl Default for SocketStatus {
    fn default() -> Self {
        Self {
            state: Mutex::new((SocketState::Connecting, Instant::now())),
        }
    }
}

impl SocketStatus {
    fn set(&self, state: SocketState) {
        let mut current = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if current.0 != state {
            *current = (state, Instant::now());
        }
    }

    /// The state and how long it has lasted.
    pub fn get(&self) -> (SocketState, Duration) {
        let current = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (current.0.clone(), current.1.elapsed())
    }
}

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(120);

/// Runs Socket Mode for one app token.
pub struct SocketMode {
    pub slack: SlackClient,
    pub app_token: Secret,
    pub dispatcher: Arc<Dispatcher>,
    pub keep_alive: KeepAlive,
    pub status: Arc<SocketStatus>,
}

/// A connection and how to reach it.
struct Live {
    id: u64,
    retire: CancellationToken,
    task: JoinHandle<()>,
}

/// What a connection task tells the supervisor.
enum Event {
    Report(u64, Report),
    Ended(u64, Ended),
}

impl SocketMode {
    /// Keeps a connection open until `stop` (or until Slack disables Socket Mode).
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let (events_tx, mut events) = mpsc::channel::<Event>(64);
        let mut current: Option<Live> = None;
        let mut pending: Option<Live> = None;
        // Slack asked the current connection to make way for a new one.
        let mut replacing = false;
        let mut next_id = 0u64;
        let mut failures = 0i64;
        loop {
            if pending.is_none() && (current.is_none() || replacing) {
                next_id += 1;
                match self.open(next_id, events_tx.clone()).await {
                    Ok(live) => pending = Some(live),
                    Err(err) => {
                        failures += 1;
                        let wait = backoff(failures, FIRST_RETRY, LONGEST_RETRY);
                        tracing::warn!(error = %err, retry_in = ?wait, "could not open the Slack Socket Mode connection");
                        if current.is_none() {
                            self.status.set(SocketState::Reconnecting);
                        }
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            _ = tokio::time::sleep(wait) => continue,
                        }
                    }
                }
            }
            let event = tokio::select! {
                _ = stop.cancelled() => break,
                event = events.recv() => event,
            };
            let Some(event) = event else { break };
            match event {
                Event::Report(id, Report::Ready) if is(&pending, id) => {
                    if let Some(old) = current.replace(pending.take().expect("checked")) {
                        old.retire.cancel();
                    }
                    replacing = false;
                    failures = 0;
                    self.status.set(SocketState::Connected);
                    tracing::info!("Slack Socket Mode connected");
                }
                Event::Report(id, Report::WantsReplacing(reason)) if is(&current, id) => {
                    tracing::info!(%reason, "Slack asked for a new Socket Mode connection; opening it before closing this one");
                    replacing = true;
                }
                Event::Report(..) => {}
                Event::Ended(_, Ended::LinkDisabled) => {
                    tracing::error!(
                        "Slack disabled Socket Mode for this app (link_disabled): nothing arrives over \
                         the socket any more. Turn Socket Mode on in the app's settings and restart, or \
                         unset LEARNLOOP_SLACK_APP_TOKEN and use request URLs"
                    );
                    self.status.set(SocketState::Disabled);
                    retire_all([current.take(), pending.take()]).await;
                    return;
                }
                Event::Ended(id, ended) if is(&current, id) => {
                    current = None;
                    replacing = false;
                    if ended != Ended::Retired {
                        tracing::warn!(how = ?ended, "the Slack Socket Mode connection was lost; reconnecting");
                        self.status.set(SocketState::Reconnecting);
                    }
                }
                Event::Ended(id, ended) if is(&pending, id) => {
                    pending = None;
                    failures += 1;
                    let wait = backoff(failures, FIRST_RETRY, LONGEST_RETRY);
                    tracing::warn!(how = ?ended, retry_in = ?wait, "a new Slack Socket Mode connection failed before it was ready");
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                Event::Ended(..) => {}
            }
        }
        self.status.set(SocketState::Stopped);
        retire_all([current.take(), pending.take()]).await;
    }

    /// Asks Slack for a socket URL, connects, and starts the connection's task.
    async fn open(&self, id: u64, events: mpsc::Sender<Event>) -> anyhow::Result<Live> {
        let answer = self
            .slack
            .call_form("apps.connections.open", &self.app_token, &[])
            .await?;
        let url = answer
            .get("url")
            .and_then(|url| url.as_str())
            .ok_or_else(|| anyhow::anyhow!("apps.connections.open answered without a url"))?;
        let (socket, _) = tokio::time::timeout(
            self.keep_alive.dead_after,
            tokio_tungstenite::connect_async(url),
        )
        .await
        .map_err(|_| anyhow::anyhow!("the WebSocket handshake timed out"))??;
        let retire = CancellationToken::new();
        let (reports_tx, mut reports) = mpsc::channel::<Report>(4);
        let run = connection::run(
            socket,
            self.dispatcher.clone(),
            self.keep_alive,
            reports_tx,
            retire.clone(),
        );
        let task = tokio::spawn(async move {
            let forward = async {
                while let Some(report) = reports.recv().await {
                    let _ = events.send(Event::Report(id, report)).await;
                }
            };
            // The reports end when the connection does; its end is reported last.
            let (ended, ()) = tokio::join!(run, forward);
            let _ = events.send(Event::Ended(id, ended)).await;
        });
        Ok(Live { id, retire, task })
    }
}

fn is(live: &Option<Live>, id: u64) -> bool {
    live.as_ref().is_some_and(|live| live.id == id)
}

/// Retires connections and waits for them to answer what they took.
async fn retire_all(connections: [Option<Live>; 2]) {
    for live in connections.into_iter().flatten() {
        live.retire.cancel();
        let _ = live.task.await;
    }
}
