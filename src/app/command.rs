//! The command grammar of `/learn` and `/debrief` (and of the same words sent to the
//! bot as a message). Text is parsed once into a typed [`Command`]; any mistake becomes
//! a [`UsageError`] that says what was wrong and shows the right form.

use chrono::NaiveDate;

use super::tokens::{Token, UnclosedQuote, tokenize};
use super::usage::{self, Usage};

/// Longest debrief title; Slack headers hold 150 characters.
pub const MAX_TITLE_CHARS: usize = 150;
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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebriefCommand {
    Start {
        title: String,
        template: Option<TemplateName>,
        anonymous: bool,
    },
    Reflect,
    Close,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoalCommand {
    Add { text: String, by: Option<NaiveDate> },
    List,
    Done { number: u32 },
    Share { number: u32 },
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
    let tokens = tokens(text)?;
    match command {
        SlashCommand::Learn => parse_learn_tokens(text, &tokens),
        SlashCommand::Debrief => parse_debrief(&tokens).map(Command::Debrief),
    }
}

/// Parses `/learn` words, as typed after `/learn` or sent to the bot in a message.
pub fn parse_learn(text: &str) -> Result<Command, UsageError> {
    parse_learn_tokens(text, &tokens(text)?)
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

/// An option word, also when a phone turned `--` into an en or em dash.
fn option_name(token: &Token) -> Option<String> {
    if token.quoted {
        return None;
    }
    let text = token.text.as_str();
    let name = text
        .strip_prefix("--")
        .or_else(|| text.strip_prefix('—'))
        .or_else(|| text.strip_prefix('–'))?;
    (!name.is_empty()).then(|| name.to_lowercase())
}

/// Reads `--template NAME` / `--template=NAME` at `tokens[i]`; returns the tokens consumed.
fn template_option(
    name: &str,
    tokens: &[Token],
    i: usize,
    usages: &[Usage],
) -> Result<(TemplateName, usize), UsageError> {
    let (value, consumed) = match name.split_once('=') {
        Some((_, value)) => (Some(value.to_owned()), 1),
        None => (tokens.get(i + 1).map(|t| t.text.clone()), 2),
    };
    let value = value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| UsageError::new("`--template` needs a template name after it", usages))?;
    let template =
        TemplateName::parse(&value).map_err(|problem| UsageError::new(problem, usages))?;
    Ok((template, consumed))
}

/// Reads `--template` into `slot` (refusing a second one); returns the tokens consumed.
fn take_template(
    slot: &mut Option<TemplateName>,
    name: &str,
    tokens: &[Token],
    i: usize,
    usages: &[Usage],
) -> Result<usize, UsageError> {
    if slot.is_some() {
        return Err(UsageError::new("`--template` is given twice", usages));
    }
    let (template, consumed) = template_option(name, tokens, i, usages)?;
    *slot = Some(template);
    Ok(consumed)
}

fn parse_debrief(tokens: &[Token]) -> Result<DebriefCommand, UsageError> {
    let usages = [usage::DEBRIEF];
    if let [only] = tokens
        && !only.quoted
    {
        match only.text.to_lowercase().as_str() {
            "reflect" => return Ok(DebriefCommand::Reflect),
            "close" => return Ok(DebriefCommand::Close),
            _ => {}
        }
    }
    let mut template = None;
    let mut anonymous = false;
    let mut title_words: Vec<&str> = Vec::new();
    let mut i = 0;
    let mut options_ended = false;
    while i < tokens.len() {
        let token = &tokens[i];
        match option_name(token).filter(|_| !options_ended) {
            Some(name) if name == "template" || name.starts_with("template=") => {
                i += take_template(&mut template, &name, tokens, i, &usages)?;
                continue;
            }
            Some(name) if name == "anonymous" || name == "anon" => anonymous = true,
            Some(_) if token.text == "--" => options_ended = true,
            Some(name) => {
                return Err(UsageError::new(
                    format!(
                        "`--{name}` is not an option of /debrief; it knows `--template NAME` and `--anonymous`"
                    ),
                    &usages,
                ));
            }
            None if token.text == "--" && !token.quoted => options_ended = true,
            None => title_words.push(&token.text),
        }
        i += 1;
    }
    let title = title_words.join(" ").trim().to_owned();
    if title.is_empty() {
        return Err(UsageError::new(
            "a debrief needs a title, e.g. `/debrief Release 2.3 rollout`",
            &usages,
        ));
    }
    let length = title.chars().count();
    if length > MAX_TITLE_CHARS {
        return Err(UsageError::new(
            format!("the title is {length} characters; keep it to {MAX_TITLE_CHARS}"),
            &usages,
        ));
    }
    Ok(DebriefCommand::Start {
        title,
        template,
        anonymous,
    })
}

fn positive_number(token: Option<&Token>, what: &str, usage: Usage) -> Result<u32, UsageError> {
    let token =
        token.ok_or_else(|| UsageError::new(format!("which {what}? Give its number"), &[usage]))?;
    token
        .text
        .trim_start_matches('#')
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            UsageError::new(
                format!("`{}` is not a {what} number (1, 2, 3, …)", token.text),
                &[usage],
            )
        })
}

