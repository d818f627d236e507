//! "Since last time": a new debrief card (and each retro reminder) in a channel shows
//! the open action items of the channel's earlier debriefs, up to five, oldest first,
//! each with Done / Still open / Drop for its owner or the new debrief's facilitator.
//! What is said is kept, and the new debrief's summary reports it.

use super::{Debrief, update_card_now};
use crate::app::AppError;
use crate::app::handle::{CommandContext, Handled};
use crate::platform::{Block, Button, Message, plain, plain_keeping_mentions};
use crate::store::{ActionOutcome, DebriefId, OpenAction, SettledAction, StoreError};

/// Most open actions a card or reminder lists.
pub const SHOWN: u32 = 5;

/// Button actions; each value is `LESSON:DEBRIEF` (`0` outside a debrief).
pub const DONE: &str = "action.done";
pub const STILL_OPEN: &str = "action.still_open";
pub const DROP: &str = "action.drop";

/// The outcome a button stands for.
pub fn outcome_of(action: &str) -> Option<ActionOutcome> {
    match action {
        DONE => Some(ActionOutcome::Done),
        STILL_OPEN => Some(ActionOutcome::StillOpen),
        DROP => Some(ActionOutcome::Dropped),
        _ => None,
    }
}

fn value(action: &OpenAction, during: Option<DebriefId>) -> String {
    format!("{}:{}", action.id, during.map_or(0, |d| d.0))
}

fn read_value(value: &str) -> Option<(i64, Option<DebriefId>)> {
    let (lesson, debrief) = value.split_once(':')?;
    let debrief: i64 = debrief.parse().ok()?;
    Some((
        lesson.parse().ok()?,
        (debrief > 0).then_some(DebriefId(debrief)),
    ))
}

fn owner(owner: Option<&str>) -> String {
    owner.map_or_else(|| "no owner".to_owned(), |o| format!("owner <@{o}>"))
}

/// The blocks that list `actions` with their buttons (nothing when there are none).
pub fn section(actions: &[OpenAction], during: Option<DebriefId>) -> Vec<Block> {
    if actions.is_empty() {
        return Vec::new();
    }
    let mut blocks = vec![Block::Text(
        ":repeat: *Since last time*: open action items from earlier debriefs here. Done, \
         still open, or drop?"
            .to_owned(),
    )];
    for action in actions {
        blocks.push(Block::Text(format!(
            "• {} — {} _(from {})_",
            plain_keeping_mentions(&action.text),
            owner(action.owner.as_deref()),
            plain(&action.debrief_title)
        )));
        let value = value(action, during);
        blocks.push(Block::Actions(vec![
            Button::new("Done", DONE, &value).primary(),
            Button::new("Still open", STILL_OPEN, &value),
            Button::new("Drop", DROP, &value),
        ]));
    }
    blocks
}

/// The summary's lines about what was said during the debrief.
pub fn settled_lines(settled: &[SettledAction]) -> Vec<String> {
    settled
        .iter()
        .map(|s| {
            let outcome = match s.outcome.as_str() {
                "done" => "done",
                "dropped" => "dropped",
                _ => "still open",
            };
            format!(
                "• {} — {} · *{outcome}*",
                plain_keeping_mentions(&s.text),
                owner(s.owner.as_deref())
            )
        })
        .collect()
}

/// A Done / Still open / Drop click: recorded if the person owns the action or
/// facilitates the debrief under way, and that debrief's card updated.
pub async fn answer(
    ctx: &CommandContext<'_>,
    action: &str,
    value: &str,
) -> Result<Handled, AppError> {
    let (Some(outcome), Some((lesson, during))) = (outcome_of(action), read_value(value)) else {
        return Ok(Message::text(
            "That button belongs to a card I can no longer act on; the action items still \
             open are on the next debrief card in their channel.",
        )
        .into());
    };
    let Some(open) = ctx.store.open_action(ctx.workspace.id, lesson).await? else {
        return Ok(Message::text("That action item is already settled.").into());
    };
    let debrief: Option<Debrief> = match during {
        Some(id) => match super::load(ctx, id).await {
            Ok(debrief) => Some(debrief),
            Err(AppError::Store(StoreError::NotFound)) => None,
            Err(other) => return Err(other),
        },
        None => None,
    };
    // The debrief under way counts only if it is open and held where the action was
    // agreed, and the click came from there: a button's value is the client's to send.
    let debrief =
        debrief.filter(|d| d.is_open() && d.channel == open.channel && d.channel == ctx.channel);
    let facilitates = debrief.as_ref().is_some_and(|d| d.facilitator == ctx.user);
    if open.owner.as_deref() != Some(ctx.user) && !facilitates {
        return Ok(Message::text(format!(
            "Only {} or the debrief's facilitator can say how this action item stands.",
            open.owner
                .as_deref()
                .map_or_else(|| "its owner".to_owned(), |o| format!("<@{o}>"))
        ))
        .into());
    }
    let during = debrief.as_ref().map(|d| d.id);
    let recorded = ctx
        .store
        .settle_open_action(
            ctx.workspace.id,
            lesson,
            outcome,
            ctx.user,
            during,
            ctx.clock.now(),
        )
        .await?;
    if !recorded {
        return Ok(Message::text("That action item is already settled.").into());
    }
    if let Some(debrief) = debrief {
        update_card_now(ctx, &debrief).await?;
    }
    let said = match outcome {
        ActionOutcome::Done => ":white_check_mark: Marked done",
        ActionOutcome::StillOpen => ":hourglass_flowing_sand: Still open",
        ActionOutcome::Dropped => ":wastebasket: Dropped",
    };
    Ok(Handled {
        reply: Message::text(format!("{said}: {}", plain_keeping_mentions(&open.text))),
        queued: true,
        ..Handled::default()
    })
}
