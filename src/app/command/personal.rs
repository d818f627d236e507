//! Goals, check-ins, digests, schedules by id and pauses: the arguments of the personal
//! and channel commands.

use super::*;

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

pub(super) fn parse_goal(text: &str, tokens: &[Token]) -> Result<GoalCommand, UsageError> {
    let all = [
        usage::GOAL_ADD,
        usage::GOAL_LIST,
        usage::GOAL_DONE,
        usage::GOAL_SHARE,
        usage::GOAL_BUDDY,
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
        "buddy" => parse_buddy(rest),
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
        return Err(UsageError::new("what is the goal?", &[usage])
            .with_hint("For example: `/learn goal add run a blameless postmortem by 2026-12-31`"));
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

pub(super) fn parse_checkin(text: &str, tokens: &[Token]) -> Result<CheckinCommand, UsageError> {
    match tokens {
        [only] if only.text.eq_ignore_ascii_case("off") && !only.quoted => Ok(CheckinCommand::Off),
        _ => schedule_text(text, tokens, usage::CHECKIN)
            .map(|schedule| CheckinCommand::Set { schedule }),
    }
}

pub(super) fn parse_digest(text: &str, tokens: &[Token]) -> Result<DigestCommand, UsageError> {
    match tokens {
        [only] if only.text.eq_ignore_ascii_case("now") && !only.quoted => Ok(DigestCommand::Now),
        [] => Ok(DigestCommand::Set {
            schedule: ScheduleText(crate::app::digest::DEFAULT_SCHEDULE.to_owned()),
        }),
        _ => schedule_text(text, tokens, usage::DIGEST)
            .map(|schedule| DigestCommand::Set { schedule }),
    }
}

pub(super) fn parse_unschedule(tokens: &[Token]) -> Result<Command, UsageError> {
    let usage = usage::UNSCHEDULE;
    let id = positive_number(tokens.first(), "schedule", usage)?;
    expect_end(&tokens[1..], usage)?;
    Ok(Command::Unschedule { id: i64::from(id) })
}

/// A duration as `pause` and `--closes-in` read it: `2w`, `3 days`, `12h`,
/// `until 2026-12-28` (or the date alone).
pub(super) fn parse_duration(tokens: &[Token], usage: Usage) -> Result<PauseDuration, UsageError> {
    let words: Vec<String> = tokens.iter().map(|t| t.text.to_lowercase()).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Ok(match words.as_slice() {
        [] => return Err(UsageError::new("for how long? e.g. `2w`", &[usage])),
        ["until", date] => PauseDuration::Until(parse_date(date, usage)?),
        [date] if date.len() == 10 && date.as_bytes()[4] == b'-' => {
            PauseDuration::Until(parse_date(date, usage)?)
        }
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
    })
}

pub(super) fn parse_pause(tokens: &[Token]) -> Result<PauseDuration, UsageError> {
    let usage = usage::PAUSE;
    let duration = parse_duration(tokens, usage)?;
    if duration.days() > MAX_PAUSE_DAYS {
        return Err(UsageError::new(
            format!("pauses last at most {MAX_PAUSE_DAYS} days"),
            &[usage],
        )
        .with_hint("`/learn checkin off` stops check-ins for good."));
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

/// Most topics one person offers; a longer list says nothing about expertise.
const MAX_MENTOR_TOPICS: usize = 10;

/// `#deploy` or `deploy` → `deploy`; a topic is a tag: letters, digits, `-` and `_`.
fn topic(token: &Token, usage: Usage) -> Result<String, UsageError> {
    let word = token.text.trim_start_matches('#').to_lowercase();
    let valid = !word.is_empty()
        && word.chars().count() <= 40
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(word)
    } else {
        Err(UsageError::new(
            format!(
                "`{}` is not a topic; write it as a tag, e.g. `#deploy`",
                token.text
            ),
            &[usage],
        ))
    }
}

pub(super) fn parse_mentor(tokens: &[Token]) -> Result<MentorCommand, UsageError> {
    let all = [usage::MENTOR_ON, usage::MENTOR_OFF];
    let Some((verb, rest)) = tokens.split_first() else {
        return Err(UsageError::new("`on` or `off`?", &all));
    };
    match verb.text.to_lowercase().as_str() {
        "on" => {
            let mut topics = Vec::new();
            for token in rest {
                let topic = topic(token, usage::MENTOR_ON)?;
                if !topics.contains(&topic) {
                    topics.push(topic);
                }
            }
            if topics.len() > MAX_MENTOR_TOPICS {
                return Err(UsageError::new(
                    format!("name at most {MAX_MENTOR_TOPICS} topics"),
                    &[usage::MENTOR_ON],
                ));
            }
            Ok(MentorCommand::On { topics })
        }
        "off" => expect_end(rest, usage::MENTOR_OFF).map(|()| MentorCommand::Off),
        other => Err(UsageError::new(
            format!("`mentor {other}` is not a mentor command"),
            &all,
        )),
    }
}

pub(super) fn parse_mentors(tokens: &[Token]) -> Result<Command, UsageError> {
    let usage = usage::MENTORS;
    let topic = tokens.first().map(|t| topic(t, usage)).transpose()?;
    if tokens.len() > 1 {
        expect_end(&tokens[1..], usage)?;
    }
    Ok(Command::Mentors { topic })
}

pub(super) fn parse_credit(tokens: &[Token]) -> Result<Command, UsageError> {
    let usage = usage::CREDIT;
    let named = match tokens.first().map(|t| t.text.to_lowercase()).as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => return Err(UsageError::new("`on` or `off`?", &[usage])),
    };
    expect_end(&tokens[1..], usage)?;
    Ok(Command::Credit { named })
}

/// `goal buddy N @person` (or `off`).
fn parse_buddy(tokens: &[Token]) -> Result<GoalCommand, UsageError> {
    let usage = usage::GOAL_BUDDY;
    let number = positive_number(tokens.first(), "goal", usage)?;
    let Some(who) = tokens.get(1) else {
        return Err(UsageError::new("who? Mention them: `@name`", &[usage]));
    };
    expect_end(&tokens[2..], usage)?;
    let text = who.text.trim();
    let buddy = if text.eq_ignore_ascii_case("off") {
        BuddyTarget::Nobody
    } else if let Some(id) = text
        .strip_prefix("<@")
        .and_then(|rest| rest.strip_suffix('>'))
        .map(|inner| inner.split('|').next().unwrap_or_default())
        .filter(|id| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-' || c == '_')
        })
    {
        BuddyTarget::Id(id.to_owned())
    } else if let Some(handle) = text
        .strip_prefix('@')
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_alphanumeric() || ".-_".contains(c)))
    {
        BuddyTarget::Handle(handle.to_lowercase())
    } else {
        return Err(UsageError::new(
            format!("`{text}` is not a person; mention them: `@name`"),
            &[usage],
        ));
    };
    Ok(GoalCommand::Buddy { number, buddy })
}
