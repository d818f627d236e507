//! `/learn retro`, `/learn schedules`, `/learn unschedule`: a channel's recurring prompts.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::command::{ScheduleText, TemplateName};
use super::handle::{CommandContext, Handled};
use super::zones::person_zone;
use super::{messages, usage};
use crate::platform::{Block, Message};
use crate::scheduler::{Schedule, schedule::EXAMPLES};
use crate::store::{NewSchedule, ScheduleId, ScheduleKind, StoreError};

/// Shortest gap between two reminders of one channel schedule.
const MIN_CHANNEL_INTERVAL_SECS: i64 = 3600;

/// A channel with more schedules than this is almost certainly a mistake or abuse.
const MAX_SCHEDULES_PER_CHANNEL: usize = 20;

fn zone_of(ctx: &CommandContext<'_>) -> Tz {
    ctx.workspace.default_time_zone.parse().unwrap_or(Tz::UTC)
}

/// `Fri 27 Nov 16:00`.
pub fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%a %-d %b %H:%M")
        .to_string()
}

fn not_understood(problem: &str) -> Message {
    let examples: Vec<String> = EXAMPLES.iter().map(|e| format!("`{e}`")).collect();
    Message {
        fallback: problem.to_owned(),
        blocks: vec![
            Block::Text(format!(":warning: {problem}. Try {}.", examples.join(", "))),
            Block::Context(usage::SCHEDULE_FORMS.into()),
        ],
    }
}

pub async fn create_retro(
    ctx: &CommandContext<'_>,
    text: &ScheduleText,
    template: Option<&TemplateName>,
    zone: Option<Tz>,
) -> Result<Handled, StoreError> {
    if let Some(name) = template
        && ctx.templates.get(name.as_str()).is_none()
    {
        return Ok(messages::unknown_template(name.as_str(), &ctx.templates.names()).into());
    }
    let zone = zone.unwrap_or_else(|| zone_of(ctx));
    let now = DateTime::from_timestamp(ctx.clock.now_unix(), 0).unwrap_or_default();
    let today = now.with_timezone(&zone).date_naive();
    let schedule = match Schedule::parse(text.as_str(), zone, today) {
        Ok(schedule) => schedule,
        Err(err) => return Ok(not_understood(&err.0).into()),
    };
    let existing = ctx
        .store
        .channel_schedules(ctx.workspace.id, ctx.channel)
        .await?;
    if existing.len() >= MAX_SCHEDULES_PER_CHANNEL {
        return Ok(Message::text(format!(
            ":warning: This channel already has {} schedules. Remove one with `/learn unschedule ID` first.",
            existing.len()
        ))
        .into());
    }
    let upcoming = schedule.upcoming(now, 3);
    let Some(first) = upcoming.first() else {
        return Ok(not_understood(&format!("`{}` never happens", schedule.text())).into());
    };
    // A reminder more often than hourly is noise in a shared channel (and `* * * * *`
    // is usually a typo): look at a day's worth of firings for any two too close.
    let day_of_firings = schedule.upcoming(now, 25);
    if day_of_firings
        .windows(2)
        .any(|pair| pair[1] - pair[0] < chrono::Duration::seconds(MIN_CHANNEL_INTERVAL_SECS))
    {
        return Ok(not_understood(&format!(
            "`{}` fires more than once an hour; a channel reminder must be at least an hour apart",
            schedule.text()
        ))
        .into());
    }
    let id = ctx
        .store
        .create_schedule(
            NewSchedule {
                workspace: ctx.workspace.id,
                kind: ScheduleKind::Retro,
                channel: ctx.channel,
                spec: schedule.text(),
                time_zone: zone.name(),
                anchor_date: &today.format("%Y-%m-%d").to_string(),
                template: template.map(TemplateName::as_str),
                next_fire_at: first.timestamp(),
                created_by: ctx.user,
                person: None,
            },
            now.timestamp(),
        )
        .await?;
    let next: Vec<String> = upcoming.iter().map(|t| local_time(*t, zone)).collect();
    // Echo the times where the person is, so they see what they asked for.
    let mine = person_zone(ctx).await?;
    let yours = if mine == zone {
        String::new()
    } else {
        let times: Vec<String> = upcoming.iter().map(|t| local_time(*t, mine)).collect();
        format!(
            "\nIn your time zone ({}): {}.",
            mine.name(),
            times.join(" · ")
        )
    };
    let reply = Message {
        fallback: format!("Retro reminder #{} set: {}", id.0, schedule.text()),
        blocks: vec![
            Block::Text(format!(
                ":white_check_mark: Retro reminder *#{}* set for this channel: `{}` ({}), with a \
                 button that starts a debrief with the {} template.\nNext: {}.{yours}",
                id.0,
                schedule.text(),
                zone.name(),
                template.map_or(ctx.debriefs.default_template.as_str(), TemplateName::as_str),
                next.join(" · ")
            )),
            Block::Context(format!("`/learn unschedule {}` removes it.", id.0)),
        ],
    };
    Ok(Handled {
        reply,
        schedules_changed: true,
        ..Handled::default()
    })
}

pub async fn list(ctx: &CommandContext<'_>) -> Result<Message, StoreError> {
    let schedules = ctx
        .store
        .channel_schedules(ctx.workspace.id, ctx.channel)
        .await?;
    if schedules.is_empty() {
        return Ok(Message::text(
            "This channel has no schedules. `/learn retro fridays 16:00` sets a retro reminder.",
        ));
    }
    let lines: Vec<String> = schedules
        .iter()
        .map(|s| {
            let zone: Tz = s.time_zone.parse().unwrap_or(Tz::UTC);
            let next = DateTime::from_timestamp(s.next_fire_at, 0)
                .map(|t| local_time(t, zone))
                .unwrap_or_else(|| "never".into());
            format!(
                "*#{}* {} · `{}` ({}) · next {next}",
                s.id.0,
                s.kind.as_str(),
                s.spec,
                s.time_zone
            )
        })
        .collect();
    Ok(Message {
        fallback: format!("{} schedules in this channel", schedules.len()),
        blocks: vec![
            Block::Text(format!("*Schedules in this channel*\n{}", lines.join("\n"))),
            Block::Context("`/learn unschedule ID` removes one.".into()),
        ],
    })
}

pub async fn remove(ctx: &CommandContext<'_>, id: i64) -> Result<Handled, StoreError> {
    match ctx
        .store
        .deactivate_schedule(ctx.workspace.id, ctx.channel, ScheduleId(id))
        .await
    {
        Ok(()) => Ok(Handled {
            reply: Message::text(format!(":wastebasket: Schedule #{id} is removed.")),
            schedules_changed: true,
            ..Handled::default()
        }),
        Err(StoreError::NotFound) => Ok(Message::text(format!(
            ":warning: This channel has no schedule #{id}. `/learn schedules` lists the ones it has."
        ))
        .into()),
        Err(other) => Err(other),
    }
}
