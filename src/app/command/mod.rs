//! The command grammar of `/learn` and `/debrief` (and of the same words sent to the
//! bot as a message). Text is parsed once into a typed [`Command`]; any mistake becomes
//! a [`UsageError`] that says what was wrong and shows the right form.

use chrono::NaiveDate;

use super::tokens::{Token, UnclosedQuote, tokenize};
use super::usage::{self, Usage};

mod options;
mod personal;

use options::{parse_debrief, parse_retro};
use personal::{
    parse_checkin, parse_credit, parse_digest, parse_goal, parse_mentor, parse_mentors,
    parse_pause, parse_unschedule,
};

/// Longest debrief title; Slack headers hold 150 characters.
pub const MAX_TITLE_CHARS: usize = 150;
/// Longest close-by time a debrief may have: a month is long past the time to reflect.
pub const MAX_CLOSES_IN_DAYS: u32 = 31;
/// Longest goal text.
pub const MAX_GOAL_CHARS: usize = 500;
/// Longest schedule text worth reading.
const MAX_SCHEDULE_CHARS: usize = 100;
/// Longest pause; beyond it people should turn check-ins off instead.
const MAX_PAUSE_DAYS: u32 = 365;

/// A parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Help {
        topic: Option<&'static [Usage]>,
    },
    Debrief(DebriefCommand),
    Lessons {
        query: Option<String>,
    },
    Followups,
    Goal(GoalCommand),
    Checkin(CheckinCommand),
    Retro {
        schedule: ScheduleText,
        template: Option<TemplateName>,
        /// Overrides the workspace's zone for this schedule.
        zone: Option<chrono_tz::Tz>,
    },
    Digest(DigestCommand),
    Schedules,
    Unschedule {
        id: i64,
    },
    Pause(PauseDuration),
    Resume,
    Mentor(MentorCommand),
    /// Lists the people who offer to be asked, on one topic or all.
    Mentors {
        topic: Option<String>,
    },
    /// Whether the quarterly recap may name me among the most active.
    Credit {
        named: bool,
    },
}

impl Command {
    /// Whether it can be answered in public, in the channel it was typed in, carrying
    /// nothing but shared data and posting nothing later: all a Teams outgoing webhook
    /// can do.
    pub fn answers_in_public(&self) -> bool {
        matches!(
            self,
            Self::Help { .. } | Self::Lessons { .. } | Self::Digest(DigestCommand::Now)
        )
    }

