//! `/learn goal add|list|done|share`: personal learning goals, private to their owner
//! until they share one.

use crate::app::AppError;
use chrono::NaiveDate;

use super::command::GoalCommand;
use super::handle::CommandContext;
use super::words::count_of;
use super::zones::person_zone;
use crate::platform::{Block, Message, plain};
use crate::store::{Goal, StoreError};

/// More open goals than this stop being goals.
const MAX_OPEN_GOALS: usize = 30;

pub async fn handle(ctx: &CommandContext<'_>, command: &GoalCommand) -> Result<Message, AppError> {
    match command {
        GoalCommand::Add { text, by } => add(ctx, text, *by).await,
        GoalCommand::List => list(ctx).await,
        GoalCommand::Done { number } => done(ctx, i64::from(*number)).await,
        GoalCommand::Share { number } => share(ctx, i64::from(*number)).await,
        GoalCommand::Buddy { number, buddy } => {
            super::buddies::set(ctx, i64::from(*number), buddy).await
        }
    }
}

fn pretty_date(date: &str) -> String {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.format("%a %-d %b %Y").to_string())
        .unwrap_or_else(|_| date.to_owned())
}

fn no_such_goal(number: i64) -> Message {
    Message::text(format!(
        ":warning: You have no goal #{number}. `/learn goal list` shows yours."
    ))
}

async fn add(
    ctx: &CommandContext<'_>,
    text: &str,
    by: Option<NaiveDate>,
) -> Result<Message, AppError> {
    let now = ctx.clock.now();
    if let Some(date) = by {
        let zone = person_zone(ctx).await?;
        let today = now.to_utc().with_timezone(&zone).date_naive();
        if date < today {
            return Ok(Message::text(format!(
                ":warning: {} is in the past. Usage: `/learn goal add TEXT [by YYYY-MM-DD]`",
                date.format("%Y-%m-%d")
            )));
        }
    }
    let open = ctx
        .store
        .goals(ctx.workspace.id, ctx.user)
        .await?
        .iter()
        .filter(|g| g.done_at.is_none())
        .count();
    if open >= MAX_OPEN_GOALS {
        return Ok(Message::text(format!(
            ":warning: You already have {open} open goals. Reach one (`/learn goal done N`) before adding more."
        )));
    }
    let due = by.map(|d| d.format("%Y-%m-%d").to_string());
    let shown = plain(text);
    let number = ctx
        .store
        .add_goal(ctx.workspace.id, ctx.user, text, due.as_deref(), now)
        .await?;
    let deadline = due
        .map(|d| format!(" (by {})", pretty_date(&d)))
        .unwrap_or_default();
    let mut added = Message {
        fallback: format!("Goal #{number} added: {shown}"),
        blocks: vec![
            Block::Text(format!(":dart: Goal *#{number}* added: {shown}{deadline}")),
            Block::Context(format!(
                "Only you can see it. `/learn goal share {number}` lets the team digest celebrate it when you reach it."
            )),
        ],
    };
    // A goal's answer is always the person's own (their 1:1 chat on Teams).
    if let Some(suggestion) = super::mentors::suggestion(ctx, text).await? {
        added.blocks.push(Block::Divider);
        added.blocks.extend(suggestion.blocks);
    }
    Ok(added)
}

fn goal_line(goal: &Goal) -> String {
    let status = if goal.done_at.is_some() {
        ":white_check_mark:"
    } else {
        ":dart:"
    };
    let due = goal
        .due_date
        .as_deref()
        .filter(|_| goal.done_at.is_none())
        .map(|d| format!(" · by {}", pretty_date(d)))
        .unwrap_or_default();
    let shared = if goal.shared { " · shared" } else { "" };
    let buddy = goal
        .buddy
        .as_deref()
        .map(|b| format!(" · buddy <@{b}>"))
        .unwrap_or_default();
    format!(
        "{status} *#{}* {}{due}{shared}{buddy}",
        goal.number,
        plain(&goal.text)
    )
}

async fn list(ctx: &CommandContext<'_>) -> Result<Message, AppError> {
    let goals = ctx.store.goals(ctx.workspace.id, ctx.user).await?;
    if goals.is_empty() {
        return Ok(Message::text(
            "You have no learning goals yet. `/learn goal add run a blameless postmortem by 2026-12-31` adds one.",
        ));
    }
    let lines: Vec<String> = goals.iter().map(goal_line).collect();
    Ok(Message {
        fallback: format!("Your {}", count_of(&goals, "goal", "goals")),
        blocks: vec![
            Block::Text(format!("*Your learning goals*\n{}", lines.join("\n"))),
            Block::Context(
                "`/learn goal done N` when you reach one · `/learn goal share N` to share it"
                    .into(),
            ),
        ],
    })
}

async fn done(ctx: &CommandContext<'_>, number: i64) -> Result<Message, AppError> {
    let before = match ctx.store.goal(ctx.workspace.id, ctx.user, number).await {
        Ok(goal) => goal,
        Err(StoreError::NotFound) => return Ok(no_such_goal(number)),
        Err(other) => return Err(other.into()),
    };
    if before.done_at.is_some() {
        return Ok(Message::text(format!(
            "Goal #{number} was already reached. Well done again!"
        )));
    }
    let goal = ctx
        .store
        .complete_goal(ctx.workspace.id, ctx.user, number, ctx.clock.now())
        .await?;
    super::buddies::tell_reached(ctx, &goal).await?;
    let celebrated = if goal.shared {
        " It will be celebrated in the team digest."
    } else {
        ""
    };
    Ok(Message::text(format!(
        ":tada: Goal *#{number}* reached: {}.{celebrated}",
        plain(&goal.text)
    )))
}

async fn share(ctx: &CommandContext<'_>, number: i64) -> Result<Message, AppError> {
    match ctx
        .store
        .share_goal(ctx.workspace.id, ctx.user, number)
        .await
    {
        Ok(goal) => Ok(Message::text(format!(
            ":loudspeaker: Goal *#{number}* ({}) is shared: the team digest will celebrate it when you reach it.",
            plain(&goal.text)
        ))),
        Err(StoreError::NotFound) => Ok(no_such_goal(number)),
        Err(other) => Err(other.into()),
    }
}
