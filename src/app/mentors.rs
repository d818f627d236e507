//! Peers who have done it before. People opt in with `/learn mentor on [#topic …]`;
//! when someone starts a debrief or adds a goal whose words match lessons an opted-in
//! person applied, the starter alone is told who, with a button. Only that button
//! introduces them (a group DM on Slack, a message in each 1:1 chat on Teams). Lessons
//! of anonymous debriefs and lessons outside the starter's privacy scope never count,
//! and nobody is suggested to the same person twice in 30 days.

use crate::app::AppError;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::handle::{CommandContext, Handled};
use super::names::DisplayNames;
use super::{scopes, search};
use crate::platform::{Block, Button, Message, outgoing, plain};
use crate::store::{MentorLesson, NewOutboxMessage};

/// The suggestion's button.
pub const INTRO: &str = "mentor.intro";
/// Nobody is suggested to the same person again within this.
const SUGGEST_AGAIN_AFTER_SECS: i64 = 30 * 24 * 3600;
/// People listed by `/learn mentors`.
const LISTED: usize = 20;
/// Longest "what it is about" carried by the button.
const ABOUT_CHARS: usize = 150;

/// `/learn mentor on [#topic …]`.
pub async fn on(ctx: &CommandContext<'_>, topics: &[String]) -> Result<Message, AppError> {
    let now = ctx.clock.now();
    ctx.store
        .set_mentor(ctx.workspace.id, ctx.user, &topics.join(" "), now)
        .await?;
    let what = if topics.is_empty() {
        "the topics of the lessons you applied".to_owned()
    } else {
        hashtags(topics.iter().map(String::as_str))
    };
    Ok(Message {
        fallback: "You offer to be asked".into(),
        blocks: vec![
            Block::Text(format!(
                ":raised_hand: You offer to be asked about {what}. When someone starts a \
                 debrief or adds a goal on it, they may see that you applied lessons like \
                 theirs; you are only introduced if they ask for it."
            )),
            Block::Context(
                "`/learn mentor off` stops it · `/learn mentors` shows who offers".into(),
            ),
        ],
    })
}

/// `/learn mentor off`.
pub async fn off(ctx: &CommandContext<'_>) -> Result<Message, AppError> {
    let removed = ctx.store.remove_mentor(ctx.workspace.id, ctx.user).await?;
    Ok(Message::text(if removed {
        ":ok_hand: You no longer offer to be asked. `/learn mentor on` offers again."
    } else {
        "You were not offering to be asked. `/learn mentor on #topic` offers."
    }))
}

/// `/learn mentors [#topic]`: the people who offer, with what they applied that this
/// conversation may see.
pub async fn list(ctx: &CommandContext<'_>, topic: Option<&str>) -> Result<Message, AppError> {
    let audience = scopes::audience_of_answer(ctx).await?;
    let rows = ctx.store.mentors(ctx.workspace.id, topic, audience).await?;
    let lines: Vec<String> = rows
        .iter()
        .filter(|row| match topic {
            Some(topic) => row.applied > 0 || row.topics.split(' ').any(|t| t == topic),
            None => true,
        })
        .take(LISTED)
        .map(|row| {
            let on = topic.map(|t| format!(" #{t}")).unwrap_or_default();
            let lessons = if row.applied == 1 {
                "lesson"
            } else {
                "lessons"
            };
            let offers = if row.topics.is_empty() {
                String::new()
            } else {
                format!(" · offers {}", hashtags(row.topics.split(' ')))
            };
            format!(
                "• <@{}>: applied {}{on} {lessons}{offers}",
                row.person, row.applied
            )
        })
        .collect();
    let about = topic.map(|t| format!(" on #{t}")).unwrap_or_default();
    if lines.is_empty() {
        return Ok(Message::text(format!(
            "Nobody offers to be asked{about} yet. `/learn mentor on #topic` offers you."
        )));
    }
    Ok(Message {
        fallback: format!("People who offer to be asked{about}"),
        blocks: vec![
            Block::Text(format!(
                "*People who offer to be asked{about}*\n{}",
                lines.join("\n")
            )),
            Block::Context("`/learn mentor on #topic` adds you".into()),
        ],
    })
}

