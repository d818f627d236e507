//! A neutral [`Form`] as a Slack modal, and reading its submitted values back.
//! <https://api.slack.com/surfaces/modals>

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::blocks::{mrkdwn, plain_text};
use crate::platform::form::{Choice, Field, Form, Heading, Input, TICKED};

/// Every input's `action_id`; the question is told by the block id.
const ANSWER: &str = "answer";
/// Block ids are `q_<field id>`.
const BLOCK_PREFIX: &str = "q_";
/// Slack's limits: input labels 2000 characters, the modal's title 24.
const MAX_LABEL_CHARS: usize = 2000;
const MAX_TITLE_CHARS: usize = 24;
/// Slack's most radio buttons in one input.
const MAX_RADIO_OPTIONS: usize = 10;

/// The block id of a field's input (where `response_action: errors` points).
pub fn block_id(field_id: &str) -> String {
    format!("{BLOCK_PREFIX}{field_id}")
}

/// An option of a select or radio buttons (a description only where Slack shows one).
fn option(choice: &Choice, with_description: bool) -> Value {
    let mut option = json!({"text": plain_text(&choice.label, 75), "value": choice.value});
    if with_description && let Some(description) = &choice.description {
        option["description"] = plain_text(description, 75);
    }
    option
}

/// The element of `field`, holding its value.
fn element(field: &Field) -> Value {
    let value = field.value.as_deref();
    let mut element = match &field.input {
        Input::Text {
            max_chars,
            multiline,
            placeholder,
        } => {
            let mut element = json!({"type": "plain_text_input", "max_length": max_chars});
            if *multiline {
                element["multiline"] = json!(true);
            }
            if let Some(placeholder) = placeholder {
                element["placeholder"] = plain_text(placeholder, 150);
            }
            if let Some(value) = value {
                element["initial_value"] = json!(value);
            }
            element
        }
        Input::OneOf {
            choices,
            expanded,
            placeholder,
        } => {
            // Radio buttons show each choice's description, but Slack allows ten.
            let radio = *expanded && choices.len() <= MAX_RADIO_OPTIONS;
            let options: Vec<Value> = choices.iter().map(|c| option(c, radio)).collect();
            let mut element = if radio {
                json!({"type": "radio_buttons", "options": options})
            } else {
                json!({"type": "static_select", "options": options})
            };
            if let Some(placeholder) = placeholder.as_ref().filter(|_| !radio) {
                element["placeholder"] = plain_text(placeholder, 150);
            }
            if let Some(chosen) = choices.iter().find(|c| Some(c.value.as_str()) == value) {
                element["initial_option"] = option(chosen, radio);
            }
            element
        }
        Input::Person => {
            let mut element = json!({"type": "users_select"});
            if let Some(user) = value {
                element["initial_user"] = json!(user);
            }
            element
        }
        Input::Date => {
            let mut element = json!({"type": "datepicker"});
            if let Some(date) = value {
                element["initial_date"] = json!(date);
            }
            element
        }
        Input::Tick { says } => {
            let tick = json!({"text": plain_text(says, 75), "value": TICKED});
            let mut element = json!({"type": "checkboxes", "options": [tick]});
            if value == Some(TICKED) {
                element["initial_options"] = json!([tick]);
            }
            element
        }
    };
    element["action_id"] = json!(ANSWER);
    element
}

/// The heading as one section: the title in bold, the facts on a line, the note.
fn heading_text(heading: &Heading) -> String {
    let mut lines = vec![format!("*{}*", crate::platform::plain(&heading.title))];
    if !heading.facts.is_empty() {
        let facts: Vec<String> = heading
            .facts
            .iter()
            .map(|(label, value)| format!("{label}: {}", crate::platform::plain(value)))
            .collect();
        lines.push(facts.join(" · "));
    }
    if !heading.note.is_empty() {
        lines.push(heading.note.clone());
    }
    lines.join("\n")
}

