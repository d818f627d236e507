//! Personal check-ins: `/learn checkin SCHEDULE` sets one in the person's own zone; when
//! it fires, the bot asks in a DM the `checkin` template's questions and, for each open
//! goal, how it is going (a rating and a note). A check-in nobody answers is closed as
//! missed after a day, without a reminder.

use super::command::ScheduleText;
use super::debrief::answers::Answers;
use super::debrief::conversation::{self, Outcome, Progress};
use super::handle::{CommandContext, Handled};
use super::schedules::{self, Request};
use super::templates::{Question, QuestionKind, Template};
use super::words::count_of;
use super::zones::person_zone;
use crate::app::AppError;
use crate::platform::{Block, Message};
use crate::store::{Checkin, CheckinEnd, Goal, ScheduleKind};

/// The template a check-in asks.
pub const TEMPLATE: &str = "checkin";
/// An unanswered check-in is closed as missed after this long.
pub const ANSWER_WITHIN_SECS: i64 = 24 * 3600;
/// Longest note on a goal.
const NOTE_CHARS: usize = 1000;
/// Goals asked about in one check-in; more would be a survey, not a check-in.
const MAX_GOALS_ASKED: usize = 5;

fn rating_id(goal: &Goal) -> String {
    format!("goal.{}.progress", goal.number)
}

fn note_id(goal: &Goal) -> String {
    format!("goal.{}.note", goal.number)
}

/// The questions of one check-in: how last time's intention went (when there was one),
/// the template's, then two per open goal.
pub fn questions(
    intention: Option<Question>,
    template: Option<&Template>,
    goals: &[Goal],
) -> Vec<Question> {
    let mut questions: Vec<Question> = intention.into_iter().collect();
    questions.extend(template.map(|t| t.questions.clone()).unwrap_or_default());
    for goal in goals
        .iter()
        .filter(|g| g.done_at.is_none())
        .take(MAX_GOALS_ASKED)
    {
        questions.push(Question {
            id: rating_id(goal),
            prompt: format!(
                "How is your goal #{} going: \"{}\"? (1 = stuck, 5 = nearly there)",
                goal.number, goal.text
            ),
            kind: QuestionKind::Rating,
            required: false,
            becomes: None,
        });
        questions.push(Question {
            id: note_id(goal),
            prompt: format!(
                "A note on goal #{}: what helped, or what is in the way?",
                goal.number
            ),
            kind: QuestionKind::Text {
                max_chars: NOTE_CHARS,
            },
            required: false,
            becomes: None,
        });
    }
    questions
}

/// The DM that opens a check-in: the month's look back when there is one
/// (`look_back`), then the first question.
pub fn opening(questions: &[Question], look_back: Vec<Block>) -> Message {
    let mut message = Message::text(format!(
        ":wave: Time for your check-in: {}, one at a time. Type `skip`, \
         `back`, `cancel` or `help` at any point. Only you see your answers. If now is not a \
         good time, it closes by itself in a day.",
        count_of(questions, "short question", "short questions")
    ));
    message.blocks.extend(look_back);
    message
        .blocks
        .extend(conversation::ask(questions, &Progress::default()).blocks);
    message
}

fn progress_of(checkin: &Checkin) -> Progress {
    Progress {
        step: usize::try_from(checkin.step).unwrap_or(0),
        answers: serde_json::from_str(&checkin.answers).unwrap_or_default(),
        nudged: checkin.nudged,
    }
}

fn to_json(answers: &Answers) -> String {
    serde_json::to_string(answers).unwrap_or_else(|_| "{}".into())
}

/// Takes a DM from a person with an open check-in; `None` when they have none.
pub async fn converse(ctx: &CommandContext<'_>, text: &str) -> Result<Option<Handled>, AppError> {
    if !ctx.in_direct_message() {
        return Ok(None);
    }
    let Some(checkin) = ctx.store.open_checkin(ctx.workspace.id, ctx.user).await? else {
        return Ok(None);
    };
    let questions: Vec<Question> = serde_json::from_str(&checkin.questions)
        .map_err(|e| AppError::Internal(format!("check-in questions: {e}")))?;
    // Taken already (a retry of the same event): the question where the person is.
    let where_you_are = |checkin: &Checkin| -> Handled {
        conversation::resume(&questions, &progress_of(checkin)).into()
    };
    if ctx.event.is_some() && checkin.last_event.as_deref() == ctx.event {
        return Ok(Some(where_you_are(&checkin)));
    }
    let mut progress = progress_of(&checkin);
    let (outcome, mut reply) = conversation::advance(&questions, &mut progress, text);
    let store = ctx.store;
    let workspace = ctx.workspace.id;
    let now = ctx.clock.now();
    match outcome {
        Outcome::Continue => {
            let step = Checkin {
                step: progress.step as i64,
                answers: to_json(&progress.answers),
                nudged: progress.nudged,
                last_event: ctx.event.map(str::to_owned),
                ..checkin.clone()
            };
            if !store.save_checkin_progress(workspace, &step).await? {
                let moved = store.open_checkin(workspace, ctx.user).await?;
                return Ok(Some(match moved {
                    Some(current) if current.id == checkin.id => where_you_are(&current),
                    // Finished, cancelled or missed while this answer was on its way.
                    _ => Message::text(
                        "This check-in closed before this answer arrived, so it was not saved.",
                    )
                    .into(),
                }));
            }
        }
        Outcome::Cancelled => {
            store
                .end_checkin(workspace, checkin.id, "{}", CheckinEnd::Cancelled, now)
                .await?;
            reply = Message::text("Check-in cancelled: nothing was saved. See you next time.");
        }
        Outcome::Finished => {
            let saved = store
                .end_checkin(
                    workspace,
                    checkin.id,
                    &to_json(&progress.answers),
                    CheckinEnd::Done,
                    now,
                )
                .await?;
            if saved {
                super::buddies::tell_ratings(ctx, &goal_ratings(&questions, &progress.answers))
                    .await?;
            }
            reply = if saved {
                thanks(&questions, &progress.answers)
            } else {
                Message::text("This check-in had already closed, so the answers were not saved.")
            };
        }
    }
    Ok(Some(reply.into()))
}

