-- Foundation: workspaces, the people in them, and Events API ids already handled.
-- Timestamps are Unix seconds (UTC). Every row below a workspace carries workspace_id.

CREATE TABLE workspaces (
    id                INTEGER PRIMARY KEY,
    platform          TEXT    NOT NULL CHECK (platform IN ('slack', 'teams')),
    -- Slack team id (T…) or Teams tenant id; unique per platform.
    external_id       TEXT    NOT NULL,
    name              TEXT,
    -- Bot token of this install; NULL when the install has none yet.
    bot_token         TEXT,
    default_time_zone TEXT    NOT NULL DEFAULT 'UTC',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (platform, external_id)
);

CREATE TABLE people (
    id                     INTEGER PRIMARY KEY,
    workspace_id           INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    platform_user_id       TEXT    NOT NULL,
    display_name           TEXT,
    -- IANA zone from the platform (Slack users.info `tz`); NULL until fetched.
    time_zone              TEXT,
    time_zone_refreshed_at INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    UNIQUE (workspace_id, platform_user_id)
);

-- Slack retries an event it thinks we missed; its event_id lets us handle it once.
CREATE TABLE processed_events (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    event_id     TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, event_id)
) WITHOUT ROWID;

CREATE INDEX processed_events_by_age ON processed_events (received_at);
