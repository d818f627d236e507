-- A claim reads each workspace's waiting messages in due order and stops after a
-- round's worth, instead of ranking the whole backlog every time.
CREATE INDEX outbox_waiting_by_workspace ON outbox (workspace_id, next_attempt_at, id)
    WHERE status IN ('pending', 'sending');
