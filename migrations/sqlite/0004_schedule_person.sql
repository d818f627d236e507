-- Personal schedules (check-ins) belong to a person, whose pause skips them.
ALTER TABLE schedules ADD COLUMN person TEXT;
