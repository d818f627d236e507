//! Free text to a safe SQLite FTS5 query: the meaningful words, each quoted, OR-ed, so
//! anything a person types is searched for and nothing is read as FTS syntax.

/// Words too common to say anything about similar work.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "into", "our", "this", "that", "was", "were", "are",
    "but", "not", "all", "about", "after", "before", "week", "sprint", "retro", "debrief",
];
/// Enough words to find related work; more only slows the query down.
const MAX_WORDS: usize = 12;

/// The FTS5 query for `text`, or `None` when nothing in it is worth searching for.
pub fn fts_query(text: &str) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        let meaningful = word.chars().count() >= 3 || word.chars().all(|c| c.is_ascii_digit());
        if word.is_empty() || !meaningful || STOPWORDS.contains(&word.as_str()) {
            continue;
        }
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == MAX_WORDS {
            break;
        }
    }
    // Each word is letters and digits only, so quoting it cannot be escaped from.
    (!words.is_empty()).then(|| {
        words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" OR ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_meaningful_words_only() {
        assert_eq!(
            fts_query("Release 2.3 rollout: the \"DB\" migration AND-OR*"),
            Some(r#""release" OR "2" OR "3" OR "rollout" OR "migration""#.into())
        );
        assert_eq!(fts_query("the a of"), None);
        assert_eq!(fts_query(""), None);
    }
}
