//! Bot Framework bearer tokens on `POST /teams/messages`: an RS256/384/512 JWT signed by
//! a key of the Bot Framework's OpenID metadata, issued by `https://api.botframework.com`
//! for our app id, within its lifetime (five minutes' leeway), from a key endorsed for the
//! activity's channel and naming the activity's service URL.
//! <https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication>
//!
//! Keys are fetched from the metadata's `jwks_uri`, kept, and fetched again every 24
//! hours, or sooner when a token names a key we don't know (at most once an hour, so
//! tokens with made-up key ids cannot make us hammer Microsoft).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::clock::SharedClock;
use crate::domain::Timestamp;

/// The only issuer of tokens the Bot Framework sends to bots.
pub const BOT_FRAMEWORK_ISSUER: &str = "https://api.botframework.com";
/// How far `exp` and `nbf` may be off, for clock skew.
const LEEWAY_SECS: i64 = 300;
/// Keys are fetched again after this long.
const KEYS_MAX_AGE_SECS: i64 = 24 * 3_600;
/// At most one fetch per this long because of an unknown key id.
const UNKNOWN_KEY_REFETCH_SECS: i64 = 3_600;
/// Verified tokens remembered; past this the memory starts over.
const MAX_VERIFIED: usize = 4_096;
/// After a failed fetch, none is tried for this long: while Microsoft is unreachable,
/// requests use the keys in hand (or get 503) instead of each waiting on a fetch.
const FAILED_FETCH_PAUSE_SECS: i64 = 60;
/// A request waiting for keys waits at most this long.
const KEYS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a token was refused. Logged; the caller only sees 401.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BotTokenError {
    #[error("the Authorization header is missing")]
    Missing,
    #[error("the Authorization header is not `Bearer <JWT>`")]
    Malformed,
    // What a token's header or the activity says is quoted with `{:?}`: a `kid` with a
    // newline in it must not start a forged line in the log.
    #[error("the token is signed with {0:?}, not RS256/384/512")]
    UnsupportedAlgorithm(String),
    #[error("the token's key {0:?} is not one of the Bot Framework's keys")]
    UnknownKey(String),
    #[error("the token is invalid: {0:?}")]
    Invalid(String),
    #[error("the token expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's key is not endorsed for channel {0:?}")]
    Unendorsed(String),
    #[error("the token's serviceurl does not match the activity's serviceUrl")]
    ServiceUrlMismatch,
    #[error("the Bot Framework's keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

/// A token whose signature, issuer, audience and lifetime are good. What it says about
/// the activity is checked once the body is parsed ([`Self::admits`]).
#[derive(Clone, Debug)]
pub struct VerifiedBotToken {
    service_url: Option<String>,
    endorsements: Option<Arc<[String]>>,
}

impl VerifiedBotToken {
    /// Whether the token was issued for an activity of `channel_id` from `service_url`.
    pub fn admits(&self, channel_id: &str, service_url: &str) -> Result<(), BotTokenError> {
        if let Some(endorsements) = &self.endorsements
            && !endorsements.iter().any(|e| e == channel_id)
        {
            return Err(BotTokenError::Unendorsed(channel_id.to_owned()));
        }
        let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
        match &self.service_url {
            Some(claimed) if same(claimed, service_url) => Ok(()),
            _ => Err(BotTokenError::ServiceUrlMismatch),
        }
    }
}

/// A token verified before, by the SHA-256 of its text.
struct Verified {
    kid: String,
    exp: i64,
    nbf: Option<i64>,
    token: VerifiedBotToken,
}

/// One signing key and the channels it is endorsed for (`None`: not restricted).
struct SigningKey {
    key: DecodingKey,
    endorsements: Option<Arc<[String]>>,
}

/// The keys as last fetched.
#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<SigningKey>>,
    /// The epoch before the first fetch.
    fetched_at: Timestamp,
}

