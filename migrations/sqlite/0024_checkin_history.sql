-- A check-in reads the person's own earlier check-ins (last intention, monthly trend).
CREATE INDEX checkins_by_person ON checkins (workspace_id, person, created_at);
