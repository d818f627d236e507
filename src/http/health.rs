//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;

/// `GET /healthz`: the process answers. Touches nothing else, so a slow database
/// never gets a healthy process restarted.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers and carries every migration of this build.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "database not reachable or not migrated",
        )
    }
}
