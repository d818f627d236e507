-- Debriefs: a card in a channel, the reflections people add, and the lessons and
-- action items that come out of them when it closes.
CREATE TABLE debriefs (
    id             INTEGER PRIMARY KEY,
    workspace_id   INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel        TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    template       TEXT    NOT NULL,
    -- The template's title and questions as JSON (`{"title", "questions"}`), frozen at
    -- start: editing a template file never
    -- changes a debrief people are already answering.
    questions      TEXT    NOT NULL,
    facilitator    TEXT    NOT NULL,
    anonymous      INTEGER NOT NULL DEFAULT 0,
    -- Random per debrief; keys each person's reflection (see reflections.author_key).
    -- Erased when the debrief closes, so anonymous reflections can no longer be linked
    -- to anyone, not even by guessing user ids.
    author_salt    TEXT,
    -- The outbox row of the card; its sent ts is where updates and the summary go.
    card_outbox_id INTEGER,
    created_at     INTEGER NOT NULL,
    closed_at      INTEGER
);
CREATE INDEX debriefs_open_by_channel ON debriefs (workspace_id, channel) WHERE closed_at IS NULL;

CREATE TABLE reflections (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    debrief_id   INTEGER NOT NULL REFERENCES debriefs (id) ON DELETE CASCADE,
    -- sha256(salt, user id): one reflection per person, edited on resubmission.
    author_key   TEXT    NOT NULL,
    -- The person's user id; NULL in anonymous debriefs (never stored there).
    author       TEXT,
    -- JSON object: question id -> answer text ("4" for a rating).
    answers      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (debrief_id, author_key)
);

-- Lessons and action items, made from answers to flagged questions at close.
CREATE TABLE lessons (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    debrief_id   INTEGER NOT NULL REFERENCES debriefs (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('lesson', 'action')),
    text         TEXT    NOT NULL,
    -- NULL in anonymous debriefs.
    author       TEXT,
    -- Who is asked whether it was applied; NULL when nobody could be named.
    owner        TEXT,
    -- Space-separated lowercase #hashtags of the text, without the '#'.
    tags         TEXT    NOT NULL DEFAULT '',
    visibility   TEXT    NOT NULL DEFAULT 'shared' CHECK (visibility IN ('shared', 'private')),
    -- Unix seconds: when the owner is first asked whether it was applied.
    follow_up_at INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'applied', 'not_yet', 'not_relevant')),
    created_at   INTEGER NOT NULL
);
CREATE INDEX lessons_by_debrief ON lessons (debrief_id);
CREATE INDEX lessons_follow_up ON lessons (status, follow_up_at);

-- Full-text search over lessons (text, tags, and the debrief's title); rowid = lessons.id.
CREATE VIRTUAL TABLE lessons_fts USING fts5 (text, tags, debrief_title, tokenize = 'porter unicode61');
-- A deleted lesson (its debrief or workspace removed) leaves the index with it, so a
-- reused rowid never collides with a stale entry.
CREATE TRIGGER lessons_fts_forget AFTER DELETE ON lessons BEGIN
    DELETE FROM lessons_fts WHERE rowid = old.id;
END;

-- A guided DM conversation in progress: one per person at a time, kept here so a
-- restart continues where it stopped.
CREATE TABLE conversations (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    person       TEXT    NOT NULL,
    -- NULL while the person is choosing between several open debriefs.
    debrief_id   INTEGER REFERENCES debriefs (id) ON DELETE CASCADE,
    -- JSON array of debrief ids offered when choosing.
    choices      TEXT    NOT NULL DEFAULT '[]',
    -- Index of the question being asked.
    step         INTEGER NOT NULL DEFAULT 0,
    -- JSON object: question id -> answer so far.
    answers      TEXT    NOT NULL DEFAULT '{}',
    -- Whether "can you say a bit more?" was already asked for this step.
    nudged       INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, person)
);
