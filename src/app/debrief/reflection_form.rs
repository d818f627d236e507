//! The reflection form: one field per template question, filled with the person's
//! earlier answers, and for a question whose answers become actions, who owns them.
//! Each platform draws it (`platform::slack::modal::form_view`,
//! `platform::teams::form::form_card`) and hands the values back to [`super::check_form`].

use std::collections::BTreeMap;

use serde_json::json;

use super::Debrief;
use super::answers::owner_key;
use crate::app::templates::{Becomes, Question, QuestionKind};
use crate::platform::form::context;
use crate::platform::{Field, Form, Heading, Input};

/// What submitting the reflection form means (Slack's `callback_id`, the Teams button's
/// `action`).
pub const REFLECTION_FORM: &str = "debrief.reflection";

/// The form of `debrief` holding `earlier` answers (by question id, owners by
/// [`owner_key`]), with `problems` by question id.
pub fn reflection_form(
    debrief: &Debrief,
    earlier: &BTreeMap<String, String>,
    problems: &BTreeMap<String, String>,
) -> Form {
    let names = if debrief.anonymous {
        "never shown or stored with your answers (anonymous)"
    } else {
        "shown with your answers in the summary"
    };
    let mut fields = Vec::new();
    for question in &debrief.questions {
        fields.push(
            question_field(question)
                .holding(earlier.get(&question.id).map(String::as_str))
                .with_problem(problems.get(&question.id)),
        );
        if question.becomes == Some(Becomes::Action) {
            let owner = owner_key(&question.id);
            fields.push(
                Field::new(&owner, owner_label(debrief.anonymous), Input::Person)
                    .holding(earlier.get(&owner).map(String::as_str)),
            );
        }
    }
    Form {
        action: REFLECTION_FORM.to_owned(),
        context: context([("debrief", json!(debrief.id.0))]),
        title: "Your reflection".to_owned(),
        heading: Some(Heading {
            title: debrief.title.clone(),
            facts: vec![
                ("Template".to_owned(), debrief.template_title.clone()),
                ("Names".to_owned(), names.to_owned()),
            ],
            note: "Answer what you can; you can change your answers until the debrief closes."
                .to_owned(),
        }),
        fields,
        submit: "Save".to_owned(),
    }
}

fn question_field(question: &Question) -> Field {
    let input = match &question.kind {
        QuestionKind::Text { max_chars } => Input::text(*max_chars, true),
        QuestionKind::Rating => {
            Input::one_of((1..=5).map(|n| (n.to_string(), n.to_string())), false)
                .with_placeholder("1 = low, 5 = high")
        }
        QuestionKind::Choice(options) => Input::one_of(options.iter().map(|o| (o, o)), true),
    };
    let field = Field::new(&question.id, &question.prompt, input);
    if question.required {
        field.required()
    } else {
        field
    }
}

fn owner_label(anonymous: bool) -> &'static str {
    if anonymous {
        // Anonymous debriefs store no author to fall back on, and picking yourself
        // would put your name next to your answer.
        "Who owns these actions? (Nobody yet, if nobody is picked.)"
    } else {
        "Who owns these actions? (You, if nobody is picked.)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::templates::sample_questions;

    fn debrief(anonymous: bool) -> Debrief {
        let mut debrief = Debrief::sample(anonymous, false);
        debrief.questions = sample_questions();
        debrief
    }

    #[test]
    fn a_field_per_question_and_an_owner_after_each_that_becomes_actions() {
        let earlier = BTreeMap::from([
            ("mood".to_owned(), "4".to_owned()),
            ("try_next.owner".to_owned(), "U2".to_owned()),
        ]);
        let problems = BTreeMap::from([("went_well".to_owned(), "Say something".to_owned())]);
        let form = reflection_form(&debrief(false), &earlier, &problems);
        let ids: Vec<&str> = form.fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["went_well", "mood", "try_next", "try_next.owner"]);
        assert!(form.fields[0].required);
        assert_eq!(form.fields[0].problem.as_deref(), Some("Say something"));
        assert_eq!(form.fields[1].value.as_deref(), Some("4"));
        assert_eq!(form.fields[3].input, Input::Person);
        assert_eq!(form.fields[3].value.as_deref(), Some("U2"));
        assert!(form.fields[3].label.contains("You, if nobody"));
        assert_eq!(form.action, REFLECTION_FORM);
        assert_eq!(form.context["debrief"], 42);
        assert_eq!(form.heading.as_ref().unwrap().title, "Release 2.3");
    }

    #[test]
    fn an_anonymous_debrief_says_so_and_never_falls_back_to_the_author() {
        let form = reflection_form(&debrief(true), &BTreeMap::new(), &BTreeMap::new());
        let heading = form.heading.unwrap();
        assert!(heading.facts.iter().any(|(_, v)| v.contains("never shown")));
        assert!(form.fields[3].label.contains("Nobody yet"));
    }
}
