//! The Teams bot end to end: verified activities in, answers out through the outbox to a
//! fake Bot Framework connector and token endpoint that record every call.

use learnloop::store::db;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use learnloop::clock::{SharedClock, ShiftedClock, SystemClock};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::bot_framework::{APP_ID, BotFramework, KID};
use crate::support::{Options, TestApp, spawn_app_with};

const TENANT: &str = "72f988bf-0000-4000-8000-00000000c0de";
const TEAM: &str = "19:team@thread.tacv2";
const CHANNEL: &str = "19:general@thread.tacv2";
const BOT: &str = "28:6f1c2d3e-0000-4000-8000-00000000b07a";
const APP_PASSWORD: &str = "test-app-password";
/// The id the fake connector gives every message the bot posts.
const CARD: &str = "1700000009999";

/// A Teams user id and display name.
type Person = (&'static str, &'static str);
const ALICE: Person = ("29:alice", "Alice Example");
const BOB: Person = ("29:bob", "Bob Builder");

/// The fake connector (also the token endpoint, on `/token`) and the app.
struct Rig {
    app: TestApp,
    bot: BotFramework,
    connector: MockServer,
}

impl Rig {
    async fn start() -> Self {
        Self::start_with(Arc::new(SystemClock)).await
    }

    async fn start_with(clock: SharedClock) -> Self {
        let bot = BotFramework::start().await;
        let connector = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                "access_token": "bf-access-token-1",
            })))
            .mount(&connector)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1700000009999"})))
            .with_priority(u8::MAX)
            .mount(&connector)
            .await;
        // A 1:1 chat opened with a person is `a:chat-PERSON` (tests may mount their own).
        Mock::given(method("POST"))
            .and(path("/emea/v3/conversations"))
            .respond_with(|request: &wiremock::Request| {
                let opening: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                let person = opening["members"][0]["id"].as_str().unwrap_or_default();
                ResponseTemplate::new(201).set_body_json(json!({"id": format!("a:chat-{person}")}))
            })
            .with_priority(10)
            .mount(&connector)
            .await;
        let app = spawn_app_with(Options {
            env: vec![
                ("LEARNLOOP_TEAMS_APP_ID", APP_ID.to_owned()),
                ("LEARNLOOP_TEAMS_APP_PASSWORD", APP_PASSWORD.to_owned()),
                ("LEARNLOOP_TEAMS_TENANT_ID", TENANT.to_owned()),
                ("LEARNLOOP_TEAMS_OPENID_URL", bot.openid_url()),
                (
                    "LEARNLOOP_TEAMS_TOKEN_URL",
                    format!("{}/token", connector.uri()),
                ),
            ],
            clock,
            ..Options::default()
        })
        .await;
        Self {
            app,
            bot,
            connector,
        }
    }

    /// The service URL activities name: the fake connector's.
    fn service_url(&self) -> String {
        format!("{}/emea/", self.connector.uri())
    }

    async fn post(&self, activity: &Value) -> u16 {
        let claims = BotFramework::claims(&self.service_url(), self.app.clock.now().unix_seconds());
        let bearer = format!("Bearer {}", self.bot.token(KID, &claims));
        self.app
            .post_json_authorized("/teams/messages", &activity.to_string(), Some(&bearer))
            .await
            .status()
            .as_u16()
    }

    fn activity(&self, kind: &str) -> Value {
        json!({
            "type": kind,
            "serviceUrl": self.service_url(),
            "channelId": "msteams",
            "from": {"id": "29:alice", "name": "Alice Example", "aadObjectId": "aad-alice"},
            "recipient": {"id": BOT, "name": "learnloop"},
            "entities": [{"type": "clientInfo", "locale": "de-DE", "country": "DE",
                          "platform": "Web", "timezone": "Europe/Berlin"}],
            "channelData": {"tenant": {"id": TENANT}, "team": {"id": TEAM},
                            "channel": {"id": CHANNEL}},
        })
    }

    /// The bot, already in the team, on a clock the test moves.
    async fn in_the_team_at(unix: i64) -> (Self, Arc<ShiftedClock>) {
        let clock = Arc::new(ShiftedClock::at(unix));
        let rig = Self::start_with(clock.clone()).await;
        rig.add_bot_to_the_team().await;
        (rig, clock)
    }

    /// A message from `from` in their 1:1 `chat` with the bot.
    fn in_chat(&self, from: Person, chat: &str, id: &str) -> Value {
        let mut activity = self.activity("message");
        activity["id"] = json!(id);
        activity["from"] = json!({"id": from.0, "name": from.1});
        activity["conversation"] =
            json!({"id": chat, "conversationType": "personal", "tenantId": TENANT});
        activity["channelData"] = json!({"tenant": {"id": TENANT}});
        activity
    }

    /// A click on a card posted in the General channel (as message `CARD`): Teams sends
    /// the button's `data` back.
    fn click_on_card(&self, from: Person, id: &str, data: Value) -> Value {
        let mut click = self.activity("message");
        click["id"] = json!(id);
        click["from"] = json!({"id": from.0, "name": from.1});
        click["value"] = data;
        click["replyToId"] = json!(CARD);
        click["conversation"] = json!({"id": format!("{CHANNEL};messageid={CARD}"),
                                       "conversationType": "channel", "tenantId": TENANT});
        click
    }

    /// The General channel's members, as the connector lists them: Alice and Bob.
    async fn general_has_alice_and_bob(&self) {
        Mock::given(method("GET"))
            .and(path(
                "/emea/v3/conversations/19%3Ageneral%40thread.tacv2/members",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                {"id": "29:alice", "name": "Alice Example"},
                {"id": "29:bob", "name": "Bob Builder"},
            ])))
            .mount(&self.connector)
            .await;
    }

    /// Teams tells the bot it was added to the team (in its General channel).
    async fn add_bot_to_the_team(&self) {
        let mut added = self.activity("conversationUpdate");
        added["conversation"] =
            json!({"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT});
        added["membersAdded"] = json!([{"id": BOT}]);
        assert_eq!(self.post(&added).await, 200);
    }

    /// Alice @mentions the bot in a new thread of the General channel.
    async fn say(&self, id: &str, text: &str) -> u16 {
        self.say_as("29:alice", "Alice Example", id, text).await
    }

    /// Someone @mentions the bot in a new thread of the General channel.
    async fn say_as(&self, user: &str, name: &str, id: &str, text: &str) -> u16 {
        let mut activity = self.activity("message");
        activity["from"] = json!({"id": user, "name": name});
        activity["id"] = json!(id);
        activity["text"] = json!(format!("<at>learnloop</at> {text}"));
        activity["conversation"] = json!({
            "id": format!("{CHANNEL};messageid={id}"), "isGroup": true,
            "conversationType": "channel", "tenantId": TENANT,
        });
        self.post(&activity).await
    }

    /// The connector calls that send (not the token's, not roster reads, not the
    /// welcome card the bot posts where it is added), once there are `count` of them.
    async fn connector_calls(&self, count: usize) -> Vec<wiremock::Request> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let calls: Vec<_> = self
                .all_sends()
                .await
                .into_iter()
                .filter(|r| !is_welcome(r))
                .collect();
            if calls.len() >= count || Instant::now() > deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every call that sends, welcomes included.
    async fn all_sends(&self) -> Vec<wiremock::Request> {
        self.connector
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() != "/token" && r.method != wiremock::http::Method::GET)
            .collect()
    }

    /// The welcome cards sent, once there are `count` of them.
    async fn welcomes(&self, count: usize) -> Vec<wiremock::Request> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let welcomes: Vec<_> = self
                .all_sends()
                .await
                .into_iter()
                .filter(is_welcome)
                .collect();
            if welcomes.len() >= count || Instant::now() > deadline {
                return welcomes;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn token_calls(&self) -> Vec<wiremock::Request> {
        self.connector
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == "/token")
            .collect()
    }
}

