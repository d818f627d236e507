//! Test support, one place: the real app on port 0 with a temp SQLite file and a fake
//! Slack Web API (wiremock) that records every call, request signing ([`TestApp`]), the
//! outbox rig without HTTP ([`rig`]), a fake Bot Framework ([`bot_framework`]) and a fake
//! Socket Mode server ([`fake_socket`]).

pub mod bot_framework;
pub mod fake_socket;
pub mod rig;
pub mod seed;
pub mod webdriver;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use learnloop::clock::{SharedClock, SystemClock};
use learnloop::config::{Secret, Settings};
use learnloop::http::verify::SlackSignatureVerifier;
use learnloop::scheduler::Scheduler;
use learnloop::startup::App;
use learnloop::store::Store;
use learnloop::store::scratch::ScratchDatabase;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const SIGNING_SECRET: &str = "test-signing-secret";
pub const BOT_TOKEN: &str = "xoxb-test-token";
pub const TEAM: &str = "T0TEST";

pub struct TestApp {
    pub address: String,
    /// `http://…` of the `/metrics` listener, when it has its own.
    pub metrics_address: Option<String>,
    /// The app's clock; requests are signed at its time.
    pub clock: SharedClock,
    /// This app's scheduler, to wake it after changing schedules behind its back.
    pub scheduler: Arc<Scheduler>,
    pub client: reqwest::Client,
    /// The fake Slack Web API; every call the app makes lands here.
    pub slack: MockServer,
    pub db_url: String,
    settings: Settings,
    signer: SlackSignatureVerifier,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    server: Mutex<Option<Server>>,
    socket: Mutex<Option<crate::support::fake_socket::FakeSocketSlack>>,
    _database: ScratchDatabase,
}

/// Another app process on the same database (see [`TestApp::spawn_replica`]).
pub struct Replica {
    pub scheduler: Arc<Scheduler>,
    shutdown: oneshot::Sender<()>,
    server: Server,
}

impl Replica {
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        self.server
            .await
            .expect("replica task")
            .expect("clean shutdown");
    }
}

/// Options for [`spawn_app_with`].
pub struct Options {
    pub signing_secret: Option<&'static str>,
    pub bot_token: Option<&'static str>,
    /// The app's clock (the system's unless a test moves time itself).
    pub clock: SharedClock,
    /// More `LEARNLOOP_*` variables (Teams settings, say).
    pub env: Vec<(&'static str, String)>,
    /// A templates directory of the test's own (built-ins otherwise).
    pub templates_dir: Option<std::path::PathBuf>,
    /// Run Socket Mode against a fake Slack WebSocket server (see [`TestApp::socket`]).
    pub socket_mode: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            signing_secret: Some(SIGNING_SECRET),
            bot_token: Some(BOT_TOKEN),
            clock: Arc::new(SystemClock),
            env: Vec::new(),
            templates_dir: None,
            socket_mode: false,
        }
    }
}

/// A fake Slack that accepts every call and gives each new message its own `ts`, as
/// Slack does, so tests can tell a card from its thread replies. It describes
/// conversations by their id's first letter, as Slack's ids go: `C…` a public channel,
/// `G…` a private one, `D…` a DM; and every `U…` user as a person.
#[derive(Default)]
pub struct SlackAccepts {
    next: std::sync::atomic::AtomicU64,
}

