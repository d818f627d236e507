use super::db;
use super::*;
use crate::domain::Timestamp;
use crate::store::test_support::{ms, secs, temp_store, workspace};

fn message<'a>(ws: WorkspaceId, channel: &'a str, body: &'a str) -> NewOutboxMessage<'a> {
    NewOutboxMessage::post(ws, channel, body)
}

/// Queues a post in `channel` at time 0, given up at 99 s; its id.
async fn queue(store: &Store, ws: WorkspaceId, channel: &str, body: &str) -> OutboxId {
    store
        .enqueue(message(ws, channel, body), ms(0), ms(99_000))
        .await
        .unwrap()
        .unwrap()
}

fn bodies(claimed: &[OutboxMessage]) -> Vec<&str> {
    claimed.iter().map(|m| m.body.as_str()).collect()
}

#[tokio::test]
async fn one_message_per_channel_in_queue_order() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    for (channel, body) in [("C1", "c1-first"), ("C1", "c1-second"), ("C2", "c2-first")] {
        store
            .enqueue(message(ws, channel, body), ms(1000), ms(99_000))
            .await
            .unwrap();
    }
    let first = store.claim_due(ms(1000), ms(61_000), 10).await.unwrap();
    assert_eq!(bodies(&first), ["c1-first", "c2-first"]);
    assert_eq!(first[0].attempts, 1);
    assert!(
        store
            .claim_due(ms(1000), ms(61_000), 10)
            .await
            .unwrap()
            .is_empty(),
        "a channel's next message waits while the head is in flight"
    );

    store
        .mark_sent(&first[0], ms(1100), ms(2100))
        .await
        .unwrap();
    store
        .mark_sent(&first[1], ms(1100), ms(2100))
        .await
        .unwrap();
    assert_eq!(
        store.next_outbox_due().await.unwrap(),
        Some(ms(2100)),
        "paced until 2100"
    );
    assert!(
        store
            .claim_due(ms(2000), ms(62_000), 10)
            .await
            .unwrap()
            .is_empty(),
        "the channel is paced until 2100"
    );
    let second = store.claim_due(ms(2100), ms(62_100), 10).await.unwrap();
    assert_eq!(bodies(&second), ["c1-second"]);
}

/// A worker whose lease ran out settles late, after another worker claimed the row
/// again: its retry, release or give-up leaves the other's send in flight.
#[tokio::test]
async fn a_late_settlement_of_an_expired_claim_leaves_the_new_claim_alone() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let id = queue(&store, ws, "C1", "a").await;
    let stale = store
        .claim_due(ms(0), ms(1000), 10)
        .await
        .unwrap()
        .remove(0);
    let current = store
        .claim_due(ms(1000), ms(61_000), 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (stale.attempts, current.attempts),
        (1, 2),
        "the lease ran out"
    );
    store
        .retry_later(stale.claim(), ms(1000), "HTTP 500")
        .await
        .unwrap();
    store.release(stale.claim(), ms(1000)).await.unwrap();
    store.mark_failed(stale.claim(), "timeout").await.unwrap();
    let state = store.outbox_state(ws, id).await.unwrap();
    assert_eq!(state.status, OutboxStatus::Sending, "still the new claim's");
    assert_eq!(state.last_error, None);
    assert!(
        store
            .claim_due(ms(1000), ms(61_000), 10)
            .await
            .unwrap()
            .is_empty(),
        "nobody else may send it meanwhile"
    );
    store.mark_failed(current.claim(), "timeout").await.unwrap();
    let state = store.outbox_state(ws, id).await.unwrap();
    assert_eq!(
        state.status,
        OutboxStatus::Failed,
        "the current claim settles it"
    );
}

/// A row deleted while it was being sent (its workspace removed, say) may give its id
/// to the next one on SQLite, whose first claim counts the same attempt: a late
/// settlement of the old claim still leaves the new row alone.
#[tokio::test]
async fn a_late_settlement_never_reaches_a_new_row_that_took_the_old_id() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    queue(&store, ws, "C1", "old").await;
    let stale = store
        .claim_due(ms(0), ms(1000), 10)
        .await
        .unwrap()
        .remove(0);
    db::query("DELETE FROM outbox WHERE id = ?")
        .bind(stale.id)
        .execute(&store.pool)
        .await
        .unwrap();
    let id = queue(&store, ws, "C1", "new").await;
    let current = store
        .claim_due(ms(500), ms(61_000), 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(current.attempts, stale.attempts, "the same attempt number");
    store.release(stale.claim(), ms(500)).await.unwrap();
    let state = store.outbox_state(ws, id).await.unwrap();
    assert_eq!(state.status, OutboxStatus::Sending, "still the new claim's");
}

