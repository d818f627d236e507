//! Goal buddies: `/learn goal buddy N @person` shares one goal with one colleague, who
//! then sees that goal's check-in ratings (never the notes) and hears when it is
//! reached, each in their chat with the bot.

use super::command::BuddyTarget;
use super::handle::CommandContext;
use crate::app::AppError;
use crate::domain::directory::MemberKind;
use crate::platform::{Message, plain};
use crate::store::{Goal, StoreError};

/// `/learn goal buddy N @person` (or `off`).
pub async fn set(
    ctx: &CommandContext<'_>,
    number: i64,
    target: &BuddyTarget,
) -> Result<Message, AppError> {
    let goal = match ctx.store.goal(ctx.workspace.id, ctx.user, number).await {
        Ok(goal) => goal,
        Err(StoreError::NotFound) => {
            return Ok(Message::text(format!(
                ":warning: You have no goal #{number}. `/learn goal list` shows yours."
            )));
        }
        Err(other) => return Err(other.into()),
    };
    let buddy = match target {
        BuddyTarget::Nobody => {
            ctx.store
                .set_goal_buddy(ctx.workspace.id, ctx.user, number, None)
                .await?;
            return Ok(Message::text(format!(
                ":ok_hand: Goal *#{number}* is yours alone again."
            )));
        }
        BuddyTarget::Id(id) => Some(id.clone()),
        BuddyTarget::Handle(handle) => ctx.directory.person_named(ctx.workspace, handle).await,
    };
    let Some(buddy) = buddy else {
        return Ok(Message::text(
            ":warning: I can't tell who that is. Mention them so the name turns blue: \
             `/learn goal buddy 2 @name`.",
        ));
    };
    if buddy == ctx.user {
        return Ok(Message::text(
            "A buddy is someone else: mention the colleague you want to share it with.",
        ));
    }
    // Only a person (not a bot, not a deactivated account); a platform that cannot
    // say is taken at its word, as a mention is.
    if matches!(
        ctx.directory.member_kind(ctx.workspace, &buddy).await,
        Some(MemberKind::Bot | MemberKind::Deleted)
    ) {
        return Ok(Message::text(format!(
            ":warning: <@{buddy}> is not a person who can follow a goal."
        )));
    }
    ctx.store
        .set_goal_buddy(ctx.workspace.id, ctx.user, number, Some(&buddy))
        .await?;
    ctx.send_to(
        &buddy,
        &Message::text(format!(
            ":handshake: <@{}> made you their buddy on a learning goal: \"{}\". You'll see how \
             it goes in their check-ins (ratings only) and hear when they reach it.",
            ctx.user,
            plain(&goal.text)
        )),
    )
    .await?;
    Ok(Message::text(format!(
        ":handshake: <@{buddy}> is your buddy on goal *#{number}* ({}): they see its check-in \
         ratings (never your notes) and hear when you reach it. `/learn goal buddy {number} off` \
         stops it.",
        plain(&goal.text)
    )))
}

/// A reached goal's buddy hears it.
pub async fn tell_reached(ctx: &CommandContext<'_>, goal: &Goal) -> Result<(), AppError> {
    let Some(buddy) = &goal.buddy else {
        return Ok(());
    };
    ctx.send_to(
        buddy,
        &Message::text(format!(
            ":tada: <@{}> reached their goal \"{}\".",
            ctx.user,
            plain(&goal.text)
        )),
    )
    .await
}

/// After a check-in, each buddy sees the rating given to the goal they follow.
pub async fn tell_ratings(
    ctx: &CommandContext<'_>,
    ratings: &[(i64, String)],
) -> Result<(), AppError> {
    if ratings.is_empty() {
        return Ok(());
    }
    let goals = ctx.store.goals(ctx.workspace.id, ctx.user).await?;
    for (number, rating) in ratings {
        let Some(goal) = goals.iter().find(|g| g.number == *number) else {
            continue;
        };
        let Some(buddy) = &goal.buddy else {
            continue;
        };
        ctx.send_to(
            buddy,
            &Message::text(format!(
                ":bar_chart: <@{}>'s check-in: \"{}\" is at *{}/5* (1 = stuck, 5 = nearly there).",
                ctx.user,
                plain(&goal.text),
                plain(rating)
            )),
        )
        .await?;
    }
    Ok(())
}
