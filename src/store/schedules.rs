//! Schedule rows and their runs. Firing an occurrence is one transaction: the run row
//! (unique per schedule and fire time), the message it sends, and the move of
//! `next_fire_at`, guarded so that a second process firing the same occurrence
//! changes nothing.

use std::collections::HashSet;

use sqlx::FromRow;

use super::checkins::{self, NewCheckin};
use super::db;
use super::{NewOutboxMessage, Store, StoreError, WorkspaceId};
pub use crate::domain::ScheduleId;
use crate::domain::Timestamp;

/// What a schedule prompts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleKind {
    Retro,
    Checkin,
    Digest,
}

impl ScheduleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retro => "retro",
            Self::Checkin => "checkin",
            Self::Digest => "digest",
        }
    }

    fn from_db(value: &str) -> Result<Self, StoreError> {
        match value {
            "retro" => Ok(Self::Retro),
            "checkin" => Ok(Self::Checkin),
            "digest" => Ok(Self::Digest),
            other => Err(StoreError::Other(sqlx::Error::Decode(
                format!("unknown schedule kind `{other}`").into(),
            ))),
        }
    }
}

/// A new schedule.
#[derive(Clone, Copy, Debug)]
pub struct NewSchedule<'a> {
    pub workspace: WorkspaceId,
    pub kind: ScheduleKind,
    pub channel: &'a str,
    pub spec: &'a str,
    pub time_zone: &'a str,
    /// `YYYY-MM-DD`.
    pub anchor_date: &'a str,
    pub template: Option<&'a str>,
    pub next_fire_at: Timestamp,
    pub created_by: &'a str,
    /// The person a personal schedule (a check-in) prompts; `None` for channel schedules.
    pub person: Option<&'a str>,
}

/// A stored schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSchedule {
    pub id: ScheduleId,
    pub workspace: WorkspaceId,
    pub kind: ScheduleKind,
    pub channel: String,
    pub spec: String,
    pub time_zone: String,
    pub anchor_date: String,
    pub template: Option<String>,
    pub next_fire_at: Timestamp,
    pub person: Option<String>,
}

#[derive(FromRow)]
struct ScheduleRow {
    id: i64,
    workspace_id: i64,
    kind: String,
    channel: String,
    spec: String,
    time_zone: String,
    anchor_date: String,
    template: Option<String>,
    #[sqlx(try_from = "super::columns::Seconds")]
    next_fire_at: Timestamp,
    person: Option<String>,
}

impl TryFrom<ScheduleRow> for StoredSchedule {
    type Error = StoreError;
    fn try_from(row: ScheduleRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: ScheduleId(row.id),
            workspace: WorkspaceId(row.workspace_id),
            kind: ScheduleKind::from_db(&row.kind)?,
            channel: row.channel,
            spec: row.spec,
            time_zone: row.time_zone,
            anchor_date: row.anchor_date,
            template: row.template,
            next_fire_at: row.next_fire_at,
            person: row.person,
        })
    }
}

/// What became of one occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Sent,
    /// Too long ago when the scheduler got to it (downtime beyond the grace period).
    Missed,
    Holiday,
    Paused,
    /// A digest with nothing new after a quiet week: silence until there is news.
    Quiet,
}

impl RunOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Missed => "missed",
            Self::Holiday => "holiday",
            Self::Paused => "paused",
            Self::Quiet => "quiet",
        }
    }
}

/// One occurrence to record.
#[derive(Clone, Copy, Debug)]
pub struct Occurrence<'a> {
    pub schedule: ScheduleId,
    /// The `next_fire_at` this process read; the move only happens if it is unchanged.
    pub expected_next: Timestamp,
    pub fire_at: Timestamp,
    pub outcome: RunOutcome,
    pub next_fire_at: Timestamp,
    /// The message to queue when the outcome is `Sent`, with when it was queued and given up.
    pub message: Option<(NewOutboxMessage<'a>, Timestamp, Timestamp)>,
    /// The check-in a personal check-in schedule starts when the outcome is `Sent`.
    pub checkin: Option<NewCheckin<'a>>,
}

