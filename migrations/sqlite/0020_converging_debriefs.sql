-- Debriefs that converge: a close-by time with a reminder before it, nudges at most
-- twice a day, and kudos kept for the digest.

-- Unix seconds: when the scheduler closes the debrief as its facilitator would. NULL:
-- only the facilitator closes it.
ALTER TABLE debriefs ADD COLUMN closes_at INTEGER;
-- When the facilitator was reminded that the close-by time is near (once).
ALTER TABLE debriefs ADD COLUMN close_reminded_at INTEGER;
-- When the people who had not reflected were last nudged (at most once per 12 hours).
ALTER TABLE debriefs ADD COLUMN nudged_at INTEGER;
-- The scheduler's pass finds what is due by these.
CREATE INDEX debriefs_closing ON debriefs (closes_at) WHERE closed_at IS NULL AND closes_at IS NOT NULL;

-- Thanks and celebrations from a debrief's kudos answers: never followed up, shown in
-- the summary and in the digest where the debrief's lessons may be shown.
CREATE TABLE kudos (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    debrief_id   INTEGER NOT NULL REFERENCES debriefs (id) ON DELETE CASCADE,
    text         TEXT    NOT NULL,
    -- NULL in anonymous debriefs.
    author       TEXT,
    visibility   TEXT    NOT NULL CHECK (visibility IN ('shared', 'private')),
    created_at   INTEGER NOT NULL
);
CREATE INDEX kudos_by_workspace ON kudos (workspace_id, created_at);
