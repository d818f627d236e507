//! Personal learning goals through `/learn goal …`: numbered per person, private.

use crate::helpers::{reply_text, spawn_app};

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
