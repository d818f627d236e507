//! One workspace's lessons as the matcher holds them in memory: each lesson's stems
//! (interned to numbers) and, for each stem, the lessons that have it. Matching a
//! lesson counts, over its stems' lists, how many stems every other lesson shares with
//! it, and keeps those whose overlap (Jaccard) is at least a half: exact, and a few
//! microseconds, with no query per word.

use std::collections::{BTreeSet, HashMap};

use crate::app::search::meaningful_words;

/// Share of meaningful words two lessons must have in common to be the same lesson.
const SAME_LESSON_OVERLAP: f64 = 0.5;

/// The words of a lesson with common endings cut, so "deploys" and "deploy" agree.
pub fn stems(text: &str) -> BTreeSet<String> {
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
/// (The index decides the same from its counts; this states the rule plainly, and the
/// review at close uses it to merge near-identical lines.)
pub fn same_lesson(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    let union = a.union(b).count();
    overlapping(a.intersection(b).count(), union)
}

fn overlapping(shared: usize, union: usize) -> bool {
    union > 0 && shared as f64 / union as f64 >= SAME_LESSON_OVERLAP
}

/// A workspace's lessons, by stem.
#[derive(Default)]
pub struct WorkspaceIndex {
    stem_ids: HashMap<String, u32>,
    /// Each lesson's id and its stems' numbers.
    lessons: Vec<(i64, Box<[u32]>)>,
    position: HashMap<i64, u32>,
    /// For each stem number, the positions of the lessons that have it.
    postings: Vec<Vec<u32>>,
    /// The highest lesson id read: later reads ask only for newer ones.
    pub newest: i64,
}

impl WorkspaceIndex {
    /// How many lessons it holds (what the matcher's memory is measured in).
    pub fn len(&self) -> usize {
        self.lessons.len()
    }

    /// Adds a lesson (a second time changes nothing).
    pub fn add(&mut self, id: i64, text: &str) {
        self.newest = self.newest.max(id);
        if self.position.contains_key(&id) {
            return;
        }
        let at = u32::try_from(self.lessons.len()).unwrap_or(u32::MAX);
        let mut numbers: Vec<u32> = stems(text)
            .into_iter()
            .map(|stem| {
                let next = u32::try_from(self.stem_ids.len()).unwrap_or(u32::MAX);
                *self.stem_ids.entry(stem).or_insert(next)
            })
            .collect();
        numbers.sort_unstable();
        for &stem in &numbers {
            if stem as usize >= self.postings.len() {
                self.postings.resize_with(stem as usize + 1, Vec::new);
            }
            self.postings[stem as usize].push(at);
        }
        self.position.insert(id, at);
        self.lessons.push((id, numbers.into_boxed_slice()));
    }

    /// The other lessons that say the same as lesson `id` (which must have been added).
    pub fn matches(&self, id: i64) -> Vec<i64> {
        let Some(&at) = self.position.get(&id) else {
            return Vec::new();
        };
        let own = &self.lessons[at as usize].1;
        let mut shared: HashMap<u32, usize> = HashMap::new();
        for &stem in own.iter() {
            for &other in &self.postings[stem as usize] {
                if other != at {
                    *shared.entry(other).or_default() += 1;
                }
            }
        }
        let mut found: Vec<i64> = shared
            .into_iter()
            .filter(|&(other, count)| {
                let theirs = self.lessons[other as usize].1.len();
                overlapping(count, own.len() + theirs - count)
            })
            .map(|(other, _)| self.lessons[other as usize].0)
            .collect();
        found.sort_unstable();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_wordings_are_the_same_lesson_and_others_are_not() {
        let a = stems("Announce deploys in the channel before starting");
        let b = stems("announce the deploy in channel before you start");
        let c = stems("Write the runbook before the incident");
        assert!(same_lesson(&a, &b));
        assert!(!same_lesson(&a, &c));
    }

    #[test]
    fn the_index_finds_exactly_the_close_wordings() {
        let mut index = WorkspaceIndex::default();
        index.add(1, "Announce deploys in the channel before starting");
        index.add(2, "announce the deploy in channel before you start");
        index.add(3, "Write the runbook before the incident");
        index.add(4, "Announce deploys in the channel before starting");
        index.add(2, "added twice");
        assert_eq!(index.matches(1), vec![2, 4]);
        assert_eq!(index.matches(3), Vec::<i64>::new());
        assert_eq!(index.matches(9), Vec::<i64>::new(), "unknown");
        assert_eq!((index.len(), index.newest), (4, 4));
        // The same answers as comparing the lessons pairwise.
        let texts = [
            "Announce deploys in the channel before starting",
            "announce the deploy in channel before you start",
            "Write the runbook before the incident",
        ];
        for (i, a) in texts.iter().enumerate() {
            for (j, b) in texts.iter().enumerate() {
                if i != j {
                    assert_eq!(
                        index.matches(i as i64 + 1).contains(&(j as i64 + 1)),
                        same_lesson(&stems(a), &stems(b)),
                        "{a} / {b}"
                    );
                }
            }
        }
    }
}
