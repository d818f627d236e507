-- Each workspace's send rate, shared by the delivery workers of every replica: the
-- bucket in thousandths of a message, when it was last refilled, and until when
-- Slack's Retry-After holds the whole workspace (unix ms). As SQLite's 0033.
CREATE TABLE send_rates (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    millitokens  BIGINT NOT NULL,
    refilled_at  BIGINT NOT NULL,
    held_until   BIGINT NOT NULL DEFAULT 0
);
