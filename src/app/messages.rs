//! The texts learnloop says about its own commands: help and usage errors.

use super::command::UsageError;
use super::usage::{self, Usage};
use crate::platform::{Block, Button, Message, plain};

fn usage_line(usage: &Usage) -> String {
    format!("`{}`  {}", usage.form, usage.summary)
}

/// Who sees a lesson, as help says it (each summary says it for its own lessons).
const WHO_SEES_LESSONS: &str = ":lock: *Who sees a lesson:* lessons from public channels are shared \
     with the whole workspace (search, digests, other debriefs' cards). Lessons from private \
     channels, channels shared with another organisation, DMs and group DMs are shown only \
     inside the conversation where they were said.";

/// The same for Teams.
const WHO_SEES_LESSONS_TEAMS: &str = ":lock: Lessons from standard channels are shared with \
     the team; lessons from private or shared channels, group chats, and channels whose kind \
     Teams does not tell me are shown only where they were said.";

/// Full help, or the help of one topic.
pub fn help(topic: Option<&[Usage]>) -> Message {
    let mut blocks = Vec::new();
    match topic {
        None => {
            blocks.push(Block::Header("learnloop: learn from your own work".into()));
            blocks.push(Block::Text(
                "Run a debrief right after a release, incident or sprint; learnloop turns \
                 what people say into lessons with owners and asks later whether they were applied."
                    .into(),
            ));
            for (title, usages) in usage::SECTIONS {
                let lines: Vec<String> = usages.iter().map(usage_line).collect();
                blocks.push(Block::Text(format!("*{title}*\n{}", lines.join("\n"))));
            }
            blocks.push(Block::Context(WHO_SEES_LESSONS.into()));
            blocks.push(Block::Context(format!(
                "{} `/debrief …` is the same as `/learn debrief …`. `/learn help TOPIC` explains one command.",
                usage::SCHEDULE_FORMS
            )));
        }
        Some(usages) => {
            let lines: Vec<String> = usages.iter().map(usage_line).collect();
            blocks.push(Block::Text(lines.join("\n")));
            if usages.iter().any(|u| u.form.contains("SCHEDULE")) {
                blocks.push(Block::Context(usage::SCHEDULE_FORMS.into()));
            }
        }
    }
    Message {
        fallback: "learnloop help: /learn help".into(),
        blocks,
    }
}

/// What was wrong and the right form, for an ephemeral reply.
pub fn usage_error(error: &UsageError) -> Message {
    let forms: Vec<String> = error
        .usages
        .iter()
        .map(|u| format!("`{}`", u.form))
        .collect();
    // The problem quotes what the person typed.
    let problem = plain(&error.problem);
    let mut text = format!(":warning: {problem}\nUsage: {}", forms.join("  ·  "));
    if let Some(hint) = error.hint {
        text.push('\n');
        text.push_str(hint);
    }
    Message {
        fallback: format!("{problem} (usage: {})", forms.join(", ")),
        blocks: vec![
            Block::Text(text),
            Block::Context("`/learn help` lists every command.".into()),
        ],
    }
}

/// The bot was asked to do something in a workspace it has no install for.
pub fn not_installed() -> Message {
    Message::text(
        "learnloop is not installed for this workspace yet. An admin sets \
         LEARNLOOP_SLACK_BOT_TOKEN for a single-workspace install (see the README).",
    )
}

/// A slash command other than the two learnloop registers reached it.
pub fn unknown_slash_command(name: &str) -> Message {
    Message::text(format!(
        ":warning: learnloop answers `/learn` and `/debrief`, but this was `{}`. \
         Check the slash commands in the Slack app's settings.",
        plain(name)
    ))
}

/// A `--template` that does not exist, with the ones that do.
pub fn unknown_template(name: &str, available: &[&str]) -> Message {
    let names: Vec<String> = available.iter().map(|n| format!("`{n}`")).collect();
    Message::text(format!(
        ":warning: There is no template `{}`. Available: {}.",
        plain(name),
        names.join(", ")
    ))
}

/// The prompt a retro schedule posts in its channel.
pub fn retro_reminder(
    schedule_id: i64,
    spec: &str,
    template: Option<&str>,
    day: chrono::NaiveDate,
) -> Message {
    let title = format!("Retro {}", day.format("%-d %b"));
    let command = match template {
        Some(template) => format!("/debrief --template {template} {title}"),
        None => format!("/debrief {title}"),
    };
    Message {
        fallback: format!("Time for your retrospective: {command}"),
        blocks: vec![
            Block::Text(format!(
                ":hourglass_flowing_sand: *Time for your retrospective.* Take five minutes to look \
                 back together: press *Start the retro* (whoever presses it facilitates), or type \
                 `{command}`."
            )),
            Block::Actions(vec![
                Button::new(
                    "Start the retro",
                    crate::app::debrief::START,
                    crate::app::debrief::start_value(template, &title),
                )
                .primary(),
            ]),
            Block::Context(format!(
                "Retro reminder `{}` · `/learn unschedule {schedule_id}` stops these reminders",
                plain(spec)
            )),
        ],
    }
}

