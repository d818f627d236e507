//! OAuth v2 installs for many workspaces, end to end: the "Add to Slack" page, Slack's
//! redirect with a code exchanged at a fake `oauth.v2.access`, tokens sealed at rest,
//! workspaces kept apart, uninstalls, org-wide installs, and token rotation.

use learnloop::store::db;
use learnloop::store::scratch::ScratchDatabase;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use learnloop::clock::ShiftedClock;
use learnloop::config::Secret;
use learnloop::platform::slack::SlackClient;
use learnloop::platform::slack::rotation::TokenRotation;
use learnloop::sealing::Keyring;
use learnloop::store::{Credentials, NewInstallation, Store};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::debriefs::dm;
use crate::support::{Options, TestApp, reply_text, spawn_app_with};
use learnloop::domain::Timestamp;

/// Two keys, `k2` active (32 bytes each).
const KEYS: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// `oauth.v2.access` as Slack answers a code: one workspace per code.
struct Exchange {
    calls: AtomicUsize,
}

impl Respond for Exchange {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap();
        assert_eq!(form["client_id"], "111.222");
        assert_eq!(form["client_secret"], "client-secret");
        let answer = match form.get("code").map(String::as_str) {
            Some("code-acme") => team_install("T0ACME", "Acme <Corp>", "xoxb-acme-secret"),
            Some("code-beta") => team_install("T0BETA", "Beta", "xoxb-beta-secret"),
            Some("code-sub") => {
                let mut sub = team_install("T0SUB", "Sub", "xoxb-sub-secret");
                sub["enterprise"] = json!({"id": "E0ORG", "name": "Org"});
                sub
            }
            Some("code-org") => json!({
                "ok": true, "app_id": "A0APP", "token_type": "bot",
                "access_token": "xoxb-org-secret", "bot_user_id": "U0BOT", "scope": "commands",
                "team": null, "enterprise": {"id": "E0ORG", "name": "Org"},
                "is_enterprise_install": true, "authed_user": {"id": "U0ADMIN"},
            }),
            _ => json!({"ok": false, "error": "invalid_code"}),
        };
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

fn team_install(team: &str, name: &str, token: &str) -> Value {
    json!({
        "ok": true, "app_id": "A0APP", "token_type": "bot", "access_token": token,
        "bot_user_id": "U0BOT", "scope": "commands,chat:write",
        "team": {"id": team, "name": name}, "enterprise": null,
        "is_enterprise_install": false, "authed_user": {"id": "U0ADMIN"},
    })
}

async fn distributed(clock: Option<Arc<ShiftedClock>>) -> (TestApp, Arc<Exchange>) {
    let mut options = Options {
        bot_token: None,
        env: vec![
            ("LEARNLOOP_SLACK_CLIENT_ID", "111.222".into()),
            ("LEARNLOOP_SLACK_CLIENT_SECRET", "client-secret".into()),
            ("LEARNLOOP_PUBLIC_URL", "https://learnloop.test".into()),
            ("LEARNLOOP_SLACK_OAUTH_URL", "https://slack.test".into()),
            ("LEARNLOOP_TOKEN_KEYS", KEYS.into()),
        ],
        ..Options::default()
    };
    if let Some(clock) = clock {
        options.clock = clock;
    }
    let app = spawn_app_with(options).await;
    let exchange = Arc::new(Exchange {
        calls: AtomicUsize::new(0),
    });
    Mock::given(method("POST"))
        .and(path("/api/oauth.v2.access"))
        .respond_with(ArcResponder(exchange.clone()))
        .with_priority(1)
        .mount(&app.slack)
        .await;
    (app, exchange)
}

struct ArcResponder(Arc<Exchange>);

impl Respond for ArcResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

/// An install begun in one browser: its cookie and state.
struct Begun {
    cookie: String,
    state: String,
}

async fn begin(app: &TestApp) -> Begun {
    let page = app
        .client
        .get(app.url("/slack/install"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let set_cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("Secure")
            && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    // The page's one link off the site (the stylesheet comes first).
    let link = html
        .split("href=\"")
        .find(|rest| rest.starts_with("https://"))
        .unwrap_or_else(|| panic!("no link to Slack: {html}"))
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        link.starts_with("https://slack.test/oauth/v2/authorize?client_id=111.222&scope="),
        "{link}"
    );
    assert!(
        link.contains("redirect_uri=https%3A%2F%2Flearnloop.test%2Fslack%2Foauth_redirect"),
        "{link}"
    );
    let query: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(link.split('?').nth(1).unwrap()).unwrap();
    Begun {
        cookie,
        state: query["state"].clone(),
    }
}

async fn come_back(app: &TestApp, cookie: &str, query: &[(&str, &str)]) -> (u16, String) {
    let query = serde_urlencoded::to_string(query).unwrap();
    let response = app
        .client
        .get(app.url(&format!("/slack/oauth_redirect?{query}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn install(app: &TestApp, code: &str) -> String {
    let begun = begin(app).await;
    let (status, page) = come_back(
        app,
        &begun.cookie,
        &[("code", code), ("state", &begun.state)],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page
}

/// Authorization headers of the fake Slack's calls to `method`, with their bodies.
async fn calls_with_tokens(app: &TestApp, method_name: &str) -> Vec<(String, Value)> {
    app.slack
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with(method_name))
        .map(|r| {
            let token = r
                .headers
                .get("authorization")
                .map_or("", |v| v.to_str().unwrap())
                .to_owned();
            (
                token,
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            )
        })
        .collect()
}

async fn wait_for_post(app: &TestApp, channel: &str) -> (String, Value) {
    for _ in 0..500 {
        if let Some(found) = calls_with_tokens(app, "chat.postMessage")
            .await
            .into_iter()
            .find(|(_, body)| body["channel"] == channel)
        {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("nothing posted to {channel}");
}

#[tokio::test]
async fn two_workspaces_install_through_oauth_and_each_sees_only_its_own() {
    let (app, exchange) = distributed(None).await;
    let page = install(&app, "code-acme").await;
    assert!(
        page.contains("Acme &lt;Corp&gt;"),
        "the name is shown, escaped: {page}"
    );
    // The installer is welcomed, with the new workspace's own token.
    let (token, welcome) = wait_for_post(&app, "U0ADMIN").await;
    assert_eq!(token, "Bearer xoxb-acme-secret");
    assert!(reply_text(&welcome).contains("installed"), "{welcome}");
    let checked = calls_with_tokens(&app, "auth.test").await;
    assert_eq!(
        checked[0].0, "Bearer xoxb-acme-secret",
        "the token is checked"
    );

    install(&app, "code-beta").await;
    assert_eq!(exchange.calls.load(Ordering::SeqCst), 2);

    // No token lies in the database in plain text.
    let pool = db::Pool::connect(&app.db_url).await.unwrap();
    let sealed: Vec<(String, String)> =
        db::query_as("SELECT team_id, bot_token FROM slack_installations ORDER BY team_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(sealed.len(), 2);
    for (_, token) in &sealed {
        assert!(
            token.starts_with("v1:k2:") && !token.contains("xoxb"),
            "{token}"
        );
    }
    let workspace_tokens: Vec<Option<String>> =
        db::query_scalar("SELECT bot_token FROM workspaces")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(workspace_tokens.iter().all(Option::is_none));

    // Each workspace works with its own data.
    let added = app
        .command_reply_in(
            "T0ACME",
            "C0ACME",
            "U0ALICE",
            "/learn",
            "goal add \"Acme secret plan\"",
        )
        .await;
    assert!(reply_text(&added).contains("Acme secret plan"), "{added}");
    let listed = app
        .command_reply_in("T0BETA", "C0BETA", "U0ALICE", "/learn", "goal list")
        .await;
    assert!(
        !reply_text(&listed).contains("Acme secret plan"),
        "{listed}"
    );
    let searched = app
        .command_reply_in("T0BETA", "C0BETA", "U0ALICE", "/learn", "lessons plan")
        .await;
    assert!(!reply_text(&searched).contains("Acme"), "{searched}");
    // And speaks with its own token.
    app.command_reply_in("T0BETA", "C0BETA", "U0ALICE", "/debrief", "Beta launch")
        .await;
    let (token, _) = wait_for_post(&app, "C0BETA").await;
    assert_eq!(token, "Bearer xoxb-beta-secret");
    // A team that never installed is told so.
    let stranger = app
        .command_reply_in("T0NOPE", "C0NOPE", "U0ALICE", "/learn", "goal list")
        .await;
    assert!(
        reply_text(&stranger).contains("not installed"),
        "{stranger}"
    );
}

#[tokio::test]
async fn replayed_expired_and_foreign_states_are_refused_without_an_exchange() {
    let clock = Arc::new(ShiftedClock::at(1_800_000_000));
    let (app, exchange) = distributed(Some(clock.clone())).await;

    let first = begin(&app).await;
    let second = begin(&app).await;
    // The second install's state, brought back by the first browser.
    let (status, page) = come_back(
        &app,
        &first.cookie,
        &[("code", "code-acme"), ("state", &second.state)],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("another browser"), "{page}");
    // No cookie at all.
    let (status, _) = come_back(&app, "", &[("code", "code-acme"), ("state", &first.state)]).await;
    assert_eq!(status, 400);
    // The right pair works once.
    let (status, _) = come_back(
        &app,
        &first.cookie,
        &[("code", "code-acme"), ("state", &first.state)],
    )
    .await;
    assert_eq!(status, 200);
    let (status, page) = come_back(
        &app,
        &first.cookie,
        &[("code", "code-acme"), ("state", &first.state)],
    )
    .await;
    assert_eq!(status, 400, "replayed: {page}");
    // Eleven minutes later the second one has expired.
    clock.advance(11 * 60);
    let (status, _) = come_back(
        &app,
        &second.cookie,
        &[("code", "code-beta"), ("state", &second.state)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        exchange.calls.load(Ordering::SeqCst),
        1,
        "only the valid one was exchanged"
    );

    // Cancelling on Slack's page gets a readable page, not an error.
    let third = begin(&app).await;
    let (status, page) = come_back(
        &app,
        &third.cookie,
        &[("error", "access_denied"), ("state", &third.state)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Nothing was installed"), "{page}");
    // A code Slack refuses.
    let fourth = begin(&app).await;
    let (status, page) = come_back(
        &app,
        &fourth.cookie,
        &[("code", "bogus"), ("state", &fourth.state)],
    )
    .await;
    assert_eq!(status, 502);
    assert!(page.contains("invalid_code"), "{page}");
}

#[tokio::test]
async fn without_oauth_settings_the_install_page_says_so() {
    let app = spawn_app_with(Options::default()).await;
    let page = app
        .client
        .get(app.url("/slack/install"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("single workspace"));
}

fn uninstalled_event(event_id: &str, team: &str) -> Value {
    json!({
        "type": "event_callback", "team_id": team, "api_app_id": "A0APP",
        "event_id": event_id, "event_time": 1700000000,
        "event": {"type": "app_uninstalled"},
    })
}

#[tokio::test]
async fn an_uninstall_cancels_the_queued_messages_and_stops_the_workspace() {
    let (app, _) = distributed(None).await;
    install(&app, "code-acme").await;
    install(&app, "code-beta").await;
    // Slack is down for Acme: its messages wait in the outbox.
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer xoxb-acme-secret",
        ))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&app.slack)
        .await;
    app.command_reply_in(
        "T0ACME",
        "C0ACME",
        "U0ALICE",
        "/debrief",
        "--closes-in 1d Acme launch",
    )
    .await;
    app.command_reply_in(
        "T0ACME",
        "C0ACME",
        "U0ALICE",
        "/learn",
        "digest mondays 09:00",
    )
    .await;
    let pool = db::Pool::connect(&app.db_url).await.unwrap();
    let waiting = || async {
        let count: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM outbox o JOIN workspaces w ON w.id = o.workspace_id \
             WHERE w.external_id = 'T0ACME' AND o.status IN ('pending', 'sending')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        count
    };
    assert!(waiting().await > 0);

    assert_eq!(
        app.event(&uninstalled_event("EvGone", "T0ACME"))
            .await
            .status(),
        200
    );
    assert_eq!(waiting().await, 0, "cancelled, not retried");
    let cancelled: String = db::query_scalar(
        "SELECT last_error FROM outbox o JOIN workspaces w ON w.id = o.workspace_id \
         WHERE w.external_id = 'T0ACME' AND o.status = 'failed' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(cancelled.contains("uninstalled"), "{cancelled}");
    // Its digest schedule no longer comes due.
    let store = app.store().await;
    let due = store
        .due_schedules(Timestamp::from_unix_seconds(i64::MAX), 100)
        .await
        .unwrap();
    assert!(due.iter().all(|s| s.channel != "C0ACME"), "{due:?}");
    // Nor does its debrief's close-by time.
    let closing = store
        .debriefs_closing(Timestamp::from_unix_seconds(i64::MAX / 2), 0, 100)
        .await
        .unwrap();
    assert!(closing.is_empty(), "{closing:?}");
    // tokens_revoked arriving after it changes nothing, and the team is not installed.
    let revoked = json!({
        "type": "event_callback", "team_id": "T0ACME", "event_id": "EvRevoked",
        "event": {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}},
    });
    assert_eq!(app.event(&revoked).await.status(), 200);
    let refused = app
        .command_reply_in("T0ACME", "C0ACME", "U0ALICE", "/learn", "goal list")
        .await;
    assert!(reply_text(&refused).contains("not installed"), "{refused}");
    // Beta carries on.
    let beta = app
        .command_reply_in("T0BETA", "C0BETA", "U0ALICE", "/learn", "goal list")
        .await;
    assert!(!reply_text(&beta).contains("not installed"), "{beta}");
    // Installing again brings Acme back.
    install(&app, "code-acme").await;
    let back = app
        .command_reply_in("T0ACME", "C0ACME", "U0ALICE", "/learn", "goal list")
        .await;
    assert!(!reply_text(&back).contains("not installed"), "{back}");
}

#[tokio::test]
async fn an_org_wide_install_serves_events_and_clicks_that_name_only_the_enterprise_or_the_user_team()
 {
    let (app, _) = distributed(None).await;
    install(&app, "code-org").await;
    // An event naming only the enterprise (bolt-python's org-wide fixtures).
    let mut event = dm("EvOrg", "U0ALICE", "help");
    let object = event.as_object_mut().unwrap();
    object.remove("team_id");
    object.insert("enterprise_id".into(), json!("E0ORG"));
    object.insert("authorizations".into(), json!([{"enterprise_id": "E0ORG", "team_id": null, "user_id": "U0BOT", "is_bot": true, "is_enterprise_install": true}]));
    assert_eq!(app.event(&event).await.status(), 200);
    let (token, _) = wait_for_post(&app, "DU0ALICE").await;
    assert_eq!(token, "Bearer xoxb-org-secret");
    // A view submission with `"team": null`: the person's team and the enterprise.
    let submission = json!({
        "type": "view_submission", "team": null,
        "enterprise": {"id": "E0ORG", "name": "Org"},
        "user": {"id": "U0ALICE", "team_id": "T0SUB"},
        "view": {"id": "V1", "callback_id": "debrief.start_form", "app_installed_team_id": "T0SUB",
                 "private_metadata": json!({"channel": "C0SUB"}).to_string(),
                 "state": {"values": {}}},
    });
    let response = app.interaction(&submission.to_string()).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["response_action"], "errors",
        "handled, not refused: {answer}"
    );
    // A slash command from a team with no install of its own, under the organisation.
    let command = serde_urlencoded::to_string([
        ("team_id", "T0SUB"),
        ("enterprise_id", "E0ORG"),
        ("channel_id", "C0SUB"),
        ("user_id", "U0ALICE"),
        ("command", "/learn"),
        ("text", "goal list"),
    ])
    .unwrap();
    let reply: Value = app
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &command,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(!reply_text(&reply).contains("not installed"), "{reply}");
    // Neither team nor enterprise: still a 400.
    let nameless = json!({"type": "view_submission", "team": null, "user": {"id": "U0ALICE"},
                          "view": {"id": "V1", "callback_id": "x", "state": {"values": {}}}});
    assert_eq!(app.interaction(&nameless.to_string()).await.status(), 400);
}

/// `store` opening and sealing tokens with the keys of `spec`.
fn keyed(store: Store, spec: &str) -> Store {
    store.with_credentials(Credentials {
        keyring: Some(Arc::new(Keyring::parse(&Secret::new(spec)).unwrap())),
        slack_env_token: None,
    })
}

/// A team install of `team`; with a refresh token, its bot token runs out at `expires_at`.
fn team_installation<'a>(
    team: &'a str,
    bot_token: &'a Secret,
    refresh: Option<(&'a Secret, i64)>,
) -> NewInstallation<'a> {
    NewInstallation {
        enterprise_id: "",
        team_id: team,
        name: None,
        is_enterprise_install: false,
        app_id: None,
        bot_user_id: None,
        scope: None,
        installer_user_id: None,
        bot_token,
        refresh_token: refresh.map(|(token, _)| token),
        token_expires_at: refresh.map(|(_, at)| Timestamp::from_unix_seconds(at)),
        default_time_zone: "UTC",
    }
}

/// `oauth.v2.access` with `grant_type=refresh_token`: the first use of a refresh token
/// gets a new pair, a reused one `invalid_refresh_token`, as Slack does.
struct Refresh {
    used: std::sync::Mutex<Vec<String>>,
}

impl Respond for Refresh {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap();
        assert_eq!(form["grant_type"], "refresh_token");
        let old = form["refresh_token"].clone();
        let mut used = self.used.lock().unwrap();
        if used.contains(&old) {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "invalid_refresh_token"}));
        }
        used.push(old.clone());
        let n = used.len();
        ResponseTemplate::new(200)
            // Slack takes a moment, so the racers overlap.
            .set_delay(std::time::Duration::from_millis(100))
            .set_body_json(json!({
                "ok": true, "token_type": "bot", "access_token": format!("xoxb-rotated-{n}"),
                "refresh_token": format!("xoxe-rotated-{n}"), "expires_in": 43200,
            }))
    }
}

#[tokio::test]
async fn rotation_racing_from_two_tasks_and_two_replicas_leaves_one_valid_refresh_token() {
    let database = ScratchDatabase::for_tests().await;
    let (store_a, store_b) = (
        keyed(crate::support::rig::store_on(&database).await, KEYS),
        keyed(crate::support::rig::store_on(&database).await, KEYS),
    );
    let clock = Arc::new(ShiftedClock::at(1_800_000_000));
    // An hour left: inside the two-hour window.
    let workspace = install_rotating(&store_a, "T0ROT", 3600).await;
    let (slack, refresh, client) = fake_refresh().await;
    let replica = |store: Store| {
        Arc::new(TokenRotation::new(
            store,
            client.clone(),
            clock.clone(),
            "111.222".into(),
            Secret::new("client-secret"),
        ))
    };
    let (a, b) = (replica(store_a.clone()), replica(store_b));
    let (one, two, three) = tokio::join!(
        a.fresh_token(workspace),
        a.fresh_token(workspace),
        b.fresh_token(workspace)
    );
    let tokens: Vec<String> = [one, two, three]
        .into_iter()
        .map(|t| t.unwrap().expect("a token").expose().to_owned())
        .collect();
    assert_eq!(
        tokens,
        vec!["xoxb-rotated-1"; 3],
        "everyone ends up with the one new token"
    );
    let stored = store_a.installation(workspace).await.unwrap();
    assert!(
        stored.active,
        "not marked broken by the racer Slack refused"
    );
    assert_eq!(stored.refresh_token.unwrap().expose(), "xoxe-rotated-1");
    assert_eq!(
        stored.token_expires_at,
        Some(Timestamp::from_unix_seconds(1_800_000_000 + 43200))
    );
    assert_eq!(
        refresh.used.lock().unwrap().len(),
        1,
        "one pair was ever issued"
    );
    // Nothing due now: a sweep does not call Slack.
    let calls = slack.received_requests().await.unwrap().len();
    assert_eq!(a.sweep().await.unwrap(), 0);
    assert_eq!(slack.received_requests().await.unwrap().len(), calls);

    // Twelve hours on, a refresh token Slack refuses for good marks it broken.
    clock.advance(43200 - 3600);
    refresh.used.lock().unwrap().push("xoxe-rotated-1".into());
    assert_eq!(a.sweep().await.unwrap(), 1);
    assert!(!store_a.installation(workspace).await.unwrap().active);
    assert!(a.fresh_token(workspace).await.unwrap().is_none());
}

#[tokio::test]
async fn a_rotation_keeps_its_new_pair_when_the_row_was_only_sealed_again_meanwhile() {
    let database = ScratchDatabase::for_tests().await;
    const OLD: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let (old, new) = (
        keyed(crate::support::rig::store_on(&database).await, OLD),
        keyed(crate::support::rig::store_on(&database).await, KEYS),
    );
    let workspace = install_rotating(&old, "T0SEAL", 60).await;
    let (_slack, refresh, client) = fake_refresh().await;
    let rotation = Arc::new(TokenRotation::new(
        new.clone(),
        client,
        Arc::new(ShiftedClock::at(1_800_000_000)),
        "111.222".into(),
        Secret::new("client-secret"),
    ));
    // While Slack answers (100 ms), the start-up pass seals the row again with k2.
    let rotating = tokio::spawn({
        let rotation = rotation.clone();
        async move { rotation.fresh_token(workspace).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(
        new.reseal_tokens(100, Timestamp::from_unix_seconds(1_800_000_001))
            .await
            .unwrap(),
        1
    );
    let token = rotating.await.unwrap().unwrap().unwrap();
    assert_eq!(token.expose(), "xoxb-rotated-1");
    let stored = new.installation(workspace).await.unwrap();
    assert!(stored.active);
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        "xoxe-rotated-1",
        "the new pair is kept"
    );
    assert!(stored.sealed_refresh_token.unwrap().starts_with("v1:k2:"));
    assert_eq!(refresh.used.lock().unwrap().len(), 1, "asked Slack once");
}

/// `team` installed at 1,800,000,000 with rotating tokens (`xoxb-first`, `xoxe-first`)
/// that run out `left` seconds later.
async fn install_rotating(store: &Store, team: &str, left: i64) -> learnloop::store::WorkspaceId {
    store
        .save_installation(
            team_installation(
                team,
                &Secret::new("xoxb-first"),
                Some((&Secret::new("xoxe-first"), 1_800_000_000 + left)),
            ),
            Timestamp::from_unix_seconds(1_800_000_000),
        )
        .await
        .unwrap()
        .id
}

/// A fake Slack that refreshes tokens as [`Refresh`] does, and a client for it.
async fn fake_refresh() -> (MockServer, Arc<Refresh>, SlackClient) {
    let slack = MockServer::start().await;
    let refresh = Arc::new(Refresh {
        used: std::sync::Mutex::default(),
    });
    Mock::given(method("POST"))
        .and(path("/api/oauth.v2.access"))
        .respond_with(RefreshResponder(refresh.clone()))
        .mount(&slack)
        .await;
    let client = SlackClient::new(
        &format!("{}/api", slack.uri()),
        std::time::Duration::from_secs(2),
    )
    .unwrap();
    (slack, refresh, client)
}

struct RefreshResponder(Arc<Refresh>);

impl Respond for RefreshResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

/// Settings of an app on `db_url` with these token keys.
fn keyed_settings(db_url: &str, keys: &str) -> learnloop::config::Settings {
    let env = std::collections::HashMap::from([
        ("LEARNLOOP_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("LEARNLOOP_DATABASE_URL".to_owned(), db_url.to_owned()),
        ("LEARNLOOP_LOG".to_owned(), "warn".to_owned()),
        ("LEARNLOOP_TOKEN_KEYS".to_owned(), keys.to_owned()),
    ]);
    learnloop::config::Settings::load_from(None, &env).unwrap()
}

#[tokio::test]
async fn a_new_key_reseals_stored_tokens_and_an_unknown_key_refuses_to_start() {
    let database = ScratchDatabase::for_tests().await;
    let db_url = database.url().to_owned();
    const OLD: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    // Installed while k1 was the only key.
    let app = learnloop::startup::App::build(keyed_settings(&db_url, OLD))
        .await
        .unwrap();
    drop(app);
    let store = keyed(
        Store::connect(&keyed_settings(&db_url, OLD).database)
            .await
            .unwrap(),
        OLD,
    );
    store
        .save_installation(
            team_installation("T0KEYS", &Secret::new("xoxb-keys"), None),
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap();
    store.close().await;

    // Without k1 the stored token could not be opened: refuse to start, saying why.
    let refused = learnloop::startup::App::build(keyed_settings(
        &db_url,
        "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
    ))
    .await
    .err()
    .expect("refuses to start");
    assert!(refused.to_string().contains("`k1`"), "{refused}");

    // k2 put in front of k1: the token is sealed again with k2 in the background.
    let app = learnloop::startup::App::build(keyed_settings(&db_url, KEYS))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let pool = db::Pool::connect(&db_url).await.unwrap();
    let mut sealed = String::new();
    for _ in 0..200 {
        sealed = db::query_scalar("SELECT bot_token FROM slack_installations")
            .fetch_one(&pool)
            .await
            .unwrap();
        if sealed.starts_with("v1:k2:") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(sealed.starts_with("v1:k2:"), "{sealed}");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let reopened = keyed(
        Store::connect(&keyed_settings(&db_url, KEYS).database)
            .await
            .unwrap(),
        KEYS,
    );
    let workspace = reopened
        .find_workspace(learnloop::store::Platform::Slack, "T0KEYS")
        .await
        .unwrap();
    assert_eq!(workspace.bot_token.unwrap().expose(), "xoxb-keys");
}

/// A slash command from `team` of the organisation E0ORG.
fn org_command(team: &str, channel: &str, text: &str) -> String {
    serde_urlencoded::to_string([
        ("team_id", team),
        ("enterprise_id", "E0ORG"),
        ("channel_id", channel),
        ("user_id", "U0ALICE"),
        ("command", "/debrief"),
        ("text", text),
    ])
    .unwrap()
}

#[tokio::test]
async fn a_team_with_its_own_install_inside_an_org_wide_one_is_served_and_removed_on_its_own() {
    let (app, _) = distributed(None).await;
    install(&app, "code-org").await;
    install(&app, "code-sub").await;
    let form = "application/x-www-form-urlencoded";
    // Another team of the organisation first (its answer cached), then the team with
    // its own install: each speaks with its own token.
    app.post_signed(
        "/slack/commands",
        form,
        &org_command("T0OTHER", "C0OTHER", "Org launch"),
    )
    .await;
    app.post_signed(
        "/slack/commands",
        form,
        &org_command("T0SUB", "C0SUB", "Sub launch"),
    )
    .await;
    assert_eq!(
        wait_for_post(&app, "C0OTHER").await.0,
        "Bearer xoxb-org-secret"
    );
    assert_eq!(
        wait_for_post(&app, "C0SUB").await.0,
        "Bearer xoxb-sub-secret"
    );

    // The team removes its own install; Slack says so twice. The organisation's install
    // is untouched, and serves the team from now on.
    for event_id in ["EvSubGone", "EvSubGoneAgain"] {
        let mut gone = uninstalled_event(event_id, "T0SUB");
        gone["enterprise_id"] = json!("E0ORG");
        assert_eq!(app.event(&gone).await.status(), 200);
    }
    let store = app.store().await;
    let org = store
        .find_workspace(learnloop::store::Platform::Slack, "E0ORG")
        .await
        .unwrap();
    assert!(!org.uninstalled, "the organisation keeps its install");
    let sub = store
        .find_workspace(learnloop::store::Platform::Slack, "T0SUB")
        .await
        .unwrap();
    assert!(sub.uninstalled);
    app.post_signed(
        "/slack/commands",
        form,
        &org_command("T0SUB", "C0SUB2", "After"),
    )
    .await;
    assert_eq!(
        wait_for_post(&app, "C0SUB2").await.0,
        "Bearer xoxb-org-secret"
    );
}
