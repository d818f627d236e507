-- Teams outgoing-webhook activities already answered (conversation and activity id),
-- so a captured request sent again is refused. Kept a little longer than the five
-- minutes an activity's timestamp is accepted for; older ones are refused by age.
CREATE TABLE webhook_activities (
    activity TEXT    NOT NULL PRIMARY KEY,
    seen_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_activities_by_age ON webhook_activities (seen_at);