/// `help` in Teams: the commands that work there, and a note on how.
fn teams_help(title: &str, commands: &str, note: &str) -> Message {
    Message {
        fallback: format!("{title}: say help"),
        blocks: vec![
            Block::Header(title.into()),
            Block::Text(format!("Mention me with one of these:\n{commands}")),
            Block::Context(note.into()),
            Block::Context(WHO_SEES_LESSONS_TEAMS.into()),
        ],
    }
}

/// `help` through a Teams outgoing webhook: what works there, and what needs the bot.
pub fn teams_webhook_help() -> Message {
    teams_help(
        "learnloop (Teams outgoing webhook)",
        "`lessons [QUERY]`: search the lessons this channel may see\n\
         `digest now`: what the team learned in the last seven days, as this channel may see it",
        "This is webhook mode: I answer in the channel, for everyone, and never post \
         later. Debriefs, personal goals, follow-ups, check-ins, retro reminders and \
         scheduled digests need the learnloop bot added to the team (see the README).",
    )
}

/// `help` from the Teams bot: the same commands as `/learn`, typed after a mention.
pub fn teams_bot_help() -> Message {
    teams_help(
        "learnloop for Microsoft Teams",
        "`debrief [--template NAME] [--anonymous] [--closes-in DURATION] TITLE`: a debrief \
         in this channel (`debrief` alone opens a form; `debrief reflect`, `debrief nudge`, \
         `debrief close`)\n\
         `lessons [QUERY]`: search the lessons this channel may see\n\
         `goal add TEXT [by YYYY-MM-DD]` · `goal list` · `goal done N` · `goal share N`: your learning goals\n\
         `checkin SCHEDULE` · `checkin off`: your personal check-in, in our 1:1 chat\n\
         `retro SCHEDULE`: a retro reminder in this channel · `schedules` · `unschedule ID`\n\
         `digest now` · `digest [SCHEDULE]`: what the team learned, now or every week\n\
         `followups`: your open lesson follow-ups · `pause DURATION` · `resume`",
        "Mention me in a channel or write in our 1:1 chat; what is only yours (goals, \
         check-ins, follow-ups) is answered in our 1:1 chat. `help TOPIC` explains one.",
    )
}

/// Where the answer to a personal command typed in a Teams channel went.
pub fn answered_in_private() -> Message {
    Message::text(":lock: That is yours alone, so I answered in our 1:1 chat.")
}

/// A card button the Teams bot does not know (from an older card, say).
pub fn button_not_in_teams() -> Message {
    Message::text(
        ":warning: That button belongs to a card I can no longer act on (an older one, \
         perhaps). Say `help` for what I can do.",
    )
}

/// A command that needs proactive messages, sent through a Teams outgoing webhook.
pub fn needs_teams_bot() -> Message {
    Message::text(
        ":warning: That needs the learnloop bot: this outgoing webhook answers in the \
         channel, for everyone, and never posts later. Ask your Teams admin to add the \
         learnloop bot to the team, or say `help` for what works here.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::command::parse_learn;

    fn all_text(message: &Message) -> String {
        message.all_text()
    }

    #[test]
    fn full_help_lists_every_command() {
        let text = all_text(&help(None));
        for form in [
            "/debrief [--template NAME] [--anonymous] [--closes-in DURATION] TITLE",
            "/learn debrief nudge",
            "/learn lessons [QUERY]",
            "/learn goal add TEXT [by YYYY-MM-DD]",
            "/learn checkin SCHEDULE",
            "/learn retro SCHEDULE [--template NAME]",
            "/learn digest now",
            "/learn unschedule ID",
            "/learn pause DURATION",
            "/learn followups",
        ] {
            assert!(text.contains(form), "help lacks `{form}`:\n{text}");
        }
    }

    #[test]
    fn a_usage_error_names_the_problem_and_the_right_form() {
        let error = parse_learn("goal done two").unwrap_err();
        let text = all_text(&usage_error(&error));
        assert!(text.contains("`two` is not a goal number"), "{text}");
        assert!(text.contains("`/learn goal done N`"), "{text}");
    }
}
