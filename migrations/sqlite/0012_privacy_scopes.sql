-- Privacy scopes: a lesson of a public conversation is shared with its workspace; a
-- lesson of a private one (private channel, Slack Connect channel, DM, group DM, Teams
-- private or shared channel, group chat) is shown only inside that conversation.
--
-- What the platform said about each conversation a debrief was held in. No row, or a
-- row with public = 0, means private: a lookup that failed or was never made never
-- shares anything.
CREATE TABLE conversation_scopes (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation  TEXT    NOT NULL,
    -- 1 only when the platform said the conversation is public.
    public        INTEGER NOT NULL DEFAULT 0,
    -- What it is: public_channel, private_channel, shared_channel, direct_message,
    -- group_message, group_chat, personal_chat, or unknown (not looked up yet, or the
    -- lookup failed).
    kind          TEXT    NOT NULL DEFAULT 'unknown',
    -- Unix seconds: when to ask the platform again (a public channel can be made private
    -- or shared later). 0: as soon as possible.
    next_check_at INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, conversation)
) WITHOUT ROWID;
CREATE INDEX conversation_scopes_due ON conversation_scopes (next_check_at);

-- Every conversation that already held a debrief is private until it is looked up
-- (the app does it right after upgrading, one lookup per conversation).
INSERT OR IGNORE INTO conversation_scopes (workspace_id, conversation)
SELECT DISTINCT workspace_id, channel FROM debriefs;

-- A lesson's own visibility now records whether its conversation was public when the
-- lesson was made: one said in private stays private even if the channel is made
-- public later. Lessons stored so far were all marked shared; they are shown outside
-- their conversation only once the lookup says it is public.

-- Recurrences are matched for every lesson, private ones included, so a private
-- channel's own digest can report them; readers filter both sides of a pair by who is
-- looking.
DROP TRIGGER lessons_queue_match;
CREATE TRIGGER lessons_queue_match AFTER INSERT ON lessons
WHEN new.kind = 'lesson'
BEGIN
    INSERT INTO lessons_to_match (lesson_id, workspace_id, created_at)
    VALUES (new.id, new.workspace_id, new.created_at);
END;
