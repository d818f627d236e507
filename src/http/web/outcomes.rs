//! Outcomes: what became of the lessons over the last 26 weeks. The applied rate per
//! week and per tag (of the lessons whose outcome became known: applied, not relevant,
//! or stale after four "not yet"), people per debrief, the lessons that keep coming
//! back, and follow-up questions answered or not; each chart with its table.

use std::collections::BTreeMap;

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
use crate::store::{AskedWeek, DebriefEntry, Recurring, SettledTags, SettledWeek};

/// Weeks the page looks back.
pub const WEEKS: i64 = 26;
const WEEK_SECS: i64 = 7 * 86_400;
/// Tags and debriefs charted.
const TOP_TAGS: usize = 12;
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
    pub start: Timestamp,
    pub settled: Vec<(i64, i64)>,
    pub asked: Vec<(i64, i64)>,
}

impl Weekly {
    fn new(start: Timestamp, settled: &[SettledWeek], asked: &[AskedWeek]) -> Self {
        let mut weekly = Self {
            start,
            settled: vec![(0, 0); WEEKS as usize],
            asked: vec![(0, 0); WEEKS as usize],
        };
        for week in settled {
            if let Some(slot) = usize::try_from(week.week)
                .ok()
                .and_then(|w| weekly.settled.get_mut(w))
            {
                *slot = (week.applied, week.settled);
            }
        }
        for week in asked {
            if let Some(slot) = usize::try_from(week.week)
                .ok()
                .and_then(|w| weekly.asked.get_mut(w))
            {
                *slot = (week.answered, week.asked);
            }
        }
        weekly
    }

    fn week_label(&self, week: usize) -> String {
        self.start
            .plus_seconds(week as i64 * WEEK_SECS)
            .to_utc()
            .format("%-d %b")
            .to_string()
    }
}

/// Applied and settled per tag, most settled first.
pub fn per_tag(rows: &[SettledTags]) -> Vec<(String, i64, i64)> {
    let mut tags: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for row in rows {
        for tag in row.tags.split_whitespace() {
            let entry = tags.entry(tag.to_owned()).or_default();
            entry.0 += row.applied;
            entry.1 += row.settled;
        }
    }
    let mut tags: Vec<(String, i64, i64)> = tags
        .into_iter()
        .map(|(tag, (applied, settled))| (tag, applied, settled))
        .collect();
    tags.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    tags.truncate(TOP_TAGS);
    tags
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

fn applied_per_tag(tags: &[(String, i64, i64)]) -> Markup {
    let bars: Vec<Bar> = tags
        .iter()
        .map(|(tag, applied, settled)| Bar {
            label: format!("#{tag}"),
            parts: vec![(*applied as f64 / (*settled).max(1) as f64, "")],
            words: format!(
                "#{tag}: {applied} of {settled} applied ({})",
                percent(*applied, *settled)
            ),
        })
        .collect();
    figure(
        bar_chart("Applied rate per tag", &bars, 1.0, &percent_ticks()),
        html! {
            table {
                thead { tr { th { "Tag" } th.n { "Applied" } th.n { "Settled" } th.n { "Rate" } } }
                tbody {
                    @for (tag, applied, settled) in tags {
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
            table {
                thead { tr { th { "Lesson" } th.n { "Said again" } } }
                tbody {
                    @for lesson in lessons {
                        tr { td { a href={ "/app/lessons/" (lesson.id) } { (lesson.text) } }
                            td.n { (lesson.times) } }
                    }
                }
            }
        }
    }
}

/// The start of the period: 26 weeks before the start of today (UTC).
pub fn period_start(now: Timestamp) -> Timestamp {
    let today = now.unix_seconds().div_euclid(86_400) * 86_400;
    Timestamp::from_unix_seconds(today + 86_400 - WEEKS * WEEK_SECS)
}

/// `/app/outcomes`.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, HttpError> {
    let viewer = signed.viewer();
    let start = period_start(state.clock.now());
    let store = &state.store;
    // One read after another: run side by side they took five of the pool's
    // connections per page and, on two cores, no less time.
    let settled_weeks = store.settled_weeks(viewer, start).await?;
    let asked_weeks = store.asked_weeks(viewer, start).await?;
    let tagged = store.settled_by_tags(viewer, start).await?;
    let debriefs = store.library_debriefs(viewer, None, DEBRIEFS).await?;
    let recurs = store.recurring_lessons(viewer, RECURRING).await?;
    let weekly = Weekly::new(start, &settled_weeks, &asked_weeks);
    let tags = per_tag(&tagged);
    let (applied, settled) = weekly
        .settled
        .iter()
        .fold((0, 0), |(a, s), (applied, settled)| {
            (a + applied, s + settled)
        });
    let body = html! {
        p.lead {
            "In the last 26 weeks the outcome of " strong { (settled) }
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
    fn tags_add_up_across_lessons_with_several_tags() {
        let rows = [
            SettledTags {
                tags: "ops deploy".into(),
                applied: 2,
                settled: 3,
            },
            SettledTags {
                tags: "deploy".into(),
                applied: 1,
                settled: 1,
            },
        ];
        assert_eq!(
            per_tag(&rows),
            [("deploy".to_owned(), 3, 4), ("ops".to_owned(), 2, 3)]
        );
    }

    #[test]
    fn every_week_of_the_period_is_there_and_weeks_outside_are_ignored() {
        let start = Timestamp::from_unix_seconds(0);
        let settled = [
            SettledWeek {
                week: 0,
                applied: 1,
                settled: 2,
            },
            SettledWeek {
                week: 26,
                applied: 9,
                settled: 9,
            },
        ];
        let weekly = Weekly::new(start, &settled, &[]);
        assert_eq!(weekly.settled.len(), 26);
        assert_eq!(weekly.settled[0], (1, 2));
        assert!(weekly.settled[1..].iter().all(|w| *w == (0, 0)));
        // The period ends with today: its last week holds today.
        let now = Timestamp::from_unix_seconds(100 * 86_400 + 3_600);
        let start = period_start(now);
        assert_eq!(now.seconds_since(start) / WEEK_SECS, 25);
    }
}
