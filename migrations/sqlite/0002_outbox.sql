-- The durable outbox: every message the bot sends is a row here first, written in the
-- same transaction as the change that causes it, and delivered by the worker.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Delivery order and rate limits are per channel (a DM is a channel too).
    channel         TEXT    NOT NULL,
    -- Platform API method, e.g. chat.postMessage, and its JSON body.
    method          TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds: not before this time (backoff, Retry-After).
    next_attempt_at INTEGER NOT NULL,
    -- Unix milliseconds: retries stop after this; the row is marked failed.
    give_up_at      INTEGER NOT NULL,
    -- A worker that took the row holds it until this time; a crashed worker's rows
    -- become pending again when it passes.
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    -- Optional idempotency key: the same key in a workspace is queued once.
    dedupe_key      TEXT,
    UNIQUE (workspace_id, dedupe_key)
);

-- Due rows, oldest first.
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);
-- The head of each channel's queue.
CREATE INDEX outbox_by_channel ON outbox (workspace_id, channel, id)
    WHERE status IN ('pending', 'sending');

-- When each channel may receive its next message (Slack allows about one per second
-- per channel). Shared by every worker process through the database.
CREATE TABLE channel_pacing (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,
    next_allowed_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, channel)
) WITHOUT ROWID;
