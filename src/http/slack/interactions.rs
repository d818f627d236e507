//! `POST /slack/interactions`: button clicks (`block_actions`) and modal submissions
//! (`view_submission`), parsed into typed values and routed by `action_id` /
//! `callback_id`. Anything without a handler is logged and acknowledged, so Slack
//! shows no error to the person who clicked.
//! <https://api.slack.com/interactivity/handling>

use crate::app::AppError;
use crate::store::OutboxMethod;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{nudge_in_background, open_modal, queue};
use crate::app::command::PauseDuration;
use crate::app::debrief::review::{self, ReviewStep};
use crate::app::debrief::since;
use crate::app::debrief::start_form::{self, read_start_form};
use crate::app::debrief::{self, Debrief, StartChoices, Submitted};
use crate::app::handle::{CommandContext, Handled};
use crate::app::{followups, home, mentors, pause};
use crate::http::error::HttpError;
use crate::http::{AppState, Queued};
use crate::platform::Message;
use crate::platform::slack::blocks::{ephemeral_message_body, post_message_body};
use crate::platform::slack::modal;
use crate::store::{DebriefId, StoreError, Workspace};

#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct IdOnly {
    id: String,
}

/// The person who interacted; under an org-wide install (`"team": null`) their team
/// is only named here.
#[derive(Debug, Deserialize)]
pub struct UserRef {
    id: String,
    team_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Container {
    channel_id: Option<String>,
    /// The message holding the button (absent for modals).
    message_ts: Option<String>,
    #[serde(default)]
    is_ephemeral: bool,
}

/// One clicked element of a `block_actions` payload.
#[derive(Debug, Deserialize)]
pub struct Action {
    pub action_id: String,
    pub block_id: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ViewState {
    #[serde(default)]
    values: Value,
}

/// A submitted modal.
#[derive(Debug, Deserialize)]
pub struct View {
    pub id: Option<String>,
    #[serde(default)]
    pub callback_id: String,
    #[serde(default)]
    private_metadata: String,
    #[serde(default)]
    state: ViewState,
    /// The team an org-wide install's modal was opened in.
    app_installed_team_id: Option<String>,
}

/// The interaction payloads learnloop handles, by their `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum Interaction {
    #[serde(rename = "block_actions")]
    BlockActions {
        team: Option<IdOnly>,
        enterprise: Option<IdOnly>,
        user: Option<UserRef>,
        trigger_id: Option<String>,
        channel: Option<IdOnly>,
        #[serde(default)]
        container: Container,
        #[serde(default)]
        actions: Vec<Action>,
    },
    #[serde(rename = "view_submission")]
    ViewSubmission {
        team: Option<IdOnly>,
        enterprise: Option<IdOnly>,
        user: Option<UserRef>,
        view: View,
    },
    /// shortcuts, view_closed, … : acknowledged, not used.
    #[serde(other)]
    Other,
}

/// Where an interaction came from: `team.id`, or under an org-wide install (`"team":
/// null`) the person's `user.team_id` or the view's `app_installed_team_id`, and the
/// enterprise.
pub struct Origin {
    pub team: Option<IdOnly>,
    pub enterprise: Option<IdOnly>,
    pub user: Option<UserRef>,
    pub view_team: Option<String>,
}

/// Checks the payload names a team (or an enterprise) and a user (400 otherwise) and
/// finds the workspace; an interaction from one without an install is logged and
/// acknowledged.
async fn installed(
    state: &AppState,
    origin: Origin,
    kind: &str,
) -> Result<Option<(Arc<Workspace>, String)>, HttpError> {
    let Origin {
        team,
        enterprise,
        user,
        view_team,
    } = origin;
    let Some(user) = user else {
        return Err(HttpError::bad_request(format!(
            "{kind} payload without `user.id`"
        )));
    };
    let team = team
        .map(|team| team.id)
        .or(user.team_id)
        .or(view_team)
        .filter(|id| !id.is_empty());
    let enterprise = enterprise.map(|e| e.id).filter(|id| !id.is_empty());
    if team.is_none() && enterprise.is_none() {
        return Err(HttpError::bad_request(format!(
            "{kind} payload without `team.id`, `user.team_id` or `enterprise.id`"
        )));
    }
    let shown = team
        .as_deref()
        .or(enterprise.as_deref())
        .unwrap_or_default();
    tracing::Span::current().record("workspace", shown);
    let found = state
        .workspaces
        .resolve_slack(enterprise.as_deref(), team.as_deref())
        .await?;
    if found.is_none() {
        tracing::warn!(
            kind,
            "ignored an interaction from a workspace without an install"
        );
    }
    Ok(found.map(|workspace| (workspace, user.id)))
}

/// Reads a (signed) form body: 400 unless it holds an interaction payload. Its form
/// values, for a view submission, are read as the handler reads them.
pub fn read(body: &[u8]) -> Result<Interaction, HttpError> {
    let form: InteractionForm =
        serde_urlencoded::from_bytes(body).map_err(HttpError::bad_request)?;
    let payload = form
        .payload
        .ok_or_else(|| HttpError::bad_request("interaction without a `payload` field"))?;
    serde_json::from_str(&payload).map_err(HttpError::bad_request)
}

impl View {
    /// What was typed in the view, by question id.
    pub fn values(&self) -> BTreeMap<String, String> {
        modal::submitted_values(&self.state.values)
    }
}

pub async fn handle(State(state): State<AppState>, body: Bytes) -> Result<Response, HttpError> {
    match read(&body)? {
        Interaction::BlockActions {
            team,
            enterprise,
            user,
            trigger_id,
            channel,
            container,
            actions,
        } => {
            let origin = Origin {
                team,
                enterprise,
                user,
                view_team: None,
            };
            let Some((workspace, user)) = installed(&state, origin, "block_actions").await? else {
                return Ok(StatusCode::OK.into_response());
            };
            let clicked_in = channel.map(|c| c.id).or(container.channel_id);
            // An ephemeral message cannot be edited with `chat.update`.
            let message_ts = container.message_ts.filter(|_| !container.is_ephemeral);
            let click = Click {
                workspace: &workspace,
                user: &user,
                channel: clicked_in.as_deref(),
                message_ts: message_ts.as_deref(),
                trigger_id: trigger_id.as_deref(),
            };
            for action in &actions {
                on_action(&state, &click, action).await?;
            }
            state.refresh_home(&workspace, &user).await;
            Ok(StatusCode::OK.into_response())
        }
        Interaction::ViewSubmission {
            team,
            enterprise,
            user,
            view,
        } => {
            let origin = Origin {
                team,
                enterprise,
                user,
                view_team: view.app_installed_team_id.clone(),
            };
            let Some((workspace, user)) = installed(&state, origin, "view_submission").await?
            else {
                return Ok(StatusCode::OK.into_response());
            };
            if view.callback_id == modal::NOTE_CALLBACK {
                return on_note(&state, &workspace, &user, &view).await;
            }
            if view.callback_id == review::REVIEW_CALLBACK {
                return on_review(&state, &workspace, &user, &view).await;
            }
            if view.callback_id == debrief::START_FORM_CALLBACK {
                return on_start_form(&state, &workspace, &user, &view).await;
            }
            if view.callback_id != debrief::REFLECTION_FORM {
                tracing::info!(
                    callback_id = %view.callback_id,
                    view_id = view.id.as_deref().unwrap_or(""),
                    "acknowledged a modal submission without a handler"
                );
                return Ok(StatusCode::OK.into_response());
            }
            let answered = on_reflection(&state, &workspace, &user, &view).await;
            state.refresh_home(&workspace, &user).await;
            answered
        }
        Interaction::Other => {
            tracing::info!("acknowledged an interaction type learnloop does not use");
            Ok(StatusCode::OK.into_response())
        }
    }
}

/// Who clicked, where.
struct Click<'a> {
    workspace: &'a Workspace,
    user: &'a str,
    /// The channel of the message with the button, when Slack says.
    channel: Option<&'a str>,
    /// The message with the button, when it is one that can be edited.
    message_ts: Option<&'a str>,
    trigger_id: Option<&'a str>,
}

