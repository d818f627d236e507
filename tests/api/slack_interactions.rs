//! Interactivity payloads: parsed, routed, acknowledged; malformed ones refused.

use crate::helpers::spawn_app;

#[tokio::test]
async fn block_actions_and_view_submissions_are_acknowledged() {
    let app = spawn_app().await;
    let click = r#"{"type":"block_actions","team":{"id":"T0TEST"},"user":{"id":"U1"},"trigger_id":"1.2.3",
        "container":{"type":"message","message_ts":"1700000000.000100","channel_id":"C1"},
        "channel":{"id":"C1"},"message":{"ts":"1700000000.000100","blocks":[]},
        "response_url":"https://hooks.slack.com/actions/x",
        "actions":[{"type":"button","action_id":"debrief.reflect","block_id":"b1","value":"42"}]}"#;
    let response = app.interaction(click).await;
    assert_eq!(response.status(), 200);

    let submission = r#"{"type":"view_submission","team":{"id":"T0TEST"},"user":{"id":"U1"},
        "view":{"id":"V1","callback_id":"debrief.reflection","private_metadata":"{\"debrief\":42}",
        "state":{"values":{"q_rating":{"answer":{"type":"static_select",
        "selected_option":{"value":"4","text":{"type":"plain_text","text":"4"}}}}}}}}"#;
    let response = app.interaction(submission).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "",
        "an empty 200 closes the modal"
    );

    let shortcut = r#"{"type":"shortcut","team":{"id":"T0TEST"},"callback_id":"x"}"#;
    assert_eq!(app.interaction(shortcut).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn malformed_interactions_get_400() {
    let app = spawn_app().await;
    let form = "application/x-www-form-urlencoded";
    let no_payload = app
        .post_signed("/slack/interactions", form, "foo=bar")
        .await;
    assert_eq!(no_payload.status(), 400);
    assert!(no_payload.text().await.unwrap().contains("payload"));

    assert_eq!(app.interaction("{not json").await.status(), 400);
    let no_team = r#"{"type":"block_actions","user":{"id":"U1"},"actions":[]}"#;
    assert_eq!(app.interaction(no_team).await.status(), 400);
    let no_view = r#"{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"}}"#;
    assert_eq!(app.interaction(no_view).await.status(), 400);
    app.stop().await;
}
