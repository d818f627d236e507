//! The debrief reflection form as an Adaptive Card (Teams has no modals): one input per
//! template question, pre-filled with the person's earlier answers, and a Save button
//! whose `Action.Submit` sends the inputs back merged with its data.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::card::card_message;
use crate::app::debrief::review::{self, ReviewPage};
use crate::app::debrief::start_form::{self, StartChoices};
use crate::app::templates::{Question, QuestionKind};
use crate::store::LessonKind;

/// The action of the form's Save button.
pub const REFLECTION_ACTION: &str = "debrief.reflection";

/// The action of the follow-up note form's Save button.
pub const NOTE_ACTION: &str = "followup.note_save";
/// The input id of the note.
pub const NOTE_INPUT: &str = "note";

/// The note on a follow-up answer (Slack's note modal), with `problem` shown if the
/// last try had one.
pub fn note_form(follow_up: i64, max_chars: usize, problem: Option<&str>) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "wrap": true, "weight": "Bolder",
               "text": "What happened? What helped, or what is in the way?"}),
        json!({"type": "TextBlock", "wrap": true, "isSubtle": true,
               "text": "A sentence on how it went helps whoever runs into the same thing next. It is shown with the lesson, in its debrief thread and the team digest."}),
        json!({"type": "Input.Text", "id": NOTE_INPUT, "isMultiline": true,
               "maxLength": max_chars}),
    ];
    if let Some(problem) = problem {
        body.push(
            json!({"type": "TextBlock", "text": problem, "wrap": true, "color": "Attention"}),
        );
    }
    body.push(json!({"type": "ActionSet", "actions": [{
        "type": "Action.Submit", "title": "Save", "style": "positive",
        "data": {"action": NOTE_ACTION, "follow_up": follow_up},
    }]}));
    card_message("A note on your follow-up", body)
}

/// The input id of a question (and the key of its answer in the submitted value).
pub fn input_id(question: &str) -> String {
    format!("q_{question}")
}

/// The answers of a submitted form, by question id (empty inputs left out).
pub fn submitted_answers(value: &Value, questions: &[Question]) -> BTreeMap<String, String> {
    questions
        .iter()
        .filter_map(|question| {
            let answer = value.get(input_id(&question.id))?.as_str()?.trim();
            (!answer.is_empty()).then(|| (question.id.clone(), answer.to_owned()))
        })
        .collect()
}

fn input(question: &Question, earlier: Option<&String>) -> Value {
    let id = input_id(&question.id);
    let value = earlier.cloned().unwrap_or_default();
    let choices = |options: Vec<String>| -> Value {
        options
            .into_iter()
            .map(|option| json!({"title": option, "value": option}))
            .collect()
    };
    match &question.kind {
        QuestionKind::Text { max_chars } => json!({
            "type": "Input.Text", "id": id, "isMultiline": true, "maxLength": max_chars,
            "value": value, "isRequired": question.required,
        }),
        QuestionKind::Rating => json!({
            "type": "Input.ChoiceSet", "id": id, "style": "compact", "value": value,
            "choices": choices((1..=5).map(|n| n.to_string()).collect()),
            "isRequired": question.required,
        }),
        QuestionKind::Choice(options) => json!({
            "type": "Input.ChoiceSet", "id": id, "style": "expanded", "value": value,
            "choices": choices(options.clone()),
            "isRequired": question.required,
        }),
    }
}

/// What the form is about: the debrief's title and facts (template, whether names are
/// kept), shown above the questions.
pub struct FormHeading<'a> {
    pub title: &'a str,
    pub facts: Vec<(&'static str, String)>,
}

/// The form of `debrief_id`, with `problems` (by question id) shown under their
/// questions.
pub fn reflection_form(
    debrief_id: i64,
    heading: &FormHeading<'_>,
    questions: &[Question],
    earlier: &BTreeMap<String, String>,
    problems: &BTreeMap<String, String>,
) -> Value {
    let facts: Vec<Value> = heading
        .facts
        .iter()
        .map(|(title, value)| json!({"title": title, "value": value}))
        .collect();
    let mut body = vec![
        // The title is typed text: a text run, which no client reads as markdown.
        json!({"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": heading.title,
               "size": "Medium", "weight": "Bolder"}]}),
        json!({"type": "FactSet", "facts": facts}),
        json!({"type": "TextBlock", "wrap": true, "isSubtle": true,
               "text": "Answer what you can; you can change your answers until the debrief closes."}),
    ];
    for question in questions {
        let label = if question.required {
            format!("{} (required)", question.prompt)
        } else {
            question.prompt.clone()
        };
        body.push(json!({"type": "TextBlock", "text": label, "wrap": true, "weight": "Bolder"}));
        body.push(input(question, earlier.get(&question.id)));
        if let Some(problem) = problems.get(&question.id) {
            body.push(
                json!({"type": "TextBlock", "text": problem, "wrap": true, "color": "Attention"}),
            );
        }
    }
    body.push(json!({"type": "ActionSet", "actions": [{
        "type": "Action.Submit", "title": "Save", "style": "positive",
        "data": {"action": REFLECTION_ACTION, "debrief": debrief_id},
    }]}));
    card_message("Your reflection", body)
}