fn hashtags<'a>(topics: impl Iterator<Item = &'a str>) -> String {
    topics
        .filter(|t| !t.is_empty())
        .map(|t| format!("#{t}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the intro button carries.
#[derive(Debug, Serialize, Deserialize)]
struct IntroRequest {
    mentor: String,
    topic: Option<String>,
    about: String,
}

/// Who best matches: per opted-in person, the matched lessons on their topics (all of
/// them when they named none), with the most common tag among those.
fn best_match(lessons: &[MentorLesson]) -> Option<(String, usize, Option<String>)> {
    let mut by_person: HashMap<&str, (usize, HashMap<&str, usize>)> = HashMap::new();
    for lesson in lessons {
        let offered: Vec<&str> = lesson.topics.split_whitespace().collect();
        let tags: Vec<&str> = lesson.tags.split_whitespace().collect();
        if !offered.is_empty() && !tags.iter().any(|t| offered.contains(t)) {
            continue;
        }
        let (count, tag_counts) = by_person.entry(&lesson.person).or_default();
        *count += 1;
        for tag in tags {
            *tag_counts.entry(tag).or_default() += 1;
        }
    }
    by_person
        .into_iter()
        .max_by(|(a, (x, _)), (b, (y, _))| x.cmp(y).then(b.cmp(a)))
        .map(|(person, (count, tags))| {
            let topic = tags
                .into_iter()
                .max_by(|(a, x), (b, y)| x.cmp(y).then(b.cmp(a)))
                .map(|(tag, _)| tag.to_owned());
            (person.to_owned(), count, topic)
        })
}

/// The suggestion for someone starting work on `about` (a debrief title, a goal), if
/// an opted-in colleague applied matching lessons the starter may see; remembered, so
/// the same colleague is not suggested to them again for 30 days.
pub async fn suggestion(
    ctx: &CommandContext<'_>,
    about: &str,
) -> Result<Option<Message>, AppError> {
    let Some(terms) = search::related_terms(about) else {
        return Ok(None);
    };
    let now = ctx.clock.now();
    let audience = scopes::audience(ctx, ctx.channel).await?;
    let lessons = ctx
        .store
        .mentor_lessons(
            ctx.workspace.id,
            &terms,
            audience,
            ctx.user,
            now.plus_seconds(-SUGGEST_AGAIN_AFTER_SECS),
        )
        .await?;
    let Some((mentor, count, topic)) = best_match(&lessons) else {
        return Ok(None);
    };
    ctx.store
        .record_mentor_suggestion(ctx.workspace.id, ctx.user, &mentor, now)
        .await?;
    let on = topic
        .as_deref()
        .map(|t| format!(" #{t}"))
        .unwrap_or_default();
    let lessons = if count == 1 { "lesson" } else { "lessons" };
    let request = IntroRequest {
        mentor: mentor.clone(),
        topic,
        about: about.chars().take(ABOUT_CHARS).collect(),
    };
    let value = serde_json::to_string(&request).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(Message {
        fallback: format!("A colleague applied {count}{on} {lessons} like this"),
        blocks: vec![
            Block::Text(format!(
                ":bulb: <@{mentor}> applied {count}{on} {lessons} like this; want to ask them?"
            )),
            Block::Actions(vec![
                Button::new("Ask for an intro", INTRO, value).primary(),
            ]),
            Block::Context(format!(
                "Only you see this. Nothing goes to <@{mentor}> unless you press the button."
            )),
        ],
    }))
}

/// Adds the suggestion for `about` to what the starter alone sees: the reply when it
/// is private, else a message in their 1:1 chat.
pub async fn suggest_privately(
    ctx: &CommandContext<'_>,
    handled: &mut Handled,
    about: &str,
) -> Result<(), AppError> {
    let Some(suggestion) = suggestion(ctx, about).await? else {
        return Ok(());
    };
    if ctx.answered_privately() {
        handled.reply.blocks.push(Block::Divider);
        handled.reply.blocks.extend(suggestion.blocks);
        return Ok(());
    }
    ctx.send_to(ctx.user, &suggestion).await?;
    handled.queued = true;
    Ok(())
}

/// Said for a button this person was never offered (or whose offer is too old).
fn stale_button() -> Message {
    Message::text("That button belongs to a message I can no longer act on.")
}

/// The intro button, pressed by the starter: one short message to both.
pub async fn intro(ctx: &CommandContext<'_>, value: &str) -> Result<Handled, AppError> {
    let Ok(request) = serde_json::from_str::<IntroRequest>(value) else {
        return Ok(stale_button().into());
    };
    let mentor = request.mentor.as_str();
    let since = ctx.clock.now().plus_seconds(-SUGGEST_AGAIN_AFTER_SECS);
    if !ctx
        .store
        .was_suggested(ctx.workspace.id, ctx.user, mentor, since)
        .await?
    {
        return Ok(stale_button().into());
    }
    if mentor == ctx.user || !ctx.store.is_mentor(ctx.workspace.id, mentor).await? {
        return Ok(Message::text(format!(
            "<@{mentor}> no longer offers to be asked, so I did not introduce you."
        ))
        .into());
    }
    let starter = ctx.user;
    let on = request
        .topic
        .as_deref()
        .map(|t| format!(" #{t}"))
        .unwrap_or_default();
    let message = Message {
        fallback: "An introduction from learnloop".into(),
        blocks: vec![
            Block::Text(format!(
                ":wave: <@{starter}>, meet <@{mentor}>, who applied{on} lessons like yours and \
                 offered to be asked. <@{starter}> is working on *{}* and would like to hear \
                 how it went for you.",
                plain(&request.about)
            )),
            Block::Context(format!(
                "<@{starter}> asked for this introduction · `/learn mentor off` stops suggestions of you"
            )),
        ],
    };
    let group = ctx
        .directory
        .group_conversation(ctx.workspace, &[starter, mentor])
        .await;
    let to: Vec<&str> = match &group {
        Some(conversation) => vec![conversation.as_str()],
        None => vec![starter, mentor],
    };
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let now = ctx.clock.now();
    // One introduction a day for the pair, however often the button is pressed.
    let day = ctx.clock.now().unix_seconds() / 86_400;
    let mut tx = ctx.store.begin().await?;
    for conversation in &to {
        let posted = outgoing::post(ctx.workspace.platform, conversation, &message, &|id| {
            names.name(id)
        });
        let key = format!("mentor-intro:{starter}:{mentor}:{day}:{conversation}");
        tx.enqueue(
            NewOutboxMessage {
                method: posted.method,
                dedupe_key: Some(&key),
                ..NewOutboxMessage::post(ctx.workspace.id, conversation, &posted.body)
            },
            now,
            ctx.give_up_at(now),
        )
        .await?;
    }
    tx.commit().await?;
    let where_ = if group.is_some() {
        "in a group DM with the two of you"
    } else {
        "in each of your chats with me"
    };
    Ok(Handled {
        reply: Message::text(format!(
            ":handshake: I introduced you to <@{mentor}> {where_}."
        )),
        queued: true,
        ..Handled::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(person: &str, topics: &str, tags: &str) -> MentorLesson {
        MentorLesson {
            person: person.into(),
            topics: topics.into(),
            tags: tags.into(),
        }
    }

    #[test]
    fn the_person_with_most_matching_lessons_on_their_topics_is_suggested() {
        let lessons = [
            lesson("U1", "", "deploy"),
            lesson("U1", "", "deploy ops"),
            lesson("U2", "testing", "deploy"),
            lesson("U2", "testing", "deploy"),
            lesson("U2", "testing", "deploy"),
            lesson("U3", "", ""),
        ];
        // U2's lessons are not on the topics U2 offered.
        assert_eq!(
            best_match(&lessons),
            Some(("U1".into(), 2, Some("deploy".into())))
        );
        assert_eq!(best_match(&lessons[5..]), Some(("U3".into(), 1, None)));
        assert_eq!(best_match(&[]), None);
    }
}
