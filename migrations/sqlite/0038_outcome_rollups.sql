-- The dashboard's outcomes page sums weeks, not rows: per workspace, conversation,
-- lesson visibility and week, how many lessons settled (and how many of them applied),
-- and how many follow-up questions were asked (and answered). Visibility is decided by
-- the conversation and whether a lesson is shared, so these keys are all the page needs
-- to show each person only what they may see. Over 100,000 lessons the page reads a few
-- hundred rows instead of 60,000 (see docs/BENCHMARKS.md).
--
-- Triggers keep the counts, so every statement that settles a lesson or asks or answers
-- a question (now or later) counts without knowing about them. A week starts on Monday
-- 00:00 UTC: week = (unix seconds - 345600) / 604800, 1970-01-05 being a Monday.
--
-- A lesson counts as settled when it is a lesson (not an action) whose status is
-- applied, not_relevant or stale and whose settled_at is set; in the week of settled_at.
-- A question counts in the week it was asked, whatever its lesson's kind.
--
-- Rebuilding `lessons` or `follow_ups` (SQLite's way to change a column) drops these
-- triggers: a migration that does so must create them again.

CREATE TABLE outcome_weeks (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    week         INTEGER NOT NULL,
    channel      TEXT    NOT NULL,
    -- 1 when the lessons counted here are shared, 0 when private.
    shared       INTEGER NOT NULL,
    applied      INTEGER NOT NULL DEFAULT 0,
    settled      INTEGER NOT NULL DEFAULT 0,
    asked        INTEGER NOT NULL DEFAULT 0,
    answered     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, week, channel, shared)
) WITHOUT ROWID;

-- The settled lessons again, once per tag they carry.
CREATE TABLE outcome_tag_weeks (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    week         INTEGER NOT NULL,
    channel      TEXT    NOT NULL,
    shared       INTEGER NOT NULL,
    tag          TEXT    NOT NULL,
    applied      INTEGER NOT NULL DEFAULT 0,
    settled      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, week, channel, shared, tag)
) WITHOUT ROWID;

-- What is already there.
INSERT INTO outcome_weeks (workspace_id, week, channel, shared, applied, settled)
SELECT l.workspace_id, (l.settled_at - 345600) / 604800, d.channel, l.visibility = 'shared',
       SUM(l.status = 'applied'), COUNT(*)
FROM lessons l, debriefs d
WHERE d.id = l.debrief_id AND l.kind = 'lesson' AND l.settled_at IS NOT NULL
  AND l.status IN ('applied', 'not_relevant', 'stale')
GROUP BY 1, 2, 3, 4;

INSERT INTO outcome_weeks (workspace_id, week, channel, shared, asked, answered)
SELECT f.workspace_id, (f.asked_at - 345600) / 604800, d.channel, l.visibility = 'shared',
       COUNT(*), COUNT(f.answered_at)
FROM follow_ups f, lessons l, debriefs d
WHERE l.id = f.lesson_id AND d.id = l.debrief_id
GROUP BY 1, 2, 3, 4
ON CONFLICT (workspace_id, week, channel, shared)
DO UPDATE SET asked = excluded.asked, answered = excluded.answered;

