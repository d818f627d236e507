//! `POST /slack/events`: the Events API. Acknowledges at once; a retried delivery is
//! recognised by its `event_id` and never handled twice; the reply to a mention or DM
//! is queued in the outbox in the same transaction that records the event.
//! <https://api.slack.com/apis/events-api>

use crate::store::OutboxMethod;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::debrief;
use crate::app::handle::handle_text;
use crate::http::error::HttpError;
use crate::http::{AppState, Queued};
use crate::metrics::EventOutcome;
use crate::platform::slack::blocks::{ephemeral_message_body, post_message_body};
use crate::store::{ClaimToken, Platform, Workspace};

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    challenge: Option<String>,
    team_id: Option<String>,
    /// Set under Enterprise Grid; an org-wide install's events may name only it.
    enterprise_id: Option<String>,
    event_id: Option<String>,
    /// Kept as raw JSON: events learnloop does not use may carry objects where a
    /// message has strings (`channel` of `channel_created`), and must not fail the envelope.
    event: Option<serde_json::Value>,
    #[serde(default)]
    authorizations: Vec<Authorization>,
}

#[derive(Debug, Deserialize)]
struct Authorization {
    user_id: Option<String>,
    team_id: Option<String>,
    #[serde(default)]
    is_bot: bool,
}

/// The inner event, with only the fields learnloop reads. Parsed from the raw value
/// only for mentions and messages; any other shape is ignored, not refused.
#[derive(Debug, Default, Deserialize)]
struct SlackEvent {
    #[serde(rename = "type")]
    kind: String,
    subtype: Option<String>,
    user: Option<String>,
    bot_id: Option<String>,
    channel: Option<String>,
    channel_type: Option<String>,
    text: Option<String>,
    ts: Option<String>,
    thread_ts: Option<String>,
    /// `app_home_opened`: `home` or `messages`.
    tab: Option<String>,
    /// `tokens_revoked`: which tokens went.
    tokens: Option<RevokedTokens>,
}

#[derive(Debug, Default, Deserialize)]
struct RevokedTokens {
    #[serde(default)]
    bot: Vec<String>,
}

/// What an event asks of the bot.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Answer `text` from `user` in `channel`, in a thread when `thread_ts` is set.
    /// `private` answers are shown to `user` alone (a mention in a shared channel).
    Reply {
        user: String,
        channel: String,
        thread_ts: Option<String>,
        text: String,
        private: bool,
    },
    /// The bot was added to `channel`: it introduces itself there, once.
    Joined { channel: String },
    /// `user` opened the bot's Home tab: it is published for them.
    HomeOpened { user: String },
    /// The app was removed from the workspace (`app_uninstalled`, or `tokens_revoked`
    /// naming the bot's token).
    Uninstalled,
    /// Not for us (our own messages, edits, other bots) or nothing to do yet.
    Ignore(&'static str),
}

/// Events after which a conversation's privacy scope must be looked up again: shared
/// with or unshared from another organisation (Slack Connect), renamed, archived or
/// otherwise changed as a private channel.
const SCOPE_EVENTS: &[&str] = &[
    "channel_shared",
    "channel_unshared",
    "channel_rename",
    "group_rename",
    "group_archive",
    "group_unarchive",
    "group_deleted",
    "group_left",
];

/// The conversation a scope-changing event is about (`channel` is an id in most of
/// them and an object in the renames).
fn scope_changed(event: &serde_json::Value) -> Option<&str> {
    let kind = event.get("type")?.as_str()?;
    if !SCOPE_EVENTS.contains(&kind) {
        return None;
    }
    let channel = event.get("channel")?;
    channel
        .as_str()
        .or_else(|| channel.get("id").and_then(|id| id.as_str()))
        .filter(|id| !id.is_empty())
}

/// Message subtypes that are still a person talking to the bot.
const PERSON_SUBTYPES: &[&str] = &["file_share", "thread_broadcast"];

