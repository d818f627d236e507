//! The bot's Home tab, per person: the follow-ups waiting for them (with their
//! buttons), debriefs waiting for their reflection, their goals and next check-in,
//! their pause with a button to change it, the latest lessons the workspace shares,
//! and how learnloop works. Built from the database alone, so opening the tab never
//! waits for Slack.

use crate::app::AppError;
use crate::domain::Timestamp;

use chrono_tz::Tz;

use super::debrief::{self, REFLECT};
use super::followups;
use super::handle::CommandContext;
use super::schedules::local_time;
use crate::platform::{Block, Button, Message, plain};
use crate::store::{Audience, ScheduleKind, StoreError};

/// Pauses prompts for a week from the Home tab.
pub const PAUSE: &str = "home.pause";
/// Ends a pause from the Home tab.
pub const RESUME: &str = "home.resume";

const FOLLOW_UPS_SHOWN: u32 = 8;
const DEBRIEFS_SHOWN: usize = 5;
const GOALS_SHOWN: usize = 10;
const LESSONS_SHOWN: u32 = 5;

/// The Home of `ctx.user` (the context's channel is their DM, or their id).
pub async fn view(ctx: &CommandContext<'_>) -> Result<Message, AppError> {
    let now = ctx.clock.now();
    let zone = stored_zone(ctx).await?;
    let mut blocks = vec![Block::Header("Your learning loop".into())];
    blocks.extend(pause_blocks(ctx, now, zone).await?);
    blocks.push(Block::Divider);
    blocks.extend(follow_up_blocks(ctx, zone).await?);
    blocks.push(Block::Divider);
    blocks.extend(debrief_blocks(ctx).await?);
    blocks.push(Block::Divider);
    blocks.extend(goal_blocks(ctx, zone).await?);
    blocks.push(Block::Divider);
    blocks.extend(lesson_blocks(ctx).await?);
    blocks.push(Block::Divider);
    blocks.push(Block::Text(
        "*How it works*\n1. After a release or an incident, `/debrief TITLE` in its channel \
         gathers everyone's reflections; the summary lands in the card's thread.\n2. Each \
         lesson gets an owner, and I ask them later whether it was applied: the answers \
         show up here and in the team digest.\n3. `/learn goal add TEXT` and `/learn checkin \
         fridays 16:00` keep your own learning going, in your own time zone."
            .into(),
    ));
    blocks.push(Block::Context("`/learn help` lists every command".into()));
    Ok(Message {
        fallback: "Your learning loop".into(),
        blocks,
    })
}

/// The person's stored zone (the workspace's when none is known): the Home never
/// waits for a lookup.
async fn stored_zone(ctx: &CommandContext<'_>) -> Result<Tz, AppError> {
    let workspace_zone: Tz = ctx.workspace.default_time_zone.parse().unwrap_or(Tz::UTC);
    Ok(
        match ctx.store.find_person(ctx.workspace.id, ctx.user).await {
            Ok(person) => person
                .time_zone
                .and_then(|zone| zone.parse().ok())
                .unwrap_or(workspace_zone),
            Err(StoreError::NotFound) => workspace_zone,
            Err(other) => return Err(other.into()),
        },
    )
}

fn local(at: Timestamp, zone: Tz) -> String {
    local_time(at.to_utc(), zone)
}

async fn pause_blocks(
    ctx: &CommandContext<'_>,
    now: Timestamp,
    zone: Tz,
) -> Result<Vec<Block>, AppError> {
    let paused = ctx
        .store
        .paused_until(ctx.workspace.id, ctx.user, now)
        .await?;
    Ok(match paused {
        Some(until) => vec![
            Block::Text(format!(
                ":palm_tree: Your prompts are paused until {} ({}).",
                local(until, zone),
                zone.name()
            )),
            Block::Actions(vec![Button::new("Resume prompts", RESUME, "now").primary()]),
        ],
        None => vec![
            Block::Text(
                "Your prompts are on: follow-ups come once a working day, in your morning.".into(),
            ),
            Block::Actions(vec![Button::new("Pause for a week", PAUSE, "7d")]),
        ],
    })
}

