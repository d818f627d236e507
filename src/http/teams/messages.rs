//! `POST /teams/messages`: activities from the Bot Framework, each with a bearer token
//! that is checked before the body is parsed, and checked against the activity after.
//! <https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication>
//!
//! Conversation updates (the bot or people added) are stored as conversation references,
//! the only places outbound calls will go. A message in a team's channel is read as a
//! command and answered with an Adaptive Card through the outbox, in the message's
//! thread; a 1:1 chat is read like a Slack DM, in the workspace of the team where the
//! bot met the person; a card button's `Action.Submit` does what the Slack button does.

use crate::app::AppError;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};

use serde_json::json;

use crate::app::command::{Command, DebriefCommand, parse_learn};
use crate::app::debrief;
use crate::app::debrief::review::{self, REVIEW_CALLBACK, ReviewStep};
use crate::app::debrief::since;
use crate::app::debrief::start_form::{self as start_fields, START_FORM_CALLBACK, read_start_form};
use crate::app::debrief::{Debrief, StartChoices, Submitted};
use crate::app::handle::{CommandContext, handle as handle_command, handle_text};
use crate::app::{followups, mentors, messages};
use crate::http::body::read_limited;
use crate::http::error::HttpError;
use crate::http::verify::BotTokenError;
use crate::http::{AppState, Queued};
use crate::platform::teams::form::{
    NOTE_ACTION, NOTE_INPUT, form_card, note_form, submitted_fields,
};
use crate::platform::teams::{Activity, ChannelAccount, card_activity};
use crate::platform::teams::{SEND_METHOD, UPDATE_METHOD};
use crate::platform::{Message, plain};
use crate::store::{
    ClaimToken, ConversationKind, DebriefId, Platform, StoreError, TeamsConversation, TeamsPerson,
    Workspace, WorkspaceId,
};

/// The Bot Framework `channelId` of Microsoft Teams.
const TEAMS_CHANNEL: &str = "msteams";
/// Stands for the team in the workspace key of personal installs (`TENANT:personal`);
/// no Teams team id looks like it.
const PERSONAL_INSTALL: &str = "personal";

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, HttpError> {
    let Some(verifier) = &state.bot_tokens else {
        tracing::warn!(
            "refused a Teams activity: LEARNLOOP_TEAMS_APP_ID is not set, so its token cannot be checked"
        );
        return Err(HttpError::NotConfigured(
            "the Microsoft Teams bot (LEARNLOOP_TEAMS_APP_ID)",
        ));
    };
    let authorization = headers.get(AUTHORIZATION).map(|v| v.as_bytes());
    let token = verifier.verify(authorization).await.map_err(refused)?;
    let bytes = read_limited(&headers, body, state.body_limit_bytes).await?;
    let activity: Activity = serde_json::from_slice(&bytes).map_err(HttpError::bad_request)?;
    let (Some(channel_id), Some(service_url)) = (
        activity.channel_id.as_deref(),
        activity.service_url.as_deref(),
    ) else {
        return Err(HttpError::bad_request(
            "an activity without channelId or serviceUrl",
        ));
    };
    token.admits(channel_id, service_url).map_err(refused)?;
    // Other Bot Framework channels (Web Chat, Direct Line) let the client write `from` and
    // `channelData`, which name the workspace and the person here: only Teams is trusted.
    if channel_id != TEAMS_CHANNEL {
        tracing::warn!(
            channel_id,
            "refused an activity from a channel other than Microsoft Teams"
        );
        return Err(HttpError::Unauthorized);
    }
    super::tenant_allowed(&state, &activity)?;

    match activity.kind.as_str() {
        "conversationUpdate" => {
            if let Some(key) = activity.workspace_key() {
                if bot_was_removed(&activity) || activity.team_deleted() {
                    return uninstall_team(&state, &key).await;
                }
                if bot_was_added(&activity) {
                    // Installed from the database, not from what this replica cached
                    // before another one saw the bot removed.
                    state.workspaces.forget(Platform::Teams, &key);
                }
            }
            let workspace = remember(&state, &activity, service_url).await?;
            if let Some(workspace) = workspace
                && bot_was_added(&activity)
            {
                // Who added the bot administers the team's dashboard.
                if activity.team_id().is_some()
                    && let Some(installer) = activity.from_id()
                {
                    state
                        .store
                        .record_installer(workspace.id, installer)
                        .await?;
                }
                learn_the_roster(&state, workspace.id, &activity, service_url);
                welcome(&state, &workspace, &activity).await?;
            }
            Ok(StatusCode::OK)
        }
        "message" => {
            let Some(workspace) = remember(&state, &activity, service_url).await? else {
                return Ok(StatusCode::OK);
            };
            answer(&state, &workspace, &activity).await?;
            Ok(StatusCode::OK)
        }
        other => {
            tracing::debug!(
                kind = other,
                "acknowledged a Teams activity the bot does not act on"
            );
            Ok(StatusCode::OK)
        }
    }
}