impl Click<'_> {
    /// Shows `message` to the person who clicked, and only to them.
    async fn tell(&self, state: &AppState, message: &Message) -> Result<(), HttpError> {
        match self.channel {
            Some(channel) => {
                let body = ephemeral_message_body(channel, self.user, None, message);
                queue(
                    state,
                    self.workspace,
                    OutboxMethod::SlackEphemeral,
                    channel,
                    &body,
                )
                .await
            }
            None => {
                let body = post_message_body(self.user, None, message);
                queue(
                    state,
                    self.workspace,
                    OutboxMethod::SlackPost,
                    self.user,
                    &body,
                )
                .await
            }
        }
    }
}

async fn on_action(state: &AppState, click: &Click<'_>, action: &Action) -> Result<(), HttpError> {
    let kind = action.action_id.as_str();
    if kind == debrief::START {
        return start_retro(state, click, action).await;
    }
    if let Some(answer) = followups::Answer::from_action(kind) {
        return answer_follow_up(state, click, action, FollowUpClick::Answer(answer)).await;
    }
    if kind == followups::KEEP || kind == followups::RETIRE {
        return answer_follow_up(state, click, action, FollowUpClick::KeepOrRetire(kind)).await;
    }
    if kind == followups::NOTE {
        return open_note(state, click, action).await;
    }
    if kind == home::PAUSE || kind == home::RESUME {
        let ctx = state.command_context(click.workspace, click.user, click.user);
        let said = if kind == home::PAUSE {
            pause::pause(&ctx, PauseDuration::Days(7)).await?
        } else {
            pause::resume(&ctx).await?
        };
        return click.tell(state, &said).await;
    }
    if since::outcome_of(kind).is_some() || kind == mentors::INTRO {
        let value = action.value.as_deref().unwrap_or_default();
        let channel = click.channel.unwrap_or(click.user);
        let ctx = state.command_context(click.workspace, channel, click.user);
        let handled = if kind == mentors::INTRO {
            mentors::intro(&ctx, value).await?
        } else {
            since::answer(&ctx, kind, value).await?
        };
        return click.tell(state, &handled.reply).await;
    }
    if ![
        debrief::REFLECT,
        debrief::REFLECT_IN_DM,
        debrief::NUDGE,
        debrief::CLOSE,
    ]
    .contains(&kind)
    {
        tracing::info!(
            action_id = kind,
            block_id = action.block_id.as_deref().unwrap_or(""),
            "acknowledged an action without a handler"
        );
        return Ok(());
    }
    let id = action
        .value
        .as_deref()
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| HttpError::bad_request(format!("`{kind}` without a debrief id")))?;
    let channel = click.channel.unwrap_or(click.user);
    let ctx = state.command_context(click.workspace, channel, click.user);
    let debrief = match debrief::load(&ctx, DebriefId(id)).await {
        Ok(debrief) => debrief,
        Err(AppError::Store(StoreError::NotFound)) => {
            tracing::info!(debrief = id, "a button of an unknown debrief was clicked");
            let gone = Message::text("That debrief no longer exists.");
            return click.tell(state, &gone).await;
        }
        Err(other) => return Err(other.into()),
    };
    match kind {
        debrief::REFLECT => open_form(state, click, &ctx, &debrief).await,
        debrief::REFLECT_IN_DM => {
            let first = debrief::reflect_in_dm(&ctx, &debrief).await?;
            let body = post_message_body(click.user, None, &first);
            state
                .send(Queued {
                    anonymous_debrief: debrief.anonymous.then_some(debrief.id),
                    ..Queued::new(
                        click.workspace.id,
                        OutboxMethod::SlackPost,
                        click.user,
                        &body,
                    )
                })
                .await
        }
        debrief::NUDGE => {
            nudge_in_background(state, click.workspace, channel, click.user, debrief);
            Ok(())
        }
        _ => {
            let handled =
                review_or_close(state, click.workspace, click.trigger_id, &ctx, &debrief).await?;
            if let Some(handled) = handled {
                click.tell(state, &handled.reply).await?;
            }
            Ok(())
        }
    }
}

