//! Debrief benchmark (issue 3's figures), through the real HTTP routes with signed
//! requests, a real SQLite file and the outbox worker delivering to an in-process fake
//! Slack:
//!
//! - **submissions**: signed `view_submission` payloads sent open-loop at a fixed rate
//!   (200/s by default), each from a new person, so every one stores a reflection and
//!   queues a card update. Reports p50/p99/max latency of the request.
//! - **close**: debriefs with 50 reflections each are closed by the facilitator's button;
//!   the close stores the lessons and queues the card update and the summary before it
//!   answers. Reports the latency of each close request.
//!
//! The baseline, in the same run and at the same rate, is a signed interaction with no
//! handler (a shortcut): signature check, parsing and routing, no database. Ratios to
//! it are what compare across sessions on this noisy machine.
//!
//! Run: `cargo run --release --example bench_debrief -- [RATE_PER_SEC] [SECONDS] [CLOSES]`

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use learnloop::config::Settings;
use learnloop::startup::App;
use serde_json::{Value, json};
use support::{Accepts, Signed, start_debrief, stats, word};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const SECRET: &str = "bench-signing-secret";
const TEAM: &str = "TBENCH";
const PARTICIPANTS: usize = 50;

struct Bench(Signed);

impl std::ops::Deref for Bench {
    type Target = Signed;
    fn deref(&self) -> &Signed {
        &self.0
    }
}

impl Bench {
    async fn interaction(&self, payload: Value) -> (Duration, Value) {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        self.post(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            body,
        )
        .await
    }

    /// Starts a debrief in `channel` and returns its id (read back from the card).
    async fn start(&self, slack: &MockServer, channel: &str, title: &str) -> i64 {
        start_debrief(&self.0, slack, (TEAM, channel, "UFACILITATOR"), title).await
    }
}

fn submission(user: &str, debrief: i64, n: usize) -> Value {
    let text = |t: String| json!({"answer": {"type": "plain_text_input", "value": t}});
    json!({
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
        "view": {
            "id": "V1", "callback_id": "debrief.reflection",
            "private_metadata": json!({"debrief": debrief}).to_string(),
            "state": {"values": {
                // Different words per person: near-identical lines would be merged at close.
                "q_went_well": text(format!("{} {} let us roll back quickly #deploys", word(3 * n), word(3 * n + 1))),
                "q_could_be_better": text(format!("{} {} was stale again #database", word(3 * n + 2), word(50_000 + n))),
                "q_try_next": text(format!("Add a {} {} dry run to CI", word(60_000 + n), word(70_000 + n))),
                "q_mood": {"answer": {"type": "static_select", "selected_option": {"value": ((n % 5) + 1).to_string()}}},
            }},
        },
    })
}

fn shortcut(user: &str) -> Value {
    json!({"type": "shortcut", "team": {"id": TEAM}, "user": {"id": user}, "callback_id": "none"})
}

/// Sends `make(i)` open-loop at `rate` per second for `seconds`, each in its own task,
/// and returns every request's latency. Open loop: a slow answer does not slow the
/// senders down, as real traffic would not.
async fn at_rate(
    bench: &std::sync::Arc<Bench>,
    rate: u64,
    seconds: u64,
    make: impl Fn(usize) -> Value,
) -> Vec<Duration> {
    let total = (rate * seconds) as usize;
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut running = tokio::task::JoinSet::new();
    for i in 0..total {
        tick.tick().await;
        let (bench, payload) = (bench.clone(), make(i));
        running.spawn(async move { bench.interaction(payload).await.0 });
    }
    let mut latencies = Vec::with_capacity(total);
    while let Some(done) = running.join_next().await {
        latencies.push(done.expect("a request task"));
    }
    latencies
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rate = args.first().copied().unwrap_or(200);
    let seconds = args.get(1).copied().unwrap_or(10);
    let closes = args.get(2).copied().unwrap_or(10) as usize;

    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Accepts(AtomicU64::new(0)))
        .mount(&slack)
        .await;
    let dir = tempfile::tempdir()?;
    let env = HashMap::from([
        ("LEARNLOOP_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "LEARNLOOP_DATABASE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
        (
            "LEARNLOOP_SLACK_API_URL".to_owned(),
            format!("{}/api", slack.uri()),
        ),
        ("LEARNLOOP_SLACK_SIGNING_SECRET".to_owned(), SECRET.into()),
        ("LEARNLOOP_SLACK_BOT_TOKEN".to_owned(), "xoxb-bench".into()),
        ("LEARNLOOP_LOG".to_owned(), "warn".into()),
    ]);
    let mut settings = Settings::load_from(None, &env)?;
    // The fake has no workspace cap; measure our work, not the default rate.
    settings.delivery.workspace_rate_per_sec = 1_000_000;
    learnloop::telemetry::init("warn");
    let app = App::build(settings).await?;
    let bench = std::sync::Arc::new(Bench(Signed::new(
        format!("http://{}", app.local_addr()),
        SECRET,
    )));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    // Warm up connections and caches.
    at_rate(&bench, rate, 1, |i| shortcut(&format!("UWARM{i}"))).await;

    let baseline = at_rate(&bench, rate, seconds, |i| shortcut(&format!("UB{i}"))).await;
    let open = bench.start(&slack, "CSUBMIT", "Load test rollout").await;
    let submissions = at_rate(&bench, rate, seconds, |i| {
        submission(&format!("US{i:06}"), open, i)
    })
    .await;

    // Closing: debriefs of 50 people each, closed by their facilitator.
    let mut close_latencies = Vec::new();
    let mut baseline_clicks = Vec::new();
    for round in 0..closes {
        let channel = format!("CCLOSE{round}");
        let debrief = bench
            .start(&slack, &channel, &format!("Incident review {round}"))
            .await;
        for person in 0..PARTICIPANTS {
            let (_, answer) = bench
                .interaction(submission(&format!("UP{person:03}"), debrief, person))
                .await;
            assert!(answer.is_null(), "stored: {answer}");
        }
        let click = |action: &str| {
            json!({
                // No trigger: the close publishes every candidate as it is (the review
                // form is measured by bench_converge).
                "type": "block_actions", "team": {"id": TEAM}, "user": {"id": "UFACILITATOR"},
                "channel": {"id": channel},
                "actions": [{"type": "button", "action_id": action, "value": debrief.to_string()}],
            })
        };
        baseline_clicks.push(bench.interaction(click("bench.nothing")).await.0);
        close_latencies.push(bench.interaction(click("debrief.close")).await.0);
    }

    let _ = stop.send(());
    server.await??;
    let submissions = stats(submissions);
    let baseline = stats(baseline);
    let closes = stats(close_latencies);
    let clicks = stats(baseline_clicks);
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "rate_per_sec": rate,
            "seconds": seconds,
            "submission": submissions,
            "baseline_interaction": baseline,
            "submission_p99_ratio": submissions["p99_ms"].as_f64().unwrap_or(0.0)
                / baseline["p99_ms"].as_f64().unwrap_or(1.0).max(0.001),
            "close_50_participants": closes,
            "baseline_click": clicks,
        }))?
    );
    Ok(())
}
