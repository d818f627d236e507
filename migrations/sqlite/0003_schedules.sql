-- Recurring prompts (retro reminders now; check-ins and digests use the same rows) and
-- the record of each occurrence, which makes firing idempotent across restarts and
-- replicas: one run per (schedule, fire time). Times are Unix seconds.
CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('retro', 'checkin', 'digest')),
    -- Where the prompt goes.
    channel      TEXT    NOT NULL,
    -- The schedule as typed, its IANA zone, and the date it was set (anchors "every N weeks").
    spec         TEXT    NOT NULL,
    time_zone    TEXT    NOT NULL,
    anchor_date  TEXT    NOT NULL,
    template     TEXT,
    -- The earliest occurrence not yet fired or skipped.
    next_fire_at INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1
);

CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE active = 1;
CREATE INDEX schedules_by_channel ON schedules (workspace_id, channel) WHERE active = 1;

CREATE TABLE schedule_runs (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_at     INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('sent', 'missed', 'holiday', 'paused')),
    ran_at      INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, fire_at)
) WITHOUT ROWID;

-- A person's prompts are skipped until this time (holiday, out of office).
ALTER TABLE people ADD COLUMN paused_until INTEGER;