fn intent(event: &SlackEvent, bot_user_id: Option<&str>) -> Intent {
    match event.kind.as_str() {
        "app_uninstalled" => return Intent::Uninstalled,
        "app_home_opened" => {
            return match (&event.user, event.tab.as_deref()) {
                (Some(user), Some("home")) => Intent::HomeOpened { user: user.clone() },
                _ => Intent::Ignore("the messages tab was opened"),
            };
        }
        "tokens_revoked" => {
            let bots = event.tokens.as_ref().map_or(0, |tokens| tokens.bot.len());
            return if bots > 0 {
                Intent::Uninstalled
            } else {
                Intent::Ignore("user tokens revoked; learnloop holds none")
            };
        }
        _ => {}
    }
    if event.kind == "member_joined_channel" {
        return match (&event.channel, bot_user_id) {
            (Some(channel), Some(bot)) if event.user.as_deref() == Some(bot) => Intent::Joined {
                channel: channel.clone(),
            },
            _ => Intent::Ignore("someone else joined a channel"),
        };
    }
    if event.bot_id.is_some() {
        return Intent::Ignore("sent by a bot");
    }
    if event.user.is_some() && event.user.as_deref() == bot_user_id {
        return Intent::Ignore("our own message");
    }
    if let Some(subtype) = &event.subtype
        && !PERSON_SUBTYPES.contains(&subtype.as_str())
    {
        return Intent::Ignore("edit, deletion or system message");
    }
    let (Some(channel), Some(user)) = (&event.channel, &event.user) else {
        return Intent::Ignore("no channel or user");
    };
    let mut typed = crate::platform::unescape_typed(event.text.as_deref().unwrap_or_default());
    // Older clients describe a shared file in its text ("<@U1> uploaded a file: …"):
    // that is not something the person typed, so the file alone is what was sent.
    if event.subtype.as_deref() == Some("file_share") && typed.contains("uploaded a file") {
        typed.clear();
    }
    match (event.kind.as_str(), event.channel_type.as_deref()) {
        ("app_mention", _) => Intent::Reply {
            user: user.clone(),
            channel: channel.clone(),
            // Answer in the mention's thread, and only to the person: goals, pauses and
            // follow-ups are private, and the channel stays quiet.
            thread_ts: event.thread_ts.clone().or_else(|| event.ts.clone()),
            text: strip_mentions(&typed, bot_user_id, true),
            private: true,
        },
        ("message", Some("im")) => Intent::Reply {
            user: user.clone(),
            channel: channel.clone(),
            thread_ts: event.thread_ts.clone(),
            // In a DM a leading mention is someone the person names (an owner).
            text: strip_mentions(&typed, bot_user_id, false),
            private: false,
        },
        _ => Intent::Ignore("not a mention or a direct message"),
    }
}

/// Removes `<@BOT>` mentions (and, in a mention, a leading mention of anyone, as Slack
/// puts the mentioned bot first) so `@learnloop help` reads as `help`.
fn strip_mentions(text: &str, bot_user_id: Option<&str>, leading: bool) -> String {
    let mut rest = text.trim();
    if leading
        && rest.starts_with("<@")
        && let Some(end) = rest.find('>')
    {
        rest = rest[end + 1..].trim_start();
    }
    match bot_user_id {
        Some(bot) => rest.replace(&format!("<@{bot}>"), " ").trim().to_owned(),
        None => rest.to_owned(),
    }
}

/// What an Events API request says, read before anything is done about it.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Slack checking the request URL.
    UrlVerification { challenge: String },
    /// An event of a workspace.
    Event(Callback),
    /// An envelope kind learnloop does not use: acknowledged.
    Other(String),
}

/// One event of a workspace, and what it asks.
#[derive(Debug, PartialEq, Eq)]
pub struct Callback {
    /// The team, or for an org-wide install's events possibly only the enterprise.
    pub team_id: Option<String>,
    pub enterprise_id: Option<String>,
    pub event_id: String,
    pub kind: String,
    /// A conversation whose privacy scope must be looked up again.
    pub scope_changed: Option<String>,
    pub intent: Intent,
}

