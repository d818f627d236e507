//! `POST /teams/messages`: Bot Framework tokens checked offline against a local OpenID
//! metadata and key set (tests/api/bot_framework.rs), and conversation references
//! stored from verified activities.

use std::sync::Arc;

use learnloop::clock::{Clock, ShiftedClock};
use learnloop::store::{Platform, TeamsConversation};
use serde_json::{Value, json};

use crate::support::bot_framework::{APP_ID, BotFramework, KID, SERVICE_URL};
use crate::support::{Options, TestApp, spawn_app_with};

const TENANT: &str = "72f988bf-0000-4000-8000-00000000c0de";
const TEAM: &str = "19:team@thread.tacv2";
const BOT: &str = "28:6f1c2d3e-0000-4000-8000-00000000b07a";

async fn bot_app(bot: &BotFramework) -> (TestApp, Arc<ShiftedClock>) {
    let clock = Arc::new(ShiftedClock::at(
        learnloop::clock::SystemClock.now().unix_seconds(),
    ));
    let app = spawn_app_with(Options {
        clock: clock.clone(),
        env: vec![
            ("LEARNLOOP_TEAMS_APP_ID", APP_ID.to_owned()),
            ("LEARNLOOP_TEAMS_OPENID_URL", bot.openid_url()),
            ("LEARNLOOP_TEAMS_TENANT_ID", TENANT.to_owned()),
        ],
        ..Options::default()
    })
    .await;
    (app, clock)
}

/// The bot added to a team: Teams' `conversationUpdate` in the team's General channel.
fn bot_added(service_url: &str) -> Value {
    json!({
        "type": "conversationUpdate",
        "id": "f:1",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": "29:admin", "name": "Ada Admin", "aadObjectId": "aad-admin"},
        "recipient": {"id": BOT, "name": "learnloop"},
        "conversation": {"id": TEAM, "isGroup": true, "conversationType": "channel", "tenantId": TENANT},
        "membersAdded": [{"id": BOT}],
        "channelData": {"tenant": {"id": TENANT}, "team": {"id": TEAM, "name": "Platform"},
                        "eventType": "teamMemberAdded"},
    })
}

async fn post(app: &TestApp, authorization: Option<&str>, body: &Value) -> u16 {
    app.post_json_authorized("/teams/messages", &body.to_string(), authorization)
        .await
        .status()
        .as_u16()
}

/// Posts the bot-added activity with a token over `claims`, signed with key `kid`.
async fn post_with(app: &TestApp, bot: &BotFramework, kid: &str, claims: &Value) -> u16 {
    let bearer = format!("Bearer {}", bot.token(kid, claims));
    post(app, Some(&bearer), &bot_added(SERVICE_URL)).await
}

fn claims(app: &TestApp) -> Value {
    BotFramework::claims(SERVICE_URL, app.clock.now().unix_seconds())
}

#[tokio::test]
async fn a_valid_token_is_accepted_and_the_team_is_remembered() {
    let bot = BotFramework::start().await;
    let (app, _) = bot_app(&bot).await;
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);

    let store = app.store().await;
    let workspace = store
        .find_workspace(Platform::Teams, &format!("{TENANT}:{TEAM}"))
        .await
        .expect("the team became a workspace");
    assert_eq!(
        store.teams_conversations(workspace.id).await.unwrap(),
        vec![TeamsConversation {
            conversation_id: TEAM.into(),
            kind: "channel".into(),
            service_url: SERVICE_URL.into(),
            bot_id: BOT.into(),
            tenant_id: TENANT.into(),
            person: None,
        }]
    );
    let people = store.teams_people(workspace.id).await.unwrap();
    assert_eq!(people.len(), 1, "the admin, not the bot: {people:?}");
    assert_eq!(people[0].person, "29:admin");
    assert_eq!(people[0].name.as_deref(), Some("Ada Admin"));
}

