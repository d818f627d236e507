-- The dashboard's outcomes page sums weeks, not rows: per workspace, conversation,
-- lesson visibility and week, how many lessons settled (and how many of them applied),
-- and how many follow-up questions were asked (and answered). Visibility is decided by
-- the conversation and whether a lesson is shared, so these keys are all the page needs
-- to show each person only what they may see (see docs/BENCHMARKS.md).
--
-- Triggers keep the counts, so every statement that settles a lesson or asks or answers
-- a question (now or later) counts without knowing about them. A week starts on Monday
-- 00:00 UTC: week = (unix seconds - 345600) / 604800, 1970-01-05 being a Monday.
--
-- A lesson counts as settled when it is a lesson (not an action) whose status is
-- applied, not_relevant or stale and whose settled_at is set; in the week of settled_at.
-- A question counts in the week it was asked, whatever its lesson's kind.

-- Nothing writes what is counted until the triggers are there: a replica still on the
-- previous release would otherwise add a row the backfill does not see and no trigger
-- counts.
LOCK TABLE debriefs, lessons, follow_ups IN SHARE ROW EXCLUSIVE MODE;

-- The references are checked at commit: while a workspace is removed, its lessons may
-- take their counts out of rows whose workspace is already gone (and which go with it).
CREATE TABLE outcome_weeks (
    workspace_id BIGINT NOT NULL
                 REFERENCES workspaces (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    week         BIGINT NOT NULL,
    channel      TEXT   NOT NULL,
    -- 1 when the lessons counted here are shared, 0 when private.
    shared       BIGINT NOT NULL,
    applied      BIGINT NOT NULL DEFAULT 0,
    settled      BIGINT NOT NULL DEFAULT 0,
    asked        BIGINT NOT NULL DEFAULT 0,
    answered     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, week, channel, shared)
);

-- The settled lessons again, once per tag they carry.
CREATE TABLE outcome_tag_weeks (
    workspace_id BIGINT NOT NULL
                 REFERENCES workspaces (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    week         BIGINT NOT NULL,
    channel      TEXT   NOT NULL,
    shared       BIGINT NOT NULL,
    tag          TEXT   NOT NULL,
    applied      BIGINT NOT NULL DEFAULT 0,
    settled      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, week, channel, shared, tag)
);

