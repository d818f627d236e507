//! The guided DM conversation around [`conversation`]: starting it (from the card's
//! button or `/learn debrief reflect`), choosing between several open debriefs, and
//! feeding it the person's messages with its progress kept in the database.

use super::conversation::{self, Outcome, Progress};
use super::{Debrief, Submitted, load, submit};
use crate::app::AppError;
use crate::app::handle::{CommandContext, Handled};
use crate::app::words::count_of;
use crate::platform::outgoing::{self, no_names};
use crate::platform::{Block, Message, plain};
use crate::store::{Conversation, DebriefId, NewOutboxMessage, StoreError};

fn progress_of(conversation: &Conversation) -> Progress {
    Progress {
        step: usize::try_from(conversation.step).unwrap_or(0),
        answers: serde_json::from_str(&conversation.answers).unwrap_or_default(),
        nudged: conversation.nudged,
    }
}

fn conversation_of(
    ctx: &CommandContext<'_>,
    debrief: Option<DebriefId>,
    choices: &[i64],
    progress: &Progress,
) -> Conversation {
    Conversation {
        person: ctx.user.to_owned(),
        debrief_id: debrief.map(|d| d.0),
        choices: serde_json::to_string(choices).unwrap_or_else(|_| "[]".into()),
        step: progress.step as i64,
        answers: serde_json::to_string(&progress.answers).unwrap_or_else(|_| "{}".into()),
        nudged: progress.nudged,
        version: 0,
        last_event: ctx.event.map(str::to_owned),
    }
}

/// Starts (or replaces) the person's conversation.
async fn save(
    ctx: &CommandContext<'_>,
    debrief: Option<DebriefId>,
    choices: &[i64],
    progress: &Progress,
) -> Result<(), AppError> {
    let conversation = conversation_of(ctx, debrief, choices, progress);
    ctx.store
        .save_conversation(ctx.workspace.id, &conversation, ctx.clock.now())
        .await
        .map_err(AppError::from)
}

/// The person's message was taken already (a platform's retry of the same event, or
/// another delivery that got there first): say where they are instead of applying it
/// again to the next question.
fn where_you_are(debrief: &Debrief, conversation: &Conversation) -> Handled {
    Handled {
        reply: conversation::resume(&debrief.questions, &progress_of(conversation)),
        anonymous_debrief: debrief.anonymous.then_some(debrief.id),
        ..Handled::default()
    }
}

/// Another delivery moved the conversation first: where the person is now, or (when
/// it ended: submitted from the form, cancelled, replaced) that nothing was stored,
/// rather than the answer read as a command.
async fn moved_on(ctx: &CommandContext<'_>, debrief: &Debrief) -> Result<Handled, AppError> {
    let moved = ctx.store.conversation(ctx.workspace.id, ctx.user).await?;
    Ok(match moved {
        Some(current) if current.debrief_id == Some(debrief.id.0) => {
            where_you_are(debrief, &current)
        }
        _ => ended_meanwhile(debrief),
    })
}

/// The conversation ended (submitted from the form, cancelled, or replaced) while this
/// answer was on its way: nothing was stored.
fn ended_meanwhile(debrief: &Debrief) -> Handled {
    Handled {
        reply: Message::text(format!(
            "Your conversation about *{}* ended before this answer arrived, so it was not \
             saved. Reflect again from the debrief card if you have more to add.",
            plain(&debrief.title)
        )),
        anonymous_debrief: debrief.anonymous.then_some(debrief.id),
        ..Handled::default()
    }
}

