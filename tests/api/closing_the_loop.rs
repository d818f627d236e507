//! Closing the loop end to end, on a moved clock: follow-ups after a debrief (not yet,
//! asked again, applied, a note), the digest that celebrates it, a check-in over two
//! goals, lesson search with tricky input, and two workspaces that never see each
//! other's lessons.

use learnloop::store::db;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use learnloop::clock::Clock;
use learnloop::store::{LessonKind, NewDebrief, NewLesson, Platform};
use serde_json::{Value, json};

use crate::debriefs::{
    ALICE, BOB, CHANNEL, Input, close_as_is, database, ephemeral_to, message_to, messages_to, say,
    start, submission, wait_for_outbox, workspace,
};
use crate::support::{TEAM, TestApp, monday, reply_text, spawn_app_at};
use learnloop::domain::Timestamp;

const DAY: i64 = 86_400;

/// `day` `month` 2026 at `hour`:00 UTC.
fn in_2026(month: u32, day: u32, hour: u32) -> i64 {
    Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .unwrap()
        .timestamp()
}

/// A debrief in CHANNEL where Bob reflects `went_well` (a lesson) and Alice closes it.
async fn debrief_with_lesson(app: &TestApp, title: &str, lesson: &str) -> i64 {
    let (id, _) = start(app, &format!("--template retro {title}")).await;
    let form = submission(BOB, id, &[("went_well", Input::Text(lesson))]);
    assert_eq!(app.interaction(&form).await.status(), 200);
    close_as_is(app, CHANNEL, ALICE, id).await;
    wait_for_outbox(app, workspace(app).await).await;
    id
}

/// A click on a button of a DM message from the bot, as Slack sends it.
fn dm_click(user: &str, action: &str, value: &str) -> String {
    dm_click_on(user, "1700000099.000001", action, value)
}

/// A click on a button of the DM message `ts`.
fn dm_click_on(user: &str, ts: &str, action: &str, value: &str) -> String {
    json!({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
        "trigger_id": format!("trigger-{user}"),
        "container": {"type": "message", "message_ts": ts,
                      "channel_id": format!("D{user}"), "is_ephemeral": false},
        "channel": {"id": format!("D{user}")},
        "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": value}],
    })
    .to_string()
}

/// The value of the button `action` in a message body.
fn button_value(message: &Value, action: &str) -> String {
    message["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["elements"].as_array())
        .flatten()
        .find(|e| e["action_id"] == action)
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("no `{action}` button in {message}"))
        .to_owned()
}

/// The newest `chat.postMessage` to `channel`.
async fn last_message_to(app: &TestApp, channel: &str) -> Value {
    app.slack_calls("chat.postMessage")
        .await
        .into_iter()
        .rfind(|c| c["channel"] == channel)
        .unwrap_or_else(|| panic!("nothing was posted to {channel}"))
}

/// Waits for the `n`th `chat.update` and returns it.
async fn nth_update(app: &TestApp, n: usize) -> Value {
    app.wait_for_slack_calls("chat.update", n).await[n - 1].clone()
}

