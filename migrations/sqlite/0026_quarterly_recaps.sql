-- The quarterly recap each digest channel got (one per schedule and quarter), and the
-- people who agreed to be named in recaps as most active contributors.
CREATE TABLE recaps (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    -- The quarter recapped, e.g. '2026-Q3'.
    quarter     TEXT    NOT NULL,
    posted_at   INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, quarter)
);

CREATE TABLE recap_credits (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    person       TEXT    NOT NULL,
    since        INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, person)
);

CREATE INDEX reflections_by_author ON reflections (workspace_id, author) WHERE author IS NOT NULL;
