//! Debriefs end to end: `/debrief` posts a card, people reflect in the modal and in a
//! DM conversation, the facilitator closes it and the summary lands in the card's
//! thread, with lessons stored. Everything goes through the signed HTTP routes.

use learnloop::store::db;
use std::time::{Duration, Instant};

use learnloop::clock::{Clock, SystemClock};
use learnloop::store::{DebriefId, Platform, WorkspaceId};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{TEAM, TestApp, reply_text, spawn_app};

pub(crate) const CHANNEL: &str = "C0CHAN";
pub(crate) const ALICE: &str = "U0ALICE";
pub(crate) const BOB: &str = "U0BOB";
const CAROL: &str = "U0CAROL";
const DAVE: &str = "U0DAVE";

/// A button click on the card, as Slack sends it.
pub(crate) fn click(user: &str, action: &str, debrief: i64) -> String {
    click_in(CHANNEL, user, action, debrief)
}

/// A button click on the card of a debrief in `channel`.
pub(crate) fn click_in(channel: &str, user: &str, action: &str, debrief: i64) -> String {
    json!({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
        "trigger_id": format!("trigger-{user}"),
        "container": {"type": "message", "message_ts": "1700000000.000000", "channel_id": channel},
        "channel": {"id": channel},
        "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": debrief.to_string()}],
    })
    .to_string()
}

/// One input's state in a submitted view: text, a select's option, or a picked user.
pub(crate) enum Input<'a> {
    Text(&'a str),
    Option(&'a str),
    User(&'a str),
}

/// A submitted reflection form.
pub(crate) fn submission(user: &str, debrief: i64, inputs: &[(&str, Input)]) -> String {
    let mut values = serde_json::Map::new();
    for (block, input) in inputs {
        let element = match input {
            Input::Text(text) => json!({"type": "plain_text_input", "value": text}),
            Input::Option(value) => {
                json!({"type": "static_select", "selected_option": {"value": value}})
            }
            Input::User(user) => json!({"type": "users_select", "selected_user": user}),
        };
        values.insert(format!("q_{block}"), json!({"answer": element}));
    }
    json!({
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
        "view": {
            "id": "V1", "callback_id": "debrief.reflection",
            "private_metadata": json!({"debrief": debrief}).to_string(),
            "state": {"values": values},
        },
    })
    .to_string()
}

/// A view's state as Slack submits it: every input with what it shows (its initial
/// value, option or user), then `changes` (by field, the block id without `q_`).
pub(crate) fn view_state(view: &Value, changes: &[(String, Value)]) -> Value {
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
            "datepicker" => json!({"type": kind, "selected_date": element["initial_date"]}),
            _ => json!({"type": kind, "selected_option": element["initial_option"]}),
        };
        values.insert(id.to_owned(), json!({"answer": state}));
    }
    for (field, element) in changes {
        values.insert(format!("q_{field}"), json!({"answer": element}));
    }
    Value::Object(values)
}

/// The facilitator's review at close, submitted as it was shown (every candidate kept
/// as it is), page after page: the reply to the last page.
pub(crate) async fn submit_review(app: &TestApp, user: &str) -> reqwest::Response {
    let reviews: Vec<Value> = app
        .slack_calls("views.open")
        .await
        .into_iter()
        .filter(|call| call["view"]["callback_id"] == "debrief.review")
        .collect();
    let mut view = reviews.last().expect("a review form opened")["view"].clone();
    loop {
        let submitted = json!({
            "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
            "view": {"id": "V2", "callback_id": "debrief.review",
                     "private_metadata": view["private_metadata"],
                     "state": {"values": view_state(&view, &[])}},
        })
        .to_string();
        let response = app.interaction(&submitted).await;
        assert_eq!(response.status(), 200);
        if response.content_length() == Some(0) {
            return response;
        }
        let next: Value = response.json().await.unwrap();
        assert_eq!(next["response_action"], "update", "{next}");
        view = next["view"].clone();
    }
}

