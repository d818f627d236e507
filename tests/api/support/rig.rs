//! A worker-level rig: a migrated temp database with one workspace, a fake Slack, a
//! manual clock and an outbox worker, for tests that move time instead of sleeping.

use learnloop::domain::Timestamp;
use learnloop::store::scratch::ScratchDatabase;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use learnloop::clock::{Clock, ManualClock};
use learnloop::config::{DeliverySettings, Secret, Settings};
use learnloop::delivery::Delivery;
use learnloop::metrics::Metrics;
use learnloop::platform::slack::SlackClient;
use learnloop::store::{NewOutboxMessage, NewWorkspace, OutboxId, Platform, Store, WorkspaceId};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

pub const START: i64 = 1_800_000_000;

pub struct Rig {
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub delivery: Arc<Delivery>,
    pub metrics: Arc<Metrics>,
    pub slack: MockServer,
    pub workspace: WorkspaceId,
    pub database: ScratchDatabase,
}

pub fn default_delivery() -> DeliverySettings {
    Settings::load_from(None, &HashMap::new()).unwrap().delivery
}

/// A migrated store on `database`: each call is a pool of its own, as another
/// process would have.
pub async fn store_on(database: &ScratchDatabase) -> Store {
    let store = Store::connect(&database.settings(4)).await.unwrap();
    store.migrate().await.unwrap();
    store
}

pub async fn rig(settings: DeliverySettings) -> Rig {
    let database = ScratchDatabase::for_tests().await;
    let store = store_on(&database)
        .await
        .with_credentials(learnloop::store::Credentials {
            keyring: None,
            slack_env_token: Some(Secret::new("xoxb-rig")),
        });
    let workspace = store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: "TRIG",
                name: None,
                default_time_zone: "UTC",
            },
            Timestamp::from_unix_seconds(START),
        )
        .await
        .unwrap()
        .id;
    let slack = MockServer::start().await;
    let clock = Arc::new(ManualClock::at(START));
    let metrics = Arc::new(Metrics::default());
    let client =
        SlackClient::new(&format!("{}/api", slack.uri()), Duration::from_millis(500)).unwrap();
    let delivery = Arc::new(Delivery::new(
        store.clone(),
        client,
        clock.clone(),
        metrics.clone(),
        settings,
    ));
    Rig {
        store,
        clock,
        delivery,
        metrics,
        slack,
        workspace,
        database,
    }
}

impl Rig {
    pub async fn queue(&self, channel: &str, text: &str) -> OutboxId {
        let body = json!({"channel": channel, "text": text}).to_string();
        let now = self.clock.now();
        let message = NewOutboxMessage::post(self.workspace, channel, &body);
        let give_up_at = self.delivery.give_up_at(now);
        self.store
            .enqueue(message, now, give_up_at)
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn texts_received(&self) -> Vec<String> {
        self.slack
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| {
                serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    pub async fn status(&self, id: OutboxId) -> (String, i64, Option<String>) {
        let state = self.store.outbox_state(self.workspace, id).await.unwrap();
        (
            state.status.as_str().to_owned(),
            state.attempts,
            state.last_error,
        )
    }
}

pub fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.1"}))
}