/// Whether a connector call is the bot's welcome card, posted on its own where it was
/// added (a reply that opens with the welcome, to a first `help`, is an answer).
fn is_welcome(call: &wiremock::Request) -> bool {
    call.url.path().ends_with("/activities")
        && String::from_utf8_lossy(&call.body).contains("I help your team learn from its own work")
}

/// Unix seconds of `day` November 2026 at `hour`:00 UTC (the 2nd is a Monday).
fn in_november(day: u32, hour: u32) -> i64 {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .unwrap()
        .timestamp()
}

/// The text of every text element of a sent card activity, a line each.
fn card_text(call: &wiremock::Request) -> String {
    let activity: Value = serde_json::from_slice(&call.body).unwrap();
    crate::support::card_lines(&activity)
}

#[tokio::test]
async fn commands_in_a_channel_are_answered_in_their_thread_with_a_card() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    assert!(
        rig.connector_calls(0).await.is_empty(),
        "adding the bot sends nothing"
    );
    let thread_of = |id: &str| {
        format!(
            "/emea/v3/conversations/19%3Ageneral%40thread.tacv2%3Bmessageid%3D{id}/activities/{id}"
        )
    };
    let alices_chat = "/emea/v3/conversations/a%3Achat-29%3Aalice/activities";
    let sent_to = |calls: &[wiremock::Request], path: &str| -> Vec<String> {
        calls
            .iter()
            .filter(|c| c.url.path() == path)
            .map(card_text)
            .collect()
    };

    // A goal is Alice's alone: the answer goes to her 1:1 chat (opened for it), and
    // the thread only says so.
    assert_eq!(
        rig.say("1001", "goal add Learn Rust by 2027-03-01").await,
        200
    );
    let calls = rig.connector_calls(3).await;
    assert_eq!(
        calls.len(),
        3,
        "open the chat, answer there, note in the thread"
    );
    let opening: Value = serde_json::from_slice(
        &calls
            .iter()
            .find(|c| c.url.path() == "/emea/v3/conversations")
            .expect("a 1:1 chat is opened")
            .body,
    )
    .unwrap();
    assert_eq!(opening["members"][0]["id"], "29:alice");
    let in_thread = sent_to(&calls, &thread_of("1001"));
    assert_eq!(in_thread.len(), 1, "{in_thread:?}");
    assert!(in_thread[0].contains("1:1 chat"), "{in_thread:?}");
    assert!(
        !in_thread[0].contains("Learn Rust"),
        "nothing private in the channel"
    );
    let in_chat = sent_to(&calls, alices_chat);
    assert!(in_chat[0].contains("Learn Rust"), "{in_chat:?}");
    for call in &calls {
        assert_eq!(
            call.headers.get("authorization").unwrap(),
            "Bearer bf-access-token-1"
        );
    }

    assert_eq!(rig.say("1002", "goal list").await, 200);
    let calls = rig.connector_calls(5).await;
    let in_chat = sent_to(&calls, alices_chat);
    let listed = in_chat.last().unwrap();
    assert!(listed.contains("#1 Learn Rust"), "{listed}");
    assert!(
        !listed.contains("&lt;") && !listed.contains("<@"),
        "{listed}"
    );

    // One token for every call, asked for as the Bot Framework documents.
    let tokens = rig.token_calls().await;
    assert_eq!(tokens.len(), 1, "the token is cached");
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&tokens[0].body).unwrap();
    for expected in [
        ("grant_type", "client_credentials"),
        ("client_id", APP_ID),
        ("client_secret", APP_PASSWORD),
        ("scope", "https://api.botframework.com/.default"),
    ] {
        assert!(
            form.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{form:?}"
        );
    }

    // Personal schedules too, as on Slack.
    assert_eq!(rig.say("1003", "checkin mondays 09:00").await, 200);
    let calls = rig.connector_calls(7).await;
    assert!(
        sent_to(&calls, alices_chat)
            .iter()
            .any(|t| t.contains("check-in is set")),
        "{:?}",
        sent_to(&calls, alices_chat)
    );
    // Team-wide answers stay in the thread.
    assert_eq!(rig.say("1004", "help").await, 200);
    let calls = rig.connector_calls(8).await;
    let help = sent_to(&calls, &thread_of("1004"));
    assert!(help[0].contains("lessons"), "{help:?}");
}

#[tokio::test]
async fn a_throttled_answer_is_sent_again_after_the_wait_teams_asks_for() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    Mock::given(method("POST"))
        .and(path(
            "/emea/v3/conversations/19%3Ageneral%40thread.tacv2%3Bmessageid%3D2001/activities/2001",
        ))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&rig.connector)
        .await;
    let started = Instant::now();
    assert_eq!(rig.say("2001", "lessons deploy").await, 200);
    let calls = rig.connector_calls(2).await;
    assert_eq!(calls.len(), 2, "throttled once, then sent");
    assert_eq!(calls[0].body, calls[1].body, "the same answer again");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited as asked"
    );
}

#[tokio::test]
async fn a_message_from_a_conversation_the_bot_was_never_added_to_is_still_answered() {
    // Teams sends no conversationUpdate to a bot installed before this service ran;
    // the message itself is a verified reference.
    let rig = Rig::start().await;
    assert_eq!(rig.say("3001", "lessons deploy").await, 200);
    let calls = rig.connector_calls(1).await;
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0]
            .url
            .path()
            .ends_with("messageid%3D3001/activities/3001")
    );
}

#[test]
fn the_teams_app_manifest_names_one_bot_and_icons_of_the_right_size() {
    let root = env!("CARGO_MANIFEST_DIR");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/teams/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["bots"][0]["botId"], manifest["id"],
        "the bot is the app"
    );
    let scopes = manifest["bots"][0]["scopes"].as_array().unwrap();
    assert!(scopes.contains(&json!("team")));
    for (icon, size) in [("color", 192), ("outline", 32)] {
        let file = manifest["icons"][icon].as_str().unwrap();
        let png = std::fs::read(format!("{root}/teams/{file}")).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{file}");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), (size, size), "{file}");
    }
}

#[tokio::test]
async fn a_personal_chat_is_answered_in_the_team_where_the_bot_met_the_person() {
    let rig = Rig::start().await;
    let personal = |id: &str, text: &str| {
        let mut activity = rig.in_chat(ALICE, "a:1personal-chat", id);
        activity["text"] = json!(text);
        activity
    };
    // Someone the bot never met in a team is answered all the same, as a personal
    // install of their own.
    assert_eq!(rig.post(&personal("4000", "goal list")).await, 200);
    let calls = rig.connector_calls(1).await;
    assert!(
        card_text(&calls[0]).contains("no learning goals"),
        "{}",
        card_text(&calls[0])
    );

    // Once the bot met them in a team, their chat answers for that team.
    assert_eq!(rig.say("4001", "goal add Pair on a migration").await, 200);
    rig.connector_calls(4).await;
    assert_eq!(rig.post(&personal("4002", "goal list")).await, 200);
    let calls = rig.connector_calls(5).await;
    assert_eq!(calls.len(), 5);
    let answer = calls
        .iter()
        .find(|c| c.url.path() == "/emea/v3/conversations/a%3A1personal-chat/activities/4002")
        .expect("answered in the chat it was asked in");
    assert!(
        card_text(answer).contains("Pair on a migration"),
        "{}",
        card_text(answer)
    );
}

