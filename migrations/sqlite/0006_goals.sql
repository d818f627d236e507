-- Personal learning goals: private to their owner unless shared. `number` is the one
-- people type (`goal done 2`): per person, never reused.
CREATE TABLE goals (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    person       TEXT    NOT NULL,
    number       INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    -- YYYY-MM-DD, the person's own deadline.
    due_date     TEXT,
    shared       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    done_at      INTEGER,
    UNIQUE (workspace_id, person, number)
);
