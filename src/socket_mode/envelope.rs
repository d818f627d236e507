//! One Socket Mode frame: what it is, how it enters the same handlers as Slack's HTTP
//! requests, and the acknowledgement that goes back.
//! <https://api.slack.com/apis/socket-mode>

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A frame from Slack, as far as learnloop reads it.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// The connection is ready.
    Hello,
    /// Slack will close this connection: `warning` and `refresh_requested` want a new
    /// one first, `link_disabled` means Socket Mode was turned off.
    Disconnect(String),
    Envelope(Envelope),
    /// Anything else (a frame type added later): ignored.
    Other,
}

/// A request from Slack that must be acknowledged.
#[derive(Debug, PartialEq, Deserialize)]
pub struct Envelope {
    pub envelope_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub accepts_response_payload: bool,
    #[serde(default)]
    pub payload: Value,
    #[serde(default)]
    pub retry_attempt: u32,
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: Option<String>,
    reason: Option<String>,
    envelope_id: Option<String>,
}

/// Reads a text frame; `Err` when it is not JSON at all.
pub fn read(text: &str) -> Result<Frame, serde_json::Error> {
    let head: Head = serde_json::from_str(text)?;
    if head.envelope_id.is_some() {
        return serde_json::from_str(text).map(Frame::Envelope);
    }
    Ok(match head.kind.as_deref() {
        Some("hello") => Frame::Hello,
        Some("disconnect") => Frame::Disconnect(head.reason.unwrap_or_default()),
        _ => Frame::Other,
    })
}

/// The acknowledgement of `envelope_id`, carrying the reply where Slack takes one.
pub fn ack(envelope_id: &str, payload: Option<Value>) -> String {
    match payload {
        Some(payload) => json!({"envelope_id": envelope_id, "payload": payload}),
        None => json!({"envelope_id": envelope_id}),
    }
    .to_string()
}

/// The HTTP request the same envelope would have been, for the same handler.
fn as_request(envelope: &Envelope) -> Option<Request<Body>> {
    let (path, content_type, body) = match envelope.kind.as_str() {
        "events_api" => (
            "/slack/events",
            "application/json",
            envelope.payload.to_string(),
        ),
        "slash_commands" => (
            "/slack/commands",
            "application/x-www-form-urlencoded",
            command_form(&envelope.payload)?,
        ),
        "interactive" => (
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string([("payload", envelope.payload.to_string())]).ok()?,
        ),
        _ => return None,
    };
    Request::post(path)
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .ok()
}

/// A slash command's fields arrive as a JSON object; the handler reads the form Slack
/// posts over HTTP.
fn command_form(payload: &Value) -> Option<String> {
    let fields: Vec<(&str, String)> = payload
        .as_object()?
        .iter()
        .filter_map(|(name, value)| {
            let value = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                _ => return None,
            };
            Some((name.as_str(), value))
        })
        .collect();
    serde_urlencoded::to_string(fields).ok()
}

/// What became of an envelope.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Acknowledge with this frame.
    Ack(String),
    /// Leave it unacknowledged so Slack delivers it again (the handler asked for a
    /// retry, failed, or ran out of time).
    Retry,
}

/// What became of an envelope seen lately: running (its outcome announced on the
/// channel when it is known) or answered with this ack.
type Seen = tokio::sync::watch::Receiver<Option<String>>;

/// Envelope ids seen lately, with their acks: a redelivered command or click (its
/// socket died before the ack went out, say) is answered with the same ack, the reply
/// included, never run twice. Events have their own, durable, dedupe on `event_id`.
pub struct RecentEnvelopes {
    /// By id, and the ids in the order first seen with when.
    seen: Mutex<(HashMap<String, Seen>, VecDeque<FirstSeen>)>,
    capacity: usize,
}

/// An envelope id and when it was first seen.
type FirstSeen = (String, Instant);

/// Slack redelivers within minutes: older acks are not kept.
const KEPT_FOR: Duration = Duration::from_secs(600);

/// The first delivery of an envelope, or a later one.
enum Delivery {
    /// Run it, then [`RecentEnvelopes::finish`] it with this sender.
    First(tokio::sync::watch::Sender<Option<String>>),
    Again(Seen),
}

