//! Anonymity that holds: an anonymous summary whose order tells nothing about who
//! submitted what or when, and no stored row (reflections, lessons, the outbox) that
//! keeps an answer next to the person who gave it.

use learnloop::store::db;
use serde_json::Value;

use crate::debriefs::{
    ALICE, BOB, Input, click_in, close_as_is, database, say, submission, wait_for_outbox, workspace,
};
use crate::support::{TEAM, TestApp, reply_text, spawn_app};

const CAROL: &str = "U0CAROL";

/// Starts an anonymous retro in `channel`; its id.
async fn anonymous_retro(app: &TestApp, channel: &str) -> i64 {
    let reply = app
        .command_reply_in(
            TEAM,
            channel,
            ALICE,
            "/debrief",
            "--anonymous --template retro Incident 12",
        )
        .await;
    assert!(reply_text(&reply).contains("anonymously"), "{reply}");
    let db = database(app).await;
    db::query_scalar("SELECT MAX(id) FROM debriefs")
        .fetch_one(&db)
        .await
        .unwrap()
}

/// What `user` answers: two lessons and an action, all with their own prefix.
fn answers_of(user: &str) -> (String, String) {
    // Different lines, so none are merged as near-identical.
    if user == BOB {
        (
            "zz1 the pager woke the right person\nzz2 the rollback script worked".to_owned(),
            "zz write the failover runbook".to_owned(),
        )
    } else {
        (
            "aa1 dashboards showed the spike early\naa2 customers heard from support first"
                .to_owned(),
            "aa rehearse the database restore".to_owned(),
        )
    }
}

async fn reflect(app: &TestApp, user: &str, id: i64) {
    let (went_well, try_next) = answers_of(user);
    let form = submission(
        user,
        id,
        &[
            ("went_well", Input::Text(&went_well)),
            ("try_next", Input::Text(&try_next)),
            ("mood", Input::Option(if user == BOB { "2" } else { "5" })),
        ],
    );
    assert_eq!(app.interaction(&form).await.status(), 200);
}

/// Closes the debrief; the summary messages in its thread, as sent, without the fields
/// that only say where (channel, thread).
async fn close_and_read_summary(app: &TestApp, channel: &str, id: i64) -> Vec<Value> {
    close_as_is(app, channel, ALICE, id).await;
    wait_for_outbox(app, workspace(app).await).await;
    app.slack_calls("chat.postMessage")
        .await
        .into_iter()
        .filter(|c| c["channel"] == channel && c.get("thread_ts").is_some())
        .map(|mut c| {
            let body = c.as_object_mut().unwrap();
            body.remove("channel");
            body.remove("thread_ts");
            c
        })
        .collect()
}

#[tokio::test]
async fn two_submission_orders_give_byte_identical_anonymous_summaries() {
    let app = spawn_app().await;
    let first = anonymous_retro(&app, "C0ONE").await;
    reflect(&app, BOB, first).await;
    reflect(&app, CAROL, first).await;
    let one = close_and_read_summary(&app, "C0ONE", first).await;

    let second = anonymous_retro(&app, "C0TWO").await;
    reflect(&app, CAROL, second).await;
    reflect(&app, BOB, second).await;
    let two = close_and_read_summary(&app, "C0TWO", second).await;

    assert!(!one.is_empty());
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap(),
        "the order people submitted in does not show"
    );
    let text: String = one.iter().map(reply_text).collect();
    // Lessons are not grouped by person: Bob's two lines do not sit together.
    let positions: Vec<usize> = ["aa1", "aa2", "zz1", "zz2"]
        .iter()
        .map(|w| text.rfind(w).unwrap_or_else(|| panic!("{w} in {text}")))
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{text}");
    for user in [BOB, CAROL] {
        assert!(!text.contains(user), "{user} named in:\n{text}");
    }

    // The lesson rows of both debriefs were made in the same order.
    let db = database(&app).await;
    let rows = |id| {
        let db = db.clone();
        async move {
            db::query_scalar::<String>("SELECT text FROM lessons WHERE debrief_id = ? ORDER BY id")
                .bind(id)
                .fetch_all(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(rows(first).await, rows(second).await);
    app.stop().await;
}

/// Every body and text the database holds about `person`'s DM, with the answers given.
async fn dm_bodies(db: &db::Pool, person: &str) -> Vec<String> {
    db::query_scalar("SELECT body FROM outbox WHERE channel IN (?, ?)")
        .bind(person)
        .bind(format!("D{person}"))
        .fetch_all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn anonymous_answers_do_not_outlive_the_debrief_next_to_a_user_id() {
    let app = spawn_app().await;
    let id = anonymous_retro(&app, "C0CHAN").await;
    let db = database(&app).await;

    // Bob reflects in a DM, goes back once (the bot echoes his answer so far) and
    // finishes; Carol uses the form.
    app.interaction(&click_in("C0CHAN", BOB, "debrief.reflect_dm", id))
        .await;
    wait_for_outbox(&app, workspace(&app).await).await;
    let secret = "zz the pager woke the wrong person at night";
    say(&app, "Ev1", BOB, secret).await;
    let echoed = say(&app, "Ev2", BOB, "back").await;
    assert!(echoed.contains(secret), "the echo: {echoed}");
    for (event, answer) in [
        ("Ev3", secret),
        ("Ev4", "skip"),
        ("Ev5", "skip"),
        ("Ev6", "3"),
    ] {
        say(&app, event, BOB, answer).await;
    }
    reflect(&app, CAROL, id).await;
    wait_for_outbox(&app, workspace(&app).await).await;

    // Delivered DMs of an anonymous debrief keep nothing of what they said.
    let bodies = dm_bodies(&db, BOB).await;
    assert!(bodies.len() >= 6, "{bodies:?}");
    assert!(
        bodies.iter().all(|b| !b.contains("zz the pager")),
        "an answer next to Bob's id: {bodies:?}"
    );

    close_and_read_summary(&app, "C0CHAN", id).await;
    // After the close: reflections keep only that someone reflected, and no DM about
    // the debrief keeps a body at all.
    let reflections: Vec<(Option<String>, String, i64, i64)> = db::query_as(
        "SELECT author, answers, created_at, updated_at FROM reflections WHERE debrief_id = ?",
    )
    .bind(id)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(reflections.len(), 2);
    let closed_at: i64 = db::query_scalar("SELECT closed_at FROM debriefs WHERE id = ?")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    for (author, answers, created, updated) in &reflections {
        assert_eq!(author, &None);
        assert_eq!(answers, "{}");
        assert_eq!(
            (*created, *updated),
            (closed_at, closed_at),
            "no submission times"
        );
    }
    let tagged: Vec<String> =
        db::query_scalar("SELECT body FROM outbox WHERE anonymous_debrief_id = ?")
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap();
    assert!(!tagged.is_empty());
    assert!(tagged.iter().all(|b| b == "{}"), "{tagged:?}");
    let anywhere: i64 = db::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE body LIKE '%zz the pager%' AND channel != 'C0CHAN'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        anywhere, 0,
        "only the channel's own summary holds the answer"
    );
    app.stop().await;
}