#[tokio::test]
async fn a_retry_keeps_the_channel_in_order_and_waits_its_time() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let first = queue(&store, ws, "C1", "a").await;
    queue(&store, ws, "C1", "b").await;
    let claimed = store.claim_due(ms(0), ms(60_000), 10).await.unwrap();
    store
        .retry_later(claimed[0].claim(), ms(5000), "HTTP 500")
        .await
        .unwrap();
    assert!(
        store
            .claim_due(ms(4999), ms(60_000), 10)
            .await
            .unwrap()
            .is_empty(),
        "b waits behind a"
    );
    assert_eq!(
        store.next_outbox_due().await.unwrap(),
        Some(ms(5000)),
        "b is due but waits behind a, which is due at 5000"
    );
    let again = store.claim_due(ms(5000), ms(65_000), 10).await.unwrap();
    assert_eq!(bodies(&again), ["a"]);
    assert_eq!(again[0].attempts, 2);
    let state = store.outbox_state(ws, first).await.unwrap();
    assert_eq!(state.status, OutboxStatus::Sending);
    assert_eq!(state.last_error.as_deref(), Some("HTTP 500"));
}

#[tokio::test]
async fn a_dead_workers_lease_runs_out_and_the_message_comes_back() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    queue(&store, ws, "C1", "a").await;
    assert_eq!(
        store.claim_due(ms(0), ms(60_000), 10).await.unwrap().len(),
        1
    );
    assert!(
        store
            .claim_due(ms(59_999), ms(60_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_outbox_due().await.unwrap(), Some(ms(60_000)));
    let reclaimed = store.claim_due(ms(60_000), ms(120_000), 10).await.unwrap();
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].attempts, 2);
}

#[tokio::test]
async fn release_does_not_count_an_attempt_and_failed_is_final() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let id = queue(&store, ws, "C1", "a").await;
    let claimed = store.claim_due(ms(0), ms(60_000), 10).await.unwrap();
    store.release(claimed[0].claim(), ms(10)).await.unwrap();
    let state = store.outbox_state(ws, id).await.unwrap();
    assert_eq!(
        (state.status.as_str(), state.attempts, state.next_attempt_at),
        ("pending", 0, ms(10))
    );

    let claimed = store.claim_due(ms(10), ms(60_000), 10).await.unwrap();
    store
        .mark_failed(claimed[0].claim(), "channel_not_found")
        .await
        .unwrap();
    assert!(
        store
            .claim_due(ms(1_000_000), ms(2_000_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_outbox_due().await.unwrap(), None);
    assert_eq!(
        store.outbox_state(ws, id).await.unwrap().status,
        OutboxStatus::Failed
    );
}

#[tokio::test]
async fn dedupe_keys_queue_once_per_workspace_and_rows_stay_in_their_workspace() {
    let (store, _dir) = temp_store().await;
    let (a, b) = (workspace(&store, "TA").await, workspace(&store, "TB").await);
    let keyed = |ws| NewOutboxMessage {
        dedupe_key: Some("schedule:1:100"),
        anchor: None,
        ..message(ws, "C1", "x")
    };
    let id = store.enqueue(keyed(a), ms(0), ms(1)).await.unwrap();
    assert!(id.is_some());
    assert!(
        store
            .enqueue(keyed(a), ms(0), ms(1))
            .await
            .unwrap()
            .is_none(),
        "same key, same workspace"
    );
    assert!(
        store
            .enqueue(keyed(b), ms(0), ms(1))
            .await
            .unwrap()
            .is_some(),
        "other workspace"
    );
    assert!(matches!(
        store.outbox_state(b, id.unwrap()).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn a_transaction_commits_the_event_and_its_message_together_or_neither() {
    use crate::store::{Claim, ClaimToken};
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let token = ClaimToken(7);
    for event in ["Ev1", "Ev2"] {
        assert_eq!(
            store
                .claim_event(ws, event, secs(1), secs(31), token)
                .await
                .unwrap(),
            Claim::Claimed(token)
        );
    }
    let mut tx = store.begin().await.unwrap();
    tx.finish_event(ws, "Ev1", token).await.unwrap();
    tx.enqueue(message(ws, "C1", "reply"), ms(0), ms(1))
        .await
        .unwrap();
    drop(tx); // rolled back
    assert_eq!(store.next_outbox_due().await.unwrap(), None);
    assert_eq!(
        store
            .claim_event(ws, "Ev1", secs(31), secs(61), ClaimToken(8))
            .await
            .unwrap(),
        Claim::Claimed(ClaimToken(8)),
        "the event was rolled back too: still claimed, taken over once the claim ran out"
    );

    let mut tx = store.begin().await.unwrap();
    tx.finish_event(ws, "Ev2", token).await.unwrap();
    tx.enqueue(message(ws, "C1", "reply"), ms(0), ms(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.next_outbox_due().await.unwrap(), Some(ms(0)));
    assert_eq!(
        store
            .claim_event(ws, "Ev2", secs(32), secs(62), ClaimToken(9))
            .await
            .unwrap(),
        Claim::Done
    );
}

#[tokio::test]
async fn concurrent_claims_never_take_the_same_row() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    for i in 0..200 {
        let channel = format!("C{i}");
        store
            .enqueue(message(ws, &channel, "x"), ms(0), ms(1))
            .await
            .unwrap();
    }
    let claims = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_due(ms(0), ms(60_000), 10).await.unwrap() })
    });
    let mut ids = Vec::new();
    for claim in claims {
        ids.extend(claim.await.unwrap().into_iter().map(|m| m.id));
    }
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "no row claimed twice");
    assert_eq!(total, 80);
}