/// Reads a (signed) request body: 400 for one that is not an envelope, or a callback
/// without what handling it needs. Every other shape is read, never refused.
pub fn read(body: &[u8]) -> Result<Received, HttpError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(HttpError::bad_request)?;
    match envelope.kind.as_str() {
        "url_verification" => {
            let challenge = envelope
                .challenge
                .ok_or_else(|| HttpError::bad_request("url_verification without `challenge`"))?;
            Ok(Received::UrlVerification { challenge })
        }
        "event_callback" => {
            let team_id = envelope
                .team_id
                .or_else(|| {
                    envelope
                        .authorizations
                        .iter()
                        .find_map(|a| a.team_id.clone())
                })
                .filter(|id| !id.is_empty());
            let enterprise_id = envelope.enterprise_id.filter(|id| !id.is_empty());
            let (Some(event_id), Some(raw)) = (envelope.event_id, envelope.event) else {
                return Err(HttpError::bad_request(
                    "event_callback needs `event_id` and `event`",
                ));
            };
            if team_id.is_none() && enterprise_id.is_none() {
                return Err(HttpError::bad_request(
                    "event_callback needs `team_id` or `enterprise_id`",
                ));
            }
            let scope_changed = scope_changed(&raw).map(str::to_owned);
            let event = parse_event(raw);
            let bot_user_id = envelope
                .authorizations
                .iter()
                .find(|a| a.is_bot)
                .and_then(|a| a.user_id.as_deref());
            let intent = intent(&event, bot_user_id);
            Ok(Received::Event(Callback {
                team_id,
                enterprise_id,
                event_id,
                kind: event.kind,
                scope_changed,
                intent,
            }))
        }
        other => Ok(Received::Other(other.to_owned())),
    }
}

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    match read(&body)? {
        Received::UrlVerification { challenge } => {
            Ok(Json(json!({ "challenge": challenge })).into_response())
        }
        Received::Event(callback) => handle_callback(state, &headers, callback).await,
        Received::Other(kind) => {
            tracing::info!(
                ?kind,
                "acknowledged an Events API envelope learnloop does not use"
            );
            Ok(StatusCode::OK.into_response())
        }
    }
}

async fn handle_callback(
    state: AppState,
    headers: &HeaderMap,
    callback: Callback,
) -> Result<Response, HttpError> {
    let Callback {
        team_id,
        enterprise_id,
        event_id,
        kind,
        scope_changed,
        intent,
    } = callback;
    let shown = team_id.as_deref().or(enterprise_id.as_deref());
    tracing::Span::current().record("workspace", shown.unwrap_or_default());
    if let Some(retry) = headers
        .get("x-slack-retry-num")
        .and_then(|v| v.to_str().ok())
    {
        let reason = headers
            .get("x-slack-retry-reason")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown");
        tracing::info!(retry, reason, ?event_id, "Slack is retrying an event");
    }
    if intent == Intent::Uninstalled {
        return uninstalled(&state, enterprise_id.as_deref(), team_id.as_deref(), &kind).await;
    }
    let Some(workspace) = state
        .workspaces
        .resolve_slack(enterprise_id.as_deref(), team_id.as_deref())
        .await?
    else {
        tracing::warn!("ignored an event from a workspace without an install");
        state.metrics.record_slack_event(EventOutcome::Ignored);
        return Ok(StatusCode::OK.into_response());
    };
    if let Some(conversation) = scope_changed {
        // Private until looked up again, which the refresher does at once.
        let now = state.clock.now();
        state
            .store
            .forget_conversation_scope(workspace.id, &conversation, now)
            .await?;
        tracing::info!(
            ?kind,
            "a conversation changed; its privacy scope is looked up again"
        );
        state.scopes.wake();
        state.metrics.record_slack_event(EventOutcome::Handled);
        return Ok(StatusCode::OK.into_response());
    }
    match intent {
        Intent::Ignore(reason) => {
            tracing::debug!(reason, ?kind, "ignored an event");
            state.metrics.record_slack_event(EventOutcome::Ignored);
        }
        Intent::HomeOpened { user } => {
            // A write only the first time: opening the tab is frequent.
            if !state.store.has_opened_home(workspace.id, &user).await? {
                state
                    .store
                    .mark_home_opened(workspace.id, &user, state.clock.now())
                    .await?;
            }
            state.publish_home(&workspace, &user).await?;
            state.metrics.record_slack_event(EventOutcome::Handled);
        }
        // Handled above, before a workspace is resolved.
        Intent::Uninstalled => {}
        Intent::Joined { channel } => {
            introduce(&state, &workspace, &channel).await?;
            state.metrics.record_slack_event(EventOutcome::Handled);
        }
        Intent::Reply {
            user,
            channel,
            thread_ts,
            text,
            private,
        } => {
            let message = Incoming {
                event_id: &event_id,
                user: &user,
                channel: &channel,
                thread_ts: thread_ts.as_deref(),
                text: &text,
                private,
            };
            answer(&state, &workspace, message).await?;
        }
    }
    Ok(StatusCode::OK.into_response())
}

