-- The facilitator's review at close, page by page: what to do with each candidate
-- lesson or action (keep, drop, kudos; edited text; owner), by the candidate's key.
-- Working state only: the rows go when the debrief closes.
CREATE TABLE debrief_reviews (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    debrief_id   INTEGER NOT NULL REFERENCES debriefs (id) ON DELETE CASCADE,
    item_key     TEXT    NOT NULL,
    -- JSON: {"verdict": "keep" | "drop" | "kudos", "text": …, "owner": …}
    decision     TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (debrief_id, item_key)
);