/// The `view` for `views.open` (or `response_action: update`) that draws `form`: an
/// input block per field, `q_<field id>`, which [`submitted_values`] reads back.
/// Problems are not drawn: Slack shows them in answer to the submission.
pub fn form_view(form: &Form) -> Value {
    let mut blocks = Vec::new();
    if let Some(heading) = &form.heading {
        blocks.push(json!({"type": "section", "text": mrkdwn(&heading_text(heading), 3000)}));
    }
    for field in &form.fields {
        blocks.push(json!({
            "type": "input",
            "block_id": block_id(&field.id),
            "optional": !field.required,
            "label": plain_text(&field.label, MAX_LABEL_CHARS),
            "element": element(field),
        }));
    }
    json!({
        "type": "modal",
        "callback_id": form.action,
        "private_metadata": Value::Object(form.context.clone()).to_string(),
        "title": plain_text(&form.title, MAX_TITLE_CHARS),
        "submit": plain_text(&form.submit, MAX_TITLE_CHARS),
        "close": plain_text("Cancel", MAX_TITLE_CHARS),
        "blocks": blocks,
    })
}

/// The page a submitted review form was.
pub fn page_of(private_metadata: &str) -> Option<usize> {
    serde_json::from_str::<Value>(private_metadata)
        .ok()?
        .get("page")?
        .as_u64()
        .map(|p| p as usize)
}

/// The channel a submitted start form belongs to.
pub fn channel_of(private_metadata: &str) -> Option<String> {
    serde_json::from_str::<Value>(private_metadata)
        .ok()?
        .get("channel")?
        .as_str()
        .map(str::to_owned)
}

/// `callback_id` of the follow-up note modal.
pub const NOTE_CALLBACK: &str = "followup.note";
/// The note's question id (its block is `q_note`).
pub const NOTE_FIELD: &str = "note";

/// The `view` for a note on a follow-up answer.
pub fn note_view(follow_up: i64, intro: &str, max_chars: usize) -> Value {
    json!({
        "type": "modal",
        "callback_id": NOTE_CALLBACK,
        "private_metadata": json!({"follow_up": follow_up}).to_string(),
        "title": plain_text("Add a note", MAX_TITLE_CHARS),
        "submit": plain_text("Save", MAX_TITLE_CHARS),
        "close": plain_text("Cancel", MAX_TITLE_CHARS),
        "blocks": [
            {"type": "section", "text": mrkdwn(intro, 3000)},
            {
                "type": "input",
                "block_id": block_id(NOTE_FIELD),
                "label": plain_text("What happened? What helped, or what is in the way?", MAX_LABEL_CHARS),
                "element": {
                    "type": "plain_text_input", "action_id": ANSWER, "multiline": true,
                    "max_length": max_chars,
                },
            },
        ],
    })
}

/// The follow-up a submitted note belongs to.
pub fn follow_up_of(private_metadata: &str) -> Option<i64> {
    serde_json::from_str::<Value>(private_metadata)
        .ok()?
        .get("follow_up")?
        .as_i64()
}

/// The submitted values by question id (an owner as `<id>.owner`): typed text, the
/// selected option's value, or the selected user. Empty inputs are left out.
pub fn submitted_values(state_values: &Value) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let Some(blocks) = state_values.as_object() else {
        return values;
    };
    for (block, actions) in blocks {
        let (Some(question), Some(element)) =
            (block.strip_prefix(BLOCK_PREFIX), actions.get(ANSWER))
        else {
            continue;
        };
        let value = element
            .get("value")
            .and_then(Value::as_str)
            .or_else(|| {
                element
                    .pointer("/selected_option/value")
                    .and_then(Value::as_str)
            })
            .or_else(|| {
                // A tick box: ticked, or absent when not.
                element
                    .pointer("/selected_options/0/value")
                    .and_then(Value::as_str)
            })
            .or_else(|| element.get("selected_user").and_then(Value::as_str))
            .or_else(|| element.get("selected_date").and_then(Value::as_str));
        if let Some(value) = value {
            values.insert(question.to_owned(), value.to_owned());
        }
    }
    values
}

