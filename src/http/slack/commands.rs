//! `POST /slack/commands`: `/learn` and `/debrief`.
//! <https://api.slack.com/interactivity/slash-commands>

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::interactions::review_or_close;
use super::{ephemeral, nudge_in_background, open_modal};
use crate::app::command::{Command, DebriefCommand, SlashCommand, parse_slash};
use crate::app::debrief::{self, StartChoices};
use crate::app::handle::handle as handle_command;
use crate::app::messages;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::platform::Message;
use crate::platform::slack::blocks::ephemeral_response;
use crate::platform::slack::modal;

/// The fields of a slash command that learnloop reads; Slack sends more.
#[derive(Debug, Deserialize)]
struct SlashCommandForm {
    ssl_check: Option<String>,
    team_id: Option<String>,
    /// Under Enterprise Grid; an org-wide install serves teams with no install of their own.
    enterprise_id: Option<String>,
    channel_id: Option<String>,
    user_id: Option<String>,
    command: Option<String>,
    #[serde(default)]
    text: String,
    /// Opens a modal within 3 s (the start form of `/debrief` alone).
    trigger_id: Option<String>,
}

fn required(value: Option<String>, name: &str) -> Result<String, HttpError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| HttpError::bad_request(format!("slash command without `{name}`")))
}

/// What a slash command request says, read before anything is done about it.
#[derive(Debug)]
pub enum Received {
    /// Slack probing the certificate (`ssl_check=1`): it wants an empty 200.
    SslCheck,
    Command(Typed),
}

/// A slash command someone typed.
#[derive(Debug)]
pub struct Typed {
    pub team_id: String,
    pub enterprise_id: Option<String>,
    pub channel_id: String,
    pub user_id: String,
    pub trigger_id: Option<String>,
    /// The command as read, or why it could not be.
    pub read: Result<Command, Unread>,
}

/// A command that could not be read.
#[derive(Debug)]
pub enum Unread {
    /// A slash command other than `/learn` and `/debrief`, by its name.
    NotOurs(String),
    /// Ours, but not in a form it takes.
    Usage(crate::app::command::UsageError),
}

/// Reads a (signed) form body: 400 without the fields every command has.
pub fn read(body: &[u8]) -> Result<Received, HttpError> {
    let form: SlashCommandForm =
        serde_urlencoded::from_bytes(body).map_err(HttpError::bad_request)?;
    if form.ssl_check.as_deref() == Some("1") {
        return Ok(Received::SslCheck);
    }
    let team_id = required(form.team_id, "team_id")?;
    let channel_id = required(form.channel_id, "channel_id")?;
    let user_id = required(form.user_id, "user_id")?;
    let command = required(form.command, "command")?;
    let read = match SlashCommand::from_name(&command) {
        None => Err(Unread::NotOurs(command)),
        Some(slash) => {
            let text = crate::platform::unescape_typed(&form.text);
            parse_slash(slash, &text).map_err(Unread::Usage)
        }
    };
    Ok(Received::Command(Typed {
        team_id,
        enterprise_id: form.enterprise_id.filter(|id| !id.is_empty()),
        channel_id,
        user_id,
        trigger_id: form.trigger_id,
        read,
    }))
}

pub async fn handle(State(state): State<AppState>, body: Bytes) -> Result<Response, HttpError> {
    let typed = match read(&body)? {
        Received::SslCheck => return Ok(StatusCode::OK.into_response()),
        Received::Command(typed) => typed,
    };
    let Typed {
        team_id,
        enterprise_id,
        channel_id,
        user_id,
        trigger_id,
        read,
    } = typed;
    tracing::Span::current().record("workspace", team_id.as_str());
    // Help and usage errors need no install: someone trying the app before it is
    // installed still learns how to use it.
    let command = match read {
        Err(Unread::NotOurs(command)) => {
            return Ok(ephemeral(&messages::unknown_slash_command(&command)).into_response());
        }
        Ok(Command::Help { topic: None }) => return Ok(full_help()),
        Ok(Command::Help { topic }) => {
            return Ok(ephemeral(&messages::help(topic)).into_response());
        }
        Ok(command) => command,
        Err(Unread::Usage(usage_error)) => {
            return Ok(ephemeral(&messages::usage_error(&usage_error)).into_response());
        }
    };
    let Some(workspace) = state
        .workspaces
        .resolve_slack(enterprise_id.as_deref(), Some(&team_id))
        .await?
    else {
        return Ok(ephemeral(&messages::not_installed()).into_response());
    };
    let ctx = state.command_context(&workspace, &channel_id, &user_id);
    if command == Command::Debrief(DebriefCommand::StartForm)
        && !ctx.in_direct_message()
        && let Some(trigger_id) = &trigger_id
    {
        let view = modal::form_view(&debrief::start_form::form(
            &StartChoices::of(&ctx),
            &BTreeMap::new(),
            &BTreeMap::new(),
            Some(&channel_id),
        ));
        if open_modal(&state, &workspace, trigger_id, &view)
            .await
            .is_ok()
        {
            // An empty 200: the form is the answer.
            return Ok(StatusCode::OK.into_response());
        }
    }
    if command == Command::Debrief(DebriefCommand::Nudge)
        && let Some(mine) = debrief::own_open_debrief(&ctx).await?
    {
        nudge_in_background(&state, &workspace, &channel_id, &user_id, mine);
        return Ok(ephemeral(&Message::text(
            ":mega: Looking for who has not reflected yet; I'll tell you here how many I \
             nudged.",
        ))
        .into_response());
    }
    if command == Command::Debrief(DebriefCommand::Close)
        && let Some(mine) = debrief::own_open_debrief(&ctx).await?
    {
        let reviewed =
            review_or_close(&state, &workspace, trigger_id.as_deref(), &ctx, &mine).await?;
        return Ok(match reviewed {
            Some(handled) => ephemeral(&handled.reply).into_response(),
            None => StatusCode::OK.into_response(),
        });
    }
    let mut handled = handle_command(&ctx, &command).await?;
    debrief::await_card(&ctx, &mut handled).await?;
    state.refresh_home(&workspace, &user_id).await;
    Ok(ephemeral(&handled.reply).into_response())
}

/// The full help never changes, and it is the most asked-for reply: render it once.
fn full_help() -> Response {
    static RENDERED: OnceLock<Bytes> = OnceLock::new();
    let body = RENDERED.get_or_init(|| {
        let json = ephemeral_response(&messages::help(None));
        Bytes::from(serde_json::to_vec(&json).expect("a JSON value always serializes"))
    });
    ([(CONTENT_TYPE, "application/json")], body.clone()).into_response()
}
