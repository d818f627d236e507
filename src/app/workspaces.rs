//! Resolves the team id on a request to its workspace row, creating it for a
//! single-workspace install. Hot path of every request, so resolved rows are cached.

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
    /// Per platform, keyed by external id; looked up by `&str`, so a hit allocates nothing.
    cache: RwLock<[HashMap<String, Arc<Workspace>>; 2]>,
}

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
    ) -> Result<Option<Arc<Workspace>>, StoreError> {
        match platform {
            Platform::Slack => self.resolve_slack(None, Some(external_id)).await,
            Platform::Teams => {
                if let Some(found) = self.cached(platform, external_id) {
                    return Ok(Some(found));
                }
                match self.store.find_workspace(platform, external_id).await {
                    Ok(found) => Ok(Some(self.remember(platform, external_id, found))),
                    Err(StoreError::NotFound) => Ok(None),
                    Err(other) => Err(other),
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
    ) -> Result<Option<Arc<Workspace>>, StoreError> {
        let (enterprise_id, team_id) = (
            enterprise_id.filter(|id| !id.is_empty()),
            team_id.filter(|id| !id.is_empty()),
        );
        for key in [team_id, enterprise_id].into_iter().flatten() {
            if let Some(found) = self.cached(Platform::Slack, key) {
                return Ok(Some(found));
            }
        }
        let Some(key) = team_id.or(enterprise_id) else {
            return Ok(None);
        };
        let found = match self
            .store
            .find_slack_workspace(enterprise_id, team_id)
            .await
        {
            Ok(found) => Some(found),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other),
        };
        let workspace = match (found, &self.slack_bot_token) {
            // An installation of its own (OAuth), still installed.
            (Some(found), _) if !found.uninstalled && self.has_installation(&found).await? => found,
            // Single-workspace install: every team that reaches us with our signature
            // (or over our socket) is this install, seen again after an uninstall too.
            (found, Some(_)) => {
                let external_id = found.as_ref().map_or(key, |f| f.external_id.as_str());
                self.create(Platform::Slack, external_id).await?
            }
            (Some(found), None) if !found.uninstalled => found,
            _ => return Ok(None),
        };
        let key = workspace.external_id.clone();
        Ok(Some(self.remember(Platform::Slack, &key, workspace)))
    }

    async fn has_installation(&self, workspace: &Workspace) -> Result<bool, StoreError> {
        match self.store.installation(workspace.id).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Drops a workspace from the cache (uninstalled, reinstalled, deleted): the next
    /// request reads it again.
    pub fn forget(&self, platform: Platform, external_id: &str) {
        self.cache.write().unwrap_or_else(|e| e.into_inner())[slot(platform)].remove(external_id);
    }

    /// The Teams workspace `TENANT:TEAM`, created on first contact: a team whose
    /// verified activity or signed webhook call reaches us has added the app, and Teams
    /// needs no per-team token.
    pub async fn ensure_teams(&self, external_id: &str) -> Result<Arc<Workspace>, StoreError> {
        if let Some(found) = self.cached(Platform::Teams, external_id) {
            return Ok(found);
        }
        let workspace = self.create(Platform::Teams, external_id).await?;
        Ok(self.remember(Platform::Teams, external_id, workspace))
    }

    fn cached(&self, platform: Platform, external_id: &str) -> Option<Arc<Workspace>> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())[slot(platform)]
            .get(external_id)
            .cloned()
    }

    async fn create(&self, platform: Platform, external_id: &str) -> Result<Workspace, StoreError> {
        let new = NewWorkspace {
            platform,
            external_id,
            name: None,
            default_time_zone: &self.default_time_zone,
        };
        self.store
            .upsert_workspace(new, self.clock.now_unix())
            .await
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
        platform_cache.insert(external_id.to_owned(), workspace.clone());
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
                1,
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