/// Starts (or restarts) the person's conversation about `debrief` and returns the
/// first question, with a word on how it works.
pub async fn reflect_in_dm(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<Message, AppError> {
    if !debrief.is_open() {
        return Ok(closed_message(debrief));
    }
    // A second click (or a duplicate delivery of the first) picks up where they are.
    if let Some(current) = ctx.store.conversation(ctx.workspace.id, ctx.user).await?
        && current.debrief_id == Some(debrief.id.0)
    {
        let mut message = Message::text(format!(
            "You're already reflecting on *{}*; here is where you were.",
            plain(&debrief.title)
        ));
        message
            .blocks
            .extend(conversation::ask(&debrief.questions, &progress_of(&current)).blocks);
        return Ok(message);
    }
    // Reflecting again starts from the earlier answers, so changing one keeps the rest.
    let progress = Progress {
        answers: super::earlier_answers(ctx, debrief).await?,
        ..Progress::default()
    };
    save(ctx, Some(debrief.id), &[], &progress).await?;
    let mut message = Message::text(format!(
        ":wave: Let's reflect on *{}*{}. I'll ask {}, one at a time. Type `skip`, \
         `back`, `cancel` or `help` at any point.",
        plain(&debrief.title),
        if debrief.anonymous {
            " (anonymous: your name is never shown or stored with your answers)"
        } else {
            ""
        },
        count_of(&debrief.questions, "question", "questions")
    ));
    message
        .blocks
        .extend(conversation::ask(&debrief.questions, &progress).blocks);
    Ok(message)
}

fn closed_message(debrief: &Debrief) -> Message {
    Message::text(format!(
        "*{}* is closed, so it takes no more reflections. Thank you all the same!",
        plain(&debrief.title)
    ))
}

/// `/learn debrief reflect`: the open debrief of this channel (or, in a DM, of the
/// workspace); with several, the person is asked which one.
pub async fn reflect_command(ctx: &CommandContext<'_>) -> Result<Handled, AppError> {
    let in_dm = ctx.in_direct_message();
    if in_dm {
        // Listing the workspace's debriefs here would show those of private channels
        // to anyone; the channel (or its card) is where membership is known.
        return Ok(Message::text(
            "Type `/learn debrief reflect` in the channel of the debrief, or use *Reflect \
             in DM* on its card; I'll bring the questions here.",
        )
        .into());
    }
    let open = ctx
        .store
        .open_debriefs(ctx.workspace.id, Some(ctx.channel))
        .await?;
    // The debrief whose answers the prompt may echo (its first question, with the
    // person's earlier answer), when it is anonymous.
    let mut anonymous = None;
    let prompt = match open.len() {
        0 => {
            return Ok(Message::text(
                "There is no open debrief here. `/debrief TITLE` starts one.",
            )
            .into());
        }
        1 => {
            let debrief: Debrief = open.into_iter().next().expect("one").try_into()?;
            anonymous = debrief.anonymous.then_some(debrief.id);
            reflect_in_dm(ctx, &debrief).await?
        }
        _ => {
            let ids: Vec<i64> = open.iter().map(|d| d.id).collect();
            save(ctx, None, &ids, &Progress::default()).await?;
            let lines: Vec<String> = open
                .iter()
                .enumerate()
                .map(|(i, d)| format!("`{}` {} (in <#{}>)", i + 1, plain(&d.title), d.channel))
                .collect();
            Message {
                fallback: "Which debrief do you want to reflect on?".into(),
                blocks: vec![
                    Block::Text(format!(
                        "Which debrief do you want to reflect on? Reply with its number.\n{}",
                        lines.join("\n")
                    )),
                    Block::Context("`cancel` stops.".into()),
                ],
            }
        }
    };
    if in_dm {
        return Ok(Handled {
            reply: prompt,
            anonymous_debrief: anonymous,
            ..Handled::default()
        });
    }
    // Typed in a channel: the conversation happens in the person's DM with the bot.
    let posted = outgoing::post(ctx.workspace.platform, ctx.user, &prompt, &no_names);
    let now = ctx.clock.now();
    ctx.store
        .enqueue(
            NewOutboxMessage {
                method: posted.method,
                anonymous_debrief: anonymous,
                ..NewOutboxMessage::post(ctx.workspace.id, ctx.user, &posted.body)
            },
            now,
            ctx.give_up_at(now),
        )
        .await?;
    Ok(Handled {
        reply: Message::text(":speech_balloon: I've sent you a DM with the first question."),
        queued: true,
        ..Handled::default()
    })
}

/// Takes a DM from a person in a conversation; `None` when they are in none, so the
/// message is read as a command instead.
pub async fn converse(ctx: &CommandContext<'_>, text: &str) -> Result<Option<Handled>, AppError> {
    if !ctx.in_direct_message() {
        // A mention in a channel is a command, never an answer shown to the channel.
        return Ok(None);
    }
    let Some(conversation) = ctx.store.conversation(ctx.workspace.id, ctx.user).await? else {
        return Ok(None);
    };
    let retried = ctx.event.is_some() && conversation.last_event.as_deref() == ctx.event;
    let Some(debrief_id) = conversation.debrief_id else {
        if retried {
            return Ok(Some(
                Message::text("Please reply with the number of the debrief (or `cancel`).").into(),
            ));
        }
        return choose(ctx, &conversation, text).await.map(Some);
    };
    let debrief = match load(ctx, DebriefId(debrief_id)).await {
        Ok(debrief) => debrief,
        Err(AppError::Store(StoreError::NotFound)) => {
            ctx.store
                .end_conversation(ctx.workspace.id, &conversation)
                .await?;
            return Ok(None);
        }
        Err(other) => return Err(other),
    };
    if !debrief.is_open() {
        ctx.store
            .end_conversation(ctx.workspace.id, &conversation)
            .await?;
        return Ok(Some(closed_message(&debrief).into()));
    }
    if retried {
        return Ok(Some(where_you_are(&debrief, &conversation)));
    }
    let mut progress = progress_of(&conversation);
    let (outcome, reply) = conversation::advance(&debrief.questions, &mut progress, text);
    let reply = match outcome {
        Outcome::Continue => {
            let step = Conversation {
                version: conversation.version,
                ..conversation_of(ctx, Some(debrief.id), &[], &progress)
            };
            let now = ctx.clock.now();
            if !ctx
                .store
                .advance_conversation(ctx.workspace.id, &step, now)
                .await?
            {
                return Ok(Some(moved_on(ctx, &debrief).await?));
            }
            reply
        }
        Outcome::Cancelled => {
            if !ctx
                .store
                .end_conversation(ctx.workspace.id, &conversation)
                .await?
            {
                return Ok(Some(moved_on(ctx, &debrief).await?));
            }
            let mut reply = reply;
            reply.blocks.push(Block::Context(
                "You can start again from the debrief card.".into(),
            ));
            reply
        }
        Outcome::Finished => match submit(ctx, &debrief, &progress.answers).await? {
            Submitted::Saved { first } => Message::text(format!(
                ":white_check_mark: Thank you! Your reflection on *{}* is {}. You can change it \
                 by reflecting again until the debrief closes.",
                plain(&debrief.title),
                if first { "saved" } else { "updated" }
            )),
            Submitted::Closed => {
                ctx.store
                    .end_conversation(ctx.workspace.id, &conversation)
                    .await?;
                Message::text(format!(
                    "*{}* closed before you finished, so your answers could not be added. \
                     Sorry about that!",
                    plain(&debrief.title)
                ))
            }
            Submitted::Empty => {
                ctx.store
                    .end_conversation(ctx.workspace.id, &conversation)
                    .await?;
                Message::text(format!(
                    "You skipped every question, so nothing was saved for *{}*. Reflect again \
                     from the debrief card whenever you have something to add.",
                    plain(&debrief.title)
                ))
            }
        },
    };
    Ok(Some(Handled {
        reply,
        queued: matches!(outcome, Outcome::Finished),
        anonymous_debrief: debrief.anonymous.then_some(debrief.id),
        ..Handled::default()
    }))
}

/// The person was asked which of several debriefs: read their number.
async fn choose(
    ctx: &CommandContext<'_>,
    conversation: &Conversation,
    text: &str,
) -> Result<Handled, AppError> {
    let choices: Vec<i64> = serde_json::from_str(&conversation.choices).unwrap_or_default();
    let word = text.trim().to_lowercase();
    if matches!(word.as_str(), "cancel" | "stop" | "quit") {
        if !ctx
            .store
            .end_conversation(ctx.workspace.id, conversation)
            .await?
        {
            return Ok(Message::text(
                "Your conversation moved on before this arrived, so nothing was cancelled.",
            )
            .into());
        }
        return Ok(Message::text("Cancelled: nothing was saved.").into());
    }
    let picked = word
        .trim_start_matches('#')
        .parse::<usize>()
        .ok()
        .and_then(|n| choices.get(n.checked_sub(1)?))
        .copied();
    let Some(id) = picked else {
        return Ok(Message::text(format!(
            "Please reply with a number from 1 to {} (or `cancel`).",
            choices.len()
        ))
        .into());
    };
    let debrief = match load(ctx, DebriefId(id)).await {
        Ok(debrief) if debrief.is_open() => debrief,
        found => {
            // Closed or removed while they chose: stop asking for a number.
            ctx.store
                .end_conversation(ctx.workspace.id, conversation)
                .await?;
            return Ok(match found {
                Ok(closed) => closed_message(&closed),
                Err(AppError::Store(StoreError::NotFound)) => {
                    Message::text("That debrief no longer exists.")
                }
                Err(other) => return Err(other),
            }
            .into());
        }
    };
    Ok(Handled {
        reply: reflect_in_dm(ctx, &debrief).await?,
        anonymous_debrief: debrief.anonymous.then_some(debrief.id),
        ..Handled::default()
    })
}
