//! One person's answers to a debrief's questions: checking them (the modal's field
//! errors, the DM's re-asks) and reading ratings and choices from loose words.

use std::collections::BTreeMap;

use crate::app::templates::{Question, QuestionKind};

/// Question id -> answer text (`"4"` for a rating, the option for a choice). An action
/// question may also carry its owner under [`owner_key`].
pub type Answers = BTreeMap<String, String>;

/// Where an action question's owner (picked in the modal) is kept in [`Answers`].
pub fn owner_key(question_id: &str) -> String {
    format!("{question_id}.owner")
}

/// Checks one answer: `Ok(None)` for an optional one left empty, `Ok(Some(text))` for
/// the value to store, `Err` with what to tell the person.
pub fn check(question: &Question, raw: Option<&str>) -> Result<Option<String>, String> {
    let text = raw.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return if question.required {
            Err("Please answer this one; it is required.".into())
        } else {
            Ok(None)
        };
    }
    match &question.kind {
        QuestionKind::Text { max_chars } => {
            let length = text.chars().count();
            if length > *max_chars {
                Err(format!(
                    "Please keep it to {max_chars} characters (this is {length})."
                ))
            } else {
                Ok(Some(text.to_owned()))
            }
        }
        QuestionKind::Rating => parse_rating(text)
            .map(|n| Some(n.to_string()))
            .ok_or_else(|| "Pick a rating from 1 to 5.".into()),
        QuestionKind::Choice(options) => match_choice(options, text)
            .map(Some)
            .ok_or_else(|| format!("Pick one of: {}.", options.join(", "))),
    }
}

/// A rating from `1`–`5`, `4/5`, or a word people use in chat ("four", "good").
pub fn parse_rating(text: &str) -> Option<u8> {
    let text = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    let number = text.strip_suffix("/5").unwrap_or(&text).trim();
    if let Ok(n) = number.parse::<u8>() {
        return (1..=5).contains(&n).then_some(n);
    }
    let n = match number {
        "one" | "awful" | "terrible" | "very bad" | "horrible" => 1,
        "two" | "bad" | "poor" | "not good" => 2,
        "three" | "ok" | "okay" | "fine" | "meh" | "average" | "so-so" => 3,
        "four" | "good" | "well" | "pretty good" => 4,
        "five" | "great" | "excellent" | "amazing" | "very good" | "awesome" => 5,
        _ => return None,
    };
    Some(n)
}

/// The option a person meant: its number (1-based) or its text, any case.
pub fn match_choice(options: &[String], text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(n) = text.parse::<usize>() {
        return options.get(n.checked_sub(1)?).cloned();
    }
    options
        .iter()
        .find(|option| option.eq_ignore_ascii_case(text))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(kind: QuestionKind, required: bool) -> Question {
        Question {
            id: "q".into(),
            prompt: "Q?".into(),
            kind,
            required,
            becomes: None,
        }
    }

    #[test]
    fn required_optional_and_length() {
        let text = question(QuestionKind::Text { max_chars: 5 }, true);
        assert!(check(&text, None).is_err());
        assert!(check(&text, Some("   ")).is_err());
        assert_eq!(check(&text, Some(" hi ")), Ok(Some("hi".into())));
        assert_eq!(
            check(&text, Some("too long")),
            Err("Please keep it to 5 characters (this is 8).".into())
        );
        let optional = question(QuestionKind::Text { max_chars: 5 }, false);
        assert_eq!(check(&optional, Some("")), Ok(None));
    }

    #[test]
    fn ratings_accept_numbers_and_words() {
        for (text, n) in [("4", 4), ("5/5", 5), ("Good", 4), ("three", 3), ("meh.", 3)] {
            assert_eq!(parse_rating(text), Some(n), "{text}");
        }
        for text in ["0", "6", "pretty", ""] {
            assert_eq!(parse_rating(text), None, "{text}");
        }
        let rating = question(QuestionKind::Rating, false);
        assert_eq!(check(&rating, Some("great")), Ok(Some("5".into())));
        assert!(check(&rating, Some("9")).is_err());
    }

    #[test]
    fn choices_by_number_or_text() {
        let options = vec!["Yes".to_owned(), "No".to_owned()];
        assert_eq!(match_choice(&options, "2"), Some("No".into()));
        assert_eq!(match_choice(&options, "yes"), Some("Yes".into()));
        assert_eq!(match_choice(&options, "3"), None);
        assert_eq!(match_choice(&options, "0"), None);
        let choice = question(QuestionKind::Choice(options), true);
        assert_eq!(
            check(&choice, Some("maybe")),
            Err("Pick one of: Yes, No.".into())
        );
    }
}
