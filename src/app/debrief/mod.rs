//! Debriefs: started with `/debrief`, answered in a modal or a guided DM conversation,
//! closed by the facilitator with a summary in the card's thread and lessons stored.
//! Every change commits together with the messages it causes (card updates, summary).

pub mod answers;
pub(crate) mod card;
mod close;
pub(crate) mod conversation;
mod dm;
mod items;
pub(crate) mod nudge;
pub(crate) mod owners;
mod reflection_form;
pub mod review;
mod review_form;
pub mod since;
pub mod start_form;
pub(crate) mod summary;
pub mod timers;

use crate::app::AppError;
use crate::domain::Timestamp;
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::TimeZone;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::command::{MAX_CLOSES_IN_DAYS, PauseDuration};
use super::handle::{CommandContext, Handled};
use super::messages;
use super::names::DisplayNames;
use super::scopes;
use super::search;
use super::templates::{Becomes, Question};
use crate::platform::outgoing;
use crate::platform::{Message, plain};
use crate::store::{
    Anchor, AnchorField, Audience, DebriefId, LessonHit, NewDebrief, NewOutboxMessage, OpenAction,
    OutboxId, OutboxStatus, StoreError, StoreTx, StoredDebrief, WorkspaceId,
};
use answers::Answers;
pub use card::{CLOSE, NUDGE, REFLECT, REFLECT_IN_DM, START, read_start_value, start_value};
pub use close::{
    MAX_ITEMS_PER_ANSWER, MAX_ITEMS_PER_DEBRIEF, close, close_command, own_open_debrief,
};
pub use dm::{converse, reflect_command, reflect_in_dm};
pub use items::MAX_ITEM_CHARS;
pub use nudge::{NUDGE_GAP_SECS, nudge, nudge_command};
pub use reflection_form::{REFLECTION_FORM, reflection_form};
pub use review_form::review_form;
pub use start_form::{START_FORM_CALLBACK, StartChoices, TemplateChoice, start_form};

/// How many past lessons the card offers ("learn before doing").
const PAST_LESSONS_ON_CARD: u32 = 3;

/// What a debrief keeps of its template, frozen when it starts.
#[derive(Deserialize, Serialize)]
struct Frozen {
    title: String,
    questions: Vec<Question>,
}

/// A debrief, read from its row.
#[derive(Clone, Debug)]
pub struct Debrief {
    pub id: DebriefId,
    pub workspace: WorkspaceId,
    pub channel: String,
    pub title: String,
    pub template_title: String,
    pub questions: Vec<Question>,
    pub facilitator: String,
    pub anonymous: bool,
    salt: Option<String>,
    pub card: Option<OutboxId>,
    pub closed_at: Option<Timestamp>,
    /// When the scheduler closes it, if the facilitator set a close-by time.
    pub closes_at: Option<Timestamp>,
}

#[cfg(test)]
impl Debrief {
    /// A debrief as tests need one (no salt: nobody can reflect on it).
    pub(crate) fn sample(anonymous: bool, closed: bool) -> Self {
        Self {
            id: DebriefId(42),
            workspace: WorkspaceId(1),
            channel: "C1".into(),
            title: "Release 2.3".into(),
            template_title: "Retrospective".into(),
            questions: crate::app::templates::sample_questions(),
            facilitator: "U1".into(),
            anonymous,
            salt: None,
            card: None,
            closed_at: closed.then_some(Timestamp::from_unix_seconds(1)),
            closes_at: None,
        }
    }
}

impl TryFrom<StoredDebrief> for Debrief {
    type Error = AppError;
    fn try_from(stored: StoredDebrief) -> Result<Self, AppError> {
        let frozen: Frozen = serde_json::from_str(&stored.questions)
            .map_err(|e| AppError::Internal(format!("debrief {} questions: {e}", stored.id)))?;
        Ok(Self {
            id: stored.debrief_id(),
            workspace: WorkspaceId(stored.workspace_id),
            card: stored.card(),
            channel: stored.channel,
            title: stored.title,
            template_title: frozen.title,
            questions: frozen.questions,
            facilitator: stored.facilitator,
            anonymous: stored.anonymous,
            salt: stored.author_salt,
            closed_at: stored.closed_at,
            closes_at: stored.closes_at,
        })
    }
}

