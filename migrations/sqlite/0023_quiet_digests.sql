-- A digest with nothing new says so once; after that quiet week it stays silent until
-- there is news. A run it stayed silent for is 'quiet'.
CREATE TABLE schedule_runs_next (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_at     INTEGER NOT NULL,
    outcome     TEXT    NOT NULL
                CHECK (outcome IN ('sent', 'missed', 'holiday', 'paused', 'quiet')),
    ran_at      INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, fire_at)
) WITHOUT ROWID;
INSERT INTO schedule_runs_next (schedule_id, fire_at, outcome, ran_at)
SELECT schedule_id, fire_at, outcome, ran_at FROM schedule_runs;
DROP TABLE schedule_runs;
ALTER TABLE schedule_runs_next RENAME TO schedule_runs;

-- Since when a digest has had nothing new to say (it said so once, then stayed quiet).
CREATE TABLE digest_quiet (
    schedule_id INTEGER PRIMARY KEY REFERENCES schedules (id) ON DELETE CASCADE,
    since       INTEGER NOT NULL
);
