-- Slack apps installed through OAuth (many workspaces), and the end of an install.

-- One installation per (enterprise, team): a team install has both (enterprise '' outside
-- Enterprise Grid), an org-wide install has team ''. Tokens are sealed with the keys of
-- LEARNLOOP_TOKEN_KEYS ("v1:<kid>:<base64>"), never stored in plain text.
CREATE TABLE slack_installations (
    workspace_id          INTEGER PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    enterprise_id         TEXT    NOT NULL DEFAULT '',
    team_id               TEXT    NOT NULL DEFAULT '',
    is_enterprise_install INTEGER NOT NULL DEFAULT 0,
    app_id                TEXT,
    bot_user_id           TEXT,
    scope                 TEXT,
    installer_user_id     TEXT,
    bot_token             TEXT    NOT NULL,
    -- With token rotation: the refresh token and when the bot token expires (unix s).
    refresh_token         TEXT,
    token_expires_at      INTEGER,
    state                 TEXT    NOT NULL DEFAULT 'active'
                          CHECK (state IN ('active', 'uninstalled', 'broken')),
    installed_at          INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (enterprise_id, team_id)
);

-- Rotating tokens that run out soonest first.
CREATE INDEX slack_installations_expiring ON slack_installations (token_expires_at)
    WHERE refresh_token IS NOT NULL AND state = 'active';

-- The state parameter of an OAuth install in flight: single use, ten minutes, and bound
-- to the browser that started it. Only hashes are kept.
CREATE TABLE oauth_states (
    state_hash   TEXT    PRIMARY KEY,
    browser_hash TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL
);

-- When the app was removed from a workspace (app_uninstalled, tokens_revoked): nothing
-- is sent to it and its schedules stop until it is installed again.
ALTER TABLE workspaces ADD COLUMN uninstalled_at INTEGER;

-- The single-workspace bot token came from LEARNLOOP_SLACK_BOT_TOKEN and was copied
-- here in plain text; it is read from the environment now, so the copies go.
UPDATE workspaces SET bot_token = NULL;
