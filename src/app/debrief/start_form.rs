//! The start form: `/debrief` with no title (`@learnloop debrief` on Teams) asks for
//! the title, the template (each with its description), whether it is anonymous, and
//! when it closes. Each platform renders the same choices (a Slack modal, a Teams
//! Adaptive Card) and hands the submitted values back here to be checked.

use crate::app::AppError;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::json;

use super::StartRequest;
use crate::app::command::{MAX_TITLE_CHARS, PauseDuration};
use crate::app::handle::{CommandContext, Handled};
use crate::app::templates::Templates;
use crate::platform::form::context;
use crate::platform::{Choice, Field, Form, Input, Message};

/// `callback_id` of the Slack modal and `action` of the Teams card's Start button.
pub const START_FORM_CALLBACK: &str = "debrief.start_form";

/// The form's fields, by id.
pub const TITLE: &str = "title";
pub const TEMPLATE: &str = "template";
pub const ANONYMOUS: &str = "anonymous";
pub const CLOSES_IN: &str = "closes_in";
pub const CLOSES_ON: &str = "closes_on";

/// The "closes in" choices: value and label. `date` takes the date field.
pub const CLOSES_IN_CHOICES: &[(&str, &str)] = &[
    ("none", "When I close it"),
    ("1d", "In 1 day"),
    ("2d", "In 2 days"),
    ("1w", "In 1 week"),
    ("date", "On the date below (17:00)"),
];

/// A template as the form offers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateChoice {
    pub name: String,
    pub title: String,
    pub description: String,
    pub anonymous: bool,
}

/// What the form offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartChoices {
    pub templates: Vec<TemplateChoice>,
    /// The template picked unless the person picks another.
    pub default_template: String,
}

impl StartChoices {
    /// Every template (but the personal check-in) in name order.
    pub fn of(ctx: &CommandContext<'_>) -> Self {
        Self::from_templates(ctx.templates, &ctx.debriefs.default_template)
    }

    pub fn from_templates(templates: &Templates, default_template: &str) -> Self {
        let templates = templates
            .names()
            .into_iter()
            .filter(|name| *name != crate::app::checkins::TEMPLATE)
            .filter_map(|name| templates.get(name))
            .map(|t| TemplateChoice {
                name: t.name.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                anonymous: t.anonymous,
            })
            .collect();
        Self {
            templates,
            default_template: default_template.to_owned(),
        }
    }
}

/// The anonymity choice that leaves it to the template.
const AS_THE_TEMPLATE_SAYS: &str = "template";

/// The start form for `choices`, holding `earlier` values (a submission shown again)
/// with `problems` by field id. A Slack modal carries the `channel` it was opened in
/// (a Teams card is submitted in its conversation).
pub fn form(
    choices: &StartChoices,
    earlier: &BTreeMap<String, String>,
    problems: &BTreeMap<String, String>,
    channel: Option<&str>,
) -> Form {
    let templates = choices
        .templates
        .iter()
        .map(|t| Choice {
            value: t.name.clone(),
            label: t.title.clone(),
            description: Some(t.description.clone()).filter(|d| !d.is_empty()),
        })
        .collect();
    let anonymity = [
        (AS_THE_TEMPLATE_SAYS, "As the template says"),
        ("no", "No: names are shown"),
        ("yes", "Yes: names are never shown or stored"),
    ];
    let fields = [
        Field::new(
            TITLE,
            "Title",
            Input::text(MAX_TITLE_CHARS, false).with_placeholder("Release 2.3 rollout"),
        )
        .required(),
        Field::new(
            TEMPLATE,
            "Template",
            Input::OneOf {
                choices: templates,
                expanded: true,
                placeholder: None,
            },
        )
        .required(),
        Field::new(ANONYMOUS, "Anonymous?", Input::one_of(anonymity, true)),
        Field::new(
            CLOSES_IN,
            "Closes",
            Input::one_of(CLOSES_IN_CHOICES.iter().copied(), false),
        ),
        Field::new(
            CLOSES_ON,
            "Closing date (if it closes on a date)",
            Input::Date,
        ),
    ];
    let defaults = [
        (TEMPLATE, choices.default_template.as_str()),
        (ANONYMOUS, AS_THE_TEMPLATE_SAYS),
        (CLOSES_IN, "none"),
    ];
    let fields = fields
        .into_iter()
        .map(|field| {
            let default = defaults
                .iter()
                .find(|(id, _)| *id == field.id)
                .map_or("", |(_, value)| value);
            let value = earlier.get(&field.id).map_or(default, String::as_str);
            let problem = problems.get(&field.id);
            field.holding(Some(value)).with_problem(problem)
        })
        .collect();
    Form {
        action: START_FORM_CALLBACK.to_owned(),
        context: channel.map_or_else(Default::default, |channel| {
            context([("channel", json!(channel))])
        }),
        title: "Start a debrief".to_owned(),
        heading: None,
        fields,
        submit: "Start".to_owned(),
    }
}

/// `/debrief` alone. The platform's handler opens the form itself (a Slack modal needs
/// the command's trigger); this is what is said where no form can open (a DM).
pub fn start_form(ctx: &CommandContext<'_>) -> Result<Handled, AppError> {
    if ctx.in_direct_message() {
        return Ok(super::not_in_a_dm().into());
    }
    Ok(Message::text(
        "Give the debrief a title: `/debrief Release 2.3 rollout` (options: `--template NAME`, \
         `--anonymous`, `--closes-in 2d`).",
    )
    .into())
}

/// A filled-in form, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartFields {
    pub title: String,
    pub template: String,
    pub anonymous: bool,
    pub closes_in: Option<PauseDuration>,
}

