//! Resolves the team id on a request to its workspace row, creating it for a
//! single-workspace install. Hot path of every request, so resolved rows are cached.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::clock::SharedClock;
use crate::config::Secret;
use crate::store::{NewWorkspace, Platform, Store, StoreError, Workspace};

/// Past this many cached workspaces the cache starts over; a deployment that large
/// pays one indexed lookup per workspace per restart of the cache.
const MAX_CACHED: usize = 10_000;

/// Finds (and for single-workspace installs, creates) workspaces.
pub struct WorkspaceDirectory {
    store: Store,
    clock: SharedClock,
    /// `LEARNLOOP_SLACK_BOT_TOKEN`: every Slack team that reaches us with our
    /// signature is this install (several teams only under Enterprise Grid).
    slack_bot_token: Option<Secret>,
    default_time_zone: String,
    /// Per platform, keyed by external id; looked up by `&str`, so a hit allocates
    /// nothing. Each entry with when it was read (unix s).
    cache: RwLock<[HashMap<String, Cached>; 2]>,
}

/// A resolved workspace and when it was read (unix s).
type Cached = (Arc<Workspace>, Timestamp);

/// How long a resolved workspace is served from memory: its bot token may be rotated
/// (refreshed two hours before it runs out) or the app removed, and this is how soon
/// requests see it.
const CACHED_FOR: std::time::Duration = std::time::Duration::from_secs(300);

fn slot(platform: Platform) -> usize {
    match platform {
        Platform::Slack => 0,
        Platform::Teams => 1,
    }
}

impl WorkspaceDirectory {
    pub fn new(
        store: Store,
        clock: SharedClock,
        slack_bot_token: Option<Secret>,
        default_time_zone: String,
    ) -> Self {
        Self {
            store,
            clock,
            slack_bot_token,
            default_time_zone,
            cache: RwLock::new([HashMap::new(), HashMap::new()]),
        }
    }

    /// The workspace of `external_id`, or `None` when it is not installed.
    pub async fn resolve(
        &self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Option<Arc<Workspace>>, AppError> {
        match platform {
            Platform::Slack => self.resolve_slack(None, Some(external_id)).await,
            Platform::Teams => {
                if let Some(found) = self.cached(platform, external_id) {
                    return Ok(Some(found));
                }
                match self.store.find_workspace(platform, external_id).await {
                    Ok(found) => Ok(Some(self.remember(platform, external_id, found))),
                    Err(StoreError::NotFound) => Ok(None),
                    Err(other) => Err(other.into()),
                }
            }
        }
    }

    /// The Slack workspace a request names: the team's own installation, else its
    /// enterprise's org-wide one (a request from an org-wide install may name only the
    /// enterprise). `None` when neither is installed.
    pub async fn resolve_slack(
        &self,
        enterprise_id: Option<&str>,
        team_id: Option<&str>,
    ) -> Result<Option<Arc<Workspace>>, AppError> {
        let (enterprise_id, team_id) = (
            enterprise_id.filter(|id| !id.is_empty()),
            team_id.filter(|id| !id.is_empty()),
        );
        // Cached under the id the request is looked up by (the team's when it names
        // one), so a team with an install of its own is never served its organisation's
        // entry, nor the other way round.
        let Some(key) = team_id.or(enterprise_id) else {
            return Ok(None);
        };
        if let Some(found) = self.cached(Platform::Slack, key) {
            return Ok(Some(found));
        }
        let found = match self
            .store
            .find_slack_workspace(enterprise_id, team_id)
            .await
        {
            Ok(found) => Some(found),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other.into()),
        };
        let installed = match &found {
            Some(found) => self.has_installation(found).await?,
            None => false,
        };
        let workspace = match (found, &self.slack_bot_token) {
            // An installation of its own (OAuth): served while it is installed and its
            // token opens; never revived by the environment's token.
            (Some(found), _) if installed => {
                if found.uninstalled || found.bot_token.is_none() {
                    return Ok(None);
                }
                found
            }
            // Single-workspace install: every team that reaches us with our signature
            // (or over our socket) is this install, seen again after an uninstall too.
            (found, Some(_)) => {
                let external_id = found.as_ref().map_or(key, |f| f.external_id.as_str());
                self.create(Platform::Slack, external_id).await?
            }
            (Some(found), None) if !found.uninstalled => found,
            _ => return Ok(None),
        };
        Ok(Some(self.remember(Platform::Slack, key, workspace)))
    }

