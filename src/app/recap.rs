//! The quarterly recap, posted in each digest channel on the first Monday of January,
//! April, July and October: what the quarter that ended applied, the lessons that kept
//! coming back before and stopped, and the most active contributors among those who
//! agreed to be named (`/learn credit on`).

use crate::app::AppError;
use crate::domain::Timestamp;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Weekday};
use chrono_tz::Tz;

use super::handle::CommandContext;
use super::words::count;
use crate::platform::{Block, Message, plain};
use crate::store::{Audience, WorkspaceId};

/// The local hour of the first Monday from which the recap is posted.
pub const RECAP_HOUR: u32 = 10;
/// Days after the first Monday in which a recap the service missed is still posted.
const LATE_DAYS: i64 = 6;
/// Stopped-recurring lessons and contributors shown.
const SHOWN: usize = 3;

/// A calendar quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

impl Quarter {
    fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            number: (date.month() - 1) / 3 + 1,
        }
    }

    fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).unwrap_or_default()
    }

    pub fn previous(self) -> Self {
        match self.number {
            1 => Self {
                year: self.year - 1,
                number: 4,
            },
            n => Self {
                year: self.year,
                number: n - 1,
            },
        }
    }

    fn next(self) -> Self {
        match self.number {
            4 => Self {
                year: self.year + 1,
                number: 1,
            },
            n => Self {
                year: self.year,
                number: n + 1,
            },
        }
    }

    /// `2026-Q3`: how the recap of this quarter is remembered.
    pub fn key(self) -> String {
        format!("{}-Q{}", self.year, self.number)
    }

    /// `Jul – Sep 2026`.
    pub fn label(self) -> String {
        let first = self.first_day();
        let last = self.next().first_day() - Duration::days(1);
        format!("{} – {}", first.format("%b"), last.format("%b %Y"))
    }

    /// Its start and end: local midnight in `zone`.
    pub fn bounds(self, zone: Tz) -> (Timestamp, Timestamp) {
        (
            midnight(self.first_day(), zone),
            midnight(self.next().first_day(), zone),
        )
    }
}

fn midnight(date: NaiveDate, zone: Tz) -> Timestamp {
    super::zones::local_midnight(date, zone).unwrap_or_default()
}

/// The first Monday of the month `date` is in.
fn first_monday(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    let days = (7 + Weekday::Mon.num_days_from_monday() as i64
        - first.weekday().num_days_from_monday() as i64)
        % 7;
    first + Duration::days(days)
}

/// The quarter to recap at `local` time: the one that just ended, from 10:00 on the
/// first Monday of a quarter's first month until the Sunday after (a recap the
/// service was down for is late rather than lost).
pub fn due(local: NaiveDateTime) -> Option<Quarter> {
    let date = local.date();
    if !(date.month() - 1).is_multiple_of(3) {
        return None;
    }
    let monday = first_monday(date);
    let days_after = (date - monday).num_days();
    let started = days_after > 0 || (days_after == 0 && local.time().hour() >= RECAP_HOUR);
    (started && days_after <= LATE_DAYS).then(|| Quarter::of(date).previous())
}

/// Whether any time zone can be in a recap's days at UTC `now`: a cheap test that
/// spares the scheduler's pass the digests' lookups on every other day of the year.
pub fn near_a_quarter_start(now: Timestamp) -> bool {
    [-14, 14].iter().chain(&[0]).any(|hours| {
        let date = now.plus_seconds(hours * 3600).to_utc().date_naive();
        (date.month() - 1).is_multiple_of(3) && date.day() <= 14
    })
}