/// The debrief id a submitted view belongs to.
pub fn debrief_of(private_metadata: &str) -> Option<i64> {
    serde_json::from_str::<Value>(private_metadata)
        .ok()?
        .get("debrief")?
        .as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::form::context;

    fn form() -> Form {
        Form {
            action: "debrief.reflection".into(),
            context: context([("debrief", json!(42))]),
            title: "A very long form title indeed".into(),
            heading: Some(Heading {
                title: "<!here> outage".into(),
                facts: vec![("Template".into(), "Retro".into())],
                note: "Answer what you can.".into(),
            }),
            fields: vec![
                Field::new("went_well", "What went well?", Input::text(500, true))
                    .required()
                    .holding(Some("deploys")),
                Field::new(
                    "mood",
                    "Mood?",
                    Input::one_of([("1", "1"), ("4", "4")], false),
                )
                .holding(Some("4")),
                Field::new("owner", "Owner", Input::Person).holding(Some("U2")),
                Field::new("on", "Closes on", Input::Date).holding(Some("2026-12-01")),
                Field::new(
                    "rest",
                    "Or:",
                    Input::Tick {
                        says: "Publish".into(),
                    },
                )
                .holding(Some(TICKED)),
            ],
            submit: "Save".into(),
        }
    }

    #[test]
    fn a_form_is_an_input_block_per_field_holding_its_value() {
        let view = form_view(&form());
        assert_eq!(view["callback_id"], "debrief.reflection");
        assert_eq!(
            debrief_of(view["private_metadata"].as_str().unwrap()),
            Some(42)
        );
        assert_eq!(view["title"]["text"].as_str().unwrap().chars().count(), 24);
        let blocks = view["blocks"].as_array().unwrap();
        let heading = blocks[0]["text"]["text"].as_str().unwrap();
        assert_eq!(
            heading, "*&lt;!here&gt; outage*\nTemplate: Retro\nAnswer what you can.",
            "the typed title is escaped, never a mention"
        );
        let ids: Vec<&str> = blocks[1..]
            .iter()
            .map(|b| b["block_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["q_went_well", "q_mood", "q_owner", "q_on", "q_rest"]);
        assert_eq!(blocks[1]["optional"], false);
        assert_eq!(blocks[1]["element"]["initial_value"], "deploys");
        assert_eq!(blocks[1]["element"]["multiline"], true);
        assert_eq!(blocks[2]["optional"], true);
        assert_eq!(blocks[2]["element"]["type"], "static_select");
        assert_eq!(blocks[2]["element"]["initial_option"]["value"], "4");
        assert_eq!(blocks[3]["element"]["initial_user"], "U2");
        assert_eq!(blocks[4]["element"]["initial_date"], "2026-12-01");
        assert_eq!(blocks[5]["element"]["type"], "checkboxes");
        assert_eq!(blocks[5]["element"]["initial_options"][0]["value"], TICKED);
        assert!(
            blocks[1..]
                .iter()
                .all(|b| b["element"]["action_id"] == ANSWER)
        );
    }

    #[test]
    fn a_list_of_choices_is_radio_buttons_with_descriptions_up_to_ten() {
        let choice = |n: usize| Choice {
            value: n.to_string(),
            label: format!("Choice {n}"),
            description: Some("what it is".into()),
        };
        let field = |count: usize| {
            Field::new(
                "pick",
                "Pick",
                Input::OneOf {
                    choices: (0..count).map(choice).collect(),
                    expanded: true,
                    placeholder: None,
                },
            )
            .holding(Some("1"))
        };
        let radio = element(&field(10));
        assert_eq!(radio["type"], "radio_buttons");
        assert_eq!(radio["options"][0]["description"]["text"], "what it is");
        assert_eq!(radio["initial_option"]["value"], "1");
        let select = element(&field(11));
        assert_eq!(select["type"], "static_select");
        assert!(select["options"][0].get("description").is_none());
        assert!(select["initial_option"].get("description").is_none());
    }

    #[test]
    fn submitted_values_read_every_element_kind() {
        let state = json!({
            "q_went_well": {"answer": {"type": "plain_text_input", "value": "deploys"}},
            "q_mood": {"answer": {"type": "static_select", "selected_option": {"value": "4"}}},
            "q_try_next": {"answer": {"type": "plain_text_input", "value": null}},
            "q_try_next.owner": {"answer": {"type": "users_select", "selected_user": "U2"}},
            "q_on": {"answer": {"type": "datepicker", "selected_date": "2026-12-01"}},
            "q_rest": {"answer": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
            "q_unticked": {"answer": {"type": "checkboxes", "selected_options": []}},
            "other": {"answer": {"value": "ignored"}}
        });
        let values = submitted_values(&state);
        let expected = [
            ("went_well", "deploys"),
            ("mood", "4"),
            ("try_next.owner", "U2"),
            ("on", "2026-12-01"),
            ("rest", "yes"),
        ];
        assert_eq!(
            values,
            expected
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>()
        );
    }
}
