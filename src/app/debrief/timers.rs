//! A debrief's close-by time, kept by the scheduler's pass: two hours before it the
//! facilitator gets a DM with the count and the Nudge and Close buttons; at the time the
//! debrief is closed as its facilitator would close it. Both happen exactly once, also
//! with several processes: the reminder is marked in the transaction that queues it,
//! and closing is a compare-and-set on the open debrief.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::sync::Arc;
use std::time::Duration;

use super::card::{CLOSE, NUDGE};
use super::{Debrief, close, workspace_zone};
use crate::app::handle::CommandContext;
use crate::app::names::DisplayNames;
use crate::app::schedules::local_time;
use crate::app::templates::Templates;
use crate::app::words::count;
use crate::clock::Clock;
use crate::config::DebriefSettings;
use crate::domain::directory::Directory;
use crate::domain::directory::ZoneSource;
use crate::platform::outgoing;
use crate::platform::{Block, Button, Message, plain};
use crate::store::{NewOutboxMessage, Store};

/// How long before the close-by time the facilitator is reminded.
pub const REMIND_BEFORE_SECS: i64 = 2 * 3600;
/// Debriefs handled per pass; the rest wait for the next.
const BATCH: u32 = 50;

/// What closing a debrief on time needs, besides the store and the clock.
#[derive(Clone)]
pub struct DebriefDuties {
    pub directory: Arc<dyn Directory>,
    pub zones: Arc<dyn ZoneSource>,
    pub templates: Arc<Templates>,
    pub settings: DebriefSettings,
    pub give_up_after: Duration,
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimersReport {
    pub reminded: usize,
    pub closed: usize,
}

/// The facilitator's reminder.
pub(crate) fn reminder(debrief: &Debrief, reflected: i64, closes: &str) -> Message {
    let text = format!(
        ":alarm_clock: *{}* closes {closes}; {} so far. Nudge the others now, or close it \
         yourself when you are ready.",
        plain(&debrief.title),
        count(reflected, "person reflected", "people reflected"),
    );
    Message {
        fallback: format!("{} closes {closes}", plain(&debrief.title)),
        blocks: vec![
            Block::Text(text),
            Block::Actions(vec![
                Button::new("Nudge", NUDGE, debrief.id.0).primary(),
                Button::new("Close now", CLOSE, debrief.id.0),
            ]),
        ],
    }
}

/// Reminds and closes what is due at `now`.
pub async fn keep_close_by_times(
    store: &Store,
    clock: &dyn Clock,
    duties: &DebriefDuties,
    now: Timestamp,
) -> Result<TimersReport, AppError> {
    let mut report = TimersReport::default();
    for stored in store
        .debriefs_closing(now, REMIND_BEFORE_SECS, BATCH)
        .await?
    {
        let id = stored.id;
        // One debrief that fails (a broken row, a lost workspace) is logged and left
        // for the next pass; the others are still kept on time.
        match keep_one(store, clock, duties, stored, now).await {
            Ok(Kept::Closed) => report.closed += 1,
            Ok(Kept::Reminded) => report.reminded += 1,
            Ok(Kept::Nothing) => {}
            Err(err) => {
                tracing::warn!(debrief = id, error = %err, "could not keep a debrief's close-by time; trying again next pass");
            }
        }
    }
    Ok(report)
}

/// What one debrief's close-by time led to.
enum Kept {
    Closed,
    Reminded,
    Nothing,
}

async fn keep_one(
    store: &Store,
    clock: &dyn Clock,
    duties: &DebriefDuties,
    stored: crate::store::StoredDebrief,
    now: Timestamp,
) -> Result<Kept, AppError> {
    let workspace = store
        .workspace_by_id(crate::store::WorkspaceId(stored.workspace_id))
        .await?;
    // Started less than the reminder's lead before its close-by time: the facilitator
    // has just chosen it, so a "closes soon" would only be noise.
    let just_started = stored
        .closes_at
        .is_some_and(|at| at.seconds_since(stored.created_at) <= REMIND_BEFORE_SECS);
    let debrief = Debrief::try_from(stored)?;
    let ctx = CommandContext {
        store,
        clock,
        workspace: &workspace,
        channel: &debrief.channel,
        user: &debrief.facilitator,
        zones: duties.zones.as_ref(),
        directory: duties.directory.as_ref(),
        event: None,
        templates: &duties.templates,
        debriefs: &duties.settings,
        give_up_after: duties.give_up_after,
    };
    let due = debrief.closes_at.unwrap_or(now);
    Ok(if due <= now {
        if close_on_time(&ctx, &debrief).await? {
            Kept::Closed
        } else {
            Kept::Nothing
        }
    } else if remind(&ctx, &debrief, due, just_started).await? {
        Kept::Reminded
    } else {
        Kept::Nothing
    })
}

/// Queues the facilitator's reminder, once; `false` when it was already sent (or,
/// `quietly`, is only marked as sent).
async fn remind(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
    due: Timestamp,
    quietly: bool,
) -> Result<bool, AppError> {
    let zone = workspace_zone(ctx);
    let closes = format!("{} ({})", local_time(due.to_utc(), zone), zone.name());
    let reflected = ctx
        .store
        .reflection_count(ctx.workspace.id, debrief.id)
        .await?;
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let message = reminder(debrief, reflected, &closes);
    let posted = outgoing::post(
        ctx.workspace.platform,
        &debrief.facilitator,
        &message,
        &|id| names.name(id),
    );
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    if !tx
        .mark_close_reminded(ctx.workspace.id, debrief.id, now)
        .await?
    {
        return Ok(false);
    }
    if quietly {
        tx.commit().await?;
        return Ok(false);
    }
    tx.enqueue(
        NewOutboxMessage {
            method: posted.method,
            ..NewOutboxMessage::post(ctx.workspace.id, &debrief.facilitator, &posted.body)
        },
        now,
        ctx.give_up_at(now),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Closes the debrief as its facilitator would and tells them by DM; `false` when
/// another pass or process closed it first (then nothing is sent).
async fn close_on_time(ctx: &CommandContext<'_>, debrief: &Debrief) -> Result<bool, AppError> {
    let handled = close(ctx, debrief).await?;
    if !handled.queued {
        return Ok(false);
    }
    let said = Message::text(format!(
        ":alarm_clock: It was time: {}",
        handled.reply.fallback.trim_start_matches(":lock: ")
    ));
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let posted = outgoing::post(ctx.workspace.platform, &debrief.facilitator, &said, &|id| {
        names.name(id)
    });
    let now = ctx.clock.now();
    let key = format!("debrief-closed-on-time:{}", debrief.id.0);
    ctx.store
        .enqueue(
            NewOutboxMessage {
                method: posted.method,
                dedupe_key: Some(&key),
                ..NewOutboxMessage::post(ctx.workspace.id, &debrief.facilitator, &posted.body)
            },
            now,
            ctx.give_up_at(now),
        )
        .await?;
    Ok(true)
}