#[tokio::test]
async fn a_weekly_digest_set_in_a_teams_channel_is_posted_there_with_names() {
    let at = in_november;
    // Monday 2 November 2026, 10:00 UTC.
    let (rig, clock) = Rig::in_the_team_at(at(2, 10)).await;
    for (id, text) in [
        ("5001", "goal add Run a blameless postmortem"),
        ("5002", "goal share 1"),
        ("5003", "goal done 1"),
        ("5004", "digest mondays 09:00"),
    ] {
        assert_eq!(rig.say(id, text).await, 200, "{text}");
    }
    // Three goal answers in Alice's chat (opened once) with a note in each thread, and
    // the digest's confirmation in its thread.
    let calls = rig.connector_calls(8).await;
    assert_eq!(calls.len(), 8);
    let confirmation = calls
        .iter()
        .find(|c| c.url.path().ends_with("messageid%3D5004/activities/5004"))
        .expect("the digest command is answered in its thread");
    assert!(
        card_text(confirmation).contains("Mon"),
        "{}",
        card_text(confirmation)
    );

    // Nothing before the next Monday 09:00; then the digest goes to the channel itself.
    clock.set(at(9, 8));
    assert_eq!(rig.app.fire_due_and_count_sent_runs().await, 0);
    clock.set(at(9, 9) + 30);
    assert_eq!(rig.app.fire_due_and_count_sent_runs().await, 1);
    let calls = rig.connector_calls(9).await;
    assert_eq!(calls.len(), 9);
    assert_eq!(
        calls[8].url.path(),
        "/emea/v3/conversations/19%3Ageneral%40thread.tacv2/activities",
        "a new post in the channel, not a reply"
    );
    let digest = card_text(&calls[8]);
    assert!(
        digest.contains("Alice Example") && digest.contains("Run a blameless postmortem"),
        "the goal reached, with the name Teams gave: {digest}"
    );
}

/// Bob writes in his 1:1 chat with the bot.
async fn bob_in_private(rig: &Rig, id: &str, text: &str) -> u16 {
    let mut activity = rig.in_chat(BOB, "a:bob-chat", id);
    activity["text"] = json!(text);
    rig.post(&activity).await
}

/// The bot in the team, Bob's 1:1 chat ready to open (`a:bob-chat`), and Alice's retro
/// `title` started by message `id`: its card as posted in the channel.
async fn open_retro(rig: &Rig, id: &str, title: &str) -> wiremock::Request {
    Mock::given(method("POST"))
        .and(path("/emea/v3/conversations"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "a:bob-chat"})))
        .mount(&rig.connector)
        .await;
    rig.add_bot_to_the_team().await;
    let started = rig
        .say(id, &format!("debrief --template retro {title}"))
        .await;
    assert_eq!(started, 200);
    let calls = rig.connector_calls(2).await;
    calls
        .into_iter()
        .find(|c| c.url.path() == "/emea/v3/conversations/19%3Ageneral%40thread.tacv2/activities")
        .expect("the card is a new post in the channel")
}

#[tokio::test]
async fn a_debrief_in_teams_from_card_to_summary() {
    teams_debrief(&Rig::start().await).await;
}

/// Alice runs a retro in the General channel: Bob reflects from the card's "Reflect in
/// DM" button in his 1:1 chat, Alice closes it, and the summary lands in the thread.
async fn teams_debrief(rig: &Rig) {
    teams_debrief_reviewed(rig, &[]).await;
}

/// [`teams_debrief`], with the review's inputs whose id ends with `.0` set to `.1`.
async fn teams_debrief_reviewed(rig: &Rig, review_changes: &[(&str, &str)]) {
    // Alice starts it: the card goes to the channel, her answer to her thread.
    let card_post = open_retro(rig, "6001", "Outage review").await;
    let reflect_in_dm = button_data(&card_post, "debrief.reflect_dm");
    assert!(card_text(&card_post).contains("Outage review"));

    // Bob clicks "Reflect in DM" on the card: Teams sends the button's data back.
    let click = rig.click_on_card(BOB, "6002", reflect_in_dm);
    assert_eq!(rig.post(&click).await, 200);
    // The bot opens a 1:1 chat with Bob and asks the first question there.
    let calls = rig.connector_calls(5).await;
    let opened = calls
        .iter()
        .find(|c| c.url.path() == "/emea/v3/conversations")
        .expect("a 1:1 chat is created");
    let opening: Value = serde_json::from_slice(&opened.body).unwrap();
    assert_eq!(opening["members"][0]["id"], "29:bob");
    assert_eq!(opening["bot"]["id"], BOT);
    assert_eq!(opening["channelData"]["tenant"]["id"], TENANT);
    let first = calls
        .iter()
        .find(|c| c.url.path() == "/emea/v3/conversations/a%3Abob-chat/activities")
        .expect("the first question in Bob's chat");
    assert!(
        card_text(first).contains("What went well?"),
        "{}",
        card_text(first)
    );

    for (id, answer) in [
        ("7001", "Paging the on-call early saved the night"),
        ("7002", "skip"),
        ("7003", "Write the rollback runbook before the next release"),
        ("7004", "4"),
    ] {
        assert_eq!(bob_in_private(rig, id, answer).await, 200, "{answer}");
    }
    // Each answer is replied to in Bob's chat, and the card shows one reflection.
    let calls = rig.connector_calls(10).await;
    let updates: Vec<_> = calls
        .iter()
        .filter(|c| c.method == wiremock::http::Method::PUT)
        .collect();
    assert!(
        !updates.is_empty(),
        "the card is updated: {:?}",
        calls.iter().map(|c| c.url.path()).collect::<Vec<_>>()
    );
    assert_eq!(
        updates[0].url.path(),
        "/emea/v3/conversations/19%3Ageneral%40thread.tacv2/activities/1700000009999"
    );
    assert!(
        card_text(updates.last().unwrap()).contains('1'),
        "{}",
        card_text(updates.last().unwrap())
    );

    // Alice closes it: the review comes to her 1:1 chat; published as it is, the
    // summary goes into the card's thread.
    let before = rig.connector_calls(0).await.len();
    assert_eq!(rig.say("6003", "debrief close").await, 200);
    publish_review(rig, before, "6004", review_changes).await;
    // The reply, the chat opened, the review, the card, the review's answer, the summary.
    let calls = rig.connector_calls(before + 6).await;
    let summary: Vec<String> = calls[before..]
        .iter()
        .filter(|c| {
            c.url.path()
                == "/emea/v3/conversations/19%3Ageneral%40thread.tacv2%3Bmessageid%3D1700000009999/activities/1700000009999"
        })
        .map(card_text)
        .collect();
    let summary = summary.join("\n");
    assert!(
        summary.contains("Paging the on-call early saved the night"),
        "the lesson is in the summary: {summary}"
    );
    assert!(
        summary.contains("Bob Builder") && !summary.contains("someone"),
        "people are named as Teams names them: {summary}"
    );
    if review_changes.is_empty() {
        assert!(
            summary
                .contains("Write the rollback runbook before the next release — owner Bob Builder"),
            "{summary}"
        );
    }
}

