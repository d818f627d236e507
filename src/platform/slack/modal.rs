//! The reflection form as a Slack modal, and reading its submitted values back.
//! <https://api.slack.com/surfaces/modals>

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::blocks::{mrkdwn, plain_text};
use crate::app::debrief::MAX_ITEM_CHARS;
use crate::app::debrief::review::{self, ReviewPage, Verdict};
use crate::app::debrief::start_form::{self, StartChoices, TemplateChoice};
use crate::app::templates::{Becomes, Question, QuestionKind};
use crate::store::LessonKind;

/// `callback_id` of the reflection modal.
pub const REFLECTION_CALLBACK: &str = "debrief.reflection";
/// Every input's `action_id`; the question is told by the block id.
const ANSWER: &str = "answer";
/// Block ids are `q_<question id>` (and `q_<question id>.owner` for an action's owner).
const BLOCK_PREFIX: &str = "q_";
/// Slack's limits: input labels 2000 characters, the modal's title 24.
const MAX_LABEL_CHARS: usize = 2000;
const MAX_TITLE_CHARS: usize = 24;
/// Slack's most radio buttons in one input.
const MAX_RADIO_OPTIONS: usize = 10;

/// The block id of a question's input (where `response_action: errors` points).
pub fn block_id(question_id: &str) -> String {
    format!("{BLOCK_PREFIX}{question_id}")
}

fn option(value: &str) -> Value {
    json!({"text": plain_text(value, 75), "value": value})
}

fn input(question: &Question, earlier: Option<&String>) -> Value {
    let mut element = match &question.kind {
        QuestionKind::Text { max_chars } => json!({
            "type": "plain_text_input", "action_id": ANSWER, "multiline": true,
            "max_length": max_chars,
        }),
        QuestionKind::Rating => json!({
            "type": "static_select", "action_id": ANSWER,
            "placeholder": plain_text("1 = low, 5 = high", 150),
            "options": (1..=5).map(|n| option(&n.to_string())).collect::<Vec<_>>(),
        }),
        QuestionKind::Choice(choices) => json!({
            "type": "static_select", "action_id": ANSWER,
            "options": choices.iter().map(|c| option(c)).collect::<Vec<_>>(),
        }),
    };
    if let Some(earlier) = earlier {
        match question.kind {
            QuestionKind::Text { .. } => element["initial_value"] = json!(earlier),
            _ => element["initial_option"] = option(earlier),
        }
    }
    json!({
        "type": "input",
        "block_id": block_id(&question.id),
        "optional": !question.required,
        "label": plain_text(&question.prompt, MAX_LABEL_CHARS),
        "element": element,
    })
}

fn owner_input(question: &Question, earlier: Option<&String>, anonymous: bool) -> Value {
    let mut element = json!({"type": "users_select", "action_id": ANSWER});
    if let Some(user) = earlier {
        element["initial_user"] = json!(user);
    }
    json!({
        "type": "input",
        "block_id": block_id(&format!("{}.owner", question.id)),
        "optional": true,
        "label": plain_text(
            if anonymous {
                // Anonymous debriefs store no author to fall back on, and picking
                // yourself would put your name next to your answer.
                "Who owns these actions? (Nobody yet, if nobody is picked.)"
            } else {
                "Who owns these actions? (You, if nobody is picked.)"
            },
            MAX_LABEL_CHARS,
        ),
        "element": element,
    })
}

/// The `view` for `views.open`: one input per question, filled with `earlier` answers.
pub fn reflection_view(
    debrief_id: i64,
    title: &str,
    intro: &str,
    questions: &[Question],
    earlier: &BTreeMap<String, String>,
    anonymous: bool,
) -> Value {
    let mut blocks = vec![json!({
        "type": "section",
        "text": mrkdwn(intro, 3000),
    })];
    for question in questions {
        blocks.push(input(question, earlier.get(&question.id)));
        if question.becomes == Some(Becomes::Action) {
            blocks.push(owner_input(
                question,
                earlier.get(&format!("{}.owner", question.id)),
                anonymous,
            ));
        }
    }
    json!({
        "type": "modal",
        "callback_id": REFLECTION_CALLBACK,
        "private_metadata": json!({"debrief": debrief_id}).to_string(),
        "title": plain_text(title, MAX_TITLE_CHARS),
        "submit": plain_text("Save", MAX_TITLE_CHARS),
        "close": plain_text("Cancel", MAX_TITLE_CHARS),
        "blocks": blocks,
    })
}