#[tokio::test]
async fn a_lesson_is_followed_up_asked_again_applied_and_celebrated_in_the_digest() {
    let (app, clock) = spawn_app_at(monday()).await;
    debrief_with_lesson(
        &app,
        "Release 2.3 rollout",
        "Feature flags let us roll back fast #deploy",
    )
    .await;
    let ws = workspace(&app).await;
    let db = database(&app).await;
    let digest = app
        .command_reply_as(ALICE, "/learn", "digest mondays 09:00")
        .await;
    assert!(
        reply_text(&digest).contains("Digest set for this channel"),
        "{digest}"
    );

    // Before its date nothing is asked; Bob sees it waiting in his list.
    clock.advance(13 * DAY);
    let report = app.scheduler.fire_due().await.unwrap();
    assert_eq!(report.follow_ups_asked, 0);
    let list = app.command_reply_as(BOB, "/learn", "followups").await;
    let listed = reply_text(&list);
    assert!(
        listed.contains("Feature flags let us roll back fast"),
        "{listed}"
    );
    assert!(listed.contains("I'll ask on Mon 16 Nov"), "{listed}");

    // Day 14: Bob gets the question in a DM with the three buttons.
    clock.advance(DAY);
    assert_eq!(app.questions_asked(1).await, 1);
    let shown = message_to(&app, BOB, 0).await;
    assert!(shown.contains("Follow-up on a lesson"), "{shown}");
    assert!(
        shown.contains("*Release 2.3 rollout* in <#C0CHAN>"),
        "{shown}"
    );
    let asked = last_message_to(&app, BOB).await;
    let first = button_value(&asked, "followup.not_yet");
    for action in ["followup.applied", "followup.not_relevant"] {
        assert_eq!(
            button_value(&asked, action),
            first,
            "one question, three answers"
        );
    }
    assert_eq!(app.questions_asked(1).await, 1, "asked once");

    // Not yet: the question is replaced by when it comes back; a second click on the
    // same question changes nothing.
    let card_updates = app.slack_calls("chat.update").await.len();
    assert_eq!(
        app.interaction(&dm_click(BOB, "followup.not_yet", &first))
            .await
            .status(),
        200
    );
    let update = nth_update(&app, card_updates + 1).await;
    assert_eq!(update["ts"], "1700000099.000001");
    assert_eq!(update["channel"], "DU0BOB");
    assert!(
        reply_text(&update).contains("I'll ask again on Mon 23 Nov"),
        "{update}"
    );
    app.interaction(&dm_click(BOB, "followup.applied", &first))
        .await;
    ephemeral_to(&app, BOB, "already answered").await;
    // Alice cannot answer Bob's follow-up.
    app.interaction(&dm_click(ALICE, "followup.applied", &first))
        .await;
    ephemeral_to(&app, ALICE, "Only <@U0BOB> can answer").await;

    // Six days later: not yet due. Seven: asked again.
    clock.advance(6 * DAY);
    assert_eq!(app.questions_asked(1).await, 1);
    clock.advance(DAY);
    assert_eq!(app.questions_asked(2).await, 2);
    let again = message_to(&app, BOB, 1).await;
    assert!(again.contains("you said not yet once"), "{again}");
    let second = button_value(&last_message_to(&app, BOB).await, "followup.applied");
    assert_ne!(first, second, "the new question carries its own version");

    // Applied, with a note from the modal.
    app.interaction(&dm_click(BOB, "followup.applied", &second))
        .await;
    let applied = nth_update(&app, card_updates + 2).await;
    assert!(reply_text(&applied).contains("*Applied.*"), "{applied}");
    let note_id = button_value(&applied, "followup.note");
    app.interaction(&dm_click(BOB, "followup.note", &note_id))
        .await;
    // The first form opened was the review at close.
    let opened = app.wait_for_slack_calls("views.open", 2).await;
    let opened = opened.last().unwrap();
    assert_eq!(opened["view"]["callback_id"], "followup.note");
    let note = json!({
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": BOB},
        "view": {"id": "V9", "callback_id": "followup.note",
                 "private_metadata": opened["view"]["private_metadata"],
                 "state": {"values": {"q_note": {"answer": {"type": "plain_text_input",
                     "value": "Used a flag for the billing change; rolled back in a minute"}}}}},
    })
    .to_string();
    let saved = app.interaction(&note).await;
    assert_eq!(saved.status(), 200);
    assert_eq!(saved.text().await.unwrap(), "", "the modal closes");

    // Where the lesson was made, its debrief's summary thread hears it was applied
    // (once), and how, once the note is given.
    wait_for_outbox(&app, ws).await;
    let applied_replies: Vec<String> = app
        .slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == CHANNEL && c.get("thread_ts").is_some())
        .map(reply_text)
        .filter(|t| t.contains("*Applied*"))
        .collect();
    assert_eq!(applied_replies.len(), 1, "{applied_replies:?}");
    assert!(
        applied_replies[0].contains("*Applied* by <@U0BOB>:"),
        "{}",
        applied_replies[0]
    );
    let with_note = app
        .slack_calls("chat.update")
        .await
        .iter()
        .filter(|c| c["channel"] == CHANNEL)
        .map(reply_text)
        .find(|t| t.contains("*Applied*"))
        .expect("the reply updated with the note");
    assert!(
        with_note.contains("How:") && with_note.contains("Used a flag for the billing change"),
        "{with_note}"
    );

    let rows: Vec<(String, Option<String>, i64)> =
        db::query_as("SELECT answer, note, answered_at - asked_at FROM follow_ups ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "not_yet");
    assert_eq!(rows[1].0, "applied");
    assert!(rows[1].1.as_deref().unwrap().contains("billing change"));
    let (status, next): (String, Option<i64>) =
        db::query_as("SELECT status, follow_up_at FROM lessons WHERE workspace_id = ?")
            .bind(ws.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), next), ("applied", None));
    let none_open = app.command_reply_as(BOB, "/learn", "followups").await;
    assert!(reply_text(&none_open).contains("no open follow-ups"));

    // The next Monday's digest in the channel celebrates it, with its rates.
    let posted_before = messages_to(&app, CHANNEL).await;
    clock.set(in_2026(11, 30, 9));
    let fired = app.scheduler.fire_due().await.unwrap();
    assert_eq!(fired.sent, 1, "{fired:?}");
    let digest = message_to(&app, CHANNEL, posted_before).await;
    assert!(digest.contains("Applied"), "{digest}");
    assert!(
        digest.contains("<@U0BOB> applied \"Feature flags let us roll back fast #deploy\""),
        "{digest}"
    );
    assert!(
        digest.contains("How:") && digest.contains("Used a flag for the billing change"),
        "the note shows in the digest: {digest}"
    );
    // The trend: eight weeks; the week before, "not yet" (0 of 1); this one, applied.
    assert!(
        digest.contains("Applied, week by week (8 weeks, answered follow-ups): `······▁█`"),
        "{digest}"
    );
    assert!(digest.contains("· 0/1 · 1/1"), "{digest}");
    assert!(
        digest.contains("1 of 1 answered follow-ups applied (100%) · by tag: #deploy 1/1"),
        "{digest}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_late_follow_up_is_still_asked_and_an_undeliverable_one_is_reported_not_retried() {
    let (app, clock) = spawn_app_at(monday()).await;
    wiremock::Mock::given(wiremock::matchers::body_partial_json(
        json!({"channel": BOB}),
    ))
    .respond_with(
        wiremock::ResponseTemplate::new(200)
            .set_body_json(json!({"ok": false, "error": "user_not_found"})),
    )
    .mount(&app.slack)
    .await;
    debrief_with_lesson(&app, "Incident 12", "Page the on-call before digging").await;
    // A week past its date (the service was down): one-off, so asked anyway, on the
    // next working day.
    clock.advance(21 * DAY);
    assert_eq!(app.questions_asked(1).await, 1);
    let ws = workspace(&app).await;
    wait_for_outbox(&app, ws).await;
    let report = app.scheduler.fire_due().await.unwrap();
    assert_eq!(report.unreachable, 1, "{report:?}");
    assert_eq!(report.follow_ups_asked, 0, "never asked again");
    let preview = app.command_reply_as(ALICE, "/learn", "digest now").await;
    let shown = reply_text(&preview);
    assert!(
        shown.contains("\"Page the on-call before digging\": its owner could not be reached"),
        "{shown}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_digest_finds_a_lesson_that_recurs_and_a_quiet_week_is_short() {
    let (app, clock) = spawn_app_at(monday()).await;
    let quiet = app.command_reply_as(ALICE, "/learn", "digest now").await;
    assert!(reply_text(&quiet).contains("A quiet week"), "{quiet}");

    debrief_with_lesson(
        &app,
        "Release 2.2",
        "Announce deploys in the channel before starting",
    )
    .await;
    clock.advance(14 * DAY);
    debrief_with_lesson(
        &app,
        "Release 2.4",
        "announce the deploy in channel before you start",
    )
    .await;
    debrief_with_lesson(&app, "Offsite", "Book the rooms a month ahead").await;
    let preview = app.command_reply_as(ALICE, "/learn", "digest now").await;
    let shown = reply_text(&preview);
    assert!(shown.contains("New lessons (2 from 2 debriefs)"), "{shown}");
    assert!(shown.contains("*Release 2.4* in <#C0CHAN>"), "{shown}");
    assert!(
        !shown.contains("Release 2.2*"),
        "older than the week: {shown}"
    );
    assert!(shown.contains("Lessons that keep coming back"), "{shown}");
    assert!(
        shown.contains("\"announce the deploy in channel before you start\": in 2 debriefs"),
        "{shown}"
    );
    assert!(
        !shown.contains("\"Book the rooms a month ahead\": in"),
        "{shown}"
    );
    assert!(
        shown.contains("2 debriefs held · 1 person reflected"),
        "{shown}"
    );
    assert!(shown.contains("Preview: only you see this"), "{shown}");
    assert!(
        app.slack_calls("chat.postMessage")
            .await
            .iter()
            .all(|c| !reply_text(c).contains("What we learned")),
        "a preview is never posted to the channel"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_check_in_asks_about_each_open_goal_and_an_unanswered_one_is_missed() {
    let (app, clock) = spawn_app_at(monday()).await;
    for text in [
        "goal add learn Rust",
        "goal add write three runbooks by 2026-12-31",
    ] {
        app.command_reply_as(BOB, "/learn", text).await;
    }
    let set = app
        .command_reply_as(BOB, "/learn", "checkin fridays 16:00")
        .await;
    let confirmed = reply_text(&set);
    assert!(confirmed.contains("Your check-in is set"), "{confirmed}");
    assert!(confirmed.contains("your 2 open goals"), "{confirmed}");
    assert!(confirmed.contains("Fri 6 Nov 16:00"), "{confirmed}");

    clock.set(in_2026(11, 6, 16));
    assert_eq!(app.fire_due_and_count_sent_runs().await, 1);
    let opening = message_to(&app, BOB, 0).await;
    assert!(
        opening.contains("Time for your check-in: 7 short questions"),
        "{opening}"
    );
    assert!(
        opening.contains("What did you learn this week?"),
        "{opening}"
    );

    let steps = [
        (
            "c1",
            "How to read a flame graph properly",
            "How was your week?",
        ),
        ("c2", "4", "What will you try or practise next week?"),
        ("c3", "skip", "How is your goal #1 going: \"learn Rust\"?"),
        ("c4", "3", "A note on goal #1"),
        (
            "c5",
            "The borrow checker makes sense now",
            "goal #2 going: \"write three runbooks\"",
        ),
        ("c6", "5", "A note on goal #2"),
        (
            "c7",
            "skip",
            "Thanks, your check-in is saved. Progress noted: goal #1: 3/5, goal #2: 5/5",
        ),
    ];
    for (event, typed, expected) in steps {
        let reply = say(&app, event, BOB, typed).await;
        assert!(reply.contains(expected), "after `{typed}`: {reply}");
    }
    let db = database(&app).await;
    let (status, answers): (String, String) = db::query_as("SELECT status, answers FROM checkins")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(status, "done");
    let answers: Value = serde_json::from_str(&answers).unwrap();
    assert_eq!(answers["goal.1.progress"], "3");
    assert_eq!(answers["goal.2.progress"], "5");
    assert_eq!(answers["energy"], "4");
    // Done: a DM is a command again.
    let help = say(&app, "c8", BOB, "goal list").await;
    assert!(help.contains("Your learning goals"), "{help}");

    // The next one gets no answer: closed as missed a day later, never nagged.
    clock.set(in_2026(11, 13, 16));
    assert_eq!(app.fire_due_and_count_sent_runs().await, 2);
    clock.advance(DAY - 60);
    assert_eq!(app.scheduler.fire_due().await.unwrap().checkins_missed, 0);
    clock.advance(120);
    assert_eq!(app.scheduler.fire_due().await.unwrap().checkins_missed, 1);
    wait_for_outbox(&app, workspace(&app).await).await;
    let to_bob = messages_to(&app, BOB).await;
    assert_eq!(to_bob, 2, "two openings, no reminder");
    let off = app.command_reply_as(BOB, "/learn", "checkin off").await;
    assert!(reply_text(&off).contains("Your check-in is off"));
    app.stop().await;
}

#[tokio::test]
async fn a_check_in_asks_how_last_week_s_plan_went_and_each_month_opens_with_a_trend() {
    let (app, clock) = spawn_app_at(monday()).await;
    app.command_reply_as(BOB, "/learn", "goal add learn Rust")
        .await;
    app.command_reply_as(BOB, "/learn", "checkin fridays 16:00")
        .await;
    let answer_all = |answers: &'static [(&'static str, &'static str)]| {
        let app = &app;
        async move {
            let mut last = String::new();
            for (event, typed) in answers {
                last = say(app, event, BOB, typed).await;
            }
            last
        }
    };

    clock.set(in_2026(11, 6, 16));
    assert_eq!(app.fire_due_and_count_sent_runs().await, 1);
    let first = message_to(&app, BOB, 0).await;
    assert!(first.contains("5 short questions"), "{first}");
    assert!(
        !first.contains("planned to"),
        "nothing planned yet: {first}"
    );
    assert!(!first.contains("Your month"), "no history yet: {first}");
    let saved = answer_all(&[
        ("i1", "Flame graphs show where time goes"),
        ("i2", "2"),
        ("i3", "pair on code reviews twice"),
        ("i4", "3"),
        ("i5", "skip"),
    ])
    .await;
    assert!(saved.contains("your check-in is saved"), "{saved}");

    // A week later the plan comes back first, in Bob's own words.
    clock.set(in_2026(11, 13, 16));
    assert_eq!(app.fire_due_and_count_sent_runs().await, 2);
    let second = message_to(&app, BOB, 1).await;
    assert!(second.contains("6 short questions"), "{second}");
    assert!(
        second.contains(
            "Question 1 of 6*\nLast week you planned to: \"pair on code reviews twice\" — how did it go?"
        ),
        "{second}"
    );
    assert!(
        !second.contains("Your month"),
        "not the month's first: {second}"
    );
    answer_all(&[
        ("j1", "Did it once, it caught a race"),
        ("j2", "skip"),
        ("j3", "4"),
        ("j4", "write the deploy runbook"),
        ("j5", "4"),
        ("j6", "skip"),
    ])
    .await;
    let db = database(&app).await;
    let answers: String =
        db::query_scalar("SELECT answers FROM checkins WHERE status = 'done' ORDER BY id DESC")
            .fetch_one(&db)
            .await
            .unwrap();
    let answers: Value = serde_json::from_str(&answers).unwrap();
    assert_eq!(answers["intention.last"], "Did it once, it caught a race");

    // Two check-ins nobody answers, then December's first opens with the month's trend
    // and the last plan Bob made.
    for (day, sent_so_far) in [(20, 3), (27, 4)] {
        clock.set(in_2026(11, day, 16));
        assert_eq!(app.fire_due_and_count_sent_runs().await, sent_so_far);
    }
    clock.set(in_2026(12, 4, 16));
    assert_eq!(app.fire_due_and_count_sent_runs().await, 5);
    let december = message_to(&app, BOB, 4).await;
    assert!(december.contains("Your month"), "{december}");
    assert!(
        december.contains("How was your week?: `▃▆` 2 → 4"),
        "{december}"
    );
    assert!(
        december.contains("Goal #1 \"learn Rust\": `▅▆` 3 → 4"),
        "{december}"
    );
    assert!(
        december.contains("Goals: 0 reached in the last month, 1 open."),
        "{december}"
    );
    assert!(
        december.contains("Last time you planned to: \"write the deploy runbook\""),
        "{december}"
    );
    assert!(
        app.slack_calls("chat.postMessage")
            .await
            .iter()
            .filter(|c| reply_text(c).contains("Your month"))
            .all(|c| c["channel"] == BOB),
        "the trend goes to Bob alone"
    );
    app.stop().await;
}

/// `/learn TEXT` typed by Alice; the reply's text.
async fn search(app: &TestApp, text: &str) -> String {
    reply_text(&app.command_reply_as(ALICE, "/learn", text).await)
}

/// A slash command from another workspace (the single-install token serves any team).
async fn command_in(app: &TestApp, team: &str, user: &str, text: &str) -> String {
    reply_text(
        &app.command_reply_in(team, "C0THEIRS", user, "/learn", text)
            .await,
    )
}

#[tokio::test]
async fn search_takes_any_input_and_workspaces_never_see_each_other() {
    let (app, clock) = spawn_app_at(monday()).await;
    debrief_with_lesson(
        &app,
        "Release 2.3 rollout",
        "Feature flags let us roll back fast #deploy",
    )
    .await;
    debrief_with_lesson(
        &app,
        "Café retro",
        "L'équipe teste les migrations avant la mise en production",
    )
    .await;
    debrief_with_lesson(&app, "Database day", "Pair on database migrations 🚀").await;

    // Another workspace with a lesson of its own, due for follow-up now.
    assert!(
        command_in(&app, "T0OTHER", "U0ZED", "goal list")
            .await
            .contains("no learning goals")
    );
    let store = app.store().await;
    let theirs = store
        .find_workspace(Platform::Slack, "T0OTHER")
        .await
        .unwrap()
        .id;
    let mut tx = store.begin().await.unwrap();
    let debrief = tx
        .create_debrief(
            NewDebrief {
                workspace: theirs,
                channel: "C0THEIRS",
                title: "Their secret launch",
                template: "retro",
                questions: "[]",
                facilitator: "U0ZED",
                anonymous: false,
                author_salt: "salt",
                closes_at: None,
            },
            clock.now(),
        )
        .await
        .unwrap();
    tx.insert_lesson(
        NewLesson {
            workspace: theirs,
            debrief,
            debrief_title: "Their secret launch",
            kind: LessonKind::Lesson,
            text: "Feature freeze secrets of the other team",
            author: Some("U0ZED"),
            owner: Some("U0BOB"),
            tags: "deploy",
            shared: true,
            follow_up_at: Some(clock.now()),
        },
        clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let phrase = search(&app, "lessons \"feature flags\"").await;
    assert!(
        phrase.contains("Feature flags let us roll back fast"),
        "{phrase}"
    );
    assert!(
        phrase.contains("from *Release 2.3 rollout* in <#C0CHAN>"),
        "{phrase}"
    );
    assert!(phrase.contains("· open"), "the status is shown: {phrase}");
    let prefix = search(&app, "lessons migra*").await;
    assert!(prefix.contains("Pair on database migrations"), "{prefix}");
    assert!(prefix.contains("L'équipe teste"), "{prefix}");
    let unaccented = search(&app, "lessons equipe").await;
    assert!(unaccented.contains("L'équipe teste"), "{unaccented}");
    let accented = search(&app, "lessons café").await;
    assert!(accented.contains("from *Café retro*"), "{accented}");
    let tag = search(&app, "lessons deploy").await;
    assert!(tag.contains("Feature flags"), "tags are searched: {tag}");
    for tricky in [
        "lessons NEAR",
        "lessons \"",
        "lessons flags\"",
        "lessons a:b OR -c",
        "lessons ^migrations*",
        "lessons (NOT) AND",
    ] {
        // A 200 with an answer, never an error.
        let shown = search(&app, tricky).await;
        assert!(!shown.is_empty(), "`{tricky}`");
    }
    let near = search(&app, "lessons NEAR").await;
    assert!(
        near.contains("No lessons I may show here match `NEAR`"),
        "{near}"
    );
    let emoji = search(&app, "lessons 🚀🔥").await;
    assert!(emoji.contains("nothing to search for"), "{emoji}");
    let closest = search(&app, "lessons flags migrations").await;
    assert!(closest.contains("the closest"), "{closest}");
    let latest = search(&app, "lessons").await;
    assert!(latest.contains("The latest lessons"), "{latest}");
    assert!(latest.contains("Pair on database migrations"), "{latest}");

    // Nothing of one workspace shows in the other, either way.
    for text in ["lessons feature", "lessons", "digest now"] {
        let ours = search(&app, text).await;
        assert!(!ours.contains("other team"), "`{text}` here: {ours}");
        assert!(
            !ours.contains("Their secret launch"),
            "`{text}` here: {ours}"
        );
        let theirs_shown = command_in(&app, "T0OTHER", "U0ZED", text).await;
        assert!(
            !theirs_shown.contains("Feature flags let us"),
            "`{text}` there: {theirs_shown}"
        );
        assert!(
            !theirs_shown.contains("Release 2.3"),
            "`{text}` there: {theirs_shown}"
        );
    }
    let their_search = command_in(&app, "T0OTHER", "U0ZED", "lessons feature").await;
    assert!(
        their_search.contains("Feature freeze secrets"),
        "{their_search}"
    );

    // Bob owns a lesson in each: each workspace's list and question show only its own.
    let ours = app.command_reply_as(BOB, "/learn", "followups").await;
    assert!(!reply_text(&ours).contains("other team"), "{ours}");
    let in_theirs = command_in(&app, "T0OTHER", "U0BOB", "followups").await;
    assert!(in_theirs.contains("Feature freeze secrets"), "{in_theirs}");
    assert!(!in_theirs.contains("Feature flags let us"), "{in_theirs}");
    assert_eq!(app.questions_asked(1).await, 1);
    let db = database(&app).await;
    let (asked_in, asked_about): (i64, String) = db::query_as(
        "SELECT o.workspace_id, l.text FROM follow_ups f \
         JOIN outbox o ON o.id = f.outbox_id JOIN lessons l ON l.id = f.lesson_id",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        asked_in, theirs.0,
        "their question goes out with their workspace's token"
    );
    assert!(asked_about.contains("other team"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .slack_calls("chat.postMessage")
        .await
        .iter()
        .all(|c| c["channel"] != BOB)
    {
        assert!(Instant::now() < deadline, "the question is delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_paused_owner_is_asked_when_the_pause_ends_not_during_it() {
    let (app, clock) = spawn_app_at(monday()).await;
    debrief_with_lesson(&app, "Release 2.4", "Canary first, then everyone").await;
    // Bob goes on a six-week holiday the next day.
    clock.advance(DAY);
    let paused = app.command_reply_as(BOB, "/learn", "pause 6w").await;
    assert!(reply_text(&paused).contains("paused"), "{paused}");
    clock.advance(14 * DAY);
    let report = app.scheduler.fire_due().await.unwrap();
    assert_eq!(report.follow_ups_asked, 0, "nothing while paused");
    assert_eq!(messages_to(&app, &format!("D{BOB}")).await, 0);
    assert!(
        app.slack_calls("chat.postMessage")
            .await
            .iter()
            .all(|c| c["channel"] != BOB),
        "no DM to Bob"
    );
    // The pause ends: the question comes then, once.
    clock.advance(4 * 7 * DAY);
    assert_eq!(app.questions_asked(1).await, 1);
    assert_eq!(app.questions_asked(1).await, 1, "once");
    app.stop().await;
}

#[tokio::test]
async fn each_owner_gets_one_calm_message_a_working_day_in_their_own_morning() {
    let (app, clock) = spawn_app_at(monday()).await;
    let (id, _) = start(&app, "--template retro Quarter review").await;
    let bobs = [
        "Pairing sped up reviews",
        "Dashboards caught the spike",
        "Canary deploys limited damage",
        "Runbooks saved an hour",
        "Feature flags eased rollback",
        "Standups stayed short",
    ];
    let carols = ["Load tests found leaks", "Docs answered questions"];
    for (user, lines) in [(BOB, &bobs[..]), ("U0CAROL", &carols[..])] {
        let form = submission(user, id, &[("went_well", Input::Text(&lines.join("\n")))]);
        assert_eq!(app.interaction(&form).await.status(), 200);
    }
    close_as_is(&app, CHANNEL, ALICE, id).await;
    let ws = workspace(&app).await;
    wait_for_outbox(&app, ws).await;
    // Bob lives in Berlin, Carol in New York (as Slack told us).
    let store = app.store().await;
    for (person, zone) in [(BOB, "Europe/Berlin"), ("U0CAROL", "America/New_York")] {
        store
            .ensure_person(ws, person, Timestamp::from_unix_seconds(monday()))
            .await
            .unwrap();
        store
            .update_person_profile(
                ws,
                person,
                None,
                Some(zone),
                Timestamp::from_unix_seconds(monday()),
            )
            .await
            .unwrap();
    }
    let to = |person: &'static str| {
        let app = &app;
        async move {
            app.slack_calls("chat.postMessage")
                .await
                .into_iter()
                .filter(|c| c["channel"] == person)
                .collect::<Vec<Value>>()
        }
    };

    // Day 14, 10:01 UTC: 11:01 in Berlin, 05:01 in New York.
    clock.set(in_2026(11, 16, 10) + 60);
    assert_eq!(app.questions_asked(5).await, 5);
    assert_eq!(app.questions_asked(5).await, 5, "asked once");
    wait_for_outbox(&app, ws).await;
    let to_bob = to(BOB).await;
    assert_eq!(to_bob.len(), 1, "one message, not six");
    let daily = reply_text(&to_bob[0]);
    assert!(daily.contains("Your follow-ups for today"), "{daily}");
    assert!(
        daily.contains("and 1 more on your next working days"),
        "{daily}"
    );
    assert!(to("U0CAROL").await.is_empty(), "still night in New York");

    // 10:01 in New York: Carol's, in one message.
    clock.set(in_2026(11, 16, 15) + 60);
    assert_eq!(app.questions_asked(7).await, 7, "Carol's two");
    wait_for_outbox(&app, ws).await;
    assert_eq!(to("U0CAROL").await.len(), 1);
    assert_eq!(to(BOB).await.len(), 1, "Bob's sixth waits for tomorrow");

    // Bob answers one in his message: the rest keep their buttons.
    let first = button_value(&to_bob[0], "followup.applied");
    let db = database(&app).await;
    let day_ts: String =
        db::query_scalar("SELECT sent_ts FROM outbox WHERE dedupe_key LIKE 'followups:%:U0BOB:%'")
            .fetch_one(&db)
            .await
            .unwrap();
    app.interaction(&dm_click_on(BOB, &day_ts, "followup.applied", &first))
        .await;
    wait_for_outbox(&app, ws).await;
    let updated = app
        .slack_calls("chat.update")
        .await
        .into_iter()
        .rfind(|c| c["channel"] == format!("D{BOB}"))
        .expect("the day's message, updated in place");
    let shown = reply_text(&updated);
    assert!(shown.contains("(4 of 5 open)"), "{shown}");
    assert!(shown.contains("applied"), "{shown}");
    assert_eq!(shown.matches("followup.not_yet").count(), 4, "{shown}");

    // Saturday: nothing, though Bob's sixth is due; Monday morning in Berlin: it comes.
    clock.set(in_2026(11, 21, 11));
    assert_eq!(app.questions_asked(7).await, 7, "nothing on Saturday");
    clock.set(in_2026(11, 23, 8) + 60);
    assert_eq!(
        app.questions_asked(7).await,
        7,
        "09:01 in Berlin is before ten"
    );
    clock.set(in_2026(11, 23, 9) + 60);
    assert_eq!(app.questions_asked(8).await, 8, "Bob's sixth");
    app.stop().await;
}

#[tokio::test]
async fn a_follow_up_is_answered_in_words_in_its_dm() {
    let (app, clock) = spawn_app_at(monday()).await;
    let (id, _) = start(&app, "--template retro Sprint 9").await;
    let form = submission(
        BOB,
        id,
        &[(
            "went_well",
            Input::Text("Pairing sped up reviews\nDashboards caught the spike"),
        )],
    );
    assert_eq!(app.interaction(&form).await.status(), 200);
    close_as_is(&app, CHANNEL, ALICE, id).await;
    clock.set(in_2026(11, 16, 10) + 60);
    assert_eq!(app.questions_asked(2).await, 2);
    let ws = workspace(&app).await;
    wait_for_outbox(&app, ws).await;

    // Two waiting: a bare "yes" asks which; "2 yes" answers the second.
    let which = say(&app, "w1", BOB, "yes").await;
    assert!(which.contains("Which one?"), "{which}");
    assert!(which.contains("2. Dashboards caught the spike"), "{which}");
    let answered = say(&app, "w2", BOB, "2 yes").await;
    assert!(answered.contains("Applied"), "{answered}");
    // The day's message shows it answered too, the other still open.
    wait_for_outbox(&app, ws).await;
    let day = app
        .slack_calls("chat.update")
        .await
        .into_iter()
        .rfind(|c| c["channel"] == format!("D{BOB}"))
        .map(|c| reply_text(&c))
        .expect("the day's message updated");
    assert!(day.contains("(1 of 2 open)"), "{day}");
    // One left: "not yet" answers it; anything else says how to, after what was wrong.
    let hint = say(&app, "w3", BOB, "hmm maybe").await;
    assert!(hint.contains("reply `yes`, `not yet` or `no`"), "{hint}");
    let later = say(&app, "w4", BOB, "Not yet.").await;
    assert!(later.contains("Not yet"), "{later}");
    let db = database(&app).await;
    let statuses: Vec<(String, String)> =
        db::query_as("SELECT text, status FROM lessons WHERE debrief_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        [
            ("Pairing sped up reviews".to_owned(), "not_yet".to_owned()),
            (
                "Dashboards caught the spike".to_owned(),
                "applied".to_owned()
            ),
        ]
    );
    // Nothing waits now: words are commands again.
    let help = say(&app, "w5", BOB, "yes").await;
    assert!(help.contains("I don't know the command `yes`"), "{help}");
    app.stop().await;
}

#[tokio::test]
async fn a_quiet_week_is_said_once_then_the_digest_waits_for_news() {
    let (app, clock) = spawn_app_at(monday()).await;
    let set = app
        .command_reply_as(ALICE, "/learn", "digest mondays 09:00")
        .await;
    assert!(reply_text(&set).contains("Digest set"), "{set}");
    let ws = workspace(&app).await;
    async fn digests(app: &TestApp) -> Vec<String> {
        app.slack_calls("chat.postMessage")
            .await
            .iter()
            .filter(|c| c["channel"] == CHANNEL && c.get("thread_ts").is_none())
            .map(reply_text)
            .filter(|t| t.contains("quiet week") || t.contains("What we learned"))
            .collect()
    }
    // Two Mondays with nothing new: one quiet message, then silence.
    for monday_of in [9, 16] {
        clock.set(in_2026(11, monday_of, 9) + 60);
        app.scheduler.fire_due().await.unwrap();
        wait_for_outbox(&app, ws).await;
    }
    let posted = digests(&app).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(posted[0].contains("A quiet week"), "{}", posted[0]);
    // News (a debrief with a lesson): the next Monday's digest tells it.
    debrief_with_lesson(&app, "Release 3.0", "Smaller batches review faster").await;
    clock.set(in_2026(11, 23, 9) + 60);
    app.scheduler.fire_due().await.unwrap();
    wait_for_outbox(&app, ws).await;
    let posted = digests(&app).await;
    let last = posted.last().unwrap();
    assert!(last.contains("Smaller batches review faster"), "{last}");
    app.stop().await;
}

#[tokio::test]
async fn a_lesson_gone_stale_is_kept_or_retired_by_its_owner_alone() {
    let (app, clock) = spawn_app_at(monday()).await;
    debrief_with_lesson(&app, "Release 5", "Smaller releases are calmer").await;
    let db = database(&app).await;
    // Three "not yet"s already: the next one makes it stale.
    db::query("UPDATE lessons SET not_yet_count = 3")
        .execute(&db)
        .await
        .unwrap();
    clock.set(in_2026(11, 16, 10) + 60);
    assert_eq!(app.questions_asked(1).await, 1);
    let ws = workspace(&app).await;
    wait_for_outbox(&app, ws).await;
    let question = last_message_to(&app, BOB).await;
    let not_yet = button_value(&question, "followup.not_yet");
    app.interaction(&dm_click(BOB, "followup.not_yet", &not_yet))
        .await;
    wait_for_outbox(&app, ws).await;
    let stale = reply_text(
        app.slack_calls("chat.update")
            .await
            .iter()
            .rfind(|c| c["channel"] == format!("D{BOB}"))
            .expect("the answer in place of the question"),
    );
    assert!(stale.contains("Is it still relevant?"), "{stale}");
    let update = app
        .slack_calls("chat.update")
        .await
        .into_iter()
        .rfind(|c| c["channel"] == format!("D{BOB}"))
        .unwrap();
    let keep = button_value(&update, "followup.keep");

    // Only Bob may answer; he keeps it: open again, asked in four weeks.
    app.interaction(&dm_click(ALICE, "followup.keep", &keep))
        .await;
    let status: String = db::query_scalar("SELECT status FROM lessons")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(status, "stale", "not Alice's to keep");
    app.interaction(&dm_click(BOB, "followup.keep", &keep))
        .await;
    let (status, count, next): (String, i64, Option<i64>) =
        db::query_as("SELECT status, not_yet_count, follow_up_at FROM lessons")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), count), ("open", 0));
    assert_eq!(next, Some(in_2026(11, 16, 10) + 60 + 28 * DAY));
    // A second answer changes nothing.
    app.interaction(&dm_click(BOB, "followup.retire", &keep))
        .await;
    let status: String = db::query_scalar("SELECT status FROM lessons")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(status, "open");
    app.stop().await;
}
