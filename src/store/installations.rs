//! Slack installations made through OAuth: their sealed tokens, rotation with a
//! compare-and-set, the end of an install, and the OAuth `state` of installs in flight.
//! Tokens are sealed here and opened here: nothing above the store sees a sealed
//! value, nothing in the database a plain one.

use std::sync::Arc;

use sqlx::FromRow;

use super::db;
use super::{Store, StoreError, Workspace, WorkspaceId};
use crate::config::Secret;
use crate::domain::Timestamp;
use crate::sealing::{self, Keyring};

/// How stored tokens are opened, and the environment's single-workspace token.
#[derive(Debug, Default)]
pub struct Credentials {
    /// `LEARNLOOP_TOKEN_KEYS`; without it nothing can be stored or opened.
    pub keyring: Option<Arc<Keyring>>,
    /// `LEARNLOOP_SLACK_BOT_TOKEN`: the token of every Slack workspace without an
    /// installation of its own. Never written to the database.
    pub slack_env_token: Option<Secret>,
}

impl Credentials {
    /// Opens a sealed token; a value that does not open is logged (never shown) and
    /// treated as no token.
    pub(super) fn open(&self, sealed: &str, identity: &str) -> Option<Secret> {
        let Some(keyring) = &self.keyring else {
            tracing::error!("a stored token cannot be opened: LEARNLOOP_TOKEN_KEYS is not set");
            return None;
        };
        match keyring.open(sealed, identity) {
            Ok(token) => Some(token),
            Err(err) => {
                tracing::error!(error = %err, "a stored token cannot be opened");
                None
            }
        }
    }

    fn seal(&self, token: &Secret, identity: &str) -> Result<String, StoreError> {
        let keyring = self.keyring.as_ref().ok_or_else(|| {
            StoreError::Conflict("no LEARNLOOP_TOKEN_KEYS to seal a token with".into())
        })?;
        Ok(keyring.seal(token.expose(), identity))
    }
}

/// The associated data a token of installation (enterprise, team) is sealed with: a
/// sealed value moved to another installation or column does not open.
pub fn token_identity(enterprise_id: &str, team_id: &str, column: &str) -> String {
    format!("slack_installations:{enterprise_id}:{team_id}:{column}")
}

/// What `oauth.v2.access` gave for a new installation.
#[derive(Debug)]
pub struct NewInstallation<'a> {
    /// '' outside Enterprise Grid.
    pub enterprise_id: &'a str,
    /// '' for an org-wide install.
    pub team_id: &'a str,
    pub name: Option<&'a str>,
    pub is_enterprise_install: bool,
    pub app_id: Option<&'a str>,
    pub bot_user_id: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub installer_user_id: Option<&'a str>,
    pub bot_token: &'a Secret,
    pub refresh_token: Option<&'a Secret>,
    pub token_expires_at: Option<Timestamp>,
    pub default_time_zone: &'a str,
}

/// Whether an installation may act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallationState {
    Active,
    Uninstalled,
    /// Its refresh token was refused: an admin must install again.
    Broken,
}

impl InstallationState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Uninstalled => "uninstalled",
            Self::Broken => "broken",
        }
    }
}

/// A stored installation with its tokens opened.
#[derive(Debug)]
pub struct Installation {
    pub workspace: WorkspaceId,
    pub enterprise_id: String,
    pub team_id: String,
    pub active: bool,
    pub bot_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// The refresh token exactly as stored: the compare-and-set of a rotation.
    pub sealed_refresh_token: Option<String>,
    pub token_expires_at: Option<Timestamp>,
}

/// How a rotation's compare-and-set went.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotated {
    Stored,
    /// Another task or replica rotated first; read the installation again.
    LostRace,
}

#[derive(FromRow)]
struct InstallationRow {
    workspace_id: i64,
    enterprise_id: String,
    team_id: String,
    bot_token: String,
    refresh_token: Option<String>,
    #[sqlx(try_from = "super::columns::OptionalSeconds")]
    token_expires_at: Option<Timestamp>,
    state: String,
}

