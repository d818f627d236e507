//! The recap pass: on the first Monday of a quarter (from 10:00 in each digest's zone)
//! every digest channel gets the quarter that ended, once, whichever replica gets there.

use super::runner::Scheduler;
use crate::app::AppError;
use crate::app::recap;
use crate::domain::Timestamp;
use crate::store::{NewOutboxMessage, ScheduleKind, StoredSchedule};

impl Scheduler {
    /// Posts the recaps due now; how many. A digest whose recap fails is logged and
    /// tried again next pass; it never holds up the rest of the pass.
    pub(super) async fn post_recaps(&self, now: Timestamp) -> Result<usize, AppError> {
        if !recap::near_a_quarter_start(now) {
            return Ok(0);
        }
        let mut posted = 0;
        for stored in self.store.active_schedules_of(ScheduleKind::Digest).await? {
            match self.post_recap(&stored, now).await {
                Ok(true) => posted += 1,
                Ok(false) => {}
                Err(err) => tracing::warn!(
                    schedule_id = stored.id.0,
                    error = %err,
                    "could not post a quarterly recap; trying again next pass"
                ),
            }
        }
        Ok(posted)
    }

    /// One digest channel's recap, if one is due and not posted yet; whether a message
    /// was queued.
    async fn post_recap(&self, stored: &StoredSchedule, now: Timestamp) -> Result<bool, AppError> {
        let zone = stored.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
        let Some(quarter) = recap::due(now.to_utc().with_timezone(&zone).naive_local()) else {
            return Ok(false);
        };
        let key = quarter.key();
        if self.store.recap_posted(stored.id, &key).await? {
            return Ok(false);
        }
        let platform = self.store.workspace_by_id(stored.workspace).await?.platform;
        let audience = self.digest_audience(stored, platform).await?;
        let message = recap::build(&self.store, stored.workspace, quarter, zone, audience).await?;
        let outgoing = match &message {
            Some(message) => Some(self.render(stored, platform, message).await?),
            None => None,
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !tx.claim_recap(stored.id, &key, now).await? {
            return Ok(false);
        }
        // A quarter with nothing to tell is remembered too, and posts nothing.
        if let Some(outgoing) = &outgoing {
            let dedupe = format!("recap:{}:{key}", stored.id.0);
            tx.enqueue(
                NewOutboxMessage {
                    method: outgoing.method,
                    dedupe_key: Some(&dedupe),
                    ..NewOutboxMessage::post(stored.workspace, &stored.channel, &outgoing.body)
                },
                now,
                self.delivery.give_up_at(now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(outgoing.is_some())
    }
}
