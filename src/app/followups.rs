//! Lesson follow-ups: the DM that asks a lesson's owner whether it was applied, their
//! answer (Applied / Not yet / Not relevant, then an optional note), the spaced re-asks
//! after "not yet", and `/learn followups`.

use crate::app::AppError;
use crate::domain::Timestamp;
use chrono_tz::Tz;

use super::handle::CommandContext;
use super::zones::day;
use crate::platform::outgoing;
use crate::platform::{Block, Button, Message, plain};
use crate::store::{
    Anchor, AnchorField, AskedLesson, NewOutboxMessage, OutboxId, StoreError, TrackedLesson,
    Transition,
};

/// Button action ids.
pub const APPLIED: &str = "followup.applied";
pub const NOT_YET: &str = "followup.not_yet";
pub const NOT_RELEVANT: &str = "followup.not_relevant";
pub const NOTE: &str = "followup.note";
/// "Still relevant?" on a lesson gone stale: keep asking, or retire it.
pub const KEEP: &str = "followup.keep";
pub const RETIRE: &str = "followup.retire";
/// A kept stale lesson is asked about again after this many days.
const KEEP_DAYS: i64 = 28;

/// Days until the next question after the 1st, 2nd and 3rd "not yet".
const RE_ASK_DAYS: [i64; 3] = [7, 14, 28];
/// The "not yet" that makes a lesson stale.
const STALE_AFTER_NOT_YETS: i64 = 4;
/// Lessons listed by `/learn followups`; Slack allows 50 blocks, two per lesson.
const LISTED: u32 = 20;
/// Longest note kept.
pub const MAX_NOTE_CHARS: usize = 1000;

/// What the owner said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Applied,
    NotYet,
    NotRelevant,
}

impl Answer {
    /// The answer a button stands for.
    pub fn from_action(action_id: &str) -> Option<Self> {
        match action_id {
            APPLIED => Some(Self::Applied),
            NOT_YET => Some(Self::NotYet),
            NOT_RELEVANT => Some(Self::NotRelevant),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::NotYet => "not_yet",
            Self::NotRelevant => "not_relevant",
        }
    }
}

/// The value a button carries: the lesson and the number of "not yet" answers it was
/// shown at, so a click on an older question is recognised.
fn button_value(lesson: &TrackedLesson) -> String {
    format!("{}:{}", lesson.id, lesson.not_yet_count)
}

/// Reads a button's value back.
pub fn read_value(value: &str) -> Option<(i64, i64)> {
    let (lesson, version) = value.split_once(':')?;
    Some((lesson.parse().ok()?, version.parse().ok()?))
}

fn is_action(lesson: &TrackedLesson) -> bool {
    lesson.kind == "action"
}

/// Where the lesson came from: `*Release 2.3* in <#C1> (Tue 10 Nov)`.
fn origin(lesson: &TrackedLesson, zone: Tz) -> String {
    format!(
        "*{}* in <#{}> ({})",
        plain(&lesson.debrief_title),
        lesson.channel,
        day(lesson.debrief_created_at, zone)
    )
}

fn answer_buttons(lesson: &TrackedLesson) -> Block {
    let value = button_value(lesson);
    let done = if is_action(lesson) { "Done" } else { "Applied" };
    Block::Actions(vec![
        Button::new(done, APPLIED, &value).primary(),
        Button::new("Not yet", NOT_YET, &value),
        Button::new("Not relevant", NOT_RELEVANT, &value),
    ])
}

fn quoted(text: &str) -> String {
    format!(">{}", plain(text).replace('\n', "\n>"))
}

/// The DM that asks the owner about one lesson.
pub fn question(lesson: &TrackedLesson, zone: Tz) -> Message {
    let (what, asked) = if is_action(lesson) {
        ("an action item", "Has it been done?")
    } else {
        ("a lesson", "Have you applied it since?")
    };
    let again = match lesson.not_yet_count {
        0 => "Not yet asks again in a week, then two, then four.".to_owned(),
        n => format!(
            "Asked again: you said not yet {}. After four not-yets it is marked stale.",
            times(n)
        ),
    };
    Message {
        fallback: format!("Follow-up: {}", plain(&lesson.text)),
        blocks: vec![
            Block::Text(format!(
                ":seedling: *Follow-up on {what}* from {}\n{}\n{asked}",
                origin(lesson, zone),
                quoted(&lesson.text)
            )),
            answer_buttons(lesson),
            Block::Context(again),
        ],
    }
}

