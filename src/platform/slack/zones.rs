//! People's time zones from Slack's `users.info`.

use std::future::Future;
use std::pin::Pin;

use super::SlackClient;
use crate::app::zones::ZoneSource;
use crate::store::Workspace;

/// Asks Slack with the workspace's bot token.
pub struct SlackZones(pub SlackClient);

impl ZoneSource for SlackZones {
    fn time_zone<'a>(
        &'a self,
        workspace: &'a Workspace,
        user: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<String>> + Send + 'a>> {
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
