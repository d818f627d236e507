//! Installing the Slack app in a workspace through OAuth v2: the authorize link, the
//! exchange of the code for the bot token (checked with `auth.test`), the installation
//! stored with its tokens sealed, and the installer's welcome.
//! <https://api.slack.com/authentication/oauth-v2>

use serde_json::Value;

use crate::clock::Clock;
use crate::config::{Secret, Settings};
use crate::platform::Message;
use crate::platform::slack::SlackClient;
use crate::store::{NewInstallation, Store, Workspace};

/// The bot scopes the app asks for: the same as `slack/manifest.yml` (a test keeps them
/// in step).
pub const BOT_SCOPES: &[&str] = &[
    "app_mentions:read",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "mpim:write",
    "chat:write",
    "chat:write.public",
    "commands",
    "im:history",
    "im:write",
    "users:read",
];

/// The app's OAuth settings, when it is distributed to many workspaces.
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: Secret,
    /// `{LEARNLOOP_PUBLIC_URL}/slack/oauth_redirect`.
    pub redirect_uri: String,
    /// `LEARNLOOP_SLACK_OAUTH_URL`.
    pub authorize_base: String,
    /// The state cookie is `Secure` when the public URL is https.
    pub secure_cookie: bool,
}

impl OAuthApp {
    /// From settings, when OAuth is configured (validation made sure of the rest).
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let oauth = settings.slack.oauth.as_ref()?;
        let public_url = settings.http.public_url.as_deref()?;
        Some(Self {
            client_id: oauth.client_id.clone(),
            client_secret: oauth.client_secret.clone(),
            redirect_uri: format!("{public_url}/slack/oauth_redirect"),
            authorize_base: settings.slack.oauth_url.clone(),
            secure_cookie: public_url.starts_with("https://"),
        })
    }

    /// Slack's authorize page for an install carrying `state`.
    pub fn authorize_url(&self, state: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("client_id", self.client_id.as_str()),
            ("scope", &BOT_SCOPES.join(",")),
            ("state", state),
            ("redirect_uri", &self.redirect_uri),
        ])
        .expect("strings always encode");
        format!("{}/oauth/v2/authorize?{query}", self.authorize_base)
    }
}

/// A finished install.
pub struct Installed {
    pub workspace: Workspace,
    pub team_name: String,
    /// Who installed the app: they get the welcome.
    pub installer: Option<String>,
}

fn text<'a>(answer: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut value = answer;
    for key in path {
        value = value.get(key)?;
    }
    value.as_str().filter(|s| !s.is_empty())
}

/// Exchanges `code` for the bot token, checks it, and stores the installation. `Err`
/// says, for the installer, what went wrong.
pub async fn complete(
    store: &Store,
    slack: &SlackClient,
    oauth: &OAuthApp,
    clock: &dyn Clock,
    default_time_zone: &str,
    code: &str,
) -> Result<Installed, String> {
    let app = (oauth.client_id.as_str(), &oauth.client_secret);
    let answer = slack
        .exchange_code("oauth.v2.access", app, code, &oauth.redirect_uri)
        .await
        .map_err(|err| format!("Slack did not accept the installation ({err})"))?;
    let Some(access_token) = text(&answer, &["access_token"]) else {
        return Err("Slack's answer carried no bot token".into());
    };
    let team_id = text(&answer, &["team", "id"]).unwrap_or_default();
    let enterprise_id = text(&answer, &["enterprise", "id"]).unwrap_or_default();
    if team_id.is_empty() && enterprise_id.is_empty() {
        return Err("Slack's answer named neither a workspace nor an organisation".into());
    }
    let bot_token = Secret::new(access_token);
    // The token works before anything is stored.
    slack
        .call_form("auth.test", &bot_token, &[])
        .await
        .map_err(|err| format!("the new bot token does not work ({err})"))?;
    let refresh_token = text(&answer, &["refresh_token"]).map(Secret::new);
    let now = clock.now();
    let team_name = text(&answer, &["team", "name"])
        .or(text(&answer, &["enterprise", "name"]))
        .unwrap_or("your workspace")
        .to_owned();
    let installer = text(&answer, &["authed_user", "id"]).map(str::to_owned);
    let workspace = store
        .save_installation(
            NewInstallation {
                enterprise_id,
                team_id,
                name: Some(&team_name),
                is_enterprise_install: answer["is_enterprise_install"].as_bool().unwrap_or(false),
                app_id: text(&answer, &["app_id"]),
                bot_user_id: text(&answer, &["bot_user_id"]),
                scope: text(&answer, &["scope"]),
                installer_user_id: installer.as_deref(),
                bot_token: &bot_token,
                refresh_token: refresh_token.as_ref(),
                token_expires_at: answer["expires_in"]
                    .as_i64()
                    .map(|secs| now.plus_seconds(secs)),
                default_time_zone,
            },
            now,
        )
        .await
        .map_err(|err| format!("the installation could not be stored ({err})"))?;
    Ok(Installed {
        workspace,
        team_name,
        installer,
    })
}

/// The installer's welcome: it worked, and three next steps.
pub fn installer_welcome() -> Message {
    let mut message = crate::app::welcome::message();
    message.fallback = "learnloop is installed".into();
    message.blocks.insert(
        0,
        crate::platform::Block::Text(
            ":tada: learnloop is installed. Thank you for setting it up for your team!".into(),
        ),
    );
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scopes_asked_for_are_the_manifests() {
        let root = env!("CARGO_MANIFEST_DIR");
        let manifest = std::fs::read_to_string(format!("{root}/slack/manifest.yml")).unwrap();
        let section = manifest
            .split("    bot:\n")
            .nth(1)
            .unwrap()
            .split("settings:")
            .next()
            .unwrap();
        let declared: Vec<&str> = section
            .lines()
            .filter_map(|line| line.trim().strip_prefix("- "))
            .map(|line| line.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(declared, BOT_SCOPES);
    }

    #[test]
    fn the_authorize_link_carries_client_scopes_state_and_redirect() {
        let app = OAuthApp {
            client_id: "1.2".into(),
            client_secret: Secret::new("s"),
            redirect_uri: "https://learn.example.com/slack/oauth_redirect".into(),
            authorize_base: "https://slack.com".into(),
            secure_cookie: true,
        };
        let url = app.authorize_url("st&te");
        assert!(
            url.starts_with(
                "https://slack.com/oauth/v2/authorize?client_id=1.2&scope=app_mentions%3Aread%2C"
            ),
            "{url}"
        );
        assert!(url.contains("state=st%26te"), "{url}");
        assert!(
            url.contains("redirect_uri=https%3A%2F%2Flearn.example.com%2Fslack%2Foauth_redirect"),
            "{url}"
        );
    }
}
