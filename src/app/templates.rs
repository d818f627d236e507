//! Debrief templates: the built-in ones compiled in, plus `*.toml` files from the
//! templates directory (a file with a built-in's name replaces it). Every template is
//! validated at start; a broken one stops the service with the file, line and reason.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The templates shipped with learnloop, as `(file name, text)`.
const BUILT_IN: &[(&str, &str)] = &[
    ("aar.toml", include_str!("../../config/templates/aar.toml")),
    (
        "retro.toml",
        include_str!("../../config/templates/retro.toml"),
    ),
    (
        "project.toml",
        include_str!("../../config/templates/project.toml"),
    ),
    (
        "checkin.toml",
        include_str!("../../config/templates/checkin.toml"),
    ),
    (
        "failure-story.toml",
        include_str!("../../config/templates/failure-story.toml"),
    ),
];

/// Slack's limits that a template must fit: input labels, option texts, options per menu.
const MAX_PROMPT_CHARS: usize = 300;
const MAX_CHOICE_CHARS: usize = 75;
const MAX_CHOICES: usize = 10;
const MAX_QUESTIONS: usize = 20;
/// Longest answer a text question may allow (a Slack section holds 3000 characters).
const MAX_TEXT_CHARS: usize = 3000;
/// A description sits beside the template's name in Slack's menu, whose option
/// descriptions hold 75 characters.
const MAX_DESCRIPTION_CHARS: usize = 75;
/// The roles a question may have, as said in errors.
const ROLES: &str = "lesson, action, kudos, intention, text, rating or choice";

/// A template that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub file: String,
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "template {}:{line}: {}", self.file, self.reason),
            None => write!(f, "template {}: {}", self.file, self.reason),
        }
    }
}

impl std::error::Error for TemplateError {}

/// What an answer to a text question becomes once the debrief closes. Only lessons and
/// actions are candidates for follow-ups; kudos are celebrated in the summary and the
/// digest; an intention is what a person means to try, asked about next time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum Becomes {
    Lesson,
    Action,
    Kudos,
    Intention,
}

impl Becomes {
    /// Whether its answers are lessons or actions someone may be asked about later.
    pub fn is_candidate(self) -> bool {
        matches!(self, Self::Lesson | Self::Action)
    }
}

/// How a question is answered.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum QuestionKind {
    Text {
        max_chars: usize,
    },
    /// 1 to 5.
    Rating,
    Choice(Vec<String>),
}

/// One question; serialized into each debrief, which keeps the questions it started with.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Question {
    pub id: String,
    pub prompt: String,
    pub kind: QuestionKind,
    pub required: bool,
    pub becomes: Option<Becomes>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub name: String,
    pub title: String,
    pub description: String,
    /// Debriefs with it are anonymous unless the person starting one says otherwise.
    pub anonymous: bool,
    pub questions: Vec<Question>,
}

