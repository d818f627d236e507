//! Free text to safe SQLite FTS5 expressions. Every word is taken apart into letters
//! and digits and quoted here, so anything a person types is searched for and nothing
//! (quotes, `*`, `NEAR`, `AND`, `:`) is ever read as FTS syntax.

/// Words too common to say anything about similar work.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "into", "our", "this", "that", "was", "were", "are",
    "but", "not", "all", "about", "after", "before", "week", "sprint", "retro", "debrief",
];
/// Enough words to find related work; more only slows the query down.
const MAX_WORDS: usize = 12;
/// A shorter prefix would expand to most of the vocabulary.
const MIN_PREFIX_CHARS: usize = 2;

/// Letters-and-digits runs of `text`, lowercased.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

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

/// Terms that find work related to `text` (a debrief title, a lesson): any of its
/// meaningful words; `None` when it has none.
pub fn related_terms(text: &str) -> Option<String> {
    let words = meaningful_words(text);
    // Each word is letters and digits only, so quoting it cannot be escaped from.
    (!words.is_empty()).then(|| {
        words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" OR ")
    })
}

/// What a person searched for, as FTS5 terms: every term (best) or any of them (the
/// fallback when nothing has them all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserQuery {
    pub all: String,
    pub any: String,
}

/// Reads a search as people type it: `"a phrase"` in double quotes (an unclosed quote
/// runs to the end), `prefix*`, and words; everything else separates words. `None` when
/// nothing searchable is left (only emoji or punctuation).
pub fn user_terms(text: &str) -> Option<UserQuery> {
    let mut terms: Vec<String> = Vec::new();
    for (index, part) in text.split('"').enumerate() {
        if terms.len() >= MAX_WORDS {
            break;
        }
        // Odd parts were inside quotes.
        if index % 2 == 1 {
            let phrase: Vec<String> = words(part).collect();
            if !phrase.is_empty() {
                terms.push(format!("\"{}\"", phrase.join(" ")));
            }
            continue;
        }
        terms.extend(plain_terms(part));
    }
    terms.truncate(MAX_WORDS);
    (!terms.is_empty()).then(|| UserQuery {
        all: terms.join(" AND "),
        any: terms.join(" OR "),
    })
}

/// Words outside quotes; a word followed directly by `*` is a prefix.
fn plain_terms(part: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut word = String::new();
    let mut chars = part.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            if chars.peek().is_some_and(|n| n.is_alphanumeric()) {
                continue;
            }
            let prefix = chars.peek() == Some(&'*');
            let term = std::mem::take(&mut word);
            if prefix && term.chars().count() >= MIN_PREFIX_CHARS {
                terms.push(format!("\"{term}\"*"));
            } else {
                terms.push(format!("\"{term}\""));
            }
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_terms_quote_meaningful_words_only() {
        assert_eq!(
            related_terms("Release 2.3 rollout: the \"DB\" migration AND-OR*"),
            Some(r#""release" OR "2" OR "3" OR "rollout" OR "migration""#.into())
        );
        assert_eq!(related_terms("the a of"), None);
        assert_eq!(related_terms(""), None);
    }

    #[test]
    fn user_terms_keep_phrases_and_prefixes_and_quote_everything() {
        let query = user_terms(r#"deplo* "feature flags" NEAR(x y) a:b"#).unwrap();
        assert_eq!(
            query.all,
            r#""deplo"* AND "feature flags" AND "near" AND "x" AND "y" AND "a" AND "b""#
        );
        assert_eq!(query.any.matches(" OR ").count(), 6);
        assert_eq!(
            user_terms(r#"roll "back fast"#).unwrap().all,
            r#""roll" AND "back fast""#,
            "an unclosed quote runs to the end"
        );
        assert_eq!(
            user_terms("d* café ünïcode").unwrap().all,
            r#""d" AND "café" AND "ünïcode""#,
            "a one-letter prefix is a word"
        );
        assert_eq!(user_terms("🚀 🔥 * \" \" ()"), None);
        assert_eq!(user_terms(""), None);
    }
}
