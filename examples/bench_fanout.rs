//! Fan-out benchmark (`bench/fanout.py` runs it): N channels with a schedule due in the
//! same minute, fired by the real scheduler and delivered by the real outbox worker to a
//! fake Slack in another process. Prints JSON: time to queue, time until the fake has
//! accepted everything, and this process's peak RSS (scheduler + worker + database).
//!
//! Run: `cargo run --release --example bench_fanout -- SLACK_URL CHANNELS MESSAGES_PER_CHANNEL [CHANNEL_INTERVAL_MS]`
//! or   `cargo run --release --example bench_fanout -- --baseline SLACK_URL MESSAGES`: the same
//! number of posts straight from the HTTP client, 64 at a time (the worker's default), with no database: the
//! ceiling the outbox is measured against.

use std::sync::Arc;
use std::time::{Duration, Instant};

use learnloop::clock::{Clock, SystemClock};
use learnloop::config::{DatabaseSettings, Secret, Settings};
use learnloop::delivery::Delivery;
use learnloop::metrics::Metrics;
use learnloop::platform::slack::SlackClient;
use learnloop::scheduler::Scheduler;
use learnloop::store::{
    NewOutboxMessage, NewSchedule, NewWorkspace, Platform, ScheduleKind, Store,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn accepted(client: &reqwest::Client, slack: &str) -> Value {
    client
        .get(format!("{slack}/stats"))
        .send()
        .await
        .expect("the fake Slack answers")
        .json()
        .await
        .expect("stats are JSON")
}

/// Posts `messages` messages directly, `concurrency` at a time.
async fn baseline(slack_url: &str, messages: usize, concurrency: usize) -> anyhow::Result<()> {
    let slack = SlackClient::new(&format!("{slack_url}/api"), Duration::from_secs(10))?;
    let token = Secret::new("xoxb-bench");
    let started = Instant::now();
    let mut next = 0;
    let mut running = tokio::task::JoinSet::new();
    while next < messages || !running.is_empty() {
        while next < messages && running.len() < concurrency {
            let (slack, token) = (slack.clone(), token.clone());
            let body = json!({"channel": format!("D{next:05}"), "text": "baseline"});
            running.spawn(async move {
                slack
                    .call("chat.postMessage", &token, &body)
                    .await
                    .map(|_| ())
            });
            next += 1;
        }
        if let Some(done) = running.join_next().await {
            done??;
        }
    }
    println!(
        "{}",
        json!({"baseline_messages": messages, "baseline_s": started.elapsed().as_secs_f64(), "peak_rss_mb": peak_rss_mb()})
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--baseline") {
        let url = args
            .get(2)
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1:3921".into());
        let messages = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        return baseline(&url, messages, 64).await;
    }
    let slack_url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:3921".into());
    let channels: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let per_channel: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let channel_interval_ms: Option<u64> = args.get(4).and_then(|a| a.parse().ok());

    let dir = tempfile::tempdir()?;
    let mut settings = Settings::load_from(None, &Default::default())?;
    settings.database = DatabaseSettings {
        url: format!("sqlite://{}", dir.path().join("fanout.db").display()).parse()?,
        ..settings.database
    };
    // The fake has no workspace-wide limit; measure our machinery, not the default cap.
    settings.delivery.workspace_rate_per_sec = 1_000_000;
    // A shorter interval than Slack's makes the fake answer 429s: retries under load.
    if let Some(interval) = channel_interval_ms {
        settings.delivery.channel_interval_ms = interval;
    }
    let token = Secret::new("xoxb-bench");
    let store =
        Store::connect(&settings.database)
            .await?
            .with_credentials(learnloop::store::Credentials {
                keyring: None,
                slack_env_token: Some(token),
            });
    store.migrate().await?;
    let clock = Arc::new(SystemClock);
    let workspace = store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: "TBENCH",
                name: None,
                default_time_zone: "UTC",
            },
            clock.now(),
        )
        .await?
        .id;
    let now = clock.now();
    for i in 0..channels {
        let channel = format!("D{i:05}");
        store
            .create_schedule(
                NewSchedule {
                    workspace,
                    kind: ScheduleKind::Retro,
                    channel: &channel,
                    spec: "daily 9:00",
                    time_zone: "UTC",
                    anchor_date: "2026-11-23",
                    template: None,
                    next_fire_at: now,
                    created_by: "UBENCH",
                    person: None,
                },
                now,
            )
            .await?;
        // Extra messages per channel exercise ordering and per-channel pacing.
        for n in 1..per_channel {
            let body =
                json!({"channel": channel, "text": format!("{channel} follow-up {n}")}).to_string();
            let message = NewOutboxMessage::post(workspace, &channel, &body);
            let at = clock.now();
            store
                .enqueue(message, at, at + Duration::from_secs(86_400))
                .await?;
        }
    }
    let slack = SlackClient::new(&format!("{slack_url}/api"), Duration::from_secs(10))?;
    let delivery = Arc::new(Delivery::new(
        store.clone(),
        slack,
        clock.clone(),
        Arc::new(Metrics::default()),
        settings.delivery.clone(),
    ));
    let scheduler = Scheduler::new(
        store.clone(),
        clock.clone(),
        delivery.clone(),
        Arc::new(learnloop::app::templates::Templates::built_in()?),
        Duration::from_secs(6 * 3600),
        vec![],
    );

    // `BENCH_QUEUE_FIRST=1` queues everything before the worker starts: the queueing
    // alone, without the worker competing for the database's writer.
    let queue_first = std::env::var("BENCH_QUEUE_FIRST").is_ok_and(|v| v == "1");
    let started = Instant::now();
    let stop = CancellationToken::new();
    let mut worker = (!queue_first).then(|| tokio::spawn(delivery.clone().run(stop.clone())));
    let fired = scheduler.fire_due().await?;
    let queued_after = started.elapsed();
    if worker.is_none() {
        worker = Some(tokio::spawn(delivery.clone().run(stop.clone())));
    }
    let worker = worker.expect("started");
    let expected = (channels * per_channel) as u64;
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    let stats = loop {
        let stats = accepted(&client, &slack_url).await;
        if stats["accepted"].as_u64() >= Some(expected) || Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let delivered_after = started.elapsed();
    stop.cancel();
    worker.await?;
    println!(
        "{}",
        json!({
            "channels": channels,
            "messages": expected,
            "schedules_fired": fired.sent,
            "queued_s": queued_after.as_secs_f64(),
            "delivered_s": delivered_after.as_secs_f64(),
            "peak_rss_mb": peak_rss_mb(),
            "fake": stats,
        })
    );
    Ok(())
}
