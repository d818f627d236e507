//! The digest: what a workspace learned in a period (new lessons by debrief, lessons
//! applied, shared goals reached, lessons that keep coming back, stale ones,
//! participation and how often follow-ups end in "applied"). `/learn digest SCHEDULE`
//! posts it to a channel; `/learn digest now` previews the last seven days.

use crate::app::AppError;
use crate::domain::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono_tz::Tz;

use super::command::ScheduleText;
use super::handle::{CommandContext, Handled};
use super::recurrence;
use super::schedules::{self, Request, workspace_zone};
use super::scopes;
use super::words::count;
use super::zones::day;
use crate::platform::{Block, Message, plain, plain_keeping_mentions};
use crate::store::{
    Audience, DigestFacts, LessonHit, LessonMatch, Platform, ScheduleKind, Store, WorkspaceId,
};

/// The schedule `/learn digest` sets when none is given.
pub const DEFAULT_SCHEDULE: &str = "mondays 09:00";
/// The period a preview (and a first digest) covers.
pub const WEEK_SECS: i64 = 7 * 86_400;
/// Items per section; the rest are counted.
const SHOWN: usize = 8;
/// Lessons of the period a digest matches itself when the background pass has not got
/// to them yet (each takes a few full-text lookups).
pub(crate) const MATCHED_WHILE_BUILDING: u32 = 60;

/// A lesson seen in more than one debrief.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recurring {
    pub text: String,
    pub debriefs: usize,
}

/// New lessons with stored matches in other debriefs of the workspace, most widespread
/// first. A lesson that is itself a match of one already reported is not repeated.
pub fn recurring(new_lessons: &[LessonHit], matches: &[LessonMatch]) -> Vec<Recurring> {
    let mut of_lesson: HashMap<i64, Vec<&LessonMatch>> = HashMap::new();
    for found in matches {
        of_lesson.entry(found.lesson_id).or_default().push(found);
    }
    let mut found: Vec<Recurring> = Vec::new();
    let mut counted: BTreeSet<i64> = BTreeSet::new();
    for lesson in new_lessons {
        if counted.contains(&lesson.id) {
            continue;
        }
        let Some(its_matches) = of_lesson.get(&lesson.id) else {
            continue;
        };
        let mut debriefs = BTreeSet::from([lesson.debrief_id]);
        for other in its_matches {
            debriefs.insert(other.match_debrief_id);
            counted.insert(other.match_id);
        }
        if debriefs.len() > 1 {
            found.push(Recurring {
                text: lesson.text.clone(),
                debriefs: debriefs.len(),
            });
        }
    }
    found.sort_by_key(|r| std::cmp::Reverse(r.debriefs));
    found
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "n/a".into()
    } else {
        format!("{}%", (part * 100 + whole / 2) / whole)
    }
}

/// A section: title, up to [`SHOWN`] lines, and how many more there were.
fn section(title: &str, lines: &[String]) -> Option<Block> {
    if lines.is_empty() {
        return None;
    }
    let mut text = format!("*{title}*\n{}", lines[..lines.len().min(SHOWN)].join("\n"));
    if lines.len() > SHOWN {
        text.push_str(&format!("\n_and {} more_", lines.len() - SHOWN));
    }
    Some(Block::Text(text))
}

fn owner(owner: Option<&str>) -> String {
    owner.map_or_else(|| "someone".to_owned(), |o| format!("<@{o}>"))
}

/// The lessons of the period grouped under their debrief.
fn new_lessons_lines(lessons: &[LessonHit]) -> Vec<String> {
    let mut by_debrief: BTreeMap<i64, (String, String, Vec<String>)> = BTreeMap::new();
    for lesson in lessons {
        by_debrief
            .entry(lesson.debrief_id)
            .or_insert_with(|| {
                (
                    lesson.debrief_title.clone(),
                    lesson.channel.clone(),
                    Vec::new(),
                )
            })
            .2
            .push(format!("  • {}", plain(&lesson.text)));
    }
    by_debrief
        .into_values()
        .map(|(title, channel, items)| {
            let shown = items.len().min(SHOWN);
            let mut text = format!(
                "*{}* in <#{channel}>\n{}",
                plain(&title),
                items[..shown].join("\n")
            );
            if items.len() > shown {
                text.push_str(&format!("\n  _and {} more_", items.len() - shown));
            }
            text
        })
        .collect()
}

