-- When a person last opened the bot's Home tab: their Home is published again when what
-- it shows changes, and only theirs (people who never look at it cost nothing).
ALTER TABLE people ADD COLUMN home_opened_at INTEGER;
