//! Slack Web API client: JSON POST to `{base}/{method}` with a bearer token, and every
//! way a call can fail as a typed error, so callers decide between retry and give up.
//! <https://api.slack.com/web>

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use serde_json::Value;

use crate::config::Secret;

/// Slack's `error` codes that mean "try again later" rather than "this will never work".
const TRANSIENT_API_ERRORS: &[&str] = &[
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Wait used when a 429 carries no usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why a Slack call failed.
#[derive(Debug, thiserror::Error)]
pub enum SlackApiError {
    /// HTTP 200 with `{"ok": false, "error": …}`.
    #[error("Slack {method} answered ok:false with `{error}`")]
    Api { method: String, error: String },
    /// HTTP 429; Slack says when to come back.
    #[error("Slack rate-limited the call; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Any other non-2xx status.
    #[error("Slack answered HTTP {status}")]
    Status { status: u16 },
    #[error("the call to Slack timed out")]
    Timeout,
    #[error("cannot reach Slack: {0}")]
    Network(String),
    #[error("Slack's answer is not the JSON expected: {0}")]
    Decode(String),
}

impl SlackApiError {
    /// Whether the same call may succeed later (rate limits, 5xx, timeouts, network).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { error, .. } => TRANSIENT_API_ERRORS.contains(&error.as_str()),
            Self::RateLimited { .. } | Self::Timeout | Self::Network(_) => true,
            Self::Status { status } => *status >= 500,
            Self::Decode(_) => false,
        }
    }

    /// Whether Slack refused the token itself (revoked, rotated, never valid).
    pub fn is_auth_error(&self) -> bool {
        matches!(self, Self::Api { error, .. } if matches!(
            error.as_str(),
            "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive"
        ))
    }

    /// The wait Slack asked for, if it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

/// A Web API client; cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct SlackClient {
    http: reqwest::Client,
    base_url: Arc<str>,
}

impl SlackClient {
    /// `base_url` without a trailing slash, e.g. `https://slack.com/api`.
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("learnloop/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').into(),
        })
    }

    /// Calls `method` with a JSON body; returns the response JSON when `ok` is true.
    pub async fn call(
        &self,
        method: &str,
        token: &Secret,
        body: &Value,
    ) -> Result<Value, SlackApiError> {
        let request = self
            .http
            .post(format!("{}/{method}", self.base_url))
            .json(body);
        self.send(method, Some(token), request).await
    }

    /// Calls a read method that Slack only accepts form-encoded (e.g. `users.info`).
    pub async fn call_form(
        &self,
        method: &str,
        token: &Secret,
        form: &[(&str, &str)],
    ) -> Result<Value, SlackApiError> {
        let request = self
            .http
            .post(format!("{}/{method}", self.base_url))
            .form(form);
        self.send(method, Some(token), request).await
    }

    /// Calls an OAuth method that authenticates with the app's client id and secret in
    /// the form instead of a token (`oauth.v2.access`).
    pub async fn call_form_as_app(
        &self,
        method: &str,
        form: &[(&str, &str)],
    ) -> Result<Value, SlackApiError> {
        let request = self
            .http
            .post(format!("{}/{method}", self.base_url))
            .form(form);
        self.send(method, None, request).await
    }

    /// Exchanges an OAuth `code` at `method` (`oauth.v2.access` for an install,
    /// `openid.connect.token` for a sign-in), as the app `client_id` with its secret.
    pub async fn exchange_code(
        &self,
        method: &str,
        (client_id, client_secret): (&str, &Secret),
        code: &str,
        redirect_uri: &str,
    ) -> Result<Value, SlackApiError> {
        self.call_form_as_app(
            method,
            &[
                ("client_id", client_id),
                ("client_secret", client_secret.expose()),
                ("code", code),
                ("redirect_uri", redirect_uri),
            ],
        )
        .await
    }

    /// Slack's OpenID Connect signing keys (a JSON Web Key Set), from `url` (under the
    /// OAuth host, not the Web API).
    pub async fn openid_keys(&self, url: &str) -> Result<Value, SlackApiError> {
        let response = self.http.get(url).send().await.map_err(transport_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(SlackApiError::Status {
                status: status.as_u16(),
            });
        }
        response
            .json()
            .await
            .map_err(|e| SlackApiError::Decode(e.to_string()))
    }

    /// The IANA time zone of a user (`users.info` → `user.tz`), if Slack knows it.
    pub async fn user_time_zone(
        &self,
        token: &Secret,
        user: &str,
    ) -> Result<Option<String>, SlackApiError> {
        let answer = self
            .call_form("users.info", token, &[("user", user)])
            .await?;
        Ok(answer["user"]["tz"].as_str().map(str::to_owned))
    }

    async fn send(
        &self,
        method: &str,
        token: Option<&Secret>,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, SlackApiError> {
        let request = match token {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {}", token.expose())),
            None => request,
        };
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs);
            return Err(SlackApiError::RateLimited { retry_after });
        }
        if !status.is_success() {
            return Err(SlackApiError::Status {
                status: status.as_u16(),
            });
        }
        let json: Value = response.json().await.map_err(|e| {
            if e.is_timeout() {
                SlackApiError::Timeout
            } else {
                SlackApiError::Decode(e.to_string())
            }
        })?;
        match json.get("ok").and_then(Value::as_bool) {
            Some(true) => Ok(json),
            Some(false) => Err(SlackApiError::Api {
                method: method.to_owned(),
                error: json
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown_error")
                    .to_owned(),
            }),
            None => Err(SlackApiError::Decode(format!(
                "{method} answer has no `ok` field"
            ))),
        }
    }

    /// `chat.postMessage`; returns the new message's `ts`.
    pub async fn post_message(
        &self,
        token: &Secret,
        body: &Value,
    ) -> Result<String, SlackApiError> {
        let answer = self.call("chat.postMessage", token, body).await?;
        answer
            .get("ts")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| SlackApiError::Decode("chat.postMessage answer has no `ts`".into()))
    }
}