/// The facilitator presses Close on the card of `id` in `channel` and publishes the
/// review as it is.
pub(crate) async fn close_as_is(app: &TestApp, channel: &str, user: &str, id: i64) {
    let reviews_before = app.slack_calls("views.open").await.len();
    let clicked = app
        .interaction(&click_in(channel, user, "debrief.close", id))
        .await;
    assert_eq!(clicked.status(), 200);
    if app.slack_calls("views.open").await.len() > reviews_before {
        submit_review(app, user).await;
    }
}

/// A DM from `user` to the bot, as an Events API callback.
pub(crate) fn dm(event_id: &str, user: &str, text: &str) -> Value {
    json!({
        "type": "event_callback", "team_id": TEAM, "api_app_id": "A0APP",
        "event_id": event_id, "event_time": 1700000000,
        "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": true}],
        "event": {"type": "message", "channel_type": "im", "channel": format!("D{user}"),
                  "user": user, "text": text, "ts": format!("1700000001.{event_id}")},
    })
}

pub(crate) async fn workspace(app: &TestApp) -> WorkspaceId {
    let store = app.store().await;
    store
        .find_workspace(Platform::Slack, TEAM)
        .await
        .expect("the workspace of the bot token")
        .id
}

/// A plain connection to the app's database (see [`TestApp::database`]).
pub(crate) async fn database(app: &TestApp) -> db::Pool {
    app.database().await
}

