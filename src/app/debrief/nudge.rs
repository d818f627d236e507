//! Nudging: the facilitator asks the bot to remind, by DM, the channel's members who
//! have not reflected yet. Who reflected is checked by author key, so it works for
//! anonymous debriefs without anyone learning who did: the facilitator only hears how
//! many were nudged. At most once per 12 hours per debrief; people who paused their
//! prompts, bots, deactivated accounts and the facilitator are left out.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::collections::HashSet;

use chrono_tz::Tz;

use super::card::{REFLECT, REFLECT_IN_DM};
use super::{Debrief, workspace_zone};
use crate::app::handle::{CommandContext, Handled};
use crate::app::names::DisplayNames;
use crate::app::schedules::local_time;
use crate::app::words::count;
use crate::platform::outgoing;
use crate::platform::{Block, Button, Message, plain};
use crate::store::{NewOutboxMessage, Platform, nudge_key};

/// The shortest time between two nudges of one debrief.
pub const NUDGE_GAP_SECS: i64 = 12 * 3600;

/// `/learn debrief nudge` in a channel: the caller's newest open debrief there.
pub async fn nudge_command(ctx: &CommandContext<'_>) -> Result<Handled, AppError> {
    match super::close::own_open_debrief(ctx).await? {
        Some(debrief) => nudge(ctx, &debrief).await,
        None => Ok(Message::text(
            "You facilitate no open debrief in this channel. Only the person who started a \
             debrief can nudge the others.",
        )
        .into()),
    }
}

/// The people to nudge: the conversation's members who are people (not bots or
/// deactivated accounts), other than the facilitator, who have not reflected and have
/// not paused their prompts. `None` when the platform could not say who is there
/// (never a guess: a team's roster would reach people outside a private channel).
async fn not_yet_reflected(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<Option<Vec<String>>, AppError> {
    let members: Vec<String> = match ctx.workspace.platform {
        Platform::Slack => {
            let (members, people) = tokio::join!(
                ctx.directory.members(ctx.workspace, &debrief.channel),
                ctx.directory.people(ctx.workspace)
            );
            let (Some(members), Some(people)) = (members, people) else {
                return Ok(None);
            };
            members.into_iter().filter(|m| people.contains(m)).collect()
        }
        // The conversation's own members (a private channel's, a group chat's), as the
        // connector lists them: people only, the bot left out.
        Platform::Teams => match ctx.directory.members(ctx.workspace, &debrief.channel).await {
            Some(members) => members,
            None => return Ok(None),
        },
    };
    let reflected = ctx
        .store
        .reflection_keys(ctx.workspace.id, debrief.id)
        .await?;
    let paused = ctx
        .store
        .paused_people(ctx.workspace.id, ctx.clock.now())
        .await?;
    let mut seen = HashSet::new();
    Ok(Some(
        members
            .into_iter()
            .filter(|m| *m != debrief.facilitator && !paused.contains(m))
            .filter(|m| {
                debrief
                    .author_key(m)
                    .is_some_and(|key| !reflected.contains(&key))
            })
            .filter(|m| seen.insert(m.clone()))
            .collect(),
    ))
}

/// The DM a person gets; times in `zone` (the workspace's).
pub(crate) fn nudge_message(debrief: &Debrief, reflected: usize, zone: Tz) -> Message {
    let already = match reflected {
        0 => "Nobody has reflected yet".to_owned(),
        1 => "1 colleague already reflected".to_owned(),
        n => format!("{n} colleagues already reflected"),
    };
    let closes = debrief
        .closes_at
        .map(Timestamp::to_utc)
        .map(|at| format!(" It closes {} ({}).", local_time(at, zone), zone.name()))
        .unwrap_or_default();
    let anonymous = if debrief.anonymous {
        " It is anonymous: your name is never shown or stored with your answers."
    } else {
        ""
    };
    let text = format!(
        ":wave: {already} on *{}* in <#{}>. Your view counts too: it takes a few minutes.{closes}{anonymous}",
        plain(&debrief.title),
        debrief.channel
    );
    Message {
        fallback: format!("{already} on {}", plain(&debrief.title)),
        blocks: vec![
            Block::Text(text),
            Block::Actions(vec![
                Button::new("Add reflection", REFLECT, debrief.id.0).primary(),
                Button::new("Reflect in DM", REFLECT_IN_DM, debrief.id.0),
            ]),
        ],
    }
}

/// Sends one DM to each member who has not reflected (facilitator only, at most once
/// per [`NUDGE_GAP_SECS`]); the facilitator hears how many, never who.
pub async fn nudge(ctx: &CommandContext<'_>, debrief: &Debrief) -> Result<Handled, AppError> {
    if debrief.facilitator != ctx.user {
        return Ok(Message::text(format!(
            ":lock: Only the facilitator, <@{}>, can nudge people about this debrief.",
            debrief.facilitator
        ))
        .into());
    }
    if !debrief.is_open() {
        return Ok(Message::text(format!(
            "*{}* is closed, so there is nobody to nudge.",
            plain(&debrief.title)
        ))
        .into());
    }
    let Some(people) = not_yet_reflected(ctx, debrief).await? else {
        return Ok(Message::text(
            ":warning: I could not read who is in this channel, so nobody was nudged. Try \
             again in a minute.",
        )
        .into());
    };
    let reflected = ctx
        .store
        .reflection_count(ctx.workspace.id, debrief.id)
        .await?;
    if people.is_empty() {
        return Ok(Message::text(
            "Everyone here has reflected already (or paused their reminders): nobody to \
             nudge.",
        )
        .into());
    }
    let message = nudge_message(debrief, reflected as usize, workspace_zone(ctx));
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    if !tx
        .mark_nudged(ctx.workspace.id, debrief.id, now, NUDGE_GAP_SECS)
        .await?
    {
        return Ok(Message::text(format!(
            "People were nudged about *{}* less than 12 hours ago; one reminder is enough \
             for now.",
            plain(&debrief.title)
        ))
        .into());
    }
    for person in &people {
        let posted = outgoing::post(ctx.workspace.platform, person, &message, &|id| {
            names.name(id)
        });
        let key = nudge_key(debrief.id, now.unix_seconds(), person);
        tx.enqueue(
            NewOutboxMessage {
                method: posted.method,
                dedupe_key: Some(&key),
                // Who was nudged is who had not reflected: an anonymous debrief's
                // nudges go with it when it closes.
                anonymous_debrief: debrief.anonymous.then_some(debrief.id),
                ..NewOutboxMessage::post(ctx.workspace.id, person, &posted.body)
            },
            now,
            ctx.give_up_at(now),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Handled {
        reply: Message::text(format!(
            ":mega: Nudged {} about *{}*.",
            count(people.len() as i64, "person", "people"),
            plain(&debrief.title)
        )),
        queued: true,
        ..Handled::default()
    })
}
