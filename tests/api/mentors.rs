//! Peers who have done it before: opting in, the suggestion to a starter alone, the
//! introduction only after the button, and nothing from outside the starter's scope.

use learnloop::store::db;
use serde_json::{Value, json};

use crate::debriefs::{
    ALICE, BOB, CHANNEL, Input, database, run_debrief, wait_for_outbox, workspace,
};
use crate::support::*;

const CAROL: &str = "U0CAROL";
const DAVE: &str = "U0DAVE";
const PRIVATE: &str = "G0PRIV";
const DAY: i64 = 86_400;

/// Every value of the buttons `action` in a message body, in order.
pub(crate) fn button_values(message: &Value, action: &str) -> Vec<String> {
    message["blocks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|b| b["elements"].as_array())
        .flatten()
        .filter(|e| e["action_id"] == action)
        .filter_map(|e| e["value"].as_str().map(str::to_owned))
        .collect()
}

/// A click on a button of an ephemeral message in `channel`.
fn ephemeral_click(user: &str, channel: &str, action: &str, value: &str) -> String {
    json!({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1700000000.000001",
                      "channel_id": channel, "is_ephemeral": true},
        "channel": {"id": channel},
        "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": value}],
    })
    .to_string()
}

/// Bob answers Applied to each of the `lessons` of his day's follow-up message.
pub(crate) async fn bob_applies_everything(app: &TestApp, lessons: usize) {
    let day_message = app
        .slack_calls("chat.postMessage")
        .await
        .into_iter()
        .rfind(|c| c["channel"] == BOB)
        .expect("Bob's follow-ups");
    let applied = button_values(&day_message, "followup.applied");
    assert_eq!(applied.len(), lessons, "{day_message}");
    for value in applied {
        let click = json!({
            "type": "block_actions", "team": {"id": TEAM}, "user": {"id": BOB},
            "trigger_id": "1.2.3",
            "container": {"type": "message", "message_ts": "1700000099.000001",
                          "channel_id": "DU0BOB", "is_ephemeral": false},
            "channel": {"id": "DU0BOB"},
            "actions": [{"type": "button", "action_id": "followup.applied", "block_id": "b",
                         "value": value}],
        });
        assert_eq!(app.interaction(&click.to_string()).await.status(), 200);
    }
}

async fn said(app: &TestApp, user: &str, command: &str, text: &str) -> Value {
    app.command_reply_in(TEAM, CHANNEL, user, command, text)
        .await
}