impl Debrief {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Keys a person's reflection without storing who they are: a salted hash, whose
    /// salt is erased at close. `None` once closed.
    fn author_key(&self, user: &str) -> Option<String> {
        let salt = self.salt.as_deref()?;
        let digest = Sha256::new()
            .chain_update(salt)
            .chain_update(":")
            .chain_update(user)
            .finalize();
        Some(hex::encode(digest))
    }

    /// Who is named as the author of what `user` writes here.
    fn author<'a>(&self, user: &'a str) -> Option<&'a str> {
        (!self.anonymous).then_some(user)
    }
}

/// Open debriefs `user` can see and has not reflected on yet, newest first: those in
/// public channels (by their stored scope, so nothing waits for Slack) and those they
/// facilitate. Two queries, however many debriefs are open.
pub async fn waiting_for_reflection(
    store: &crate::store::Store,
    workspace: &crate::store::Workspace,
    user: &str,
) -> Result<Vec<Debrief>, AppError> {
    // Under an org-wide install a public channel is public to its own team only.
    let public_too = !workspace.org_wide;
    let workspace = workspace.id;
    let open: Vec<Debrief> = store
        .open_debriefs_visible_to(workspace, user, public_too)
        .await?
        .into_iter()
        .map(Debrief::try_from)
        .collect::<Result<_, _>>()?;
    let keys: Vec<(i64, String)> = open
        .iter()
        .filter_map(|debrief| Some((debrief.id.0, debrief.author_key(user)?)))
        .collect();
    let reflected = store.reflected(workspace, &keys).await?;
    Ok(open
        .into_iter()
        .filter(|debrief| debrief.salt.is_some() && !reflected.contains(&debrief.id.0))
        .collect())
}

/// The open debriefs of the command's channel, newest first.
async fn load_all_open(ctx: &CommandContext<'_>) -> Result<Vec<Debrief>, AppError> {
    ctx.store
        .open_debriefs(ctx.workspace.id, Some(ctx.channel))
        .await?
        .into_iter()
        .map(Debrief::try_from)
        .collect()
}

/// A debrief of this workspace, or `NotFound`.
pub async fn load(ctx: &CommandContext<'_>, id: DebriefId) -> Result<Debrief, AppError> {
    ctx.store.debrief(ctx.workspace.id, id).await?.try_into()
}

/// What `/debrief` started: the card's outbox row, so the caller can tell the person
/// at once whether Slack accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartedCard {
    pub debrief: DebriefId,
    pub card: OutboxId,
    /// When starting began: the wait for the card counts from here, so a slow scope
    /// lookup before it does not push the answer past Slack's 3 seconds.
    pub began: tokio::time::Instant,
}

