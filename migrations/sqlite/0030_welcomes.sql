-- When a person was first welcomed in their chat with the bot (once per person).
ALTER TABLE people ADD COLUMN welcomed_at INTEGER;