fn parse_goal(text: &str, tokens: &[Token]) -> Result<GoalCommand, UsageError> {
    let all = [
        usage::GOAL_ADD,
        usage::GOAL_LIST,
        usage::GOAL_DONE,
        usage::GOAL_SHARE,
    ];
    let Some((verb, rest)) = tokens.split_first() else {
        return Err(UsageError::new("what should I do with goals?", &all));
    };
    let one_number = |usage: Usage| -> Result<u32, UsageError> {
        let number = positive_number(rest.first(), "goal", usage)?;
        expect_end(&rest[1..], usage)?;
        Ok(number)
    };
    match verb.text.to_lowercase().as_str() {
        "add" | "new" => parse_goal_add(text, rest),
        "list" | "ls" => expect_end(rest, usage::GOAL_LIST).map(|()| GoalCommand::List),
        "done" | "complete" => {
            one_number(usage::GOAL_DONE).map(|number| GoalCommand::Done { number })
        }
        "share" => one_number(usage::GOAL_SHARE).map(|number| GoalCommand::Share { number }),
        other => Err(UsageError::new(
            format!("`goal {other}` is not a goal command"),
            &all,
        )),
    }
}

/// Looks like a date someone meant to type (`2026-1-5`, `2026-13-40`), valid or not.
fn looks_like_date(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts[0].len() == 4
}

fn parse_date(word: &str, usage: Usage) -> Result<NaiveDate, UsageError> {
    NaiveDate::parse_from_str(word, "%Y-%m-%d").map_err(|_| {
        UsageError::new(
            format!("`{word}` is not a date; write it as YYYY-MM-DD, e.g. 2026-12-31"),
            &[usage],
        )
    })
}

fn parse_goal_add(text: &str, rest: &[Token]) -> Result<GoalCommand, UsageError> {
    let usage = usage::GOAL_ADD;
    let mut body = rest;
    let mut by = None;
    // `by DATE` counts as the deadline only at the end, so "learn by doing" stays text.
    if let [head @ .., by_word, date] = rest
        && by_word.text.eq_ignore_ascii_case("by")
        && !by_word.quoted
        && looks_like_date(&date.text)
    {
        by = Some(parse_date(&date.text, usage)?);
        body = head;
    }
    let goal_text = match body.first() {
        None => String::new(),
        Some(first) => {
            // Up to the `by` word when there is a deadline, else to the end.
            let end = rest
                .get(body.len())
                .map_or(text.len(), |by_word| by_word.start);
            unquote_whole(text[first.start..end].trim())
        }
    };
    if goal_text.is_empty() {
        return Err(UsageError::new(
            "what is the goal? e.g. `/learn goal add run a blameless postmortem by 2026-12-31`",
            &[usage],
        ));
    }
    let length = goal_text.chars().count();
    if length > MAX_GOAL_CHARS {
        return Err(UsageError::new(
            format!("the goal is {length} characters; keep it to {MAX_GOAL_CHARS}"),
            &[usage],
        ));
    }
    Ok(GoalCommand::Add {
        text: goal_text,
        by,
    })
}

/// `"write docs"` → `write docs` when the whole text is one quoted phrase; else as typed.
fn unquote_whole(text: &str) -> String {
    match tokenize(text).as_deref() {
        Ok([only]) if only.quoted => only.text.clone(),
        _ => text.to_owned(),
    }
}

fn schedule_text(text: &str, tokens: &[Token], usage: Usage) -> Result<ScheduleText, UsageError> {
    let raw = remainder(text, tokens).ok_or_else(|| {
        UsageError::new("when? Give a schedule", &[usage]).with_hint(usage::SCHEDULE_FORMS)
    })?;
    if raw.chars().count() > MAX_SCHEDULE_CHARS {
        return Err(
            UsageError::new("that schedule is too long to be one", &[usage])
                .with_hint(usage::SCHEDULE_FORMS),
        );
    }
    Ok(ScheduleText(
        raw.split_whitespace().collect::<Vec<_>>().join(" "),
    ))
}

fn parse_checkin(text: &str, tokens: &[Token]) -> Result<CheckinCommand, UsageError> {
    match tokens {
        [only] if only.text.eq_ignore_ascii_case("off") && !only.quoted => Ok(CheckinCommand::Off),
        _ => schedule_text(text, tokens, usage::CHECKIN)
            .map(|schedule| CheckinCommand::Set { schedule }),
    }
}

fn parse_digest(text: &str, tokens: &[Token]) -> Result<DigestCommand, UsageError> {
    match tokens {
        [only] if only.text.eq_ignore_ascii_case("now") && !only.quoted => Ok(DigestCommand::Now),
        _ => schedule_text(text, tokens, usage::DIGEST)
            .map(|schedule| DigestCommand::Set { schedule }),
    }
}

