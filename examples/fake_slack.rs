//! A fast fake of Slack's `chat.postMessage` for delivery benchmarks (`bench/fanout.py`).
//! It records every accepted message and, with `--per-channel-limit`, answers 429 with
//! `Retry-After: 1` to a channel's second message within a second, as Slack does.
//! `GET /stats` reports what it saw: accepted, rate-limited, duplicates (the same text
//! accepted twice in one channel) and the shortest gap between two accepted messages in one channel.
//!
//! Run: `cargo run --release --example fake_slack -- 127.0.0.1:3921 [--per-channel-limit]`

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default)]
struct Seen {
    accepted: u64,
    rate_limited: u64,
    duplicates: u64,
    texts: HashSet<String>,
    last_by_channel: HashMap<String, Instant>,
    shortest_gap_ms: Option<u128>,
}

#[derive(Clone)]
struct Fake {
    per_channel_limit: bool,
    seen: Arc<Mutex<Seen>>,
}

async fn post_message(State(fake): State<Fake>, Json(body): Json<Value>) -> Response {
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let now = Instant::now();
    let mut seen = fake.seen.lock().unwrap();
    if let Some(last) = seen.last_by_channel.get(&channel).copied() {
        let gap = now.duration_since(last).as_millis();
        if fake.per_channel_limit && gap < 1000 {
            seen.rate_limited += 1;
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response();
        }
        seen.shortest_gap_ms = Some(seen.shortest_gap_ms.map_or(gap, |g| g.min(gap)));
    }
    seen.last_by_channel.insert(channel.clone(), now);
    if !seen.texts.insert(format!("{channel}\u{0}{text}")) {
        seen.duplicates += 1;
    }
    seen.accepted += 1;
    Json(json!({"ok": true, "ts": format!("{}.000100", seen.accepted)})).into_response()
}

async fn stats(State(fake): State<Fake>) -> Json<Value> {
    let seen = fake.seen.lock().unwrap();
    Json(json!({
        "accepted": seen.accepted,
        "rate_limited": seen.rate_limited,
        "duplicates": seen.duplicates,
        "channels": seen.last_by_channel.len(),
        "shortest_gap_ms": seen.shortest_gap_ms,
    }))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let address = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:3921".into());
    let fake = Fake {
        per_channel_limit: args.iter().any(|a| a == "--per-channel-limit"),
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/api/chat.postMessage", post(post_message))
        .route("/stats", get(stats))
        .with_state(fake);
    axum::serve(tokio::net::TcpListener::bind(&address).await?, app).await
}
