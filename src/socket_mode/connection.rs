//! One Socket Mode WebSocket: reads frames, runs each envelope on its own task, writes
//! the acks, pings a quiet socket and gives up on a silent one.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::envelope::{self, Dispatcher, Frame, Outcome};

/// Frames this connection reports to the supervisor while it runs.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    /// `hello`: envelopes may now arrive here.
    Ready,
    /// Slack announced it will close this connection (`warning`, `refresh_requested`).
    WantsReplacing(String),
}

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Retired after a replacement was ready (or at shutdown): every envelope it took
    /// was answered.
    Retired,
    /// `link_disabled`: Socket Mode was turned off for the app.
    LinkDisabled,
    /// No frame at all within the idle timeout: half-open, or Slack went away.
    Silent,
    /// Closed by Slack or by a network error.
    Closed(String),
}

/// Keep-alive timing.
#[derive(Clone, Copy, Debug)]
pub struct KeepAlive {
    pub ping_after: Duration,
    pub dead_after: Duration,
}

/// Longest wait for the envelopes in flight when a connection is retired; a handler
/// never runs longer than the request timeout, so this is only a backstop.
const RETIRE_GRACE: Duration = Duration::from_secs(15);

/// Runs one connected socket until it ends. Envelopes still running then keep running
/// (detached): an event acknowledged on receipt must not be cut off with its socket, and
/// a command's redelivery on the next socket is recognised by its envelope id.
pub async fn run<S>(
    socket: tokio_tungstenite::WebSocketStream<S>,
    dispatcher: Arc<Dispatcher>,
    keep_alive: KeepAlive,
    reports: mpsc::Sender<Report>,
    retire: CancellationToken,
) -> Ended
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let ended = serve(
        socket,
        dispatcher,
        keep_alive,
        reports,
        retire,
        &mut in_flight,
    )
    .await;
    in_flight.detach_all();
    ended
}

async fn serve<S>(
    socket: tokio_tungstenite::WebSocketStream<S>,
    dispatcher: Arc<Dispatcher>,
    keep_alive: KeepAlive,
    reports: mpsc::Sender<Report>,
    retire: CancellationToken,
    in_flight: &mut JoinSet<()>,
) -> Ended
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let (acks, mut pending_acks) = mpsc::channel::<String>(1024);
    let mut last_frame = Instant::now();
    let mut last_sent = Instant::now();
    let mut tick = tokio::time::interval(keep_alive.ping_after.min(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retiring: Option<Instant> = None;
    loop {
        if let Some(since) = retiring
            && (in_flight.is_empty() || since.elapsed() > RETIRE_GRACE)
        {
            // Acks already produced go out before the close.
            while let Ok(ack) = pending_acks.try_recv() {
                let _ = sink.send(Message::Text(ack.into())).await;
            }
            let _ = sink.send(Message::Close(None)).await;
            return Ended::Retired;
        }
        tokio::select! {
            frame = stream.next(), if retiring.is_none() || !in_flight.is_empty() => {
                let text = match frame {
                    None => return Ended::Closed("the socket closed".into()),
                    Some(Err(err)) => return Ended::Closed(err.to_string()),
                    Some(Ok(Message::Close(_))) => return Ended::Closed("Slack closed the socket".into()),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => {
                        // Pings (answered by the library), pongs and binary frames: alive.
                        last_frame = Instant::now();
                        continue;
                    }
                };
                last_frame = Instant::now();
                match envelope::read(text.as_str()) {
                    Ok(Frame::Hello) => {
                        let _ = reports.send(Report::Ready).await;
                    }
                    Ok(Frame::Disconnect(reason)) if reason == "link_disabled" => {
                        return Ended::LinkDisabled;
                    }
                    Ok(Frame::Disconnect(reason)) => {
                        let _ = reports.send(Report::WantsReplacing(reason)).await;
                    }
                    Ok(Frame::Envelope(envelope)) if Dispatcher::acked_on_receipt(&envelope) => {
                        let ack = envelope::ack(&envelope.envelope_id, None);
                        if let Err(err) = sink.send(Message::Text(ack.into())).await {
                            return Ended::Closed(err.to_string());
                        }
                        last_sent = Instant::now();
                        let dispatcher = dispatcher.clone();
                        in_flight.spawn(async move { dispatcher.run_acked(&envelope).await });
                    }
                    Ok(Frame::Envelope(envelope)) => {
                        let (dispatcher, acks) = (dispatcher.clone(), acks.clone());
                        in_flight.spawn(async move {
                            if let Outcome::Ack(ack) = dispatcher.dispatch(&envelope).await {
                                let _ = acks.send(ack).await;
                            }
                        });
                    }
                    Ok(Frame::Other) => {}
                    Err(err) => tracing::warn!(error = %err, "Slack sent a Socket Mode frame that is not JSON"),
                }
            }
            Some(ack) = pending_acks.recv() => {
                if let Err(err) = sink.send(Message::Text(ack.into())).await {
                    return Ended::Closed(err.to_string());
                }
                last_sent = Instant::now();
            }
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = tick.tick() => {
                if last_frame.elapsed() >= keep_alive.dead_after {
                    return Ended::Silent;
                }
                if last_frame.elapsed() >= keep_alive.ping_after
                    && last_sent.elapsed() >= keep_alive.ping_after
                {
                    if let Err(err) = sink.send(Message::Ping(Vec::new().into())).await {
                        return Ended::Closed(err.to_string());
                    }
                    last_sent = Instant::now();
                }
            }
            _ = retire.cancelled(), if retiring.is_none() => {
                retiring = Some(Instant::now());
            }
        }
    }
}
