//! How lessons are indexed for full-text search, and the queries over that index.
//!
//! Every indexed word carries its workspace (`w12x` + `deploy`), so each workspace's
//! words are separate FTS5 terms with their own posting lists: a search reads only its
//! own workspace's postings, however many other workspaces share the database, and
//! bm25 weighs words by how common they are in that workspace. Words are split here
//! (letters and digits; anything else separates) so that the tokenizer sees one
//! prefixed word per token; it still folds case and accents and stems.

use super::WorkspaceId;

/// The letters-and-digits runs of `text`, lowercased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The prefix of a workspace's terms.
fn scope(workspace: WorkspaceId) -> String {
    format!("w{}x", workspace.0)
}

/// The text stored in the index for one column of a lesson.
pub fn indexed(workspace: WorkspaceId, text: &str) -> String {
    let scope = scope(workspace);
    words(text)
        .map(|word| format!("{scope}{word}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word, several words in a row (a phrase), or the beginning of a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    words: Vec<String>,
    prefix: bool,
}

impl Term {
    /// `None` when `text` has no words.
    pub fn phrase(text: &str) -> Option<Self> {
        let words: Vec<String> = words(text).collect();
        (!words.is_empty()).then_some(Self {
            words,
            prefix: false,
        })
    }

    /// The beginning of a word (`deplo*`).
    pub fn prefix(text: &str) -> Option<Self> {
        Self::phrase(text).map(|term| Self {
            prefix: true,
            ..term
        })
    }
}

/// How many of the terms a lesson must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needed {
    Every,
    Any,
    /// At least two of them (any pair).
    Two,
}

/// What a search looks for: every term, any of them, or any two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    terms: Vec<Term>,
    needed: Needed,
}

impl Terms {
    /// Matches lessons that have every term; `None` without terms.
    pub fn every(terms: Vec<Term>) -> Option<Self> {
        (!terms.is_empty()).then_some(Self {
            terms,
            needed: Needed::Every,
        })
    }

    /// Matches lessons that have any of the terms; `None` without terms.
    pub fn any(terms: Vec<Term>) -> Option<Self> {
        (!terms.is_empty()).then_some(Self {
            terms,
            needed: Needed::Any,
        })
    }

    /// Matches lessons that have at least two of the terms; `None` with fewer than two.
    pub fn any_two(terms: Vec<Term>) -> Option<Self> {
        (terms.len() >= 2).then_some(Self {
            terms,
            needed: Needed::Two,
        })
    }

    /// The same terms, any of them.
    pub fn loosened(&self) -> Self {
        Self {
            terms: self.terms.clone(),
            needed: Needed::Any,
        }
    }

    /// The same search as a PostgreSQL `tsquery` (for `to_tsquery('learnloop', …)`):
    /// a phrase is its words in a row (`<->`), a prefix ends in `:*`. The database
    /// scopes it to a workspace (`learnloop_scoped_query` puts the workspace before every
    /// word, as the index has it). Words are letters and digits only, so nothing in them
    /// is `tsquery` syntax.
    pub fn tsquery(&self) -> String {
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|term| {
                let star = if term.prefix { ":*" } else { "" };
                format!("({}{star})", term.words.join(" <-> "))
            })
            .collect();
        self.combined(parts, " & ", " | ")
    }

    /// The FTS5 expression in one workspace's terms. Every word is letters and digits
    /// only and quoted here, so no input can be read as FTS syntax.
    pub fn expression(&self, workspace: WorkspaceId) -> String {
        let scope = scope(workspace);
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|term| {
                let words: Vec<String> = term.words.iter().map(|w| format!("{scope}{w}")).collect();
                let star = if term.prefix { "*" } else { "" };
                format!("\"{}\"{star}", words.join(" "))
            })
            .collect();
        self.combined(parts, " AND ", " OR ")
    }

    /// `parts` joined as `needed` says, with the query language's `and` and `or`.
    fn combined(&self, parts: Vec<String>, and: &str, or: &str) -> String {
        match self.needed {
            Needed::Every => parts.join(and),
            Needed::Any => parts.join(or),
            Needed::Two => {
                let mut pairs = Vec::new();
                for (i, first) in parts.iter().enumerate() {
                    for second in &parts[i + 1..] {
                        pairs.push(format!("({first}{and}{second})"));
                    }
                }
                pairs.join(or)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_carry_their_workspace_and_nothing_else_gets_through() {
        let ws = WorkspaceId(12);
        assert_eq!(
            indexed(ws, "L'équipe: roll-back 2x!"),
            "w12xl w12xéquipe w12xroll w12xback w12x2x"
        );
        let terms = Terms::every(vec![
            Term::prefix("deplo").unwrap(),
            Term::phrase("feature \"flags\" NEAR(").unwrap(),
        ])
        .unwrap();
        assert_eq!(
            terms.expression(ws),
            r#""w12xdeplo"* AND "w12xfeature w12xflags w12xnear""#
        );
        assert_eq!(
            terms.loosened().expression(WorkspaceId(3)),
            r#""w3xdeplo"* OR "w3xfeature w3xflags w3xnear""#
        );
        let two = Terms::any_two(vec![
            Term::phrase("a").unwrap(),
            Term::phrase("b").unwrap(),
            Term::phrase("c").unwrap(),
        ])
        .unwrap();
        assert_eq!(
            two.expression(WorkspaceId(1)),
            r#"("w1xa" AND "w1xb") OR ("w1xa" AND "w1xc") OR ("w1xb" AND "w1xc")"#
        );
        assert_eq!(two.tsquery(), "((a) & (b)) | ((a) & (c)) | ((b) & (c))");
        assert_eq!(terms.tsquery(), "(deplo:*) & (feature <-> flags <-> near)");
        assert_eq!(
            terms.loosened().tsquery(),
            "(deplo:*) | (feature <-> flags <-> near)"
        );
        assert_eq!(Terms::any_two(vec![Term::phrase("a").unwrap()]), None);
        assert_eq!(Term::phrase("🚀 * ()"), None);
        assert_eq!(Terms::any(vec![]), None);
    }
}