/// Close by the facilitator: the review form opens (its submission closes the debrief),
/// or, with nothing to review, it closes now. When the form cannot open (an expired
/// trigger), it closes as it is and the reply says so. `None` when the form opened.
pub(super) async fn review_or_close(
    state: &AppState,
    workspace: &Workspace,
    trigger_id: Option<&str>,
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<Option<Handled>, HttpError> {
    let page = if debrief.facilitator == ctx.user && debrief.is_open() {
        review::review_page(ctx, debrief, 0).await?
    } else {
        None
    };
    let handled = match (page, trigger_id) {
        (Some(page), Some(trigger_id)) => {
            let view = modal::form_view(&debrief::review_form(&page));
            if open_modal(state, workspace, trigger_id, &view)
                .await
                .is_ok()
            {
                return Ok(None);
            }
            let mut handled = debrief::close(ctx, debrief).await?;
            handled.reply = Message::text(format!(
                "The review form did not open (Slack's button had expired), so every \
                 candidate was published as it was. {}",
                handled.reply.fallback
            ));
            handled
        }
        _ => debrief::close(ctx, debrief).await?,
    };
    Ok(Some(handled))
}

/// A submitted review page: the next page in its place, or the debrief closed (the
/// modal closes and the facilitator hears how it went).
async fn on_review(
    state: &AppState,
    workspace: &Workspace,
    user: &str,
    view: &View,
) -> Result<Response, HttpError> {
    let (Some(id), Some(page)) = (
        modal::debrief_of(&view.private_metadata),
        modal::page_of(&view.private_metadata),
    ) else {
        return Err(HttpError::bad_request(
            "review form without its debrief and page",
        ));
    };
    let ctx = state.command_context(workspace, user, user);
    let debrief = match debrief::load(&ctx, DebriefId(id)).await {
        Ok(debrief) => debrief,
        Err(AppError::Store(StoreError::NotFound)) => return Ok(StatusCode::OK.into_response()),
        Err(other) => return Err(other.into()),
    };
    match review::submit_page(&ctx, &debrief, page, &view.values()).await? {
        ReviewStep::Next(next) => Ok(Json(json!({
            "response_action": "update",
            "view": modal::form_view(&debrief::review_form(&next)),
        }))
        .into_response()),
        ReviewStep::Done(handled) => {
            let click = Click {
                workspace,
                user,
                channel: Some(&debrief.channel),
                message_ts: None,
                trigger_id: None,
            };
            click.tell(state, &handled.reply).await?;
            Ok(StatusCode::OK.into_response())
        }
    }
}

/// A submitted start form: field errors, or the debrief started in the form's channel
/// (the modal closes, and the person hears how it went as after `/debrief TITLE`).
async fn on_start_form(
    state: &AppState,
    workspace: &Workspace,
    user: &str,
    view: &View,
) -> Result<Response, HttpError> {
    let channel = modal::channel_of(&view.private_metadata)
        .ok_or_else(|| HttpError::bad_request("start form without its channel"))?;
    let ctx = state.command_context(workspace, &channel, user);
    let fields = match read_start_form(&view.values(), &StartChoices::of(&ctx)) {
        Ok(fields) => fields,
        Err(problems) => return Ok(field_errors(problems)),
    };
    let mut handled = debrief::start(&ctx, fields.request()).await?;
    if handled.card.is_none() {
        // Not started (a closing date in the past): said under the date.
        let block = modal::block_id(start_form::CLOSES_ON);
        return Ok(form_error(Some(&block), &handled.reply.fallback));
    }
    let started = handled.reply.fallback.clone();
    debrief::await_card(&ctx, &mut handled).await?;
    // A refused card (the bot is not in the channel) is explained by DM: an ephemeral
    // message there would be refused too.
    let refused = handled.reply.fallback != started;
    let click = Click {
        workspace,
        user,
        channel: (!refused).then_some(channel.as_str()),
        message_ts: None,
        trigger_id: None,
    };
    click.tell(state, &handled.reply).await?;
    Ok(StatusCode::OK.into_response())
}

/// Keeps the modal open with a problem under each field (by field id).
fn field_errors(problems: BTreeMap<String, String>) -> Response {
    let errors: serde_json::Map<String, Value> = problems
        .into_iter()
        .map(|(field, problem)| (modal::block_id(&field), Value::String(problem)))
        .collect();
    Json(json!({"response_action": "errors", "errors": errors})).into_response()
}

/// The retro reminder's button: starts its debrief in the reminder's channel.
async fn start_retro(
    state: &AppState,
    click: &Click<'_>,
    action: &Action,
) -> Result<(), HttpError> {
    let (Some(channel), Some((template, title))) = (
        click.channel,
        action.value.as_deref().and_then(debrief::read_start_value),
    ) else {
        return Err(HttpError::bad_request(
            "`debrief.start` without a channel or a title",
        ));
    };
    let ctx = state.command_context(click.workspace, channel, click.user);
    let mut handled = debrief::start_from_reminder(&ctx, template, title).await?;
    debrief::await_card(&ctx, &mut handled).await?;
    click.tell(state, &handled.reply).await
}

/// Applied / Not yet / Not relevant on a follow-up: recorded, and the question is
/// replaced by what was recorded (or, on the ephemeral list, answered beside it).
/// A click on a follow-up's buttons: an answer, or Keep / Retire on a stale lesson.
enum FollowUpClick<'a> {
    Answer(followups::Answer),
    KeepOrRetire(&'a str),
}

async fn answer_follow_up(
    state: &AppState,
    click: &Click<'_>,
    action: &Action,
    answer: FollowUpClick<'_>,
) -> Result<(), HttpError> {
    let value = action
        .value
        .as_deref()
        .ok_or_else(|| HttpError::bad_request("a follow-up button without its lesson"))?;
    let channel = click.channel.unwrap_or(click.user);
    let ctx = state.command_context(click.workspace, channel, click.user);
    let answered = match answer {
        FollowUpClick::Answer(answer) => {
            followups::answer(&ctx, value, answer, click.message_ts).await?
        }
        FollowUpClick::KeepOrRetire(action) => {
            followups::keep_or_retire(&ctx, action, value).await?
        }
    };
    match (answered.recorded, click.channel, click.message_ts) {
        (true, Some(channel), Some(ts)) => {
            let mut body = post_message_body(channel, None, &answered.message);
            body["ts"] = Value::String(ts.to_owned());
            queue(
                state,
                click.workspace,
                OutboxMethod::SlackUpdate,
                channel,
                &body,
            )
            .await
        }
        _ => click.tell(state, &answered.message).await,
    }
}

/// "Add a note" after an answer: a modal with one text field.
async fn open_note(state: &AppState, click: &Click<'_>, action: &Action) -> Result<(), HttpError> {
    let follow_up = action
        .value
        .as_deref()
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| HttpError::bad_request("`followup.note` without its follow-up"))?;
    let view = modal::note_view(
        follow_up,
        "A sentence on how it went helps whoever runs into the same thing next. It is shown with the lesson, in its debrief thread and the team digest.",
        followups::MAX_NOTE_CHARS,
    );
    open_view(
        state,
        click,
        &view,
        "Sorry, the note form did not open. Try again.",
    )
    .await
}

