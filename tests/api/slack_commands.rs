//! `/learn` and `/debrief` through the real route.

use learnloop::store::Platform;
use learnloop::store::db;

use crate::support::{BOT_TOKEN, Options, TEAM, reply_text, spawn_app, spawn_app_with};

#[tokio::test]
async fn help_answers_with_every_command_only_to_the_caller() {
    let app = spawn_app().await;
    for text in ["help", "", "  HELP  "] {
        let reply = app.command_reply("/learn", text).await;
        assert_eq!(reply["response_type"], "ephemeral");
        let text = reply_text(&reply);
        for form in [
            "/debrief [--template NAME] [--anonymous] [--closes-in DURATION] TITLE",
            "/learn lessons [QUERY]",
            "/learn goal add TEXT [by YYYY-MM-DD]",
            "/learn checkin SCHEDULE",
            "/learn digest now",
        ] {
            assert!(text.contains(form), "help lacks {form}: {text}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn help_on_one_topic() {
    let app = spawn_app().await;
    let reply = app.command_reply("/learn", "help goal").await;
    let text = reply_text(&reply);
    assert!(text.contains("/learn goal done N"), "{text}");
    assert!(!text.contains("/debrief"), "only the topic: {text}");
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_command_gets_an_ephemeral_explanation_with_the_right_form() {
    let app = spawn_app().await;
    let cases = [
        (
            "/learn",
            "frobnicate",
            "I don't know the command `frobnicate`",
        ),
        ("/learn", "gaols list", "Did you mean `goal`?"),
        ("/learn", "goal done two", "`two` is not a goal number"),
        ("/learn", "pause forever", "not a duration"),
        ("/debrief", "--anonymous", "a debrief needs a title"),
        (
            "/debrief",
            "--colour red Sprint",
            "`--colour` is not an option",
        ),
        ("/debrief", "\"Release 2.3", "never closed"),
    ];
    for (command, text, expected) in cases {
        let reply = app.command_reply(command, text).await;
        assert_eq!(reply["response_type"], "ephemeral", "{command} {text}");
        let shown = reply_text(&reply);
        assert!(shown.contains(expected), "`{command} {text}` → {shown}");
        assert!(
            shown.contains("Usage:"),
            "`{command} {text}` shows the right form: {shown}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_slash_command_the_app_does_not_register_is_explained() {
    let app = spawn_app().await;
    let reply = app.command_reply("/webhook-collect", "").await;
    assert!(reply_text(&reply).contains("answers `/learn` and `/debrief`"));
    app.stop().await;
}

#[tokio::test]
async fn ssl_check_gets_an_empty_200() {
    let app = spawn_app().await;
    let response = app
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            "ssl_check=1&token=x",
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_command_payload_gets_400() {
    let app = spawn_app().await;
    let form = "application/x-www-form-urlencoded";
    let missing_team = "command=%2Flearn&text=help&user_id=U1";
    let response = app.post_signed("/slack/commands", form, missing_team).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("team_id"));

    // Complete, but `text` twice: the form itself cannot be read.
    let ambiguous = "team_id=T1&channel_id=C1&user_id=U1&command=%2Flearn&text=help&text=goal+list";
    let response = app.post_signed("/slack/commands", form, ambiguous).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("duplicate"));
    app.stop().await;
}

#[tokio::test]
async fn the_first_command_creates_the_single_install_workspace() {
    let app = spawn_app().await;
    app.command_reply("/learn", "schedules").await;
    let workspace = app
        .store()
        .await
        .find_workspace(Platform::Slack, TEAM)
        .await
        .unwrap();
    assert_eq!(workspace.default_time_zone, "UTC");
    // The token is read from the environment, never copied into the database.
    let pool = db::Pool::connect(&app.db_url).await.unwrap();
    let stored: Option<String> = db::query_scalar("SELECT bot_token FROM workspaces")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, None);
    let dump: Vec<String> = db::query_scalar("SELECT body FROM outbox")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!dump.iter().any(|body| body.contains(BOT_TOKEN)));
    app.stop().await;
}

#[tokio::test]
async fn without_an_install_the_caller_is_told_how_to_install() {
    let app = spawn_app_with(Options {
        bot_token: None,
        ..Options::default()
    })
    .await;
    let reply = app.command_reply("/learn", "goal list").await;
    assert!(reply_text(&reply).contains("not installed"), "{reply}");
    let help = app.command_reply("/learn", "help").await;
    assert!(
        reply_text(&help).contains("/learn goal add"),
        "help needs no install: {help}"
    );
    let usage = app.command_reply("/learn", "goal done two").await;
    assert!(
        reply_text(&usage).contains("not a goal number"),
        "neither do usage errors: {usage}"
    );
    app.stop().await;
}
