//! Lesson search and digest benchmark (issue 5's figures) on 1,000,000 lessons across
//! 100 workspaces (10,000 each, from 50,000 debriefs over two years, workspaces
//! interleaved in time as real traffic would be), in a real SQLite file.
//!
//! - **search**: signed `/learn lessons QUERY` commands through the HTTP route, one at a
//!   time, each in a random workspace, with a mix of queries (a common word, a rarer
//!   one, two words, a prefix, a phrase, a word nobody wrote). Interleaved with the
//!   same number of `/learn help` commands, the baseline: same route, signature and
//!   parsing, no database.
//! - **background matching**: the last week's lessons (about 7,200) matched by the
//!   scheduler's pass (`app::recurrence::match_queued`), timed per lesson.
//! - **digest**: the digest of the last seven days of a 10,000-lesson workspace, built
//!   in-process (`app::digest::build`) and through `/learn digest now`, after that pass.
//! - **size**: the database file after a WAL checkpoint.
//!
//! Run: `cargo run --release --example bench_lessons -- [DB_PATH] [SEARCHES]`. An existing
//! DB_PATH is reused, so later runs skip the ~minute of generation.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use chrono_tz::Tz;
use learnloop::app::{digest, recurrence};
use learnloop::clock::{Clock, SystemClock};
use learnloop::config::{DatabaseSettings, Settings};
use learnloop::domain::Timestamp;
use learnloop::startup::App;
use learnloop::store::{
    Audience, LessonKind, NewDebrief, NewLesson, NewWorkspace, Platform, Store, WorkspaceId,
};
use serde_json::json;
use sqlx::SqlitePool;
use support::{Accepts, COMMON, Signed, Vocabulary, stats};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const SECRET: &str = "bench-signing-secret";
const WORKSPACES: usize = 100;
const LESSONS: usize = 1_000_000;
const PER_DEBRIEF: usize = 20;
const SPAN_SECS: i64 = 730 * 86_400;
async fn open(path: &std::path::Path) -> anyhow::Result<Store> {
    let settings = DatabaseSettings {
        url: format!("sqlite://{}", path.display()).parse()?,
        max_connections: 4,
        busy_timeout_ms: 5000,
    };
    let store = Store::connect(&settings).await?;
    store.migrate().await?;
    Ok(store)
}

fn team(index: usize) -> String {
    format!("TBENCH{index:03}")
}

