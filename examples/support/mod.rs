//! What the HTTP benchmarks share: a signed Slack client, a fake Slack that accepts
//! everything, latency statistics, and a vocabulary for made-up lessons.

#![allow(dead_code)] // each benchmark uses its own part

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use learnloop::clock::{Clock, SystemClock};
use learnloop::config::Secret;
use learnloop::http::verify::SlackSignatureVerifier;
use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

/// A Slack that accepts every call and numbers the messages it is sent.
pub struct Accepts(pub AtomicU64);

impl Respond for Accepts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "channel": body["channel"], "ts": format!("1700000000.{n:06}")}),
        )
    }
}

/// Sends requests to the app signed as Slack signs them.
pub struct Signed {
    pub base: String,
    pub client: reqwest::Client,
    signer: SlackSignatureVerifier,
}

impl Signed {
    pub fn new(base: String, secret: &str) -> Self {
        Self {
            base,
            client: reqwest::Client::new(),
            signer: SlackSignatureVerifier::new(&Secret::new(secret)),
        }
    }

    /// POSTs a signed body; the latency and the JSON answer (null when empty).
    pub async fn post(&self, path: &str, content_type: &str, body: String) -> (Duration, Value) {
        let now = SystemClock.now().unix_seconds();
        let signature = self.signer.sign(now, body.as_bytes());
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", signature)
            .body(body)
            .send()
            .await
            .expect("the app answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{path}: {text}");
        let elapsed = started.elapsed();
        (elapsed, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A `/learn` command typed in `team`, in the channel its debriefs were held in.
    pub async fn learn(&self, team: &str, text: &str) -> (Duration, Value) {
        self.learn_in(team, "CBENCH", text).await
    }

    /// A `/learn` command typed in `channel` of `team`.
    pub async fn learn_in(&self, team: &str, channel: &str, text: &str) -> (Duration, Value) {
        let form = serde_urlencoded::to_string([
            ("team_id", team),
            ("channel_id", channel),
            ("user_id", "UBENCH"),
            ("command", "/learn"),
            ("text", text),
        ])
        .expect("a form");
        self.post("/slack/commands", "application/x-www-form-urlencoded", form)
            .await
    }
}

/// The `p` quantile of sorted latencies, in ms.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

/// n, p50, p99 and max of some latencies, in ms.
pub fn stats(mut latencies: Vec<Duration>) -> Value {
    latencies.sort();
    json!({
        "n": latencies.len(),
        "p50_ms": percentile(&latencies, 0.50),
        "p99_ms": percentile(&latencies, 0.99),
        "max_ms": percentile(&latencies, 1.0),
    })
}

/// A made-up word per number, so benchmark lines share no words by accident (the
/// review at close merges near-identical lines into one).
pub fn word(n: usize) -> String {
    const SYLLABLES: [&str; 12] = [
        "ka", "lo", "mi", "ne", "po", "ru", "si", "ta", "vu", "we", "xo", "ze",
    ];
    let mut n = n;
    let mut word = String::new();
    for _ in 0..4 {
        word.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    word
}

/// `/debrief TITLE` typed by `user` in `channel` of `team`; the new debrief's id, read
/// from the buttons of the card the fake Slack was sent.
pub async fn start_debrief(
    signed: &Signed,
    slack: &wiremock::MockServer,
    (team, channel, user): (&str, &str, &str),
    title: &str,
) -> i64 {
    let form = serde_urlencoded::to_string([
        ("team_id", team),
        ("channel_id", channel),
        ("user_id", user),
        ("command", "/debrief"),
        ("text", title),
    ])
    .expect("a form");
    let (_, reply) = signed
        .post("/slack/commands", "application/x-www-form-urlencoded", form)
        .await;
    assert!(reply.to_string().contains("started"), "{reply}");
    let requests = slack.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .rev()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter(|b| b["channel"] == channel)
        .find_map(|b| {
            b["blocks"].as_array()?.iter().find_map(|block| {
                block["elements"].as_array()?.iter().find_map(|e| {
                    (e["action_id"] == "debrief.reflect")
                        .then(|| e["value"].as_str()?.parse().ok())?
                })
            })
        })
        .expect("the card was posted")
}

/// A view's state as Slack submits it: every input with what it shows (its initial
/// value, option or user).
pub fn view_state(view: &Value) -> Value {
    let mut values = serde_json::Map::new();
    for block in view["blocks"].as_array().into_iter().flatten() {
        let (Some(id), Some(kind)) = (
            block["block_id"].as_str(),
            block["element"]["type"].as_str(),
        ) else {
            continue;
        };
        let element = &block["element"];
        let state = match kind {
            "plain_text_input" => json!({"type": kind, "value": element["initial_value"]}),
            "users_select" => json!({"type": kind, "selected_user": element["initial_user"]}),
            _ => json!({"type": kind, "selected_option": element["initial_option"]}),
        };
        values.insert(id.to_owned(), json!({"answer": state}));
    }
    Value::Object(values)
}

/// The app as `learnloop serve` runs it, on a temp SQLite file (or a given database),
/// calling `slack` for the Web API, with `env` on top (tokens, secrets).
pub struct Running {
    pub address: String,
    pub db_url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Running {
    pub async fn start(slack: &wiremock::MockServer, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::start_on(None, slack, env).await
    }

    /// [`Running::start`] on the database at `db_url` when given.
    pub async fn start_on(
        db_url: Option<String>,
        slack: &wiremock::MockServer,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let db_url =
            db_url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
        let mut vars: std::collections::HashMap<String, String> = [
            ("LEARNLOOP_LISTEN", "127.0.0.1:0".to_owned()),
            ("LEARNLOOP_DATABASE_URL", db_url.clone()),
            ("LEARNLOOP_SLACK_API_URL", format!("{}/api", slack.uri())),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        vars.extend(
            env.iter()
                .map(|(name, value)| (name.to_string(), value.to_string())),
        );
        let settings = learnloop::config::Settings::load_from(None, &vars)?;
        learnloop::telemetry::init("warn");
        let app = learnloop::startup::App::build(settings).await?;
        let address = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Ok(Self {
            address,
            db_url,
            stop,
            server,
            _dir: dir,
        })
    }

    /// Stops the way SIGTERM does and waits for the sends in flight.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// Real words at the top of the vocabulary, so queries read like real ones.
pub const COMMON: &[&str] = &[
    "deploy",
    "test",
    "database",
    "migration",
    "rollback",
    "incident",
    "review",
    "alert",
    "feature",
    "flag",
    "staging",
    "release",
    "monitoring",
    "runbook",
    "oncall",
    "customer",
    "latency",
    "cache",
    "backup",
    "restore",
    "schema",
    "pipeline",
    "canary",
    "config",
    "dependency",
    "outage",
    "handover",
    "estimate",
    "scope",
    "documentation",
    "pairing",
    "retry",
    "timeout",
    "queue",
    "capacity",
    "security",
    "access",
    "secret",
    "rotation",
    "dashboard",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ten", "ru", "sa", "vek", "dor", "pi", "lan", "ob", "ze", "tra", "mon",
    "fel", "gu", "hes", "ix", "jo", "quen",
];

/// A Zipf-distributed vocabulary: a few words are everywhere, most are rare.
pub struct Vocabulary {
    pub words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    pub fn new(size: usize) -> Self {
        let mut words: Vec<String> = COMMON.iter().map(|w| (*w).to_owned()).collect();
        let mut i = 0usize;
        while words.len() < size {
            let (a, b, c) = (i % 20, (i / 20) % 20, (i / 400) % 20);
            words.push(format!("{}{}{}", SYLLABLES[a], SYLLABLES[b], SYLLABLES[c]));
            i += 1;
        }
        let mut total = 0.0;
        let cumulative = (0..size)
            .map(|rank| {
                total += 1.0 / (rank as f64 + 1.0);
                total
            })
            .collect();
        Self { words, cumulative }
    }

    pub fn pick(&self, rng: &mut fastrand::Rng) -> &str {
        let target = rng.f64() * self.cumulative.last().copied().unwrap_or(1.0);
        let rank = self.cumulative.partition_point(|c| *c < target);
        &self.words[rank.min(self.words.len() - 1)]
    }

    pub fn sentence(&self, rng: &mut fastrand::Rng) -> String {
        let length = rng.usize(6..16);
        (0..length)
            .map(|_| self.pick(rng))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
