//! The summary posted in the card's thread when a debrief closes: answers to the
//! questions that make no items, grouped by question (ratings as an average and a
//! distribution), then lessons, action items with owners and follow-up dates, and
//! kudos, each listed once. Names are left out of anonymous debriefs. Long summaries
//! are split across messages within Slack's limits instead of failing.

use super::Debrief;
use super::answers::Answers;
use crate::app::templates::{Becomes, QuestionKind};
use crate::app::words::count;
use crate::platform::{Block, Message, plain, plain_keeping_mentions};
use crate::store::SettledAction;

/// Slack allows 3000 characters per section; leave room for the line that is cut.
const MAX_SECTION_CHARS: usize = 2900;
/// Slack allows 50 blocks per message.
const MAX_BLOCKS: usize = 50;
/// One answer longer than this is cut in the summary (the database keeps it whole).
const MAX_LINE_CHARS: usize = 1500;

/// One reflection as the summary sees it.
pub struct Reflected {
    /// `None` in anonymous debriefs.
    pub author: Option<String>,
    pub answers: Answers,
}

/// A lesson or action item as the summary lists it.
pub struct Listed {
    pub text: String,
    pub author: Option<String>,
    pub owner: Option<String>,
    /// Already formatted in the workspace's zone, e.g. `Mon 7 Dec`.
    pub follow_up: String,
    /// How many near-identical lines it stands for (merged at close).
    pub count: usize,
}

/// What closing made of the answers.
#[derive(Default)]
pub struct Made {
    pub lessons: Vec<Listed>,
    pub actions: Vec<Listed>,
    /// Thanks and celebrations: listed in the 🎉 section, never followed up.
    pub kudos: Vec<Listed>,
    /// Lines not made into items (past the per-answer or per-debrief cap).
    pub cut: usize,
    /// Named owners that were not confirmed as people who may own an item here.
    pub refused_owners: usize,
    /// Candidates the facilitator dropped in the review.
    pub dropped: usize,
    /// What was said during the debrief about earlier debriefs' open actions.
    pub since: Vec<SettledAction>,
}

