//! Turns due schedules into runs and outbox messages. [`Scheduler::fire_due`] is one
//! pass that tests call with a moved clock; [`Scheduler::run`] sleeps until the next
//! schedule is due (an index lookup) or until a new schedule wakes it.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::app::debrief::since;
use crate::app::debrief::timers::{self, DebriefDuties, TimersReport};
use crate::app::templates::Templates;
use crate::app::{checkin_loop, checkins, digest, messages, recurrence, scopes};
use crate::clock::SharedClock;
use crate::delivery::Delivery;
use crate::domain::Schedule;
use crate::platform::Message;
use crate::platform::outgoing::{self, Outgoing};
use crate::store::{
    Audience, ConversationKind, NewCheckin, NewOutboxMessage, Occurrence, Platform, RunOutcome,
    ScheduleKind, Store, StoreError, StoredSchedule, WorkspaceId,
};

/// Schedules handled per pass; more are picked up by the next pass at once.
const BATCH: u32 = 200;
/// Longest sleep: bounds how late this process notices a schedule another process
/// created that is due sooner than anything it knew of.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FireReport {
    pub due: usize,
    pub sent: usize,
    pub skipped: usize,
    /// Occurrences another process had already handled.
    pub already_handled: usize,
    /// Lesson owners asked whether a lesson was applied.
    pub follow_ups_asked: usize,
    /// Lessons settled as unreachable (their question could not be delivered).
    pub unreachable: usize,
    /// Quarterly recaps posted.
    pub recaps: usize,
    /// Check-ins closed as missed (a day without an answer).
    pub checkins_missed: u64,
    /// New lessons whose close matches were looked for (for the digest's recurrences).
    pub lessons_matched: usize,
    /// Facilitators reminded that their debrief's close-by time is near, and debriefs
    /// closed at it.
    pub debriefs: TimersReport,
}

/// What one due schedule will do, worked out before the batch is written.
struct Plan<'s> {
    stored: &'s StoredSchedule,
    fire_at: Timestamp,
    outcome: RunOutcome,
    next_fire_at: Timestamp,
    /// The outbox method and body of the prompt (empty when nothing is sent).
    outgoing: Outgoing,
    dedupe_key: String,
    /// A check-in's frozen questions (JSON), for check-in schedules.
    checkin_questions: Option<String>,
    /// For a digest: whether it had nothing new to tell.
    quiet: Option<bool>,
}

/// What one pass looks up once per workspace rather than once per schedule: firing
/// 10,000 reminders must not cost 10,000 round trips for the same answer.
#[derive(Default)]
pub(super) struct PassCache {
    platforms: HashMap<WorkspaceId, Platform>,
    /// Channels with open action items (a retro reminder shows them), per workspace.
    open_action_channels: HashMap<WorkspaceId, HashSet<String>>,
}

impl PassCache {
    async fn platform(
        &mut self,
        store: &Store,
        workspace: WorkspaceId,
    ) -> Result<Platform, AppError> {
        if let Some(platform) = self.platforms.get(&workspace) {
            return Ok(*platform);
        }
        let platform = store.workspace_by_id(workspace).await?.platform;
        self.platforms.insert(workspace, platform);
        Ok(platform)
    }

    async fn has_open_actions(
        &mut self,
        store: &Store,
        workspace: WorkspaceId,
        channel: &str,
    ) -> Result<bool, AppError> {
        if let Some(channels) = self.open_action_channels.get(&workspace) {
            return Ok(channels.contains(channel));
        }
        let channels = store.channels_with_open_actions(workspace).await?;
        let found = channels.contains(channel);
        self.open_action_channels.insert(workspace, channels);
        Ok(found)
    }
}

