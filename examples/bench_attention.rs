//! Follow-ups that respect attention (issue 15's figures), on a real SQLite file.
//!
//! - **daily DMs**: 100,000 people, each owning one lesson whose follow-up is due today
//!   (half of them in Europe/Berlin, half in America/New_York, both past 10:00), and one
//!   scheduler pass (`Scheduler::fire_due`) that gathers them and queues each person's
//!   day message. Checked: exactly one DM per person, and a second pass the same day
//!   queues nothing. Baseline, same session and file: writing the same number of outbox
//!   rows of the same size with one SQL statement (the floor for queueing them at all).
//! - **digest**: the weekly digest (Trend over eight weeks, Stories with applied notes,
//!   kudos and goals) of a workspace with 10,000 lessons over those eight weeks, built
//!   in-process (`app::digest::build`) many times; p50 and p99. Baseline: the same call
//!   for an empty workspace.
//!
//! Run: `cargo run --release --example bench_attention -- [PEOPLE] [DIGESTS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeZone;
use chrono_tz::Tz;
use learnloop::app::digest;
use learnloop::clock::ManualClock;
use learnloop::config::{DatabaseSettings, Settings};
use learnloop::delivery::Delivery;
use learnloop::domain::Timestamp;
use learnloop::metrics::Metrics;
use learnloop::platform::slack::SlackClient;
use learnloop::scheduler::Scheduler;
use learnloop::store::{Audience, ConversationKind, NewWorkspace, Platform, Store, WorkspaceId};
use serde_json::json;
use sqlx::SqlitePool;

const WEEK: i64 = 7 * 86_400;
const DIGEST_LESSONS: i64 = 10_000;

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Percentiles of durations, in milliseconds.
fn percentiles(mut samples: Vec<Duration>) -> serde_json::Value {
    samples.sort();
    let at = |p: f64| {
        let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    json!({"p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0), "n": samples.len()})
}

async fn workspace(store: &Store, team: &str, now: i64) -> anyhow::Result<WorkspaceId> {
    Ok(store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: team,
                name: None,
                default_time_zone: "UTC",
            },
            Timestamp::from_unix_seconds(now),
        )
        .await?
        .id)
}

/// `count` debriefs of `workspace` in channel `C1`, closed, spread over `[from, to)`.
async fn debriefs(
    pool: &SqlitePool,
    workspace: WorkspaceId,
    count: i64,
    from: i64,
    to: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2) \
         INSERT INTO debriefs (workspace_id, channel, title, template, questions, facilitator, \
             created_at, closed_at) \
         SELECT ?1, 'C1', 'Release ' || i, 'retro', '{}', 'UFAC', ?3 + i * ((?4 - ?3) / ?2), \
             ?3 + i * ((?4 - ?3) / ?2) + 3600 FROM n",
    )
    .bind(workspace.0)
    .bind(count)
    .bind(from)
    .bind(to)
    .execute(pool)
    .await?;
    Ok(())
}