/// Finds the review form sent (after `before` calls) to the facilitator's 1:1 chat and
/// submits it there as it is.
async fn publish_review(rig: &Rig, before: usize, id: &str, changes: &[(&str, &str)]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let review = loop {
        let calls = rig.connector_calls(0).await;
        let found = calls[before..]
            .iter()
            .find(|c| String::from_utf8_lossy(&c.body).contains("debrief.review"))
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "a review form was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let chat = review
        .url
        .path()
        .trim_start_matches("/emea/v3/conversations/")
        .trim_end_matches("/activities")
        .replace("%3A", ":");
    // Teams sends the button's data with every input's current value.
    let mut value = button_data(&review, "debrief.review");
    let activity: Value = serde_json::from_slice(&review.body).unwrap();
    for input in activity["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"].as_str().is_some_and(|t| t.starts_with("Input.")))
    {
        let id = input["id"].as_str().unwrap();
        value[id] = match changes.iter().find(|(suffix, _)| id.ends_with(suffix)) {
            Some((_, changed)) => json!(changed),
            None => input["value"].clone(),
        };
    }
    let mut submit = rig.in_chat(ALICE, &chat, id);
    submit["value"] = value;
    submit["replyToId"] = json!(CARD);
    assert_eq!(rig.post(&submit).await, 200);
}

