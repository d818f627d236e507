-- The dashboard's outcomes page reads every lesson settled, and every follow-up question
-- asked, in the last 26 weeks of a workspace. These indexes hold every column those
-- reads need, so they never visit the tables (100,000 lessons: see docs/BENCHMARKS.md).
CREATE INDEX lessons_outcomes ON lessons
    (workspace_id, settled_at, kind, status, visibility, debrief_id, tags)
    WHERE settled_at IS NOT NULL;
CREATE INDEX follow_ups_outcomes ON follow_ups (workspace_id, asked_at, lesson_id, answered_at);
