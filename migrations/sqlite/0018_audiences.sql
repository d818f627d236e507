-- Who may see public lessons depends on where they are shown: a conversation people of
-- other organisations read (Slack Connect, a Teams shared channel or group chat) sees
-- only its own. So the scope of every conversation a digest is posted to is looked up
-- too; digests set before this start as unknown (own lessons only) until the lookup
-- right after upgrading.
INSERT OR IGNORE INTO conversation_scopes (workspace_id, conversation)
SELECT DISTINCT workspace_id, channel FROM schedules WHERE kind = 'digest' AND active = 1;

-- A lookup on its way back from the platform must not overwrite a newer word that the
-- conversation changed (a channel_shared event): the event bumps the version, and a
-- lookup stores its answer only over the version it started from.
ALTER TABLE conversation_scopes ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
