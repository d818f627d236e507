//! First contact: a greeting in the bot's chat gets a welcome with three next steps,
//! and so does the first thing a person writes there that is not a command (before
//! the usual explanation); a message that carries only a file gets a hint, since the
//! bot reads text alone.

use crate::platform::{Block, Message};

/// What people write to say hello.
const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hallo",
    "hola",
    "yo",
    "hi there",
    "hello there",
    "hey there",
    "good morning",
    "good afternoon",
    "good evening",
    "start",
    "get started",
];

/// The Teams welcome when the bot is added to a team (posted in the channel it was
/// added through) or installed by someone for themselves (in their 1:1 chat): Teams
/// words, since there are no slash commands there.
pub fn teams_message(personal: bool) -> Message {
    let steps = if personal {
        "*Three things to try here*\n1. `goal add run a blameless postmortem` sets a \
         personal learning goal (only you see it).\n2. `checkin fridays 16:00` asks you a \
         few quiet questions each week, in your own time zone.\n3. Add me to your team, \
         then `@learnloop debrief Release 2.3` in a channel after a release or an incident."
    } else {
        "*Three things to try*\n1. After a release or an incident, write `@learnloop debrief \
         Release 2.3` in its channel: everyone reflects, and the summary lands in the \
         thread.\n2. `@learnloop digest mondays 09:00` posts what the team learned each \
         week.\n3. In our 1:1 chat, `goal add TEXT` and `checkin fridays 16:00` keep your \
         own learning going."
    };
    Message {
        fallback: "Welcome to learnloop".into(),
        blocks: vec![
            Block::Text(HELLO.into()),
            Block::Text(steps.into()),
            Block::Context("`help` lists everything I can do".into()),
        ],
    }
}

/// The welcome's first words, on both platforms.
const HELLO: &str = ":wave: Hi! I help your team learn from its own work: short debriefs after \
                     releases and incidents, then a gentle follow-up on whether each lesson \
                     was applied.";

/// Whether `text` is only a greeting ("Hi!", "hello there").
pub fn is_greeting(text: &str) -> bool {
    let words: String = text
        .trim()
        .trim_end_matches(['!', '.', '?', ' ', ':', ')', '('])
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    GREETINGS.contains(&words.as_str())
}

/// The welcome: what the bot is for, and three things to try.
pub fn message() -> Message {
    Message {
        fallback: "Welcome to learnloop".into(),
        blocks: vec![
            Block::Text(HELLO.into()),
            Block::Text(
                "*Three things to try*\n1. After a release or an incident, type \
                 `/debrief Release 2.3` in its channel: everyone reflects, and the summary \
                 lands in the thread.\n2. `/learn goal add run a blameless postmortem` sets a \
                 personal learning goal (only you see it).\n3. `/learn checkin fridays 16:00` \
                 asks you a few quiet questions each week, in your own time zone."
                    .into(),
            ),
            Block::Context("`/learn help` lists every command".into()),
        ],
    }
}

/// Posted once in a channel the bot is added to.
pub fn channel_intro() -> Message {
    Message {
        fallback: "learnloop joined this channel".into(),
        blocks: vec![
            Block::Text(
                ":wave: Hi, I'm learnloop. After a release or an incident, `/debrief TITLE` here \
                 starts a short debrief: everyone reflects, the summary lands in its thread, \
                 and each lesson's owner is asked later whether it was applied."
                    .into(),
            ),
            Block::Context(
                "`/learn digest` posts a weekly digest here · `/learn retro fridays 16:00` \
                 reminds the channel · lessons said in a private channel stay in it"
                    .into(),
            ),
        ],
    }
}

/// Said to a message with nothing to read but a file.
pub fn file_hint() -> Message {
    Message::text(
        ":page_facing_up: I can only read text, so that file went unread. Type your answer or \
         a command (`/learn help` lists them).",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_read_as_sentences() {
        for message in [message(), channel_intro(), file_hint()] {
            let text = message.all_text();
            assert!(!text.contains("  "), "a broken line continuation: {text}");
        }
    }

    #[test]
    fn greetings_are_recognised_and_commands_are_not() {
        for text in ["hi", "Hello!", "  hey there :)", "Good morning.", "HALLO"] {
            assert!(is_greeting(text), "{text}");
        }
        for text in ["help", "hi team, goal add x", "goal list", "", "yes"] {
            assert!(!is_greeting(text), "{text}");
        }
    }
}