#[tokio::test]
async fn tokens_that_are_wrong_in_any_one_way_are_refused() {
    let bot = BotFramework::start().await;
    let (app, _) = bot_app(&bot).await;
    let now = app.clock.now().unix_seconds();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims(&app);
        change(&mut claims);
        claims
    };
    let cases: Vec<(&str, Value, u16)> = vec![
        (
            "wrong audience",
            with(&|c| c["aud"] = json!("someone-else")),
            401,
        ),
        (
            "wrong issuer",
            with(&|c| c["iss"] = json!("https://sts.windows.net/x/")),
            401,
        ),
        ("expired", with(&|c| c["exp"] = json!(now - 310)), 401),
        (
            "expired within the leeway",
            with(&|c| c["exp"] = json!(now - 290)),
            200,
        ),
        ("not yet valid", with(&|c| c["nbf"] = json!(now + 310)), 401),
        (
            "valid soon, within the leeway",
            with(&|c| c["nbf"] = json!(now + 290)),
            200,
        ),
        (
            "no expiry",
            with(&|c| {
                c.as_object_mut()
                    .unwrap()
                    .remove("exp")
                    .map(drop)
                    .unwrap_or(())
            }),
            401,
        ),
        (
            "serviceurl of another region",
            with(&|c| c["serviceurl"] = json!("https://smba.trafficmanager.net/amer/")),
            401,
        ),
        (
            "no serviceurl",
            with(&|c| {
                c.as_object_mut()
                    .unwrap()
                    .remove("serviceurl")
                    .map(drop)
                    .unwrap_or(())
            }),
            401,
        ),
    ];
    for (case, claims, expected) in cases {
        assert_eq!(
            post_with(&app, &bot, KID, &claims).await,
            expected,
            "{case}"
        );
    }

    let good = bot.token(KID, &claims(&app));
    let activity = bot_added(SERVICE_URL);
    assert_eq!(post(&app, None, &activity).await, 401, "missing header");
    assert_eq!(
        post(&app, Some(&good), &activity).await,
        401,
        "no Bearer scheme"
    );
    assert_eq!(
        post(&app, Some("Bearer "), &activity).await,
        401,
        "empty token"
    );
    assert_eq!(
        post(&app, Some("Bearer not.a.jwt"), &activity).await,
        401,
        "garbage"
    );
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged_claims = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        with(&|c| c["aud"] = json!("attacker")).to_string(),
    );
    parts[1] = &forged_claims;
    assert_eq!(
        post(
            &app,
            Some(&format!("Bearer {}", parts.join("."))),
            &activity
        )
        .await,
        401,
        "claims changed after signing"
    );
    // An HMAC token "signed" with the public key is the classic algorithm confusion.
    let hs256 = format!(
        "{}.{}.c2ln",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            json!({"alg": "HS256", "kid": KID}).to_string()
        ),
        forged_claims
    );
    assert_eq!(
        post(&app, Some(&format!("Bearer {hs256}")), &activity).await,
        401,
        "HS256"
    );

    // The token is for another service URL than the activity names.
    let bearer = format!("Bearer {good}");
    let elsewhere = bot_added("https://evil.example/");
    assert_eq!(
        post(&app, Some(&bearer), &elsewhere).await,
        401,
        "serviceUrl mismatch"
    );
    // A good token on a body that is no activity is a bad request, not a crash.
    let response = app
        .client
        .post(app.url("/teams/messages"))
        .header("authorization", &bearer)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let mut no_service_url = bot_added(SERVICE_URL);
    no_service_url.as_object_mut().unwrap().remove("serviceUrl");
    assert_eq!(post(&app, Some(&bearer), &no_service_url).await, 400);
    assert_eq!(
        post(&app, Some(&bearer), &activity).await,
        200,
        "the good one still passes"
    );
}

#[tokio::test]
async fn a_key_not_endorsed_for_teams_is_refused() {
    let bot = BotFramework::start().await;
    bot.key_set
        .replace(vec![bot.jwk(KID, Some(&["skype", "webchat"]))]);
    let (app, _) = bot_app(&bot).await;
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 401);

    // A key without endorsements is not restricted to any channel.
    let bot = BotFramework::start().await;
    bot.key_set.replace(vec![bot.jwk(KID, None)]);
    let (app, _) = bot_app(&bot).await;
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
}

#[tokio::test]
async fn an_unknown_key_fetches_the_keys_again_at_most_hourly() {
    let bot = BotFramework::start().await;
    let (app, clock) = bot_app(&bot).await;
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    assert_eq!(bot.key_set.fetched(), 1);
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    assert_eq!(bot.key_set.fetched(), 1, "keys are cached");

    // Microsoft rotates in a new key: the first token signed with it fetches once.
    bot.key_set.replace(vec![
        bot.jwk(KID, Some(&["msteams"])),
        bot.jwk("rotated", Some(&["msteams"])),
    ]);
    assert_eq!(post_with(&app, &bot, "rotated", &claims(&app)).await, 200);
    assert_eq!(bot.key_set.fetched(), 2, "one refresh for the unknown key");

    // Made-up key ids don't make us fetch again within the hour.
    for _ in 0..3 {
        assert_eq!(post_with(&app, &bot, "made-up", &claims(&app)).await, 401);
    }
    assert_eq!(bot.key_set.fetched(), 2);
    clock.advance(3_601);
    assert_eq!(post_with(&app, &bot, "made-up", &claims(&app)).await, 401);
    assert_eq!(
        bot.key_set.fetched(),
        3,
        "an hour later an unknown key may fetch again"
    );

    // After a day the keys are fetched again even for a known key.
    clock.advance(24 * 3_600);
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    assert_eq!(bot.key_set.fetched(), 4);
}

