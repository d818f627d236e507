//! `/debrief` and `/learn retro`: a title or schedule with `--options` around it.

use super::*;

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

pub(super) fn parse_debrief(tokens: &[Token]) -> Result<DebriefCommand, UsageError> {
    let usages = [usage::DEBRIEF];
    if tokens.is_empty() {
        return Ok(DebriefCommand::StartForm);
    }
    if let [only] = tokens
        && !only.quoted
    {
        match only.text.to_lowercase().as_str() {
            "reflect" => return Ok(DebriefCommand::Reflect),
            "close" => return Ok(DebriefCommand::Close),
            "nudge" => return Ok(DebriefCommand::Nudge),
            _ => {}
        }
    }
    let mut template = None;
    let mut anonymous = false;
    let mut closes_in = None;
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
            Some(name) if name == "closes-in" || name.starts_with("closes-in=") => {
                if closes_in.is_some() {
                    return Err(UsageError::new("`--closes-in` is given twice", &usages));
                }
                let (duration, consumed) = closes_in_option(&name, tokens, i)?;
                closes_in = Some(duration);
                i += consumed;
                continue;
            }
            Some(_) if token.text == "--" => options_ended = true,
            Some(name) => {
                return Err(UsageError::new(
                    format!(
                        "`--{name}` is not an option of a debrief; it knows `--template NAME`, `--anonymous` and `--closes-in DURATION`"
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
        return Err(UsageError::new("a debrief needs a title", &usages)
            .with_hint("For example: `/debrief Release 2.3 rollout`"));
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
        closes_in,
    })
}

/// Reads `--closes-in DURATION` at `tokens[i]` (`2d`, `12h`, `1w`, `2 days`,
/// `2026-12-03`, or `--closes-in=2d`); returns the duration and the tokens consumed.
fn closes_in_option(
    name: &str,
    tokens: &[Token],
    i: usize,
) -> Result<(PauseDuration, usize), UsageError> {
    let usages = [usage::DEBRIEF];
    let hint = "For example: `/debrief --closes-in 2d Release 2.3`";
    let (value, consumed): (Vec<Token>, usize) = match name.split_once('=') {
        Some((_, value)) => (
            vec![Token {
                text: value.to_owned(),
                quoted: false,
                start: tokens[i].start,
            }],
            1,
        ),
        None => {
            let rest = &tokens[(i + 1).min(tokens.len())..];
            // "2 days" and "until 2026-12-03" are two words; anything else one.
            let two = match rest {
                [first, second, ..] => {
                    let number = first.text.chars().all(|c| c.is_ascii_digit());
                    let unit = second.text.chars().all(char::is_alphabetic);
                    first.text.eq_ignore_ascii_case("until") || (number && unit)
                }
                _ => false,
            };
            let taken = if two { 2 } else { 1 };
            (rest.iter().take(taken).cloned().collect(), 1 + taken)
        }
    };
    if value.is_empty() || value[0].text.is_empty() {
        return Err(
            UsageError::new("`--closes-in` needs a duration after it", &usages).with_hint(hint),
        );
    }
    let duration =
        personal::parse_duration(&value, usage::DEBRIEF).map_err(|e| e.with_hint(hint))?;
    if duration.days() > MAX_CLOSES_IN_DAYS {
        return Err(UsageError::new(
            format!("a debrief closes within {MAX_CLOSES_IN_DAYS} days"),
            &usages,
        ));
    }
    Ok((duration, consumed))
}

pub(super) fn parse_retro(tokens: &[Token]) -> Result<Command, UsageError> {
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
