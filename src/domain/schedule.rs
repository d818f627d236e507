//! Schedules: 5-field cron expressions and the friendly forms people type
//! (`fridays 16:00`, `weekdays 9:30`, `every 2 weeks on thursday 15:00`,
//! `monthly on the 1st 10:00`), each evaluated in an IANA time zone.
//!
//! Next fire times are found on the local calendar and then mapped to UTC, so a
//! daylight-saving change never skips or doubles an occurrence: a local time that does
//! not exist (spring forward) fires at the next valid local time, and one that exists
//! twice (autumn) fires at its first occurrence only.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

use super::cron::{CronError, CronFields};

/// Valid examples, shown whenever a schedule is not understood.
pub const EXAMPLES: [&str; 3] = [
    "fridays 16:00",
    "every 2 weeks on thursday 15:00",
    "0 9 * * MON-FRI",
];

/// How far ahead to look for the next occurrence; a valid schedule always has one
/// within a few years (29 February on a Monday is the rarest cron case).
const SEARCH_DAYS: i64 = 366 * 8;

/// A schedule that could not be read, worded for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

/// When something recurs.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Cron(CronFields),
    /// Every `weeks` weeks on `weekday` at `time`, counted from the week of `anchor`.
    EveryWeeks {
        weeks: u32,
        weekday: Weekday,
        time: NaiveTime,
        anchor: NaiveDate,
    },
}

/// A parsed schedule with its time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    rule: Rule,
    zone: Tz,
    /// The text as the person typed it, kept to show it back.
    text: String,
}

impl Schedule {
    /// Parses `text` in `zone`; `today` anchors "every N weeks" to the current week.
    pub fn parse(text: &str, zone: Tz, today: NaiveDate) -> Result<Self, ScheduleError> {
        let normalized = text.trim().to_lowercase();
        let rule = if looks_like_cron(&normalized) {
            Rule::Cron(CronFields::parse(&normalized).map_err(|CronError(why)| {
                ScheduleError(format!(
                    "`{}` is not a valid cron expression: {why}",
                    text.trim()
                ))
            })?)
        } else {
            parse_friendly(&normalized, today).ok_or_else(|| {
                ScheduleError(format!("I couldn't read `{}` as a schedule", text.trim()))
            })?
        };
        let schedule = Self {
            rule,
            zone,
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        if schedule
            .next_after(today.and_time(NaiveTime::MIN).and_utc())
            .is_none()
        {
            return Err(ScheduleError(format!("`{}` never happens", schedule.text)));
        }
        Ok(schedule)
    }

    /// Rebuilds a stored schedule; `anchor` is the date it was created.
    pub fn restore(text: &str, zone: &str, anchor: NaiveDate) -> Result<Self, ScheduleError> {
        let zone: Tz = zone
            .parse()
            .map_err(|_| ScheduleError(format!("unknown time zone `{zone}`")))?;
        Self::parse(text, zone, anchor)
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first occurrence strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_timezone(&self.zone).date_naive();
        for offset in 0..SEARCH_DAYS {
            let date = start + Duration::days(offset);
            for time in self.times_on(date) {
                if let Some(fire) = self.resolve(date.and_time(time))
                    && fire > after
                {
                    return Some(fire);
                }
            }
        }
        None
    }

    /// The next `count` occurrences after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut fires = Vec::with_capacity(count);
        let mut cursor = after;
        while fires.len() < count {
            match self.next_after(cursor) {
                Some(next) => {
                    fires.push(next);
                    cursor = next;
                }
                None => break,
            }
        }
        fires
    }

