//! The quarterly recap: on the first Monday of a quarter, in the digest's channel.

use chrono::{TimeZone, Utc};

use crate::debriefs::{
    ALICE, BOB, CHANNEL, Input, close_as_is, run_debrief, start, submission, wait_for_outbox,
    workspace,
};
use crate::mentors::bob_applies_everything;
use crate::support::*;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .timestamp()
}

/// The recaps posted to the channel so far, as text.
async fn recaps(app: &TestApp) -> Vec<String> {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == CHANNEL)
        .map(reply_text)
        .filter(|t| t.contains("Quarter in review"))
        .collect()
}

#[tokio::test]
async fn the_first_monday_of_a_quarter_recaps_the_last_one_once() {
    let (app, clock) = spawn_app_at(at(2026, 8, 3, 10, 0)).await;
    let set = app
        .command_reply_as(ALICE, "/learn", "digest mondays 09:00")
        .await;
    assert!(reply_text(&set).contains("Digest set"), "{set}");
    // July to September: the same lesson, said in two debriefs.
    let rollback = "Write the rollback plan before the deploy starts";
    run_debrief(
        &app,
        CHANNEL,
        "--template retro Deploy one",
        &[("went_well", Input::Text(rollback))],
    )
    .await;
    clock.advance(7 * 86_400);
    run_debrief(
        &app,
        CHANNEL,
        "--template retro Deploy two",
        &[(
            "went_well",
            Input::Text("write the rollback plan before deploys start"),
        )],
    )
    .await;

    // October: one debrief where Bob and Alice reflect; it does not recur.
    clock.set(at(2026, 10, 5, 10, 0));
    let (id, _) = start(&app, "--template retro Schema review").await;
    for (who, said) in [
        (BOB, "Pair on the schema migration reviews"),
        (ALICE, "Keep the migration dry run in CI"),
    ] {
        let form = submission(who, id, &[("went_well", Input::Text(said))]);
        assert_eq!(app.interaction(&form).await.status(), 200);
    }
    close_as_is(&app, CHANNEL, ALICE, id).await;
    // Bob agrees to be named; Alice does not.
    let credit = app.command_reply_as(BOB, "/learn", "credit on").await;
    assert!(reply_text(&credit).contains("may name you"), "{credit}");

    // The follow-ups come on a working day (Alice's one too): Bob applied his three.
    clock.set(at(2026, 10, 19, 10, 0));
    assert_eq!(app.questions_asked(4).await, 4);
    wait_for_outbox(&app, workspace(&app).await).await;
    bob_applies_everything(&app, 3).await;

    // Not before 10:00 on the first Monday of January.
    clock.set(at(2027, 1, 4, 9, 59));
    assert_eq!(app.scheduler.fire_due().await.unwrap().recaps, 0);
    clock.set(at(2027, 1, 4, 10, 0));
    assert_eq!(app.scheduler.fire_due().await.unwrap().recaps, 1);
    wait_for_outbox(&app, workspace(&app).await).await;
    let posted = recaps(&app).await;
    assert_eq!(posted.len(), 1);
    let recap = &posted[0];
    assert!(
        recap.contains("Quarter in review: Oct – Dec 2026"),
        "{recap}"
    );
    assert!(
        recap.contains(
            "*3 lessons applied* of 3 follow-ups answered · 1 debrief held · 2 lessons shared"
        ),
        "{recap}"
    );
    assert!(
        recap.contains("*Stopped recurring*: 1 lesson that kept coming back in Jul – Sep 2026 did not come back this quarter.\n• Write the rollback plan before the deploy starts"),
        "{recap}"
    );
    assert!(
        recap.contains("*Most active*: <@U0BOB> (1 reflection, 3 applied)"),
        "{recap}"
    );
    assert!(
        !recap.contains("<@U0ALICE>"),
        "Alice did not agree: {recap}"
    );

    // Once: later that day and that week, nothing more.
    clock.set(at(2027, 1, 4, 15, 0));
    assert_eq!(app.scheduler.fire_due().await.unwrap().recaps, 0);
    clock.set(at(2027, 1, 8, 12, 0));
    assert_eq!(app.scheduler.fire_due().await.unwrap().recaps, 0);
    wait_for_outbox(&app, workspace(&app).await).await;
    assert_eq!(recaps(&app).await.len(), 1);
    app.stop().await;
}