/// The recap of `quarter` for a digest's `audience`; `None` when the quarter held
/// nothing to tell.
pub async fn build(
    store: &crate::store::Store,
    workspace: WorkspaceId,
    quarter: Quarter,
    zone: Tz,
    audience: Audience<'_>,
) -> Result<Option<Message>, AppError> {
    let (from, to) = quarter.bounds(zone);
    let (before, _) = quarter.previous().bounds(zone);
    super::recurrence::match_period(
        store,
        workspace,
        before,
        to,
        super::digest::MATCHED_WHILE_BUILDING,
    )
    .await?;
    let facts = store.digest_facts(workspace, from, to, audience).await?;
    let stopped = store
        .stopped_recurring(workspace, before, from, to, audience)
        .await?;
    let contributors = store
        .recap_contributors(workspace, from, to, audience, SHOWN as i64)
        .await?;
    let applied = facts
        .answered
        .iter()
        .filter(|a| a.answer == "applied")
        .count() as i64;
    if applied == 0
        && facts.debriefs_held == 0
        && facts.new_lessons.is_empty()
        && stopped.is_empty()
    {
        return Ok(None);
    }
    let mut blocks = vec![
        Block::Header(format!(":calendar: Quarter in review: {}", quarter.label())),
        Block::Text(format!(
            ":white_check_mark: *{} applied* of {} answered · {} held · {} shared · {} reached",
            count(applied, "lesson", "lessons"),
            count(facts.answered.len() as i64, "follow-up", "follow-ups"),
            count(facts.debriefs_held, "debrief", "debriefs"),
            count(facts.new_lessons.len() as i64, "lesson", "lessons"),
            count(
                facts.goals_reached.len() as i64,
                "shared goal",
                "shared goals"
            ),
        )),
    ];
    if !stopped.is_empty() {
        let mut lines: Vec<String> = stopped
            .iter()
            .take(SHOWN)
            .map(|text| format!("• {}", plain(text)))
            .collect();
        if stopped.len() > SHOWN {
            lines.push(format!("and {} more", stopped.len() - SHOWN));
        }
        blocks.push(Block::Text(format!(
            ":repeat: *Stopped recurring*: {} that kept coming back in {} did not come back this quarter.\n{}",
            count(stopped.len() as i64, "lesson", "lessons"),
            quarter.previous().label(),
            lines.join("\n")
        )));
    }
    if !contributors.is_empty() {
        let named: Vec<String> = contributors
            .iter()
            .map(|c| {
                format!(
                    "<@{}> ({}, {} applied)",
                    c.person,
                    count(c.reflections, "reflection", "reflections"),
                    c.applied
                )
            })
            .collect();
        blocks.push(Block::Text(format!(
            ":raised_hands: *Most active*: {}",
            named.join(" · ")
        )));
    }
    blocks.push(Block::Context(
        "Only people who chose to be named are: `/learn credit on` · `/learn credit off`".into(),
    ));
    Ok(Some(Message {
        fallback: format!("Quarter in review: {}", quarter.label()),
        blocks,
    }))
}

/// `/learn credit on|off`: whether the recap may name me among the most active.
pub async fn credit(ctx: &CommandContext<'_>, named: bool) -> Result<Message, AppError> {
    ctx.store
        .set_recap_credit(ctx.workspace.id, ctx.user, named, ctx.clock.now())
        .await?;
    Ok(Message::text(if named {
        ":raised_hands: The quarterly recap may name you among the most active contributors. \
         `/learn credit off` stops it."
    } else {
        ":ok_hand: The quarterly recap will not name you. `/learn credit on` allows it again."
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn the_recap_is_due_from_10_on_the_first_monday_of_a_quarter_for_a_week() {
        // 4 Jan 2027 is the first Monday of January.
        assert_eq!(due(at(2027, 1, 4, 9)), None);
        let q4 = Quarter {
            year: 2026,
            number: 4,
        };
        assert_eq!(due(at(2027, 1, 4, 10)), Some(q4));
        assert_eq!(due(at(2027, 1, 10, 23)), Some(q4));
        assert_eq!(due(at(2027, 1, 11, 10)), None);
        assert_eq!(due(at(2027, 1, 1, 12)), None, "a Friday");
        assert_eq!(due(at(2027, 2, 1, 12)), None, "not a quarter's month");
        // 6 Jul 2026 is the first Monday of July.
        assert_eq!(
            due(at(2026, 7, 6, 10)).map(Quarter::key),
            Some("2026-Q2".into())
        );
        assert_eq!(q4.label(), "Oct – Dec 2026");
        assert_eq!(q4.previous().key(), "2026-Q3");
    }

    #[test]
    fn only_the_first_half_of_a_quarter_s_month_is_looked_at() {
        let unix = |y, m, d| {
            chrono::Utc
                .with_ymd_and_hms(y, m, d, 12, 0, 0)
                .unwrap()
                .into()
        };
        assert!(near_a_quarter_start(unix(2027, 1, 4)));
        assert!(
            near_a_quarter_start(unix(2026, 12, 31)),
            "Kiribati is in January"
        );
        assert!(!near_a_quarter_start(unix(2027, 2, 4)));
        assert!(!near_a_quarter_start(unix(2027, 1, 20)));
    }
}
