//! The outbox worker against a recording fake Slack, on a moved clock: retries, give-ups,
//! pacing, rate limits, two workers on one database, and a crash with messages queued.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use learnloop::clock::Clock;
use learnloop::config::DeliverySettings;
use learnloop::delivery::{Delivery, DeliveryReport};
use learnloop::metrics::Metrics;
use learnloop::platform::slack::SlackClient;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::rig::{default_delivery, ok, rig, store_on};
use crate::support::{TEAM, metric_value, spawn_app};

async fn slack_answers(server: &MockServer, responses: Vec<ResponseTemplate>) {
    for (i, response) in responses.into_iter().enumerate() {
        Mock::given(method("POST"))
            .and(path("/api/chat.postMessage"))
            .respond_with(response)
            .up_to_n_times(1)
            .with_priority(i as u8 + 1)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn a_message_outlasts_429_500_and_a_timeout_and_is_delivered_once() {
    let rig = rig(default_delivery()).await;
    slack_answers(
        &rig.slack,
        vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "3"),
            ResponseTemplate::new(500),
            ok().set_delay(Duration::from_secs(2)), // longer than the client's timeout
            ok(),
        ],
    )
    .await;
    let id = rig.queue("C1", "hello").await;

    let first = rig.delivery.run_once().await.unwrap();
    assert_eq!((first.claimed, first.retried), (1, 1), "429");
    rig.clock.advance(2);
    assert_eq!(
        rig.delivery.run_once().await.unwrap().claimed,
        0,
        "Retry-After is 3 s"
    );
    rig.clock.advance(2);
    assert_eq!(rig.delivery.run_once().await.unwrap().retried, 1, "500");
    rig.clock.advance(2); // backoff after the 2nd attempt is at most 2 s
    assert_eq!(rig.delivery.run_once().await.unwrap().retried, 1, "timeout");
    rig.clock.advance(4);
    let last = rig.delivery.run_once().await.unwrap();
    assert_eq!(last.sent, 1);

    rig.clock.advance(86_400);
    assert_eq!(
        rig.delivery.run_once().await.unwrap(),
        DeliveryReport::default(),
        "nothing left"
    );
    assert_eq!(rig.status(id).await, ("sent".into(), 4, None));
    let state = rig.store.outbox_state(rig.workspace, id).await.unwrap();
    assert_eq!(
        state.sent_ts.as_deref(),
        Some("1.1"),
        "Slack's ts is kept for later updates"
    );
    assert_eq!(
        rig.texts_received().await.len(),
        4,
        "four attempts, the last one accepted"
    );
    let metrics = rig.metrics.render();
    assert_eq!(metric_value(&metrics, "learnloop_outbox_sent_total"), 1.0);
    assert_eq!(
        metric_value(&metrics, "learnloop_outbox_retries_total"),
        3.0
    );
}

#[tokio::test]
async fn a_permanent_error_fails_at_once_and_is_never_retried() {
    let rig = rig(default_delivery()).await;
    slack_answers(
        &rig.slack,
        vec![
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
        ],
    )
    .await;
    let id = rig.queue("C404", "hello").await;
    assert_eq!(rig.delivery.run_once().await.unwrap().failed, 1);
    rig.clock.advance(86_400);
    assert_eq!(rig.delivery.run_once().await.unwrap().claimed, 0);
    let (status, attempts, error) = rig.status(id).await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(error.unwrap().contains("channel_not_found"));
    assert_eq!(rig.slack.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        metric_value(&rig.metrics.render(), "learnloop_outbox_failed_total"),
        1.0
    );
}

#[tokio::test]
async fn retries_stop_when_the_budget_is_spent() {
    let rig = rig(DeliverySettings {
        give_up_after_hours: 1,
        ..default_delivery()
    })
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&rig.slack)
        .await;
    let id = rig.queue("C1", "hello").await;
    let mut retried = 0;
    for _ in 0..40 {
        let report = rig.delivery.run_once().await.unwrap();
        retried += report.retried;
        if report.failed == 1 {
            break;
        }
        rig.clock.advance(300); // the longest backoff
    }
    let (status, attempts, error) = rig.status(id).await;
    assert_eq!(status, "failed");
    assert_eq!(attempts as usize, retried + 1);
    assert!(
        retried >= 10,
        "it kept trying for the hour: {retried} retries"
    );
    assert!(error.unwrap().contains("503"));
    assert_eq!(
        metric_value(&rig.metrics.render(), "learnloop_outbox_failed_total"),
        1.0
    );
}

#[tokio::test]
async fn each_channel_gets_its_messages_in_order_and_no_faster_than_its_interval() {
    let rig = rig(default_delivery()).await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&rig.slack)
        .await;
    for text in ["c1-a", "c1-b", "c1-c"] {
        rig.queue("C1", text).await;
    }
    rig.queue("C2", "c2-a").await;

    assert_eq!(rig.delivery.run_once().await.unwrap().sent, 2);
    assert_eq!(
        rig.delivery.run_once().await.unwrap().sent,
        0,
        "C1 waits a second"
    );
    rig.clock.advance_millis(999);
    assert_eq!(rig.delivery.run_once().await.unwrap().sent, 0);
    rig.clock.advance_millis(1);
    assert_eq!(rig.delivery.run_once().await.unwrap().sent, 1);
    rig.clock.advance(1);
    assert_eq!(rig.delivery.run_once().await.unwrap().sent, 1);

    let texts = rig.texts_received().await;
    let c1: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|t| t.starts_with("c1"))
        .collect();
    assert_eq!(c1, ["c1-a", "c1-b", "c1-c"]);
}