    async fn has_installation(&self, workspace: &Workspace) -> Result<bool, AppError> {
        match self.store.installation(workspace.id).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// The Teams workspace `TENANT:TEAM`, created on first contact: a team whose
    /// verified activity or signed webhook call reaches us has added the app, and Teams
    /// needs no per-team token.
    pub async fn ensure_teams(&self, external_id: &str) -> Result<Arc<Workspace>, AppError> {
        if let Some(found) = self.cached(Platform::Teams, external_id) {
            return Ok(found);
        }
        let workspace = self.create(Platform::Teams, external_id).await?;
        Ok(self.remember(Platform::Teams, external_id, workspace))
    }

    fn cached(&self, platform: Platform, external_id: &str) -> Option<Arc<Workspace>> {
        let now = self.clock.now();
        self.cache.read().unwrap_or_else(|e| e.into_inner())[slot(platform)]
            .get(external_id)
            .filter(|(_, read_at)| now.since(*read_at) < CACHED_FOR)
            .map(|(workspace, _)| workspace.clone())
    }

    /// Drops one cached workspace, so the next activity from it reads (or installs) it
    /// again: after the app was removed from it.
    pub fn forget(&self, platform: Platform, external_id: &str) {
        self.cache.write().unwrap_or_else(|e| e.into_inner())[slot(platform)].remove(external_id);
    }

    /// Drops every cached Slack workspace: an install can change which workspace a team
    /// resolves to (a team installing on its own under an org-wide install).
    pub fn forget_all_slack(&self) {
        self.cache.write().unwrap_or_else(|e| e.into_inner())[slot(Platform::Slack)].clear();
    }

    async fn create(&self, platform: Platform, external_id: &str) -> Result<Workspace, AppError> {
        let new = NewWorkspace {
            platform,
            external_id,
            name: None,
            default_time_zone: &self.default_time_zone,
        };
        self.store
            .upsert_workspace(new, self.clock.now())
            .await
            .map_err(AppError::from)
    }

    fn remember(
        &self,
        platform: Platform,
        external_id: &str,
        workspace: Workspace,
    ) -> Arc<Workspace> {
        let workspace = Arc::new(workspace);
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        let platform_cache = &mut cache[slot(platform)];
        if platform_cache.len() >= MAX_CACHED {
            platform_cache.clear();
        }
        platform_cache.insert(
            external_id.to_owned(),
            (workspace.clone(), self.clock.now()),
        );
        workspace
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn single_install_creates_the_row_on_first_use_and_caches_it() {
        let (store, _dir) = temp_store().await;
        let store = store.with_credentials(crate::store::Credentials {
            keyring: None,
            slack_env_token: Some(Secret::new("xoxb-1")),
        });
        let directory = WorkspaceDirectory::new(
            store.clone(),
            Arc::new(ManualClock::at(100)),
            Some(Secret::new("xoxb-1")),
            "Europe/Berlin".into(),
        );
        let first = directory
            .resolve(Platform::Slack, "T1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.bot_token.as_ref().unwrap().expose(), "xoxb-1");
        assert_eq!(first.default_time_zone, "Europe/Berlin");
        let again = directory
            .resolve(Platform::Slack, "T1")
            .await
            .unwrap()
            .unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "second lookup is served from the cache"
        );
        assert_eq!(
            store
                .find_workspace(Platform::Slack, "T1")
                .await
                .unwrap()
                .id,
            first.id
        );
        assert!(
            directory
                .resolve(Platform::Teams, "T1")
                .await
                .unwrap()
                .is_none(),
            "the Slack token does not install Teams tenants"
        );
    }

    #[tokio::test]
    async fn an_uninstalled_oauth_workspace_is_not_revived_by_the_environment_token() {
        let (store, _dir) = temp_store().await;
        let keys = crate::sealing::Keyring::parse(&Secret::new(crate::sealing::test_keys::TWO));
        let store = store.with_credentials(crate::store::Credentials {
            keyring: Some(Arc::new(keys.unwrap())),
            slack_env_token: Some(Secret::new("xoxb-env")),
        });
        let token = Secret::new("xoxb-oauth");
        let installed = store
            .save_installation(
                crate::store::NewInstallation {
                    enterprise_id: "E1",
                    team_id: "",
                    name: None,
                    is_enterprise_install: true,
                    app_id: None,
                    bot_user_id: None,
                    scope: None,
                    installer_user_id: None,
                    bot_token: &token,
                    refresh_token: None,
                    token_expires_at: None,
                    default_time_zone: "UTC",
                },
                Timestamp::from_unix_seconds(1),
            )
            .await
            .unwrap();
        let directory = WorkspaceDirectory::new(
            store.clone(),
            Arc::new(ManualClock::at(100)),
            Some(Secret::new("xoxb-env")),
            "UTC".into(),
        );
        // A team of the organisation with no install of its own: the org's, its token.
        let found = directory
            .resolve_slack(Some("E1"), Some("T7"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, installed.id);
        assert_eq!(found.bot_token.as_ref().unwrap().expose(), "xoxb-oauth");
        assert!(found.org_wide);

        store
            .mark_uninstalled(installed.id, Timestamp::from_unix_seconds(200))
            .await
            .unwrap();
        directory.forget_all_slack();
        assert!(
            directory
                .resolve_slack(Some("E1"), None)
                .await
                .unwrap()
                .is_none(),
            "removed stays removed, whatever the environment holds"
        );
        assert!(
            store
                .workspace_by_id(installed.id)
                .await
                .unwrap()
                .uninstalled
        );
    }

    #[tokio::test]
    async fn cached_workspaces_are_read_again_after_five_minutes() {
        let (store, _dir) = temp_store().await;
        let clock = Arc::new(ManualClock::at(1_000));
        let directory = WorkspaceDirectory::new(store.clone(), clock.clone(), None, "UTC".into());
        store
            .upsert_workspace(
                NewWorkspace {
                    platform: Platform::Slack,
                    external_id: "T1",
                    name: Some("Old"),
                    default_time_zone: "UTC",
                },
                Timestamp::from_unix_seconds(1),
            )
            .await
            .unwrap();
        let first = directory
            .resolve(Platform::Slack, "T1")
            .await
            .unwrap()
            .unwrap();
        store
            .upsert_workspace(
                NewWorkspace {
                    platform: Platform::Slack,
                    external_id: "T1",
                    name: Some("New"),
                    default_time_zone: "UTC",
                },
                Timestamp::from_unix_seconds(2),
            )
            .await
            .unwrap();
        clock.advance(299);
        let cached = directory
            .resolve(Platform::Slack, "T1")
            .await
            .unwrap()
            .unwrap();
        assert!(Arc::ptr_eq(&first, &cached));
        clock.advance(1);
        let fresh = directory
            .resolve(Platform::Slack, "T1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fresh.name.as_deref(), Some("New"));
    }

    #[tokio::test]
    async fn without_a_token_only_installed_workspaces_resolve() {
        let (store, _dir) = temp_store().await;
        let directory = WorkspaceDirectory::new(
            store.clone(),
            Arc::new(ManualClock::at(1)),
            None,
            "UTC".into(),
        );
        assert!(
            directory
                .resolve(Platform::Slack, "T9")
                .await
                .unwrap()
                .is_none()
        );
        store
            .upsert_workspace(
                NewWorkspace {
                    platform: Platform::Slack,
                    external_id: "T9",
                    name: Some("Nine"),
                    default_time_zone: "UTC",
                },
                Timestamp::from_unix_seconds(1),
            )
            .await
            .unwrap();
        let found = directory
            .resolve(Platform::Slack, "T9")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.name.as_deref(), Some("Nine"));
    }
}
