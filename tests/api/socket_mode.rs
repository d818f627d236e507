//! Socket Mode end to end: the app opens `apps.connections.open` on the fake Slack,
//! connects to the fake WebSocket server, and everything runs through the handlers the
//! HTTP routes use.

use learnloop::store::db;
use std::time::Duration;

use serde_json::{Value, json};

use crate::converging::start_form;
use crate::debriefs::{ALICE, CHANNEL, dm};
use crate::support::{Options, TEAM, TestApp, spawn_app_with};

/// Socket Mode only: no signing secret, so nothing could arrive over HTTP.
async fn socket_only() -> TestApp {
    spawn_app_with(Options {
        signing_secret: None,
        socket_mode: true,
        ..Options::default()
    })
    .await
}

fn slash(text: &str) -> Value {
    json!({
        "token": "legacy", "team_id": TEAM, "team_domain": "acme",
        "channel_id": CHANNEL, "channel_name": "general", "user_id": ALICE,
        "user_name": "alice", "command": "/learn", "text": text,
        "api_app_id": "A0APP", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.test/commands/1", "trigger_id": "1.2.3",
    })
}

fn texts(payload: &Value) -> String {
    payload.to_string()
}

/// DMs posted to `user`'s DM channel, as texts.
async fn replies_to(app: &TestApp, user: &str) -> Vec<String> {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|call| call["channel"] == format!("D{user}"))
        .map(|call| call["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn wait_for_replies(app: &TestApp, user: &str, count: usize) -> Vec<String> {
    for _ in 0..500 {
        let replies = replies_to(app, user).await;
        if replies.len() >= count {
            return replies;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("expected {count} replies to {user}");
}

#[tokio::test]
async fn a_slash_command_is_answered_through_the_ack_and_readyz_says_connected() {
    let app = socket_only().await;
    let mut slack = app.socket();
    let mut link = slack.next_connection().await;

    link.envelope("env-help", "slash_commands", slash("help"))
        .await;
    let ack = link.ack_of("env-help").await;
    assert_eq!(ack["payload"]["response_type"], "ephemeral", "{ack}");
    assert!(texts(&ack["payload"]).contains("/learn"), "{ack}");

    // A command that reads and writes the workspace's data.
    link.envelope(
        "env-goal",
        "slash_commands",
        slash("goal add \"Learn to read flame graphs\""),
    )
    .await;
    let ack = link.ack_of("env-goal").await;
    assert!(
        texts(&ack["payload"]).contains("Learn to read flame graphs"),
        "{ack}"
    );
    // Slack redelivers the same envelope (its socket died before the ack went out, say):
    // answered with the first run's reply, not run twice.
    link.envelope(
        "env-goal",
        "slash_commands",
        slash("goal add \"Learn to read flame graphs\""),
    )
    .await;
    let again = link.ack_of("env-goal").await;
    assert_eq!(again["payload"], ack["payload"], "{again}");
    link.envelope("env-goals", "slash_commands", slash("goal list"))
        .await;
    let listed = texts(&link.ack_of("env-goals").await["payload"]);
    assert_eq!(
        listed.matches("Learn to read flame graphs").count(),
        1,
        "one goal: {listed}"
    );

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.text().await.unwrap(),
        "ready; slack socket mode: connected"
    );
    // The HTTP routes stay closed without a signing secret.
    assert_eq!(app.command("/learn", "help").await.status(), 503);
}

#[tokio::test]
async fn a_view_submission_gets_its_field_errors_in_the_ack() {
    let app = socket_only().await;
    let mut link = app.socket().next_connection().await;
    let form: Value = serde_json::from_str(&start_form(ALICE, &[])).unwrap();
    link.envelope("env-view", "interactive", form).await;
    let ack = link.ack_of("env-view").await;
    assert_eq!(ack["payload"]["response_action"], "errors", "{ack}");
    assert!(ack["payload"]["errors"]["q_title"].is_string(), "{ack}");
}

#[tokio::test]
async fn an_event_redelivered_across_a_refresh_is_handled_once_and_nothing_is_lost() {
    let app = socket_only().await;
    let mut slack = app.socket();
    let mut first = slack.next_connection().await;

    first
        .envelope("env-1", "events_api", dm("Ev1", ALICE, "goal list"))
        .await;
    first.ack_of("env-1").await;
    // An event arrives, then Slack announces the refresh before it is acknowledged.
    first
        .envelope("env-2", "events_api", dm("Ev2", ALICE, "help"))
        .await;
    first
        .send(json!({"type": "disconnect", "reason": "refresh_requested"}))
        .await;
    // The app opens the next connection while the first one still answers.
    let mut second = slack.next_connection().await;
    first.ack_of("env-2").await;
    assert!(
        first.next_frame().await.is_none(),
        "the old connection is closed once it answered what it took"
    );
    // Slack delivers Ev2 again on the new connection (at least once), and a new event.
    second
        .envelope("env-2b", "events_api", dm("Ev2", ALICE, "help"))
        .await;
    second.ack_of("env-2b").await;
    second
        .envelope("env-3", "events_api", dm("Ev3", ALICE, "goal list"))
        .await;
    second.ack_of("env-3").await;

    let replies = wait_for_replies(&app, ALICE, 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        replies_to(&app, ALICE).await.len(),
        3,
        "Ev1, Ev2 and Ev3 each answered once: {replies:?}"
    );
    assert_eq!(app.slack_form_calls("apps.connections.open").await.len(), 2);
}

#[tokio::test]
async fn a_half_open_socket_is_replaced() {
    let app = socket_only().await;
    let mut slack = app.socket();
    // Slack's side goes silent: it neither reads (no pongs) nor writes.
    let _silent = slack.next_connection().await;
    assert!(
        slack.connection_within(Duration::from_secs(8)).await,
        "the app gives up on the silent socket and connects again"
    );
    assert_eq!(app.slack_form_calls("apps.connections.open").await.len(), 2);
}

#[tokio::test]
async fn link_disabled_stops_socket_mode_and_readyz_says_so() {
    let app = socket_only().await;
    let mut slack = app.socket();
    let mut link = slack.next_connection().await;
    link.send(json!({"type": "disconnect", "reason": "link_disabled"}))
        .await;
    assert!(link.next_frame().await.is_none(), "the app lets go");
    assert!(
        !slack.connection_within(Duration::from_millis(1500)).await,
        "and does not reconnect"
    );
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert!(
        ready.text().await.unwrap().contains("link_disabled"),
        "readyz names the state"
    );
}

/// The lines of a manifest that declare features (scopes, events, commands, switches),
/// without comments and without the request and redirect URLs.
fn declared(manifest: &str) -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/slack/{manifest}"))
        .unwrap()
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| line.split(" #").next().unwrap().trim_end().to_owned())
        .filter(|line| !line.trim().is_empty())
        .filter(|line| {
            !line.contains("url: ")
                && !line.contains("redirect_urls")
                && !line.contains("://")
                && !line.contains("socket_mode_enabled")
        })
        .collect()
}