fn times(n: i64) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// Where an answer leaves a lesson that had `not_yet_count` not-yets.
fn transition(answer: Answer, version: i64, now: Timestamp) -> Transition<'static> {
    let settled = |status| Transition {
        version,
        answer: answer.as_str(),
        status,
        not_yet_count: version,
        follow_up_at: None,
        settles: true,
    };
    match answer {
        Answer::Applied => settled("applied"),
        Answer::NotRelevant => settled("not_relevant"),
        Answer::NotYet => {
            let count = version + 1;
            if count >= STALE_AFTER_NOT_YETS {
                return Transition {
                    not_yet_count: count,
                    ..settled("stale")
                };
            }
            let wait_days = RE_ASK_DAYS[usize::try_from(version).unwrap_or(0).min(2)];
            Transition {
                version,
                answer: answer.as_str(),
                status: "not_yet",
                not_yet_count: count,
                follow_up_at: Some(now.plus_seconds(wait_days * 86_400)),
                settles: false,
            }
        }
    }
}

/// What the person sees after clicking, in place of the question (or beside the list).
#[derive(Debug)]
pub struct Answered {
    pub message: Message,
    /// Whether the lesson moved: only then does the question it answered change.
    pub recorded: bool,
}

fn said(message: Message) -> Answered {
    Answered {
        message,
        recorded: false,
    }
}

fn status_words(status: &str) -> &'static str {
    match status {
        "applied" => "applied",
        "not_relevant" => "not relevant",
        "stale" => "stale (not applied after four asks)",
        "unreachable" => "unreachable (the question could not be delivered)",
        "not_yet" => "not yet",
        _ => "open",
    }
}

/// Records a click on Applied / Not yet / Not relevant.
/// `clicked` is the platform's id of the message the button was on (Slack's `ts`, a
/// Teams activity id), when it can be replaced; `None` for words and lists.
pub async fn answer(
    ctx: &CommandContext<'_>,
    value: &str,
    answer: Answer,
    clicked: Option<&str>,
) -> Result<Answered, AppError> {
    let Some((id, version)) = read_value(value) else {
        return Ok(said(Message::text("That button is not one of mine.")));
    };
    let lesson = match ctx.store.tracked_lesson(ctx.workspace.id, id).await {
        Ok(lesson) => lesson,
        Err(StoreError::NotFound) => {
            return Ok(said(Message::text("That lesson no longer exists.")));
        }
        Err(other) => return Err(other.into()),
    };
    if lesson.owner.as_deref() != Some(ctx.user) {
        let owner = lesson
            .owner
            .as_deref()
            .map_or_else(|| "its owner".to_owned(), |o| format!("<@{o}>"));
        return Ok(said(Message::text(format!(
            "Only {owner} can answer this follow-up."
        ))));
    }
    let zone = super::zones::person_zone(ctx).await?;
    let now = ctx.clock.now();
    let change = transition(answer, version, now);
    let recorded = if lesson.not_yet_count == version {
        ctx.store
            .record_answer(ctx.workspace.id, id, ctx.user, change, now)
            .await?
    } else {
        None
    };
    let Some(follow_up) = recorded else {
        // A second click, or an answer already given elsewhere: say where it stands.
        let current = ctx.store.tracked_lesson(ctx.workspace.id, id).await?;
        return Ok(said(Message::text(format!(
            "This follow-up was already answered; the lesson stands at *{}*.\n{}",
            status_words(&current.status),
            quoted(&current.text)
        ))));
    };
    if change.status == "applied" {
        tell_the_debrief(ctx, &lesson, None).await?;
    }
    // Asked with others in a day's message: that message shows this one answered, the
    // others still open. Clicked there, it is the reply; answered elsewhere (the list,
    // words), it is updated where it is.
    let asked = ctx.store.asked_with(ctx.workspace.id, id).await?;
    if asked.len() > 1
        && let Some(day) = ctx.store.asked_in(ctx.workspace.id, follow_up).await?
    {
        let again = daily(&asked, 0, zone);
        let state = ctx.store.outbox_state(ctx.workspace.id, day).await?;
        if clicked.is_some() && state.sent_ts.as_deref() == clicked {
            return Ok(Answered {
                message: again,
                recorded: true,
            });
        }
        update_day_message(ctx, day, &again).await?;
    }
    let outcome = match (change.status, change.follow_up_at) {
        ("applied", _) => ":tada: *Applied.* Nice work: the team digest will celebrate it.".to_owned(),
        ("not_relevant", _) => ":ok_hand: *Not relevant any more.* I won't ask about it again.".to_owned(),
        ("stale", _) => ":fallen_leaf: *Not yet, for the fourth time.* Is it still relevant? *Keep* asks again in four weeks; *Retire* stops asking. (Only you see this; no digest names you next to it.)".to_owned(),
        (_, Some(next)) => format!(
            ":hourglass_flowing_sand: *Not yet.* I'll ask again on {}.",
            day(next, zone)
        ),
        _ => "Recorded.".to_owned(),
    };
    Ok(Answered {
        message: Message {
            fallback: format!("Follow-up recorded: {}", status_words(change.status)),
            blocks: vec![
                Block::Text(format!(
                    "{outcome}\n{}\n_from {}_",
                    quoted(&lesson.text),
                    origin(&lesson, zone)
                )),
                if change.status == "stale" {
                    Block::Actions(vec![
                        Button::new("Keep", KEEP, lesson.id).primary(),
                        Button::new("Retire", RETIRE, lesson.id),
                    ])
                } else {
                    Block::Actions(vec![Button::new("Add a note", NOTE, follow_up)])
                },
            ],
        },
        recorded: true,
    })
}

