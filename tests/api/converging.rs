//! Debriefs that converge, end to end over signed HTTP with the recording fake Slack:
//! the start form, nudges (members paged; reflected, paused, bots and the facilitator
//! skipped; anonymous ones counted only), the close-by reminder and the scheduler's
//! close with two processes, and a summary that lists each item once with its kudos.

use learnloop::store::db;
use std::sync::Arc;

use learnloop::clock::ShiftedClock;

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::debriefs::{
    ALICE, BOB, CHANNEL, Input, click, database, ephemeral_to, start, submission, view_state,
    wait_for_outbox, workspace,
};
use crate::support::{
    Options, TEAM, TestApp, command_form_in, monday, reply_text, spawn_app_at, spawn_app_with,
};

const CAROL: &str = "U0CAROL";
const DAVE: &str = "U0DAVE";
const ZED: &str = "U0ZED";

/// The channel's members in two pages, with the bot and a deactivated account among
/// them, as `conversations.members` and `users.list` list them.
async fn members_in_two_pages(app: &TestApp) {
    Mock::given(method("POST"))
        .and(path("/api/conversations.members"))
        .and(body_string_contains("cursor=page2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "members": [CAROL, DAVE, ZED, "U0GONE"],
            "response_metadata": {"next_cursor": ""}})))
        .with_priority(1)
        .mount(&app.slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/conversations.members"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "members": [ALICE, BOB, "U0BOT"],
            "response_metadata": {"next_cursor": "page2"}})))
        .with_priority(2)
        .mount(&app.slack)
        .await;
    let person = |id: &str, deleted: bool, bot: bool| json!({"id": id, "deleted": deleted, "is_bot": bot, "is_app_user": false});
    Mock::given(method("POST"))
        .and(path("/api/users.list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "members": [person(ALICE, false, false), person(BOB, false, false),
                        person(CAROL, false, false), person(DAVE, false, false),
                        person(ZED, false, false), person("U0BOT", false, true),
                        person("U0GONE", true, false)],
            "response_metadata": {"next_cursor": ""}})))
        .with_priority(1)
        .mount(&app.slack)
        .await;
}

/// The direct messages the bot sent to `user`, as text.
async fn dms_to(app: &TestApp, user: &str) -> Vec<String> {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == user)
        .map(reply_text)
        .collect()
}

/// The ephemeral messages shown to `user`, as text.
async fn ephemerals_to(app: &TestApp, user: &str) -> Vec<String> {
    app.slack_calls("chat.postEphemeral")
        .await
        .iter()
        .filter(|c| c["user"] == user)
        .map(reply_text)
        .collect()
}

/// A submitted start form.
pub(crate) fn start_form(user: &str, inputs: &[(&str, Value)]) -> String {
    let values: serde_json::Map<String, Value> = inputs
        .iter()
        .map(|(field, element)| (format!("q_{field}"), json!({"answer": element})))
        .collect();
    json!({
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
        "view": {"id": "V9", "callback_id": "debrief.start_form",
                 "private_metadata": json!({"channel": CHANNEL}).to_string(),
                 "state": {"values": values}},
    })
    .to_string()
}

/// A team's own retro template, with a kudos question.
const TEAM_RETRO: &str = r#"
name = "team-retro"
title = "Team retro"
description = "Our retro, with thanks."

[[questions]]
id = "went_well"
prompt = "What went well?"
role = "lesson"

[[questions]]
id = "could_be_better"
prompt = "What could have gone better?"
role = "lesson"

[[questions]]
id = "try_next"
prompt = "What will we try next?"
role = "action"

[[questions]]
id = "kudos"
prompt = "Who deserves a thank-you?"
role = "kudos"

[[questions]]
id = "mood"
prompt = "How do you feel? (1-5)"
role = "rating"
"#;

