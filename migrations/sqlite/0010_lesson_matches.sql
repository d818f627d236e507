-- Lessons that say the same thing, found once per lesson in the background instead of
-- by every digest (a digest checked up to 60 lessons with full-text lookups, ~0.5 s on
-- a 10,000-lesson workspace). A pair is stored in both directions, so a lesson's
-- matches include the ones written after it.
CREATE TABLE lesson_matches (
    lesson_id INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    match_id  INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    PRIMARY KEY (lesson_id, match_id)
) WITHOUT ROWID;
CREATE INDEX lesson_matches_by_match ON lesson_matches (match_id);

-- Shared lessons whose matches have not been looked for yet. Every new one is queued by
-- the trigger, whichever code path stores it; the scheduler works the queue off.
CREATE TABLE lessons_to_match (
    lesson_id    INTEGER PRIMARY KEY REFERENCES lessons (id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX lessons_to_match_by_workspace ON lessons_to_match (workspace_id, created_at);
CREATE TRIGGER lessons_queue_match AFTER INSERT ON lessons
WHEN new.kind = 'lesson' AND new.visibility = 'shared'
BEGIN
    INSERT INTO lessons_to_match (lesson_id, workspace_id, created_at)
    VALUES (new.id, new.workspace_id, new.created_at);
END;

-- Lessons already stored are queued only if a weekly digest can still report them as
-- new; older ones are found as matches of later lessons all the same.
INSERT INTO lessons_to_match (lesson_id, workspace_id, created_at)
SELECT id, workspace_id, created_at FROM lessons
WHERE kind = 'lesson' AND visibility = 'shared'
  AND created_at >= CAST(strftime('%s', 'now') AS INTEGER) - 8 * 86400;
