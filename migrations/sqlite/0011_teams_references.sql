-- Where the Teams bot can write later: conversation references, stored from verified
-- Bot Framework activities only, so a service URL here was named in a token Microsoft
-- signed (outbound calls go nowhere else).

-- Channels and chats the bot is in (a team's channel, a group chat, a person's 1:1).
CREATE TABLE teams_conversations (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('channel', 'groupChat', 'personal')),
    service_url     TEXT    NOT NULL,
    -- The bot's own id in this conversation (28:…), the sender of what we post.
    bot_id          TEXT    NOT NULL,
    tenant_id       TEXT    NOT NULL,
    -- For a 1:1 chat: whose (a DM to a person goes to their chat).
    person          TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id)
) WITHOUT ROWID;
CREATE INDEX teams_conversations_by_person ON teams_conversations (workspace_id, person)
    WHERE person IS NOT NULL;
-- A 1:1 or group chat is answered in the workspace that used it last.
CREATE INDEX teams_conversations_by_id ON teams_conversations (conversation_id, updated_at);

-- People the bot has met (added with it, joined the team, or wrote to it): what a 1:1
-- conversation with them is created from.
CREATE TABLE teams_people (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    person        TEXT    NOT NULL,
    name          TEXT,
    aad_object_id TEXT,
    service_url   TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, person)
) WITHOUT ROWID;
-- A person's 1:1 chat belongs to the team where the bot last met them.
CREATE INDEX teams_people_by_person ON teams_people (person, updated_at);
