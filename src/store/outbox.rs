//! The outbox: messages waiting to be sent, claimed by delivery workers with a lease so
//! that two processes never send the same row and a crashed one's rows come back.
//! Times here are Unix milliseconds.

use std::collections::HashMap;

use sqlx::FromRow;

use super::db;
use super::db::Conn;

use super::{DebriefId, Store, StoreError, StoreTx, WorkspaceId};
use crate::domain::Timestamp;

/// The `RETURNING` of a claim: the message and the ts of the one it is anchored to.
macro_rules! claim_returning {
    () => {
        " RETURNING id, workspace_id, channel, method, body, attempts, lease_until, give_up_at, \
             anchor_field, (SELECT a.sent_ts FROM outbox a WHERE a.id = outbox.anchor_id) AS anchor_ts"
    };
}

/// SQL for the id of the oldest unsent message in the channel of outbox row `$o`. A
/// correlated `MIN` is one probe of `outbox_by_channel` per row on both databases,
/// whatever the planner knows; the `NOT EXISTS (… earlier.id < o.id)` it replaces made
/// PostgreSQL, planning a burst of rows its statistics had not seen yet, compare every
/// waiting row with every other (seconds at 10,000 rows).
macro_rules! channel_head {
    ($o:literal) => {
        concat!(
            "(SELECT MIN(head.id) FROM outbox head WHERE head.workspace_id = ",
            $o,
            ".workspace_id AND head.channel = ",
            $o,
            ".channel AND head.status IN ('pending', 'sending'))"
        )
    };
}

/// SQL that holds when outbox row `$o` may be claimed at the time bound at `?$n`: it is
/// due (or its lease ran out), it is the oldest unsent message of its channel, and a
/// new message's channel is outside its pacing interval.
macro_rules! claimable {
    ($o:literal, $n:literal) => {
        concat!(
            "((",
            $o,
            ".status = 'pending' AND ",
            $o,
            ".next_attempt_at <= ?",
            $n,
            ") \
              OR (",
            $o,
            ".status = 'sending' AND ",
            $o,
            ".lease_until <= ?",
            $n,
            ")) \
             AND ",
            $o,
            ".id = ",
            channel_head!($o),
            " AND (",
            $o,
            ".method NOT IN ('chat.postMessage', 'teams.send') OR NOT EXISTS ( \
                 SELECT 1 FROM channel_pacing p \
                 WHERE p.workspace_id = ",
            $o,
            ".workspace_id AND p.channel = ",
            $o,
            ".channel \
                   AND p.next_allowed_at > ?",
            $n,
            "))"
        )
    };
}

/// Primary key of an outbox row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutboxId(pub i64);

/// A message to queue.
#[derive(Clone, Copy, Debug)]
pub struct NewOutboxMessage<'a> {
    pub workspace: WorkspaceId,
    /// Channel (or DM) id: messages to one channel are sent in queue order.
    pub channel: &'a str,
    /// The platform call it makes.
    pub method: OutboxMethod,
    /// JSON body of the call.
    pub body: &'a str,
    /// When set, a second message with the same key in the workspace is not queued.
    pub dedupe_key: Option<&'a str>,
    /// An earlier message of the same channel whose `ts` this one needs.
    pub anchor: Option<Anchor>,
    /// A DM carrying answers of this anonymous debrief: erased once delivered, and at
    /// the debrief's close.
    pub anonymous_debrief: Option<DebriefId>,
}

impl<'a> NewOutboxMessage<'a> {
    /// A new message (`chat.postMessage`) to `channel`, with no dedupe key or anchor;
    /// other kinds override fields of this one.
    pub fn post(workspace: WorkspaceId, channel: &'a str, body: &'a str) -> Self {
        Self {
            workspace,
            channel,
            method: OutboxMethod::SlackPost,
            body,
            dedupe_key: None,
            anchor: None,
            anonymous_debrief: None,
        }
    }
}

/// Where a message refers to an earlier one: the worker puts the earlier message's ts
/// into `field` of this body when it sends (the ts is only known once Slack accepted it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub message: OutboxId,
    pub field: AnchorField,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorField {
    /// `chat.update`: the message to change.
    Ts,
    /// A reply in the earlier message's thread.
    ThreadTs,
}