/// The app was removed (`app_uninstalled`, `tokens_revoked`): the workspace the event
/// names exactly (the team's own, else for an org-wide uninstall the organisation's;
/// never a fallback from one to the other) is marked uninstalled, its queued messages
/// cancelled and its schedules stopped. Repeated or reordered events change nothing more.
async fn uninstalled(
    state: &AppState,
    enterprise_id: Option<&str>,
    team_id: Option<&str>,
    kind: &str,
) -> Result<Response, HttpError> {
    let named = match team_id.or(enterprise_id) {
        Some(id) => match state.store.find_workspace(Platform::Slack, id).await {
            Ok(found) => Some(found),
            Err(crate::store::StoreError::NotFound) => None,
            Err(other) => return Err(other.into()),
        },
        None => None,
    };
    let Some(workspace) = named else {
        tracing::info!(
            kind,
            "an uninstall event for a workspace learnloop holds nothing of"
        );
        state.metrics.record_slack_event(EventOutcome::Ignored);
        return Ok(StatusCode::OK.into_response());
    };
    let cancelled = state
        .store
        .mark_uninstalled(workspace.id, state.clock.now())
        .await?;
    // Requests are cached by the ids they name: any of them may point here.
    state.workspaces.forget_all_slack();
    tracing::info!(
        kind,
        cancelled,
        "the app was removed from a workspace: its queued messages are cancelled and its schedules stop"
    );
    state.metrics.record_slack_event(EventOutcome::Handled);
    Ok(StatusCode::OK.into_response())
}

/// One short intro in a channel the bot was added to: once per channel, however often
/// it is removed and added again (the dedupe key).
async fn introduce(
    state: &AppState,
    workspace: &Workspace,
    channel: &str,
) -> Result<(), HttpError> {
    let body = post_message_body(channel, None, &crate::app::welcome::channel_intro());
    state
        .queue_once(
            workspace.id,
            OutboxMethod::SlackPost,
            channel,
            &format!("intro:{channel}"),
            &body,
        )
        .await
}

/// A message to the bot that wants an answer.
struct Incoming<'a> {
    event_id: &'a str,
    user: &'a str,
    channel: &'a str,
    thread_ts: Option<&'a str>,
    text: &'a str,
    private: bool,
}

/// The fields learnloop reads from an inner event; an event of another shape (objects
/// where a message has strings) reads as one with no fields, which is then ignored.
fn parse_event(raw: serde_json::Value) -> SlackEvent {
    serde_json::from_value(raw.clone()).unwrap_or_else(|_| SlackEvent {
        kind: raw
            .get("type")
            .and_then(|kind| kind.as_str())
            .unwrap_or_default()
            .to_owned(),
        ..SlackEvent::default()
    })
}

fn acknowledge_duplicate(state: &AppState, event_id: &str) {
    tracing::info!(
        event_id,
        "acknowledged a duplicate event without handling it again"
    );
    state.metrics.record_slack_event(EventOutcome::Duplicate);
}

/// Carries out the words of a DM or mention like `/learn` would and queues the answer.
///
/// The event id is claimed first, for a while: a retry racing this delivery is
/// acknowledged without repeating anything. The reply is queued in the transaction
/// that marks the event done. If handling fails the claim is released, and if the
/// handler dies (a timeout, a crash) the claim runs out, so Slack's retry is handled
/// either way; a step of a DM conversation that was taken before a failure recognises
/// the retried event instead of applying it again.
async fn answer(
    state: &AppState,
    workspace: &Workspace,
    message: Incoming<'_>,
) -> Result<(), HttpError> {
    let Some(token) = state.claim_event(workspace.id, message.event_id).await? else {
        acknowledge_duplicate(state, message.event_id);
        return Ok(());
    };
    let result = handle_and_reply(state, workspace, &message, token).await;
    if result.is_err() {
        state
            .release_event(workspace.id, message.event_id, token)
            .await;
    }
    result
}

