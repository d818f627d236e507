//! Token rotation for OAuth installations: a bot token with less than two hours left
//! is exchanged for a new pair (`oauth.v2.access`, `grant_type=refresh_token`), one
//! exchange at a time per installation in this process, stored with a compare-and-set
//! on the old refresh token so that replicas racing leave exactly one pair. A refresh
//! token Slack refuses marks the installation broken (an admin installs again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::SlackClient;
use super::client::SlackApiError;
use crate::clock::SharedClock;
use crate::config::Secret;
use crate::store::{Installation, InstallationState, Rotated, Store, StoreError, WorkspaceId};

/// A token with less than this left is refreshed.
pub const REFRESH_WHEN_LEFT_SECS: i64 = 2 * 3600;
/// How often installations are checked for tokens running out.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Rereads before a refused refresh token is taken for broken: another replica may have
/// rotated between our read and our call, and stores its pair a moment later.
const REREADS: u32 = 5;

/// The installation's bot token, while it may act.
fn usable(installation: Installation) -> Option<Secret> {
    installation
        .active
        .then_some(installation.bot_token)
        .flatten()
}

fn same_secret(a: &Option<Secret>, b: &Option<Secret>) -> bool {
    a.as_ref().map(Secret::expose) == b.as_ref().map(Secret::expose)
}

/// What rotation needs of the app's OAuth credentials.
pub struct TokenRotation {
    pub store: Store,
    pub slack: SlackClient,
    pub clock: SharedClock,
    pub client_id: String,
    pub client_secret: Secret,
    in_flight: Mutex<HashMap<WorkspaceId, Arc<tokio::sync::Mutex<()>>>>,
}

impl TokenRotation {
    pub fn new(
        store: Store,
        slack: SlackClient,
        clock: SharedClock,
        client_id: String,
        client_secret: Secret,
    ) -> Self {
        Self {
            store,
            slack,
            clock,
            client_id,
            client_secret,
            in_flight: Mutex::default(),
        }
    }

    fn needs_refresh(&self, installation: &Installation) -> bool {
        installation.active
            && installation.refresh_token.is_some()
            && installation
                .token_expires_at
                .is_some_and(|at| at.seconds_since(self.clock.now()) < REFRESH_WHEN_LEFT_SECS)
    }

    /// The installation's bot token, refreshed first when it runs out within two hours.
    /// `None` when the installation is broken or uninstalled.
    pub async fn fresh_token(&self, workspace: WorkspaceId) -> Result<Option<Secret>, StoreError> {
        let installation = self.store.installation(workspace).await?;
        if !self.needs_refresh(&installation) {
            return Ok(usable(installation));
        }
        let lock = self
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(workspace)
            .or_default()
            .clone();
        let _one_at_a_time = lock.lock().await;
        // Whoever held the lock before may have refreshed already.
        let installation = self.store.installation(workspace).await?;
        if !self.needs_refresh(&installation) {
            return Ok(usable(installation));
        }
        self.refresh(installation).await
    }

    async fn refresh(&self, installation: Installation) -> Result<Option<Secret>, StoreError> {
        let Some(refresh_token) = &installation.refresh_token else {
            return Ok(installation.bot_token);
        };
        let answer = self
            .slack
            .call_form_as_app(
                "oauth.v2.access",
                &[
                    ("client_id", self.client_id.as_str()),
                    ("client_secret", self.client_secret.expose()),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose()),
                ],
            )
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(SlackApiError::Api { error, .. }) if error == "invalid_refresh_token" => {
                return self.refused(installation).await;
            }
            Err(err) => {
                // The current token still has up to two hours: the next sweep tries again.
                tracing::warn!(error = %err, workspace = %installation.workspace, "could not refresh a Slack token; trying again shortly");
                return Ok(installation.bot_token);
            }
        };
        let (Some(bot_token), Some(new_refresh), Some(expires_in)) = (
            answer["access_token"].as_str(),
            answer["refresh_token"].as_str(),
            answer["expires_in"].as_i64(),
        ) else {
            tracing::warn!(workspace = %installation.workspace, "Slack's token refresh answer lacks the new pair");
            return Ok(installation.bot_token);
        };
        let (bot_token, new_refresh) = (Secret::new(bot_token), Secret::new(new_refresh));
        let mut seen = installation;
        for _ in 0..REREADS {
            let now = self.clock.now();
            let stored = self
                .store
                .store_rotated_tokens(
                    &seen,
                    &bot_token,
                    &new_refresh,
                    now.plus_seconds(expires_in),
                    now,
                )
                .await?;
            if stored == Rotated::Stored {
                tracing::info!(workspace = %seen.workspace, "rotated a Slack bot token");
                return Ok(Some(bot_token));
            }
            let now_stored = self.store.installation(seen.workspace).await?;
            if !now_stored.active {
                return Ok(None);
            }
            if !same_secret(&now_stored.refresh_token, &seen.refresh_token) {
                tracing::info!(workspace = %seen.workspace, "another replica rotated this token first; using its pair");
                return Ok(usable(now_stored));
            }
            // Only sealed again with a new key meanwhile: the pair Slack just gave is the
            // one to keep.
            seen = now_stored;
        }
        Ok(seen.bot_token)
    }

    /// Slack refused the refresh token: fine if another replica rotated it meanwhile,
    /// broken otherwise.
    async fn refused(&self, installation: Installation) -> Result<Option<Secret>, StoreError> {
        for _ in 0..REREADS {
            let now_stored = self.store.installation(installation.workspace).await?;
            // Compared opened: sealing again with a new key changes the stored text only.
            if !same_secret(&now_stored.refresh_token, &installation.refresh_token) {
                return Ok(usable(now_stored));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tracing::error!(
            workspace = %installation.workspace,
            "Slack refused this installation's refresh token (invalid_refresh_token): it is marked \
             broken and sends nothing until an admin installs the app again at /slack/install"
        );
        self.store
            .set_installation_state(
                installation.workspace,
                InstallationState::Broken,
                self.clock.now(),
            )
            .await?;
        Ok(None)
    }

    /// Refreshes every token running out within two hours, once.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let soon = self.clock.now().plus_seconds(REFRESH_WHEN_LEFT_SECS);
        let expiring = self.store.installations_expiring(soon).await?;
        for workspace in &expiring {
            self.fresh_token(*workspace).await?;
        }
        Ok(expiring.len())
    }

    /// Sweeps every minute until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            if let Err(err) = self.sweep().await {
                tracing::warn!(error = %err, "the token rotation sweep failed; it runs again in a minute");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    }
}
