//! People's time zones from Slack's `users.info`.

use super::SlackClient;
use crate::domain::Workspace;
use crate::domain::directory::{Lookup, ZoneSource};

/// Asks Slack with the workspace's bot token.
pub struct SlackZones(pub SlackClient);

impl ZoneSource for SlackZones {
    fn time_zone<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Lookup<'a, Option<String>> {
        Box::pin(async move {
            let token = workspace.bot_token.as_ref()?;
            match self.0.user_time_zone(token, user).await {
                Ok(zone) => zone,
                Err(err) => {
                    tracing::info!(error = %err, "users.info failed");
                    None
                }
            }
        })
    }
}
