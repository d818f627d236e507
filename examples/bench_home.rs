//! The App Home (issue 16's figure): publishing the Home of a person with 50 open
//! follow-ups and 20 goals, in a workspace with 2,000 shared lessons and 20 open
//! debriefs, on a real SQLite file.
//!
//! Each round is a signed `app_home_opened` event over HTTP: the server reads
//! everything the Home shows, renders it, and queues its `views.publish` (folded into
//! one still waiting, as a burst would). Latency is measured at the client on loopback,
//! so it includes the HTTP round trip. Baseline, same app and session: the signed
//! `/learn help` command (its reply is rendered once and cached): the floor of a signed
//! request.
//!
//! Run: `cargo run --release --example bench_home -- [ROUNDS]`

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::AtomicU64;

use learnloop::clock::{Clock, SystemClock};
use serde_json::json;
use sqlx::SqlitePool;
use support::{Accepts, Running, Signed, stats};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const SECRET: &str = "bench-signing-secret";
const TEAM: &str = "TBENCH";
const PERSON: &str = "UHOME";

/// 50 follow-ups and 20 goals for PERSON, 2,000 lessons of others, 20 open debriefs.
async fn seed(pool: &SqlitePool, now: i64) -> anyhow::Result<()> {
    let ws: i64 = sqlx::query_scalar("SELECT id FROM workspaces WHERE external_id = ?")
        .bind(TEAM)
        .fetch_one(pool)
        .await?;
    sqlx::query(
        "INSERT INTO conversation_scopes (workspace_id, conversation, public, kind, next_check_at, updated_at) \
         VALUES (?1, 'CBENCH', 1, 'public_channel', ?2 + 86400, ?2)",
    )
    .bind(ws)
    .bind(now)
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 60) \
         INSERT INTO debriefs (workspace_id, channel, title, template, questions, facilitator, \
             author_salt, created_at, closed_at) \
         SELECT ?1, 'CBENCH', 'Release ' || i, 'retro', '{\"title\":\"Retro\",\"questions\":[]}', \
             'UFAC', 'salt' || i, ?2 - 86400 * (60 - i), CASE WHEN i < 40 THEN ?2 - 3600 END FROM n",
    )
    .bind(ws)
    .bind(now)
    .execute(pool)
    .await?;
    let first: i64 = sqlx::query_scalar("SELECT MIN(id) FROM debriefs WHERE workspace_id = ?")
        .bind(ws)
        .fetch_one(pool)
        .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 2050) \
         INSERT INTO lessons (workspace_id, debrief_id, kind, text, author, owner, tags, \
             follow_up_at, created_at, visibility) \
         SELECT ?1, ?2 + i % 40, 'lesson', 'Lesson ' || i || ': canary before the rollout', \
             CASE WHEN i < 50 THEN ?3 ELSE 'UOTHER' END, CASE WHEN i < 50 THEN ?3 ELSE 'UOTHER' END, \
             'deploy', ?4 + 86400 * (i % 30), ?4 - i, 'shared' FROM n",
    )
    .bind(ws)
    .bind(first)
    .bind(PERSON)
    .bind(now)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM lessons_to_match")
        .execute(pool)
        .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) \
         INSERT INTO goals (workspace_id, person, number, text, due_date, created_at, done_at) \
         SELECT ?1, ?2, i, 'Goal ' || i || ': learn something hard', '2027-01-01', ?3, \
             CASE WHEN i % 4 = 0 THEN ?3 END FROM n",
    )
    .bind(ws)
    .bind(PERSON)
    .bind(now)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO people (workspace_id, platform_user_id, time_zone, time_zone_refreshed_at, \
             created_at, updated_at) VALUES (?1, ?2, 'Europe/Berlin', ?3, ?3, ?3)",
    )
    .bind(ws)
    .bind(PERSON)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Accepts(AtomicU64::new(0)))
        .mount(&slack)
        .await;
    let app = Running::start(
        &slack,
        &[
            ("LEARNLOOP_SLACK_SIGNING_SECRET", SECRET),
            ("LEARNLOOP_SLACK_BOT_TOKEN", "xoxb-bench"),
        ],
    )
    .await?;
    let signed = Signed::new(app.address.clone(), SECRET);
    // The first command creates the workspace (help needs none); then the data goes in.
    signed.learn(TEAM, "goal list").await;
    let pool = SqlitePool::connect(&app.db_url).await?;
    seed(&pool, SystemClock.now().unix_seconds()).await?;

    let event = |n: usize| {
        json!({
            "type": "event_callback", "team_id": TEAM, "event_id": format!("EvHome{n}"),
            "authorizations": [{"user_id": "UBOT", "is_bot": true}],
            "event": {"type": "app_home_opened", "user": PERSON, "tab": "home",
                      "channel": "DHOME", "event_ts": "1700000000.000100"},
        })
        .to_string()
    };
    // Warm up both paths, and check the Home holds what it should.
    for n in 0..20 {
        signed
            .post("/slack/events", "application/json", event(n))
            .await;
        signed.learn(TEAM, "help").await;
    }
    let mut home = Vec::with_capacity(rounds);
    let mut help = Vec::with_capacity(rounds);
    for n in 0..rounds {
        let (took, _) = signed
            .post("/slack/events", "application/json", event(100 + n))
            .await;
        home.push(took);
        let (took, _) = signed.learn(TEAM, "help").await;
        help.push(took);
    }
    let published = slack
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .rev()
        .find(|r| r.url.path().ends_with("views.publish"))
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default();
    let checks = json!({
        "follow_ups_shown": published.matches("followup.applied").count(),
        "goals_line": published.contains("5 of 20 reached"),
        "shared_lessons": published.contains("Latest shared lessons*\\n•"),
        "debriefs_waiting": published.matches("debrief.reflect").count(),
    });
    // The server's own view: its request-duration histogram for the events route
    // (warm-up rounds included), as the share of publishes done within 5 ms and 2.5 ms.
    let metrics = reqwest::get(format!("{}/metrics", app.address))
        .await?
        .text()
        .await?;
    let bucket = |le: &str| -> f64 {
        metrics
            .lines()
            .filter(|line| line.starts_with("learnloop_http_request_duration_seconds_bucket"))
            .filter(|line| {
                line.contains("route=\"/slack/events\"") && line.contains(&format!("le=\"{le}\""))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let all = bucket("+Inf").max(1.0);
    let server = json!({
        "within_2.5ms": bucket("0.0025") / all,
        "within_5ms": bucket("0.005") / all,
        "within_10ms": bucket("0.01") / all,
    });
    let home = stats(home);
    let help = stats(help);
    let ratio = home["p99_ms"].as_f64().unwrap_or(0.0) / help["p99_ms"].as_f64().unwrap_or(1.0);
    println!(
        "{}",
        json!({"rounds": rounds, "home_publish": home, "baseline_help": help,
               "p99_ratio": ratio, "server_time_share": server, "published_home": checks})
    );
    app.stop().await;
    Ok(())
}
