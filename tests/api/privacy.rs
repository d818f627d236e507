//! Privacy scopes end to end: a private conversation's lessons are shown only inside it
//! (search, digests, "learn before doing" on cards), public channels' lessons are
//! shared, and a channel that is shared with another organisation, fails its lookup or
//! changes is private at once.

use learnloop::store::db;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use learnloop::clock::ShiftedClock;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::debriefs::{ALICE, Input, database, run_debrief, wait_for_outbox, workspace};
use crate::support::{TEAM, TestApp, monday, reply_text, spawn_app_at};

const PUBLIC: &str = "C0CHAN";
/// A private channel (Slack's `G…` ids; the fake Slack calls them private).
const SECRET: &str = "G0SECRET";
const PUBLIC_LESSON: &str = "Feature flags let us roll back fast";
const SECRET_LESSON: &str = "The merger slipped because legal signed late";
const SECRET_TITLE: &str = "Project Falcon merger";

/// The newest card posted in `channel` after `seen` messages there, and its debrief id.
async fn card_in(app: &TestApp, channel: &str, seen: usize) -> (i64, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cards: Vec<Value> = app
            .slack_calls("chat.postMessage")
            .await
            .into_iter()
            .filter(|c| c["channel"] == channel && c.get("thread_ts").is_none())
            .collect();
        if cards.len() > seen {
            let card = cards.last().unwrap();
            let id = card["blocks"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b["elements"].as_array())
                .flatten()
                .find(|e| e["action_id"] == "debrief.reflect")
                .and_then(|e| e["value"].as_str())
                .and_then(|v| v.parse().ok())
                .expect("a debrief card");
            return (id, reply_text(card));
        }
        assert!(Instant::now() < deadline, "no card in {channel}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn cards_in(app: &TestApp, channel: &str) -> usize {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == channel && c.get("thread_ts").is_none())
        .count()
}

/// A debrief in `channel` where Bob's lesson is `lesson`; the summary's text.
async fn debrief_in(app: &TestApp, channel: &str, title: &str, lesson: &str) -> String {
    run_debrief(app, channel, title, &[("went_well", Input::Text(lesson))])
        .await
        .1
}

/// From now on the fake Slack describes `channel` as shared with another organisation.
async fn slack_connect_channel(app: &TestApp, channel: &str) {
    Mock::given(method("POST"))
        .and(path("/api/conversations.info"))
        .and(body_string_contains(channel))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "channel": {
                "id": channel, "is_channel": true, "is_private": false, "is_shared": true,
                "is_ext_shared": true, "is_org_shared": false, "is_im": false, "is_mpim": false,
            }})),
        )
        .mount(&app.slack)
        .await;
}

/// Sets a Monday digest in `channel`, moves to the next Monday at 09:00 and fires it;
/// the text posted.
async fn weekly_digest_in(app: &TestApp, clock: &ShiftedClock, channel: &str) -> String {
    app.command_reply_in(TEAM, channel, ALICE, "/learn", "digest mondays 09:00")
        .await;
    clock.set(
        Utc.with_ymd_and_hms(2026, 11, 9, 9, 0, 5)
            .unwrap()
            .timestamp(),
    );
    let fired = app.scheduler.fire_due().await.unwrap();
    assert_eq!(fired.sent, 1, "{fired:?}");
    wait_for_outbox(app, workspace(app).await).await;
    digests_posted_in(app, channel).await
}

/// The text of every digest posted in `channel`.
async fn digests_posted_in(app: &TestApp, channel: &str) -> String {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == channel)
        .map(reply_text)
        .filter(|t| t.contains("What we learned"))
        .collect()
}

async fn lessons_in(app: &TestApp, channel: &str, query: &str) -> String {
    let text = format!("lessons {query}");
    reply_text(
        &app.command_reply_in(TEAM, channel, ALICE, "/learn", text.trim())
            .await,
    )
}

