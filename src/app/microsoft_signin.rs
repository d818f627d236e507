//! "Sign in with Microsoft" for the dashboard of Teams workspaces (Microsoft Entra ID,
//! OpenID Connect v2): the authorize page with a `state` and a `nonce`, the code
//! exchanged at the tenant's token endpoint with the bot's app id and password, and the
//! `id_token` checked before anyone is signed in: its signature against the published
//! keys, a tenant the service serves (`LEARNLOOP_TEAMS_TENANTS`), the issuer of that
//! very tenant, the audience (the bot's app id), the nonce of this sign-in, and its
//! expiry on the injected clock. The person is then found among the people the bot
//! met in a team of that tenant, by their Entra object id.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::app::signin::{SignedIn, published_key};
use crate::clock::Clock;
use crate::config::Settings;
use crate::secret::Secret;
use crate::store::Store;

/// Leeway for the clocks of Microsoft and this server.
const LEEWAY_SECS: i64 = 60;

/// The Teams bot's sign-in settings: on when the bot has an app id and password, there
/// are tenants to serve, and the service has a public URL.
pub struct MicrosoftSignIn {
    client_id: String,
    client_secret: Secret,
    /// `{LEARNLOOP_PUBLIC_URL}/auth/microsoft/callback`.
    redirect_uri: String,
    /// `LEARNLOOP_MICROSOFT_LOGIN_URL`: where the authorize page, the token endpoint and
    /// the keys are, and the start of every issuer.
    login_base: String,
    tenants: Vec<String>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct IdClaims {
    exp: i64,
    nonce: Option<String>,
    tid: Option<String>,
    oid: Option<String>,
    name: Option<String>,
}

/// Reads a JWT's claims without checking them: only to learn which tenant's issuer
/// the checked decode must then expect.
fn unchecked_tenant(id_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["tid"].as_str().map(str::to_owned)
}

impl MicrosoftSignIn {
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let public_url = settings.http.public_url.as_deref()?;
        let teams = &settings.teams;
        if teams.tenants.is_empty() {
            return None;
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        Some(Self {
            client_id: teams.app_id.clone()?,
            client_secret: teams.app_password.clone()?,
            redirect_uri: format!("{public_url}/auth/microsoft/callback"),
            login_base: teams.login_url.clone(),
            // Tenant ids are GUIDs: compared in lower case, however they were written.
            tenants: teams.tenants.iter().map(|t| t.to_lowercase()).collect(),
            http,
        })
    }

    /// The tenant in the endpoints' paths: the one served, or `organizations` (any work
    /// account; the token's tenant is checked against the list) when there are several.
    fn authority(&self) -> &str {
        match self.tenants.as_slice() {
            [one] => one,
            _ => "organizations",
        }
    }

    /// Microsoft's sign-in page for this `state` and `nonce`.
    pub fn authorize_url(&self, state: &str, nonce: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("client_id", self.client_id.as_str()),
            ("response_type", "code"),
            ("response_mode", "query"),
            ("scope", "openid profile"),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("state", state),
            ("nonce", nonce),
        ])
        .expect("strings always encode");
        format!(
            "{}/{}/oauth2/v2.0/authorize?{query}",
            self.login_base,
            self.authority()
        )
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Result<Value, String> {
        let response = request
            .send()
            .await
            .map_err(|err| format!("Microsoft could not be reached ({err})"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|_| format!("Microsoft answered {status} without JSON"))?;
        if !status.is_success() {
            let error = body["error"].as_str().unwrap_or("an error");
            return Err(format!("Microsoft did not accept the sign-in ({error})"));
        }
        Ok(body)
    }

    /// Exchanges `code` and checks the id token it brings; `Err` says why not, for the
    /// person signing in (never with the token itself).
    pub async fn complete(
        &self,
        store: &Store,
        clock: &dyn Clock,
        code: &str,
        nonce: &str,
    ) -> Result<SignedIn, String> {
        let token_url = format!("{}/{}/oauth2/v2.0/token", self.login_base, self.authority());
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", "openid profile"),
        ];
        let answer = self.json(self.http.post(token_url).form(&form)).await?;
        let id_token = answer["id_token"]
            .as_str()
            .ok_or("Microsoft's answer carried no id token")?;
        let claims = self.verify(id_token, nonce, clock).await?;
        let (Some(tenant), Some(object_id)) = (claims.tid, claims.oid) else {
            return Err("the id token names no tenant or person".into());
        };
        let Some((workspace, person)) = store
            .teams_person_by_object_id(&tenant, &object_id)
            .await
            .map_err(|_| "the sign-in could not be looked up just now".to_owned())?
        else {
            return Err(
                "learnloop has not met you in a team of your organisation yet: mention \
                 @learnloop in a channel, or open a chat with it, then sign in again"
                    .into(),
            );
        };
        let name = claims.name.unwrap_or_else(|| person.clone());
        Ok(SignedIn {
            workspace,
            user_id: person,
            name,
        })
    }

    async fn verify(
        &self,
        id_token: &str,
        nonce: &str,
        clock: &dyn Clock,
    ) -> Result<IdClaims, String> {
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|_| "the id token is malformed")?;
        if header.alg != Algorithm::RS256 {
            return Err("the id token is not signed as Microsoft signs".into());
        }
        let tenant = unchecked_tenant(id_token)
            .ok_or("the id token names no tenant")?
            .to_lowercase();
        if !self.tenants.contains(&tenant) {
            return Err("your organisation is not one this learnloop serves".into());
        }
        let kid = header.kid.ok_or("the id token names no key")?;
        let keys_url = format!(
            "{}/{}/discovery/v2.0/keys",
            self.login_base,
            self.authority()
        );
        let keys = self.json(self.http.get(keys_url)).await?;
        let key = published_key(&keys, &kid, "Microsoft")?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[self.client_id.as_str()]);
        // The issuer of the token's own tenant, which is one this service serves.
        validation.set_issuer(&[format!("{}/{tenant}/v2.0", self.login_base)]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        // Expiry is checked on the injected clock below.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|err| format!("the id token was refused ({err})"))?
            .claims;
        if claims.tid.as_deref().map(str::to_lowercase).as_deref() != Some(tenant.as_str()) {
            return Err("the id token was refused (tenant)".into());
        }
        if clock.now().unix_seconds() > claims.exp + LEEWAY_SECS {
            return Err("the id token has expired".into());
        }
        if claims.nonce.as_deref() != Some(nonce) {
            return Err("the id token belongs to another sign-in".into());
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_is_read_from_the_payload_only_to_pick_the_issuer() {
        use base64::Engine;
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"tid":"t-1","oid":"o"}"#);
        assert_eq!(
            unchecked_tenant(&format!("h.{payload}.s")).as_deref(),
            Some("t-1")
        );
        assert_eq!(unchecked_tenant("not a token"), None);
    }
}
