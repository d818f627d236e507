//! The dashboard against a fake Slack: sign-in with Slack (OpenID Connect: the
//! authorize redirect, the code exchanged at `openid.connect.token`, the id token
//! checked for signature, issuer, audience, nonce, expiry and an installed team; guests
//! turned away), the session (HttpOnly cookie, idle expiry, sign-out with its CSRF
//! token), and what each page shows whom: the workspace's public lessons, a private
//! channel's only to its members, nothing of another workspace whatever the id, admin
//! pages to admins only.

mod browser;
mod microsoft;

use std::sync::{Arc, Mutex};

use learnloop::clock::ShiftedClock;
use learnloop::domain::Timestamp;
use learnloop::store::{ConversationKind, LessonKind, Store, WorkspaceId};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::support::bot_framework::{BotFramework, KID};
use crate::support::seed::{self, Said};
use crate::support::{Options, TestApp, spawn_app, spawn_app_with};

const CLIENT_ID: &str = "111.222";

/// Slack's `openid.connect.token`: answers any code with the id token a test set.
#[derive(Clone, Default)]
struct TokenEndpoint(Arc<Mutex<Option<String>>>);

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap();
        assert_eq!(form["client_id"], CLIENT_ID);
        assert_eq!(form["client_secret"], "client-secret");
        assert_eq!(
            form["redirect_uri"],
            "http://learnloop.test/auth/slack/callback"
        );
        match self.0.lock().unwrap().clone() {
            Some(id_token) => ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "access_token": "xoxp-x", "id_token": id_token})),
            None => ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "invalid_code"})),
        }
    }
}

struct Dashboard {
    app: TestApp,
    slack_oidc: BotFramework,
    tokens: TokenEndpoint,
    clock: Arc<ShiftedClock>,
    browser: reqwest::Client,
    ours: WorkspaceId,
    /// The private conversations `users.conversations` says each person is in.
    rooms: Rooms,
    /// Who is an admin, a guest, deactivated.
    people: People,
    /// Ids of lessons seeded: ours in public, ours in the private room, theirs.
    public_lesson: i64,
    private_lesson: i64,
    their_lesson: i64,
}

/// Slack's `users.conversations`: the private conversations each person is in.
#[derive(Clone, Default)]
struct Rooms(Arc<Mutex<std::collections::HashMap<String, Vec<&'static str>>>>);

impl Respond for Rooms {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap();
        assert_eq!(form["types"], "private_channel,mpim,im");
        let rooms = self.0.lock().unwrap();
        let theirs = rooms.get(&form["user"]).cloned().unwrap_or_default();
        let channels: Vec<Value> = theirs.iter().map(|id| json!({"id": id})).collect();
        ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "channels": channels, "response_metadata": {"next_cursor": ""}}),
        )
    }
}

/// A lesson said in `channel` of the workspace (in a debrief of its own); its id.
async fn said(store: &Store, ws: WorkspaceId, channel: &str, text: &str, shared: bool) -> i64 {
    let debrief = seed::debrief(store, ws, channel, "Rollout review", 10).await;
    let said = Said {
        kind: LessonKind::Lesson,
        text,
        owner: None,
        shared,
    };
    seed::lesson(store, (ws, debrief, "Rollout review"), said, 20).await
}

/// Slack's `users.info`: a plain member unless a test set flags for the person (an
/// admin, a guest, deactivated).
#[derive(Clone, Default)]
struct People(Arc<Mutex<std::collections::HashMap<String, Value>>>);

impl People {
    fn set(&self, user: &str, flags: Value) {
        self.0.lock().unwrap().insert(user.into(), flags);
    }
}

impl Respond for People {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap();
        let user = &form["user"];
        let mut person = json!({"id": user, "deleted": false, "is_bot": false});
        if let Some(flags) = self.0.lock().unwrap().get(user) {
            for (flag, value) in flags.as_object().unwrap() {
                person[flag] = value.clone();
            }
        }
        ResponseTemplate::new(200).set_body_json(json!({"ok": true, "user": person}))
    }
}