/// 401 for a token we refuse; 503 when Microsoft's keys cannot be fetched (a retry may
/// succeed, and the token may well be good).
fn refused(reason: BotTokenError) -> HttpError {
    if let BotTokenError::KeysUnavailable(_) = reason {
        tracing::warn!(?reason, "could not check a Teams activity's token");
        return HttpError::Unavailable("the Bot Framework's signing keys");
    }
    tracing::info!(?reason, "refused a Teams activity with a bad token");
    HttpError::Unauthorized
}

/// Carries out a message once: a redelivered activity (same id in the same
/// conversation) is acknowledged without being handled again, as Slack's events are.
async fn answer(
    state: &AppState,
    workspace: &Workspace,
    activity: &Activity,
) -> Result<(), HttpError> {
    let key = activity.delivery_key();
    let claim = match &key {
        Some(key) => match state.claim_event(workspace.id, key).await? {
            Some(token) => Some((key.as_str(), token)),
            None => {
                tracing::info!(
                    "acknowledged a Teams activity delivered again without handling it again"
                );
                return Ok(());
            }
        },
        None => None,
    };
    let result = reply(state, workspace, activity, claim).await;
    if result.is_err()
        && let Some((key, token)) = claim
    {
        state.release_event(workspace.id, key, token).await;
    }
    result
}

