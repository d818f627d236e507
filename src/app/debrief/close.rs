//! Closing a debrief: its lessons and action items stored (owners confirmed, items
//! capped), the card updated and the summary queued in the card's thread, all in one
//! transaction. An anonymous debrief also lets go of everything that could tie an
//! answer to a person: its items are stored and listed in an order of their own, its
//! reflections keep only that someone reflected, and its DMs are erased.

use crate::app::AppError;
use crate::domain::Timestamp;

use super::answers;
use super::items;
use super::owners::{self, Owners};
use super::review::{self, Decisions};
use super::summary::{self, Listed, Made, Reflected};
use super::{Debrief, update_card};
use crate::app::handle::{CommandContext, Handled};
use crate::app::names::DisplayNames;
use crate::app::scopes;
use crate::app::templates::Becomes;
use crate::app::words::count_of;
use crate::platform::outgoing;
use crate::platform::{Message, plain};
use crate::store::{
    Anchor, AnchorField, ConversationKind, LessonKind, NewLesson, NewOutboxMessage, Platform,
    Reflection, StoreTx,
};

/// Most items one answer makes, and one debrief: a pasted log must not become a
/// thousand follow-ups.
pub const MAX_ITEMS_PER_ANSWER: usize = 20;
pub const MAX_ITEMS_PER_DEBRIEF: usize = 200;

/// `/learn debrief close` in a channel: the caller's newest open debrief there.
pub async fn close_command(ctx: &CommandContext<'_>) -> Result<Handled, AppError> {
    let Some(mine) = own_open_debrief(ctx).await? else {
        return Ok(Message::text(
            "You facilitate no open debrief in this channel. Only the person who started a \
             debrief can close it.",
        )
        .into());
    };
    close(ctx, &mine).await
}

/// The caller's newest open debrief in the command's channel.
pub async fn own_open_debrief(ctx: &CommandContext<'_>) -> Result<Option<Debrief>, AppError> {
    Ok(super::load_all_open(ctx)
        .await?
        .into_iter()
        .find(|d| d.facilitator == ctx.user))
}

/// Closes a debrief (facilitator only): stores its lessons and queues the card update
/// and the summary in the card's thread, all in one transaction. The candidates are
/// merged and published as the facilitator's review decided, as far as it got (as they
/// are, without one: the scheduler at the close-by time, a form that did not open).
/// Closing twice is harmless.
pub async fn close(ctx: &CommandContext<'_>, debrief: &Debrief) -> Result<Handled, AppError> {
    let saved = review::saved_decisions(ctx, debrief).await?;
    close_with(ctx, debrief, &saved).await
}