#[tokio::test]
async fn a_debrief_started_from_the_form_is_nudged_reminded_and_closed_on_time_once() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("team-retro.toml"), TEAM_RETRO).unwrap();
    let clock = Arc::new(ShiftedClock::at(monday()));
    let mut app = spawn_app_with(Options {
        clock: clock.clone(),
        templates_dir: Some(templates.path().to_owned()),
        ..Options::default()
    })
    .await;
    members_in_two_pages(&app).await;

    // `/debrief` alone opens the start form with the command's trigger.
    let form = command_form_in(TEAM, CHANNEL, ALICE, "/debrief", "");
    let response = app
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &form,
        )
        .await;
    assert_eq!(response.status(), 200);
    let ws = workspace(&app).await;
    let opened = app.wait_for_slack_calls("views.open", 1).await;
    assert_eq!(opened[0]["trigger_id"], "1.2.3", "the command's trigger");
    let view = &opened[0]["view"];
    assert_eq!(view["callback_id"], "debrief.start_form");
    let shown = view.to_string();
    assert!(
        shown.contains("Failure story") && shown.contains("Team retro"),
        "{shown}"
    );
    assert!(
        shown.contains("What we tried, what happened, what we know now"),
        "each template with its description: {shown}"
    );

    // A form without a title keeps the modal open with the problem under the title.
    let refused = app.interaction(&start_form(ALICE, &[])).await;
    let errors: Value = refused.json().await.unwrap();
    assert_eq!(errors["response_action"], "errors");
    assert!(errors["errors"]["q_title"].is_string(), "{errors}");

    let started = app
        .interaction(&start_form(
            ALICE,
            &[
                (
                    "title",
                    json!({"type": "plain_text_input", "value": "Release 2.3"}),
                ),
                (
                    "template",
                    json!({"type": "radio_buttons", "selected_option": {"value": "team-retro"}}),
                ),
                (
                    "closes_in",
                    json!({"type": "static_select", "selected_option": {"value": "1d"}}),
                ),
            ],
        ))
        .await;
    assert_eq!(started.status(), 200);
    wait_for_outbox(&app, ws).await;
    let cards: Vec<Value> = app
        .slack_calls("chat.postMessage")
        .await
        .into_iter()
        .filter(|c| c["channel"] == CHANNEL)
        .collect();
    assert_eq!(cards.len(), 1, "one card");
    let card = reply_text(&cards[0]);
    assert!(card.contains("5 questions"), "{card}");
    assert!(
        card.contains("Closes Tue 3 Nov 10:00 (UTC)"),
        "the close-by time, in the workspace's zone: {card}"
    );
    let db = database(&app).await;
    let id: i64 = db::query_scalar("SELECT id FROM debriefs WHERE title = 'Release 2.3'")
        .fetch_one(&db)
        .await
        .unwrap();

    // Bob reflects; Carol has paused her prompts.
    let reflected = app
        .interaction(&submission(
            BOB,
            id,
            &[
                ("went_well", Input::Text("Feature flags\nfeature flags")),
                ("could_be_better", Input::Text("Flaky tests")),
                ("try_next", Input::Text("Quarantine flaky tests <@U0CAROL>")),
                (
                    "kudos",
                    Input::Text("<@U0CAROL> for pairing on the rollback"),
                ),
            ],
        ))
        .await;
    assert_eq!(reflected.status(), 200);
    let paused = app
        .command_reply_in(TEAM, CHANNEL, CAROL, "/learn", "pause 3d")
        .await;
    assert!(reply_text(&paused).contains("paused"), "{paused}");

    // Only the facilitator nudges.
    assert_eq!(
        app.interaction(&click(BOB, "debrief.nudge", id))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.interaction(&click(ALICE, "debrief.nudge", id))
            .await
            .status(),
        200
    );
    // The nudge runs after the click is answered (reading members can take longer
    // than Slack waits); the facilitator hears how many were nudged, never who.
    ephemeral_to(&app, BOB, "Only the facilitator").await;
    ephemeral_to(&app, ALICE, "Nudged 2 people").await;
    wait_for_outbox(&app, ws).await;
    let pages: Vec<String> = app
        .slack
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/conversations.members")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(pages.len(), 2, "both pages of members were read");
    assert!(pages[1].contains("cursor=page2"), "{pages:?}");
    for (person, nudged) in [
        (DAVE, true),
        (ZED, true),
        (BOB, false),
        (CAROL, false),
        (ALICE, false),
        ("U0BOT", false),
        ("U0GONE", false),
    ] {
        let dms = dms_to(&app, person).await;
        assert_eq!(dms.len(), usize::from(nudged), "{person}: {dms:?}");
    }
    let nudge = dms_to(&app, DAVE).await.remove(0);
    assert!(
        nudge.contains("1 colleague already reflected on *Release 2.3*"),
        "{nudge}"
    );
    assert!(nudge.contains("Add reflection"), "{nudge}");

    // A second nudge within 12 hours sends nothing.
    app.interaction(&click(ALICE, "debrief.nudge", id)).await;
    ephemeral_to(&app, ALICE, "less than 12 hours ago").await;
    wait_for_outbox(&app, ws).await;
    assert_eq!(dms_to(&app, DAVE).await.len(), 1, "nobody is nudged twice");

    // Two hours before the close-by time, the facilitator is reminded, once.
    clock.advance(22 * 3600 + 60);
    let report = app.scheduler.fire_due().await.unwrap();
    let again = app.scheduler.fire_due().await.unwrap();
    wait_for_outbox(&app, ws).await;
    // (The app's own scheduler may have got there first.)
    assert!(report.debriefs.reminded + again.debriefs.reminded <= 1);
    let reminders = dms_to(&app, ALICE).await;
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert!(
        reminders[0].contains("*Release 2.3* closes Tue 3 Nov 10:00 (UTC); 1 person reflected"),
        "{}",
        reminders[0]
    );
    assert!(reminders[0].contains("Nudge"), "{}", reminders[0]);

    // At the time, two processes try to close it; it closes once.
    clock.advance(2 * 3600);
    let replica = app.spawn_replica().await;
    let (here, there) = tokio::join!(app.scheduler.fire_due(), replica.scheduler.fire_due());
    let closed = here.unwrap().debriefs.closed + there.unwrap().debriefs.closed;
    replica.stop().await;
    wait_for_outbox(&app, ws).await;
    // The background schedulers may have got there first; the summary below shows it
    // closed once.
    assert!(closed <= 1, "closed {closed} times");
    let summaries: Vec<String> = app
        .slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == CHANNEL && c.get("thread_ts").is_some())
        .map(reply_text)
        .collect();
    assert_eq!(summaries.len(), 1, "one summary: {summaries:?}");
    let summary = &summaries[0];
    assert_eq!(
        summary.matches("Flaky tests").count(),
        1,
        "each item once: {summary}"
    );
    assert!(
        !summary.contains("What could have gone better?"),
        "{summary}"
    );
    assert!(
        summary.contains(":tada: *Kudos*\n• <@U0CAROL> for pairing on the rollback — <@U0BOB>"),
        "{summary}"
    );
    let told = dms_to(&app, ALICE).await;
    assert_eq!(told.len(), 2, "the reminder and the close: {told:?}");
    assert!(
        told[1].contains("It was time: *Release 2.3* is closed"),
        "{}",
        told[1]
    );

    let kinds: Vec<(String, String)> =
        db::query_as("SELECT kind, text FROM lessons WHERE debrief_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap();
    assert!(
        kinds.iter().all(|(_, text)| !text.contains("pairing")),
        "kudos are no lessons: {kinds:?}"
    );
    let kudos: Vec<String> = db::query_scalar("SELECT text FROM kudos WHERE debrief_id = ?")
        .bind(id)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(kudos, ["<@U0CAROL> for pairing on the rollback"]);
    let digest = app
        .command_reply_in(TEAM, CHANNEL, ALICE, "/learn", "digest now")
        .await;
    assert!(
        reply_text(&digest).contains(
            ":clap: <@U0CAROL> for pairing on the rollback — <@U0BOB> (from *Release 2.3*)"
        ),
        "kudos are celebrated in the digest: {digest}"
    );
    app.crash_and_restart().await;
    let after = app.scheduler.fire_due().await.unwrap();
    assert_eq!(after.debriefs.closed, 0, "closed stays closed");
    app.stop().await;
}

