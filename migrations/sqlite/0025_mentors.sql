-- People who offer to be asked about what they learned, and whom the bot suggested
-- to whom (never the same person to the same starter twice in 30 days).
CREATE TABLE mentors (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    person       TEXT    NOT NULL,
    -- Space-separated lowercase topics without '#'; empty: the tags of the lessons
    -- they applied.
    topics       TEXT    NOT NULL DEFAULT '',
    since        INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, person)
);

CREATE TABLE mentor_suggestions (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    starter      TEXT    NOT NULL,
    mentor       TEXT    NOT NULL,
    suggested_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, starter, mentor)
);

-- What a mentor applied, counted per person.
CREATE INDEX lessons_applied_by_owner ON lessons (workspace_id, owner) WHERE status = 'applied';