async fn dashboard() -> Dashboard {
    let slack_oidc = BotFramework::start().await;
    Mock::given(method("GET"))
        .and(path("/openid/connect/keys"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"keys": [slack_oidc.jwk(KID, None)]})),
        )
        .mount(&slack_oidc.server)
        .await;
    let clock = Arc::new(ShiftedClock::at(chrono::Utc::now().timestamp()));
    let app = spawn_app_with(Options {
        bot_token: Some("xoxb-test"),
        clock: clock.clone(),
        env: vec![
            ("LEARNLOOP_SLACK_CLIENT_ID", CLIENT_ID.into()),
            ("LEARNLOOP_SLACK_CLIENT_SECRET", "client-secret".into()),
            ("LEARNLOOP_PUBLIC_URL", "http://learnloop.test".into()),
            // Carol is a member to Slack, and an admin of learnloop's dashboard.
            ("LEARNLOOP_ADMINS", "U0CAROL, U0DAVE".into()),
            ("LEARNLOOP_SLACK_OAUTH_URL", slack_oidc.server.uri()),
            (
                "LEARNLOOP_TOKEN_KEYS",
                "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=".into(),
            ),
        ],
        ..Options::default()
    })
    .await;
    let tokens = TokenEndpoint::default();
    Mock::given(method("POST"))
        .and(path("/api/openid.connect.token"))
        .respond_with(tokens.clone())
        .with_priority(1)
        .mount(&app.slack)
        .await;
    let rooms = Rooms::default();
    rooms
        .0
        .lock()
        .unwrap()
        .insert("U0ALICE".into(), vec!["G0PRIV"]);
    Mock::given(method("POST"))
        .and(path("/api/users.conversations"))
        .respond_with(rooms.clone())
        .with_priority(1)
        .mount(&app.slack)
        .await;
    let people = People::default();
    people.set("U0ADMIN", json!({"is_admin": true}));
    people.set("U0GUEST", json!({"is_restricted": true}));
    Mock::given(method("POST"))
        .and(path("/api/users.info"))
        .respond_with(people.clone())
        .with_priority(1)
        .mount(&app.slack)
        .await;
    let store = app.store().await;
    let ours = seed::workspace(&store, "T0ACME", Some("Acme <Corp>"), 1).await;
    store
        .record_conversation_scope(
            ours,
            "C0PUB",
            ConversationKind::PublicChannel,
            Timestamp::from_unix_seconds(i64::MAX),
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap();
    let public_lesson = said(&store, ours, "C0PUB", "Rollout needs a <b>canary</b>", true).await;
    let private_lesson = said(
        &store,
        ours,
        "G0PRIV",
        "Rollout secrets of the private room",
        false,
    )
    .await;
    let theirs = seed::workspace(&store, "T0OTHER", Some("Other"), 1).await;
    let their_lesson = said(
        &store,
        theirs,
        "C0PUB",
        "Rollout lessons of another company",
        true,
    )
    .await;
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    Dashboard {
        app,
        slack_oidc,
        tokens,
        clock,
        browser,
        ours,
        rooms,
        people,
        public_lesson,
        private_lesson,
        their_lesson,
    }
}

/// Where a sign-in starts: the cookie bound to this browser and the state and nonce
/// Slack was given.
struct Started {
    cookie: String,
    state: String,
    nonce: String,
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    pairs.into_iter().find(|(k, _)| k == name).unwrap().1
}

fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie: {response:?}"))
}

