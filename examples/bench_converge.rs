//! Benchmark of issue 14's figures, through the real HTTP routes with signed requests,
//! a real SQLite file and an in-process fake Slack:
//!
//! - **review**: a 50-person debrief (three different candidate lines each: 150
//!   candidates) is closed by its facilitator. Measured: the Close click (the review's
//!   first page rendered and `views.open` called), each page's submission (decisions
//!   stored, the next page rendered) and the last one (every decision applied, the
//!   lessons stored, the summary queued). Server time per request, p50/p99/max.
//! - **nudge**: a 5,000-member channel (the fake pages `conversations.members` by 200
//!   and `users.list` by 1,000, with bots and deactivated accounts among them); one
//!   person reflected. Measured: the Nudge click's answer, and the time from the click until
//!   every DM is queued (the nudge runs after the answer); then the
//!   outbox rows are checked: one DM per person who should get one, nobody twice.
//!
//! The baseline, in the same run: a click on a button without a handler (signature
//! check, parsing, routing, no database). Ratios to it compare across sessions.
//!
//! Run: `cargo run --release --example bench_converge -- [ROUNDS] [MEMBERS]`

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use learnloop::config::Settings;
use learnloop::startup::App;
use serde_json::{Value, json};
use support::{Signed, start_debrief, stats, view_state, word};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SECRET: &str = "bench-signing-secret";
const TEAM: &str = "TBENCH";
const PARTICIPANTS: usize = 50;
const FACILITATOR: &str = "UFACILITATOR";

/// A fake Slack: pages `conversations.members` and `users.list` of `members` people
/// (every 50th a bot, every 70th deactivated), answers `views.open`, accepts the rest.
struct FakeSlack {
    members: usize,
    next: AtomicU64,
    calls: std::sync::Mutex<HashMap<String, usize>>,
}

impl FakeSlack {
    fn id(n: usize) -> String {
        format!("UM{n:05}")
    }

    fn page(&self, form: &HashMap<String, String>, size: usize, users: bool) -> Value {
        let start: usize = form.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
        let end = (start + size).min(self.members);
        let members: Vec<Value> = (start..end)
            .map(|n| {
                if users {
                    json!({"id": Self::id(n), "deleted": n % 70 == 69, "is_bot": n % 50 == 49})
                } else {
                    json!(Self::id(n))
                }
            })
            .collect();
        let cursor = if end < self.members {
            end.to_string()
        } else {
            String::new()
        };
        json!({"ok": true, "members": members, "response_metadata": {"next_cursor": cursor}})
    }
}

impl Respond for FakeSlack {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let method = request.url.path().rsplit('/').next().unwrap_or_default();
        *self
            .calls
            .lock()
            .unwrap()
            .entry(method.to_owned())
            .or_default() += 1;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let form: HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap_or_default();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let answer = match method {
            "conversations.members" => self.page(&form, 200, false),
            "users.list" => self.page(&form, 1000, true),
            "conversations.info" => json!({"ok": true, "channel": {
                "id": form.get("channel"), "is_channel": true, "is_private": false}}),
            "views.open" => json!({"ok": true, "view": {"id": format!("V{n}")}}),
            _ => {
                json!({"ok": true, "channel": body["channel"], "ts": format!("1700000000.{n:06}")})
            }
        };
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

struct Bench {
    signed: Signed,
    views: MockServer,
}

impl Bench {
    async fn interaction(&self, payload: Value) -> (Duration, Value) {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        self.signed
            .post(
                "/slack/interactions",
                "application/x-www-form-urlencoded",
                body,
            )
            .await
    }

    async fn start(&self, channel: &str, title: &str) -> i64 {
        start_debrief(
            &self.signed,
            &self.views,
            (TEAM, channel, FACILITATOR),
            title,
        )
        .await
    }

    async fn reflect(&self, user: &str, debrief: i64, n: usize) {
        let text = |t: String| json!({"answer": {"type": "plain_text_input", "value": t}});
        let payload = json!({
            "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
            "view": {"id": "V1", "callback_id": "debrief.reflection",
                "private_metadata": json!({"debrief": debrief}).to_string(),
                "state": {"values": {
                    "q_went_well": text(format!("{} {} helped the release", word(3 * n), word(3 * n + 1))),
                    "q_could_be_better": text(format!("{} {} slowed the rollout", word(3 * n + 2), word(5000 + n))),
                    "q_try_next": text(format!("Automate {} {} before the next one", word(6000 + n), word(7000 + n))),
                }}},
        });
        let (_, answer) = self.interaction(payload).await;
        assert!(answer.is_null(), "stored: {answer}");
    }