impl AnchorField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ts => "ts",
            Self::ThreadTs => "thread_ts",
        }
    }
}

/// A claimed message, ready to send.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub workspace_id: i64,
    pub channel: String,
    #[sqlx(try_from = "String")]
    pub method: OutboxMethod,
    pub body: String,
    /// Including the attempt this claim is for.
    pub attempts: i64,
    /// Until when this claim holds the row.
    #[sqlx(try_from = "super::columns::Millis")]
    pub lease_until: Timestamp,
    #[sqlx(try_from = "super::columns::Millis")]
    pub give_up_at: Timestamp,
    /// `ts` or `thread_ts` when the body needs an earlier message's ts.
    pub anchor_field: Option<String>,
    /// That earlier message's ts; `None` if it was never sent (failed, or pruned).
    pub anchor_ts: Option<String>,
}

impl OutboxMessage {
    pub fn outbox_id(&self) -> OutboxId {
        OutboxId(self.id)
    }
    /// This claim of the row, to settle it with.
    pub fn claim(&self) -> OutboxClaim {
        OutboxClaim {
            id: self.outbox_id(),
            attempt: self.attempts,
            lease_until: self.lease_until,
        }
    }
    pub fn workspace(&self) -> WorkspaceId {
        WorkspaceId(self.workspace_id)
    }
}

/// One claim of an outbox row: the row, the attempt the claim counted and its lease.
/// A worker whose lease ran out while it was sending may settle late, after another
/// replica claimed the row again (and counted another attempt): its retry, release or
/// give-up must not put back or end a send that is in flight elsewhere. The lease is
/// checked too, because SQLite may give a deleted row's id to a new one, whose first
/// claim counts the same attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxClaim {
    pub id: OutboxId,
    pub attempt: i64,
    pub lease_until: Timestamp,
}

/// The platform call an outbox row makes; stored as the platform's own method name
/// (`teams.*` are ours: a Bot Framework send or update).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxMethod {
    /// Slack `chat.postMessage`: a new message, paced per channel.
    SlackPost,
    /// Slack `chat.postEphemeral`.
    SlackEphemeral,
    /// Slack `chat.update` of an earlier message.
    SlackUpdate,
    /// Slack `views.publish` (a Home tab).
    SlackPublishView,
    /// A new Teams activity, paced per conversation.
    TeamsSend,
    /// A Teams activity replacing an earlier one.
    TeamsUpdate,
}

impl OutboxMethod {
    const ALL: [Self; 6] = [
        Self::SlackPost,
        Self::SlackEphemeral,
        Self::SlackUpdate,
        Self::SlackPublishView,
        Self::TeamsSend,
        Self::TeamsUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SlackPost => "chat.postMessage",
            Self::SlackEphemeral => "chat.postEphemeral",
            Self::SlackUpdate => "chat.update",
            Self::SlackPublishView => "views.publish",
            Self::TeamsSend => "teams.send",
            Self::TeamsUpdate => "teams.update",
        }
    }

    /// Sent through the Bot Framework rather than Slack's Web API.
    pub fn is_teams(self) -> bool {
        matches!(self, Self::TeamsSend | Self::TeamsUpdate)
    }
}

impl TryFrom<String> for OutboxMethod {
    type Error = StoreError;

    fn try_from(stored: String) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == stored)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown outbox method `{stored}`")))
    }
}

impl std::fmt::Display for OutboxMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an outbox row is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Waiting for its turn (or for a retry).
    Pending,
    /// Claimed by a worker, under a lease.
    Sending,
    Sent,
    /// Given up on (or cancelled); kept for the operator.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// Where a row stands; for tests and operators.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct OutboxState {
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[sqlx(try_from = "super::columns::Millis")]
    pub next_attempt_at: Timestamp,
    pub sent_ts: Option<String>,
}

pub(super) async fn insert(
    conn: &mut Conn,
    message: NewOutboxMessage<'_>,
    now: Timestamp,
    give_up_at: Timestamp,
) -> Result<Option<OutboxId>, StoreError> {
    let queued = insert_rows(conn, &[(message, now, give_up_at)]).await?;
    Ok(queued.first().map(|(_, _, id)| OutboxId(*id)))
}

