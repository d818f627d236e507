//! The dashboard's sign-in with Slack (OpenID Connect) against a fake Slack: the
//! authorize redirect, the code exchanged at `openid.connect.token`, the id token
//! checked (signature, issuer, audience, nonce, expiry, an installed team), the
//! session (HttpOnly cookie, idle expiry, sign-out with its CSRF token), and the
//! library showing a person their workspace's public lessons only.

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
        assert_eq!(form["redirect_uri"], "http://learnloop.test/app/auth/slack");
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
}

/// A lesson said in `channel` of the workspace (in a debrief of its own).
async fn said(store: &Store, ws: WorkspaceId, channel: &str, text: &str, shared: bool) {
    let debrief = seed::debrief(store, ws, channel, "Rollout review", 10).await;
    let said = Said {
        kind: LessonKind::Lesson,
        text,
        owner: None,
        shared,
    };
    seed::lesson(store, (ws, debrief, "Rollout review"), said, 20).await;
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
        bot_token: None,
        clock: clock.clone(),
        env: vec![
            ("LEARNLOOP_SLACK_CLIENT_ID", CLIENT_ID.into()),
            ("LEARNLOOP_SLACK_CLIENT_SECRET", "client-secret".into()),
            ("LEARNLOOP_PUBLIC_URL", "http://learnloop.test".into()),
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
    said(&store, ours, "C0PUB", "Rollout needs a <b>canary</b>", true).await;
    said(
        &store,
        ours,
        "G0PRIV",
        "Rollout secrets of the private room",
        false,
    )
    .await;
    let theirs = seed::workspace(&store, "T0OTHER", Some("Other"), 1).await;
    said(
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
            .get(self.app.url("/app/login/slack"))
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
                && cookie.contains("Path=/app"),
            "{cookie}"
        );
        Started {
            cookie: cookie.split(';').next().unwrap().to_owned(),
            state: query_param(&location, "state"),
            nonce: query_param(&location, "nonce"),
        }
    }

    fn claims(&self, nonce: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": "https://slack.com",
            "aud": CLIENT_ID,
            "sub": "U0ALICE",
            "exp": now + 3600,
            "iat": now,
            "nonce": nonce,
            "https://slack.com/team_id": "T0ACME",
            "https://slack.com/user_id": "U0ALICE",
            "name": "Alice <Admin>",
        })
    }

    /// Slack sends the browser back with a code whose id token carries `claims`.
    async fn come_back(&self, started: &Started, claims: &Value) -> reqwest::Response {
        *self.tokens.0.lock().unwrap() = Some(self.slack_oidc.token(KID, claims));
        self.browser
            .get(self.app.url(&format!(
                "/app/auth/slack?code=c0de&state={}",
                started.state
            )))
            .header("cookie", &started.cookie)
            .send()
            .await
            .unwrap()
    }

    /// Signs in; the session cookie.
    async fn sign_in(&self) -> String {
        let started = self.start().await;
        let back = self.come_back(&started, &self.claims(&started.nonce)).await;
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
        library.contains("Signed in as Alice &lt;Admin&gt; in Acme &lt;Corp&gt;"),
        "{library}"
    );
    assert!(
        library.contains("Rollout needs a &lt;b&gt;canary&lt;/b&gt;"),
        "typed text is escaped: {library}"
    );
    assert!(
        !library.contains("private room"),
        "a private conversation's lesson: {library}"
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
        .post(dash.app.url("/app/logout"))
        .header("cookie", &session)
        .form(&[("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        dash.page("/app", &session).await.1.contains("Signed in as"),
        "still signed in"
    );
    let out = dash
        .browser
        .post(dash.app.url("/app/logout"))
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
        dash.page("/app", &session).await.1.contains("Signed in as"),
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
            "/app/auth/slack?code=c0de&state={}",
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