/// Every usable template, by name.
#[derive(Clone, Debug)]
pub struct Templates {
    by_name: BTreeMap<String, Template>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: Spanned<String>,
    title: String,
    description: Option<Spanned<String>>,
    #[serde(default)]
    anonymous: bool,
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    prompt: Spanned<String>,
    /// `lesson`, `action`, `kudos`, `intention` (text questions whose answers become
    /// that), or `text`, `rating`, `choice`. Older files say `kind` and `becomes`.
    role: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    required: bool,
    becomes: Option<Spanned<String>>,
    choices: Option<Spanned<Vec<String>>>,
    max_length: Option<Spanned<usize>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses and checks one template file.
fn parse(file: &str, text: &str) -> Result<Template, TemplateError> {
    let error = |span: Option<std::ops::Range<usize>>, reason: String| TemplateError {
        file: file.to_owned(),
        line: span.map(|s| line_of(text, s.start)),
        reason,
    };
    let raw: RawTemplate =
        toml::from_str(text).map_err(|e| error(e.span(), e.message().to_owned()))?;
    let name = raw.name.get_ref().trim().to_owned();
    let stem = file.trim_end_matches(".toml");
    if name != stem {
        return Err(error(
            Some(raw.name.span()),
            format!("the name `{name}` must match the file name `{stem}.toml`"),
        ));
    }
    if super::command::TemplateName::parse(&name).is_err() {
        return Err(error(
            Some(raw.name.span()),
            format!("`{name}` is not a template name (lowercase letters, digits, `-` and `_`)"),
        ));
    }
    if raw.title.trim().is_empty() {
        return Err(error(None, "the title is empty".into()));
    }
    if raw.questions.is_empty() || raw.questions.len() > MAX_QUESTIONS {
        return Err(error(
            None,
            format!("a template has 1 to {MAX_QUESTIONS} questions"),
        ));
    }
    let mut questions: Vec<Question> = Vec::with_capacity(raw.questions.len());
    for q in raw.questions {
        let id = q.id.get_ref().clone();
        let id_ok = !id.is_empty()
            && id.len() <= 40
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !id_ok {
            return Err(error(
                Some(q.id.span()),
                format!("question id `{id}` must be 1-40 of a-z, 0-9, _"),
            ));
        }
        if questions.iter().any(|other| other.id == id) {
            return Err(error(
                Some(q.id.span()),
                format!("question id `{id}` is used twice"),
            ));
        }
        let prompt = q.prompt.get_ref().trim().to_owned();
        if prompt.is_empty() || prompt.chars().count() > MAX_PROMPT_CHARS {
            return Err(error(
                Some(q.prompt.span()),
                format!("question `{id}` needs a prompt of 1 to {MAX_PROMPT_CHARS} characters"),
            ));
        }
        let (kind_name, kind_span, role_becomes) =
            role_of(&id, &q).map_err(|(span, reason)| error(span, reason))?;
        let kind = match (kind_name.as_str(), &q.choices) {
            ("text", None) => {
                let max_chars = q
                    .max_length
                    .as_ref()
                    .map_or(MAX_TEXT_CHARS, |m| *m.get_ref());
                if max_chars == 0 || max_chars > MAX_TEXT_CHARS {
                    let span = q.max_length.as_ref().map(Spanned::span);
                    return Err(error(
                        span,
                        format!("max_length must be 1 to {MAX_TEXT_CHARS}"),
                    ));
                }
                QuestionKind::Text { max_chars }
            }
            ("rating", None) => QuestionKind::Rating,
            ("choice", Some(choices)) => {
                let list = choices.get_ref();
                let valid = (2..=MAX_CHOICES).contains(&list.len())
                    && list
                        .iter()
                        .all(|c| !c.trim().is_empty() && c.chars().count() <= MAX_CHOICE_CHARS);
                if !valid {
                    return Err(error(
                        Some(choices.span()),
                        format!(
                            "question `{id}` needs 2 to {MAX_CHOICES} choices of 1 to {MAX_CHOICE_CHARS} characters"
                        ),
                    ));
                }
                QuestionKind::Choice(list.clone())
            }
            ("choice", None) => {
                return Err(error(
                    Some(kind_span.clone()),
                    format!("choice question `{id}` has no `choices`"),
                ));
            }
            ("text" | "rating", Some(choices)) => {
                return Err(error(
                    Some(choices.span()),
                    format!("only choice questions have `choices` (`{id}`)"),
                ));
            }
            (other, _) => {
                return Err(error(
                    Some(kind_span.clone()),
                    format!("question `{id}` has kind `{other}`; use text, rating or choice"),
                ));
            }
        };
        if q.max_length.is_some() && !matches!(kind, QuestionKind::Text { .. }) {
            let span = q.max_length.as_ref().map(Spanned::span);
            return Err(error(
                span,
                format!("only text questions have `max_length` (`{id}`)"),
            ));
        }
        let becomes = match q.becomes.as_ref().map(|b| (b.get_ref().as_str(), b.span())) {
            None => role_becomes,
            Some((_, span)) if !matches!(kind, QuestionKind::Text { .. }) => {
                return Err(error(
                    Some(span),
                    format!("only text answers can become lessons or actions (`{id}`)"),
                ));
            }
            Some((name, span)) => Some(becomes_named(name).ok_or_else(|| {
                error(
                    Some(span),
                    format!("`becomes = \"{name}\"`: use lesson, action, kudos or intention"),
                )
            })?),
        };
        questions.push(Question {
            id,
            prompt,
            kind,
            required: q.required,
            becomes,
        });
    }
    let description = match &raw.description {
        None => String::new(),
        Some(spanned) => {
            let text = spanned.get_ref().trim();
            if text.contains('\n') || text.chars().count() > MAX_DESCRIPTION_CHARS {
                return Err(error(
                    Some(spanned.span()),
                    format!(
                        "the description is one line of at most {MAX_DESCRIPTION_CHARS} characters (it is shown beside the template's name in the start form)"
                    ),
                ));
            }
            text.to_owned()
        }
    };
    Ok(Template {
        name,
        title: raw.title.trim().to_owned(),
        description,
        anonymous: raw.anonymous,
        questions,
    })
}

fn becomes_named(name: &str) -> Option<Becomes> {
    Some(match name {
        "lesson" => Becomes::Lesson,
        "action" => Becomes::Action,
        "kudos" => Becomes::Kudos,
        "intention" => Becomes::Intention,
        _ => return None,
    })
}

/// A problem with a question, and where it is.
type QuestionProblem = (Option<std::ops::Range<usize>>, String);

/// A question's kind (`text`, `rating` or `choice`), where it was said, and what its
/// `role` makes of its answers. `role` is the newer word for `kind` + `becomes`.
fn role_of(
    id: &str,
    q: &RawQuestion,
) -> Result<(String, std::ops::Range<usize>, Option<Becomes>), QuestionProblem> {
    match (&q.role, &q.kind) {
        (Some(role), None) => {
            if let Some(becomes) = &q.becomes {
                return Err((
                    Some(becomes.span()),
                    format!(
                        "question `{id}` has a `role`, which already says what its answers become; remove `becomes`"
                    ),
                ));
            }
            let span = role.span();
            let name = role.get_ref().as_str();
            match name {
                "text" | "rating" | "choice" => Ok((name.to_owned(), span, None)),
                _ => match becomes_named(name) {
                    Some(becomes) => Ok(("text".to_owned(), span, Some(becomes))),
                    None => Err((
                        Some(span),
                        format!("question `{id}` has role `{name}`; use {ROLES}"),
                    )),
                },
            }
        }
        // An unknown kind is reported by the caller, with the kinds there are.
        (None, Some(kind)) => Ok((kind.get_ref().clone(), kind.span(), None)),
        (Some(role), Some(_)) => Err((
            Some(role.span()),
            format!("question `{id}` has both `role` and `kind`; `role` alone says it"),
        )),
        (None, None) => Err((None, format!("question `{id}` needs a `role`: {ROLES}"))),
    }
}

impl Templates {
    /// The built-in templates only.
    pub fn built_in() -> Result<Self, TemplateError> {
        let mut by_name = BTreeMap::new();
        for (file, text) in BUILT_IN {
            let template = parse(file, text)?;
            by_name.insert(template.name.clone(), template);
        }
        Ok(Self { by_name })
    }

