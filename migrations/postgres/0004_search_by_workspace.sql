-- A search reads one workspace's lessons: the GIN index holds the workspace id beside
-- the words (btree_gin), so a common word's postings are intersected with the
-- workspace's before any row is read, as SQLite's workspace-prefixed terms do. With
-- the words alone, a common word read every workspace's matches and filtered them.
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX lessons_search;
CREATE INDEX lessons_search ON lessons USING GIN (workspace_id, search);