/// The scheduler of one process.
pub struct Scheduler {
    pub(super) store: Store,
    pub(super) clock: SharedClock,
    pub(super) delivery: Arc<Delivery>,
    templates: Arc<Templates>,
    grace_secs: i64,
    pub(super) holidays: Vec<NaiveDate>,
    /// When follow-ups may be sent: from this hour of a working day, people's own time.
    pub(super) follow_up_hour: u32,
    pub(super) workdays: Vec<chrono::Weekday>,
    /// What each pass may spend on matching recurring lessons.
    matching: recurrence::Budget,
    /// The workspace indexes matching keeps between passes.
    matcher: recurrence::Matcher,
    /// Keeping debriefs' close-by times; `None` leaves them alone (tests of schedules).
    debriefs: Option<DebriefDuties>,
    /// Signalled by the store when a schedule was created or turned off.
    wake: Arc<Notify>,
}

impl Scheduler {
    pub fn new(
        store: Store,
        clock: SharedClock,
        delivery: Arc<Delivery>,
        templates: Arc<Templates>,
        grace: Duration,
        holidays: Vec<NaiveDate>,
    ) -> Self {
        Self {
            wake: store.schedules_signal(),
            store,
            clock,
            delivery,
            templates,
            grace_secs: grace.as_secs() as i64,
            holidays,
            follow_up_hour: 10,
            workdays: vec![
                chrono::Weekday::Mon,
                chrono::Weekday::Tue,
                chrono::Weekday::Wed,
                chrono::Weekday::Thu,
                chrono::Weekday::Fri,
            ],
            matching: recurrence::Budget::PASS,
            matcher: recurrence::Matcher::default(),
            debriefs: None,
        }
    }

    /// Sends follow-ups from `hour` on `workdays` (10:00, Monday to Friday otherwise).
    pub fn with_follow_up_times(mut self, hour: u32, workdays: Vec<chrono::Weekday>) -> Self {
        self.follow_up_hour = hour;
        self.workdays = workdays;
        self
    }

    /// Also reminds facilitators of, and closes debriefs at, their close-by times.
    pub fn with_debrief_duties(mut self, duties: DebriefDuties) -> Self {
        self.debriefs = Some(duties);
        self
    }

    /// Spends `budget` on matching recurring lessons per pass (tests and benchmarks).
    pub fn with_matching_budget(mut self, budget: recurrence::Budget) -> Self {
        self.matching = budget;
        self
    }

