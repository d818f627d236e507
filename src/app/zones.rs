//! A person's own time zone: what their prompts and confirmations use. It comes from the
//! platform (Slack's `users.info`), is cached on the person's row for a day, and falls
//! back to the workspace's zone when the platform does not answer in time.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::time::Duration;

use chrono_tz::Tz;

use super::handle::CommandContext;
use crate::store::StoreError;

/// How long a cached zone is trusted before it is asked for again (people travel).
const REFRESH_AFTER_SECS: i64 = 24 * 3600;
/// The platform lookup runs while Slack waits for our 3-second acknowledgement.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1500);

/// `at` as local time in `zone`, in a chrono `format`.
pub fn format_local(at: Timestamp, zone: Tz, format: &str) -> String {
    at.to_utc().with_timezone(&zone).format(format).to_string()
}

/// Unix seconds of `date`'s midnight in `zone` (its first instant when a clock change
/// skips midnight).
pub fn local_midnight(date: chrono::NaiveDate, zone: Tz) -> Option<Timestamp> {
    use chrono::TimeZone;
    zone.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| Timestamp::from(t.to_utc()))
}

/// The day of `at` in `zone`: `Mon 16 Nov`.
pub fn day(at: Timestamp, zone: Tz) -> String {
    format_local(at, zone, "%a %-d %b")
}

/// The zone of the person who typed the command.
pub async fn person_zone(ctx: &CommandContext<'_>) -> Result<Tz, AppError> {
    let now = ctx.clock.now();
    let workspace_zone: Tz = ctx.workspace.default_time_zone.parse().unwrap_or(Tz::UTC);
    let cached = match ctx.store.find_person(ctx.workspace.id, ctx.user).await {
        Ok(person) => person
            .time_zone
            .and_then(|zone| zone.parse::<Tz>().ok())
            .map(|zone| (zone, person.time_zone_refreshed_at.unwrap_or_default())),
        Err(StoreError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    if let Some((zone, refreshed_at)) = cached
        && now.seconds_since(refreshed_at) < REFRESH_AFTER_SECS
    {
        return Ok(zone);
    }
    let fetched =
        tokio::time::timeout(LOOKUP_TIMEOUT, ctx.zones.time_zone(ctx.workspace, ctx.user))
            .await
            .ok()
            .flatten()
            .and_then(|zone| zone.parse::<Tz>().ok());
    match fetched {
        Some(zone) => {
            ctx.store
                .ensure_person(ctx.workspace.id, ctx.user, now)
                .await?;
            ctx.store
                .update_person_profile(ctx.workspace.id, ctx.user, None, Some(zone.name()), now)
                .await?;
            Ok(zone)
        }
        None => {
            tracing::info!(
                "could not learn a person's time zone; using the last known or the workspace's"
            );
            Ok(cached.map_or(workspace_zone, |(zone, _)| zone))
        }
    }
}
