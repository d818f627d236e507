//! The Events API: url_verification, mentions and DMs answered once, retries deduplicated.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{BOT_TOKEN, TEAM, metric_value, spawn_app};

fn callback(event_id: &str, event: Value) -> Value {
    json!({
        "type": "event_callback",
        "team_id": TEAM,
        "api_app_id": "A0APP",
        "event_id": event_id,
        "event_time": 1700000000,
        "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": true}],
        "event": event,
    })
}

fn mention(text: &str) -> Value {
    json!({"type": "app_mention", "user": "U0ALICE", "channel": "C0CHAN",
           "text": text, "ts": "1700000000.000100"})
}

#[tokio::test]
async fn url_verification_echoes_the_challenge() {
    let app = spawn_app().await;
    let response = app
        .event(&json!({"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    app.stop().await;
}

#[tokio::test]
async fn a_mention_is_answered_privately_in_its_thread_with_the_bot_token() {
    let app = spawn_app().await;
    let response = app
        .event(&callback("Ev1", mention("<@U0BOT> help goal")))
        .await;
    assert_eq!(response.status(), 200);

    // Answers can be private (goals, pauses): only the person who asked sees them.
    let calls = app.wait_for_slack_calls("chat.postEphemeral", 1).await;
    assert_eq!(calls[0]["channel"], "C0CHAN");
    assert_eq!(calls[0]["user"], "U0ALICE");
    assert_eq!(calls[0]["thread_ts"], "1700000000.000100");
    assert!(
        calls[0]["blocks"].to_string().contains("/learn goal add"),
        "{}",
        calls[0]
    );
    let request = &app.slack.received_requests().await.unwrap()[0];
    assert_eq!(
        request.headers["authorization"],
        format!("Bearer {BOT_TOKEN}")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_direct_message_gets_the_same_answer_as_the_slash_command() {
    let app = spawn_app().await;
    let dm = json!({"type": "message", "channel_type": "im", "channel": "D0DM", "user": "U0ALICE",
                    "text": "goal done two", "ts": "1700000000.000200"});
    assert_eq!(app.event(&callback("Ev2", dm)).await.status(), 200);
    let calls = app.wait_for_slack_calls("chat.postMessage", 1).await;
    assert_eq!(calls[0]["channel"], "D0DM");
    assert!(calls[0].get("thread_ts").is_none());
    assert!(
        calls[0]["blocks"]
            .to_string()
            .contains("`two` is not a goal number")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_retried_event_is_acknowledged_but_handled_once() {
    let app = spawn_app().await;
    let event = callback("Ev3", mention("<@U0BOT> help"));
    assert_eq!(app.event(&event).await.status(), 200);
    let retry = app
        .post_signed_with(
            "/slack/events",
            "application/json",
            &event.to_string(),
            &[
                ("x-slack-retry-num", "1"),
                ("x-slack-retry-reason", "http_timeout"),
            ],
        )
        .await;
    assert_eq!(retry.status(), 200, "the retry is acknowledged");

    app.wait_for_slack_calls("chat.postEphemeral", 1).await;
    let metrics = app.metrics().await;
    assert_eq!(
        metric_value(
            &metrics,
            r#"learnloop_slack_events_total{outcome="handled"}"#
        ),
        1.0
    );
    assert_eq!(
        metric_value(
            &metrics,
            r#"learnloop_slack_events_total{outcome="duplicate"}"#
        ),
        1.0
    );
    app.stop().await;
    assert_eq!(
        app.slack_calls("chat.postEphemeral").await.len(),
        1,
        "after shutdown drained background work there is still exactly one reply"
    );
}

#[tokio::test]
async fn bot_messages_and_our_own_messages_are_ignored() {
    let app = spawn_app().await;
    let from_bot = json!({"type": "message", "channel_type": "im", "channel": "D1", "user": "U9",
                          "bot_id": "B9", "text": "help", "ts": "1.1"});
    let from_us = json!({"type": "message", "channel_type": "im", "channel": "D1", "user": "U0BOT",
                         "text": "help", "ts": "1.2"});
    let edited = json!({"type": "message", "subtype": "message_changed", "channel_type": "im",
                        "channel": "D1", "user": "U0ALICE", "text": "help", "ts": "1.3"});
    for (id, event) in [("Ev4", from_bot), ("Ev5", from_us), ("Ev6", edited)] {
        assert_eq!(app.event(&callback(id, event)).await.status(), 200);
    }
    let metrics = app.metrics().await;
    assert_eq!(
        metric_value(
            &metrics,
            r#"learnloop_slack_events_total{outcome="ignored"}"#
        ),
        3.0
    );
    app.stop().await;
    assert!(
        app.slack.received_requests().await.unwrap().is_empty(),
        "nothing was answered, even after background work drained"
    );
}

#[tokio::test]
async fn a_failing_slack_delays_the_reply_but_it_arrives() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postEphemeral"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postEphemeral"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&app.slack)
        .await;
    assert_eq!(
        app.event(&callback("Ev7", mention("<@U0BOT> help")))
            .await
            .status(),
        200
    );
    app.wait_for_slack_calls("chat.postEphemeral", 3).await;
    app.stop().await;
    assert_eq!(
        app.slack_calls("chat.postEphemeral").await.len(),
        3,
        "503, then 429, then delivered, and never sent again"
    );
}

#[tokio::test]
async fn events_of_shapes_learnloop_does_not_use_are_acknowledged() {
    let app = spawn_app().await;
    let created = json!({"type": "channel_created",
                         "channel": {"id": "C9", "name": "new", "created": 1700000000}});
    assert_eq!(app.event(&callback("Ev9", created)).await.status(), 200);
    let metrics = app.metrics().await;
    assert_eq!(
        metric_value(
            &metrics,
            r#"learnloop_slack_events_total{outcome="ignored"}"#
        ),
        1.0
    );
    app.stop().await;
}

#[tokio::test]
async fn malformed_events_get_400() {
    let app = spawn_app().await;
    let response = app
        .post_signed("/slack/events", "application/json", "{not json")
        .await;
    assert_eq!(response.status(), 400);
    let no_event = json!({"type": "event_callback", "team_id": TEAM, "event_id": "Ev8"});
    assert_eq!(app.event(&no_event).await.status(), 400);
    let no_challenge = json!({"type": "url_verification"});
    assert_eq!(app.event(&no_challenge).await.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn a_first_hello_gets_the_welcome_and_a_file_alone_gets_a_hint() {
    use crate::debriefs::{dm, say};
    let app = crate::support::spawn_app().await;
    let hello = say(&app, "w1", "U0NEW", "Hi!").await;
    assert!(hello.contains("Three things to try"), "{hello}");
    assert!(hello.contains("/debrief Release 2.3"), "{hello}");
    assert!(!hello.contains("I don't know the command"), "{hello}");

    // Someone else's first words are not a command: the welcome, then what was wrong.
    let first = say(&app, "w2", "U0OTHER", "what is this").await;
    assert!(first.contains("Three things to try"), "{first}");
    assert!(first.contains("I don't know the command `what`"), "{first}");
    // Only the first time.
    let second = say(&app, "w3", "U0OTHER", "what is this").await;
    assert!(!second.contains("Three things to try"), "{second}");
    assert!(
        second.contains("I don't know the command `what`"),
        "{second}"
    );

    // `help` as someone's first words there: the welcome, then the help.
    let helped = say(&app, "w6", "U0THIRD", "help").await;
    assert!(helped.contains("Three things to try"), "{helped}");
    assert!(helped.contains("/learn goal add"), "{helped}");
    let again = say(&app, "w7", "U0THIRD", "help").await;
    assert!(!again.contains("Three things to try"), "{again}");

    // A file with nothing typed, as today's clients and older ones send it.
    for (event, text) in [
        ("w4", ""),
        (
            "w5",
            "<@U0OTHER|other> uploaded a file: <https://x|notes.pdf>",
        ),
    ] {
        let mut shared = dm(event, "U0OTHER", text);
        shared["event"]["subtype"] = "file_share".into();
        shared["event"]["files"] = serde_json::json!([{"id": "F1", "name": "notes.pdf"}]);
        let seen = crate::debriefs::messages_to(&app, "DU0OTHER").await;
        assert_eq!(app.event(&shared).await.status(), 200);
        let hint = crate::debriefs::message_to(&app, "DU0OTHER", seen).await;
        assert!(hint.contains("I can only read text"), "{hint}");
    }
    app.stop().await;
}

#[tokio::test]
async fn added_to_a_channel_the_bot_introduces_itself_there_once() {
    let app = crate::support::spawn_app().await;
    let joined = |event_id: &str, user: &str| {
        serde_json::json!({
            "type": "event_callback", "team_id": crate::support::TEAM, "api_app_id": "A0APP",
            "event_id": event_id, "event_time": 1700000000,
            "authorizations": [{"team_id": crate::support::TEAM, "user_id": "U0BOT", "is_bot": true}],
            "event": {"type": "member_joined_channel", "user": user, "channel": "C0NEW",
                      "channel_type": "C", "team": crate::support::TEAM},
        })
    };
    for (event_id, user) in [("j1", "U0BOT"), ("j2", "U0ALICE"), ("j3", "U0BOT")] {
        assert_eq!(app.event(&joined(event_id, user)).await.status(), 200);
    }
    let intro = crate::debriefs::message_to(&app, "C0NEW", 0).await;
    assert!(intro.contains("Hi, I'm learnloop"), "{intro}");
    assert!(intro.contains("/debrief TITLE"), "{intro}");
    crate::debriefs::wait_for_outbox(&app, crate::debriefs::workspace(&app).await).await;
    assert_eq!(
        crate::debriefs::messages_to(&app, "C0NEW").await,
        1,
        "once, however often it is added"
    );
    app.stop().await;
}
