//! Bot Framework connector client: a client-credentials token from the tenant's token
//! endpoint (cached, renewed five minutes before it expires), then JSON calls relative
//! to a conversation's service URL. Every way a call can fail is a typed error, so the
//! outbox decides between retry and give up.
//! <https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference>

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde::Deserialize;
use serde_json::Value;

use super::ChannelAccount;
use crate::clock::SharedClock;
use crate::config::Secret;
use crate::domain::Timestamp;

/// The scope a bot's token is asked for.
const SCOPE: &str = "https://api.botframework.com/.default";
/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);
/// Statuses Teams uses for "later": throttling, a precondition race, gateway trouble.
const RETRYABLE_STATUSES: &[u16] = &[429, 412, 502, 503, 504];

/// Why a connector call failed.
#[derive(Debug, thiserror::Error)]
pub enum TeamsApiError {
    #[error("the Bot Framework token endpoint answered HTTP {status}")]
    Token { status: u16 },
    #[error("Teams answered HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("cannot reach Teams: {0}")]
    Network(String),
    #[error("Teams' answer is not the JSON expected: {0}")]
    Decode(String),
}

impl TeamsApiError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Token { status } => *status >= 500 || *status == 429,
            Self::Status { status, .. } => RETRYABLE_STATUSES.contains(status) || *status >= 500,
            Self::Network(_) => true,
            Self::Decode(_) => false,
        }
    }

    /// The wait Teams asked for, if it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Where the bot's token comes from.
#[derive(Clone)]
pub struct TeamsCredentials {
    pub app_id: String,
    pub app_password: Secret,
    pub token_url: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
}

/// The connector client of one bot.
pub struct TeamsClient {
    http: reqwest::Client,
    credentials: TeamsCredentials,
    clock: SharedClock,
    /// The current token and when it expires (Unix ms); renewing holds the lock so
    /// concurrent sends wait for one request.
    token: tokio::sync::Mutex<Option<(Secret, Timestamp)>>,
}

impl std::fmt::Debug for TeamsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsClient")
            .field("app_id", &self.credentials.app_id)
            .field("token_url", &self.credentials.token_url)
            .finish_non_exhaustive()
    }
}

fn network(err: reqwest::Error) -> TeamsApiError {
    TeamsApiError::Network(err.without_url().to_string())
}