/// When keys were last fetched because of an unknown key id, and when a fetch last
/// failed.
#[derive(Default)]
struct Refetching {
    last_for_unknown_key: Option<Timestamp>,
    failed_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct OpenIdMetadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct JsonWebKeySet {
    keys: Vec<JsonWebKey>,
}

/// A key as the Bot Framework publishes it; `endorsements` is its own field, which
/// general-purpose JWK types drop.
#[derive(Deserialize)]
struct JsonWebKey {
    kty: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    endorsements: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Claims {
    exp: i64,
    nbf: Option<i64>,
    serviceurl: Option<String>,
}

/// `exp` and `nbf` (the token's Unix seconds) with the leeway, at `now`.
fn within_lifetime(exp: i64, nbf: Option<i64>, now: Timestamp) -> Result<(), BotTokenError> {
    let now = now.unix_seconds();
    if now > exp + LEEWAY_SECS {
        return Err(BotTokenError::Expired);
    }
    if nbf.is_some_and(|nbf| now + LEEWAY_SECS < nbf) {
        return Err(BotTokenError::NotYetValid);
    }
    Ok(())
}

/// Checks Bot Framework tokens for one app id.
pub struct BotTokenVerifier {
    app_id: String,
    openid_url: String,
    http: reqwest::Client,
    clock: SharedClock,
    keys: RwLock<Arc<KeySet>>,
    /// The Bot Framework sends the same token with every activity for up to an hour;
    /// checking its RSA signature once, not per request, is most of the ingress cost.
    /// A remembered token still has its lifetime checked, and its key must still be
    /// published in keys fetched within the day.
    verified: RwLock<HashMap<[u8; 32], Arc<Verified>>>,
    /// Held while fetching, so concurrent requests wait for one fetch instead of each
    /// making their own.
    refetching: tokio::sync::Mutex<Refetching>,
}

impl std::fmt::Debug for BotTokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotTokenVerifier")
            .field("app_id", &self.app_id)
            .field("openid_url", &self.openid_url)
            .finish_non_exhaustive()
    }
}

impl BotTokenVerifier {
    pub fn new(app_id: &str, openid_url: &str, clock: SharedClock) -> Self {
        let http = reqwest::Client::builder()
            .timeout(KEYS_FETCH_TIMEOUT)
            .build()
            .expect("a TLS backend is compiled in");
        Self {
            app_id: app_id.to_owned(),
            openid_url: openid_url.to_owned(),
            http,
            clock,
            keys: RwLock::new(Arc::new(KeySet::default())),
            verified: RwLock::new(HashMap::new()),
            refetching: tokio::sync::Mutex::new(Refetching::default()),
        }
    }

