-- An action item's owner is asked about it in a DM, so only a person may own one.
-- Earlier releases took the first `<@…>` of a line as its owner, whatever it named: a
-- line "<@C0GENERAL> post the news" made channel C0GENERAL the owner, and its
-- follow-ups were posted into that channel. Such owners become the item's author (or
-- nobody, in anonymous debriefs, which then has no follow-up). Slack user ids start
-- with U (or W under Enterprise Grid); Teams owners are always authors.
UPDATE lessons
SET owner = author,
    follow_up_at = CASE WHEN author IS NULL THEN NULL ELSE follow_up_at END
WHERE owner IS NOT NULL
  AND substr(owner, 1, 1) NOT IN ('U', 'W')
  AND workspace_id IN (SELECT id FROM workspaces WHERE platform = 'slack');
