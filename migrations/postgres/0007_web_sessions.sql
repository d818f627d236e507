-- Dashboard sign-ins: one session per browser, found by the SHA-256 of its cookie (the
-- cookie itself is never stored), ended by signing out or after hours without use.
CREATE TABLE web_sessions (
    token_hash   TEXT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    -- The token every form of the session carries (CSRF).
    csrf         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_workspace ON web_sessions (workspace_id);