fn transport_error(err: reqwest::Error) -> SlackApiError {
    if err.is_timeout() {
        SlackApiError::Timeout
    } else {
        // Without the URL: it is ours, and error chains end up in logs.
        SlackApiError::Network(err.without_url().to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    async fn client(server: &MockServer) -> SlackClient {
        SlackClient::new(
            &format!("{}/api/", server.uri()),
            Duration::from_millis(500),
        )
        .unwrap()
    }

    fn token() -> Secret {
        Secret::new("xoxb-test")
    }

    #[tokio::test]
    async fn sends_json_with_the_bearer_token_and_returns_ts() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat.postMessage"))
            .and(header("authorization", "Bearer xoxb-test"))
            .and(header("content-type", "application/json"))
            .and(body_json(json!({"channel": "C1", "text": "hi"})))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.5"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let ts = client(&server)
            .await
            .post_message(&token(), &json!({"channel": "C1", "text": "hi"}))
            .await
            .unwrap();
        assert_eq!(ts, "1.5");
    }

    #[tokio::test]
    async fn ok_false_is_a_permanent_api_error_unless_transient() {
        let server = MockServer::start().await;
        Mock::given(path("/api/chat.postMessage"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
            )
            .mount(&server)
            .await;
        let err = client(&server)
            .await
            .post_message(&token(), &json!({}))
            .await
            .unwrap_err();
        assert!(matches!(&err, SlackApiError::Api { error, .. } if error == "channel_not_found"));
        assert!(!err.is_retryable());
        let transient = SlackApiError::Api {
            method: "x".into(),
            error: "internal_error".into(),
        };
        assert!(transient.is_retryable());
    }

    #[tokio::test]
    async fn rate_limits_carry_retry_after() {
        let server = MockServer::start().await;
        Mock::given(path("/api/chat.postMessage"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
            .mount(&server)
            .await;
        let err = client(&server)
            .await
            .post_message(&token(), &json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn server_errors_and_timeouts_are_retryable_client_errors_are_not() {
        let server = MockServer::start().await;
        Mock::given(path("/api/a"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        Mock::given(path("/api/b"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
            .mount(&server)
            .await;
        Mock::given(path("/api/c"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        Mock::given(path("/api/d"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
            .mount(&server)
            .await;
        let slack = client(&server).await;
        let a = slack.call("a", &token(), &json!({})).await.unwrap_err();
        assert!(matches!(a, SlackApiError::Status { status: 503 }) && a.is_retryable());
        let b = slack.call("b", &token(), &json!({})).await.unwrap_err();
        assert!(matches!(b, SlackApiError::Timeout) && b.is_retryable());
        let c = slack.call("c", &token(), &json!({})).await.unwrap_err();
        assert!(matches!(c, SlackApiError::Status { status: 404 }) && !c.is_retryable());
        let d = slack.call("d", &token(), &json!({})).await.unwrap_err();
        assert!(matches!(d, SlackApiError::Decode(_)) && !d.is_retryable());
    }

    #[tokio::test]
    async fn users_info_is_form_encoded_and_yields_the_zone() {
        let server = MockServer::start().await;
        Mock::given(path("/api/users.info"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(wiremock::matchers::body_string("user=U1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"ok": true, "user": {"id": "U1", "tz": "Europe/Berlin", "tz_offset": 3600}}),
            ))
            .mount(&server)
            .await;
        Mock::given(path("/api/users.info"))
            .and(wiremock::matchers::body_string("user=U2"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": true, "user": {"id": "U2"}})),
            )
            .mount(&server)
            .await;
        let slack = client(&server).await;
        assert_eq!(
            slack
                .user_time_zone(&token(), "U1")
                .await
                .unwrap()
                .as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(slack.user_time_zone(&token(), "U2").await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_unreachable_host_is_a_network_error() {
        // Port 9 on loopback: nothing listens there.
        let slack = SlackClient::new("http://127.0.0.1:9/api", Duration::from_millis(500)).unwrap();
        let err = slack.call("x", &token(), &json!({})).await.unwrap_err();
        assert!(matches!(err, SlackApiError::Network(_)), "{err:?}");
        assert!(!err.to_string().contains("xoxb"), "no token in errors");
    }
}
