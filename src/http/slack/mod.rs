//! Slack's three request URLs, behind one verification layer.

pub mod commands;
pub mod events;
pub mod interactions;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;

use super::AppState;
use super::body::read_limited;
use super::error::HttpError;
use crate::platform::Message;
use crate::platform::slack::blocks::ephemeral_response;
use crate::store::Workspace;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/slack/commands", post(commands::handle))
        .route("/slack/events", post(events::handle))
        .route("/slack/interactions", post(interactions::handle))
        .route_layer(middleware::from_fn_with_state(state, verify_signature))
}

/// Reads the raw body (within the size limit), checks Slack's signature over exactly
/// those bytes, then hands the same bytes on. Verify before parse: nothing unsigned is
/// ever deserialized.
async fn verify_signature(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, HttpError> {
    let Some(verifier) = &state.slack_verifier else {
        tracing::warn!(
            "refused a Slack request: LEARNLOOP_SLACK_SIGNING_SECRET is not set, so its signature cannot be checked"
        );
        return Err(HttpError::NotConfigured(
            "Slack (LEARNLOOP_SLACK_SIGNING_SECRET)",
        ));
    };
    let (parts, body) = request.into_parts();
    let bytes = read_limited(&parts.headers, body, state.body_limit_bytes).await?;
    let header = |name: &str| parts.headers.get(name).map(|v| v.as_bytes());
    verifier
        .verify(
            header("x-slack-request-timestamp"),
            header("x-slack-signature"),
            &bytes,
            state.clock.now_unix(),
        )
        .map_err(|reason| {
            tracing::info!(?reason, "refused a Slack request with a bad signature");
            HttpError::Unauthorized
        })?;
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// A slash-command or interaction reply that only the caller sees.
fn ephemeral(message: &Message) -> axum::Json<serde_json::Value> {
    axum::Json(ephemeral_response(message))
}

/// Queues one Slack call in the outbox (on its own transaction) and wakes the worker.
async fn queue(
    state: &AppState,
    workspace: &Workspace,
    method: &str,
    channel: &str,
    body: &serde_json::Value,
) -> Result<(), HttpError> {
    state.queue(workspace.id, method, channel, body).await
}