    /// Tells the loop to look at what is due now (the store already does when a
    /// schedule changes; tests and benchmarks that move the clock call this).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Handles every schedule due now: one run per occurrence, at most one prompt per
    /// schedule however long the service was down.
    pub async fn fire_due(&self) -> Result<FireReport, AppError> {
        let now = self.clock.now();
        let mut report = FireReport::default();
        let mut cache = PassCache::default();
        loop {
            let due = self.store.due_schedules(now, BATCH).await?;
            report.due += due.len();
            let mut planned = Vec::with_capacity(due.len());
            for stored in &due {
                match self.plan(stored, now, &mut cache).await? {
                    Some(plan) => planned.push(plan),
                    None => report.already_handled += 1,
                }
            }
            // The messages are queued now, after planning; the runs are of the pass.
            let queued_at = self.clock.now();
            let give_up_at = self.delivery.give_up_at(queued_at);
            let occurrences: Vec<Occurrence<'_>> = planned
                .iter()
                .map(|plan| Occurrence {
                    schedule: plan.stored.id,
                    expected_next: plan.stored.next_fire_at,
                    fire_at: plan.fire_at,
                    outcome: plan.outcome,
                    next_fire_at: plan.next_fire_at,
                    message: Some((
                        NewOutboxMessage {
                            method: plan.outgoing.method,
                            dedupe_key: Some(&plan.dedupe_key),
                            ..NewOutboxMessage::post(
                                plan.stored.workspace,
                                &plan.stored.channel,
                                &plan.outgoing.body,
                            )
                        },
                        queued_at,
                        give_up_at,
                    )),
                    checkin: plan
                        .checkin_questions
                        .as_deref()
                        .map(|questions| NewCheckin {
                            workspace: plan.stored.workspace,
                            person: plan
                                .stored
                                .person
                                .as_deref()
                                .unwrap_or(&plan.stored.channel),
                            questions,
                        }),
                })
                .collect();
            let handled = self.store.record_occurrences(&occurrences, now).await?;
            // A digest remembers whether it was quiet, for the next one to stay silent.
            for (plan, handled) in planned.iter().zip(&handled) {
                if let (true, Some(quiet)) = (*handled, plan.quiet) {
                    self.store
                        .set_digest_quiet(plan.stored.id, quiet, plan.fire_at)
                        .await?;
                }
            }
            let handled_any = handled.iter().any(|handled| *handled);
            for (occurrence, handled) in occurrences.iter().zip(handled) {
                match (handled, occurrence.outcome) {
                    (false, _) => report.already_handled += 1,
                    (true, RunOutcome::Sent) => report.sent += 1,
                    (true, _) => report.skipped += 1,
                }
            }
            // Another replica took the whole batch while this one planned it: it is
            // working through the backlog, so leave the rest to it until the next pass
            // (200 ms on) instead of planning every batch twice; if it stops, the next
            // pass carries on. Exactly-once never depended on this.
            let lost_every_one = !handled_any && !occurrences.is_empty();
            if due.len() < BATCH as usize || lost_every_one {
                break;
            }
        }
        (report.follow_ups_asked, report.unreachable) = self.ask_follow_ups(now).await?;
        report.recaps = self.post_recaps(now).await?;
        report.checkins_missed = self
            .store
            .miss_checkins(now.plus_seconds(-checkins::ANSWER_WITHIN_SECS), now)
            .await?;
        if report.checkins_missed > 0 {
            tracing::info!(
                count = report.checkins_missed,
                "closed check-ins nobody answered within a day as missed"
            );
        }
        if let Some(duties) = &self.debriefs {
            report.debriefs =
                timers::keep_close_by_times(&self.store, self.clock.as_ref(), duties, now).await?;
        }
        // What was queued goes out now, while the pass goes on.
        if report.sent > 0
            || report.follow_ups_asked > 0
            || report.recaps > 0
            || report.debriefs != TimersReport::default()
        {
            self.delivery.wake();
        }
        // Last, and within a budget: matching a backlog of lessons never delays a due
        // prompt. A digest matches its own period's lessons the pass has not reached.
        report.lessons_matched =
            recurrence::match_queued(&self.store, &self.matcher, self.matching).await?;
        Ok(report)
    }

    /// What an occurrence posts, and a check-in's questions when it starts one.
    async fn prompt(
        &self,
        stored: &StoredSchedule,
        cache: &mut PassCache,
        platform: Platform,
        schedule: &Schedule,
        fire_at: Timestamp,
    ) -> Result<(Message, Option<String>, Option<bool>), AppError> {
        let local_day = fire_at
            .to_utc()
            .with_timezone(&schedule.zone())
            .date_naive();
        Ok(match stored.kind {
            ScheduleKind::Retro => {
                let mut reminder = messages::retro_reminder(
                    stored.id.0,
                    schedule.text(),
                    stored.template.as_deref(),
                    local_day,
                );
                // The retro starts from the open actions of the last ones.
                let open = if cache
                    .has_open_actions(&self.store, stored.workspace, &stored.channel)
                    .await?
                {
                    self.store
                        .open_actions_in(stored.workspace, &stored.channel, None, since::SHOWN)
                        .await?
                } else {
                    Vec::new()
                };
                reminder.blocks.extend(since::section(&open, None));
                (reminder, None, None)
            }
            ScheduleKind::Checkin => {
                let person = stored.person.as_deref().unwrap_or(&stored.channel);
                let goals = self.store.goals(stored.workspace, person).await?;
                let template = self
                    .templates
                    .get(stored.template.as_deref().unwrap_or(checkins::TEMPLATE));
                let recall = checkin_loop::recall(
                    &self.store,
                    stored.workspace,
                    person,
                    fire_at,
                    schedule.zone(),
                    &goals,
                )
                .await?;
                let questions = checkins::questions(recall.intention, template, &goals);
                let json = serde_json::to_string(&questions)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                (
                    checkins::opening(&questions, recall.month),
                    Some(json),
                    None,
                )
            }
            ScheduleKind::Digest => {
                // Each digest covers the time since the previous one (a week at first).
                let from = self
                    .store
                    .last_sent_before(stored.id, fire_at)
                    .await?
                    .unwrap_or(fire_at.plus_seconds(-digest::WEEK_SECS));
                let built = digest::build(
                    &self.store,
                    stored.workspace,
                    from,
                    fire_at,
                    schedule.zone(),
                    self.digest_audience(stored, platform).await?,
                )
                .await?;
                (built.message, None, Some(built.quiet))
            }
        })
    }