    async fn last_view(&self) -> Value {
        let requests = self.views.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .rev()
            .find(|r| r.url.path().ends_with("views.open"))
            .and_then(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .expect("a view was opened")["view"]
            .clone()
    }
}

fn click(channel: &str, user: &str, action: &str, value: &str) -> Value {
    json!({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
        "trigger_id": "1.2.3", "channel": {"id": channel},
        "actions": [{"type": "button", "action_id": action, "value": value}],
    })
}

/// Submits a review page as shown (every candidate kept).
fn submit_page(view: &Value) -> Value {
    json!({
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": FACILITATOR},
        "view": {"id": "V2", "callback_id": "debrief.review",
                 "private_metadata": view["private_metadata"],
                 "state": {"values": view_state(view)}},
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = args.first().copied().unwrap_or(10);
    let members = args.get(1).copied().unwrap_or(5000);

    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(FakeSlack {
            members,
            next: AtomicU64::new(0),
            calls: Default::default(),
        })
        .mount(&slack)
        .await;
    let dir = tempfile::tempdir()?;
    let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let env = HashMap::from([
        ("LEARNLOOP_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("LEARNLOOP_DATABASE_URL".to_owned(), db_url.clone()),
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
    let bench = Bench {
        signed: Signed::new(format!("http://{}", app.local_addr()), SECRET),
        views: slack,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    // Review: open, every page, the close.
    let mut baseline = Vec::new();
    let (mut opens, mut pages, mut closes) = (Vec::new(), Vec::new(), Vec::new());
    let mut candidates = 0;
    for round in 0..rounds {
        let channel = format!("CREVIEW{round}");
        let debrief = bench
            .start(&channel, &format!("Quarter review {round}"))
            .await;
        for person in 0..PARTICIPANTS {
            bench
                .reflect(&format!("UP{person:03}"), debrief, person)
                .await;
        }
        let id = debrief.to_string();
        baseline.push(
            bench
                .interaction(click(&channel, FACILITATOR, "bench.nothing", &id))
                .await
                .0,
        );
        opens.push(
            bench
                .interaction(click(&channel, FACILITATOR, "debrief.close", &id))
                .await
                .0,
        );
        let mut view = bench.last_view().await;
        assert_eq!(view["callback_id"], "debrief.review", "{view}");
        let shown = |v: &Value| v.to_string().matches(".text\"").count();
        candidates = 0;
        loop {
            candidates += shown(&view);
            let (took, answer) = bench.interaction(submit_page(&view)).await;
            if answer.is_null() {
                closes.push(took);
                break;
            }
            pages.push(took);
            view = answer["view"].clone();
        }
    }

    // Nudge: a debrief in a channel of `members` people, one of whom reflected.
    let channel = "CNUDGE";
    let debrief = bench.start(channel, "All hands retro").await;
    bench.reflect(&FakeSlack::id(0), debrief, 0).await;
    let expected = (0..members)
        .filter(|n| *n != 0 && n % 50 != 49 && n % 70 != 69)
        .count() as i64;
    let db = sqlx::SqlitePool::connect(&db_url).await?;
    let queued = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT COUNT(*), COUNT(DISTINCT channel) FROM outbox WHERE dedupe_key LIKE 'nudge:%'",
        )
        .fetch_one(&db)
        .await
    };
    // The click is answered at once; the nudge runs after it, until every DM is queued.
    let began = Instant::now();
    let (nudge, _) = bench
        .interaction(click(
            channel,
            FACILITATOR,
            "debrief.nudge",
            &debrief.to_string(),
        ))
        .await;
    let (dms, people) = loop {
        let (dms, people) = queued().await?;
        if dms >= expected || began.elapsed() > Duration::from_secs(30) {
            break (dms, people);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let nudge_wall = began.elapsed();
    let _ = stop.send(());
    server.await??;
    assert_eq!(dms, expected, "one DM per person who had not reflected");
    assert_eq!(dms, people, "nobody twice");
    let calls = bench.views.received_requests().await.unwrap_or_default();
    let count = |m: &str| calls.iter().filter(|r| r.url.path().ends_with(m)).count();

    let baseline = stats(baseline);
    let all_review: Vec<Duration> = opens.iter().chain(&pages).chain(&closes).copied().collect();
    let review = stats(all_review);
    let ratio = |v: &Value| {
        v["p99_ms"].as_f64().unwrap_or(0.0) / baseline["p99_ms"].as_f64().unwrap_or(1.0).max(0.001)
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "rounds": rounds,
            "candidates_per_debrief": candidates,
            "baseline_click": baseline,
            "review_open": stats(opens),
            "review_page": stats(pages),
            "review_close": stats(closes),
            "review_all": review,
            "review_p99_ratio": ratio(&review),
            "nudge": {
                "members": members,
                "dms_queued": dms,
                "click_answered_ms": nudge.as_secs_f64() * 1000.0,
                "all_queued_ms": nudge_wall.as_secs_f64() * 1000.0,
                "conversations_members_calls": count("conversations.members"),
                "users_list_calls": count("users.list"),
            },
        }))?
    );
    Ok(())
}
