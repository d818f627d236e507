//! The follow-up pass: asks each lesson's owner whose question is due, in a DM through
//! the outbox. Follow-ups are one-off, so however long the service was down, a due
//! question is asked (late beats never); and one whose DM the outbox gave up on settles
//! the lesson as unreachable instead of being asked forever.

use std::collections::HashMap;

use chrono_tz::Tz;

use super::runner::Scheduler;
use crate::app::followups;
use crate::platform::outgoing::{self, no_names};
use crate::store::{Ask, NewOutboxMessage, Platform, StoreError, TrackedLesson, WorkspaceId};

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
        let mut asked = 0;
        loop {
            let due = self.store.due_follow_ups(now, BATCH).await?;
            let mut bodies = Vec::with_capacity(due.len());
            for lesson in &due {
                let zone = self.owner_zone(lesson, &mut zones).await?;
                let owner = lesson.owner.as_deref().unwrap_or_default();
                let message = followups::question(lesson, zone);
                let platform = match platforms.get(&lesson.workspace_id) {
                    Some(platform) => *platform,
                    None => {
                        let workspace = WorkspaceId(lesson.workspace_id);
                        let platform = self.store.workspace_by_id(workspace).await?.platform;
                        platforms.insert(lesson.workspace_id, platform);
                        platform
                    }
                };
                bodies.push((
                    outgoing::post(platform, owner, &message, &no_names),
                    format!("followup:{}:{}", lesson.id, lesson.not_yet_count),
                ));
            }
            let asks: Vec<Ask<'_>> = due
                .iter()
                .zip(&bodies)
                .filter_map(|(lesson, (posted, key))| {
                    let owner = lesson.owner.as_deref()?;
                    Some(Ask {
                        workspace: WorkspaceId(lesson.workspace_id),
                        lesson: lesson.id,
                        person: owner,
                        expected_follow_up_at: lesson.follow_up_at?,
                        message: NewOutboxMessage {
                            method: posted.method,
                            dedupe_key: Some(key),
                            ..NewOutboxMessage::post(
                                WorkspaceId(lesson.workspace_id),
                                owner,
                                &posted.body,
                            )
                        },
                    })
                })
                .collect();
            let now_ms = self.clock.now_millis();
            let give_up_at = self.delivery.give_up_at(now_ms);
            let done = self
                .store
                .record_asks(&asks, now, now_ms, give_up_at)
                .await?;
            asked += done.iter().filter(|asked| **asked).count();
            if due.len() < BATCH as usize {
                break;
            }
        }
        Ok((asked, unreachable.len()))
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
