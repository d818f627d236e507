//! What the bot does with a parsed command or a message sent to it.

use crate::app::AppError;
use std::time::Duration;

use super::command::{CheckinCommand, Command, DebriefCommand, DigestCommand, MentorCommand};
use super::debrief::{self, StartedCard};
use super::templates::Templates;
use super::{
    checkins, digest, followups, goals, lessons, mentors, messages, pause, recap, schedules,
};
use crate::clock::Clock;
use crate::config::DebriefSettings;
use crate::domain::Timestamp;
use crate::domain::directory::Directory;
use crate::domain::directory::ZoneSource;
use crate::platform::Message;
use crate::store::{DebriefId, NewOutboxMessage, Platform, Store, Workspace};

/// Who asked, where, and what the handler may use.
pub struct CommandContext<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub workspace: &'a Workspace,
    /// The channel (or DM) the command was typed in.
    pub channel: &'a str,
    /// The platform user id of the person who typed it.
    pub user: &'a str,
    /// Where the person's own time zone comes from.
    pub zones: &'a dyn ZoneSource,
    /// What the platform says about conversations (whether one is public).
    pub directory: &'a dyn Directory,
    /// The inbound event (a Slack event, a Teams activity) being handled, if any: a
    /// conversation step remembers it, so a retried delivery is not applied twice.
    pub event: Option<&'a str>,
    pub templates: &'a Templates,
    pub debriefs: &'a DebriefSettings,
    /// How long a queued message may keep failing (the outbox's retry budget).
    pub give_up_after: Duration,
}

impl CommandContext<'_> {
    /// Whether the command came in the person's 1:1 chat with the bot (Slack DM
    /// channel ids start with `D`, Teams 1:1 conversation ids with `a:`).
    pub fn in_direct_message(&self) -> bool {
        match self.workspace.platform {
            Platform::Slack => self.channel.starts_with('D'),
            Platform::Teams => self.channel.starts_with("a:"),
        }
    }

    /// Whether the answer is seen by the person who asked alone: Slack answers every
    /// command, mention and DM privately (ephemeral, or in their DM with the bot), Teams
    /// only in the 1:1 chat; a Teams channel or group chat reads the answer with them.
    pub fn answered_privately(&self) -> bool {
        self.workspace.platform == Platform::Slack || self.in_direct_message()
    }

    /// When a message queued at `now` stops being retried.
    pub fn give_up_at(&self, now: Timestamp) -> Timestamp {
        now + self.give_up_after
    }

    /// Queues `message` to a conversation of this workspace (a person's user id is
    /// their chat with the bot), rendered for its platform.
    pub async fn send_to(&self, conversation: &str, message: &Message) -> Result<(), AppError> {
        let names = super::names::DisplayNames::of(self.store, self.workspace).await?;
        let posted = crate::platform::outgoing::post(
            self.workspace.platform,
            conversation,
            message,
            &|id| names.name(id),
        );
        let now = self.clock.now();
        self.store
            .enqueue(
                NewOutboxMessage {
                    method: posted.method,
                    ..NewOutboxMessage::post(self.workspace.id, conversation, &posted.body)
                },
                now,
                self.give_up_at(now),
            )
            .await?;
        Ok(())
    }
}

/// The reply (only for the person who asked) and what changed.
#[derive(Debug, Default)]
pub struct Handled {
    pub reply: Message,
    /// Messages were queued (committing them already woke the delivery worker).
    pub queued: bool,
    /// A debrief card was queued; the caller may wait to see whether Slack took it.
    pub card: Option<StartedCard>,
    /// The reply carries answers of this anonymous debrief (a step of its DM
    /// conversation): its outbox body is erased once delivered, and at the close.
    pub anonymous_debrief: Option<DebriefId>,
}

impl From<Message> for Handled {
    fn from(reply: Message) -> Self {
        Self {
            reply,
            ..Self::default()
        }
    }
}

