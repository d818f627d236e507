//! A check-in closes its own loop. What the person meant to try last time (answers to
//! `role = "intention"` questions) comes back as the first question, and the first
//! check-in of each month opens with their own trend: their ratings over the last
//! check-ins and how their goals are going. All of it is private to the person.

use crate::app::AppError;
use crate::domain::Timestamp;
use chrono::Datelike;
use chrono_tz::Tz;

use super::debrief::answers::Answers;
use super::sparkline::rating_bar;
use super::templates::{Becomes, Question, QuestionKind};
use crate::platform::{Block, plain};
use crate::store::{Goal, PastCheckin, Store, WorkspaceId};

/// An intention older than this is not asked about: the moment has passed.
const INTENTION_WITHIN_SECS: i64 = 35 * 24 * 3600;
/// Check-ins the monthly trend looks back over.
const TREND_CHECKINS: i64 = 8;
/// And at most this far back.
const TREND_WITHIN_SECS: i64 = 92 * 24 * 3600;
/// The id of the question that asks about the last intention.
pub const INTENTION_ID: &str = "intention.last";
/// Longest answer to it.
const ANSWER_CHARS: usize = 1000;

/// What an earlier check-in brings into this one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recall {
    /// The question about what the person planned last time, asked first.
    pub intention: Option<Question>,
    /// The monthly trend, shown above the first question; empty in other check-ins.
    pub month: Vec<Block>,
}

/// Looks back over the person's finished check-ins for the one starting at `now`.
pub async fn recall(
    store: &Store,
    workspace: WorkspaceId,
    person: &str,
    now: Timestamp,
    zone: Tz,
    goals: &[Goal],
) -> Result<Recall, AppError> {
    let past = store
        .past_checkins(
            workspace,
            person,
            now.plus_seconds(-TREND_WITHIN_SECS),
            TREND_CHECKINS,
        )
        .await?;
    let intention = past
        .first()
        .filter(|last| now.seconds_since(last.created_at) <= INTENTION_WITHIN_SECS)
        .and_then(|last| intention_question(last, now));
    let month_start = start_of_month(now, zone);
    let first_this_month = !store
        .had_checkin_between(workspace, person, month_start, now)
        .await?;
    let month = if first_this_month {
        month_blocks(&past, goals, month_start)
    } else {
        Vec::new()
    };
    Ok(Recall { intention, month })
}

fn parsed(past: &PastCheckin) -> Option<(Vec<Question>, Answers)> {
    Some((
        serde_json::from_str(&past.questions).ok()?,
        serde_json::from_str(&past.answers).ok()?,
    ))
}

/// "Last week you planned to … — how did it go?", when the last check-in said.
fn intention_question(last: &PastCheckin, now: Timestamp) -> Option<Question> {
    let (questions, answers) = parsed(last)?;
    let planned: Vec<&str> = questions
        .iter()
        .filter(|q| q.becomes == Some(Becomes::Intention))
        .filter_map(|q| answers.get(&q.id).map(|a| a.trim()))
        .filter(|a| !a.is_empty())
        .collect();
    if planned.is_empty() {
        return None;
    }
    let when = if now.seconds_since(last.created_at) <= 10 * 24 * 3600 {
        "Last week"
    } else {
        "Last time"
    };
    Some(Question {
        id: INTENTION_ID.into(),
        prompt: format!(
            "{when} you planned to: \"{}\" — how did it go?",
            planned.join("; ")
        ),
        kind: QuestionKind::Text {
            max_chars: ANSWER_CHARS,
        },
        required: false,
        becomes: None,
    })
}

/// Midnight of the first of `now`'s month in the person's zone.
fn start_of_month(now: Timestamp, zone: Tz) -> Timestamp {
    let local = now.to_utc().with_timezone(&zone).date_naive();
    let first = local.with_day(1).unwrap_or(local);
    super::zones::local_midnight(first, zone).unwrap_or(now)
}

/// One rating series: a label and its ratings, oldest first.
fn series_line(label: &str, ratings: &[u8]) -> String {
    let bars: String = ratings.iter().copied().map(rating_bar).collect();
    let numbers: Vec<String> = ratings.iter().map(u8::to_string).collect();
    format!("{label} `{bars}` {}", numbers.join(" → "))
}

/// Each rating question of the latest check-in with its answers over `past` (newest
/// first, as the store gives them), oldest first; two answers at least make a series.
pub fn rating_series(past: &[PastCheckin]) -> Vec<(Question, Vec<u8>)> {
    let oldest_first: Vec<(Vec<Question>, Answers)> =
        past.iter().rev().filter_map(parsed).collect();
    // The rating questions in the order the latest check-in asked them.
    let Some((latest, _)) = oldest_first.last() else {
        return Vec::new();
    };
    latest
        .iter()
        .filter(|q| q.kind == QuestionKind::Rating)
        .filter_map(|question| {
            let ratings: Vec<u8> = oldest_first
                .iter()
                .filter_map(|(_, answers)| answers.get(&question.id)?.trim().parse().ok())
                .filter(|r| (1..=5).contains(r))
                .collect();
            (ratings.len() >= 2).then(|| (question.clone(), ratings))
        })
        .collect()
}