/// Keep or Retire on a lesson that went stale (its owner's, asked once, privately).
pub async fn keep_or_retire(
    ctx: &CommandContext<'_>,
    action: &str,
    value: &str,
) -> Result<Answered, AppError> {
    let (Some(lesson), true) = (value.parse::<i64>().ok(), [KEEP, RETIRE].contains(&action)) else {
        return Ok(said(Message::text(
            "That button belongs to a message I can no longer act on.",
        )));
    };
    let keep = action == KEEP;
    let now = ctx.clock.now();
    let changed = ctx
        .store
        .keep_or_retire(
            ctx.workspace.id,
            lesson,
            ctx.user,
            keep.then_some(KEEP_DAYS * 86_400),
            now,
        )
        .await?;
    if !changed {
        return Ok(said(Message::text(
            "That lesson is no longer waiting for this answer (or is not yours).",
        )));
    }
    let lesson = ctx.store.tracked_lesson(ctx.workspace.id, lesson).await?;
    let said_now = if keep {
        let zone = super::zones::person_zone(ctx).await?;
        format!(
            ":seedling: *Kept.* I'll ask again on {}.",
            day(now.plus_seconds(KEEP_DAYS * 86_400), zone)
        )
    } else {
        ":ok_hand: *Retired.* I won't ask about it again.".to_owned()
    };
    Ok(Answered {
        message: Message {
            fallback: format!(
                "{}: {}",
                if keep { "Kept" } else { "Retired" },
                plain(&lesson.text)
            ),
            blocks: vec![Block::Text(format!("{said_now}\n{}", quoted(&lesson.text)))],
        },
        recorded: true,
    })
}

/// Most lessons one day's message asks about; the rest wait for the next day.
pub const PER_DAY: usize = 5;