impl TeamsClient {
    pub fn new(
        credentials: TeamsCredentials,
        clock: SharedClock,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self {
            http,
            credentials,
            clock,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The bot's token, asking the token endpoint only when the cached one is within
    /// five minutes of expiring.
    async fn token(&self) -> Result<Secret, TeamsApiError> {
        let mut cached = self.token.lock().await;
        let now = self.clock.now();
        if let Some((token, expires_at)) = cached.as_ref()
            && now < *expires_at - RENEW_BEFORE
        {
            return Ok(token.clone());
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.credentials.app_id.as_str()),
            ("client_secret", self.credentials.app_password.expose()),
            ("scope", SCOPE),
        ];
        let response = self
            .http
            .post(&self.credentials.token_url)
            .form(&form)
            .send()
            .await
            .map_err(network)?;
        if !response.status().is_success() {
            return Err(TeamsApiError::Token {
                status: response.status().as_u16(),
            });
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|e| TeamsApiError::Decode(e.to_string()))?;
        let token = Secret::new(answer.access_token);
        *cached = Some((token.clone(), now.plus_seconds(answer.expires_in)));
        Ok(token)
    }

    /// Posts an activity to a conversation, as a reply to `reply_to` when given; the
    /// connector's answer (with the new activity's `id`).
    pub async fn send(
        &self,
        service_url: &str,
        conversation_id: &str,
        reply_to: Option<&str>,
        activity: &Value,
    ) -> Result<Value, TeamsApiError> {
        let mut path = format!("v3/conversations/{}/activities", encode(conversation_id));
        if let Some(activity_id) = reply_to {
            path.push('/');
            path.push_str(&encode(activity_id));
        }
        self.call(reqwest::Method::POST, service_url, &path, Some(activity))
            .await
    }

    /// Opens (or finds) the bot's 1:1 chat with a person; its conversation id.
    pub async fn create_personal_chat(
        &self,
        service_url: &str,
        bot_id: &str,
        person: &str,
        tenant_id: &str,
    ) -> Result<String, TeamsApiError> {
        let body = serde_json::json!({
            "bot": {"id": bot_id},
            "members": [{"id": person}],
            "isGroup": false,
            "tenantId": tenant_id,
            "channelData": {"tenant": {"id": tenant_id}},
        });
        let answer = self
            .call(
                reqwest::Method::POST,
                service_url,
                "v3/conversations",
                Some(&body),
            )
            .await?;
        answer["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| TeamsApiError::Decode("no conversation id in the answer".into()))
    }

    /// The members of a team (its roster), to know whom the bot can write to later.
    pub async fn team_members(
        &self,
        service_url: &str,
        team_id: &str,
    ) -> Result<Vec<ChannelAccount>, TeamsApiError> {
        self.conversation_members(service_url, team_id).await
    }

    /// One member of a team as Teams describes them now (`userRole`: `user` or
    /// `guest`), or `None` when they are not in it.
    pub async fn team_member(
        &self,
        service_url: &str,
        team_id: &str,
        member_id: &str,
    ) -> Result<Option<Value>, TeamsApiError> {
        let path = format!(
            "v3/conversations/{}/members/{}",
            encode(team_id),
            encode(member_id)
        );
        match self
            .call(reqwest::Method::GET, service_url, &path, None)
            .await
        {
            Ok(member) => Ok(Some(member)),
            Err(TeamsApiError::Status { status: 404, .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The members of a conversation: a team, a channel (a private channel's own), a
    /// group chat.
    pub async fn conversation_members(
        &self,
        service_url: &str,
        conversation_id: &str,
    ) -> Result<Vec<ChannelAccount>, TeamsApiError> {
        let path = format!("v3/conversations/{}/members", encode(conversation_id));
        let answer = self
            .call(reqwest::Method::GET, service_url, &path, None)
            .await?;
        serde_json::from_value(answer).map_err(|e| TeamsApiError::Decode(e.to_string()))
    }

    /// Replaces an activity the bot sent earlier.
    pub async fn update(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Value,
    ) -> Result<Value, TeamsApiError> {
        let path = format!(
            "v3/conversations/{}/activities/{}",
            encode(conversation_id),
            encode(activity_id)
        );
        self.call(reqwest::Method::PUT, service_url, &path, Some(activity))
            .await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        service_url: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, TeamsApiError> {
        let token = self.token().await?;
        let url = format!("{}/{path}", service_url.trim_end_matches('/'));
        let mut request = self.http.request(method, url).bearer_auth(token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(network)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .or((status == StatusCode::TOO_MANY_REQUESTS).then_some(Duration::from_secs(1)));
            return Err(TeamsApiError::Status {
                status: status.as_u16(),
                retry_after,
            });
        }
        let text = response.text().await.map_err(network)?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| TeamsApiError::Decode(e.to_string()))
    }
}

/// Percent-encodes a path segment (conversation ids hold `:`, `@`, `;` and `=`).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() * 3);
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn the_token_is_reused_until_five_minutes_before_it_expires() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "token_type": "Bearer", "expires_in": 3600, "access_token": "t",
            })))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v3/conversations/c/activities"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "1"})))
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::at(1_000_000));
        let client = TeamsClient::new(
            TeamsCredentials {
                app_id: "app".into(),
                app_password: Secret::new("secret"),
                token_url: format!("{}/token", server.uri()),
            },
            clock.clone(),
            Duration::from_secs(5),
        )
        .unwrap();
        let empty = serde_json::json!({});
        let uri = server.uri();
        let send = || client.send(&uri, "c", None, &empty);
        let tokens = || async {
            server
                .received_requests()
                .await
                .unwrap()
                .iter()
                .filter(|r| r.url.path() == "/token")
                .count()
        };
        send().await.unwrap();
        clock.advance(3600 - 301);
        send().await.unwrap();
        assert_eq!(tokens().await, 1, "still more than five minutes left");
        clock.advance(2);
        send().await.unwrap();
        assert_eq!(tokens().await, 2, "renewed within five minutes of expiry");
    }

    #[test]
    fn conversation_ids_are_one_path_segment() {
        assert_eq!(
            encode("19:abc@thread.tacv2;messageid=17"),
            "19%3Aabc%40thread.tacv2%3Bmessageid%3D17"
        );
        assert_eq!(encode("a:b/c"), "a%3Ab%2Fc");
    }

    #[test]
    fn throttling_and_gateway_errors_are_retried_client_errors_are_not() {
        let status = |status| TeamsApiError::Status {
            status,
            retry_after: None,
        };
        for retried in [429, 412, 500, 502, 503, 504] {
            assert!(status(retried).is_retryable(), "{retried}");
        }
        for final_ in [400, 401, 403, 404] {
            assert!(!status(final_).is_retryable(), "{final_}");
        }
        assert!(TeamsApiError::Token { status: 503 }.is_retryable());
        assert!(!TeamsApiError::Token { status: 401 }.is_retryable());
    }
}