/// The "Goal #3" a rating question is about, or its prompt without the scale.
pub fn series_label(question: &Question, goals: &[Goal]) -> String {
    match goal_of(&question.id).and_then(|n| goals.iter().find(|g| g.number == n)) {
        Some(goal) => format!("Goal #{} \"{}\"", goal.number, goal.text),
        None => short_prompt(&question.prompt).to_owned(),
    }
}

/// The month's look back: each rating question's answers over the last check-ins
/// (two answers at least make a trend), and the goals reached and open.
fn month_blocks(past: &[PastCheckin], goals: &[Goal], month_start: Timestamp) -> Vec<Block> {
    let mut lines = Vec::new();
    for (question, ratings) in rating_series(past) {
        let label = match goal_of(&question.id).and_then(|n| goals.iter().find(|g| g.number == n)) {
            Some(goal) => format!("Goal #{} \"{}\":", goal.number, plain(&goal.text)),
            None => format!("{}:", plain(short_prompt(&question.prompt))),
        };
        lines.push(series_line(&label, &ratings));
    }
    let reached_lately = goals
        .iter()
        .filter(|g| {
            g.done_at
                .is_some_and(|at| at >= month_start.plus_seconds(-31 * 24 * 3600))
        })
        .count();
    let open = goals.iter().filter(|g| g.done_at.is_none()).count();
    if lines.is_empty() && reached_lately == 0 {
        return Vec::new();
    }
    lines.push(format!(
        "Goals: {reached_lately} reached in the last month, {open} open."
    ));
    vec![
        Block::Text(format!(
            ":bar_chart: *Your month* (ratings from your last check-ins, oldest first; only you see this)\n{}",
            lines.join("\n")
        )),
        Block::Divider,
    ]
}

/// `goal.3.progress` → 3.
fn goal_of(id: &str) -> Option<i64> {
    id.strip_prefix("goal.")?
        .strip_suffix(".progress")?
        .parse()
        .ok()
}

/// "How was your week? (1 = rough, 5 = great)" → "How was your week?"
fn short_prompt(prompt: &str) -> &str {
    prompt.split(" (").next().unwrap_or(prompt).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, kind: QuestionKind, becomes: Option<Becomes>) -> Question {
        Question {
            id: id.into(),
            prompt: format!("{id}? (1 = low)"),
            kind,
            required: false,
            becomes,
        }
    }

    fn past(created_at: i64, answers: &[(&str, &str)]) -> PastCheckin {
        let questions = vec![
            question("energy", QuestionKind::Rating, None),
            question(
                "next",
                QuestionKind::Text { max_chars: 100 },
                Some(Becomes::Intention),
            ),
            question("goal.1.progress", QuestionKind::Rating, None),
        ];
        let answers: Answers = answers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PastCheckin {
            created_at: Timestamp::from_unix_seconds(created_at),
            questions: serde_json::to_string(&questions).unwrap(),
            answers: serde_json::to_string(&answers).unwrap(),
        }
    }

    #[test]
    fn the_last_intention_is_asked_about_in_the_person_s_words() {
        let last = past(0, &[("next", "pair on <!channel> reviews")]);
        let asked = intention_question(&last, Timestamp::from_unix_seconds(7 * 24 * 3600)).unwrap();
        assert_eq!(asked.id, INTENTION_ID);
        assert!(asked.prompt.starts_with("Last week you planned to"));
        let later =
            intention_question(&last, Timestamp::from_unix_seconds(20 * 24 * 3600)).unwrap();
        assert!(later.prompt.starts_with("Last time"));
        assert_eq!(
            intention_question(
                &past(0, &[("energy", "3")]),
                Timestamp::from_unix_seconds(1)
            ),
            None
        );
    }

    #[test]
    fn the_month_shows_each_rating_series_oldest_first_and_the_goals() {
        let goals = [Goal {
            number: 1,
            text: "learn *Rust*".into(),
            due_date: None,
            shared: false,
            created_at: Timestamp::from_unix_seconds(0),
            done_at: None,
            buddy: None,
        }];
        let newest_first = [
            past(3, &[("energy", "5"), ("goal.1.progress", "4")]),
            past(2, &[("energy", "3")]),
            past(1, &[("energy", "2"), ("goal.1.progress", "2")]),
        ];
        let blocks = month_blocks(&newest_first, &goals, Timestamp::from_unix_seconds(10));
        let Block::Text(text) = &blocks[0] else {
            panic!("{blocks:?}")
        };
        assert!(text.contains("`▃▅█` 2 → 3 → 5"), "{text}");
        assert!(text.contains("Goal #1 \""), "{text}");
        assert!(text.contains("\": `▃▆` 2 → 4"), "{text}");
        assert!(
            text.contains("Goals: 0 reached in the last month, 1 open."),
            "{text}"
        );
        assert!(
            month_blocks(&newest_first[..1], &goals, Timestamp::from_unix_seconds(10)).is_empty()
        );
    }
}
