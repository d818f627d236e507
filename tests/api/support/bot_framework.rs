//! A stand-in for the Bot Framework's token service: an RSA key (a test-only key in
//! tests/fixtures), its OpenID metadata and key set served by a local fake, and tokens
//! signed with it. Shared with the Teams ingress benchmark.

#![allow(dead_code)] // the benchmark uses part of it

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The app id tokens are issued for (`LEARNLOOP_TEAMS_APP_ID`).
pub const APP_ID: &str = "6f1c2d3e-0000-4000-8000-00000000b07a";
/// The id of the test key in the key set.
pub const KID: &str = "test-key-1";
pub const ISSUER: &str = "https://api.botframework.com";
/// The service URL activities come from (a fake connector's, in end-to-end tests).
pub const SERVICE_URL: &str = "https://smba.trafficmanager.net/emea/";

/// The key set the fake serves; tests change it to rotate keys.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Arc<Mutex<Vec<Value>>>,
    fetched: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl KeySet {
    pub fn replace(&self, keys: Vec<Value>) {
        *self.keys.lock().unwrap() = keys;
    }

    /// Makes every fetch fail with 503 (`true`) or succeed again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// How many times the app fetched the key set (failed fetches included).
    pub fn fetched(&self) -> usize {
        self.fetched.load(Ordering::SeqCst)
    }
}

impl Respond for KeySet {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.fetched.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return ResponseTemplate::new(503);
        }
        ResponseTemplate::new(200).set_body_json(json!({"keys": *self.keys.lock().unwrap()}))
    }
}

/// Signs tokens as the Bot Framework does, with the test key.
pub struct BotFramework {
    key: RsaKeyPair,
    rng: SystemRandom,
    /// The fake OpenID metadata and key set.
    pub server: MockServer,
    pub key_set: KeySet,
}

impl BotFramework {
    /// Serves the metadata and a key set holding the test key, endorsed for `msteams`.
    pub async fn start() -> Self {
        let der = include_bytes!("../../fixtures/teams_test_key.pk8");
        let key = RsaKeyPair::from_pkcs8(der).expect("the test key is PKCS#8 RSA");
        let server = MockServer::start().await;
        let bot = Self {
            key,
            rng: SystemRandom::new(),
            server,
            key_set: KeySet::default(),
        };
        bot.key_set.replace(vec![bot.jwk(KID, Some(&["msteams"]))]);
        Mock::given(method("GET"))
            .and(path("/openid"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": ISSUER,
                "jwks_uri": format!("{}/keys", bot.server.uri()),
                "id_token_signing_alg_values_supported": ["RS256"],
            })))
            .mount(&bot.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/keys"))
            .respond_with(bot.key_set.clone())
            .mount(&bot.server)
            .await;
        bot
    }

    /// `LEARNLOOP_TEAMS_OPENID_URL` for the app.
    pub fn openid_url(&self) -> String {
        format!("{}/openid", self.server.uri())
    }

    /// The test key's public half as a JWK with this id and endorsements.
    pub fn jwk(&self, kid: &str, endorsements: Option<&[&str]>) -> Value {
        let public: RsaPublicKeyComponents<Vec<u8>> = self.key.public().into();
        let mut jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        });
        if let Some(endorsements) = endorsements {
            jwk["endorsements"] = json!(endorsements);
        }
        jwk
    }

    /// Good claims for an activity from `service_url` at `now` (Unix seconds).
    pub fn claims(service_url: &str, now: i64) -> Value {
        json!({
            "iss": ISSUER,
            "aud": APP_ID,
            "exp": now + 3_600,
            "nbf": now - 60,
            "serviceurl": service_url,
        })
    }

    /// An RS256 token over `claims`, naming key `kid`.
    pub fn token(&self, kid: &str, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("signing works");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}
