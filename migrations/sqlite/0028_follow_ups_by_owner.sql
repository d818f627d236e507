-- The follow-up pass reads due questions owner by owner, a page at a time.
CREATE INDEX lessons_due_by_owner ON lessons (workspace_id, owner, follow_up_at, id)
    WHERE follow_up_at IS NOT NULL;
