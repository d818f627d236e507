//! A neutral [`Form`] as an Adaptive Card (Teams has no modals): one input per field,
//! filled with its value, and a submit button whose `Action.Submit` sends the inputs
//! back merged with its data.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::card::card_message;
use crate::platform::form::{Field, Form, Input, TICKED};

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

/// The input id of a field (and the key of its value in the submitted card).
pub fn input_id(field: &str) -> String {
    format!("q_{field}")
}

/// Most people offered in a person field (the team's roster, by name).
const MAX_PEOPLE_OFFERED: usize = 100;

/// The people a person field offers: the roster's first by name, and always whoever
/// the form already names.
fn people_offered<'a>(form: &Form, roster: &'a [(String, String)]) -> Vec<Value> {
    let mut offered: Vec<&'a (String, String)> = roster.iter().take(MAX_PEOPLE_OFFERED).collect();
    for named in form.named_people() {
        if !offered.iter().any(|(id, _)| id == named)
            && let Some(person) = roster.iter().find(|(id, _)| id == named)
        {
            offered.push(person);
        }
    }
    offered
        .into_iter()
        .map(|(id, name)| json!({"title": name, "value": id}))
        .collect()
}

/// The input element of `field`, holding its value; `None` for a person field when
/// there is nobody to offer.
fn input(field: &Field, people: &[Value]) -> Option<Value> {
    let id = input_id(&field.id);
    let value = field.value.clone().unwrap_or_default();
    let mut input = match &field.input {
        Input::Text {
            max_chars,
            multiline,
            placeholder,
        } => {
            let mut input = json!({"type": "Input.Text", "id": id, "maxLength": max_chars,
                                   "value": value});
            if *multiline {
                input["isMultiline"] = json!(true);
            }
            if let Some(placeholder) = placeholder {
                input["placeholder"] = json!(placeholder);
            }
            input
        }
        Input::OneOf {
            choices,
            expanded,
            placeholder,
        } => {
            // No room for a description under a choice: it goes beside the label.
            let choices: Vec<Value> = choices
                .iter()
                .map(|choice| {
                    let title = match &choice.description {
                        Some(description) => format!("{}: {description}", choice.label),
                        None => choice.label.clone(),
                    };
                    json!({"title": title, "value": choice.value})
                })
                .collect();
            let style = if *expanded { "expanded" } else { "compact" };
            let mut input = json!({"type": "Input.ChoiceSet", "id": id, "style": style,
                                   "value": value, "choices": choices});
            if let Some(placeholder) = placeholder {
                input["placeholder"] = json!(placeholder);
            }
            input
        }
        Input::Person if people.is_empty() => return None,
        Input::Person => json!({"type": "Input.ChoiceSet", "id": id, "style": "filtered",
                                "value": value, "choices": people}),
        Input::Date => json!({"type": "Input.Date", "id": id, "value": value}),
        Input::Tick { says } => json!({"type": "Input.Toggle", "id": id, "title": says,
                                       "valueOn": TICKED, "valueOff": "", "value": value}),
    };
    if field.required {
        // Teams checks these before sending; without a message it only outlines the
        // field in red.
        input["isRequired"] = json!(true);
        input["errorMessage"] = json!("Please fill this in; it is required.");
    }
    Some(input)
}

/// The card that draws `form` (Teams has no modals): the heading, per field its label
/// (marked when required), its input and the problem with its last value, and the
/// submit button whose `data` carries the form's action and context. A person field
/// offers the people of `roster` (id, name) and is left out without one.
pub fn form_card(form: &Form, roster: &[(String, String)]) -> Value {
    let mut body = Vec::new();
    if let Some(heading) = &form.heading {
        // The title is typed text: a text run, which no client reads as markdown.
        body.push(
            json!({"type": "RichTextBlock", "inlines": [{"type": "TextRun",
               "text": heading.title, "size": "Medium", "weight": "Bolder"}]}),
        );
        if !heading.facts.is_empty() {
            let facts: Vec<Value> = heading
                .facts
                .iter()
                .map(|(title, value)| json!({"title": title, "value": value}))
                .collect();
            body.push(json!({"type": "FactSet", "facts": facts}));
        }
        if !heading.note.is_empty() {
            body.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true,
                             "text": heading.note}));
        }
    }
    let people = people_offered(form, roster);
    for field in &form.fields {
        let Some(input) = input(field, &people) else {
            continue;
        };
        let label = if field.required {
            format!("{} (required)", field.label)
        } else {
            field.label.clone()
        };
        body.push(json!({"type": "TextBlock", "text": label, "wrap": true, "weight": "Bolder"}));
        body.push(input);
        if let Some(problem) = &field.problem {
            body.push(
                json!({"type": "TextBlock", "text": problem, "wrap": true, "color": "Attention"}),
            );
        }
    }
    let mut data = form.context.clone();
    data.insert("action".to_owned(), json!(form.action));
    body.push(json!({"type": "ActionSet", "actions": [{
        "type": "Action.Submit", "title": form.submit, "style": "positive", "data": data,
    }]}));
    card_message(&form.title, body)
}