/// Applied ÷ answered, overall and per tag (tags with at least one answer).
fn effectiveness(facts: &DigestFacts) -> Option<String> {
    let answered = facts.answered.len() as i64;
    if answered == 0 {
        return None;
    }
    let applied = |answer: &str| answer == "applied";
    let overall = facts.answered.iter().filter(|a| applied(&a.answer)).count() as i64;
    let mut by_tag: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for answer in &facts.answered {
        for tag in answer.tags.split_whitespace() {
            let entry = by_tag.entry(tag).or_default();
            entry.1 += 1;
            if applied(&answer.answer) {
                entry.0 += 1;
            }
        }
    }
    let tags: Vec<String> = by_tag
        .iter()
        .take(SHOWN)
        .map(|(tag, (yes, all))| format!("#{} {yes}/{all}", plain(tag)))
        .collect();
    let per_tag = if tags.is_empty() {
        String::new()
    } else {
        format!(" · by tag: {}", tags.join(", "))
    };
    Some(format!(
        ":chart_with_upwards_trend: Lesson effectiveness: {overall} of {answered} answered follow-ups applied ({}){per_tag}",
        percent(overall, answered)
    ))
}

/// Renders a period's digest; `zone` dates it.
pub fn render(
    facts: &DigestFacts,
    recurring: &[Recurring],
    from: Timestamp,
    to: Timestamp,
    zone: Tz,
) -> Message {
    let period = format!("{} – {}", day(from, zone), day(to.plus_seconds(-1), zone));
    let applied: Vec<String> = facts
        .answered
        .iter()
        .filter(|a| a.answer == "applied")
        .map(|a| {
            let how = a
                .note
                .as_deref()
                .map(|n| format!("\n   _How:_ {}", plain(n)))
                .unwrap_or_default();
            format!(
                "• {} applied \"{}\" (from *{}*){how}",
                owner(a.owner.as_deref()),
                plain(&a.text),
                plain(&a.debrief_title)
            )
        })
        .collect();
    let goals: Vec<String> = facts
        .goals_reached
        .iter()
        .map(|g| format!("• <@{}> reached \"{}\"", g.person, plain(&g.text)))
        .collect();
    let recurring_lines: Vec<String> = recurring
        .iter()
        .map(|r| {
            let debriefs = count(r.debriefs as i64, "debrief", "debriefs");
            format!("• \"{}\": in {debriefs}", plain(&r.text))
        })
        .collect();
    // Named nowhere: a digest that pins a lesson not applied on a person is how a bot
    // gets muted, and how people stop writing lessons down.
    let stale: Vec<String> = facts
        .settled_unanswered
        .iter()
        .map(|l| {
            let why = if l.status == "stale" {
                "not applied after four follow-ups"
            } else {
                "its owner could not be reached"
            };
            format!("• \"{}\": {why}", plain(&l.text))
        })
        .collect();
    let kudos: Vec<String> = facts
        .kudos
        .iter()
        .map(|k| {
            let by = k
                .author
                .as_deref()
                .map(|a| format!(" — <@{a}>"))
                .unwrap_or_default();
            format!(
                "• {}{by} (from *{}*)",
                plain_keeping_mentions(&k.text),
                plain(&k.debrief_title)
            )
        })
        .collect();
    if is_quiet(facts) {
        return Message {
            fallback: format!("learnloop digest {period}: a quiet week"),
            blocks: vec![Block::Text(format!(
                ":sunrise: *A quiet week* ({period}): no new lessons, follow-ups or goals. \
                 A `/debrief` after your next release, incident or sprint gives the next digest \
                 something to celebrate."
            ))],
        };
    }
    let mut blocks = vec![Block::Header(format!("What we learned · {period}"))];
    let debriefs: BTreeSet<i64> = facts.new_lessons.iter().map(|l| l.debrief_id).collect();
    let new_title = format!(
        ":bulb: New lessons ({} from {})",
        facts.new_lessons.len(),
        count(debriefs.len() as i64, "debrief", "debriefs")
    );
    let stories: Vec<String> = applied
        .iter()
        .map(|line| format!(":tada: {}", line.trim_start_matches("• ")))
        .chain(
            kudos
                .iter()
                .map(|line| format!(":clap: {}", line.trim_start_matches("• "))),
        )
        .chain(
            goals
                .iter()
                .map(|line| format!(":dart: {}", line.trim_start_matches("• "))),
        )
        .collect();
    blocks.extend(
        [
            section(&new_title, &new_lessons_lines(&facts.new_lessons)),
            // What people did with what they learned, thanked each other for, and
            // reached: the week's stories, told together.
            section(":book: Stories", &stories),
            section(":repeat: Lessons that keep coming back", &recurring_lines),
            section(":fallen_leaf: Stale or unanswered", &stale),
        ]
        .into_iter()
        .flatten(),
    );
    blocks.push(Block::Divider);
    blocks.push(Block::Context(format!(
        ":busts_in_silhouette: {} held · {} reflected · follow-ups answered: {} of {} ({})",
        count(facts.debriefs_held, "debrief", "debriefs"),
        count(facts.people_reflected, "person", "people"),
        facts.follow_ups_answered,
        facts.follow_ups_asked,
        percent(facts.follow_ups_answered, facts.follow_ups_asked)
    )));
    if let Some(line) = effectiveness(facts) {
        blocks.push(Block::Context(line));
    }
    if let Some(line) = trend_line(&facts.trend) {
        blocks.push(Block::Context(line));
    }
    Message {
        fallback: format!(
            "learnloop digest {period}: {} new lessons, {} applied",
            facts.new_lessons.len(),
            applied.len()
        ),
        blocks,
    }
}

