//! Which lessons say the same thing. Each new lesson is matched once, in the
//! background (the scheduler works off the queue after its due prompts, within a time
//! budget, a slice of each workspace in turn), against the workspace's newest lessons,
//! held in memory by stem ([`index`]). The digest then only reads the stored pairs.

mod index;

pub(crate) use index::{same_lesson, stems};

use crate::app::AppError;
use crate::domain::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use index::WorkspaceIndex;

use crate::store::{LessonToMatch, Store, WorkspaceId};

/// The newest lessons of a workspace a lesson is compared with: lessons that keep
/// coming back do so within the last thousands of lessons, and the window bounds the
/// memory a workspace's index takes.
const WINDOW: u32 = 20_000;
/// Lessons held in memory across every cached workspace index (about 150 bytes each).
const CACHED_LESSONS: usize = 60_000;
/// An index not used for this long is let go: the next pass reads it again.
const IDLE: Duration = Duration::from_secs(600);
/// Lessons of one workspace matched before the pass turns to the next workspace.
const SLICE: u32 = 200;

/// What one background pass may spend: it stops after this many lessons or this much
/// time, whichever comes first, and the next pass goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub lessons: usize,
    pub time: Duration,
}

impl Budget {
    /// The scheduler's: a tenth of a second, so a due prompt waits at most that long.
    pub const PASS: Self = Self {
        lessons: usize::MAX,
        time: Duration::from_millis(100),
    };
    /// No limit (a backlog worked off at once, in benchmarks and tests).
    pub const ALL: Self = Self {
        lessons: usize::MAX,
        time: Duration::MAX,
    };
}

/// The workspace indexes kept between passes, so the next debrief's lessons are
/// matched without reading the workspace again (only the lessons added since).
#[derive(Default)]
pub struct Matcher {
    cached: Mutex<HashMap<WorkspaceId, (WorkspaceIndex, Instant)>>,
    /// The workspace the last pass served last: the next pass starts after it, so a
    /// workspace whose slices spend a whole budget cannot starve the ones after it.
    last_served: Mutex<Option<WorkspaceId>>,
}

impl Matcher {
    /// `waiting` in id order, turned so that it starts after the last served one: every
    /// workspace with queued lessons comes first in some pass.
    fn in_turn(&self, mut waiting: Vec<WorkspaceId>) -> Vec<WorkspaceId> {
        waiting.sort_unstable();
        let last = *self.last_served.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = last {
            let after = waiting.partition_point(|id| *id <= last);
            waiting.rotate_left(after);
        }
        waiting
    }

    fn served(&self, workspace: WorkspaceId) {
        *self.last_served.lock().unwrap_or_else(|e| e.into_inner()) = Some(workspace);
    }

    fn take(&self, workspace: WorkspaceId) -> WorkspaceIndex {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        match cached.remove(&workspace) {
            Some((index, used)) if used.elapsed() < IDLE && index.len() < 2 * WINDOW as usize => {
                index
            }
            _ => WorkspaceIndex::default(),
        }
    }

    fn put(&self, workspace: WorkspaceId, index: WorkspaceIndex) {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        cached.retain(|_, (_, used)| used.elapsed() < IDLE);
        cached.insert(workspace, (index, Instant::now()));
        // The least recently used go first when the memory bound is passed.
        while cached.values().map(|(index, _)| index.len()).sum::<usize>() > CACHED_LESSONS
            && cached.len() > 1
        {
            let Some(oldest) = cached
                .iter()
                .filter(|(id, _)| **id != workspace)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| *id)
            else {
                break;
            };
            cached.remove(&oldest);
        }
    }

    /// Matches `lessons` of one workspace against its newest lessons, and stores the
    /// pairs (taking the lessons off the queue) in one transaction.
    async fn match_lessons(
        &self,
        store: &Store,
        workspace: WorkspaceId,
        lessons: &[LessonToMatch],
    ) -> Result<(), AppError> {
        let mut index = self.take(workspace);
        let fresh = store.lessons_since(workspace, index.newest, WINDOW).await?;
        for lesson in fresh.iter().rev() {
            index.add(lesson.id, &lesson.text);
        }
        let found: Vec<(i64, Vec<i64>)> = lessons
            .iter()
            .map(|lesson| {
                // A queued lesson older than the window is compared all the same.
                index.add(lesson.id, &lesson.text);
                (lesson.id, index.matches(lesson.id))
            })
            .collect();
        let recorded = store.record_all_matches(&found).await;
        self.put(workspace, index);
        Ok(recorded?)
    }
}

/// The background pass: queued lessons of every workspace, a slice of each in turn
/// (one workspace's backlog never holds back another's new lessons), until the queue
/// is empty or `budget` is spent; how many were matched.
pub async fn match_queued(
    store: &Store,
    matcher: &Matcher,
    budget: Budget,
) -> Result<usize, AppError> {
    let started = Instant::now();
    let mut waiting = matcher.in_turn(store.workspaces_to_match().await?);
    let mut matched = 0;
    while !waiting.is_empty() {
        let mut still_waiting = Vec::new();
        for workspace in waiting {
            let left = budget.lessons.saturating_sub(matched);
            if left == 0 || started.elapsed() >= budget.time {
                return Ok(matched);
            }
            let slice = u32::try_from(left).unwrap_or(SLICE).min(SLICE);
            let lessons = store.queued_lessons_of(workspace, slice).await?;
            matcher.match_lessons(store, workspace, &lessons).await?;
            matcher.served(workspace);
            matched += lessons.len();
            if lessons.len() == slice as usize {
                still_waiting.push(workspace);
            }
        }
        waiting = still_waiting;
    }
    Ok(matched)
}