/// Carries out a message (a command, an answer in a 1:1 conversation, or a card button)
/// and queues what the bot says back as a card in its thread, marking the activity
/// (`finishes`) handled in the same transaction.
async fn reply(
    state: &AppState,
    workspace: &Workspace,
    activity: &Activity,
    finishes: Option<(&str, ClaimToken)>,
) -> Result<(), HttpError> {
    let (Some(user), Some(conversation)) = (activity.from_id(), activity.conversation_id()) else {
        return Err(HttpError::bad_request(
            "a message without from.id or conversation.id",
        ));
    };
    let channel = conversation.split(';').next().unwrap_or(conversation);
    let mut ctx = state.command_context(workspace, channel, user);
    ctx.event = finishes.map(|(event, _)| event);
    // Set when the answer carries answers of an anonymous debrief.
    let mut anonymous = None;
    let said = if let Some(data) = activity
        .value
        .as_ref()
        .filter(|v| v.get("action").is_some())
    {
        on_click(state, &ctx, activity, data).await?
    } else if ctx.in_direct_message() {
        // A 1:1 chat: an answer in a debrief conversation or check-in, else a command.
        let handled = handle_text(&ctx, &activity.command_text()).await?;
        anonymous = handled.anonymous_debrief;
        Said::Reply(handled.reply)
    } else {
        let parsed = parse_learn(&activity.command_text());
        let closing = match &parsed {
            Ok(Command::Debrief(DebriefCommand::Close)) => debrief::own_open_debrief(&ctx).await?,
            _ => None,
        };
        if parsed == Ok(Command::Debrief(DebriefCommand::StartForm)) {
            Said::Form {
                replace: None,
                form: form_card(
                    &start_fields::form(
                        &StartChoices::of(&ctx),
                        &BTreeMap::new(),
                        &BTreeMap::new(),
                        None,
                    ),
                    &[],
                ),
                anonymous_debrief: None,
            }
        } else if let Some(mine) = closing {
            review_in_chat(state, &ctx, &mine).await?
        } else {
            Said::Reply(match parsed {
                Ok(Command::Help { topic: None }) => messages::teams_bot_help(),
                Ok(Command::Help { topic }) => messages::help(topic),

                // A channel reply is seen by everyone: what is only the person's goes to
                // their 1:1 chat.
                Ok(command) if command.is_personal() => {
                    let reply = run(&ctx, &command).await?;
                    let name_of = |id: &str| activity.sender_name(id);
                    send_to_person(state, &ctx, &card_activity(&reply, &name_of), None).await?;
                    messages::answered_in_private()
                }
                Ok(command) => run(&ctx, &command).await?,
                Err(usage_error) => messages::usage_error(&usage_error),
            })
        }
    };
    let name_of = |id: &str| activity.sender_name(id);
    let (method, mut card) = match said {
        Said::Reply(message) => (SEND_METHOD, card_activity(&message, &name_of)),
        Said::Replace { card, message } => {
            let mut activity = card_activity(&message, &name_of);
            activity["id"] = json!(card);
            (UPDATE_METHOD, activity)
        }
        Said::Form {
            replace,
            mut form,
            anonymous_debrief,
        } => {
            anonymous = anonymous.or(anonymous_debrief);
            match replace {
                Some(card) => {
                    form["id"] = json!(card);
                    (UPDATE_METHOD, form)
                }
                None => (SEND_METHOD, form),
            }
        }
    };
    card["conversation"] = json!({"id": conversation});
    if let (SEND_METHOD, Some(id)) = (method, &activity.id) {
        card["replyToId"] = json!(id);
    }
    state
        .send(Queued {
            anonymous_debrief: anonymous,
            finishes_event: finishes,
            ..Queued::new(workspace.id, method, channel, &card)
        })
        .await
}

/// What the bot says back: a reply, or the clicked card replaced (a follow-up question
/// becomes its recorded answer, as on Slack).
enum Said {
    Reply(Message),
    Replace {
        card: String,
        message: Message,
    },
    /// The reflection form again, with what was wrong (in place of the one submitted).
    Form {
        replace: Option<String>,
        form: serde_json::Value,
        /// The form holds answers of this anonymous debrief.
        anonymous_debrief: Option<DebriefId>,
    },
}

impl Said {
    /// `message` in place of the card that was clicked when `replace` (something was
    /// recorded) and the click names its card; a reply otherwise.
    fn instead_of_card(activity: &Activity, message: Message, replace: bool) -> Self {
        match (&activity.reply_to_id, replace) {
            (Some(card), true) => Self::Replace {
                card: card.clone(),
                message,
            },
            _ => Self::Reply(message),
        }
    }
}

/// Carries out a command; its reply.
async fn run(ctx: &CommandContext<'_>, command: &Command) -> Result<Message, HttpError> {
    let handled = handle_command(ctx, command).await?;
    Ok(handled.reply)
}