/// The start form (`/debrief` alone) for `channel`: title, template with its
/// description, anonymous or not, and when it closes. Its blocks are `q_<field>`, so
/// [`submitted_values`] reads it as it reads a reflection.
pub fn start_view(choices: &StartChoices, channel: &str) -> Value {
    let template_option = |t: &TemplateChoice| {
        let mut option = json!({"text": plain_text(&t.title, 75), "value": t.name});
        if !t.description.is_empty() {
            option["description"] = plain_text(&t.description, 75);
        }
        option
    };
    let templates: Vec<Value> = choices.templates.iter().map(template_option).collect();
    // Radio buttons show each template's description, but Slack allows ten of them.
    let mut template_select = if templates.len() <= MAX_RADIO_OPTIONS {
        json!({"type": "radio_buttons", "action_id": ANSWER, "options": templates})
    } else {
        let options: Vec<Value> = templates
            .iter()
            .map(|o| json!({"text": o["text"], "value": o["value"]}))
            .collect();
        json!({"type": "static_select", "action_id": ANSWER, "options": options})
    };
    if let Some(default) = choices
        .templates
        .iter()
        .find(|t| t.name == choices.default_template)
    {
        let mut initial = template_option(default);
        if template_select["type"] == "static_select"
            && let Some(option) = initial.as_object_mut()
        {
            option.remove("description");
        }
        template_select["initial_option"] = initial;
    }
    let yes_no = [
        ("no", "No: names are shown"),
        ("yes", "Yes: names are never shown or stored"),
    ];
    let yes_no: Vec<Value> = yes_no
        .iter()
        .map(|(value, label)| json!({"text": plain_text(label, 75), "value": value}))
        .collect();
    let closes: Vec<Value> = start_form::CLOSES_IN_CHOICES
        .iter()
        .map(|(value, label)| json!({"text": plain_text(label, 75), "value": value}))
        .collect();
    let input = |field: &str, label: &str, optional: bool, element: Value| {
        json!({
            "type": "input", "block_id": block_id(field), "optional": optional,
            "label": plain_text(label, MAX_LABEL_CHARS), "element": element,
        })
    };
    json!({
        "type": "modal",
        "callback_id": start_form::START_FORM_CALLBACK,
        "private_metadata": json!({"channel": channel}).to_string(),
        "title": plain_text("Start a debrief", MAX_TITLE_CHARS),
        "submit": plain_text("Start", MAX_TITLE_CHARS),
        "close": plain_text("Cancel", MAX_TITLE_CHARS),
        "blocks": [
            input(start_form::TITLE, "Title", false, json!({
                "type": "plain_text_input", "action_id": ANSWER,
                "max_length": crate::app::command::MAX_TITLE_CHARS,
                "placeholder": plain_text("Release 2.3 rollout", 150),
            })),
            input(start_form::TEMPLATE, "Template", false, template_select),
            input(start_form::ANONYMOUS, "Anonymous? (A template may already be.)", true, json!({
                "type": "radio_buttons", "action_id": ANSWER, "options": yes_no,
            })),
            input(start_form::CLOSES_IN, "Closes", true, json!({
                "type": "static_select", "action_id": ANSWER, "options": closes,
                "initial_option": closes[0],
            })),
            input(start_form::CLOSES_ON, "Closing date (if it closes on a date)", true, json!({
                "type": "datepicker", "action_id": ANSWER,
            })),
        ],
    })
}