impl Store {
    /// Since when a digest has had nothing new to say, if it has been quiet.
    pub async fn digest_quiet_since(
        &self,
        schedule: ScheduleId,
    ) -> Result<Option<Timestamp>, StoreError> {
        let since: Option<super::columns::Seconds> =
            db::query_scalar("SELECT since FROM digest_quiet WHERE schedule_id = ?")
                .bind(schedule.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(since.map(Timestamp::from))
    }

    /// Records whether a digest just said nothing new (`quiet`) or had news.
    pub async fn set_digest_quiet(
        &self,
        schedule: ScheduleId,
        quiet: bool,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at = at.unix_seconds();
        let query = if quiet {
            "INSERT INTO digest_quiet (schedule_id, since) VALUES (?, ?) \
             ON CONFLICT (schedule_id) DO NOTHING"
        } else {
            "DELETE FROM digest_quiet WHERE schedule_id = ? AND ? IS NOT NULL"
        };
        db::query(query)
            .bind(schedule.0)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
    pub async fn create_schedule(
        &self,
        new: NewSchedule<'_>,
        now: Timestamp,
    ) -> Result<ScheduleId, StoreError> {
        let now = now.unix_seconds();
        let id: i64 = db::query_scalar(
            "INSERT INTO schedules (workspace_id, kind, channel, spec, time_zone, anchor_date, template, \
                 next_fire_at, created_by, created_at, person) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.workspace.0)
        .bind(new.kind.as_str())
        .bind(new.channel)
        .bind(new.spec)
        .bind(new.time_zone)
        .bind(new.anchor_date)
        .bind(new.template)
        .bind(new.next_fire_at.unix_seconds())
        .bind(new.created_by)
        .bind(now)
        .bind(new.person)
        .fetch_one(&self.pool)
        .await?;
        // It may be due before the scheduler's next look.
        self.schedules_changed.notify_one();
        Ok(ScheduleId(id))
    }

    /// Active schedules of one channel, soonest first.
    pub async fn channel_schedules(
        &self,
        workspace: WorkspaceId,
        channel: &str,
    ) -> Result<Vec<StoredSchedule>, StoreError> {
        let rows: Vec<ScheduleRow> = db::query_as(
            "SELECT id, workspace_id, kind, channel, spec, time_zone, anchor_date, template, next_fire_at, person \
             FROM schedules WHERE workspace_id = ? AND channel = ? AND active = 1 \
             ORDER BY next_fire_at, id",
        )
        .bind(workspace.0)
        .bind(channel)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The workspace's active channel schedules (digests, retro reminders; not
    /// personal check-ins), by channel, soonest first.
    pub async fn workspace_channel_schedules(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<StoredSchedule>, StoreError> {
        let rows: Vec<ScheduleRow> = db::query_as(
            "SELECT id, workspace_id, kind, channel, spec, time_zone, anchor_date, template, next_fire_at, person \
             FROM schedules WHERE workspace_id = ? AND active = 1 AND person IS NULL \
             ORDER BY channel, next_fire_at, id",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Turns off a schedule of this workspace and channel; `NotFound` otherwise.
    pub async fn deactivate_schedule(
        &self,
        workspace: WorkspaceId,
        channel: &str,
        id: ScheduleId,
    ) -> Result<(), StoreError> {
        let result = db::query(
            "UPDATE schedules SET active = 0 \
             WHERE id = ? AND workspace_id = ? AND channel = ? AND active = 1",
        )
        .bind(id.0)
        .bind(workspace.0)
        .bind(channel)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.schedules_changed.notify_one();
        Ok(())
    }

    /// Turns off the person's own schedules of one kind (their check-in); how many.
    pub async fn deactivate_personal_schedules(
        &self,
        workspace: WorkspaceId,
        person: &str,
        kind: ScheduleKind,
    ) -> Result<u64, StoreError> {
        let turned_off = db::query(
            "UPDATE schedules SET active = 0 \
             WHERE workspace_id = ? AND person = ? AND kind = ? AND active = 1",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(kind.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if turned_off > 0 {
            self.schedules_changed.notify_one();
        }
        Ok(turned_off)
    }

    /// The person's active schedules of one kind.
    pub async fn personal_schedules(
        &self,
        workspace: WorkspaceId,
        person: &str,
        kind: ScheduleKind,
    ) -> Result<Vec<StoredSchedule>, StoreError> {
        let rows: Vec<ScheduleRow> = db::query_as(
            "SELECT id, workspace_id, kind, channel, spec, time_zone, anchor_date, template, next_fire_at, person \
             FROM schedules WHERE workspace_id = ? AND person = ? AND kind = ? AND active = 1 \
             ORDER BY id",
        )
        .bind(workspace.0)
        .bind(person)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// When the schedule last sent something before `before` (the start of a digest's
    /// period).
    pub async fn last_sent_before(
        &self,
        id: ScheduleId,
        before: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let before = before.unix_seconds();
        let last: super::columns::OptionalSeconds = db::query_scalar(
            "SELECT MAX(fire_at) FROM schedule_runs \
             WHERE schedule_id = ? AND outcome = 'sent' AND fire_at < ?",
        )
        .bind(id.0)
        .bind(before)
        .fetch_one(&self.pool)
        .await?;
        Ok(last.into())
    }

    /// Active schedules due at `now`, oldest first.
    pub async fn due_schedules(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredSchedule>, StoreError> {
        let now = now.unix_seconds();
        let rows: Vec<ScheduleRow> = db::query_as(
            "SELECT id, workspace_id, kind, channel, spec, time_zone, anchor_date, template, next_fire_at, person \
             FROM schedules s WHERE active = 1 AND next_fire_at <= ? \
               AND NOT EXISTS (SELECT 1 FROM workspaces w \
                               WHERE w.id = s.workspace_id AND w.uninstalled_at IS NOT NULL) \
             ORDER BY next_fire_at, id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Every active schedule of one kind, in every workspace (the digests a quarterly
    /// recap goes to).
    pub async fn active_schedules_of(
        &self,
        kind: ScheduleKind,
    ) -> Result<Vec<StoredSchedule>, StoreError> {
        let rows: Vec<ScheduleRow> = db::query_as(
            "SELECT id, workspace_id, kind, channel, spec, time_zone, anchor_date, template, next_fire_at, person \
             FROM schedules s WHERE active = 1 AND kind = ? \
               AND NOT EXISTS (SELECT 1 FROM workspaces w \
                               WHERE w.id = s.workspace_id AND w.uninstalled_at IS NOT NULL) \
             ORDER BY id",
        )
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// When the next active schedule of an installed workspace is due (the index in
    /// order, stopping at the first one whose workspace still has the app).
    pub async fn next_schedule_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<super::columns::Seconds> = db::query_scalar(
            "SELECT next_fire_at FROM schedules s WHERE active = 1 \
               AND NOT EXISTS (SELECT 1 FROM workspaces w \
                               WHERE w.id = s.workspace_id AND w.uninstalled_at IS NOT NULL) \
             ORDER BY next_fire_at LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(next.map(Timestamp::from))
    }

    /// Records occurrences, queues their messages and moves their schedules on, in one
    /// transaction (one write lock for a whole batch). For each occurrence, true when this
    /// call handled it, false when another process already had.
    pub async fn record_occurrences(
        &self,
        occurrences: &[Occurrence<'_>],
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        let at = now;
        let now = now.unix_seconds();
        if occurrences.is_empty() {
            return Ok(Vec::new());
        }
        // Each step is one statement over the whole batch (its rows bound as one JSON
        // array): a statement per occurrence made a batch of 10,000 cost 30,000 round
        // trips to SQLite's thread.
        //
        // Every replica's scheduler and worker write at once, so this does not take the
        // store's one write lock (the workers' settles would queue behind every batch):
        // what must not interleave is locked by key instead. Each schedule's occurrence
        // is decided by its own compare-and-set, the check-ins of a person (one open at
        // a time) by that person, and a channel's messages by the channel: an outbox id
        // is drawn at insert but seen at commit, so two firings queueing to one channel
        // side by side could commit their ids out of order and send them so. All keys
        // are taken up front, space after space, so two schedulers never wait for each
        // other in a circle.
        let mut tx = self.pool.begin_concurrent().await?;
        let schedules: Vec<i64> = occurrences.iter().map(|o| o.schedule.0).collect();
        tx.lock_keys(db::LockSpace::Schedule, &schedules).await?;
        let people: Vec<i64> = occurrences
            .iter()
            .filter_map(|o| o.checkin.as_ref())
            .map(|checkin| db::text_key(checkin.workspace.0, checkin.person))
            .collect();
        tx.lock_keys(db::LockSpace::Person, &people).await?;
        let channels: Vec<i64> = occurrences
            .iter()
            .filter_map(|o| o.message.as_ref())
            .map(|(message, _, _)| db::text_key(message.workspace.0, message.channel))
            .collect();
        tx.lock_keys(db::LockSpace::Channel, &channels).await?;
        // The compare-and-set comes first: only the process that moves the schedule on
        // from the value it read owns this occurrence, and only while the schedule is
        // still on (someone may have turned it off since it was read as due).
        let moves: Vec<serde_json::Value> = occurrences
            .iter()
            .map(|o| {
                serde_json::json!([
                    o.schedule.0,
                    o.next_fire_at.unix_seconds(),
                    o.expected_next.unix_seconds()
                ])
            })
            .collect();
        let moved: HashSet<i64> = db::query_scalar(over_json_rows!(
            ["UPDATE schedules SET next_fire_at = CAST(j.value ->> 1 AS BIGINT) FROM "],
            "?",
            [" WHERE schedules.id = CAST(j.value ->> 0 AS BIGINT) \
               AND schedules.next_fire_at = CAST(j.value ->> 2 AS BIGINT) \
               AND schedules.active = 1 \
             RETURNING schedules.id"]
        ))
        .bind(serde_json::Value::Array(moves).to_string())
        .fetch_all(&mut tx)
        .await?
        .into_iter()
        .collect();
        let runs: Vec<serde_json::Value> = occurrences
            .iter()
            .filter(|o| moved.contains(&o.schedule.0))
            .map(|o| {
                serde_json::json!([o.schedule.0, o.fire_at.unix_seconds(), o.outcome.as_str()])
            })
            .collect();
        let recorded: HashSet<i64> =
            if runs.is_empty() {
                HashSet::new()
            } else {
                db::query_scalar(over_json_rows!(
                ["INSERT INTO schedule_runs (schedule_id, fire_at, outcome, ran_at) \
                 SELECT CAST(j.value ->> 0 AS BIGINT), CAST(j.value ->> 1 AS BIGINT), \
                     j.value ->> 2, ?1 FROM "],
                "?2",
                [" WHERE true ON CONFLICT (schedule_id, fire_at) DO NOTHING RETURNING schedule_id"]
            ))
            .bind(now)
            .bind(serde_json::Value::Array(runs).to_string())
            .fetch_all(&mut tx)
            .await?
            .into_iter()
            .collect()
            };
        let handled: Vec<bool> = occurrences
            .iter()
            .map(|o| recorded.contains(&o.schedule.0))
            .collect();
        let sent = || {
            occurrences
                .iter()
                .zip(&handled)
                .filter(|(o, handled)| **handled && o.outcome == RunOutcome::Sent)
                .map(|(o, _)| o)
        };
        let messages: Vec<(NewOutboxMessage<'_>, Timestamp, Timestamp)> =
            sent().filter_map(|o| o.message).collect();
        super::outbox::insert_many(&mut tx, &messages).await?;
        for occurrence in sent() {
            if let Some(checkin) = occurrence.checkin {
                checkins::start(&mut tx, checkin, occurrence.schedule.0, at).await?;
            }
        }
        if !messages.is_empty() {
            super::wakeups::notify_queued(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(handled)
    }

    /// Moves a schedule on without a run (e.g. its spec no longer parses).
    pub async fn deactivate_broken_schedule(&self, id: ScheduleId) -> Result<(), StoreError> {
        db::query("UPDATE schedules SET active = 0 WHERE id = ?")
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Outcomes recorded for a schedule, oldest first; for tests and operators.
    pub async fn schedule_runs(
        &self,
        workspace: WorkspaceId,
        id: ScheduleId,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(db::query_as(
            "SELECT r.fire_at, r.outcome FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id \
             WHERE s.workspace_id = ? AND r.schedule_id = ? ORDER BY r.fire_at",
        )
        .bind(workspace.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{ms, secs};
    use crate::store::test_support::{temp_store, workspace};
    use crate::store::{NewCheckin, RunOutcome};

    /// A schedule of `kind` in `channel`, due at 100.
    fn due_at_100<'a>(
        ws: WorkspaceId,
        kind: ScheduleKind,
        channel: &'a str,
        spec: &'a str,
        person: Option<&'a str>,
    ) -> NewSchedule<'a> {
        NewSchedule {
            workspace: ws,
            kind,
            channel,
            spec,
            time_zone: "UTC",
            anchor_date: "2026-11-30",
            template: None,
            next_fire_at: secs(100),
            created_by: "U1",
            person,
        }
    }

    /// The occurrence at 100 of a schedule made by [`due_at_100`], sent, queueing nothing.
    fn sent_at_100<'a>(schedule: ScheduleId) -> Occurrence<'a> {
        Occurrence {
            schedule,
            expected_next: secs(100),
            fire_at: secs(100),
            outcome: RunOutcome::Sent,
            next_fire_at: secs(86_500),
            message: None,
            checkin: None,
        }
    }

    /// Creating or turning off a schedule wakes the scheduler; a change that changed
    /// nothing does not. No caller has to remember to.
    #[tokio::test]
    async fn a_schedule_created_or_turned_off_signals_the_scheduler() {
        let (store, _dir) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let signal = store.schedules_signal();
        let woken = |signal: std::sync::Arc<tokio::sync::Notify>| async move {
            tokio::time::timeout(std::time::Duration::from_millis(50), signal.notified())
                .await
                .is_ok()
        };
        let spec = "fridays 16:00";
        let schedule = due_at_100(ws, ScheduleKind::Checkin, "U2", spec, Some("U2"));
        store.create_schedule(schedule, secs(1)).await.unwrap();
        assert!(woken(signal.clone()).await, "a new schedule");
        let none = store
            .deactivate_personal_schedules(ws, "U9", ScheduleKind::Checkin)
            .await
            .unwrap();
        assert_eq!(none, 0);
        assert!(!woken(signal.clone()).await, "nothing turned off");
        store
            .deactivate_personal_schedules(ws, "U2", ScheduleKind::Checkin)
            .await
            .unwrap();
        assert!(woken(signal).await, "a schedule turned off");
    }

    /// A schedule turned off after it was read as due does not fire.
    #[tokio::test]
    async fn a_schedule_turned_off_after_it_was_read_as_due_does_not_fire() {
        let (store, _db) = temp_store().await;
        let ws = workspace(&store, "T1").await;
        let new = due_at_100(ws, ScheduleKind::Retro, "C1", "daily 9:00", None);
        let schedule = store.create_schedule(new, secs(1)).await.unwrap();
        assert_eq!(store.due_schedules(secs(100), 10).await.unwrap().len(), 1);
        store.deactivate_schedule(ws, "C1", schedule).await.unwrap();
        let occurrence = Occurrence {
            message: Some((
                NewOutboxMessage::post(ws, "C1", "retro time"),
                ms(100_000),
                ms(99_000_000),
            )),
            ..sent_at_100(schedule)
        };
        let handled = store
            .record_occurrences(&[occurrence], secs(100))
            .await
            .unwrap();
        assert_eq!(handled, vec![false], "not fired");
        let queued: i64 = db::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(queued, 0, "nothing queued");
    }

    /// Two replicas firing two check-in schedules of one person at the same moment (the
    /// firing no longer waits for the store's one write lock): the person ends up with
    /// one open check-in, as when the two fire one after the other, and each schedule
    /// fires once.
    #[tokio::test]
    async fn two_check_ins_of_one_person_fired_at_once_leave_one_open() {
        let (first, database) = temp_store().await;
        let second = Store::connect(&database.settings(4)).await.unwrap();
        let ws = workspace(&first, "T1").await;
        let mut schedules = Vec::new();
        for spec in ["daily 9:00", "weekly fri 9:00"] {
            let new = due_at_100(ws, ScheduleKind::Checkin, "D1", spec, Some("U1"));
            schedules.push(first.create_schedule(new, secs(1)).await.unwrap());
        }
        let fire = |store: Store, schedule: ScheduleId| async move {
            let occurrence = Occurrence {
                checkin: Some(NewCheckin {
                    workspace: ws,
                    person: "U1",
                    questions: "[]",
                }),
                ..sent_at_100(schedule)
            };
            store
                .record_occurrences(&[occurrence], secs(100))
                .await
                .unwrap()
        };
        for _ in 0..20 {
            let (a, b) = tokio::join!(
                fire(first.clone(), schedules[0]),
                fire(second.clone(), schedules[1])
            );
            assert_eq!((a, b), (vec![true], vec![true]), "each fires once");
            let open: i64 = db::query_scalar(
                "SELECT COUNT(*) FROM checkins WHERE person = 'U1' AND status = 'open'",
            )
            .fetch_one(&first.pool)
            .await
            .unwrap();
            assert_eq!(open, 1, "one open check-in");
            // Due again, for the next round.
            db::query("UPDATE schedules SET next_fire_at = 100")
                .execute(&first.pool)
                .await
                .unwrap();
            db::query("DELETE FROM schedule_runs")
                .execute(&first.pool)
                .await
                .unwrap();
        }
    }
}
