-- Each workspace's send rate, shared by the delivery workers of every process on this
-- database (it was a token bucket in each process's memory, so N processes sent N
-- times the rate): the bucket in thousandths of a message, when it was last refilled,
-- and until when Slack's Retry-After holds the whole workspace (unix ms).
CREATE TABLE send_rates (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    millitokens  INTEGER NOT NULL,
    refilled_at  INTEGER NOT NULL,
    held_until   INTEGER NOT NULL DEFAULT 0
);