#[tokio::test]
async fn a_lesson_of_a_teams_debrief_is_followed_up_in_its_owners_chat() {
    let at = |day: u32| in_november(day, 10);
    let clock = Arc::new(ShiftedClock::at(at(2)));
    let rig = Rig::start_with(clock.clone()).await;
    teams_debrief(&rig).await;
    let before = rig.connector_calls(0).await.len();

    // Two weeks later Bob, who wrote the lesson and the action item, is asked about
    // each in his 1:1 chat.
    clock.set(at(16) + 60);
    assert_eq!(rig.app.questions_asked(2).await, 2);
    let calls = rig.connector_calls(before + 2).await;
    let question = calls[before..]
        .iter()
        .filter(|c| c.url.path().ends_with("/activities"))
        .find(|c| card_text(c).contains("Paging the on-call early"))
        .expect("the lesson's question");
    assert_eq!(
        question.url.path(),
        "/emea/v3/conversations/a%3Abob-chat/activities"
    );
    let applied = button_data(question, "followup.applied");
    assert!(
        card_text(question).contains("Paging the on-call early"),
        "{}",
        card_text(question)
    );

    // Bob clicks Applied: the question is replaced by the answer, in place.
    let in_chat = |id: &str, value: Value| {
        let mut activity = rig.in_chat(BOB, "a:bob-chat", id);
        activity["value"] = value;
        activity["replyToId"] = json!(CARD);
        activity
    };
    assert_eq!(rig.post(&in_chat("8001", applied)).await, 200);
    let replaced = call_after(&rig, before + 2, |c| {
        c.method == wiremock::http::Method::PUT
            && c.url.path() == "/emea/v3/conversations/a%3Abob-chat/activities/1700000009999"
    })
    .await;
    assert!(
        card_text(&replaced).to_lowercase().contains("applied"),
        "{}",
        card_text(&replaced)
    );
    let db = crate::debriefs::database(&rig.app).await;
    let status: String = db::query_scalar("SELECT status FROM lessons WHERE text LIKE 'Paging%'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(status, "applied");
    // The debrief's summary thread hears it, with Bob's Teams name.
    let told = call_after(&rig, before + 2, |c| {
        c.method == wiremock::http::Method::POST
            && c.url.path().contains("messageid")
            && String::from_utf8_lossy(&c.body).contains("Applied")
    })
    .await;
    assert!(
        card_text(&told).contains("Applied by Bob Builder"),
        "{}",
        card_text(&told)
    );

    // "Add a note" on the answer: a note form in the same chat, checked, then saved on
    // the answer (Slack's note modal).
    let add_note = button_data(&replaced, "followup.note");
    assert_eq!(rig.post(&in_chat("8002", add_note)).await, 200);
    let form = call_after(&rig, before + 3, |c| {
        String::from_utf8_lossy(&c.body).contains("followup.note_save")
    })
    .await;
    let save = button_data(&form, "followup.note_save");
    let mut empty = save.clone();
    empty["note"] = json!("   ");
    assert_eq!(rig.post(&in_chat("8003", empty)).await, 200);
    call_after(&rig, before + 3, |c| {
        String::from_utf8_lossy(&c.body).contains("Write a note first")
    })
    .await;
    let mut note = save;
    note["note"] = json!("Paged at the first alert; back up in ten minutes");
    assert_eq!(rig.post(&in_chat("8004", note)).await, 200);
    call_after(&rig, before + 3, |c| {
        String::from_utf8_lossy(&c.body).contains("Noted")
    })
    .await;
    call_after(&rig, before + 3, |c| {
        c.method == wiremock::http::Method::PUT
            && String::from_utf8_lossy(&c.body).contains("back up in ten minutes")
            && String::from_utf8_lossy(&c.body).contains("How:")
    })
    .await;
    let noted: Option<String> = db::query_scalar(
        "SELECT f.note FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id \
         WHERE l.text LIKE 'Paging%' AND f.answer = 'applied'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        noted.as_deref(),
        Some("Paged at the first alert; back up in ten minutes")
    );
}

/// The first connector call after the first `after` that `wanted` picks, waiting up to
/// ten seconds for it.
async fn call_after(
    rig: &Rig,
    after: usize,
    wanted: impl Fn(&wiremock::Request) -> bool,
) -> wiremock::Request {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let calls = rig.connector_calls(0).await;
        if let Some(found) = calls.iter().skip(after).find(|c| wanted(c)) {
            return found.clone();
        }
        assert!(Instant::now() < deadline, "no such call after {after}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `data` of the card button `action` in a posted card activity.
fn button_data(call: &wiremock::Request, action: &str) -> Value {
    let activity: Value = serde_json::from_slice(&call.body).unwrap();
    activity["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["actions"].as_array())
        .flatten()
        .find(|a| a["data"]["action"] == action)
        .unwrap_or_else(|| panic!("no {action} button in {activity}"))["data"]
        .clone()
}

#[tokio::test]
async fn add_reflection_sends_a_form_to_the_persons_chat_and_checks_it() {
    let rig = Rig::start().await;
    let card = open_retro(&rig, "9001", "Release 2.3").await;
    let reflect = button_data(&card, "debrief.reflect");
    let debrief_id: i64 = reflect["value"].as_str().unwrap().parse().unwrap();

    assert_eq!(
        rig.post(&rig.click_on_card(BOB, "9002", reflect)).await,
        200
    );
    let calls = rig.connector_calls(5).await;
    let form_call = calls
        .iter()
        .find(|c| c.url.path() == "/emea/v3/conversations/a%3Abob-chat/activities")
        .expect("the form goes to Bob's 1:1 chat");
    let form: Value = serde_json::from_slice(&form_call.body).unwrap();
    let inputs: Vec<&str> = form["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"].as_str().unwrap_or_default().starts_with("Input."))
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        ["q_went_well", "q_could_be_better", "q_try_next", "q_mood"]
    );

    // Bob saves it with a rating out of range: the form comes back, in place, saying so.
    // Each submission is its own activity, with its own id.
    let submit = |id: &str, fields: Value| {
        let mut activity = rig.in_chat(BOB, "a:bob-chat", id);
        let mut value = json!({"action": "debrief.reflection", "debrief": debrief_id});
        for (key, field) in fields.as_object().unwrap() {
            value[key] = field.clone();
        }
        activity["value"] = value;
        activity["replyToId"] = json!(CARD);
        activity
    };
    let before = rig.connector_calls(0).await.len();
    let bad = submit(
        "9003",
        json!({"q_went_well": "Feature flags let us roll back fast", "q_mood": "9"}),
    );
    assert_eq!(rig.post(&bad).await, 200);
    let calls = rig.connector_calls(before + 1).await;
    let again = &calls[before];
    assert_eq!(again.method, wiremock::http::Method::PUT);
    assert_eq!(
        again.url.path(),
        "/emea/v3/conversations/a%3Abob-chat/activities/1700000009999"
    );
    let again: Value = serde_json::from_slice(&again.body).unwrap();
    let body = again["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap();
    assert!(
        body.iter().any(|b| b["color"] == "Attention"),
        "the problem is shown: {again}"
    );
    assert!(
        body.iter()
            .any(|b| b["value"] == "Feature flags let us roll back fast"),
        "what Bob typed is kept"
    );

    // A form of blanks comes back too: an empty reflection is not saved.
    let blank = submit("9005", json!({"q_went_well": " ", "q_could_be_better": ""}));
    assert_eq!(rig.post(&blank).await, 200);
    let calls = rig.connector_calls(before + 2).await;
    let blank_again = card_text(&calls[before + 1]);
    assert!(
        blank_again.contains("empty reflection is not saved"),
        "{blank_again}"
    );

    let good = submit(
        "9004",
        json!({"q_went_well": "Feature flags let us roll back fast", "q_mood": "4"}),
    );
    assert_eq!(rig.post(&good).await, 200);
    let calls = rig.connector_calls(before + 4).await;
    let texts: Vec<String> = calls[before + 2..].iter().map(card_text).collect();
    assert!(
        texts.iter().any(|t| t.contains("Saved your reflection")),
        "{texts:?}"
    );
    let db = crate::debriefs::database(&rig.app).await;
    let stored: i64 = db::query_scalar("SELECT COUNT(*) FROM reflections WHERE debrief_id = ?")
        .bind(debrief_id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_check_in_runs_in_the_persons_chat_in_the_time_zone_teams_reports() {
    let at = in_november;
    let (rig, clock) = Rig::in_the_team_at(at(2, 10)).await;
    assert_eq!(rig.say("9101", "checkin mondays 09:00").await, 200);
    let alices_chat = "/emea/v3/conversations/a%3Achat-29%3Aalice/activities";
    let calls = rig.connector_calls(3).await;
    let set: Vec<String> = calls
        .iter()
        .filter(|c| c.url.path() == alices_chat)
        .map(card_text)
        .collect();
    assert!(set[0].contains("Europe/Berlin"), "{set:?}");

    // 09:00 in Berlin is 08:00 UTC in November.
    clock.set(at(9, 7) + 59 * 60);
    assert_eq!(rig.app.fire_due_and_count_sent_runs().await, 0);
    clock.set(at(9, 8) + 30);
    assert_eq!(rig.app.fire_due_and_count_sent_runs().await, 1);
    let calls = rig.connector_calls(4).await;
    assert_eq!(
        calls[3].url.path(),
        alices_chat,
        "the check-in is in her chat"
    );
    let opening = card_text(&calls[3]);
    assert!(opening.contains("Question 1"), "{opening}");

    // Alice answers in her chat: the next question follows there.
    let mut answer = rig.in_chat(ALICE, "a:chat-29:alice", "9102");
    answer["text"] = json!("Shipped the billing migration behind a flag");
    assert_eq!(rig.post(&answer).await, 200);
    let calls = rig.connector_calls(5).await;
    assert!(
        card_text(&calls[4]).contains("Question 2"),
        "{}",
        card_text(&calls[4])
    );
}

#[tokio::test]
async fn a_retro_reminder_in_teams_starts_its_debrief_from_the_card() {
    let at = in_november;
    // Monday 2 November; the reminder is for Friday 6 November, 16:00 UTC.
    let (rig, clock) = Rig::in_the_team_at(at(2, 10)).await;
    assert_eq!(
        rig.say("9201", "retro fridays 16:00 --template retro")
            .await,
        200
    );
    rig.connector_calls(1).await;
    clock.set(at(6, 16) + 30);
    assert_eq!(rig.app.scheduler.fire_due().await.unwrap().sent, 1);
    let calls = rig.connector_calls(2).await;
    let reminder = &calls[1];
    assert_eq!(
        reminder.url.path(),
        "/emea/v3/conversations/19%3Ageneral%40thread.tacv2/activities"
    );
    let start = button_data(reminder, "debrief.start");

    assert_eq!(
        rig.post(&rig.click_on_card(ALICE, "9202", start)).await,
        200
    );
    let calls = rig.connector_calls(4).await;
    let texts: Vec<String> = calls[2..].iter().map(card_text).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Retro 6 Nov") && t.contains("facilitated by Alice Example")),
        "the debrief card of the retro: {texts:?}"
    );
}

#[tokio::test]
async fn a_card_button_acts_on_its_own_debrief_when_several_are_open() {
    let rig = Rig::start().await;
    open_retro(&rig, "9301", "Outage review").await;
    let before = rig.connector_calls(0).await.len();
    assert_eq!(
        rig.say("9302", "debrief --template retro Release 2.4")
            .await,
        200
    );
    let calls = rig.connector_calls(before + 2).await;
    let second_card = calls[before..]
        .iter()
        .find(|c| {
            card_text(c).contains("Release 2.4") && c.url.path().ends_with("tacv2/activities")
        })
        .expect("the second card");
    let close = button_data(second_card, "debrief.close");

    assert_eq!(
        rig.post(&rig.click_on_card(ALICE, "9303", close)).await,
        200
    );
    let calls = rig.connector_calls(before + 5).await;
    let texts: Vec<String> = calls[before + 2..].iter().map(card_text).collect();
    assert!(
        texts.iter().any(|t| t.contains("Release 2.4 is closed")),
        "the clicked card's debrief is closed: {texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("Outage review")),
        "the other one stays open: {texts:?}"
    );
}

#[tokio::test]
async fn a_one_to_one_chat_answers_for_the_team_that_last_wrote_in_it() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    // Alice sets a check-in in team A: the answer comes in her 1:1 chat.
    assert_eq!(rig.say("9401", "checkin mondays 09:00").await, 200);
    rig.connector_calls(3).await;
    // Then she talks to the bot in another team, which becomes where it last met her.
    let mut elsewhere = rig.activity("message");
    elsewhere["id"] = json!("9402");
    elsewhere["text"] = json!("<at>learnloop</at> lessons deploy");
    elsewhere["conversation"] = json!({"id": "19:other-general@thread.tacv2;messageid=9402",
                                       "conversationType": "channel", "tenantId": TENANT});
    elsewhere["channelData"] = json!({"tenant": {"id": TENANT},
                                      "team": {"id": "19:other-team@thread.tacv2"}});
    assert_eq!(rig.post(&elsewhere).await, 200);
    rig.connector_calls(4).await;

    // In her 1:1 chat, "checkin off" is about the check-in that chat was used for.
    let mut in_chat = rig.in_chat(ALICE, "a:chat-29:alice", "9403");
    in_chat["text"] = json!("checkin off");
    assert_eq!(rig.post(&in_chat).await, 200);
    let calls = rig.connector_calls(5).await;
    let answer = card_text(calls.last().unwrap());
    assert!(answer.contains("Your check-in is off"), "{answer}");
}

#[tokio::test]
async fn the_teams_members_are_learnt_when_the_bot_joins_so_anyone_can_write_to_it() {
    let rig = Rig::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/emea/v3/conversations/19%3Ateam%40thread.tacv2/members",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "29:alice", "name": "Alice Example", "aadObjectId": "aad-alice"},
            {"id": "29:carol", "name": "Carol Coder", "aadObjectId": "aad-carol"},
        ])))
        .mount(&rig.connector)
        .await;
    rig.add_bot_to_the_team().await;
    let store = rig.app.store().await;
    let workspace = store
        .find_workspace(
            learnloop::store::Platform::Teams,
            &format!("{TENANT}:{TEAM}"),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !store
        .teams_people(workspace.id)
        .await
        .unwrap()
        .iter()
        .any(|p| p.person == "29:carol")
    {
        assert!(Instant::now() < deadline, "the roster was not stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Carol never wrote in a channel; her first 1:1 message is still answered.
    let mut first = rig.in_chat(("29:carol", "Carol Coder"), "a:carol-chat", "9501");
    first["text"] = json!("help");
    assert_eq!(rig.post(&first).await, 200);
    let calls = rig.connector_calls(1).await;
    let answer = calls
        .iter()
        .find(|c| c.url.path() == "/emea/v3/conversations/a%3Acarol-chat/activities/9501")
        .expect("Carol is answered in her chat");
    assert!(
        card_text(answer).contains("lessons"),
        "{}",
        card_text(answer)
    );
}

/// Alice asks for `lessons` in a thread of another standard channel of the team; the
/// text of the answer there.
async fn lessons_in_another_channel(rig: &Rig, id: &str) -> String {
    lessons_in_a_channel(rig, "19:design@thread.tacv2", Some("standard"), id).await
}

/// Alice asks for `lessons` in a thread of `channel` of the team (of this type, if
/// the activity says); the text of the answer, which everyone there reads.
async fn lessons_in_a_channel(rig: &Rig, channel: &str, kind: Option<&str>, id: &str) -> String {
    let mut asked = rig.activity("message");
    asked["id"] = json!(id);
    asked["text"] = json!("<at>learnloop</at> lessons");
    asked["conversation"] = json!({"id": format!("{channel};messageid={id}"),
                                   "conversationType": "channel", "tenantId": TENANT});
    asked["channelData"] = json!({"tenant": {"id": TENANT}, "team": {"id": TEAM},
                                  "channel": {"id": channel}});
    if let Some(kind) = kind {
        asked["channelData"]["channel"]["type"] = json!(kind);
    }
    assert_eq!(rig.post(&asked).await, 200);
    let encoded = format!("{channel};messageid={id}")
        .replace(':', "%3A")
        .replace('@', "%40")
        .replace(';', "%3B")
        .replace('=', "%3D");
    let reply_path = format!("/emea/v3/conversations/{encoded}/activities/{id}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let calls = rig.connector_calls(0).await;
        if let Some(reply) = calls.iter().find(|c| c.url.path() == reply_path) {
            return card_text(reply);
        }
        assert!(Instant::now() < deadline, "no answer in {channel}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An activity in the retro's channel (activity `id`) that says its type.
async fn retro_channel_is(rig: &Rig, kind: &str, id: &str) {
    let mut said = rig.activity("message");
    said["id"] = json!(id);
    said["text"] = json!("<at>learnloop</at> help");
    said["conversation"] = json!({"id": format!("{CHANNEL};messageid={id}"),
                                  "conversationType": "channel", "tenantId": TENANT});
    said["channelData"] = json!({"tenant": {"id": TENANT}, "team": {"id": TEAM},
                                 "channel": {"id": CHANNEL, "type": kind}});
    assert_eq!(rig.post(&said).await, 200);
}

#[tokio::test]
async fn a_teams_channel_of_unknown_or_private_type_keeps_its_lessons() {
    let rig = Rig::start().await;
    // The retro runs in a channel whose activities never say its type: private.
    teams_debrief(&rig).await;
    let shown = lessons_in_another_channel(&rig, "8101").await;
    assert!(
        !shown.contains("Paging the on-call early"),
        "a channel of unknown type is private: {shown}"
    );

    // Once Teams says it is a standard channel, its lessons are shared with the team.
    retro_channel_is(&rig, "standard", "8102").await;
    let shown = lessons_in_another_channel(&rig, "8103").await;
    assert!(shown.contains("Paging the on-call early"), "{shown}");

    // Made private: hidden again.
    retro_channel_is(&rig, "private", "8104").await;
    let shown = lessons_in_another_channel(&rig, "8105").await;
    assert!(!shown.contains("Paging the on-call early"), "{shown}");
}

#[tokio::test]
async fn a_shared_channel_reads_no_public_lessons_in_its_answers() {
    let rig = Rig::start().await;
    teams_debrief(&rig).await;
    // Teams says the retro's channel is a standard one: its lessons are the team's.
    retro_channel_is(&rig, "standard", "8201").await;

    // A channel shared with another organisation reads the answer with Alice: none of
    // the team's public lessons.
    let partners = "19:partners@thread.tacv2";
    let shown = lessons_in_a_channel(&rig, partners, Some("shared"), "8202").await;
    assert!(!shown.contains("Paging the on-call early"), "{shown}");
    // A channel whose activities do not say its type is read by the team.
    let unsaid = lessons_in_a_channel(&rig, "19:ops@thread.tacv2", None, "8203").await;
    assert!(unsaid.contains("Paging the on-call early"), "{unsaid}");
    let design = lessons_in_another_channel(&rig, "8204").await;
    assert!(design.contains("Paging the on-call early"), "{design}");
}

#[tokio::test]
async fn an_activity_delivered_twice_is_handled_once() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    assert_eq!(rig.say("8201", "goal add Learn Rust").await, 200);
    let calls = rig.connector_calls(3).await;
    assert_eq!(calls.len(), 3);
    // The Bot Framework delivers the same activity (same id) again.
    assert_eq!(rig.say("8201", "goal add Learn Rust").await, 200);
    assert_eq!(rig.connector_calls(4).await.len(), 3, "nothing sent twice");
    let db = crate::debriefs::database(&rig.app).await;
    let goals: i64 = db::query_scalar("SELECT COUNT(*) FROM goals")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(goals, 1, "the goal is added once");
}

#[tokio::test]
async fn an_answer_in_the_one_to_one_chat_continues_the_team_that_asked() {
    let clock = Arc::new(ShiftedClock::at(in_november(2, 10)));
    let rig = Rig::start_with(clock.clone()).await;
    // Bob starts reflecting on team A's retro in his 1:1 chat and answers once.
    let card_post = open_retro(&rig, "6101", "Outage review").await;
    let reflect_in_dm = button_data(&card_post, "debrief.reflect_dm");
    assert_eq!(
        rig.post(&rig.click_on_card(BOB, "6102", reflect_in_dm))
            .await,
        200
    );
    assert_eq!(
        bob_in_private(&rig, "7101", "Paging the on-call early saved the night").await,
        200
    );
    // A minute later he uses the bot in another team; its answer goes to the same 1:1
    // chat, which team B has used last from then on.
    clock.advance(60);
    let mut elsewhere = rig.activity("message");
    elsewhere["id"] = json!("7102");
    elsewhere["from"] = json!({"id": BOB.0, "name": BOB.1});
    elsewhere["text"] = json!("<at>learnloop</at> goal add Learn Go");
    elsewhere["conversation"] = json!({"id": "19:other-general@thread.tacv2;messageid=7102",
                                       "conversationType": "channel", "tenantId": TENANT});
    elsewhere["channelData"] = json!({"tenant": {"id": TENANT},
                                      "team": {"id": "19:other-team@thread.tacv2"}});
    assert_eq!(rig.post(&elsewhere).await, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !rig
        .connector_calls(0)
        .await
        .iter()
        .any(|c| c.url.path().contains("a%3Abob-chat") && card_text(c).contains("Learn Go"))
    {
        assert!(
            Instant::now() < deadline,
            "team B's answer reaches Bob's chat"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    clock.advance(60);
    // His next answer in the chat is team A's second question, not a command in team B.
    assert_eq!(
        bob_in_private(&rig, "7103", "The rollback script had no owner").await,
        200
    );
    let db = crate::debriefs::database(&rig.app).await;
    let rows: Vec<(String, i64, String)> = db::query_as(
        "SELECT w.external_id, c.step, c.answers FROM conversations c \
         JOIN workspaces w ON w.id = c.workspace_id WHERE c.person = ?",
    )
    .bind(BOB.0)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (team, step, answers) = &rows[0];
    assert_eq!(team, &format!("{TENANT}:{TEAM}"));
    assert_eq!(*step, 2, "{answers}");
    assert!(
        answers.contains("The rollback script had no owner"),
        "{answers}"
    );
}

#[tokio::test]
async fn someone_who_installed_the_bot_for_themselves_gets_help_in_their_chat() {
    let rig = Rig::start().await;
    // A personal install: Teams says the bot was added to Dana's 1:1 chat, in no team.
    let dana: Person = ("29:dana", "Dana Designer");
    let mut installed = rig.in_chat(dana, "a:dana-chat", "f:install");
    installed["type"] = json!("conversationUpdate");
    // As Microsoft documents it: only the bot is added; Dana is who installed it.
    installed["membersAdded"] = json!([{"id": BOT}]);
    assert_eq!(rig.post(&installed).await, 200);
    let mut help = rig.in_chat(dana, "a:dana-chat", "9601");
    help["text"] = json!("help");
    assert_eq!(rig.post(&help).await, 200);
    let calls = rig.connector_calls(1).await;
    let answer = calls
        .iter()
        .find(|c| c.url.path() == "/emea/v3/conversations/a%3Adana-chat/activities/9601")
        .expect("Dana is answered in her chat");
    assert!(
        card_text(answer).contains("goal add"),
        "{}",
        card_text(answer)
    );
    assert!(
        !card_text(answer).contains("/learn"),
        "Teams words: {}",
        card_text(answer)
    );
    assert!(
        !card_text(answer).contains("Three things to try"),
        "welcomed at the install, not again: {}",
        card_text(answer)
    );
    // She was welcomed in her chat, once, with what to try there.
    let welcomes = rig.welcomes(1).await;
    assert_eq!(welcomes.len(), 1);
    assert_eq!(
        welcomes[0].url.path(),
        "/emea/v3/conversations/a%3Adana-chat/activities"
    );
    assert!(card_text(&welcomes[0]).contains("checkin fridays 16:00"));
}

#[tokio::test]
async fn the_bot_added_to_a_team_welcomes_it_once_in_the_channel() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    // Teams repeats the update (or the bot is removed and added again): one welcome.
    rig.add_bot_to_the_team().await;
    let welcomes = rig.welcomes(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.welcomes(1).await.len(), 1);
    assert_eq!(
        welcomes[0].url.path(),
        "/emea/v3/conversations/19%3Ageneral%40thread.tacv2/activities"
    );
    let text = card_text(&welcomes[0]);
    assert!(text.contains("@learnloop debrief Release 2.3"), "{text}");
    assert!(
        !text.contains("/debrief") && !text.contains("/learn"),
        "Teams words: {text}"
    );
}

#[tokio::test]
async fn an_activity_from_a_tenant_that_is_not_served_is_refused() {
    let rig = Rig::start().await;
    let mut foreign = rig.activity("message");
    foreign["id"] = json!("9701");
    foreign["text"] = json!("<at>learnloop</at> lessons");
    foreign["conversation"] = json!({"id": format!("{CHANNEL};messageid=9701"),
                                     "conversationType": "channel", "tenantId": "other-org"});
    foreign["channelData"]["tenant"]["id"] = json!("other-org");
    assert_eq!(rig.post(&foreign).await, 403);
    assert!(
        rig.connector_calls(0).await.is_empty(),
        "nothing is answered"
    );
    let db = crate::debriefs::database(&rig.app).await;
    let workspaces: i64 =
        db::query_scalar("SELECT COUNT(*) FROM workspaces WHERE platform = 'teams'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(workspaces, 0, "and nothing of it is stored");
}

#[tokio::test]
async fn a_debrief_started_from_the_teams_form_nudges_the_channels_members_in_their_chats() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    // The channel's members as the connector lists them (Carol is on the team's roster
    // but not in this channel, so she is never nudged about it).
    rig.general_has_alice_and_bob().await;
    assert_eq!(rig.say_as(BOB.0, BOB.1, "9400", "help").await, 200);
    assert_eq!(
        rig.say_as("29:carol", "Carol Example", "9399", "help")
            .await,
        200
    );
    let before = rig.connector_calls(2).await.len();

    // `@learnloop debrief` alone answers with the start form in its thread.
    assert_eq!(rig.say("9401", "debrief").await, 200);
    let calls = rig.connector_calls(before + 1).await;
    let form = &calls[before];
    let shown = card_text(form);
    assert!(
        shown.contains("Title") && shown.contains("Closing date"),
        "{shown}"
    );
    let start = button_data(form, "debrief.start_form");

    // Submitted without a title, the form comes back with the problem.
    assert_eq!(
        rig.post(&rig.click_on_card(ALICE, "9402", start.clone()))
            .await,
        200
    );
    let calls = rig.connector_calls(before + 2).await;
    assert!(
        card_text(&calls[before + 1]).contains("Give the debrief a title."),
        "{}",
        card_text(&calls[before + 1])
    );

    let mut filled = start.clone();
    filled["q_title"] = json!("Release 2.5");
    filled["q_template"] = json!("retro");
    filled["q_closes_in"] = json!("2d");
    assert_eq!(
        rig.post(&rig.click_on_card(ALICE, "9403", filled)).await,
        200
    );
    let calls = rig.connector_calls(before + 4).await;
    let card = calls[before + 2..]
        .iter()
        .find(|c| card_text(c).contains("Release 2.5") && card_text(c).contains("questions"))
        .expect("the debrief card is posted in the channel");
    assert!(card_text(card).contains("Closes"), "{}", card_text(card));

    // The facilitator nudges: Bob gets the reminder in his 1:1 chat; Alice hears a count.
    let nudge = button_data(card, "debrief.nudge");
    let seen = rig.connector_calls(0).await.len();
    assert_eq!(
        rig.post(&rig.click_on_card(ALICE, "9404", nudge)).await,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let texts = loop {
        let calls = rig.connector_calls(seen).await;
        let texts: Vec<(String, String)> = calls[seen..]
            .iter()
            .filter(|c| c.url.path().contains("/activities"))
            .map(|c| (c.url.path().to_owned(), card_text(c)))
            .collect();
        if texts.len() >= 2 || Instant::now() > deadline {
            break texts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        texts
            .iter()
            .any(|(path, text)| path.contains("a%3Achat-29%3Abob")
                && text.contains("Nobody has reflected yet on Release 2.5")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|(_, text)| text.contains("📣 Nudged 1 person")),
        "{texts:?}"
    );
    assert!(
        !texts
            .iter()
            .any(|(path, _)| path.contains("a%3Achat-29%3Aalice")),
        "the facilitator is not nudged: {texts:?}"
    );
    assert!(
        !texts.iter().any(|(path, _)| path.contains("carol")),
        "nobody outside the channel: {texts:?}"
    );
}

#[tokio::test]
async fn the_next_teams_debrief_starts_from_the_open_actions_of_the_last() {
    let rig = Rig::start().await;
    teams_debrief(&rig).await;
    let before = rig.connector_calls(0).await.len();
    assert_eq!(
        rig.say("8001", "debrief --template retro Outage review, part 2")
            .await,
        200
    );
    let calls = rig.connector_calls(before + 2).await;
    let card = calls[before..]
        .iter()
        .find(|c| c.url.path() == "/emea/v3/conversations/19%3Ageneral%40thread.tacv2/activities")
        .expect("the new card");
    let shown = card_text(card);
    assert!(shown.contains("Since last time"), "{shown}");
    assert!(
        shown.contains("Write the rollback runbook before the next release — owner Bob Builder"),
        "{shown}"
    );
    // Bob, its owner, says it is done.
    let done = button_data(card, "action.done");
    let seen = rig.connector_calls(0).await.len();
    assert_eq!(rig.post(&rig.click_on_card(BOB, "8002", done)).await, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let calls = rig.connector_calls(0).await;
        let said: Vec<String> = calls[seen..]
            .iter()
            .filter(|c| c.url.path().contains("/activities"))
            .map(card_text)
            .collect();
        if said
            .iter()
            .any(|t| t.contains("Marked done: Write the rollback runbook"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "{said:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let db = db::Pool::connect(&rig.app.db_url).await.unwrap();
    let status: String = db::query_scalar(
        "SELECT status FROM lessons WHERE text LIKE 'Write the rollback runbook%'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(status, "applied");
}

#[tokio::test]
async fn a_teams_review_gives_an_action_to_a_member_of_the_channel() {
    let rig = Rig::start().await;
    rig.general_has_alice_and_bob().await;
    // Alice was learnt as she wrote; the review's owner menu offers the team by name.
    teams_debrief_reviewed(&rig, &[(".owner", "29:alice")]).await;
    let db = db::Pool::connect(&rig.app.db_url).await.unwrap();
    let owner: Option<String> =
        db::query_scalar("SELECT owner FROM lessons WHERE text LIKE 'Write the rollback runbook%'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        owner.as_deref(),
        Some("29:alice"),
        "the owner picked in the review"
    );
}

/// The team's workspace, as the store holds it.
async fn the_team(store: &learnloop::store::Store) -> learnloop::domain::Workspace {
    store
        .find_workspace(
            learnloop::store::Platform::Teams,
            &format!("{TENANT}:{TEAM}"),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn whoever_adds_the_bot_to_a_team_is_remembered_as_its_dashboard_admin() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    let store = rig.app.store().await;
    let team = the_team(&store).await;
    assert_eq!(
        store.workspace_installer(team.id).await.unwrap().as_deref(),
        Some("29:alice")
    );
    // Removed and added again by someone else: they manage it now.
    let mut again = rig.activity("conversationUpdate");
    again["from"] = json!({"id": "29:bob", "name": "Bob Builder"});
    again["conversation"] =
        json!({"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT});
    again["membersAdded"] = json!([{"id": BOT}]);
    assert_eq!(rig.post(&again).await, 200);
    assert_eq!(
        store.workspace_installer(team.id).await.unwrap().as_deref(),
        Some("29:bob")
    );
}

#[tokio::test]
async fn a_team_that_removes_the_bot_is_uninstalled_until_it_adds_it_again() {
    let rig = Rig::start().await;
    rig.add_bot_to_the_team().await;
    let store = rig.app.store().await;
    let team = the_team(&store).await;
    assert!(!team.uninstalled);
    let update = |members: &str, who: &str| {
        let mut update = rig.activity("conversationUpdate");
        update["conversation"] =
            json!({"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT});
        update[members] = json!([{ "id": who }]);
        update
    };
    // A person leaving the team is not the bot leaving it.
    assert_eq!(rig.post(&update("membersRemoved", "29:bob")).await, 200);
    let uninstalled = |store: learnloop::store::Store| async move {
        store.workspace_by_id(team.id).await.unwrap().uninstalled
    };
    assert!(!uninstalled(store.clone()).await);
    // The bot removed: the team's schedules, follow-ups and queue stop.
    assert_eq!(rig.post(&update("membersRemoved", BOT)).await, 200);
    assert!(uninstalled(store.clone()).await);
    // Added again: installed again, at once (nothing cached holds the old state).
    assert_eq!(rig.post(&update("membersAdded", BOT)).await, 200);
    assert!(!uninstalled(store.clone()).await);

    // Another replica saw the bot removed while this one had the team cached: added
    // back here, the team is installed again all the same.
    assert_eq!(rig.post(&update("membersAdded", "29:carol")).await, 200);
    store
        .mark_uninstalled(team.id, learnloop::domain::Timestamp::from_unix_seconds(1))
        .await
        .unwrap();
    assert_eq!(rig.post(&update("membersAdded", BOT)).await, 200);
    assert!(!uninstalled(store.clone()).await);

    // A deleted team is uninstalled too.
    let mut deleted = rig.activity("conversationUpdate");
    deleted["channelData"]["eventType"] = json!("teamDeleted");
    assert_eq!(rig.post(&deleted).await, 200);
    assert!(uninstalled(store.clone()).await);

    // The bot removed from a team learnloop never saw leaves nothing behind.
    let mut unknown = update("membersRemoved", BOT);
    unknown["channelData"]["team"] = json!({"id": "19:never-seen@thread.tacv2"});
    assert_eq!(rig.post(&unknown).await, 200);
    assert!(
        store
            .find_workspace(
                learnloop::store::Platform::Teams,
                &format!("{TENANT}:19:never-seen@thread.tacv2"),
            )
            .await
            .is_err()
    );
}
