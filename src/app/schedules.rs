//! `/learn retro`, `/learn schedules`, `/learn unschedule`: a channel's recurring prompts.

use crate::app::AppError;
use crate::domain::Timestamp;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::command::{ScheduleText, TemplateName};
use super::handle::{CommandContext, Handled};
use super::words::count_of;
use super::zones::person_zone;
use super::{messages, usage};
use crate::domain::{Schedule, schedule::EXAMPLES};
use crate::platform::{Block, Message, plain};
use crate::store::{NewSchedule, ScheduleId, ScheduleKind, StoreError};

/// Shortest gap between two prompts of one schedule.
const MIN_INTERVAL_SECS: i64 = 3600;

/// A channel with more schedules than this is almost certainly a mistake or abuse.
const MAX_SCHEDULES_PER_CHANNEL: usize = 20;

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

/// A schedule someone asked for, before it is checked.
pub struct Request<'a> {
    pub kind: ScheduleKind,
    /// Where its prompts go (a channel, or the person's DM).
    pub channel: &'a str,
    /// The person a personal schedule prompts.
    pub person: Option<&'a str>,
    pub zone: Tz,
    pub template: Option<&'a str>,
}

/// A stored schedule and its next three times.
pub struct Created {
    pub id: ScheduleId,
    /// The schedule as typed, escaped to show back.
    pub spec: String,
    pub upcoming: Vec<DateTime<Utc>>,
}

impl Created {
    /// `Next: …` in the schedule's zone, plus the asker's own zone when it differs, so
    /// they see what they asked for.
    pub async fn next_times(&self, ctx: &CommandContext<'_>, zone: Tz) -> Result<String, AppError> {
        let next: Vec<String> = self.upcoming.iter().map(|t| local_time(*t, zone)).collect();
        let mine = person_zone(ctx).await?;
        let yours = if mine == zone {
            String::new()
        } else {
            let times: Vec<String> = self.upcoming.iter().map(|t| local_time(*t, mine)).collect();
            format!(
                "\nIn your time zone ({}): {}.",
                mine.name(),
                times.join(" · ")
            )
        };
        Ok(format!("Next: {}.{yours}", next.join(" · ")))
    }
}

/// Parses and checks `text` and stores the schedule; `Err` holds what to tell the
/// person when it cannot be one.
pub async fn create(
    ctx: &CommandContext<'_>,
    text: &ScheduleText,
    request: Request<'_>,
) -> Result<Result<Created, Message>, AppError> {
    let zone = request.zone;
    let now = ctx.clock.now().to_utc();
    let today = now.with_timezone(&zone).date_naive();
    let schedule = match Schedule::parse(text.as_str(), zone, today) {
        Ok(schedule) => schedule,
        Err(err) => return Ok(Err(not_understood(&err.0))),
    };
    if request.person.is_none() {
        let existing = ctx
            .store
            .channel_schedules(ctx.workspace.id, request.channel)
            .await?;
        if existing.len() >= MAX_SCHEDULES_PER_CHANNEL {
            return Ok(Err(Message::text(format!(
                ":warning: This channel already has {}. Remove one with `/learn unschedule ID` first.",
                count_of(&existing, "schedule", "schedules")
            ))));
        }
    }
    let upcoming = schedule.upcoming(now, 3);
    if upcoming.is_empty() {
        return Ok(Err(not_understood(&format!(
            "`{}` never happens",
            schedule.text()
        ))));
    }
    // A prompt more often than hourly is noise (and `* * * * *` is usually a typo):
    // look at a day's worth of firings for any two too close.
    let day_of_firings = schedule.upcoming(now, 25);
    if day_of_firings
        .windows(2)
        .any(|pair| pair[1] - pair[0] < chrono::Duration::seconds(MIN_INTERVAL_SECS))
    {
        return Ok(Err(not_understood(&format!(
            "`{}` fires more than once an hour; prompts must be at least an hour apart",
            schedule.text()
        ))));
    }
    let id = ctx
        .store
        .create_schedule(
            NewSchedule {
                workspace: ctx.workspace.id,
                kind: request.kind,
                channel: request.channel,
                spec: schedule.text(),
                time_zone: zone.name(),
                anchor_date: &today.format("%Y-%m-%d").to_string(),
                template: request.template,
                next_fire_at: Timestamp::from(upcoming[0]),
                created_by: ctx.user,
                person: request.person,
            },
            Timestamp::from(now),
        )
        .await?;
    Ok(Ok(Created {
        id,
        spec: plain(schedule.text()),
        upcoming,
    }))
}

