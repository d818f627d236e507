-- A message that refers to an earlier one of the same channel (a card update, a reply
-- in a card's thread) names it here; the worker fills in that message's `ts` when it
-- sends, because the earlier message's ts is only known once Slack accepted it.
-- (No foreign key: sent rows may be pruned long after their replies went out.)
ALTER TABLE outbox ADD COLUMN anchor_id INTEGER;
-- Which field of the body receives the anchor's ts: `ts` (chat.update) or `thread_ts`.
ALTER TABLE outbox ADD COLUMN anchor_field TEXT
    CHECK (anchor_field IS NULL OR anchor_field IN ('ts', 'thread_ts'));