async fn handle_and_reply(
    state: &AppState,
    workspace: &Workspace,
    message: &Incoming<'_>,
    token: ClaimToken,
) -> Result<(), HttpError> {
    let mut ctx = state.command_context(workspace, message.channel, message.user);
    ctx.event = Some(message.event_id);
    let mut handled = handle_text(&ctx, message.text).await?;
    debrief::await_card(&ctx, &mut handled).await?;
    let (method, body) = if message.private {
        let body = ephemeral_message_body(
            message.channel,
            message.user,
            message.thread_ts,
            &handled.reply,
        );
        (OutboxMethod::SlackEphemeral, body)
    } else {
        let body = post_message_body(message.channel, message.thread_ts, &handled.reply);
        (OutboxMethod::SlackPost, body)
    };
    state
        .send(Queued {
            anonymous_debrief: handled.anonymous_debrief,
            finishes_event: Some((message.event_id, token)),
            ..Queued::new(workspace.id, method, message.channel, &body)
        })
        .await?;
    state.metrics.record_slack_event(EventOutcome::Handled);
    state.refresh_home(workspace, message.user).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: &str, channel_type: Option<&str>, text: &str) -> SlackEvent {
        SlackEvent {
            kind: kind.into(),
            user: Some("U1".into()),
            channel: Some("C1".into()),
            channel_type: channel_type.map(Into::into),
            text: Some(text.into()),
            ts: Some("1.1".into()),
            ..SlackEvent::default()
        }
    }

    #[test]
    fn mentions_are_answered_in_their_thread_without_the_mention() {
        let event = message("app_mention", Some("channel"), "<@UBOT> help goal");
        assert_eq!(
            intent(&event, Some("UBOT")),
            Intent::Reply {
                user: "U1".into(),
                channel: "C1".into(),
                thread_ts: Some("1.1".into()),
                text: "help goal".into(),
                private: true,
            }
        );
    }

    #[test]
    fn direct_messages_are_answered_in_the_dm() {
        let event = message("message", Some("im"), "help");
        assert_eq!(
            intent(&event, Some("UBOT")),
            Intent::Reply {
                user: "U1".into(),
                channel: "C1".into(),
                thread_ts: None,
                text: "help".into(),
                private: false,
            }
        );
    }

    #[test]
    fn bots_ourselves_and_edits_are_ignored() {
        let mut from_bot = message("message", Some("im"), "hi");
        from_bot.bot_id = Some("B1".into());
        assert!(matches!(intent(&from_bot, None), Intent::Ignore(_)));

        let mut ours = message("message", Some("im"), "hi");
        ours.user = Some("UBOT".into());
        assert!(matches!(intent(&ours, Some("UBOT")), Intent::Ignore(_)));

        let mut edit = message("message", Some("im"), "hi");
        edit.subtype = Some("message_changed".into());
        assert!(matches!(intent(&edit, None), Intent::Ignore(_)));

        let channel_message = message("message", Some("channel"), "hi");
        assert!(matches!(intent(&channel_message, None), Intent::Ignore(_)));
    }

    #[test]
    fn events_of_other_shapes_are_ignored_not_refused() {
        let raw =
            serde_json::json!({"type": "channel_created", "channel": {"id": "C1", "name": "x"}});
        let event = parse_event(raw);
        assert_eq!(event.kind, "channel_created");
        assert!(matches!(intent(&event, None), Intent::Ignore(_)));
    }

    #[test]
    fn scope_changes_name_their_channel_as_an_id_or_an_object() {
        use serde_json::json;
        assert_eq!(
            scope_changed(
                &json!({"type": "channel_shared", "channel": "C1", "connected_team_id": "E1"})
            ),
            Some("C1")
        );
        assert_eq!(
            scope_changed(&json!({"type": "channel_rename", "channel": {"id": "C2", "name": "x"}})),
            Some("C2")
        );
        assert_eq!(
            scope_changed(&json!({"type": "group_archive", "channel": "G3"})),
            Some("G3")
        );
        assert_eq!(
            scope_changed(&json!({"type": "message", "channel": "C1"})),
            None
        );
        assert_eq!(scope_changed(&json!({"type": "channel_shared"})), None);
    }

    #[test]
    fn strip_mentions_keeps_other_people() {
        assert_eq!(
            strip_mentions("<@UBOT>   lessons  deploy", Some("UBOT"), true),
            "lessons  deploy"
        );
        assert_eq!(
            strip_mentions("thanks <@U2> and <@UBOT>", Some("UBOT"), true),
            "thanks <@U2> and"
        );
        assert_eq!(
            strip_mentions("<@U2> writes the runbook", Some("UBOT"), false),
            "<@U2> writes the runbook",
            "in a DM a leading mention names someone"
        );
    }
}
