//! `POST /teams/webhook`: a Teams outgoing webhook, checked with its HMAC (base64 of
//! HMAC-SHA256 over the body, keyed with the base64-decoded security token), its tenant,
//! its timestamp and its id, and answered in the response, within the request.

use std::sync::atomic::{AtomicU64, Ordering};

use learnloop::config::Secret;
use learnloop::http::verify::TeamsWebhookVerifier;
use serde_json::{Value, json};

use crate::support::{Options, TestApp, card_lines, spawn_app, spawn_app_with};
use learnloop::domain::Timestamp;

/// The security token of a known-answer vector (`VECTOR_BODY` signs to `VECTOR_HEADER`).
const TOKEN: &str = "vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=";
const VECTOR_BODY: &str = r#"{"type":"message","text":"hello"}"#;
const VECTOR_HEADER: &str = "HMAC u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=";
const TENANT: &str = "72f988bf-0000-4000-8000-00000000c0de";

async fn webhook_app() -> TestApp {
    spawn_app_with(Options {
        env: vec![
            ("LEARNLOOP_TEAMS_WEBHOOK_SECRET", TOKEN.to_owned()),
            ("LEARNLOOP_TEAMS_TENANTS", TENANT.to_owned()),
        ],
        ..Options::default()
    })
    .await
}

async fn post(app: &TestApp, body: &str, authorization: Option<&str>) -> reqwest::Response {
    app.post_json_authorized("/teams/webhook", body, authorization)
        .await
}

/// A new message id for every activity, as Teams gives them.
fn next_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1_700_000_000_001);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// An outgoing-webhook activity as Teams sends it, now: `text` after an @mention of
/// the webhook, in a channel of `team`, from `user`.
fn activity(team: &str, user: &str, text: &str) -> String {
    activity_at(team, user, text, &next_id(), chrono::Utc::now())
}

fn activity_at(
    team: &str,
    user: &str,
    text: &str,
    id: &str,
    sent: chrono::DateTime<chrono::Utc>,
) -> String {
    json!({
        "type": "message",
        "id": id,
        "timestamp": sent.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "channelId": "msteams",
        "from": {"id": user, "name": "Alice Example", "aadObjectId": "a1"},
        "conversation": {"id": "19:chan@thread.tacv2;messageid=1700000000001", "isGroup": true,
                         "conversationType": "channel", "tenantId": TENANT},
        "recipient": null,
        "text": format!("<at>learnloop</at>&nbsp;{text}\n"),
        "entities": [{"type": "mention", "text": "<at>learnloop</at>",
                      "mentioned": {"id": "28:webhook", "name": "learnloop"}}],
        "channelData": {"teamsChannelId": "19:chan@thread.tacv2", "teamsTeamId": team,
                        "channel": {"id": "19:chan@thread.tacv2"}, "team": {"id": team},
                        "tenant": {"id": TENANT}},
    })
    .to_string()
}

/// Sends a signed activity and returns the reply's text.
async fn say(app: &TestApp, team: &str, user: &str, text: &str) -> String {
    let body = activity(team, user, text);
    let signer = TeamsWebhookVerifier::new(&Secret::new(TOKEN)).unwrap();
    let response = post(app, &body, Some(&signer.sign(body.as_bytes()))).await;
    assert_eq!(response.status(), 200, "{text}");
    let reply: Value = response.json().await.unwrap();
    card_lines(&reply)
}

