//! Slack's three request URLs, behind one verification layer.

mod commands;
mod events;
mod interactions;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use http_body_util::LengthLimitError;

use super::AppState;
use super::error::HttpError;
use crate::platform::Message;
use crate::platform::slack::blocks::ephemeral_response;
use crate::store::{NewOutboxMessage, Workspace};

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
    let declared_too_large = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|length| length > state.body_limit_bytes);
    if declared_too_large {
        return Err(HttpError::PayloadTooLarge);
    }
    let bytes: Bytes = axum::body::to_bytes(body, state.body_limit_bytes)
        .await
        .map_err(|err| {
            if is_length_limit(&err) {
                HttpError::PayloadTooLarge
            } else {
                HttpError::bad_request("the request body could not be read")
            }
        })?;
    let header = |name: &str| parts.headers.get(name).map(|v| v.as_bytes());
    verifier
        .verify(
            header("x-slack-request-timestamp"),
            header("x-slack-signature"),
            &bytes,
            state.clock.now_unix(),
        )
        .map_err(|reason| {
            tracing::info!(%reason, "refused a Slack request with a bad signature");
            HttpError::Unauthorized
        })?;
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// Whether a body error is the size limit (413) rather than a broken connection (400).
fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.is::<LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
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
    let body = body.to_string();
    let now_ms = state.clock.now_millis();
    let give_up_at = state.delivery.give_up_at(now_ms);
    let message = NewOutboxMessage {
        method,
        ..NewOutboxMessage::post(workspace.id, channel, &body)
    };
    state.store.enqueue(message, now_ms, give_up_at).await?;
    state.delivery.wake();
    Ok(())
}