#[tokio::test]
async fn replies_and_updates_get_their_anchors_ts_and_updates_fold() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let card = store
        .enqueue(message(ws, "C1", r#"{"card":1}"#), ms(0), ms(99_000))
        .await
        .unwrap()
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    let update = |body| NewOutboxMessage {
        method: OutboxMethod::SlackUpdate,
        anchor: Some(Anchor {
            message: card,
            field: AnchorField::Ts,
        }),
        ..message(ws, "C1", body)
    };
    tx.enqueue_update(update("count 1"), ms(0), ms(99_000))
        .await
        .unwrap();
    tx.enqueue_update(update("count 2"), ms(0), ms(99_000))
        .await
        .unwrap();
    let reply = NewOutboxMessage {
        anchor: Some(Anchor {
            message: card,
            field: AnchorField::ThreadTs,
        }),
        ..message(ws, "C1", "summary")
    };
    tx.enqueue(reply, ms(0), ms(99_000)).await.unwrap();
    tx.commit().await.unwrap();

    let first = store.claim_due(ms(0), ms(60_000), 10).await.unwrap();
    assert_eq!(bodies(&first), [r#"{"card":1}"#]);
    assert_eq!(first[0].anchor_field, None);
    store
        .settle(&[Settlement::Sent {
            id: card,
            workspace_id: ws.0,
            channel: "C1".into(),
            at: ms(1),
            channel_free_at: ms(1),
            sent_ts: Some("1700.1".into()),
        }])
        .await
        .unwrap();
    let second = store.claim_due(ms(1), ms(60_000), 10).await.unwrap();
    assert_eq!(
        bodies(&second),
        ["count 2"],
        "two updates folded into the latest"
    );
    assert_eq!(second[0].anchor_field.as_deref(), Some("ts"));
    assert_eq!(second[0].anchor_ts.as_deref(), Some("1700.1"));
    store.mark_sent(&second[0], ms(2), ms(2)).await.unwrap();
    let third = store.claim_due(ms(2), ms(60_000), 10).await.unwrap();
    assert_eq!(bodies(&third), ["summary"]);
    assert_eq!(third[0].anchor_field.as_deref(), Some("thread_ts"));
    assert_eq!(third[0].anchor_ts.as_deref(), Some("1700.1"));
}

#[tokio::test]
async fn only_new_messages_wait_for_the_channels_pacing() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    store
        .enqueue(message(ws, "C1", "card"), ms(1000), ms(99_000))
        .await
        .unwrap();
    let edit = NewOutboxMessage {
        method: OutboxMethod::SlackUpdate,
        ..message(ws, "C1", "edit")
    };
    store.enqueue(edit, ms(1000), ms(99_000)).await.unwrap();
    store
        .enqueue(message(ws, "C1", "reply"), ms(1000), ms(99_000))
        .await
        .unwrap();
    let card = store.claim_due(ms(1000), ms(61_000), 10).await.unwrap();
    store.mark_sent(&card[0], ms(1100), ms(2100)).await.unwrap();
    let edit = store.claim_due(ms(1200), ms(61_000), 10).await.unwrap();
    assert_eq!(bodies(&edit), ["edit"], "an edit is not paced");
    // An unpaced send never shortens the pacing a new message set.
    store.mark_sent(&edit[0], ms(1300), ms(1300)).await.unwrap();
    assert_eq!(store.next_outbox_due().await.unwrap(), Some(ms(2100)));
    assert!(
        store
            .claim_due(ms(2000), ms(62_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let reply = store.claim_due(ms(2100), ms(62_000), 10).await.unwrap();
    assert_eq!(bodies(&reply), ["reply"]);
}

#[tokio::test]
async fn retention_erases_delivered_bodies_keeps_what_is_referred_to_and_drops_old_failures() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let day = 86_400_000;
    let queue = |channel: &'static str, body: &'static str, at: i64| {
        let store = store.clone();
        async move {
            store
                .enqueue(message(ws, channel, body), ms(at), ms(at + day))
                .await
                .unwrap()
                .unwrap()
        }
    };
    // A card a debrief still refers to, a plain message, and a failure, ten days old;
    // a message sent today.
    let card = queue("C1", "the card", 0).await;
    let old = queue("C2", "an old message", 0).await;
    let failed = queue("C3", "never delivered", 0).await;
    for claimed in store.claim_due(ms(0), ms(1000), 10).await.unwrap() {
        if claimed.outbox_id() == failed {
            store
                .mark_failed(claimed.claim(), "channel_not_found")
                .await
                .unwrap();
        } else {
            store.mark_sent(&claimed, ms(10), ms(10)).await.unwrap();
        }
    }
    let mut tx = store.begin().await.unwrap();
    let debrief = tx
        .create_debrief(
            crate::store::NewDebrief {
                workspace: ws,
                channel: "C1",
                title: "Outage",
                template: "retro",
                questions: "[]",
                facilitator: "U1",
                anonymous: false,
                author_salt: "salt",
                closes_at: None,
            },
            ms(0),
        )
        .await
        .unwrap();
    tx.attach_card(ws, debrief, card).await.unwrap();
    tx.commit().await.unwrap();
    let recent = queue("C2", "sent today", 10 * day).await;
    let claimed = store
        .claim_due(ms(10 * day), ms(10 * day + 1000), 10)
        .await
        .unwrap();
    store
        .mark_sent(&claimed[0], ms(10 * day), ms(10 * day))
        .await
        .unwrap();

    // Seven days for delivered bodies, thirty for failures.
    let now = 10 * day;
    let changed = store
        .prune_outbox(ms(now - 7 * day), ms(now - 30 * day))
        .await
        .unwrap();
    assert_eq!(
        changed, 2,
        "the old message removed, the card's body erased"
    );
    assert_eq!(
        store.outbox_state(ws, card).await.unwrap().status,
        OutboxStatus::Sent
    );
    assert!(matches!(
        store.outbox_state(ws, old).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.outbox_state(ws, failed).await.unwrap().status,
        OutboxStatus::Failed
    );
    assert_eq!(
        store.outbox_state(ws, recent).await.unwrap().status,
        OutboxStatus::Sent
    );
    let bodies: Vec<(i64, String)> = db::query_as("SELECT id, body FROM outbox ORDER BY id")
        .fetch_all(&store.pool)
        .await
        .unwrap();
    assert_eq!(
        bodies,
        vec![
            (card.0, "{}".to_owned()),
            (failed.0, "never delivered".to_owned()),
            (recent.0, "sent today".to_owned()),
        ]
    );
    let later = 31 * day;
    store
        .prune_outbox(ms(later - 7 * day), ms(later - 30 * day))
        .await
        .unwrap();
    assert!(
        matches!(
            store.outbox_state(ws, failed).await,
            Err(StoreError::NotFound)
        ),
        "failed rows go after thirty days"
    );
}

#[tokio::test]
async fn workspaces_take_turns_so_a_backlog_never_holds_back_another_workspace() {
    let (store, _dir) = temp_store().await;
    let busy = workspace(&store, "T1").await;
    let quiet = workspace(&store, "T2").await;
    // Ten thousand DMs of one workspace, queued first; then one message of another.
    let channels: Vec<String> = (0..10_000).map(|i| format!("U{i:05}")).collect();
    let mut tx = store.begin().await.unwrap();
    for channel in &channels {
        tx.enqueue(message(busy, channel, "digest reminder"), ms(0), ms(99_000))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let single = store
        .enqueue(
            message(quiet, "C1", "their only message"),
            ms(10),
            ms(99_000),
        )
        .await
        .unwrap()
        .unwrap();
    let first_round = store.claim_due(ms(10), ms(60_000), 64).await.unwrap();
    assert_eq!(first_round.len(), 64);
    assert!(
        first_round.iter().any(|m| m.outbox_id() == single),
        "the other workspace's message goes out in the first round"
    );
}

#[tokio::test]
async fn many_messages_are_queued_in_order_across_statements_and_a_taken_key_is_skipped() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    store
        .enqueue(
            NewOutboxMessage {
                dedupe_key: Some("day:7"),
                ..message(ws, "C1", "already queued")
            },
            ms(1000),
            ms(99_000),
        )
        .await
        .unwrap();
    // 250 messages to one channel: three statements' worth, one key already taken.
    let keys: Vec<String> = (0..250).map(|n| format!("day:{n}")).collect();
    let bodies_sent: Vec<String> = (0..250).map(|n| format!("message {n}")).collect();
    let messages: Vec<(NewOutboxMessage<'_>, Timestamp, Timestamp)> = keys
        .iter()
        .zip(&bodies_sent)
        .map(|(key, body)| {
            (
                NewOutboxMessage {
                    dedupe_key: Some(key),
                    ..message(ws, "C1", body)
                },
                ms(1000),
                ms(99_000),
            )
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    let queued = insert_many_keyed(&mut tx.tx, &messages).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(queued.len(), 249);
    assert!(!queued.contains_key(&(ws.0, "day:7".to_owned())));
    // The channel's queue is in the order given: ids rise with it.
    let ids: Vec<i64> = (0..250)
        .filter(|n| *n != 7)
        .map(|n| queued[&(ws.0, format!("day:{n}"))].0)
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    let first = store.claim_due(ms(1000), ms(61_000), 10).await.unwrap();
    assert_eq!(bodies(&first), ["already queued"]);
}

#[tokio::test]
async fn the_latest_state_folds_into_the_call_still_waiting() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let publish = |body| NewOutboxMessage {
        method: OutboxMethod::SlackPublishView,
        ..NewOutboxMessage::post(ws, "home:U1", body)
    };
    for body in ["{\"v\":1}", "{\"v\":2}", "{\"v\":3}"] {
        let mut tx = store.begin().await.unwrap();
        tx.enqueue_latest(publish(body), ms(0), ms(1_000_000))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let bodies: Vec<String> = db::query_scalar("SELECT body FROM outbox ORDER BY id")
        .fetch_all(&store.pool)
        .await
        .unwrap();
    assert_eq!(bodies, ["{\"v\":3}"], "one call, the latest state");
    // Once it is on its way, the next state waits behind it.
    db::query("UPDATE outbox SET status = 'sending'")
        .execute(&store.pool)
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_latest(publish("{\"v\":4}"), ms(0), ms(1_000_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let count: i64 = db::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn a_commit_that_queued_wakes_the_worker_and_one_that_did_not_does_not() {
    let (store, _dir) = temp_store().await;
    let ws = workspace(&store, "T1").await;
    let signal = store.queued_signal();
    let woken = |signal: std::sync::Arc<tokio::sync::Notify>| async move {
        tokio::time::timeout(std::time::Duration::from_millis(50), signal.notified())
            .await
            .is_ok()
    };
    // Nothing queued: no wake-up.
    store.begin().await.unwrap().commit().await.unwrap();
    assert!(!woken(signal.clone()).await);
    // Queued, but rolled back: none either.
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(NewOutboxMessage::post(ws, "C1", "{}"), ms(0), ms(1_000_000))
        .await
        .unwrap();
    drop(tx);
    assert!(!woken(signal.clone()).await);
    // Queued and committed: the worker wakes, without the caller saying so.
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(NewOutboxMessage::post(ws, "C1", "{}"), ms(0), ms(1_000_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(woken(signal.clone()).await);
    // Outside a transaction too.
    store
        .enqueue(NewOutboxMessage::post(ws, "C2", "{}"), ms(0), ms(1_000_000))
        .await
        .unwrap();
    assert!(woken(signal).await);
}
