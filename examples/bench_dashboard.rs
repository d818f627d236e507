//! Dashboard benchmark (issue 18's figures): the library with filters and the outcomes
//! page over a workspace of 100,000 lessons, through the real HTTP routes of a running
//! app on a real SQLite file, one request at a time, signed in as a member of a few of
//! the private channels.
//!
//! The workspace: 5,000 debriefs over a year in 25 channels (20 public, 5 private), 20
//! lessons each written from a Zipf vocabulary of 5,000 words (as `bench_lessons`), 40
//! tags, 200 owners; about two thirds of the lessons settled (applied,
//! not relevant, stale) at times spread over the year, one follow-up question per
//! settled lesson and one unanswered for a tenth of the rest, and a few thousand
//! recurrences.
//!
//! - **library**: `/app/lessons` with each filter alone and combined (tag, channel,
//!   status, owner, a date range, a search, a search with a tag, the second page).
//! - **outcomes**: `/app/outcomes` (26 weeks of weekly figures, tags, debriefs,
//!   recurrences).
//! - **baseline**: `/app/style.css` on the same server and router: no session, no
//!   database. Ratios to it compare across sessions on this noisy machine.
//!
//! Run: `cargo run --release --example bench_dashboard -- [ROUNDS]`
//! (`BENCH_DASHBOARD_KEEP_DB=PATH` keeps a copy of the database to look into). With
//! `BENCH_POSTGRES_URL=postgres://…` it runs on a scratch PostgreSQL database instead
//! (kept, and its URL printed, when `BENCH_DASHBOARD_KEEP_DB` is set).

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use learnloop::clock::{Clock, SystemClock};
use learnloop::config::DatabaseSettings;
use learnloop::domain::Timestamp;
use learnloop::store::scratch::ScratchDatabase;
use learnloop::store::{
    ConversationKind, LessonKind, NewDebrief, NewLesson, NewWebSession, NewWorkspace, Platform,
    Store, db,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::{Accepts, COMMON, Running, Vocabulary, stats};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const DEBRIEFS: usize = 5_000;
const PER_DEBRIEF: usize = 20;
const SPAN_SECS: i64 = 365 * 86_400;
const PUBLIC_CHANNELS: usize = 20;
const PRIVATE_CHANNELS: usize = 5;
const TAGS: usize = 40;
const OWNERS: usize = 200;

fn channel(index: usize) -> String {
    if index < PUBLIC_CHANNELS {
        format!("CPUB{index:02}")
    } else {
        format!("GPRIV{:02}", index - PUBLIC_CHANNELS)
    }
}

async fn generate(store: &Store, db_url: &str, now: i64) -> anyhow::Result<i64> {
    let started = Instant::now();
    let workspace = store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: "TDASH",
                name: Some("Dashboard bench"),
                default_time_zone: "UTC",
            },
            Timestamp::from_unix_seconds(now - SPAN_SECS),
        )
        .await?
        .id;
    for index in 0..PUBLIC_CHANNELS {
        store
            .record_conversation_scope(
                workspace,
                &channel(index),
                ConversationKind::PublicChannel,
                Timestamp::from_unix_seconds(now + 86_400),
                Timestamp::from_unix_seconds(now),
            )
            .await?;
    }
    let mut rng = fastrand::Rng::with_seed(18);
    let vocabulary = Vocabulary::new(5_000);
    let start = now - SPAN_SECS;
    let mut tx = store.begin().await?;
    for k in 0..DEBRIEFS {
        let at = start + (k as i64) * SPAN_SECS / DEBRIEFS as i64;
        let room = channel(rng.usize(0..PUBLIC_CHANNELS + PRIVATE_CHANNELS));
        let title = format!("{} review {k}", COMMON[rng.usize(0..COMMON.len())]);
        let debrief = tx
            .create_debrief(
                NewDebrief {
                    workspace,
                    channel: &room,
                    title: &title,
                    template: "retro",
                    questions: "[]",
                    facilitator: "UFAC",
                    anonymous: false,
                    author_salt: "salt",
                    closes_at: None,
                },
                Timestamp::from_unix_seconds(at),
            )
            .await?;
        for _ in 0..PER_DEBRIEF {
            let text = vocabulary.sentence(&mut rng);
            let tags = format!("t{} t{}", rng.usize(0..TAGS), rng.usize(0..TAGS));
            let owner = format!("U{:04}", rng.usize(0..OWNERS));
            tx.insert_lesson(
                NewLesson {
                    workspace,
                    debrief,
                    debrief_title: &title,
                    kind: if rng.usize(0..5) == 0 {
                        LessonKind::Action
                    } else {
                        LessonKind::Lesson
                    },
                    text: &text,
                    author: None,
                    owner: Some(&owner),
                    tags: &tags,
                    shared: rng.usize(0..10) != 0,
                    follow_up_at: None,
                },
                Timestamp::from_unix_seconds(at),
            )
            .await?;
        }
    }
    tx.commit().await?;
    // Outcomes, questions and recurrences in bulk: a week to a few months after each
    // lesson, no later than now.
    let pool = db::Pool::connect(db_url).await?;
    let statements = [
        "UPDATE lessons SET \
             status = CASE abs(id * 7919) % 12 WHEN 0 THEN 'stale' WHEN 1 THEN 'not_relevant' \
                 WHEN 2 THEN 'not_relevant' WHEN 3 THEN 'open' WHEN 4 THEN 'open' \
                 WHEN 5 THEN 'not_yet' WHEN 6 THEN 'open' ELSE 'applied' END, \
             settled_at = CASE WHEN created_at + 7 * 86400 + abs(id * 104729) % (90 * 86400) < ?1 \
                 THEN created_at + 7 * 86400 + abs(id * 104729) % (90 * 86400) ELSE ?1 END",
        "UPDATE lessons SET settled_at = NULL WHERE status IN ('open', 'not_yet')",
        "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answer, answered_at) \
         SELECT workspace_id, id, owner, settled_at - 86400, \
                CASE status WHEN 'stale' THEN 'not_yet' ELSE status END, settled_at \
         FROM lessons WHERE settled_at IS NOT NULL",
        "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at) \
         SELECT workspace_id, id, owner, \
                CASE WHEN created_at + 14 * 86400 < ?1 THEN created_at + 14 * 86400 ELSE ?1 END \
         FROM lessons WHERE settled_at IS NULL AND id % 10 = 0",
    ];
    for statement in statements {
        let query = db::query(statement);
        // Those that cap a time at now take it as ?1.
        let query = if statement.contains("?1") {
            query.bind(now)
        } else {
            query
        };
        query.execute(&pool).await?;
    }
    for offset in [97_i64, 389] {
        for (from, to) in [("a", "b"), ("b", "a")] {
            let sql = format!(
                "INSERT INTO lesson_matches (lesson_id, match_id) \
                 SELECT {from}.id, {to}.id FROM lessons a JOIN lessons b ON b.id = a.id + ?1 \
                 WHERE a.id % 40 = 0 ON CONFLICT DO NOTHING"
            );
            db::query(&sql).bind(offset).execute(&pool).await?;
        }
    }
    db::query("ANALYZE").execute(&pool).await?;
    eprintln!(
        "generated {} lessons in {:.1} s",
        DEBRIEFS * PER_DEBRIEF,
        started.elapsed().as_secs_f64()
    );
    Ok(workspace.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Accepts(AtomicU64::new(0)))
        .mount(&slack)
        .await;
    // On PostgreSQL when BENCH_POSTGRES_URL names a server (a scratch database on it,
    // dropped at the end), else on a temp SQLite file.
    let postgres = match std::env::var("BENCH_POSTGRES_URL") {
        Ok(server) => Some(ScratchDatabase::postgres(&server).await?),
        Err(_) => None,
    };
    let running = Running::start_on(
        postgres.as_ref().map(|database| database.url().to_owned()),
        &slack,
        &[
            ("LEARNLOOP_SLACK_CLIENT_ID", "1.2"),
            ("LEARNLOOP_SLACK_CLIENT_SECRET", "bench"),
            ("LEARNLOOP_PUBLIC_URL", "http://127.0.0.1"),
            (
                "LEARNLOOP_TOKEN_KEYS",
                "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
            ),
        ],
    )
    .await?;
    let settings = DatabaseSettings {
        url: running.db_url.parse()?,
        max_connections: 4,
        busy_timeout_ms: 5000,
    };
    let store = Store::connect(&settings).await?;
    let now = SystemClock.now().unix_seconds();
    let workspace = generate(&store, &running.db_url, now).await?;
    // A member of two private channels, signed in.
    let token = "bench-session";
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    store
        .create_web_session(
            NewWebSession {
                token_hash: &hash,
                workspace: learnloop::store::WorkspaceId(workspace),
                user_id: "U0001",
                name: "Bench",
                csrf: "csrf",
                admin: true,
            },
            Timestamp::from_unix_seconds(now),
        )
        .await?;
    store
        .refresh_web_session(
            &hash,
            true,
            &[channel(PUBLIC_CHANNELS), channel(PUBLIC_CHANNELS + 1)],
            Timestamp::from_unix_seconds(now),
        )
        .await?;
    let client = reqwest::Client::new();
    let cookie = format!("learnloop_session={token}");
    let from = chrono::DateTime::from_timestamp(now - 120 * 86_400, 0)
        .unwrap()
        .format("%Y-%m-%d");
    let to = chrono::DateTime::from_timestamp(now - 60 * 86_400, 0)
        .unwrap()
        .format("%Y-%m-%d");
    // The position of a lesson half way back: the second half's first page.
    let middle: (i64, i64) = db::query_as("SELECT created_at, id FROM lessons WHERE id = 50000")
        .fetch_one(&db::Pool::connect(&running.db_url).await?)
        .await?;
    let middle = format!("{}-{}", middle.0, middle.1);
    let library: Vec<String> = vec![
        "/app/lessons".into(),
        "/app/lessons?tag=t7".into(),
        "/app/lessons?channel=CPUB03".into(),
        "/app/lessons?channel=GPRIV01".into(),
        "/app/lessons?status=applied".into(),
        "/app/lessons?status=stale".into(),
        "/app/lessons?owner=U0042".into(),
        format!("/app/lessons?from={from}&to={to}"),
        "/app/lessons?tag=t3&status=open".into(),
        "/app/lessons?q=canary".into(),
        "/app/lessons?q=deploy".into(),
        "/app/lessons?q=rollback+runbook&tag=t11".into(),
        "/app/lessons?q=secr*".into(),
        format!("/app/lessons?before={middle}"),
        "/app/lessons?owner=U0042&status=applied&tag=t1".into(),
    ];
    let get = |path: String| {
        let (client, cookie, base) = (&client, &cookie, &running.address);
        async move {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let bytes = response.bytes().await.unwrap().len();
            (started.elapsed(), bytes)
        }
    };
    // Warm the caches once.
    for path in library.iter().chain(["/app/outcomes".to_owned()].iter()) {
        get(path.clone()).await;
    }
    let (mut lib, mut outcomes, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_path: Vec<(String, Vec<Duration>)> =
        library.iter().map(|p| (p.clone(), Vec::new())).collect();
    let mut heaviest = 0;
    for _ in 0..rounds {
        for (path, times) in per_path.iter_mut() {
            let (took, bytes) = get(path.clone()).await;
            lib.push(took);
            times.push(took);
            heaviest = heaviest.max(bytes);
            baseline.push(get("/app/style.css".into()).await.0);
        }
        let (took, bytes) = get("/app/outcomes".into()).await;
        outcomes.push(took);
        heaviest = heaviest.max(bytes);
        baseline.push(get("/app/style.css".into()).await.0);
    }
    // Each read of the outcomes page alone, one after another, in-process.
    let viewer = learnloop::store::Viewer {
        workspace: learnloop::store::WorkspaceId(workspace),
        session: &hash,
        sees_public: true,
    };
    let this_week = learnloop::store::week_of(Timestamp::from_unix_seconds(now));
    let period = this_week - 25..=this_week;
    let mut reads = serde_json::Map::new();
    macro_rules! time_read {
        ($name:literal, $call:expr) => {{
            let mut times = Vec::new();
            for _ in 0..rounds {
                let started = Instant::now();
                $call.await?;
                times.push(started.elapsed());
            }
            reads.insert($name.into(), stats(times));
        }};
    }
    time_read!("weeks", store.outcome_weeks(viewer, period.clone()));
    time_read!("tags", store.outcome_tags(viewer, period.clone(), 12));
    time_read!("debriefs", store.library_debriefs(viewer, None, 12));
    time_read!("recurring", store.recurring_lessons(viewer, 10));
    // How much of a search for a word in most lessons is the full-text ranking alone
    // (SQLite's FTS5 index).
    let fts_probes = if postgres.is_some() {
        Vec::new()
    } else {
        vec![
            (
                "fts_bm25_top1000",
                "SELECT rowid FROM lessons_fts WHERE lessons_fts MATCH ? \
             ORDER BY bm25(lessons_fts, 1.0, 2.0, 0.5) LIMIT 1000",
            ),
            (
                "fts_rank_top1000",
                "SELECT rowid FROM lessons_fts WHERE lessons_fts MATCH ? ORDER BY rank LIMIT 1000",
            ),
            (
                "fts_count",
                "SELECT rowid FROM lessons_fts WHERE lessons_fts MATCH ?",
            ),
        ]
    };
    let expression = format!("\"w{workspace}xdeploy\"");
    let probe_pool = db::Pool::connect(&running.db_url).await?;
    for (name, sql) in fts_probes {
        let mut times = Vec::new();
        for _ in 0..rounds {
            let started = Instant::now();
            let rows: Vec<(i64,)> = db::query_as(sql)
                .bind(expression.as_str())
                .fetch_all(&probe_pool)
                .await?;
            times.push(started.elapsed());
            assert!(!rows.is_empty(), "{name}");
        }
        reads.insert(name.into(), stats(times));
    }
    let slowest: Vec<_> = per_path
        .into_iter()
        .map(|(path, times)| json!({"path": path, "stats": stats(times)}))
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "lessons": DEBRIEFS * PER_DEBRIEF,
            "backend": if postgres.is_some() { "postgres" } else { "sqlite" },
            "library": stats(lib),
            "outcomes": stats(outcomes),
            "outcome_reads": reads,
            "baseline_style_css": stats(baseline),
            "heaviest_page_bytes": heaviest,
            "library_by_filter": slowest,
        }))?
    );
    // To look into the queries afterwards (EXPLAIN QUERY PLAN), a copy of the database.
    // On PostgreSQL the scratch database itself is kept, and named.
    if let (Ok(_), Some(database)) = (std::env::var("BENCH_DASHBOARD_KEEP_DB"), &postgres) {
        eprintln!("kept {}", database.url());
        std::mem::forget(postgres);
    } else if let (Ok(path), None) = (std::env::var("BENCH_DASHBOARD_KEEP_DB"), &postgres) {
        sqlx::query("VACUUM INTO ?")
            .bind(path)
            .execute(&sqlx::SqlitePool::connect(&running.db_url).await?)
            .await?;
    }
    running.stop().await;
    Ok(())
}
