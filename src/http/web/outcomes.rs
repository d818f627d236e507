//! Outcomes: what became of the lessons over the last 26 weeks (this one included). The applied rate per
//! week and per tag (of the lessons whose outcome became known: applied, not relevant,
//! or stale after four "not yet"), people per debrief, the lessons that keep coming
//! back, and follow-up questions answered or not; each chart with its table.

use std::ops::RangeInclusive;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::Signed;
use super::charts::{Bar, bar_chart, count_ticks, percent_ticks};
use super::layout::{Section, shell};
use super::library::day;
use crate::domain::Timestamp;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::{DebriefEntry, OutcomeWeek, Recurring, TagOutcome, week_of, week_start};

/// Weeks the page looks back, this one included.
pub const WEEKS: i64 = 26;
/// Tags and debriefs charted.
const TOP_TAGS: u32 = 12;
const DEBRIEFS: u32 = 12;
const RECURRING: u32 = 10;

/// `applied` of `settled` as a whole percentage.
fn percent(applied: i64, settled: i64) -> String {
    if settled == 0 {
        "–".to_owned()
    } else {
        format!("{}%", (applied * 100 + settled / 2) / settled)
    }
}

/// The figures, per week of the period (week 0 first, every week present).
#[derive(Debug, PartialEq, Eq)]
pub struct Weekly {
    /// Monday of the first week.
    pub start: Timestamp,
    /// Per week: applied and settled lessons.
    pub settled: Vec<(i64, i64)>,
    /// Per week: questions answered and asked.
    pub asked: Vec<(i64, i64)>,
}

impl Weekly {
    /// Lays `weeks` (numbered as the store numbers them) out from `first_week` on.
    fn new(first_week: i64, weeks: &[OutcomeWeek]) -> Self {
        let mut weekly = Self {
            start: week_start(first_week),
            settled: vec![(0, 0); WEEKS as usize],
            asked: vec![(0, 0); WEEKS as usize],
        };
        for week in weeks {
            let Ok(slot) = usize::try_from(week.week - first_week) else {
                continue;
            };
            if slot < weekly.settled.len() {
                weekly.settled[slot] = (week.applied, week.settled);
                weekly.asked[slot] = (week.answered, week.asked);
            }
        }
        weekly
    }

    fn week_label(&self, week: usize) -> String {
        week_start(week_of(self.start) + week as i64)
            .to_utc()
            .format("%-d %b")
            .to_string()
    }
}

fn figure(chart: Markup, table: Markup) -> Markup {
    html! {
        div.figure {
            (chart)
            details open { summary { "The numbers" } (table) }
        }
    }
}

fn applied_per_week(weekly: &Weekly) -> Markup {
    let bars: Vec<Bar> = weekly
        .settled
        .iter()
        .enumerate()
        .map(|(week, &(applied, settled))| Bar {
            label: weekly.week_label(week),
            parts: vec![(
                if settled == 0 {
                    0.0
                } else {
                    applied as f64 / settled as f64
                },
                "",
            )],
            words: format!(
                "Week of {}: {applied} of {settled} applied ({})",
                weekly.week_label(week),
                percent(applied, settled)
            ),
        })
        .collect();
    figure(
        bar_chart("Applied rate per week", &bars, 1.0, &percent_ticks()),
        html! {
            table {
                thead { tr { th { "Week of" } th.n { "Applied" } th.n { "Settled" } th.n { "Rate" } } }
                tbody {
                    @for (week, (applied, settled)) in weekly.settled.iter().enumerate() {
                        tr { td { (weekly.week_label(week)) } td.n { (applied) } td.n { (settled) }
                            td.n { (percent(*applied, *settled)) } }
                    }
                }
            }
        },
    )
}

fn applied_per_tag(tags: &[TagOutcome]) -> Markup {
    let bars: Vec<Bar> = tags
        .iter()
        .map(
            |TagOutcome {
                 tag,
                 applied,
                 settled,
             }| Bar {
                label: format!("#{tag}"),
                parts: vec![(*applied as f64 / (*settled).max(1) as f64, "")],
                words: format!(
                    "#{tag}: {applied} of {settled} applied ({})",
                    percent(*applied, *settled)
                ),
            },
        )
        .collect();
    figure(
        bar_chart("Applied rate per tag", &bars, 1.0, &percent_ticks()),
        html! {
            table {
                thead { tr { th { "Tag" } th.n { "Applied" } th.n { "Settled" } th.n { "Rate" } } }
                tbody {
                    @for TagOutcome { tag, applied, settled } in tags {
                        tr { td { "#" (tag) } td.n { (applied) } td.n { (settled) }
                            td.n { (percent(*applied, *settled)) } }
                    }
                }
            }
        },
    )
}

fn participation(debriefs: &[DebriefEntry]) -> Markup {
    let most = debriefs.iter().map(|d| d.reflections).max().unwrap_or(0);
    // Oldest first, as time reads.
    let bars: Vec<Bar> = debriefs
        .iter()
        .rev()
        .map(|d| Bar {
            label: day(d.created_at),
            parts: vec![(d.reflections as f64, "")],
            words: format!("{}: {} people reflected", d.title, d.reflections),
        })
        .collect();
    figure(
        bar_chart(
            "People who reflected, per debrief",
            &bars,
            most.max(1) as f64,
            &count_ticks(most.max(1)),
        ),
        html! {
            table {
                thead { tr { th { "Debrief" } th { "Started" } th.n { "People" } } }
                tbody {
                    @for d in debriefs {
                        tr { td { a href={ "/app/debriefs/" (d.id) } { (d.title) } }
                            td { (day(d.created_at)) } td.n { (d.reflections) } }
                    }
                }
            }
        },
    )
}

