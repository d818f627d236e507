//! The follow-up pass: asks each lesson's owner whose question is due, in a DM through
//! the outbox. Follow-ups are one-off, so however long the service was down, a due
//! question is asked (late beats never); and one whose DM the outbox gave up on settles
//! the lesson as unreachable instead of being asked forever.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::collections::HashMap;

use chrono_tz::Tz;

use super::runner::Scheduler;
use crate::app::followups;
use crate::platform::outgoing::{self, no_names};
use crate::store::{Ask, AskedLesson, NewOutboxMessage, Platform, TrackedLesson, WorkspaceId};

/// Due lessons read per query, and owners asked per transaction: big enough that
/// 100,000 people cost a few hundred statements, small enough that a transaction holds
/// SQLite's writer for milliseconds.
const BATCH: u32 = 1000;

impl Scheduler {
    /// Asks every due question; (asked, settled as unreachable).
    pub(super) async fn ask_follow_ups(&self, now: Timestamp) -> Result<(usize, usize), AppError> {
        let unreachable = self.store.settle_unreachable(now).await?;
        for gone in &unreachable {
            tracing::warn!(
                workspace_id = gone.workspace_id,
                lesson_id = gone.lesson_id,
                "a lesson's follow-up could not be delivered to its owner; marked unreachable for the digest"
            );
        }
        let mut workspaces: HashMap<i64, (Tz, Platform)> = HashMap::new();
        // A page of due lessons at a time, whole owners each: the last owner of a full
        // page may go on in the next, so it is read again there.
        let mut after: Option<(i64, String)> = None;
        let mut asked = 0;
        loop {
            let due = self
                .store
                .due_follow_ups(now, after.as_ref().map(|(w, o)| (*w, o.as_str())), BATCH)
                .await?;
            let full = due.len() == BATCH as usize;
            let mut owners: Vec<((i64, String), Vec<TrackedLesson>)> = Vec::new();
            for lesson in due {
                let Some(owner) = lesson.owner.clone() else {
                    continue;
                };
                let key = (lesson.workspace_id, owner);
                match owners.last_mut() {
                    Some((last, lessons)) if *last == key => lessons.push(lesson),
                    _ => owners.push((key, vec![lesson])),
                }
            }
            if full && owners.len() > 1 {
                owners.pop();
            }
            after = owners.last().map(|(key, _)| key.clone());
            asked += self.ask_owners(now, &owners, &mut workspaces).await?;
            if !full {
                break;
            }
        }
        Ok((asked, unreachable.len()))
    }

    /// Asks a page of owners, each their day's message (one a working day, from the
    /// hour, in their own time); how many lessons were asked. A page costs a handful of
    /// queries, whatever its size.
    async fn ask_owners(
        &self,
        now: Timestamp,
        owners: &[((i64, String), Vec<TrackedLesson>)],
        workspaces: &mut HashMap<i64, (Tz, Platform)>,
    ) -> Result<usize, AppError> {
        let people: Vec<(i64, &str)> = owners
            .iter()
            .map(|((workspace_id, owner), _)| (*workspace_id, owner.as_str()))
            .collect();
        // The owner's zone as last learned (no platform call from the scheduler),
        // else their workspace's.
        let known = self.store.known_zones(&people).await?;
        let mut asking_now = Vec::new();
        for ((workspace_id, owner), lessons) in owners {
            let zone = match known
                .get(&(*workspace_id, owner.clone()))
                .and_then(|zone| zone.parse::<Tz>().ok())
            {
                Some(zone) => zone,
                None => self.workspace_of(*workspace_id, workspaces).await?.0,
            };
            let local = now.to_utc().with_timezone(&zone);
            if !self.is_follow_up_time(local.naive_local()) {
                continue;
            }
            let key = format!("followups:{workspace_id}:{owner}:{}", local.date_naive());
            asking_now.push((*workspace_id, owner.as_str(), lessons.as_slice(), zone, key));
        }
        // Asked already today (in their own day): the rest wait, and nothing is
        // rendered for them.
        let keys: Vec<(i64, &str)> = asking_now
            .iter()
            .map(|(workspace_id, _, _, _, key)| (*workspace_id, key.as_str()))
            .collect();
        let taken = self.store.taken_dedupe_keys(&keys).await?;
        let mut planned = Vec::with_capacity(asking_now.len());
        for (workspace_id, owner, lessons, zone, key) in &asking_now {
            if taken.contains(&(*workspace_id, key.clone())) {
                continue;
            }
            let listed = &lessons[..lessons.len().min(followups::PER_DAY)];
            let more = lessons.len() - listed.len();
            let message = match listed {
                [only] if more == 0 => followups::question(only, *zone),
                _ => {
                    let asked: Vec<AskedLesson> = listed
                        .iter()
                        .map(|lesson| AskedLesson {
                            follow_up: 0,
                            answer: None,
                            lesson: lesson.clone(),
                        })
                        .collect();
                    followups::daily(&asked, more, *zone)
                }
            };
            let platform = self.workspace_of(*workspace_id, workspaces).await?.1;
            planned.push((
                *workspace_id,
                *owner,
                listed,
                outgoing::post(platform, owner, &message, &no_names),
                key,
            ));
        }
        let asks: Vec<Ask<'_>> = planned
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
        let now = self.clock.now();
        let give_up_at = self.delivery.give_up_at(now);
        let done = self.store.record_asks(&asks, now, give_up_at).await?;
        Ok(done.iter().sum())
    }

    /// Whether a person whose local time is `local` may be asked now: a working day, not
    /// a holiday, from the follow-up hour on.
    fn is_follow_up_time(&self, local: chrono::NaiveDateTime) -> bool {
        use chrono::{Datelike, Timelike};
        self.workdays.contains(&local.weekday())
            && !self.holidays.contains(&local.date())
            && local.hour() >= self.follow_up_hour
    }

    /// A workspace's default zone and platform, read once a pass.
    async fn workspace_of(
        &self,
        workspace_id: i64,
        known: &mut HashMap<i64, (Tz, Platform)>,
    ) -> Result<(Tz, Platform), AppError> {
        if let Some(found) = known.get(&workspace_id) {
            return Ok(*found);
        }
        let workspace = self
            .store
            .workspace_by_id(WorkspaceId(workspace_id))
            .await?;
        let found = (
            workspace.default_time_zone.parse().unwrap_or(Tz::UTC),
            workspace.platform,
        );
        known.insert(workspace_id, found);
        Ok(found)
    }
}