/// The applied rate of answered follow-ups week by week, as a sparkline with the
/// numbers: `▁▅▇ · 1/3 · 2/3 · 3/3`; a week with no answers is `·`. `None` when no
/// week had any.
pub fn trend_line(trend: &[(i64, i64)]) -> Option<String> {
    if trend.iter().all(|(answered, _)| *answered == 0) {
        return None;
    }
    let spark: String = trend
        .iter()
        .map(|(answered, applied)| match answered {
            0 => '·',
            n => super::sparkline::bar(*applied, *n),
        })
        .collect();
    let numbers: Vec<String> = trend
        .iter()
        .map(|(answered, applied)| match answered {
            0 => "–".to_owned(),
            n => format!("{applied}/{n}"),
        })
        .collect();
    Some(format!(
        ":chart_with_upwards_trend: Applied, week by week ({} weeks, answered follow-ups): `{spark}` {}",
        trend.len(),
        numbers.join(" · ")
    ))
}

/// Whether a period has nothing to tell: no lessons, kudos, answers, goals, stale
/// lessons or debriefs.
pub fn is_quiet(facts: &DigestFacts) -> bool {
    facts.new_lessons.is_empty()
        && facts.kudos.is_empty()
        && facts.answered.is_empty()
        && facts.goals_reached.is_empty()
        && facts.settled_unanswered.is_empty()
        && facts.debriefs_held == 0
}

/// A digest as built: its message, and whether it had nothing to tell.
pub struct Built {
    pub message: Message,
    pub quiet: bool,
}

/// Builds the digest of `[from, to)` for a workspace, as the conversation it is shown
/// in may see it (its own lessons, and public conversations' unless outsiders read it).
pub async fn build(
    store: &Store,
    workspace: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    zone: Tz,
    audience: Audience<'_>,
) -> Result<Built, AppError> {
    recurrence::match_period(store, workspace, from, to, MATCHED_WHILE_BUILDING).await?;
    let facts = store.digest_facts(workspace, from, to, audience).await?;
    let matches = store
        .matches_of_period(workspace, from, to, audience)
        .await?;
    let recurring = recurring(&facts.new_lessons, &matches);
    Ok(Built {
        message: render(&facts, &recurring, from, to, zone),
        quiet: is_quiet(&facts),
    })
}

/// `/learn digest now`: the last seven days, to the caller only.
pub async fn preview(ctx: &CommandContext<'_>) -> Result<Message, AppError> {
    let now = ctx.clock.now();
    let audience = scopes::audience_of_answer(ctx).await?;
    let mut message = build(
        ctx.store,
        ctx.workspace.id,
        now.plus_seconds(-WEEK_SECS),
        now.plus_seconds(1),
        workspace_zone(ctx),
        audience,
    )
    .await?
    .message;
    // Slack shows the preview to the person alone; a Teams channel reply is public.
    let note = if ctx.workspace.platform == Platform::Teams && !ctx.in_direct_message() {
        "Preview of this channel's digest: everyone in this channel sees it. `digest mondays \
         09:00` posts it here every week."
    } else {
        "Preview: only you see this. `/learn digest mondays 09:00` posts it to this channel \
         every week."
    };
    message.blocks.push(Block::Context(note.into()));
    Ok(message)
}