INSERT INTO outcome_tag_weeks (workspace_id, week, channel, shared, tag, applied, settled)
SELECT workspace_id, week, channel, shared, tag, SUM(applied), COUNT(*)
FROM (SELECT DISTINCT l.id, l.workspace_id, (l.settled_at - 345600) / 604800 AS week,
             d.channel, l.visibility = 'shared' AS shared, t.value AS tag,
             l.status = 'applied' AS applied
      FROM lessons l, debriefs d,
           json_each('["' || replace(replace(replace(l.tags, '\', '\\'), '"', '\"'), ' ', '","') || '"]') t
      WHERE d.id = l.debrief_id AND l.kind = 'lesson' AND l.settled_at IS NOT NULL
        AND l.status IN ('applied', 'not_relevant', 'stale') AND t.value <> '')
GROUP BY 1, 2, 3, 4, 5;

-- Lessons: a settled lesson counts once, in its own week, channel and visibility.
CREATE TRIGGER outcome_lesson_added AFTER INSERT ON lessons
WHEN NEW.kind = 'lesson' AND NEW.settled_at IS NOT NULL
 AND NEW.status IN ('applied', 'not_relevant', 'stale')
BEGIN
    INSERT INTO outcome_weeks (workspace_id, week, channel, shared, applied, settled)
    SELECT NEW.workspace_id, (NEW.settled_at - 345600) / 604800, d.channel,
           NEW.visibility = 'shared', NEW.status = 'applied', 1
    FROM debriefs d WHERE d.id = NEW.debrief_id
    ON CONFLICT (workspace_id, week, channel, shared)
    DO UPDATE SET applied = applied + excluded.applied, settled = settled + 1;
    INSERT INTO outcome_tag_weeks (workspace_id, week, channel, shared, tag, applied, settled)
    SELECT NEW.workspace_id, (NEW.settled_at - 345600) / 604800, d.channel,
           NEW.visibility = 'shared', t.value, NEW.status = 'applied', 1
    FROM debriefs d,
         (SELECT DISTINCT value FROM json_each('["' || replace(replace(replace(NEW.tags, '\', '\\'), '"', '\"'), ' ', '","') || '"]')) t
    WHERE d.id = NEW.debrief_id AND t.value <> ''
    ON CONFLICT (workspace_id, week, channel, shared, tag)
    DO UPDATE SET applied = applied + excluded.applied, settled = settled + 1;
END;

CREATE TRIGGER outcome_lesson_removed AFTER DELETE ON lessons
WHEN OLD.kind = 'lesson' AND OLD.settled_at IS NOT NULL
 AND OLD.status IN ('applied', 'not_relevant', 'stale')
BEGIN
    UPDATE outcome_weeks SET applied = applied - (OLD.status = 'applied'), settled = settled - 1
    WHERE workspace_id = OLD.workspace_id AND week = (OLD.settled_at - 345600) / 604800
      AND channel = (SELECT channel FROM debriefs WHERE id = OLD.debrief_id)
      AND shared = (OLD.visibility = 'shared');
    UPDATE outcome_tag_weeks SET applied = applied - (OLD.status = 'applied'), settled = settled - 1
    WHERE workspace_id = OLD.workspace_id AND week = (OLD.settled_at - 345600) / 604800
      AND channel = (SELECT channel FROM debriefs WHERE id = OLD.debrief_id)
      AND shared = (OLD.visibility = 'shared')
      AND tag IN (SELECT value FROM json_each('["' || replace(replace(replace(OLD.tags, '\', '\\'), '"', '\"'), ' ', '","') || '"]'));
END;

-- A change takes the old row's count out and puts the new one's in; either may be none.
CREATE TRIGGER outcome_lesson_changed AFTER UPDATE OF kind, status, settled_at, tags, visibility, debrief_id ON lessons
WHEN OLD.kind IS NOT NEW.kind OR OLD.status IS NOT NEW.status
  OR OLD.settled_at IS NOT NEW.settled_at OR OLD.tags IS NOT NEW.tags
  OR OLD.visibility IS NOT NEW.visibility OR OLD.debrief_id IS NOT NEW.debrief_id
BEGIN
    UPDATE outcome_weeks SET applied = applied - (OLD.status = 'applied'), settled = settled - 1
    WHERE OLD.kind = 'lesson' AND OLD.settled_at IS NOT NULL
      AND OLD.status IN ('applied', 'not_relevant', 'stale')
      AND workspace_id = OLD.workspace_id AND week = (OLD.settled_at - 345600) / 604800
      AND channel = (SELECT channel FROM debriefs WHERE id = OLD.debrief_id)
      AND shared = (OLD.visibility = 'shared');
    UPDATE outcome_tag_weeks SET applied = applied - (OLD.status = 'applied'), settled = settled - 1
    WHERE OLD.kind = 'lesson' AND OLD.settled_at IS NOT NULL
      AND OLD.status IN ('applied', 'not_relevant', 'stale')
      AND workspace_id = OLD.workspace_id AND week = (OLD.settled_at - 345600) / 604800
      AND channel = (SELECT channel FROM debriefs WHERE id = OLD.debrief_id)
      AND shared = (OLD.visibility = 'shared')
      AND tag IN (SELECT value FROM json_each('["' || replace(replace(replace(OLD.tags, '\', '\\'), '"', '\"'), ' ', '","') || '"]'));
    INSERT INTO outcome_weeks (workspace_id, week, channel, shared, applied, settled)
    SELECT NEW.workspace_id, (NEW.settled_at - 345600) / 604800, d.channel,
           NEW.visibility = 'shared', NEW.status = 'applied', 1
    FROM debriefs d
    WHERE d.id = NEW.debrief_id AND NEW.kind = 'lesson' AND NEW.settled_at IS NOT NULL
      AND NEW.status IN ('applied', 'not_relevant', 'stale')
    ON CONFLICT (workspace_id, week, channel, shared)
    DO UPDATE SET applied = applied + excluded.applied, settled = settled + 1;
    INSERT INTO outcome_tag_weeks (workspace_id, week, channel, shared, tag, applied, settled)
    SELECT NEW.workspace_id, (NEW.settled_at - 345600) / 604800, d.channel,
           NEW.visibility = 'shared', t.value, NEW.status = 'applied', 1
    FROM debriefs d,
         (SELECT DISTINCT value FROM json_each('["' || replace(replace(replace(NEW.tags, '\', '\\'), '"', '\"'), ' ', '","') || '"]')) t
    WHERE d.id = NEW.debrief_id AND NEW.kind = 'lesson' AND NEW.settled_at IS NOT NULL
      AND NEW.status IN ('applied', 'not_relevant', 'stale') AND t.value <> ''
    ON CONFLICT (workspace_id, week, channel, shared, tag)
    DO UPDATE SET applied = applied + excluded.applied, settled = settled + 1;
END;

-- Questions: each counts in the week it was asked, in its lesson's channel and visibility.
CREATE TRIGGER outcome_question_added AFTER INSERT ON follow_ups
BEGIN
    INSERT INTO outcome_weeks (workspace_id, week, channel, shared, asked, answered)
    SELECT NEW.workspace_id, (NEW.asked_at - 345600) / 604800, d.channel,
           l.visibility = 'shared', 1, NEW.answered_at IS NOT NULL
    FROM lessons l, debriefs d
    WHERE l.id = NEW.lesson_id AND d.id = l.debrief_id
    ON CONFLICT (workspace_id, week, channel, shared)
    DO UPDATE SET asked = asked + 1, answered = answered + excluded.answered;
END;

CREATE TRIGGER outcome_question_removed AFTER DELETE ON follow_ups
BEGIN
    UPDATE outcome_weeks SET asked = asked - 1, answered = answered - (OLD.answered_at IS NOT NULL)
    WHERE (workspace_id, week, channel, shared) IN (
        SELECT OLD.workspace_id, (OLD.asked_at - 345600) / 604800, d.channel, l.visibility = 'shared'
        FROM lessons l, debriefs d WHERE l.id = OLD.lesson_id AND d.id = l.debrief_id);
END;

CREATE TRIGGER outcome_question_changed AFTER UPDATE OF asked_at, answered_at, lesson_id ON follow_ups
WHEN OLD.asked_at IS NOT NEW.asked_at OR (OLD.answered_at IS NULL) IS NOT (NEW.answered_at IS NULL)
  OR OLD.lesson_id IS NOT NEW.lesson_id
BEGIN
    UPDATE outcome_weeks SET asked = asked - 1, answered = answered - (OLD.answered_at IS NOT NULL)
    WHERE (workspace_id, week, channel, shared) IN (
        SELECT OLD.workspace_id, (OLD.asked_at - 345600) / 604800, d.channel, l.visibility = 'shared'
        FROM lessons l, debriefs d WHERE l.id = OLD.lesson_id AND d.id = l.debrief_id);
    INSERT INTO outcome_weeks (workspace_id, week, channel, shared, asked, answered)
    SELECT NEW.workspace_id, (NEW.asked_at - 345600) / 604800, d.channel,
           l.visibility = 'shared', 1, NEW.answered_at IS NOT NULL
    FROM lessons l, debriefs d
    WHERE l.id = NEW.lesson_id AND d.id = l.debrief_id
    ON CONFLICT (workspace_id, week, channel, shared)
    DO UPDATE SET asked = asked + 1, answered = answered + excluded.answered;
END;

-- A lesson's visibility moves its questions with it.
CREATE TRIGGER outcome_questions_follow_their_lesson AFTER UPDATE OF visibility, debrief_id ON lessons
WHEN OLD.visibility IS NOT NEW.visibility OR OLD.debrief_id IS NOT NEW.debrief_id
BEGIN
    UPDATE outcome_weeks SET asked = asked - q.questions, answered = answered - q.answers
    FROM (SELECT (f.asked_at - 345600) / 604800 AS week, COUNT(*) AS questions,
                 COUNT(f.answered_at) AS answers
          FROM follow_ups f WHERE f.lesson_id = OLD.id GROUP BY 1) q
    WHERE outcome_weeks.workspace_id = OLD.workspace_id AND outcome_weeks.week = q.week
      AND outcome_weeks.channel = (SELECT channel FROM debriefs WHERE id = OLD.debrief_id)
      AND outcome_weeks.shared = (OLD.visibility = 'shared');
    INSERT INTO outcome_weeks (workspace_id, week, channel, shared, asked, answered)
    SELECT NEW.workspace_id, (f.asked_at - 345600) / 604800, d.channel,
           NEW.visibility = 'shared', COUNT(*), COUNT(f.answered_at)
    FROM follow_ups f, debriefs d
    WHERE f.lesson_id = NEW.id AND d.id = NEW.debrief_id
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (workspace_id, week, channel, shared)
    DO UPDATE SET asked = asked + excluded.asked, answered = answered + excluded.answered;
END;

-- Counts are taken out while the rows they were counted by still exist: a debrief's
-- lessons go before it, and a lesson's questions before the lesson.
CREATE TRIGGER outcome_debrief_lessons_first BEFORE DELETE ON debriefs
BEGIN
    DELETE FROM lessons WHERE debrief_id = OLD.id;
END;

CREATE TRIGGER outcome_lesson_questions_first BEFORE DELETE ON lessons
BEGIN
    DELETE FROM follow_ups WHERE lesson_id = OLD.id;
END;

-- Superseded by the counts above (migration 0036).
DROP INDEX lessons_outcomes;
DROP INDEX follow_ups_outcomes;
