//! "Sign in with Microsoft" for Teams workspaces against a fake Microsoft Entra ID
//! (keys and token endpoint per tenant, tokens signed with the test key) and a fake
//! Bot Framework connector (the team's roster): the person is found among the people
//! the bot met in a team of their tenant, by object id, and must be in the team's
//! roster now and not a guest; a token of another tenant, issuer, audience or sign-in
//! is refused; the person who added the bot to the team administers its dashboard.

use std::sync::{Arc, Mutex};

use learnloop::clock::ShiftedClock;
use learnloop::domain::Timestamp;
use learnloop::store::{
    ConversationKind, LessonKind, NewWorkspace, Platform, Store, TeamsConversation, TeamsPerson,
    WorkspaceId,
};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{query_param, set_cookie};
use crate::support::bot_framework::{APP_ID, BotFramework, KID};
use crate::support::seed::{self, Said};
use crate::support::{Options, TestApp, spawn_app_with};

const TENANT: &str = "72f988bf-0000-4000-8000-000000000001";
const OTHER_TENANT: &str = "0badc0de-0000-4000-8000-000000000002";
const TEAM: &str = "19:team-general@thread.tacv2";
const PASSWORD: &str = "bot-password";
/// A private channel of the team.
const PRIVATE: &str = "19:private-room@thread.tacv2";

/// The tenant's token endpoint: checks the exchange and answers with the id token a
/// test set.
#[derive(Clone, Default)]
struct TokenEndpoint(Arc<Mutex<Option<String>>>);

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap();
        assert_eq!(form["client_id"], APP_ID);
        assert_eq!(form["client_secret"], PASSWORD);
        assert_eq!(form["grant_type"], "authorization_code");
        assert_eq!(
            form["redirect_uri"],
            "http://learnloop.test/auth/microsoft/callback"
        );
        match self.0.lock().unwrap().clone() {
            Some(id_token) => {
                ResponseTemplate::new(200).set_body_json(json!({"id_token": id_token}))
            }
            None => ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})),
        }
    }
}

/// The team's roster as the connector answers `GET …/members/ID`: a role per person
/// in it, 404 for anyone else.
#[derive(Clone, Default)]
struct Roster(Arc<Mutex<std::collections::HashMap<String, &'static str>>>);

impl Respond for Roster {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let member = path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace("%3A", ":");
        match self.0.lock().unwrap().get(&member) {
            Some(role) => {
                ResponseTemplate::new(200).set_body_json(json!({"id": member, "userRole": role}))
            }
            None => {
                ResponseTemplate::new(404).set_body_json(json!({"error": {"code": "NotFound"}}))
            }
        }
    }
}

struct Entra {
    app: TestApp,
    entra: BotFramework,
    tokens: TokenEndpoint,
    roster: Roster,
    clock: Arc<ShiftedClock>,
    browser: reqwest::Client,
    /// The team's connector: kept running as long as the app may ask it.
    _connector: MockServer,
}

async fn person(store: &Store, ws: WorkspaceId, id: &str, object_id: &str, connector: &str) {
    let person = TeamsPerson {
        person: id.into(),
        name: Some(id.into()),
        aad_object_id: Some(object_id.into()),
        service_url: format!("{connector}/emea/"),
    };
    store
        .remember_teams_person(ws, &person, Timestamp::from_unix_seconds(5))
        .await
        .unwrap();
}