/// The workspace's zone, which channel schedules use unless told otherwise.
pub fn workspace_zone(ctx: &CommandContext<'_>) -> Tz {
    ctx.workspace.default_time_zone.parse().unwrap_or(Tz::UTC)
}

pub async fn create_retro(
    ctx: &CommandContext<'_>,
    text: &ScheduleText,
    template: Option<&TemplateName>,
    zone: Option<Tz>,
) -> Result<Handled, AppError> {
    if let Some(name) = template
        && ctx.templates.get(name.as_str()).is_none()
    {
        return Ok(messages::unknown_template(name.as_str(), &ctx.templates.names()).into());
    }
    let zone = zone.unwrap_or_else(|| workspace_zone(ctx));
    let request = Request {
        kind: ScheduleKind::Retro,
        channel: ctx.channel,
        person: None,
        zone,
        template: template.map(TemplateName::as_str),
    };
    let created = match create(ctx, text, request).await? {
        Ok(created) => created,
        Err(problem) => return Ok(problem.into()),
    };
    let id = created.id.0;
    let reply = Message {
        fallback: format!("Retro reminder set: {}", created.spec),
        blocks: vec![
            Block::Text(format!(
                ":white_check_mark: Retro reminder set for this channel: `{}` ({}), with a \
                 button that starts a debrief with the {} template.\n{}",
                created.spec,
                zone.name(),
                template.map_or(ctx.debriefs.default_template.as_str(), TemplateName::as_str),
                created.next_times(ctx, zone).await?
            )),
            Block::Context(format!("`/learn unschedule {id}` removes it.")),
        ],
    };
    Ok(Handled {
        reply,
        ..Handled::default()
    })
}

pub async fn list(ctx: &CommandContext<'_>) -> Result<Message, AppError> {
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
            let next = s
                .next_fire_at
                .checked_utc()
                .map(|t| local_time(t, zone))
                .unwrap_or_else(|| "never".into());
            format!(
                "• {} `{}` ({}), next {next} · number {}",
                what(s.kind),
                plain(&s.spec),
                s.time_zone,
                s.id.0
            )
        })
        .collect();
    Ok(Message {
        fallback: format!(
            "{} in this channel",
            count_of(&schedules, "schedule", "schedules")
        ),
        blocks: vec![
            Block::Text(format!("*Schedules in this channel*\n{}", lines.join("\n"))),
            Block::Context("`/learn unschedule NUMBER` removes one.".into()),
        ],
    })
}

pub async fn remove(ctx: &CommandContext<'_>, id: i64) -> Result<Handled, AppError> {
    let existing = ctx
        .store
        .channel_schedules(ctx.workspace.id, ctx.channel)
        .await?;
    let named = existing
        .iter()
        .find(|s| s.id.0 == id)
        .map(|s| format!("the {} `{}`", what(s.kind), plain(&s.spec)));
    match ctx
        .store
        .deactivate_schedule(ctx.workspace.id, ctx.channel, ScheduleId(id))
        .await
    {
        Ok(()) => Ok(Handled {
            reply: Message::text(format!(
                ":wastebasket: Removed {}.",
                named.unwrap_or_else(|| format!("schedule number {id}"))
            )),
            ..Handled::default()
        }),
        Err(StoreError::NotFound) => Ok(Message::text(format!(
            ":warning: This channel has no schedule number {id}. `/learn schedules` lists its \
             schedules with their numbers."
        ))
        .into()),
        Err(other) => Err(other.into()),
    }
}

/// What a schedule is, as people call it.
fn what(kind: ScheduleKind) -> &'static str {
    match kind {
        ScheduleKind::Retro => "retro reminder",
        ScheduleKind::Checkin => "check-in",
        ScheduleKind::Digest => "digest",
    }
}
