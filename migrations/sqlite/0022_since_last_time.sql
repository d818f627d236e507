-- "Since last time": what happened, during a debrief, to the open action items of the
-- channel's earlier debriefs (done, still open, dropped), so its summary can report it.
CREATE TABLE since_last_time (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    debrief_id   INTEGER NOT NULL REFERENCES debriefs (id) ON DELETE CASCADE,
    lesson_id    INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('done', 'still_open', 'dropped')),
    person       TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (debrief_id, lesson_id)
);
-- Open actions of a channel, oldest first.
CREATE INDEX lessons_open_actions ON lessons (workspace_id, debrief_id)
    WHERE kind = 'action' AND status IN ('open', 'not_yet');