/// The daily DMs: 100,000 owners, one due lesson each.
async fn daily_dms(
    store: &Store,
    pool: &SqlitePool,
    people: i64,
) -> anyhow::Result<serde_json::Value> {
    // Monday 30 Nov 2026, 16:00 UTC: 17:00 in Berlin, 11:00 in New York.
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 30, 16, 0, 0)
        .unwrap()
        .timestamp();
    let ws = workspace(store, "TDAILY", now).await?;
    debriefs(pool, ws, people / 100, now - 30 * 86_400, now - 15 * 86_400).await?;
    let first_debrief: i64 =
        sqlx::query_scalar("SELECT MIN(id) FROM debriefs WHERE workspace_id = ?")
            .bind(ws.0)
            .fetch_one(pool)
            .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2) \
         INSERT INTO people (workspace_id, platform_user_id, time_zone, created_at, updated_at) \
         SELECT ?1, printf('U%06d', i), \
             CASE i % 2 WHEN 0 THEN 'Europe/Berlin' ELSE 'America/New_York' END, ?3, ?3 FROM n",
    )
    .bind(ws.0)
    .bind(people)
    .bind(now - 86_400)
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2) \
         INSERT INTO lessons (workspace_id, debrief_id, kind, text, author, owner, tags, \
             follow_up_at, created_at) \
         SELECT ?1, ?3 + i / 100, 'lesson', \
             'Run the canary for ' || i || ' minutes before the full rollout #deploy', \
             printf('U%06d', i), printf('U%06d', i), 'deploy', ?4 - (i % 600), ?4 - 14 * 86400 FROM n",
    )
    .bind(ws.0)
    .bind(people)
    .bind(first_debrief)
    .bind(now)
    .execute(pool)
    .await?;
    // A running service matched them when they were new.
    sqlx::query("DELETE FROM lessons_to_match")
        .execute(pool)
        .await?;

    let settings = Settings::load_from(None, &Default::default())?;
    let clock = Arc::new(ManualClock::at(now));
    let slack = SlackClient::new("http://127.0.0.1:9/api", Duration::from_secs(1))?;
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
        delivery,
        Arc::new(learnloop::app::templates::Templates::built_in()?),
        Duration::from_secs(6 * 3600),
        vec![],
    );
    let rss_before = rss_mb("VmRSS:");
    let started = Instant::now();
    let pass = scheduler.fire_due().await?;
    let elapsed = started.elapsed();
    let peak = rss_mb("VmHWM:");
    let (dms, people_messaged): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT channel) FROM outbox WHERE workspace_id = ?",
    )
    .bind(ws.0)
    .fetch_one(pool)
    .await?;
    clock.set(now + 3600);
    let again = scheduler.fire_due().await?;

    // The floor: the same number of outbox rows of the same size, one statement.
    let body_chars: i64 = sqlx::query_scalar(
        "SELECT CAST(AVG(LENGTH(body)) AS INTEGER) FROM outbox WHERE workspace_id = ?",
    )
    .bind(ws.0)
    .fetch_one(pool)
    .await?;
    let floor = workspace(store, "TFLOOR", now).await?;
    let started = Instant::now();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2) \
         INSERT INTO outbox (workspace_id, channel, method, body, next_attempt_at, give_up_at, \
             created_at, dedupe_key) \
         SELECT ?1, printf('U%06d', i), 'chat.postMessage', printf('%.*c', ?3, 'x'), ?4, ?4, ?4, \
             'floor:' || i FROM n",
    )
    .bind(floor.0)
    .bind(people)
    .bind(body_chars)
    .bind(now * 1000)
    .execute(pool)
    .await?;
    let baseline = started.elapsed();
    Ok(json!({
        "people": people,
        "pass_s": elapsed.as_secs_f64(),
        "follow_ups_asked": pass.follow_ups_asked,
        "dms_queued": dms,
        "people_messaged": people_messaged,
        "second_pass_asked": again.follow_ups_asked,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "baseline_s": baseline.as_secs_f64(),
        "ratio": elapsed.as_secs_f64() / baseline.as_secs_f64(),
    }))
}

/// A 10,000-lesson workspace whose lessons span `weeks` up to `now`, with answers,
/// notes, kudos and goals.
async fn digest_workspace(
    store: &Store,
    pool: &SqlitePool,
    team: &str,
    weeks: i64,
    now: i64,
) -> anyhow::Result<WorkspaceId> {
    let ws = workspace(store, team, now).await?;
    let from = now - weeks * WEEK;
    debriefs(pool, ws, DIGEST_LESSONS / 20, from, now).await?;
    store
        .record_conversation_scope(
            ws,
            "C1",
            ConversationKind::PublicChannel,
            Timestamp::from_unix_seconds(now + 86_400),
            Timestamp::from_unix_seconds(now),
        )
        .await?;
    let first: i64 = sqlx::query_scalar("SELECT MIN(id) FROM debriefs WHERE workspace_id = ?")
        .bind(ws.0)
        .fetch_one(pool)
        .await?;
    // Twenty lessons a debrief, created with it; a tenth of them tagged.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2) \
         INSERT INTO lessons (workspace_id, debrief_id, kind, text, author, owner, tags, status, \
             created_at) \
         SELECT ?1, d.id, 'lesson', 'Lesson ' || i || ' about rollbacks and alerts #ops', \
             printf('U%03d', i % 300), printf('U%03d', i % 300), \
             CASE WHEN i % 10 = 0 THEN 'ops' ELSE '' END, \
             CASE WHEN i % 3 = 0 THEN 'applied' ELSE 'open' END, d.created_at \
         FROM n JOIN debriefs d ON d.id = ?3 + i / 20",
    )
    .bind(ws.0)
    .bind(DIGEST_LESSONS)
    .bind(first)
    .execute(pool)
    .await?;
    // Every lesson answered two weeks after it was made (those older than that), a
    // third applied with a note.
    sqlx::query(
        "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answer, note, answered_at) \
         SELECT workspace_id, id, owner, created_at + 14 * 86400, \
             CASE WHEN status = 'applied' THEN 'applied' ELSE 'not_yet' END, \
             CASE WHEN status = 'applied' THEN 'We now do it on every release' END, \
             created_at + 14 * 86400 + 3600 \
         FROM lessons WHERE workspace_id = ? AND created_at + 14 * 86400 + 3600 < ?",
    )
    .bind(ws.0)
    .bind(now)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO kudos (workspace_id, debrief_id, text, author, visibility, created_at) \
         SELECT workspace_id, id, 'Thanks for staying late for the rollback', 'U001', 'shared', \
             created_at + 3600 FROM debriefs WHERE workspace_id = ?",
    )
    .bind(ws.0)
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 40) \
         INSERT INTO goals (workspace_id, person, number, text, shared, created_at, done_at) \
         SELECT ?1, printf('U%03d', i), 1, 'Run a blameless postmortem', 1, ?2 - 8 * 604800, \
             ?2 - i * 15000 FROM n",
    )
    .bind(ws.0)
    .bind(now)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM lessons_to_match")
        .execute(pool)
        .await?;
    Ok(ws)
}

