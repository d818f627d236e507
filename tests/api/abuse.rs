//! Abuse and fairness, as a new user tried it: answers that name a channel, a bot or a
//! broadcast as an action's owner, special mentions in the notification text, and a
//! pasted log that would become hundreds of follow-ups.

use learnloop::store::db;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::debriefs::{BOB, Input, database, run_debrief, wait_for_outbox, workspace};
use crate::support::{TestApp, monday, reply_text, spawn_app_at};

const DAY: i64 = 86_400;

/// A retro in `channel` where Bob answers `went_well` and `try_next`; the summary.
async fn retro(app: &TestApp, channel: &str, went_well: &str, try_next: &str) -> String {
    let answers = [
        ("went_well", Input::Text(went_well)),
        ("try_next", Input::Text(try_next)),
    ];
    run_debrief(app, channel, "--template retro Launch week", &answers)
        .await
        .1
}

#[tokio::test]
async fn only_people_own_action_items_and_nothing_is_sent_to_a_channel_named_as_owner() {
    let (app, clock) = spawn_app_at(monday()).await;
    Mock::given(method("POST"))
        .and(path("/api/users.info"))
        .and(body_string_contains("U0GONE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "user": {"id": "U0GONE", "deleted": true, "is_bot": false}}),
        ))
        .mount(&app.slack)
        .await;
    let summary = retro(
        &app,
        "C0CHAN",
        "Shipping on Friday worked",
        "<@C0GENERAL> post the news\n\
         <!channel> everyone must test\n\
         <@U0BOT> files the tickets\n\
         <@U0GONE> writes the postmortem\n\
         <!subteam^S0ADMINS|@admins> approve the budget\n\
         <@U0CAROL> updates the runbook",
    )
    .await;
    assert!(
        summary.contains("3 named owners are not a person"),
        "{summary}"
    );
    let db = database(&app).await;
    let owners: Vec<(String, Option<String>)> =
        db::query_as("SELECT text, owner FROM lessons WHERE kind = 'action' ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    for (text, owner) in &owners {
        let expected = if text.contains("U0CAROL") {
            "U0CAROL"
        } else {
            BOB
        };
        assert_eq!(owner.as_deref(), Some(expected), "{text}");
    }

    // Two weeks later every follow-up goes to a person's DM, never into a channel.
    clock.set(monday() + 14 * DAY + 60);
    // Seven items (six actions and one lesson) for two owners: one message each a day,
    // at most five items in it, the rest the next working day.
    // Counted from the rows: the app's own scheduler may ask before an explicit pass.
    let asked = app.questions_asked(1).await;
    clock.set(monday() + 15 * DAY + 60);
    assert_eq!(
        app.questions_asked(7).await,
        7,
        "six actions and one lesson"
    );
    assert!(asked <= 2 * 5, "{asked}");
    wait_for_outbox(&app, workspace(&app).await).await;
    let sent = app.slack_calls("chat.postMessage").await;
    assert!(
        sent.iter().all(|c| c["channel"] != "C0GENERAL"),
        "nothing is posted into a channel named as an owner"
    );
    let follow_ups: Vec<&Value> = sent
        .iter()
        .filter(|c| {
            let text = reply_text(c);
            text.contains("Follow-up on") || text.contains("Your follow-ups for today")
        })
        .collect();
    let per_person = |who: &str| follow_ups.iter().filter(|c| c["channel"] == who).count();
    assert!(
        per_person(BOB) <= 2 && per_person("U0CAROL") <= 2,
        "at most one message a day each: {follow_ups:?}"
    );
    for call in &follow_ups {
        let channel = call["channel"].as_str().unwrap();
        assert!(channel == BOB || channel == "U0CAROL", "{channel}");
        // The notification text escapes what people typed exactly as the blocks do.
        let text = call["text"].as_str().unwrap();
        for raw in ["<!channel>", "<!subteam", "<@C0GENERAL>", "<@U0BOT>"] {
            assert!(
                !text.contains(raw),
                "raw `{raw}` in the notification: {text}"
            );
        }
    }
    let broadcast = follow_ups
        .iter()
        .find(|c| reply_text(c).contains("everyone must test"))
        .expect("the broadcast line's follow-up");
    // (A day's message of several says only how many in its notification text.)
    assert!(
        reply_text(broadcast).contains("&lt;!channel&gt; everyone must test"),
        "{broadcast}"
    );
    app.stop().await;
}

#[tokio::test]
async fn in_a_private_channel_only_its_members_own_items() {
    let (app, _clock) = spawn_app_at(monday()).await;
    // The fake's private channels hold Alice, Bob, Carol, Dave and Zed, not Olga.
    retro(
        &app,
        "G0SECRET",
        "We kept the merger quiet",
        "<@U0OLGA> tells the board\n<@U0CAROL> tells legal",
    )
    .await;
    let db = database(&app).await;
    let owners: Vec<(String, Option<String>)> =
        db::query_as("SELECT text, owner FROM lessons WHERE kind = 'action' ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        owners,
        vec![
            ("<@U0OLGA> tells the board".to_owned(), Some(BOB.to_owned())),
            (
                "<@U0CAROL> tells legal".to_owned(),
                Some("U0CAROL".to_owned())
            ),
        ],
        "someone outside the private channel is never sent its items"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_pasted_log_makes_at_most_twenty_items_per_answer() {
    let (app, _clock) = spawn_app_at(monday()).await;
    // 35 different lines (near-identical ones would be merged into one).
    let log: Vec<String> = (0..35)
        .map(|i| {
            let word = ["ka", "lo", "mi", "ne", "po", "ru", "si"][i % 7].to_owned()
                + ["bar", "dex", "fin", "gol", "hup"][i / 7];
            format!("{word} broke")
        })
        .collect();
    let summary = retro(&app, "C0CHAN", &log.join("\n"), "Fix the build").await;
    assert!(
        summary.contains("15 more lines were not made into lessons or action items"),
        "{summary}"
    );
    let db = database(&app).await;
    let count: i64 = db::query_scalar("SELECT COUNT(*) FROM lessons")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 21, "twenty lessons and the one action");
    app.stop().await;
}