/// A person's follow-ups of one day, in one message: each lesson with where it came
/// from and its buttons, or (once answered) how it was answered and a note button;
/// `more` lessons beyond these are one line pointing to `/learn followups`.
pub fn daily(asked: &[AskedLesson], more: usize, zone: Tz) -> Message {
    let open = asked.iter().filter(|a| a.answer.is_none()).count();
    let mut blocks = vec![Block::Text(if open == 0 {
        format!(
            ":seedling: *Your follow-ups*: all {} answered. Thank you.",
            asked.len()
        )
    } else {
        format!(
            ":seedling: *Your follow-ups for today* ({open} of {} open): have you applied \
             what you learned? Not yet asks again in a week, then two, then four.",
            asked.len()
        )
    })];
    for (number, item) in asked.iter().enumerate() {
        let lesson = &item.lesson;
        let number = number + 1;
        match item.answer.as_deref() {
            None => {
                let again = match lesson.not_yet_count {
                    0 => String::new(),
                    n => format!(
                        " · you said not yet {}; after four it is marked stale",
                        times(n)
                    ),
                };
                blocks.push(Block::Text(format!(
                    "*{number}.* {}\n_from {}{again}_",
                    quoted(&lesson.text),
                    origin(lesson, zone)
                )));
                blocks.push(answer_buttons(lesson));
            }
            Some(answer) => {
                // Settled (stale) says so; an answer that leaves it open says which.
                let state = if lesson.status == "stale" {
                    status_words("stale")
                } else {
                    status_words(answer)
                };
                blocks.push(Block::Text(format!(
                    "*{number}.* {}\n_{state}_",
                    quoted(&lesson.text),
                )));
                blocks.push(Block::Actions(vec![Button::new(
                    "Add a note",
                    NOTE,
                    item.follow_up,
                )]));
            }
        }
    }
    if more > 0 {
        blocks.push(Block::Context(format!(
            "and {more} more on your next working days, or now with `/learn followups`."
        )));
    }
    Message {
        fallback: format!(
            "{} for today",
            crate::app::words::count(asked.len() as i64, "follow-up", "follow-ups")
        ),
        blocks,
    }
}

/// Queues `message` in place of a day's follow-up message sent earlier, when the answer
/// came in the person's DM (the conversation an update must name); an answer from a
/// list in a channel leaves it, and its buttons then say the answer was given.
async fn update_day_message(
    ctx: &CommandContext<'_>,
    day: OutboxId,
    message: &Message,
) -> Result<(), AppError> {
    if !ctx.in_direct_message() {
        return Ok(());
    }
    replace_sent(ctx, day, ctx.channel, message, &|_| None).await
}

