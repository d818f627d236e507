//! Exactly-once handling of chat events: a handler that dies does not cost Slack's
//! retry, a failure after a DM answer was taken does not apply it again to the next
//! question, a Teams activity delivered twice is handled once, and a person's 1:1
//! answer belongs to the team whose conversation it continues.

use learnloop::store::db;
use std::sync::Arc;

use learnloop::clock::{Clock, ShiftedClock};
use serde_json::json;

use crate::debriefs::{
    ALICE, BOB, click, database, dm, messages_to, say, start, wait_for_outbox, workspace,
};
use crate::support::{Options, TestApp, reply_text, spawn_app_with};

async fn app() -> (TestApp, Arc<ShiftedClock>) {
    let clock = Arc::new(ShiftedClock::at(1_800_000_000));
    let app = spawn_app_with(Options {
        clock: clock.clone(),
        ..Options::default()
    })
    .await;
    (app, clock)
}

/// Slack delivering `envelope` again, as its retries do.
async fn retry(app: &TestApp, envelope: &serde_json::Value) -> u16 {
    app.post_signed_with(
        "/slack/events",
        "application/json",
        &envelope.to_string(),
        &[
            ("x-slack-retry-num", "1"),
            ("x-slack-retry-reason", "http_timeout"),
        ],
    )
    .await
    .status()
    .as_u16()
}

/// Starts a retro and has Bob reflect on it in a DM conversation (its first question
/// delivered); the workspace.
async fn bob_reflects_in_a_dm(app: &TestApp, title: &str) -> learnloop::store::WorkspaceId {
    let (id, _) = start(app, &format!("--template retro {title}")).await;
    let ws = workspace(app).await;
    app.interaction(&click(BOB, "debrief.reflect_dm", id)).await;
    wait_for_outbox(app, ws).await;
    ws
}