async fn digest_times(
    store: &Store,
    ws: WorkspaceId,
    now: i64,
    rounds: usize,
) -> anyhow::Result<(Vec<Duration>, String)> {
    let mut times = Vec::with_capacity(rounds);
    let mut text = String::new();
    for round in 0..=rounds {
        let started = Instant::now();
        let built = digest::build(
            store,
            ws,
            Timestamp::from_unix_seconds(now - WEEK),
            Timestamp::from_unix_seconds(now),
            Tz::UTC,
            Audience::In("C1"),
        )
        .await?;
        // The first build warms the cache, as the service's first digest of the day does.
        if round > 0 {
            times.push(started.elapsed());
        }
        text = built.message.all_text();
    }
    Ok((times, text))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let people: i64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(300);
    let dir = tempfile::tempdir()?;
    // `BENCH_DB=path` keeps the database for a closer look (it must not exist yet).
    let path = std::env::var("BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("attention.db"));
    let settings = DatabaseSettings {
        url: format!("sqlite://{}", path.display()).parse()?,
        max_connections: 4,
        busy_timeout_ms: 5000,
    };
    let store = Store::connect(&settings).await?;
    store.migrate().await?;
    let pool = SqlitePool::connect(&format!("sqlite://{}", path.display())).await?;

    let daily = daily_dms(&store, &pool, people).await?;
    eprintln!("{daily}");

    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 30, 9, 0, 0)
        .unwrap()
        .timestamp();
    // As the lesson-search benchmark spreads them (two years), and all in the trend's
    // eight weeks (1,250 new lessons and answers a week: the worst case).
    let spread = digest_workspace(&store, &pool, "TSPREAD", 104, now).await?;
    let busy = digest_workspace(&store, &pool, "TDIGEST", 8, now).await?;
    let empty = workspace(&store, "TEMPTY", now).await?;
    let (spread_times, _) = digest_times(&store, spread, now, rounds).await?;
    let (busy_times, text) = digest_times(&store, busy, now, rounds).await?;
    let (empty_times, _) = digest_times(&store, empty, now, rounds).await?;
    // Where the time goes: the facts alone (one read transaction of every figure).
    let mut facts_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        store
            .digest_facts(
                busy,
                Timestamp::from_unix_seconds(now - WEEK),
                Timestamp::from_unix_seconds(now),
                Audience::In("C1"),
            )
            .await?;
        facts_times.push(started.elapsed());
    }
    let sections: Vec<&str> = ["Trend", "Stories", "Applied", "Applied, week by week"]
        .into_iter()
        .filter(|s| text.contains(s))
        .collect();
    let busy = percentiles(busy_times);
    let empty = percentiles(empty_times);
    println!(
        "{}",
        json!({
            "daily_dms": daily,
            "digest_10k_lessons_over_two_years": percentiles(spread_times),
            "digest_10k_lessons_in_eight_weeks": busy,
            "digest_empty_workspace_baseline": empty,
            "digest_facts_only": percentiles(facts_times),
            "digest_8_weeks_p99_ratio": busy["p99_ms"].as_f64().unwrap_or(0.0) / empty["p99_ms"].as_f64().unwrap_or(1.0),
            "digest_sections_seen": sections,
        })
    );
    Ok(())
}
