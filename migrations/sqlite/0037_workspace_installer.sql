-- Who added the bot to a Teams team (the first `conversationUpdate` that adds it names
-- them): they administer the team's dashboard.
ALTER TABLE workspaces ADD COLUMN installer TEXT;