impl RecentEnvelopes {
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: Mutex::new((HashMap::new(), VecDeque::new())),
            capacity,
        }
    }

    fn offer(&self, id: &str) -> Delivery {
        let mut guard = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (seen, order) = &mut *guard;
        if let Some(known) = seen.get(id) {
            return Delivery::Again(known.clone());
        }
        while let Some((oldest, at)) = order.front() {
            if order.len() < self.capacity && at.elapsed() < KEPT_FOR {
                break;
            }
            seen.remove(oldest);
            order.pop_front();
        }
        let (sender, receiver) = tokio::sync::watch::channel(None);
        seen.insert(id.to_owned(), receiver);
        order.push_back((id.to_owned(), Instant::now()));
        Delivery::First(sender)
    }

    /// Lets a failed envelope run again when Slack redelivers it.
    fn forget(&self, id: &str) {
        let mut guard = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (seen, order) = &mut *guard;
        if seen.remove(id).is_some() {
            order.retain(|(known, _)| known != id);
        }
    }

    /// The ack of an envelope that ran before (waiting while it still runs); `None`
    /// when that run failed and Slack should deliver it again.
    async fn ack_of(mut seen: Seen) -> Option<String> {
        loop {
            if let Some(ack) = seen.borrow().clone() {
                return Some(ack);
            }
            // The sender is dropped without an ack when the run failed.
            seen.changed().await.ok()?;
        }
    }
}

/// Tries of an event acknowledged on receipt. The backoff (2, 4, 8, 16 s, jittered)
/// outlasts the claim a handler that ran out of time holds on its event, so the last
/// tries find it free.
const EVENT_ATTEMPTS: i64 = 5;

/// Runs envelopes through Slack's HTTP handlers (without the signature check: the
/// socket itself was opened with the app token).
pub struct Dispatcher {
    routes: Router,
    timeout: Duration,
    recent: RecentEnvelopes,
}

impl Dispatcher {
    pub fn new(routes: Router, timeout: Duration) -> Self {
        Self {
            routes,
            timeout,
            recent: RecentEnvelopes::new(10_000),
        }
    }

    /// Whether the envelope is acknowledged on receipt, before it runs: events take no
    /// reply, and Slack's socket waits for nothing but the ack. Their handling then
    /// retries here instead of through Slack's redelivery (dedupe on `event_id` keeps
    /// it once), so a busy database never makes an ack late.
    pub fn acked_on_receipt(envelope: &Envelope) -> bool {
        envelope.kind == "events_api"
    }

    /// Runs an envelope acknowledged on receipt, retrying a few times with backoff when
    /// its handler asks for a retry (a delivery of the same event still running, a
    /// database that timed out).
    pub async fn run_acked(&self, envelope: &Envelope) {
        for attempt in 1..=EVENT_ATTEMPTS {
            if self.dispatch(envelope).await != Outcome::Retry {
                return;
            }
            if attempt < EVENT_ATTEMPTS {
                tokio::time::sleep(crate::delivery::backoff::backoff(
                    attempt,
                    Duration::from_secs(2),
                    Duration::from_secs(16),
                ))
                .await;
            }
        }
        tracing::error!(
            envelope_id = %envelope.envelope_id,
            "a Socket Mode event failed {EVENT_ATTEMPTS} times and was given up"
        );
    }

    pub async fn dispatch(&self, envelope: &Envelope) -> Outcome {
        let id = envelope.envelope_id.as_str();
        let Some(request) = as_request(envelope) else {
            tracing::info!(kind = %envelope.kind, "acknowledged a Socket Mode envelope of a type learnloop does not handle");
            return Outcome::Ack(ack(id, None));
        };
        if envelope.kind == "events_api" {
            return self.answer(request, envelope).await;
        }
        let finished = match self.recent.offer(id) {
            Delivery::First(finished) => finished,
            Delivery::Again(seen) => {
                tracing::info!(
                    retry_attempt = envelope.retry_attempt,
                    "answered a redelivered envelope with its first run's ack"
                );
                return match RecentEnvelopes::ack_of(seen).await {
                    Some(ack) => Outcome::Ack(ack),
                    None => Outcome::Retry,
                };
            }
        };
        let outcome = self.answer(request, envelope).await;
        match &outcome {
            Outcome::Ack(ack) => {
                let _ = finished.send(Some(ack.clone()));
            }
            Outcome::Retry => self.recent.forget(id),
        }
        outcome
    }