/// An `Action.Submit` click: `data` holds the same `action` and `value` a Slack button
/// carries, and each does what it does on Slack. The reflection form is the 1:1
/// conversation in Teams.
async fn on_click(
    state: &AppState,
    ctx: &CommandContext<'_>,
    activity: &Activity,
    data: &serde_json::Value,
) -> Result<Said, HttpError> {
    let action = data["action"].as_str().unwrap_or_default();
    let value = data["value"].as_str().unwrap_or_default();
    if action == followups::NOTE {
        let follow_up = value
            .parse()
            .map_err(|_| HttpError::bad_request("`followup.note` without its follow-up"))?;
        return Ok(Said::Form {
            replace: None,
            form: note_form(follow_up, followups::MAX_NOTE_CHARS, None),
            anonymous_debrief: None,
        });
    }
    if action == NOTE_ACTION {
        return on_note(ctx, activity, data).await;
    }
    if since::outcome_of(action).is_some() || action == mentors::INTRO {
        let handled = if action == mentors::INTRO {
            mentors::intro(ctx, value).await?
        } else {
            since::answer(ctx, action, value).await?
        };
        return Ok(Said::Reply(handled.reply));
    }
    if action == followups::KEEP || action == followups::RETIRE {
        let answered = followups::keep_or_retire(ctx, action, value).await?;
        return Ok(Said::instead_of_card(
            activity,
            answered.message,
            answered.recorded,
        ));
    }
    if let Some(answer) = followups::Answer::from_action(action) {
        let answered =
            followups::answer(ctx, value, answer, activity.reply_to_id.as_deref()).await?;
        return Ok(Said::instead_of_card(
            activity,
            answered.message,
            answered.recorded,
        ));
    }
    match action {
        debrief::REFLECT | debrief::REFLECT_IN_DM | debrief::NUDGE | debrief::CLOSE => {
            // The card's own debrief, whatever else is open in the channel.
            let Some(debrief) = clicked_debrief(ctx, value).await? else {
                return Ok(Said::Reply(Message::text("That debrief no longer exists.")));
            };
            match action {
                debrief::REFLECT => send_form(state, ctx, &debrief).await,
                debrief::REFLECT_IN_DM => {
                    let first = debrief::reflect_in_dm(ctx, &debrief).await?;
                    let first = card_activity(&first, &|_| None);
                    send_to_person(state, ctx, &first, anonymous_of(&debrief)).await?;
                    Ok(Said::Reply(Message::text(
                        ":speech_balloon: The first question is in our 1:1 chat.",
                    )))
                }
                debrief::NUDGE => {
                    let handled = debrief::nudge(ctx, &debrief).await?;
                    Ok(Said::Reply(handled.reply))
                }
                _ => review_in_chat(state, ctx, &debrief).await,
            }
        }
        REVIEW_CALLBACK => on_review(ctx, activity, data).await,
        START_FORM_CALLBACK => on_start_form(ctx, activity, data).await,
        debrief::REFLECTION_FORM => on_reflection(ctx, activity, data).await,
        debrief::START => {
            let Some((template, title)) = debrief::read_start_value(value) else {
                return Err(HttpError::bad_request("`debrief.start` without a title"));
            };
            let handled = debrief::start_from_reminder(ctx, template, title).await?;
            Ok(Said::Reply(handled.reply))
        }
        _ => Ok(Said::Reply(messages::button_not_in_teams())),
    }
}

