//! Socket Mode ingress (issue 16's figure): envelopes at a sustained rate over one
//! WebSocket, each acknowledged by the app; the latency is from the moment the fake
//! Slack sends an envelope to the moment it reads its ack (loopback included).
//!
//! The mix is what a busy workspace sends: three in four are Events API DMs (`help`,
//! each recorded for dedupe and answered through the outbox on a real SQLite file),
//! one in four `/learn goal list` slash commands answered in the ack. Halfway through,
//! the fake Slack asks for a refresh (`disconnect: refresh_requested`), keeps sending on
//! the old connection until the new one says hello, and then redelivers on the new
//! connection every envelope the old one had not acknowledged, as Slack does. Checked:
//! every envelope acknowledged, and every event answered exactly once (outbox rows).
//!
//! Baseline, same session: a bare client on the same socket code path of the fake that
//! acknowledges each envelope the moment it reads it (no handler, no database).
//!
//! Run: `cargo run --release --example bench_socket -- [RATE_PER_SEC] [SECONDS]`

#[path = "support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Accepts, Running, stats};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TEAM: &str = "TBENCH";

type Socket = WebSocketStream<TcpStream>;

/// Accepts connections and hands them over.
async fn listen() -> (String, mpsc::UnboundedReceiver<Socket>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/link", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            if let Ok(socket) = tokio_tungstenite::accept_async(stream).await {
                let _ = tx.send(socket);
            }
        }
    });
    (url, rx)
}

fn envelope(n: usize) -> (String, Value) {
    let id = format!("env-{n}");
    let frame = if n % 4 == 3 {
        json!({"envelope_id": id, "type": "slash_commands", "accepts_response_payload": true,
               "payload": {"team_id": TEAM, "channel_id": "CBENCH", "user_id": format!("U{}", n % 500),
                           "command": "/learn", "text": "goal list"}})
    } else {
        json!({"envelope_id": id, "type": "events_api", "accepts_response_payload": false,
               "payload": {"type": "event_callback", "team_id": TEAM, "event_id": format!("Ev{n}"),
                           "authorizations": [{"user_id": "UBOT", "is_bot": true}],
                           "event": {"type": "message", "channel_type": "im",
                                     "channel": format!("D{}", n % 500), "user": format!("U{}", n % 500),
                                     "text": "help", "ts": format!("1700000000.{n:06}")}}})
    };
    (id, frame)
}