    /// The built-ins plus every `*.toml` in `dir`; a file named like a built-in replaces it.
    /// A missing directory means built-ins only.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let mut templates = Self::built_in()?;
        let Ok(entries) = std::fs::read_dir(dir) else {
            tracing::info!(dir = %dir.display(), "no templates directory; using the built-in templates");
            return Ok(templates);
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for path in files {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| TemplateError {
                file: path.display().to_string(),
                line: None,
                reason: e.to_string(),
            })?;
            let template = parse(&file, &text).map_err(|e| TemplateError {
                file: path.display().to_string(),
                ..e
            })?;
            templates.by_name.insert(template.name.clone(), template);
        }
        Ok(templates)
    }

    pub fn get(&self, name: &str) -> Option<&Template> {
        self.by_name.get(name)
    }

    /// Loads like [`Templates::load`] and checks that `default` (the template of a
    /// `/debrief` without `--template`) is one of them.
    pub fn load_with_default(dir: &Path, default: &str) -> Result<Self, TemplateError> {
        let templates = Self::load(dir)?;
        if templates.get(default).is_none() {
            return Err(TemplateError {
                file: "configuration".into(),
                line: None,
                reason: format!(
                    "debriefs.default_template `{default}` is not a template; available: {}",
                    templates.names().join(", ")
                ),
            });
        }
        Ok(templates)
    }

    /// Template names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.by_name.keys().map(String::as_str).collect()
    }
}

/// Three questions covering every role, for tests of what is built from templates.
#[cfg(test)]
pub(crate) fn sample_questions() -> Vec<Question> {
    vec![
        Question {
            id: "went_well".into(),
            prompt: "What went well?".into(),
            kind: QuestionKind::Text { max_chars: 500 },
            required: true,
            becomes: Some(Becomes::Lesson),
        },
        Question {
            id: "mood".into(),
            prompt: "Mood?".into(),
            kind: QuestionKind::Rating,
            required: false,
            becomes: None,
        },
        Question {
            id: "try_next".into(),
            prompt: "Try next?".into(),
            kind: QuestionKind::Text { max_chars: 500 },
            required: false,
            becomes: Some(Becomes::Action),
        },
    ]
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