#[tokio::test]
async fn the_workspace_rate_defers_without_spending_attempts() {
    let rig = rig(DeliverySettings {
        workspace_rate_per_sec: 2,
        ..default_delivery()
    })
    .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&rig.slack)
        .await;
    let ids = [
        rig.queue("C1", "1").await,
        rig.queue("C2", "2").await,
        rig.queue("C3", "3").await,
    ];
    let report = rig.delivery.run_once().await.unwrap();
    assert_eq!((report.sent, report.deferred), (2, 1));
    let deferred: Vec<_> = {
        let mut pending = Vec::new();
        for id in ids {
            let (status, attempts, _) = rig.status(id).await;
            if status == "pending" {
                pending.push(attempts);
            }
        }
        pending
    };
    assert_eq!(deferred, [0], "the deferred message has spent no attempt");
    rig.clock.advance_millis(500);
    assert_eq!(rig.delivery.run_once().await.unwrap().sent, 1);
}

#[tokio::test]
async fn two_workers_on_one_database_send_each_message_exactly_once() {
    let rig = rig(default_delivery()).await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(Duration::from_millis(5)))
        .mount(&rig.slack)
        .await;
    for i in 0..120 {
        rig.queue(&format!("C{i}"), &format!("m{i}")).await;
    }
    // A second process: its own pool on the same database, its own worker.
    let other = other_worker(&rig, default_delivery()).await;
    let mut sent = 0;
    for _ in 0..50 {
        let (a, b) = tokio::join!(rig.delivery.run_once(), other.run_once());
        let (a, b) = (a.unwrap(), b.unwrap());
        sent += a.sent + b.sent;
        if a.claimed + b.claimed == 0 {
            break;
        }
        rig.clock.advance(1); // the workspace rate (50/s) refills
    }
    let texts = rig.texts_received().await;
    let unique: HashSet<&String> = texts.iter().collect();
    assert_eq!(sent, 120);
    assert_eq!(texts.len(), 120, "no message sent twice");
    assert_eq!(unique.len(), 120, "and none lost");
}

/// A second process's worker on the rig's database, with these settings.
async fn other_worker(rig: &crate::support::rig::Rig, settings: DeliverySettings) -> Arc<Delivery> {
    let other_store =
        store_on(&rig.database)
            .await
            .with_credentials(learnloop::store::Credentials {
                keyring: None,
                slack_env_token: Some(learnloop::config::Secret::new("xoxb-rig")),
            });
    let client =
        SlackClient::new(&format!("{}/api", rig.slack.uri()), Duration::from_secs(2)).unwrap();
    Arc::new(Delivery::new(
        other_store,
        client,
        rig.clock.clone(),
        Arc::new(Metrics::default()),
        settings,
    ))
}

#[tokio::test]
async fn two_processes_share_one_send_rate_per_workspace() {
    let settings = DeliverySettings {
        workspace_rate_per_sec: 5,
        ..default_delivery()
    };
    let rig = rig(settings.clone()).await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&rig.slack)
        .await;
    for i in 0..20 {
        rig.queue(&format!("C{i}"), &format!("m{i}")).await;
    }
    let other = other_worker(&rig, settings).await;
    // At one instant both workers together get one second's burst, not one each.
    let mut sent = 0;
    for _ in 0..3 {
        let (a, b) = tokio::join!(rig.delivery.run_once(), other.run_once());
        sent += a.unwrap().sent + b.unwrap().sent;
    }
    assert_eq!(sent, 5);
    // A second later, five more between them.
    rig.clock.advance_millis(1_000);
    for _ in 0..3 {
        let (a, b) = tokio::join!(rig.delivery.run_once(), other.run_once());
        sent += a.unwrap().sent + b.unwrap().sent;
    }
    assert_eq!(sent, 10);
    assert_eq!(rig.texts_received().await.len(), 10);
}

#[tokio::test]
async fn queued_replies_are_delivered_after_a_crash() {
    let mut app = spawn_app().await;
    // Slack is down: the reply stays in the outbox.
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&app.slack)
        .await;
    let event = json!({
        "type": "event_callback", "team_id": TEAM, "event_id": "EvCrash", "event_time": 1,
        "authorizations": [{"user_id": "U0BOT", "is_bot": true}],
        "event": {"type": "message", "channel_type": "im", "user": "U1", "channel": "C1", "text": "help", "ts": "9.9"}
    });
    assert_eq!(app.event(&event).await.status(), 200);
    app.wait_for_slack_calls("chat.postMessage", 1).await;

    app.crash_and_restart().await;
    app.slack.reset().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(ok())
        .mount(&app.slack)
        .await;
    let calls = app.wait_for_slack_calls("chat.postMessage", 1).await;
    assert_eq!(calls[0]["channel"], "C1");
    app.stop().await;
    assert_eq!(
        app.slack_calls("chat.postMessage").await.len(),
        1,
        "delivered once after the restart"
    );
}

#[tokio::test]
async fn a_retry_after_of_days_waits_an_hour_at_most() {
    let rig = rig(default_delivery()).await;
    slack_answers(
        &rig.slack,
        vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "2592000"),
            ok(),
        ],
    )
    .await;
    let id = rig.queue("C1", "hello").await;
    assert_eq!(rig.delivery.run_once().await.unwrap().retried, 1);
    let state = rig.store.outbox_state(rig.workspace, id).await.unwrap();
    let waits_ms = state.next_attempt_at.millis() - rig.clock.now().millis();
    assert!(
        (3_600_000..3_601_000).contains(&waits_ms),
        "capped at an hour: {waits_ms} ms"
    );
    rig.clock.advance(3601);
    assert_eq!(rig.delivery.run_once().await.unwrap().sent, 1);
}