async fn entra() -> Entra {
    let entra = BotFramework::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/{TENANT}/discovery/v2.0/keys")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"keys": [entra.jwk(KID, None)]})),
        )
        .mount(&entra.server)
        .await;
    let tokens = TokenEndpoint::default();
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(tokens.clone())
        .mount(&entra.server)
        .await;
    let connector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": "bf-token",
        })))
        .mount(&connector)
        .await;
    let roster = Roster::default();
    for (member, role) in [
        ("29:alice", "user"),
        ("29:boss", "user"),
        ("29:gwen", "guest"),
    ] {
        roster.0.lock().unwrap().insert(member.into(), role);
    }
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/emea/v3/conversations/[^/]+/members/[^/]+$",
        ))
        .respond_with(roster.clone())
        .mount(&connector)
        .await;
    // Only Alice is in the private channel.
    Mock::given(method("GET"))
        .and(path(format!(
            "/emea/v3/conversations/{}/members",
            PRIVATE.replace(':', "%3A").replace('@', "%40")
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "29:alice", "name": "Alice Example", "aadObjectId": "oid-alice"},
        ])))
        .mount(&connector)
        .await;
    let clock = Arc::new(ShiftedClock::at(chrono::Utc::now().timestamp()));
    let app = spawn_app_with(Options {
        clock: clock.clone(),
        env: vec![
            ("LEARNLOOP_TEAMS_APP_ID", APP_ID.to_owned()),
            ("LEARNLOOP_TEAMS_APP_PASSWORD", PASSWORD.to_owned()),
            ("LEARNLOOP_TEAMS_TENANT_ID", TENANT.to_owned()),
            ("LEARNLOOP_TEAMS_OPENID_URL", entra.openid_url()),
            ("LEARNLOOP_PUBLIC_URL", "http://learnloop.test".into()),
            ("LEARNLOOP_MICROSOFT_LOGIN_URL", entra.server.uri()),
            (
                "LEARNLOOP_TEAMS_TOKEN_URL",
                format!("{}/token", connector.uri()),
            ),
        ],
        ..Options::default()
    })
    .await;
    let store = app.store().await;
    let workspace = store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Teams,
                external_id: &format!("{TENANT}:{TEAM}"),
                name: Some("Contoso"),
                default_time_zone: "UTC",
            },
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap()
        .id;
    for (id, object_id) in [
        ("29:alice", "oid-alice"),
        ("29:boss", "oid-boss"),
        ("29:gwen", "oid-gwen"),
        // Met in a group chat linked to the team, but not in the team.
        ("29:mallory", "oid-mallory"),
    ] {
        person(&store, workspace, id, object_id, &connector.uri()).await;
    }
    store.record_installer(workspace, "29:boss").await.unwrap();
    store
        .record_conversation_scope(
            workspace,
            TEAM,
            ConversationKind::PublicChannel,
            Timestamp::from_unix_seconds(i64::MAX / 2000),
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap();
    let debrief = seed::debrief(&store, workspace, TEAM, "Launch review", 10).await;
    let said = Said {
        kind: LessonKind::Lesson,
        text: "Launch with a feature flag",
        owner: Some("29:alice"),
        shared: true,
    };
    seed::lesson(&store, (workspace, debrief, "Launch review"), said, 20).await;
    let reference = TeamsConversation {
        conversation_id: PRIVATE.into(),
        kind: "channel".into(),
        service_url: format!("{}/emea/", connector.uri()),
        bot_id: "28:bot".into(),
        tenant_id: TENANT.into(),
        person: None,
    };
    store
        .remember_teams_conversation(workspace, &reference, Timestamp::from_unix_seconds(5))
        .await
        .unwrap();
    let secret = seed::debrief(&store, workspace, PRIVATE, "Private review", 30).await;
    let said = Said {
        kind: LessonKind::Lesson,
        text: "Salaries stay in the private channel",
        owner: None,
        shared: false,
    };
    seed::lesson(&store, (workspace, secret, "Private review"), said, 40).await;
    Entra {
        _connector: connector,
        app,
        entra,
        tokens,
        roster,
        clock,
        browser: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
    }
}

