//! "Sign in with Slack" for the dashboard (OpenID Connect): Slack's authorize page with
//! a `state` and a `nonce`, the code exchanged at `openid.connect.token`, and the
//! `id_token` checked before anyone is signed in: its signature against Slack's
//! published keys, the issuer, the audience (this app), the nonce of this sign-in, its
//! expiry on the injected clock, and a team that is an installed workspace.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::config::Settings;
use crate::platform::slack::SlackClient;
use crate::secret::Secret;
use crate::store::{Platform, Store, Workspace};

/// The `iss` of Slack's id tokens.
pub const SLACK_ISSUER: &str = "https://slack.com";
/// Leeway for the clocks of Slack and this server.
const LEEWAY_SECS: i64 = 60;
/// A dashboard session ends after this long without use…
pub const SESSION_IDLE_SECS: i64 = 8 * 3600;
/// …and after this long in any case: signing in again checks the person anew.
pub const SESSION_MAX_AGE_SECS: i64 = 7 * 86_400;

/// The Slack app's sign-in settings: on when the app has a client id and secret and
/// the service has a public URL (Slack must be able to send people back).
pub struct SlackSignIn {
    pub client_id: String,
    pub client_secret: Secret,
    /// `{LEARNLOOP_PUBLIC_URL}/auth/slack/callback`.
    pub redirect_uri: String,
    /// `LEARNLOOP_SLACK_OAUTH_URL`: where the authorize page and the keys are.
    pub oauth_base: String,
}

/// How people sign in to the dashboard: with Slack, with Microsoft (Teams workspaces),
/// or both. The dashboard is on when either is.
pub struct SignIn {
    pub slack: Option<SlackSignIn>,
    pub microsoft: Option<crate::app::microsoft_signin::MicrosoftSignIn>,
    /// Cookies are `Secure` (and `__Host-`) when the public URL is https.
    pub secure_cookie: bool,
}

impl SignIn {
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let slack = SlackSignIn::from_settings(settings);
        let microsoft = crate::app::microsoft_signin::MicrosoftSignIn::from_settings(settings);
        if slack.is_none() && microsoft.is_none() {
            return None;
        }
        let public_url = settings.http.public_url.as_deref().unwrap_or_default();
        Some(Self {
            slack,
            microsoft,
            secure_cookie: public_url.starts_with("https://"),
        })
    }
}

/// The RSA key `kid` of a published key set (JWKS) of `issuer` (named in the reasons).
pub(crate) fn published_key(keys: &Value, kid: &str, issuer: &str) -> Result<DecodingKey, String> {
    let key = keys["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|key| key["kid"] == kid)
        .ok_or_else(|| format!("the id token is signed with a key {issuer} does not publish"))?;
    let not_rsa = || format!("{issuer}'s signing key is not an RSA key");
    let (Some(n), Some(e)) = (key["n"].as_str(), key["e"].as_str()) else {
        return Err(not_rsa());
    };
    DecodingKey::from_rsa_components(n, e).map_err(|_| not_rsa())
}

/// Who signed in.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub workspace: Workspace,
    pub user_id: String,
    pub name: String,
}

#[derive(Deserialize)]
struct IdClaims {
    exp: i64,
    nonce: Option<String>,
    #[serde(rename = "https://slack.com/team_id")]
    team_id: Option<String>,
    #[serde(rename = "https://slack.com/user_id")]
    user_id: Option<String>,
    name: Option<String>,
}

impl SlackSignIn {
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let oauth = settings.slack.oauth.as_ref()?;
        let public_url = settings.http.public_url.as_deref()?;
        Some(Self {
            client_id: oauth.client_id.clone(),
            client_secret: oauth.client_secret.clone(),
            redirect_uri: format!("{public_url}/auth/slack/callback"),
            oauth_base: settings.slack.oauth_url.clone(),
        })
    }

    /// Slack's sign-in page for this `state` and `nonce`.
    pub fn authorize_url(&self, state: &str, nonce: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("client_id", self.client_id.as_str()),
            ("state", state),
            ("nonce", nonce),
            ("redirect_uri", self.redirect_uri.as_str()),
        ])
        .expect("strings always encode");
        format!("{}/openid/connect/authorize?{query}", self.oauth_base)
    }

    /// Exchanges `code` and checks the id token it brings; `Err` says why not, for the
    /// person signing in (never with the token itself).
    pub async fn complete(
        &self,
        store: &Store,
        slack: &SlackClient,
        clock: &dyn Clock,
        code: &str,
        nonce: &str,
    ) -> Result<SignedIn, String> {
        let app = (self.client_id.as_str(), &self.client_secret);
        let answer = slack
            .exchange_code("openid.connect.token", app, code, &self.redirect_uri)
            .await
            .map_err(|err| format!("Slack did not accept the sign-in ({err})"))?;
        let id_token = answer["id_token"]
            .as_str()
            .ok_or("Slack's answer carried no id token")?;
        let claims = self.verify(slack, id_token, nonce, clock).await?;
        let (Some(team_id), Some(user_id)) = (claims.team_id, claims.user_id) else {
            return Err("the id token names no workspace or person".into());
        };
        let workspace = match store.find_workspace(Platform::Slack, &team_id).await {
            Ok(workspace) if !workspace.uninstalled => workspace,
            _ => return Err("learnloop is not installed in that Slack workspace".into()),
        };
        let name = claims.name.unwrap_or_else(|| user_id.clone());
        Ok(SignedIn {
            workspace,
            user_id,
            name,
        })
    }

    async fn verify(
        &self,
        slack: &SlackClient,
        id_token: &str,
        nonce: &str,
        clock: &dyn Clock,
    ) -> Result<IdClaims, String> {
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|_| "the id token is malformed")?;
        if header.alg != Algorithm::RS256 {
            return Err("the id token is not signed as Slack signs".into());
        }
        let kid = header.kid.ok_or("the id token names no key")?;
        let keys = slack
            .openid_keys(&format!("{}/openid/connect/keys", self.oauth_base))
            .await
            .map_err(|err| format!("Slack's signing keys could not be read ({err})"))?;
        let key = published_key(&keys, &kid, "Slack")?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[self.client_id.as_str()]);
        validation.set_issuer(&[SLACK_ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        // Expiry is checked on the injected clock below.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|err| format!("the id token was refused ({err})"))?
            .claims;
        if clock.now().unix_seconds() > claims.exp + LEEWAY_SECS {
            return Err("the id token has expired".into());
        }
        if claims.nonce.as_deref() != Some(nonce) {
            return Err("the id token belongs to another sign-in".into());
        }
        Ok(claims)
    }
}