/// 32 bytes from the operating system: the salt is all that keeps an author key from
/// being recomputed from a user id, so it must not be guessable.
fn random_salt() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| AppError::Internal(format!("no randomness for a salt: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Earlier lessons that match `title`, best first, as the card's `audience` may see
/// them: its channel's own, and those of public conversations unless outsiders read
/// it; never another private conversation's.
async fn past_lessons(
    ctx: &CommandContext<'_>,
    audience: Audience<'_>,
    title: &str,
) -> Result<Vec<LessonHit>, AppError> {
    let Some(query) = search::related_terms(title) else {
        return Ok(Vec::new());
    };
    ctx.store
        .search_lessons(ctx.workspace.id, &query, audience, PAST_LESSONS_ON_CARD)
        .await
        .map_err(AppError::from)
}

/// Said when a debrief is started (or its form asked for) in a DM.
fn not_in_a_dm() -> Message {
    Message::text(
        ":warning: Start a debrief in the channel where the work happened, so everyone \
         involved sees the card: `/debrief Release 2.3 rollout`.",
    )
}

/// What starting a debrief asks for: from the command line or the start form.
#[derive(Clone, Copy, Debug, Default)]
pub struct StartRequest<'a> {
    pub title: &'a str,
    /// `None`: the configured default.
    pub template: Option<&'a str>,
    /// Whether names are kept out, if the person said (`None`: as the template says).
    pub anonymous: Option<bool>,
    pub closes_in: Option<PauseDuration>,
}

/// When a debrief asked to close in `closes_in` closes: after the hours or days, or at
/// the end of the working day (17:00 in the workspace's zone) of a date. `Err` with
/// what to say when the date is not in the future.
fn closes_at(
    ctx: &CommandContext<'_>,
    closes_in: Option<PauseDuration>,
) -> Result<Option<Timestamp>, Message> {
    let now = ctx.clock.now().unix_seconds();
    let too_far = || {
        Message::text(format!(
            ":warning: A debrief closes within {MAX_CLOSES_IN_DAYS} days; give an earlier \
             date or a shorter duration, e.g. `--closes-in 1w`."
        ))
    };
    let at = match closes_in {
        None => return Ok(None),
        Some(PauseDuration::Hours(h)) => now + i64::from(h) * 3600,
        Some(PauseDuration::Days(d)) => now + i64::from(d) * 86_400,
        Some(PauseDuration::Until(date)) => {
            let zone = workspace_zone(ctx);
            let end_of_day = date.and_hms_opt(17, 0, 0).unwrap_or_default();
            match zone.from_local_datetime(&end_of_day).earliest() {
                Some(at) if at.timestamp() > now => at.timestamp(),
                _ => {
                    return Err(Message::text(format!(
                        ":warning: {} is not in the future, so the debrief can't close then. \
                         Give a later date or a duration, e.g. `--closes-in 2d`.",
                        date.format("%Y-%m-%d")
                    )));
                }
            }
        }
    };
    if at - now > i64::from(MAX_CLOSES_IN_DAYS) * 86_400 {
        return Err(too_far());
    }
    Ok(Some(Timestamp::from_unix_seconds(at)))
}

/// The workspace's default zone, in which channel times are shown.
pub(crate) fn workspace_zone(ctx: &CommandContext<'_>) -> Tz {
    ctx.workspace.default_time_zone.parse().unwrap_or(Tz::UTC)
}

/// `/debrief [--template NAME] [--anonymous] [--closes-in DURATION] TITLE` in a channel.
pub async fn start(
    ctx: &CommandContext<'_>,
    request: StartRequest<'_>,
) -> Result<Handled, AppError> {
    let StartRequest {
        title, template, ..
    } = request;
    let began = tokio::time::Instant::now();
    if ctx.in_direct_message() {
        return Ok(not_in_a_dm().into());
    }
    let name = template.unwrap_or(&ctx.debriefs.default_template);
    let Some(template) = ctx.templates.get(name) else {
        return Ok(messages::unknown_template(name, &ctx.templates.names()).into());
    };
    let anonymous = request.anonymous.unwrap_or(template.anonymous);
    let closes_at = match closes_at(ctx, request.closes_in) {
        Ok(at) => at,
        Err(problem) => return Ok(problem.into()),
    };
    let frozen = serde_json::to_string(&Frozen {
        title: template.title.clone(),
        questions: template.questions.clone(),
    })
    .map_err(|e| AppError::Internal(e.to_string()))?;
    // Learnt now, so the card's channel is known (and refreshed daily) by the time the
    // debrief closes and its lessons take the channel's scope.
    let audience = scopes::audience(ctx, ctx.channel).await?;
    let shown = Shown {
        past: past_lessons(ctx, audience, title).await?,
        since: ctx
            .store
            .open_actions_in(ctx.workspace.id, ctx.channel, None, since::SHOWN)
            .await?,
    };
    let now = ctx.clock.now();
    let salt = random_salt()?;
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let mut tx = ctx.store.begin().await?;
    let id = tx
        .create_debrief(
            NewDebrief {
                workspace: ctx.workspace.id,
                channel: ctx.channel,
                title,
                template: &template.name,
                questions: &frozen,
                facilitator: ctx.user,
                anonymous,
                author_salt: &salt,
                closes_at,
            },
            ctx.clock.now(),
        )
        .await?;
    let debrief = Debrief {
        id,
        workspace: ctx.workspace.id,
        channel: ctx.channel.to_owned(),
        title: title.to_owned(),
        template_title: template.title.clone(),
        questions: template.questions.clone(),
        facilitator: ctx.user.to_owned(),
        anonymous,
        salt: Some(salt),
        card: None,
        closed_at: None,
        closes_at,
    };
    let posted = outgoing::post(
        ctx.workspace.platform,
        ctx.channel,
        &card::card(&debrief, 0, &shown, workspace_zone(ctx)),
        &|id| names.name(id),
    );
    let card = tx
        .enqueue(
            NewOutboxMessage {
                method: posted.method,
                ..NewOutboxMessage::post(ctx.workspace.id, ctx.channel, &posted.body)
            },
            now,
            ctx.give_up_at(now),
        )
        .await?
        .ok_or_else(|| AppError::Internal("the debrief card was not queued".into()))?;
    tx.attach_card(ctx.workspace.id, id, card).await?;
    tx.commit().await?;
    let reply = Message::text(format!(
        ":white_check_mark: Debrief *{}* started with the {} template{}. Everyone can add \
         reflections from the card (a form, or one question at a time in a DM); you close it \
         from the card or with `/learn debrief close`.",
        plain(title),
        plain(&template.title),
        if anonymous { ", anonymously" } else { "" }
    ));
    let mut handled = Handled {
        reply,
        queued: true,
        card: Some(StartedCard {
            debrief: id,
            card,
            began,
        }),
        ..Handled::default()
    };
    crate::app::mentors::suggest_privately(ctx, &mut handled, title).await?;
    Ok(handled)
}

/// How long after starting began the answer waits for the card to be posted before
/// answering anyway: Slack waits 3 s for the answer (with the request's way in and
/// out), and a refusal should be explained in it.
const CARD_PATIENCE: Duration = Duration::from_millis(2300);

/// If `handled` started a debrief, waits for its card; when Slack refused it (e.g.
/// the bot is not in the channel), the reply becomes the explanation.
pub async fn await_card(ctx: &CommandContext<'_>, handled: &mut Handled) -> Result<(), AppError> {
    if let Some(started) = handled.card
        && let Some(problem) = card_refused(ctx, started, started.began + CARD_PATIENCE).await?
    {
        handled.reply = problem;
    }
    Ok(())
}

/// The retro reminder's button: starts the debrief it names in `ctx.channel`, with
/// the person who pressed it as facilitator. A second press (by anyone) points to the
/// debrief the first one started instead of starting another.
pub async fn start_from_reminder(
    ctx: &CommandContext<'_>,
    template: Option<&str>,
    title: &str,
) -> Result<Handled, AppError> {
    let open = ctx
        .store
        .open_debriefs(ctx.workspace.id, Some(ctx.channel))
        .await?;
    if let Some(started) = open.iter().find(|d| d.title == title) {
        return Ok(Message::text(format!(
            "<@{}> already started *{}*: add your reflection from its card.",
            started.facilitator,
            plain(title)
        ))
        .into());
    }
    start(
        ctx,
        StartRequest {
            title,
            template,
            ..StartRequest::default()
        },
    )
    .await
}

/// Waits (up to `patience`) for the card of a new debrief to be sent. If Slack refused
/// it, the debrief is removed (nobody could see it) and the explanation for the person
/// is returned; `None` when it was posted or is still on its way (it will arrive).
pub async fn card_refused(
    ctx: &CommandContext<'_>,
    started: StartedCard,
    deadline: tokio::time::Instant,
) -> Result<Option<Message>, AppError> {
    let mut pause = Duration::from_millis(10);
    loop {
        let state = ctx
            .store
            .outbox_state(ctx.workspace.id, started.card)
            .await?;
        match state.status {
            OutboxStatus::Sent => return Ok(None),
            OutboxStatus::Failed => break,
            _ if tokio::time::Instant::now() + pause > deadline => return Ok(None),
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
        }
    }
    let state = ctx
        .store
        .outbox_state(ctx.workspace.id, started.card)
        .await?;
    ctx.store
        .delete_debrief(ctx.workspace.id, started.debrief)
        .await?;
    let error = state.last_error.unwrap_or_default();
    let cannot_post = ["not_in_channel", "channel_not_found", "is_archived"]
        .iter()
        .any(|code| error.contains(code));
    Ok(Some(Message::text(if cannot_post {
        ":warning: I can't post in this channel, so the debrief did not start. Invite me \
         first with `/invite @learnloop`, then run `/debrief` again."
            .to_owned()
    } else {
        format!(
            ":warning: Slack refused the debrief card ({}), so the debrief did not start. \
             An admin can find the details in learnloop's log.",
            plain(&error)
        )
    })))
}

/// What an open card shows besides the debrief: lessons from similar work and the
/// channel's open actions. Read before a transaction, so the write lock is not held
/// over a search (and the single connection of an in-memory store is free).
#[derive(Clone, Debug, Default)]
pub struct Shown {
    pub past: Vec<LessonHit>,
    pub since: Vec<OpenAction>,
}

impl Shown {
    async fn of(ctx: &CommandContext<'_>, debrief: &Debrief) -> Result<Self, AppError> {
        let audience = scopes::audience(ctx, &debrief.channel).await?;
        Ok(Self {
            past: past_lessons(ctx, audience, &debrief.title).await?,
            since: ctx
                .store
                .open_actions_in(
                    ctx.workspace.id,
                    &debrief.channel,
                    Some(debrief.id),
                    since::SHOWN,
                )
                .await?,
        })
    }
}

/// Queues the card as it looks now, folded into any update still waiting.
async fn update_card(
    ctx: &CommandContext<'_>,
    tx: &mut StoreTx,
    debrief: &Debrief,
    reflected: i64,
    shown: &Shown,
    names: &DisplayNames,
) -> Result<(), AppError> {
    let Some(card) = debrief.card else {
        return Ok(());
    };
    let message = card::card(debrief, reflected, shown, workspace_zone(ctx));
    let updated = outgoing::update(ctx.workspace.platform, &debrief.channel, &message, &|id| {
        names.name(id)
    });
    let body = updated.body;
    let now = ctx.clock.now();
    tx.enqueue_update(
        NewOutboxMessage {
            method: updated.method,
            anchor: Some(Anchor {
                message: card,
                field: AnchorField::Ts,
            }),
            ..NewOutboxMessage::post(debrief.workspace, &debrief.channel, &body)
        },
        now,
        ctx.give_up_at(now),
    )
    .await
    .map_err(AppError::from)
}

/// Queues the card of an open debrief as it looks now (after something it shows
/// changed), on its own transaction.
async fn update_card_now(ctx: &CommandContext<'_>, debrief: &Debrief) -> Result<(), AppError> {
    let shown = Shown::of(ctx, debrief).await?;
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let reflected = ctx
        .store
        .reflection_count(ctx.workspace.id, debrief.id)
        .await?;
    let mut tx = ctx.store.begin().await?;
    update_card(ctx, &mut tx, debrief, reflected, &shown, &names).await?;
    tx.commit().await.map_err(AppError::from)
}

/// Checks a submitted form: the answers to store, or what is wrong, by question id.
pub fn check_form(
    debrief: &Debrief,
    values: &BTreeMap<String, String>,
) -> Result<Answers, BTreeMap<String, String>> {
    let mut answers = Answers::new();
    let mut problems = BTreeMap::new();
    for question in &debrief.questions {
        match answers::check(question, values.get(&question.id).map(String::as_str)) {
            Ok(Some(answer)) => {
                answers.insert(question.id.clone(), answer);
            }
            Ok(None) => {}
            Err(problem) => {
                problems.insert(question.id.clone(), problem);
            }
        }
        let owner_key = answers::owner_key(&question.id);
        if question.becomes == Some(Becomes::Action)
            && let Some(owner) = values.get(&owner_key)
            && !owner.is_empty()
            && owner.chars().all(|c| c.is_ascii_alphanumeric())
        {
            answers.insert(owner_key, owner.clone());
        }
    }
    if problems.is_empty()
        && !answers_any(debrief, &answers)
        && let Some(first) = debrief.questions.first()
    {
        // Slack lets a form of optional fields through blank: it is not a reflection.
        problems.insert(first.id.clone(), EMPTY_REFLECTION.to_owned());
    }
    if problems.is_empty() {
        Ok(answers)
    } else {
        Err(problems)
    }
}

/// Said when a reflection answers nothing.
pub const EMPTY_REFLECTION: &str =
    "Answer at least one question: an empty reflection is not saved.";

/// Whether `answers` answer at least one of the debrief's questions (an owner picked
/// for no item answers nothing).
fn answers_any(debrief: &Debrief, answers: &Answers) -> bool {
    debrief
        .questions
        .iter()
        .any(|q| answers.get(&q.id).is_some_and(|a| !a.trim().is_empty()))
}

/// How a reflection went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Stored; `first` is false when it replaced the person's earlier one.
    Saved { first: bool },
    /// The debrief closed first; nothing was stored.
    Closed,
    /// Every question was left blank or skipped: nothing was stored or counted.
    Empty,
}