impl wiremock::Respond for SlackAccepts {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let form: HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap_or_default();
        let method = request.url.path().rsplit('/').next().unwrap_or_default();
        let answer = match method {
            "conversations.info" => {
                conversation_info(form.get("channel").map_or("", String::as_str))
            }
            "users.info" => user_info(form.get("user").map_or("", String::as_str)),
            "conversations.members" => json!({"ok": true, "members": MEMBERS,
                                              "response_metadata": {"next_cursor": ""}}),
            "users.list" => users_list(),
            "views.open" => json!({"ok": true, "view": {"id": format!("V{n}")}}),
            "conversations.open" => json!({"ok": true, "channel": {"id": GROUP_DM}}),
            "chat.update" => json!({"ok": true, "channel": body["channel"], "ts": body["ts"]}),
            "chat.postEphemeral" => json!({"ok": true, "message_ts": format!("1700000000.{n:06}")}),
            _ => {
                json!({"ok": true, "channel": body["channel"], "ts": format!("1700000000.{n:06}")})
            }
        };
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

/// The group DM `conversations.open` opens, whoever is in it.
pub const GROUP_DM: &str = "G0GROUPDM";

/// Who is in every conversation of the fake Slack.
pub const MEMBERS: &[&str] = &["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ZED"];

/// `users.list` as Slack answers it: every member a person, and the bot.
pub fn users_list() -> Value {
    let people: Vec<Value> = MEMBERS
        .iter()
        .chain(["U0BOT"].iter())
        .map(|id| user_info(id)["user"].clone())
        .collect();
    json!({"ok": true, "members": people, "response_metadata": {"next_cursor": ""}})
}

/// `users.info` as Slack answers it: `U0BOT` is the bot, every other id a person.
pub fn user_info(id: &str) -> Value {
    json!({"ok": true, "user": {"id": id, "name": id.to_lowercase(), "deleted": false,
                                "is_bot": id == "U0BOT", "is_app_user": false}})
}

/// `conversations.info` as Slack answers it for a conversation of this id.
pub fn conversation_info(id: &str) -> Value {
    let private = !id.starts_with('C');
    json!({"ok": true, "channel": {
        "id": id, "is_channel": id.starts_with('C'), "is_group": id.starts_with('G'),
        "is_im": id.starts_with('D'), "is_mpim": false, "is_private": private,
        "is_shared": false, "is_ext_shared": false, "is_org_shared": false,
        "is_pending_ext_shared": false,
    }})
}

/// Monday 2 November 2026, 10:00 UTC: where tests on a moved clock start.
pub fn monday() -> i64 {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 2, 10, 0, 0)
        .unwrap()
        .timestamp()
}

/// The app on a clock that starts at `unix` and runs on (tests move it).
pub async fn spawn_app_at(unix: i64) -> (TestApp, Arc<learnloop::clock::ShiftedClock>) {
    let clock = Arc::new(learnloop::clock::ShiftedClock::at(unix));
    let app = spawn_app_with(Options {
        clock: clock.clone(),
        ..Options::default()
    })
    .await;
    (app, clock)
}

/// The app with a signing secret and a single-workspace bot token.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let slack = MockServer::start().await;
    // Unless a test says otherwise, Slack accepts every call.
    Mock::given(method("POST"))
        .respond_with(SlackAccepts::default())
        .with_priority(u8::MAX)
        .mount(&slack)
        .await;
    let database = ScratchDatabase::for_tests().await;
    let db_url = database.url().to_owned();
    let mut env: HashMap<String, String> = HashMap::from([
        ("LEARNLOOP_LISTEN".into(), "127.0.0.1:0".into()),
        ("LEARNLOOP_DATABASE_URL".into(), db_url.clone()),
        (
            "LEARNLOOP_SLACK_API_URL".into(),
            format!("{}/api", slack.uri()),
        ),
        ("LEARNLOOP_LOG".into(), "warn".into()),
    ]);
    if let Some(secret) = options.signing_secret {
        env.insert("LEARNLOOP_SLACK_SIGNING_SECRET".into(), secret.into());
    }
    if let Some(token) = options.bot_token {
        env.insert("LEARNLOOP_SLACK_BOT_TOKEN".into(), token.into());
    }
    let socket = if options.socket_mode {
        env.insert(
            "LEARNLOOP_SLACK_APP_TOKEN".into(),
            crate::support::fake_socket::APP_TOKEN.into(),
        );
        Some(crate::support::fake_socket::FakeSocketSlack::start(&slack).await)
    } else {
        None
    };
    for (name, value) in options.env {
        env.insert(name.into(), value);
    }
    let mut settings = Settings::load_from(None, &env).expect("test settings are valid");
    // Retries within a test's patience: short backoff, timeouts and leases.
    settings.delivery.initial_backoff_ms = 20;
    settings.delivery.lease_secs = 1;
    settings.slack.request_timeout_secs = 1;
    // A silent socket is found within a test's patience.
    settings.slack.socket.ping_secs = 1;
    settings.slack.socket.idle_secs = 3;
    if let Some(templates) = options.templates_dir {
        settings.templates.dir = templates;
    }
    let clock = options.clock;
    let started = start(settings.clone(), clock.clone()).await;
    TestApp {
        clock,
        scheduler: started.scheduler,
        address: started.address,
        metrics_address: started.metrics_address,
        client: reqwest::Client::new(),
        slack,
        db_url,
        settings,
        signer: SlackSignatureVerifier::new(&Secret::new(SIGNING_SECRET)),
        shutdown: Mutex::new(Some(started.shutdown)),
        server: Mutex::new(Some(started.server)),
        socket: Mutex::new(socket),
        _database: database,
    }
}