#[tokio::test]
async fn unreachable_keys_are_a_503_not_a_401() {
    let bot = BotFramework::start().await;
    let clock = Arc::new(ShiftedClock::at(
        learnloop::clock::SystemClock.now().unix_seconds(),
    ));
    let app = spawn_app_with(Options {
        clock,
        env: vec![
            ("LEARNLOOP_TEAMS_APP_ID", APP_ID.to_owned()),
            // Nothing listens here.
            (
                "LEARNLOOP_TEAMS_OPENID_URL",
                "http://127.0.0.1:9/openid".to_owned(),
            ),
        ],
        ..Options::default()
    })
    .await;
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 503);
}

#[tokio::test]
async fn without_an_app_id_the_route_says_it_is_not_configured() {
    let bot = BotFramework::start().await;
    let app = spawn_app_with(Options::default()).await;
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 503);
}

#[tokio::test]
async fn a_token_seen_before_still_expires_and_loses_a_withdrawn_key() {
    let bot = BotFramework::start().await;
    let (app, clock) = bot_app(&bot).await;
    let now = app.clock.now().unix_seconds();
    let mut short_lived = claims(&app);
    short_lived["exp"] = json!(now + 100);
    let mut long_lived = claims(&app);
    long_lived["exp"] = json!(now + 48 * 3_600);
    assert_eq!(post_with(&app, &bot, KID, &short_lived).await, 200);
    assert_eq!(post_with(&app, &bot, KID, &long_lived).await, 200);
    assert_eq!(
        post_with(&app, &bot, KID, &short_lived).await,
        200,
        "the same token again"
    );

    clock.advance(100 + 310);
    assert_eq!(
        post_with(&app, &bot, KID, &short_lived).await,
        401,
        "expired since"
    );
    assert_eq!(post_with(&app, &bot, KID, &long_lived).await, 200);

    // Microsoft withdraws the key; once the keys are a day old they are fetched again,
    // and a token signed with the withdrawn key is refused however often it was seen.
    bot.key_set
        .replace(vec![bot.jwk("successor", Some(&["msteams"]))]);
    clock.advance(24 * 3_600);
    assert_eq!(post_with(&app, &bot, KID, &long_lived).await, 401);
    assert_eq!(bot.key_set.fetched(), 2);
}

#[tokio::test]
async fn keys_that_cannot_be_refreshed_keep_working_without_a_fetch_per_request() {
    let bot = BotFramework::start().await;
    let (app, clock) = bot_app(&bot).await;
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    assert_eq!(bot.key_set.fetched(), 1);

    // A day later Microsoft is down: the keys in hand keep working, and the failed
    // refresh is not retried by every request.
    bot.key_set.set_down(true);
    clock.advance(24 * 3_600 + 1);
    for _ in 0..4 {
        assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    }
    assert_eq!(bot.key_set.fetched(), 2, "one failed refresh, then a pause");
    clock.advance(61);
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    assert_eq!(bot.key_set.fetched(), 3, "tried again after the pause");

    // Back up: the next try refreshes, and then the keys are fresh again.
    bot.key_set.set_down(false);
    clock.advance(61);
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    assert_eq!(post_with(&app, &bot, KID, &claims(&app)).await, 200);
    assert_eq!(bot.key_set.fetched(), 4);
}

#[tokio::test]
async fn an_activity_from_another_bot_framework_channel_is_refused() {
    // Web Chat and Direct Line let the client write `from` and `channelData`.
    let bot = BotFramework::start().await;
    bot.key_set
        .replace(vec![bot.jwk(KID, Some(&["msteams", "webchat"]))]);
    let (app, _) = bot_app(&bot).await;
    let mut activity = bot_added(SERVICE_URL);
    activity["channelId"] = json!("webchat");
    let bearer = format!("Bearer {}", bot.token(KID, &claims(&app)));
    assert_eq!(post(&app, Some(&bearer), &activity).await, 401);
    assert_eq!(
        post(&app, Some(&bearer), &bot_added(SERVICE_URL)).await,
        200
    );
}
