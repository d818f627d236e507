-- Exactly-once handling of chat events.
--
-- An event id is first claimed for a while (`claimed_until`, Unix seconds), then marked
-- done in the transaction that queues its reply. A handler that times out, panics or
-- dies leaves a claim that runs out, so the platform's next retry is handled instead
-- of dropped. Ids recorded before this release were all handled.
ALTER TABLE processed_events ADD COLUMN state TEXT NOT NULL DEFAULT 'done'
    CHECK (state IN ('claimed', 'done'));
ALTER TABLE processed_events ADD COLUMN claimed_until INTEGER;

-- Each step of a DM conversation or check-in is written only over the version it was
-- read at (compare-and-set), and remembers the event that made it: a retried delivery
-- of an answer already taken is recognised instead of being applied to the next
-- question.
ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_event TEXT;
ALTER TABLE checkins ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkins ADD COLUMN last_event TEXT;