/// Every `q_…` input of a submitted card, by field id, trimmed (an emptied optional
/// input or an unticked toggle is an empty value).
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
    use crate::platform::Heading;
    use crate::platform::form::context;

    fn form() -> Form {
        Form {
            action: "debrief.reflection".into(),
            context: context([("debrief", json!(42))]),
            title: "Your reflection".into(),
            heading: Some(Heading {
                title: "Outage".into(),
                facts: vec![("Template".into(), "Retrospective".into())],
                note: "Answer what you can.".into(),
            }),
            fields: vec![
                Field::new("went_well", "What went well?", Input::text(500, true))
                    .required()
                    .with_problem(Some(&"Please answer this.".to_owned())),
                Field::new(
                    "mood",
                    "Mood?",
                    Input::one_of([("1", "1"), ("4", "4")], false),
                )
                .holding(Some("4")),
                Field::new("owner", "Owner", Input::Person).holding(Some("29:zed")),
                Field::new(
                    "rest",
                    "Or:",
                    Input::Tick {
                        says: "Publish".into(),
                    },
                ),
            ],
            submit: "Save".into(),
        }
    }

    fn body(card: &Value) -> &Vec<Value> {
        card["attachments"][0]["content"]["body"]
            .as_array()
            .unwrap()
    }

    #[test]
    fn a_form_is_a_card_with_a_labelled_input_per_field() {
        let card = form_card(&form(), &[]);
        let body = body(&card);
        assert_eq!(body[0]["inlines"][0]["text"], "Outage");
        assert_eq!(
            body[1],
            json!({"type": "FactSet", "facts": [{"title": "Template", "value": "Retrospective"}]})
        );
        let input = |id: &str| body.iter().position(|b| b["id"] == id).unwrap();
        let went_well = input("q_went_well");
        assert_eq!(body[went_well - 1]["text"], "What went well? (required)");
        assert_eq!(body[went_well]["isRequired"], true);
        assert!(
            body[went_well]["errorMessage"].is_string(),
            "says why it stops"
        );
        assert_eq!(body[went_well]["isMultiline"], true);
        assert_eq!(body[went_well + 1]["text"], "Please answer this.");
        let mood = &body[input("q_mood")];
        assert_eq!(mood["style"], "compact");
        assert_eq!(mood["value"], "4");
        assert!(mood.get("isRequired").is_none());
        assert!(
            !body.iter().any(|b| b["id"] == "q_owner"),
            "nobody to offer: no person field"
        );
        let tick = &body[input("q_rest")];
        assert_eq!(
            (&tick["valueOn"], &tick["valueOff"]),
            (&json!("yes"), &json!(""))
        );
        assert_eq!(
            body.last().unwrap()["actions"][0]["data"],
            json!({"action": "debrief.reflection", "debrief": 42})
        );
    }

    #[test]
    fn a_person_field_offers_the_roster_and_whoever_it_names() {
        let mut roster: Vec<(String, String)> = (0..150)
            .map(|n| (format!("29:{n:03}"), format!("Person {n:03}")))
            .collect();
        roster.push(("29:zed".into(), "Zed".into()));
        let card = form_card(&form(), &roster);
        let owner = body(&card).iter().find(|b| b["id"] == "q_owner").unwrap();
        assert_eq!(owner["style"], "filtered");
        assert_eq!(owner["value"], "29:zed");
        let offered = owner["choices"].as_array().unwrap();
        assert_eq!(offered.len(), MAX_PEOPLE_OFFERED + 1);
        assert_eq!(offered.last().unwrap()["title"], "Zed");
    }

    #[test]
    fn submitted_fields_are_the_trimmed_q_inputs() {
        let value = json!({"action": "debrief.review", "debrief": 42, "page": 0,
            "q_r.k1.text": " Flaky tests cost a day ", "q_r.k3.owner": "",
            "q_publish_rest": "", "other": "x"});
        let fields = submitted_fields(&value);
        let expected = [
            ("r.k1.text", "Flaky tests cost a day"),
            ("r.k3.owner", ""),
            ("publish_rest", ""),
        ];
        assert_eq!(
            fields,
            expected
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            "an emptied input or an unticked toggle stays, empty"
        );
    }
}