impl StartFields {
    pub fn request(&self) -> StartRequest<'_> {
        StartRequest {
            title: &self.title,
            template: Some(&self.template),
            anonymous: Some(self.anonymous),
            closes_in: self.closes_in,
        }
    }
}

/// Reads the submitted values (by field id): the fields, or what is wrong by field.
pub fn read_start_form(
    values: &BTreeMap<String, String>,
    choices: &StartChoices,
) -> Result<StartFields, BTreeMap<String, String>> {
    let mut problems = BTreeMap::new();
    let field = |id: &str| values.get(id).map(|v| v.trim()).unwrap_or_default();
    let title = field(TITLE).to_owned();
    if title.is_empty() {
        problems.insert(TITLE.to_owned(), "Give the debrief a title.".to_owned());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        problems.insert(
            TITLE.to_owned(),
            format!("Keep the title to {MAX_TITLE_CHARS} characters."),
        );
    }
    let template = match field(TEMPLATE) {
        "" => choices.default_template.clone(),
        name => name.to_owned(),
    };
    let Some(chosen) = choices.templates.iter().find(|t| t.name == template) else {
        problems.insert(TEMPLATE.to_owned(), "Pick one of the templates.".to_owned());
        return Err(problems);
    };
    let anonymous = match field(ANONYMOUS) {
        "" | AS_THE_TEMPLATE_SAYS => chosen.anonymous,
        answer => answer == "yes",
    };
    let closes_in = match field(CLOSES_IN) {
        "" | "none" => None,
        "1d" => Some(PauseDuration::Days(1)),
        "2d" => Some(PauseDuration::Days(2)),
        "1w" => Some(PauseDuration::Days(7)),
        "date" => match NaiveDate::parse_from_str(field(CLOSES_ON), "%Y-%m-%d") {
            Ok(date) => Some(PauseDuration::Until(date)),
            Err(_) => {
                problems.insert(
                    CLOSES_ON.to_owned(),
                    "Pick the date it closes, or another choice above.".to_owned(),
                );
                None
            }
        },
        _ => {
            problems.insert(CLOSES_IN.to_owned(), "Pick when it closes.".to_owned());
            None
        }
    };
    if problems.is_empty() {
        Ok(StartFields {
            title,
            template,
            anonymous,
            closes_in,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices() -> StartChoices {
        let template = |name: &str, anonymous| TemplateChoice {
            name: name.into(),
            title: name.into(),
            description: String::new(),
            anonymous,
        };
        StartChoices {
            templates: vec![template("retro", false), template("failure-story", true)],
            default_template: "retro".into(),
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_filled_form_reads_into_a_request() {
        let fields = read_start_form(
            &values(&[
                (TITLE, " Release 2.3 "),
                (TEMPLATE, "failure-story"),
                (CLOSES_IN, "2d"),
            ]),
            &choices(),
        )
        .unwrap();
        assert_eq!(fields.title, "Release 2.3");
        assert!(fields.anonymous, "the template's default");
        assert_eq!(fields.closes_in, Some(PauseDuration::Days(2)));
        let named = read_start_form(
            &values(&[(TITLE, "x"), (TEMPLATE, "failure-story"), (ANONYMOUS, "no")]),
            &choices(),
        )
        .unwrap();
        assert!(!named.anonymous, "said no");
        assert_eq!(named.template, "failure-story");
        let left_to_it = read_start_form(
            &values(&[
                (TITLE, "x"),
                (TEMPLATE, "failure-story"),
                (ANONYMOUS, AS_THE_TEMPLATE_SAYS),
            ]),
            &choices(),
        )
        .unwrap();
        assert!(left_to_it.anonymous, "the template's, as the form offers");
    }

    #[test]
    fn the_form_opens_on_the_defaults_and_shows_a_submission_again_with_its_problems() {
        let none = BTreeMap::new();
        let fresh = form(&choices(), &none, &none, Some("C1"));
        let value = |form: &Form, id: &str| {
            let field = form.fields.iter().find(|f| f.id == id).unwrap();
            field.value.clone()
        };
        assert_eq!(value(&fresh, TEMPLATE).as_deref(), Some("retro"));
        assert_eq!(
            value(&fresh, ANONYMOUS).as_deref(),
            Some(AS_THE_TEMPLATE_SAYS)
        );
        assert_eq!(value(&fresh, CLOSES_IN).as_deref(), Some("none"));
        assert_eq!(value(&fresh, TITLE), None);
        assert_eq!(fresh.context["channel"], "C1");
        let submitted = values(&[(TITLE, "Outage"), (CLOSES_IN, "date")]);
        let problems = read_start_form(&submitted, &choices()).unwrap_err();
        let again = form(&choices(), &submitted, &problems, None);
        assert_eq!(value(&again, TITLE).as_deref(), Some("Outage"));
        assert_eq!(value(&again, CLOSES_IN).as_deref(), Some("date"));
        let closes_on = again.fields.iter().find(|f| f.id == CLOSES_ON).unwrap();
        assert!(
            closes_on
                .problem
                .as_ref()
                .unwrap()
                .contains("Pick the date")
        );
        assert!(again.context.is_empty(), "a Teams card carries no channel");
    }

    #[test]
    fn mistakes_are_told_by_field() {
        let problems = read_start_form(&values(&[(CLOSES_IN, "date")]), &choices()).unwrap_err();
        assert!(problems.contains_key(TITLE));
        assert!(problems.contains_key(CLOSES_ON));
        let problems =
            read_start_form(&values(&[(TITLE, "x"), (TEMPLATE, "nope")]), &choices()).unwrap_err();
        assert!(problems.contains_key(TEMPLATE));
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        let problems = read_start_form(&values(&[(TITLE, &long)]), &choices()).unwrap_err();
        assert!(problems[TITLE].contains("Keep the title"));
    }
}