/// Each goal's rating in a finished check-in: (goal number, rating).
fn goal_ratings(questions: &[Question], answers: &Answers) -> Vec<(i64, String)> {
    questions
        .iter()
        .filter_map(|q| {
            let number = q.id.strip_prefix("goal.")?.strip_suffix(".progress")?;
            Some((number.parse().ok()?, answers.get(&q.id)?.clone()))
        })
        .collect()
}

/// The closing message: what was saved about each goal.
fn thanks(questions: &[Question], answers: &Answers) -> Message {
    let goals: Vec<String> = goal_ratings(questions, answers)
        .iter()
        .map(|(number, rating)| format!("goal #{number}: {rating}/5"))
        .collect();
    let progress = if goals.is_empty() {
        String::new()
    } else {
        format!(" Progress noted: {}.", goals.join(", "))
    };
    Message {
        fallback: "Check-in saved".into(),
        blocks: vec![
            Block::Text(format!(
                ":white_check_mark: Thanks, your check-in is saved.{progress}"
            )),
            Block::Context(
                "`/learn goal list` shows your goals · `/learn goal done N` when you reach one"
                    .into(),
            ),
        ],
    }
}

/// `/learn checkin SCHEDULE`: one check-in schedule per person, in their own zone;
/// setting a new one replaces the old.
pub async fn set(ctx: &CommandContext<'_>, text: &ScheduleText) -> Result<Handled, AppError> {
    let zone = person_zone(ctx).await?;
    let request = Request {
        kind: ScheduleKind::Checkin,
        // Check-ins are DMs; a DM to a person is addressed by their user id.
        channel: ctx.user,
        person: Some(ctx.user),
        zone,
        template: Some(TEMPLATE),
    };
    let before = ctx
        .store
        .personal_schedules(ctx.workspace.id, ctx.user, ScheduleKind::Checkin)
        .await?;
    let created = match schedules::create(ctx, text, request).await? {
        Ok(created) => created,
        Err(problem) => return Ok(problem.into()),
    };
    for old in before {
        ctx.store
            .deactivate_schedule(ctx.workspace.id, &old.channel, old.id)
            .await?;
    }
    let goals = ctx.store.goals(ctx.workspace.id, ctx.user).await?;
    let open = goals.iter().filter(|g| g.done_at.is_none()).count();
    let about_goals = match open {
        0 => {
            "You have no open goals yet: `/learn goal add …` and the check-in asks about them too."
                .to_owned()
        }
        1 => "It also asks how your open goal is going.".to_owned(),
        n => format!("It also asks how your {n} open goals are going."),
    };
    let reply = Message {
        fallback: format!("Check-in set: {}", created.spec),
        blocks: vec![
            Block::Text(format!(
                ":white_check_mark: Your check-in is set: `{}` ({}). I'll ask a few questions in a DM. {about_goals}\n{}",
                created.spec,
                zone.name(),
                created.next_times(ctx, zone).await?
            )),
            Block::Context(
                "`/learn checkin off` stops it · `/learn pause 2w` skips it while you are away"
                    .into(),
            ),
        ],
    };
    Ok(Handled {
        reply,
        ..Handled::default()
    })
}

/// `/learn checkin off`.
pub async fn off(ctx: &CommandContext<'_>) -> Result<Handled, AppError> {
    let removed = ctx
        .store
        .deactivate_personal_schedules(ctx.workspace.id, ctx.user, ScheduleKind::Checkin)
        .await?;
    let reply = if removed == 0 {
        Message::text("You have no check-in set. `/learn checkin fridays 16:00` sets one.")
    } else {
        Message::text(
            ":wastebasket: Your check-in is off. `/learn checkin SCHEDULE` sets it again.",
        )
    };
    Ok(Handled {
        reply,
        ..Handled::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;

    fn goal(number: i64, done: bool) -> Goal {
        Goal {
            number,
            text: format!("goal {number}"),
            due_date: None,
            shared: false,
            created_at: Timestamp::from_unix_seconds(0),
            done_at: done.then_some(Timestamp::from_unix_seconds(1)),
            buddy: None,
        }
    }

    #[test]
    fn open_goals_get_a_rating_and_a_note() {
        let template = crate::app::templates::Templates::built_in().unwrap();
        let questions = questions(
            None,
            template.get(TEMPLATE),
            &[goal(1, false), goal(2, true), goal(3, false)],
        );
        let ids: Vec<&str> = questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "learned",
                "energy",
                "next",
                "goal.1.progress",
                "goal.1.note",
                "goal.3.progress",
                "goal.3.note"
            ]
        );
        assert!(questions[3].prompt.contains("\"goal 1\""));
        let answers = Answers::from([("goal.1.progress".to_owned(), "4".to_owned())]);
        assert!(
            thanks(&questions, &answers)
                .all_text()
                .contains("goal #1: 4/5")
        );
    }
}
