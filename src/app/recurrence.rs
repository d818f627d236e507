//! Which lessons say the same thing. Each new shared lesson is matched once, in the
//! background (the scheduler works off the queue), against the workspace's other
//! lessons: an FTS5 lookup for candidates, then a word-overlap check. The digest then
//! only reads the stored pairs.

use std::collections::{BTreeSet, HashMap};

use super::search::meaningful_words;
use crate::store::search_terms::{Term, Terms};
use crate::store::{Audience, LessonToMatch, Store, StoreError, WorkspaceId};

/// Earlier lessons looked at per lesson.
const CANDIDATES: u32 = 12;
/// Share of meaningful words two lessons must have in common to be the same lesson.
const SAME_LESSON_OVERLAP: f64 = 0.5;
/// Lessons counted per word before a word is simply "common".
const COMMON_AFTER: u32 = 500;

/// The words of a lesson with common endings cut, so "deploys" and "deploy" agree.
fn stems(text: &str) -> BTreeSet<String> {
    meaningful_words(text)
        .into_iter()
        .map(|word| {
            for suffix in ["ing", "ed", "es", "s"] {
                if let Some(stem) = word.strip_suffix(suffix)
                    && stem.chars().count() >= 3
                {
                    return stem.to_owned();
                }
            }
            word
        })
        .collect()
}

/// Whether two lessons say the same thing: most of their words are shared (Jaccard).
fn same_lesson(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    let union = a.union(b).count();
    union > 0 && a.intersection(b).count() as f64 / union as f64 >= SAME_LESSON_OVERLAP
}

/// How many of a workspace's lessons contain a word (up to [`COMMON_AFTER`]), looked up
/// once per word while a batch of the workspace's lessons is matched.
#[derive(Default)]
struct WordFrequency {
    workspace: Option<WorkspaceId>,
    counts: HashMap<String, i64>,
}

impl WordFrequency {
    async fn of(
        &mut self,
        store: &Store,
        workspace: WorkspaceId,
        word: &str,
    ) -> Result<i64, StoreError> {
        if self.workspace != Some(workspace) {
            self.workspace = Some(workspace);
            self.counts.clear();
        }
        if let Some(count) = self.counts.get(word) {
            return Ok(*count);
        }
        let count = match Term::phrase(word).and_then(|t| Terms::any(vec![t])) {
            Some(terms) => {
                store
                    .count_matching(workspace, &terms, COMMON_AFTER)
                    .await?
            }
            None => 0,
        };
        self.counts.insert(word.to_owned(), count);
        Ok(count)
    }
}

/// Terms that every close match of `text` satisfies, as cheaply as possible. A close
/// match shares at least half of the lesson's words (Jaccard ≥ 1/2 implies it), so of
/// the lesson's `n - ⌈n/2⌉ + 2` rarest words it has at least two: asking for any two of
/// those misses no close match and keeps each lookup to short posting lists, however
/// common the lesson's other words are. Very short lessons fall back to any word.
async fn close_match_terms(
    store: &Store,
    workspace: WorkspaceId,
    text: &str,
    frequency: &mut WordFrequency,
) -> Result<Option<Terms>, StoreError> {
    let mut counted = Vec::new();
    for word in meaningful_words(text) {
        counted.push((frequency.of(store, workspace, &word).await?, word));
    }
    counted.sort();
    let n = counted.len();
    let rare = n - n.div_ceil(2) + 2;
    let terms: Vec<Term> = counted
        .iter()
        .filter_map(|(_, w)| Term::phrase(w))
        .collect();
    if rare > n {
        return Ok(Terms::any(terms));
    }
    Ok(Terms::any_two(terms.into_iter().take(rare).collect()))
}

/// The workspace's lessons (this one included) that say the same as `text`.
async fn close_matches(
    store: &Store,
    workspace: WorkspaceId,
    text: &str,
    frequency: &mut WordFrequency,
) -> Result<Vec<i64>, StoreError> {
    let Some(terms) = close_match_terms(store, workspace, text, frequency).await? else {
        return Ok(Vec::new());
    };
    let words = stems(text);
    Ok(store
        .search_lessons(workspace, &terms, Audience::Internal, CANDIDATES)
        .await?
        .into_iter()
        .filter(|hit| same_lesson(&words, &stems(&hit.text)))
        .map(|hit| hit.id)
        .collect())
}

/// Matches and stores each lesson, taking it off the queue; how many.
async fn match_each(store: &Store, lessons: Vec<LessonToMatch>) -> Result<usize, StoreError> {
    let mut frequency = WordFrequency::default();
    for lesson in &lessons {
        let workspace = WorkspaceId(lesson.workspace_id);
        let matches = close_matches(store, workspace, &lesson.text, &mut frequency).await?;
        store.record_matches(lesson.id, &matches).await?;
    }
    Ok(lessons.len())
}

/// The background pass: matches up to `limit` queued lessons of any workspace.
pub async fn match_queued(store: &Store, limit: u32) -> Result<usize, StoreError> {
    match_each(store, store.queued_lessons_to_match(limit).await?).await
}

/// Matches the workspace's lessons of `[from, to)` still queued (up to `limit`), so a
/// digest built before the background pass got to them still reports them.
pub async fn match_period(
    store: &Store,
    workspace: WorkspaceId,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<usize, StoreError> {
    let queued = store
        .queued_lessons_to_match_in(workspace, from, to, limit)
        .await?;
    match_each(store, queued).await
}

#[cfg(test)]
mod tests {
    use super::*;
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

        assert_eq!(match_queued(&store, 100).await.unwrap(), 4);
        assert_eq!(
            match_queued(&store, 100).await.unwrap(),
            0,
            "the queue is worked off"
        );
        let pairs: Vec<(i64, i64)> = store
            .matches_of_period(ours, 0, 10, Audience::Internal)
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
                .matches_of_period(theirs, 0, 10, Audience::Internal)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn close_wordings_are_the_same_lesson_and_others_are_not() {
        let a = stems("Announce deploys in the channel before starting");
        let b = stems("announce the deploy in channel before you start");
        let c = stems("Write the runbook before the incident");
        assert!(same_lesson(&a, &b));
        assert!(!same_lesson(&a, &c));
    }
}