impl Dashboard {
    async fn start(&self) -> Started {
        let response = self
            .browser
            .get(self.app.url("/auth/slack/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!(
                "{}/openid/connect/authorize?",
                self.slack_oidc.server.uri()
            )),
            "{location}"
        );
        assert_eq!(query_param(&location, "client_id"), CLIENT_ID);
        assert_eq!(query_param(&location, "scope"), "openid profile");
        let cookie = set_cookie(&response, "learnloop_signin");
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Path=/;"),
            "{cookie}"
        );
        Started {
            cookie: cookie.split(';').next().unwrap().to_owned(),
            state: query_param(&location, "state"),
            nonce: query_param(&location, "nonce"),
        }
    }

    fn claims(&self, nonce: &str) -> Value {
        self.claims_of("U0ALICE", nonce)
    }

    fn claims_of(&self, user: &str, nonce: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": "https://slack.com",
            "aud": CLIENT_ID,
            "sub": user,
            "exp": now + 3600,
            "iat": now,
            "nonce": nonce,
            "https://slack.com/team_id": "T0ACME",
            "https://slack.com/user_id": user,
            "name": if user == "U0ALICE" { "Alice <Admin>" } else { user },
        })
    }

    /// Slack sends the browser back with a code whose id token carries `claims`.
    async fn come_back(&self, started: &Started, claims: &Value) -> reqwest::Response {
        *self.tokens.0.lock().unwrap() = Some(self.slack_oidc.token(KID, claims));
        self.browser
            .get(self.app.url(&format!(
                "/auth/slack/callback?code=c0de&state={}",
                started.state
            )))
            .header("cookie", &started.cookie)
            .send()
            .await
            .unwrap()
    }

    /// Signs Alice in; the session cookie.
    async fn sign_in(&self) -> String {
        self.sign_in_as("U0ALICE").await
    }

    /// Signs `user` in; the session cookie.
    async fn sign_in_as(&self, user: &str) -> String {
        let started = self.start().await;
        let back = self
            .come_back(&started, &self.claims_of(user, &started.nonce))
            .await;
        assert_eq!(back.status(), 303, "{:?}", back.text().await);
        assert_eq!(back.headers()["location"], "/app");
        let cookie = set_cookie(&back, "learnloop_session");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn page(&self, path: &str, cookie: &str) -> (u16, String) {
        let response = self
            .browser
            .get(self.app.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

#[tokio::test]
async fn without_a_public_url_and_a_slack_app_the_dashboard_is_off_and_says_so() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/app")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("LEARNLOOP_PUBLIC_URL")
    );
}

#[tokio::test]
async fn a_person_signs_in_with_slack_and_finds_their_workspace_s_public_lessons() {
    let dash = dashboard().await;
    let (status, landing) = dash.page("/app", "").await;
    assert_eq!(status, 200);
    assert!(landing.contains("Sign in with Slack"), "{landing}");

    let session = dash.sign_in().await;
    let (status, library) = dash.page("/app?q=rollout", &session).await;
    assert_eq!(status, 200);
    assert!(
        library.contains("Alice &lt;Admin&gt; · Acme &lt;Corp&gt;"),
        "{library}"
    );
    assert!(
        library.contains("Rollout needs a &lt;b&gt;canary&lt;/b&gt;"),
        "typed text is escaped: {library}"
    );
    assert!(
        library.contains("private room"),
        "Alice is in the private room: {library}"
    );
    assert!(
        !library.contains("another company"),
        "another workspace's lesson: {library}"
    );
    let (_, nothing) = dash.page("/app?q=%22no+such+thing%22", &session).await;
    assert!(nothing.contains("No lesson matches"), "{nothing}");

    // Signing out needs the session's own form token.
    let csrf = library
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let forged = dash
        .browser
        .post(dash.app.url("/auth/logout"))
        .header("cookie", &session)
        .form(&[("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        dash.page("/app", &session).await.1.contains("Sign out"),
        "still signed in"
    );
    let out = dash
        .browser
        .post(dash.app.url("/auth/logout"))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(set_cookie(&out, "learnloop_session").contains("Max-Age=0"));
    let (_, after) = dash.page("/app", &session).await;
    assert!(
        after.contains("Sign in with Slack"),
        "the session is over: {after}"
    );
}

#[tokio::test]
async fn a_session_ends_after_eight_hours_without_use() {
    let dash = dashboard().await;
    let session = dash.sign_in().await;
    dash.clock.advance(7 * 3600);
    assert!(
        dash.page("/app", &session).await.1.contains("Sign out"),
        "used: kept alive"
    );
    dash.clock.advance(8 * 3600 + 1);
    assert!(
        dash.page("/app", &session)
            .await
            .1
            .contains("Sign in with Slack")
    );
    let _ = dash.ours;
}

#[tokio::test]
async fn signing_in_again_in_a_browser_ends_its_earlier_session() {
    let dash = dashboard().await;
    let first = dash.sign_in().await;
    let started = dash.start().await;
    let claims = dash.claims(&started.nonce);
    let again = Started {
        cookie: format!("{}; {first}", started.cookie),
        ..started
    };
    assert_eq!(dash.come_back(&again, &claims).await.status(), 303);
    let (_, page) = dash.page("/app", &first).await;
    assert!(
        page.contains("Sign in with Slack"),
        "the earlier session is over: {page}"
    );
}

/// What a test changes in good claims, to see them refused.
type Spoil = Box<dyn Fn(&mut Value)>;

#[tokio::test]
async fn an_id_token_that_is_not_for_this_sign_in_signs_nobody_in() {
    let dash = dashboard().await;
    let cases: Vec<(&str, Spoil)> = vec![
        (
            "another sign-in",
            Box::new(|c| c["nonce"] = json!("someone-else")),
        ),
        ("refused", Box::new(|c| c["aud"] = json!("another-app"))),
        (
            "refused",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "expired",
            Box::new(|c| c["exp"] = json!(chrono::Utc::now().timestamp() - 3600)),
        ),
        (
            "not installed",
            Box::new(|c| c["https://slack.com/team_id"] = json!("T0NOBODY")),
        ),
    ];
    for (why, spoil) in cases {
        let started = dash.start().await;
        let mut claims = dash.claims(&started.nonce);
        spoil(&mut claims);
        let back = dash.come_back(&started, &claims).await;
        assert_eq!(back.status(), 403, "{why}");
        assert!(
            back.headers().get("set-cookie").is_none(),
            "{why}: no session"
        );
        let page = back.text().await.unwrap();
        assert!(page.contains(why), "{why}: {page}");
    }
    // Signed with a key Slack does not publish.
    let started = dash.start().await;
    *dash.tokens.0.lock().unwrap() = Some(
        dash.slack_oidc
            .token("unpublished", &dash.claims(&started.nonce)),
    );
    let back = dash
        .browser
        .get(dash.app.url(&format!(
            "/auth/slack/callback?code=c0de&state={}",
            started.state
        )))
        .header("cookie", &started.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 403);
    assert!(back.text().await.unwrap().contains("does not publish"));
    // A state is used once, and only by the browser that started it.
    let started = dash.start().await;
    let claims = dash.claims(&started.nonce);
    let foreign = Started {
        cookie: "learnloop_signin=another-browser".into(),
        state: started.state.clone(),
        nonce: started.nonce.clone(),
    };
    assert_eq!(dash.come_back(&foreign, &claims).await.status(), 400);
    let started = dash.start().await;
    let claims = dash.claims(&started.nonce);
    assert_eq!(dash.come_back(&started, &claims).await.status(), 303);
    assert_eq!(
        dash.come_back(&started, &claims).await.status(),
        400,
        "replayed"
    );
}

/// The form token on a page.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no form token: {page}"))
        .to_owned()
}

#[tokio::test]
async fn a_private_channel_s_lessons_are_shown_to_its_members_only_and_never_another_workspace_s() {
    let dash = dashboard().await;
    let alice = dash.sign_in().await;
    let bob = dash.sign_in_as("U0BOB").await;
    let private = format!("/app/lessons/{}", dash.private_lesson);
    let public = format!("/app/lessons/{}", dash.public_lesson);

    let (status, page) = dash.page(&private, &alice).await;
    assert_eq!(status, 200, "Alice is in the private room");
    assert!(
        page.contains("Rollout secrets of the private room"),
        "{page}"
    );
    let (status, page) = dash.page(&private, &bob).await;
    assert_eq!(status, 404, "Bob is not: {page}");
    assert!(!page.contains("secrets"), "{page}");
    let (_, library) = dash.page("/app/lessons", &bob).await;
    assert!(
        library.contains("canary") && !library.contains("secrets"),
        "{library}"
    );
    let (_, debriefs) = dash.page("/app/debriefs", &bob).await;
    assert!(!debriefs.contains("G0PRIV"), "{debriefs}");
    assert_eq!(dash.page(&public, &bob).await.0, 200);

    // Another workspace's lesson and debrief, or no lesson at all: the same 404.
    for path in [
        format!("/app/lessons/{}", dash.their_lesson),
        "/app/lessons/999999".to_owned(),
        "/app/lessons/not-a-number".to_owned(),
    ] {
        let (status, page) = dash.page(&path, &alice).await;
        assert_eq!(status, 404, "{path}");
        assert!(!page.contains("another company"), "{path}: {page}");
    }
    let (status, _) = dash.page("/app/debriefs/3", &alice).await;
    assert_eq!(
        status, 404,
        "the third debrief seeded is the other workspace's"
    );

    // Taken out of the private room, Alice stops seeing it once the check is redone.
    dash.rooms.0.lock().unwrap().clear();
    assert_eq!(
        dash.page(&private, &alice).await.0,
        200,
        "checked minutes ago"
    );
    dash.clock.advance(301);
    assert_eq!(dash.page(&private, &alice).await.0, 404);
}

#[tokio::test]
async fn guests_are_turned_away_and_admin_pages_are_for_admins() {
    let dash = dashboard().await;
    let started = dash.start().await;
    let back = dash
        .come_back(&started, &dash.claims_of("U0GUEST", &started.nonce))
        .await;
    assert_eq!(back.status(), 403);
    assert!(back.headers().get("set-cookie").is_none());
    assert!(back.text().await.unwrap().contains("Guests"));

    let member = dash.sign_in().await;
    let (_, library) = dash.page("/app", &member).await;
    assert!(
        !library.contains("/app/settings"),
        "no settings link: {library}"
    );
    for path in ["/app/settings", "/app/export/lessons.csv"] {
        let (status, page) = dash.page(path, &member).await;
        assert_eq!(status, 403, "{path}: {page}");
        assert!(!page.contains("canary"), "{path}");
    }

    let carol = dash.sign_in_as("U0CAROL").await;
    assert_eq!(
        dash.page("/app/settings", &carol).await.0,
        200,
        "LEARNLOOP_ADMINS"
    );
    let admin = dash.sign_in_as("U0ADMIN").await;
    let (status, settings) = dash.page("/app/settings", &admin).await;
    assert_eq!(status, 200, "{settings}");
    assert!(settings.contains("retro") && settings.contains("/app/export/lessons.csv"));
    let csv = dash
        .browser
        .get(dash.app.url("/app/export/lessons.csv"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"learnloop-T0ACME-lessons.csv\"")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("id,"), "{csv}");
    assert_eq!(
        csv.lines().count(),
        2,
        "a header and our public lesson: {csv}"
    );
    assert!(csv.contains("canary") && !csv.contains("another company"));
    assert!(
        !csv.contains("private room"),
        "an admin who is not in a private channel does not export its lessons: {csv}"
    );
    let (status, json) = dash.page("/app/export/debriefs.json", &admin).await;
    assert_eq!(status, 200);
    let debriefs: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(debriefs.len(), 1, "the public one: {json}");
    assert_eq!(dash.page("/app/export/passwords.csv", &admin).await.0, 404);
}

#[tokio::test]
async fn an_owner_answers_follow_ups_on_the_me_page_and_outcomes_count_them() {
    let dash = dashboard().await;
    let store = dash.app.store().await;
    let debrief = seed::debrief(&store, dash.ours, "C0PUB", "Incident review", 30).await;
    let mut owned = Vec::new();
    for text in [
        "Page the owner",
        "Write the runbook",
        "Test the restore",
        "Drop the cron",
    ] {
        let said = Said {
            kind: LessonKind::Lesson,
            text,
            owner: Some("U0ALICE"),
            shared: true,
        };
        owned.push(seed::lesson(&store, (dash.ours, debrief, "Incident review"), said, 40).await);
    }
    let alice = dash.sign_in().await;
    let (status, me) = dash.page("/app/me", &alice).await;
    assert_eq!(status, 200);
    assert!(me.contains("Write the runbook"), "{me}");
    let csrf = csrf_of(&me);
    let answer = |lesson: i64, answer: &'static str, csrf: String| {
        let dash = &dash;
        let alice = alice.clone();
        async move {
            dash.browser
                .post(dash.app.url(&format!("/app/me/followups/{lesson}")))
                .header("cookie", alice)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("version", "0"),
                    ("answer", answer),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let forged = answer(owned[0], "applied", "forged".into()).await;
    assert_eq!(forged.status(), 403);
    for (lesson, said) in owned
        .iter()
        .zip(["applied", "applied", "applied", "not_relevant"])
    {
        let done = answer(*lesson, said, csrf.clone()).await;
        assert_eq!(done.status(), 303);
        assert_eq!(done.headers()["location"], "/app/me?recorded=true");
    }
    let again = answer(owned[0], "not_relevant", csrf.clone()).await;
    assert_eq!(again.headers()["location"], "/app/me?recorded=false");
    let statuses: Vec<String> = learnloop::store::db::query_scalar(
        "SELECT status FROM lessons WHERE debrief_id = ? ORDER BY id",
    )
    .bind(debrief.0)
    .fetch_all(&dash.app.database().await)
    .await
    .unwrap();
    assert_eq!(statuses, ["applied", "applied", "applied", "not_relevant"]);

    let (status, outcomes) = dash.page("/app/outcomes", &alice).await;
    assert_eq!(status, 200);
    assert!(
        outcomes.contains("the outcome of <strong>4</strong> lessons became known; <strong>3</strong> of them (75%) were applied"),
        "{outcomes}"
    );
    assert!(outcomes.contains("<svg"), "charts are inline SVG");
    assert!(outcomes.contains("#deploy"), "per tag: {outcomes}");
    let (_, lesson) = dash
        .page(&format!("/app/lessons/{}", owned[0]), &alice)
        .await;
    assert!(
        lesson.contains("applied on"),
        "the follow-up history: {lesson}"
    );
}

#[tokio::test]
async fn a_demoted_admin_loses_the_admin_pages_and_a_deactivated_account_its_session() {
    let dash = dashboard().await;
    let admin = dash.sign_in_as("U0ADMIN").await;
    let alice = dash.sign_in().await;
    assert_eq!(dash.page("/app/settings", &admin).await.0, 200);
    dash.people.set("U0ADMIN", json!({"is_admin": false}));
    dash.people.set("U0ALICE", json!({"deleted": true}));
    assert_eq!(
        dash.page("/app/settings", &admin).await.0,
        200,
        "asked a minute ago"
    );
    dash.clock.advance(301);
    assert_eq!(dash.page("/app/settings", &admin).await.0, 403);
    let (status, page) = dash.page("/app/lessons", &alice).await;
    assert_eq!(status, 303, "signed out: {page}");
    assert!(
        dash.page("/app", &alice)
            .await
            .1
            .contains("Sign in with Slack")
    );
    // Made an admin again, and asked again.
    dash.people.set("U0ADMIN", json!({"is_owner": true}));
    dash.clock.advance(301);
    assert_eq!(dash.page("/app/settings", &admin).await.0, 200);
}

#[tokio::test]
async fn notes_said_in_private_stay_private_and_stale_lessons_are_kept_or_retired_on_me() {
    let dash = dashboard().await;
    let store = dash.app.store().await;
    let debrief = seed::debrief(&store, dash.ours, "C0PUB", "Incident review", 30).await;
    let mut owned = Vec::new();
    for text in ["Page the owner", "Write the runbook"] {
        let said = Said {
            kind: LessonKind::Lesson,
            text,
            owner: Some("U0ALICE"),
            shared: true,
        };
        owned.push(seed::lesson(&store, (dash.ours, debrief, "Incident review"), said, 40).await);
    }
    let db = dash.app.database().await;
    for (lesson, answer, note) in [
        (owned[0], "applied", "Paged in two minutes"),
        (owned[1], "not_yet", "My manager moved it"),
    ] {
        learnloop::store::db::query(
            "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answer, note, \
                 answered_at) VALUES (?, ?, 'U0ALICE', 50, ?, ?, 60)",
        )
        .bind(dash.ours.0)
        .bind(lesson)
        .bind(answer)
        .bind(note)
        .execute(&db)
        .await
        .unwrap();
    }
    learnloop::store::db::query(
        "UPDATE lessons SET status = 'stale', not_yet_count = 4 WHERE id = ?",
    )
    .bind(owned[1])
    .execute(&db)
    .await
    .unwrap();
    let bob = dash.sign_in_as("U0BOB").await;
    let (_, applied) = dash.page(&format!("/app/lessons/{}", owned[0]), &bob).await;
    assert!(applied.contains("Paged in two minutes"), "{applied}");
    let (_, stale) = dash.page(&format!("/app/lessons/{}", owned[1]), &bob).await;
    assert!(
        !stale.contains("manager"),
        "another's private note: {stale}"
    );
    let alice = dash.sign_in().await;
    let (_, own) = dash
        .page(&format!("/app/lessons/{}", owned[1]), &alice)
        .await;
    assert!(own.contains("My manager moved it"), "her own note: {own}");

    let (_, me) = dash.page("/app/me", &alice).await;
    assert!(
        me.contains("Still relevant?") && me.contains("Write the runbook"),
        "{me}"
    );
    let stale_lesson = owned[1];
    let retire = |csrf: String| {
        let (dash, alice) = (&dash, alice.clone());
        async move {
            dash.browser
                .post(dash.app.url(&format!("/app/me/stale/{stale_lesson}")))
                .header("cookie", alice)
                .form(&[("csrf", csrf.as_str()), ("choice", "retire")])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(retire("forged".into()).await.status(), 403);
    let done = retire(csrf_of(&me)).await;
    assert_eq!(done.headers()["location"], "/app/me?recorded=true");
    let status: String =
        learnloop::store::db::query_scalar("SELECT status FROM lessons WHERE id = ?")
            .bind(owned[1])
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(status, "not_relevant");
    assert!(
        !dash
            .page("/app/me", &alice)
            .await
            .1
            .contains("Still relevant?")
    );
    // Bob cannot retire Alice's lessons.
    let (_, bobs) = dash.page("/app/me", &bob).await;
    let theirs = dash
        .browser
        .post(dash.app.url(&format!("/app/me/stale/{}", owned[0])))
        .header("cookie", &bob)
        .form(&[("csrf", csrf_of(&bobs).as_str()), ("choice", "keep")])
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.headers()["location"], "/app/me?recorded=false");
}
