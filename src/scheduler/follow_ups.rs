//! The follow-up pass: asks each lesson's owner whose question is due, in a DM through
//! the outbox. Follow-ups are one-off, so however long the service was down, a due
//! question is asked (late beats never); and one whose DM the outbox gave up on settles
//! the lesson as unreachable instead of being asked forever.

use std::collections::{BTreeMap, HashMap};

use chrono_tz::Tz;

use super::runner::{Scheduler, utc};
use crate::app::followups;
use crate::platform::outgoing::{self, no_names};
use crate::store::{
    Ask, AskedLesson, NewOutboxMessage, Platform, StoreError, TrackedLesson, WorkspaceId,
};

/// Questions asked per transaction.
const BATCH: u32 = 200;

impl Scheduler {
    /// Asks every due question; (asked, settled as unreachable).
    pub(super) async fn ask_follow_ups(&self, now: i64) -> Result<(usize, usize), StoreError> {
        let unreachable = self.store.settle_unreachable(now).await?;
        for gone in &unreachable {
            tracing::warn!(
                workspace_id = gone.workspace_id,
                lesson_id = gone.lesson_id,
                "a lesson's follow-up could not be delivered to its owner; marked unreachable for the digest"
            );
        }
        let mut zones: HashMap<(i64, String), Tz> = HashMap::new();
        let mut platforms: HashMap<i64, Platform> = HashMap::new();
        // Every due lesson, by owner; each page is read once (those not asked today stay
        // due for a later pass).
        let mut by_owner: BTreeMap<(i64, String), Vec<TrackedLesson>> = BTreeMap::new();
        let mut after = None;
        loop {
            let due = self.store.due_follow_ups(now, after, BATCH).await?;
            let full = due.len() == BATCH as usize;
            after = due
                .last()
                .map(|l| (l.follow_up_at.unwrap_or_default(), l.id));
            for lesson in due {
                if let Some(owner) = lesson.owner.clone() {
                    by_owner
                        .entry((lesson.workspace_id, owner))
                        .or_default()
                        .push(lesson);
                }
            }
            if !full {
                break;
            }
        }
        // One message per person a working day, from the hour, in their own time.
        let mut planned = Vec::new();
        for ((workspace_id, owner), lessons) in &by_owner {
            let zone = self.owner_zone(&lessons[0], &mut zones).await?;
            let local = utc(now).with_timezone(&zone);
            if !self.is_follow_up_time(local.naive_local()) {
                continue;
            }
            // Asked already today (in this pass's day, their own): the rest wait, and
            // nothing is rendered for them.
            let key = format!("followups:{workspace_id}:{owner}:{}", local.date_naive());
            if self
                .store
                .outbox_by_dedupe_key(WorkspaceId(*workspace_id), &key)
                .await?
                .is_some()
            {
                continue;
            }
            let listed = &lessons[..lessons.len().min(followups::PER_DAY)];
            let more = lessons.len() - listed.len();
            let message = match listed {
                [only] if more == 0 => followups::question(only, zone),
                _ => {
                    let asked: Vec<AskedLesson> = listed
                        .iter()
                        .map(|lesson| AskedLesson {
                            follow_up: 0,
                            answer: None,
                            lesson: lesson.clone(),
                        })
                        .collect();
                    followups::daily(&asked, more, zone)
                }
            };
            let platform = match platforms.get(workspace_id) {
                Some(platform) => *platform,
                None => {
                    let workspace = WorkspaceId(*workspace_id);
                    let platform = self.store.workspace_by_id(workspace).await?.platform;
                    platforms.insert(*workspace_id, platform);
                    platform
                }
            };
            planned.push((
                *workspace_id,
                owner.as_str(),
                listed,
                outgoing::post(platform, owner, &message, &no_names),
                key,
            ));
        }
        let mut asked = 0;
        for chunk in planned.chunks(BATCH as usize) {
            let asks: Vec<Ask<'_>> = chunk
                .iter()
                .map(|(workspace_id, owner, listed, posted, key)| Ask {
                    workspace: WorkspaceId(*workspace_id),
                    person: owner,
                    lessons: listed
                        .iter()
                        .map(|l| (l.id, l.follow_up_at.unwrap_or_default()))
                        .collect(),
                    message: NewOutboxMessage {
                        method: posted.method,
                        dedupe_key: Some(key),
                        ..NewOutboxMessage::post(WorkspaceId(*workspace_id), owner, &posted.body)
                    },
                })
                .collect();
            let now_ms = self.clock.now_millis();
            let give_up_at = self.delivery.give_up_at(now_ms);
            let done = self
                .store
                .record_asks(&asks, now, now_ms, give_up_at)
                .await?;
            asked += done.iter().sum::<usize>();
        }
        Ok((asked, unreachable.len()))
    }

    /// Whether a person whose local time is `local` may be asked now: a working day, not
    /// a holiday, from the follow-up hour on.
    fn is_follow_up_time(&self, local: chrono::NaiveDateTime) -> bool {
        use chrono::{Datelike, Timelike};
        self.workdays.contains(&local.weekday())
            && !self.holidays.contains(&local.date())
            && local.hour() >= self.follow_up_hour
    }

    /// The owner's zone as last learned (no platform call from the scheduler), else
    /// their workspace's.
    async fn owner_zone(
        &self,
        lesson: &TrackedLesson,
        zones: &mut HashMap<(i64, String), Tz>,
    ) -> Result<Tz, StoreError> {
        let owner = lesson.owner.clone().unwrap_or_default();
        let key = (lesson.workspace_id, owner);
        if let Some(zone) = zones.get(&key) {
            return Ok(*zone);
        }
        let workspace = WorkspaceId(lesson.workspace_id);
        let known = match self.store.find_person(workspace, &key.1).await {
            Ok(person) => person.time_zone.and_then(|z| z.parse::<Tz>().ok()),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other),
        };
        let zone = match known {
            Some(zone) => zone,
            None => self
                .store
                .workspace_by_id(workspace)
                .await?
                .default_time_zone
                .parse()
                .unwrap_or(Tz::UTC),
        };
        zones.insert(key, zone);
        Ok(zone)
    }
}
