//! `POST /teams/webhook`: a Teams outgoing webhook. Teams posts a channel message that
//! @mentions the webhook, signed with the webhook's security token, and shows whatever
//! the response says (within 5 s). Nothing can be posted later, so only commands that
//! answer at once are carried out.
//! <https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-outgoing-webhook>

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde_json::Value;

use crate::app::command::{Command, parse_learn};
use crate::app::handle::handle as handle_command;
use crate::app::messages;
use crate::http::AppState;
use crate::http::body::read_limited;
use crate::http::error::HttpError;
use crate::platform::Message;
use crate::platform::teams::{Activity, card_activity};

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, HttpError> {
    let Some(verifier) = &state.teams_webhook_verifier else {
        tracing::warn!(
            "refused a Teams webhook call: LEARNLOOP_TEAMS_WEBHOOK_SECRET is not set, so its signature cannot be checked"
        );
        return Err(HttpError::NotConfigured(
            "the Teams outgoing webhook (LEARNLOOP_TEAMS_WEBHOOK_SECRET)",
        ));
    };
    let bytes = read_limited(&headers, body, state.body_limit_bytes).await?;
    let authorization = headers.get(AUTHORIZATION).map(|v| v.as_bytes());
    verifier.verify(authorization, &bytes).map_err(|reason| {
        tracing::info!(?reason, "refused a Teams webhook call with a bad signature");
        HttpError::Unauthorized
    })?;
    let activity: Activity = serde_json::from_slice(&bytes).map_err(HttpError::bad_request)?;
    super::tenant_allowed(&state, &activity)?;
    refuse_replays(&state, &activity).await?;
    let reply = answer(&state, &activity).await?;
    let name_of = |id: &str| activity.sender_name(id);
    // An Adaptive Card, as the bot answers: its text runs keep what people typed
    // literal, where a markdown `text` would turn it into links and formatting.
    Ok(Json(card_activity(&reply, &name_of)))
}

/// How far an activity's timestamp may be from our clock, either way.
const FRESH_SECS: i64 = 300;

/// A signed request can be captured and sent again: one whose timestamp is more than
/// five minutes away, or whose id was answered before, is refused (401).
async fn refuse_replays(state: &AppState, activity: &Activity) -> Result<(), HttpError> {
    let now = state.clock.now();
    let Some(sent_at) = activity.sent_at() else {
        tracing::info!("refused a Teams webhook call without a timestamp");
        return Err(HttpError::Unauthorized);
    };
    // The webhook's timestamp is Unix seconds.
    let skew_secs = now.unix_seconds() - sent_at;
    if skew_secs.abs() > FRESH_SECS {
        tracing::info!(
            skew_secs,
            "refused a Teams webhook call whose timestamp is too far from now (a replay?)"
        );
        return Err(HttpError::Unauthorized);
    }
    let Some(key) = activity.delivery_key() else {
        tracing::info!("refused a Teams webhook call without an activity id");
        return Err(HttpError::Unauthorized);
    };
    if !state.store.first_webhook_activity(&key, now).await? {
        tracing::info!("refused a Teams webhook call answered before (a replay)");
        return Err(HttpError::Unauthorized);
    }
    Ok(())
}

async fn answer(state: &AppState, activity: &Activity) -> Result<Message, HttpError> {
    // Help and usage errors need no workspace, as on Slack.
    let command = match parse_learn(&activity.command_text()) {
        Ok(Command::Help { topic: None }) => return Ok(messages::teams_webhook_help()),
        Ok(Command::Help { topic }) => return Ok(messages::help(topic)),
        Ok(command) if !command.answers_in_public() => return Ok(messages::needs_teams_bot()),
        Ok(command) => command,
        Err(usage_error) => return Ok(messages::usage_error(&usage_error)),
    };
    let (Some(key), Some(user)) = (activity.workspace_key(), activity.from_id()) else {
        return Err(HttpError::bad_request(
            "a webhook activity without channelData.tenant, channelData.team or from.id",
        ));
    };
    // Lessons are shown as this channel may see them: public ones and its own.
    let channel = activity.team_channel_id().unwrap_or(&key);
    tracing::Span::current().record("workspace", key.as_str());
    let workspace = state.workspaces.ensure_teams(&key).await?;
    let ctx = state.command_context(&workspace, channel, user);
    let handled = handle_command(&ctx, &command).await?;
    Ok(handled.reply)
}