/// A submitted note: stored on the person's answer, and the modal closes.
async fn on_note(
    state: &AppState,
    workspace: &Workspace,
    user: &str,
    view: &View,
) -> Result<Response, HttpError> {
    let follow_up = modal::follow_up_of(&view.private_metadata)
        .ok_or_else(|| HttpError::bad_request("note form without its follow-up id"))?;
    let values = view.values();
    let block = modal::block_id(modal::NOTE_FIELD);
    let note = values
        .get(modal::NOTE_FIELD)
        .map(|n| n.trim())
        .unwrap_or_default();
    if note.is_empty() {
        return Ok(form_error(Some(&block), "Write a note, or press Cancel."));
    }
    if note.chars().count() > followups::MAX_NOTE_CHARS {
        return Ok(form_error(
            Some(&block),
            &format!("Keep it to {} characters.", followups::MAX_NOTE_CHARS),
        ));
    }
    let ctx = state.command_context(workspace, user, user);
    if followups::note(&ctx, follow_up, note).await? {
        Ok(StatusCode::OK.into_response())
    } else {
        Ok(form_error(
            Some(&block),
            "That answer is not yours, or no longer exists.",
        ))
    }
}

/// Opens a modal with the click's trigger id, or tells the person it did not open.
async fn open_view(
    state: &AppState,
    click: &Click<'_>,
    view: &Value,
    failed: &str,
) -> Result<(), HttpError> {
    let trigger_id = click
        .trigger_id
        .ok_or_else(|| HttpError::bad_request("block_actions without `trigger_id`"))?;
    if click.workspace.bot_token.is_none() {
        return Err(HttpError::NotConfigured("Slack bot token"));
    }
    if open_modal(state, click.workspace, trigger_id, view)
        .await
        .is_ok()
    {
        return Ok(());
    }
    click.tell(state, &Message::text(failed)).await
}

