-- Whose claim an event is under: a handler that outlived its claim (another delivery
-- claimed the event after it ran out) must not mark the event done or release the
-- newer claim. Each claim writes a random token; finishing or releasing names it.
ALTER TABLE processed_events ADD COLUMN claim_token INTEGER;
