//! Dashboard sessions: created at sign-in, found by the hash of the browser's cookie,
//! kept alive by use and ended by signing out or by hours without use.

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
}

impl Store {
    pub async fn create_web_session(
        &self,
        new: NewWebSession<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        db::query(
            "INSERT INTO web_sessions \
                 (token_hash, workspace_id, user_id, name, csrf, created_at, last_seen_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )
        .bind(new.token_hash)
        .bind(new.workspace.0)
        .bind(new.user_id)
        .bind(new.name)
        .bind(new.csrf)
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
        let row: Option<(i64, String, String, String)> = db::query_as(
            "UPDATE web_sessions SET last_seen_at = ?1 \
             WHERE token_hash = ?2 AND last_seen_at > ?1 - ?3 AND created_at > ?1 - ?4 \
               AND EXISTS (SELECT 1 FROM workspaces w \
                           WHERE w.id = web_sessions.workspace_id AND w.uninstalled_at IS NULL) \
             RETURNING workspace_id, user_id, name, csrf",
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
        Ok(row.map(|(workspace, user_id, name, csrf)| WebSession {
            workspace: WorkspaceId(workspace),
            user_id,
            name,
            csrf,
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
