-- Closing the loop: follow-ups on lessons, check-ins, and a search index scoped to its
-- workspace.

-- Lessons gain the states a follow-up can end in ('stale' after the fourth "not yet",
-- 'unreachable' when the owner cannot be reached), a nullable follow-up time (NULL: no
-- question scheduled, either because one is waiting for an answer or because the
-- lesson is settled) and the time it settled. SQLite cannot change a CHECK in place,
-- so the table is rebuilt with the same ids.
CREATE TABLE lessons_next (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    debrief_id    INTEGER NOT NULL REFERENCES debriefs (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('lesson', 'action')),
    text          TEXT    NOT NULL,
    author        TEXT,
    owner         TEXT,
    tags          TEXT    NOT NULL DEFAULT '',
    visibility    TEXT    NOT NULL DEFAULT 'shared' CHECK (visibility IN ('shared', 'private')),
    -- Unix seconds: when the owner is next asked whether it was applied.
    follow_up_at  INTEGER,
    status        TEXT    NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'not_yet', 'applied', 'not_relevant', 'stale', 'unreachable')),
    -- How many times the owner answered "not yet"; also the version a button carries,
    -- so a second click on an old question changes nothing.
    not_yet_count INTEGER NOT NULL DEFAULT 0,
    -- When it reached applied, not_relevant, stale or unreachable.
    settled_at    INTEGER,
    created_at    INTEGER NOT NULL
);
INSERT INTO lessons_next (id, workspace_id, debrief_id, kind, text, author, owner, tags,
                          visibility, follow_up_at, status, created_at)
SELECT id, workspace_id, debrief_id, kind, text, author, owner, tags, visibility,
       CASE WHEN owner IS NULL OR status != 'open' THEN NULL ELSE follow_up_at END,
       status, created_at
FROM lessons;
DROP TABLE lessons;
ALTER TABLE lessons_next RENAME TO lessons;
CREATE INDEX lessons_by_debrief ON lessons (debrief_id);
CREATE INDEX lessons_by_workspace ON lessons (workspace_id, created_at);
CREATE INDEX lessons_by_owner ON lessons (workspace_id, owner, status);
CREATE INDEX lessons_settled ON lessons (workspace_id, settled_at) WHERE settled_at IS NOT NULL;
-- The follow-up pass reads only lessons with a question scheduled.
CREATE INDEX lessons_follow_up_due ON lessons (follow_up_at) WHERE follow_up_at IS NOT NULL;

-- The search index is rebuilt with every word prefixed by its workspace (`w12xdeploy`,
-- see src/store/search_terms.rs), so each workspace's words are separate terms and a
-- search reads only its own workspace's postings. Contentless: the text lives in
-- `lessons`, not twice. The prefixing needs the app's word splitting, so lessons that
-- already exist are listed in `lessons_to_index` and indexed by the app right after the
-- migrations run.
DROP TABLE lessons_fts;
CREATE VIRTUAL TABLE lessons_fts USING fts5 (
    text, tags, debrief_title,
    content = '', contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER lessons_fts_forget AFTER DELETE ON lessons BEGIN
    DELETE FROM lessons_fts WHERE rowid = old.id;
END;
CREATE TABLE lessons_to_index (lesson_id INTEGER PRIMARY KEY);
INSERT INTO lessons_to_index (lesson_id) SELECT id FROM lessons;

-- One row per time an owner is asked about a lesson, with the answer once given.
CREATE TABLE follow_ups (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lesson_id    INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    person       TEXT    NOT NULL,
    asked_at     INTEGER NOT NULL,
    -- The DM that asked; NULL when the person answered from `/learn followups`.
    outbox_id    INTEGER,
    answer       TEXT CHECK (answer IN ('applied', 'not_yet', 'not_relevant', 'unreachable')),
    note         TEXT,
    answered_at  INTEGER
);
CREATE INDEX follow_ups_by_lesson ON follow_ups (lesson_id);
CREATE INDEX follow_ups_asked ON follow_ups (workspace_id, asked_at);
CREATE INDEX follow_ups_answered ON follow_ups (workspace_id, answered_at) WHERE answered_at IS NOT NULL;
CREATE INDEX follow_ups_waiting ON follow_ups (outbox_id) WHERE answered_at IS NULL;

-- A personal check-in: its questions (the template's, then two per open goal), frozen
-- when it starts, and the person's progress through them as a DM conversation.
CREATE TABLE checkins (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    person       TEXT    NOT NULL,
    schedule_id  INTEGER REFERENCES schedules (id) ON DELETE SET NULL,
    questions    TEXT    NOT NULL,
    step         INTEGER NOT NULL DEFAULT 0,
    answers      TEXT    NOT NULL DEFAULT '{}',
    nudged       INTEGER NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'done', 'missed', 'cancelled')),
    created_at   INTEGER NOT NULL,
    closed_at    INTEGER
);
CREATE UNIQUE INDEX checkins_one_open ON checkins (workspace_id, person) WHERE status = 'open';
CREATE INDEX checkins_open_by_age ON checkins (created_at) WHERE status = 'open';

-- The digest counts a period's debriefs per workspace.
CREATE INDEX debriefs_by_workspace ON debriefs (workspace_id, created_at);
CREATE INDEX goals_reached ON goals (workspace_id, done_at) WHERE shared = 1 AND done_at IS NOT NULL;
