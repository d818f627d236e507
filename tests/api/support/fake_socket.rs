//! A fake Slack Socket Mode server: `apps.connections.open` on the fake Web API hands
//! out its address, and the test plays Slack on every connection the app opens.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const APP_TOKEN: &str = "xapp-1-A0APP-test";

/// Accepts the app's WebSocket connections.
pub struct FakeSocketSlack {
    connections: mpsc::UnboundedReceiver<WebSocketStream<TcpStream>>,
}

impl FakeSocketSlack {
    /// Listens on a free port and answers `apps.connections.open` (with the app token
    /// only) on `slack` with it.
    pub async fn start(slack: &MockServer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/link", listener.local_addr().unwrap());
        Mock::given(method("POST"))
            .and(path("/api/apps.connections.open"))
            .and(header(
                "authorization",
                format!("Bearer {APP_TOKEN}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "url": url})))
            .with_priority(1)
            .mount(slack)
            .await;
        let (accepted, connections) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if let Ok(socket) = tokio_tungstenite::accept_async(stream).await
                    && accepted.send(socket).is_err()
                {
                    break;
                }
            }
        });
        Self { connections }
    }

    /// The next connection the app opens, greeted with `hello`.
    pub async fn next_connection(&mut self) -> SlackSide {
        let socket = tokio::time::timeout(Duration::from_secs(10), self.connections.recv())
            .await
            .expect("the app opens a Socket Mode connection")
            .expect("the fake server runs");
        let mut side = SlackSide { socket };
        side.send(json!({"type": "hello", "num_connections": 1,
                         "connection_info": {"app_id": "A0APP"}}))
            .await;
        side
    }

    /// Whether the app opened another connection within `wait`.
    pub async fn connection_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.connections.recv())
            .await
            .is_ok_and(|socket| socket.is_some())
    }
}

/// Slack's end of one connection.
pub struct SlackSide {
    socket: WebSocketStream<TcpStream>,
}

impl SlackSide {
    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("the app's socket is open");
    }

    /// Sends an envelope of `kind` with `payload`.
    pub async fn envelope(&mut self, id: &str, kind: &str, payload: Value) {
        self.send(json!({
            "envelope_id": id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0, "retry_reason": "",
        }))
        .await;
    }

    /// The next JSON frame the app sends (pings are answered and skipped); `None` when
    /// the app closed the connection.
    pub async fn next_frame(&mut self) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("the app answers within 10 s");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(text.as_str()).expect("acks are JSON"));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The ack of `envelope_id` (failing on any other frame).
    pub async fn ack_of(&mut self, envelope_id: &str) -> Value {
        let frame = self.next_frame().await.expect("an ack, not a close");
        assert_eq!(frame["envelope_id"], envelope_id, "{frame}");
        frame
    }
}
