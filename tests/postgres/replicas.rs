//! Three `learnloop serve` processes on one PostgreSQL database, behind no load
//! balancer: each test sends its requests to the replicas it names. What must hold is
//! what a load balancer cannot help with: every due prompt is sent once, a replica
//! killed mid-send loses nothing, and a click or an event that reaches two replicas
//! acts once.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use learnloop::config::Secret;
use learnloop::domain::Timestamp;
use learnloop::http::verify::SlackSignatureVerifier;
use learnloop::store::scratch::ScratchDatabase;
use learnloop::store::{NewOutboxMessage, NewWorkspace, Platform, Store, WorkspaceId, db};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::{scratch, store_on};

const TEAM: &str = "T0REPL";
const SIGNING_SECRET: &str = "replica-signing-secret";
const BOT_TOKEN: &str = "xoxb-replicas";

/// Slack accepting every call, answering a post with a ts of its own.
struct SlackAccepts;

impl Respond for SlackAccepts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "channel": body["channel"], "ts": format!("{}.0001", fastrand::u32(..)),
            "user": {"id": "U0X", "tz": "UTC", "is_bot": false},
            "channel_info": {"id": body["channel"]},
        }))
    }
}

async fn fake_slack() -> MockServer {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(SlackAccepts)
        .with_priority(u8::MAX)
        .mount(&slack)
        .await;
    slack
}

/// One `learnloop serve` process.
struct Replica {
    process: Child,
    address: String,
}

