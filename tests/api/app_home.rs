//! The bot's Home tab: what each person sees when they open it, and how it follows
//! what they do (a follow-up answered, a pause) without them opening it again.

use serde_json::{Value, json};

use crate::debriefs::{
    BOB, CHANNEL, Input, run_debrief, start, submission, wait_for_outbox, workspace,
};
use crate::mentors::button_values;
use crate::support::{TEAM, TestApp, monday, spawn_app_at};

const CAROL: &str = "U0CAROL";

fn home_opened(event_id: &str, user: &str, tab: &str) -> Value {
    json!({
        "type": "event_callback", "team_id": TEAM, "api_app_id": "A0APP",
        "event_id": event_id, "event_time": 1700000000,
        "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": true}],
        "event": {"type": "app_home_opened", "user": user, "channel": format!("D{user}"),
                  "tab": tab, "event_ts": "1700000000.000100"},
    })
}

/// A click on a button of the Home tab, as Slack sends it (a view, no channel).
fn home_click(user: &str, action: &str, value: &str) -> String {
    json!({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
        "trigger_id": "1.2.3",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": value}],
    })
    .to_string()
}

/// The Home views published for `user`, oldest first, as text.
async fn homes_of(app: &TestApp, user: &str) -> Vec<Value> {
    app.slack_calls("views.publish")
        .await
        .into_iter()
        .filter(|call| call["user_id"] == user)
        .collect()
}

async fn wait_for_homes(app: &TestApp, user: &str, count: usize) -> Vec<Value> {
    for _ in 0..500 {
        let homes = homes_of(app, user).await;
        if homes.len() >= count {
            return homes;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("expected {count} Home publishes for {user}");
}

#[tokio::test]
async fn each_person_sees_their_own_home_and_it_follows_a_follow_up_answer_and_a_pause() {
    let (app, _clock) = spawn_app_at(monday()).await;
    // Bob owns a lesson of a closed debrief in a public channel.
    run_debrief(
        &app,
        CHANNEL,
        "--template retro Release 2.3",
        &[(
            "went_well",
            Input::Text("Feature flags made the rollback painless"),
        )],
    )
    .await;
    // A lesson said in a private channel stays there.
    run_debrief(
        &app,
        "G0PRIV",
        "--template retro Secret project",
        &[("went_well", Input::Text("The secret vendor is slow"))],
    )
    .await;
    // An open debrief Carol reflected on and Bob did not.
    let (open, _) = start(&app, "--template retro Incident 42").await;
    let carol = submission(CAROL, open, &[("went_well", Input::Text("Paging worked"))]);
    assert_eq!(app.interaction(&carol).await.status(), 200);
    app.command_reply_as(
        BOB,
        "/learn",
        "goal add \"Read the SRE book\" by 2026-12-24",
    )
    .await;
    app.command_reply_as(BOB, "/learn", "checkin fridays 16:00")
        .await;
    wait_for_outbox(&app, workspace(&app).await).await;
    assert!(
        homes_of(&app, BOB).await.is_empty(),
        "nobody opened a Home yet"
    );

    // The messages tab is not the Home.
    assert_eq!(
        app.event(&home_opened("EvMsgs", BOB, "messages"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.event(&home_opened("EvHome1", BOB, "home"))
            .await
            .status(),
        200
    );
    let bob = wait_for_homes(&app, BOB, 1).await;
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0]["view"]["type"], "home");
    let shown = bob[0]["view"].to_string();
    for expected in [
        "Feature flags made the rollback painless",
        "Read the SRE book",
        "by 2026-12-24",
        "Next check-in: Fri",
        "Incident 42",
        "Pause for a week",
        "How it works",
    ] {
        assert!(shown.contains(expected), "{expected}: {shown}");
    }
    let shared = shown.split("Latest shared lessons").nth(1).unwrap();
    assert!(
        shared.contains("Feature flags") && !shared.contains("secret vendor"),
        "a private channel's lesson is not shared: {shown}"
    );
    assert!(
        shown.contains("The secret vendor is slow"),
        "but Bob owns it, so its follow-up is his: {shown}"
    );
    assert!(bob[0]["view"]["blocks"].as_array().unwrap().len() <= 100);
    let applied = button_values(&bob[0]["view"], "followup.applied");
    assert_eq!(applied.len(), 2, "the follow-ups with their buttons");
    assert_eq!(
        button_values(&bob[0]["view"], "debrief.reflect"),
        [open.to_string()]
    );

    // Carol's Home: not Bob's goal, not Bob's follow-up, and not the debrief she answered.
    app.event(&home_opened("EvHome2", CAROL, "home")).await;
    let carol = wait_for_homes(&app, CAROL, 1).await[0]["view"].to_string();
    assert!(!carol.contains("Read the SRE book"), "{carol}");
    assert!(!carol.contains("secret vendor"), "{carol}");
    assert!(!carol.contains("Incident 42"), "{carol}");
    assert!(carol.contains("Nothing waiting for you"), "{carol}");

    // Bob answers the follow-up from his Home: it is published again without it.
    let click = home_click(BOB, "followup.applied", &applied[0]);
    assert_eq!(app.interaction(&click).await.status(), 200);
    let bob = wait_for_homes(&app, BOB, 2).await;
    let after = bob[1]["view"].to_string();
    assert_eq!(
        button_values(&bob[1]["view"], "followup.applied"),
        [applied[1].clone()],
        "{after}"
    );

    // He pauses his prompts from it: told so, and the Home offers to resume.
    assert_eq!(
        app.interaction(&home_click(BOB, "home.pause", "7d"))
            .await
            .status(),
        200
    );
    let bob = wait_for_homes(&app, BOB, 3).await;
    let paused = bob.last().unwrap()["view"].to_string();
    assert!(
        paused.contains("paused until") && paused.contains("Resume prompts"),
        "{paused}"
    );
    assert_eq!(
        app.interaction(&home_click(BOB, "home.resume", "now"))
            .await
            .status(),
        200
    );
    let bob = wait_for_homes(&app, BOB, 4).await;
    assert!(
        bob.last().unwrap()["view"]
            .to_string()
            .contains("Pause for a week")
    );
}