#[tokio::test]
async fn a_private_channels_lessons_are_shown_only_inside_it() {
    let (app, clock) = spawn_app_at(monday()).await;
    let public_summary = debrief_in(&app, PUBLIC, "Release 2.3 rollout", PUBLIC_LESSON).await;
    assert!(
        public_summary.contains("shared with the whole workspace"),
        "the summary says who sees its lessons: {public_summary}"
    );
    let secret_summary = debrief_in(&app, SECRET, SECRET_TITLE, SECRET_LESSON).await;
    assert!(secret_summary.contains(SECRET_LESSON), "{secret_summary}");
    assert!(
        secret_summary.contains("private, so its lessons are shown only here"),
        "{secret_summary}"
    );

    // Search: the private lesson only inside its channel; the public one everywhere.
    for (channel, query) in [(PUBLIC, ""), (PUBLIC, "legal"), ("D0ALICE", "legal")] {
        let found = lessons_in(&app, channel, query).await;
        assert!(
            !found.contains(SECRET_LESSON),
            "{channel} `{query}`: {found}"
        );
        assert!(!found.contains("Falcon"), "{channel} `{query}`: {found}");
    }
    assert!(
        lessons_in(&app, "D0ALICE", "")
            .await
            .contains(PUBLIC_LESSON)
    );
    assert!(
        lessons_in(&app, SECRET, "legal")
            .await
            .contains(SECRET_LESSON)
    );
    let inside = lessons_in(&app, SECRET, "").await;
    assert!(
        inside.contains(SECRET_LESSON) && inside.contains(PUBLIC_LESSON),
        "{inside}"
    );

    // Digest previews: a DM and the public channel see only public lessons.
    for channel in ["D0ALICE", PUBLIC] {
        let digest = reply_text(
            &app.command_reply_in(TEAM, channel, ALICE, "/learn", "digest now")
                .await,
        );
        assert!(digest.contains(PUBLIC_LESSON), "{channel}: {digest}");
        assert!(!digest.contains(SECRET_LESSON), "{channel}: {digest}");
        assert!(!digest.contains("Falcon"), "{channel}: {digest}");
        assert!(digest.contains("1 debrief held"), "{channel}: {digest}");
    }
    let own = reply_text(
        &app.command_reply_in(TEAM, SECRET, ALICE, "/learn", "digest now")
            .await,
    );
    assert!(
        own.contains(SECRET_LESSON) && own.contains(PUBLIC_LESSON),
        "{own}"
    );

    // Learn before doing: a new card elsewhere does not offer the private lesson.
    let seen = cards_in(&app, PUBLIC).await;
    app.command_reply_in(
        TEAM,
        PUBLIC,
        ALICE,
        "/debrief",
        "Legal review of the merger",
    )
    .await;
    let (_, card) = card_in(&app, PUBLIC, seen).await;
    assert!(!card.contains(SECRET_LESSON), "{card}");
    let seen = cards_in(&app, SECRET).await;
    app.command_reply_in(
        TEAM,
        SECRET,
        ALICE,
        "/debrief",
        "Legal review of the merger",
    )
    .await;
    let (_, card) = card_in(&app, SECRET, seen).await;
    assert!(
        card.contains(SECRET_LESSON),
        "its own channel learns from it: {card}"
    );

    // The weekly digest posted in the public channel.
    let posted = weekly_digest_in(&app, &clock, PUBLIC).await;
    assert!(posted.contains(PUBLIC_LESSON), "{posted}");
    assert!(!posted.contains(SECRET_LESSON), "{posted}");

    // Stored: the private lesson is marked private for good.
    let db = database(&app).await;
    let visibility: Vec<(String, String)> =
        db::query_as("SELECT text, visibility FROM lessons ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        visibility,
        vec![
            (PUBLIC_LESSON.to_owned(), "shared".to_owned()),
            (SECRET_LESSON.to_owned(), "private".to_owned()),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn slack_connect_channels_and_failed_lookups_are_private() {
    let (app, _clock) = spawn_app_at(monday()).await;
    slack_connect_channel(&app, "C0CONNECT").await;
    Mock::given(method("POST"))
        .and(path("/api/conversations.info"))
        .and(body_string_contains("C0BROKEN"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": false, "error": "missing_scope", "needed": "channels:read"}),
        ))
        .mount(&app.slack)
        .await;
    let connect = debrief_in(
        &app,
        "C0CONNECT",
        "Vendor outage",
        "Ask the vendor for status pages",
    )
    .await;
    assert!(
        connect.contains("shared with another organisation"),
        "{connect}"
    );
    let broken = debrief_in(
        &app,
        "C0BROKEN",
        "Quarter close",
        "Close the books a day earlier",
    )
    .await;
    assert!(broken.contains("could not confirm"), "{broken}");
    for channel in [PUBLIC, "D0ALICE"] {
        let found = lessons_in(&app, channel, "").await;
        assert!(!found.contains("vendor"), "{channel}: {found}");
        assert!(!found.contains("books"), "{channel}: {found}");
    }
    assert!(
        lessons_in(&app, "C0CONNECT", "vendor")
            .await
            .contains("status pages")
    );

    // Slack answers again later and says C0BROKEN is public: it may have been private
    // when the debrief closed, so what was said there stays there.
    let db = database(&app).await;
    db::query(
        "UPDATE conversation_scopes SET public = 1, kind = 'public_channel' \
         WHERE conversation = 'C0BROKEN'",
    )
    .execute(&db)
    .await
    .unwrap();
    for query in ["books", ""] {
        let found = lessons_in(&app, PUBLIC, query).await;
        assert!(!found.contains("a day earlier"), "`{query}`: {found}");
    }
    assert!(
        lessons_in(&app, "C0BROKEN", "books")
            .await
            .contains("a day earlier")
    );
    app.stop().await;
}

#[tokio::test]
async fn what_is_posted_where_outsiders_read_shows_only_that_channels_lessons() {
    let (app, clock) = spawn_app_at(monday()).await;
    slack_connect_channel(&app, "C0CONNECT").await;
    debrief_in(&app, PUBLIC, "Release 2.3 rollout", PUBLIC_LESSON).await;
    let own = "Ask the vendor for rollout status pages";
    debrief_in(&app, "C0CONNECT", "Vendor rollout", own).await;
    assert!(
        lessons_in(&app, "D0ALICE", "rollout")
            .await
            .contains(PUBLIC_LESSON),
        "the workspace's people see the public lesson"
    );

    // Alice's own answers there are ephemeral, shown to her alone (a member of the
    // workspace): they may show public lessons, as anywhere else she asks.
    let found = lessons_in(&app, "C0CONNECT", "rollout").await;
    assert!(
        found.contains(own) && found.contains(PUBLIC_LESSON),
        "{found}"
    );
    let preview = reply_text(
        &app.command_reply_in(TEAM, "C0CONNECT", ALICE, "/learn", "digest now")
            .await,
    );
    assert!(preview.contains("only you see this"), "{preview}");

    // What is posted for everyone there (people of another organisation read it): a
    // new card and the weekly digest show its own lessons, never the workspace's
    // public ones.
    let seen = cards_in(&app, "C0CONNECT").await;
    app.command_reply_in(
        TEAM,
        "C0CONNECT",
        ALICE,
        "/debrief",
        "Release rollout again",
    )
    .await;
    let (_, card) = card_in(&app, "C0CONNECT", seen).await;
    assert!(card.contains(own), "it learns from its own: {card}");
    assert!(!card.contains(PUBLIC_LESSON), "{card}");

    // The weekly digest posted there.
    let posted = weekly_digest_in(&app, &clock, "C0CONNECT").await;
    assert!(posted.contains(own), "{posted}");
    assert!(!posted.contains(PUBLIC_LESSON), "{posted}");
    app.stop().await;
}

#[tokio::test]
async fn a_channel_shared_with_another_organisation_hides_its_lessons_at_once() {
    let (app, _clock) = spawn_app_at(monday()).await;
    debrief_in(&app, PUBLIC, "Release 2.3 rollout", PUBLIC_LESSON).await;
    assert!(
        lessons_in(&app, "D0ALICE", "")
            .await
            .contains(PUBLIC_LESSON)
    );

    // From now on Slack describes the channel as shared with another organisation.
    Mock::given(method("POST"))
        .and(path("/api/conversations.info"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "channel": {
                "id": PUBLIC, "is_channel": true, "is_private": false, "is_shared": true,
                "is_ext_shared": true, "is_im": false, "is_mpim": false,
            }})),
        )
        .mount(&app.slack)
        .await;
    let shared = json!({
        "type": "event_callback", "team_id": TEAM, "api_app_id": "A0APP",
        "event_id": "EvShared1", "event_time": 1700000000,
        "event": {"type": "channel_shared", "connected_team_id": "E0OTHER",
                  "channel": PUBLIC, "event_ts": "1700000000.000100"},
    });
    assert_eq!(app.event(&shared).await.status(), 200);
    assert!(
        !lessons_in(&app, "D0ALICE", "")
            .await
            .contains(PUBLIC_LESSON),
        "hidden as soon as the event arrives"
    );
    // The refresher looks the channel up again and keeps it private.
    let deadline = Instant::now() + Duration::from_secs(10);
    let db = database(&app).await;
    loop {
        let kind: String =
            db::query_scalar("SELECT kind FROM conversation_scopes WHERE conversation = ?")
                .bind(PUBLIC)
                .fetch_one(&db)
                .await
                .unwrap();
        if kind == "shared_channel" {
            break;
        }
        assert!(Instant::now() < deadline, "looked up again: {kind}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !lessons_in(&app, "D0ALICE", "")
            .await
            .contains(PUBLIC_LESSON)
    );
    assert!(lessons_in(&app, PUBLIC, "").await.contains(PUBLIC_LESSON));
    app.stop().await;
}