impl Store {
    /// Stores an installation (sealing its tokens) and its workspace: the team's id for
    /// a team install, the enterprise's for an org-wide one. Installing again replaces
    /// the tokens and ends an uninstall.
    pub async fn save_installation(
        &self,
        new: NewInstallation<'_>,
        now: Timestamp,
    ) -> Result<Workspace, StoreError> {
        let now = now.unix_seconds();
        let identity = |column| token_identity(new.enterprise_id, new.team_id, column);
        let bot_token = self
            .credentials
            .seal(new.bot_token, &identity("bot_token"))?;
        let refresh_token = new
            .refresh_token
            .map(|token| self.credentials.seal(token, &identity("refresh_token")))
            .transpose()?;
        let external_id = if new.team_id.is_empty() {
            new.enterprise_id
        } else {
            new.team_id
        };
        let mut tx = self.begin().await?;
        let (workspace_id,): (i64,) = db::query_as(
            "INSERT INTO workspaces \
                 (platform, external_id, name, default_time_zone, created_at, updated_at) \
             VALUES ('slack', ?, ?, ?, ?, ?) \
             ON CONFLICT (platform, external_id) DO UPDATE SET \
                 name = COALESCE(excluded.name, workspaces.name), uninstalled_at = NULL, \
                 updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(external_id)
        .bind(new.name)
        .bind(new.default_time_zone)
        .bind(now)
        .bind(now)
        .fetch_one(&mut tx.tx)
        .await?;
        db::query(
            "INSERT INTO slack_installations \
                 (workspace_id, enterprise_id, team_id, is_enterprise_install, app_id, \
                  bot_user_id, scope, installer_user_id, bot_token, refresh_token, \
                  token_expires_at, state, installed_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?) \
             ON CONFLICT (workspace_id) DO UPDATE SET \
                 enterprise_id = excluded.enterprise_id, team_id = excluded.team_id, \
                 is_enterprise_install = excluded.is_enterprise_install, \
                 app_id = excluded.app_id, bot_user_id = excluded.bot_user_id, \
                 scope = excluded.scope, installer_user_id = excluded.installer_user_id, \
                 bot_token = excluded.bot_token, refresh_token = excluded.refresh_token, \
                 token_expires_at = excluded.token_expires_at, state = 'active', \
                 updated_at = excluded.updated_at",
        )
        .bind(workspace_id)
        .bind(new.enterprise_id)
        .bind(new.team_id)
        .bind(new.is_enterprise_install)
        .bind(new.app_id)
        .bind(new.bot_user_id)
        .bind(new.scope)
        .bind(new.installer_user_id)
        .bind(&bot_token)
        .bind(&refresh_token)
        .bind(new.token_expires_at.map(Timestamp::unix_seconds))
        .bind(now)
        .bind(now)
        .execute(&mut tx.tx)
        .await?;
        tx.commit().await?;
        self.workspace_by_id(WorkspaceId(workspace_id)).await
    }

    /// The Slack workspace a request names: the team's own installation, else the
    /// enterprise's org-wide one.
    pub async fn find_slack_workspace(
        &self,
        enterprise_id: Option<&str>,
        team_id: Option<&str>,
    ) -> Result<Workspace, StoreError> {
        let team = match team_id {
            Some(team) => match self.find_workspace(super::Platform::Slack, team).await {
                Ok(found) if !found.uninstalled => return Ok(found),
                Ok(removed) => Some(removed),
                Err(StoreError::NotFound) => None,
                Err(other) => return Err(other),
            },
            None => None,
        };
        let organisation = match enterprise_id {
            Some(enterprise) => match self
                .find_workspace(super::Platform::Slack, enterprise)
                .await
            {
                Ok(found) => Some(found),
                Err(StoreError::NotFound) => None,
                Err(other) => return Err(other),
            },
            None => None,
        };
        // A team with no install of its own (or one it removed) is served by its
        // organisation's org-wide install; a request naming only the enterprise by the
        // enterprise's row whatever it is.
        match (team, organisation) {
            (_, Some(org)) if !org.uninstalled && (org.org_wide || team_id.is_none()) => Ok(org),
            (Some(removed), _) => Ok(removed),
            (None, Some(org)) if team_id.is_none() => Ok(org),
            _ => Err(StoreError::NotFound),
        }
    }

    /// The installation of `workspace`, tokens opened; `NotFound` without one.
    pub async fn installation(&self, workspace: WorkspaceId) -> Result<Installation, StoreError> {
        let row: InstallationRow = db::query_as(
            "SELECT workspace_id, enterprise_id, team_id, bot_token, refresh_token, \
                    token_expires_at, state \
             FROM slack_installations WHERE workspace_id = ?",
        )
        .bind(workspace.0)
        .fetch_one(&self.pool)
        .await?;
        let identity = |column| token_identity(&row.enterprise_id, &row.team_id, column);
        Ok(Installation {
            workspace: WorkspaceId(row.workspace_id),
            active: row.state == "active",
            bot_token: self
                .credentials
                .open(&row.bot_token, &identity("bot_token")),
            refresh_token: row
                .refresh_token
                .as_deref()
                .and_then(|sealed| self.credentials.open(sealed, &identity("refresh_token"))),
            sealed_refresh_token: row.refresh_token.clone(),
            token_expires_at: row.token_expires_at,
            enterprise_id: row.enterprise_id,
            team_id: row.team_id,
        })
    }

    /// Stores a rotated token pair if the stored refresh token is still the one the
    /// rotation started from: two rotations racing leave exactly one pair.
    pub async fn store_rotated_tokens(
        &self,
        installation: &Installation,
        bot_token: &Secret,
        refresh_token: &Secret,
        token_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Rotated, StoreError> {
        let token_expires_at = token_expires_at.unix_seconds();
        let now = now.unix_seconds();
        let identity =
            |column| token_identity(&installation.enterprise_id, &installation.team_id, column);
        let sealed_bot = self.credentials.seal(bot_token, &identity("bot_token"))?;
        let sealed_refresh = self
            .credentials
            .seal(refresh_token, &identity("refresh_token"))?;
        let mut tx = self.begin().await?;
        let changed = db::query(
            "UPDATE slack_installations \
             SET bot_token = ?, refresh_token = ?, token_expires_at = ?, updated_at = ? \
             WHERE workspace_id = ? AND refresh_token = ? AND state = 'active'",
        )
        .bind(&sealed_bot)
        .bind(&sealed_refresh)
        .bind(token_expires_at)
        .bind(now)
        .bind(installation.workspace.0)
        .bind(&installation.sealed_refresh_token)
        .execute(&mut tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(if changed == 1 {
            Rotated::Stored
        } else {
            Rotated::LostRace
        })
    }

    /// Marks an installation broken or uninstalled.
    pub async fn set_installation_state(
        &self,
        workspace: WorkspaceId,
        state: InstallationState,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        db::query(
            "UPDATE slack_installations SET state = ?, updated_at = ? WHERE workspace_id = ?",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(workspace.0)
        .execute(&mut tx.tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rotating installations whose bot token runs out before `before`.
    pub async fn installations_expiring(
        &self,
        before: Timestamp,
    ) -> Result<Vec<WorkspaceId>, StoreError> {
        let before = before.unix_seconds();
        let ids: Vec<i64> = db::query_scalar(
            "SELECT workspace_id FROM slack_installations \
             WHERE refresh_token IS NOT NULL AND state = 'active' AND token_expires_at < ? \
             ORDER BY token_expires_at",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(WorkspaceId).collect())
    }

    /// The app was removed from `workspace`: it is marked uninstalled (its schedules and
    /// follow-ups stop), its installation too, and every message still queued for it is
    /// cancelled rather than retried. Returns how many messages were cancelled.
    pub async fn mark_uninstalled(
        &self,
        workspace: WorkspaceId,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        db::query(
            "UPDATE workspaces SET uninstalled_at = COALESCE(uninstalled_at, ?), updated_at = ? \
             WHERE id = ?",
        )
        .bind(now)
        .bind(now)
        .bind(workspace.0)
        .execute(&mut tx.tx)
        .await?;
        db::query(
            "UPDATE slack_installations SET state = 'uninstalled', updated_at = ? \
             WHERE workspace_id = ?",
        )
        .bind(now)
        .bind(workspace.0)
        .execute(&mut tx.tx)
        .await?;
        let cancelled = db::query(
            "UPDATE outbox SET status = 'failed', lease_until = NULL, \
                 last_error = 'cancelled: the app was uninstalled from this workspace' \
             WHERE workspace_id = ? AND status IN ('pending', 'sending')",
        )
        .bind(workspace.0)
        .execute(&mut tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(cancelled)
    }

    /// Remembers the state of an install in flight (hashes only).
    pub async fn save_oauth_state(
        &self,
        state_hash: &str,
        browser_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let expires_at = expires_at.unix_seconds();
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        // Expired states go as new ones come: the table stays as small as the installs
        // in flight.
        db::query("DELETE FROM oauth_states WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut tx.tx)
            .await?;
        db::query(
            "INSERT INTO oauth_states (state_hash, browser_hash, expires_at) VALUES (?, ?, ?)",
        )
        .bind(state_hash)
        .bind(browser_hash)
        .bind(expires_at)
        .execute(&mut tx.tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses up a state: `true` when it was issued to this browser and has not expired
    /// nor been used before.
    pub async fn take_oauth_state(
        &self,
        state_hash: &str,
        browser_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.unix_seconds();
        let mut tx = self.begin().await?;
        let taken = db::query(
            "DELETE FROM oauth_states \
             WHERE state_hash = ? AND browser_hash = ? AND expires_at > ?",
        )
        .bind(state_hash)
        .bind(browser_hash)
        .bind(now)
        .execute(&mut tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(taken == 1)
    }

    /// The key ids stored tokens are sealed with, and how many tokens each seals.
    pub async fn sealed_key_ids(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sealed: Vec<(String, Option<String>)> =
            db::query_as("SELECT bot_token, refresh_token FROM slack_installations")
                .fetch_all(&self.pool)
                .await?;
        let mut kids: Vec<(String, i64)> = Vec::new();
        for value in sealed
            .iter()
            .flat_map(|(bot, refresh)| [Some(bot), refresh.as_ref()])
            .flatten()
        {
            let kid = sealing::kid_of(value).unwrap_or("(not sealed)").to_owned();
            match kids.iter_mut().find(|(known, _)| *known == kid) {
                Some((_, count)) => *count += 1,
                None => kids.push((kid, 1)),
            }
        }
        Ok(kids)
    }

    /// Seals again, with the active key, up to `limit` installations whose tokens are
    /// sealed with another key. Returns how many were re-sealed.
    pub async fn reseal_tokens(&self, limit: i64, now: Timestamp) -> Result<u64, StoreError> {
        let now = now.unix_seconds();
        let Some(keyring) = self.credentials.keyring.clone() else {
            return Ok(0);
        };
        let prefix = format!("v1:{}:", keyring.active_kid());
        let rows: Vec<InstallationRow> = db::query_as(
            "SELECT workspace_id, enterprise_id, team_id, bot_token, refresh_token, \
                    token_expires_at, state \
             FROM slack_installations \
             WHERE substr(bot_token, 1, length(?1)) != ?1 \
                OR (refresh_token IS NOT NULL AND substr(refresh_token, 1, length(?1)) != ?1) \
             LIMIT ?2",
        )
        .bind(&prefix)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut resealed = 0;
        for row in rows {
            let identity = |column| token_identity(&row.enterprise_id, &row.team_id, column);
            let reseal = |sealed: &str, column| -> Result<String, StoreError> {
                let opened = keyring
                    .open(sealed, &identity(column))
                    .map_err(|e| StoreError::Conflict(e.to_string()))?;
                Ok(keyring.seal(opened.expose(), &identity(column)))
            };
            let bot = reseal(&row.bot_token, "bot_token")?;
            let refresh = row
                .refresh_token
                .as_deref()
                .map(|sealed| reseal(sealed, "refresh_token"))
                .transpose()?;
            let mut tx = self.begin().await?;
            // Only if no rotation changed the row meanwhile.
            resealed += db::query(
                "UPDATE slack_installations SET bot_token = ?, refresh_token = ?, updated_at = ? \
                 WHERE workspace_id = ? AND bot_token = ? \
                   AND refresh_token IS NOT DISTINCT FROM ?",
            )
            .bind(&bot)
            .bind(&refresh)
            .bind(now)
            .bind(row.workspace_id)
            .bind(&row.bot_token)
            .bind(&row.refresh_token)
            .execute(&mut tx.tx)
            .await?
            .rows_affected();
            tx.commit().await?;
        }
        Ok(resealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealing::test_keys;
    use crate::store::NewOutboxMessage;
    use crate::store::test_support::temp_store;
    use crate::store::test_support::{ms, secs};

    fn keyed(store: Store, spec: &str) -> Store {
        store.with_credentials(Credentials {
            keyring: Some(Arc::new(Keyring::parse(&Secret::new(spec)).unwrap())),
            slack_env_token: None,
        })
    }

    fn install<'a>(
        team: &'a str,
        token: &'a Secret,
        refresh: Option<&'a Secret>,
    ) -> NewInstallation<'a> {
        NewInstallation {
            enterprise_id: "",
            team_id: team,
            name: Some("Acme"),
            is_enterprise_install: false,
            app_id: Some("A1"),
            bot_user_id: Some("UBOT"),
            scope: Some("chat:write"),
            installer_user_id: Some("UADMIN"),
            bot_token: token,
            refresh_token: refresh,
            token_expires_at: refresh.map(|_| secs(1_000)),
            default_time_zone: "UTC",
        }
    }

    #[tokio::test]
    async fn tokens_are_sealed_at_rest_and_open_for_their_workspace() {
        let (store, _dir) = temp_store().await;
        let store = keyed(store, test_keys::TWO);
        let token = Secret::new("xoxb-acme-secret");
        let refresh = Secret::new("xoxe-refresh-secret");
        let workspace = store
            .save_installation(install("T1", &token, Some(&refresh)), secs(10))
            .await
            .unwrap();
        assert_eq!(workspace.bot_token.unwrap().expose(), "xoxb-acme-secret");
        let raw: (String, String) =
            db::query_as("SELECT bot_token, refresh_token FROM slack_installations")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert!(
            raw.0.starts_with("v1:k2:") && !raw.0.contains("xoxb"),
            "{raw:?}"
        );
        assert!(
            raw.1.starts_with("v1:k2:") && !raw.1.contains("xoxe"),
            "{raw:?}"
        );
        // A sealed token copied onto another installation does not open there.
        let other = store
            .save_installation(install("T2", &Secret::new("xoxb-other"), None), secs(10))
            .await
            .unwrap();
        db::query("UPDATE slack_installations SET bot_token = ? WHERE workspace_id = ?")
            .bind(&raw.0)
            .bind(other.id.0)
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(
            store
                .workspace_by_id(other.id)
                .await
                .unwrap()
                .bot_token
                .is_none()
        );
        // Without keys nothing is stored.
        let (plain, _dir2) = temp_store().await;
        assert!(
            plain
                .save_installation(install("T1", &token, None), secs(10))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_rotation_stores_only_if_nobody_rotated_first() {
        let (store, _dir) = temp_store().await;
        let store = keyed(store, test_keys::TWO);
        let (token, refresh) = (Secret::new("xoxb-1"), Secret::new("xoxe-1"));
        let ws = store
            .save_installation(install("T1", &token, Some(&refresh)), secs(10))
            .await
            .unwrap()
            .id;
        let seen_by_a = store.installation(ws).await.unwrap();
        let seen_by_b = store.installation(ws).await.unwrap();
        assert_eq!(seen_by_a.refresh_token.as_ref().unwrap().expose(), "xoxe-1");
        let a = store
            .store_rotated_tokens(
                &seen_by_a,
                &Secret::new("xoxb-2"),
                &Secret::new("xoxe-2"),
                secs(50_000),
                secs(20),
            )
            .await
            .unwrap();
        let b = store
            .store_rotated_tokens(
                &seen_by_b,
                &Secret::new("xoxb-3"),
                &Secret::new("xoxe-3"),
                secs(50_000),
                secs(20),
            )
            .await
            .unwrap();
        assert_eq!((a, b), (Rotated::Stored, Rotated::LostRace));
        let now = store.installation(ws).await.unwrap();
        assert_eq!(now.refresh_token.unwrap().expose(), "xoxe-2");
        assert_eq!(now.bot_token.unwrap().expose(), "xoxb-2");
        assert_eq!(
            store.installations_expiring(secs(60_000)).await.unwrap(),
            vec![ws]
        );
        assert!(
            store
                .installations_expiring(secs(40_000))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_uninstall_cancels_queued_messages_and_hides_the_token() {
        let (store, _dir) = temp_store().await;
        let store = keyed(store, test_keys::TWO);
        let token = Secret::new("xoxb-1");
        let ws = store
            .save_installation(install("T1", &token, None), secs(10))
            .await
            .unwrap()
            .id;
        let mut tx = store.begin().await.unwrap();
        for channel in ["C1", "C2"] {
            tx.enqueue(
                NewOutboxMessage::post(ws, channel, "{}"),
                ms(10),
                ms(99_999),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(store.mark_uninstalled(ws, secs(20)).await.unwrap(), 2);
        let workspace = store.workspace_by_id(ws).await.unwrap();
        assert!(workspace.uninstalled && workspace.bot_token.is_none());
        let pending: i64 =
            db::query_scalar("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!(pending, 0);
        // Installing again brings it back.
        let again = store
            .save_installation(install("T1", &token, None), secs(30))
            .await
            .unwrap();
        assert!(!again.uninstalled && again.bot_token.is_some());
    }

    #[tokio::test]
    async fn tokens_sealed_with_an_old_key_are_sealed_again_with_the_active_one() {
        let (store, _dir) = temp_store().await;
        let old = keyed(store.clone(), test_keys::OLD);
        let token = Secret::new("xoxb-1");
        let ws = old
            .save_installation(
                install("T1", &token, Some(&Secret::new("xoxe-1"))),
                secs(10),
            )
            .await
            .unwrap()
            .id;
        assert_eq!(
            old.sealed_key_ids().await.unwrap(),
            vec![("k1".to_owned(), 2)]
        );
        let rotated = keyed(store, test_keys::TWO);
        assert_eq!(rotated.reseal_tokens(100, secs(20)).await.unwrap(), 1);
        assert_eq!(
            rotated.reseal_tokens(100, secs(20)).await.unwrap(),
            0,
            "nothing left"
        );
        assert_eq!(
            rotated.sealed_key_ids().await.unwrap(),
            vec![("k2".to_owned(), 2)]
        );
        assert_eq!(
            rotated
                .workspace_by_id(ws)
                .await
                .unwrap()
                .bot_token
                .unwrap()
                .expose(),
            "xoxb-1"
        );
    }

    #[tokio::test]
    async fn oauth_states_are_single_use_bound_to_the_browser_and_expire() {
        let (store, _dir) = temp_store().await;
        store
            .save_oauth_state("s1", "b1", secs(600), secs(0))
            .await
            .unwrap();
        assert!(
            !store.take_oauth_state("s1", "b2", secs(10)).await.unwrap(),
            "another browser"
        );
        assert!(store.take_oauth_state("s1", "b1", secs(10)).await.unwrap());
        assert!(
            !store.take_oauth_state("s1", "b1", secs(11)).await.unwrap(),
            "used once"
        );
        store
            .save_oauth_state("s2", "b1", secs(600), secs(0))
            .await
            .unwrap();
        assert!(
            !store.take_oauth_state("s2", "b1", secs(600)).await.unwrap(),
            "expired"
        );
    }

    #[tokio::test]
    async fn deleting_a_workspace_erases_every_row_of_it() {
        let (store, _dir) = temp_store().await;
        let store = keyed(store, test_keys::TWO);
        let token = Secret::new("xoxb-1");
        let ws = store
            .save_installation(install("T1", &token, None), secs(10))
            .await
            .unwrap()
            .id;
        let keep = crate::store::test_support::workspace(&store, "T2").await;
        for (workspace, title) in [(ws, "Gone"), (keep, "Kept")] {
            // A debrief with a lesson, a goal, a person, a queued message and a schedule.
            let debrief = crate::store::test_support::debrief(&store, workspace, title).await;
            crate::store::test_support::lesson(&store, workspace, debrief, title, "A lesson").await;
            store
                .add_goal(workspace, "U1", "A goal", None, secs(10))
                .await
                .unwrap();
            store
                .ensure_person(workspace, "U1", secs(10))
                .await
                .unwrap();
            store
                .enqueue(
                    NewOutboxMessage::post(workspace, "C1", "{}"),
                    ms(10),
                    ms(99_999),
                )
                .await
                .unwrap();
        }
        let rows_of = |table: &'static str| {
            let pool = store.pool.clone();
            async move {
                let count = format!("SELECT COUNT(*) FROM \"{table}\" WHERE workspace_id = ?");
                let n: i64 = db::query_scalar(&count)
                    .bind(ws.0)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                n
            }
        };
        for table in [
            "debriefs",
            "lessons",
            "goals",
            "people",
            "outbox",
            "slack_installations",
        ] {
            assert!(rows_of(table).await > 0, "{table} was seeded");
        }
        assert!(store.delete_workspace(ws).await.unwrap());
        assert!(!store.delete_workspace(ws).await.unwrap(), "gone already");
        let tables: Vec<String> = db::query_scalar(db::Sql::dialects(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'workspace_id'",
            "SELECT CAST(table_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'workspace_id'",
        ))
        .fetch_all(&store.pool)
        .await
        .unwrap();
        assert!(tables.len() > 10, "{tables:?}");
        for table in tables {
            // Table names come from the schema itself, not from input.
            let count = format!("SELECT COUNT(*) FROM \"{table}\" WHERE workspace_id = ?");
            let left: i64 = db::query_scalar(&count)
                .bind(ws.0)
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert_eq!(left, 0, "{table} still holds rows of the deleted workspace");
        }
        assert!(store.workspace_by_id(keep).await.is_ok());
    }
}