/// Carries out a command.
pub async fn handle(ctx: &CommandContext<'_>, command: &Command) -> Result<Handled, AppError> {
    let reply = match command {
        Command::Help { topic } => messages::help(*topic),
        Command::Retro {
            schedule,
            template,
            zone,
        } => {
            return schedules::create_retro(ctx, schedule, template.as_ref(), *zone).await;
        }
        Command::Schedules => schedules::list(ctx).await?,
        Command::Unschedule { id } => return schedules::remove(ctx, *id).await,
        Command::Pause(duration) => pause::pause(ctx, *duration).await?,
        Command::Resume => pause::resume(ctx).await?,
        Command::Debrief(DebriefCommand::Start {
            title,
            template,
            anonymous,
            closes_in,
        }) => {
            let request = debrief::StartRequest {
                title,
                template: template.as_ref().map(|t| t.as_str()),
                anonymous: anonymous.then_some(true),
                closes_in: *closes_in,
            };
            return debrief::start(ctx, request).await;
        }
        Command::Debrief(DebriefCommand::StartForm) => return debrief::start_form(ctx),
        Command::Debrief(DebriefCommand::Nudge) => return debrief::nudge_command(ctx).await,
        Command::Debrief(DebriefCommand::Reflect) => return debrief::reflect_command(ctx).await,
        Command::Debrief(DebriefCommand::Close) => return debrief::close_command(ctx).await,
        Command::Lessons { query } => lessons::search(ctx, query.as_deref()).await?,
        Command::Followups => followups::list(ctx).await?,
        Command::Goal(goal) => goals::handle(ctx, goal).await?,
        Command::Checkin(CheckinCommand::Set { schedule }) => {
            return checkins::set(ctx, schedule).await;
        }
        Command::Checkin(CheckinCommand::Off) => return checkins::off(ctx).await,
        Command::Digest(DigestCommand::Set { schedule }) => {
            return digest::set(ctx, schedule).await;
        }
        Command::Digest(DigestCommand::Now) => digest::preview(ctx).await?,
        Command::Mentor(MentorCommand::On { topics }) => mentors::on(ctx, topics).await?,
        Command::Mentor(MentorCommand::Off) => mentors::off(ctx).await?,
        Command::Mentors { topic } => mentors::list(ctx, topic.as_deref()).await?,
        Command::Credit { named } => recap::credit(ctx, *named).await?,
    };
    Ok(reply.into())
}

/// Carries out the words of a message sent to the bot (DM or mention): the next step
/// of the person's debrief conversation if they are in one, else of their open
/// check-in, else a command.
pub async fn handle_text(ctx: &CommandContext<'_>, text: &str) -> Result<Handled, AppError> {
    if let Some(handled) = debrief::converse(ctx, text).await? {
        return Ok(handled);
    }
    if let Some(handled) = checkins::converse(ctx, text).await? {
        return Ok(handled);
    }
    if ctx.in_direct_message()
        && let Some(reply) = followups::answer_in_words(ctx, text).await?
    {
        return Ok(Handled {
            reply,
            queued: true,
            ..Handled::default()
        });
    }
    if ctx.in_direct_message() {
        if text.trim().is_empty() {
            return Ok(super::welcome::file_hint().into());
        }
        if super::welcome::is_greeting(text) {
            ctx.store
                .mark_welcomed(ctx.workspace.id, ctx.user, ctx.clock.now())
                .await?;
            return Ok(welcome_for(ctx).into());
        }
    }
    match super::command::parse_learn(text) {
        // `help` as the first thing someone writes in the bot's chat: the welcome first.
        Ok(Command::Help { topic: None })
            if ctx.in_direct_message()
                && ctx
                    .store
                    .mark_welcomed(ctx.workspace.id, ctx.user, ctx.clock.now())
                    .await? =>
        {
            let mut handled = handle(ctx, &Command::Help { topic: None }).await?;
            let mut reply = welcome_for(ctx);
            reply.blocks.push(crate::platform::Block::Divider);
            reply.blocks.append(&mut handled.reply.blocks);
            handled.reply = reply;
            Ok(handled)
        }
        Ok(command) => handle(ctx, &command).await,
        // Someone with a follow-up waiting may well be answering it: say how, after
        // what was wrong with the words as a command. The first such message in the
        // bot's chat comes with the welcome.
        Err(error) => {
            let mut reply = if ctx.in_direct_message()
                && ctx
                    .store
                    .mark_welcomed(ctx.workspace.id, ctx.user, ctx.clock.now())
                    .await?
            {
                let mut welcome = welcome_for(ctx);
                welcome.blocks.push(crate::platform::Block::Divider);
                welcome.blocks.extend(messages::usage_error(&error).blocks);
                welcome
            } else {
                messages::usage_error(&error)
            };
            if ctx.in_direct_message()
                && !ctx
                    .store
                    .waiting_follow_ups(ctx.workspace.id, ctx.user)
                    .await?
                    .is_empty()
            {
                reply.blocks.push(crate::platform::Block::Context(
                    "To answer your follow-up, reply `yes`, `not yet` or `no` (`2 yes` for \
                     the second of several), or use its buttons."
                        .into(),
                ));
            }
            Ok(reply.into())
        }
    }
}

/// The welcome in the words of the person's platform (Teams has no slash commands).
fn welcome_for(ctx: &CommandContext<'_>) -> Message {
    match ctx.workspace.platform {
        crate::store::Platform::Slack => super::welcome::message(),
        crate::store::Platform::Teams => super::welcome::teams_message(true),
    }
}
