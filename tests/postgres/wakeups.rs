//! A message queued by one replica wakes the delivery worker of another at once.

use std::time::Duration;

use learnloop::domain::Timestamp;
use learnloop::store::{NewOutboxMessage, NewWorkspace, Platform};
use tokio_util::sync::CancellationToken;

use crate::{scratch, store_on};

#[tokio::test]
async fn a_message_queued_by_one_replica_wakes_the_worker_of_another() {
    let database = scratch().await;
    let (a, b) = (store_on(&database).await, store_on(&database).await);
    let stop = CancellationToken::new();
    let listening = tokio::spawn({
        let (b, stop) = (b.clone(), stop.clone());
        async move { b.listen_for_queued(stop).await }
    });
    let woken = b.queued_signal();
    // The listener wakes its worker once it listens (for what came meanwhile).
    tokio::time::timeout(Duration::from_secs(5), woken.notified())
        .await
        .expect("the listener started");

    let workspace = a
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: "T0WAKE",
                name: None,
                default_time_zone: "UTC",
            },
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap()
        .id;
    let mut tx = a.begin().await.unwrap();
    tx.enqueue(
        NewOutboxMessage::post(workspace, "C1", r#"{"channel":"C1","text":"hi"}"#),
        Timestamp::from_millis(1),
        Timestamp::from_millis(1_000_000),
    )
    .await
    .unwrap();
    // Not before the commit.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), woken.notified())
            .await
            .is_err(),
        "woken before the message was committed"
    );
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(1), woken.notified())
        .await
        .expect("the other replica's worker is woken, well before its poll");
    stop.cancel();
    listening.await.unwrap();
}