#[tokio::test]
async fn the_known_vector_is_signed_right_but_names_no_tenant_we_serve() {
    let app = webhook_app().await;
    // The HMAC is good (a 401 would say otherwise); the body names no tenant.
    let response = post(&app, VECTOR_BODY, Some(VECTOR_HEADER)).await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_fresh_activity_is_answered_once_and_a_replay_or_an_old_one_is_refused() {
    let app = webhook_app().await;
    let signer = TeamsWebhookVerifier::new(&Secret::new(TOKEN)).unwrap();
    let send = |body: String| {
        let header = signer.sign(body.as_bytes());
        let app = &app;
        async move { post(app, &body, Some(&header)).await.status().as_u16() }
    };
    let now = chrono::Utc::now();
    let body = activity_at(
        "19:teamA@thread.tacv2",
        "29:alice",
        "help",
        "1700000000999",
        now,
    );
    assert_eq!(send(body.clone()).await, 200);
    assert_eq!(send(body).await, 401, "the same activity sent again");
    // Half a minute past the five-minute window: a second of margin made the test
    // fail on a loaded machine, where the server reads its clock seconds later.
    for skew in [-330, 330] {
        let old = activity_at(
            "19:teamA@thread.tacv2",
            "29:alice",
            "help",
            &next_id(),
            now + chrono::Duration::seconds(skew),
        );
        assert_eq!(send(old).await, 401, "{skew} s away");
    }
    let mut undated: Value =
        serde_json::from_str(&activity("19:teamA@thread.tacv2", "29:alice", "help")).unwrap();
    undated.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(send(undated.to_string()).await, 401, "no timestamp");
    let mut elsewhere: Value =
        serde_json::from_str(&activity("19:teamA@thread.tacv2", "29:alice", "help")).unwrap();
    elsewhere["channelData"]["tenant"]["id"] = json!("another-tenant");
    elsewhere["conversation"]["tenantId"] = json!("another-tenant");
    assert_eq!(
        send(elsewhere.to_string()).await,
        403,
        "another organisation"
    );
}

#[tokio::test]
async fn anything_but_the_right_hmac_is_refused() {
    let app = webhook_app().await;
    let tampered = VECTOR_BODY.replace("hello", "hellO");
    let other_key =
        TeamsWebhookVerifier::new(&Secret::new("wqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA="))
            .unwrap()
            .sign(VECTOR_BODY.as_bytes());
    for (body, header) in [
        (tampered.as_str(), Some(VECTOR_HEADER)),
        (VECTOR_BODY, None),
        (VECTOR_BODY, Some(other_key.as_str())),
        (
            VECTOR_BODY,
            Some("Bearer u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o="),
        ),
        (VECTOR_BODY, Some("HMAC not base64")),
    ] {
        let response = post(&app, body, header).await;
        assert_eq!(response.status(), 401, "{header:?} on {body}");
    }
}

#[tokio::test]
async fn without_a_security_token_the_route_says_it_is_not_configured() {
    let app = spawn_app().await;
    let response = post(&app, VECTOR_BODY, Some(VECTOR_HEADER)).await;
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_activity_is_a_bad_request() {
    let app = webhook_app().await;
    let signer = TeamsWebhookVerifier::new(&Secret::new(TOKEN)).unwrap();
    for body in ["not json", r#"{"type":"message","text":42}"#, "[]"] {
        let response = post(&app, body, Some(&signer.sign(body.as_bytes()))).await;
        assert_eq!(response.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn channel_commands_are_answered_in_the_response() {
    let app = webhook_app().await;
    let help = say(&app, "19:teamA@thread.tacv2", "29:alice", "help").await;
    assert!(help.contains("lessons"), "{help}");
    assert!(
        help.contains("webhook") && help.contains("bot"),
        "help says what webhook mode can't do: {help}"
    );

    // The digest preview is shared data: answered for everyone, as a card.
    let digest = say(&app, "19:teamA@thread.tacv2", "29:alice", "digest now").await;
    assert!(digest.contains("A quiet week"), "{digest}");
    assert!(
        digest.contains("everyone in this channel sees"),
        "nobody is told it is private: {digest}"
    );
    assert!(!digest.contains("<@") && !digest.contains("<#"), "{digest}");

    let search = say(
        &app,
        "19:teamA@thread.tacv2",
        "29:alice",
        "lessons \"deploy* NEAR\"",
    )
    .await;
    assert!(search.to_lowercase().contains("no "), "{search}");

    // What needs the bot to post later, or is private (goals), is refused with the
    // reason, not half done or shown to the whole channel.
    for needs_bot in [
        "goal add Learn Rust by 2027-03-01",
        "goal list",
        "debrief Outage review",
        "retro fridays 16:00",
        "checkin mondays 09:00",
        "digest mondays 09:00",
        "followups",
    ] {
        let refused = say(&app, "19:teamA@thread.tacv2", "29:alice", needs_bot).await;
        assert!(refused.contains("webhook"), "{needs_bot}: {refused}");
    }
    let typo = say(&app, "19:teamA@thread.tacv2", "29:alice", "gaol list").await;
    assert!(typo.contains("help"), "{typo}");
}

#[tokio::test]
async fn webhook_answers_show_a_channel_only_what_it_may_see() {
    use learnloop::store::{ConversationKind, LessonKind, NewDebrief, NewLesson, Platform};
    let app = webhook_app().await;
    let team = "19:teamA@thread.tacv2";
    say(&app, team, "29:alice", "lessons").await;
    let store = app.store().await;
    let workspace = store
        .find_workspace(Platform::Teams, &format!("{TENANT}:{team}"))
        .await
        .unwrap()
        .id;
    // A lesson of a private channel of the same team.
    let mut tx = store.begin().await.unwrap();
    let debrief = tx
        .create_debrief(
            NewDebrief {
                workspace,
                channel: "19:leads@thread.tacv2",
                title: "Reorg",
                template: "retro",
                questions: "[]",
                facilitator: "29:alice",
                anonymous: false,
                author_salt: "salt",
                closes_at: None,
            },
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap();
    tx.insert_lesson(
        NewLesson {
            workspace,
            debrief,
            debrief_title: "Reorg",
            kind: LessonKind::Lesson,
            text: "Tell people about the reorg before the rumours do",
            author: Some("29:alice"),
            owner: Some("29:alice"),
            tags: "",
            shared: false,
            follow_up_at: None,
        },
        Timestamp::from_unix_seconds(1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store
        .record_conversation_scope(
            workspace,
            "19:leads@thread.tacv2",
            ConversationKind::PrivateChannel,
            Timestamp::from_unix_seconds(i64::MAX),
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap();
    let shown = say(&app, team, "29:alice", "lessons reorg").await;
    assert!(
        !shown.contains("rumours"),
        "answered in public, in another channel: {shown}"
    );
    let digest = say(&app, team, "29:alice", "digest now").await;
    assert!(
        !digest.contains("rumours") && !digest.contains("Reorg"),
        "{digest}"
    );
}