impl Replica {
    /// Starts a replica on `database` sending to `slack`, and waits until it is ready.
    async fn start(
        database: &ScratchDatabase,
        slack: &MockServer,
        config: &std::path::Path,
    ) -> Self {
        let port = free_port();
        let process = Command::new(env!("CARGO_BIN_EXE_learnloop"))
            .args(["--config", &config.display().to_string(), "serve"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEARNLOOP_DATABASE_URL", database.url())
            .env("LEARNLOOP_LISTEN", format!("127.0.0.1:{port}"))
            .env("LEARNLOOP_SLACK_API_URL", format!("{}/api", slack.uri()))
            .env("LEARNLOOP_SLACK_BOT_TOKEN", BOT_TOKEN)
            .env("LEARNLOOP_SLACK_SIGNING_SECRET", SIGNING_SECRET)
            .env("LEARNLOOP_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the learnloop binary starts");
        let replica = Self {
            process,
            address: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("{}/readyz", replica.address))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return replica;
            }
            assert!(Instant::now() < deadline, "a replica did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no drain, leases left as they are.
    fn kill(&mut self) {
        self.process.kill().expect("the replica is killed");
        self.process.wait().expect("and reaped");
    }

    /// Posts a signed Slack request, as Slack would.
    async fn post_signed(&self, path: &str, content_type: &str, body: &str) -> u16 {
        let now = chrono::Utc::now().timestamp();
        let signature =
            SlackSignatureVerifier::new(&Secret::new(SIGNING_SECRET)).sign(now, body.as_bytes());
        reqwest::Client::new()
            .post(format!("{}{path}", self.address))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .expect("the replica answers")
            .status()
            .as_u16()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config file for the replicas: `delivery` settings on top of the defaults.
fn config(dir: &tempfile::TempDir, delivery: &str) -> std::path::PathBuf {
    let path = dir.path().join("replica.toml");
    std::fs::write(&path, format!("[delivery]\n{delivery}\n")).unwrap();
    path
}

async fn workspace(store: &Store) -> WorkspaceId {
    store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: TEAM,
                name: None,
                default_time_zone: "UTC",
            },
            Timestamp::from(chrono::Utc::now()),
        )
        .await
        .unwrap()
        .id
}

/// The `chat.postMessage` bodies Slack received, in order.
async fn posts(slack: &MockServer) -> Vec<Value> {
    slack
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/chat.postMessage"))
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

/// Waits until `done` holds of Slack's posts, or fails after `patience`.
async fn wait_for_posts(slack: &MockServer, patience: Duration, done: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + patience;
    loop {
        if done(&posts(slack).await) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Slack did not receive what was due in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many posts each channel received.
fn per_channel(posts: &[Value]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for post in posts {
        if let Some(channel) = post["channel"].as_str() {
            *counts.entry(channel.to_owned()).or_default() += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_due_prompts_are_sent_exactly_once_by_three_replicas() {
    const PROMPTS: usize = 10_000;
    let database = scratch().await;
    let store = store_on(&database).await;
    let ws = workspace(&store).await;
    let now = chrono::Utc::now().timestamp();
    // Every prompt due at once, each in a channel of its own (one statement: seeding
    // is not what is tested).
    db::query(
        "INSERT INTO schedules (workspace_id, kind, channel, spec, time_zone, anchor_date, \
             next_fire_at, created_by, created_at) \
         SELECT ?, 'retro', 'C' || lpad(CAST(g AS TEXT), 5, '0'), 'daily 9:00', 'UTC', \
             '2026-11-23', ?, 'U0SEED', ? FROM generate_series(0, ? - 1) AS g",
    )
    .bind(ws.0)
    .bind(now)
    .bind(now)
    .bind(PROMPTS as i64)
    .execute(&db::Pool::connect(database.url()).await.unwrap())
    .await
    .unwrap();
    store.close().await;

    let slack = fake_slack().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir, "workspace_rate_per_sec = 1000000");
    let _replicas = [
        Replica::start(&database, &slack, &config).await,
        Replica::start(&database, &slack, &config).await,
        Replica::start(&database, &slack, &config).await,
    ];
    wait_for_posts(&slack, Duration::from_secs(240), |posts| {
        per_channel(posts).len() >= PROMPTS
    })
    .await;
    // Time for a duplicate to show, if any replica were to send one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = per_channel(&posts(&slack).await);
    assert_eq!(counts.len(), PROMPTS, "every channel got its prompt");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "sent more than once: {:?}",
        &twice[..twice.len().min(5)]
    );
    let runs: i64 = db::query_scalar("SELECT COUNT(*) FROM schedule_runs")
        .fetch_one(&db::Pool::connect(database.url()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(runs, PROMPTS as i64, "one run per occurrence");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_send_leaves_its_messages_to_the_others() {
    const MESSAGES: usize = 20;
    let database = scratch().await;
    let slack = MockServer::start().await;
    // Slack takes its time: the first replica dies with every send in flight.
    Mock::given(method("POST"))
        .respond_with(SlackAccepts.slowly(Duration::from_millis(1500)))
        .mount(&slack)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir, "lease_secs = 3\nworkspace_rate_per_sec = 1000");
    let mut doomed = Replica::start(&database, &slack, &config).await;

    let store = store_on(&database).await;
    let ws = workspace(&store).await;
    let mut tx = store.begin().await.unwrap();
    let at = chrono::Utc::now().timestamp_millis();
    for i in 0..MESSAGES {
        let channel = format!("C{i:02}");
        let body = json!({"channel": channel, "text": format!("message {i}")}).to_string();
        tx.enqueue(
            NewOutboxMessage::post(ws, &channel, &body),
            Timestamp::from_millis(at),
            Timestamp::from_millis(at + 3_600_000),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    wait_for_posts(&slack, Duration::from_secs(10), |posts| !posts.is_empty()).await;
    doomed.kill();
    let before_kill = posts(&slack).await.len();

    let _others = [
        Replica::start(&database, &slack, &config).await,
        Replica::start(&database, &slack, &config).await,
    ];
    // After the lease, the others take every message the dead replica held.
    wait_for_posts(&slack, Duration::from_secs(30), |posts| {
        per_channel(&posts[before_kill.min(posts.len())..]).len() >= MESSAGES
    })
    .await;
    let pool = db::Pool::connect(database.url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = db::query_scalar("SELECT COUNT(*) FROM outbox WHERE status != 'sent'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if waiting == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} messages never settled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let counts = per_channel(&posts(&slack).await);
    assert!(
        counts.values().all(|n| *n <= 2),
        "at most the dead replica's attempt and one more: {counts:?}"
    );
}

/// Slack answering after `delay`.
struct Slow(Duration);

impl SlackAccepts {
    fn slowly(self, delay: Duration) -> Slow {
        Slow(delay)
    }
}

impl Respond for Slow {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        SlackAccepts.respond(request).set_delay(self.0)
    }
}

/// A slash command form typed by `user` in the test channel.
fn command(user: &str, command: &str, text: &str) -> String {
    serde_urlencoded::to_string([
        ("team_id", TEAM),
        ("team_domain", "acme"),
        ("channel_id", "C0CHAN"),
        ("channel_name", "releases"),
        ("user_id", user),
        ("user_name", "alice"),
        ("command", command),
        ("text", text),
        ("api_app_id", "A0APP"),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0REPL/1/x",
        ),
        ("trigger_id", "1.2.3"),
    ])
    .unwrap()
}

/// Two replicas on a fresh database, sending to a Slack that accepts everything.
async fn two_replicas() -> (ScratchDatabase, MockServer, Replica, Replica) {
    let database = scratch().await;
    let slack = fake_slack().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir, "workspace_rate_per_sec = 1000");
    let a = Replica::start(&database, &slack, &config).await;
    let b = Replica::start(&database, &slack, &config).await;
    (database, slack, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debrief_closed_from_two_replicas_at_once_closes_once() {
    let (database, slack, a, b) = two_replicas().await;
    let form = command("U0ALICE", "/debrief", "Release 2.3");
    assert_eq!(
        a.post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &form
        )
        .await,
        200
    );
    let pool = db::Pool::connect(database.url()).await.unwrap();
    let id: i64 = db::query_scalar("SELECT id FROM debriefs WHERE title = 'Release 2.3'")
        .fetch_one(&pool)
        .await
        .unwrap();
    // The facilitator's close button, clicked twice (a double click, a retry), each
    // click reaching another replica.
    let click = serde_urlencoded::to_string([(
        "payload",
        json!({
            "type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U0ALICE"},
            "trigger_id": "trigger-U0ALICE",
            "container": {"type": "message", "message_ts": "1700000000.000000", "channel_id": "C0CHAN"},
            "channel": {"id": "C0CHAN"},
            "actions": [{"type": "button", "action_id": "debrief.close", "block_id": "b",
                         "value": id.to_string()}],
        })
        .to_string(),
    )])
    .unwrap();
    let kind = "application/x-www-form-urlencoded";
    let (first, second) = tokio::join!(
        a.post_signed("/slack/interactions", kind, &click),
        b.post_signed("/slack/interactions", kind, &click)
    );
    assert_eq!((first, second), (200, 200));
    let summaries = |posts: &[Value]| {
        posts
            .iter()
            .filter(|p| p["channel"] == "C0CHAN" && p.get("thread_ts").is_some())
            .count()
    };
    wait_for_posts(&slack, Duration::from_secs(20), |posts| {
        summaries(posts) >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        summaries(&posts(&slack).await),
        1,
        "one summary in the thread"
    );
    let closed: Option<i64> = db::query_scalar("SELECT closed_at FROM debriefs WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(closed.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_event_reaching_two_replicas_is_handled_once() {
    let (_database, slack, a, b) = two_replicas().await;
    let event = json!({
        "type": "event_callback", "team_id": TEAM, "api_app_id": "A0APP",
        "event_id": "EvTwice", "event_time": 1_700_000_000,
        "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": true}],
        "event": {"type": "message", "channel_type": "im", "channel": "D0BOB",
                  "user": "U0BOB", "text": "help", "ts": "1700000001.000100"},
    })
    .to_string();
    // Slack retried the delivery; the first attempt and the retry reach two replicas.
    let (first, second) = tokio::join!(
        a.post_signed("/slack/events", "application/json", &event),
        b.post_signed("/slack/events", "application/json", &event)
    );
    assert!(
        [first, second].iter().all(|s| *s == 200 || *s == 503),
        "{first} {second}"
    );
    let replies = |posts: &[Value]| posts.iter().filter(|p| p["channel"] == "D0BOB").count();
    wait_for_posts(&slack, Duration::from_secs(20), |posts| replies(posts) >= 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        replies(&posts(&slack).await),
        1,
        "one answer to one message"
    );
}
