//! `/learn pause DURATION` and `/learn resume`: a person's holiday from prompts.

use crate::app::AppError;
use crate::domain::Timestamp;
use chrono::{Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::command::PauseDuration;
use super::handle::CommandContext;
use super::schedules::local_time;
use super::zones::person_zone;
use crate::platform::Message;

pub async fn pause(ctx: &CommandContext<'_>, duration: PauseDuration) -> Result<Message, AppError> {
    // "until 28 December" begins at midnight where the person is.
    let zone: Tz = person_zone(ctx).await?;
    let now = ctx.clock.now().to_utc();
    let until = match duration {
        PauseDuration::Hours(h) => now + Duration::hours(i64::from(h)),
        PauseDuration::Days(d) => now + Duration::days(i64::from(d)),
        PauseDuration::Until(date) => match zone
            .from_local_datetime(&date.and_time(NaiveTime::MIN))
            .earliest()
        {
            Some(start) if start.with_timezone(&Utc) > now => start.with_timezone(&Utc),
            _ => {
                return Ok(Message::text(format!(
                    ":warning: {} is not in the future. Usage: `/learn pause until YYYY-MM-DD`",
                    date.format("%Y-%m-%d")
                )));
            }
        },
    };
    if until - now > Duration::days(366) {
        return Ok(Message::text(
            ":warning: Pauses last at most a year; `/learn checkin off` stops check-ins for good.",
        ));
    }
    ctx.store
        .set_paused_until(
            ctx.workspace.id,
            ctx.user,
            Some(until.timestamp()),
            Timestamp::from(now),
        )
        .await?;
    Ok(Message::text(format!(
        ":palm_tree: Your prompts are paused until {} ({}). `/learn resume` brings them back sooner.",
        local_time(until, zone),
        zone.name()
    )))
}

pub async fn resume(ctx: &CommandContext<'_>) -> Result<Message, AppError> {
    let now = ctx.clock.now();
    let was_paused = ctx
        .store
        .paused_until(ctx.workspace.id, ctx.user, now)
        .await?
        .is_some();
    ctx.store
        .set_paused_until(ctx.workspace.id, ctx.user, None, now)
        .await?;
    Ok(Message::text(if was_paused {
        ":wave: Welcome back: your prompts are on again."
    } else {
        "Your prompts were not paused; nothing to resume."
    }))
}