/// The start form (`@learnloop debrief` alone): title, template, anonymous or not,
/// when it closes; `problems` (by field id) under their fields, `earlier` values kept.
pub fn start_form(
    choices: &StartChoices,
    earlier: &BTreeMap<String, String>,
    problems: &BTreeMap<String, String>,
) -> Value {
    let value = |field: &str| earlier.get(field).cloned().unwrap_or_default();
    let choice_set = |field: &str, options: Vec<(String, String)>, default: &str| {
        let chosen = earlier
            .get(field)
            .cloned()
            .unwrap_or_else(|| default.to_owned());
        let options: Vec<Value> = options
            .into_iter()
            .map(|(value, title)| json!({"title": title, "value": value}))
            .collect();
        json!({"type": "Input.ChoiceSet", "id": input_id(field), "style": "compact",
               "value": chosen, "choices": options})
    };
    let templates = choices
        .templates
        .iter()
        .map(|t| {
            let title = if t.description.is_empty() {
                t.title.clone()
            } else {
                format!("{}: {}", t.title, t.description)
            };
            (t.name.clone(), title)
        })
        .collect();
    let yes_no = vec![
        (String::new(), "As the template says".to_owned()),
        ("no".to_owned(), "No: names are shown".to_owned()),
        (
            "yes".to_owned(),
            "Yes: names are never shown or stored".to_owned(),
        ),
    ];
    let closes = start_form::CLOSES_IN_CHOICES
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect();
    let fields = [
        (
            start_form::TITLE,
            "Title",
            json!({"type": "Input.Text", "id": input_id(start_form::TITLE),
                   "maxLength": crate::app::command::MAX_TITLE_CHARS,
                   "placeholder": "Release 2.3 rollout", "value": value(start_form::TITLE)}),
        ),
        (
            start_form::TEMPLATE,
            "Template",
            choice_set(start_form::TEMPLATE, templates, &choices.default_template),
        ),
        (
            start_form::ANONYMOUS,
            "Anonymous?",
            choice_set(start_form::ANONYMOUS, yes_no, ""),
        ),
        (
            start_form::CLOSES_IN,
            "Closes",
            choice_set(start_form::CLOSES_IN, closes, "none"),
        ),
        (
            start_form::CLOSES_ON,
            "Closing date (if it closes on a date)",
            json!({"type": "Input.Date", "id": input_id(start_form::CLOSES_ON),
                   "value": value(start_form::CLOSES_ON)}),
        ),
    ];
    let mut body = Vec::new();
    for (field, label, input) in fields {
        body.push(json!({"type": "TextBlock", "text": label, "wrap": true, "weight": "Bolder"}));
        body.push(input);
        if let Some(problem) = problems.get(field) {
            body.push(
                json!({"type": "TextBlock", "text": problem, "wrap": true, "color": "Attention"}),
            );
        }
    }
    body.push(json!({"type": "ActionSet", "actions": [{
        "type": "Action.Submit", "title": "Start", "style": "positive",
        "data": {"action": start_form::START_FORM_CALLBACK},
    }]}));
    card_message("Start a debrief", body)
}

/// Most people offered in a review's owner menu (the team's roster, by name).
const MAX_OWNER_CHOICES: usize = 100;