#[test]
fn the_socket_mode_manifest_declares_what_the_request_url_one_does() {
    let socket = declared("manifest.socket.yml");
    assert_eq!(
        socket,
        declared("manifest.yml"),
        "the two manifests differ only in URLs and the Socket Mode switch"
    );
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/slack/manifest.socket.yml")).unwrap();
    assert!(text.contains("socket_mode_enabled: true"));
    assert!(
        !text.contains("url:") && !text.contains("learnloop.example.com"),
        "no request URLs"
    );
}

#[tokio::test]
async fn request_urls_and_socket_mode_run_at_once() {
    let app = spawn_app_with(Options {
        socket_mode: true,
        ..Options::default()
    })
    .await;
    let mut link = app.socket().next_connection().await;
    let over_http = app.command_reply("/learn", "goal add \"Over HTTP\"").await;
    assert!(texts(&over_http).contains("Over HTTP"), "{over_http}");
    link.envelope("env-both", "slash_commands", slash("goal list"))
        .await;
    let listed = texts(&link.ack_of("env-both").await["payload"]);
    assert!(
        listed.contains("Over HTTP"),
        "one workspace, two transports: {listed}"
    );
}

#[tokio::test]
async fn a_command_whose_socket_died_is_answered_on_the_next_with_its_reply_run_once() {
    use wiremock::matchers::{method, path};
    let app = socket_only().await;
    // Slack is slow to describe the channel: the command is still running when its
    // socket dies.
    wiremock::Mock::given(method("POST"))
        .and(path("/api/conversations.info"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(crate::support::conversation_info(CHANNEL))
                .set_delay(Duration::from_millis(800)),
        )
        .with_priority(1)
        .mount(&app.slack)
        .await;
    let mut slack = app.socket();
    let first = slack.next_connection().await;
    let mut command = json!({
        "envelope_id": "env-slow", "type": "slash_commands",
        "accepts_response_payload": true, "payload": debrief_command("Slow release"),
        "retry_attempt": 0, "retry_reason": "",
    });
    let mut first = first;
    first.send(command.clone()).await;
    drop(first);
    // Slack delivers it again on the app's next connection.
    let mut second = slack.next_connection().await;
    command["retry_attempt"] = json!(1);
    command["retry_reason"] = json!("timeout");
    second.send(command).await;
    let ack = second.ack_of("env-slow").await;
    assert!(
        texts(&ack["payload"]).contains("started"),
        "the reply: {ack}"
    );
    let pool = db::Pool::connect(&app.db_url).await.unwrap();
    let debriefs: i64 = db::query_scalar("SELECT COUNT(*) FROM debriefs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(debriefs, 1, "run once");
}

fn debrief_command(title: &str) -> Value {
    let mut command = slash(title);
    command["command"] = json!("/debrief");
    command
}
