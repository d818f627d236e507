-- A goal shared with one colleague, who sees its check-in ratings and hears when it is
-- reached.
ALTER TABLE goals ADD COLUMN buddy TEXT;