/// Matches the workspace's lessons of `[from, to)` still queued (up to `limit`), so a
/// digest built before the background pass got to them still reports them.
pub async fn match_period(
    store: &Store,
    workspace: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    limit: u32,
) -> Result<usize, AppError> {
    let queued = store
        .queued_lessons_to_match_in(workspace, from, to, limit)
        .await?;
    if !queued.is_empty() {
        Matcher::default()
            .match_lessons(store, workspace, &queued)
            .await?;
    }
    Ok(queued.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Audience;
    use crate::store::test_support::{debrief, lesson, temp_store, workspace};

    #[tokio::test]
    async fn the_background_pass_pairs_close_lessons_within_a_workspace_once() {
        let (store, _dir) = temp_store().await;
        let ours = workspace(&store, "T1").await;
        let theirs = workspace(&store, "T2").await;
        let outage = debrief(&store, ours, "Outage").await;
        let release = debrief(&store, ours, "Release").await;
        let elsewhere = debrief(&store, theirs, "Outage").await;
        let said = "Announce deploys in the channel before starting";
        lesson(&store, ours, outage, "Outage", said).await;
        lesson(
            &store,
            ours,
            release,
            "Release",
            "announce the deploy in channel before you start",
        )
        .await;
        lesson(
            &store,
            ours,
            release,
            "Release",
            "Write the runbook before the incident",
        )
        .await;
        lesson(&store, theirs, elsewhere, "Outage", said).await;

        assert_eq!(
            match_queued(&store, &Matcher::default(), Budget::ALL)
                .await
                .unwrap(),
            4
        );
        assert_eq!(
            match_queued(&store, &Matcher::default(), Budget::ALL)
                .await
                .unwrap(),
            0,
            "the queue is worked off"
        );
        let pairs: Vec<(i64, i64)> = store
            .matches_of_period(
                ours,
                Timestamp::from_unix_seconds(0),
                Timestamp::from_unix_seconds(10),
                Audience::Internal,
            )
            .await
            .unwrap()
            .iter()
            .map(|m| (m.lesson_id, m.match_id))
            .collect();
        // Lessons 1 and 2 say the same, both ways round; the runbook lesson and the
        // other workspace's identical lesson are no match.
        assert_eq!(pairs, vec![(1, 2), (2, 1)]);
        assert!(
            store
                .matches_of_period(
                    theirs,
                    Timestamp::from_unix_seconds(0),
                    Timestamp::from_unix_seconds(10),
                    Audience::Internal
                )
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// `count` distinct lessons queued for `workspace`.
    async fn backlog(store: &Store, workspace: WorkspaceId, count: usize) {
        let id = debrief(store, workspace, "Retro").await;
        let mut tx = store.begin().await.unwrap();
        for i in 0..count {
            let text = format!("busy note{i} item{i} {i}");
            tx.insert_lesson(
                crate::store::NewLesson {
                    workspace,
                    debrief: id,
                    debrief_title: "Retro",
                    kind: crate::store::LessonKind::Lesson,
                    text: &text,
                    author: None,
                    owner: None,
                    tags: "",
                    shared: true,
                    follow_up_at: None,
                },
                Timestamp::from_unix_seconds(1),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn workspaces_take_turns_within_a_pass() {
        let (store, _dir) = temp_store().await;
        let busy = workspace(&store, "T1").await;
        let quiet = workspace(&store, "T2").await;
        backlog(&store, busy, 250).await;
        let theirs = debrief(&store, quiet, "Retro").await;
        lesson(&store, quiet, theirs, "Retro", "their only lesson").await;
        // A pass that may match 201 lessons: a slice of the backlog, then the quiet
        // workspace's one.
        let budget = Budget {
            lessons: 201,
            time: Duration::MAX,
        };
        assert_eq!(
            match_queued(&store, &Matcher::default(), budget)
                .await
                .unwrap(),
            201
        );
        assert_eq!(
            store.workspaces_to_match().await.unwrap(),
            vec![busy],
            "the quiet workspace's lesson was matched in the first pass"
        );
    }

    #[tokio::test]
    async fn a_pass_starts_after_the_workspace_the_last_one_ended_with() {
        let (store, _dir) = temp_store().await;
        let first = workspace(&store, "T1").await;
        let second = workspace(&store, "T2").await;
        backlog(&store, first, 450).await;
        backlog(&store, second, 250).await;
        // Each pass's budget runs out after one slice (as a slow cold read would).
        let budget = Budget {
            lessons: SLICE as usize,
            time: Duration::MAX,
        };
        let matcher = Matcher::default();
        let queued = |workspace| {
            let store = store.clone();
            async move {
                store
                    .queued_lessons_of(workspace, 1000)
                    .await
                    .unwrap()
                    .len()
            }
        };
        let mut left = Vec::new();
        for _ in 0..3 {
            match_queued(&store, &matcher, budget).await.unwrap();
            left.push((queued(first).await, queued(second).await));
        }
        assert_eq!(
            left,
            [(250, 250), (250, 50), (50, 50)],
            "the workspaces take turns across passes"
        );
    }
}