async fn follow_up_blocks(ctx: &CommandContext<'_>, zone: Tz) -> Result<Vec<Block>, AppError> {
    let open = ctx
        .store
        .open_follow_ups(ctx.workspace.id, ctx.user, FOLLOW_UPS_SHOWN + 1)
        .await?;
    if open.is_empty() {
        return Ok(vec![Block::Text(
            "*Follow-ups*\nNothing waiting for you. When a debrief closes, the lessons you own \
             are followed up here."
                .into(),
        )]);
    }
    let shown = &open[..open.len().min(FOLLOW_UPS_SHOWN as usize)];
    let mut blocks = vec![Block::Text("*Follow-ups waiting for you*".into())];
    blocks.extend(followups::open_blocks(shown, zone));
    if open.len() > shown.len() {
        blocks.push(Block::Context(
            "More are waiting: `/learn followups` lists them all".into(),
        ));
    }
    Ok(blocks)
}

async fn debrief_blocks(ctx: &CommandContext<'_>) -> Result<Vec<Block>, AppError> {
    let waiting = debrief::waiting_for_reflection(ctx.store, ctx.workspace, ctx.user).await?;
    if waiting.is_empty() {
        return Ok(vec![Block::Text(
            "*Debriefs*\nNo open debrief is waiting for your reflection.".into(),
        )]);
    }
    let mut blocks = vec![Block::Text("*Debriefs waiting for your reflection*".into())];
    for open in waiting.iter().take(DEBRIEFS_SHOWN) {
        blocks.push(Block::Text(format!(
            "*{}* in <#{}>",
            plain(&open.title),
            open.channel
        )));
        blocks.push(Block::Actions(vec![
            Button::new("Add reflection", REFLECT, open.id.0).primary(),
        ]));
    }
    Ok(blocks)
}

async fn goal_blocks(ctx: &CommandContext<'_>, zone: Tz) -> Result<Vec<Block>, AppError> {
    let goals = ctx.store.goals(ctx.workspace.id, ctx.user).await?;
    let checkin = ctx
        .store
        .personal_schedules(ctx.workspace.id, ctx.user, ScheduleKind::Checkin)
        .await?
        .into_iter()
        .map(|schedule| schedule.next_fire_at)
        .min();
    let next_checkin = match checkin {
        Some(at) => format!("Next check-in: {}", local(at, zone)),
        None => "No check-in yet: `/learn checkin fridays 16:00` sets one".into(),
    };
    if goals.is_empty() {
        return Ok(vec![
            Block::Text(
                "*Goals*\nNo goals yet: `/learn goal add TEXT` sets one (only you see it).".into(),
            ),
            Block::Context(next_checkin),
        ]);
    }
    let reached = goals.iter().filter(|goal| goal.done_at.is_some()).count();
    let open: Vec<_> = goals.iter().filter(|goal| goal.done_at.is_none()).collect();
    let mut lines = format!("*Your goals*: {reached} of {} reached", goals.len());
    for goal in open.iter().take(GOALS_SHOWN) {
        let by = goal
            .due_date
            .as_deref()
            .map(|date| format!(" _(by {date})_"))
            .unwrap_or_default();
        lines.push_str(&format!("\n{}. {}{by}", goal.number, plain(&goal.text)));
    }
    if open.len() > GOALS_SHOWN {
        lines.push_str(&format!("\n… and {} more", open.len() - GOALS_SHOWN));
    }
    Ok(vec![Block::Text(lines), Block::Context(next_checkin)])
}

async fn lesson_blocks(ctx: &CommandContext<'_>) -> Result<Vec<Block>, AppError> {
    if ctx.workspace.org_wide {
        return Ok(vec![Block::Text(
            "*Lessons*\nInstalled for your whole organisation, learnloop keeps each lesson \
             in the channel it was said in: `/learn lessons` there finds them."
                .into(),
        )]);
    }
    // Seen by this person alone, anywhere: the workspace's public lessons, nothing said
    // in a conversation they may not be in.
    let lessons = ctx
        .store
        .latest_lessons(ctx.workspace.id, Audience::In(ctx.user), LESSONS_SHOWN)
        .await?;
    if lessons.is_empty() {
        return Ok(vec![Block::Text(
            "*Latest shared lessons*\nNone yet: the lessons of debriefs in public channels \
             appear here."
                .into(),
        )]);
    }
    let mut text = "*Latest shared lessons*".to_owned();
    for lesson in &lessons {
        text.push_str(&format!(
            "\n• {} _({})_",
            plain(&lesson.text),
            plain(&lesson.debrief_title)
        ));
    }
    Ok(vec![Block::Text(text)])
}