#[tokio::test]
async fn a_claim_left_by_a_handler_that_died_does_not_drop_slacks_retry() {
    let (app, clock) = app().await;
    // Make the workspace exist, then leave a claim as a handler that timed out would.
    app.command_reply_as(ALICE, "/learn", "lessons").await;
    let ws = workspace(&app).await;
    let db = database(&app).await;
    let now = clock.now().unix_seconds();
    db::query(
        "INSERT INTO processed_events (workspace_id, event_id, received_at, state, claimed_until) \
         VALUES (?, 'EvLost', ?, 'claimed', ?)",
    )
    .bind(ws.0)
    .bind(now)
    .bind(now + 30)
    .execute(&db)
    .await
    .unwrap();
    let envelope = dm("EvLost", BOB, "help");

    // Slack's immediate retry finds the claim still held: asked to retry later (the
    // handler may yet fail), not handled.
    assert_eq!(retry(&app, &envelope).await, 503);
    assert_eq!(messages_to(&app, "DU0BOB").await, 0);

    // A minute later the claim has run out and the next retry is answered.
    clock.advance(60);
    let seen = messages_to(&app, "DU0BOB").await;
    assert_eq!(retry(&app, &envelope).await, 200);
    let answered = crate::debriefs::message_to(&app, "DU0BOB", seen).await;
    assert!(answered.contains("learnloop"), "{answered}");
    // And once handled, it stays handled.
    assert_eq!(retry(&app, &envelope).await, 200);
    wait_for_outbox(&app, ws).await;
    assert_eq!(messages_to(&app, "DU0BOB").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_dm_answer_taken_before_a_failure_is_not_applied_again_to_the_next_question() {
    let (app, _clock) = app().await;
    bob_reflects_in_a_dm(&app, "Release 2.4").await;

    // Bob answers the first question; the answer is taken, then queuing the reply
    // fails (a full disk, say), so Slack's delivery fails and it retries.
    let db = database(&app).await;
    add_trigger(
        &db,
        [
            "CREATE TRIGGER reply_fails BEFORE INSERT ON outbox WHEN NEW.channel = 'DU0BOB' \
             BEGIN SELECT RAISE(ABORT, 'disk full'); END",
        ],
        [
            "CREATE FUNCTION reply_fails() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'disk full'; END $$",
            "CREATE TRIGGER reply_fails BEFORE INSERT ON outbox \
             FOR EACH ROW WHEN (NEW.channel = 'DU0BOB') EXECUTE FUNCTION reply_fails()",
        ],
    )
    .await;
    let answer = dm("EvAnswer", BOB, "Feature flags let us roll back in minutes");
    assert_eq!(app.event(&answer).await.status(), 500);
    db::query(db::Sql::dialects(
        "DROP TRIGGER reply_fails",
        "DROP TRIGGER reply_fails ON outbox",
    ))
    .execute(&db)
    .await
    .unwrap();

    let seen = messages_to(&app, "DU0BOB").await;
    assert_eq!(retry(&app, &answer).await, 200);
    let reply = crate::debriefs::message_to(&app, "DU0BOB", seen).await;
    assert!(reply.contains("Question 2 of 4"), "{reply}");
    let (step, answers): (i64, String) =
        db::query_as("SELECT step, answers FROM conversations WHERE person = ?")
            .bind(BOB)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(step, 1, "still at the second question");
    let answers: serde_json::Value = serde_json::from_str(&answers).unwrap();
    assert_eq!(
        answers,
        json!({"went_well": "Feature flags let us roll back in minutes"}),
        "the answer was not given to the next question too"
    );
    // The next answer goes on as usual.
    let next = say(&app, "EvNext", BOB, "The staging data was a week old").await;
    assert!(next.contains("Question 3 of 4"), "{next}");
    app.stop().await;
}

#[tokio::test]
async fn two_deliveries_of_one_answer_at_once_take_it_once() {
    let (app, _clock) = app().await;
    let ws = bob_reflects_in_a_dm(&app, "Release 2.5").await;
    let answer = dm(
        "EvTwice",
        BOB,
        "Pairing on the migration caught the lock early",
    );
    let (first, second) = tokio::join!(app.event(&answer), retry(&app, &answer));
    let statuses = [first.status().as_u16(), second];
    assert!(
        statuses.contains(&200) && statuses.iter().all(|s| [200, 503].contains(s)),
        "one is handled, the other acknowledged or asked to retry: {statuses:?}"
    );
    // Slack retries the one that was asked to: it is done by now.
    assert_eq!(retry(&app, &answer).await, 200);
    wait_for_outbox(&app, ws).await;
    let db = database(&app).await;
    let step: i64 = db::query_scalar("SELECT step FROM conversations WHERE person = ?")
        .bind(BOB)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(step, 1);
    let replies: Vec<String> = app
        .slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == "DU0BOB")
        .map(reply_text)
        .collect();
    assert_eq!(replies.len(), 1, "one answer, one reply: {replies:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_slow_handler_whose_claim_was_taken_over_queues_nothing() {
    let (app, clock) = app().await;
    let ws = bob_reflects_in_a_dm(&app, "Release 2.6").await;
    let seen = messages_to(&app, "DU0BOB").await;

    // While this handler works, its claim runs out and another delivery takes the event
    // over (a trigger plays that delivery, as the answer is taken: before the reply).
    let db = database(&app).await;
    add_trigger(
        &db,
        [
            "CREATE TRIGGER taken_over AFTER UPDATE ON conversations WHEN NEW.person = 'U0BOB' \
             BEGIN UPDATE processed_events SET claim_token = 0 WHERE event_id = 'EvSlow'; END",
        ],
        [
            "CREATE FUNCTION taken_over() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             UPDATE processed_events SET claim_token = 0 WHERE event_id = 'EvSlow'; \
             RETURN NULL; END $$",
            "CREATE TRIGGER taken_over AFTER UPDATE ON conversations \
             FOR EACH ROW WHEN (NEW.person = 'U0BOB') EXECUTE FUNCTION taken_over()",
        ],
    )
    .await;
    let answer = dm("EvSlow", BOB, "Feature flags let us roll back in minutes");
    assert_eq!(
        app.event(&answer).await.status(),
        503,
        "the slow handler's reply is dropped"
    );
    db::query(db::Sql::dialects(
        "DROP TRIGGER taken_over",
        "DROP TRIGGER taken_over ON conversations",
    ))
    .execute(&db)
    .await
    .unwrap();
    let state: String =
        db::query_scalar("SELECT state FROM processed_events WHERE event_id = 'EvSlow'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(state, "claimed", "the other delivery's claim is left alone");
    wait_for_outbox(&app, ws).await;
    assert_eq!(
        messages_to(&app, "DU0BOB").await,
        seen,
        "nothing was queued"
    );

    // That other delivery died too: once its claim runs out, Slack's retry answers,
    // and the answer taken by the slow handler is not applied twice.
    clock.advance(60);
    assert_eq!(retry(&app, &answer).await, 200);
    let reply = crate::debriefs::message_to(&app, "DU0BOB", seen).await;
    assert!(reply.contains("Question 2 of 4"), "{reply}");
    let step: i64 = db::query_scalar("SELECT step FROM conversations WHERE person = ?")
        .bind(BOB)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(step, 1);
    app.stop().await;
}

/// Adds a trigger that plays a failure or a race, in the statements of the database's
/// own dialect (PostgreSQL's trigger runs a function, created first).
async fn add_trigger<const S: usize, const P: usize>(
    db: &db::Pool,
    sqlite: [&str; S],
    postgres: [&str; P],
) {
    let statements: &[&str] = match db.backend() {
        learnloop::store::Backend::Sqlite => &sqlite,
        learnloop::store::Backend::Postgres => &postgres,
    };
    for statement in statements {
        db::query(*statement).execute(db).await.unwrap();
    }
}
