//! Personal learning goals through `/learn goal …`: numbered per person, private.

use crate::support::{reply_text, spawn_app};

#[tokio::test]
async fn a_person_adds_lists_shares_and_reaches_goals() {
    let app = spawn_app().await;
    let said = |text: &'static str| {
        let app = &app;
        async move { reply_text(&app.command_reply("/learn", text).await) }
    };
    let empty = said("goal list").await;
    assert!(empty.contains("no learning goals yet"), "{empty}");

    let first = said("goal add Learn Rust async by 2099-12-31").await;
    assert!(
        first.contains("Goal *#1* added: Learn Rust async (by Thu 31 Dec 2099)"),
        "{first}"
    );
    assert!(first.contains("Only you can see it"), "{first}");
    let second = said("goal add \"write a runbook\"").await;
    assert!(
        second.contains("Goal *#2* added: write a runbook"),
        "{second}"
    );

    let shared = said("goal share 2").await;
    assert!(
        shared.contains("Goal *#2* (write a runbook) is shared"),
        "{shared}"
    );
    let reached = said("goal done 2").await;
    assert!(
        reached.contains("Goal *#2* reached: write a runbook. It will be celebrated"),
        "{reached}"
    );
    let again = said("goal done 2").await;
    assert!(again.contains("already reached"), "{again}");

    let listed = said("goal list").await;
    let open = listed
        .find("*#1* Learn Rust async · by Thu 31 Dec 2099")
        .expect(&listed);
    let done = listed
        .find(":white_check_mark: *#2* write a runbook · shared")
        .expect(&listed);
    assert!(open < done, "open goals first: {listed}");

    let past = said("goal add catch up by 2020-01-01").await;
    assert!(past.contains("2020-01-01 is in the past"), "{past}");
    let missing = said("goal done 9").await;
    assert!(missing.contains("You have no goal #9"), "{missing}");
    app.stop().await;
}

#[tokio::test]
async fn goals_are_private_to_their_owner() {
    let app = spawn_app().await;
    app.command_reply("/learn", "goal add Alice's secret goal")
        .await;
    let bob_list = reply_text(&app.command_reply_as("U0BOB", "/learn", "goal list").await);
    assert!(
        bob_list.contains("no learning goals yet"),
        "Bob sees none of Alice's: {bob_list}"
    );
    let bob_done = reply_text(&app.command_reply_as("U0BOB", "/learn", "goal done 1").await);
    assert!(bob_done.contains("You have no goal #1"), "{bob_done}");
    let bob_add = reply_text(
        &app.command_reply_as("U0BOB", "/learn", "goal add mentor someone")
            .await,
    );
    assert!(
        bob_add.contains("Goal *#1* added"),
        "Bob's numbers start at 1: {bob_add}"
    );
    let alice = reply_text(&app.command_reply("/learn", "goal list").await);
    assert!(
        alice.contains("Alice's secret goal") && !alice.contains("mentor"),
        "{alice}"
    );
    app.stop().await;
}

#[tokio::test]
async fn goal_text_cannot_ping_the_channel_or_inject_links() {
    let app = spawn_app().await;
    let added = reply_text(
        &app.command_reply(
            "/learn",
            "goal add <!channel> ship <https://evil.example|docs> & more",
        )
        .await,
    );
    assert!(
        added.contains("&lt;!channel&gt; ship &lt;https://evil.example|docs&gt; &amp; more"),
        "{added}"
    );
    assert!(!added.contains("<!channel>"), "{added}");
    app.stop().await;
}

/// The messages the fake Slack got for `channel`, as text.
async fn messages_for(app: &crate::support::TestApp, channel: &str) -> Vec<String> {
    app.slack_calls("chat.postMessage")
        .await
        .iter()
        .filter(|c| c["channel"] == channel)
        .map(reply_text)
        .collect()
}

#[tokio::test]
async fn a_goal_buddy_sees_its_check_in_ratings_and_hears_when_it_is_reached() {
    use crate::debriefs::{ALICE, BOB, say, wait_for_outbox, workspace};
    use crate::support::{TEAM, monday, spawn_app_at};
    let (app, clock) = spawn_app_at(monday()).await;
    let said = |user: &'static str, text: &'static str| {
        let app = &app;
        async move {
            reply_text(
                &app.command_reply_in(TEAM, "C0CHAN", user, "/learn", text)
                    .await,
            )
        }
    };
    said(ALICE, "goal add write three runbooks").await;
    said(ALICE, "goal add speak at the meetup").await;
    let nobody = said(ALICE, "goal buddy 1 @nobody-here").await;
    assert!(nobody.contains("I can't tell who that is"), "{nobody}");
    let myself = said(ALICE, "goal buddy 1 <@U0ALICE|alice>").await;
    assert!(myself.contains("A buddy is someone else"), "{myself}");
    let missing = said(ALICE, "goal buddy 9 @u0bob").await;
    assert!(missing.contains("You have no goal #9"), "{missing}");
    let usage = said(ALICE, "goal buddy 1").await;
    assert!(usage.contains("/learn goal buddy N @person"), "{usage}");

    // Slack sends `@handle` as typed: it is looked up among the workspace's people.
    let set = said(ALICE, "goal buddy 1 @u0bob").await;
    assert!(
        set.contains("<@U0BOB> is your buddy on goal *#1* (write three runbooks)"),
        "{set}"
    );
    let listed = said(ALICE, "goal list").await;
    assert!(
        listed.contains("write three runbooks · buddy <@U0BOB>"),
        "{listed}"
    );
    wait_for_outbox(&app, workspace(&app).await).await;
    let told = messages_for(&app, BOB).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("<@U0ALICE> made you their buddy"),
        "{told:?}"
    );

    // A check-in: Bob sees goal #1's rating, not goal #2's, and never a note.
    said(ALICE, "checkin fridays 16:00").await;
    clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 6, 16, 0, 0)
            .unwrap()
            .timestamp(),
    );
    app.scheduler.fire_due().await.unwrap();
    for (event, typed) in [
        ("b1", "skip"),
        ("b2", "3"),
        ("b3", "skip"),
        ("b4", "4"),
        ("b5", "Drafted the on-call runbook, private thoughts"),
        ("b6", "2"),
        ("b7", "skip"),
    ] {
        say(&app, event, ALICE, typed).await;
    }
    wait_for_outbox(&app, workspace(&app).await).await;
    let told = messages_for(&app, BOB).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(
        told[1].contains("<@U0ALICE>'s check-in: \"write three runbooks\" is at *4/5*"),
        "{told:?}"
    );
    assert!(
        !told
            .iter()
            .any(|t| t.contains("private thoughts") || t.contains("meetup"))
    );

    // Reached: the buddy hears it.
    said(ALICE, "goal done 1").await;
    wait_for_outbox(&app, workspace(&app).await).await;
    let told = messages_for(&app, BOB).await;
    assert!(
        told.last()
            .unwrap()
            .contains("<@U0ALICE> reached their goal \"write three runbooks\""),
        "{told:?}"
    );
    // Off: nothing more for Bob.
    let off = said(ALICE, "goal buddy 1 off").await;
    assert!(off.contains("yours alone again"), "{off}");
    app.stop().await;
}
