//! Slack's three request URLs, behind one verification layer.

pub mod commands;
pub mod events;
pub mod interactions;
pub mod oauth;

use crate::store::OutboxMethod;
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

/// Slack's request URLs, each behind the signature check.
pub fn router(state: AppState) -> Router<AppState> {
    routes().route_layer(middleware::from_fn_with_state(state, verify_signature))
}

/// The same handlers without the signature check: Socket Mode envelopes arrive on a
/// socket opened with the app token, carry no signature, and run here.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/slack/commands", post(commands::handle))
        .route("/slack/events", post(events::handle))
        .route("/slack/interactions", post(interactions::handle))
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
            state.clock.now(),
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
    method: OutboxMethod,
    channel: &str,
    body: &serde_json::Value,
) -> Result<(), HttpError> {
    state.queue(workspace.id, method, channel, body).await
}

/// `views.open` must happen within 3 s of the click or command; leave room for our own
/// work.
const VIEWS_OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(2500);

/// Opens a modal with a trigger id; `Err` says why it did not open.
async fn open_modal(
    state: &AppState,
    workspace: &Workspace,
    trigger_id: &str,
    view: &serde_json::Value,
) -> Result<(), String> {
    let Some(token) = &workspace.bot_token else {
        return Err("no Slack bot token".to_owned());
    };
    let request = serde_json::json!({"trigger_id": trigger_id, "view": view});
    let opened = tokio::time::timeout(
        VIEWS_OPEN_TIMEOUT,
        state.slack.call("views.open", token, &request),
    )
    .await;
    let problem = match opened {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(err)) => err.to_string(),
        Err(_) => "Slack did not answer in time".to_owned(),
    };
    tracing::warn!(error = %problem, "could not open a modal");
    Err(problem)
}

/// Nudging reads every member of the channel from Slack, which can take longer than
/// Slack waits for an answer: it runs after the answer, and the facilitator is told how
/// it went in the channel (only they see it).
fn nudge_in_background(
    state: &AppState,
    workspace: &Workspace,
    channel: &str,
    user: &str,
    debrief: crate::app::debrief::Debrief,
) {
    let (state, workspace) = (state.clone(), workspace.clone());
    let (channel, user) = (channel.to_owned(), user.to_owned());
    tokio::spawn(async move {
        let ctx = state.command_context(&workspace, &channel, &user);
        let reply = match crate::app::debrief::nudge(&ctx, &debrief).await {
            Ok(handled) => handled.reply,
            Err(err) => {
                tracing::warn!(error = %err, "a nudge failed");
                Message::text(":warning: The nudge failed; try again in a minute.")
            }
        };
        let body =
            crate::platform::slack::blocks::ephemeral_message_body(&channel, &user, None, &reply);
        if let Err(err) = queue(
            &state,
            &workspace,
            OutboxMethod::SlackEphemeral,
            &channel,
            &body,
        )
        .await
        {
            tracing::warn!(error = ?err, "could not tell the facilitator how the nudge went");
        }
    });
}
