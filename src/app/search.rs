//! What people type, read as searches: the words of a title or lesson that find related
//! work, and a search box's phrases, prefixes and words. The terms are quoted by the
//! store (see `store::search_terms`), so nothing typed is ever read as FTS syntax.

use crate::store::search_terms::{Term, Terms, words};

/// Words too common to say anything about similar work.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "into", "our", "this", "that", "was", "were", "are",
    "but", "not", "all", "about", "after", "before", "week", "sprint", "retro", "debrief",
];
/// Enough words to find related work; more only slows the query down.
const MAX_WORDS: usize = 12;
/// A shorter prefix would expand to most of the vocabulary.
const MIN_PREFIX_CHARS: usize = 2;

/// The words of `text` that say something (no stopwords, no one- or two-letter words),
/// each once, at most [`MAX_WORDS`].
pub fn meaningful_words(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for word in words(text) {
        let meaningful = word.chars().count() >= 3 || word.chars().all(|c| c.is_ascii_digit());
        if meaningful && !STOPWORDS.contains(&word.as_str()) && !found.contains(&word) {
            found.push(word);
            if found.len() == MAX_WORDS {
                break;
            }
        }
    }
    found
}

/// Terms that find work related to `text` (a debrief title): any of its meaningful
/// words that are not a date or a number; `None` when it has none. A title such as
/// "Retro 1 Jan" says when, not what: its "1" would match every lesson with a 1.
pub fn related_terms(text: &str) -> Option<Terms> {
    Terms::any(
        meaningful_words(text)
            .iter()
            .filter(|w| !is_date_or_number(w))
            .filter_map(|w| Term::phrase(w))
            .collect(),
    )
}

/// Months, weekdays and quarters, as titles abbreviate them (lowercase).
const DATE_WORDS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
    "mon",
    "monday",
    "tue",
    "tues",
    "tuesday",
    "wed",
    "wednesday",
    "thu",
    "thur",
    "thurs",
    "thursday",
    "fri",
    "friday",
    "sat",
    "saturday",
    "sun",
    "sunday",
    "today",
    "yesterday",
    "q1",
    "q2",
    "q3",
    "q4",
];

/// A number (`12`, and each part of `2.3` or `2026-01-05`), an ordinal (`1st`, `22nd`),
/// or a month, weekday or quarter.
fn is_date_or_number(word: &str) -> bool {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    let numeric = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    (numeric && matches!(suffix, "" | "st" | "nd" | "rd" | "th")) || DATE_WORDS.contains(&word)
}

/// Reads a search as people type it: `"a phrase"` in double quotes (an unclosed quote
/// runs to the end), `prefix*`, and words; everything else separates words. Every term
/// must match. `None` when nothing searchable is left (only emoji or punctuation).
pub fn user_terms(text: &str) -> Option<Terms> {
    let mut terms: Vec<Term> = Vec::new();
    for (index, part) in text.split('"').enumerate() {
        // Odd parts were inside quotes.
        if index % 2 == 1 {
            terms.extend(Term::phrase(part));
        } else {
            terms.extend(plain_terms(part));
        }
    }
    terms.truncate(MAX_WORDS);
    Terms::every(terms)
}

/// Words outside quotes; a word followed directly by `*` is a prefix.
fn plain_terms(part: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut word = String::new();
    let mut chars = part.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        word.push(c);
        if chars.peek().is_some_and(|n| n.is_alphanumeric()) {
            continue;
        }
        let prefix = chars.peek() == Some(&'*') && word.chars().count() >= MIN_PREFIX_CHARS;
        let term = if prefix {
            Term::prefix(&word)
        } else {
            Term::phrase(&word)
        };
        terms.extend(term);
        word.clear();
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WorkspaceId;

    fn shown(terms: Option<Terms>) -> Option<String> {
        terms.map(|t| t.expression(WorkspaceId(1)))
    }

    #[test]
    fn related_terms_take_meaningful_words_only() {
        assert_eq!(
            shown(related_terms(
                "Release 2.3 rollout: the \"DB\" migration AND-OR*"
            )),
            Some(r#""w1xrelease" OR "w1xrollout" OR "w1xmigration""#.into())
        );
        for title in [
            "Retro 1 Jan",
            "Sprint 12 retro",
            "2026-01-05",
            "Fri 3rd Q3 review",
        ] {
            let terms = shown(related_terms(title));
            assert!(
                terms.is_none() || terms == Some(r#""w1xreview""#.into()),
                "{title}: {terms:?}"
            );
        }
        assert_eq!(
            shown(related_terms("Mayday drill on the 1st floor")),
            Some(r#""w1xmayday" OR "w1xdrill" OR "w1xfloor""#.into()),
            "only whole date words go"
        );
        assert_eq!(shown(related_terms("the a of")), None);
        assert_eq!(shown(related_terms("")), None);
    }

    #[test]
    fn user_terms_keep_phrases_and_prefixes() {
        assert_eq!(
            shown(user_terms(r#"deplo* "feature flags" NEAR(x y) a:b"#)).unwrap(),
            r#""w1xdeplo"* AND "w1xfeature w1xflags" AND "w1xnear" AND "w1xx" AND "w1xy" AND "w1xa" AND "w1xb""#
        );
        assert_eq!(
            shown(user_terms(r#"roll "back fast"#)).unwrap(),
            r#""w1xroll" AND "w1xback w1xfast""#,
            "an unclosed quote runs to the end"
        );
        assert_eq!(
            shown(user_terms("d* café Ünïcode")).unwrap(),
            r#""w1xd" AND "w1xcafé" AND "w1xünïcode""#,
            "a one-letter prefix is a word"
        );
        assert_eq!(shown(user_terms("🚀 🔥 * \" \" ()")), None);
        assert_eq!(shown(user_terms("")), None);
    }
}