#[tokio::test]
async fn an_anonymous_debrief_is_nudged_without_telling_who_reflected() {
    let (app, _clock) = spawn_app_at(monday()).await;
    let (id, _) = start(&app, "--anonymous Outage review").await;
    let ws = workspace(&app).await;
    let reflected = app
        .interaction(&submission(
            BOB,
            id,
            &[("could_be_better", Input::Text("Page earlier"))],
        ))
        .await;
    assert_eq!(reflected.status(), 200);
    let reply = app
        .command_reply_in(TEAM, CHANNEL, ALICE, "/learn", "debrief nudge")
        .await;
    assert!(
        reply_text(&reply).contains("Looking for who has not reflected"),
        "{reply}"
    );
    // The fake's members: Alice (facilitator), Bob (reflected), Carol, Dave, Zed.
    ephemeral_to(&app, ALICE, "Nudged 3 people about *Outage review*").await;
    let said = ephemerals_to(&app, ALICE).await.join("\n");
    for name in ["U0BOB", "U0CAROL", "U0DAVE", "U0ZED"] {
        assert!(!said.contains(name), "no names: {said}");
    }
    wait_for_outbox(&app, ws).await;
    assert!(
        dms_to(&app, BOB).await.is_empty(),
        "who reflected is not nudged"
    );
    let to_carol = dms_to(&app, CAROL).await;
    assert_eq!(to_carol.len(), 1);
    assert!(
        to_carol[0].contains("anonymous: your name is never shown"),
        "{}",
        to_carol[0]
    );
    // Nudging is the facilitator's, also from the command line.
    let reply = app
        .command_reply_in(TEAM, CHANNEL, BOB, "/learn", "debrief nudge")
        .await;
    assert!(
        reply_text(&reply).contains("You facilitate no open debrief"),
        "{reply}"
    );
    // Closed, the debrief takes its nudges along: who had not reflected is not kept.
    crate::debriefs::close_as_is(&app, CHANNEL, ALICE, id).await;
    wait_for_outbox(&app, ws).await;
    let db = database(&app).await;
    let kept: i64 = db::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE channel IN ('U0CAROL', 'U0DAVE', 'U0ZED')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(kept, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_closes_in_date_in_the_past_is_refused_and_a_template_may_be_anonymous() {
    let (app, _clock) = spawn_app_at(monday()).await;
    let reply = app
        .command_reply_in(
            TEAM,
            CHANNEL,
            ALICE,
            "/debrief",
            "--closes-in 2026-11-01 Sprint",
        )
        .await;
    assert!(
        reply_text(&reply).contains("2026-11-01 is not in the future"),
        "{reply}"
    );
    let (id, _) = start(&app, "--template failure-story The migration").await;
    let db = database(&app).await;
    let anonymous: bool = db::query_scalar("SELECT anonymous != 0 FROM debriefs WHERE id = ?")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        anonymous,
        "a failure story is anonymous unless said otherwise"
    );
    app.stop().await;
}

/// A submitted review page: as shown, with `changes` by field.
fn review_page(user: &str, view: &Value, changes: &[(String, Value)]) -> String {
    json!({
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
        "view": {"id": "V3", "callback_id": "debrief.review",
                 "private_metadata": view["private_metadata"],
                 "state": {"values": view_state(view, changes)}},
    })
    .to_string()
}

/// The review's candidates as the view shows them: (key, label, text).
fn candidates_of(view: &Value) -> Vec<(String, String, String)> {
    view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|block| {
            let id = block["block_id"].as_str()?;
            let key = id.strip_prefix("q_r.")?.strip_suffix(".text")?;
            Some((
                key.to_owned(),
                block["label"]["text"].as_str()?.to_owned(),
                block["element"]["initial_value"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

#[tokio::test]
async fn the_facilitators_review_merges_drops_edits_and_thanks_before_the_summary() {
    let (app, _clock) = spawn_app_at(monday()).await;
    let (id, card_ts) = start(&app, "Release 2.3").await;
    let ws = workspace(&app).await;
    for (user, went_well, could_be_better, try_next) in [
        (
            BOB,
            "Flaky tests slowed the release\nPizza",
            "Thanks Carol for pairing on the rollback",
            "Quarantine flaky tests",
        ),
        (
            CAROL,
            "flaky tests slowed the release",
            "Staging data was stale",
            "Refresh staging <@U0DAVE>",
        ),
    ] {
        let form = submission(
            user,
            id,
            &[
                ("went_well", Input::Text(went_well)),
                ("could_be_better", Input::Text(could_be_better)),
                ("try_next", Input::Text(try_next)),
            ],
        );
        assert_eq!(app.interaction(&form).await.status(), 200);
    }
    // Close opens the review for the facilitator; nothing is closed yet.
    app.interaction(&click(ALICE, "debrief.close", id)).await;
    let opened = app.wait_for_slack_calls("views.open", 1).await;
    let view = opened[0]["view"].clone();
    assert_eq!(view["callback_id"], "debrief.review");
    let db = database(&app).await;
    let open: bool = db::query_scalar("SELECT closed_at IS NULL FROM debriefs WHERE id = ?")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(open, "the review closes it, not the click");
    let candidates = candidates_of(&view);
    let labels: Vec<(&str, &str)> = candidates
        .iter()
        .map(|(_, label, text)| (label.as_str(), text.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("Lesson (×2)", "Flaky tests slowed the release"),
            ("Lesson", "Pizza"),
            ("Lesson", "Thanks Carol for pairing on the rollback"),
            ("Action", "Quarantine flaky tests"),
            ("Lesson", "Staging data was stale"),
            ("Action", "Refresh staging <@U0DAVE>"),
        ],
        "near-identical lines come merged, with a count"
    );
    let key = |i: usize| candidates[i].0.clone();
    let radio = |value: &str| json!({"type": "radio_buttons", "selected_option": {"value": value}});
    let text = |value: &str| json!({"type": "plain_text_input", "value": value});
    let submitted = review_page(
        ALICE,
        &view,
        &[
            (format!("r.{}.verdict", key(1)), radio("drop")),
            (format!("r.{}.verdict", key(2)), radio("kudos")),
            (
                format!("r.{}.text", key(4)),
                text("Refresh staging data every Monday #staging"),
            ),
            (
                format!("r.{}.owner", key(3)),
                json!({"type": "users_select", "selected_user": CAROL}),
            ),
        ],
    );
    // Dave reflects while the facilitator reviews: his line is not published unseen.
    let late = submission(
        DAVE,
        id,
        &[("could_be_better", Input::Text("Alerts fired late"))],
    );
    assert_eq!(app.interaction(&late).await.status(), 200);
    let response = app.interaction(&submitted).await;
    let next: Value = response.json().await.unwrap();
    assert_eq!(next["response_action"], "update", "{next}");
    let late_page = next["view"].clone();
    assert!(
        late_page
            .to_string()
            .contains("1 more candidate came in while you reviewed"),
        "{late_page}"
    );
    let late_candidates = candidates_of(&late_page);
    assert_eq!(late_candidates.len(), 1);
    assert_eq!(late_candidates[0].2, "Alerts fired late");
    let response = app.interaction(&review_page(ALICE, &late_page, &[])).await;
    assert_eq!(response.text().await.unwrap(), "", "the modal closes");
    wait_for_outbox(&app, ws).await;

    let summary: String = app
        .slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["thread_ts"] == card_ts.as_str())
        .map(reply_text)
        .collect();
    assert_eq!(
        summary.matches("Flaky tests slowed the release").count(),
        1,
        "{summary}"
    );
    assert!(
        summary.contains("Flaky tests slowed the release _(×2)_"),
        "{summary}"
    );
    assert!(!summary.contains("Pizza"), "dropped: {summary}");
    assert!(
        summary.contains(":tada: *Kudos*\n• Thanks Carol for pairing on the rollback — <@U0BOB>"),
        "{summary}"
    );
    assert!(
        summary.contains("Quarantine flaky tests — owner <@U0CAROL>"),
        "the picked owner: {summary}"
    );
    assert!(summary.contains("1 candidate was left out"), "{summary}");
    let rows: Vec<(String, String, Option<String>)> =
        db::query_as("SELECT kind, text, owner FROM lessons WHERE debrief_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap();
    let rows: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .map(|(k, t, o)| (k.as_str(), t.as_str(), o.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("lesson", "Flaky tests slowed the release", Some(BOB)),
            ("action", "Quarantine flaky tests", Some(CAROL)),
            (
                "lesson",
                "Refresh staging data every Monday #staging",
                Some(CAROL)
            ),
            ("action", "Refresh staging <@U0DAVE>", Some(DAVE)),
            ("lesson", "Alerts fired late", Some(DAVE)),
        ]
    );
    let review_rows: i64 = db::query_scalar("SELECT COUNT(*) FROM debrief_reviews")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(review_rows, 0, "the review's working state goes at close");
    app.stop().await;
}

#[tokio::test]
async fn a_long_review_pages_and_an_expired_one_closes_as_it_is() {
    let (app, _clock) = spawn_app_at(monday()).await;
    let (id, _) = start(&app, "Big retro").await;
    let ws = workspace(&app).await;
    // 25 different lessons: two pages.
    let lines: Vec<String> = (0..25)
        .map(|i| {
            let word = ["ka", "lo", "mi", "ne", "po"][i % 5].to_owned()
                + ["bar", "dex", "fin", "gol", "hup"][i / 5];
            format!("{word} mattered")
        })
        .collect();
    for (user, part) in [(BOB, &lines[..15]), (CAROL, &lines[15..])] {
        let form = submission(user, id, &[("went_well", Input::Text(&part.join("\n")))]);
        assert_eq!(app.interaction(&form).await.status(), 200);
    }
    app.interaction(&click(ALICE, "debrief.close", id)).await;
    let first = app.wait_for_slack_calls("views.open", 1).await[0]["view"].clone();
    assert_eq!(candidates_of(&first).len(), 20);
    assert_eq!(first["submit"]["text"], "Next 20");
    assert!(first["blocks"].as_array().unwrap().len() <= 100);
    // Page 1: drop the first line; Slack gets page 2 in its place.
    let drop = json!({"type": "radio_buttons", "selected_option": {"value": "drop"}});
    let key = candidates_of(&first)[0].0.clone();
    let next = app
        .interaction(&review_page(
            ALICE,
            &first,
            &[(format!("r.{key}.verdict"), drop)],
        ))
        .await;
    let next: Value = next.json().await.unwrap();
    assert_eq!(next["response_action"], "update");
    let second = next["view"].clone();
    assert_eq!(candidates_of(&second).len(), 5);
    assert_eq!(second["submit"]["text"], "Close and publish");
    let done = app.interaction(&review_page(ALICE, &second, &[])).await;
    assert_eq!(done.text().await.unwrap(), "");
    wait_for_outbox(&app, ws).await;
    let db = database(&app).await;
    let kept: i64 = db::query_scalar("SELECT COUNT(*) FROM lessons WHERE debrief_id = ?")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(kept, 24, "the first page's drop is remembered on the last");

    // "Publish the rest as they are" on the first page closes at once.
    wait_for_outbox(&app, ws).await;
    let (quick, _) = start(&app, "Big retro, quickly").await;
    for (user, part) in [(BOB, &lines[..15]), (CAROL, &lines[15..])] {
        let form = submission(user, quick, &[("went_well", Input::Text(&part.join("\n")))]);
        assert_eq!(app.interaction(&form).await.status(), 200);
    }
    app.interaction(&click(ALICE, "debrief.close", quick)).await;
    let opened = app.wait_for_slack_calls("views.open", 2).await;
    let page = opened.last().unwrap()["view"].clone();
    let rest = json!({"type": "checkboxes", "selected_options": [{"value": "yes"}]});
    let done = app
        .interaction(&review_page(
            ALICE,
            &page,
            &[("publish_rest".to_owned(), rest)],
        ))
        .await;
    assert_eq!(done.text().await.unwrap(), "");
    let kept: i64 = db::query_scalar("SELECT COUNT(*) FROM lessons WHERE debrief_id = ?")
        .bind(quick)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(kept, 25, "every candidate, as it was");
    wait_for_outbox(&app, ws).await;

    // Another debrief whose review cannot open (Slack refuses the expired trigger):
    // it closes as it is, and the facilitator is told.
    let (other, _) = start(&app, "Expired review").await;
    let form = submission(BOB, other, &[("went_well", Input::Text("Pairing helped"))]);
    assert_eq!(app.interaction(&form).await.status(), 200);
    Mock::given(method("POST"))
        .and(path("/api/views.open"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "expired_trigger_id"})),
        )
        .with_priority(1)
        .mount(&app.slack)
        .await;
    app.interaction(&click(ALICE, "debrief.close", other)).await;
    wait_for_outbox(&app, ws).await;
    let told = ephemerals_to(&app, ALICE).await.join("\n");
    assert!(
        told.contains("The review form did not open")
            && told.contains("*Expired review* is closed"),
        "{told}"
    );
    let closed: bool = db::query_scalar("SELECT closed_at IS NOT NULL FROM debriefs WHERE id = ?")
        .bind(other)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(closed);
    app.stop().await;
}

/// The Done / Still open / Drop button of the open action whose line holds `text`.
fn since_button(message: &Value, text: &str, action: &str) -> String {
    let blocks = message["blocks"].as_array().unwrap();
    let line = blocks
        .iter()
        .position(|b| b["text"]["text"].as_str().is_some_and(|t| t.contains(text)))
        .unwrap_or_else(|| panic!("`{text}` in {message}"));
    blocks[line + 1]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action_id"] == action)
        .and_then(|e| e["value"].as_str())
        .unwrap()
        .to_owned()
}

fn since_click(user: &str, action: &str, value: &str) -> String {
    json!({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
        "trigger_id": "t", "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": CHANNEL},
        "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": value}],
    })
    .to_string()
}

#[tokio::test]
async fn the_next_retro_starts_from_last_times_open_actions() {
    let (app, clock) = spawn_app_at(monday()).await;
    let (first, _) = start(&app, "Sprint 41").await;
    let ws = workspace(&app).await;
    let form = submission(
        BOB,
        first,
        &[(
            "try_next",
            Input::Text("Write the rollback runbook\n<@U0DAVE> automates the release notes"),
        )],
    );
    assert_eq!(app.interaction(&form).await.status(), 200);
    crate::debriefs::close_as_is(&app, CHANNEL, ALICE, first).await;
    wait_for_outbox(&app, ws).await;

    // The next debrief's card lists them, oldest first, with their owners.
    clock.advance(7 * 86_400);
    let (second, _) = start(&app, "Sprint 42").await;
    wait_for_outbox(&app, ws).await;
    let card = app
        .slack_calls("chat.postMessage")
        .await
        .into_iter()
        .rfind(|c| c["channel"] == CHANNEL && c.get("thread_ts").is_none())
        .unwrap();
    let shown = reply_text(&card);
    assert!(shown.contains("Since last time"), "{shown}");
    assert!(
        shown.find("Write the rollback runbook — owner <@U0BOB>")
            < shown.find("<@U0DAVE> automates the release notes — owner <@U0DAVE>"),
        "{shown}"
    );

    // Dave says his is done; Carol may not speak for Bob's; the facilitator may.
    let done = since_button(&card, "release notes", "action.done");
    assert_eq!(
        done,
        format!("{}:{second}", done.split(':').next().unwrap())
    );
    app.interaction(&since_click(DAVE, "action.done", &done))
        .await;
    let bobs = since_button(&card, "rollback runbook", "action.drop");
    app.interaction(&since_click(CAROL, "action.drop", &bobs))
        .await;
    // A facilitator of a debrief elsewhere cannot speak for it either, whatever the
    // button's value says.
    let (lesson, _) = bobs.split_once(':').unwrap();
    let elsewhere = app
        .command_reply_in(TEAM, "C0OTHER", CAROL, "/debrief", "Elsewhere")
        .await;
    assert!(reply_text(&elsewhere).contains("started"), "{elsewhere}");
    let db = database(&app).await;
    let carols: i64 = db::query_scalar("SELECT id FROM debriefs WHERE title = 'Elsewhere'")
        .fetch_one(&db)
        .await
        .unwrap();
    let forged = json!({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": CAROL},
        "trigger_id": "t", "channel": {"id": "C0OTHER"},
        "actions": [{"type": "button", "action_id": "action.drop", "block_id": "b",
                     "value": format!("{lesson}:{carols}")}],
    });
    app.interaction(&forged.to_string()).await;
    ephemeral_to(&app, CAROL, "Only <@U0BOB> or the debrief's facilitator").await;
    let still = since_button(&card, "rollback runbook", "action.still_open");
    app.interaction(&since_click(ALICE, "action.still_open", &still))
        .await;
    wait_for_outbox(&app, ws).await;
    let open: String =
        db::query_scalar("SELECT status FROM lessons WHERE text = 'Write the rollback runbook'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(open, "open", "neither of Carol's clicks dropped it");
    assert!(
        ephemerals_to(&app, DAVE)
            .await
            .join("\n")
            .contains("Marked done: <@U0DAVE> automates"),
        "{:?}",
        ephemerals_to(&app, DAVE).await
    );
    assert!(
        ephemerals_to(&app, CAROL)
            .await
            .join("\n")
            .contains("Only <@U0BOB> or the debrief's facilitator"),
        "{:?}",
        ephemerals_to(&app, CAROL).await
    );
    let updated = reply_text(app.slack_calls("chat.update").await.last().unwrap());
    assert!(
        !updated.contains("Since last time"),
        "both answered for: {updated}"
    );
    let db = database(&app).await;
    let statuses: Vec<(String, String)> =
        db::query_as("SELECT text, status FROM lessons WHERE debrief_id = ? ORDER BY id")
            .bind(first)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        [
            ("Write the rollback runbook".to_owned(), "open".to_owned()),
            (
                "<@U0DAVE> automates the release notes".to_owned(),
                "applied".to_owned()
            ),
        ]
    );

    // The summary of the new debrief says what was closed during it.
    crate::debriefs::close_as_is(&app, CHANNEL, ALICE, second).await;
    wait_for_outbox(&app, ws).await;
    let summary = app
        .slack_calls("chat.postMessage")
        .await
        .into_iter()
        .filter(|c| c["channel"] == CHANNEL && c.get("thread_ts").is_some())
        .map(|c| reply_text(&c))
        .next_back()
        .unwrap();
    assert!(
        summary.contains("• <@U0DAVE> automates the release notes — owner <@U0DAVE> · *done*")
            && summary.contains("• Write the rollback runbook — owner <@U0BOB> · *still open*"),
        "{summary}"
    );

    // A retro reminder in the channel starts from what is still open.
    let set = app
        .command_reply_in(TEAM, CHANNEL, ALICE, "/learn", "retro fridays 16:00")
        .await;
    assert!(reply_text(&set).contains("Retro reminder set"), "{set}");
    // From Monday 10:00 to Friday 16:01.
    clock.advance(4 * 86_400 + 6 * 3600 + 60);
    app.scheduler.fire_due().await.unwrap();
    wait_for_outbox(&app, ws).await;
    let reminder = app
        .slack_calls("chat.postMessage")
        .await
        .into_iter()
        .rfind(|c| c["channel"] == CHANNEL && reply_text(c).contains("Start the retro"))
        .expect("the reminder");
    let text = reply_text(&reminder);
    assert!(text.contains("Since last time"), "{text}");
    assert!(
        !text.contains("release notes"),
        "settled ones are gone: {text}"
    );
    let from_reminder = since_button(&reminder, "rollback runbook", "action.done");
    assert!(from_reminder.ends_with(":0"), "{from_reminder}");
    app.interaction(&since_click(BOB, "action.done", &from_reminder))
        .await;
    let status: String =
        db::query_scalar("SELECT status FROM lessons WHERE text = 'Write the rollback runbook'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(status, "applied", "its owner settles it from the reminder");
    app.stop().await;
}
