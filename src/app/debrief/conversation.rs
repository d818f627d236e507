//! The guided DM conversation: one question at a time, with `skip`, `back`, `cancel`
//! and `help` at every step and one "can you say a bit more?" for a very short text
//! answer. Pure: it takes the state and a message and says what changed and what to
//! reply; the caller stores the state, so a restart continues where it stopped.

use super::answers::{Answers, check};
use crate::app::templates::{Question, QuestionKind};
use crate::platform::{Block, Message, plain, plain_keeping_mentions};

/// A text answer with fewer words than this gets one nudge for more detail.
const SHORT_ANSWER_WORDS: usize = 3;

/// Where a person is in the questions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub step: usize,
    pub answers: Answers,
    /// The current (text) answer was short and the person was asked for more.
    pub nudged: bool,
}

/// What a message did to the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Keep going; reply and store the new progress.
    Continue,
    /// Every question is done: save these answers.
    Finished,
    /// The person stopped; nothing is saved.
    Cancelled,
}

/// A message taken already (a platform's retry, or another delivery that got there
/// first): the question where the person is, rather than the message applied again.
pub fn resume(questions: &[Question], progress: &Progress) -> Message {
    let mut reply = Message::text("Got it; here is where you are.");
    reply.blocks.extend(ask(questions, progress).blocks);
    reply
}

/// The question at `progress.step`, with what can be typed.
pub fn ask(questions: &[Question], progress: &Progress) -> Message {
    let Some(question) = questions.get(progress.step) else {
        return Message::text("That was the last question.");
    };
    let number = progress.step + 1;
    let total = questions.len();
    let how = match &question.kind {
        QuestionKind::Text { .. } => String::new(),
        QuestionKind::Rating => "\nAnswer 1 to 5 (or a word like _good_).".into(),
        QuestionKind::Choice(options) => {
            let listed: Vec<String> = options
                .iter()
                .enumerate()
                .map(|(i, o)| format!("`{}` {}", i + 1, plain(o)))
                .collect();
            format!("\nAnswer with one of: {}", listed.join(" · "))
        }
    };
    let earlier = progress
        .answers
        .get(&question.id)
        .map(|a| format!("\n_Your answer so far:_ {}", plain_keeping_mentions(a)))
        .unwrap_or_default();
    let options = if question.required {
        "`back` · `cancel` · `help`"
    } else {
        "`skip` · `back` · `cancel` · `help`"
    };
    Message {
        fallback: format!("Question {number} of {total}: {}", plain(&question.prompt)),
        blocks: vec![
            Block::Text(format!(
                "*Question {number} of {total}*{}\n{}{how}{earlier}",
                if question.required { " (required)" } else { "" },
                plain(&question.prompt)
            )),
            Block::Context(options.into()),
        ],
    }
}

/// Takes one message from the person.
pub fn advance(questions: &[Question], progress: &mut Progress, input: &str) -> (Outcome, Message) {
    let Some(question) = questions.get(progress.step) else {
        return (Outcome::Finished, Message::text("Thanks!"));
    };
    let word = input.trim().to_lowercase();
    match word.as_str() {
        "help" | "?" => {
            let mut reply = Message::text(
                "I ask the questions one at a time; just type your answer. \
                 `skip` passes an optional question (keeping any earlier answer), `back` \
                 returns to the previous one, \
                 `cancel` stops without saving anything.",
            );
            reply.blocks.extend(ask(questions, progress).blocks);
            return (Outcome::Continue, reply);
        }
        "cancel" | "stop" | "quit" => {
            return (
                Outcome::Cancelled,
                Message::text("Cancelled: nothing was saved."),
            );
        }
        "back" => {
            progress.nudged = false;
            if progress.step == 0 {
                let mut reply = Message::text("This is the first question.");
                reply.blocks.extend(ask(questions, progress).blocks);
                return (Outcome::Continue, reply);
            }
            progress.step -= 1;
            return (Outcome::Continue, ask(questions, progress));
        }
        "skip" => {
            if question.required {
                let mut reply = Message::text("This one is required, so it can't be skipped.");
                reply.blocks.extend(ask(questions, progress).blocks);
                return (Outcome::Continue, reply);
            }
            // An earlier answer (from a previous reflection) stays as it was.
            return next(questions, progress);
        }
        _ => {}
    }
    if progress.nudged {
        // The person was asked for more: a plain "no" keeps the short answer, anything
        // else adds to it.
        progress.nudged = false;
        let enough = matches!(
            word.as_str(),
            "no" | "nope" | "that's it" | "that's all" | "done"
        );
        if !enough {
            let combined = match progress.answers.get(&question.id) {
                Some(short) => format!("{short} {}", input.trim()),
                None => input.trim().to_owned(),
            };
            match check(question, Some(&combined)) {
                Ok(Some(answer)) => {
                    progress.answers.insert(question.id.clone(), answer);
                }
                Ok(None) => {}
                Err(problem) => return retry(questions, progress, &problem),
            }
        }
        return next(questions, progress);
    }
    match check(question, Some(input)) {
        Ok(Some(answer)) => {
            let short = matches!(question.kind, QuestionKind::Text { .. })
                && answer.split_whitespace().count() < SHORT_ANSWER_WORDS;
            progress.answers.insert(question.id.clone(), answer);
            if short {
                progress.nudged = true;
                return (
                    Outcome::Continue,
                    Message::text(
                        "Can you say a bit more? A sentence about what happened helps the \
                         team most. (Or reply `no` to keep your answer as it is.)",
                    ),
                );
            }
            next(questions, progress)
        }
        Ok(None) => next(questions, progress),
        Err(problem) => retry(questions, progress, &problem),
    }
}

fn retry(questions: &[Question], progress: &Progress, problem: &str) -> (Outcome, Message) {
    let mut reply = Message::text(format!(":warning: {problem}"));
    reply.blocks.extend(ask(questions, progress).blocks);
    (Outcome::Continue, reply)
}

fn next(questions: &[Question], progress: &mut Progress) -> (Outcome, Message) {
    progress.step += 1;
    progress.nudged = false;
    if progress.step >= questions.len() {
        return (
            Outcome::Finished,
            Message::text("Thanks, that was the last question."),
        );
    }
    (Outcome::Continue, ask(questions, progress))
}

#[cfg(test)]
#[path = "conversation_tests.rs"]
mod tests;
