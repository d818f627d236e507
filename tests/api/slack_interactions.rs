//! Interactivity payloads: parsed, routed, acknowledged; malformed ones refused.

use crate::support::{reply_text, spawn_app};

#[tokio::test]
async fn buttons_and_forms_of_an_unknown_debrief_are_answered_politely() {
    let app = spawn_app().await;
    let click = r#"{"type":"block_actions","team":{"id":"T0TEST"},"user":{"id":"U1"},"trigger_id":"1.2.3",
        "container":{"type":"message","message_ts":"1700000000.000100","channel_id":"C1"},
        "channel":{"id":"C1"},"message":{"ts":"1700000000.000100","blocks":[]},
        "response_url":"https://hooks.slack.com/actions/x",
        "actions":[{"type":"button","action_id":"debrief.reflect","block_id":"b1","value":"42"}]}"#;
    let response = app.interaction(click).await;
    assert_eq!(response.status(), 200);
    let told = app.wait_for_slack_calls("chat.postEphemeral", 1).await;
    assert_eq!(told[0]["user"], "U1");
    assert!(reply_text(&told[0]).contains("no longer exists"));

    let submission = r#"{"type":"view_submission","team":{"id":"T0TEST"},"user":{"id":"U1"},
        "view":{"id":"V1","callback_id":"debrief.reflection","private_metadata":"{\"debrief\":42}",
        "state":{"values":{"q_mood":{"answer":{"type":"static_select",
        "selected_option":{"value":"4","text":{"type":"plain_text","text":"4"}}}}}}}}"#;
    let response = app.interaction(submission).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["response_action"], "errors");
    assert!(
        answer["errors"]["q_mood"]
            .as_str()
            .unwrap()
            .contains("no longer exists")
    );
    app.stop().await;
}

#[tokio::test]
async fn interactions_without_a_handler_are_acknowledged() {
    let app = spawn_app().await;
    let other_modal = r#"{"type":"view_submission","team":{"id":"T0TEST"},"user":{"id":"U1"},
        "view":{"id":"V1","callback_id":"someone.else","state":{"values":{}}}}"#;
    let response = app.interaction(other_modal).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "",
        "an empty 200 closes the modal"
    );
    let other_button = r#"{"type":"block_actions","team":{"id":"T0TEST"},"user":{"id":"U1"},
        "actions":[{"type":"button","action_id":"link.open","block_id":"b1"}]}"#;
    assert_eq!(app.interaction(other_button).await.status(), 200);
    let shortcut = r#"{"type":"shortcut","team":{"id":"T0TEST"},"callback_id":"x"}"#;
    assert_eq!(app.interaction(shortcut).await.status(), 200);
    app.stop().await;
    assert!(app.slack.received_requests().await.unwrap().is_empty());
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

#[tokio::test]
async fn a_button_of_a_debrief_that_no_longer_exists_is_not_a_server_error() {
    let app = crate::support::spawn_app().await;
    // A workspace exists; the debrief the old card names does not.
    app.command_reply("/learn", "goal list").await;
    for action in ["debrief.reflect", "debrief.close", "debrief.nudge"] {
        let click = crate::debriefs::click("U0ALICE", action, 999_999);
        let status = app.interaction(&click).await.status().as_u16();
        assert!(status < 500, "{action}: {status}");
    }
}
