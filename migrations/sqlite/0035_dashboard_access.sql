-- What a dashboard session may see beyond the workspace's public lessons: whether the
-- person administers the workspace (asked of the platform at sign-in), and the private
-- conversations the platform says they are in, checked at sign-in and again once the
-- check is a few minutes old (channels_checked_at, Unix seconds).
ALTER TABLE web_sessions ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE web_sessions ADD COLUMN channels_checked_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE web_session_channels (
    token_hash   TEXT NOT NULL REFERENCES web_sessions (token_hash) ON DELETE CASCADE,
    conversation TEXT NOT NULL,
    PRIMARY KEY (token_hash, conversation)
) WITHOUT ROWID;
