//! A platform-neutral form: what the app asks a person to fill in, before it becomes a
//! Slack modal (`slack::modal::form_view`) or a Teams Adaptive Card
//! (`teams::form::form_card`). The app builds forms from its own values (templates,
//! review pages); the renderers know only this model, so `platform/` never imports
//! `app/`.
//!
//! A submitted form comes back as values by field id (`slack::modal::submitted_values`,
//! `teams::form::submitted_fields`) for the app to check, with the form's `context`.

use serde_json::{Map, Value};

/// One form.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    /// What submitting it means (Slack's `callback_id`, the Teams Save button's
    /// `action`), e.g. `debrief.reflection`.
    pub action: String,
    /// What the submission carries back besides the fields (a debrief id, a page):
    /// Slack's `private_metadata`, merged into the Teams button's `data`.
    pub context: Map<String, Value>,
    /// The window's title (a Slack modal's, a Teams card's summary): app text.
    pub title: String,
    /// What the form is about, above the fields.
    pub heading: Option<Heading>,
    pub fields: Vec<Field>,
    /// The submit button's label.
    pub submit: String,
}

/// What a form is about: a title a person typed, facts about it, and a note on how to
/// fill it in (app text with light markup).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Heading {
    /// Typed text (a debrief's title): drawn literally, never as markup.
    pub title: String,
    /// Label and value, e.g. ("Template", "Retrospective").
    pub facts: Vec<(String, String)>,
    pub note: String,
}

/// One input with its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The id its value comes back under.
    pub id: String,
    pub label: String,
    pub required: bool,
    pub input: Input,
    /// What it holds when the form opens (an earlier answer, a default).
    pub value: Option<String>,
    /// What was wrong with the last submission of it. Teams draws it under the field;
    /// Slack shows problems only in the response to a submission (`response_action`).
    pub problem: Option<String>,
}

/// What kind of input a field is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Typed text of at most `max_chars` characters.
    Text {
        max_chars: usize,
        multiline: bool,
        placeholder: Option<String>,
    },
    /// One of the choices: laid out as a list when `expanded` (radio buttons), else a
    /// drop-down.
    OneOf {
        choices: Vec<Choice>,
        expanded: bool,
        placeholder: Option<String>,
    },
    /// A person of the workspace (their platform user id). Teams offers only people of
    /// the roster it is given, so a form drawn without one leaves the field out.
    Person,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A single tick box saying `says`; its value is `yes` when ticked.
    Tick { says: String },
}

/// One choice of [`Input::OneOf`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What comes back when it is chosen.
    pub value: String,
    pub label: String,
    /// A line of explanation under or beside the label, where the platform has room.
    pub description: Option<String>,
}

/// The value a ticked [`Input::Tick`] comes back as.
pub const TICKED: &str = "yes";

impl Field {
    /// A field with no value yet and no problem.
    pub fn new(id: impl Into<String>, label: impl Into<String>, input: Input) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            required: false,
            input,
            value: None,
            problem: None,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Holds `value` when the form opens (nothing for `None` or an empty value).
    pub fn holding(mut self, value: Option<&str>) -> Self {
        self.value = value.filter(|v| !v.is_empty()).map(str::to_owned);
        self
    }

    /// Shows `problem` (if any) with the field.
    pub fn with_problem(mut self, problem: Option<&String>) -> Self {
        self.problem = problem.cloned();
        self
    }
}

impl Input {
    /// One line (or several, when `multiline`) of at most `max_chars` characters.
    pub fn text(max_chars: usize, multiline: bool) -> Self {
        Self::Text {
            max_chars,
            multiline,
            placeholder: None,
        }
    }

    /// A list (`expanded`) or drop-down of `(value, label)` choices.
    pub fn one_of<V: Into<String>, L: Into<String>>(
        choices: impl IntoIterator<Item = (V, L)>,
        expanded: bool,
    ) -> Self {
        Self::OneOf {
            choices: choices
                .into_iter()
                .map(|(value, label)| Choice {
                    value: value.into(),
                    label: label.into(),
                    description: None,
                })
                .collect(),
            expanded,
            placeholder: None,
        }
    }

    /// The same input with `placeholder` shown while it is empty.
    pub fn with_placeholder(mut self, text: &str) -> Self {
        match &mut self {
            Self::Text { placeholder, .. } | Self::OneOf { placeholder, .. } => {
                *placeholder = Some(text.to_owned());
            }
            Self::Person | Self::Date | Self::Tick { .. } => {}
        }
        self
    }
}

impl Form {
    /// The person fields' values: whoever the form already names (a renderer that
    /// offers a short list of people must offer them too).
    pub fn named_people(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|field| field.input == Input::Person)
            .filter_map(|field| field.value.as_deref())
    }
}

/// A form's context from `(key, value)` pairs.
pub fn context<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}