impl Entra {
    fn claims(&self, object_id: &str, nonce: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": format!("{}/{TENANT}/v2.0", self.entra.server.uri()),
            "aud": APP_ID,
            "tid": TENANT,
            "oid": object_id,
            "name": "Alice Example",
            "nonce": nonce,
            "exp": now + 3600,
            "iat": now,
        })
    }

    /// Starts a sign-in; the browser's sign-in cookie and Microsoft's authorize URL.
    async fn start(&self) -> (String, String) {
        let response = self
            .browser
            .get(self.app.url("/auth/microsoft/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!(
                "{}/{TENANT}/oauth2/v2.0/authorize?",
                self.entra.server.uri()
            )),
            "{location}"
        );
        assert_eq!(query_param(&location, "client_id"), APP_ID);
        assert_eq!(query_param(&location, "scope"), "openid profile");
        let cookie = set_cookie(&response, "learnloop_signin");
        (cookie.split(';').next().unwrap().to_owned(), location)
    }

    /// Signs in with claims made by `spoil` from good ones; the callback's answer.
    async fn sign_in_with(&self, object_id: &str, spoil: &dyn Fn(&mut Value)) -> reqwest::Response {
        let (cookie, location) = self.start().await;
        let mut claims = self.claims(object_id, &query_param(&location, "nonce"));
        spoil(&mut claims);
        *self.tokens.0.lock().unwrap() = Some(self.entra.token(KID, &claims));
        self.browser
            .get(self.app.url(&format!(
                "/auth/microsoft/callback?code=c0de&state={}",
                query_param(&location, "state")
            )))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    async fn session_of(&self, object_id: &str) -> String {
        let back = self.sign_in_with(object_id, &|_| {}).await;
        assert_eq!(back.status(), 303, "{:?}", back.text().await);
        set_cookie(&back, "learnloop_session")
            .split(';')
            .next()
            .unwrap()
            .to_owned()
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
async fn a_teams_member_signs_in_with_microsoft_and_finds_their_team_s_lessons_and_follow_ups() {
    let entra = entra().await;
    let (_, landing) = entra.page("/app", "").await;
    assert!(landing.contains("Sign in with Microsoft"), "{landing}");
    let alice = entra.session_of("oid-alice").await;
    let (status, library) = entra.page("/app/lessons", &alice).await;
    assert_eq!(status, 200);
    assert!(library.contains("Launch with a feature flag"), "{library}");
    assert!(library.contains("Alice Example · Contoso"), "{library}");
    assert!(
        library.contains("Salaries stay in the private channel"),
        "Alice is in the private channel: {library}"
    );
    let (_, me) = entra.page("/app/me", &alice).await;
    assert!(
        me.contains("Launch with a feature flag"),
        "her follow-up: {me}"
    );
    assert_eq!(entra.page("/app/settings", &alice).await.0, 403);
    // The person who added the bot to the team administers its dashboard.
    let boss = entra.session_of("oid-boss").await;
    assert_eq!(entra.page("/app/settings", &boss).await.0, 200);
    let (_, theirs) = entra.page("/app/lessons", &boss).await;
    assert!(
        theirs.contains("feature flag") && !theirs.contains("Salaries"),
        "the installer is not in the private channel: {theirs}"
    );
    // Alice leaves the team: her session ends once the roster is asked again.
    entra.roster.0.lock().unwrap().remove("29:alice");
    assert_eq!(
        entra.page("/app/lessons", &alice).await.0,
        200,
        "asked minutes ago"
    );
    entra.clock.advance(301);
    assert_eq!(entra.page("/app/lessons", &alice).await.0, 303);
    assert_eq!(entra.page("/app/lessons", &boss).await.0, 200);
}

#[tokio::test]
async fn guests_and_people_outside_the_team_cannot_sign_in_with_microsoft() {
    let entra = entra().await;
    for object_id in ["oid-gwen", "oid-mallory"] {
        let back = entra.sign_in_with(object_id, &|_| {}).await;
        assert_eq!(back.status(), 403, "{object_id}");
        assert!(back.headers().get("set-cookie").is_none(), "{object_id}");
    }
    let page = entra
        .sign_in_with("oid-gwen", &|_| {})
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Guests"), "{page}");
}

#[tokio::test]
async fn a_microsoft_id_token_for_another_tenant_app_or_sign_in_signs_nobody_in() {
    let entra = entra().await;
    let other_issuer = format!("{}/{OTHER_TENANT}/v2.0", entra.entra.server.uri());
    let cases: Vec<(&str, super::Spoil)> = vec![
        (
            "not one this learnloop serves",
            Box::new(|c| c["tid"] = json!(OTHER_TENANT)),
        ),
        (
            "refused",
            Box::new(move |c| c["iss"] = json!(other_issuer.clone())),
        ),
        ("refused", Box::new(|c| c["aud"] = json!("another-app"))),
        (
            "another sign-in",
            Box::new(|c| c["nonce"] = json!("someone-else")),
        ),
        (
            "expired",
            Box::new(|c| c["exp"] = json!(chrono::Utc::now().timestamp() - 3600)),
        ),
    ];
    for (why, spoil) in cases {
        let back = entra.sign_in_with("oid-alice", spoil.as_ref()).await;
        assert_eq!(back.status(), 403, "{why}");
        assert!(back.headers().get("set-cookie").is_none(), "{why}");
        let page = back.text().await.unwrap();
        assert!(page.contains(why), "{why}: {page}");
    }
    // Someone of the tenant the bot never met.
    let back = entra.sign_in_with("oid-stranger", &|_| {}).await;
    assert_eq!(back.status(), 403);
    assert!(back.text().await.unwrap().contains("has not met you"));
}