    /// Checks an `Authorization` header value.
    pub async fn verify(
        &self,
        authorization: Option<&[u8]>,
    ) -> Result<VerifiedBotToken, BotTokenError> {
        let value = authorization.ok_or(BotTokenError::Missing)?;
        let token = std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(BotTokenError::Malformed)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let remembered = self
            .verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&digest)
            .cloned();
        let now = self.clock.now();
        if let Some(known) = remembered {
            let keys = self.current();
            if now.seconds_since(keys.fetched_at) < KEYS_MAX_AGE_SECS
                && keys.keys.contains_key(&known.kid)
            {
                within_lifetime(known.exp, known.nbf, now)?;
                return Ok(known.token.clone());
            }
        }
        let verified = self.verify_in_full(token, now).await?;
        let token = verified.token.clone();
        let mut memory = self.verified.write().unwrap_or_else(|e| e.into_inner());
        if memory.len() >= MAX_VERIFIED {
            memory.clear();
        }
        memory.insert(digest, Arc::new(verified));
        Ok(token)
    }

    /// Checks the signature with the named key, then the claims.
    async fn verify_in_full(&self, token: &str, now: Timestamp) -> Result<Verified, BotTokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| BotTokenError::Invalid(e.to_string()))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        ) {
            return Err(BotTokenError::UnsupportedAlgorithm(format!(
                "{:?}",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| BotTokenError::Invalid("the header has no kid".into()))?;
        let key = self.key(&kid).await?;

        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[BOT_FRAMEWORK_ISSUER]);
        validation.set_audience(&[&self.app_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        // Lifetime is checked below against the service's clock, like everything else.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| BotTokenError::Invalid(e.to_string()))?
            .claims;
        within_lifetime(claims.exp, claims.nbf, now)?;
        Ok(Verified {
            kid,
            exp: claims.exp,
            nbf: claims.nbf,
            token: VerifiedBotToken {
                service_url: claims.serviceurl,
                endorsements: key.endorsements.clone(),
            },
        })
    }

    /// The key `kid`, fetching the key set when it is old, or when `kid` is unknown and
    /// no such fetch happened in the last hour.
    async fn key(&self, kid: &str) -> Result<Arc<SigningKey>, BotTokenError> {
        let now = self.clock.now();
        let current = self.current();
        if now.seconds_since(current.fetched_at) < KEYS_MAX_AGE_SECS
            && let Some(key) = current.keys.get(kid)
        {
            return Ok(key.clone());
        }
        let mut refetching = self.refetching.lock().await;
        // Another request may have fetched while this one waited.
        let current = self.current();
        let stale = now.seconds_since(current.fetched_at) >= KEYS_MAX_AGE_SECS;
        if !stale && let Some(key) = current.keys.get(kid) {
            return Ok(key.clone());
        }
        let may_fetch_for_unknown = refetching
            .last_for_unknown_key
            .is_none_or(|last| now.seconds_since(last) >= UNKNOWN_KEY_REFETCH_SECS);
        let pausing = refetching
            .failed_at
            .is_some_and(|failed| now.seconds_since(failed) < FAILED_FETCH_PAUSE_SECS);
        if pausing && current.keys.is_empty() {
            return Err(BotTokenError::KeysUnavailable(
                "the last fetch failed; trying again within a minute".into(),
            ));
        }
        if (stale || may_fetch_for_unknown) && !pausing {
            if !stale {
                refetching.last_for_unknown_key = Some(now);
            }
            match self.fetch(now).await {
                Ok(fetched) => {
                    refetching.failed_at = None;
                    *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fetched);
                }
                // Keys we already have stay good while Microsoft is unreachable.
                Err(err) if !current.keys.is_empty() => {
                    refetching.failed_at = Some(now);
                    tracing::warn!(error = %err, "could not refresh the Bot Framework keys; using the ones fetched before");
                }
                Err(err) => {
                    refetching.failed_at = Some(now);
                    return Err(err);
                }
            }
        }
        self.current()
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| BotTokenError::UnknownKey(kid.to_owned()))
    }

    fn current(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, BotTokenError> {
        let unavailable = |e: reqwest::Error| BotTokenError::KeysUnavailable(e.to_string());
        self.http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)
    }

    /// Fetches the OpenID metadata, then its key set.
    async fn fetch(&self, now: Timestamp) -> Result<KeySet, BotTokenError> {
        let metadata: OpenIdMetadata = self.get_json(&self.openid_url).await?;
        let set: JsonWebKeySet = self.get_json(&metadata.jwks_uri).await?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            if jwk.kty.as_deref().is_some_and(|kty| kty != "RSA") {
                continue;
            }
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(key) => {
                    let endorsements = jwk.endorsements.map(Arc::from);
                    keys.insert(kid, Arc::new(SigningKey { key, endorsements }));
                }
                Err(err) => {
                    tracing::warn!(%kid, error = %err, "skipped a Bot Framework key that is not a valid RSA key")
                }
            }
        }
        tracing::info!(keys = keys.len(), "fetched the Bot Framework signing keys");
        Ok(KeySet {
            keys,
            fetched_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::BotTokenError;

    #[test]
    fn what_a_token_says_cannot_forge_a_log_line() {
        let kid = "k1\n2026-11-29T10:00:00Z  INFO learnloop: admin logged in";
        for shown in [
            BotTokenError::UnknownKey(kid.into()).to_string(),
            format!("{:?}", BotTokenError::UnknownKey(kid.into())),
            BotTokenError::UnsupportedAlgorithm("HS256\r\nx".into()).to_string(),
            BotTokenError::Unendorsed("webchat\nx".into()).to_string(),
        ] {
            assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");
        }
        assert!(
            BotTokenError::UnknownKey(kid.into())
                .to_string()
                .contains(r#""k1\n2026"#),
            "shown escaped"
        );
    }
}