/// Stores `user`'s answers (replacing earlier ones) and updates the card's count, in one
/// transaction that also ends the person's DM conversation about this debrief: whether
/// the answers came from it or from the form, the conversation is done.
pub async fn submit(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
    answers: &Answers,
) -> Result<Submitted, AppError> {
    let Some(key) = debrief.author_key(ctx.user) else {
        return Ok(Submitted::Closed);
    };
    if !answers_any(debrief, answers) {
        return Ok(Submitted::Empty);
    }
    let json = serde_json::to_string(answers).map_err(|e| AppError::Internal(e.to_string()))?;
    let shown = Shown::of(ctx, debrief).await?;
    let names = DisplayNames::of(ctx.store, ctx.workspace).await?;
    let mut tx = ctx.store.begin().await?;
    let first = match tx
        .save_reflection(
            ctx.workspace.id,
            debrief.id,
            &key,
            debrief.author(ctx.user),
            &json,
            ctx.clock.now(),
        )
        .await
    {
        Ok(first) => first,
        Err(StoreError::NotFound) => return Ok(Submitted::Closed),
        Err(other) => return Err(other.into()),
    };
    let reflected = tx.reflection_count(ctx.workspace.id, debrief.id).await?;
    update_card(ctx, &mut tx, debrief, reflected, &shown, &names).await?;
    tx.end_conversation(ctx.workspace.id, ctx.user, Some(debrief.id))
        .await?;
    tx.commit().await?;
    Ok(Submitted::Saved { first })
}

/// The person's earlier answers, to fill in the form they open again.
pub async fn earlier_answers(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<Answers, AppError> {
    let Some(key) = debrief.author_key(ctx.user) else {
        return Ok(Answers::new());
    };
    let found = ctx
        .store
        .reflection_by_key(ctx.workspace.id, debrief.id, &key)
        .await?;
    Ok(found
        .and_then(|r| serde_json::from_str(&r.answers).ok())
        .unwrap_or_default())
}