    /// Who reads a digest's channel, as last looked up (when the digest was set, then
    /// daily); a Slack channel never described counts as read by outsiders: its own
    /// lessons only.
    pub(super) async fn digest_audience<'s>(
        &self,
        stored: &'s StoredSchedule,
        platform: Platform,
    ) -> Result<Audience<'s>, AppError> {
        let kind = self
            .store
            .conversation_scope(stored.workspace, &stored.channel)
            .await?
            .map_or(ConversationKind::Unknown, |scope| scope.kind);
        let org_wide = self.store.workspace_by_id(stored.workspace).await?.org_wide;
        Ok(scopes::narrowed(
            org_wide,
            scopes::audience_for(platform, &stored.channel, kind),
        ))
    }

    /// The prompt as an outbox row for the schedule's workspace's platform.
    pub(super) async fn render(
        &self,
        stored: &StoredSchedule,
        platform: Platform,
        message: &Message,
    ) -> Result<Outgoing, AppError> {
        let names: HashMap<String, String> = match platform {
            Platform::Teams => self
                .store
                .teams_people(stored.workspace)
                .await?
                .into_iter()
                .filter_map(|p| Some((p.person, p.name?)))
                .collect(),
            Platform::Slack => HashMap::new(),
        };
        let name_of = |id: &str| names.get(id).cloned();
        Ok(outgoing::post(platform, &stored.channel, message, &name_of))
    }

    /// Works out what one due schedule should do now; `None` when it cannot fire at all.
    async fn plan<'s>(
        &self,
        stored: &'s StoredSchedule,
        now: Timestamp,
        cache: &mut PassCache,
    ) -> Result<Option<Plan<'s>>, AppError> {
        let anchor = NaiveDate::parse_from_str(&stored.anchor_date, "%Y-%m-%d").unwrap_or_default();
        let schedule = match Schedule::restore(&stored.spec, &stored.time_zone, anchor) {
            Ok(schedule) => schedule,
            Err(err) => {
                tracing::error!(schedule_id = stored.id.0, error = %err, "a stored schedule no longer parses; turned it off");
                self.store.deactivate_broken_schedule(stored.id).await?;
                return Ok(None);
            }
        };
        // The latest occurrence that is due: after downtime only it may fire, and only
        // within the grace period. Jump to the grace window first so that a long outage
        // of a frequent schedule is not walked minute by minute.
        let grace_start = now.plus_seconds(-self.grace_secs);
        let mut latest = stored.next_fire_at;
        if latest < grace_start
            && let Some(first_in_grace) = schedule.next_after(grace_start.plus_seconds(-1).to_utc())
            && Timestamp::from(first_in_grace) <= now
        {
            latest = first_in_grace.into();
        }
        while let Some(next) = schedule.next_after(latest.to_utc()) {
            let next = Timestamp::from(next);
            if next > now {
                break;
            }
            latest = next;
        }
        if latest != stored.next_fire_at {
            tracing::info!(
                schedule_id = stored.id.0,
                "passed over earlier missed occurrences after downtime; only the latest counts"
            );
        }
        // A schedule with no next occurrence is never due again.
        let next_fire_at = schedule
            .next_after(now.to_utc())
            .map_or(Timestamp::NEVER, Timestamp::from);
        let local_day = latest.to_utc().with_timezone(&schedule.zone()).date_naive();
        let outcome = if now.seconds_since(latest) > self.grace_secs {
            tracing::info!(
                schedule_id = stored.id.0,
                kind = stored.kind.as_str(),
                missed_at = %latest.to_utc(),
                "skipped a missed occurrence older than the grace period"
            );
            RunOutcome::Missed
        } else if self.holidays.contains(&local_day) {
            tracing::info!(schedule_id = stored.id.0, day = %local_day, "skipped an occurrence on a holiday");
            RunOutcome::Holiday
        } else if let Some(person) = &stored.person
            && self
                .store
                .paused_until(stored.workspace, person, latest)
                .await?
                .is_some()
        {
            tracing::info!(
                schedule_id = stored.id.0,
                "skipped an occurrence: the person paused their prompts"
            );
            RunOutcome::Paused
        } else {
            RunOutcome::Sent
        };
        // Only an occurrence that is sent needs its prompt (a digest is work to build).
        let nothing = || Outgoing {
            method: crate::store::OutboxMethod::SlackPost,
            body: String::new(),
        };
        let (mut outcome, mut outgoing, mut checkin_questions, mut quiet) =
            (outcome, nothing(), None, None);
        if outcome == RunOutcome::Sent {
            let platform = cache.platform(&self.store, stored.workspace).await?;
            let (message, questions, is_quiet) = self
                .prompt(stored, cache, platform, &schedule, latest)
                .await?;
            quiet = is_quiet;
            // A quiet week is said once; after it, silence until there is news.
            if is_quiet == Some(true) && self.store.digest_quiet_since(stored.id).await?.is_some() {
                outcome = RunOutcome::Quiet;
            } else {
                outgoing = self.render(stored, platform, &message).await?;
                checkin_questions = questions;
            }
        }
        Ok(Some(Plan {
            stored,
            fire_at: latest,
            outcome,
            next_fire_at,
            outgoing,
            dedupe_key: format!("schedule:{}:{}", stored.id.0, latest.unix_seconds()),
            checkin_questions,
            quiet,
        }))
    }

    /// The soonest of: the next schedule, the next follow-up question, the next
    /// check-in to close as missed (each an index lookup).
    async fn next_due(&self) -> Result<Option<Timestamp>, AppError> {
        // Lessons still to match: the next pass comes at once (after any due prompt).
        if self.store.lessons_wait_to_match().await? {
            return Ok(Some(self.clock.now()));
        }
        let schedule = self.store.next_schedule_due().await?;
        // A question due but waiting for its owner's working hours is looked at again
        // within the loop's longest sleep, not at once over and over.
        let now = self.clock.now();
        let follow_up = self
            .store
            .next_follow_up_due()
            .await?
            .map(|due| if due <= now { now + MAX_SLEEP } else { due });
        let checkin = self
            .store
            .oldest_open_checkin()
            .await?
            .map(|opened| opened.plus_seconds(checkins::ANSWER_WITHIN_SECS));
        Ok([schedule, follow_up, checkin].into_iter().flatten().min())
    }

    /// Fires schedules until `stop` is cancelled.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            if stop.is_cancelled() {
                return;
            }
            if let Err(err) = self.fire_due().await {
                tracing::warn!(error = %err, "could not fire due schedules; trying again shortly");
            }
            let wait = match self.next_due().await {
                Ok(Some(due)) => due
                    .since(self.clock.now())
                    .min(MAX_SLEEP)
                    .max(Duration::from_millis(200)),
                Ok(None) => MAX_SLEEP,
                Err(_) => Duration::from_secs(5),
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