fn parse_retro(tokens: &[Token]) -> Result<Command, UsageError> {
    let usages = [usage::RETRO];
    let mut template = None;
    let mut zone = None;
    let mut words: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match option_name(&tokens[i]) {
            Some(name) if name == "template" || name.starts_with("template=") => {
                i += take_template(&mut template, &name, tokens, i, &usages)?;
                continue;
            }
            Some(name) if name == "tz" || name.starts_with("tz=") => {
                let (value, consumed) = match name.split_once('=') {
                    Some((_, value)) => (Some(value.to_owned()), 1),
                    None => (tokens.get(i + 1).map(|t| t.text.clone()), 2),
                };
                let value = value.filter(|v| !v.is_empty()).ok_or_else(|| {
                    UsageError::new(
                        "`--tz` needs a time zone after it, e.g. `--tz Europe/Berlin`",
                        &usages,
                    )
                })?;
                zone =
                    Some(parse_zone(&value).map_err(|problem| UsageError::new(problem, &usages))?);
                i += consumed;
                continue;
            }
            Some(name) => {
                return Err(UsageError::new(
                    format!(
                        "`--{name}` is not an option of retro; it knows `--template NAME` and `--tz ZONE`"
                    ),
                    &usages,
                ));
            }
            None => words.push(&tokens[i].text),
        }
        i += 1;
    }
    let joined = words.join(" ");
    if joined.trim().is_empty() {
        return Err(UsageError::new(
            "when should the retro reminder come? Give a schedule",
            &usages,
        )
        .with_hint(usage::SCHEDULE_FORMS));
    }
    if joined.chars().count() > MAX_SCHEDULE_CHARS {
        return Err(
            UsageError::new("that schedule is too long to be one", &usages)
                .with_hint(usage::SCHEDULE_FORMS),
        );
    }
    Ok(Command::Retro {
        schedule: ScheduleText(joined),
        template,
        zone,
    })
}

/// An IANA zone name, matched without regard to case (`europe/berlin` works).
fn parse_zone(raw: &str) -> Result<chrono_tz::Tz, String> {
    raw.parse::<chrono_tz::Tz>()
        .ok()
        .or_else(|| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .find(|zone| zone.name().eq_ignore_ascii_case(raw))
                .copied()
        })
        .ok_or_else(|| format!("`{raw}` is not a time zone; use an IANA name like Europe/Berlin"))
}

fn parse_unschedule(tokens: &[Token]) -> Result<Command, UsageError> {
    let usage = usage::UNSCHEDULE;
    let id = positive_number(tokens.first(), "schedule", usage)?;
    expect_end(&tokens[1..], usage)?;
    Ok(Command::Unschedule { id: i64::from(id) })
}

fn parse_pause(tokens: &[Token]) -> Result<PauseDuration, UsageError> {
    let usage = usage::PAUSE;
    let words: Vec<String> = tokens.iter().map(|t| t.text.to_lowercase()).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let duration = match words.as_slice() {
        [] => return Err(UsageError::new("for how long? e.g. `pause 2w`", &[usage])),
        ["until", date] => PauseDuration::Until(parse_date(date, usage)?),
        [amount, unit] => amount_and_unit(amount, unit, usage)?,
        [compact] => {
            let split = compact
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(compact.len());
            amount_and_unit(&compact[..split], &compact[split..], usage)?
        }
        _ => {
            return Err(UsageError::new(
                format!("`{}` is not a duration", words.join(" ")),
                &[usage],
            ));
        }
    };
    let days = match duration {
        PauseDuration::Hours(h) => h.div_ceil(24),
        PauseDuration::Days(d) => d,
        PauseDuration::Until(_) => 0, // checked against today's date when handled
    };
    if days > MAX_PAUSE_DAYS {
        return Err(UsageError::new(
            format!(
                "pauses last at most {MAX_PAUSE_DAYS} days; use `/learn checkin off` to stop for good"
            ),
            &[usage],
        ));
    }
    Ok(duration)
}

fn amount_and_unit(amount: &str, unit: &str, usage: Usage) -> Result<PauseDuration, UsageError> {
    let not_duration = || {
        UsageError::new(
            format!("`{amount}{unit}` is not a duration; use hours (h), days (d) or weeks (w)"),
            &[usage],
        )
    };
    let n: u32 = amount
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(not_duration)?;
    match unit {
        "h" | "hr" | "hrs" | "hour" | "hours" => Ok(PauseDuration::Hours(n)),
        "d" | "day" | "days" => Ok(PauseDuration::Days(n)),
        "w" | "wk" | "wks" | "week" | "weeks" => n
            .checked_mul(7)
            .map(PauseDuration::Days)
            .ok_or_else(not_duration),
        _ => Err(not_duration()),
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
#[path = "command_tests.rs"]
mod tests;