    /// Local times of day on `date` that this schedule fires at, in order.
    fn times_on(&self, date: NaiveDate) -> Vec<NaiveTime> {
        match &self.rule {
            Rule::Cron(fields) => {
                if fields.matches_day(date) {
                    fields.times()
                } else {
                    Vec::new()
                }
            }
            Rule::EveryWeeks {
                weeks,
                weekday,
                time,
                anchor,
            } => {
                let week_start = |d: NaiveDate| {
                    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
                };
                let weeks_since = (week_start(date) - week_start(*anchor)).num_weeks();
                if date.weekday() == *weekday
                    && weeks_since >= 0
                    && weeks_since % i64::from(*weeks) == 0
                {
                    vec![*time]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// The UTC instant of a local time: the first of two in an autumn overlap, the next
    /// valid minute for one that a spring-forward gap skips.
    fn resolve(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        let mut candidate = local;
        // Gaps are at most a few hours long in every zone in the database.
        for _ in 0..(4 * 60) {
            match self.zone.from_local_datetime(&candidate) {
                LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
                LocalResult::None => candidate += Duration::minutes(1),
            }
        }
        None
    }
}

/// Five fields where the first two could be minute and hour.
fn looks_like_cron(text: &str) -> bool {
    let fields: Vec<&str> = text.split_whitespace().collect();
    fields.len() == 5
        && fields[..2].iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '*' | ',' | '-' | '/'))
        })
}

fn parse_weekday(word: &str) -> Option<Weekday> {
    let word = word.trim_end_matches(',');
    let word = word
        .strip_suffix('s')
        .filter(|w| w.ends_with("day"))
        .unwrap_or(word);
    Some(match word {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// `9:30`, `09:30`, `16:00`, `4pm`, `4:30pm`, `12am`.
fn parse_time(word: &str) -> Option<NaiveTime> {
    let (clock, meridiem) = if let Some(t) = word.strip_suffix("am") {
        (t, Some(false))
    } else if let Some(t) = word.strip_suffix("pm") {
        (t, Some(true))
    } else {
        (word, None)
    };
    let (hour, minute) = match clock.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None if meridiem.is_some() => (clock.parse::<u32>().ok()?, 0),
        _ => return None,
    };
    let hour = match meridiem {
        Some(pm) if (1..=12).contains(&hour) => (hour % 12) + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => hour,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// `1st`, `2nd`, `15th`, `31`.
fn parse_day_of_month(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let day: u32 = digits.parse().ok()?;
    (1..=31).contains(&day).then_some(day)
}

fn parse_friendly(text: &str, today: NaiveDate) -> Option<Rule> {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !matches!(*w, "at" | "on" | "the" | "and" | "every" | "each"))
        .collect();
    let (time_word, rest) = words.split_last()?;
    let time = parse_time(time_word)?;
    let cron_at =
        |days: &str| CronFields::parse(&format!("{} {} {days}", time.minute(), time.hour())).ok();
    // "every 2 weeks on thursday 15:00": count words were filtered, so look at the raw text.
    if let Some(rule) = parse_every_weeks(text, time, today) {
        return Some(rule);
    }
    match rest {
        ["daily"] | ["day"] | ["days"] => cron_at("* * *").map(Rule::Cron),
        ["weekdays"] | ["weekday"] => cron_at("* * 1-5").map(Rule::Cron),
        ["monthly", day] => cron_at(&format!("{} * *", parse_day_of_month(day)?)).map(Rule::Cron),
        ["weekly", day] => {
            let weekday = parse_weekday(day)?;
            cron_at(&format!("* * {}", weekday.num_days_from_sunday())).map(Rule::Cron)
        }
        days if !days.is_empty() => {
            let numbers: Option<Vec<String>> = days
                .iter()
                .flat_map(|d| d.split(','))
                .filter(|d| !d.is_empty())
                .map(|d| parse_weekday(d).map(|w| w.num_days_from_sunday().to_string()))
                .collect();
            cron_at(&format!("* * {}", numbers?.join(","))).map(Rule::Cron)
        }
        _ => None,
    }
}

/// `every N weeks on WEEKDAY TIME` (also `every other week …`, `biweekly on …`).
fn parse_every_weeks(text: &str, time: NaiveTime, today: NaiveDate) -> Option<Rule> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (weeks, after) = match words.as_slice() {
        ["every", n, "weeks", rest @ ..] => (n.parse::<u32>().ok()?, rest),
        ["every", "other", "week", rest @ ..]
        | ["biweekly", rest @ ..]
        | ["fortnightly", rest @ ..] => (2, rest),
        _ => return None,
    };
    if !(1..=52).contains(&weeks) {
        return None;
    }
    let weekday = after.iter().find_map(|w| parse_weekday(w))?;
    Some(Rule::EveryWeeks {
        weeks,
        weekday,
        time,
        anchor: today,
    })
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
