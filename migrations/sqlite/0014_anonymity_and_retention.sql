-- Anonymity that holds, and retention.
--
-- A DM that carries answers of an anonymous debrief (a question with "your answer so
-- far", a pre-filled form, a step of the DM conversation) names the debrief here: its
-- body is erased once it is delivered, and every such DM is erased when the debrief
-- closes, so no outbox row keeps an answer next to the user id it was sent to.
ALTER TABLE outbox ADD COLUMN anonymous_debrief_id INTEGER;
CREATE INDEX outbox_by_anonymous_debrief ON outbox (anonymous_debrief_id)
    WHERE anonymous_debrief_id IS NOT NULL;

-- Delivered bodies are pruned after `retention.outbox_days`, failed rows (kept for the
-- operator) after `retention.failed_outbox_days`.
CREATE INDEX outbox_sent_by_age ON outbox (sent_at) WHERE status = 'sent';
CREATE INDEX outbox_failed_by_age ON outbox (created_at) WHERE status = 'failed';

-- Reflections of anonymous debriefs closed before this release still hold each
-- person's answers together, with when they were given: the summary and the lessons
-- have them, so the rows keep only that someone reflected.
UPDATE reflections
SET answers = '{}',
    author_key = lower(hex(randomblob(32))),
    created_at = (SELECT closed_at FROM debriefs d WHERE d.id = reflections.debrief_id),
    updated_at = (SELECT closed_at FROM debriefs d WHERE d.id = reflections.debrief_id)
WHERE debrief_id IN (SELECT id FROM debriefs WHERE anonymous = 1 AND closed_at IS NOT NULL);