#[tokio::test]
async fn an_opted_in_colleague_is_suggested_to_the_starter_and_introduced_only_on_request() {
    let (app, clock) = spawn_app_at(monday()).await;
    // Bob applies one lesson said in public and one said in a private channel.
    run_debrief(
        &app,
        CHANNEL,
        "--template retro Payments deploy",
        &[(
            "went_well",
            Input::Text("Run the canary before every rollout #deploy"),
        )],
    )
    .await;
    run_debrief(
        &app,
        PRIVATE,
        "--template retro Vault rotation",
        &[(
            "went_well",
            Input::Text("Rotate vault secrets with a dry run first #security"),
        )],
    )
    .await;
    clock.advance(14 * DAY);
    assert_eq!(app.questions_asked(2).await, 2);
    wait_for_outbox(&app, workspace(&app).await).await;
    bob_applies_everything(&app, 2).await;
    let db = database(&app).await;
    let applied: i64 = db::query_scalar("SELECT COUNT(*) FROM lessons WHERE status = 'applied'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(applied, 2);

    // Before anyone opts in, nobody is suggested.
    let early = said(&app, ALICE, "/debrief", "Deploy freeze planning").await;
    assert!(!reply_text(&early).contains(":bulb:"), "{early}");

    let on = said(&app, BOB, "/learn", "mentor on").await;
    assert!(
        reply_text(&on)
            .contains("You offer to be asked about the topics of the lessons you applied"),
        "{on}"
    );
    said(&app, CAROL, "/learn", "mentor on #testing #Testing").await;
    let bad = said(&app, CAROL, "/learn", "mentor on #no!pe").await;
    assert!(reply_text(&bad).contains("is not a topic"), "{bad}");

    // Listed with what this channel may see: the private channel's lesson is not counted.
    let everyone = reply_text(&said(&app, ALICE, "/learn", "mentors").await);
    assert!(
        everyone.contains("<@U0BOB>: applied 1 lesson\n"),
        "{everyone}"
    );
    assert!(
        everyone.contains("<@U0CAROL>: applied 0 lessons · offers #testing"),
        "{everyone}"
    );
    let on_deploy = reply_text(&said(&app, ALICE, "/learn", "mentors #deploy").await);
    assert!(
        on_deploy.contains("<@U0BOB>: applied 1 #deploy lesson"),
        "{on_deploy}"
    );
    assert!(!on_deploy.contains("CAROL"), "{on_deploy}");

    // A debrief whose words match only the private lesson suggests nobody.
    let private_match = said(&app, ALICE, "/debrief", "Vault secrets again").await;
    assert!(
        !reply_text(&private_match).contains(":bulb:"),
        "{private_match}"
    );

    // A matching debrief: Alice alone is told, and nothing reaches Bob yet.
    let started = said(&app, ALICE, "/debrief", "Canary rollout review").await;
    assert_eq!(started["response_type"], "ephemeral");
    let text = reply_text(&started);
    assert!(
        text.contains(":bulb: <@U0BOB> applied 1 #deploy lesson like this; want to ask them?"),
        "{text}"
    );
    assert!(
        text.contains("Nothing goes to <@U0BOB> unless you press the button"),
        "{text}"
    );
    let intro = button_values(&started, "mentor.intro");
    assert_eq!(intro.len(), 1, "{started}");
    wait_for_outbox(&app, workspace(&app).await).await;
    assert!(app.slack_form_calls("conversations.open").await.is_empty());
    let introductions = || async {
        app.slack_calls("chat.postMessage")
            .await
            .iter()
            .filter(|c| reply_text(c).contains("meet <@U0BOB>"))
            .cloned()
            .collect::<Vec<Value>>()
    };
    assert!(
        introductions().await.is_empty(),
        "no intro before the button"
    );

    // The button: one group DM of the two, with what Alice is working on.
    let pressed = app
        .interaction(&ephemeral_click(ALICE, CHANNEL, "mentor.intro", &intro[0]))
        .await;
    assert_eq!(pressed.status(), 200);
    wait_for_outbox(&app, workspace(&app).await).await;
    let opened = app.slack_form_calls("conversations.open").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["users"], "U0ALICE,U0BOB");
    let sent = introductions().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["channel"], GROUP_DM);
    let said_there = reply_text(&sent[0]);
    assert!(
        said_there.contains("<@U0ALICE>, meet <@U0BOB>"),
        "{said_there}"
    );
    assert!(
        said_there.contains("working on *Canary rollout review*"),
        "{said_there}"
    );
    // Someone else pressing Alice's button introduces nobody.
    app.interaction(&ephemeral_click(CAROL, CHANNEL, "mentor.intro", &intro[0]))
        .await;
    crate::debriefs::ephemeral_to(&app, CAROL, "can no longer act on").await;
    // Pressed twice: still one introduction.
    app.interaction(&ephemeral_click(ALICE, CHANNEL, "mentor.intro", &intro[0]))
        .await;
    wait_for_outbox(&app, workspace(&app).await).await;
    assert_eq!(introductions().await.len(), 1);

    // Not suggested to Alice again within 30 days; to Dave, adding a goal, yes.
    let again = said(&app, ALICE, "/debrief", "Canary rollout retro").await;
    assert!(!reply_text(&again).contains(":bulb:"), "{again}");
    let goal = said(
        &app,
        DAVE,
        "/learn",
        "goal add get better at canary rollouts",
    )
    .await;
    let goal_text = reply_text(&goal);
    assert!(goal_text.contains("Goal *#1* added"), "{goal_text}");
    assert!(
        goal_text.contains(":bulb: <@U0BOB> applied 1 #deploy lesson"),
        "{goal_text}"
    );
    let daves = button_values(&goal, "mentor.intro");

    // Bob opts out: no more suggestions, and an old button introduces nobody.
    let off = said(&app, BOB, "/learn", "mentor off").await;
    assert!(reply_text(&off).contains("no longer offer"), "{off}");
    let later = said(
        &app,
        "U0ZED",
        "/learn",
        "goal add canary rollouts for the API",
    )
    .await;
    assert!(!reply_text(&later).contains(":bulb:"), "{later}");
    app.interaction(&ephemeral_click(DAVE, CHANNEL, "mentor.intro", &daves[0]))
        .await;
    crate::debriefs::ephemeral_to(&app, DAVE, "no longer offers to be asked").await;
    wait_for_outbox(&app, workspace(&app).await).await;
    assert_eq!(introductions().await.len(), 1);
    app.stop().await;
}
