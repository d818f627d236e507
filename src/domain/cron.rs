//! Standard 5-field cron (`minute hour day-of-month month day-of-week`) as in Vixie cron:
//! lists, ranges, steps, month and weekday names, Sunday as 0 or 7, and the rule that
//! when both day fields are restricted a day matching either one fires.

use chrono::{Datelike, NaiveDate, NaiveTime};

/// Why a cron expression was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronError(pub String);

/// The parsed fields, as bit sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronFields {
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    /// Whether the day fields were `*`, which changes how they combine.
    any_day_of_month: bool,
    any_day_of_week: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

impl Field {
    fn value(&self, word: &str) -> Result<u32, CronError> {
        if let Some(index) = self.names.iter().position(|n| *n == word) {
            return Ok(self.min + index as u32);
        }
        let value: u32 = word
            .parse()
            .map_err(|_| CronError(format!("`{word}` is not a valid {}", self.name)))?;
        if value < self.min || value > self.max {
            return Err(CronError(format!(
                "{} {value} is outside {}-{}",
                self.name, self.min, self.max
            )));
        }
        Ok(value)
    }

    /// The bit set of one field, e.g. `1-5`, `*/15`, `mon,wed,fri`.
    fn parse(&self, text: &str) -> Result<u64, CronError> {
        let mut bits = 0u64;
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => {
                    let step: u32 = step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        CronError(format!("`{step}` is not a step in the {} field", self.name))
                    })?;
                    (range, step)
                }
                None => (item, 1),
            };
            let (low, high) = match range {
                "*" => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((a, b)) => (self.value(a)?, self.value(b)?),
                    // `5/15` means from 5 to the end, every 15.
                    None if step > 1 => (self.value(range)?, self.max),
                    None => {
                        let v = self.value(range)?;
                        (v, v)
                    }
                },
            };
            if low > high {
                return Err(CronError(format!(
                    "the range {range} in the {} field runs backwards",
                    self.name
                )));
            }
            for value in (low..=high).step_by(step as usize) {
                bits |= 1 << value;
            }
        }
        Ok(bits)
    }
}

impl CronFields {
    pub fn parse(expression: &str) -> Result<Self, CronError> {
        let expression = expression.to_lowercase();
        let fields: Vec<&str> = expression.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields.as_slice() else {
            return Err(CronError(format!(
                "cron needs 5 fields (minute hour day month weekday), got {}",
                fields.len()
            )));
        };
        let field = |name, min, max, names| Field {
            name,
            min,
            max,
            names,
        };
        let minutes = field("minute", 0, 59, &[]).parse(minute)?;
        let hours = field("hour", 0, 23, &[]).parse(hour)?;
        let days_of_month = field("day of month", 1, 31, &[]).parse(dom)?;
        let months = field("month", 1, 12, &MONTHS).parse(month)?;
        let mut days_of_week = field("weekday", 0, 7, &WEEKDAYS).parse(dow)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week | 1) & 0x7f; // 7 is Sunday too
        }
        Ok(Self {
            minutes,
            hours: hours as u32,
            days_of_month: days_of_month as u32,
            months: months as u16,
            days_of_week: days_of_week as u8,
            // As in Vixie cron, a day field that starts with `*` counts as unrestricted.
            any_day_of_month: dom.starts_with('*'),
            any_day_of_week: dow.starts_with('*'),
        })
    }

    /// Whether the schedule fires on `date` at all.
    pub fn matches_day(&self, date: NaiveDate) -> bool {
        if self.months & (1 << date.month()) == 0 {
            return false;
        }
        let dom = self.days_of_month & (1 << date.day()) != 0;
        let dow = self.days_of_week & (1 << date.weekday().num_days_from_sunday()) != 0;
        match (self.any_day_of_month, self.any_day_of_week) {
            (true, true) => true,
            (true, false) => dow,
            (false, true) => dom,
            (false, false) => dom || dow,
        }
    }

    /// Every time of day the schedule fires at, in order.
    pub fn times(&self) -> Vec<NaiveTime> {
        let mut times = Vec::new();
        for hour in (0..24).filter(|h| self.hours & (1 << h) != 0) {
            for minute in (0..60).filter(|m| self.minutes & (1 << m) != 0) {
                times.extend(NaiveTime::from_hms_opt(hour, minute, 0));
            }
        }
        times
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn fields_lists_ranges_steps_and_names() {
        let cron = CronFields::parse("*/15 9-17/4 * jan,jul mon-fri").unwrap();
        let times: Vec<String> = cron
            .times()
            .iter()
            .map(|t| t.format("%H:%M").to_string())
            .collect();
        assert_eq!(times[..5], ["09:00", "09:15", "09:30", "09:45", "13:00"]);
        assert_eq!(times.len(), 12);
        assert!(cron.matches_day(date("2027-01-04")), "a Monday in January");
        assert!(!cron.matches_day(date("2027-01-03")), "a Sunday");
        assert!(!cron.matches_day(date("2027-02-01")), "February");
    }

    #[test]
    fn sunday_is_0_or_7_and_numbers_follow_standard_cron() {
        let friday = CronFields::parse("0 16 * * 5").unwrap();
        assert!(
            friday.matches_day(date("2026-11-27")),
            "5 is Friday, as in crontab(5)"
        );
        for sunday in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN"] {
            assert!(
                CronFields::parse(sunday)
                    .unwrap()
                    .matches_day(date("2026-11-29")),
                "{sunday}"
            );
        }
    }

    #[test]
    fn restricted_day_fields_combine_with_or() {
        // The 1st of the month, and every Monday.
        let cron = CronFields::parse("0 9 1 * mon").unwrap();
        assert!(cron.matches_day(date("2026-12-01")), "the 1st (a Tuesday)");
        assert!(cron.matches_day(date("2026-12-07")), "a Monday");
        assert!(!cron.matches_day(date("2026-12-08")));
    }

    #[test]
    fn mistakes_are_named() {
        let err = |e: &str| CronFields::parse(e).unwrap_err().0;
        assert!(err("0 16 * *").contains("5 fields"));
        assert!(err("60 * * * *").contains("minute 60 is outside 0-59"));
        assert!(err("0 25 * * *").contains("hour 25"));
        assert!(err("0 9 * * funday").contains("`funday` is not a valid weekday"));
        assert!(err("*/0 * * * *").contains("not a step"));
        assert!(err("0 9 * * 5-1").contains("runs backwards"));
    }
}
