//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use crate::socket_mode::SocketState;

/// `GET /healthz`: the process answers. Touches nothing else, so a slow database
/// never gets a healthy process restarted.
pub async fn healthz() -> &'static str {
    "ok"
}

/// How long Socket Mode may be down before the process says it is not ready: a
/// routine reconnect takes a second, so a blip never flaps readiness.
const SOCKET_DOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// `GET /readyz`: the database answers and carries every migration of this build, and
/// Socket Mode (when configured) is connected or only briefly reconnecting. The body
/// names the socket's state either way.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if !state.store.is_ready().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database not reachable or not migrated".to_owned(),
        );
    }
    let Some(socket) = &state.socket else {
        return (StatusCode::OK, "ready".to_owned());
    };
    let (socket_state, lasting) = socket.get();
    let status = match socket_state {
        SocketState::Connected | SocketState::Disabled => StatusCode::OK,
        _ if lasting < SOCKET_DOWN_GRACE => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let shown = match socket_state {
        SocketState::Connected => "connected",
        SocketState::Connecting => "connecting",
        SocketState::Reconnecting => "reconnecting",
        SocketState::Disabled => "disabled by Slack (link_disabled)",
        SocketState::Stopped => "stopped",
    };
    let verdict = if status == StatusCode::OK {
        "ready"
    } else {
        "not ready"
    };
    (status, format!("{verdict}; slack socket mode: {shown}"))
}