-- Adds to one week's counts. Taking out only changes a row that is there: while a
-- workspace is removed its counts may be gone before its lessons.
CREATE FUNCTION outcome_add(
    ws BIGINT, wk BIGINT, ch TEXT, sh BIGINT,
    d_applied BIGINT, d_settled BIGINT, d_asked BIGINT, d_answered BIGINT
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE outcome_weeks
    SET applied = applied + d_applied, settled = settled + d_settled,
        asked = asked + d_asked, answered = answered + d_answered
    WHERE workspace_id = ws AND week = wk AND channel = ch AND shared = sh;
    IF NOT FOUND AND d_settled >= 0 AND d_asked >= 0 THEN
        INSERT INTO outcome_weeks AS o
            (workspace_id, week, channel, shared, applied, settled, asked, answered)
        VALUES (ws, wk, ch, sh, d_applied, d_settled, d_asked, d_answered)
        ON CONFLICT (workspace_id, week, channel, shared) DO UPDATE
        SET applied = o.applied + d_applied, settled = o.settled + d_settled,
            asked = o.asked + d_asked, answered = o.answered + d_answered;
    END IF;
END;
$$;

-- The same for one tag's counts.
CREATE FUNCTION outcome_tag_add(
    ws BIGINT, wk BIGINT, ch TEXT, sh BIGINT, t TEXT, d_applied BIGINT, d_settled BIGINT
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE outcome_tag_weeks
    SET applied = applied + d_applied, settled = settled + d_settled
    WHERE workspace_id = ws AND week = wk AND channel = ch AND shared = sh AND tag = t;
    IF NOT FOUND AND d_settled >= 0 THEN
        INSERT INTO outcome_tag_weeks AS o
            (workspace_id, week, channel, shared, tag, applied, settled)
        VALUES (ws, wk, ch, sh, t, d_applied, d_settled)
        ON CONFLICT (workspace_id, week, channel, shared, tag) DO UPDATE
        SET applied = o.applied + d_applied, settled = o.settled + d_settled;
    END IF;
END;
$$;

-- Adds (sign 1) or takes out (sign -1) what one lesson counts for.
CREATE FUNCTION outcome_count_lesson(l lessons, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF l.kind <> 'lesson' OR l.settled_at IS NULL
       OR l.status NOT IN ('applied', 'not_relevant', 'stale') THEN
        RETURN;
    END IF;
    PERFORM outcome_add(l.workspace_id, (l.settled_at - 345600) / 604800, d.channel,
                        CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END,
                        CASE WHEN l.status = 'applied' THEN sign ELSE 0 END, sign, 0, 0)
    FROM debriefs d WHERE d.id = l.debrief_id;
    PERFORM outcome_tag_add(l.workspace_id, (l.settled_at - 345600) / 604800, d.channel,
                            CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END, t.tag,
                            CASE WHEN l.status = 'applied' THEN sign ELSE 0 END, sign)
    FROM debriefs d,
         (SELECT DISTINCT u.tag FROM unnest(string_to_array(l.tags, ' ')) AS u (tag)) AS t
    WHERE d.id = l.debrief_id AND t.tag <> '';
END;
$$;

-- Adds or takes out the questions asked about lesson `l` (as it is keyed: its debrief's
-- channel and its visibility).
CREATE FUNCTION outcome_count_questions_of(l lessons, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outcome_add(l.workspace_id, q.week, d.channel,
                        CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END,
                        0, 0, sign * q.asked, sign * q.answered)
    FROM debriefs d,
         (SELECT (f.asked_at - 345600) / 604800 AS week, COUNT(*) AS asked,
                 COUNT(f.answered_at) AS answered
          FROM follow_ups f WHERE f.lesson_id = l.id GROUP BY 1) AS q
    WHERE d.id = l.debrief_id;
END;
$$;

CREATE FUNCTION outcome_lessons_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM outcome_count_lesson(OLD, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM outcome_count_lesson(NEW, 1);
    END IF;
    -- A lesson's visibility moves its questions with it.
    IF TG_OP = 'UPDATE' AND (OLD.visibility IS DISTINCT FROM NEW.visibility
                             OR OLD.debrief_id IS DISTINCT FROM NEW.debrief_id) THEN
        PERFORM outcome_count_questions_of(OLD, -1);
        PERFORM outcome_count_questions_of(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

-- Adds (sign 1) or takes out (sign -1) what one question counts for.
CREATE FUNCTION outcome_count_question(f follow_ups, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outcome_add(f.workspace_id, (f.asked_at - 345600) / 604800, d.channel,
                        CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END,
                        0, 0, sign, CASE WHEN f.answered_at IS NULL THEN 0 ELSE sign END)
    FROM lessons l, debriefs d
    WHERE l.id = f.lesson_id AND d.id = l.debrief_id;
END;
$$;

CREATE FUNCTION outcome_questions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM outcome_count_question(OLD, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM outcome_count_question(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

-- Counts are taken out while the rows they were counted by still exist: a debrief's
-- lessons go before it, and a lesson's questions before the lesson.
CREATE FUNCTION outcome_debrief_lessons_first() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM lessons WHERE debrief_id = OLD.id;
    RETURN OLD;
END;
$$;

CREATE FUNCTION outcome_lesson_questions_first() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM follow_ups WHERE lesson_id = OLD.id;
    RETURN OLD;
END;
$$;

-- What is already there.
INSERT INTO outcome_weeks (workspace_id, week, channel, shared, applied, settled)
SELECT l.workspace_id, (l.settled_at - 345600) / 604800, d.channel,
       CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END,
       COUNT(*) FILTER (WHERE l.status = 'applied'), COUNT(*)
FROM lessons l JOIN debriefs d ON d.id = l.debrief_id
WHERE l.kind = 'lesson' AND l.settled_at IS NOT NULL
  AND l.status IN ('applied', 'not_relevant', 'stale')
GROUP BY 1, 2, 3, 4;

INSERT INTO outcome_weeks AS o (workspace_id, week, channel, shared, asked, answered)
SELECT f.workspace_id, (f.asked_at - 345600) / 604800, d.channel,
       CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END,
       COUNT(*), COUNT(f.answered_at)
FROM follow_ups f JOIN lessons l ON l.id = f.lesson_id JOIN debriefs d ON d.id = l.debrief_id
GROUP BY 1, 2, 3, 4
ON CONFLICT (workspace_id, week, channel, shared)
DO UPDATE SET asked = EXCLUDED.asked, answered = EXCLUDED.answered;

INSERT INTO outcome_tag_weeks (workspace_id, week, channel, shared, tag, applied, settled)
SELECT l.workspace_id, (l.settled_at - 345600) / 604800, d.channel,
       CASE WHEN l.visibility = 'shared' THEN 1 ELSE 0 END, t.tag,
       COUNT(*) FILTER (WHERE l.status = 'applied'), COUNT(*)
FROM lessons l JOIN debriefs d ON d.id = l.debrief_id
     CROSS JOIN LATERAL (SELECT DISTINCT u.tag FROM unnest(string_to_array(l.tags, ' ')) AS u (tag)) AS t
WHERE l.kind = 'lesson' AND l.settled_at IS NOT NULL
  AND l.status IN ('applied', 'not_relevant', 'stale') AND t.tag <> ''
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER outcome_lessons_added AFTER INSERT OR DELETE ON lessons
    FOR EACH ROW EXECUTE FUNCTION outcome_lessons_changed();
CREATE TRIGGER outcome_lessons_changed
    AFTER UPDATE OF kind, status, settled_at, tags, visibility, debrief_id ON lessons
    FOR EACH ROW
    WHEN ((OLD.kind, OLD.status, OLD.settled_at, OLD.tags, OLD.visibility, OLD.debrief_id)
          IS DISTINCT FROM (NEW.kind, NEW.status, NEW.settled_at, NEW.tags, NEW.visibility, NEW.debrief_id))
    EXECUTE FUNCTION outcome_lessons_changed();
CREATE TRIGGER outcome_questions_added AFTER INSERT OR DELETE ON follow_ups
    FOR EACH ROW EXECUTE FUNCTION outcome_questions_changed();
CREATE TRIGGER outcome_questions_changed
    AFTER UPDATE OF asked_at, answered_at, lesson_id ON follow_ups
    FOR EACH ROW
    WHEN (OLD.asked_at IS DISTINCT FROM NEW.asked_at
          OR (OLD.answered_at IS NULL) IS DISTINCT FROM (NEW.answered_at IS NULL)
          OR OLD.lesson_id IS DISTINCT FROM NEW.lesson_id)
    EXECUTE FUNCTION outcome_questions_changed();
CREATE TRIGGER outcome_debrief_lessons_first BEFORE DELETE ON debriefs
    FOR EACH ROW EXECUTE FUNCTION outcome_debrief_lessons_first();
CREATE TRIGGER outcome_lesson_questions_first BEFORE DELETE ON lessons
    FOR EACH ROW EXECUTE FUNCTION outcome_lesson_questions_first();

-- Superseded by the counts above (migration 0009).
DROP INDEX lessons_outcomes;
DROP INDEX follow_ups_outcomes;