/// Fills an empty database: workspaces, debriefs, lessons (a tenth of them a recurring
/// lesson in other words), and for every workspace a week of follow-up answers and
/// reached goals, so each digest has every section to build.
async fn generate(store: &Store, pool: &SqlitePool, now: i64) -> anyhow::Result<()> {
    let started = Instant::now();
    let vocabulary = Vocabulary::new(5_000);
    let mut rng = fastrand::Rng::with_seed(5);
    let recurring: Vec<String> = (0..500).map(|_| vocabulary.sentence(&mut rng)).collect();
    let mut workspaces = Vec::new();
    for index in 0..WORKSPACES {
        let new = NewWorkspace {
            platform: Platform::Slack,
            external_id: &team(index),
            name: None,
            default_time_zone: "UTC",
        };
        workspaces.push(
            store
                .upsert_workspace(new, Timestamp::from_unix_seconds(now))
                .await?
                .id,
        );
    }
    let debriefs = LESSONS / PER_DEBRIEF;
    let start = now - SPAN_SECS;
    let mut tx = store.begin().await?;
    for k in 0..debriefs {
        let workspace = workspaces[k % WORKSPACES];
        let at = start + (k as i64) * SPAN_SECS / debriefs as i64;
        let title = format!(
            "{} {} review {k}",
            vocabulary.pick(&mut rng),
            vocabulary.pick(&mut rng)
        );
        let debrief = tx
            .create_debrief(
                NewDebrief {
                    workspace,
                    channel: "CBENCH",
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
        for n in 0..PER_DEBRIEF {
            let text = if rng.u8(0..10) == 0 {
                let mut words: Vec<&str> = recurring[rng.usize(0..recurring.len())]
                    .split(' ')
                    .collect();
                words.truncate(words.len() - 1); // said a little differently
                words.join(" ")
            } else {
                vocabulary.sentence(&mut rng)
            };
            let tags = if n % 3 == 0 { COMMON[n % 7] } else { "" };
            let owner = format!("U{:03}", rng.u8(0..40));
            tx.insert_lesson(
                NewLesson {
                    workspace,
                    debrief,
                    debrief_title: &title,
                    kind: if n % 4 == 3 {
                        LessonKind::Action
                    } else {
                        LessonKind::Lesson
                    },
                    text: &text,
                    author: Some(&owner),
                    owner: Some(&owner),
                    tags,
                    shared: true,
                    // Older lessons were asked already; only the last two weeks' wait.
                    follow_up_at: Some(at + 14 * 86_400)
                        .filter(|due| *due > now)
                        .map(Timestamp::from_unix_seconds),
                },
                Timestamp::from_unix_seconds(at),
            )
            .await?;
        }
        if k % 500 == 499 {
            tx.commit().await?;
            tx = store.begin().await?;
        }
    }
    tx.commit().await?;
    week_of_answers(pool, &workspaces, now, &mut rng).await?;
    eprintln!("generated {LESSONS} lessons in {:.0?}", started.elapsed());
    Ok(())
}

/// A week of follow-up answers and reached goals in every workspace, written as the
/// app would have (bound statements on the same tables).
async fn week_of_answers(
    pool: &SqlitePool,
    workspaces: &[WorkspaceId],
    now: i64,
    rng: &mut fastrand::Rng,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for workspace in workspaces {
        // Lessons from about five weeks ago, whose follow-ups are being answered.
        let asked: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, owner FROM lessons WHERE workspace_id = ? ORDER BY id DESC LIMIT 60 OFFSET 500",
        )
        .bind(workspace.0)
        .fetch_all(&mut *tx)
        .await?;
        for (lesson, owner) in asked {
            let at = now - rng.i64(0..6 * 86_400);
            let answer = ["applied", "applied", "not_yet", "not_relevant"][rng.usize(0..4)];
            sqlx::query(
                "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answer, answered_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(workspace.0)
            .bind(lesson)
            .bind(owner)
            .bind(at - 3_600)
            .bind(answer)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        for number in 1..=5 {
            sqlx::query(
                "INSERT INTO goals (workspace_id, person, number, text, shared, created_at, done_at) \
                 VALUES (?, ?, ?, ?, 1, ?, ?)",
            )
            .bind(workspace.0)
            .bind(format!("U{number:03}"))
            .bind(number)
            .bind("run a blameless postmortem")
            .bind(now - 30 * 86_400)
            .bind(now - rng.i64(0..6 * 86_400))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

fn file_mb(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1_048_576.0)
}

/// Queues `backlog` lessons for matching, sets a retro reminder in `channel` due two
/// seconds from now, and measures how long after its time the fake Slack receives it,
/// in ms.
async fn due_prompt_delay(
    store: &Store,
    scheduler: &learnloop::scheduler::Scheduler,
    slack: &MockServer,
    channel: &str,
    backlog: u32,
) -> anyhow::Result<f64> {
    let pool = SqlitePool::connect(&format!(
        "sqlite://{}",
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/bench_lessons.db".into())
    ))
    .await?;
    sqlx::query(
        "INSERT OR IGNORE INTO lessons_to_match (lesson_id, workspace_id, created_at) \
         SELECT id, workspace_id, created_at FROM lessons WHERE kind = 'lesson' \
         ORDER BY id DESC LIMIT ?",
    )
    .bind(backlog)
    .execute(&pool)
    .await?;
    let now = SystemClock.now();
    // A whole second, as schedules are stored.
    let due = Timestamp::from_unix_seconds(now.unix_seconds() + 2);
    store
        .create_schedule(
            learnloop::store::NewSchedule {
                workspace: WorkspaceId(1),
                kind: learnloop::store::ScheduleKind::Retro,
                channel,
                spec: "daily 9:00",
                time_zone: "UTC",
                anchor_date: "2026-01-01",
                template: None,
                next_fire_at: due,
                created_by: "UBENCH",
                person: None,
            },
            now,
        )
        .await?;
    scheduler.wake();
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let received = slack.received_requests().await.unwrap_or_default();
        let posted = received.iter().any(|r| {
            r.url.path().ends_with("chat.postMessage")
                && serde_json::from_slice::<serde_json::Value>(&r.body)
                    .is_ok_and(|b| b["channel"] == channel)
        });
        if posted {
            let late_ms = (SystemClock.now().millis() - due.millis()) as f64;
            return Ok(late_ms);
        }
        anyhow::ensure!(Instant::now() < deadline, "the prompt never came");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = PathBuf::from(
        args.first()
            .map_or("target/bench_lessons.db", String::as_str),
    );
    let searches: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let now = SystemClock.now().unix_seconds();
    let matching;
    {
        let store = open(&path).await?;
        let pool = SqlitePool::connect(&format!("sqlite://{}", path.display())).await?;
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lessons")
            .fetch_one(&pool)
            .await?;
        if stored == 0 {
            generate(&store, &pool, now).await?;
        }
        // The background pass (`recurrence::match_queued`) as a running service does it
        // while lessons come in: only the last week's lessons, which a digest reports as
        // new, are (re)queued; older ones are found as their matches all the same.
        sqlx::query("DELETE FROM lessons_to_match")
            .execute(&pool)
            .await?;
        let queued = sqlx::query(
            "INSERT INTO lessons_to_match (lesson_id, workspace_id, created_at) \
             SELECT id, workspace_id, created_at FROM lessons \
             WHERE kind = 'lesson' AND visibility = 'shared' AND created_at >= ?",
        )
        .bind(now - digest::WEEK_SECS)
        .execute(&pool)
        .await?
        .rows_affected();
        // A new matcher: every workspace's index is read from the file, as after a
        // restart (the cost a running service pays once per workspace).
        let matcher = recurrence::Matcher::default();
        let started = Instant::now();
        let mut matched = 0;
        loop {
            let batch = recurrence::match_queued(&store, &matcher, recurrence::Budget::ALL).await?;
            matched += batch;
            if batch < 500 {
                break;
            }
        }
        matching = json!({
            "lessons_queued": queued,
            "lessons_matched": matched,
            "total_s": started.elapsed().as_secs_f64(),
            "per_lesson_ms": started.elapsed().as_secs_f64() * 1000.0 / matched.max(1) as f64,
        });
        // The debriefs' channel is public in every workspace (and stays so for the
        // run): searches from another channel go through the privacy check.
        sqlx::query(
            "INSERT OR REPLACE INTO conversation_scopes \
                 (workspace_id, conversation, public, kind, next_check_at, updated_at) \
             SELECT id, 'CBENCH', 1, 'public_channel', 9223372036854775807, 0 FROM workspaces",
        )
        .execute(&pool)
        .await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await?;
        pool.close().await;
        store.close().await;
    }
    let size_mb = file_mb(&path);

    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Accepts(AtomicU64::new(0)))
        .mount(&slack)
        .await;
    let env = HashMap::from([
        ("LEARNLOOP_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "LEARNLOOP_DATABASE_URL".to_owned(),
            format!("sqlite://{}", path.display()),
        ),
        (
            "LEARNLOOP_SLACK_API_URL".to_owned(),
            format!("{}/api", slack.uri()),
        ),
        ("LEARNLOOP_SLACK_SIGNING_SECRET".to_owned(), SECRET.into()),
        ("LEARNLOOP_SLACK_BOT_TOKEN".to_owned(), "xoxb-bench".into()),
        ("LEARNLOOP_LOG".to_owned(), "warn".into()),
    ]);
    let settings = Settings::load_from(None, &env)?;
    learnloop::telemetry::init("warn");
    let app = App::build(settings).await?;
    let scheduler = app.scheduler();
    let bench = Signed::new(format!("http://{}", app.local_addr()), SECRET);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    let vocabulary = Vocabulary::new(5_000);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut query = |i: usize| -> String {
        let common = COMMON[rng.usize(0..COMMON.len())];
        let rare = &vocabulary.words[rng.usize(200..5_000)];
        match i % 6 {
            0 => common.to_owned(),
            1 => rare.clone(),
            2 => format!("{common} {}", vocabulary.pick(&mut rng)),
            3 => format!("{}*", &rare[..4]),
            4 => format!("\"{} {}\"", common, vocabulary.pick(&mut rng)),
            _ => "zzqxv".to_owned(),
        }
    };
    // Warm up: connections, page cache.
    for i in 0..200 {
        bench
            .learn(&team(i % WORKSPACES), &format!("lessons {}", query(i)))
            .await;
    }
    let (mut search, mut baseline) = (Vec::new(), Vec::new());
    let mut matched = 0usize;
    for i in 0..searches {
        let workspace = team(i * 37 % WORKSPACES);
        // Asked in another channel than the debriefs': public lessons only.
        let (took, reply) = bench
            .learn_in(&workspace, "CSEARCH", &format!("lessons {}", query(i)))
            .await;
        if reply.to_string().contains("from *") {
            matched += 1;
        }
        search.push(took);
        baseline.push(bench.learn(&workspace, "help").await.0);
    }

    // Digests of a 10,000-lesson workspace's last week, built directly and over HTTP.
    let store = open(&path).await?;
    let mut built = Vec::new();
    let mut digest_text = String::new();
    for round in 0..50 {
        let workspace = WorkspaceId(1 + (round % WORKSPACES) as i64);
        let started = Instant::now();
        let message = digest::build(
            &store,
            workspace,
            Timestamp::from_unix_seconds(now - digest::WEEK_SECS),
            Timestamp::from_unix_seconds(now),
            Tz::UTC,
            Audience::In("CBENCH"),
        )
        .await?;
        built.push(started.elapsed());
        digest_text = message.message.all_text();
    }
    let mut over_http = Vec::new();
    for round in 0..20 {
        over_http.push(bench.learn(&team(round), "digest now").await.0);
    }
    // A retro reminder falling due while the scheduler has nothing else to do, and
    // while 5,000 new lessons wait to be matched.
    let idle = due_prompt_delay(&store, &scheduler, &slack, "CIDLE", 0).await?;
    let busy = due_prompt_delay(&store, &scheduler, &slack, "CBUSY", 5_000).await?;
    let _ = stop.send(());
    server.await??;

    let search = stats(search);
    let baseline = stats(baseline);
    let sections: Vec<&str> = [
        "New lessons",
        "Applied",
        "Goals reached",
        "keep coming back",
    ]
    .into_iter()
    .filter(|s| digest_text.contains(s))
    .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "lessons": LESSONS,
            "workspaces": WORKSPACES,
            "database_mb": size_mb,
            "search": search,
            "searches_with_hits": matched,
            "baseline_help": baseline,
            "search_p99_ratio": search["p99_ms"].as_f64().unwrap_or(0.0)
                / baseline["p99_ms"].as_f64().unwrap_or(1.0).max(0.001),
            "background_matching": matching,
            "digest_build_10k_lessons": stats(built),
            "digest_now_over_http": stats(over_http),
            "digest_sections": sections,
            "due_prompt_delay_ms": {"idle": idle, "with_5000_lessons_queued": busy},
        }))?
    );
    Ok(())
}