fn answered_per_week(weekly: &Weekly) -> Markup {
    let most = weekly.asked.iter().map(|a| a.1).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = weekly
        .asked
        .iter()
        .enumerate()
        .map(|(week, &(answered, asked))| Bar {
            label: weekly.week_label(week),
            parts: vec![(answered as f64, ""), ((asked - answered) as f64, "low")],
            words: format!(
                "Week of {}: {answered} of {asked} questions answered",
                weekly.week_label(week)
            ),
        })
        .collect();
    figure(
        bar_chart(
            "Follow-up questions answered and unanswered per week",
            &bars,
            most as f64,
            &count_ticks(most),
        ),
        html! {
            table {
                thead { tr { th { "Week of" } th.n { "Asked" } th.n { "Answered" } th.n { "Unanswered" } } }
                tbody {
                    @for (week, (answered, asked)) in weekly.asked.iter().enumerate() {
                        tr { td { (weekly.week_label(week)) } td.n { (asked) } td.n { (answered) }
                            td.n { (asked - answered) } }
                    }
                }
            }
        },
    )
}

fn recurring(lessons: &[Recurring]) -> Markup {
    html! {
        @if lessons.is_empty() {
            p { "No lesson has been said again in another debrief yet." }
        } @else {
            div.wide { table {
                thead { tr { th { "Lesson" } th.n { "Said again" } } }
                tbody {
                    @for lesson in lessons {
                        tr { td { a href={ "/app/lessons/" (lesson.id) } { (lesson.text) } }
                            td.n { (lesson.times) } }
                    }
                }
            } }
        }
    }
}

/// The weeks of the period: this one (weeks start on Monday, UTC) and the 25 before.
pub fn period(now: Timestamp) -> RangeInclusive<i64> {
    let this_week = week_of(now);
    this_week - (WEEKS - 1)..=this_week
}

/// `/app/outcomes`.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, HttpError> {
    let viewer = signed.viewer();
    let period = period(state.clock.now());
    let store = &state.store;
    // One read after another: run side by side they took as many of the pool's
    // connections per page and, on two cores, no less time.
    let weeks = store.outcome_weeks(viewer, period.clone()).await?;
    let tags = store.outcome_tags(viewer, period.clone(), TOP_TAGS).await?;
    let debriefs = store.library_debriefs(viewer, None, DEBRIEFS).await?;
    let recurs = store.recurring_lessons(viewer, RECURRING).await?;
    let weekly = Weekly::new(*period.start(), &weeks);
    let (applied, settled) = weekly
        .settled
        .iter()
        .fold((0, 0), |(a, s), (applied, settled)| {
            (a + applied, s + settled)
        });
    let body = html! {
        p.lead {
            "Since the week of " (weekly.week_label(0)) " (26 weeks, this one included) the outcome of "
            strong { (settled) }
            @if settled == 1 { " lesson became known; " } @else { " lessons became known; " }
            strong { (applied) } " of them (" (percent(applied, settled)) ")"
            @if applied == 1 { " was applied." } @else { " were applied." }
        }
        p.muted { small { "Counted from the lessons you can see. A lesson is settled when its owner says it was applied or is not relevant, or after four \"not yet\"." } }
        h2 { "Applied rate per week" }
        (applied_per_week(&weekly))
        h2 { "Applied rate per tag" }
        @if tags.is_empty() { p { "No tagged lesson settled in this period." } } @else { (applied_per_tag(&tags)) }
        h2 { "Participation per debrief" }
        @if debriefs.is_empty() { p { "No debrief yet." } } @else { (participation(&debriefs)) }
        h2 { "Lessons that keep coming back" }
        (recurring(&recurs))
        h2 { "Follow-ups answered and unanswered" }
        (answered_per_week(&weekly))
    };
    Ok(shell(
        StatusCode::OK,
        "Outcomes",
        &signed,
        Some(Section::Outcomes),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_to_whole_percents_and_nothing_settled_is_a_dash() {
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(2, 3), "67%");
        assert_eq!(percent(0, 0), "–");
    }

    #[test]
    fn every_week_of_the_period_is_there_and_weeks_outside_are_ignored() {
        let week = |week, applied, settled| OutcomeWeek {
            week,
            settled,
            applied,
            asked: settled,
            answered: applied,
        };
        let weekly = Weekly::new(100, &[week(99, 5, 5), week(100, 1, 2), week(126, 9, 9)]);
        assert_eq!(weekly.start, week_start(100));
        assert_eq!(weekly.settled.len(), 26);
        assert_eq!(weekly.settled[0], (1, 2));
        assert_eq!(weekly.asked[0], (1, 2));
        assert!(weekly.settled[1..].iter().all(|w| *w == (0, 0)));
        // The period ends with this week: its last week holds today.
        let now = Timestamp::from_unix_seconds(100 * 86_400 + 3_600);
        assert_eq!(period(now).count(), 26);
        assert_eq!(*period(now).end(), week_of(now));
    }
}