type Server = JoinHandle<anyhow::Result<()>>;

/// A running app process.
struct Started {
    address: String,
    metrics_address: Option<String>,
    shutdown: oneshot::Sender<()>,
    server: Server,
    scheduler: Arc<Scheduler>,
}

async fn start(settings: Settings, clock: SharedClock) -> Started {
    let app = App::build_with_clock(settings, clock)
        .await
        .expect("app builds");
    let address = format!("http://{}", app.local_addr());
    let metrics_address = app.metrics_addr().map(|a| format!("http://{a}"));
    let scheduler = app.scheduler();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Started {
        address,
        metrics_address,
        shutdown,
        server,
        scheduler,
    }
}

/// A slash command form as Slack sends it, typed by Alice.
pub fn command_form(command: &str, text: &str) -> String {
    command_form_as("U0ALICE", command, text)
}

/// A slash command form as Slack sends it, typed by `user`.
pub fn command_form_as(user: &str, command: &str, text: &str) -> String {
    command_form_in(TEAM, "C0CHAN", user, command, text)
}

/// A slash command form from any workspace and channel.
pub fn command_form_in(team: &str, channel: &str, user: &str, command: &str, text: &str) -> String {
    serde_urlencoded::to_string([
        ("token", "deprecated"),
        ("team_id", team),
        ("team_domain", "acme"),
        ("channel_id", channel),
        ("channel_name", "releases"),
        ("user_id", user),
        ("user_name", "alice"),
        ("command", command),
        ("text", text),
        ("api_app_id", "A0APP"),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0TEST/1/x",
        ),
        ("trigger_id", "1.2.3"),
    ])
    .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs a JSON body with this `Authorization` header (or none), as Teams does.
    pub async fn post_json_authorized(
        &self,
        path: &str,
        body: &str,
        authorization: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send().await.expect("request reaches the app")
    }

    /// Signs `body` at `timestamp` the way Slack does.
    pub fn signature(&self, timestamp: i64, body: &str) -> String {
        self.signer.sign(timestamp, body.as_bytes())
    }

    /// POSTs `body` with valid Slack signature headers for now.
    pub async fn post_signed(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> reqwest::Response {
        self.post_signed_with(path, content_type, body, &[]).await
    }

    /// Like [`post_signed`] with extra headers (e.g. Slack's retry headers).
    pub async fn post_signed_with(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let now = self.clock.now().unix_seconds();
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", self.signature(now, body))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request reaches the app")
    }

    /// Runs a slash command as `user` and returns its JSON reply, asserting a 200.
    pub async fn command_reply_as(&self, user: &str, command: &str, text: &str) -> Value {
        self.command_reply_in(TEAM, "C0CHAN", user, command, text)
            .await
    }

    /// Runs a slash command in any workspace and channel, asserting a 200.
    pub async fn command_reply_in(
        &self,
        team: &str,
        channel: &str,
        user: &str,
        command: &str,
        text: &str,
    ) -> Value {
        let body = command_form_in(team, channel, user, command, text);
        let response = self
            .post_signed(
                "/slack/commands",
                "application/x-www-form-urlencoded",
                &body,
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "`{command} {text}` as {user} in {team}"
        );
        response.json().await.expect("a JSON reply")
    }

    pub async fn command(&self, command: &str, text: &str) -> reqwest::Response {
        self.post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &command_form(command, text),
        )
        .await
    }

    /// Runs a slash command and returns its JSON reply, asserting a 200.
    pub async fn command_reply(&self, command: &str, text: &str) -> Value {
        let response = self.command(command, text).await;
        assert_eq!(response.status(), 200, "`{command} {text}`");
        response.json().await.expect("a JSON reply")
    }

    pub async fn event(&self, envelope: &Value) -> reqwest::Response {
        self.post_signed("/slack/events", "application/json", &envelope.to_string())
            .await
    }

    pub async fn interaction(&self, payload: &str) -> reqwest::Response {
        let body = serde_urlencoded::to_string([("payload", payload)]).unwrap();
        self.post_signed(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            &body,
        )
        .await
    }

    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The raw bodies of every call the app made to a Slack method, in order.
    async fn slack_bodies(&self, method: &str) -> Vec<Vec<u8>> {
        let wanted = format!("/api/{method}");
        self.slack
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == wanted)
            .map(|r| r.body)
            .collect()
    }

    /// The JSON bodies of every call the app made to a Slack method, in order.
    pub async fn slack_calls(&self, method: &str) -> Vec<Value> {
        self.slack_bodies(method)
            .await
            .iter()
            .map(|body| serde_json::from_slice(body).expect("the app sends JSON to Slack"))
            .collect()
    }

    /// The form bodies of every call the app made to a Slack method read with a form
    /// (the `conversations.*` and `users.*` lookups), in order.
    pub async fn slack_form_calls(&self, method: &str) -> Vec<HashMap<String, String>> {
        self.slack_bodies(method)
            .await
            .iter()
            .map(|body| serde_urlencoded::from_bytes(body).expect("a form"))
            .collect()
    }

    /// A plain connection to the app's database, for reading rows as an export would.
    pub async fn database(&self) -> learnloop::store::db::Pool {
        learnloop::store::db::Pool::connect(&self.db_url)
            .await
            .expect("the test database")
    }

    /// Fires what is due now and counts the schedule runs that have sent a prompt so far.
    /// The app's own scheduler runs in the background as well, and right after a test
    /// moves the clock it may be the one that fires (its pass woken by a command may
    /// read the new time); a run row is unique per occurrence, so the count says each
    /// moment fired exactly once, whichever pass fired it.
    pub async fn fire_due_and_count_sent_runs(&self) -> i64 {
        self.scheduler.fire_due().await.expect("a scheduler pass");
        let pool = self.database().await;
        let sent = learnloop::store::db::query_scalar(
            "SELECT COUNT(*) FROM schedule_runs WHERE outcome = 'sent'",
        )
        .fetch_one(&pool)
        .await
        .expect("count runs");
        pool.close().await;
        sent
    }

    /// Waits until the app has made `count` calls to `method` (replies go out in the
    /// background), failing the test after a few seconds.
    pub async fn wait_for_slack_calls(&self, method: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let calls = self.slack_calls(method).await;
            if calls.len() >= count {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} {method} call(s), saw {}",
                calls.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Fires what is due, then says how many follow-up questions have been asked by
    /// DM, read from the rows: the app's own scheduler wakes by itself and may ask
    /// before this pass does. Waits up to five seconds for `at_least` of them.
    pub async fn questions_asked(&self, at_least: i64) -> i64 {
        self.scheduler.fire_due().await.unwrap();
        let db = self.database().await;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let asked: i64 = learnloop::store::db::query_scalar(
                "SELECT COUNT(*) FROM follow_ups WHERE outbox_id IS NOT NULL",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            if asked >= at_least || Instant::now() > deadline {
                db.close().await;
                return asked;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A second handle on the same database, for asserting what was stored.
    pub async fn store(&self) -> Store {
        let settings = learnloop::config::DatabaseSettings {
            url: self.db_url.parse().unwrap(),
            max_connections: 1,
            busy_timeout_ms: 5000,
        };
        Store::connect(&settings).await.unwrap()
    }

    /// A second app process on the same database and fake Slack, as a replica would be.
    /// It shares this app's temp directory, so it must stop before this app is dropped.
    pub async fn spawn_replica(&self) -> Replica {
        let mut settings = self.settings.clone();
        settings.http.listen = "127.0.0.1:0".parse().unwrap();
        let started = start(settings, self.clock.clone()).await;
        Replica {
            scheduler: started.scheduler,
            shutdown: started.shutdown,
            server: started.server,
        }
    }

    /// Kills the app without any shutdown (as a crash or `kill -9` would) and starts a
    /// new one on the same database and fake Slack.
    pub async fn crash_and_restart(&mut self) {
        let server = self.server.lock().unwrap().take();
        if let Some(server) = server {
            server.abort();
            let _ = server.await;
        }
        self.shutdown.lock().unwrap().take();
        let started = start(self.settings.clone(), self.clock.clone()).await;
        self.address = started.address;
        self.scheduler = started.scheduler;
        *self.shutdown.lock().unwrap() = Some(started.shutdown);
        *self.server.lock().unwrap() = Some(started.server);
    }

    /// Slack's side of Socket Mode (spawned with `socket_mode: true`); taken once.
    pub fn socket(&self) -> crate::support::fake_socket::FakeSocketSlack {
        self.socket
            .lock()
            .unwrap()
            .take()
            .expect("spawned with socket_mode, taken once")
    }

    /// Stops the app the way SIGTERM does and waits for it to finish, sends in flight
    /// included; what the fake Slack holds afterwards is everything the app sent.
    pub async fn stop(&self) {
        if let Some(shutdown) = self.shutdown.lock().unwrap().take() {
            let _ = shutdown.send(());
        }
        let server = self.server.lock().unwrap().take();
        if let Some(server) = server {
            server.await.expect("server task").expect("clean shutdown");
        }
    }
}

/// The value of one sample line of the metrics text, e.g.
/// `learnloop_slack_events_total{outcome="duplicate"}`; 0 when absent.
pub fn metric_value(metrics: &str, sample: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(sample).map(str::trim))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The text a Teams card activity shows, a line per text element (a `TextBlock`, or a
/// `RichTextBlock` whose runs are joined), for asserting on what a person reads.
pub fn card_lines(activity: &Value) -> String {
    assert_eq!(activity["type"], "message", "{activity}");
    let card = &activity["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["version"], "1.5");
    card["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|block| match block["type"].as_str() {
            Some("TextBlock") => block["text"].as_str().map(str::to_owned),
            Some("RichTextBlock") => Some(
                block["inlines"]
                    .as_array()?
                    .iter()
                    .filter_map(|run| run["text"].as_str())
                    .collect(),
            ),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// All text of a Block Kit reply, for asserting on what a person reads.
pub fn reply_text(reply: &Value) -> String {
    fn collect(value: &Value, out: &mut String) {
        match value {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            Value::Object(map) => map.values().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    collect(&reply["blocks"], &mut out);
    collect(&reply["text"], &mut out);
    out
}