/// Close by the facilitator: the review form goes to their 1:1 chat (its last page
/// closes the debrief); with nothing to review, it closes now.
async fn review_in_chat(
    state: &AppState,
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<Said, HttpError> {
    let page = if debrief.facilitator == ctx.user && debrief.is_open() {
        review::review_page(ctx, debrief, 0).await?
    } else {
        None
    };
    let Some(page) = page else {
        let handled = debrief::close(ctx, debrief).await?;
        return Ok(Said::Reply(handled.reply));
    };
    let form = form_card(&debrief::review_form(&page), &roster(ctx).await?);
    send_to_person(state, ctx, &form, anonymous_of(debrief)).await?;
    Ok(Said::Reply(Message::text(format!(
        ":memo: The review of *{}* is in our 1:1 chat: keep, edit or drop each candidate, \
         and it closes when you are done.",
        plain(&debrief.title)
    ))))
}

/// The team's people as an owner menu offers them: id and name, by name.
async fn roster(ctx: &CommandContext<'_>) -> Result<Vec<(String, String)>, HttpError> {
    let mut people: Vec<(String, String)> = ctx
        .store
        .teams_people(ctx.workspace.id)
        .await?
        .into_iter()
        .map(|p| {
            let name = p.name.unwrap_or_else(|| p.person.clone());
            (p.person, name)
        })
        .collect();
    people.sort_by_key(|(_, name)| name.to_lowercase());
    Ok(people)
}

/// A submitted review page: the next page in its place, or the debrief closed.
async fn on_review(
    ctx: &CommandContext<'_>,
    activity: &Activity,
    data: &serde_json::Value,
) -> Result<Said, HttpError> {
    let (Some(id), Some(page)) = (data["debrief"].as_i64(), data["page"].as_u64()) else {
        return Err(HttpError::bad_request(
            "a review without its debrief and page",
        ));
    };
    let Some(debrief) = clicked_debrief(ctx, &id.to_string()).await? else {
        return Ok(Said::Reply(Message::text("That debrief no longer exists.")));
    };
    match review::submit_page(ctx, &debrief, page as usize, &submitted_fields(data)).await? {
        ReviewStep::Next(next) => Ok(Said::Form {
            replace: activity.reply_to_id.clone(),
            form: form_card(&debrief::review_form(&next), &roster(ctx).await?),
            anonymous_debrief: anonymous_of(&debrief),
        }),
        ReviewStep::Done(handled) => Ok(Said::instead_of_card(activity, handled.reply, true)),
    }
}

/// A submitted start form: the debrief starts in the form's channel, or the form comes
/// back with what is wrong under each field.
async fn on_start_form(
    ctx: &CommandContext<'_>,
    activity: &Activity,
    data: &serde_json::Value,
) -> Result<Said, HttpError> {
    let values = submitted_fields(data);
    let choices = StartChoices::of(ctx);
    let problems = match read_start_form(&values, &choices) {
        Ok(fields) => {
            let handled = debrief::start(ctx, fields.request()).await?;
            if handled.card.is_some() {
                return Ok(Said::instead_of_card(activity, handled.reply, true));
            }
            // Not started (a closing date in the past): said under the date.
            BTreeMap::from([(start_fields::CLOSES_ON.to_owned(), handled.reply.fallback)])
        }
        Err(problems) => problems,
    };
    Ok(Said::Form {
        replace: activity.reply_to_id.clone(),
        form: form_card(&start_fields::form(&choices, &values, &problems, None), &[]),
        anonymous_debrief: None,
    })
}

/// A saved note form: stored on the person's answer (the form becomes a thank-you), or
/// shown again with what is wrong.
async fn on_note(
    ctx: &CommandContext<'_>,
    activity: &Activity,
    data: &serde_json::Value,
) -> Result<Said, HttpError> {
    let follow_up = data["follow_up"]
        .as_i64()
        .ok_or_else(|| HttpError::bad_request("a note without its follow-up id"))?;
    let note = data[NOTE_INPUT].as_str().unwrap_or_default().trim();
    let problem = if note.is_empty() {
        Some("Write a note first.".to_owned())
    } else if note.chars().count() > followups::MAX_NOTE_CHARS {
        Some(format!(
            "Keep it to {} characters.",
            followups::MAX_NOTE_CHARS
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        return Ok(Said::Form {
            replace: activity.reply_to_id.clone(),
            form: note_form(follow_up, followups::MAX_NOTE_CHARS, Some(&problem)),
            anonymous_debrief: None,
        });
    }
    let saved = followups::note(ctx, follow_up, note).await?;
    let message = if saved {
        Message::text(
            ":memo: Noted. Thank you: it shows with the lesson, in its debrief thread and the team digest.",
        )
    } else {
        Message::text("That answer is not yours, or no longer exists.")
    };
    Ok(Said::instead_of_card(activity, message, saved))
}

/// "Add reflection": the form goes to the person's 1:1 chat, where only they see it.
async fn send_form(
    state: &AppState,
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<Said, HttpError> {
    if !debrief.is_open() {
        return Ok(Said::Reply(Message::text(
            "This debrief is closed, so it takes no more reflections.",
        )));
    }
    let earlier = debrief::earlier_answers(ctx, debrief).await?;
    let form = form_card(
        &debrief::reflection_form(debrief, &earlier, &BTreeMap::new()),
        &[],
    );
    send_to_person(state, ctx, &form, anonymous_of(debrief)).await?;
    Ok(Said::Reply(Message::text(
        ":memo: The form is in our 1:1 chat.",
    )))
}

/// The debrief a card button names (its value is the id); `None` when it is gone.
async fn clicked_debrief(
    ctx: &CommandContext<'_>,
    value: &str,
) -> Result<Option<Debrief>, HttpError> {
    let id = value
        .parse()
        .map_err(|_| HttpError::bad_request("a debrief button without its debrief id"))?;
    match debrief::load(ctx, DebriefId(id)).await {
        Ok(debrief) => Ok(Some(debrief)),
        Err(AppError::Store(StoreError::NotFound)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Queues an activity for the person's 1:1 chat with the bot (opened on first use);
/// one that carries answers of an anonymous debrief is erased once delivered.
async fn send_to_person(
    state: &AppState,
    ctx: &CommandContext<'_>,
    activity: &serde_json::Value,
    anonymous_debrief: Option<DebriefId>,
) -> Result<(), HttpError> {
    state
        .send(Queued {
            anonymous_debrief,
            ..Queued::new(ctx.workspace.id, SEND_METHOD, ctx.user, activity)
        })
        .await
}

/// The debrief, when what is sent about it may echo anonymous answers.
fn anonymous_of(debrief: &Debrief) -> Option<DebriefId> {
    debrief.anonymous.then_some(debrief.id)
}

/// A submitted form: stored (the form becomes a thank-you), or shown again with what
/// is wrong under each question.
async fn on_reflection(
    ctx: &CommandContext<'_>,
    activity: &Activity,
    data: &serde_json::Value,
) -> Result<Said, HttpError> {
    let id = data["debrief"]
        .as_i64()
        .ok_or_else(|| HttpError::bad_request("a reflection without its debrief id"))?;
    let debrief = match debrief::load(ctx, DebriefId(id)).await {
        Ok(debrief) => debrief,
        Err(AppError::Store(StoreError::NotFound)) => {
            return Ok(Said::Reply(Message::text(
                "This debrief no longer exists, so your reflection could not be added.",
            )));
        }
        Err(other) => return Err(other.into()),
    };
    let values = submitted_fields(data);
    let answers = match debrief::check_form(&debrief, &values) {
        Ok(answers) => answers,
        Err(problems) => {
            let form = form_card(&debrief::reflection_form(&debrief, &values, &problems), &[]);
            return Ok(Said::Form {
                replace: activity.reply_to_id.clone(),
                form,
                anonymous_debrief: debrief.anonymous.then_some(debrief.id),
            });
        }
    };
    let saved = match debrief::submit(ctx, &debrief, &answers).await? {
        Submitted::Saved { .. } => Message::text(format!(
            ":white_check_mark: Saved your reflection on *{}*. Add reflection on the card again to change it.",
            plain(&debrief.title)
        )),
        Submitted::Closed => {
            Message::text("This debrief has closed, so your reflection could not be added.")
        }
        Submitted::Empty => Message::text(debrief::EMPTY_REFLECTION),
    };
    Ok(Said::instead_of_card(activity, saved, true))
}

/// The bot was removed from team `key` (or the team deleted): it is uninstalled there
/// (schedules, follow-ups and queued messages stop, its dashboard admits nobody) until
/// the bot is added again, which installs it anew. A team never seen is not created.
async fn uninstall_team(state: &AppState, key: &str) -> Result<StatusCode, HttpError> {
    state.workspaces.forget(Platform::Teams, key);
    let workspace = match state.store.find_workspace(Platform::Teams, key).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Ok(StatusCode::OK),
        Err(other) => return Err(other.into()),
    };
    let cancelled = state
        .store
        .mark_uninstalled(workspace.id, state.clock.now())
        .await?;
    tracing::info!(
        workspace = workspace.id.0,
        cancelled,
        "the bot was removed from a team: its queued messages are cancelled and its schedules stop"
    );
    Ok(StatusCode::OK)
}

/// Whether this update adds the bot itself (to a team or chat).
fn bot_was_added(activity: &Activity) -> bool {
    names_the_bot(activity, &activity.members_added)
}

/// Whether this update removes the bot itself.
fn bot_was_removed(activity: &Activity) -> bool {
    names_the_bot(activity, &activity.members_removed)
}

fn names_the_bot(activity: &Activity, members: &[ChannelAccount]) -> bool {
    let bot = activity.recipient.as_ref().and_then(|r| r.id.as_deref());
    bot.is_some() && members.iter().any(|m| m.id.as_deref() == bot)
}

/// The welcome card where the bot was just added: the team's channel, or the 1:1 chat of
/// someone who installed it for themselves. Once per conversation (a dedupe key), however
/// often Teams repeats the update or the bot is removed and added again.
async fn welcome(
    state: &AppState,
    workspace: &Workspace,
    activity: &Activity,
) -> Result<(), HttpError> {
    let Some(conversation) = activity.conversation_id() else {
        return Ok(());
    };
    let personal = activity.conversation_kind() == ConversationKind::PersonalChat;
    if personal {
        // Welcomed now: their first words in the chat are answered, not welcomed again.
        let bot = activity.recipient.as_ref().and_then(|r| r.id.as_deref());
        let now = state.clock.now();
        // Teams names the installer in `from` (and often only the bot in membersAdded).
        let added = activity
            .members_added
            .iter()
            .filter_map(|m| m.id.as_deref());
        for person in added.chain(activity.from_id()) {
            if Some(person) != bot {
                state.store.mark_welcomed(workspace.id, person, now).await?;
            }
        }
    }
    let message = crate::app::welcome::teams_message(personal);
    let mut card = card_activity(&message, &|id: &str| activity.sender_name(id));
    card["conversation"] = json!({"id": conversation});
    let channel = conversation.split(';').next().unwrap_or(conversation);
    state
        .queue_once(
            workspace.id,
            SEND_METHOD,
            channel,
            &format!("welcome:{channel}"),
            &card,
        )
        .await
}

/// When the bot joins a team, the update names only the bot: the team's members are
/// asked of the connector, in the background, so the bot can answer anyone's 1:1 chat
/// and reach them later. A failure is logged; people are also learnt as they write.
fn learn_the_roster(
    state: &AppState,
    workspace: WorkspaceId,
    activity: &Activity,
    service_url: &str,
) {
    let (Some(client), Some(team)) = (state.teams.clone(), activity.team_id()) else {
        return;
    };
    let (store, clock) = (state.store.clone(), state.clock.clone());
    let (team, service_url) = (team.to_owned(), service_url.to_owned());
    tokio::spawn(async move {
        let members = match client.team_members(&service_url, &team).await {
            Ok(members) => members,
            Err(err) => {
                tracing::warn!(error = %err, "could not read the team's members");
                return;
            }
        };
        let now = clock.now();
        for member in members {
            let Some(id) = member.id else { continue };
            let person = TeamsPerson {
                person: id,
                name: member.name,
                aad_object_id: member.aad_object_id,
                service_url: service_url.clone(),
            };
            if let Err(err) = store.remember_teams_person(workspace, &person, now).await {
                tracing::warn!(error = %err, "could not store a team member");
                return;
            }
        }
    });
}

/// Stores the conversation (with the bot's id in it) and the people the activity names:
/// its sender and anyone added, except the bot itself. The team's workspace, or `None`
/// outside a team.
async fn remember(
    state: &AppState,
    activity: &Activity,
    service_url: &str,
) -> Result<Option<Arc<Workspace>>, HttpError> {
    let Some(tenant) = activity.tenant_id() else {
        return Ok(None);
    };
    let workspace = match activity.workspace_key() {
        Some(key) => state.workspaces.ensure_teams(&key).await?,
        // A 1:1 or group chat belongs to no team. A person's 1:1 chat answers the team
        // where they are in the middle of a debrief conversation or check-in (its state
        // belongs to the team that started it); else it is the workspace that last used
        // the chat, else the team where the bot last met the sender.
        None => {
            let awaiting = match (activity.conversation_kind(), activity.from_id()) {
                (ConversationKind::PersonalChat, Some(person)) => {
                    state.store.teams_workspace_awaiting(tenant, person).await?
                }
                _ => None,
            };
            let by_chat = match (awaiting, activity.conversation_id()) {
                (Some(workspace), _) => Some(workspace),
                (None, Some(chat)) => state.store.teams_workspace_of_chat(tenant, chat).await?,
                (None, None) => None,
            };
            let home = match (by_chat, activity.from_id()) {
                (Some(workspace), _) => Some(workspace),
                (None, Some(person)) => state.store.teams_home_workspace(tenant, person).await?,
                (None, None) => None,
            };
            match home {
                Some(id) => Arc::new(state.store.workspace_by_id(id).await?),
                // Someone who installed the bot for themselves, in no team the bot is
                // in: their 1:1 chat is a workspace of its own in their tenant
                // (`help`, goals and check-ins work there).
                None if activity.conversation_kind() == ConversationKind::PersonalChat => {
                    state
                        .workspaces
                        .ensure_teams(&format!("{tenant}:{PERSONAL_INSTALL}"))
                        .await?
                }
                None => {
                    tracing::info!(
                        "a Teams group chat from someone the bot has not met in a team; not answered"
                    );
                    return Ok(None);
                }
            }
        }
    };
    let now = state.clock.now();
    let bot_id = activity.recipient.as_ref().and_then(|r| r.id.as_deref());
    if let (Some(conversation), Some(bot_id)) = (activity.conversation.as_ref(), bot_id)
        && let Some(id) = conversation.id.as_deref()
    {
        let kind = match conversation.conversation_type.as_deref() {
            Some("personal") => "personal",
            Some("groupChat") => "groupChat",
            _ => "channel",
        };
        // A channel message's conversation id carries `;messageid=…`: the channel is
        // what comes before it.
        let channel = id.split(';').next().unwrap_or(id);
        let reference = TeamsConversation {
            conversation_id: channel.to_owned(),
            kind: kind.to_owned(),
            service_url: service_url.to_owned(),
            bot_id: bot_id.to_owned(),
            tenant_id: tenant.to_owned(),
            person: (kind == "personal")
                .then(|| activity.from_id().map(str::to_owned))
                .flatten(),
        };
        state
            .store
            .remember_teams_conversation(workspace.id, &reference, now)
            .await?;
        state
            .store
            .record_said_scope(workspace.id, channel, activity.conversation_kind(), now)
            .await?;
    }
    let people = activity
        .members_added
        .iter()
        .chain(activity.from.as_ref())
        .filter(|member| member.id.is_some() && member.id.as_deref() != bot_id);
    for member in people {
        let person = TeamsPerson {
            person: member.id.clone().unwrap_or_default(),
            name: member.name.clone(),
            aad_object_id: member.aad_object_id.clone(),
            service_url: service_url.to_owned(),
        };
        state
            .store
            .remember_teams_person(workspace.id, &person, now)
            .await?;
    }
    // Teams tells us the sender's time zone with each message: personal schedules and
    // dates use it, as Slack's users.info zone is used there.
    if let (Some(person), Some(zone)) = (activity.from_id(), activity.client_time_zone()) {
        let name = activity.from.as_ref().and_then(|from| from.name.as_deref());
        state.store.ensure_person(workspace.id, person, now).await?;
        state
            .store
            .update_person_profile(workspace.id, person, name, Some(zone.name()), now)
            .await?;
    }
    Ok(Some(workspace))
}