    async fn answer(&self, request: Request<Body>, envelope: &Envelope) -> Outcome {
        let id = envelope.envelope_id.as_str();
        let response = match tokio::time::timeout(
            self.timeout,
            self.routes.clone().oneshot(request),
        )
        .await
        {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_) => {
                tracing::warn!(kind = %envelope.kind, "a Socket Mode envelope ran out of time; Slack will deliver it again");
                return Outcome::Retry;
            }
        };
        let status = response.status();
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Outcome::Retry;
        }
        if !status.is_success() {
            // A malformed envelope stays malformed: acknowledge it so it is not resent.
            tracing::info!(kind = %envelope.kind, %status, "acknowledged a Socket Mode envelope its handler refused");
            return Outcome::Ack(ack(id, None));
        }
        let body = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return Outcome::Retry,
        };
        let payload = envelope
            .accepts_response_payload
            .then(|| serde_json::from_slice::<Value>(&body).ok())
            .flatten();
        Outcome::Ack(ack(id, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_told_apart() {
        assert_eq!(
            read(r#"{"type":"hello","num_connections":1,"connection_info":{"app_id":"A1"}}"#)
                .unwrap(),
            Frame::Hello
        );
        assert_eq!(
            read(r#"{"type":"disconnect","reason":"refresh_requested"}"#).unwrap(),
            Frame::Disconnect("refresh_requested".into())
        );
        let Frame::Envelope(envelope) = read(
            r#"{"envelope_id":"e1","type":"slash_commands","accepts_response_payload":true,"payload":{"command":"/learn","text":"help"}}"#,
        )
        .unwrap() else {
            panic!("an envelope")
        };
        assert_eq!(envelope.kind, "slash_commands");
        assert!(envelope.accepts_response_payload);
        assert_eq!(read(r#"{"type":"new_kind"}"#).unwrap(), Frame::Other);
        assert!(read("not json").is_err());
    }

    #[test]
    fn a_command_becomes_the_form_slack_posts_over_http() {
        let form = command_form(&json!({
            "command": "/learn", "text": "goal add \"ship it\" & more",
            "team_id": "T1", "is_enterprise_install": false, "nested": {"skip": true}
        }))
        .unwrap();
        let fields: std::collections::HashMap<String, String> =
            serde_urlencoded::from_str(&form).unwrap();
        assert_eq!(fields["text"], "goal add \"ship it\" & more");
        assert_eq!(fields["is_enterprise_install"], "false");
        assert!(!fields.contains_key("nested"));
    }

    #[test]
    fn acks_carry_the_reply_only_when_there_is_one() {
        assert_eq!(ack("e1", None), r#"{"envelope_id":"e1"}"#);
        let with: Value = serde_json::from_str(&ack("e2", Some(json!({"text": "hi"})))).unwrap();
        assert_eq!(with["payload"]["text"], "hi");
    }

    #[tokio::test]
    async fn a_redelivery_gets_the_first_run_s_ack_and_a_failed_run_runs_again() {
        let recent = RecentEnvelopes::new(2);
        let Delivery::First(first) = recent.offer("a") else {
            panic!("new")
        };
        let Delivery::Again(waiting) = recent.offer("a") else {
            panic!("seen")
        };
        let waiter = tokio::spawn(RecentEnvelopes::ack_of(waiting));
        first.send(Some("ack-a".into())).unwrap();
        assert_eq!(waiter.await.unwrap().as_deref(), Some("ack-a"));
        let Delivery::Again(done) = recent.offer("a") else {
            panic!("seen")
        };
        assert_eq!(
            RecentEnvelopes::ack_of(done).await.as_deref(),
            Some("ack-a")
        );

        // A run that failed: whoever waits is told to let Slack retry, and the next
        // delivery runs it again.
        let Delivery::First(failing) = recent.offer("b") else {
            panic!("new")
        };
        let Delivery::Again(waiting) = recent.offer("b") else {
            panic!("seen")
        };
        recent.forget("b");
        drop(failing);
        assert_eq!(RecentEnvelopes::ack_of(waiting).await, None);
        assert!(matches!(recent.offer("b"), Delivery::First(_)));
        // Bounded: a third id evicts the oldest.
        assert!(matches!(recent.offer("c"), Delivery::First(_)));
        assert!(matches!(recent.offer("a"), Delivery::First(_)), "evicted");
    }
}