/// Waits for a new `chat.postMessage` to `channel` (after `seen` of them) and returns
/// its text.
pub(crate) async fn message_to(app: &TestApp, channel: &str, seen: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sent: Vec<Value> = app
            .slack_calls("chat.postMessage")
            .await
            .into_iter()
            .filter(|c| c["channel"] == channel)
            .collect();
        if sent.len() > seen {
            return reply_text(sent.last().unwrap());
        }
        assert!(Instant::now() < deadline, "no message to {channel}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) async fn messages_to(app: &TestApp, channel: &str) -> usize {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == channel)
        .count()
}

/// Waits for an ephemeral message to `user` that contains `expected`.
pub(crate) async fn ephemeral_to(app: &TestApp, user: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown: Vec<String> = app
            .slack_calls("chat.postEphemeral")
            .await
            .iter()
            .filter(|c| c["user"] == user)
            .map(reply_text)
            .collect();
        if shown.iter().any(|s| s.contains(expected)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no ephemeral `{expected}` to {user}: {shown:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The debrief id carried by a card's buttons.
fn debrief_of_card(card: &Value) -> i64 {
    card["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["elements"].as_array())
        .flatten()
        .find(|e| e["action_id"] == "debrief.reflect")
        .and_then(|e| e["value"].as_str())
        .and_then(|v| v.parse().ok())
        .expect("the card has an Add reflection button with the debrief id")
}

/// Sends a DM and waits for the bot's answer in that DM, returning its text.
pub(crate) async fn say(app: &TestApp, event_id: &str, user: &str, text: &str) -> String {
    let dm_channel = format!("D{user}");
    let seen = messages_to(app, &dm_channel).await;
    let response = app.event(&dm(event_id, user, text)).await;
    assert_eq!(response.status(), 200, "DM `{text}`");
    message_to(app, &dm_channel, seen).await
}

/// The messages the fake Slack got in the thread of `ts`, as text.
async fn thread_text(app: &TestApp, ts: &str) -> String {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["thread_ts"] == ts)
        .map(reply_text)
        .collect()
}

/// Waits until the outbox has sent everything it holds.
pub(crate) async fn wait_for_outbox(app: &TestApp, ws: WorkspaceId) {
    let db = database(app).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pending: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE workspace_id = ? AND status NOT IN ('sent', 'failed')",
        )
        .bind(ws.0)
        .fetch_one(&db)
        .await
        .unwrap();
        if pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the outbox drains");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Alice starts `/debrief TEXT` in `channel`, Bob submits `answers`, Alice closes it
/// and the outbox drains: the debrief's id and the text of its summary.
pub(crate) async fn run_debrief(
    app: &TestApp,
    channel: &str,
    text: &str,
    answers: &[(&str, Input<'_>)],
) -> (i64, String) {
    let reply = app
        .command_reply_in(TEAM, channel, ALICE, "/debrief", text)
        .await;
    assert!(reply_text(&reply).contains("started"), "{reply}");
    let db = database(app).await;
    let id: i64 = db::query_scalar("SELECT MAX(id) FROM debriefs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        app.interaction(&submission(BOB, id, answers))
            .await
            .status(),
        200
    );
    close_as_is(app, channel, ALICE, id).await;
    wait_for_outbox(app, workspace(app).await).await;
    let summary = app
        .slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == channel && c.get("thread_ts").is_some())
        .map(reply_text)
        .collect();
    (id, summary)
}

/// Starts a debrief as Alice and returns its id and the card's `ts`.
/// The text of the newest debrief card in the channel.
async fn newest_card(app: &TestApp) -> String {
    let cards: Vec<Value> = app
        .slack_calls("chat.postMessage")
        .await
        .into_iter()
        .filter(|c| c["channel"] == CHANNEL && c.get("thread_ts").is_none())
        .collect();
    reply_text(cards.last().expect("a card"))
}

pub(crate) async fn start(app: &TestApp, text: &str) -> (i64, String) {
    let cards_before = app.slack_calls("chat.postMessage").await.len();
    let reply = app.command_reply_as(ALICE, "/debrief", text).await;
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(
        reply_text(&reply).contains("started"),
        "{}",
        reply_text(&reply)
    );
    let calls = app
        .wait_for_slack_calls("chat.postMessage", cards_before + 1)
        .await;
    let card = &calls[cards_before];
    assert_eq!(card["channel"], CHANNEL);
    assert!(card.get("thread_ts").is_none(), "the card is top-level");
    let id = debrief_of_card(card);
    // The fake numbers every call, so the card's ts is its place among all calls.
    let all = app.slack.received_requests().await.unwrap();
    let position = all
        .iter()
        .position(|r| {
            r.url.path() == "/api/chat.postMessage"
                && serde_json::from_slice::<Value>(&r.body).unwrap() == *card
        })
        .unwrap();
    (id, format!("1700000000.{position:06}"))
}

#[tokio::test]
async fn three_people_reflect_by_modal_and_dm_and_the_summary_lands_in_the_thread() {
    let mut app = spawn_app().await;
    let (id, card_ts) = start(&app, "--template retro Release 2.3 rollout").await;
    // The single-workspace token's workspace exists once the first request named it.
    let ws = workspace(&app).await;
    let card = &app.slack_calls("chat.postMessage").await[0];
    let shown = reply_text(card);
    assert!(shown.contains("Release 2.3 rollout"), "{shown}");
    assert!(shown.contains("Retrospective"), "{shown}");
    assert!(
        shown.contains("<@U0ALICE>"),
        "names the facilitator: {shown}"
    );
    assert!(shown.contains("Nobody has reflected yet"), "{shown}");

    // Bob uses the form: the button opens a modal with the template's questions.
    assert_eq!(
        app.interaction(&click(BOB, "debrief.reflect", id))
            .await
            .status(),
        200
    );
    let opened = app.wait_for_slack_calls("views.open", 1).await;
    assert_eq!(opened[0]["trigger_id"], "trigger-U0BOB");
    let blocks: Vec<&str> = opened[0]["view"]["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["block_id"].as_str())
        .collect();
    assert_eq!(
        blocks,
        [
            "q_went_well",
            "q_could_be_better",
            "q_try_next",
            "q_try_next.owner",
            "q_mood"
        ]
    );
    let bob_first = submission(
        BOB,
        id,
        &[
            (
                "went_well",
                Input::Text("Feature flags let us roll back in minutes #deploys"),
            ),
            ("mood", Input::Option("3")),
        ],
    );
    let saved = app.interaction(&bob_first).await;
    assert_eq!(saved.status(), 200);
    assert_eq!(
        saved.text().await.unwrap(),
        "",
        "an empty 200 closes the modal"
    );
    // He opens it again: the form shows his answers, and saving edits them.
    app.interaction(&click(BOB, "debrief.reflect", id)).await;
    let reopened = app.wait_for_slack_calls("views.open", 2).await;
    assert!(
        reopened[1]
            .to_string()
            .contains("Feature flags let us roll back")
    );
    let bob_edit = submission(
        BOB,
        id,
        &[
            (
                "went_well",
                Input::Text("Feature flags let us roll back in minutes #deploys"),
            ),
            (
                "try_next",
                Input::Text("Add a migration dry run to CI #deploys"),
            ),
            ("try_next.owner", Input::User(DAVE)),
            ("mood", Input::Option("4")),
        ],
    );
    assert_eq!(app.interaction(&bob_edit).await.status(), 200);
    // Slack delivering the same submission twice changes nothing.
    assert_eq!(app.interaction(&bob_edit).await.status(), 200);
    let store = app.store().await;
    assert_eq!(
        store.reflection_count(ws, DebriefId(id)).await.unwrap(),
        1,
        "one reflection per person, edited in place"
    );

    // Carol submits bad fields first: she is told which, and nothing is stored.
    let too_long = "x".repeat(3001);
    let bad = submission(
        CAROL,
        id,
        &[
            ("could_be_better", Input::Text(&too_long)),
            ("mood", Input::Option("9")),
        ],
    );
    let refused = app.interaction(&bad).await;
    assert_eq!(refused.status(), 200);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["response_action"], "errors");
    assert!(
        refused["errors"]["q_could_be_better"]
            .as_str()
            .unwrap()
            .contains("3000 characters"),
        "{refused}"
    );
    assert!(
        refused["errors"]["q_mood"]
            .as_str()
            .unwrap()
            .contains("1 to 5")
    );
    assert!(refused["errors"].get("q_went_well").is_none());
    assert_eq!(store.reflection_count(ws, DebriefId(id)).await.unwrap(), 1);

    // A form of blanks (Slack lets optional fields through empty) is not a reflection:
    // refused with a field error, never stored nor counted on the card.
    wait_for_outbox(&app, ws).await;
    let cards_before = app.slack_calls("chat.update").await.len();
    let blank = submission(
        CAROL,
        id,
        &[
            ("went_well", Input::Text("")),
            ("could_be_better", Input::Text("   ")),
        ],
    );
    let refused: Value = app.interaction(&blank).await.json().await.unwrap();
    assert_eq!(refused["response_action"], "errors", "{refused}");
    let said: String = refused["errors"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_str)
        .collect();
    assert!(said.contains("empty reflection is not saved"), "{refused}");
    assert_eq!(store.reflection_count(ws, DebriefId(id)).await.unwrap(), 1);
    wait_for_outbox(&app, ws).await;
    assert_eq!(
        app.slack_calls("chat.update").await.len(),
        cards_before,
        "the card's count is not touched"
    );
    let good = submission(
        CAROL,
        id,
        &[
            (
                "could_be_better",
                Input::Text("Staging data was stale so we missed the migration lock #database"),
            ),
            ("try_next", Input::Text("Refresh staging data every Monday")),
            ("mood", Input::Option("2")),
        ],
    );
    let accepted = app.interaction(&good).await;
    assert_eq!(accepted.text().await.unwrap(), "");

    // Dave reflects in a DM conversation, with skip, back, a nudge and a restart.
    app.interaction(&click(DAVE, "debrief.reflect_dm", id))
        .await;
    let first = message_to(&app, DAVE, 0).await;
    assert!(first.contains("Question 1 of 4"), "{first}");
    assert!(first.contains("What went well?"), "{first}");

    let asked = say(&app, "Ev1", DAVE, "skip").await;
    assert!(asked.contains("Question 2 of 4"), "{asked}");
    let asked = say(&app, "Ev2", DAVE, "Checklist old").await;
    assert!(
        asked.contains("say a bit more"),
        "a short answer is nudged: {asked}"
    );
    let asked = say(
        &app,
        "Ev3",
        DAVE,
        "it still listed the old deploy host #process",
    )
    .await;
    assert!(asked.contains("Question 3 of 4"), "{asked}");
    let asked = say(&app, "Ev4", DAVE, "back").await;
    assert!(asked.contains("Question 2 of 4"), "{asked}");
    assert!(
        asked.contains("Checklist old it still listed the old deploy host"),
        "back shows the answer so far: {asked}"
    );
    // The app dies mid-conversation; the new process continues where Dave was.
    app.crash_and_restart().await;
    let asked = say(&app, "Ev5", DAVE, "help").await;
    assert!(asked.contains("Question 2 of 4"), "{asked}");
    assert!(asked.contains("`back`"), "{asked}");
    let asked = say(
        &app,
        "Ev6",
        DAVE,
        // Slack escapes what people type; the answer is stored as typed.
        "The rollout checklist still listed the old deploy host &amp; port #process",
    )
    .await;
    assert!(asked.contains("Question 3 of 4"), "{asked}");
    // In a DM, a leading mention names the owner.
    let asked = say(
        &app,
        "Ev7",
        DAVE,
        "<@U0CAROL> rewrites the rollout checklist",
    )
    .await;
    assert!(asked.contains("Question 4 of 4"), "{asked}");
    let asked = say(&app, "Ev8", DAVE, "twelve").await;
    assert!(
        asked.contains("1 to 5"),
        "an unreadable rating is re-asked: {asked}"
    );
    let done = say(&app, "Ev9", DAVE, "good").await;
    assert!(done.contains("saved"), "{done}");
    assert_eq!(store.reflection_count(ws, DebriefId(id)).await.unwrap(), 3);

    // Only the facilitator closes it.
    app.interaction(&click(BOB, "debrief.close", id)).await;
    ephemeral_to(&app, BOB, "Only the facilitator, <@U0ALICE>").await;
    assert!(store.debrief(ws, DebriefId(id)).await.unwrap().is_open());

    app.interaction(&click(ALICE, "debrief.close", id)).await;
    // Clicking twice (or Slack delivering the click twice) is harmless: the second
    // review, submitted after the first closed the debrief, says so.
    app.interaction(&click(ALICE, "debrief.close", id)).await;
    submit_review(&app, ALICE).await;
    submit_review(&app, ALICE).await;
    ephemeral_to(&app, ALICE, "is closed: 3 lessons and 3 action items").await;
    ephemeral_to(&app, ALICE, "already closed").await;
    wait_for_outbox(&app, ws).await;

    // The summary, in the card's thread.
    let summary = thread_text(&app, &card_ts).await;
    for expected in [
        "Summary: Release 2.3 rollout",
        "3 people reflected",
        "*How do you feel about this stretch?",
        "Feature flags let us roll back in minutes #deploys — <@U0BOB>",
        "Staging data was stale so we missed the migration lock #database — <@U0CAROL>",
        "The rollout checklist still listed the old deploy host &amp; port #process — <@U0DAVE>",
        "Average *3.3*",
        "Add a migration dry run to CI #deploys — owner <@U0DAVE> · follow-up",
        "Refresh staging data every Monday — owner <@U0CAROL>",
        "<@U0CAROL> rewrites the rollout checklist — owner <@U0CAROL>",
    ] {
        assert!(summary.contains(expected), "`{expected}` in:\n{summary}");
    }
    assert_eq!(
        summary.matches("Feature flags let us roll back").count(),
        1,
        "each lesson is listed once, not also under its question:\n{summary}"
    );
    // The card shows the final count and that it is closed.
    let updates = app.slack_calls("chat.update").await;
    assert!(!updates.is_empty());
    assert!(updates.iter().all(|u| u["ts"] == card_ts.as_str()));
    let last = reply_text(updates.last().unwrap());
    assert!(last.contains("3 people reflected"), "{last}");
    assert!(last.contains("Closed"), "{last}");

    // Lessons and action items are stored with their people, tags and follow-up.
    let lessons = store.lessons_of(ws, DebriefId(id)).await.unwrap();
    let row = |text: &str| {
        lessons
            .iter()
            .find(|l| l.text.starts_with(text))
            .unwrap_or_else(|| panic!("`{text}` stored: {lessons:?}"))
    };
    let flags = row("Feature flags");
    assert_eq!(
        (
            flags.kind.as_str(),
            flags.author.as_deref(),
            flags.tags.as_str()
        ),
        ("lesson", Some(BOB), "deploys")
    );
    assert_eq!(
        (flags.status.as_str(), flags.visibility.as_str()),
        ("open", "shared")
    );
    let dry_run = row("Add a migration dry run");
    assert_eq!(
        (
            dry_run.kind.as_str(),
            dry_run.author.as_deref(),
            dry_run.owner.as_deref()
        ),
        ("action", Some(BOB), Some(DAVE))
    );
    let in_two_weeks = SystemClock.now().plus_seconds(14 * 86_400);
    let asked_at = dry_run.follow_up_at.expect("an owner is asked");
    assert!(asked_at.seconds_since(in_two_weeks).abs() < 120);
    assert_eq!(row("Refresh staging").owner.as_deref(), Some(CAROL));
    assert!(row("The rollout checklist").text.contains("host & port"));
    assert!(!summary.contains("&amp;amp;"), "escaped once, not twice");
    assert_eq!(lessons.len(), 6);

    // After closing, reflections are refused politely.
    let late = app.interaction(&good).await;
    let late: Value = late.json().await.unwrap();
    assert!(late.to_string().contains("has closed"), "{late}");
    app.interaction(&click(CAROL, "debrief.reflect_dm", id))
        .await;
    assert!(message_to(&app, CAROL, 0).await.contains("is closed"));

    // Learn before doing: the next rollout's card shows what this one taught.
    let (_, _) = start(&app, "Rollout of release 2.4").await;
    let next_card = newest_card(&app).await;
    assert!(next_card.contains("Learn before doing"), "{next_card}");
    assert!(
        next_card.contains("(from Release 2.3 rollout)"),
        "{next_card}"
    );

    // A title that only says when ("2" and "Nov") is related to nothing, though the
    // rollout's title holds a 2 too.
    let (_, _) = start(&app, "Retro 2 Nov").await;
    let dated_card = newest_card(&app).await;
    assert!(dated_card.contains("Retro 2 Nov"), "{dated_card}");
    assert!(!dated_card.contains("Learn before doing"), "{dated_card}");
    app.stop().await;
}

#[tokio::test]
async fn an_anonymous_debrief_names_nobody_in_its_summary_or_its_rows() {
    let app = spawn_app().await;
    let (id, card_ts) = start(&app, "--anonymous Incident 4711 review").await;
    let ws = workspace(&app).await;
    let card = &app.slack_calls("chat.postMessage").await[0];
    assert!(reply_text(card).contains("anonymous"));
    for (user, lesson) in [
        (BOB, "The runbook for failover was missing a step #runbook"),
        (CAROL, "Paging worked but nobody owned the comms #incident"),
    ] {
        let form = submission(
            user,
            id,
            &[
                ("went_well", Input::Text(lesson)),
                ("try_next", Input::Text("Write a comms checklist")),
                ("mood", Input::Option("3")),
            ],
        );
        assert_eq!(app.interaction(&form).await.text().await.unwrap(), "");
    }
    close_as_is(&app, CHANNEL, ALICE, id).await;
    ephemeral_to(&app, ALICE, "is closed").await;
    wait_for_outbox(&app, ws).await;

    let summary = thread_text(&app, &card_ts).await;
    assert!(
        summary.contains("Paging worked but nobody owned the comms"),
        "{summary}"
    );
    assert!(
        summary.contains("2 people reflected · anonymous"),
        "{summary}"
    );
    for name in [BOB, CAROL] {
        assert!(!summary.contains(name), "{name} named in:\n{summary}");
    }
    assert!(summary.contains("no owner yet"), "{summary}");
    // Answers are not in submission order, which the card's live count would reveal.
    assert!(summary.find("Paging worked") < summary.find("The runbook for failover"));

    let store = app.store().await;
    let lessons = store.lessons_of(ws, DebriefId(id)).await.unwrap();
    assert_eq!(
        lessons.len(),
        3,
        "the same action from both is one, counted"
    );
    assert!(
        summary.contains("Write a comms checklist _(×2)_"),
        "{summary}"
    );
    let db = database(&app).await;
    assert!(
        lessons
            .iter()
            .all(|l| l.author.is_none() && l.owner.is_none())
    );
    // The rows of this debrief hold no name, and nothing links answers to people.
    let reflections: Vec<(Option<String>, String, String)> =
        db::query_as("SELECT author, author_key, answers FROM reflections WHERE debrief_id = ?")
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(reflections.len(), 2);
    for (author, key, answers) in &reflections {
        assert_eq!(author, &None);
        assert!(!key.contains("U0"), "the key is a hash, not an id");
        assert!(!answers.contains("U0"));
    }
    let salt: Option<String> = db::query_scalar("SELECT author_salt FROM debriefs WHERE id = ?")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        salt, None,
        "the salt is erased at close, so keys cannot be recomputed"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_card_in_a_channel_the_bot_is_not_in_explains_how_to_invite_it() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "not_in_channel"})),
        )
        .mount(&app.slack)
        .await;
    let reply = app
        .command_reply_as(ALICE, "/debrief", "Launch review")
        .await;
    let shown = reply_text(&reply);
    assert!(shown.contains("/invite @learnloop"), "{shown}");
    let store = app.store().await;
    let ws = workspace(&app).await;
    assert!(
        store.open_debriefs(ws, None).await.unwrap().is_empty(),
        "a debrief nobody can see is not left open"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_template_lists_the_available_ones() {
    let app = spawn_app().await;
    let reply = app
        .command_reply_as(ALICE, "/debrief", "--template postmortem Launch")
        .await;
    let shown = reply_text(&reply);
    for name in ["aar", "retro", "project", "checkin"] {
        assert!(shown.contains(name), "{name} in {shown}");
    }
    assert!(app.slack_calls("chat.postMessage").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn two_open_debriefs_are_told_apart_by_asking() {
    let app = spawn_app().await;
    let (first, _) = start(&app, "Release 2.3 rollout").await;
    let (second, _) = start(&app, "Quarterly planning").await;
    assert_ne!(first, second);
    let reply = app.command_reply_as(BOB, "/learn", "debrief reflect").await;
    assert!(reply_text(&reply).contains("sent you a DM"));
    let asked = message_to(&app, BOB, 0).await;
    assert!(asked.contains("Which debrief"), "{asked}");
    assert!(
        asked.contains("`1` Quarterly planning"),
        "newest first: {asked}"
    );
    assert!(asked.contains("`2` Release 2.3 rollout"), "{asked}");
    let answer = say(&app, "Ev1", BOB, "7").await;
    assert!(answer.contains("number from 1 to 2"), "{answer}");
    let answer = say(&app, "Ev2", BOB, "2").await;
    assert!(answer.contains("Release 2.3 rollout"), "{answer}");
    assert!(answer.contains("Question 1 of 4"), "{answer}");

    // In a DM there is no channel to know membership by: no workspace-wide list.
    let form = crate::support::command_form_as(CAROL, "/learn", "debrief reflect")
        .replace("C0CHAN", "D0CAROL");
    let reply: Value = app
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &form,
        )
        .await
        .json()
        .await
        .unwrap();
    let shown = reply_text(&reply);
    assert!(shown.contains("in the channel of the debrief"), "{shown}");
    assert!(!shown.contains("Quarterly planning"), "{shown}");
    app.stop().await;
}

#[tokio::test]
async fn a_retro_reminders_button_starts_a_debrief_with_the_schedules_template() {
    let app = spawn_app().await;
    let reply = app
        .command_reply_as(ALICE, "/learn", "retro daily 9:00 --template aar")
        .await;
    assert!(reply_text(&reply).contains("aar"), "{}", reply_text(&reply));
    // Make it due now and let the scheduler fire it.
    let db = database(&app).await;
    db::query("UPDATE schedules SET next_fire_at = ?")
        .bind(chrono::Utc::now().timestamp() - 1)
        .execute(&db)
        .await
        .unwrap();
    app.scheduler.wake();
    let reminder = app.wait_for_slack_calls("chat.postMessage", 1).await[0].clone();
    assert_eq!(reminder["channel"], CHANNEL);
    let button = reminder["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["elements"].as_array())
        .flatten()
        .find(|e| e["action_id"] == "debrief.start")
        .expect("the reminder has a start button")
        .clone();
    let value = button["value"].as_str().unwrap();
    assert!(value.starts_with("aar|Retro "), "{value}");

    let press = |user: &str| {
        json!({
            "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
            "trigger_id": "1.2.3", "channel": {"id": CHANNEL},
            "actions": [{"type": "button", "action_id": "debrief.start", "value": value}],
        })
        .to_string()
    };
    assert_eq!(app.interaction(&press(BOB)).await.status(), 200);
    ephemeral_to(&app, BOB, "started with the After-action review template").await;
    let card = app.wait_for_slack_calls("chat.postMessage", 2).await[1].clone();
    let shown = reply_text(&card);
    assert!(shown.contains("Retro "), "{shown}");
    assert!(shown.contains("facilitated by <@U0BOB>"), "{shown}");

    // Someone else pressing it too finds the debrief already started.
    app.interaction(&press(CAROL)).await;
    ephemeral_to(&app, CAROL, "<@U0BOB> already started").await;
    let store = app.store().await;
    let ws = workspace(&app).await;
    let open = store.open_debriefs(ws, Some(CHANNEL)).await.unwrap();
    assert_eq!(open.len(), 1, "one debrief, however many press the button");
    assert_eq!(open[0].template, "aar");
    app.stop().await;
}

#[tokio::test]
async fn skipping_every_question_in_a_dm_saves_nothing() {
    let app = spawn_app().await;
    let (id, _) = start(&app, "--template retro Release 2.7").await;
    let ws = workspace(&app).await;
    app.interaction(&click(BOB, "debrief.reflect_dm", id)).await;
    wait_for_outbox(&app, ws).await;
    for (event, question) in [("EvS1", 2), ("EvS2", 3), ("EvS3", 4)] {
        let reply = say(&app, event, BOB, "skip").await;
        assert!(
            reply.contains(&format!("Question {question} of 4")),
            "{reply}"
        );
    }
    let last = say(&app, "EvS4", BOB, "skip").await;
    assert!(last.contains("nothing was saved"), "{last}");
    let store = app.store().await;
    assert_eq!(store.reflection_count(ws, DebriefId(id)).await.unwrap(), 0);
    assert_eq!(store.conversation(ws, BOB).await.unwrap(), None, "it ended");
    app.stop().await;
}