    /// Whether its answer is the person's own business (goals are private, and so are
    /// one's check-ins, follow-ups and pauses): where replies are not private (Teams
    /// channels), it goes to the person's 1:1 chat.
    pub fn is_personal(&self) -> bool {
        matches!(
            self,
            Self::Goal(_)
                | Self::Checkin(_)
                | Self::Followups
                | Self::Pause(_)
                | Self::Resume
                | Self::Mentor(_)
                | Self::Credit { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebriefCommand {
    Start {
        title: String,
        template: Option<TemplateName>,
        /// Asked for with `--anonymous`; a template may make it the default too.
        anonymous: bool,
        /// `--closes-in`: when the scheduler closes it as the facilitator would.
        closes_in: Option<PauseDuration>,
    },
    /// `/debrief` alone: the start form.
    StartForm,
    Reflect,
    Close,
    /// DMs the channel's members who have not reflected yet.
    Nudge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoalCommand {
    Add {
        text: String,
        by: Option<NaiveDate>,
    },
    List,
    Done {
        number: u32,
    },
    Share {
        number: u32,
    },
    /// Shares a goal with a colleague, or with nobody again.
    Buddy {
        number: u32,
        buddy: BuddyTarget,
    },
}

/// Who `goal buddy` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuddyTarget {
    /// A mention the platform resolved (`<@U123>`, `<@U123|name>`).
    Id(String),
    /// `@name` as typed: looked up among the workspace's people.
    Handle(String),
    /// `off`: the goal is shared with nobody again.
    Nobody,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MentorCommand {
    /// Offers to be asked about these topics (none: those of the lessons one applied).
    On {
        topics: Vec<String>,
    },
    Off,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckinCommand {
    Set { schedule: ScheduleText },
    Off,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestCommand {
    Set { schedule: ScheduleText },
    Now,
}

/// How long to pause prompts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseDuration {
    Hours(u32),
    Days(u32),
    Until(NaiveDate),
}

impl PauseDuration {
    /// Whole days it spans, for the grammar's caps (a date is checked against today's
    /// when the command is carried out).
    fn days(self) -> u32 {
        match self {
            Self::Hours(h) => h.div_ceil(24),
            Self::Days(d) => d,
            Self::Until(_) => 0,
        }
    }
}

/// A template name: lowercase letters, digits, `-` and `_`, at most 32 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateName(String);

impl TemplateName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().to_lowercase();
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if name.is_empty() || name.len() > 32 || !valid_chars {
            return Err(format!(
                "`{raw}` is not a template name (letters, digits, `-` and `_`, up to 32)"
            ));
        }
        Ok(Self(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The schedule words as typed; the scheduler turns them into a `Schedule` with a zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleText(String);

impl ScheduleText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What was wrong with a command, and the form it should have had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError {
    pub problem: String,
    pub usages: Vec<Usage>,
    /// Extra guidance such as the accepted schedule forms.
    pub hint: Option<&'static str>,
}

impl UsageError {
    fn new(problem: impl Into<String>, usages: &[Usage]) -> Self {
        Self {
            problem: problem.into(),
            usages: usages.to_vec(),
            hint: None,
        }
    }
    fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// Which slash command carried the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlashCommand {
    Learn,
    Debrief,
}

impl SlashCommand {
    /// The two commands the app registers; anything else is a misconfigured manifest.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim() {
            "/learn" => Some(Self::Learn),
            "/debrief" => Some(Self::Debrief),
            _ => None,
        }
    }
}

/// Parses the text of a slash command.
pub fn parse_slash(command: SlashCommand, text: &str) -> Result<Command, UsageError> {
    if command == SlashCommand::Learn
        && let Some(search) = search_with_stray_quote(text)
    {
        return Ok(search);
    }
    let tokens = tokens(text)?;
    match command {
        SlashCommand::Learn => parse_learn_tokens(text, &tokens),
        SlashCommand::Debrief => parse_debrief(&tokens).map(Command::Debrief),
    }
}

/// Parses `/learn` words, as typed after `/learn` or sent to the bot in a message.
pub fn parse_learn(text: &str) -> Result<Command, UsageError> {
    if let Some(search) = search_with_stray_quote(text) {
        return Ok(search);
    }
    parse_learn_tokens(text, &tokens(text)?)
}

/// A search whose query has an unclosed quote (`lessons "feature flags`): the query is
/// free text, so it is searched as typed instead of refused.
fn search_with_stray_quote(text: &str) -> Option<Command> {
    let trimmed = text.trim_start();
    let (first, rest) = trimmed
        .split_once(char::is_whitespace)
        .unwrap_or((trimmed, ""));
    let is_search = WORDS
        .iter()
        .any(|(spelling, word)| *word == "lessons" && spelling.eq_ignore_ascii_case(first));
    (is_search && tokenize(text).is_err()).then(|| Command::Lessons {
        query: Some(rest.trim().to_owned()).filter(|q| !q.is_empty()),
    })
}

fn tokens(text: &str) -> Result<Vec<Token>, UsageError> {
    tokenize(text).map_err(|UnclosedQuote(quote)| {
        UsageError::new(
            format!("a quote ({quote}) is opened but never closed"),
            &[usage::HELP],
        )
    })
}

/// The command words, with the spellings people commonly use for them.
const WORDS: &[(&str, &str)] = &[
    ("help", "help"),
    ("debrief", "debrief"),
    ("lessons", "lessons"),
    ("lesson", "lessons"),
    ("search", "lessons"),
    ("followups", "followups"),
    ("followup", "followups"),
    ("follow-ups", "followups"),
    ("goal", "goal"),
    ("goals", "goal"),
    ("checkin", "checkin"),
    ("check-in", "checkin"),
    ("retro", "retro"),
    ("digest", "digest"),
    ("schedules", "schedules"),
    ("unschedule", "unschedule"),
    ("pause", "pause"),
    ("resume", "resume"),
    ("mentor", "mentor"),
    ("mentors", "mentors"),
    ("credit", "credit"),
];

fn parse_learn_tokens(text: &str, tokens: &[Token]) -> Result<Command, UsageError> {
    let Some((first, rest)) = tokens.split_first() else {
        return Ok(Command::Help { topic: None });
    };
    let typed = first.text.to_lowercase();
    let word = WORDS
        .iter()
        .find(|(spelling, _)| *spelling == typed)
        .map(|(_, word)| *word);
    match word {
        Some("help") => parse_help(rest),
        Some("debrief") => parse_debrief(rest).map(Command::Debrief),
        Some("lessons") => Ok(Command::Lessons {
            query: remainder(text, rest).map(str::to_owned),
        }),
        Some("followups") => no_arguments(rest, usage::FOLLOWUPS, Command::Followups),
        Some("goal") => parse_goal(text, rest).map(Command::Goal),
        Some("checkin") => parse_checkin(text, rest).map(Command::Checkin),
        Some("retro") => parse_retro(rest),
        Some("digest") => parse_digest(text, rest).map(Command::Digest),
        Some("schedules") => no_arguments(rest, usage::SCHEDULES, Command::Schedules),
        Some("unschedule") => parse_unschedule(rest),
        Some("pause") => parse_pause(rest).map(Command::Pause),
        Some("resume") => no_arguments(rest, usage::RESUME, Command::Resume),
        Some("mentor") => parse_mentor(rest).map(Command::Mentor),
        Some("mentors") => parse_mentors(rest),
        Some("credit") => parse_credit(rest),
        _ => Err(unknown_word(&first.text)),
    }
}

fn unknown_word(typed: &str) -> UsageError {
    let lowered = typed.to_lowercase();
    let suggestion = WORDS
        .iter()
        .map(|(spelling, word)| (edit_distance(&lowered, spelling), *word))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance);
    let problem = match suggestion {
        Some((_, word)) => format!("I don't know the command `{typed}`. Did you mean `{word}`?"),
        None => format!("I don't know the command `{typed}`."),
    };
    UsageError::new(problem, &[usage::HELP])
}

/// The original text from `rest`'s first token to the end, trimmed; `None` if empty.
fn remainder<'a>(text: &'a str, rest: &[Token]) -> Option<&'a str> {
    rest.first()
        .map(|t| text[t.start..].trim())
        .filter(|s| !s.is_empty())
}

/// Fails when anything follows a command that takes no arguments.
fn expect_end(rest: &[Token], usage: Usage) -> Result<(), UsageError> {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(UsageError::new(
            format!(
                "`{}` takes nothing after it, but got `{}`",
                usage.form, extra.text
            ),
            &[usage],
        )),
    }
}

fn no_arguments(rest: &[Token], usage: Usage, command: Command) -> Result<Command, UsageError> {
    expect_end(rest, usage).map(|()| command)
}

fn parse_help(rest: &[Token]) -> Result<Command, UsageError> {
    let Some(topic) = rest.first() else {
        return Ok(Command::Help { topic: None });
    };
    let typed = topic.text.trim_start_matches('/').to_lowercase();
    let word = WORDS
        .iter()
        .find(|(spelling, _)| *spelling == typed)
        .map(|(_, word)| *word)
        .unwrap_or(typed.as_str());
    match usage::topic(word) {
        Some(usages) => Ok(Command::Help {
            topic: Some(usages),
        }),
        None => Err(UsageError::new(
            format!("there is no help topic `{}`", topic.text),
            &[usage::HELP],
        )),
    }
}

/// Levenshtein distance over characters, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests;