/// Messages one multi-row insert carries: 11 bound values each, far below SQLite's
/// limit, and few enough statements that 100,000 messages are a thousand of them.
const ROWS_PER_INSERT: usize = 100;

/// `INSERT … VALUES (?, …), …` for `rows` messages. Only the placeholders are
/// generated (one statement text per row count, each prepared once); every value is
/// bound.
fn insert_statement(rows: usize) -> String {
    const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT INTO outbox \
             (workspace_id, channel, method, body, next_attempt_at, give_up_at, created_at, \
              dedupe_key, anchor_id, anchor_field, anonymous_debrief_id) \
         VALUES {} \
         ON CONFLICT (workspace_id, dedupe_key) DO NOTHING \
         RETURNING workspace_id, dedupe_key, id",
        vec![ROW; rows].join(", ")
    )
}

/// Queues many messages, a hundred to a statement and in their order (so each
/// channel's messages keep their order); a message whose dedupe key is taken is left
/// out, as [`insert`] does. The workspace, dedupe key and id of each one queued.
async fn insert_rows(
    conn: &mut Conn,
    messages: &[(NewOutboxMessage<'_>, Timestamp, Timestamp)],
) -> Result<Vec<(i64, Option<String>, i64)>, StoreError> {
    let mut queued = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(ROWS_PER_INSERT) {
        let statement = insert_statement(chunk.len());
        let mut query = db::query_as::<(i64, Option<String>, i64)>(&statement);
        for (message, now, give_up_at) in chunk {
            query = query
                .bind(message.workspace.0)
                .bind(message.channel)
                .bind(message.method.as_str())
                .bind(message.body)
                .bind(now.millis())
                .bind(give_up_at.millis())
                .bind(now.millis())
                .bind(message.dedupe_key)
                .bind(message.anchor.map(|a| a.message.0))
                .bind(message.anchor.map(|a| a.field.as_str()))
                .bind(message.anonymous_debrief.map(|d| d.0));
        }
        queued.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(queued)
}

/// Queues many messages (see [`insert_rows`]); how many were queued.
pub(super) async fn insert_many(
    conn: &mut Conn,
    messages: &[(NewOutboxMessage<'_>, Timestamp, Timestamp)],
) -> Result<usize, StoreError> {
    Ok(insert_rows(conn, messages).await?.len())
}

/// Like [`insert_many`] for messages that each have a dedupe key: the ids of those
/// queued, by workspace and key (a key already taken is not returned).
pub(super) async fn insert_many_keyed(
    conn: &mut Conn,
    messages: &[(NewOutboxMessage<'_>, Timestamp, Timestamp)],
) -> Result<HashMap<(i64, String), OutboxId>, StoreError> {
    Ok(insert_rows(conn, messages)
        .await?
        .into_iter()
        .filter_map(|(workspace, key, id)| Some(((workspace, key?), OutboxId(id))))
        .collect())
}

/// How one claimed message ended its attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Delivered at `at`; its channel may receive the next one at `channel_free_at`.
    Sent {
        id: OutboxId,
        workspace_id: i64,
        channel: String,
        at: Timestamp,
        channel_free_at: Timestamp,
        /// The platform's id of the new message (Slack `ts`), when it returned one.
        sent_ts: Option<String>,
    },
    /// Failed in a way that may work later; try again at `at`.
    Retry {
        claim: OutboxClaim,
        at: Timestamp,
        error: String,
    },
    /// Not attempted (our own rate limit); back in the queue at `at`, no attempt spent.
    Release { claim: OutboxClaim, at: Timestamp },
    /// Given up for good.
    Failed { claim: OutboxClaim, error: String },
}

/// Marks delivered messages sent and holds their channels, two statements for all
/// of them (their rows bound as JSON arrays); anything but `Sent` is ignored here.
async fn settle_sent(conn: &mut Conn, sent: &[&Settlement]) -> Result<(), StoreError> {
    let mut messages = Vec::with_capacity(sent.len());
    let mut channels = Vec::with_capacity(sent.len());
    for settlement in sent {
        if let Settlement::Sent {
            id,
            workspace_id,
            channel,
            at,
            channel_free_at,
            sent_ts,
        } = settlement
        {
            messages.push(serde_json::json!([id.0, at.millis(), sent_ts]));
            channels.push(serde_json::json!([
                workspace_id,
                channel,
                channel_free_at.millis()
            ]));
        }
    }
    if messages.is_empty() {
        return Ok(());
    }
    // A DM with anonymous answers keeps nothing of them once delivered.
    db::query(over_json_rows!(
        [
            "UPDATE outbox SET status = 'sent', sent_at = CAST(j.value ->> 1 AS BIGINT), \
             sent_ts = j.value ->> 2, lease_until = NULL, last_error = NULL, \
             body = CASE WHEN anonymous_debrief_id IS NULL THEN body ELSE '{}' END \
         FROM "
        ],
        "?",
        [" WHERE outbox.id = CAST(j.value ->> 0 AS BIGINT)"]
    ))
    .bind(serde_json::Value::Array(messages).to_string())
    .execute(&mut *conn)
    .await?;
    db::query(over_json_rows!(
        [
            "INSERT INTO channel_pacing (workspace_id, channel, next_allowed_at) \
         SELECT CAST(j.value ->> 0 AS BIGINT), j.value ->> 1, MAX(CAST(j.value ->> 2 AS BIGINT)) \
         FROM "
        ],
        "?",
        [
            " WHERE true GROUP BY CAST(j.value ->> 0 AS BIGINT), j.value ->> 1 \
         ORDER BY 1, 2 \
         ON CONFLICT (workspace_id, channel) DO UPDATE \
         SET next_allowed_at = CASE WHEN excluded.next_allowed_at > channel_pacing.next_allowed_at \
             THEN excluded.next_allowed_at ELSE channel_pacing.next_allowed_at END"
        ]
    ))
    .bind(serde_json::Value::Array(channels).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The condition of a settlement other than "sent": the row is still this claim's
/// (`attempts` counts claims, and the lease is the claim's own), bound at `?1`–`?3` by
/// [`of_claim`].
macro_rules! while_claimed {
    () => {
        "WHERE id = ?1 AND status = 'sending' AND attempts = ?2 AND lease_until = ?3"
    };
}

/// `sql` (ending in [`while_claimed!`]) with `claim` bound; its own values follow at `?4`.
fn of_claim<'q>(sql: &'q str, claim: &OutboxClaim) -> db::Query<'q> {
    db::query(sql)
        .bind(claim.id.0)
        .bind(claim.attempt)
        .bind(claim.lease_until.millis())
}

async fn apply(conn: &mut Conn, settlement: &Settlement) -> Result<(), StoreError> {
    match settlement {
        Settlement::Sent { .. } => settle_sent(conn, &[settlement]).await?,
        Settlement::Retry { claim, at, error } => {
            of_claim(
                concat!(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?4, \
                     lease_until = NULL, last_error = ?5 ",
                    while_claimed!()
                ),
                claim,
            )
            .bind(at.millis())
            .bind(error)
            .execute(&mut *conn)
            .await?;
        }
        Settlement::Release { claim, at } => {
            of_claim(
                concat!(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?4, \
                     lease_until = NULL, attempts = attempts - 1 ",
                    while_claimed!()
                ),
                claim,
            )
            .bind(at.millis())
            .execute(&mut *conn)
            .await?;
        }
        Settlement::Failed { claim, error } => {
            of_claim(
                concat!(
                    "UPDATE outbox SET status = 'failed', lease_until = NULL, last_error = ?4 ",
                    while_claimed!()
                ),
                claim,
            )
            .bind(error)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

impl StoreTx {
    /// The DMs of an anonymous debrief that is closing: those not sent yet are dropped
    /// (their questions are moot now), the bodies of the others erased.
    /// A debrief closed: its nudges still waiting are pointless now, and an anonymous
    /// one's sent nudges would keep who had not reflected (their recipients) past it.
    pub async fn forget_nudges(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
        anonymous: bool,
    ) -> Result<u64, StoreError> {
        let forgotten = db::query(
            "DELETE FROM outbox WHERE workspace_id = ? AND dedupe_key LIKE ? \
             AND (status = 'pending' OR ? = 1)",
        )
        .bind(workspace.0)
        .bind(nudge_key_prefix(debrief))
        .bind(anonymous)
        .execute(&mut self.tx)
        .await?;
        Ok(forgotten.rows_affected())
    }

    pub async fn erase_anonymous_dms(
        &mut self,
        workspace: WorkspaceId,
        debrief: DebriefId,
    ) -> Result<u64, StoreError> {
        let dropped = db::query(
            "DELETE FROM outbox WHERE workspace_id = ? AND anonymous_debrief_id = ? \
             AND status = 'pending'",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .execute(&mut self.tx)
        .await?;
        let erased = db::query(
            "UPDATE outbox SET body = '{}' WHERE workspace_id = ? AND anonymous_debrief_id = ? \
             AND body != '{}'",
        )
        .bind(workspace.0)
        .bind(debrief.0)
        .execute(&mut self.tx)
        .await?;
        Ok(dropped.rows_affected() + erased.rows_affected())
    }

    /// Queues a message as part of this transaction; `None` if its dedupe key was taken.
    pub async fn enqueue(
        &mut self,
        message: NewOutboxMessage<'_>,
        now: Timestamp,
        give_up_at: Timestamp,
    ) -> Result<Option<OutboxId>, StoreError> {
        let queued = insert(&mut self.tx, message, now, give_up_at).await?;
        self.queued |= queued.is_some();
        Ok(queued)
    }

    /// After a fold into a waiting row (`folded` rows changed): the message is queued
    /// as a row of its own only when nothing was waiting to take it.
    async fn insert_unless_folded(
        &mut self,
        folded: u64,
        message: NewOutboxMessage<'_>,
        now: Timestamp,
        give_up_at: Timestamp,
    ) -> Result<(), StoreError> {
        if folded == 0 {
            insert(&mut self.tx, message, now, give_up_at).await?;
        }
        self.queued = true;
        Ok(())
    }

    /// Queues a call that replaces whatever the last one of its channel and method
    /// said (a Home tab's `views.publish`): folded into one still waiting there, so a
    /// burst of changes costs one call carrying the latest state.
    pub async fn enqueue_latest(
        &mut self,
        message: NewOutboxMessage<'_>,
        now: Timestamp,
        give_up_at: Timestamp,
    ) -> Result<(), StoreError> {
        let folded = db::query(
            "UPDATE outbox SET body = ? \
             WHERE workspace_id = ? AND channel = ? AND method = ? AND status = 'pending' \
               AND status IN ('pending', 'sending')",
        )
        .bind(message.body)
        .bind(message.workspace.0)
        .bind(message.channel)
        .bind(message.method.as_str())
        .execute(&mut self.tx)
        .await?;
        self.insert_unless_folded(folded.rows_affected(), message, now, give_up_at)
            .await
    }

    /// Queues a change to an earlier message (`chat.update`), folding it into an update
    /// of the same message that is still waiting: only the latest state is worth sending,
    /// and fifty quick reflections then cost one call, not fifty.
    pub async fn enqueue_update(
        &mut self,
        message: NewOutboxMessage<'_>,
        now: Timestamp,
        give_up_at: Timestamp,
    ) -> Result<(), StoreError> {
        let anchor = message
            .anchor
            .filter(|a| a.field == AnchorField::Ts)
            .ok_or_else(|| StoreError::Conflict("an update needs a `ts` anchor".into()))?;
        let folded = db::query(
            "UPDATE outbox SET body = ? \
             WHERE workspace_id = ? AND anchor_id = ? AND anchor_field = 'ts' \
               AND method = ? AND status = 'pending'",
        )
        .bind(message.body)
        .bind(message.workspace.0)
        .bind(anchor.message.0)
        .bind(message.method.as_str())
        .execute(&mut self.tx)
        .await?;
        self.insert_unless_folded(folded.rows_affected(), message, now, give_up_at)
            .await
    }
}

impl Store {
    /// The message queued under a dedupe key, if there is one.
    pub async fn outbox_by_dedupe_key(
        &self,
        workspace: WorkspaceId,
        key: &str,
    ) -> Result<Option<OutboxId>, StoreError> {
        let id: Option<i64> =
            db::query_scalar("SELECT id FROM outbox WHERE workspace_id = ? AND dedupe_key = ?")
                .bind(workspace.0)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map(OutboxId))
    }

    /// Which of these dedupe keys (by workspace) are taken, in one query.
    pub async fn taken_dedupe_keys(
        &self,
        keys: &[(i64, &str)],
    ) -> Result<std::collections::HashSet<(i64, String)>, StoreError> {
        if keys.is_empty() {
            return Ok(Default::default());
        }
        let pairs = serde_json::to_string(keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows: Vec<(i64, String)> = db::query_as(over_json_rows!(
            ["SELECT o.workspace_id, o.dedupe_key FROM "],
            "?",
            [
                " JOIN outbox o ON o.workspace_id = CAST(j.value ->> 0 AS BIGINT) \
                 AND o.dedupe_key = j.value ->> 1"
            ]
        ))
        .bind(pairs)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Queues a message on its own; `None` if its dedupe key was taken. In a write
    /// transaction like every other insert: on PostgreSQL an id is drawn at insert and
    /// seen at commit, so an insert outside the writers' order could commit after a
    /// later id of its channel was claimed, and go out of order.
    pub async fn enqueue(
        &self,
        message: NewOutboxMessage<'_>,
        now: Timestamp,
        give_up_at: Timestamp,
    ) -> Result<Option<OutboxId>, StoreError> {
        let mut tx = self.begin().await?;
        let queued = tx.enqueue(message, now, give_up_at).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Takes up to `limit` due messages, at most one per channel and only the oldest
    /// unsent one of each (so a channel's messages go out in order). A new message
    /// (`chat.postMessage`, `teams.send`) waits while its channel is inside its pacing
    /// interval; updates and ephemeral replies are not paced and do not wait. Rows whose
    /// lease ran out (their worker died) are due again. Workspaces take turns: each
    /// one's oldest due message comes before any workspace's second, so one workspace's
    /// backlog of thousands never holds back another's single message by more than a
    /// round.
    ///
    /// Candidates are read per workspace, along its index and only as far as `limit`
    /// eligible rows (reading every due row to rank them made each claim cost the
    /// whole backlog); the claim itself is one `UPDATE` that checks every condition
    /// again, so two workers never take the same row or a channel's second message.
    pub async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let now = now.millis();
        let lease_until = lease_until.millis();
        // The workspaces with messages due, the longest-waiting first, a page at a time
        // until a round's worth of candidates is found (a workspace whose due rows are
        // all held, in flight elsewhere or paced, gives none and the next page is read).
        let mut candidates: Vec<(i64, i64, i64)> = Vec::new();
        let mut page = 0;
        loop {
            // One index probe per workspace, not a read of every waiting row.
            macro_rules! due_workspaces {
                ($keep_whole:literal) => {
                    concat!(
                        "SELECT id FROM (SELECT w.id, (SELECT MIN(o.next_attempt_at) FROM outbox o \
                             WHERE o.workspace_id = w.id AND o.status IN ('pending', 'sending') \
                               AND ((o.status = 'pending' AND o.next_attempt_at <= ?1) \
                                    OR (o.status = 'sending' AND o.lease_until <= ?1))) AS oldest \
                           FROM workspaces w",
                        $keep_whole,
                        ") AS due WHERE oldest IS NOT NULL ORDER BY oldest, id LIMIT ?2 OFFSET ?3"
                    )
                };
            }
            // (`OFFSET 0` keeps PostgreSQL from inlining the subquery, which computed
            // each workspace's `oldest` twice: once to filter, once to sort.)
            let workspaces: Vec<i64> = db::query_scalar(db::Sql::dialects(
                due_workspaces!(""),
                due_workspaces!(" OFFSET 0"),
            ))
            .bind(now)
            .bind(limit)
            .bind(page * i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            for workspace in &workspaces {
                let due: Vec<(i64, i64)> = db::query_as(concat!(
                    "SELECT o.id, o.next_attempt_at FROM outbox o \
                     WHERE o.workspace_id = ?1 AND o.status IN ('pending', 'sending') AND ",
                    claimable!("o", "2"),
                    " ORDER BY o.next_attempt_at, o.id LIMIT ?3"
                ))
                .bind(workspace)
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                candidates.extend(
                    due.into_iter()
                        .enumerate()
                        .map(|(turn, (id, at))| (turn as i64, at, id)),
                );
            }
            if workspaces.len() < limit as usize || candidates.len() >= limit as usize {
                break;
            }
            page += 1;
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        candidates.sort_unstable();
        candidates.truncate(limit as usize);
        let order: HashMap<i64, usize> = candidates
            .iter()
            .enumerate()
            .map(|(place, (_, _, id))| (*id, place))
            .collect();
        let ids = serde_json::json!(order.keys().map(|id| [id]).collect::<Vec<_>>()).to_string();
        // The claim checks every condition again; on PostgreSQL it also skips rows
        // another replica is claiming this moment instead of waiting for them.
        let mut claimed = db::query_as::<OutboxMessage>(db::Sql::dialects(
            concat!(
                "UPDATE outbox SET status = 'sending', lease_until = ?1, attempts = attempts + 1 \
                 WHERE id IN (SELECT CAST(j.value ->> 0 AS BIGINT) FROM json_each(?3) AS j) \
                   AND status IN ('pending', 'sending') AND ",
                claimable!("outbox", "2"),
                claim_returning!()
            ),
            // Each candidate is looked up by primary key on its own (a lateral
            // subquery with a locking clause is never flattened into a join), so the
            // conditions are checked on those rows alone however little the planner
            // knows of a table that just filled: as a join it read every due row of
            // the table into a hash (20 ms a claim at 10,000 waiting; now 1 ms).
            concat!(
                "WITH wanted AS MATERIALIZED ( \
                     SELECT CAST(j.value ->> 0 AS BIGINT) AS id \
                     FROM json_array_elements(CAST(?3 AS json)) AS j (value)), \
                 taken AS ( \
                     SELECT t.id FROM wanted w CROSS JOIN LATERAL ( \
                         SELECT o.id FROM outbox o \
                         WHERE o.id = w.id AND o.status IN ('pending', 'sending') AND ",
                claimable!("o", "2"),
                " FOR UPDATE SKIP LOCKED) AS t) \
                 UPDATE outbox SET status = 'sending', lease_until = ?1, attempts = attempts + 1 \
                 WHERE outbox.id = ANY(ARRAY(SELECT id FROM taken))",
                claim_returning!()
            ),
        ))
        .bind(lease_until)
        .bind(now)
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        claimed.sort_by_key(|message| order.get(&message.id).copied());
        Ok(claimed)
    }

    /// Records how a batch of sends went, in one transaction: one write lock per batch
    /// instead of one per message keeps SQLite's writers from queueing behind each other.
    pub async fn settle(&self, settlements: &[Settlement]) -> Result<(), StoreError> {
        if settlements.is_empty() {
            return Ok(());
        }
        // Every write here is by primary key (claimed rows are this worker's alone) or an
        // upsert that keeps the later time, so replicas settle side by side.
        let mut tx = self.pool.begin_concurrent().await?;
        // Deliveries, the common case, are two statements for the whole round.
        let (sent, others): (Vec<&Settlement>, Vec<&Settlement>) = settlements
            .iter()
            .partition(|s| matches!(s, Settlement::Sent { .. }));
        settle_sent(&mut tx, &sent).await?;
        for settlement in others {
            apply(&mut tx, settlement).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks a message delivered and holds its channel until `channel_free_at`.
    pub async fn mark_sent(
        &self,
        message: &OutboxMessage,
        now: Timestamp,
        channel_free_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.settle(&[Settlement::Sent {
            id: message.outbox_id(),
            workspace_id: message.workspace_id,
            channel: message.channel.clone(),
            at: now,
            channel_free_at,
            sent_ts: None,
        }])
        .await
    }

    /// Puts a message back to be tried again at `next_attempt_at`.
    pub async fn retry_later(
        &self,
        claim: OutboxClaim,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        self.settle(&[Settlement::Retry {
            claim,
            at: next_attempt_at,
            error: error.to_owned(),
        }])
        .await
    }

    /// Returns a claimed message untouched (shutdown, or a rate limit of our own):
    /// the claim does not count as an attempt.
    pub async fn release(
        &self,
        claim: OutboxClaim,
        next_attempt_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.settle(&[Settlement::Release {
            claim,
            at: next_attempt_at,
        }])
        .await
    }

    /// Gives up on a message for good.
    pub async fn mark_failed(&self, claim: OutboxClaim, error: &str) -> Result<(), StoreError> {
        self.settle(&[Settlement::Failed {
            claim,
            error: error.to_owned(),
        }])
        .await
    }

    /// The earliest time a channel's next message may be claimed (its retry time, its
    /// channel's pacing, or the lease of one in flight), if anything is waiting.
    pub async fn next_outbox_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: super::columns::OptionalMillis = db::query_scalar(
            concat!(
                "SELECT MIN(CASE WHEN o.status = 'sending' THEN o.lease_until \
                            WHEN o.method NOT IN ('chat.postMessage', 'teams.send') THEN o.next_attempt_at \
                            WHEN o.next_attempt_at > COALESCE(p.next_allowed_at, 0) THEN o.next_attempt_at \
                            ELSE COALESCE(p.next_allowed_at, 0) END) \
                 FROM outbox o \
                 LEFT JOIN channel_pacing p ON p.workspace_id = o.workspace_id AND p.channel = o.channel \
                 WHERE o.status IN ('pending', 'sending') AND o.id = ",
                channel_head!("o")
            ),
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next.into())
    }

    /// Retention: bodies of messages delivered before `sent_before` (Unix ms) are
    /// erased, and such rows that nothing refers to any more are removed; failed rows
    /// created before `failed_before` are removed too. How many rows changed.
    pub async fn prune_outbox(
        &self,
        sent_before: Timestamp,
        failed_before: Timestamp,
    ) -> Result<u64, StoreError> {
        let sent_before = sent_before.millis();
        let failed_before = failed_before.millis();
        let mut tx = self.begin().await?;
        // Kept (bodiless): a debrief's card (its ts is where updates and the summary
        // go), a follow-up question still waiting (its failure settles the lesson), and
        // a row a queued message is anchored to.
        let removed = db::query(
            "DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?1 \
             AND id NOT IN (SELECT card_outbox_id FROM debriefs WHERE card_outbox_id IS NOT NULL) \
             AND id NOT IN (SELECT outbox_id FROM follow_ups \
                            WHERE answered_at IS NULL AND outbox_id IS NOT NULL) \
             AND NOT EXISTS (SELECT 1 FROM outbox later WHERE later.anchor_id = outbox.id \
                             AND later.status IN ('pending', 'sending'))",
        )
        .bind(sent_before)
        .execute(&mut tx.tx)
        .await?;
        let erased = db::query(
            "UPDATE outbox SET body = '{}' WHERE status = 'sent' AND sent_at < ? AND body != '{}'",
        )
        .bind(sent_before)
        .execute(&mut tx.tx)
        .await?;
        let failed = db::query("DELETE FROM outbox WHERE status = 'failed' AND created_at < ?")
            .bind(failed_before)
            .execute(&mut tx.tx)
            .await?;
        tx.commit().await?;
        Ok(removed.rows_affected() + erased.rows_affected() + failed.rows_affected())
    }

    /// The state of one row, scoped to its workspace.
    pub async fn outbox_state(
        &self,
        workspace: WorkspaceId,
        id: OutboxId,
    ) -> Result<OutboxState, StoreError> {
        Ok(db::query_as(
            "SELECT status, attempts, last_error, next_attempt_at, sent_ts FROM outbox \
             WHERE workspace_id = ? AND id = ?",
        )
        .bind(workspace.0)
        .bind(id.0)
        .fetch_one(&self.pool)
        .await?)
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;

/// The dedupe key of a nudge of `debrief` sent to `person` at `at` (unique per round).
pub fn nudge_key(debrief: DebriefId, at: i64, person: &str) -> String {
    format!("nudge:{}:{at}:{person}", debrief.0)
}

/// What every nudge key of `debrief` starts with, as a `LIKE` pattern.
fn nudge_key_prefix(debrief: DebriefId) -> String {
    format!("nudge:{}:%", debrief.0)
}