/// Opens the reflection modal, filled with the person's earlier answers.
async fn open_form(
    state: &AppState,
    click: &Click<'_>,
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<(), HttpError> {
    if !debrief.is_open() {
        let closed = Message::text("This debrief is closed, so it takes no more reflections.");
        return click.tell(state, &closed).await;
    }
    let earlier = debrief::earlier_answers(ctx, debrief).await?;
    let view = modal::form_view(&debrief::reflection_form(
        debrief,
        &earlier,
        &BTreeMap::new(),
    ));
    open_view(
        state,
        click,
        &view,
        "Sorry, the form did not open. Try again, or use *Reflect in DM* on the card.",
    )
    .await
}

/// A submitted reflection form: field errors, or stored and the modal closes.
async fn on_reflection(
    state: &AppState,
    workspace: &Workspace,
    user: &str,
    view: &View,
) -> Result<Response, HttpError> {
    let id = modal::debrief_of(&view.private_metadata)
        .ok_or_else(|| HttpError::bad_request("reflection form without its debrief id"))?;
    let ctx = state.command_context(workspace, user, user);
    let debrief = match debrief::load(&ctx, DebriefId(id)).await {
        Ok(debrief) => debrief,
        Err(AppError::Store(StoreError::NotFound)) => {
            tracing::info!(debrief = id, "a form of an unknown debrief was submitted");
            return Ok(form_error(
                view.state.values.as_object().and_then(|v| v.keys().next()),
                "This debrief no longer exists, so your reflection could not be added.",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let values = view.values();
    let answers = match debrief::check_form(&debrief, &values) {
        Ok(answers) => answers,
        Err(problems) => return Ok(field_errors(problems)),
    };
    let refused = match debrief::submit(&ctx, &debrief, &answers).await? {
        Submitted::Saved { .. } => {
            // An empty 200 closes the modal.
            return Ok(StatusCode::OK.into_response());
        }
        Submitted::Closed => "This debrief has closed, so your reflection could not be added.",
        Submitted::Empty => debrief::EMPTY_REFLECTION,
    };
    let first = debrief.questions.first().map(|q| modal::block_id(&q.id));
    Ok(form_error(first.as_ref(), refused))
}

/// Keeps the modal open with `problem` under `block` (Slack shows field errors only
/// on input blocks); without a block the modal just closes.
fn form_error(block: Option<&String>, problem: &str) -> Response {
    match block {
        Some(block) => Json(json!({
            "response_action": "errors",
            "errors": {block.as_str(): problem}
        }))
        .into_response(),
        None => StatusCode::OK.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_minimal_block_actions_shape() {
        let payload = r#"{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"trigger_id":"1.2.3",
         "container":{"type":"message","message_ts":"1700000000.000100","channel_id":"C1"},
         "channel":{"id":"C1"},"message":{"ts":"1700000000.000100","blocks":[]},
         "response_url":"https://hooks.slack.com/actions/x",
         "actions":[{"type":"button","action_id":"debrief.reflect","block_id":"b1","value":"42"}]}"#;
        let Interaction::BlockActions {
            team,
            actions,
            trigger_id,
            container,
            ..
        } = serde_json::from_str(payload).unwrap()
        else {
            panic!("not block_actions");
        };
        assert_eq!(team.unwrap().id, "T1");
        assert_eq!(trigger_id.as_deref(), Some("1.2.3"));
        assert_eq!(container.channel_id.as_deref(), Some("C1"));
        assert_eq!(actions[0].action_id, "debrief.reflect");
        assert_eq!(actions[0].value.as_deref(), Some("42"));
    }

    #[test]
    fn parses_the_minimal_view_submission_shape() {
        let payload = r#"{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},
        "view":{"id":"V1","callback_id":"debrief.reflection","private_metadata":"{\"debrief\":42}",
         "state":{"values":{"q_went_well":{"answer":{"type":"plain_text_input","value":"ok"}}}}}}"#;
        let Interaction::ViewSubmission { view, .. } = serde_json::from_str(payload).unwrap()
        else {
            panic!("not view_submission");
        };
        assert_eq!(view.callback_id, "debrief.reflection");
        assert_eq!(modal::debrief_of(&view.private_metadata), Some(42));
        assert_eq!(
            modal::submitted_values(&view.state.values)["went_well"],
            "ok"
        );
    }

    #[test]
    fn other_types_are_tolerated() {
        let parsed: Interaction = serde_json::from_str(r#"{"type":"shortcut","x":1}"#).unwrap();
        assert!(matches!(parsed, Interaction::Other));
    }
}