/// The summary as one or more messages, in posting order.
pub fn summary(
    debrief: &Debrief,
    reflections: &[Reflected],
    made: &Made,
    who_sees: &str,
) -> Vec<Message> {
    let (lessons, actions) = (&made.lessons[..], &made.actions[..]);
    let by = |author: &Option<String>| match author {
        Some(user) if !debrief.anonymous => format!(" — <@{user}>"),
        _ => String::new(),
    };
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    // Lessons, actions and kudos are listed once, in their own sections below.
    let answered_here = debrief
        .questions
        .iter()
        .filter(|q| matches!(q.becomes, None | Some(Becomes::Intention)));
    for question in answered_here {
        let mut given: Vec<(&Option<String>, &String)> = reflections
            .iter()
            .filter_map(|r| r.answers.get(&question.id).map(|a| (&r.author, a)))
            .collect();
        if debrief.anonymous {
            // In submission order, the k-th answer of every question would be the same
            // person's, and the card's live count tells when each person submitted.
            given.sort_by(|a, b| a.1.cmp(b.1));
        }
        let lines = match &question.kind {
            _ if given.is_empty() => vec!["_No answers._".to_owned()],
            QuestionKind::Text { .. } => given
                .iter()
                .map(|(author, answer)| {
                    let answer: String = answer.chars().take(MAX_LINE_CHARS).collect();
                    format!(
                        "• {}{}",
                        plain_keeping_mentions(&answer).replace('\n', "\n   "),
                        by(author)
                    )
                })
                .collect(),
            QuestionKind::Rating => rating_lines(given.iter().map(|(_, a)| a.as_str())),
            QuestionKind::Choice(options) => options
                .iter()
                .map(|option| {
                    let count = given.iter().filter(|(_, a)| *a == option).count();
                    format!("• {}: {count}", plain(option))
                })
                .collect(),
        };
        sections.push((format!("*{}*", plain(&question.prompt)), lines));
    }
    let item_lines = |items: &[Listed], with_owner: bool| -> Vec<String> {
        items
            .iter()
            .map(|item| {
                let said = if item.count > 1 {
                    format!(" _(×{})_", item.count)
                } else {
                    String::new()
                };
                let text = plain_keeping_mentions(&item.text) + &said;
                if with_owner {
                    // Anonymous debriefs store no author, so an owner there was named
                    // with an @mention on purpose and is shown.
                    let owner = match &item.owner {
                        Some(owner) => format!("owner <@{owner}>"),
                        None => "no owner yet".to_owned(),
                    };
                    format!("• {text} — {owner} · follow-up {}", item.follow_up)
                } else {
                    format!("• {text}{}", by(&item.author))
                }
            })
            .collect()
    };
    if !lessons.is_empty() {
        sections.push((":bulb: *Lessons*".into(), item_lines(lessons, false)));
    }
    if !actions.is_empty() {
        sections.push((
            ":white_check_mark: *Action items*".into(),
            item_lines(actions, true),
        ));
    }
    if !made.since.is_empty() {
        sections.push((
            ":repeat: *Since last time*".into(),
            super::since::settled_lines(&made.since),
        ));
    }
    if !made.kudos.is_empty() {
        sections.push((":tada: *Kudos*".into(), item_lines(&made.kudos, false)));
    }

    let people = match reflections.len() {
        1 => "1 person reflected".to_owned(),
        n => format!("{n} people reflected"),
    };
    let mut blocks = vec![
        Block::Header(format!("Summary: {}", debrief.title)),
        Block::Context(format!(
            "{} · {people}{}",
            plain(&debrief.template_title),
            if debrief.anonymous {
                " · anonymous"
            } else {
                ""
            }
        )),
    ];
    for (heading, lines) in sections {
        blocks.extend(section_blocks(&heading, &lines));
    }
    if made.cut > 0 {
        blocks.push(Block::Context(format!(
            ":warning: {} more {} not made into lessons or action items: at most {} per answer \
             and {} per debrief.",
            made.cut,
            if made.cut == 1 {
                "line was"
            } else {
                "lines were"
            },
            super::MAX_ITEMS_PER_ANSWER,
            super::MAX_ITEMS_PER_DEBRIEF
        )));
    }
    if made.dropped > 0 {
        blocks.push(Block::Context(format!(
            ":wastebasket: {} left out in the facilitator's review.",
            count(made.dropped as i64, "candidate was", "candidates were")
        )));
    }
    if made.refused_owners > 0 {
        blocks.push(Block::Context(format!(
            ":warning: {} named {} not a person who can own an item here (a channel, a \
             group, a bot, a deactivated account, or someone outside this private \
             conversation), so those items belong to whoever wrote them.",
            made.refused_owners,
            if made.refused_owners == 1 {
                "owner is"
            } else {
                "owners are"
            },
        )));
    }
    if !lessons.is_empty() || !actions.is_empty() {
        blocks.push(Block::Context(who_sees.to_owned()));
    }
    let parts: Vec<Vec<Block>> = blocks.chunks(MAX_BLOCKS).map(<[Block]>::to_vec).collect();
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| Message {
            fallback: if count == 1 {
                format!("Summary: {}", plain(&debrief.title))
            } else {
                format!("Summary: {} ({}/{count})", plain(&debrief.title), i + 1)
            },
            blocks,
        })
        .collect()
}

/// Average and distribution of 1–5 ratings.
fn rating_lines<'a>(answers: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut counts = [0usize; 5];
    for answer in answers {
        if let Ok(n @ 1..=5) = answer.parse::<usize>() {
            counts[n - 1] += 1;
        }
    }
    let total: usize = counts.iter().sum();
    if total == 0 {
        return vec!["_No answers._".into()];
    }
    let sum: usize = counts.iter().enumerate().map(|(i, c)| (i + 1) * c).sum();
    let mut lines = vec![format!(
        "Average *{:.1}* of 5 from {total} {}",
        sum as f64 / total as f64,
        if total == 1 { "answer" } else { "answers" }
    )];
    for (i, count) in counts.iter().enumerate().rev() {
        lines.push(format!(
            "`{}` {} {count}",
            i + 1,
            "▇".repeat(*count.min(&20))
        ));
    }
    lines
}

/// A heading and its lines as section blocks of at most [`MAX_SECTION_CHARS`] each,
/// broken between lines.
fn section_blocks(heading: &str, lines: &[String]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current = heading.to_owned();
    for line in lines {
        if current.chars().count() + 1 + line.chars().count() > MAX_SECTION_CHARS
            && !current.is_empty()
        {
            blocks.push(Block::Text(std::mem::take(&mut current)));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        blocks.push(Block::Text(current));
    }
    blocks
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
