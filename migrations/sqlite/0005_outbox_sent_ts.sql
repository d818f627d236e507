-- The platform's id of a delivered message (Slack `ts`), so later changes can update it
-- or reply in its thread (debrief cards, summaries).
ALTER TABLE outbox ADD COLUMN sent_ts TEXT;