/// Queues `message` in place of the message `sent` earlier in `channel` (folded into
/// any replacement of it still waiting).
async fn replace_sent(
    ctx: &CommandContext<'_>,
    sent: OutboxId,
    channel: &str,
    message: &Message,
    name_of: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<(), AppError> {
    let updated = outgoing::update(ctx.workspace.platform, channel, message, name_of);
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    tx.enqueue_update(
        NewOutboxMessage {
            method: updated.method,
            anchor: Some(Anchor {
                message: sent,
                field: AnchorField::Ts,
            }),
            ..NewOutboxMessage::post(ctx.workspace.id, channel, &updated.body)
        },
        now,
        ctx.give_up_at(now),
    )
    .await?;
    tx.commit().await.map_err(AppError::from)
}

/// The dedupe key of a lesson's "applied" reply in its debrief's thread: once per lesson.
fn applied_key(lesson: i64) -> String {
    format!("applied:{lesson}")
}

/// The reply in the debrief's summary thread that a lesson was applied: by whom (no
/// name in an anonymous debrief) and how, when a note says.
pub(crate) fn applied_reply(
    lesson: &TrackedLesson,
    owner: Option<&str>,
    note: Option<&str>,
) -> Message {
    let by = owner.map(|o| format!(" by <@{o}>")).unwrap_or_default();
    let what = if is_action(lesson) { "Done" } else { "Applied" };
    let how = note
        .map(|n| format!("\n_How:_ {}", plain(n)))
        .unwrap_or_default();
    Message {
        fallback: format!("{what}: {}", plain(&lesson.text)),
        blocks: vec![Block::Text(format!(
            ":white_check_mark: *{what}*{by}:\n{}{how}",
            quoted(&lesson.text)
        ))],
    }
}

/// Tells the lesson's debrief, in its summary thread, that it was applied (once), or
/// updates that reply with the note given since.
async fn tell_the_debrief(
    ctx: &CommandContext<'_>,
    lesson: &TrackedLesson,
    note: Option<&str>,
) -> Result<(), AppError> {
    let Some(origin) = ctx.store.lesson_origin(ctx.workspace.id, lesson.id).await? else {
        return Ok(());
    };
    let Some(card) = origin.card_outbox_id else {
        return Ok(());
    };
    let owner = lesson.owner.as_deref().filter(|_| !origin.anonymous);
    let message = applied_reply(lesson, owner, note);
    let names = super::names::DisplayNames::of(ctx.store, ctx.workspace).await?;
    let name_of = |id: &str| names.name(id);
    let now = ctx.clock.now();
    let key = applied_key(lesson.id);
    let earlier = ctx
        .store
        .outbox_by_dedupe_key(ctx.workspace.id, &key)
        .await?;
    match (earlier, note) {
        (Some(reply), Some(_)) => {
            replace_sent(ctx, reply, &origin.channel, &message, &name_of).await?;
        }
        (Some(_), None) | (None, Some(_)) => {
            // Told already; or (a note long after) the reply was pruned with its row:
            // a second "applied" in the thread would only confuse.
        }
        (None, None) => {
            let posted =
                outgoing::post(ctx.workspace.platform, &origin.channel, &message, &name_of);
            ctx.store
                .enqueue(
                    NewOutboxMessage {
                        method: posted.method,
                        dedupe_key: Some(&key),
                        anchor: Some(Anchor {
                            message: OutboxId(card),
                            field: AnchorField::ThreadTs,
                        }),
                        ..NewOutboxMessage::post(ctx.workspace.id, &origin.channel, &posted.body)
                    },
                    now,
                    ctx.give_up_at(now),
                )
                .await?;
        }
    }
    Ok(())
}

/// A note on one of the person's answers: stored, and, on an applied lesson, shown in
/// its debrief's thread. `false` when the answer is not theirs (or is gone).
pub async fn note(ctx: &CommandContext<'_>, follow_up: i64, note: &str) -> Result<bool, AppError> {
    if !ctx
        .store
        .note_answer(ctx.workspace.id, follow_up, ctx.user, note)
        .await?
    {
        return Ok(false);
    }
    if let Some((lesson, Some(answer))) = ctx
        .store
        .follow_up_answer(ctx.workspace.id, follow_up, ctx.user)
        .await?
        && answer == "applied"
    {
        let lesson = ctx.store.tracked_lesson(ctx.workspace.id, lesson).await?;
        tell_the_debrief(ctx, &lesson, Some(note)).await?;
    }
    Ok(true)
}

/// An answer typed in words: "yes", "applied", "done"; "not yet", "later"; "no",
/// "not relevant"; with a leading number to pick among several ("2 yes").
fn read_words(text: &str) -> Option<(Option<usize>, Answer)> {
    let text = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    let (number, rest) = match text.split_once(char::is_whitespace) {
        Some((first, rest)) if first.chars().all(|c| c.is_ascii_digit()) => {
            (first.parse().ok(), rest.trim())
        }
        _ => (None, text.as_str()),
    };
    let answer = match rest {
        "yes" | "y" | "applied" | "done" | "did it" => Answer::Applied,
        "not yet" | "later" | "soon" => Answer::NotYet,
        "no" | "n" | "not relevant" | "irrelevant" => Answer::NotRelevant,
        _ => return None,
    };
    Some((number, answer))
}

/// A reply in words to the follow-ups the person was asked and has not answered: the
/// answer recorded, or which one they mean. `None` when it is no such reply (or they
/// have nothing waiting), so the words are read as a command.
pub async fn answer_in_words(
    ctx: &CommandContext<'_>,
    text: &str,
) -> Result<Option<Message>, AppError> {
    let Some((number, answer)) = read_words(text) else {
        return Ok(None);
    };
    let waiting = ctx
        .store
        .waiting_follow_ups(ctx.workspace.id, ctx.user)
        .await?;
    let chosen = match (number, waiting.as_slice()) {
        (_, []) => return Ok(None),
        (None, [only]) => only,
        (Some(n), list) if (1..=list.len()).contains(&n) => &list[n - 1],
        (_, list) => {
            let lines: Vec<String> = list
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{}. {}", i + 1, plain(&l.text)))
                .collect();
            return Ok(Some(Message::text(format!(
                "Which one? Reply with its number and your answer, e.g. `2 yes`:\n{}",
                lines.join("\n")
            ))));
        }
    };
    let answered = self::answer(ctx, &button_value(chosen), answer, None).await?;
    Ok(Some(answered.message))
}

/// Each open lesson with when it is asked and its answer buttons (two blocks each).
pub fn open_blocks(open: &[TrackedLesson], zone: Tz) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(open.len() * 2);
    for lesson in open {
        let when = match lesson.follow_up_at {
            Some(at) => format!("I'll ask on {}", day(at, zone)),
            None => "waiting for your answer".to_owned(),
        };
        let not_yet = match lesson.not_yet_count {
            0 => String::new(),
            n => format!(" · not yet {}", times(n)),
        };
        blocks.push(Block::Text(format!(
            "{}\n_from {} · {when}{not_yet}_",
            quoted(&lesson.text),
            origin(lesson, zone)
        )));
        blocks.push(answer_buttons(lesson));
    }
    blocks
}

