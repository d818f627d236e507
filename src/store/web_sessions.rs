//! Dashboard sessions: created at sign-in, found by the hash of the browser's cookie,
//! kept alive by use and ended by signing out or by hours without use. Each holds
//! whether the person administers the workspace and the private conversations the
//! platform last said they are in (what they may see beyond the public lessons).

use super::{Store, StoreError, WorkspaceId, db};
use crate::domain::Timestamp;

/// A signed-in person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSession {
    pub workspace: WorkspaceId,
    pub user_id: String,
    pub name: String,
    /// What each of the session's forms must carry back.
    pub csrf: String,
    /// A workspace admin (settings and exports).
    pub admin: bool,
    /// When the private conversations the person is in were last asked for.
    pub channels_checked_at: Timestamp,
}

/// A new session.
#[derive(Clone, Copy, Debug)]
pub struct NewWebSession<'a> {
    /// SHA-256 (hex) of the cookie's token.
    pub token_hash: &'a str,
    pub workspace: WorkspaceId,
    pub user_id: &'a str,
    pub name: &'a str,
    pub csrf: &'a str,
    pub admin: bool,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    workspace_id: i64,
    user_id: String,
    name: String,
    csrf: String,
    admin: i64,
    #[sqlx(try_from = "super::columns::Seconds")]
    channels_checked_at: Timestamp,
}

impl Store {
    pub async fn create_web_session(
        &self,
        new: NewWebSession<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        db::query(
            "INSERT INTO web_sessions \
                 (token_hash, workspace_id, user_id, name, csrf, admin, created_at, \
                  last_seen_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )
        .bind(new.token_hash)
        .bind(new.workspace.0)
        .bind(new.user_id)
        .bind(new.name)
        .bind(new.csrf)
        .bind(new.admin)
        .bind(now.unix_seconds())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session of `token_hash`, unless it went unused for `idle_secs` or is older
    /// than `max_age_secs` (then it is ended) or its workspace was uninstalled. Using it
    /// keeps it alive.
    pub async fn use_web_session(
        &self,
        token_hash: &str,
        now: Timestamp,
        (idle_secs, max_age_secs): (i64, i64),
    ) -> Result<Option<WebSession>, StoreError> {
        let now = now.unix_seconds();
        let row: Option<SessionRow> = db::query_as(
            "UPDATE web_sessions SET last_seen_at = ?1 \
             WHERE token_hash = ?2 AND last_seen_at > ?1 - ?3 AND created_at > ?1 - ?4 \
               AND EXISTS (SELECT 1 FROM workspaces w \
                           WHERE w.id = web_sessions.workspace_id AND w.uninstalled_at IS NULL) \
             RETURNING workspace_id, user_id, name, csrf, admin, channels_checked_at",
        )
        .bind(now)
        .bind(token_hash)
        .bind(idle_secs)
        .bind(max_age_secs)
        .fetch_optional(&self.pool)
        .await?;
        if row.is_none() {
            // An idle session is over for good, not only for now.
            self.end_web_session(token_hash).await?;
        }
        Ok(row.map(|row| WebSession {
            workspace: WorkspaceId(row.workspace_id),
            user_id: row.user_id,
            name: row.name,
            csrf: row.csrf,
            admin: row.admin != 0,
            channels_checked_at: row.channels_checked_at,
        }))
    }

    /// Retention: removes sessions last used before `idle_before`; how many.
    pub async fn prune_web_sessions(&self, idle_before: Timestamp) -> Result<u64, StoreError> {
        Ok(db::query("DELETE FROM web_sessions WHERE last_seen_at < ?")
            .bind(idle_before.unix_seconds())
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Records what the platform said at `now` about the session's person: whether
    /// they administer the workspace, and the private conversations they are in (in
    /// place of what was recorded before).
    pub async fn refresh_web_session(
        &self,
        token_hash: &str,
        admin: bool,
        conversations: &[String],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        db::query("DELETE FROM web_session_channels WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&mut tx.tx)
            .await?;
        for conversation in conversations {
            db::query(
                "INSERT INTO web_session_channels (token_hash, conversation) VALUES (?, ?) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(token_hash)
            .bind(conversation)
            .execute(&mut tx.tx)
            .await?;
        }
        db::query(
            "UPDATE web_sessions SET admin = ?, channels_checked_at = ? WHERE token_hash = ?",
        )
        .bind(admin)
        .bind(now.unix_seconds())
        .bind(token_hash)
        .execute(&mut tx.tx)
        .await?;
        tx.commit().await
    }

    /// The conversations of the workspace whose lessons only their members may see:
    /// those that held a debrief and are not known to be public.
    pub async fn private_debrief_conversations(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<String>, StoreError> {
        Ok(db::query_scalar(
            "SELECT DISTINCT d.channel FROM debriefs d \
             WHERE d.workspace_id = ? AND NOT EXISTS (SELECT 1 FROM conversation_scopes s \
                 WHERE s.workspace_id = d.workspace_id AND s.conversation = d.channel \
                   AND s.public = 1) \
             ORDER BY d.channel",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn end_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        db::query("DELETE FROM web_sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{secs, temp_store, workspace};

    #[tokio::test]
    async fn a_session_lives_while_used_and_ends_after_idle_hours_or_sign_out() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let new = NewWebSession {
            token_hash: "h1",
            workspace: ws,
            user_id: "U1",
            name: "Alice",
            csrf: "c1",
            admin: false,
        };
        store.create_web_session(new, secs(1_000)).await.unwrap();
        let used = store
            .use_web_session("h1", secs(1_500), (600, 3_000))
            .await
            .unwrap();
        assert_eq!(used.unwrap().name, "Alice");
        // Used at 1,500: alive at 2,000, over after 600 s without use.
        assert!(
            store
                .use_web_session("h1", secs(2_000), (600, 3_000))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .use_web_session("h1", secs(2_601), (600, 3_000))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .use_web_session("h1", secs(2_000), (600, 3_000))
                .await
                .unwrap()
                .is_none(),
            "ended"
        );
        store
            .create_web_session(
                NewWebSession {
                    token_hash: "h2",
                    ..new
                },
                secs(3_000),
            )
            .await
            .unwrap();
        store.end_web_session("h2").await.unwrap();
        assert!(
            store
                .use_web_session("h2", secs(3_001), (600, 3_000))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .use_web_session("nope", secs(3_001), (600, 3_000))
                .await
                .unwrap()
                .is_none()
        );
        // Used every few minutes, a session still ends at its maximum age.
        let h3 = NewWebSession {
            token_hash: "h3",
            ..new
        };
        store.create_web_session(h3, secs(10_000)).await.unwrap();
        for at in (10_500..13_000).step_by(500) {
            let used = store.use_web_session("h3", secs(at), (600, 3_000));
            assert!(used.await.unwrap().is_some(), "used at {at}");
        }
        let too_old = store.use_web_session("h3", secs(13_000), (600, 3_000));
        assert!(too_old.await.unwrap().is_none());
        // Retention removes what nobody used since.
        let h4 = NewWebSession {
            token_hash: "h4",
            ..new
        };
        store.create_web_session(h4, secs(20_000)).await.unwrap();
        assert_eq!(store.prune_web_sessions(secs(20_001)).await.unwrap(), 1);
    }
}