async fn close_with(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
    decisions: &Decisions,
) -> Result<Handled, AppError> {
    if debrief.facilitator != ctx.user {
        return Ok(Message::text(format!(
            ":lock: Only the facilitator, <@{}>, can close this debrief.",
            debrief.facilitator
        ))
        .into());
    }
    let already = Message::text(format!(
        "*{}* is already closed; its summary is in the card's thread.",
        plain(&debrief.title)
    ));
    if !debrief.is_open() {
        return Ok(already.into());
    }
    // Asked before the transaction: a lookup must not hold the write lock. A
    // reflection saved after this read names owners that were not checked, and
    // unchecked owners are refused.
    let scope = scopes::of(ctx, &debrief.channel).await?;
    let mut named = owners::named(
        debrief,
        &reflected(ctx.store.reflections(ctx.workspace.id, debrief.id).await?),
    );
    named.extend(review::picked_owners(decisions));
    let mut owners = owners::confirm(
        ctx.directory,
        ctx.workspace,
        &debrief.channel,
        scope.kind,
        named,
    )
    .await;
    owners::confirm_picked_on_teams(
        ctx.directory,
        ctx.workspace,
        &debrief.channel,
        review::picked_owners(decisions).collect(),
        &mut owners,
    )
    .await;
    let since = ctx
        .store
        .settled_during(ctx.workspace.id, debrief.id)
        .await?;
    let now = ctx.clock.now();
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let mut tx = ctx.store.begin().await?;
    if !tx.close_debrief(ctx.workspace.id, debrief.id, now).await? {
        return Ok(already.into());
    }
    let mut closed = debrief.clone();
    closed.closed_at = Some(now);
    let reflections = reflected(tx.reflections(ctx.workspace.id, debrief.id).await?);
    let made = store_lessons(
        ctx,
        &mut tx,
        (&closed, &reflections),
        (&owners, decisions),
        scope.kind,
        now,
    )
    .await?;
    let made = Made { since, ..made };
    tx.forget_review(ctx.workspace.id, debrief.id).await?;
    tx.end_conversations_about(ctx.workspace.id, debrief.id)
        .await?;
    tx.forget_nudges(ctx.workspace.id, debrief.id, closed.anonymous)
        .await?;
    if closed.anonymous {
        tx.forget_who_reflected(ctx.workspace.id, debrief.id, now)
            .await?;
        tx.erase_anonymous_dms(ctx.workspace.id, debrief.id).await?;
    }
    // A closed card offers no past lessons: the time to learn before doing has passed.
    let shown = super::Shown::default();
    update_card(
        ctx,
        &mut tx,
        &closed,
        reflections.len() as i64,
        &shown,
        &names,
    )
    .await?;
    let who_sees = crate::app::scopes::who_sees_in(ctx.workspace, scope.kind);
    for part in summary::summary(&closed, &reflections, &made, who_sees) {
        let posted = outgoing::post(ctx.workspace.platform, &closed.channel, &part, &|id| {
            names.name(id)
        });
        let body = posted.body;
        tx.enqueue(
            NewOutboxMessage {
                method: posted.method,
                anchor: closed.card.map(|card| Anchor {
                    message: card,
                    field: AnchorField::ThreadTs,
                }),
                ..NewOutboxMessage::post(closed.workspace, &closed.channel, &body)
            },
            now,
            ctx.give_up_at(now),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Handled {
        reply: Message::text(format!(
            ":lock: *{}* is closed: {} and {}. The summary is going into the card's thread.",
            plain(&closed.title),
            count_of(&made.lessons, "lesson", "lessons"),
            count_of(&made.actions, "action item", "action items")
        )),
        queued: true,
        ..Handled::default()
    })
}

/// The stored reflections as the summary and the lessons read them.
pub(super) fn reflected(rows: Vec<Reflection>) -> Vec<Reflected> {
    rows.into_iter()
        .map(|row| Reflected {
            author: row.author,
            answers: serde_json::from_str(&row.answers).unwrap_or_default(),
        })
        .collect()
}

/// A lesson or action item read from an answer, before it is stored.
pub(super) struct Item {
    pub kind: LessonKind,
    pub text: String,
    pub tags: String,
    pub author: Option<String>,
    pub owner: Option<String>,
}

/// The items of every answer to a flagged question, in submission order: each line of
/// an answer (at most [`MAX_ITEMS_PER_ANSWER`]), owned by the person it names if
/// confirmed, else the one picked in the form if confirmed, else its author (nobody
/// in an anonymous debrief). `allows` says who may own one. How many lines were cut is
/// added to `cut`.
pub(super) fn items_of(
    debrief: &Debrief,
    reflections: &[Reflected],
    allows: &dyn Fn(&str) -> bool,
    cut: &mut usize,
) -> Vec<Item> {
    let mut found = Vec::new();
    for reflection in reflections {
        for question in &debrief.questions {
            let (Some(becomes), Some(answer)) = (
                question.becomes.filter(|b| b.is_candidate()),
                reflection.answers.get(&question.id),
            ) else {
                continue;
            };
            let picked_owner = reflection
                .answers
                .get(&answers::owner_key(&question.id))
                .filter(|id| allows(id));
            let lines = items::items(answer);
            *cut += lines.len().saturating_sub(MAX_ITEMS_PER_ANSWER);
            for line in lines.into_iter().take(MAX_ITEMS_PER_ANSWER) {
                let owner = line
                    .owner
                    .clone()
                    .filter(|id| allows(id))
                    .or_else(|| picked_owner.cloned())
                    .or_else(|| reflection.author.clone());
                found.push(Item {
                    kind: if becomes == Becomes::Action {
                        LessonKind::Action
                    } else {
                        LessonKind::Lesson
                    },
                    tags: line.tags.join(" "),
                    text: line.text,
                    author: reflection.author.clone(),
                    owner,
                });
            }
        }
    }
    found
}

/// The kudos of every answer to a kudos question, one per line, each with its author
/// (none in an anonymous debrief). In an anonymous debrief they are ordered by text, so
/// the order tells nothing of who wrote them.
pub(super) fn kudos_of(debrief: &Debrief, reflections: &[Reflected]) -> Vec<Listed> {
    let mut kudos: Vec<Listed> = reflections
        .iter()
        .flat_map(|reflection| {
            debrief
                .questions
                .iter()
                .filter(|q| q.becomes == Some(Becomes::Kudos))
                .filter_map(|q| reflection.answers.get(&q.id))
                .flat_map(|answer| items::items(answer).into_iter().take(MAX_ITEMS_PER_ANSWER))
                .map(|line| Listed {
                    text: line.text,
                    author: reflection.author.clone(),
                    owner: None,
                    follow_up: String::new(),
                    count: 1,
                })
        })
        .collect();
    if debrief.anonymous {
        kudos.sort_by(|a, b| a.text.cmp(&b.text));
    }
    kudos
}

/// Makes lesson and action rows of the answers to flagged questions. In an anonymous
/// debrief they are ordered by their text first, so neither the rows' ids nor the
/// summary's order tells whose lines came together or who submitted first.
async fn store_lessons(
    ctx: &CommandContext<'_>,
    tx: &mut StoreTx,
    (debrief, reflections): (&Debrief, &[Reflected]),
    (owners, decisions): (&Owners, &Decisions),
    scope: ConversationKind,
    now: Timestamp,
) -> Result<Made, AppError> {
    let follow_up_at = now.plus_seconds(i64::from(ctx.debriefs.follow_up_days) * 86_400);
    let zone = super::workspace_zone(ctx);
    let follow_up = follow_up_at
        .to_utc()
        .with_timezone(&zone)
        .format("%a %-d %b")
        .to_string();
    let mut made = Made {
        refused_owners: owners.refused.len(),
        kudos: kudos_of(debrief, reflections),
        ..Made::default()
    };
    // Said in a private conversation: stays there, even if it is made public later.
    // Slack could not be asked (it was down, a scope is missing): the channel may have
    // been private at this moment, so the lessons stay there too. A Teams channel whose
    // activities did not say its type is shown outside once one says it is public.
    let shared = scope.is_public()
        || (scope == ConversationKind::Unknown && ctx.workspace.platform == Platform::Teams);
    let allows = |id: &str| owners.allows(id);
    let items = items_of(debrief, reflections, &allows, &mut made.cut);
    let curated = review::curate(review::groups_of(debrief, items), decisions, &allows);
    made.dropped = curated.dropped;
    made.kudos
        .extend(curated.kudos.into_iter().map(|item| Listed {
            text: item.text,
            author: item.author,
            owner: None,
            follow_up: String::new(),
            count: 1,
        }));
    let mut items = curated.kept;
    if debrief.anonymous {
        items.sort_by(|(a, _), (b, _)| (&a.text, &a.owner).cmp(&(&b.text, &b.owner)));
        made.kudos.sort_by(|a, b| a.text.cmp(&b.text));
    }
    for kudos in &made.kudos {
        tx.insert_kudos(
            debrief.workspace,
            debrief.id,
            &kudos.text,
            kudos.author.as_deref(),
            shared,
            now,
        )
        .await?;
    }
    made.cut += items.len().saturating_sub(MAX_ITEMS_PER_DEBRIEF);
    items.truncate(MAX_ITEMS_PER_DEBRIEF);
    for (item, count) in items {
        tx.insert_lesson(
            NewLesson {
                workspace: debrief.workspace,
                debrief: debrief.id,
                debrief_title: &debrief.title,
                kind: item.kind,
                text: &item.text,
                author: item.author.as_deref(),
                owner: item.owner.as_deref(),
                tags: &item.tags,
                shared,
                follow_up_at: item.owner.is_some().then_some(follow_up_at),
            },
            now,
        )
        .await?;
        let listed = Listed {
            text: item.text,
            author: item.author,
            owner: item.owner,
            follow_up: follow_up.clone(),
            count,
        };
        match item.kind {
            LessonKind::Lesson => made.lessons.push(listed),
            LessonKind::Action => made.actions.push(listed),
        }
    }
    Ok(made)
}