/// `/learn digest [SCHEDULE]` in a channel.
pub async fn set(ctx: &CommandContext<'_>, text: &ScheduleText) -> Result<Handled, AppError> {
    if ctx.in_direct_message() {
        return Ok(Message::text(
            ":warning: A digest is for a team: set it in the team's channel, e.g. \
             `/learn digest mondays 09:00`. `/learn digest now` previews it anywhere.",
        )
        .into());
    }
    let zone = workspace_zone(ctx);
    let request = Request {
        kind: ScheduleKind::Digest,
        channel: ctx.channel,
        person: None,
        zone,
        template: None,
    };
    let created = match schedules::create(ctx, text, request).await? {
        Ok(created) => created,
        Err(problem) => return Ok(problem.into()),
    };
    // Learnt now and kept fresh, so each scheduled digest knows whether people of other
    // organisations read this channel (then it shows only the channel's own lessons).
    scopes::of(ctx, ctx.channel).await?;
    let id = created.id.0;
    let reply = Message {
        fallback: format!("Digest set: {}", created.spec),
        blocks: vec![
            Block::Text(format!(
                ":white_check_mark: Digest set for this channel: `{}` ({}). Each one covers \
                 the time since the last: new lessons, what was applied, goals reached, lessons \
                 that keep coming back.\n{}",
                created.spec,
                zone.name(),
                created.next_times(ctx, zone).await?
            )),
            Block::Context(format!(
                "`/learn digest now` previews it · `/learn unschedule {id}` removes it"
            )),
        ],
    };
    Ok(Handled {
        reply,
        ..Handled::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AnsweredFollowUp, ReachedGoal};

    fn hit(id: i64, debrief: i64, text: &str) -> LessonHit {
        LessonHit {
            id,
            text: text.into(),
            tags: String::new(),
            owner: Some("U1".into()),
            status: "open".into(),
            debrief_id: debrief,
            debrief_title: format!("Debrief {debrief}"),
            channel: "C1".into(),
            created_at: Timestamp::from_unix_seconds(0),
        }
    }

    #[test]
    fn recurrences_count_debriefs_and_are_reported_once() {
        let new = [
            hit(1, 10, "Announce deploys"),
            hit(2, 11, "Announce the deploy"),
            hit(3, 11, "Pin versions"),
            hit(4, 12, "Page early"),
        ];
        let matched = |lesson, other, debrief| LessonMatch {
            lesson_id: lesson,
            match_id: other,
            match_debrief_id: debrief,
        };
        let matches = [
            // 1 and 2 say the same, and so did an older lesson of debrief 5.
            matched(1, 2, 11),
            matched(1, 50, 5),
            matched(2, 1, 10),
            matched(2, 50, 5),
            // 4 matches only another lesson of its own debrief.
            matched(4, 60, 12),
        ];
        assert_eq!(
            recurring(&new, &matches),
            vec![Recurring {
                text: "Announce deploys".into(),
                debriefs: 3,
            }]
        );
    }

    #[test]
    fn a_quiet_week_says_so() {
        let message = render(
            &DigestFacts::default(),
            &[],
            Timestamp::from_unix_seconds(0),
            Timestamp::from_unix_seconds(WEEK_SECS),
            Tz::UTC,
        );
        assert!(
            message.all_text().contains("A quiet week"),
            "{}",
            message.all_text()
        );
    }

    #[test]
    fn a_full_digest_has_every_section_and_the_rates() {
        let answer = |answer: &str, tags: &str| AnsweredFollowUp {
            answer: answer.into(),
            note: None,
            text: format!("lesson {answer}"),
            owner: Some("U2".into()),
            tags: tags.into(),
            debrief_title: "Outage".into(),
        };
        let facts = DigestFacts {
            new_lessons: vec![
                hit(1, 10, "Pin versions"),
                hit(2, 10, "Test restores"),
                hit(3, 11, "Page early"),
            ],
            answered: vec![
                answer("applied", "deploy"),
                answer("not_yet", "deploy testing"),
                answer("applied", ""),
            ],
            settled_unanswered: vec![LessonHit {
                status: "stale".into(),
                ..hit(4, 9, "Old habit")
            }],
            goals_reached: vec![ReachedGoal {
                person: "U3".into(),
                text: "Learn Rust".into(),
            }],
            kudos: Vec::new(),
            debriefs_held: 2,
            people_reflected: 5,
            follow_ups_asked: 4,
            follow_ups_answered: 3,
            trend: Vec::new(),
        };
        let recurring = [Recurring {
            text: "Page early".into(),
            debriefs: 3,
        }];
        let text = render(
            &facts,
            &recurring,
            Timestamp::from_unix_seconds(0),
            Timestamp::from_unix_seconds(WEEK_SECS),
            Tz::UTC,
        )
        .all_text();
        for expected in [
            "New lessons (3 from 2 debriefs)",
            "*Debrief 10* in <#C1>",
            "<@U2> applied \"lesson applied\"",
            "<@U3> reached \"Learn Rust\"",
            "\"Page early\": in 3 debriefs",
            "\"Old habit\": not applied after four follow-ups",
            "2 debriefs held · 5 people reflected · follow-ups answered: 3 of 4 (75%)",
            "2 of 3 answered follow-ups applied (67%) · by tag: #deploy 1/2, #testing 0/1",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(
            !text.contains("<@U1>"),
            "nobody is named next to a lesson not applied: {text}"
        );
    }

    #[test]
    fn the_trend_is_a_sparkline_with_its_numbers() {
        assert_eq!(trend_line(&[(0, 0), (0, 0)]), None);
        let line = trend_line(&[(0, 0), (3, 1), (2, 2), (4, 0)]).unwrap();
        assert!(line.contains("`·▃█▁`"), "{line}");
        assert!(line.contains("– · 1/3 · 2/2 · 0/4"), "{line}");
        assert!(line.contains("4 weeks"), "{line}");
    }
}