/// One page of the facilitator's review at close: per candidate its text (editable),
/// keep / drop / kudos, and an owner picker for actions. Fields are `q_<field>` blocks,
/// so [`submitted_values`] reads them.
pub fn review_view(page: &ReviewPage) -> Value {
    let verdict_option = |verdict: Verdict| {
        let label = review::VERDICTS
            .iter()
            .find(|(v, _)| *v == verdict)
            .map_or("Keep", |(_, label)| label);
        json!({"text": plain_text(label, 75), "value": verdict.as_str()})
    };
    let intro = format!(
        "*{}* · {}",
        crate::platform::plain(&page.title),
        page.intro()
    );
    let mut blocks = vec![json!({"type": "section", "text": mrkdwn(&intro, 3000)})];
    for candidate in &page.candidates {
        blocks.push(json!({
            "type": "input", "block_id": block_id(&review::text_field(&candidate.key)),
            "label": plain_text(&candidate.label(), MAX_LABEL_CHARS),
            "element": {"type": "plain_text_input", "action_id": ANSWER,
                        "initial_value": candidate.shown_text(), "max_length": MAX_ITEM_CHARS},
        }));
        let options: Vec<Value> = review::VERDICTS
            .iter()
            .map(|(verdict, _)| verdict_option(*verdict))
            .collect();
        blocks.push(json!({
            "type": "input", "block_id": block_id(&review::verdict_field(&candidate.key)),
            "optional": true,
            "label": plain_text("Keep it?", MAX_LABEL_CHARS),
            "element": {"type": "radio_buttons", "action_id": ANSWER, "options": options,
                        "initial_option": verdict_option(candidate.verdict())},
        }));
        if candidate.kind == LessonKind::Action {
            let mut picker = json!({"type": "users_select", "action_id": ANSWER});
            if let Some(owner) = candidate.shown_owner() {
                picker["initial_user"] = json!(owner);
            }
            blocks.push(json!({
                "type": "input", "block_id": block_id(&review::owner_field(&candidate.key)),
                "optional": true,
                "label": plain_text("Owner", MAX_LABEL_CHARS),
                "element": picker,
            }));
        }
    }
    if !page.is_last() {
        blocks.push(json!({
            "type": "input", "block_id": block_id(review::PUBLISH_REST), "optional": true,
            "label": plain_text("Or, instead of the next page:", MAX_LABEL_CHARS),
            "element": {"type": "radio_buttons", "action_id": ANSWER, "options": [
                {"text": plain_text("Publish the rest as they are and close now", 75),
                 "value": "yes"}]},
        }));
    }
    json!({
        "type": "modal",
        "callback_id": review::REVIEW_CALLBACK,
        "private_metadata": json!({"debrief": page.debrief, "page": page.page}).to_string(),
        "title": plain_text("Review and close", MAX_TITLE_CHARS),
        "submit": plain_text(&page.submit_label(), MAX_TITLE_CHARS),
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

    fn questions() -> Vec<Question> {
        crate::app::templates::sample_questions()
    }

    #[test]
    fn the_view_has_an_input_per_question_and_an_owner_for_actions() {
        let earlier = BTreeMap::from([("mood".to_owned(), "4".to_owned())]);
        let view = reflection_view(
            42,
            "A very long debrief title indeed",
            "intro",
            &questions(),
            &earlier,
            false,
        );
        assert_eq!(view["callback_id"], REFLECTION_CALLBACK);
        assert_eq!(
            debrief_of(view["private_metadata"].as_str().unwrap()),
            Some(42)
        );
        assert_eq!(view["title"]["text"].as_str().unwrap().chars().count(), 24);
        let blocks = view["blocks"].as_array().unwrap();
        let ids: Vec<&str> = blocks[1..]
            .iter()
            .map(|b| b["block_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["q_went_well", "q_mood", "q_try_next", "q_try_next.owner"]
        );
        assert_eq!(blocks[1]["optional"], false);
        assert_eq!(blocks[2]["element"]["initial_option"]["value"], "4");
    }

    #[test]
    fn submitted_values_read_every_element_kind() {
        let state = json!({
            "q_went_well": {"answer": {"type": "plain_text_input", "value": "deploys"}},
            "q_mood": {"answer": {"type": "static_select", "selected_option": {"value": "4"}}},
            "q_try_next": {"answer": {"type": "plain_text_input", "value": null}},
            "q_try_next.owner": {"answer": {"type": "users_select", "selected_user": "U2"}},
            "other": {"answer": {"value": "ignored"}}
        });
        let values = submitted_values(&state);
        assert_eq!(
            values,
            BTreeMap::from([
                ("went_well".to_owned(), "deploys".to_owned()),
                ("mood".to_owned(), "4".to_owned()),
                ("try_next.owner".to_owned(), "U2".to_owned()),
            ])
        );
    }
}