/// One page of the facilitator's review at close (Slack's review modal): per candidate
/// its text, keep / drop / kudos, and for actions an owner from `roster` (id, name).
pub fn review_form(page: &ReviewPage, roster: &[(String, String)]) -> Value {
    let mut body = vec![
        json!({"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": page.title,
               "size": "Medium", "weight": "Bolder"}]}),
        json!({"type": "TextBlock", "wrap": true, "isSubtle": true, "text": page.intro()}),
    ];
    let verdicts: Vec<Value> = review::VERDICTS
        .iter()
        .map(|(verdict, label)| json!({"title": label, "value": verdict.as_str()}))
        .collect();
    // The first people by name, and always whoever a candidate names as its owner.
    let mut offered: Vec<&(String, String)> = roster.iter().take(MAX_OWNER_CHOICES).collect();
    for candidate in &page.candidates {
        if let Some(owner) = candidate.shown_owner()
            && !offered.iter().any(|(id, _)| id == owner)
            && let Some(person) = roster.iter().find(|(id, _)| id == owner)
        {
            offered.push(person);
        }
    }
    let owners: Vec<Value> = offered
        .into_iter()
        .map(|(id, name)| json!({"title": name, "value": id}))
        .collect();
    for candidate in &page.candidates {
        body.push(
            json!({"type": "TextBlock", "text": candidate.label(), "wrap": true,
                         "weight": "Bolder"}),
        );
        body.push(
            json!({"type": "Input.Text", "id": input_id(&review::text_field(&candidate.key)),
            "maxLength": 1000, "value": candidate.shown_text()}),
        );
        body.push(json!({"type": "Input.ChoiceSet", "id": input_id(&review::verdict_field(&candidate.key)),
            "style": "expanded", "value": candidate.verdict().as_str(), "choices": verdicts}));
        if candidate.kind == LessonKind::Action && !owners.is_empty() {
            body.push(json!({"type": "Input.ChoiceSet", "id": input_id(&review::owner_field(&candidate.key)),
                "style": "filtered", "label": "Owner", "value": candidate.shown_owner().unwrap_or_default(),
                "choices": owners}));
        }
    }
    if !page.is_last() {
        body.push(json!({"type": "Input.Toggle", "id": input_id(review::PUBLISH_REST),
            "title": "Publish the rest as they are and close now", "valueOn": "yes", "valueOff": ""}));
    }
    body.push(json!({"type": "ActionSet", "actions": [{
        "type": "Action.Submit", "title": page.submit_label(), "style": "positive",
        "data": {"action": review::REVIEW_CALLBACK, "debrief": page.debrief, "page": page.page},
    }]}));
    card_message("Review and close", body)
}

/// Every `q_…` input of a submitted card, by field id, trimmed (an emptied input is
/// an empty value, as Slack's form would keep it: clearing a review line drops it).
pub fn submitted_fields(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(id, answer)| {
            let field = id.strip_prefix("q_")?;
            Some((field.to_owned(), answer.as_str()?.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn questions() -> Vec<Question> {
        crate::app::templates::sample_questions()
    }

    #[test]
    fn the_form_has_an_input_per_question_filled_with_earlier_answers() {
        let earlier = BTreeMap::from([("mood".to_owned(), "4".to_owned())]);
        let problems = BTreeMap::from([("went_well".to_owned(), "Please answer this.".to_owned())]);
        let heading = FormHeading {
            title: "Outage",
            facts: vec![("Template", "Retrospective".into())],
        };
        let form = reflection_form(42, &heading, &questions(), &earlier, &problems);
        let body = form["attachments"][0]["content"]["body"]
            .as_array()
            .unwrap();
        assert_eq!(
            body[1],
            json!({"type": "FactSet", "facts": [{"title": "Template", "value": "Retrospective"}]})
        );
        let input = |id: &str| body.iter().position(|b| b["id"] == id).unwrap();
        let went_well = input("q_went_well");
        assert_eq!(body[went_well]["type"], "Input.Text");
        assert_eq!(body[went_well + 1]["text"], "Please answer this.");
        let mood = &body[input("q_mood")];
        assert_eq!(mood["type"], "Input.ChoiceSet");
        assert_eq!(mood["value"], "4");
        assert_eq!(mood["choices"].as_array().unwrap().len(), 5);
        assert_eq!(body[input("q_try_next")]["value"], "");
        assert_eq!(
            body.last().unwrap()["actions"][0]["data"],
            json!({"action": "debrief.reflection", "debrief": 42})
        );
    }

    #[test]
    fn a_submitted_review_reads_as_the_slack_one_does() {
        let value = json!({"action": "debrief.review", "debrief": 42, "page": 0,
            "q_r.k1.text": " Flaky tests cost a day ", "q_r.k1.verdict": "keep",
            "q_r.k2.verdict": "kudos", "q_r.k3.verdict": "drop", "q_r.k3.owner": "",
            "q_publish_rest": ""});
        let fields = submitted_fields(&value);
        assert_eq!(fields["publish_rest"], "", "an unticked toggle is off");
        let decisions = review::read_decisions(&fields);
        assert_eq!(
            decisions["k1"].text.as_deref(),
            Some("Flaky tests cost a day")
        );
        assert_eq!(decisions["k2"].verdict, review::Verdict::Kudos);
        assert_eq!(decisions["k3"].verdict, review::Verdict::Drop);
        assert_eq!(decisions["k3"].owner, None);
    }

    #[test]
    fn submitted_inputs_become_answers_by_question() {
        let value = json!({"action": "debrief.reflection", "debrief": 42,
                           "q_went_well": "  Paging early  ", "q_mood": "", "q_other": "x"});
        assert_eq!(
            submitted_answers(&value, &questions()),
            BTreeMap::from([("went_well".to_owned(), "Paging early".to_owned())])
        );
    }
}