/// `/learn followups`: my lessons still waiting for an outcome, with the same buttons.
pub async fn list(ctx: &CommandContext<'_>) -> Result<Message, AppError> {
    let open = ctx
        .store
        .open_follow_ups(ctx.workspace.id, ctx.user, LISTED)
        .await?;
    if open.is_empty() {
        return Ok(Message::text(
            "You have no open follow-ups. When a debrief closes, the lessons and actions you own \
             are followed up here.",
        ));
    }
    let zone = super::zones::person_zone(ctx).await?;
    let mut blocks = vec![Block::Text(format!(
        "*Your open follow-ups* ({})",
        open.len()
    ))];
    blocks.extend(open_blocks(&open, zone));
    Ok(Message {
        fallback: format!("Your {} open follow-ups", open.len()),
        blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_yet_waits_one_two_four_weeks_then_goes_stale() {
        let waits: Vec<Option<i64>> = (0..3)
            .map(|v| {
                transition(Answer::NotYet, v, Timestamp::from_unix_seconds(0))
                    .follow_up_at
                    .map(Timestamp::unix_seconds)
            })
            .collect();
        assert_eq!(
            waits,
            [Some(7 * 86_400), Some(14 * 86_400), Some(28 * 86_400)]
        );
        let fourth = transition(Answer::NotYet, 3, Timestamp::from_unix_seconds(0));
        assert_eq!((fourth.status, fourth.not_yet_count), ("stale", 4));
        assert!(fourth.settles && fourth.follow_up_at.is_none());
        let applied = transition(Answer::Applied, 2, Timestamp::from_unix_seconds(0));
        assert_eq!((applied.status, applied.not_yet_count), ("applied", 2));
        assert!(applied.settles);
    }

    #[test]
    fn button_values_round_trip() {
        assert_eq!(read_value("42:3"), Some((42, 3)));
        assert_eq!(read_value("42"), None);
        assert_eq!(read_value("x:1"), None);
    }

    #[test]
    fn an_anonymous_debriefs_applied_reply_names_nobody() {
        let lesson = TrackedLesson {
            id: 1,
            workspace_id: 1,
            kind: "lesson".into(),
            text: "Canary <first>".into(),
            owner: Some("U2".into()),
            status: "applied".into(),
            not_yet_count: 0,
            follow_up_at: None,
            debrief_title: "Outage".into(),
            channel: "C1".into(),
            debrief_created_at: Timestamp::from_unix_seconds(0),
        };
        let named = applied_reply(&lesson, Some("U2"), None).all_text();
        assert!(named.contains("*Applied* by <@U2>"), "{named}");
        let anonymous = applied_reply(&lesson, None, Some("Ran it *twice*")).all_text();
        assert!(!anonymous.contains("<@"), "{anonymous}");
        assert!(anonymous.contains("Canary &lt;first&gt;"), "{anonymous}");
        assert!(anonymous.contains("How:"), "{anonymous}");
    }
}
