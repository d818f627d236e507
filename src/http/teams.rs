//! `POST /teams/messages` and `POST /teams/webhook`: Microsoft Teams is not built yet.
//! The routes exist so Teams (and an admin testing the URL) get a clear 503 and the log
//! says why, rather than a 404 that looks like a wrong URL.

use axum::Router;
use axum::routing::post;

use super::AppState;
use super::error::HttpError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/teams/messages", post(not_configured))
        .route("/teams/webhook", post(not_configured))
}

async fn not_configured() -> HttpError {
    tracing::warn!(
        "refused a Teams request: this build does not support Microsoft Teams yet, so its token cannot be checked"
    );
    HttpError::NotConfigured("Microsoft Teams")
}
