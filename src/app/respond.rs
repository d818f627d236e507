//! What the bot answers to a parsed command. Features that later releases bring say so
//! honestly instead of pretending to work.

use super::command::{CheckinCommand, Command, DebriefCommand, DigestCommand, GoalCommand};
use super::messages;
use super::usage;
use crate::platform::Message;

/// Answers a command with a message meant only for the person who typed it.
pub fn reply_to(command: &Command) -> Message {
    match command {
        Command::Help { topic } => messages::help(*topic),
        Command::Debrief(debrief) => {
            let usage = match debrief {
                DebriefCommand::Start { .. } => usage::DEBRIEF,
                DebriefCommand::Reflect => usage::DEBRIEF_REFLECT,
                DebriefCommand::Close => usage::DEBRIEF_CLOSE,
            };
            messages::not_enabled("Debriefs", usage)
        }
        Command::Lessons { .. } => {
            messages::not_enabled("Lesson search and follow-ups", usage::LESSONS)
        }
        Command::Followups => {
            messages::not_enabled("Lesson search and follow-ups", usage::FOLLOWUPS)
        }
        Command::Goal(goal) => {
            let usage = match goal {
                GoalCommand::Add { .. } => usage::GOAL_ADD,
                GoalCommand::List => usage::GOAL_LIST,
                GoalCommand::Done { .. } => usage::GOAL_DONE,
                GoalCommand::Share { .. } => usage::GOAL_SHARE,
            };
            messages::not_enabled("Learning goals", usage)
        }
        Command::Checkin(checkin) => {
            let usage = match checkin {
                CheckinCommand::Set { .. } => usage::CHECKIN,
                CheckinCommand::Off => usage::CHECKIN_OFF,
            };
            messages::not_enabled("Check-ins", usage)
        }
        Command::Digest(digest) => {
            let usage = match digest {
                DigestCommand::Set { .. } => usage::DIGEST,
                DigestCommand::Now => usage::DIGEST_NOW,
            };
            messages::not_enabled("Digests", usage)
        }
        Command::Retro { .. } => messages::not_enabled("Schedules", usage::RETRO),
        Command::Schedules => messages::not_enabled("Schedules", usage::SCHEDULES),
        Command::Unschedule { .. } => messages::not_enabled("Schedules", usage::UNSCHEDULE),
        Command::Pause(_) => messages::not_enabled("Pauses", usage::PAUSE),
        Command::Resume => messages::not_enabled("Pauses", usage::RESUME),
    }
}

/// Answers a message sent to the bot (DM or mention) the way `/learn` would.
pub fn reply_to_text(text: &str) -> Message {
    match super::command::parse_learn(text) {
        Ok(command) => reply_to(&command),
        Err(error) => messages::usage_error(&error),
    }
}