/// Slack's side: sends `total` envelopes at `rate`, optionally asking for a refresh at
/// half-time; returns the ack latencies and how many acks arrived.
async fn drive(
    connections: &mut mpsc::UnboundedReceiver<Socket>,
    rate: usize,
    total: usize,
    refresh_at_half: bool,
) -> (Vec<Duration>, usize, usize) {
    let sent_at: Arc<Mutex<HashMap<String, (Instant, Value)>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut socket = connections.recv().await.expect("a connection");
    let hello = json!({"type": "hello", "num_connections": 1}).to_string();
    socket
        .send(Message::Text(hello.clone().into()))
        .await
        .unwrap();
    let (mut sink, stream) = socket.split();
    let reader = |stream: futures_util::stream::SplitStream<Socket>| {
        let (sent_at, latencies, acked) = (sent_at.clone(), latencies.clone(), acked.clone());
        tokio::spawn(async move {
            let mut stream = stream;
            while let Some(Ok(frame)) = stream.next().await {
                let Message::Text(text) = frame else { continue };
                let ack: Value = serde_json::from_str(text.as_str()).unwrap();
                let id = ack["envelope_id"].as_str().unwrap_or_default().to_owned();
                if let Some((at, _)) = sent_at.lock().await.remove(&id) {
                    let n: usize = id.trim_start_matches("env-").parse().unwrap_or(0);
                    if std::env::var("BENCH_ONLY")
                        .map_or(true, |only| (only == "commands") == (n % 4 == 3))
                    {
                        latencies.lock().await.push(at.elapsed());
                    }
                }
                acked.lock().await.insert(id);
            }
        })
    };
    let mut readers = vec![reader(stream)];
    let mut redelivered = 0;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    for n in 0..total {
        if refresh_at_half && n == total / 2 {
            let disconnect = json!({"type": "disconnect", "reason": "refresh_requested"});
            sink.send(Message::Text(disconnect.to_string().into()))
                .await
                .unwrap();
            let mut next = connections.recv().await.expect("the app reconnects");
            next.send(Message::Text(hello.clone().into()))
                .await
                .unwrap();
            let (next_sink, next_stream) = next.split();
            readers.push(reader(next_stream));
            sink = next_sink;
            // Slack redelivers what the old connection had not acknowledged yet.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let unacked: Vec<(String, Value)> = sent_at
                .lock()
                .await
                .iter()
                .map(|(id, (_, frame))| (id.clone(), frame.clone()))
                .collect();
            for (id, frame) in unacked {
                redelivered += 1;
                sent_at
                    .lock()
                    .await
                    .insert(id, (Instant::now(), frame.clone()));
                sink.send(Message::Text(frame.to_string().into()))
                    .await
                    .unwrap();
            }
        }
        let due = started + interval * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let (id, frame) = envelope(n);
        sent_at
            .lock()
            .await
            .insert(id, (Instant::now(), frame.clone()));
        sink.send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
    // Wait for the last acks.
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.lock().await.len() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let latencies = latencies.lock().await.clone();
    let acked = acked.lock().await.len();
    (latencies, acked, redelivered)
}

/// A client that acknowledges every envelope at once: the floor of the path.
async fn bare_client(url: String) {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    while let Some(Ok(frame)) = socket.next().await {
        let Message::Text(text) = frame else { continue };
        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
        if let Some(id) = frame["envelope_id"].as_str() {
            let ack = json!({"envelope_id": id}).to_string();
            if socket.send(Message::Text(ack.into())).await.is_err() {
                break;
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rate = args.first().copied().unwrap_or(500);
    let seconds = args.get(1).copied().unwrap_or(20);
    let total = rate * seconds;

    // Baseline: the bare client.
    let (url, mut connections) = listen().await;
    tokio::spawn(bare_client(url));
    let (latencies, acked, _) = drive(&mut connections, rate, total, false).await;
    let baseline = stats(latencies);
    println!(
        "{}",
        json!({"run": "baseline (bare client)", "acked": acked, "ack": baseline})
    );

    // learnloop.
    let slack = MockServer::start().await;
    let (url, mut connections) = listen().await;
    Mock::given(method("POST"))
        .and(path("/api/apps.connections.open"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "url": url})))
        .with_priority(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .respond_with(Accepts(AtomicU64::new(0)))
        .with_priority(u8::MAX)
        .mount(&slack)
        .await;
    let app = Running::start(
        &slack,
        &[
            ("LEARNLOOP_SLACK_APP_TOKEN", "xapp-bench"),
            ("LEARNLOOP_SLACK_BOT_TOKEN", "xoxb-bench"),
        ],
    )
    .await?;
    let (latencies, acked, redelivered) = drive(&mut connections, rate, total, true).await;
    let learnloop = stats(latencies);
    let pool = sqlx::SqlitePool::connect(&app.db_url).await?;
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE channel LIKE 'D%'")
        .fetch_one(&pool)
        .await?;
    let expected_events = (0..total).filter(|n| n % 4 != 3).count();
    println!(
        "{}",
        json!({"run": "learnloop", "rate_per_s": rate, "sent": total, "acked": acked,
               "redelivered_after_refresh": redelivered,
               "events_answered": events, "events_sent": expected_events, "ack": learnloop})
    );
    let ratio = learnloop["p99_ms"].as_f64().unwrap_or(0.0)
        / baseline["p99_ms"].as_f64().unwrap_or(1.0).max(0.001);
    println!(
        "{}",
        json!({"p99_ratio_to_baseline": ratio,
                          "lost": total - acked.min(total),
                          "answered_twice_or_missing": (events - expected_events as i64).abs()})
    );
    app.stop().await;
    Ok(())
}
