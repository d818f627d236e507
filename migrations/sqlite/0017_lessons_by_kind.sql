-- The background matching of recurring lessons reads a workspace's lessons (not action
-- items) by id: the newest window first, then only those added since.
CREATE INDEX lessons_by_workspace_kind ON lessons (workspace_id, kind);
